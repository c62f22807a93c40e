//! Build the shipped kind model (`model/kinds.bin`) from the dev half of the
//! labelled kind set.
//!
//! cargo run -p spamtrace-classify --release --example build_kind_model -- \
//!     ../shared/corpora crates/spamtrace-classify/model/kinds.bin
//!
//! Training data: the messages of `kinds-eval.tsv` whose SHA-256 starts with
//! 0-7 (the dev half, 242 messages), found by reading the folders the set
//! was drawn from in `read_paths` order, each once. The test half (8-f) is
//! never read for training: it is what `tests/kinds_eval.rs` measures.
//! Deterministic: the same corpora give the same file.
use sha2::{Digest, Sha256};
use spamtrace_classify::kind_model::{FEATURE_BITS, KindExample};
use spamtrace_classify::{KindModel, ScamKind, kind_evidence};
use spamtrace_mail::{Limits, TrustedHosts, analyze};
use spamtrace_source::{SourceItem, SourceOptions, read_paths};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// The folders `kinds-eval.tsv` was drawn from, in the order it lists them.
const DRAWN_FROM: &[&str] = &[
    "spamassassin/spam",
    "spamassassin/spam_2",
    "phishing-nazario",
    "modern-spam",
    "fixtures/spamassassin/spam",
];

fn main() {
    let usage = "usage: build_kind_model CORPORA_DIR OUT_FILE";
    let args: Vec<String> = std::env::args().collect();
    let corpora = PathBuf::from(args.get(1).expect(usage));
    let out = PathBuf::from(args.get(2).expect(usage));
    let set =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kinds-eval.tsv"))
            .expect("kinds-eval.tsv is in the crate");
    let mut dev: HashMap<String, ScamKind> = HashMap::new();
    for line in set
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let sha = cols[0].to_ascii_lowercase();
        if matches!(sha.as_bytes()[0], b'0'..=b'7') {
            dev.insert(sha, ScamKind::parse(cols[1]).expect("a kind name"));
        }
    }
    let roots: Vec<PathBuf> = DRAWN_FROM.iter().map(|d| corpora.join(d)).collect();
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let featurizer = KindModel::featurizer();
    let mut seen = HashSet::new();
    let mut found: Vec<(Vec<u32>, [u32; 10], ScamKind)> = Vec::new();
    for item in read_paths(&roots, &SourceOptions::default()) {
        let SourceItem::Message(m) = item else {
            continue;
        };
        let sha: String = Sha256::digest(&m.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let Some(&kind) = dev.get(&sha) else {
            continue;
        };
        if !seen.insert(sha) {
            continue;
        }
        let a = analyze(&m.bytes, &limits, &trusted);
        let mut slots = spamtrace_classify::features::Slots::new(FEATURE_BITS);
        featurizer.extract(&a, &mut slots);
        found.push((slots.slots, kind_evidence(&a, false).scores, kind));
    }
    assert_eq!(
        found.len(),
        dev.len(),
        "every dev message of kinds-eval.tsv must be found under {}",
        corpora.display()
    );
    let examples: Vec<KindExample<'_>> = found
        .iter()
        .map(|(slots, lexicon, kind)| KindExample {
            slots,
            lexicon: *lexicon,
            kind: *kind,
        })
        .collect();
    let model = KindModel::train(&examples);
    let bytes = model.to_bytes();
    std::fs::write(&out, &bytes).expect("writable output");
    println!(
        "trained on {} dev-half messages; wrote {} ({} KB)",
        examples.len(),
        out.display(),
        bytes.len() / 1024
    );
}
