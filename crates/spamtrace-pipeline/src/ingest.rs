//! Archive ingest: paths in, summary out.

use crate::Stages;
use crossbeam_channel::bounded;
use serde::Serialize;
use spamtrace_mail::{
    Analysis, Envelope, Label, Limits, RawMessage, TrustedHosts, analyze, resolve_received_at,
    sha256_hex,
};
use spamtrace_source::{SourceItem, SourceOptions, read_paths};
use spamtrace_store::{PutOutcome, Record, Store, StoreError, Verdicts};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Outcomes counted by the store thread, read by the progress display.
#[derive(Default)]
struct Counts {
    stored_new: AtomicU64,
    duplicates: AtomicU64,
    failed: AtomicU64,
}

impl Counts {
    fn fill(&self, s: &mut IngestSummary) {
        s.stored_new = self.stored_new.load(Ordering::Relaxed);
        s.duplicates = self.duplicates.load(Ordering::Relaxed);
        s.failed = self.failed.load(Ordering::Relaxed);
    }
}

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Per-message limits.
    pub limits: Limits,
    /// The receiving infrastructure, for the origin hop.
    pub trusted: TrustedHosts,
    /// Worker threads (parse, classify, compress). 0 = one per core.
    pub workers: usize,
    /// Messages per transaction.
    pub batch: usize,
    /// A label for every message that its source does not label.
    pub label: Option<Label>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            limits: Limits::default(),
            trusted: TrustedHosts::default(),
            workers: 0,
            batch: 1000,
            label: None,
        }
    }
}

/// What an ingest run did. `messages_seen = stored_new + duplicates + failed`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    /// Messages read from the sources.
    pub messages_seen: u64,
    /// New messages stored and fully analysed.
    pub stored_new: u64,
    /// Messages already in the store (a new sighting, or none when the same
    /// source position was read before).
    pub duplicates: u64,
    /// New messages stored raw that could not be fully analysed (see `stats`).
    pub failed: u64,
    /// Files that are not mail (index files, dovecot files, feeds...).
    pub skipped: u64,
    /// Paths that could not be read, with the reason.
    pub errors: Vec<String>,
    /// Bytes of mail read.
    pub bytes: u64,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
    /// Messages per second over the whole run.
    pub messages_per_s: f64,
}

/// Called by the writer about ten times a second with the running totals.
pub type Progress<'a> = &'a (dyn Fn(&IngestSummary) + Sync);

/// Errors that stop an ingest (a bad message never does).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store failed: nothing after the last committed batch was stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

enum Work {
    Message(RawMessage),
    Oversized {
        envelope: Envelope,
        size: u64,
        head: Vec<u8>,
    },
    Skipped(String),
    Error(String),
}

// Nearly every item is a Message: boxing it would cost an allocation per
// message to shrink the rare variants.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Done {
    /// A message to store; `analysis` is None when it was already known.
    Message {
        record: Record,
        analysis: Option<Box<Analysis>>,
        envelope: Envelope,
    },
    Skipped(String),
    Error(String),
}

/// Read every path and store every message. `is_known` (one per worker) tells
/// whether a SHA-256 is already stored, so re-reading an archive skips analysis.
pub fn ingest(
    paths: &[PathBuf],
    store: &mut (dyn Store + Send),
    mut stages: Stages,
    opts: &IngestOptions,
    is_known: &(dyn Fn() -> Box<dyn FnMut(&str) -> bool> + Sync),
    progress: Progress<'_>,
) -> Result<IngestSummary, IngestError> {
    let start = Instant::now();
    let workers = if opts.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        opts.workers
    };
    let (work_tx, work_rx) = bounded::<(u64, Work)>(workers * 64);
    let (done_tx, done_rx) = bounded::<(u64, Done)>(workers * 64);
    let source_opts = SourceOptions {
        max_message_bytes: opts.limits.max_message_bytes,
        label: opts.label,
    };
    let scorer = stages.scorer.take();
    let scorer = scorer.as_deref();
    let mut summary = IngestSummary::default();
    let counts = Counts::default();
    let result = std::thread::scope(|s| -> Result<(), IngestError> {
        s.spawn(move || {
            for (seq, item) in read_paths(paths, &source_opts).enumerate() {
                let w = match item {
                    SourceItem::Message(m) => Work::Message(m),
                    SourceItem::Oversized {
                        source,
                        offset,
                        size,
                        head,
                    } => Work::Oversized {
                        envelope: Envelope {
                            source,
                            offset,
                            ..Default::default()
                        },
                        size,
                        head,
                    },
                    SourceItem::Skipped { path, reason } => {
                        Work::Skipped(format!("{}: {reason}", path.display()))
                    }
                    SourceItem::Error { path, error } => {
                        Work::Error(format!("{}: {error}", path.display()))
                    }
                };
                if work_tx.send((seq as u64, w)).is_err() {
                    return; // the writer stopped (store error): stop reading
                }
            }
        });
        for _ in 0..workers {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            s.spawn(move || {
                let mut known = is_known();
                for (seq, w) in work_rx {
                    let done = match w {
                        Work::Message(m) => process(m, &mut *known, scorer, opts),
                        Work::Oversized {
                            envelope,
                            size,
                            head,
                        } => oversized(envelope, size, head, opts),
                        Work::Skipped(s) => Done::Skipped(s),
                        Work::Error(e) => Done::Error(e),
                    };
                    if done_tx.send((seq, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(work_rx);
        // The writer: restore source order (campaign ids must not depend on
        // thread timing), attribute, batch, commit.
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0u64;
        let mut batch: Vec<Record> = Vec::with_capacity(opts.batch);
        let mut last_progress = Instant::now();
        // The attribution state grows with campaigns: writing it with every
        // batch would make ingest quadratic. It goes with a batch every few
        // seconds and with the last one; after a crash, messages stored since
        // the last snapshot keep their campaign IDs, but the index relearns
        // those campaigns from new mail.
        let mut snapshots = crate::SnapshotClock::new();
        // The store writes on its own thread, so attribution of the next
        // batch overlaps the transaction of the previous one.
        let (batch_tx, batch_rx) = bounded::<(Vec<Record>, Vec<(&'static str, Vec<u8>)>)>(2);
        let counts = &counts;
        let store_thread = s.spawn(move || -> Result<(), IngestError> {
            for (batch, state) in batch_rx {
                let state: Vec<(&str, Vec<u8>)> = state;
                let outcomes = store.put_batch(&batch, &state)?;
                for (rec, o) in batch.iter().zip(outcomes) {
                    let c = match o {
                        PutOutcome::New if rec.row.problem.is_some() => &counts.failed,
                        PutOutcome::New => &counts.stored_new,
                        PutOutcome::Duplicate | PutOutcome::AlreadySeen => &counts.duplicates,
                    };
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(())
        });
        let mut flush = |batch: &mut Vec<Record>, stages: &Stages, last: bool| -> bool {
            if batch.is_empty() && !last {
                return true;
            }
            let state = snapshots.take(stages, last);
            let full = std::mem::replace(batch, Vec::with_capacity(opts.batch));
            // A send fails only when the store thread stopped on an error.
            batch_tx.send((full, state)).is_ok()
        };
        'read: for (seq, done) in done_rx.iter() {
            pending.insert(seq, done);
            while let Some(done) = pending.remove(&next) {
                next += 1;
                match done {
                    Done::Message {
                        mut record,
                        analysis,
                        envelope,
                    } => {
                        summary.messages_seen += 1;
                        summary.bytes += record.size;
                        crate::attribute_record(
                            &mut stages,
                            &mut record,
                            analysis.as_deref(),
                            &envelope,
                        );
                        batch.push(record);
                        if batch.len() >= opts.batch && !flush(&mut batch, &stages, false) {
                            break 'read; // the store failed: its error is returned below
                        }
                    }
                    Done::Skipped(s) => {
                        tracing::debug!("skipped {s}");
                        summary.skipped += 1;
                    }
                    Done::Error(e) => {
                        tracing::warn!("{e}");
                        summary.errors.push(e);
                    }
                }
            }
            if last_progress.elapsed() > Duration::from_millis(100) {
                last_progress = Instant::now();
                summary.elapsed_s = start.elapsed().as_secs_f64();
                counts.fill(&mut summary);
                progress(&summary);
            }
        }
        drop(done_rx); // stops the workers and the reader if we left early
        flush(&mut batch, &stages, true);
        drop(batch_tx);
        store_thread.join().expect("the store thread panicked")
    });
    // On a store error the channels closed and every thread stopped; the
    // batches committed before it stay committed.
    result?;
    counts.fill(&mut summary);
    summary.elapsed_s = start.elapsed().as_secs_f64();
    summary.messages_per_s = summary.messages_seen as f64 / summary.elapsed_s.max(1e-9);
    progress(&summary);
    Ok(summary)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Hash, skip if known, else analyse, score and compress one message.
pub(crate) fn process(
    m: RawMessage,
    known: &mut dyn FnMut(&str) -> bool,
    scorer: Option<&dyn crate::Scorer>,
    opts: &IngestOptions,
) -> Done {
    let mut envelope = m.envelope;
    if envelope.label.is_none() {
        envelope.label = opts.label;
    }
    let sha = sha256_hex(&m.bytes);
    if known(&sha) {
        // Already stored: only the sighting is new. Its time comes from the
        // source when the source knows it (mbox, trap), else the store takes
        // the stored message's receive time.
        let a = Analysis {
            sha256: sha.clone(),
            size: m.bytes.len() as u64,
            ..Default::default()
        };
        let t = envelope
            .received_at
            .unwrap_or((now(), spamtrace_mail::TimeSource::Ingest));
        let mut record = Record::build(&[], &envelope, &a, t, Verdicts::default());
        record.sha256 = sha;
        record.size = m.bytes.len() as u64;
        record.raw_zstd.clear();
        return Done::Message {
            record,
            analysis: None,
            envelope,
        };
    }
    let analysis = analyze(&m.bytes, &opts.limits, &opts.trusted);
    let mut verdicts = Verdicts::default();
    if let (Some(s), None) = (scorer, analysis.problem.as_ref()) {
        s.score(&analysis, &mut verdicts);
    }
    let t = resolve_received_at(&envelope, &analysis, now());
    let record = Record::build(&m.bytes, &envelope, &analysis, t, verdicts);
    Done::Message {
        record,
        analysis: Some(Box::new(analysis)),
        envelope,
    }
}

fn oversized(envelope: Envelope, size: u64, head: Vec<u8>, opts: &IngestOptions) -> Done {
    let mut a = Analysis {
        sha256: sha256_hex(&head),
        size,
        ..Default::default()
    };
    a.problem = Some(format!(
        "message too large: {size} bytes over the {}-byte limit (only the first {} bytes kept)",
        opts.limits.max_message_bytes,
        head.len()
    ));
    let t = envelope
        .received_at
        .unwrap_or((now(), spamtrace_mail::TimeSource::Ingest));
    let record = Record::build(&head, &envelope, &a, t, Verdicts::default());
    Done::Message {
        record,
        analysis: None,
        envelope,
    }
}
