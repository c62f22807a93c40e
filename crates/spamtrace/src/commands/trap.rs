//! Subcommands: placeholder until implemented.
use super::Context;

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct TrapArgs {}

/// Not yet implemented.
pub fn run(_ctx: &Context, _args: TrapArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}
