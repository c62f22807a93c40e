//! Subcommands: placeholder until implemented.
use super::Context;

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct StatsArgs {}

/// Not yet implemented.
pub fn run(_ctx: &Context, _args: StatsArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}
