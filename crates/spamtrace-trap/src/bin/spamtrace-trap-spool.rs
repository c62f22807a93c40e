//! A stand-alone trap that stores into a spool file (no store, no analysis):
//! for a sensor host that only collects, and for the crash tests and the
//! benchmark of this crate. `spamtrace trap` is the full command.
//!
//! Usage: `spamtrace-trap-spool --spool FILE --listen ADDR:PORT [--listen ...]
//! [--tls-dir DIR] [--metrics ADDR:PORT] [--max-sessions N]
//! [--max-sessions-per-ip N] [--hostname NAME]`
//!
//! Prints `listening <addr>` per bound address on stdout once ready.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use spamtrace_trap::{SpoolSink, TlsSetup, Trap, TrapConfig, shutdown_signal};

const USAGE: &str = "usage: spamtrace-trap-spool --spool FILE --listen ADDR:PORT [--listen ...] [--tls-dir DIR] [--metrics ADDR:PORT] [--max-sessions N] [--max-sessions-per-ip N] [--hostname NAME]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("spamtrace-trap-spool: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut listen: Vec<SocketAddr> = Vec::new();
    let mut spool = None;
    let mut config = TrapConfig::new(Vec::new());
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        let number = |text: String| {
            text.parse::<usize>()
                .map_err(|_| format!("expected a number, got {text:?}\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => listen.push(
                value()?
                    .parse()
                    .map_err(|e| format!("--listen: {e}\n{USAGE}"))?,
            ),
            "--spool" => spool = Some(value()?),
            "--tls-dir" => {
                config.tls = Some(TlsSetup::SelfSigned {
                    dir: value()?.into(),
                })
            }
            "--metrics" => {
                config.metrics = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--metrics: {e}\n{USAGE}"))?,
                )
            }
            "--max-sessions" => config.max_sessions = number(value()?)?,
            "--max-sessions-per-ip" => config.max_sessions_per_ip = number(value()?)?,
            "--hostname" => config.hostname = value()?,
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let spool = spool.ok_or_else(|| format!("--spool is required\n{USAGE}"))?;
    config.listen = listen;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let sink = Arc::new(SpoolSink::open(&spool).map_err(|e| e.to_string())?);
        let trap = Trap::bind(config, sink).await.map_err(|e| e.to_string())?;
        let mut stdout = std::io::stdout();
        for addr in trap.local_addrs() {
            let _ = writeln!(stdout, "listening {addr}");
        }
        if let Some(addr) = trap.metrics_addr() {
            let _ = writeln!(stdout, "metrics {addr}");
        }
        let _ = stdout.flush();
        let stats = trap
            .run(shutdown_signal())
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "stopped: {} sessions, {} messages, {} bytes",
            stats.sessions, stats.messages_accepted, stats.message_bytes
        );
        Ok(())
    })
}
