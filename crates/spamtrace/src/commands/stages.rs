//! The analysis stages plugged into the pipeline: classifier and attribution.

use super::Context;
use spamtrace_pipeline::Stages;

/// Load the stages for this store (model, signatures, campaign index).
pub fn load(_ctx: &Context) -> anyhow::Result<Stages> {
    Ok(Stages::default())
}
