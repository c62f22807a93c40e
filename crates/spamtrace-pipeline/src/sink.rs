//! The trap's way into the store: durable, group-committed.
//!
//! Each SMTP session calls [`DurableSink::store`] from its own blocking
//! thread. The message is analysed right there (in parallel across sessions),
//! then handed to one committer thread that writes whatever has queued up in
//! one transaction (group commit) and only then answers every waiting session.
//! So the 250 after DATA always follows a committed, synced transaction, and
//! one fsync serves many messages under load.

use crate::ingest::{Done, IngestOptions, process};
use crate::{Scorer, Stages};
use crossbeam_channel::{Receiver, Sender, bounded};
use spamtrace_mail::{Analysis, Envelope, RawMessage};
use spamtrace_store::{Record, Store};
use std::sync::Arc;
use std::thread::JoinHandle;

type Reply = Sender<Result<String, String>>;

struct Job {
    record: Record,
    analysis: Option<Box<Analysis>>,
    envelope: Envelope,
    reply: Reply,
}

/// A blocking, durable message sink backed by the store.
#[derive(Clone)]
pub struct DurableSink {
    tx: Sender<Job>,
    scorer: Option<Arc<dyn Scorer>>,
    opts: Arc<IngestOptions>,
}

/// Most messages one transaction takes.
const MAX_GROUP: usize = 512;

impl DurableSink {
    /// Start the committer thread over `store`. The thread ends when every
    /// clone of the sink has been dropped.
    pub fn start(
        mut store: Box<dyn Store + Send>,
        mut stages: Stages,
        opts: IngestOptions,
    ) -> (DurableSink, JoinHandle<()>) {
        let (tx, rx) = bounded::<Job>(4096);
        let scorer = stages.scorer.take();
        let handle = std::thread::Builder::new()
            .name("spamtrace-commit".into())
            .spawn(move || committer(rx, &mut *store, stages))
            .expect("spawn the committer thread");
        (
            DurableSink {
                tx,
                scorer,
                opts: Arc::new(opts),
            },
            handle,
        )
    }

    /// Store one message; returns its SHA-256 once it is durably committed.
    pub fn store(&self, message: RawMessage) -> Result<String, String> {
        let mut never_known = |_: &str| false;
        let Done::Message {
            record,
            analysis,
            envelope,
        } = process(
            message,
            &mut never_known,
            self.scorer.as_deref(),
            &self.opts,
        )
        else {
            return Err("internal error: message not processed".into());
        };
        let (reply, answer) = bounded(1);
        self.tx
            .send(Job {
                record,
                analysis,
                envelope,
                reply,
            })
            .map_err(|_| "the store is shut down".to_string())?;
        answer
            .recv()
            .map_err(|_| "the store stopped before committing".to_string())?
    }
}

fn committer(rx: Receiver<Job>, store: &mut dyn Store, mut stages: Stages) {
    let mut snapshots = crate::SnapshotClock::new();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let mut records = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        for mut j in jobs {
            crate::attribute_record(
                &mut stages,
                &mut j.record,
                j.analysis.as_deref(),
                &j.envelope,
            );
            replies.push((j.record.sha256.clone(), j.reply));
            records.push(j.record);
        }
        let state = snapshots.take(&stages, false);
        match store.put_batch(&records, &state) {
            Ok(_) => {
                for (sha, reply) in replies {
                    let _ = reply.send(Ok(sha));
                }
            }
            Err(e) => {
                tracing::error!(
                    "store failed, {} messages not acknowledged: {e}",
                    replies.len()
                );
                for (_, reply) in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
    // Every sender is gone (the trap stopped): save the final state.
    if let Some((key, value)) = stages.attributor.as_ref().and_then(|a| a.snapshot())
        && let Err(e) = store.save_state(key, &value)
    {
        tracing::error!("could not save the attribution state: {e}");
    }
}
