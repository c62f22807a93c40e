//! `spamtrace trap`: the SMTP spam trap, storing through the same pipeline as
//! `ingest` (analysis, then a group-committed transaction before each 250).

use super::Context;
use anyhow::Context as _;
use clap::Args;
use spamtrace_mail::{Limits, RawMessage};
use spamtrace_pipeline::{DurableSink, IngestOptions};
use spamtrace_store::SqliteStore;
use spamtrace_trap::{MessageSink, SinkError, TlsSetup, TrapConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Run the SMTP spam trap.
///
/// Listens for SMTP (ESMTP with PIPELINING, SIZE, 8BITMIME, SMTPUTF8 and
/// STARTTLS), accepts mail for every recipient (or only --domains), stores
/// each message in the store before answering 250, and delivers nothing,
/// ever: there is no relay code. Every session's commands, timings,
/// pipelining and replies are recorded, and the client's SMTP dialect
/// fingerprint is kept with each message (`messages --json`, `show`).
///
/// STARTTLS uses --tls-cert/--tls-key, or a self-signed certificate generated
/// on first run under DATA/tls/. Stop with ctrl-c or SIGTERM: open sessions
/// finish their message and get 421.
///
/// Examples:
///   spamtrace --data /var/lib/spamtrace trap --listen 0.0.0.0:25 --listen [::]:25
///   spamtrace trap --listen 127.0.0.1:2525 --domains trap.example.org --metrics 127.0.0.1:9125
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct TrapArgs {
    /// Address and port to listen on (repeatable), e.g. 0.0.0.0:25.
    #[arg(long, required = true, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// Accept only recipients in these domains (comma-separated or repeated); others get 550.
    #[arg(long, value_delimiter = ',', value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Name used in the greeting and EHLO reply.
    #[arg(long, default_value = "mail.spamtrace.invalid")]
    pub hostname: String,
    /// Serve Prometheus counters at http://ADDR:PORT/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// PEM certificate chain for STARTTLS (with --tls-key).
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for STARTTLS (with --tls-cert).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Do not offer STARTTLS.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub no_tls: bool,
    /// Largest message accepted, in bytes (552 beyond).
    #[arg(long, default_value_t = 25 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Most recipients per message (452 beyond).
    #[arg(long, default_value_t = 100)]
    pub max_recipients: usize,
    /// Most sessions at once (421 at connect beyond).
    #[arg(long, default_value_t = 1000)]
    pub max_sessions: usize,
    /// Most sessions at once from one client IP (421 at connect beyond).
    #[arg(long, default_value_t = 100)]
    pub max_sessions_per_ip: usize,
    /// Seconds a client has to send one whole command (421 beyond).
    #[arg(long, default_value_t = 60)]
    pub command_timeout: u64,
    /// Seconds a client has to send one whole message after 354 (421 beyond).
    #[arg(long, default_value_t = 300)]
    pub data_timeout: u64,
    /// Longest command line in bytes (500 beyond).
    #[arg(long, default_value_t = 2048)]
    pub max_line_len: usize,
    /// Milliseconds to wait before the greeting, to catch clients that talk first (0 = off).
    #[arg(long, default_value_t = 0)]
    pub greeting_delay_ms: u64,
}

/// The pipeline's durable sink, seen by the trap.
struct StoreSink(DurableSink);

impl MessageSink for StoreSink {
    fn store(&self, message: RawMessage) -> Result<String, SinkError> {
        self.0
            .store(message)
            .map_err(|e| SinkError::Store(e.into()))
    }
}

/// Run `trap` until ctrl-c or SIGTERM.
pub fn run(ctx: &Context, args: TrapArgs) -> anyhow::Result<()> {
    let mut config = TrapConfig::new(args.listen.clone());
    config.hostname = args.hostname.clone();
    config.domains = (!args.domains.is_empty()).then(|| args.domains.clone());
    config.metrics = args.metrics;
    config.max_message_bytes = args.max_message_bytes;
    config.max_recipients = args.max_recipients;
    config.max_sessions = args.max_sessions;
    config.max_sessions_per_ip = args.max_sessions_per_ip;
    config.command_timeout = Duration::from_secs(args.command_timeout);
    config.data_timeout = Duration::from_secs(args.data_timeout);
    config.max_line_len = args.max_line_len;
    config.greeting_delay = Duration::from_millis(args.greeting_delay_ms);
    config.tls = match (&args.tls_cert, &args.tls_key, args.no_tls) {
        (_, _, true) => None,
        (Some(cert), Some(key), false) => Some(TlsSetup::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => Some(TlsSetup::SelfSigned {
            dir: ctx.data.join("tls"),
        }),
    };

    // Acknowledged mail exists nowhere else: every commit is synced to disk.
    let store = SqliteStore::open_with(&ctx.data, spamtrace_store::Durability::Machine)
        .with_context(|| format!("cannot open the store in {}", ctx.data.display()))?;
    let stages = super::stages::load(ctx, &store)?;
    let opts = IngestOptions {
        limits: Limits {
            max_message_bytes: args
                .max_message_bytes
                .max(Limits::default().max_message_bytes),
            ..Limits::default()
        },
        ..IngestOptions::default()
    };
    let (sink, committer) = DurableSink::start(Box::new(store), stages, opts);
    let sink: Arc<dyn MessageSink> = Arc::new(StoreSink(sink));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let trap = spamtrace_trap::Trap::bind(config, sink).await?;
        for addr in trap.local_addrs() {
            eprintln!("trap listening on {addr} (store: {})", ctx.data.display());
        }
        if let Some(addr) = trap.metrics_addr() {
            eprintln!("metrics at http://{addr}/metrics");
        }
        trap.run(spamtrace_trap::shutdown_signal()).await
    });
    // Sessions abandoned after the drain timeout still hold the sink: end them
    // so the committer thread sees its last sender go and stops.
    runtime.shutdown_timeout(Duration::from_secs(5));
    let stats = result.context("the trap could not run")?;
    committer.join().map_err(|_| {
        anyhow::anyhow!(
            "the store committer thread panicked; run `spamtrace stats` to check the store"
        )
    })?;
    println!(
        "trap stopped: {} sessions, {} messages stored ({:.1} MB), {} over TLS{}",
        stats.sessions,
        stats.messages_accepted,
        stats.message_bytes as f64 / 1e6,
        stats.tls_sessions,
        if stats.drain_timed_out {
            "; some sessions were cut off at shutdown (their messages were not acknowledged)"
        } else {
            ""
        }
    );
    Ok(())
}
