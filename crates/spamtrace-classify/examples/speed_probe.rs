//! Speed probe (a tool for speed work, not a benchmark): per-stage thread
//! CPU time per message on the SpamAssassin test half, best of REPS rounds,
//! stages interleaved round by round so that they see the same machine load.
//!
//!     cargo run -p spamtrace-classify --release --example speed_probe -- \
//!         ../shared/corpora/spamassassin/full/index stage,stage,...   (or `all`)
//!
//! Special stages: `fingerprint` (with ALL=1: one hash over every feature,
//! slot and description, of every message under every feature group; equal
//! before and after a change means the change is invisible to the model),
//! `one_pass`, `first_use`, `stats`. Instructions a scored message, which do
//! not drift with a shared machine's speed (the README's figures):
//!
//!     REPS=1 valgrind --tool=cachegrind --cache-sim=no target/release/examples/speed_probe INDEX lean_classify
//!     REPS=3 valgrind ... (the same)
//!
//! and divide the difference of the two totals by 2 x 3,024.
use spamtrace_classify::Model;
use spamtrace_classify::eval::{load_messages, read_trec_index};
use spamtrace_classify::features::{Sink, Slots, slot_of};
use spamtrace_mail::{Analysis, Limits, TrustedHosts, analyze, analyze_for_scoring};
use std::hint::black_box;

/// The allocator of the `spamtrace` binary, so this program measures what
/// `spamtrace eval` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn cpu() -> f64 {
    let mut ts = Ts(0, 0);
    // SAFETY: CLOCK_THREAD_CPUTIME_ID (3) into a timespec-shaped struct.
    unsafe { clock_gettime(3, &mut ts) };
    ts.0 as f64 + ts.1 as f64 * 1e-9
}
#[repr(C)]
struct Ts(i64, i64);
unsafe extern "C" {
    fn clock_gettime(clk: i32, ts: *mut Ts) -> i32;
}

struct NoDedup(Vec<u32>, u32);
impl Sink for NoDedup {
    #[inline]
    fn add(&mut self, hash: u64, _d: impl FnOnce() -> String) {
        self.0.push(slot_of(hash, self.1));
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

fn main() {
    let idx = std::env::args()
        .nth(1)
        .expect("usage: speed_probe INDEX [stage,stage,...|all]");
    let what = std::env::args().nth(2).unwrap_or("all".into());
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let e = read_trec_index(std::path::Path::new(&idx)).expect("a readable TREC index");
    let msgs = load_messages(&e).expect("the index's messages");
    // The test half of the split (as `eval` scores it), or every message with ALL=1.
    let from = if std::env::var("ALL").is_ok() {
        0
    } else {
        3023
    };
    let test: Vec<&[u8]> = msgs[from..].iter().map(|(b, _)| b.as_slice()).collect();
    // The shipped model, or with TRAINED=1 one trained as `eval` trains
    // it (current default configuration) on the first half.
    let model = if std::env::var("TRAINED").is_ok() {
        spamtrace_classify::eval::train_calibrated(&msgs[..3023], Default::default())
    } else {
        Model::builtin()
    };
    let (l, t) = (Limits::default(), TrustedHosts::default());
    // Close to the scoring configuration (`analyze_for_scoring`'s own parser
    // also decodes the mailing-list fields), for the parser's share alone.
    let lean_parser = mail_parser::MessageParser::new()
        .with_mime_headers()
        .header_text(mail_parser::HeaderName::Subject)
        .header_address(mail_parser::HeaderName::From)
        .header_date(mail_parser::HeaderName::Date)
        .header_date(mail_parser::HeaderName::ResentDate)
        .default_header_ignore();
    let an: Vec<Analysis> = test.iter().map(|m| analyze(m, &l, &t)).collect();
    if what == "one_pass" {
        // One pass, as `eval` times it: wall clock and thread CPU time.
        for _ in 0..3 {
            let (w0, c0) = (std::time::Instant::now(), cpu());
            for m in &test {
                black_box(model.classify(&model.analyze_for_scoring(m, &l, &t)));
            }
            let (w, c) = (w0.elapsed().as_secs_f64(), cpu() - c0);
            println!(
                "one pass: wall {:.0} msg/s, cpu {:.0} msg/s",
                test.len() as f64 / w,
                test.len() as f64 / c
            );
        }
        return;
    }
    if what == "first_use" {
        // One-time costs a single timed pass (as `eval` makes) pays.
        let c0 = cpu();
        black_box(spamtrace_classify::detect_kind(&an[0]));
        println!(
            "first detect_kind (builds the lexicon automata): {:.1} ms",
            (cpu() - c0) * 1e3
        );
        let c0 = cpu();
        black_box(analyze_for_scoring(test[0], &l));
        println!("first lean analysis: {:.1} ms", (cpu() - c0) * 1e3);
        let c0 = cpu();
        black_box(model.classify(&an[0]));
        println!("first classify: {:.1} ms", (cpu() - c0) * 1e3);
        return;
    }
    if what == "fingerprint" {
        // Every feature (slot and description) of every message of the
        // index, under every group: equal before and after a change to
        // the featurizer means the change is byte-identical.
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let all: Vec<Analysis> = msgs.iter().map(|(m, _)| analyze(m, &l, &t)).collect();
        for set in [
            spamtrace_classify::features::FeatureSet::ALL,
            spamtrace_classify::features::FeatureSet::DEFAULT,
        ] {
            let f = spamtrace_classify::features::Featurizer::new(set);
            for a in &all {
                let mut d = spamtrace_classify::features::Describe::new(20);
                f.extract(a, &mut d);
                d.features.hash(&mut h);
                let mut s = Slots::new(20);
                f.extract(a, &mut s);
                s.slots.hash(&mut h);
            }
        }
        println!(
            "fingerprint {:016x} over {} messages",
            h.finish(),
            all.len()
        );
        return;
    }
    if what == "stats" {
        let n = an.len() as f64;
        let slots: usize = an.iter().map(|a| model.slots_of(a).len()).sum();
        let text: usize = an.iter().map(|a| a.text.len()).sum();
        let spam = an
            .iter()
            .filter(|a| model.classify(a).kind.is_some())
            .count();
        println!(
            "avg slots {:.0}, avg text {:.0} bytes, spam verdicts {spam}/{}",
            slots as f64 / n,
            text as f64 / n,
            an.len()
        );
        return;
    }
    let mut slots = Slots::new(model.hash_bits());
    let mut nd = NoDedup(Vec::with_capacity(20000), 64 - model.hash_bits());
    type Stage<'a> = (&'static str, Box<dyn FnMut(usize) + 'a>);
    let mut stages: Vec<Stage> = vec![
        (
            "mailparser_default",
            Box::new(|i| {
                black_box(mail_parser::MessageParser::default().parse(test[i]));
            }),
        ),
        (
            "mailparser_lean",
            Box::new(|i| {
                black_box(lean_parser.parse(test[i]));
            }),
        ),
        (
            "sha256",
            Box::new(|i| {
                black_box(spamtrace_mail::sha256_hex(test[i]));
            }),
        ),
        (
            "analyze",
            Box::new(|i| {
                black_box(analyze(test[i], &l, &t));
            }),
        ),
        (
            "lean",
            Box::new(|i| {
                black_box(analyze_for_scoring(test[i], &l));
            }),
        ),
        (
            "analyze_classify",
            Box::new(|i| {
                black_box(model.classify(&analyze(test[i], &l, &t)));
            }),
        ),
        (
            "lean_classify",
            Box::new(|i| {
                black_box(model.classify(&model.analyze_for_scoring(test[i], &l, &t)));
            }),
        ),
        (
            "classify_only",
            Box::new(|i| {
                black_box(model.classify(&an[i]));
            }),
        ),
        (
            "log_odds",
            Box::new(|i| {
                black_box(model.log_odds(&an[i]));
            }),
        ),
        (
            "featurize",
            Box::new(|i| {
                slots.clear();
                model.featurizer().extract(&an[i], &mut slots);
                black_box(slots.slots.len());
            }),
        ),
        (
            "featurize_nodedup",
            Box::new(|i| {
                nd.0.clear();
                model.featurizer().extract(&an[i], &mut nd);
                black_box(nd.0.len());
            }),
        ),
        (
            "kind",
            Box::new(|i| {
                black_box(spamtrace_classify::detect_kind(&an[i]));
            }),
        ),
    ];
    let wanted: Vec<&str> = what.split(',').collect();
    stages.retain(|(n, _)| what == "all" || wanted.contains(n));
    let mut best = vec![f64::MAX; stages.len()];
    for _ in 0..reps {
        for (k, (_, f)) in stages.iter_mut().enumerate() {
            let c0 = cpu();
            for i in 0..test.len() {
                f(i);
            }
            best[k] = best[k].min(cpu() - c0);
        }
    }
    for (k, (name, _)) in stages.iter().enumerate() {
        println!(
            "{name:20} {:8.0} msg/s {:6.1} us",
            test.len() as f64 / best[k],
            best[k] * 1e6 / test.len() as f64
        );
    }
}
