//! A count per time bucket.

use crate::WatchError;
use serde::{Deserialize, Serialize};

/// Counts of sightings per fixed-size time bucket, for one thing being watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// What is counted, as `dimension:key`: `botnet:rustock`, `campaign:c-1a2b`,
    /// `kind:pharmacy`, `domain:example.com`, `network:192.0.2.0/24`, or `total`.
    pub name: String,
    /// Start of the first bucket, Unix seconds.
    pub start: i64,
    /// Bucket size in seconds (always positive).
    pub bucket_secs: i64,
    /// One count per bucket, in time order; bucket `i` starts at `start + i * bucket_secs`.
    pub counts: Vec<f64>,
}

impl Series {
    /// A series of zeros covering `[start, end)` (at least one bucket), with
    /// `start` rounded down to a bucket boundary so that buckets line up
    /// between series (and with UTC days for day buckets).
    pub fn zeros(name: impl Into<String>, start: i64, end: i64, bucket_secs: i64) -> Series {
        let bucket_secs = bucket_secs.max(1);
        let start = start.div_euclid(bucket_secs) * bucket_secs;
        let buckets = ((end.max(start + 1) - start + bucket_secs - 1) / bucket_secs).max(1);
        Series {
            name: name.into(),
            start,
            bucket_secs,
            counts: vec![0.0; buckets as usize],
        }
    }

    /// Count events at the given times into a new series over `[start, end)`;
    /// events outside that range are ignored.
    pub fn from_times(
        name: impl Into<String>,
        times: impl IntoIterator<Item = i64>,
        start: i64,
        end: i64,
        bucket_secs: i64,
    ) -> Series {
        let mut series = Series::zeros(name, start, end, bucket_secs);
        for t in times {
            series.add(t, 1.0);
        }
        series
    }

    /// Add `amount` to the bucket holding time `t`; times outside the series are ignored.
    pub fn add(&mut self, t: i64, amount: f64) {
        if let Some(i) = self.index_of(t) {
            self.counts[i] += amount;
        }
    }

    /// The bucket index holding time `t`, if the series covers it.
    pub fn index_of(&self, t: i64) -> Option<usize> {
        if t < self.start {
            return None;
        }
        let i = ((t - self.start) / self.bucket_secs) as usize;
        (i < self.counts.len()).then_some(i)
    }

    /// Start of bucket `i`, Unix seconds.
    pub fn bucket_start(&self, i: usize) -> i64 {
        self.start + i as i64 * self.bucket_secs
    }

    /// End of the last bucket (exclusive), Unix seconds.
    pub fn end(&self) -> i64 {
        self.bucket_start(self.counts.len())
    }

    /// Sum of all counts.
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// The largest count in any bucket (0 for an empty series).
    pub fn peak(&self) -> f64 {
        self.counts.iter().copied().fold(0.0, f64::max)
    }

    /// The same counts in buckets `factor` times larger (the last one may be partial).
    pub fn coarsen(&self, factor: usize) -> Series {
        let factor = factor.max(1);
        Series {
            name: self.name.clone(),
            start: self.start,
            bucket_secs: self.bucket_secs * factor as i64,
            counts: self.counts.chunks(factor).map(|c| c.iter().sum()).collect(),
        }
    }

    /// This series' share of `total`, bucket by bucket, between 0 and 1
    /// (0 where the total is 0). Both must have the same start and bucket size.
    pub fn share_of(&self, total: &Series) -> Result<Series, WatchError> {
        if self.start != total.start || self.bucket_secs != total.bucket_secs {
            return Err(WatchError::Misaligned(
                self.name.clone(),
                total.name.clone(),
            ));
        }
        let counts = self
            .counts
            .iter()
            .enumerate()
            .map(|(i, &c)| match total.counts.get(i) {
                Some(&t) if t > 0.0 => (c / t).clamp(0.0, 1.0),
                _ => 0.0,
            })
            .collect();
        Ok(Series {
            name: format!("share:{}", self.name),
            start: self.start,
            bucket_secs: self.bucket_secs,
            counts,
        })
    }

    /// The dimension part of the name (`botnet` in `botnet:rustock`), or the whole name.
    pub fn dimension(&self) -> &str {
        self.name.split_once(':').map_or(&self.name, |(d, _)| d)
    }

    /// The key part of the name (`rustock` in `botnet:rustock`), or the whole name.
    pub fn key(&self) -> &str {
        self.name.split_once(':').map_or(&self.name, |(_, k)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_events_into_aligned_buckets() {
        let s = Series::from_times(
            "total",
            [3600, 3601, 7199, 7200, 99_999],
            3700,
            10_800,
            3600,
        );
        assert_eq!(s.start, 3600);
        assert_eq!(s.counts, vec![3.0, 1.0]);
        assert_eq!(s.end(), 10_800);
        assert_eq!(s.total(), 4.0);
        assert_eq!(s.coarsen(2).counts, vec![4.0]);
        assert_eq!(s.index_of(3599), None);
    }

    #[test]
    fn share_needs_aligned_series() {
        let total = Series {
            name: "total".into(),
            start: 0,
            bucket_secs: 10,
            counts: vec![4.0, 0.0],
        };
        let part = Series {
            name: "botnet:x".into(),
            start: 0,
            bucket_secs: 10,
            counts: vec![1.0, 0.0],
        };
        assert_eq!(part.share_of(&total).unwrap().counts, vec![0.25, 0.0]);
        let other = Series {
            start: 10,
            ..part.clone()
        };
        assert!(other.share_of(&total).is_err());
        assert_eq!(part.dimension(), "botnet");
        assert_eq!(part.key(), "x");
    }
}
