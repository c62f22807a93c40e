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
        // Aggregated here rather than with GROUP BY: one sequential pass over
        // the time index with no sort is several times faster in SQLite, and
        // keys are interned so a row costs no allocation.
        let sql = format!(
            "SELECT {col}, seen_at FROM sightings INDEXED BY sightings_spam_seen
             WHERE is_spam = 1 AND seen_at >= ?1 AND seen_at < ?2"
        );
        let mut st = self.connection().prepare_cached(&sql)?;
        let mut rows = st.query(rusqlite::params![
            since.unwrap_or(i64::MIN),
            until.unwrap_or(i64::MAX)
        ])?;
        let mut keys: std::collections::HashMap<Box<str>, usize> = std::collections::HashMap::new();
        let mut names: Vec<Box<str>> = Vec::new();
        let mut counts: std::collections::HashMap<(usize, i64), u64> =
            std::collections::HashMap::new();
        while let Some(r) = rows.next()? {
            let key = match r.get_ref(0)? {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or("(invalid)"),
                _ => "(none)",
            };
            let k = match keys.get(key) {
                Some(&k) => k,
                None => {
                    names.push(key.into());
                    keys.insert(key.into(), names.len() - 1);
                    names.len() - 1
                }
            };
            let t: i64 = r.get(1)?;
            *counts
                .entry((k, t.div_euclid(bucket_secs) * bucket_secs))
                .or_default() += 1;
        }
        let mut cells: Vec<VolumeCell> = counts
            .into_iter()
            .map(|((k, bucket), count)| VolumeCell {
                key: names[k].to_string(),
                bucket,
                count,
            })
            .collect();
        cells.sort_by(|a, b| a.key.cmp(&b.key).then(a.bucket.cmp(&b.bucket)));
        Ok(cells)
    }

    /// First and last sighting times of spam, if any.
    pub fn sighting_range(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let r: (Option<i64>, Option<i64>) = self.connection().query_row(
            "SELECT min(seen_at), max(seen_at) FROM sightings INDEXED BY sightings_spam_seen WHERE is_spam = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(match r {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Record, Store, Verdicts};
    use spamtrace_mail::{Analysis, Envelope, Label, TimeSource};

    fn record(i: u64, botnet: &str, t: i64) -> Record {
        let a = Analysis {
            sha256: format!("{i:064x}"),
            ..Default::default()
        };
        let env = Envelope {
            source: "smtp://x".into(),
            label: Some(Label::Spam),
            ..Default::default()
        };
        let v = Verdicts {
            botnet: Some(botnet.into()),
            ..Default::default()
        };
        Record::build(
            format!("m{i}").as_bytes(),
            &env,
            &a,
            (t, TimeSource::Trap),
            v,
        )
    }

    #[test]
    fn volume_by_botnet_and_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let recs: Vec<Record> = (0..10)
            .map(|i| {
                record(
                    i,
                    if i < 6 { "rustock" } else { "srizbi" },
                    3600 * (i as i64 % 3) + 5,
                )
            })
            .collect();
        s.put_batch(&recs, &[]).unwrap();
        let v = s.volume(SeriesBy::Botnet, 3600, None, None).unwrap();
        let get = |k: &str, b: i64| {
            v.iter()
                .find(|c| c.key == k && c.bucket == b)
                .map(|c| c.count)
        };
        assert_eq!(get("rustock", 0), Some(2)); // i = 0, 3
        assert_eq!(get("rustock", 3600), Some(2)); // 1, 4
        assert_eq!(get("srizbi", 0), Some(2)); // 6, 9
        assert_eq!(v.iter().map(|c| c.count).sum::<u64>(), 10);
        let total = s.volume(SeriesBy::Total, 86400, Some(3600), None).unwrap();
        assert_eq!(
            total,
            vec![VolumeCell {
                key: "all".into(),
                bucket: 0,
                count: 6
            }]
        );
        assert_eq!(s.sighting_range().unwrap(), Some((5, 7205)));
    }
}
