//! `volume` and `changes` over a store of 1,000,000 spam sightings: the store's
//! volume query (hourly counts kept by the store, sightings only for partial
//! hours), the series built from it, and change detection over every series,
//! as the CLI does them.
//! `cargo bench -p spamtrace-watch --bench store_queries`
//!
//! The store is filled with raw SQL (the pipeline would take minutes to make a
//! million sightings): 30 days, a trap's day/night cycle, 7 botnets, 300
//! campaigns, 10 kinds, 2,000 URL domains and 5,000 /24 networks.

use criterion::{Criterion, criterion_group, criterion_main};
use spamtrace_store::{SeriesBy, SqliteStore};
use spamtrace_watch::synthetic::Rng;
use spamtrace_watch::{DetectParams, Series, detect_changes};
use std::hint::black_box;

const SIGHTINGS: usize = 1_000_000;
const START: i64 = 1_298_937_600;
const DAYS: i64 = 30;

fn fill(store: &mut SqliteStore) {
    let conn = store.connection();
    conn.execute_batch("BEGIN").unwrap();
    conn.execute(
        "INSERT INTO messages (id, sha256, size, received_at, time_source, source) VALUES (1, 'x', 1, ?1, 'trap', 'bench')",
        [START],
    )
    .unwrap();
    let mut st = conn
        .prepare(
            "INSERT INTO sightings (msg, seen_at, time_source, source, is_spam, kind, campaign, botnet, origin_net, url_domain)
             VALUES (1, ?1, 'trap', 'bench', 1, ?2, ?3, ?4, ?5, ?6)",
        )
        .unwrap();
    let mut rng = Rng::new(42);
    let mut inserted = 0;
    while inserted < SIGHTINGS {
        // Day/night cycle by rejection; skewed keys so a few series dominate.
        let t = loop {
            let t = rng.range(0.0, (DAYS * 86_400) as f64);
            let hour = (t / 3600.0) % 24.0;
            if rng.uniform() < 0.6 + 0.4 * (std::f64::consts::PI * hour / 12.0).sin() {
                break START + t as i64;
            }
        };
        let skew = |rng: &mut Rng, n: f64| (n * rng.uniform().powi(3)) as u64;
        let botnet = skew(&mut rng, 7.0);
        // Botnet 0 is taken down on day 15, as a real feed would show.
        if botnet == 0 && t > START + 15 * 86_400 + 52_000 {
            continue;
        }
        st.execute(rusqlite::params![
            t,
            format!("kind-{}", skew(&mut rng, 10.0)),
            format!("c-{:06x}", skew(&mut rng, 300.0)),
            format!("botnet-{botnet}"),
            format!(
                "10.{}.{}.0/24",
                skew(&mut rng, 5000.0) / 256,
                skew(&mut rng, 5000.0) % 256
            ),
            format!("domain{}.example", skew(&mut rng, 2000.0)),
        ])
        .unwrap();
        inserted += 1;
    }
    drop(st);
    conn.execute_batch("COMMIT").unwrap();
    // The pipeline keeps the hourly counts with every write; raw SQL did not.
    store.rebuild_hourly_counts().unwrap();
    store.connection().execute_batch("ANALYZE").unwrap();
}

/// What `spamtrace volume --by BY --bucket 1h` and `changes` compute: one
/// read of the store for all the dimensions asked, series built per key
/// (`changes` skips series with fewer than 20 sightings, as the CLI does).
fn volumes(store: &SqliteStore, dims: &[SeriesBy], min_total: u64) -> Vec<Series> {
    let (first, last) = store.sighting_range().unwrap().unwrap();
    let start = first.div_euclid(3600) * 3600;
    let end = last + 1;
    let mut out = Vec::new();
    for keyed in store
        .volume_series(dims, 3600, Some(start), Some(end), min_total)
        .unwrap()
    {
        for (key, buckets) in keyed {
            let mut s = Series::zeros(key, start, end, 3600);
            for (b, n) in buckets {
                s.add(b, n as f64);
            }
            out.push(s);
        }
    }
    out
}

fn volume(store: &SqliteStore, by: SeriesBy) -> Vec<Series> {
    volumes(store, &[by], 1)
}

/// Detection spread over the cores, as `changes` does it.
fn detect_all(series: &[Series], params: &DetectParams) -> usize {
    let eligible: Vec<&Series> = series.iter().filter(|s| s.total() >= 20.0).collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = eligible.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let hs: Vec<_> = eligible
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| detect_changes(s, params).len())
                        .sum::<usize>()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    fill(&mut store);
    let n: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM sightings", [], |r| r.get(0))
        .unwrap();
    eprintln!("store with {n} sightings");
    let params = DetectParams::default();
    let mut group = c.benchmark_group("1M sightings");
    group.sample_size(10);
    group.bench_function("volume --by botnet --bucket 1h", |b| {
        b.iter(|| black_box(volume(&store, SeriesBy::Botnet)))
    });
    group.bench_function("volume --by network --bucket 1h", |b| {
        b.iter(|| black_box(volume(&store, SeriesBy::Network)))
    });
    group.bench_function("changes --by botnet", |b| {
        b.iter(|| detect_all(&volumes(&store, &[SeriesBy::Botnet], 20), &params))
    });
    let dims = SeriesBy::ALL;
    group.bench_function("series of all six dimensions (scan only)", |b| {
        b.iter(|| black_box(volumes(&store, &dims, 20).len()))
    });
    let all = volumes(&store, &dims, 20);
    eprintln!(
        "{} series, {} with at least 20 sightings",
        all.len(),
        all.iter().filter(|s| s.total() >= 20.0).count()
    );
    group.bench_function("detection on all six dimensions (no scan)", |b| {
        b.iter(|| detect_all(&all, &params))
    });
    group.bench_function("changes (all six dimensions)", |b| {
        b.iter(|| detect_all(&volumes(&store, &dims, 20), &params))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
