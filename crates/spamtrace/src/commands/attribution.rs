//! Attribution subcommands: campaigns, botnets, and the simulator.
use super::Context;
use std::path::PathBuf;

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

/// Write a simulated spam-trap feed with its ground truth.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Directory to write into (created when missing): `feed/` and `truth.jsonl`.
    #[arg(long)]
    pub out: PathBuf,
    /// The seed: the same seed always gives the same feed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days of traffic.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Messages per day on average (before any takedown).
    #[arg(long = "per-day", default_value_t = 1000)]
    pub per_day: u32,
    /// Start of the timeline (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, default_value = "2011-03-01")]
    pub start: String,
    /// One program stops at a moment, e.g. `rustock@2011-03-16T14:45:00Z`.
    #[arg(long, value_name = "FAMILY@TIME")]
    pub takedown: Option<String>,
    /// mbox (one file per day) or eml (one file per message).
    #[arg(long, default_value = "mbox", value_parser = ["mbox", "eml"])]
    pub format: String,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parse an RFC 3339 time, or a date (midnight UTC), into Unix seconds.
fn parse_time(text: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc().timestamp());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
        return Ok(t.and_utc().timestamp());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp());
    }
    anyhow::bail!("cannot read the time {text:?}: write it as 2011-03-16T14:45:00Z or 2011-03-16")
}

/// Write the simulated feed and print what was written.
pub fn run_simulate(_ctx: &Context, args: SimulateArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let takedown = match &args.takedown {
        Some(spec) => {
            let (family, time) = spec.split_once('@').with_context(|| {
                format!("--takedown {spec:?}: write it as FAMILY@TIME, e.g. rustock@2011-03-16T14:45:00Z")
            })?;
            Some((family.to_string(), parse_time(time)?))
        }
        None => None,
    };
    let config = spamtrace_sim::SimConfig {
        seed: args.seed,
        start: parse_time(&args.start)?,
        days: args.days,
        messages_per_day: args.per_day,
        takedown,
        format: if args.format == "eml" {
            spamtrace_sim::Format::Eml
        } else {
            spamtrace_sim::Format::Mbox
        },
    };
    let truth = spamtrace_sim::simulate(&config, &args.out)?;
    let mut botnets = std::collections::BTreeMap::<&str, u64>::new();
    let mut campaigns = std::collections::BTreeMap::<&str, u64>::new();
    for m in &truth.messages {
        *botnets.entry(m.botnet.as_str()).or_default() += 1;
        *campaigns.entry(m.campaign.as_str()).or_default() += 1;
    }
    let truth_path = args.out.join("truth.jsonl");
    if args.json {
        let summary = serde_json::json!({
            "out": args.out,
            "seed": args.seed,
            "messages": truth.messages.len(),
            "files": truth.files.len(),
            "feed": args.out.join("feed"),
            "truth": truth_path,
            "botnets": botnets,
            "campaigns": campaigns,
        });
        println!("{summary}");
    } else {
        println!(
            "wrote {} messages in {} files under {} (seed {}); ground truth in {}",
            truth.messages.len(),
            truth.files.len(),
            args.out.join("feed").display(),
            args.seed,
            truth_path.display()
        );
        println!("sending programs:");
        for (name, n) in &botnets {
            println!("  {name:<12} {n:>8}");
        }
        println!("campaigns: {}", campaigns.len());
        println!("next: spamtrace ingest {}", args.out.join("feed").display());
    }
    Ok(())
}
