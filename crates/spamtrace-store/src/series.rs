//! Time series of sightings: the queries behind `volume`, `changes` and the report.

use crate::{SqliteStore, StoreError};

/// What a series is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesBy {
    /// One series per sending software.
    Botnet,
    /// One series per campaign.
    Campaign,
    /// One series per scam kind.
    Kind,
    /// One series per registered URL domain (a message's first URL domain).
    Domain,
    /// One series per origin network (/24 for IPv4, /48 for IPv6).
    Network,
    /// A single series of all spam.
    Total,
}

impl SeriesBy {
    /// The column that keys the series, and the prefix of series names.
    pub fn column(self) -> (&'static str, &'static str) {
        match self {
            SeriesBy::Botnet => ("botnet", "botnet"),
            SeriesBy::Campaign => ("campaign", "campaign"),
            SeriesBy::Kind => ("kind", "kind"),
            SeriesBy::Domain => ("url_domain", "domain"),
            SeriesBy::Network => ("origin_net", "network"),
            SeriesBy::Total => ("'all'", "total"),
        }
    }

    /// Parse `botnet|campaign|kind|domain|network|total`.
    pub fn parse(s: &str) -> Option<SeriesBy> {
        Some(match s {
            "botnet" => SeriesBy::Botnet,
            "campaign" => SeriesBy::Campaign,
            "kind" => SeriesBy::Kind,
            "domain" => SeriesBy::Domain,
            "network" => SeriesBy::Network,
            "total" => SeriesBy::Total,
            _ => return None,
        })
    }
}

/// One cell of a volume table: spam sightings of one series in one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeCell {
    /// The series key (`rustock`, `c-1a2b`, `pharmacy`...; `(none)` when unknown).
    pub key: String,
    /// Bucket start, Unix seconds (a multiple of the bucket width).
    pub bucket: i64,
    /// Spam sightings.
    pub count: u64,
}

impl SqliteStore {
    /// Spam sightings per series per bucket in `[since, until)`, ordered by key then bucket.
    /// One indexed range scan and a GROUP BY: no mail is re-read.
    pub fn volume(
        &self,
        by: SeriesBy,
        bucket_secs: i64,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<VolumeCell>, StoreError> {
        let bucket_secs = bucket_secs.max(1);
        let (col, _) = by.column();
        let sql = format!(
            "SELECT coalesce({col}, '(none)') AS k, (seen_at / ?1) * ?1 AS b, count(*)
             FROM sightings WHERE is_spam = 1 AND seen_at >= ?2 AND seen_at < ?3
             GROUP BY k, b ORDER BY k, b"
        );
        let mut st = self.connection().prepare(&sql)?;
        let rows = st.query_map(
            rusqlite::params![
                bucket_secs,
                since.unwrap_or(i64::MIN),
                until.unwrap_or(i64::MAX)
            ],
            |r| {
                Ok(VolumeCell {
                    key: r.get(0)?,
                    bucket: r.get(1)?,
                    count: r.get::<_, i64>(2)? as u64,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// First and last sighting times of spam, if any.
    pub fn sighting_range(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let r: (Option<i64>, Option<i64>) = self.connection().query_row(
            "SELECT min(seen_at), max(seen_at) FROM sightings WHERE is_spam = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(match r {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        })
    }
}
