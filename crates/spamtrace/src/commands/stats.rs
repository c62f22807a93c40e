//! `spamtrace stats`: what the store holds.

use super::Context;
use clap::Args;
use spamtrace_store::{SqliteStore, Store};

/// Summarise the store: messages, sightings, labels, verdicts, kinds, date
/// range, failures by reason, top sender and URL domains.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Run `stats`.
pub fn run(ctx: &Context, args: StatsArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open_readonly(&ctx.data)?;
    let s = store.stats()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!("store        {}", ctx.data.display());
    println!(
        "messages     {} unique ({:.1} MB raw, {:.1} MB stored)",
        s.messages,
        s.raw_bytes as f64 / 1e6,
        s.stored_bytes as f64 / 1e6
    );
    println!("sightings    {}", s.sightings);
    println!(
        "period       {} .. {}",
        s.first_seen.as_deref().unwrap_or("-"),
        s.last_seen.as_deref().unwrap_or("-")
    );
    let list = |title: &str, v: &[(String, u64)]| {
        if !v.is_empty() {
            println!("{title}");
            for (k, n) in v {
                println!("  {n:>8}  {k}");
            }
        }
    };
    list("labels", &s.labels);
    list("verdicts", &s.verdicts);
    list("kinds", &s.kinds);
    list("failed (kept raw), by reason", &s.failed);
    list("top sender domains", &s.top_sender_domains);
    list("top URL domains", &s.top_url_domains);
    Ok(())
}
