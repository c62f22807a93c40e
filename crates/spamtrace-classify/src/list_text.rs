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

use aho_corasick::{AhoCorasick, MatchKind};
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

/// The markers spelt backwards and lowercased, as one automaton, built
/// once: the footer is at the end, so the window is searched from its end
/// and the search usually stops a few hundred bytes in, instead of reading
/// the whole window to find the last marker. The window is lowercased as it
/// is reversed, so the automaton matches exact bytes: unlike an ASCII
/// case-insensitive one, it can skip ahead with a SIMD prefilter (Teddy)
/// instead of taking one table step per byte (same matches: ASCII case
/// folding on both sides is what case-insensitive matching means).
static MARKERS_REVERSED: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(FOOTER_MARKERS.iter().map(|m| {
            m.bytes()
                .rev()
                .map(|b| b.to_ascii_lowercase())
                .collect::<Vec<u8>>()
        }))
        .expect("a handful of literal markers always build")
});

/// Where the last footer marker of `window` starts. The window is copied
/// backwards and lowercased (it is at most [`FOOTER_WINDOW`] bytes); the
/// marker that starts last in the window is the one that ends first in the
/// reversed copy. The automaton reports the leftmost match of the copy,
/// which is that one because no marker contains another (tested): a match
/// ending before the leftmost one would have to lie inside it.
fn last_marker_start(window: &[u8]) -> Option<usize> {
    let mut reversed = [0u8; FOOTER_WINDOW];
    let reversed = &mut reversed[..window.len()];
    for (r, &b) in reversed.iter_mut().zip(window.iter().rev()) {
        *r = b.to_ascii_lowercase();
    }
    MARKERS_REVERSED
        .find(&*reversed)
        .map(|m| window.len() - m.end())
}

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
    // marker start.
    let Some(last_marker) = last_marker_start(window) else {
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

/// A footer without a separator line may be at most this long: the last
/// paragraph, from its blank line to the end.
const BARE_FOOTER_MAX: usize = 400;

/// Like [`without_footer`], and when no separator line precedes the last
/// marker, a short last paragraph that holds it is cut too: some lists
/// append only their address (`\n\nhttp://xent.com/mailman/listinfo/fork`).
/// Found on the training half: a spam posted to FoRK ranked below most
/// ham on the words of that one line.
pub(crate) fn without_footer_or_address(text: &str) -> &str {
    let cut = without_footer(text);
    if cut.len() < text.len() {
        return cut;
    }
    let b = text.as_bytes();
    let start = b.len().saturating_sub(BARE_FOOTER_MAX);
    let window = &b[start..];
    let Some(marker) = last_marker_start(window) else {
        return text;
    };
    // Walk back line by line from the marker to the blank line that opens
    // its paragraph (a line cut by the window's start does not count).
    let before = &window[..marker];
    let mut end = before.len();
    while let Some(nl) = memchr::memrchr(b'\n', &before[..end]) {
        let line_start = memchr::memrchr(b'\n', &before[..nl]).map(|p| p + 1);
        let Some(line_start) = line_start.or((start == 0).then_some(0)) else {
            break;
        };
        if before[line_start..nl].trim_ascii().is_empty() {
            // `text[..at]` ends at a line start, so it is a char boundary.
            return text[..start + line_start].trim_end();
        }
        end = nl;
    }
    text
}

/// The registered domains a mailing list names in its own fields (`List-*`
/// URLs and addresses, `List-Id`, `X-BeenThere`): links to them are the
/// list's, not the sender's.
pub(crate) fn list_domains<'a>(a: &'a spamtrace_mail::Analysis) -> Vec<String> {
    /// At most this many domains (a hostile message may name thousands).
    const MAX_DOMAINS: usize = 8;
    /// Hosts remembered to skip repeats: the `List-*` fields of one list
    /// name the same host again and again, and each new one costs a
    /// lowercase copy and a public-suffix lookup.
    const MAX_HOSTS_SEEN: usize = 32;
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut add = |host: &'a str| {
        let host = host.trim_matches(|c: char| c == '.' || c == '-');
        if host.is_empty() || !host.contains('.') || out.len() >= MAX_DOMAINS {
            return;
        }
        if seen.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return;
        }
        if seen.len() < MAX_HOSTS_SEEN {
            seen.push(host);
        }
        let host = host.to_ascii_lowercase();
        let d = spamtrace_mail::registered_domain(&host).unwrap_or(host);
        if !out.contains(&d) {
            out.push(d);
        }
    };
    // The host that starts at byte `from` (ASCII letters, digits, dots and
    // hyphens; every byte before a non-ASCII one is ASCII, so the cut is a
    // char boundary).
    const HOST_BYTE: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric() || b == b'.' || b == b'-';
            c += 1;
        }
        t
    };
    let host_at = |v: &'a str, from: usize| -> usize {
        let rest = &v.as_bytes()[from..];
        from + rest
            .iter()
            .position(|&c| !HOST_BYTE[c as usize])
            .unwrap_or(rest.len())
    };
    for h in &a.headers {
        if !spamtrace_mail::is_list_header(&h.name) {
            continue;
        }
        let v = h.value.as_str();
        let bytes = v.as_bytes();
        for i in memchr::memchr_iter(b':', bytes) {
            if bytes[i + 1..].starts_with(b"//") {
                add(&v[i + 3..host_at(v, i + 3)]);
            }
        }
        for i in memchr::memchr_iter(b'@', bytes) {
            add(&v[i + 1..host_at(v, i + 1)]);
        }
        if h.name.eq_ignore_ascii_case("list-id")
            && let Some(open) = memchr::memrchr(b'<', bytes)
        {
            add(&v[open + 1..host_at(v, open + 1)]);
        }
    }
    out
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
    fn a_bare_list_address_paragraph_is_cut() {
        let t = "Want to watch movies?\nhttp://froggy.example/clubs/\n\n\n [JK9^]\n\n\nhttp://xent.com/mailman/listinfo/fork\n\n";
        assert_eq!(
            without_footer_or_address(t),
            "Want to watch movies?\nhttp://froggy.example/clubs/\n\n\n [JK9^]"
        );
        // Separator footers are cut as before.
        let t = "Hello\n_____\nSpamassassin-talk mailing list\nhttps://lists.example/listinfo/x\n";
        assert_eq!(without_footer_or_address(t), "Hello");
        // Nothing is cut without a marker, or when the marker's paragraph
        // is longer than a footer, or when it is the whole text.
        for t in [
            "a\n\nplain last paragraph\n",
            "listinfo at the very start, one paragraph",
            &format!("a\n\n{} unsubscribe", "long ".repeat(100)),
        ] {
            assert_eq!(without_footer_or_address(t), t);
        }
        // Hostile text: no blank line, multi-byte characters, CRLF.
        let t = format!("{}\r\n\r\nlistinfo ü", "é".repeat(5000));
        assert_eq!(without_footer_or_address(&t), "é".repeat(5000));
    }

    #[test]
    fn a_lists_own_links_are_left_out_when_asked() {
        let url = |u: &str, host: &str, domain: &str| spamtrace_mail::UrlRef {
            url: u.into(),
            host: host.into(),
            domain: Some(domain.into()),
            is_ip: false,
            obfuscated: false,
            context: spamtrace_mail::UrlContext::Text,
        };
        let mut a = Analysis {
            text: "HARDCORE MOVIES http://froggyhost.example/clubs/\n\nhttp://xent.com/mailman/listinfo/fork".into(),
            ..Default::default()
        };
        a.urls.push(url(
            "http://froggyhost.example/clubs/",
            "froggyhost.example",
            "froggyhost.example",
        ));
        a.urls.push(url(
            "http://xent.com/mailman/listinfo/fork",
            "xent.com",
            "xent.com",
        ));
        a.headers.push(HeaderField {
            name: "List-Unsubscribe".into(),
            value: "<http://xent.com/mailman/listinfo/fork>".into(),
        });
        // The shipped set leaves them out (since the eleventh round).
        let set = FeatureSet::DEFAULT;
        assert!(set.drop_list_links);
        let on = described(&a, set);
        let has = |f: &[String], x: &str| f.iter().any(|d| d.contains(x));
        assert!(
            has(&on, "links to froggyhost.example") && has(&on, "about 1 links"),
            "{on:?}"
        );
        assert!(!has(&on, "xent") && !has(&on, "listinfo"), "{on:?}");
        assert!(has(&on, "text ends in a mailing-list footer"), "{on:?}");
        // A model trained before keeps them (the model file records which set).
        let before = FeatureSet {
            drop_list_links: false,
            ..FeatureSet::DEFAULT
        };
        let off = described(&a, before);
        assert!(
            has(&off, "links to xent.com") && has(&off, "word \"xent\""),
            "{off:?}"
        );
        // Without list fields nothing is the list's.
        a.headers.clear();
        assert!(has(&described(&a, set), "links to xent.com"));
    }

    #[test]
    fn list_domains_come_from_the_list_fields() {
        let mut a = Analysis::default();
        for (n, v) in [
            (
                "List-Unsubscribe",
                "<http://xent.com/mailman/listinfo/fork>, <mailto:fork-request@xent.com?subject=unsubscribe>",
            ),
            ("List-Id", "Friends of Rohit Khare <fork.xent.com>"),
            ("X-BeenThere", "fork@spamassassin.taint.org"),
            ("Subject", "http://not-a-list.example/"),
        ] {
            a.headers.push(HeaderField {
                name: n.into(),
                value: v.into(),
            });
        }
        assert_eq!(
            list_domains(&a),
            vec!["xent.com".to_string(), "taint.org".to_string()]
        );
        // Hostile fields: hosts end at the first byte no host has (here
        // multi-byte characters), case does not make a new domain, "://"
        // at the very end names nothing, and at most 8 domains are kept
        // however many a field names.
        a.headers.clear();
        let many: String = (0..500)
            .map(|i| format!("<http://h{i}.d{i}.example/> ")) // 500 domains
            .collect();
        for (n, v) in [
            ("List-Post", "<mailto:LIST@XENT.COM>é<http://é.bad/>"),
            ("List-Help", "<http://Lists.Xent.Com:80/x>, trailing ://"),
            ("List-Archive", many.as_str()),
        ] {
            a.headers.push(HeaderField {
                name: n.into(),
                value: v.into(),
            });
        }
        let d = list_domains(&a);
        assert_eq!(d.len(), 8, "{d:?}");
        assert_eq!(&d[..3], ["xent.com", "d0.example", "d1.example"], "{d:?}");
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
    fn no_marker_contains_another() {
        // `last_marker_start` relies on it (the leftmost match of the
        // reversed window is then the one that ends first).
        for a in FOOTER_MARKERS {
            for b in FOOTER_MARKERS {
                assert!(a == b || !a.to_ascii_lowercase().contains(&b.to_ascii_lowercase()));
            }
        }
    }

    #[test]
    fn the_backward_search_finds_the_last_marker() {
        // Against a plain forward scan over every start, on texts built from
        // markers (in mixed case, overlapping, repeated) and filler.
        let forward = |w: &[u8]| {
            (0..w.len()).rev().find(|&i| {
                FOOTER_MARKERS.iter().any(|m| {
                    w.len() - i >= m.len() && w[i..i + m.len()].eq_ignore_ascii_case(m.as_bytes())
                })
            })
        };
        let pieces = [
            "mailing list",
            "MAILING LISTINFO",
            "listinfo",
            "unsubscribe",
            "Yahoo! Groups",
            "groups.yahoo.com",
            "sponsored by",
            "list maintainer",
            "x",
            " ",
            "\n",
            "-----\n",
            "mailing lis",
            "é",
            "listinf",
        ];
        let mut rng = crate::test_rng::XorShift(0x2545_f491_4f6c_dd1d);
        for t in rng.texts(&pieces, 5000, 12) {
            assert_eq!(
                last_marker_start(t.as_bytes()),
                forward(t.as_bytes()),
                "{t:?}"
            );
        }
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
