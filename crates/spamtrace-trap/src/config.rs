//! What the trap listens on and the limits it enforces.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::TrapError;

/// Configuration of one trap instance. Build it with [`TrapConfig::new`] and
/// change the fields you need; every limit has a default suited to a trap on
/// the public Internet.
#[derive(Debug, Clone)]
pub struct TrapConfig {
    /// Addresses to listen on (at least one).
    pub listen: Vec<SocketAddr>,
    /// The name the trap gives in its greeting and EHLO reply.
    pub hostname: String,
    /// Recipient domains to accept; `None` accepts every recipient. Others get
    /// `550`. The trap never relays either way: it has no outbound code.
    pub domains: Option<Vec<String>>,
    /// Largest message accepted, in bytes after dot-unstuffing (`552` beyond,
    /// and the session ends). Advertised as `SIZE`.
    pub max_message_bytes: usize,
    /// Most recipients per message (`452` beyond).
    pub max_recipients: usize,
    /// Most sessions open at once (`421` at connect beyond).
    pub max_sessions: usize,
    /// Most sessions open at once from one client IP (`421` at connect beyond).
    pub max_sessions_per_ip: usize,
    /// Time a client has to send one whole command line, counted from when the
    /// trap starts waiting for it (so one byte a second does not keep a
    /// session alive); `421` and close beyond.
    pub command_timeout: Duration,
    /// Time a client has to send a whole message after `354`; `421` and close
    /// beyond.
    pub data_timeout: Duration,
    /// Longest command line in bytes, line ending included (`500` and close
    /// beyond). Message lines are bounded by `max_message_bytes` only.
    pub max_line_len: usize,
    /// Unrecognised or malformed commands tolerated per session before `421`
    /// and close.
    pub max_bad_commands: usize,
    /// Wait this long before the greeting; a client that talks first is
    /// recorded as a pre-greeting talker (a ratware trait). Zero disables.
    pub greeting_delay: Duration,
    /// On shutdown, how long to wait for open sessions to finish.
    pub drain_timeout: Duration,
    /// STARTTLS certificate; `None` disables STARTTLS.
    pub tls: Option<TlsSetup>,
    /// Where to serve Prometheus counters over HTTP (`GET /metrics`).
    pub metrics: Option<SocketAddr>,
}

/// Where the STARTTLS certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSetup {
    /// PEM certificate chain and private key files.
    Files {
        /// Certificate chain (PEM).
        cert: PathBuf,
        /// Private key (PEM, PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// A self-signed certificate for `hostname`, generated on first run and
    /// kept as `trap-cert.pem` and `trap-key.pem` in this directory.
    SelfSigned {
        /// Directory holding (or receiving) the generated files.
        dir: PathBuf,
    },
}

impl TrapConfig {
    /// A configuration listening on `listen` with the default limits.
    pub fn new(listen: Vec<SocketAddr>) -> TrapConfig {
        TrapConfig {
            listen,
            hostname: "mail.spamtrace.invalid".to_string(),
            domains: None,
            max_message_bytes: 25 * 1024 * 1024,
            // RFC 5321 section 4.5.3.1.8: servers must accept at least 100.
            max_recipients: 100,
            max_sessions: 1000,
            max_sessions_per_ip: 100,
            command_timeout: Duration::from_secs(60),
            data_timeout: Duration::from_secs(300),
            // RFC 5321 allows 512 bytes; ratware often sends longer lines, and
            // recording them is the point, so the default is generous.
            max_line_len: 2048,
            max_bad_commands: 20,
            greeting_delay: Duration::ZERO,
            drain_timeout: Duration::from_secs(30),
            tls: None,
            metrics: None,
        }
    }

    /// Check the configuration and normalise the domain list (lowercase, no
    /// trailing dot).
    pub fn validate(&mut self) -> Result<(), TrapError> {
        if self.listen.is_empty() {
            return Err(TrapError::Config(
                "no listen address; give at least one --listen ADDR:PORT".into(),
            ));
        }
        let positive = [
            ("max_message_bytes", self.max_message_bytes),
            ("max_recipients", self.max_recipients),
            ("max_sessions", self.max_sessions),
            ("max_sessions_per_ip", self.max_sessions_per_ip),
            ("max_bad_commands", self.max_bad_commands),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(TrapError::Config(format!("{name} must be at least 1")));
            }
        }
        if self.max_line_len < 64 {
            return Err(TrapError::Config(
                "max_line_len must be at least 64 bytes (RFC 5321 allows 512)".into(),
            ));
        }
        if self.command_timeout.is_zero() || self.data_timeout.is_zero() {
            return Err(TrapError::Config(
                "command and data timeouts must be longer than zero".into(),
            ));
        }
        if self.hostname.is_empty() || self.hostname.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(TrapError::Config(
                "hostname must be non-empty printable ASCII without spaces".into(),
            ));
        }
        if let Some(domains) = &mut self.domains {
            for domain in domains.iter_mut() {
                *domain = normalize_domain(domain);
            }
            domains.retain(|d| !d.is_empty());
            if domains.is_empty() {
                return Err(TrapError::Config(
                    "--domains was given but names no domain; omit it to accept every recipient"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

/// Lowercase, without surrounding spaces or a trailing dot.
pub(crate) fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}
