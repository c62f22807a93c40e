//! Text that a mailing list added to a message: the footer it appends
//! (`_____ / ILUG mailing list / http://.../mailman/listinfo/ilug`) and the
//! tag it puts in front of the subject (`[ILUG]`).
//!
//! Neither was written by the sender. Like the Received headers, they say
//! how a message travelled, not what it is, and a model that learns them
//! learns "came through a list = ham": the spam that was posted to a list
//! carries the same footer as every ham message of that list, and the
//! footer's many words and character 4-grams outvote the spam's own text.
//! Found on the training half of the SpamAssassin split: its lowest-ranked
//! spam were `[ILUG]` posts whose strongest features were all the footer's.

use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

/// Only the last this many bytes of the text are searched for a footer.
const FOOTER_WINDOW: usize = 2000;

/// Words that mark a block as the list's own, in any case.
const FOOTER_MARKERS: &[&str] = &[
    "mailing list",
    "listinfo",
    "unsubscribe",
    "groups.yahoo.com",
    "yahoo! groups",
    "sponsored by",
    "list maintainer",
];

/// The markers as one case-insensitive automaton, built once.
static MARKERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(FOOTER_MARKERS)
        .expect("a handful of literal markers always build")
});

/// `text` without a trailing list footer: the text is cut at the first
/// separator line (`-- `, or a line of at least 5 `_`, `-` or `=`) in its
/// last [`FOOTER_WINDOW`] bytes after which a footer marker appears.
/// Linear in the window, whatever the text.
pub(crate) fn without_footer(text: &str) -> &str {
    let b = text.as_bytes();
    let mut start = b.len().saturating_sub(FOOTER_WINDOW);
    if start > 0 {
        // Begin at a line start inside the window.
        match memchr::memchr(b'\n', &b[start..]) {
            Some(p) => start += p + 1,
            None => return text,
        }
    }
    let window = &b[start..];
    // A separator counts if some marker starts after it: find the last
    // marker start. Markers have no line break, so one hidden inside another
    // (non-overlapping search) never changes which separator comes first.
    let Some(last_marker) = MARKERS.find_iter(window).map(|m| m.start()).last() else {
        return text;
    };
    let mut i = 0;
    while i < last_marker {
        let end = memchr::memchr(b'\n', &window[i..]).map_or(window.len(), |p| i + p);
        if end < last_marker && is_separator(&window[i..end]) {
            return text[..start + i].trim_end();
        }
        i = end + 1;
    }
    text
}

fn is_separator(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line == b"-- " || line == b"--" {
        return true;
    }
    let t = line.trim_ascii();
    t.len() >= 5
        && (t.iter().all(|&c| c == b'_')
            || t.iter().all(|&c| c == b'-')
            || t.iter().all(|&c| c == b'='))
}

/// `subject` without a list tag (`[ILUG] x`, `Re: [ILUG] x` become `x`,
/// `Re: x`): a bracketed prefix of at most 40 bytes.
pub(crate) fn without_tag(subject: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = subject.trim_start();
    let (prefix, rest) = match trimmed.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("re:") => (&trimmed[..3], trimmed[3..].trim_start()),
        _ => ("", trimmed),
    };
    if let Some(inner) = rest.strip_prefix('[')
        && let Some(close) = inner.find(']')
        && close <= 40
    {
        let after = inner[close + 1..].trim_start();
        return if prefix.is_empty() {
            std::borrow::Cow::Borrowed(after)
        } else {
            std::borrow::Cow::Owned(format!("{prefix} {after}"))
        };
    }
    std::borrow::Cow::Borrowed(subject)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{Describe, FeatureSet, Featurizer};
    use spamtrace_mail::{Analysis, HeaderField};

    fn described(a: &Analysis, set: FeatureSet) -> Vec<String> {
        let mut d = Describe::new(20);
        Featurizer::new(set).extract(a, &mut d);
        d.features.into_iter().map(|(_, s)| s).collect()
    }

    #[test]
    fn a_list_post_is_scored_on_what_its_sender_wrote() {
        let mut a = Analysis {
            subject: Some("[ILUG] cheap pills".into()),
            text: "cheap pills here\n-- \nIrish Linux Users' Group: ilug@linux.ie\n\
                   http://www.linux.ie/mailman/listinfo/ilug for (un)subscription information."
                .into(),
            ..Default::default()
        };
        a.headers.push(HeaderField {
            name: "List-Id".into(),
            value: "<ilug.linux.ie>".into(),
        });
        let f = described(&a, FeatureSet::DEFAULT);
        let has = |x: &str| f.iter().any(|d| d.contains(x));
        assert!(
            has("word \"pills\"") && has("subject word \"cheap\""),
            "{f:?}"
        );
        assert!(
            !has("listinfo") && !has("\"ilug\"") && !has("users"),
            "{f:?}"
        );
        assert!(has("text ends in a mailing-list footer"), "{f:?}");
        assert!(has("subject has a mailing-list tag"), "{f:?}");
        // Without list headers nothing is cut: a spammer's own footer is his.
        a.headers.clear();
        let f = described(&a, FeatureSet::DEFAULT);
        assert!(f.iter().any(|d| d.contains("listinfo")), "{f:?}");
        // Models trained before the option keep their features.
        a.headers.push(HeaderField {
            name: "list-id".into(),
            value: "<ilug.linux.ie>".into(),
        });
        let old = FeatureSet {
            drop_list_text: false,
            ..FeatureSet::DEFAULT
        };
        assert!(described(&a, old).iter().any(|d| d.contains("listinfo")));
    }

    #[test]
    fn mailman_footer_is_cut() {
        let t = "Lose 10 lbs in 30 days, click here.\n\n-- \nIrish Linux Users' Group: ilug@linux.ie\nhttp://www.linux.ie/mailman/listinfo/ilug for (un)subscription information.\nList maintainer: listmaster@linux.ie";
        assert_eq!(without_footer(t), "Lose 10 lbs in 30 days, click here.");
        let t = "Hello\n_______________________________________________\nSpamassassin-talk mailing list\nhttps://lists.sourceforge.net/lists/listinfo/spamassassin-talk\n";
        assert_eq!(without_footer(t), "Hello");
    }

    #[test]
    fn text_without_a_footer_is_kept() {
        for t in [
            "",
            "just text",
            "a signature\n-- \nJohn Smith, Dublin",
            "a rule\n-----\nand more text",
        ] {
            assert_eq!(without_footer(t), t);
        }
        // A separator far from the end is not a footer's.
        let long = format!("top\n-----\nmailing list\n{}", "x ".repeat(3000));
        assert_eq!(without_footer(&long), long);
    }

    #[test]
    fn footer_search_is_safe_on_multibyte_text() {
        let t = format!("{}\n-- \nmailing list", "é".repeat(1500));
        assert_eq!(without_footer(&t), "é".repeat(1500));
    }

    #[test]
    fn a_window_of_separators_takes_linear_time() {
        let t = format!("{}mailing list", "-----\n".repeat(100_000));
        let cut = without_footer(&t);
        assert!(cut.len() < t.len() && cut.len() > t.len() - FOOTER_WINDOW - 10);
    }

    #[test]
    fn subject_tags_are_dropped() {
        assert_eq!(without_tag("[ILUG] FREE FREE FREE!"), "FREE FREE FREE!");
        assert_eq!(without_tag("Re: [ILUG] whats up"), "Re: whats up");
        assert_eq!(without_tag("RE:[SAtalk] rules"), "RE: rules");
        assert_eq!(without_tag("no tag here"), "no tag here");
        assert_eq!(without_tag("[unclosed tag"), "[unclosed tag");
    }
}
