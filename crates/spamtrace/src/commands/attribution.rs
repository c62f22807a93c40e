//! Subcommands: placeholder until implemented.
use super::Context;

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct CampaignsArgs {}

/// Not yet implemented.
pub fn run_campaigns(_ctx: &Context, _args: CampaignsArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct CampaignArgs {}

/// Not yet implemented.
pub fn run_campaign(_ctx: &Context, _args: CampaignArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct BotnetsArgs {}

/// Not yet implemented.
pub fn run_botnets(_ctx: &Context, _args: BotnetsArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {}

/// Not yet implemented.
pub fn run_simulate(_ctx: &Context, _args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("this command is not built yet")
}
