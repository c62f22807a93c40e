//! HTML to text, links and structure facts, in one forward pass.
//!
//! Spam HTML is hostile and often broken, and we need tens of thousands of
//! messages a second: a full HTML5 tree builder (html5ever) costs far more than
//! it gives here. We only need the visible text, the link targets and a few
//! structural counts, which a tolerant tag scanner yields in linear time with
//! bounded output.

use crate::{HtmlStats, UrlContext};

/// Text, link targets and facts from one HTML document.
#[derive(Debug, Default)]
pub struct HtmlExtract {
    /// The visible text, tags removed, entities decoded, blocks separated.
    pub text: String,
    /// Attribute values that point somewhere (`href`, `src`, `action`), entity-decoded,
    /// with whether entities were used inside them (an obfuscation sign).
    pub links: Vec<(String, UrlContext, bool)>,
    /// Counts of tags, links, images, forms, scripts, hidden text.
    pub stats: HtmlStats,
}

/// Convert HTML to plain text (convenience wrapper over [`scan_html`]).
pub fn html_to_text(html: &str) -> String {
    scan_html(html, usize::MAX, usize::MAX).text
}

const MAX_LINKS: usize = 2000;

/// Scan HTML once. `max_text` bounds the text kept, `max_links` the links kept.
pub fn scan_html(html: &str, max_text: usize, max_links: usize) -> HtmlExtract {
    let mut out = HtmlExtract::default();
    out.stats.parts = 1;
    let max_links = max_links.min(MAX_LINKS);
    let b = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        // Jump to the next tag (memchr scans many bytes per step).
        match memchr::memchr(b'<', &b[i..]) {
            Some(p) => i += p,
            None => break,
        }
        // Flush the text before this tag.
        push_text(&mut out.text, &html[text_start..i], max_text);
        if b[i..].starts_with(b"<!--") {
            i = match find(b, i + 4, b"-->") {
                Some(e) => e + 3,
                None => b.len(),
            };
            text_start = i;
            continue;
        }
        let tag_end = match memchr::memchr(b'>', &b[i + 1..]) {
            Some(e) => i + 1 + e,
            None => {
                // An unclosed '<' at the end: treat the rest as text.
                text_start = i;
                break;
            }
        };
        let tag = &html[i + 1..tag_end];
        out.stats.tags = out.stats.tags.saturating_add(1);
        let (name, attrs) = split_tag(tag);
        let closing = name.starts_with('/');
        // Tag names are compared lowercased without allocating: spam HTML
        // has thousands of tags, and only short names matter here. (As
        // bytes: the names compared with are ASCII, so no UTF-8 check.)
        let mut lower = [0u8; 12];
        let bare = name.trim_start_matches('/').as_bytes();
        let lname: &[u8] = if bare.len() <= lower.len() {
            for (d, s) in lower.iter_mut().zip(bare) {
                *d = s.to_ascii_lowercase();
            }
            &lower[..bare.len()]
        } else {
            b""
        };
        i = tag_end + 1;
        text_start = i;
        if closing {
            if is_block(lname) {
                push_text(&mut out.text, "\n", max_text);
            }
            continue;
        }
        match lname {
            b"script" | b"style" => {
                if lname == b"script" {
                    out.stats.scripts += 1;
                }
                let close = if lname == b"script" {
                    "</script"
                } else {
                    "</style"
                };
                i = find_ci(b, i, close.as_bytes()).unwrap_or(b.len());
                text_start = i;
                continue;
            }
            b"a" | b"area" => out.stats.links += 1,
            b"img" => out.stats.images += 1,
            b"form" => out.stats.forms += 1,
            b"br" | b"p" | b"div" | b"tr" | b"li" | b"td" | b"table" | b"h1" | b"h2" | b"h3" => {
                push_text(
                    &mut out.text,
                    if lname == b"td" { " " } else { "\n" },
                    max_text,
                )
            }
            _ => {}
        }
        for (k, v) in Attrs(attrs) {
            let ctx = if k.eq_ignore_ascii_case("href") {
                Some(UrlContext::Href)
            } else if k.eq_ignore_ascii_case("src") || k.eq_ignore_ascii_case("background") {
                Some(UrlContext::Src)
            } else if k.eq_ignore_ascii_case("action") {
                Some(UrlContext::Form)
            } else {
                None
            };
            if let Some(ctx) = ctx {
                if out.links.len() < max_links {
                    let encoded = v.contains("&#") || v.contains("&x");
                    out.links
                        .push((decode_entities(v).into_owned(), ctx, encoded));
                }
            } else if k.eq_ignore_ascii_case("style") {
                let s = v.to_ascii_lowercase().replace(' ', "");
                if s.contains("display:none")
                    || s.contains("visibility:hidden")
                    || s.contains("font-size:0")
                    || s.contains("font-size:1px")
                {
                    out.stats.hidden += 1;
                }
            } else if lname == b"font" && k.eq_ignore_ascii_case("size") && v.trim() == "1" {
                out.stats.hidden += 1;
            }
        }
    }
    if text_start < b.len() {
        push_text(&mut out.text, &html[text_start..], max_text);
    }
    out
}

fn push_text(out: &mut String, raw: &str, max: usize) {
    if raw.is_empty() || out.len() >= max {
        return;
    }
    let decoded = decode_entities(raw);
    let room = max - out.len();
    if decoded.len() <= room {
        out.push_str(&decoded);
    } else {
        out.push_str(&decoded[..decoded.floor_char_boundary(room)]);
    }
}

fn is_block(name: &[u8]) -> bool {
    matches!(
        name,
        b"p" | b"div"
            | b"tr"
            | b"li"
            | b"table"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"ul"
            | b"ol"
            | b"title"
    )
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(&hay[from.min(hay.len())..], needle).map(|p| p + from)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut i = from;
    while i < hay.len() {
        let p = memchr::memchr(b'<', &hay[i..])? + i;
        if hay.len() - p >= needle.len() && hay[p..p + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// The index of the first byte of `s` that `f` accepts: what `str::find`
/// gives for the same test on characters when the test only tells ASCII
/// apart (it accepts every non-ASCII character or none, and `f` every byte
/// from 0x80 up or none), without decoding UTF-8.
#[inline]
fn find_byte(s: &str, f: impl Fn(u8) -> bool) -> Option<usize> {
    s.bytes().position(f)
}

/// `s.trim_start()`, returning at once when the first byte is ASCII and not
/// whitespace (most calls: attributes are separated by one space): the
/// full trim decodes a character to test it against Unicode's whitespace.
#[inline]
fn trim_start(s: &str) -> &str {
    match s.as_bytes().first() {
        Some(&b) if b.is_ascii() && !(b'\t'..=b'\r').contains(&b) && b != b' ' => s,
        _ => s.trim_start(),
    }
}

fn split_tag(tag: &str) -> (&str, &str) {
    let tag = tag.trim_end_matches('/');
    match find_byte(tag, |c| c.is_ascii_whitespace()) {
        Some(p) => (&tag[..p], &tag[p..]),
        None => (tag, ""),
    }
}

/// Iterator over `key=value` attributes of a tag, tolerant of missing quotes.
struct Attrs<'a>(&'a str);

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = trim_start(self.0);
            if s.is_empty() {
                return None;
            }
            let key_end = find_byte(s, |c| c == b'=' || c.is_ascii_whitespace()).unwrap_or(s.len());
            let key = &s[..key_end];
            let rest = trim_start(&s[key_end..]);
            if let Some(rest) = rest.strip_prefix('=') {
                let rest = trim_start(rest);
                let (val, after) = match rest.as_bytes().first() {
                    Some(&q @ (b'"' | b'\'')) => match memchr::memchr(q, &rest.as_bytes()[1..]) {
                        Some(e) => (&rest[1..1 + e], &rest[2 + e..]),
                        None => (&rest[1..], ""),
                    },
                    _ => {
                        let e = find_byte(rest, |c| c.is_ascii_whitespace()).unwrap_or(rest.len());
                        (&rest[..e], &rest[e..])
                    }
                };
                self.0 = after;
                return Some((key, val));
            }
            if key.is_empty() {
                // A stray '=' or quote: skip one char to make progress.
                let mut c = s.chars();
                c.next();
                self.0 = c.as_str();
                continue;
            }
            self.0 = rest;
            return Some((key, ""));
        }
    }
}

/// Decode HTML character references (named ones spam uses, decimal, hex).
pub fn decode_entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = find_byte(&rest[1..], |c| !(c.is_ascii_alphanumeric() || c == b'#'))
            .map(|e| e + 1)
            .unwrap_or(rest.len());
        let ent = &rest[1..end];
        let decoded = if let Some(num) = ent.strip_prefix('#') {
            let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(hex, 16).ok()
            } else {
                num.parse::<u32>().ok()
            };
            code.and_then(char::from_u32)
        } else {
            match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "copy" => Some('©'),
                "reg" => Some('®'),
                "euro" => Some('€'),
                "pound" => Some('£'),
                _ => None,
            }
        };
        match decoded {
            Some(c) if ent.len() < 12 => {
                out.push(c);
                rest = &rest[end..];
                if rest.starts_with(';') {
                    rest = &rest[1..];
                }
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_start_agrees_with_str_trim_start() {
        for b in 0..=0x7fu8 {
            let s = format!("{}x y", b as char);
            assert_eq!(trim_start(&s), s.trim_start(), "{b:#x}");
        }
        for s in [
            "",
            "\u{a0}x",
            "\u{3000} a",
            "\u{85}b",
            "é",
            " \t\x0b\x0c\r\nz",
        ] {
            assert_eq!(trim_start(s), s.trim_start(), "{s:?}");
        }
    }

    #[test]
    fn byte_finds_agree_with_char_finds() {
        for s in [
            "",
            "abc",
            "a b",
            "é=x",
            "naïve key=v",
            "&amp;é#1;",
            "\u{a0}x y",
            "日本 語=",
            "x\ty",
            "ä",
            "a#é",
        ] {
            assert_eq!(
                find_byte(s, |c| c.is_ascii_whitespace()),
                s.find(|c: char| c.is_ascii_whitespace())
            );
            assert_eq!(
                find_byte(s, |c| c == b'=' || c.is_ascii_whitespace()),
                s.find(|c: char| c == '=' || c.is_ascii_whitespace())
            );
            assert_eq!(
                find_byte(s, |c| !(c.is_ascii_alphanumeric() || c == b'#')),
                s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            );
        }
    }

    #[test]
    fn text_links_and_stats() {
        let h = r#"<html><head><style>p{x}</style><script>alert(1)</script></head>
<body><p>Buy <b>now</b>&nbsp;&amp; save</p><a href="http://&#101;vil.com/x">click</a>
<img src=http://img.example.org/a.gif><form action='http://phish.example/login'></form>
<div style="display: none">hidden</div><!-- <a href="http://comment.example"> --></body></html>"#;
        let x = scan_html(h, 10_000, 100);
        assert!(x.text.contains("Buy now & save"), "{}", x.text);
        assert!(!x.text.contains("alert"));
        assert!(!x.text.contains("p{x}"));
        assert_eq!(x.stats.links, 1);
        assert_eq!(x.stats.images, 1);
        assert_eq!(x.stats.forms, 1);
        assert_eq!(x.stats.scripts, 1);
        assert_eq!(x.stats.hidden, 1);
        let links: Vec<_> = x.links.iter().map(|l| (l.0.as_str(), l.1, l.2)).collect();
        assert_eq!(
            links,
            vec![
                ("http://evil.com/x", UrlContext::Href, true),
                ("http://img.example.org/a.gif", UrlContext::Src, false),
                ("http://phish.example/login", UrlContext::Form, false),
            ]
        );
    }

    #[test]
    fn broken_html_is_tolerated_and_bounded() {
        for h in [
            "<",
            "<a href=",
            "<a href='x",
            "&#99999999999;",
            "<<<>>>",
            "&",
            "<!--",
        ] {
            let _ = scan_html(h, 100, 10);
        }
        let big = "word ".repeat(100_000);
        assert!(scan_html(&big, 1000, 10).text.len() <= 1000);
    }
}
