//! Where accepted messages go: the one interface between the trap and the store.

use spamtrace_mail::RawMessage;

use crate::session::SessionRecord;

/// Durable storage for messages caught by the trap.
///
/// The trap calls [`MessageSink::store`] once per message, after the client
/// sent the final dot, from a blocking thread (`tokio::task::spawn_blocking`),
/// and sends the `250` reply only after it returned `Ok`. On `Err` the client
/// gets `451` and will retry later, so the message is never acknowledged and
/// lost.
///
/// Calls arrive concurrently from many sessions. That is what makes group
/// commit possible: an implementation may park each caller until one shared
/// commit (one transaction, one `fsync`) covers a whole batch, as
/// [`crate::SpoolSink`] does.
pub trait MessageSink: Send + Sync + 'static {
    /// Store `message` durably (committed, or written and `fsync`ed) and
    /// return its identifier (for example the SHA-256 of its bytes), which is
    /// quoted in the `250` reply and the log line.
    ///
    /// Must not return `Ok` before the message would survive a power cut.
    fn store(&self, message: RawMessage) -> Result<String, SinkError>;

    /// Told once per session when it ended, whether or not it delivered mail
    /// (relay probes, garbage and timeouts are intelligence too). Advisory: it
    /// is not acknowledged to the client, so it need not be durable. It is
    /// called on the async runtime, once per connection, so it must return
    /// at once: queue the record (a bounded channel, `try_send`) if keeping
    /// it takes I/O. The default does nothing.
    fn session_closed(&self, _session: &SessionRecord) {}
}

/// Why a sink could not store a message. The client gets a `451` and retries.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Reading or writing the storage failed.
    #[error(
        "storage I/O failed: {0}; check the disk (space, permissions) under the data directory"
    )]
    Io(#[from] std::io::Error),
    /// An earlier write failed, so the state of the storage is unknown and the
    /// sink refuses further writes rather than acknowledge mail it may lose.
    #[error(
        "the store refused the message because an earlier write failed ({0}); check the disk and restart the trap"
    )]
    Unusable(String),
    /// Any other failure of the store behind the sink.
    #[error("the store failed: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}
