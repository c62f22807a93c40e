//! Hourly spam counts per series, kept by the store with every write so that
//! volume and change queries read one row per series and week instead of
//! every sighting: a month of a sender network seen once an hour is five rows,
//! not 720 sightings.
//!
//! Table `volume_week`: `(dim, week, key) -> counts`, where `counts` holds
//! [`HOURS_PER_WEEK`] little-endian `u32`s, the spam sightings of each hour
//! of the week (`week` = Unix seconds / [`WEEK`], hours from the week's
//! start). Table `volume_key`: `(dim, key) -> total` over all time. `dim` is
//! [`crate::SeriesBy::code`]; a missing key is stored as ''.

use crate::StoreError;
use rusqlite::{OptionalExtension, params};
use rustc_hash::FxHashMap;

/// Seconds in an hour, the rollup's resolution.
pub(crate) const HOUR: i64 = 3600;
/// Seconds in a rollup row.
pub(crate) const WEEK: i64 = 7 * 86_400;
/// Hours in a rollup row.
pub(crate) const HOURS_PER_WEEK: usize = (WEEK / HOUR) as usize;

/// The keys of a sighting, in dimension order botnet, campaign, kind, URL
/// domain, network (the total, dimension 5, is implied).
pub(crate) type SightingKeys<'a> = [Option<&'a str>; 5];

/// Changes to the hourly counts gathered over one transaction and written
/// once per (dimension, week, key): a batch of trap mail touches few weeks.
#[derive(Default)]
pub(crate) struct HourlyCounts {
    delta: FxHashMap<(u8, i64, String), Box<[i64; HOURS_PER_WEEK]>>,
}

impl HourlyCounts {
    /// Count `n` (negative: remove) spam sightings at `t` with these keys.
    pub(crate) fn add(&mut self, t: i64, keys: SightingKeys<'_>, n: i64) {
        let week = t.div_euclid(WEEK);
        let hour = (t.rem_euclid(WEEK) / HOUR) as usize;
        let all = [keys[0], keys[1], keys[2], keys[3], keys[4], Some("all")];
        for (dim, key) in all.into_iter().enumerate() {
            self.delta
                .entry((dim as u8, week, key.unwrap_or("").to_string()))
                .or_insert_with(|| Box::new([0; HOURS_PER_WEEK]))[hour] += n;
        }
    }

    /// Apply the changes in the caller's transaction.
    pub(crate) fn write(self, tx: &rusqlite::Connection) -> Result<(), StoreError> {
        if self.delta.is_empty() {
            return Ok(());
        }
        let mut get = tx.prepare_cached(
            "SELECT counts FROM volume_week WHERE dim = ?1 AND week = ?2 AND key = ?3",
        )?;
        let mut put = tx.prepare_cached(
            "INSERT INTO volume_week (dim, week, key, counts) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (dim, week, key) DO UPDATE SET counts = excluded.counts",
        )?;
        let mut delete =
            tx.prepare_cached("DELETE FROM volume_week WHERE dim = ?1 AND week = ?2 AND key = ?3")?;
        let mut totals: FxHashMap<(u8, &str), i64> = FxHashMap::default();
        for ((dim, _, key), delta) in &self.delta {
            *totals.entry((*dim, key.as_str())).or_default() += delta.iter().sum::<i64>();
        }
        let mut add_total = tx.prepare_cached(
            "INSERT INTO volume_key (dim, key, total) VALUES (?1, ?2, max(?3, 0))
             ON CONFLICT (dim, key) DO UPDATE SET total = max(total + excluded.total, 0)",
        )?;
        let mut sub_total = tx.prepare_cached(
            "UPDATE volume_key SET total = max(total + ?3, 0) WHERE dim = ?1 AND key = ?2",
        )?;
        for ((dim, key), n) in totals {
            match n {
                0 => {}
                n if n > 0 => {
                    add_total.execute(params![dim, key, n])?;
                }
                n => {
                    sub_total.execute(params![dim, key, n])?;
                }
            }
        }
        drop((add_total, sub_total));
        for ((dim, week, key), delta) in self.delta {
            let old: Option<Vec<u8>> = get
                .query_row(params![dim, week, key], |r| r.get(0))
                .optional()?;
            let mut counts = old.map(|b| decode(&b)).unwrap_or([0; HOURS_PER_WEEK]);
            for (c, d) in counts.iter_mut().zip(delta.iter()) {
                *c = (*c as i64 + d).clamp(0, u32::MAX as i64) as u32;
            }
            if counts.iter().all(|&c| c == 0) {
                delete.execute(params![dim, week, key])?;
            } else {
                put.execute(params![dim, week, key, encode(&counts)])?;
            }
        }
        Ok(())
    }
}

/// Recompute every row from the spam sightings (replacing what is there).
pub(crate) fn rebuild(tx: &rusqlite::Connection) -> Result<(), StoreError> {
    tx.execute("DELETE FROM volume_week", [])?;
    tx.execute("DELETE FROM volume_key", [])?;
    let mut counts = HourlyCounts::default();
    {
        let mut st = tx.prepare(
            "SELECT seen_at, botnet, campaign, kind, url_domain, origin_net
             FROM sightings INDEXED BY sightings_spam_seen WHERE is_spam = 1",
        )?;
        let mut rows = st.query([])?;
        let mut pending = 0;
        while let Some(r) = rows.next()? {
            let key = |i: usize| -> rusqlite::Result<Option<&str>> {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).ok(),
                    _ => None,
                })
            };
            counts.add(r.get(0)?, [key(1)?, key(2)?, key(3)?, key(4)?, key(5)?], 1);
            pending += 1;
            // Written in slices (each merges with what is stored), so a store
            // of a million sender networks is rebuilt in bounded memory.
            if pending == REBUILD_SLICE {
                std::mem::take(&mut counts).write(tx)?;
                pending = 0;
            }
        }
    }
    counts.write(tx)
}

/// Sightings counted in memory before a rebuild writes them out.
const REBUILD_SLICE: usize = if cfg!(test) { 7 } else { 20_000 };

/// The counts of a stored row; a short or long blob (never written so) is
/// read as far as it goes.
pub(crate) fn decode(blob: &[u8]) -> [u32; HOURS_PER_WEEK] {
    let mut out = [0; HOURS_PER_WEEK];
    for (o, c) in out.iter_mut().zip(blob.chunks_exact(4)) {
        *o = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    out
}

fn encode(counts: &[u32; HOURS_PER_WEEK]) -> Vec<u8> {
    counts.iter().flat_map(|c| c.to_le_bytes()).collect()
}
