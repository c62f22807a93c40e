//! `spamtrace ingest`: archives into the store.

use super::Context;
use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spamtrace_mail::{Label, Limits, TrustedHosts};
use spamtrace_pipeline::{IngestOptions, IngestSummary, ingest};
use spamtrace_store::{SqliteStore, Store};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Read mail into the store.
///
/// Each PATH is recognised by its content: a single message (.eml or any
/// name), a directory (walked recursively; Maildir cur/ and new/ included), an
/// mbox file (mboxo or mboxrd), a TREC spam-track index (`spam|ham PATH` lines:
/// labels are stored), gzip or zstd compressed files of any of these, or `-`
/// for one message on standard input. Files that are not mail are counted as
/// skipped. Re-reading an archive adds nothing; a message seen in two places is
/// stored once with two sightings.
///
/// Examples:
///   spamtrace ingest ~/spam/2011-03.mbox ~/Maildir/.Junk ./samples/
///   spamtrace ingest corpora/trec07p/full/index --json
///   zcat spam.eml.gz | spamtrace ingest -
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct IngestArgs {
    /// Files, directories, index files, or - for standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one JSON summary object at the end instead of text.
    #[arg(long)]
    pub json: bool,
    /// Label every message that its source does not label (spam or ham).
    #[arg(long, value_parser = parse_label)]
    pub label: Option<Label>,
    /// Receiving hosts to skip when finding the origin hop (names or IPs; repeatable).
    #[arg(long = "trusted-host", value_name = "HOST")]
    pub trusted: Vec<String>,
    /// Largest message analysed, in MiB; larger ones are kept truncated and counted as failed.
    #[arg(long, default_value_t = 64)]
    pub max_message_mb: usize,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Messages per transaction.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
}

fn parse_label(s: &str) -> Result<Label, String> {
    Label::parse(s).ok_or_else(|| format!("'{s}' is not a label: use spam or ham"))
}

/// Run `ingest`.
pub fn run(ctx: &Context, args: IngestArgs) -> anyhow::Result<()> {
    let mut store = SqliteStore::open(&ctx.data)
        .with_context(|| format!("cannot open the store in {}", ctx.data.display()))?;
    let opts = IngestOptions {
        limits: Limits {
            max_message_bytes: args.max_message_mb << 20,
            ..Limits::default()
        },
        trusted: TrustedHosts {
            hosts: args.trusted.clone(),
        },
        workers: args.workers,
        batch: args.batch.max(1),
        label: args.label,
    };
    let summary = run_ingest(ctx, &mut store, &args.paths, &opts, !args.json)?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print_summary(&summary, &ctx.data);
    }
    if !summary.errors.is_empty() {
        anyhow::bail!(
            "{} path(s) could not be read (everything else was ingested): {}",
            summary.errors.len(),
            summary.errors.join("; ")
        );
    }
    Ok(())
}

/// Ingest into an open store with the configured stages, with a progress bar
/// on a terminal. Shared by `ingest` and `demo`.
pub fn run_ingest(
    ctx: &Context,
    store: &mut SqliteStore,
    paths: &[PathBuf],
    opts: &IngestOptions,
    show_progress: bool,
) -> anyhow::Result<IngestSummary> {
    let bar = if show_progress && std::io::stderr().is_terminal() {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .expect("valid template"),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(b)
    } else {
        None
    };
    let progress = |s: &IngestSummary| {
        if let Some(b) = &bar {
            b.set_message(format!(
                "{} messages, {:.1} MB, {:.0} msg/s, {} new, {} duplicate, {} failed, {} skipped",
                s.messages_seen,
                s.bytes as f64 / 1e6,
                s.messages_seen as f64 / s.elapsed_s.max(1e-3),
                s.stored_new,
                s.duplicates,
                s.failed,
                s.skipped
            ));
        }
    };
    let dir = ctx.data.clone();
    let is_known = move || -> Box<dyn FnMut(&str) -> bool> {
        match SqliteStore::open_readonly(&dir) {
            Ok(r) => Box::new(move |sha: &str| r.contains(sha).unwrap_or(false)),
            Err(_) => Box::new(|_: &str| false),
        }
    };
    let stages = super::stages::load(ctx, store)?;
    let summary = ingest(paths, store, stages, opts, &is_known, &progress)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}

fn print_summary(s: &IngestSummary, data: &std::path::Path) {
    println!(
        "{} messages read ({:.1} MB) in {:.1} s ({:.0} msg/s): {} new, {} duplicates, {} failed (kept raw), {} files skipped as not mail",
        s.messages_seen,
        s.bytes as f64 / 1e6,
        s.elapsed_s,
        s.messages_per_s,
        s.stored_new,
        s.duplicates,
        s.failed,
        s.skipped
    );
    for e in &s.errors {
        eprintln!("error: cannot read {e}");
    }
    if s.failed > 0 {
        println!(
            "See why messages failed: spamtrace --data {} stats",
            data.display()
        );
    }
}
