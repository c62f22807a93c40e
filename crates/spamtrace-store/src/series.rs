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
    /// Every dimension, in the order views list them.
    pub const ALL: [SeriesBy; 6] = [
        SeriesBy::Botnet,
        SeriesBy::Campaign,
        SeriesBy::Kind,
        SeriesBy::Domain,
        SeriesBy::Network,
        SeriesBy::Total,
    ];

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
/// and per key its non-empty buckets in the order they came (memory grows
/// with what was seen, not with keys times buckets: a botnet's million sender
/// networks are each seen a few times).
struct Accumulator {
    bucket_secs: i64,
    dims: Vec<DimCounts>,
}

type FastMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

#[derive(Default)]
struct DimCounts {
    index: FastMap<Box<str>, usize>,
    keys: Vec<(Box<str>, BucketCounts)>,
}

impl DimCounts {
    /// Count `n` at time `t` for `key` (empty: no key).
    fn add(&mut self, bucket_secs: i64, key: &str, t: i64, n: u64) {
        let k = self.slot(key);
        self.add_at(bucket_secs, k, t, n);
    }

    /// The index of `key` (empty: no key) in `keys`, added if new.
    fn slot(&mut self, key: &str) -> usize {
        let key = if key.is_empty() { "(none)" } else { key };
        match self.index.get(key) {
            Some(&k) => k,
            None => {
                self.keys.push((key.into(), Vec::new()));
                self.index.insert(key.into(), self.keys.len() - 1);
                self.keys.len() - 1
            }
        }
    }

    fn add_at(&mut self, bucket_secs: i64, k: usize, t: i64, n: u64) {
        let bucket = t.div_euclid(bucket_secs) * bucket_secs;
        let buckets = &mut self.keys[k].1;
        match buckets.last_mut() {
            // Rows come in time order per key, so most counts land here.
            Some((b, c)) if *b == bucket => *c += n,
            _ => buckets.push((bucket, n)),
        }
    }

    /// Add one `volume_week` row's counts within `[first_hour, end_hour)`.
    fn add_week(&mut self, bucket_secs: i64, week: i64, key: &str, blob: &[u8], hours: (i64, i64)) {
        let week_start = week.saturating_mul(WEEK);
        let counts = crate::rollup::decode(blob);
        let mut slot = None; // a key with no count in range is no series
        for (h, &n) in counts.iter().enumerate().take(HOURS_PER_WEEK) {
            let t = week_start.saturating_add(h as i64 * HOUR);
            if n > 0 && t >= hours.0 && t < hours.1 {
                let k = *slot.get_or_insert_with(|| self.slot(key));
                self.add_at(bucket_secs, k, t, n as u64);
            }
        }
    }

    /// Add the hourly counts of one key (as stored: '' for none) over
    /// `[first_hour, end_hour)`.
    fn read_key_hours(
        &mut self,
        conn: &rusqlite::Connection,
        bucket_secs: i64,
        dim: SeriesBy,
        key: &str,
        hours: (i64, i64),
    ) -> Result<(), StoreError> {
        let weeks = (hours.0.div_euclid(WEEK), (hours.1 - 1).div_euclid(WEEK));
        let mut st = conn.prepare_cached(
            "SELECT week, counts FROM volume_week INDEXED BY volume_week_by_key
             WHERE dim = ?1 AND key = ?2 AND week >= ?3 AND week <= ?4 ORDER BY week",
        )?;
        let mut rows = st.query(rusqlite::params![dim.code(), key, weeks.0, weeks.1])?;
        while let Some(r) = rows.next()? {
            if let rusqlite::types::ValueRef::Blob(b) = r.get_ref(1)? {
                self.add_week(bucket_secs, r.get(0)?, key, b, hours);
            }
        }
        Ok(())
    }

    /// Add the hourly counts of dimension `dim` over `[first_hour, end_hour)`
    /// (both on the hour); with `min_total` above 1, only of the keys with at
    /// least that many spam sightings in all (looked up one by one).
    fn read_hourly(
        &mut self,
        conn: &rusqlite::Connection,
        bucket_secs: i64,
        dim: SeriesBy,
        hours: (i64, i64),
        min_total: u64,
    ) -> Result<(), StoreError> {
        let weeks = (hours.0.div_euclid(WEEK), (hours.1 - 1).div_euclid(WEEK));
        let text = |v: rusqlite::types::ValueRef<'_>| match v {
            rusqlite::types::ValueRef::Text(t) => {
                std::str::from_utf8(t).unwrap_or("(invalid)").to_string()
            }
            _ => String::new(),
        };
        if min_total > 1 {
            let mut keys_st =
                conn.prepare_cached("SELECT key FROM volume_key WHERE dim = ?1 AND total >= ?2")?;
            let keys: Vec<String> = keys_st
                .query_map(rusqlite::params![dim.code(), min_total as i64], |r| {
                    Ok(text(r.get_ref(0)?))
                })?
                .collect::<Result<_, _>>()?;
            let all: i64 = conn
                .prepare_cached("SELECT count(*) FROM volume_key WHERE dim = ?1")?
                .query_row([dim.code()], |r| r.get(0))?;
            // One lookup per key pays when most keys are left out (a botnet's
            // sender networks); when most are kept, one pass is cheaper.
            if (keys.len() as i64) * 4 < all {
                for key in keys {
                    self.read_key_hours(conn, bucket_secs, dim, &key, hours)?;
                }
                return Ok(());
            }
        }
        let mut st = conn.prepare_cached(
            "SELECT week, key, counts FROM volume_week WHERE dim = ?1 AND week >= ?2 AND week <= ?3",
        )?;
        let mut rows = st.query(rusqlite::params![dim.code(), weeks.0, weeks.1])?;
        while let Some(r) = rows.next()? {
            let key = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or("(invalid)"),
                _ => "",
            };
            if let rusqlite::types::ValueRef::Blob(b) = r.get_ref(2)? {
                self.add_week(bucket_secs, r.get(0)?, key, b, hours);
            }
        }
        Ok(())
    }
}

impl Accumulator {
    fn new(dims: usize, bucket_secs: i64) -> Accumulator {
        Accumulator {
            bucket_secs,
            dims: (0..dims).map(|_| DimCounts::default()).collect(),
        }
    }

    /// Count `n` at time `t` for `key` (empty: no key) of dimension `dim`.
    fn add(&mut self, dim: usize, key: &str, t: i64, n: u64) {
        self.dims[dim].add(self.bucket_secs, key, t, n);
    }

    /// Each dimension's keys sorted, each key's buckets ascending and merged;
    /// keys with fewer than `min_total` sightings in range left out.
    fn finish(self, min_total: u64) -> Vec<KeyedBuckets> {
        self.dims
            .into_iter()
            .map(|d| {
                let mut v: KeyedBuckets = d
                    .keys
                    .into_iter()
                    .filter_map(|(k, mut b)| {
                        merge_buckets(&mut b);
                        let total: u64 = b.iter().map(|x| x.1).sum();
                        (total >= min_total.max(1)).then(|| (k.into_string(), b))
                    })
                    .collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v
            })
            .collect()
    }
}

/// Sort buckets by start and add up the counts of equal starts.
fn merge_buckets(b: &mut BucketCounts) {
    if !b.is_sorted_by_key(|x| x.0) {
        b.sort_unstable();
    }
    b.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 += later.1;
        }
        same
    });
}

/// One series' non-empty buckets `(bucket_start, count)`, ascending.
pub type BucketCounts = Vec<(i64, u64)>;

/// The series of one dimension: each key with its non-empty buckets, keys sorted.
pub type KeyedBuckets = Vec<(String, BucketCounts)>;

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
            .volume_series(&[by], bucket_secs, since, until, 1)?
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
        min_total: u64,
    ) -> Result<Vec<KeyedBuckets>, StoreError> {
        let bucket_secs = bucket_secs.max(1);
        let mut acc = Accumulator::new(dims.len(), bucket_secs);
        let (lo, hi) = (since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX));
        if lo >= hi {
            return Ok(acc.finish(min_total));
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
                self.read_hourly(dims, (first_hour, end_hour), min_total, &mut acc)?;
                if lo < first_hour {
                    self.scan_sightings(dims, lo, first_hour, &mut acc)?;
                }
                if end_hour < hi {
                    self.scan_sightings(dims, end_hour, hi, &mut acc)?;
                }
                return Ok(acc.finish(min_total));
            }
        }
        self.scan_sightings(dims, lo, hi, &mut acc)?;
        Ok(acc.finish(min_total))
    }

    /// The `n` largest series of one dimension (by spam sightings in
    /// `[since, until)`, then by key), largest first: what a table of the top
    /// sender networks needs, without reading the hundreds of thousands seen
    /// once. Keys are visited in order of their all-time totals, which bound
    /// their totals in any range, and the visit stops when no key left can
    /// enter the top `n`.
    pub fn top_series(
        &self,
        by: SeriesBy,
        bucket_secs: i64,
        since: Option<i64>,
        until: Option<i64>,
        n: usize,
    ) -> Result<KeyedBuckets, StoreError> {
        let bucket_secs = bucket_secs.max(1);
        let (lo, hi) = (since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX));
        let first_hour = since.map_or(i64::MIN, |t| {
            t.div_euclid(HOUR)
                .saturating_mul(HOUR)
                .saturating_add(if t.rem_euclid(HOUR) > 0 { HOUR } else { 0 })
        });
        let end_hour = until.map_or(i64::MAX, |t| t.div_euclid(HOUR) * HOUR);
        let rank = |v: &mut KeyedBuckets| {
            let total = |b: &[(i64, u64)]| b.iter().map(|x| x.1).sum::<u64>();
            v.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then_with(|| a.0.cmp(&b.0)));
        };
        if n == 0 || lo >= hi || bucket_secs % HOUR != 0 || first_hour >= end_hour {
            let mut all = self
                .volume_series(&[by], bucket_secs, since, until, 1)?
                .remove(0);
            rank(&mut all);
            all.truncate(n);
            return Ok(all);
        }
        // The ragged ends, for every key at once (at most two hours).
        let mut edges = Accumulator::new(1, bucket_secs);
        if lo < first_hour {
            self.scan_sightings(&[by], lo, first_hour, &mut edges)?;
        }
        if end_hour < hi {
            self.scan_sightings(&[by], end_hour, hi, &mut edges)?;
        }
        let mut edges: FastMap<String, Vec<(i64, u64)>> =
            edges.finish(1).remove(0).into_iter().collect();
        let mut keys = self.connection().prepare_cached(
            "SELECT key, total FROM volume_key INDEXED BY volume_key_total
             WHERE dim = ?1 AND total > 0 ORDER BY total DESC",
        )?;
        let mut keys = keys.query([by.code()])?;
        let mut best: Vec<(u64, String, BucketCounts)> = Vec::with_capacity(n + 1);
        while let Some(r) = keys.next()? {
            let bound = r.get::<_, i64>(1)?.max(0) as u64;
            if best.len() == n && best.last().is_some_and(|w| w.0 > bound) {
                break;
            }
            let stored: String = r.get(0)?;
            let mut counts = DimCounts::default();
            counts.read_key_hours(
                self.connection(),
                bucket_secs,
                by,
                &stored,
                (first_hour, end_hour),
            )?;
            let key = if stored.is_empty() {
                "(none)"
            } else {
                stored.as_str()
            };
            let mut buckets = counts.keys.pop().map(|k| k.1).unwrap_or_default();
            if let Some(e) = edges.remove(key) {
                buckets.extend(e);
                merge_buckets(&mut buckets);
            }
            let total: u64 = buckets.iter().map(|x| x.1).sum();
            if total == 0 {
                continue;
            }
            let at = best.partition_point(|w| {
                (w.0, std::cmp::Reverse(&w.1)) > (total, std::cmp::Reverse(&key.to_string()))
            });
            best.insert(at, (total, key.to_string(), buckets));
            best.truncate(n);
        }
        Ok(best.into_iter().map(|(_, k, b)| (k, b)).collect())
    }

    /// How many series of a dimension hold spam sightings (over all time).
    pub fn series_count(&self, by: SeriesBy) -> Result<u64, StoreError> {
        Ok(self.connection().query_row(
            "SELECT count(*) FROM volume_key WHERE dim = ?1 AND total > 0",
            [by.code()],
            |r| r.get::<_, i64>(0),
        )? as u64)
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
        hours: (i64, i64),
        min_total: u64,
        acc: &mut Accumulator,
    ) -> Result<(), StoreError> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(dims.len());
        let bucket_secs = acc.bucket_secs;
        if threads <= 1 {
            for (i, &d) in dims.iter().enumerate() {
                acc.dims[i].read_hourly(self.connection(), bucket_secs, d, hours, min_total)?;
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
                            crate::sqlite::read_tuning(&conn)?;
                            let mut done = Vec::new();
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(&d) = dims.get(i) else { break };
                                let mut counts = DimCounts::default();
                                counts.read_hourly(&conn, bucket_secs, d, hours, min_total)?;
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
        let mut acc = Accumulator::new(dims.len(), bucket);
        s.scan_sightings(
            dims,
            since.unwrap_or(i64::MIN),
            until.unwrap_or(i64::MAX),
            &mut acc,
        )
        .unwrap();
        acc.finish(1)
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
        let all = SeriesBy::ALL;
        for bucket in [60, 3600, 5400, 7200, 86_400] {
            for (since, until) in [
                (None, None),
                (Some(base), Some(base + 2 * 86_400 + 1234)),
                (Some(base + 3 * 86_400), Some(base + 9 * 86_400)),
                (Some(base + 1800), None),
                (None, Some(base + 3600 * 5)),
                (Some(base + 10), Some(base + 20)),
            ] {
                let fast = s.volume_series(&all, bucket, since, until, 1).unwrap();
                let slow = scanned(&s, &all, bucket, since, until);
                assert_eq!(fast, slow, "bucket {bucket}, range {since:?}..{until:?}");
                // Only the larger series: the same counts for those.
                let big = s.volume_series(&all, bucket, since, until, 12).unwrap();
                let expected: Vec<KeyedBuckets> = slow
                    .iter()
                    .map(|keyed| {
                        keyed
                            .iter()
                            .filter(|(_, b)| b.iter().map(|x| x.1).sum::<u64>() >= 12)
                            .cloned()
                            .collect()
                    })
                    .collect();
                assert_eq!(
                    big, expected,
                    "min 12, bucket {bucket}, {since:?}..{until:?}"
                );
                // The largest few, found without reading the rest.
                for (i, &by) in all.iter().enumerate() {
                    for n in [1, 2, 3, 50] {
                        let mut ranked = slow[i].clone();
                        let total = |b: &[(i64, u64)]| b.iter().map(|x| x.1).sum::<u64>();
                        ranked.sort_by(|a, b| {
                            total(&b.1).cmp(&total(&a.1)).then_with(|| a.0.cmp(&b.0))
                        });
                        ranked.truncate(n);
                        let top = s.top_series(by, bucket, since, until, n).unwrap();
                        assert_eq!(
                            top, ranked,
                            "top {n} {by:?} bucket {bucket}, {since:?}..{until:?}"
                        );
                    }
                }
            }
        }
        let total: u64 = s
            .volume_series(&[SeriesBy::Total], 86_400, None, None, 1)
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
        let totals = |s: &SqliteStore| -> Vec<(i64, String, i64)> {
            let mut st = s
                .connection()
                .prepare("SELECT dim, key, total FROM volume_key WHERE total > 0 ORDER BY 1, 2")
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let (kept, kept_totals) = (hourly_rows(&s), totals(&s));
        s.rebuild_hourly_counts().unwrap();
        assert_eq!(kept, hourly_rows(&s));
        assert_eq!(kept_totals, totals(&s));
        assert!(kept_totals.iter().any(|t| t.1 == "renamed"));
    }

    #[test]
    fn a_few_large_series_among_many_small_ones_are_read_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let mut recs: Vec<Record> = (0..30)
            .map(|i| record(i, "big", 1_300_000_000 + 1000 * i as i64))
            .collect();
        recs.extend(
            (30..50).map(|i| record(i, &format!("small{i}"), 1_300_000_000 + 7 * i as i64)),
        );
        s.put_batch(&recs, &[]).unwrap();
        let (since, until) = (Some(1_299_999_999), Some(1_300_020_001));
        let got = s
            .volume_series(&[SeriesBy::Botnet], 3600, since, until, 5)
            .unwrap();
        let mut want = scanned(&s, &[SeriesBy::Botnet], 3600, since, until);
        want[0].retain(|(k, _)| k == "big");
        assert_eq!(got, want);
        assert_eq!(got[0][0].1.iter().map(|x| x.1).sum::<u64>(), 21);
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
                "DROP TABLE volume_week; DROP TABLE volume_key; DROP INDEX messages_url_domain; PRAGMA user_version = 2;",
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
