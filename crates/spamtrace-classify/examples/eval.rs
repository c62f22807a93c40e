//! The `spamtrace eval` split evaluation as a standalone program, so the
//! peer benchmark can run it with a release build of this crate alone.
//! Also writes each test message's score (`--scores FILE`: `path<TAB>log_odds`).
//!
//! cargo run -p spamtrace-classify --release --example eval -- \
//!     --index INDEX [--split 0.5] [--roc FILE] [--scores FILE] [--token-model]
//!     [--features SET] [--no-idf] [--idf-power P] [--online]
//!
//! `--online` runs the TREC protocol instead (every message scored, then
//! learnt with its true label; without IDF, as `spamtrace eval --online`),
//! and `--scores` then lists every message.
use spamtrace_classify::eval::{
    RocSeries, evaluate_online, evaluate_split_with, load_messages, read_trec_index, roc_svg,
};
use spamtrace_classify::features::FeatureSet;
use spamtrace_classify::{ModelConfig, TokenModelConfig};
use std::io::Write;

/// The allocator of the `spamtrace` binary, so this program measures what
/// `spamtrace eval` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let index = get("--index").expect("--index INDEX is required");
    let split: f64 = get("--split")
        .map(|s| s.parse().expect("--split takes a number"))
        .unwrap_or(0.5);
    let entries = read_trec_index(index.as_ref()).expect("readable index");
    let messages = load_messages(&entries).expect("readable messages");
    // `--token-model`: add the Robinson/Fisher token model to the hinge
    // model (the ensemble measured in the README; off by default).
    let tokens = args
        .iter()
        .any(|a| a == "--token-model")
        .then_some(TokenModelConfig::DEFAULT);
    // `--features SET` and `--no-idf`, as `spamtrace eval` has them: the
    // configurations compared in the README.
    let mut config = ModelConfig::default();
    if let Some(set) = get("--features") {
        config.features = FeatureSet::parse(&set).expect("--features: groups joined by +");
    }
    if args.iter().any(|a| a == "--no-idf") {
        config.idf = false;
    }
    if let Some(p) = get("--idf-power") {
        config.idf_power = p.parse().expect("--idf-power takes a number");
    }
    let online = args.iter().any(|a| a == "--online");
    let (_, report, scored) = match online {
        true => evaluate_online(&messages, config),
        false => evaluate_split_with(&messages, split, config, tokens),
    };
    let n_train = messages.len() - scored.len();
    if let Some(path) = get("--scores") {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        for (e, s) in entries[n_train..].iter().zip(&scored) {
            writeln!(
                f,
                "{}\t{}\t{}",
                e.path.display(),
                s.log_odds,
                s.verdict.as_str()
            )
            .unwrap();
        }
    }
    if let Some(path) = get("--roc") {
        let pts = scored.iter().map(|s| (s.log_odds as f64, s.spam)).collect();
        std::fs::write(
            path,
            roc_svg(
                "spamtrace split",
                &[RocSeries {
                    name: "spamtrace".into(),
                    points: pts,
                }],
            ),
        )
        .unwrap();
    }
    println!("{}", serde_json::to_string(&report).unwrap());
}
