//! Errors that stop the trap from starting or running.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the trap could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum TrapError {
    /// The configuration is inconsistent.
    #[error("invalid trap configuration: {0}")]
    Config(String),
    /// A listen address could not be bound.
    #[error(
        "cannot listen on {addr}: {source}; is another process using it, or does the port need root (ports < 1024)? choose another --listen"
    )]
    Bind {
        /// The address that failed.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A certificate or key file could not be read, written or parsed.
    #[error(
        "TLS certificate problem with {path}: {message}; fix or delete the file (a new self-signed one is made when none is configured)"
    )]
    Certificate {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// rustls refused the certificate and key.
    #[error("TLS setup failed: {0}; check that the key matches the certificate")]
    Tls(String),
}
