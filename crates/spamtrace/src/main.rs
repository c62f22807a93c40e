//! The `spamtrace` command: wires the crates together. Every subcommand lives
//! in `commands/`; this file only parses the command line and dispatches.

mod commands;

use clap::{Parser, Subcommand};
use commands::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// spamtrace: spam and botnet intelligence.
///
/// Collect spam (traps, archives), understand it (parse, classify, extract
/// indicators), attribute it (campaigns, botnets), watch it over time
/// (volumes, takedowns) and act on it (reports, exports).
///
/// Start with `spamtrace demo`: it simulates a month of spam-trap traffic,
/// analyses it and writes a report.
#[derive(Parser, Debug)]
#[command(name = "spamtrace", version, about, long_about, max_term_width = 100)]
struct Cli {
    /// The store directory (created on first use).
    #[arg(
        long,
        global = true,
        env = "SPAMTRACE_DATA",
        default_value = "./spamtrace-data"
    )]
    data: PathBuf,

    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, env = "SPAMTRACE_LOG", default_value = "warn")]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read mail archives (mbox, Maildir, .eml, directories, TREC index, gz/zst, -) into the store.
    Ingest(commands::ingest::IngestArgs),
    /// Summarise the store: messages, sightings, labels, dates, top domains.
    Stats(commands::stats::StatsArgs),
    /// List stored messages (one JSON object per line with --json).
    Messages(commands::messages::MessagesArgs),
    /// Show one message by SHA-256 prefix: headers, analysis, raw source.
    Show(commands::show::ShowArgs),
    /// Score messages: spam probability, verdict and scam kind.
    Classify(commands::classify::ClassifyArgs),
    /// Train the spam model incrementally on labelled mail.
    Train(commands::classify::TrainArgs),
    /// Evaluate the classifier on a TREC index (split or online protocol).
    ///
    /// Prints (1-ROCA)% with its 95% bootstrap interval (on a few hundred
    /// spam a handful of messages move the figure: compare two models by
    /// their intervals, not their points), false positives and negatives at
    /// the verdict thresholds, spam caught at 0.1% false positives, and
    /// speeds; draws the ROC curve. A model is never tested on what it
    /// learnt.
    Eval(commands::classify::EvalArgs),
    /// List the campaigns found in the store.
    Campaigns(commands::attribution::CampaignsArgs),
    /// Show one campaign in full, with the evidence that joined it.
    Campaign(commands::attribution::CampaignArgs),
    /// List the sending programs (botnets, ratware) found in the store.
    Botnets(commands::attribution::BotnetsArgs),
    /// Write a simulated spam-trap feed with ground truth.
    Simulate(commands::attribution::SimulateArgs),
    /// Volume over time per botnet, campaign, kind, domain or network.
    Volume(commands::watch::VolumeArgs),
    /// Abrupt drops and rises (takedowns, new campaigns) detected in every series.
    Changes(commands::watch::ChangesArgs),
    /// Write a self-contained HTML report of the store.
    Report(commands::watch::ReportArgs),
    /// Simulate a month of trap traffic, analyse it and write the report.
    Demo(commands::watch::DemoArgs),
    /// Run the SMTP spam trap: accept everything, relay nothing, store everything.
    Trap(commands::trap::TrapArgs),
}

/// Parsing and featurizing allocate dozens of small buffers a message;
/// mimalloc serves them faster than the system allocator (measured in
/// `crates/spamtrace-classify/README.md`, "Fifth round").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    fn signal(signum: i32, handler: usize) -> usize;
}

fn main() -> ExitCode {
    // `spamtrace messages --json | head` must end quietly when head exits, as
    // every Unix filter does: restore the default SIGPIPE action that the Rust
    // runtime replaces with "ignore" (which turns a closed pipe into a panic).
    #[cfg(unix)]
    unsafe {
        const SIGPIPE: i32 = 13;
        const SIG_DFL: usize = 0;
        signal(SIGPIPE, SIG_DFL);
    }
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let ctx = Context { data: cli.data };
    let result = match cli.command {
        Command::Ingest(a) => commands::ingest::run(&ctx, a),
        Command::Stats(a) => commands::stats::run(&ctx, a),
        Command::Messages(a) => commands::messages::run(&ctx, a),
        Command::Show(a) => commands::show::run(&ctx, a),
        Command::Classify(a) => commands::classify::run_classify(&ctx, a),
        Command::Train(a) => commands::classify::run_train(&ctx, a),
        Command::Eval(a) => commands::classify::run_eval(&ctx, a),
        Command::Campaigns(a) => commands::attribution::run_campaigns(&ctx, a),
        Command::Campaign(a) => commands::attribution::run_campaign(&ctx, a),
        Command::Botnets(a) => commands::attribution::run_botnets(&ctx, a),
        Command::Simulate(a) => commands::attribution::run_simulate(&ctx, a),
        Command::Volume(a) => commands::watch::run_volume(&ctx, a),
        Command::Changes(a) => commands::watch::run_changes(&ctx, a),
        Command::Report(a) => commands::watch::run_report(&ctx, a),
        Command::Demo(a) => commands::watch::run_demo(&ctx, a),
        Command::Trap(a) => commands::trap::run(&ctx, a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
