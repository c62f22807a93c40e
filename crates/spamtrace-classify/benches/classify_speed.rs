//! Single-core classification throughput on the SpamAssassin corpus: the
//! figure issue 3 compares with bogofilter ("parse included").
//!
//! Every message of `spamassassin/full/index` (6,047) is read into memory
//! first, so no I/O is timed. Groups, each reporting messages/s:
//! - `mail_parser_only`: the third-party MIME parser alone (default
//!   configuration), the floor under `analyze`;
//! - `analyze`: raw bytes to [`spamtrace_mail::Analysis`] (MIME parse,
//!   header decoding, HTML to text, URLs, Received chain, SHA-256);
//! - `featurize`: an analysis to its deduplicated hashed slots, shipped
//!   feature set;
//! - `classify`: score, verdict and kind of an already analysed message with
//!   the shipped model;
//! - `analyze_classify`: both, with the full analysis;
//! - `lean_analyze`: raw bytes to the lean analysis
//!   ([`spamtrace_mail::analyze_for_scoring`]: only the fields scoring reads,
//!   no header list, Received chain or SHA-256);
//! - `lean_analyze_classify`: the lean analysis and classification, what
//!   `eval`'s `test_msgs_per_s` and `spamtrace classify` do (the figure
//!   issue 3 compares with bogofilter).
//!
//! Run: `cargo bench -p spamtrace-classify --bench classify_speed`
//! (needs `../shared/corpora`; quiet machine, one thread).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spamtrace_classify::Model;
use spamtrace_classify::eval::{load_messages, read_trec_index};
use spamtrace_classify::features::Slots;
use spamtrace_mail::{Analysis, Limits, TrustedHosts, analyze, analyze_for_scoring};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

/// The allocator of the `spamtrace` binary, so this program measures what
/// `spamtrace eval` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> Vec<Vec<u8>> {
    let index = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/spamassassin/full/index");
    let entries = read_trec_index(&index).unwrap_or_else(|e| {
        panic!(
            "this benchmark needs the SpamAssassin corpus at {}: {e}",
            index.display()
        )
    });
    load_messages(&entries)
        .expect("the corpus files listed in the index are readable")
        .into_iter()
        .map(|(bytes, _)| bytes)
        .collect()
}

fn bench(c: &mut Criterion) {
    let messages = corpus();
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let analyses: Vec<Analysis> = messages
        .iter()
        .map(|m| analyze(m, &limits, &trusted))
        .collect();
    let model = Model::builtin();
    let mut g = c.benchmark_group("spamassassin");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(messages.len() as u64));
    g.bench_function("mail_parser_only", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(mail_parser::MessageParser::default().parse(m.as_slice()));
            }
        })
    });
    g.bench_function("analyze", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(analyze(m, &limits, &trusted));
            }
        })
    });
    let mut slots = Slots::new(model.hash_bits());
    g.bench_function("featurize", |b| {
        b.iter(|| {
            for a in &analyses {
                slots.clear();
                model.featurizer().extract(a, &mut slots);
                black_box(slots.slots.len());
            }
        })
    });
    g.bench_function("classify", |b| {
        b.iter(|| {
            for a in &analyses {
                black_box(model.classify(a));
            }
        })
    });
    g.bench_function("analyze_classify", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(model.classify(&analyze(m, &limits, &trusted)));
            }
        })
    });
    g.bench_function("lean_analyze", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(analyze_for_scoring(m, &limits));
            }
        })
    });
    g.bench_function("lean_analyze_classify", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(model.classify(&model.analyze_for_scoring(m, &limits, &trusted)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
