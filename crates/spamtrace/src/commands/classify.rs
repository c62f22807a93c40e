//! Subcommands: placeholder until implemented.
use super::Context;

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ClassifyArgs {}

/// Not yet implemented.
pub fn run_classify(_ctx: &Context, _args: ClassifyArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct TrainArgs {}

/// Not yet implemented.
pub fn run_train(_ctx: &Context, _args: TrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct EvalArgs {}

/// Not yet implemented.
pub fn run_eval(_ctx: &Context, _args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}
