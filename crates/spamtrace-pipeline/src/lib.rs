//! The pipeline every message takes: source -> analysis -> store.
//!
//! ```text
//!  reader thread        N worker threads                 writer (caller) thread
//!  read_paths() ──ch──> hash, skip known, analyze, ──ch──> reorder, attribute (stateful),
//!                       score, compress                   batch, one transaction per batch
//! ```
//! Workers do everything that is pure and parallel (parsing, classification,
//! compression); the single writer does only what must be sequential (campaign
//! assignment, which needs every earlier message) and the batched writes.
//! Channels are bounded, so memory stays flat however large the input.

mod ingest;
mod sink;

pub use ingest::{IngestOptions, IngestSummary, Progress, ingest};
pub use sink::DurableSink;

use spamtrace_mail::{Analysis, Envelope};
use spamtrace_store::Verdicts;

/// A pure, thread-safe scoring stage (the spam classifier).
pub trait Scorer: Send + Sync {
    /// Fill `score`, `verdict` and `kind`.
    fn score(&self, analysis: &Analysis, verdicts: &mut Verdicts);
}

/// A stateful, sequential stage (campaigns and sending software).
pub trait Attributor: Send {
    /// Fill `campaign`, `botnet` and their reasons for one new message.
    fn attribute(
        &mut self,
        analysis: &Analysis,
        envelope: &Envelope,
        received_at: i64,
        verdicts: &mut Verdicts,
    );
    /// The state to persist with each batch (`(key, bytes)`), if any.
    fn snapshot(&self) -> Option<(&'static str, Vec<u8>)>;
}

/// The analysis stages, as plugged in by the binary.
#[derive(Default)]
pub struct Stages {
    /// The spam classifier, if any.
    pub scorer: Option<std::sync::Arc<dyn Scorer>>,
    /// The attribution stage, if any.
    pub attributor: Option<Box<dyn Attributor>>,
}
