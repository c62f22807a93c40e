//! Subcommands: placeholder until implemented.
use super::Context;

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct VolumeArgs {}

/// Not yet implemented.
pub fn run_volume(_ctx: &Context, _args: VolumeArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ChangesArgs {}

/// Not yet implemented.
pub fn run_changes(_ctx: &Context, _args: ChangesArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ReportArgs {}

/// Not yet implemented.
pub fn run_report(_ctx: &Context, _args: ReportArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct DemoArgs {}

/// Not yet implemented.
pub fn run_demo(_ctx: &Context, _args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}
