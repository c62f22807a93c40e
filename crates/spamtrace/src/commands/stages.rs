//! The analysis stages plugged into the pipeline: the spam classifier and
//! attribution (campaigns and sending software), loaded for one store.

use super::Context;
use anyhow::Context as _;
use spamtrace_classify::Model;
use spamtrace_cluster::{Attributor, SignatureSet};
use spamtrace_mail::{Analysis, Envelope, Label};
use spamtrace_pipeline::Stages;
use spamtrace_store::{Store, Verdicts};
use std::path::PathBuf;
use std::sync::Arc;

/// The key under which the attribution state is kept in the store.
pub const ATTRIBUTION_STATE: &str = "attribution";

/// The store's own model (`train` writes it), else the built-in one.
pub fn model_path(ctx: &Context) -> PathBuf {
    ctx.data.join("model.bin")
}

/// User signatures beside the store, added to the built-in ones.
pub fn signatures_path(ctx: &Context) -> PathBuf {
    ctx.data.join("signatures.txt")
}

/// Load the classifier this store uses.
pub fn load_model(ctx: &Context) -> anyhow::Result<Model> {
    let p = model_path(ctx);
    if p.exists() {
        Model::load(&p).with_context(|| format!("cannot load the model {}: retrain it with `spamtrace train` or delete it to use the built-in model", p.display()))
    } else {
        Ok(Model::builtin())
    }
}

/// The built-in signatures plus the store's own signature file, if any.
pub fn load_signatures(ctx: &Context) -> anyhow::Result<SignatureSet> {
    let p = signatures_path(ctx);
    if p.exists() {
        let user =
            SignatureSet::load(&p).with_context(|| format!("in signature file {}", p.display()))?;
        let mut all = SignatureSet::builtin();
        all.extend(user);
        Ok(all)
    } else {
        Ok(SignatureSet::builtin())
    }
}

/// Load the stages for this store (model, signatures, campaign index).
pub fn load(ctx: &Context, store: &dyn Store) -> anyhow::Result<Stages> {
    let model = load_model(ctx)?;
    let signatures = load_signatures(ctx)?;
    let attributor = match store.load_state(ATTRIBUTION_STATE)? {
        Some(state) => Attributor::restore(&state, signatures)
            .context("the store's campaign index is unreadable (written by another version?)")?,
        None => Attributor::new(signatures),
    };
    Ok(Stages {
        scorer: Some(Arc::new(Scoring(model))),
        attributor: Some(Box::new(Attribution(attributor))),
    })
}

struct Scoring(Model);

impl spamtrace_pipeline::Scorer for Scoring {
    fn score(&self, analysis: &Analysis, v: &mut Verdicts) {
        let c = self.0.classify(analysis);
        v.score = Some(c.score);
        v.verdict = Some(c.verdict.as_str().to_string());
        v.kind = c.kind.map(|k| k.as_str().to_string());
    }
}

struct Attribution(Attributor);

impl spamtrace_pipeline::Attributor for Attribution {
    fn attribute(
        &mut self,
        analysis: &Analysis,
        envelope: &Envelope,
        received_at: i64,
        v: &mut Verdicts,
    ) {
        // Campaigns and botnets are about spam: mail labelled as wanted is not
        // attributed (a newsletter is not a botnet). Unlabelled mail is, whatever
        // the classifier said: a trap's feed is spam by construction, and
        // attribution must not inherit the classifier's misses.
        if envelope.label == Some(Label::Ham) {
            return;
        }
        let a = self.0.attribute(analysis, envelope, received_at);
        v.campaign = a.campaign;
        v.campaign_reason = Some(a.campaign_reason);
        v.botnet = a.botnet;
        v.botnet_reasons = a.botnet_reasons;
        v.shape = Some(a.shape);
    }

    fn snapshot(&self) -> Option<(&'static str, Vec<u8>)> {
        Some((ATTRIBUTION_STATE, self.0.snapshot()))
    }
}
