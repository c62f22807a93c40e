//! The data of the validation columns (`shift.rs`, `shift_learners.rs`):
//! the training half of the SpamAssassin split, analysed, and the spam of
//! collections it does not contain. The test half is never read.
use spamtrace_classify::eval::{load_messages, read_trec_index, recall_at_fpr, roc_area};
use spamtrace_mail::{Analysis, Label, Limits, TrustedHosts, analyze};
use spamtrace_source::{SourceItem, SourceOptions, read_paths};
use std::path::{Path, PathBuf};

/// The command line of a validation example: the corpora folder and an
/// optional filter on the variants' names.
pub fn corpora_and_filter(program: &str) -> (PathBuf, Option<String>) {
    let mut args = std::env::args().skip(1);
    let corpora = args
        .next()
        .unwrap_or_else(|| panic!("usage: {program} CORPORA_DIR [NAME_FILTER]"));
    (PathBuf::from(corpora), args.next())
}

/// Spam from other mailboxes and years than the SpamAssassin corpus.
pub const OUTSIDE_SPAM: &[&str] = &[
    "phishing-nazario",
    "modern-spam/2023",
    "modern-spam/2024",
    "modern-spam/2025",
    "fixtures/spamassassin/spam",
];

fn read_dir(p: PathBuf) -> Vec<Vec<u8>> {
    read_paths(&[p], &SourceOptions::default())
        .filter_map(|i| match i {
            SourceItem::Message(m) => Some(m.bytes),
            _ => None,
        })
        .collect()
}

/// The training half (first half of the index, in order) and the outside
/// spam, both analysed.
pub fn training_half_and_outside_spam(corpora: &Path) -> (Vec<(Analysis, Label)>, Vec<Analysis>) {
    let index = read_trec_index(&corpora.join("spamassassin/full/index")).expect("index");
    let n_train = index.len() / 2;
    let msgs = load_messages(&index[..n_train]).expect("SpamAssassin messages");
    let (l, t) = (Limits::default(), TrustedHosts::default());
    let train = msgs
        .iter()
        .map(|(b, lab)| (analyze(b, &l, &t), *lab))
        .collect();
    let outside: Vec<Analysis> = OUTSIDE_SPAM
        .iter()
        .flat_map(|d| read_dir(corpora.join(d)))
        .map(|b| analyze(&b, &l, &t))
        .collect();
    eprintln!(
        "training half {n_train} messages, outside spam {}",
        outside.len()
    );
    (train, outside)
}

/// Scores and truths (spam = true) of one validation column.
pub type Points = Vec<(f64, bool)>;

/// The shipped feature set of the fifth and sixth rounds (the seventh
/// added `light_subject_grams`, the eleventh `drop_list_links`): the
/// examples' earlier rows were measured on it and reproduce only with it
/// (the option moves every slot).
#[allow(dead_code)]
pub const SIXTH_ROUND_SET: spamtrace_classify::features::FeatureSet =
    spamtrace_classify::features::FeatureSet {
        light_subject_grams: false,
        drop_list_links: false,
        ..spamtrace_classify::features::FeatureSet::DEFAULT
    };

/// (1-ROCA)% and spam caught at 0.1% false positives.
pub fn figures(points: &[(f64, bool)]) -> (f64, f64) {
    (
        100.0 * (1.0 - roc_area(points)),
        100.0 * recall_at_fpr(points, 0.001),
    )
}

/// The header of a table of the five validation columns.
pub fn print_header() {
    println!(
        "| variant | chron | chron rec | walk | walk rec | half | half rec | shift | shift rec | shift5 | shift5 rec |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
}

/// One variant's row: (1-ROCA)% and spam caught at 0.1% FP of each column.
pub fn print_row(name: &str, columns: [&Points; 5]) {
    let cells: Vec<String> = columns
        .iter()
        .map(|p| {
            let (r, c) = figures(p);
            format!("{r:.3} | {c:.1}")
        })
        .collect();
    println!("| {name} | {} |", cells.join(" | "));
}
