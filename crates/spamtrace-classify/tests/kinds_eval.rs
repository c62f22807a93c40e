//! Per-kind precision and recall of the scam-kind detector on the labelled
//! evaluation set `kinds-eval.tsv` (messages from `../shared/corpora`, kinds
//! assigned by a person reading each message; see the file's header).
//!
//! The set is split by SHA-256: `dev` (first hex digit 0-7) is the half the
//! lexicon weights may be tuned on and the learnt kind model
//! (`model/kinds.bin`) is trained on, `test` (8-f) the half the figures are
//! reported on. The floors asserted below sit a few points under what was
//! measured, so a change that makes the detector worse fails here; the
//! detector must also do at least as well on the test half as the lexicon
//! alone.
//!
//! Run with `cargo test -p spamtrace-classify --test kinds_eval -- --nocapture`
//! to see the tables. Skipped when the corpora are missing, unless `CI=true`.

mod common;
#[path = "../examples/validation/kinds_set.rs"]
mod kinds_set;
use common::corpora_root;
use kinds_set::{Confusion, Labelled, drawn_messages, is_dev, load_set, table};
use spamtrace_classify::{ScamKind, detect_kind, kind_evidence};
use spamtrace_mail::{Limits, TrustedHosts, analyze};
use std::collections::HashMap;

/// Measured on 2026-11-29 on the 557-message set (draws 1 to 3): the lexicon
/// with the learnt kind model and strong phrase evidence deciding, test
/// accuracy 225/265 = 84.9% (223/265 without that rule, 227/265 before the
/// spam model's features left a list's links out; the lexicon
/// alone, as tuned on the dev half of the first draw: 198/265 = 74.7%, dev
/// 233/292 in 5-fold cross-validation). On the 458-message set of draws 1
/// and 2 it was 168/216 = 77.8% (lexicon 161/216). The floor sits about five
/// points lower.
const TEST_ACCURACY_FLOOR: f64 = 0.8;
/// Floor for the dev half, which the learnt model is trained on (290/292 =
/// 99.3% measured): a check that it learnt its training set.
const DEV_ACCURACY_FLOOR: f64 = 0.9;

#[test]
fn scam_kinds_on_the_labelled_set() {
    let set = load_set();
    assert!(set.len() >= 300, "the issue asks for at least 300 messages");
    let Some(root) = corpora_root("the kind evaluation") else {
        return;
    };
    let wanted: HashMap<&str, &Labelled> = set.iter().map(|l| (l.sha256.as_str(), l)).collect();
    let limits = Limits::default();
    let trusted = TrustedHosts::default();
    // KINDS_EVAL_EXPLAIN=1 prints the evidence behind every dev-half error,
    // the only errors the lexicon may be tuned on.
    let explain = std::env::var("KINDS_EVAL_EXPLAIN").is_ok_and(|v| v == "1");
    let mut found: HashMap<&str, ScamKind> = HashMap::new();
    let mut lexicon_alone: HashMap<&str, ScamKind> = HashMap::new();
    for (sha, bytes) in drawn_messages(&root) {
        if let Some(l) = wanted.get(sha.as_str()) {
            let a = analyze(&bytes, &limits, &trusted);
            let kind = detect_kind(&a);
            if explain && is_dev(&sha) && kind != l.kind {
                let ev = kind_evidence(&a, true);
                println!(
                    "{} labelled {} predicted {} scores {:?}\n  subject {:?}\n  {:?}",
                    l.source, l.kind, kind, ev.scores, a.subject, ev.reasons
                );
            }
            found.insert(l.sha256.as_str(), kind);
            lexicon_alone.insert(l.sha256.as_str(), kind_evidence(&a, false).kind());
        }
    }
    let missing: Vec<&str> = set
        .iter()
        .filter(|l| !found.contains_key(l.sha256.as_str()))
        .map(|l| l.source.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "{} labelled messages not found in the corpora: {missing:?}",
        missing.len()
    );

    let mut dev = Confusion::new();
    let mut test = Confusion::new();
    let mut test_lexicon = Confusion::new();
    let mut test_errors = Vec::new();
    let mut dev_errors = Vec::new();
    for l in &set {
        let predicted = found[l.sha256.as_str()];
        let is_dev = is_dev(&l.sha256);
        let conf = if is_dev { &mut dev } else { &mut test };
        *conf.entry((l.kind, predicted)).or_default() += 1;
        if !is_dev {
            *test_lexicon
                .entry((l.kind, lexicon_alone[l.sha256.as_str()]))
                .or_default() += 1;
        }
        if predicted != l.kind {
            let line = format!("  {} labelled {} predicted {}", l.source, l.kind, predicted);
            if is_dev {
                dev_errors.push(line);
            } else {
                test_errors.push(line);
            }
        }
    }
    let dev_acc = table(
        "dev half (sha256 0-7; lexicon tuned and kind model trained on it)",
        &dev,
    );
    let lexicon_acc = table("TEST half, the lexicon alone", &test_lexicon);
    let test_acc = table("TEST half (sha256 8-f; never tuned on)", &test);
    println!("\ndev errors:\n{}", dev_errors.join("\n"));
    println!("\ntest errors:\n{}", test_errors.join("\n"));
    assert!(
        test_acc >= TEST_ACCURACY_FLOOR,
        "test accuracy {:.1}% fell below the floor {:.1}%",
        100.0 * test_acc,
        100.0 * TEST_ACCURACY_FLOOR
    );
    assert!(
        test_acc >= lexicon_acc,
        "the learnt kind model makes the test half worse than the lexicon alone: {:.1}% vs {:.1}%",
        100.0 * test_acc,
        100.0 * lexicon_acc
    );
    assert!(
        dev_acc >= DEV_ACCURACY_FLOOR,
        "dev accuracy {:.1}% fell below the floor {:.1}%",
        100.0 * dev_acc,
        100.0 * DEV_ACCURACY_FLOOR
    );
}
