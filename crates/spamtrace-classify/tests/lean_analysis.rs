//! The lean analysis ([`spamtrace_mail::analyze_for_scoring`]) must give the
//! shipped model exactly what the full [`spamtrace_mail::analyze`] gives it:
//! on every message of `../shared/corpora`, the same features, bit-identical
//! score and log-odds, the same verdict and kind (and kind evidence), and the
//! same `--explain` lines. Classification takes the lean path for speed
//! ([`Model::analyze_for_scoring`]), so any field the classifier starts to
//! read that the lean analysis leaves empty fails here.
//!
//! Runs over the corpora when they are present; fails when they are missing
//! and `CI=true`. In a debug build, `explain` (the slow describing pass) is
//! compared on every 4th message, everything else on every message.

mod common;
use common::corpora_root;
use spamtrace_classify::{Model, ModelConfig, kind_evidence};
use spamtrace_mail::{
    Analysis, Limits, TrustedHosts, analyze, analyze_for_scoring, is_list_header,
};
use spamtrace_source::{SourceItem, SourceOptions, read_paths};

/// The fields the lean analysis promises to fill, compared one by one so a
/// failure names the field. Attachments are compared without their SHA-256,
/// which the lean analysis leaves empty; of the header fields it keeps the
/// mailing-list ones only.
fn scoring_fields_differ(full: &Analysis, lean: &Analysis) -> Option<&'static str> {
    let list_headers = full.headers.iter().filter(|h| is_list_header(&h.name));
    let attachments_equal = full.attachments.len() == lean.attachments.len()
        && full
            .attachments
            .iter()
            .zip(&lean.attachments)
            .all(|(f, l)| {
                f.filename == l.filename
                    && f.declared_type == l.declared_type
                    && f.sniffed_type == l.sniffed_type
                    && f.size == l.size
            });
    [
        (full.size == lean.size, "size"),
        (full.problem == lean.problem, "problem"),
        (full.subject == lean.subject, "subject"),
        (full.from == lean.from, "from"),
        (full.text == lean.text, "text"),
        (full.html == lean.html, "html"),
        (full.urls == lean.urls, "urls"),
        (attachments_equal, "attachments"),
        (full.mime == lean.mime, "mime"),
        (list_headers.eq(&lean.headers), "mailing-list headers"),
    ]
    .into_iter()
    .find(|(equal, _)| !equal)
    .map(|(_, name)| name)
}

#[test]
fn the_lean_analysis_scores_exactly_like_the_full_one_on_every_corpus_message() {
    let Some(root) = corpora_root("the lean-analysis comparison") else {
        return;
    };
    let model = Model::builtin();
    assert!(
        model.scores_lean_analysis(),
        "the shipped model reads fields the lean analysis leaves empty"
    );
    // The features of the current default configuration too (weights all
    // zero, so only its features say anything): the shipped model may
    // predate a feature change that the lean analysis must keep up with.
    let fresh = Model::new(ModelConfig::default());
    assert!(fresh.scores_lean_analysis());
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let explain_every = if cfg!(debug_assertions) { 4 } else { 1 };
    let groups = [
        "spamassassin/full/index",
        "phishing-nazario",
        "modern-spam",
        "fixtures",
    ];
    let mut mismatches: Vec<String> = Vec::new();
    let mut total = 0usize;
    let mut spam_verdicts = 0usize;
    let mut via_lists = 0usize;
    for group in groups {
        let mut count = 0usize;
        for item in read_paths(&[root.join(group)], &SourceOptions::default()) {
            let SourceItem::Message(m) = item else {
                continue;
            };
            count += 1;
            let at = match m.envelope.offset {
                Some(o) => format!("{}@{o}", m.envelope.source),
                None => m.envelope.source.clone(),
            };
            let full = analyze(&m.bytes, &limits, &trusted);
            let lean = analyze_for_scoring(&m.bytes, &limits);
            let via_model = model.analyze_for_scoring(&m.bytes, &limits, &trusted);
            if let Some(field) = scoring_fields_differ(&full, &lean) {
                mismatches.push(format!("{at}: field {field} differs"));
                continue;
            }
            via_lists += !lean.headers.is_empty() as usize;
            if via_model != lean {
                mismatches.push(format!(
                    "{at}: Model::analyze_for_scoring is not the lean analysis"
                ));
                continue;
            }
            if model.features_of(&full) != model.features_of(&lean) {
                mismatches.push(format!("{at}: features differ"));
                continue;
            }
            if fresh.features_of(&full) != fresh.features_of(&lean) {
                mismatches.push(format!(
                    "{at}: features of the default configuration differ"
                ));
                continue;
            }
            let (cf, cl) = (model.classify(&full), model.classify(&lean));
            if cf.score.to_bits() != cl.score.to_bits()
                || cf.log_odds.to_bits() != cl.log_odds.to_bits()
                || cf.verdict != cl.verdict
                || cf.kind != cl.kind
            {
                mismatches.push(format!("{at}: classification {cf:?} vs {cl:?}"));
                continue;
            }
            spam_verdicts += cf.kind.is_some() as usize;
            // The kind of every message, not only of those called spam.
            if kind_evidence(&full, true) != kind_evidence(&lean, true) {
                mismatches.push(format!("{at}: kind evidence differs"));
                continue;
            }
            if count.is_multiple_of(explain_every)
                && model.explain(&full, 20) != model.explain(&lean, 20)
            {
                mismatches.push(format!("{at}: explanation differs"));
            }
        }
        assert!(count > 0, "no messages read from {group}");
        total += count;
    }
    assert!(
        mismatches.is_empty(),
        "{} of {total} messages differ, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
    // 6,047 SpamAssassin + 1,308 Nazario + modern-spam + fixtures.
    assert!(total >= 7_700, "only {total} messages compared");
    assert!(
        via_lists > 1_000,
        "only {via_lists} messages with mailing-list headers: those were hardly compared"
    );
    assert!(
        spam_verdicts > 1_000,
        "only {spam_verdicts} spam verdicts: the kind path was hardly compared"
    );
}
