//! A durable, group-committed append-only spool file: the trap's own
//! [`MessageSink`] for running without the store (and for tests and the
//! benchmark). Many sessions store at once; the first caller to find the
//! writer idle writes every pending record with one `write` and one
//! `fdatasync`, then wakes all callers whose records that covered. One disk
//! flush thus acknowledges a whole batch, which is how a trap reaches
//! thousands of durable messages a second on one disk.
//!
//! Record layout (little-endian):
//! `"STS1"` | envelope length u32 | body length u64 | envelope (JSON) | body |
//! SHA-256 of envelope and body (32 bytes).
//! A crash can only leave a torn record at the end (appends only); opening
//! the spool cuts it off. Records acknowledged to clients are always whole.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use sha2::{Digest, Sha256};
use spamtrace_mail::{Envelope, RawMessage};

use crate::{MessageSink, SinkError};

const MAGIC: &[u8; 4] = b"STS1";
const HEADER_LEN: usize = 4 + 4 + 8;
const TRAILER_LEN: usize = 32;
/// Larger lengths in a header can only be corruption.
const MAX_ENVELOPE_LEN: u32 = 64 * 1024 * 1024;
const MAX_BODY_LEN: u64 = 4 * 1024 * 1024 * 1024;

/// Errors opening or reading a spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The file could not be opened, read or written.
    #[error("spool {path}: {source}; check the path and its permissions")]
    Io {
        /// The spool file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A whole record failed its checksum or could not be decoded.
    #[error(
        "spool {path}: record at byte {offset} is corrupt ({why}); the file was damaged outside the trap"
    )]
    Corrupt {
        /// The spool file.
        path: PathBuf,
        /// Where the bad record starts.
        offset: u64,
        /// What is wrong with it.
        why: String,
    },
}

/// One message read back from a spool.
#[derive(Debug, Clone)]
pub struct SpoolRecord {
    /// SHA-256 of the message bytes, hex (the id given to the client).
    pub id: String,
    /// Byte offset of the record in the spool file.
    pub offset: u64,
    /// The message and its envelope.
    pub message: RawMessage,
}

/// The id of a message: SHA-256 of its bytes, lowercase hex.
pub fn message_id(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[derive(Default)]
struct CommitState {
    /// Encoded records waiting for the next commit.
    pending: Vec<u8>,
    /// Sequence number the next record gets.
    next_seq: u64,
    /// Records with a sequence number below this are durable.
    durable_seq: u64,
    /// A caller is writing and syncing a batch now.
    writing: bool,
    /// An earlier write or sync failed: nothing more is acknowledged.
    failed: Option<String>,
    /// Batches written and synced so far.
    commits: u64,
}

/// A [`MessageSink`] appending to one spool file with group commit.
pub struct SpoolSink {
    path: PathBuf,
    file: File,
    state: Mutex<CommitState>,
    committed: Condvar,
}

impl SpoolSink {
    /// Open (or create) the spool at `path`, cutting off a torn last record
    /// left by a crash.
    pub fn open(path: impl AsRef<Path>) -> Result<SpoolSink, SpoolError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| SpoolError::Io {
            path: path.clone(),
            source,
        };
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        if created {
            // Make the new directory entry itself durable.
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                File::open(parent).and_then(|d| d.sync_all()).map_err(io)?;
            }
        }
        let valid = {
            let mut reader = SpoolReader::new(&path, BufReader::new(&file));
            for record in reader.by_ref() {
                record?;
            }
            reader.valid_len
        };
        let len = file.seek(SeekFrom::End(0)).map_err(io)?;
        if len > valid {
            tracing::warn!(
                spool = %path.display(),
                torn_bytes = len - valid,
                "cutting off a torn record left by a crash (it was never acknowledged)"
            );
            file.set_len(valid).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        Ok(SpoolSink {
            path,
            file,
            state: Mutex::new(CommitState::default()),
            committed: Condvar::new(),
        })
    }

    /// The spool file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Messages stored and group commits (one `fdatasync` each) done since
    /// this sink was opened: their ratio is the average batch size.
    pub fn counts(&self) -> (u64, u64) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        (state.durable_seq, state.commits)
    }
}

fn encode(message: &RawMessage) -> Result<(Vec<u8>, String), SinkError> {
    let envelope =
        serde_json::to_vec(&message.envelope).map_err(|e| SinkError::Store(Box::new(e)))?;
    let envelope_len = u32::try_from(envelope.len())
        .ok()
        .filter(|n| *n <= MAX_ENVELOPE_LEN)
        .ok_or_else(|| SinkError::Store("envelope too large for the spool".into()))?;
    let mut record =
        Vec::with_capacity(HEADER_LEN + envelope.len() + message.bytes.len() + TRAILER_LEN);
    record.extend_from_slice(MAGIC);
    record.extend_from_slice(&envelope_len.to_le_bytes());
    record.extend_from_slice(&(message.bytes.len() as u64).to_le_bytes());
    record.extend_from_slice(&envelope);
    record.extend_from_slice(&message.bytes);
    let mut hasher = Sha256::new();
    hasher.update(&envelope);
    hasher.update(&message.bytes);
    record.extend_from_slice(&hasher.finalize());
    Ok((record, message_id(&message.bytes)))
}

impl MessageSink for SpoolSink {
    fn store(&self, message: RawMessage) -> Result<String, SinkError> {
        let (record, id) = encode(&message)?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = &state.failed {
            return Err(SinkError::Unusable(why.clone()));
        }
        let my_seq = state.next_seq;
        state.next_seq += 1;
        state.pending.extend_from_slice(&record);
        drop(record);
        loop {
            if state.durable_seq > my_seq {
                return Ok(id);
            }
            if let Some(why) = &state.failed {
                return Err(SinkError::Unusable(why.clone()));
            }
            if state.writing {
                state = self
                    .committed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // Become the writer for everything pending, ours included.
            state.writing = true;
            let batch = std::mem::take(&mut state.pending);
            let batch_end = state.next_seq;
            drop(state);
            let written = (&self.file)
                .write_all(&batch)
                .and_then(|()| self.file.sync_data());
            state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.writing = false;
            match written {
                Ok(()) => {
                    state.durable_seq = batch_end;
                    state.commits += 1;
                }
                // After a failed write or fsync the file's state is unknown
                // (the kernel may have dropped dirty pages): refuse from now on.
                Err(error) => state.failed = Some(error.to_string()),
            }
            self.committed.notify_all();
        }
    }
}

/// Reads records from a spool in order. Stops at the end or at a torn last
/// record (see [`SpoolReader::torn_tail`]).
pub struct SpoolReader<R> {
    path: PathBuf,
    reader: R,
    /// Bytes of whole, verified records read so far.
    valid_len: u64,
    torn: bool,
    done: bool,
}

impl SpoolReader<BufReader<File>> {
    /// Open the spool at `path` for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SpoolError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| SpoolError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(SpoolReader::new(path, BufReader::new(file)))
    }
}

impl<R: Read> SpoolReader<R> {
    fn new(path: &Path, reader: R) -> Self {
        SpoolReader {
            path: path.to_path_buf(),
            reader,
            valid_len: 0,
            torn: false,
            done: false,
        }
    }

    /// True when reading stopped at an incomplete last record (a crash
    /// during a write that was never acknowledged).
    pub fn torn_tail(&self) -> bool {
        self.torn
    }

    /// Read exactly `buf.len()` bytes; `Ok(false)` at a clean or torn end.
    fn fill(&mut self, buf: &mut [u8]) -> Result<bool, SpoolError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => return Ok(false),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(SpoolError::Io {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
        Ok(true)
    }

    fn next_record(&mut self) -> Result<Option<SpoolRecord>, SpoolError> {
        let offset = self.valid_len;
        let mut header = [0u8; HEADER_LEN];
        let mut first = [0u8; 1];
        if !self.fill(&mut first)? {
            return Ok(None); // clean end
        }
        header[0] = first[0];
        let whole = self.fill(&mut header[1..])?;
        let envelope_len = u32::from_le_bytes(header[4..8].try_into().unwrap_or_default());
        let body_len = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        if !whole
            || &header[..4] != MAGIC
            || envelope_len > MAX_ENVELOPE_LEN
            || body_len > MAX_BODY_LEN
        {
            // Only the tail can be torn: appends never rewrite earlier bytes.
            self.torn = true;
            return Ok(None);
        }
        let mut envelope = vec![0u8; envelope_len as usize];
        let mut body = vec![0u8; body_len as usize];
        let mut trailer = [0u8; TRAILER_LEN];
        if !(self.fill(&mut envelope)? && self.fill(&mut body)? && self.fill(&mut trailer)?) {
            self.torn = true;
            return Ok(None);
        }
        let mut hasher = Sha256::new();
        hasher.update(&envelope);
        hasher.update(&body);
        if hasher.finalize().as_slice() != trailer {
            // A whole-length record with a bad checksum is a torn write only
            // if nothing follows it; report it as torn and stop either way.
            self.torn = true;
            return Ok(None);
        }
        let envelope: Envelope =
            serde_json::from_slice(&envelope).map_err(|e| SpoolError::Corrupt {
                path: self.path.clone(),
                offset,
                why: e.to_string(),
            })?;
        self.valid_len += (HEADER_LEN + envelope_len as usize + TRAILER_LEN) as u64 + body_len;
        Ok(Some(SpoolRecord {
            id: message_id(&body),
            offset,
            message: RawMessage {
                bytes: body,
                envelope,
            },
        }))
    }
}

impl<R: Read> Iterator for SpoolReader<R> {
    type Item = Result<SpoolRecord, SpoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn message(n: usize) -> RawMessage {
        RawMessage {
            bytes: format!("Subject: {n}\r\n\r\nbody {n}\r\n").into_bytes(),
            envelope: Envelope {
                source: format!("smtp://127.0.0.1:{n}"),
                ..Envelope::default()
            },
        }
    }

    #[test]
    fn concurrent_stores_are_all_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let sink = Arc::new(SpoolSink::open(&path).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|i| sink.store(message(t * 1000 + i)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ids: Vec<String> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let mut read: Vec<String> = SpoolReader::open(&path)
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        ids.sort();
        read.sort();
        assert_eq!(ids.len(), 400);
        let (stored, commits) = sink.counts();
        assert_eq!(stored, 400);
        assert!((1..=400).contains(&commits));
        assert_eq!(ids, read);
    }

    #[test]
    fn torn_tail_is_cut_and_appending_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        {
            let sink = SpoolSink::open(&path).unwrap();
            sink.store(message(1)).unwrap();
            sink.store(message(2)).unwrap();
        }
        let whole = std::fs::metadata(&path).unwrap().len();
        // Simulate a crash mid-write: half a record at the end.
        let (record, _) = encode(&message(3)).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&record[..record.len() / 2]).unwrap();
        drop(file);
        let mut reader = SpoolReader::open(&path).unwrap();
        assert_eq!(reader.by_ref().count(), 2);
        assert!(reader.torn_tail());

        let sink = SpoolSink::open(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
        let id = sink.store(message(4)).unwrap();
        let ids: Vec<String> = SpoolReader::open(&path)
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[2], id);
        assert_eq!(id, message_id(&message(4).bytes));
    }

    #[test]
    fn envelope_survives_the_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool");
        let sink = SpoolSink::open(&path).unwrap();
        let mut original = message(7);
        original.envelope.recipient = Some("x@trap.example".into());
        sink.store(original.clone()).unwrap();
        let back = SpoolReader::open(&path).unwrap().next().unwrap().unwrap();
        assert_eq!(back.message.bytes, original.bytes);
        assert_eq!(back.message.envelope, original.envelope);
    }
}
