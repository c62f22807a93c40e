//! Detector throughput: one month of hourly buckets (720) of a spiky series
//! with a takedown, and one month of minute buckets.
//! `cargo bench -p spamtrace-watch --bench detect`

use criterion::{Criterion, criterion_group, criterion_main};
use spamtrace_watch::synthetic::Scenario;
use spamtrace_watch::{DetectParams, detect_changes};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let params = DetectParams::default();
    let profile = Scenario::SpikyTakedown.profile(1);
    let hourly = profile.generate("botnet:x", 1, 0, 30.0 * 24.0, 3600);
    let minutes = profile.generate("botnet:x", 1, 0, 30.0 * 24.0, 60);
    c.bench_function("detect_changes 30 days x 1h", |b| {
        b.iter(|| detect_changes(black_box(&hourly), &params))
    });
    c.bench_function("detect_changes 30 days x 1m", |b| {
        b.iter(|| detect_changes(black_box(&minutes), &params))
    });
    let quiet = Scenario::SpikyNoChange
        .profile(1)
        .generate("botnet:y", 1, 0, 30.0 * 24.0, 3600);
    c.bench_function("generate+detect 30 days x 1h (spiky, no change)", |b| {
        b.iter(|| detect_changes(black_box(&quiet), &params))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
