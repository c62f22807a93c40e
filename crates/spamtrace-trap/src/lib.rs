//! The spam trap: an SMTP listener (tokio, STARTTLS with rustls) that accepts
//! mail for any recipient, records how each client speaks SMTP, hands every
//! message to a durable [`MessageSink`] before saying `250`, and never
//! delivers anything anywhere: this crate contains no outbound network code.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use spamtrace_trap::{SpoolSink, TrapConfig, serve};
//! let config = TrapConfig::new(vec!["0.0.0.0:25".parse()?]);
//! let sink = Arc::new(SpoolSink::open("/var/lib/spamtrace/trap.spool")?);
//! let stats = serve(config, sink, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! println!("{} messages", stats.messages_accepted);
//! # Ok(()) }
//! ```
//!
//! Layout: `server` (listener, connect-time limits, drain), `session` (one
//! conversation), `data` (DATA framing), `dialect` (B@BEL-style client
//! fingerprint), `transcript`, `tls`, `metrics` (Prometheus), `spool` (a
//! group-committed file sink).

#![warn(missing_docs)]

mod config;
mod data;
pub mod dialect;
mod error;
mod metrics;
mod server;
mod session;
mod sink;
pub mod spool;
pub mod tls;
pub mod transcript;

pub use config::{TlsSetup, TrapConfig};
pub use dialect::{ClientAct, Dialect, dialect_fingerprint};
pub use error::TrapError;
pub use metrics::{RejectReason, TrapMetrics, TrapStats};
pub use server::{Trap, serve};
pub use session::{SessionEnd, SessionRecord};
pub use sink::{MessageSink, SinkError};
pub use spool::{SpoolReader, SpoolRecord, SpoolSink};

/// Resolve when the process receives SIGTERM or SIGINT (ctrl-c): the usual
/// `shutdown` argument of [`serve`] for a command-line trap.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolve once the trap's shutdown flag is set. The guard `wait_for` returns
/// is dropped here, so futures awaiting this stay `Send`.
pub(crate) async fn stop_requested(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}
