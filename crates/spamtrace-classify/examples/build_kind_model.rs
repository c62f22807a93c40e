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
use spamtrace_classify::features::Slots;
use spamtrace_classify::kind_model::{FEATURE_BITS, KindExample};
use spamtrace_classify::{KindModel, ScamKind, kind_evidence};
use spamtrace_mail::{Limits, TrustedHosts, analyze};
use std::collections::HashMap;
use std::path::PathBuf;

#[path = "validation/kinds_set.rs"]
mod kinds_set;

fn main() {
    let usage = "usage: build_kind_model CORPORA_DIR OUT_FILE";
    let args: Vec<String> = std::env::args().collect();
    let corpora = PathBuf::from(args.get(1).expect(usage));
    let out = PathBuf::from(args.get(2).expect(usage));
    let dev: HashMap<String, ScamKind> = kinds_set::load_set()
        .into_iter()
        .filter(|l| kinds_set::is_dev(&l.sha256))
        .map(|l| (l.sha256, l.kind))
        .collect();
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let featurizer = KindModel::featurizer();
    let mut found: Vec<(Vec<u32>, [u32; 10], ScamKind)> = Vec::new();
    for (sha, bytes) in kinds_set::drawn_messages(&corpora) {
        let Some(&kind) = dev.get(&sha) else {
            continue;
        };
        let a = analyze(&bytes, &limits, &trusted);
        let mut slots = Slots::new(FEATURE_BITS);
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
