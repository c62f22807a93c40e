//! Watching volume over time: `volume`, `changes`, `report` and `demo`.
//!
//! The series come from the store's volume query (one indexed scan and a
//! GROUP BY); detection is `spamtrace-watch`; the page is `spamtrace-report`.
//! Nothing here re-reads mail.

use super::Context;
use anyhow::Context as _;
use serde::Serialize;
use spamtrace_report::{CampaignSummary, Note, Ranked, ReportData, Rotation, WatchedSeries};
use spamtrace_store::{BucketCounts, SeriesBy, SqliteStore, Store};
use spamtrace_watch::{
    Change, DetectParams, Series, bucket_format, bucket_parse, detect_changes, format_time,
    parse_time,
};
use std::path::{Path, PathBuf};

fn parse_by(s: &str) -> Result<SeriesBy, String> {
    SeriesBy::parse(s).ok_or_else(|| {
        format!(
            "'{s}' is not a series dimension: use botnet, campaign, kind, domain, network or total"
        )
    })
}

fn parse_bucket(s: &str) -> Result<i64, String> {
    bucket_parse(s).map_err(|e| e.to_string())
}

fn parse_when(s: &str) -> Result<i64, String> {
    parse_time(s).map_err(|e| e.to_string())
}

fn open_store(ctx: &Context) -> anyhow::Result<SqliteStore> {
    if !ctx.data.join("store.sqlite").exists() && !ctx.data.exists() {
        anyhow::bail!(
            "no store at {}: ingest mail first (spamtrace --data {} ingest PATH), or try `spamtrace demo`",
            ctx.data.display(),
            ctx.data.display()
        );
    }
    SqliteStore::open(&ctx.data)
        .with_context(|| format!("cannot open the store in {}", ctx.data.display()))
}

/// `(start, end, series per dimension)`.
pub type SeriesRange = (i64, i64, Vec<Vec<Series>>);

/// One dimension's series and the changes detected in them.
pub type DimensionChanges = (SeriesBy, Vec<Series>, Vec<Change>);

/// The time range of a volume query: `[start, end)` with `start` on a bucket
/// boundary, from the store's first and last spam sighting where not given.
fn series_range(
    store: &SqliteStore,
    bucket_secs: i64,
    since: Option<i64>,
    until: Option<i64>,
) -> anyhow::Result<Option<(i64, i64)>> {
    let Some((first, last)) = store.sighting_range()? else {
        return Ok(None);
    };
    let start = since.unwrap_or(first).div_euclid(bucket_secs) * bucket_secs;
    let end = until.unwrap_or(last + 1).max(start + 1);
    let buckets = (end - start) / bucket_secs.max(1);
    if buckets > MAX_BUCKETS_PER_SERIES {
        anyhow::bail!(
            "{} to {} is {buckets} buckets of {}, more than {MAX_BUCKETS_PER_SERIES} per series: narrow the period with --since/--until or use a larger --bucket",
            format_time(start),
            format_time(end),
            bucket_format(bucket_secs)
        );
    }
    Ok(Some((start, end)))
}

/// Limits on what a view draws out in memory: buckets in one series (a
/// century of hours), and buckets over all series a view holds at once
/// (8 bytes each: 1.6 GB).
const MAX_BUCKETS_PER_SERIES: i64 = 1_000_000;
const MAX_BUCKETS_HELD: u64 = 200_000_000;

/// The series named `name` over `[start, end)` from its non-empty buckets.
fn to_series(name: String, range: (i64, i64), bucket_secs: i64, buckets: &[(i64, u64)]) -> Series {
    let mut s = Series::zeros(name, range.0, range.1, bucket_secs);
    for &(b, n) in buckets {
        s.add(b, n as f64);
    }
    s
}

fn series_name(by: SeriesBy, key: &str) -> String {
    if by == SeriesBy::Total {
        "total".to_string()
    } else {
        format!("{}:{key}", by.column().1)
    }
}

/// Series of several dimensions from one read of the store, largest first
/// within each dimension; series with fewer than `min_total` spam sightings
/// in the range are left out before they are built (a botnet has a million
/// sender networks, most seen once or twice).
pub fn load_series_multi(
    store: &SqliteStore,
    dims: &[SeriesBy],
    bucket_secs: i64,
    since: Option<i64>,
    until: Option<i64>,
    min_total: u64,
) -> anyhow::Result<Option<SeriesRange>> {
    let Some((start, end)) = series_range(store, bucket_secs, since, until)? else {
        return Ok(None);
    };
    let per_dim = store.volume_series(dims, bucket_secs, Some(start), Some(end), min_total)?;
    let series: u64 = per_dim.iter().map(|d| d.len() as u64).sum();
    let held = series * ((end - start) / bucket_secs.max(1) + 1) as u64;
    if held > MAX_BUCKETS_HELD {
        anyhow::bail!(
            "{series} series of {} buckets each would take {} MB: narrow the period (--since/--until), use a larger --bucket, or raise --min-total",
            (end - start) / bucket_secs.max(1) + 1,
            held * 8 / 1_000_000
        );
    }
    let out = dims
        .iter()
        .zip(per_dim)
        .map(|(&by, keyed)| {
            let mut series: Vec<Series> = keyed
                .into_iter()
                .map(|(key, buckets)| {
                    to_series(series_name(by, &key), (start, end), bucket_secs, &buckets)
                })
                .collect();
            series.sort_by(|a, b| {
                b.total()
                    .total_cmp(&a.total())
                    .then_with(|| a.name.cmp(&b.name))
            });
            series
        })
        .collect();
    Ok(Some((start, end, out)))
}

/// Show volume over time.
///
/// Counts spam sightings per time bucket for each botnet, campaign, kind,
/// registered URL domain, sender network (/24), or in total, with each
/// series' share of all spam.
///
/// Examples:
///   spamtrace volume --by botnet --bucket 1d
///   spamtrace volume --by domain --since 2011-03-10 --until 2011-03-20 --csv
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct VolumeArgs {
    /// What each series counts: botnet, campaign, kind, domain, network or total.
    #[arg(long, default_value = "botnet", value_parser = parse_by)]
    pub by: SeriesBy,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Only the N largest series (0: all with --json/--csv, the 50 largest in the table).
    #[arg(long, default_value_t = 0)]
    pub top: usize,
    /// One JSON object: series with a count per bucket.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV rows `series,bucket_start,count,share` (non-zero buckets only).
    #[arg(long)]
    pub csv: bool,
}

/// The bucket size and period a view reads (`volume`, `changes`, `report`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct PeriodArgs {
    /// Bucket size: 1m, 15m, 1h, 6h, 1d, 1w...
    #[arg(long, default_value = "1h", value_parser = parse_bucket)]
    pub bucket: i64,
    /// Start (ISO 8601 UTC or a date); default: the first spam sighting.
    #[arg(long, value_parser = parse_when)]
    pub since: Option<i64>,
    /// End, exclusive (ISO 8601 UTC or a date); default: after the last spam sighting.
    #[arg(long, value_parser = parse_when)]
    pub until: Option<i64>,
}

/// One series in `volume --json`.
#[derive(Serialize)]
struct VolumeJson<'a> {
    series: &'a str,
    total: f64,
    share: f64,
    peak: f64,
    counts: &'a [f64],
}

/// How many series the text table shows when `--top` is not given.
const VOLUME_TEXT_ROWS: usize = 50;

/// Run `volume`.
pub fn run_volume(ctx: &Context, args: VolumeArgs) -> anyhow::Result<()> {
    let store = open_store(ctx)?;
    let Some((start, end)) = series_range(
        &store,
        args.period.bucket,
        args.period.since,
        args.period.until,
    )?
    else {
        anyhow::bail!(
            "the store holds no spam sightings yet: ingest mail first (spamtrace ingest PATH)"
        );
    };
    let range = (start, end);
    let limit = match (args.top, args.json || args.csv) {
        (0, true) => None,
        (0, false) => Some(VOLUME_TEXT_ROWS),
        (n, _) => Some(n),
    };
    // Kept as non-empty buckets; each series is drawn out in full only when
    // printed, so a million sender networks do not take a million arrays.
    let keyed = match limit {
        Some(n) => store.top_series(args.by, args.period.bucket, Some(start), Some(end), n)?,
        None => store
            .volume_series(&[args.by], args.period.bucket, Some(start), Some(end), 1)?
            .remove(0),
    };
    let mut series: Vec<(u64, String, BucketCounts)> = keyed
        .into_iter()
        .map(|(key, b)| (b.iter().map(|x| x.1).sum(), series_name(args.by, &key), b))
        .collect();
    series.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    // Shares are of all spam in the same period, whatever the dimension.
    let total = store
        .volume_series(
            &[SeriesBy::Total],
            args.period.bucket,
            Some(start),
            Some(end),
            1,
        )?
        .remove(0)
        .into_iter()
        .next()
        .map(|(_, b)| to_series("total".into(), range, args.period.bucket, &b))
        .unwrap_or_else(|| Series::zeros("total", start, end, args.period.bucket));
    let all = total.total().max(1.0);
    // Over the whole store, the number of series is known without reading them.
    let found = match (limit, args.period.since, args.period.until) {
        (None, _, _) => Some(series.len() as u64),
        (Some(_), None, None) => Some(store.series_count(args.by)?),
        _ => None,
    };
    if args.json {
        // Written series by series: the whole document can be large.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        use std::io::Write as _;
        write!(
            out,
            "{{\"by\":{},\"bucket\":{},\"bucket_secs\":{},\"start\":{},\"end\":{},\"total\":{},\"series\":[",
            serde_json::to_string(args.by.column().1)?,
            serde_json::to_string(&bucket_format(args.period.bucket))?,
            args.period.bucket,
            serde_json::to_string(&format_time(start))?,
            serde_json::to_string(&format_time(end))?,
            total.total()
        )?;
        for (i, (_, name, buckets)) in series.into_iter().enumerate() {
            let s = to_series(name, range, args.period.bucket, &buckets);
            let row = VolumeJson {
                series: &s.name,
                total: s.total(),
                share: s.total() / all,
                peak: s.peak(),
                counts: &s.counts,
            };
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut out, &row)?;
        }
        writeln!(out, "]}}")?;
        out.flush()?;
    } else if args.csv {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        use std::io::Write as _;
        writeln!(out, "series,bucket_start,count,share")?;
        for (_, name, buckets) in &series {
            let name = csv_field(name);
            for &(b, c) in buckets {
                let t = total.index_of(b).map_or(0.0, |i| total.counts[i]);
                let share = if t > 0.0 { c as f64 / t } else { 0.0 };
                writeln!(out, "{name},{},{c},{share:.4}", format_time(b))?;
            }
        }
        out.flush()?;
    } else {
        let shown = series.len() as u64;
        println!(
            "spam sightings per {} from {} to {} ({})",
            bucket_format(args.period.bucket),
            format_time(start),
            format_time(end),
            match found {
                Some(n) if n > shown => format!(
                    "{n} series, the {shown} largest shown: --top N, --csv or --json for more"
                ),
                Some(n) => format!("{n} series"),
                None => format!("the {shown} largest series: --top N, --csv or --json for more"),
            }
        );
        println!(
            "{:<40} {:>10} {:>7} {:>8}  timeline",
            "series", "total", "share", "peak"
        );
        for (_, name, buckets) in series {
            let s = to_series(name, range, args.period.bucket, &buckets);
            println!(
                "{:<40} {:>10} {:>6.1}% {:>8}  {}",
                clip(&s.name, 40),
                s.total(),
                100.0 * s.total() / all,
                s.peak(),
                sparkline(&s.counts, 48)
            );
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn clip(s: &str, n: usize) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(n).collect();
    if s.chars().count() > n {
        out.pop();
        out.push('…');
    }
    out
}

/// A one-line picture of a series: `width` cells, each the sum of its buckets.
fn sparkline(counts: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if counts.is_empty() {
        return String::new();
    }
    let per = counts.len().div_ceil(width);
    let cells: Vec<f64> = counts.chunks(per).map(|c| c.iter().sum()).collect();
    let max = cells.iter().copied().fold(0.0, f64::max);
    cells
        .iter()
        .map(|&v| {
            if v <= 0.0 || max <= 0.0 {
                ' '
            } else {
                BARS[((v / max) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// Detect abrupt drops and rises in every series.
///
/// Finds takedowns, new campaigns and returns from pause in the volume of
/// every botnet, campaign, kind, URL domain, sender network and the total.
/// The detector copes with spiky, bursty series: a change is reported when
/// the volume leaves the range the series itself showed over the preceding
/// days (see `spamtrace report` for the method in full).
///
/// Examples:
///   spamtrace changes
///   spamtrace changes --by botnet --json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ChangesArgs {
    /// Only these dimensions (repeatable): botnet, campaign, kind, domain, network, total.
    #[arg(long, value_parser = parse_by)]
    pub by: Vec<SeriesBy>,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Skip series with fewer spam sightings than this (too few to show a change).
    #[arg(long, default_value_t = 20)]
    pub min_total: u64,
    /// One JSON array of events.
    #[arg(long)]
    pub json: bool,
    /// List every domain change instead of one line per campaign that
    /// rotates its storefront domains.
    #[arg(long)]
    pub every: bool,
}

/// One detected change as `changes --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeEvent {
    /// The series (`botnet:rustock`).
    pub series: String,
    /// The botnet, when the series is a botnet's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub botnet: Option<String>,
    /// `drop` or `rise`.
    pub direction: &'static str,
    /// When it happened, ISO 8601 UTC.
    pub at: String,
    /// When the detector could tell, ISO 8601 UTC.
    pub detected_at: String,
    /// Mean spam sightings per bucket before.
    pub before: f64,
    /// Mean spam sightings per bucket after.
    pub after: f64,
    /// The bucket size of `before` and `after`.
    pub bucket: String,
    /// Posterior probability that the rate changed by at least a factor 2.
    pub confidence: f64,
    /// The time scale at which it was seen.
    pub scale: String,
    /// For a domain series: the campaign most of its messages belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// True for a domain change that is part of its campaign's rotation of
    /// storefront domains (the text output folds these into one line).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rotation: bool,
}

impl ChangeEvent {
    fn new(c: &Change, bucket_secs: i64) -> ChangeEvent {
        ChangeEvent {
            botnet: c.series.strip_prefix("botnet:").map(str::to_string),
            series: c.series.clone(),
            direction: c.direction.as_str(),
            at: format_time(c.at),
            detected_at: format_time(c.detected_at),
            before: (c.before * 100.0).round() / 100.0,
            after: (c.after * 100.0).round() / 100.0,
            bucket: bucket_format(bucket_secs),
            confidence: (c.confidence * 10_000.0).round() / 10_000.0,
            scale: bucket_format(c.scale_secs),
            campaign: None,
            rotation: false,
        }
    }
}

/// Campaigns that rotate their storefront domains: the domain changes of each
/// campaign with changes in two or more of its domains, and the changes left.
pub struct FoldedChanges {
    /// Changes that are not part of a rotation.
    pub kept: Vec<Change>,
    /// One per rotating campaign, largest first.
    pub rotations: Vec<Rotation>,
    /// The campaign of each domain series that has a change (`domain:x.com`).
    pub domain_campaigns: std::collections::HashMap<String, String>,
}

/// Fold the domain changes of campaigns that moved from domain to domain:
/// each start and stop is real, but a list of a hundred of them hides the
/// one fact that matters (the campaign went on under new names).
pub fn fold_rotations(store: &SqliteStore, changes: &[Change]) -> anyhow::Result<FoldedChanges> {
    use std::collections::{BTreeMap, HashMap};
    let mut domain_campaigns: HashMap<String, String> = HashMap::new();
    for c in changes {
        if let Some(domain) = c.series.strip_prefix("domain:")
            && !domain_campaigns.contains_key(&c.series)
            && let Some(campaign) = store.campaign_of_domain(domain)?
        {
            domain_campaigns.insert(c.series.clone(), campaign);
        }
    }
    // Per campaign, its domains with changes.
    let mut per_campaign: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    for c in changes {
        if let Some(campaign) = domain_campaigns.get(&c.series) {
            let first = per_campaign
                .entry(campaign)
                .or_default()
                .entry(&c.series)
                .or_insert(c.at);
            *first = (*first).min(c.at);
        }
    }
    let rotating: HashMap<&str, &str> = per_campaign
        .iter()
        .filter(|(_, domains)| domains.len() >= 2)
        .flat_map(|(campaign, domains)| domains.keys().map(|d| (*d, *campaign)))
        .collect();
    let mut rotations: BTreeMap<&str, Rotation> = BTreeMap::new();
    let mut kept = Vec::new();
    for c in changes {
        match rotating.get(c.series.as_str()) {
            Some(campaign) => {
                let r = rotations.entry(campaign).or_insert_with(|| Rotation {
                    campaign: campaign.to_string(),
                    first: c.at,
                    last: c.at,
                    ..Rotation::default()
                });
                r.first = r.first.min(c.at);
                r.last = r.last.max(c.at);
                r.changes += 1;
            }
            None => kept.push(c.clone()),
        }
    }
    let mut rotations: Vec<Rotation> = rotations
        .into_values()
        .map(|mut r| {
            let mut domains: Vec<(i64, &str)> = per_campaign[r.campaign.as_str()]
                .iter()
                .map(|(d, at)| (*at, d.strip_prefix("domain:").unwrap_or(d)))
                .collect();
            domains.sort();
            r.domains = domains.into_iter().map(|(_, d)| d.to_string()).collect();
            r
        })
        .collect();
    rotations.sort_by(|a, b| {
        b.domains
            .len()
            .cmp(&a.domains.len())
            .then_with(|| a.campaign.cmp(&b.campaign))
    });
    Ok(FoldedChanges {
        kept,
        rotations,
        domain_campaigns,
    })
}

/// Every change in every series of the given dimensions, with the series
/// scanned per dimension (returned for the report).
pub fn all_changes(
    store: &SqliteStore,
    dims: &[SeriesBy],
    bucket_secs: i64,
    since: Option<i64>,
    until: Option<i64>,
    min_total: u64,
) -> anyhow::Result<Vec<DimensionChanges>> {
    let params = DetectParams::default();
    let Some((_, _, all)) = load_series_multi(store, dims, bucket_secs, since, until, min_total)?
    else {
        return Ok(Vec::new());
    };
    // Detection is independent per series: spread it over the cores.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut out = Vec::new();
    for (&by, series) in dims.iter().zip(all) {
        let eligible: Vec<&Series> = series
            .iter()
            .filter(|s| s.total() >= min_total as f64)
            .collect();
        let chunk = eligible.len().div_ceil(threads).max(1);
        let changes: Vec<Change> = std::thread::scope(|scope| {
            let handles: Vec<_> = eligible
                .chunks(chunk)
                .map(|part| {
                    let params = &params;
                    scope.spawn(move || {
                        part.iter()
                            .flat_map(|s| detect_changes(s, params))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("detection thread"))
                .collect()
        });
        out.push((by, series, changes));
    }
    Ok(out)
}

/// Run `changes`.
pub fn run_changes(ctx: &Context, args: ChangesArgs) -> anyhow::Result<()> {
    let store = open_store(ctx)?;
    let dims: Vec<SeriesBy> = if args.by.is_empty() {
        SeriesBy::ALL.to_vec()
    } else {
        args.by.clone()
    };
    let found = all_changes(
        &store,
        &dims,
        args.period.bucket,
        args.period.since,
        args.period.until,
        args.min_total,
    )?;
    let every: Vec<Change> = found
        .into_iter()
        .flat_map(|(_, _, changes)| changes)
        .collect();
    let folded = fold_rotations(&store, &every)?;
    let mut events: Vec<(i64, ChangeEvent)> = every
        .iter()
        .map(|c| {
            let mut e = ChangeEvent::new(c, args.period.bucket);
            e.campaign = folded.domain_campaigns.get(&c.series).cloned();
            e.rotation = folded.rotations.iter().any(|r| {
                e.campaign.as_deref() == Some(r.campaign.as_str())
                    && c.series.starts_with("domain:")
            });
            (c.at, e)
        })
        .collect();
    events.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.series.cmp(&b.1.series)));
    if args.json {
        let list: Vec<&ChangeEvent> = events.iter().map(|(_, e)| e).collect();
        println!("{}", serde_json::to_string(&list)?);
        return Ok(());
    }
    if events.is_empty() {
        println!("no abrupt change found in any series");
    }
    for (_, e) in events.iter().filter(|(_, e)| args.every || !e.rotation) {
        println!(
            "{} {:<4} {:<40} {:>10} -> {:<10} per {} (confidence {:.0}%, confirmed {})",
            e.at,
            e.direction,
            clip(&e.series, 40),
            e.before,
            e.after,
            e.bucket,
            e.confidence * 100.0,
            e.detected_at
        );
    }
    if !args.every && !folded.rotations.is_empty() {
        println!(
            "storefront domain rotation ({} domain changes folded; --every lists them):",
            folded.rotations.iter().map(|r| r.changes).sum::<usize>()
        );
        for r in &folded.rotations {
            println!(
                "  {} .. {} campaign:{} moved through {} domains: {}",
                format_time(r.first),
                format_time(r.last),
                r.campaign,
                r.domains.len(),
                clip(&r.domains.join(" -> "), 120)
            );
        }
    }
    Ok(())
}

/// Write a self-contained HTML report of the store.
///
/// One file that works offline: an overview (volumes, spam share, kinds), the
/// detected takedowns as the headline, volume per botnet with changes marked,
/// botnet shares over time, the top campaigns with samples and templates, top
/// URL domains and sender networks, and how each figure was computed. It loads
/// nothing and runs no script.
///
/// Example:
///   spamtrace report --out report.html
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ReportArgs {
    /// Where to write the HTML file.
    #[arg(long, default_value = "report.html")]
    pub out: PathBuf,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// The report's title.
    #[arg(long, default_value = "spamtrace report")]
    pub title: String,
}

/// Everything the report shows, from the store.
pub fn report_data(
    ctx: &Context,
    store: &SqliteStore,
    title: &str,
    bucket_secs: i64,
    since: Option<i64>,
    until: Option<i64>,
) -> anyhow::Result<(ReportData, Vec<Change>)> {
    let found = all_changes(store, &SeriesBy::ALL, bucket_secs, since, until, 20)?;
    let (start, end) = match store.sighting_range()? {
        Some((a, b)) => (since.unwrap_or(a), until.unwrap_or(b + 1)),
        None => (since.unwrap_or(0), until.unwrap_or(1)),
    };
    let mut data = ReportData {
        title: title.to_string(),
        generated_at: chrono::Utc::now().timestamp(),
        period_start: start,
        period_end: end,
        bucket_secs,
        ..ReportData::default()
    };
    let mut every_change = Vec::new();
    for (by, series, changes) in found {
        every_change.extend(changes.iter().cloned());
        match by {
            SeriesBy::Botnet => {
                for s in series {
                    if s.key() == "(none)" {
                        continue;
                    }
                    let mine: Vec<Change> = changes
                        .iter()
                        .filter(|c| c.series == s.name)
                        .cloned()
                        .collect();
                    data.totals.attributed_sightings += s.total() as u64;
                    data.botnets.push(WatchedSeries {
                        label: s.key().to_string(),
                        series: s,
                        changes: mine,
                    });
                }
            }
            SeriesBy::Total => data.total = series.into_iter().next(),
            _ => data.other_changes.extend(changes),
        }
    }
    let folded = fold_rotations(store, &data.other_changes)?;
    data.other_changes = folded.kept;
    data.rotations = folded.rotations;
    let stats = store.stats()?;
    data.totals.messages = stats.messages;
    data.totals.sightings = stats.sightings;
    let range = (start, end);
    data.totals.spam_sightings = count(
        store,
        "SELECT count(*) FROM sightings WHERE is_spam = 1 AND seen_at >= ?1 AND seen_at < ?2",
        range,
    )?;
    data.totals.ham_sightings = count(
        store,
        "SELECT count(*) FROM sightings s JOIN messages m ON m.id = s.msg WHERE s.is_spam = 0 AND (m.label = 'ham' OR (m.label IS NULL AND m.verdict = 'ham')) AND s.seen_at >= ?1 AND s.seen_at < ?2",
        range,
    )?;
    data.totals.kinds = ranked(store, "kind", range, 12)?;
    data.domains = ranked(store, "url_domain", range, 25)?;
    data.networks = ranked(store, "origin_net", range, 25)?;
    let campaigns = super::attribution::campaign_views(ctx, store)?;
    let mut campaigns: Vec<_> = campaigns
        .into_iter()
        .filter(|c| c.summary.last_seen >= start && c.summary.first_seen < end)
        .collect();
    campaigns.sort_by(|a, b| {
        b.sightings
            .cmp(&a.sightings)
            .then_with(|| a.summary.id.cmp(&b.summary.id))
    });
    data.campaigns = campaigns
        .into_iter()
        .take(15)
        .map(|c| CampaignSummary {
            id: c.summary.id.clone(),
            size: c.sightings,
            messages: c.summary.size,
            first_seen: c.summary.first_seen,
            last_seen: c.summary.last_seen,
            kind: c.kind.clone(),
            botnet: c.botnet.clone(),
            subjects: c.summary.subjects.clone(),
            template: (!c.summary.template.is_empty()).then(|| c.summary.template.clone()),
            domains: c.summary.domains.iter().map(|(d, _)| d.clone()).collect(),
        })
        .collect();
    data.notes = vec![
        Note {
            title: "Campaigns".into(),
            text: "Messages are joined into campaigns by near-duplicate text after masking variable tokens, by storefront domains and by subject patterns; the template is the fixed text shared by sample members, with the variable parts as «slots».".into(),
        },
        Note {
            title: "Sending programs".into(),
            text: "Known families are recognised by header fingerprints (forged client headers, header order, Message-ID and Date shapes, SMTP dialect); other ratware is clustered by header shape and named ratware-xxxx.".into(),
        },
        Note {
            title: "URL domains and networks".into(),
            text: "Registered domain (Public Suffix List) of a message's first link, and the /24 (IPv4) or /48 (IPv6) of the first Received hop outside the receiving infrastructure, counted over spam sightings.".into(),
        },
    ];
    Ok((data, every_change))
}

fn count(store: &SqliteStore, sql: &str, range: (i64, i64)) -> anyhow::Result<u64> {
    Ok(store
        .connection()
        .query_row(sql, [range.0, range.1], |r| r.get::<_, i64>(0))? as u64)
}

/// The most frequent values of a sightings column among spam.
fn ranked(
    store: &SqliteStore,
    column: &str,
    range: (i64, i64),
    limit: usize,
) -> anyhow::Result<Vec<Ranked>> {
    let sql = format!(
        "SELECT {column}, count(*) AS n FROM sightings WHERE is_spam = 1 AND seen_at >= ?1 AND seen_at < ?2 AND {column} IS NOT NULL GROUP BY {column} ORDER BY n DESC, {column} LIMIT {limit}"
    );
    let mut st = store.connection().prepare(&sql)?;
    let rows = st.query_map([range.0, range.1], |r| {
        Ok(Ranked {
            name: r.get(0)?,
            count: r.get::<_, i64>(1)? as u64,
            detail: None,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Write the report file; returns its absolute path.
fn write_report(path: &Path, data: &ReportData) -> anyhow::Result<PathBuf> {
    let html = spamtrace_report::render(data);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, html).with_context(|| {
        format!(
            "cannot write the report to {}: is the directory writable?",
            path.display()
        )
    })?;
    Ok(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// Run `report`.
pub fn run_report(ctx: &Context, args: ReportArgs) -> anyhow::Result<()> {
    let store = open_store(ctx)?;
    let (data, changes) = report_data(
        ctx,
        &store,
        &args.title,
        args.period.bucket,
        args.period.since,
        args.period.until,
    )?;
    let path = write_report(&args.out, &data)?;
    println!(
        "wrote {} ({} botnets, {} changes detected)",
        path.display(),
        data.botnets.len(),
        changes.len()
    );
    Ok(())
}

/// Simulate a month of spam-trap traffic, analyse it and write the report.
///
/// Needs nothing else: simulates several botnets sending into a spam trap for
/// a month (Rustock-like spikes every other day, campaigns starting and
/// stopping, and one botnet taken down mid-month, as Rustock was on 16 March
/// 2011 at 14:45 GMT), ingests the feed into a fresh store under DIR, runs
/// every analysis, writes DIR/report.html and says what it found.
///
/// Examples:
///   spamtrace demo
///   spamtrace demo --out /tmp/demo --json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Directory for the feed, the store and the report (created; reused only if a previous demo made it).
    #[arg(long, default_value = "spamtrace-demo")]
    pub out: PathBuf,
    /// One JSON object: report, data, messages, changes, takedown.
    #[arg(long)]
    pub json: bool,
    /// Seed of the simulation (the same seed gives the same feed).
    #[arg(long, default_value_t = 2011)]
    pub seed: u64,
    /// Days to simulate, from 1 March 2011.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Messages per day on average.
    #[arg(long, default_value_t = 1500)]
    pub per_day: u32,
}

/// Marks a directory as made by `demo`, so a rerun may replace it.
const DEMO_MARKER: &str = ".spamtrace-demo";

/// Run `demo`.
pub fn run_demo(_ctx: &Context, args: DemoArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let dir = &args.out;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        if !dir.join(DEMO_MARKER).exists() {
            anyhow::bail!(
                "{} exists and was not made by `spamtrace demo`: choose another directory with --out",
                dir.display()
            );
        }
        for sub in ["feed", "data"] {
            let p = dir.join(sub);
            if p.exists() {
                std::fs::remove_dir_all(&p)
                    .with_context(|| format!("cannot clear the previous demo's {}", p.display()))?;
            }
        }
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}: is the parent writable?", dir.display()))?;
    std::fs::write(
        dir.join(DEMO_MARKER),
        "made by spamtrace demo; rerunning the demo replaces feed/, data/ and report.html\n",
    )?;
    let dir = std::fs::canonicalize(dir)?;

    let start = parse_time("2011-03-01").expect("valid date");
    let takedown_at = parse_time("2011-03-16T14:45:00Z").expect("valid time");
    let takedown_botnet = "rustock".to_string();
    let config = spamtrace_sim::SimConfig {
        seed: args.seed,
        start,
        days: args.days.max(1),
        messages_per_day: args.per_day.max(1),
        takedown: (takedown_at < start + args.days as i64 * 86_400)
            .then(|| (takedown_botnet.clone(), takedown_at)),
        format: spamtrace_sim::Format::Mbox,
    };
    if !args.json {
        eprintln!(
            "simulating {} days of spam-trap traffic ({} messages a day) ...",
            config.days, config.messages_per_day
        );
    }
    let truth = spamtrace_sim::simulate(&config, &dir).context("the simulation failed")?;

    let data_dir = dir.join("data");
    let ctx = Context {
        data: data_dir.clone(),
    };
    let mut store = SqliteStore::open(&data_dir)
        .with_context(|| format!("cannot create the store in {}", data_dir.display()))?;
    if !args.json {
        eprintln!(
            "ingesting {} messages into {} ...",
            truth.messages.len(),
            data_dir.display()
        );
    }
    let opts = spamtrace_pipeline::IngestOptions::default();
    let summary =
        super::ingest::run_ingest(&ctx, &mut store, &[dir.join("feed")], &opts, !args.json)?;

    let (data, changes) = report_data(
        &ctx,
        &store,
        "spamtrace demo: a month of spam-trap traffic",
        3600,
        None,
        None,
    )?;
    let report = write_report(&dir.join("report.html"), &data)?;
    let events: Vec<ChangeEvent> = changes.iter().map(|c| ChangeEvent::new(c, 3600)).collect();
    let botnet_events: Vec<&ChangeEvent> = events.iter().filter(|e| e.botnet.is_some()).collect();
    // The takedown as the detector saw it, against the simulation's truth.
    let found = changes
        .iter()
        .filter(|c| {
            c.series == format!("botnet:{takedown_botnet}")
                && c.direction == spamtrace_watch::Direction::Drop
        })
        .min_by_key(|c| (c.at - takedown_at).abs());
    let takedown = serde_json::json!({
        "botnet": takedown_botnet,
        "true_at": format_time(takedown_at),
        "detected": found.is_some(),
        "at": found.map(|c| format_time(c.at)),
        "detected_at": found.map(|c| format_time(c.detected_at)),
        "delay_hours": found.map(|c| (c.detected_at - takedown_at) as f64 / 3600.0),
        "error_minutes": found.map(|c| (c.at - takedown_at) as f64 / 60.0),
    });
    if args.json {
        let out = serde_json::json!({
            "report": report,
            "data": data_dir,
            "feed": dir.join("feed"),
            "messages": truth.messages.len(),
            "stored": summary.stored_new,
            "sightings": data.totals.sightings,
            "botnets": data.botnets.iter().map(|b| serde_json::json!({"name": b.label, "sightings": b.series.total()})).collect::<Vec<_>>(),
            "campaigns": data.campaigns.len(),
            "changes": events,
            "takedown": takedown,
            "elapsed_s": started.elapsed().as_secs_f64(),
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "simulated {} messages from {} sending programs, 1-{} March 2011",
        truth.messages.len(),
        data.botnets.len(),
        config.days
    );
    println!("store:  {}", data_dir.display());
    println!("report: {}", report.display());
    match found {
        Some(c) => println!(
            "takedown: {} fell from {:.0} to {:.1} spam per hour at {} (true moment {}; confirmed {}, {:.1} h later; confidence {:.0}%)",
            takedown_botnet,
            c.before,
            c.after,
            format_time(c.at),
            format_time(takedown_at),
            format_time(c.detected_at),
            (c.detected_at - takedown_at) as f64 / 3600.0,
            c.confidence * 100.0
        ),
        None => println!(
            "takedown: the drop of {takedown_botnet} at {} was NOT detected",
            format_time(takedown_at)
        ),
    }
    println!("changes in botnet volumes:");
    for e in &botnet_events {
        println!(
            "  {} {:<4} {:<24} {:>8} -> {:<8} per {}  ({:.0}%)",
            e.at,
            e.direction,
            e.series,
            e.before,
            e.after,
            e.bucket,
            e.confidence * 100.0
        );
    }
    println!(
        "{} more changes in campaigns, kinds, domains and networks, {} of them domains of {} campaigns that rotate their storefronts: spamtrace --data {} changes",
        events.len() - botnet_events.len(),
        data.rotations.iter().map(|r| r.changes).sum::<usize>(),
        data.rotations.len(),
        data_dir.display()
    );
    println!(
        "done in {:.1} s; open the report in a browser",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
