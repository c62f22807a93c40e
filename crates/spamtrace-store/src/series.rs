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

    /// The dimension's number in the store's hourly counts (`volume_hour.dim`).
    pub fn code(self) -> i64 {
        match self {
            SeriesBy::Botnet => 0,
            SeriesBy::Campaign => 1,
            SeriesBy::Kind => 2,
            SeriesBy::Domain => 3,
            SeriesBy::Network => 4,
            SeriesBy::Total => 5,
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

use crate::rollup::{HOUR, HOURS_PER_WEEK, WEEK};

/// Counts per dimension, key and bucket while a query runs: keys interned,
/// and per key a dense array of buckets when the range is known and not too
/// long (the usual case: a month of hours), else a map.
struct Accumulator {
    layout: Layout,
    dims: Vec<DimCounts>,
}

/// Where buckets fall: shared by the counts of every dimension of a query.
#[derive(Clone, Copy)]
struct Layout {
    bucket_secs: i64,
    origin: i64,
    dense_len: Option<usize>,
}

type FastMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

#[derive(Default)]
struct DimCounts {
    index: FastMap<Box<str>, usize>,
    keys: Vec<(Box<str>, Buckets)>,
}

enum Buckets {
    Dense(Vec<u64>),
    Sparse(FastMap<i64, u64>),
}

impl DimCounts {
    /// Count `n` at time `t` for `key` (empty: no key).
    fn add(&mut self, layout: &Layout, key: &str, t: i64, n: u64) {
        let k = self.slot(layout, key);
        self.add_at(layout, k, t, n);
    }

    /// The index of `key` (empty: no key) in `keys`, added if new.
    fn slot(&mut self, layout: &Layout, key: &str) -> usize {
        let key = if key.is_empty() { "(none)" } else { key };
        match self.index.get(key) {
            Some(&k) => k,
            None => {
                let b = match layout.dense_len {
                    Some(n) => Buckets::Dense(vec![0; n]),
                    None => Buckets::Sparse(FastMap::default()),
                };
                self.keys.push((key.into(), b));
                self.index.insert(key.into(), self.keys.len() - 1);
                self.keys.len() - 1
            }
        }
    }

    fn add_at(&mut self, layout: &Layout, k: usize, t: i64, n: u64) {
        let bucket = t.div_euclid(layout.bucket_secs) * layout.bucket_secs;
        match &mut self.keys[k].1 {
            Buckets::Dense(v) => {
                if let Some(c) = v.get_mut(((bucket - layout.origin) / layout.bucket_secs) as usize)
                {
                    *c += n;
                }
            }
            Buckets::Sparse(m) => *m.entry(bucket).or_default() += n,
        }
    }

    /// Add the hourly counts of dimension `dim` over `[first_hour, end_hour)`
    /// (both on the hour).
    fn read_hourly(
        &mut self,
        conn: &rusqlite::Connection,
        layout: &Layout,
        dim: SeriesBy,
        first_hour: i64,
        end_hour: i64,
    ) -> Result<(), StoreError> {
        let mut st = conn.prepare_cached(
            "SELECT week, key, counts FROM volume_week WHERE dim = ?1 AND week >= ?2 AND week <= ?3",
        )?;
        let mut rows = st.query(rusqlite::params![
            dim.code(),
            first_hour.div_euclid(WEEK),
            (end_hour - 1).div_euclid(WEEK)
        ])?;
        while let Some(r) = rows.next()? {
            let week_start = r.get::<_, i64>(0)?.saturating_mul(WEEK);
            let key = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or("(invalid)"),
                _ => "",
            };
            let counts = match r.get_ref(2)? {
                rusqlite::types::ValueRef::Blob(b) => crate::rollup::decode(b),
                _ => continue,
            };
            let mut slot = None; // a key with no count in range is no series
            for (h, &n) in counts.iter().enumerate().take(HOURS_PER_WEEK) {
                let t = week_start + h as i64 * HOUR;
                if n > 0 && t >= first_hour && t < end_hour {
                    let k = *slot.get_or_insert_with(|| self.slot(layout, key));
                    self.add_at(layout, k, t, n as u64);
                }
            }
        }
        Ok(())
    }
}

impl Accumulator {
    fn new(dims: usize, bucket_secs: i64, since: Option<i64>, until: Option<i64>) -> Accumulator {
        let origin = since.map(|t| t.div_euclid(bucket_secs) * bucket_secs);
        let dense_len = match (origin, until) {
            (Some(o), Some(u)) if u > o && (u - o) / bucket_secs < 200_000 => {
                Some(((u - o) / bucket_secs + 1) as usize)
            }
            _ => None,
        };
        Accumulator {
            layout: Layout {
                bucket_secs,
                origin: origin.unwrap_or(0),
                dense_len,
            },
            dims: (0..dims).map(|_| DimCounts::default()).collect(),
        }
    }

    /// Count `n` at time `t` for `key` (empty: no key) of dimension `dim`.
    fn add(&mut self, dim: usize, key: &str, t: i64, n: u64) {
        let layout = self.layout;
        self.dims[dim].add(&layout, key, t, n);
    }

    fn finish(self) -> Vec<KeyedBuckets> {
        let (o, w) = (self.layout.origin, self.layout.bucket_secs);
        self.dims
            .into_iter()
            .map(|d| {
                let mut v: KeyedBuckets = d
                    .keys
                    .into_iter()
                    .map(|(k, b)| {
                        let buckets: Vec<(i64, u64)> = match b {
                            Buckets::Dense(v) => v
                                .into_iter()
                                .enumerate()
                                .filter(|(_, c)| *c > 0)
                                .map(|(i, c)| (o + i as i64 * w, c))
                                .collect(),
                            Buckets::Sparse(m) => {
                                let mut b: Vec<(i64, u64)> = m.into_iter().collect();
                                b.sort_unstable();
                                b
                            }
                        };
                        (k.into_string(), buckets)
                    })
                    .collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v
            })
            .collect()
    }
}

/// The series of one dimension: each key with its non-empty buckets
/// `(bucket_start, count)`, keys sorted, buckets ascending.
pub type KeyedBuckets = Vec<(String, Vec<(i64, u64)>)>;

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
    pub fn volume(
        &self,
        by: SeriesBy,
        bucket_secs: i64,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<VolumeCell>, StoreError> {
        let mut out = Vec::new();
        for (key, buckets) in self
            .volume_series(&[by], bucket_secs, since, until)?
            .remove(0)
        {
            out.extend(buckets.into_iter().map(|(bucket, count)| VolumeCell {
                key: key.clone(),
                bucket,
                count,
            }));
        }
        Ok(out)
    }

    /// Spam sightings per bucket for every series of several dimensions at
    /// once. Whole hours come from the hourly counts the store keeps with
    /// every write (`volume_hour`: one row per series and hour); buckets
    /// shorter than an hour, and the partial hours at either end of the
    /// range, come from one pass over the covering time index of the
    /// sightings. For each dimension: `(key, [(bucket_start, count)])`, keys
    /// sorted, buckets ascending.
    pub fn volume_series(
        &self,
        dims: &[SeriesBy],
        bucket_secs: i64,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<KeyedBuckets>, StoreError> {
        let bucket_secs = bucket_secs.max(1);
        let mut acc = Accumulator::new(dims.len(), bucket_secs, since, until);
        let (lo, hi) = (since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX));
        if lo >= hi {
            return Ok(acc.finish());
        }
        if bucket_secs % HOUR == 0 {
            // Each hour lies inside one bucket: whole hours are read from the
            // hourly counts, the ragged ends from the sightings.
            let first_hour = since.map_or(i64::MIN, |t| {
                t.div_euclid(HOUR)
                    .saturating_mul(HOUR)
                    .saturating_add(if t.rem_euclid(HOUR) > 0 { HOUR } else { 0 })
            });
            let end_hour = until.map_or(i64::MAX, |t| t.div_euclid(HOUR) * HOUR);
            if first_hour < end_hour {
                self.read_hourly(dims, first_hour, end_hour, &mut acc)?;
                if lo < first_hour {
                    self.scan_sightings(dims, lo, first_hour, &mut acc)?;
                }
                if end_hour < hi {
                    self.scan_sightings(dims, end_hour, hi, &mut acc)?;
                }
                return Ok(acc.finish());
            }
        }
        self.scan_sightings(dims, lo, hi, &mut acc)?;
        Ok(acc.finish())
    }

    /// Count the spam sightings in `[lo, hi)` one by one, from the covering
    /// time index (no sort, no GROUP BY: one pass serves all dimensions).
    fn scan_sightings(
        &self,
        dims: &[SeriesBy],
        lo: i64,
        hi: i64,
        acc: &mut Accumulator,
    ) -> Result<(), StoreError> {
        let cols: Vec<&str> = dims.iter().map(|d| d.column().0).collect();
        let sql = format!(
            "SELECT seen_at, {} FROM sightings INDEXED BY sightings_spam_seen
             WHERE is_spam = 1 AND seen_at >= ?1 AND seen_at < ?2",
            if cols.is_empty() {
                "1".to_string()
            } else {
                cols.join(", ")
            }
        );
        let mut st = self.connection().prepare_cached(&sql)?;
        let mut rows = st.query(rusqlite::params![lo, hi])?;
        while let Some(r) = rows.next()? {
            let t: i64 = r.get(0)?;
            for i in 0..dims.len() {
                let key = match r.get_ref(i + 1)? {
                    rusqlite::types::ValueRef::Text(t) => {
                        std::str::from_utf8(t).unwrap_or("(invalid)")
                    }
                    _ => "",
                };
                acc.add(i, key, t, 1);
            }
        }
        Ok(())
    }

    /// Add the hourly counts of the hours in `[first_hour, end_hour)`. With
    /// several dimensions and cores, each dimension is read on its own
    /// thread through its own read-only connection (WAL readers do not block
    /// each other); each sees a committed state of the store.
    fn read_hourly(
        &self,
        dims: &[SeriesBy],
        first_hour: i64,
        end_hour: i64,
        acc: &mut Accumulator,
    ) -> Result<(), StoreError> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(dims.len());
        let layout = acc.layout;
        if threads <= 1 {
            for (i, &d) in dims.iter().enumerate() {
                acc.dims[i].read_hourly(self.connection(), &layout, d, first_hour, end_hour)?;
            }
            return Ok(());
        }
        let path = self.dir().join("store.sqlite");
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Result<Vec<(usize, DimCounts)>, StoreError>> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        let (path, next) = (&path, &next);
                        scope.spawn(move || {
                            let conn = rusqlite::Connection::open_with_flags(
                                path,
                                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                            )?;
                            conn.busy_timeout(std::time::Duration::from_secs(30))?;
                            let mut done = Vec::new();
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(&d) = dims.get(i) else { break };
                                let mut counts = DimCounts::default();
                                counts.read_hourly(&conn, &layout, d, first_hour, end_hour)?;
                                done.push((i, counts));
                            }
                            Ok(done)
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().expect("volume reader thread"))
                    .collect()
            });
        for r in results {
            for (i, counts) in r? {
                acc.dims[i] = counts;
            }
        }
        Ok(())
    }

    /// Recompute the hourly counts from the sightings: after writing
    /// sightings by other means than [`crate::Store::put_batch`] (benchmarks,
    /// repairs), or to check them.
    pub fn rebuild_hourly_counts(&mut self) -> Result<(), StoreError> {
        let tx = self.connection_mut().transaction()?;
        crate::rollup::rebuild(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// First and last sighting times of spam, if any.
    pub fn sighting_range(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let r: (Option<i64>, Option<i64>) = self.connection().query_row(
            // Two subqueries: SQLite answers a lone min() or max() from the
            // end of the index, but both in one SELECT scan every row.
            "SELECT (SELECT min(seen_at) FROM sightings INDEXED BY sightings_spam_seen WHERE is_spam = 1),
                    (SELECT max(seen_at) FROM sightings INDEXED BY sightings_spam_seen WHERE is_spam = 1)",
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

    /// Volume as the sightings alone give it (the reference for the hourly counts).
    fn scanned(
        s: &SqliteStore,
        dims: &[SeriesBy],
        bucket: i64,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Vec<KeyedBuckets> {
        let mut acc = Accumulator::new(dims.len(), bucket, since, until);
        s.scan_sightings(
            dims,
            since.unwrap_or(i64::MIN),
            until.unwrap_or(i64::MAX),
            &mut acc,
        )
        .unwrap();
        acc.finish()
    }

    fn hourly_rows(s: &SqliteStore) -> Vec<(i64, i64, String, Vec<u8>)> {
        let mut st = s
            .connection()
            .prepare("SELECT dim, week, key, counts FROM volume_week ORDER BY 1, 2, 3")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn hourly_counts_agree_with_the_sightings() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let base = 1_300_000_000; // not on an hour
        let mut x: u64 = 7;
        let mut next = |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let mut batch = Vec::new();
        for i in 0..600u64 {
            let t = base + next(10 * 86_400) as i64; // two week rows
            let ham = next(5) == 0;
            let a = Analysis {
                sha256: format!("{:064x}", next(400)), // duplicates on purpose
                ..Default::default()
            };
            let env = Envelope {
                source: format!("/mail/{}", next(3)),
                offset: Some(i),
                label: Some(if ham { Label::Ham } else { Label::Spam }),
                ..Default::default()
            };
            let v = Verdicts {
                botnet: (next(4) > 0).then(|| format!("b{}", next(3))),
                campaign: Some(format!("c{}", next(9))),
                kind: Some(["pharmacy", "lottery"][next(2) as usize].into()),
                ..Default::default()
            };
            batch.push(Record::build(b"m", &env, &a, (t, TimeSource::Trap), v));
            if batch.len() == 50 {
                let out = s.put_batch(&batch, &[]).unwrap();
                // The same positions read again add no sighting and no count.
                let again = s.put_batch(&batch, &[]).unwrap();
                assert!(again.iter().all(|o| *o == crate::PutOutcome::AlreadySeen));
                assert!(out.iter().all(|o| *o != crate::PutOutcome::AlreadySeen));
                batch.clear();
            }
        }
        // A re-attribution moves counts from one series to another.
        for m in 0..40u64 {
            let v = Verdicts {
                botnet: Some("renamed".into()),
                campaign: None,
                kind: Some("phishing".into()),
                ..Default::default()
            };
            s.update_verdicts(&format!("{m:064x}"), &v).unwrap();
        }
        let all = [
            SeriesBy::Botnet,
            SeriesBy::Campaign,
            SeriesBy::Kind,
            SeriesBy::Domain,
            SeriesBy::Network,
            SeriesBy::Total,
        ];
        for bucket in [60, 3600, 5400, 7200, 86_400] {
            for (since, until) in [
                (None, None),
                (Some(base), Some(base + 2 * 86_400 + 1234)),
                (Some(base + 3 * 86_400), Some(base + 9 * 86_400)),
                (Some(base + 1800), None),
                (None, Some(base + 3600 * 5)),
                (Some(base + 10), Some(base + 20)),
            ] {
                let fast = s.volume_series(&all, bucket, since, until).unwrap();
                let slow = scanned(&s, &all, bucket, since, until);
                assert_eq!(fast, slow, "bucket {bucket}, range {since:?}..{until:?}");
            }
        }
        let total: u64 = s
            .volume_series(&[SeriesBy::Total], 86_400, None, None)
            .unwrap()[0]
            .iter()
            .flat_map(|(_, b)| b.iter().map(|x| x.1))
            .sum();
        let spam_sightings: i64 = s
            .connection()
            .query_row(
                "SELECT count(*) FROM sightings WHERE is_spam = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(total, spam_sightings as u64);
        assert!(spam_sightings > 300, "{spam_sightings}");
        // What the writes kept equals what a rebuild computes.
        let kept = hourly_rows(&s);
        s.rebuild_hourly_counts().unwrap();
        assert_eq!(kept, hourly_rows(&s));
    }

    #[test]
    fn a_store_from_before_the_hourly_counts_is_upgraded_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let recs: Vec<Record> = (0..20)
            .map(|i| record(i, "rustock", 7200 * i as i64 + 99))
            .collect();
        s.put_batch(&recs, &[]).unwrap();
        let expected = hourly_rows(&s);
        assert_eq!(expected.len(), 6); // one week, one key per dimension
        s.connection()
            .execute_batch(
                "DROP TABLE volume_week; DROP INDEX messages_url_domain; PRAGMA user_version = 2;",
            )
            .unwrap();
        drop(s);
        let s = SqliteStore::open_readonly(dir.path()).unwrap();
        assert_eq!(hourly_rows(&s), expected);
        assert_eq!(
            s.volume(SeriesBy::Botnet, 86_400, None, None).unwrap()[0].count,
            12
        );
    }

    #[test]
    fn a_known_message_found_again_without_a_time_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        s.put_batch(&[record(1, "rustock", 1_300_286_700)], &[])
            .unwrap();
        // The same message in a plain file read later: the pipeline skips its
        // analysis and knows no receive time but the clock of the re-read.
        let a = Analysis {
            sha256: format!("{:064x}", 1),
            ..Default::default()
        };
        let env = Envelope {
            source: "/mail/copy.eml".into(),
            ..Default::default()
        };
        let mut again = Record::build(
            b"",
            &env,
            &a,
            (1_900_000_000, TimeSource::Ingest),
            Verdicts::default(),
        );
        again.raw_zstd.clear();
        let out = s.put_batch(&[again], &[]).unwrap();
        assert_eq!(out, vec![crate::PutOutcome::Duplicate]);
        let sightings = s.sightings(&format!("{:064x}", 1)).unwrap();
        assert_eq!(sightings.len(), 2);
        assert!(
            sightings
                .iter()
                .all(|x| x.seen_at == 1_300_286_700 && x.time_source == "trap"),
            "{sightings:?}"
        );
    }
}
