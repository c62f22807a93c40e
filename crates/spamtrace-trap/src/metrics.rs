//! Counters for the live view, and a minimal HTTP responder that serves them
//! in the Prometheus text exposition format (version 0.0.4). One fixed page
//! does not justify an HTTP framework dependency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the trap refused something or ended a session early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RejectReason {
    /// `421` at connect: `max_sessions` reached.
    TooManySessions,
    /// `421` at connect: `max_sessions_per_ip` reached.
    TooManySessionsPerIp,
    /// `552`: message larger than `max_message_bytes`.
    MessageTooLarge,
    /// `452`: more recipients than `max_recipients`.
    TooManyRecipients,
    /// `550`: recipient domain not in `domains`.
    RecipientDomain,
    /// `421`: no whole command within `command_timeout`.
    CommandTimeout,
    /// `421`: no whole message within `data_timeout`.
    DataTimeout,
    /// `500`: command line longer than `max_line_len`.
    LineTooLong,
    /// `500`/`501`/`502`/`503`: unrecognised, malformed or out-of-order command.
    BadCommand,
    /// `421`: more than `max_bad_commands` bad commands.
    TooManyBadCommands,
    /// `451`: the sink could not store the message.
    StoreFailed,
    /// The TLS handshake after STARTTLS failed.
    TlsFailed,
}

impl RejectReason {
    /// Every reason, in output order.
    pub const ALL: [RejectReason; 12] = [
        RejectReason::TooManySessions,
        RejectReason::TooManySessionsPerIp,
        RejectReason::MessageTooLarge,
        RejectReason::TooManyRecipients,
        RejectReason::RecipientDomain,
        RejectReason::CommandTimeout,
        RejectReason::DataTimeout,
        RejectReason::LineTooLong,
        RejectReason::BadCommand,
        RejectReason::TooManyBadCommands,
        RejectReason::StoreFailed,
        RejectReason::TlsFailed,
    ];

    /// The label value used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::TooManySessions => "too_many_sessions",
            RejectReason::TooManySessionsPerIp => "too_many_sessions_per_ip",
            RejectReason::MessageTooLarge => "message_too_large",
            RejectReason::TooManyRecipients => "too_many_recipients",
            RejectReason::RecipientDomain => "recipient_domain",
            RejectReason::CommandTimeout => "command_timeout",
            RejectReason::DataTimeout => "data_timeout",
            RejectReason::LineTooLong => "line_too_long",
            RejectReason::BadCommand => "bad_command",
            RejectReason::TooManyBadCommands => "too_many_bad_commands",
            RejectReason::StoreFailed => "store_failed",
            RejectReason::TlsFailed => "tls_failed",
        }
    }

    fn index(self) -> usize {
        RejectReason::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or_default()
    }
}

/// Live counters of one trap, shared by all sessions.
#[derive(Debug, Default)]
pub struct TrapMetrics {
    sessions: AtomicU64,
    sessions_closed: AtomicU64,
    messages_accepted: AtomicU64,
    message_bytes: AtomicU64,
    tls_sessions: AtomicU64,
    rejects: [AtomicU64; RejectReason::ALL.len()],
}

impl TrapMetrics {
    pub(crate) fn session_opened(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn session_closed(&self) {
        self.sessions_closed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn message_accepted(&self, bytes: usize) {
        self.messages_accepted.fetch_add(1, Ordering::Relaxed);
        self.message_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }
    pub(crate) fn tls_session(&self) {
        self.tls_sessions.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn reject(&self, reason: RejectReason) {
        self.rejects[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> TrapStats {
        TrapStats {
            sessions: self.sessions.load(Ordering::Relaxed),
            sessions_closed: self.sessions_closed.load(Ordering::Relaxed),
            messages_accepted: self.messages_accepted.load(Ordering::Relaxed),
            message_bytes: self.message_bytes.load(Ordering::Relaxed),
            tls_sessions: self.tls_sessions.load(Ordering::Relaxed),
            rejects: RejectReason::ALL
                .iter()
                .map(|r| (*r, self.rejects[r.index()].load(Ordering::Relaxed)))
                .collect(),
            drain_timed_out: false,
        }
    }

    /// The counters in the Prometheus text exposition format.
    pub fn render_prometheus(&self) -> String {
        let stats = self.snapshot();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, value) in samples {
                out.push_str(&format!("{name}{labels} {value}\n"));
            }
        };
        metric(
            "spamtrace_trap_sessions_total",
            "counter",
            "SMTP connections accepted by the listener, refused ones included.",
            &[(String::new(), stats.sessions)],
        );
        metric(
            "spamtrace_trap_sessions_active",
            "gauge",
            "SMTP connections open now.",
            &[(
                String::new(),
                stats.sessions.saturating_sub(stats.sessions_closed),
            )],
        );
        metric(
            "spamtrace_trap_messages_accepted_total",
            "counter",
            "Messages stored durably and acknowledged with 250.",
            &[(String::new(), stats.messages_accepted)],
        );
        metric(
            "spamtrace_trap_message_bytes_total",
            "counter",
            "Bytes of messages accepted.",
            &[(String::new(), stats.message_bytes)],
        );
        metric(
            "spamtrace_trap_tls_sessions_total",
            "counter",
            "Sessions upgraded with STARTTLS.",
            &[(String::new(), stats.tls_sessions)],
        );
        let rejects: Vec<(String, u64)> = stats
            .rejects
            .iter()
            .map(|(reason, count)| (format!("{{reason=\"{}\"}}", reason.as_str()), *count))
            .collect();
        metric(
            "spamtrace_trap_rejects_total",
            "counter",
            "Refusals and early session ends, by reason.",
            &rejects,
        );
        out
    }
}

/// Counters of a trap run, as returned by [`crate::Trap::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapStats {
    /// Connections accepted (refused ones included).
    pub sessions: u64,
    /// Connections that have ended.
    pub sessions_closed: u64,
    /// Messages stored and acknowledged.
    pub messages_accepted: u64,
    /// Bytes of those messages.
    pub message_bytes: u64,
    /// Sessions upgraded to TLS.
    pub tls_sessions: u64,
    /// Refusals by reason.
    pub rejects: Vec<(RejectReason, u64)>,
    /// Shutdown gave up waiting for some sessions (see `drain_timeout`).
    pub drain_timed_out: bool,
}

impl TrapStats {
    /// The count for one reject reason.
    pub fn rejects_for(&self, reason: RejectReason) -> u64 {
        self.rejects
            .iter()
            .find(|(r, _)| *r == reason)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    }
}

/// Serve `GET /metrics` on `listener` until `shutdown` turns true.
pub(crate) async fn serve_metrics(
    listener: TcpListener,
    metrics: std::sync::Arc<TrapMetrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "metrics listener accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = crate::stop_requested(&mut shutdown) => return,
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            // Read the request head (bounded in size and time), answer, close.
            let mut head = Vec::with_capacity(512);
            let mut chunk = [0u8; 1024];
            let read_head = async {
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
            };
            if tokio::time::timeout(Duration::from_secs(5), read_head)
                .await
                .is_err()
            {
                return;
            }
            let request_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
            let response = if request_line.starts_with(b"GET /metrics ")
                || request_line.starts_with(b"GET /metrics?")
            {
                let body = metrics.render_prometheus();
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                let body = "not found: the counters are at GET /metrics\n";
                format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            })
            .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_is_well_formed() {
        let metrics = TrapMetrics::default();
        metrics.session_opened();
        metrics.message_accepted(4096);
        metrics.reject(RejectReason::MessageTooLarge);
        let text = metrics.render_prometheus();
        assert!(text.ends_with('\n'));
        assert!(text.contains("spamtrace_trap_messages_accepted_total 1\n"));
        assert!(text.contains("spamtrace_trap_message_bytes_total 4096\n"));
        assert!(text.contains("spamtrace_trap_rejects_total{reason=\"message_too_large\"} 1\n"));
        assert!(text.contains("spamtrace_trap_sessions_active 1\n"));
        // Every sample line is `name{labels} value` after its TYPE line.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<u64>().is_ok(), "{line}");
            assert!(name.starts_with("spamtrace_trap_"), "{line}");
        }
    }
}
