//! Attribution subcommands: campaigns, botnets, and the simulator.
use super::Context;
use spamtrace_store::{SqliteStore, Store, iso};
use std::path::PathBuf;

/// List the campaigns found in the store, largest first.
///
/// A campaign is one operation: the same template filled with varying names,
/// numbers, links and hashbusters, advertising the same storefront. Each line
/// shows its size, first and last seen, kind, sending software, subjects and
/// domains; --json adds the inferred template (slots marked «…»), evidence
/// and sample messages.
#[derive(clap::Args, Debug)]
pub struct CampaignsArgs {
    /// One JSON array of campaigns.
    #[arg(long)]
    pub json: bool,
    /// Show at most this many campaigns.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Only campaigns with at least this many messages.
    #[arg(long, default_value_t = 2)]
    pub min_size: u64,
}

/// Show one campaign in full: template, subjects, domains, senders, the
/// evidence that joined its members, and sample messages.
#[derive(clap::Args, Debug)]
pub struct CampaignArgs {
    /// The campaign ID (as `campaigns` prints it, e.g. c-1a2b3c).
    pub id: String,
    /// Print it as JSON.
    #[arg(long)]
    pub json: bool,
}

/// List the sending programs (botnets and ratware families) found in the
/// store: messages, share of all attributed spam, campaigns, first and last
/// seen, and the fingerprint explained in words.
#[derive(clap::Args, Debug)]
pub struct BotnetsArgs {
    /// One JSON array of families.
    #[arg(long)]
    pub json: bool,
}

/// The attribution state of a store (empty when nothing was attributed yet).
pub fn load_attributor(
    ctx: &Context,
    store: &SqliteStore,
) -> anyhow::Result<spamtrace_cluster::Attributor> {
    let signatures = super::stages::load_signatures(ctx)?;
    Ok(match store.load_state(super::stages::ATTRIBUTION_STATE)? {
        Some(state) => spamtrace_cluster::Attributor::restore(&state, signatures)?,
        None => spamtrace_cluster::Attributor::new(signatures),
    })
}

/// A campaign as the commands and the report show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CampaignView {
    /// The campaign's own summary.
    #[serde(flatten)]
    pub summary: spamtrace_cluster::CampaignSummary,
    /// First seen, ISO 8601.
    pub first_seen_at: Option<String>,
    /// Last seen, ISO 8601.
    pub last_seen_at: Option<String>,
    /// The most common scam kind among its members.
    pub kind: Option<String>,
    /// The most common sending program among its members.
    pub botnet: Option<String>,
    /// Sightings of its members (volume, where size counts unique messages).
    pub sightings: u64,
}

fn majority(
    store: &SqliteStore,
    col: &str,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let sql = format!(
        "SELECT campaign, {col}, count(*) AS n FROM messages WHERE campaign IS NOT NULL AND {col} IS NOT NULL GROUP BY campaign, {col} ORDER BY campaign, n DESC"
    );
    let mut st = store.connection().prepare(&sql)?;
    let mut out = std::collections::HashMap::new();
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for r in rows {
        let (c, v) = r?;
        out.entry(c).or_insert(v);
    }
    Ok(out)
}

/// Every campaign with its store-side facts (kind, botnet, sightings), largest first.
pub fn campaign_views(ctx: &Context, store: &SqliteStore) -> anyhow::Result<Vec<CampaignView>> {
    let attributor = load_attributor(ctx, store)?;
    let kinds = majority(store, "kind")?;
    let botnets = majority(store, "botnet")?;
    let mut sightings = std::collections::HashMap::<String, u64>::new();
    {
        let mut st = store.connection().prepare(
            "SELECT campaign, count(*) FROM sightings WHERE campaign IS NOT NULL GROUP BY campaign",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for r in rows {
            let (c, n) = r?;
            sightings.insert(c, n as u64);
        }
    }
    Ok(attributor
        .campaigns()
        .into_iter()
        .map(|summary| CampaignView {
            first_seen_at: iso(summary.first_seen),
            last_seen_at: iso(summary.last_seen),
            kind: kinds.get(&summary.id).cloned(),
            botnet: botnets.get(&summary.id).cloned(),
            sightings: sightings.get(&summary.id).copied().unwrap_or(0),
            summary,
        })
        .collect())
}

fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// List campaigns.
pub fn run_campaigns(ctx: &Context, args: CampaignsArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open_readonly(&ctx.data)?;
    let views: Vec<CampaignView> = campaign_views(ctx, &store)?
        .into_iter()
        .filter(|v| v.summary.size >= args.min_size)
        .take(args.limit)
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    if views.is_empty() {
        println!(
            "no campaigns of {} or more messages yet: ingest spam first (`spamtrace ingest PATH` or `spamtrace demo`)",
            args.min_size
        );
        return Ok(());
    }
    println!(
        "{:<10} {:>6} {:>7}  {:<10} {:<10} {:<16} {:<16}  subject / domains",
        "campaign", "msgs", "sights", "first", "last", "kind", "sender"
    );
    for v in &views {
        let s = &v.summary;
        println!(
            "{:<10} {:>6} {:>7}  {:<10} {:<10} {:<16} {:<16}  {}",
            s.id,
            s.size,
            v.sightings,
            v.first_seen_at.as_deref().map(|t| &t[..10]).unwrap_or("-"),
            v.last_seen_at.as_deref().map(|t| &t[..10]).unwrap_or("-"),
            v.kind.as_deref().unwrap_or("-"),
            v.botnet.as_deref().unwrap_or("-"),
            short(
                s.subjects
                    .first()
                    .map(String::as_str)
                    .unwrap_or("(no subject)"),
                60
            )
        );
        if !s.domains.is_empty() {
            let d: Vec<String> = s
                .domains
                .iter()
                .take(4)
                .map(|(d, n)| format!("{d} ({n})"))
                .collect();
            println!("{:>73}{}", "", d.join(", "));
        }
    }
    println!(
        "\nOne in full, with its template and evidence: spamtrace campaign {}",
        views[0].summary.id
    );
    Ok(())
}

/// Show one campaign.
pub fn run_campaign(ctx: &Context, args: CampaignArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open_readonly(&ctx.data)?;
    let Some(v) = campaign_views(ctx, &store)?
        .into_iter()
        .find(|v| v.summary.id == args.id)
    else {
        anyhow::bail!(
            "no campaign {:?}: list them with `spamtrace campaigns`",
            args.id
        );
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let s = &v.summary;
    println!("campaign   {}", s.id);
    println!("messages   {} unique, {} sightings", s.size, v.sightings);
    println!(
        "seen       {} .. {}",
        v.first_seen_at.as_deref().unwrap_or("-"),
        v.last_seen_at.as_deref().unwrap_or("-")
    );
    println!("kind       {}", v.kind.as_deref().unwrap_or("-"));
    let list = |title: &str, items: &[(String, u64)]| {
        if !items.is_empty() {
            println!("{title}");
            for (k, n) in items {
                println!("  {n:>7}  {k}");
            }
        }
    };
    list("senders", &s.botnets);
    list("domains (the storefront)", &s.domains);
    list(
        "evidence that joined members (how many joined by each)",
        &s.evidence,
    );
    println!("subjects");
    for subj in &s.subjects {
        println!("  {subj}");
    }
    if !s.subject_patterns.is_empty() {
        println!("subject patterns");
        for p in &s.subject_patterns {
            println!("  {p}");
        }
    }
    println!("template (variable slots marked «…»)\n");
    for line in s.template.lines() {
        println!("  {line}");
    }
    println!("\nsample messages (spamtrace show ID):");
    for sha in &s.samples {
        let subj = store
            .message(sha)?
            .and_then(|m| m.subject)
            .unwrap_or_default();
        println!("  {}  {}", &sha[..12.min(sha.len())], short(&subj, 70));
    }
    Ok(())
}

/// A sending program as `botnets` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BotnetView {
    /// The family's name (a known botnet, or ratware-xxxx).
    pub name: String,
    /// Unique messages attributed to it in the store.
    pub messages: u64,
    /// Sightings of those messages.
    pub sightings: u64,
    /// Its share of all attributed spam sightings, in percent.
    pub share_pct: f64,
    /// Campaigns it sent, with message counts, largest first.
    pub campaigns: Vec<(String, u64)>,
    /// First seen, ISO 8601.
    pub first_seen: Option<String>,
    /// Last seen, ISO 8601.
    pub last_seen: Option<String>,
    /// The fingerprint in words.
    pub fingerprint: String,
    /// The learned shape families behind it.
    pub shape_families: Vec<String>,
    /// Known-family signature matches among members.
    pub signatures: Vec<(String, u64)>,
}

/// Every sending program with its store-side counts, largest first.
pub fn botnet_views(ctx: &Context, store: &SqliteStore) -> anyhow::Result<Vec<BotnetView>> {
    let attributor = load_attributor(ctx, store)?;
    let families = attributor.families();
    let mut st = store.connection().prepare(
        "SELECT botnet, count(DISTINCT msg), count(*), min(seen_at), max(seen_at) FROM sightings WHERE botnet IS NOT NULL AND is_spam = 1 GROUP BY botnet",
    )?;
    let rows: Vec<(String, u64, u64, i64, i64)> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
                r.get(3)?,
                r.get(4)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let total: u64 = rows.iter().map(|r| r.2).sum();
    let mut campaigns_of = std::collections::HashMap::<String, Vec<(String, u64)>>::new();
    {
        let mut st = store.connection().prepare(
            "SELECT botnet, campaign, count(*) AS n FROM messages WHERE botnet IS NOT NULL AND campaign IS NOT NULL GROUP BY botnet, campaign ORDER BY botnet, n DESC",
        )?;
        let r = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? as u64,
            ))
        })?;
        for x in r {
            let (b, c, n) = x?;
            campaigns_of.entry(b).or_default().push((c, n));
        }
    }
    let mut views: Vec<BotnetView> = rows
        .into_iter()
        .map(|(name, messages, sightings, first, last)| {
            let fams: Vec<&spamtrace_cluster::FamilySummary> =
                families.iter().filter(|f| f.name == name).collect();
            let fingerprint = attributor
                .signatures()
                .description(&name)
                .map(str::to_string)
                .or_else(|| fams.first().map(|f| f.description.clone()))
                .unwrap_or_else(|| "matched by signature".into());
            let mut signatures = std::collections::BTreeMap::<String, u64>::new();
            for f in &fams {
                for (s, n) in &f.signatures {
                    *signatures.entry(s.clone()).or_default() += n;
                }
            }
            BotnetView {
                campaigns: campaigns_of.remove(&name).unwrap_or_default(),
                share_pct: if total > 0 {
                    100.0 * sightings as f64 / total as f64
                } else {
                    0.0
                },
                first_seen: iso(first),
                last_seen: iso(last),
                fingerprint,
                shape_families: fams.iter().map(|f| f.shape_family.clone()).collect(),
                signatures: signatures.into_iter().collect(),
                name,
                messages,
                sightings,
            }
        })
        .collect();
    views.sort_by(|a, b| b.sightings.cmp(&a.sightings).then(a.name.cmp(&b.name)));
    Ok(views)
}

/// List sending programs.
pub fn run_botnets(ctx: &Context, args: BotnetsArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open_readonly(&ctx.data)?;
    let views = botnet_views(ctx, &store)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    if views.is_empty() {
        println!(
            "no sending programs attributed yet: ingest spam first (`spamtrace ingest PATH` or `spamtrace demo`)"
        );
        return Ok(());
    }
    for v in &views {
        println!(
            "{:<18} {:>7} msgs {:>8} sightings {:>5.1}%  {} .. {}  {} campaigns",
            v.name,
            v.messages,
            v.sightings,
            v.share_pct,
            v.first_seen.as_deref().unwrap_or("-"),
            v.last_seen.as_deref().unwrap_or("-"),
            v.campaigns.len()
        );
        println!("    fingerprint: {}", short(&v.fingerprint, 200));
        if !v.campaigns.is_empty() {
            let c: Vec<String> = v
                .campaigns
                .iter()
                .take(5)
                .map(|(c, n)| format!("{c} ({n})"))
                .collect();
            println!("    campaigns:   {}", c.join(", "));
        }
    }
    println!(
        "\nRename a family: add `alias ratware-xxxx = name` to {}",
        super::stages::signatures_path(ctx).display()
    );
    Ok(())
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
