//! The labelled kind set `kinds-eval.tsv` (issue 3, "Scam kinds"): its
//! labels, the corpus folders it was drawn from, its dev/test halves, and
//! the per-kind table its users print. Shared by `tests/kinds_eval.rs` and
//! the `build_kind_model` and `kinds_learned` examples.
#![allow(dead_code)] // each user takes what it needs

use sha2::{Digest, Sha256};
use spamtrace_classify::ScamKind;
use spamtrace_source::{SourceItem, SourceOptions, read_paths};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The folders under the corpora root the set was drawn from.
pub const DRAWN_FROM: &[&str] = &[
    "spamassassin/spam",
    "spamassassin/spam_2",
    "phishing-nazario",
    "modern-spam",
    "fixtures/spamassassin/spam",
];

/// Whether a message (by its hex SHA-256) is in the dev half (first hex
/// digit 0-7): the half the lexicon may be tuned on and the kind model is
/// trained on; the rest is the test half.
pub fn is_dev(sha256: &str) -> bool {
    matches!(sha256.as_bytes()[0], b'0'..=b'7')
}

/// Every message of the folders under `corpora` the set was drawn from,
/// each once, in `read_paths` order: (hex SHA-256, bytes).
pub fn drawn_messages(corpora: &Path) -> impl Iterator<Item = (String, Vec<u8>)> {
    let roots: Vec<_> = DRAWN_FROM.iter().map(|d| corpora.join(d)).collect();
    let mut seen = HashSet::new();
    read_paths(&roots, &SourceOptions::default()).filter_map(move |item| {
        let SourceItem::Message(m) = item else {
            return None;
        };
        let sha = to_hex(&Sha256::digest(&m.bytes));
        seen.insert(sha.clone()).then_some((sha, m.bytes))
    })
}

/// One labelled message.
pub struct Labelled {
    pub sha256: String,
    pub kind: ScamKind,
    pub source: String,
}

/// The set's labels, checked (well-formed, no duplicates, canonical names).
pub fn load_set() -> Vec<Labelled> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("kinds-eval.tsv");
    let text = std::fs::read_to_string(&path).expect("kinds-eval.tsv is in the crate");
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() >= 3,
            "line {}: expected sha256, kind, source",
            n + 1
        );
        let sha256 = cols[0].to_ascii_lowercase();
        assert!(
            sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
            "line {}: bad sha256 {:?}",
            n + 1,
            cols[0]
        );
        assert!(seen.insert(sha256.clone()), "line {}: duplicate", n + 1);
        let kind = ScamKind::parse(cols[1])
            .unwrap_or_else(|| panic!("line {}: unknown kind {:?}", n + 1, cols[1]));
        // Only the canonical names belong in the file.
        assert_eq!(
            kind.as_str(),
            cols[1],
            "line {}: use the as_str name",
            n + 1
        );
        out.push(Labelled {
            sha256,
            kind,
            source: cols[2].to_string(),
        });
    }
    out
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Confusion counts: (truth, predicted) -> n.
pub type Confusion = HashMap<(ScamKind, ScamKind), usize>;

/// Of `kind`: (right, predicted, labelled).
pub fn kind_counts(conf: &Confusion, kind: ScamKind) -> (usize, usize, usize) {
    let (mut predicted, mut labelled) = (0, 0);
    for (&(truth, pred), &n) in conf {
        labelled += if truth == kind { n } else { 0 };
        predicted += if pred == kind { n } else { 0 };
    }
    let right = conf.get(&(kind, kind)).copied().unwrap_or(0);
    (right, predicted, labelled)
}

/// (right, total).
pub fn accuracy(conf: &Confusion) -> (usize, usize) {
    let right = ScamKind::ALL.iter().map(|&k| kind_counts(conf, k).0).sum();
    (right, conf.values().sum())
}

/// Print a per-kind precision and recall table; returns the accuracy.
pub fn table(name: &str, conf: &Confusion) -> f64 {
    let (correct, total) = accuracy(conf);
    println!("\n{name}: {total} messages, accuracy {correct}/{total}");
    println!(
        "{:<12} {:>7} {:>7} {:>5} {:>10} {:>8}",
        "kind", "labelled", "predicted", "right", "precision", "recall"
    );
    let pct = |num: usize, den: usize| {
        if den == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", 100.0 * num as f64 / den as f64)
        }
    };
    for k in ScamKind::ALL {
        let (right, pred, truth) = kind_counts(conf, k);
        println!(
            "{:<12} {:>7} {:>7} {:>5} {:>10} {:>8}",
            k.as_str(),
            truth,
            pred,
            right,
            pct(right, pred),
            pct(right, truth)
        );
    }
    let acc = if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    };
    println!("accuracy {:.1}%", 100.0 * acc);
    acc
}
