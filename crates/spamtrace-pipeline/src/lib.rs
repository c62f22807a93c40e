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

/// How often the attribution state is saved with a batch. It grows with the
/// campaigns: saving it with every batch made ingest quadratic in them.
const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Decides when the attribution state rides along with a batch.
pub(crate) struct SnapshotClock(std::time::Instant);

impl SnapshotClock {
    pub(crate) fn new() -> SnapshotClock {
        SnapshotClock(std::time::Instant::now())
    }

    /// The state to save with this batch: every few seconds, or when `force`d
    /// (the last batch), else nothing.
    pub(crate) fn take(&mut self, stages: &Stages, force: bool) -> Vec<(&'static str, Vec<u8>)> {
        if !force && self.0.elapsed() < SNAPSHOT_EVERY {
            return Vec::new();
        }
        self.0 = std::time::Instant::now();
        stages
            .attributor
            .as_ref()
            .and_then(|a| a.snapshot())
            .into_iter()
            .collect()
    }
}

/// Run the attribution stage on one new, parsed message and copy its
/// campaign and botnet into the record's columns.
pub(crate) fn attribute_record(
    stages: &mut Stages,
    record: &mut spamtrace_store::Record,
    analysis: Option<&Analysis>,
    envelope: &Envelope,
) {
    let (Some(a), Some(attr)) = (analysis, stages.attributor.as_mut()) else {
        return;
    };
    if a.problem.is_some() {
        return;
    }
    let mut v = std::mem::take(&mut record.row.verdicts);
    attr.attribute(a, envelope, record.row.received_ts, &mut v);
    record.row.campaign = v.campaign.clone();
    record.row.botnet = v.botnet.clone();
    record.row.verdicts = v;
}

/// The analysis stages, as plugged in by the binary.
#[derive(Default)]
pub struct Stages {
    /// The spam classifier, if any.
    pub scorer: Option<std::sync::Arc<dyn Scorer>>,
    /// The attribution stage, if any.
    pub attributor: Option<Box<dyn Attributor>>,
}
