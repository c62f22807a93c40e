//! Build the shipped default model (`model/default.bin`) from the corpora.
//!
//! cargo run -p spamtrace-classify --release --example build_default_model -- \
//!     ../shared/corpora crates/spamtrace-classify/model/default.bin
//!
//! Training data, in this order: the SpamAssassin corpus through its TREC
//! index (delivery order, 6,047 messages), with the Nazario phishing mboxes
//! and the modern-spam folder (all spam) spread evenly through it, so that
//! the online learner never sees a long run of one class. The calibration is
//! fitted, and the verdict thresholds chosen, on chronological held-out
//! slices (`eval::train_calibrated`). Deterministic: the same corpora give the same
//! file.
use spamtrace_classify::ModelConfig;
use spamtrace_classify::eval::{load_messages, read_trec_index, train_calibrated};
use spamtrace_mail::Label;
use spamtrace_source::{SourceItem, SourceOptions, read_paths};
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpora = PathBuf::from(
        args.get(1)
            .expect("usage: build_default_model CORPORA_DIR OUT_FILE"),
    );
    let out = PathBuf::from(
        args.get(2)
            .expect("usage: build_default_model CORPORA_DIR OUT_FILE"),
    );
    let index =
        read_trec_index(&corpora.join("spamassassin/full/index")).expect("SpamAssassin index");
    let base = load_messages(&index).expect("SpamAssassin messages");
    let mut extra = Vec::new();
    for dir in [
        "phishing-nazario",
        "modern-spam/2023",
        "modern-spam/2024",
        "modern-spam/2025",
    ] {
        for item in read_paths(&[corpora.join(dir)], &SourceOptions::default()) {
            if let SourceItem::Message(m) = item {
                extra.push((m.bytes, Label::Spam));
            }
        }
    }
    // Spread the extra spam evenly through the index order.
    let total = base.len() + extra.len();
    let mut merged = Vec::with_capacity(total);
    let (mut b, mut e) = (base.into_iter(), extra.into_iter());
    let n_extra = e.len();
    let mut extra_taken = 0;
    for i in 0..total {
        let want_extra = (i + 1) * n_extra / total > extra_taken;
        extra_taken += want_extra as usize;
        match if want_extra {
            e.next().map(|m| (m, true))
        } else {
            None
        } {
            Some((m, _)) => merged.push((m.0, m.1, true)),
            None => match b.next() {
                Some(m) => merged.push((m.0, m.1, false)),
                None => merged.push(e.next().map(|m| (m.0, m.1, true)).unwrap()),
            },
        }
    }
    let messages: Vec<(Vec<u8>, Label)> = merged.into_iter().map(|(b, l, _)| (b, l)).collect();
    let spam = messages.iter().filter(|m| m.1 == Label::Spam).count();
    let model = train_calibrated(&messages, ModelConfig::default());
    model.save(&out).expect("writable output");
    let size = std::fs::metadata(&out).unwrap().len();
    println!(
        "trained on {} messages ({} spam, {} ham); calibration {:?}; thresholds {:?}; wrote {} ({} KB)",
        messages.len(),
        spam,
        messages.len() - spam,
        model.calibration,
        model.thresholds,
        out.display(),
        size / 1024
    );
}
