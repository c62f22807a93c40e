//! The store: where every message, sighting and verdict lives.
//!
//! [`Store`] is the trait the rest of spamtrace programs against; [`SqliteStore`]
//! is the embedded default (SQLite in WAL mode, raw messages zstd-compressed and
//! addressed by SHA-256). Another engine implements the same trait.
//!
//! Invariants: a message is stored once, however often it is seen; every time
//! it is seen is a sighting; re-reading the same source position adds nothing;
//! a batch is one transaction, so a crash never leaves half a message.

mod record;
mod rollup;
mod series;
mod sqlite;

pub use record::{MessageRow, PutOutcome, Record, Sighting, Stats, Verdicts, iso};
pub use series::{BucketCounts, KeyedBuckets, SeriesBy, VolumeCell};
pub use sqlite::{Durability, SqliteStore};

use spamtrace_mail::Analysis;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error(
        "store database error: {0} (is the store directory writable and not used by another program?)"
    )]
    Sqlite(#[from] rusqlite::Error),
    /// Reading or writing the store directory failed.
    #[error("cannot use store directory {path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Stored data could not be decoded.
    #[error("corrupt data in the store: {0}")]
    Corrupt(String),
    /// The store was written by a newer spamtrace.
    #[error(
        "the store has schema version {found}, newer than this spamtrace supports ({supported}): upgrade spamtrace"
    )]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// A SHA-256 prefix matched more than one message.
    #[error("the prefix {0} matches more than one message: give more characters")]
    Ambiguous(String),
}

/// What views and the pipeline need from a store.
pub trait Store {
    /// Store a batch atomically: all of it or none of it, together with the
    /// state of the stateful stages (`(key, bytes)`), so that a crash never
    /// separates messages from the campaign index that placed them.
    fn put_batch(
        &mut self,
        records: &[Record],
        state: &[(&str, Vec<u8>)],
    ) -> Result<Vec<PutOutcome>, StoreError>;
    /// Whether a message with this SHA-256 is already stored.
    fn contains(&self, sha256: &str) -> Result<bool, StoreError>;
    /// The full SHA-256 of the one message matching a prefix.
    fn resolve(&self, sha256_prefix: &str) -> Result<Option<String>, StoreError>;
    /// One message's row.
    fn message(&self, sha256: &str) -> Result<Option<MessageRow>, StoreError>;
    /// One message's raw bytes, exactly as received.
    fn raw(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// One message's analysis.
    fn analysis(&self, sha256: &str) -> Result<Option<Analysis>, StoreError>;
    /// One message's sightings.
    fn sightings(&self, sha256: &str) -> Result<Vec<Sighting>, StoreError>;
    /// Visit every message row in store order.
    fn for_each_message(&self, f: &mut dyn FnMut(MessageRow) -> bool) -> Result<(), StoreError>;
    /// A summary of the whole store.
    fn stats(&self) -> Result<Stats, StoreError>;
    /// Saved state of a stateful stage (campaign index, ...).
    fn load_state(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Save state of a stateful stage.
    fn save_state(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError>;
}
