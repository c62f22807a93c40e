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

/// xorshift64: a fixed, dependency-free stream for the mutations below.
struct Stream(u64);
impl Stream {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One hostile variant of `raw`, of the kinds that break parsers: cut
/// short, bytes flipped, another message spliced in, lines run together,
/// a header block doubled, stray boundaries, a run of high bytes, a
/// message that stops after its headers.
fn mutant(raw: &[u8], other: &[u8], how: usize, s: &mut Stream) -> Vec<u8> {
    let at = s.below(raw.len() + 1);
    let mut m = raw.to_vec();
    match how % 8 {
        0 => m.truncate(at),
        1 => {
            for _ in 0..16 {
                if !m.is_empty() {
                    let i = s.below(m.len());
                    m[i] = s.next() as u8;
                }
            }
        }
        2 => {
            let from = s.below(other.len() + 1);
            let to = (from + s.below(4096)).min(other.len());
            m.splice(at..at, other[from..to].iter().copied());
        }
        3 => {
            let end = (at + s.below(2048)).min(m.len());
            let joined: Vec<u8> = m[at..end]
                .iter()
                .copied()
                .filter(|&b| b != b'\n' && b != b'\r')
                .collect();
            m.splice(at..end, joined);
        }
        4 => {
            let head = raw
                .windows(2)
                .position(|w| w == b"\n\n")
                .unwrap_or(raw.len());
            m.splice(0..0, raw[..(head + 1).min(raw.len())].iter().copied());
        }
        5 => {
            let line = b"\n--=_boundary\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n";
            m.splice(at..at, line.iter().copied());
        }
        6 => {
            let end = (at + s.below(512)).min(m.len());
            for b in &mut m[at..end] {
                *b = 0x80 | s.next() as u8;
            }
        }
        _ => {
            let head = raw
                .windows(2)
                .position(|w| w == b"\n\n")
                .unwrap_or(raw.len());
            m.truncate(head);
            m.extend((0..s.below(300)).map(|_| s.next() as u8));
        }
    }
    m
}

/// The same promise on hostile input: mutants of corpus messages (every
/// fixture and modern-spam message, every 5th SpamAssassin and Nazario
/// one, two mutants each) score exactly alike through both analyses, with
/// a probability in [0, 1], and nothing panics.
#[test]
fn the_lean_analysis_scores_like_the_full_one_on_mutated_messages() {
    let Some(root) = corpora_root("the mutated-message comparison") else {
        return;
    };
    let model = Model::builtin();
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let mut originals: Vec<Vec<u8>> = Vec::new();
    for (group, every) in [
        ("fixtures", 1),
        ("modern-spam", 1),
        ("spamassassin/full/index", 5),
        ("phishing-nazario", 5),
    ] {
        let items = read_paths(&[root.join(group)], &SourceOptions::default());
        let messages = items.filter_map(|item| match item {
            SourceItem::Message(m) => Some(m.bytes.to_vec()),
            _ => None,
        });
        originals.extend(messages.step_by(every));
    }
    let mut s = Stream(0x2545_f491_4f6c_dd1d);
    let (mut mismatches, mut total, mut with_problem) = (Vec::new(), 0usize, 0usize);
    for (i, raw) in originals.iter().enumerate() {
        let other = &originals[(i * 7 + 3) % originals.len()];
        for k in 0..2 {
            let how = i * 2 + k;
            let m = mutant(raw, other, how, &mut s);
            total += 1;
            let full = analyze(&m, &limits, &trusted);
            let lean = analyze_for_scoring(&m, &limits);
            let at = format!("message {i}, mutation {}", how % 8);
            if let Some(field) = scoring_fields_differ(&full, &lean) {
                mismatches.push(format!("{at}: field {field} differs"));
                continue;
            }
            with_problem += full.problem.is_some() as usize;
            let (cf, cl) = (model.classify(&full), model.classify(&lean));
            assert!((0.0..=1.0).contains(&cf.score), "{at}: score {}", cf.score);
            if cf.score.to_bits() != cl.score.to_bits()
                || cf.verdict != cl.verdict
                || cf.kind != cl.kind
            {
                mismatches.push(format!("{at}: classification {cf:?} vs {cl:?}"));
                continue;
            }
            if kind_evidence(&full, true) != kind_evidence(&lean, true) {
                mismatches.push(format!("{at}: kind evidence differs"));
                continue;
            }
            if how % 16 == 0 && model.explain(&full, 20) != model.explain(&lean, 20) {
                mismatches.push(format!("{at}: explanation differs"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {total} mutants differ, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
    eprintln!("{total} mutants compared, {with_problem} with a parse problem");
    assert!(total >= 3_000, "only {total} mutants compared");
    assert!(
        with_problem > 0,
        "no mutant was malformed enough to be flagged"
    );
}
