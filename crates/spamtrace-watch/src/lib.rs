//! Volume over time and the abrupt changes in it: takedowns, new campaigns,
//! a botnet's return from a pause.
//!
//! This crate is pure: it receives counts per time bucket and returns
//! [`Change`]s. The store produces the counts, the CLI and the report show the
//! results; nothing here reads a file, a clock or the network.
//!
//! # The detector in one paragraph
//!
//! Spam volume is spiky by nature (Rustock spiked every other day and decayed
//! gradually; traps see day/night cycles), so a fixed threshold either misses
//! takedowns or fires on every spike. [`OnlineDetector`] instead asks, at
//! several time scales (1 h, 6 h, 1 day sums by default), whether the last few
//! buckets lie *entirely outside the range the series itself showed* over the
//! preceding days (the low or high quantile of `log1p(count)` over a window of
//! about four days, by a margin of a factor 4 by default). A spike stays
//! inside the range of a series that spikes; a takedown (a drop to about zero)
//! or a new campaign (a rise from zero) leaves it. A candidate is then scored
//! by the posterior probability that the underlying rate changed by at least a
//! factor 2, with the before-rate's uncertainty widened by the series' own
//! overdispersion; that probability is the event's `confidence`. After an
//! event the detector starts a new regime at the change point, so the new
//! level becomes the reference. [`detect_changes`] replays a whole series
//! through the same detector, so history and live monitoring agree.

mod detect;
mod series;
pub mod synthetic;
mod time;

pub use detect::{Change, DetectParams, Direction, OnlineDetector, detect_changes};
pub use series::Series;
pub use time::{bucket_format, bucket_parse, format_time, parse_time};

/// What can go wrong in this crate: only malformed user input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WatchError {
    /// A bucket size that is not a positive number followed by s, m, h, d or w.
    #[error(
        "bucket size {0:?} is not understood: write a number and a unit, e.g. 15m, 1h or 1d (units: s, m, h, d, w)"
    )]
    BadBucket(String),
    /// A point in time that is not ISO 8601 / RFC 3339 or a date.
    #[error(
        "time {0:?} is not understood: write an ISO 8601 UTC time such as 2011-03-16T14:45:00Z, or a date such as 2011-03-16"
    )]
    BadTime(String),
    /// Two series that cannot be combined bucket by bucket.
    #[error("series {0:?} and {1:?} have different bucket sizes or starts: rebucket them first")]
    Misaligned(String, String),
}
