//! URL extraction, de-obfuscation and normalisation.
//!
//! Spam hides its links: `hxxp://`, `example[.]com`, `&#101;` or `%65` in the
//! host, bare `www.` hosts, IP literals and decimal IPs (`http://3232235777/`),
//! `user@host` tricks. Every URL is normalised (scheme and host lowercased,
//! obfuscation undone) and given its registered domain under the Public Suffix
//! List.

use crate::{UrlContext, UrlRef};
use std::net::Ipv4Addr;
use std::sync::LazyLock;

/// Longest URL kept, in bytes.
const MAX_URL: usize = 2048;

/// A searcher for `://`, built once: a one-off `memmem::find` (or
/// `str::find` with a `&str`) builds one per call, which cost more than the
/// search itself on the short texts and attribute values seen here.
static SCHEME_SEP: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"://"));

/// Extract URLs from plain text, appending to `out` (at most `max` in total).
pub fn extract_urls(text: &str, context: UrlContext, out: &mut Vec<UrlRef>, max: usize) {
    let b = text.as_bytes();
    let mut i = 0;
    // Next candidates, recomputed only once passed (not once per URL).
    let mut next_scheme: Option<usize> = None;
    let mut next_www: Option<usize> = None;
    let mut scheme_done = false;
    let mut www_done = false;
    while i < b.len() && out.len() < max {
        // Find the next "://" or "www." whichever is first.
        if !scheme_done && next_scheme.is_none_or(|p| p < i) {
            next_scheme = SCHEME_SEP.find(&b[i..]).map(|p| p + i);
            scheme_done = next_scheme.is_none();
        }
        if !www_done && next_www.is_none_or(|p| p < i) {
            next_www = find_www(b, i);
            www_done = next_www.is_none();
        }
        let next_scheme = next_scheme.filter(|&p| p >= i);
        let next_www = next_www.filter(|&p| p >= i);
        let (start, with_scheme) = match (next_scheme, next_www) {
            (None, None) => break,
            (Some(s), Some(w)) if w < s => (w, false),
            (Some(s), _) => (s, true),
            (None, Some(w)) => (w, false),
        };
        if with_scheme {
            // Back up over the scheme letters.
            let mut s = start;
            while s > 0 && s > start.saturating_sub(8) && is_scheme_char(b[s - 1]) {
                s -= 1;
            }
            let scheme = &text[s..start];
            let end = url_end(b, start + 3);
            let rest = &text[start + 3..end];
            if let Some(canon) = canonical_scheme(scheme) {
                let obf = !canon.eq_ignore_ascii_case(scheme);
                if let Some(u) = normalize(canon, rest, context, obf) {
                    push_unique(out, u);
                }
            }
            i = end.max(start + 3);
        } else {
            let end = url_end(b, start);
            if let Some(u) = normalize("http", &text[start..end], context, false) {
                push_unique(out, u);
            }
            i = end.max(start + 4);
        }
    }
}

/// Normalise one link target found in an HTML attribute. `entity_encoded`
/// says whether the raw attribute used character references.
pub fn url_from_attribute(
    value: &str,
    context: UrlContext,
    entity_encoded: bool,
) -> Option<UrlRef> {
    let v = value.trim();
    let sep = SCHEME_SEP.find(v.as_bytes())?;
    let (scheme, rest) = (&v[..sep], &v[sep + 3..]);
    let canon = canonical_scheme(scheme.trim())?;
    let obf = !canon.eq_ignore_ascii_case(scheme.trim());
    let mut u = normalize(canon, rest, context, obf)?;
    if entity_encoded {
        u.obfuscated = true;
    }
    Some(u)
}

fn push_unique(out: &mut Vec<UrlRef>, u: UrlRef) {
    if !out.iter().any(|o| o.url == u.url) {
        out.push(u);
    }
}

fn is_scheme_char(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'*'
}

fn canonical_scheme(s: &str) -> Option<&'static str> {
    // Lowercased on the stack: every known scheme is at most 5 bytes.
    let mut buf = [0u8; 5];
    let l = buf.get_mut(..s.len())?;
    for (d, c) in l.iter_mut().zip(s.as_bytes()) {
        *d = c.to_ascii_lowercase();
    }
    Some(match &*l {
        b"http" | b"hxxp" | b"hxtp" | b"htxp" | b"h**p" | b"h++p" => "http",
        b"https" | b"hxxps" | b"h**ps" => "https",
        b"ftp" | b"fxp" => "ftp",
        _ => return None,
    })
}

fn find_www(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 4 <= b.len() {
        let p = memchr::memchr2(b'w', b'W', &b[i..])? + i;
        if p + 4 <= b.len()
            && b[p..p + 4].eq_ignore_ascii_case(b"www.")
            && (p == 0
                || !(b[p - 1].is_ascii_alphanumeric()
                    || matches!(b[p - 1], b'/' | b'.' | b'@' | b'-')))
        {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// Where a URL ends: at whitespace, quotes, angle brackets, or a closing
/// bracket that is not part of a `[.]`/`(.)` obfuscation.
fn url_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    let limit = (from + MAX_URL).min(b.len());
    while i < limit {
        let c = b[i];
        if c.is_ascii_whitespace()
            || matches!(
                c,
                b'"' | b'\'' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
            )
        {
            break;
        }
        if matches!(c, b'[' | b'(') {
            if i + 2 < b.len() && b[i + 1] == b'.' && matches!(b[i + 2], b']' | b')') {
                i += 3;
                continue;
            }
            if i + 4 < b.len()
                && b[i + 1..i + 4].eq_ignore_ascii_case(b"dot")
                && matches!(b[i + 4], b']' | b')')
            {
                i += 5;
                continue;
            }
        }
        if matches!(c, b']' | b')') {
            break;
        }
        i += 1;
    }
    // Trailing punctuation belongs to the sentence, not the URL.
    while i > from && matches!(b[i - 1], b'.' | b',' | b';' | b':' | b'!' | b'?' | b'*') {
        i -= 1;
    }
    i
}

/// Build a normalised URL from a scheme and the text after `://`.
fn normalize(
    scheme: &str,
    rest: &str,
    context: UrlContext,
    mut obfuscated: bool,
) -> Option<UrlRef> {
    let rest = if rest.len() > MAX_URL {
        &rest[..rest.floor_char_boundary(MAX_URL)]
    } else {
        rest
    };
    let mut deobf = String::new();
    // "[dot]" in any case needs a '[': look for one before lowercasing.
    // Every form needs a '[' or a '(', so one byte search rules them all
    // out for most URLs before the substring searches (each builds a
    // searcher).
    let rest = if memchr::memchr2(b'[', b'(', rest.as_bytes()).is_some()
        && (rest.contains("[.]")
            || rest.contains("(.)")
            || (rest.contains('[') && rest.to_ascii_lowercase().contains("[dot]")))
    {
        obfuscated = true;
        deobf = rest
            .replace("[.]", ".")
            .replace("(.)", ".")
            .replace("[dot]", ".")
            .replace("[DOT]", ".")
            .replace("(dot)", ".");
        deobf.as_str()
    } else {
        rest
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(auth_end);
    // user@host: the part before '@' is decoration (and a phishing trick).
    let hostport = match authority.rfind('@') {
        Some(p) => {
            obfuscated = true;
            &authority[p + 1..]
        }
        None => authority,
    };
    let host_raw = if hostport.starts_with('[') {
        hostport.split(']').next().map(|h| &h[1..]).unwrap_or("")
    } else {
        hostport
            .rsplit_once(':')
            .map(|(h, p)| {
                if p.bytes().all(|c| c.is_ascii_digit()) {
                    h
                } else {
                    hostport
                }
            })
            .unwrap_or(hostport)
    };
    let port = &hostport[host_raw.len()..].trim_start_matches(']');
    let (host, is_ip, host_obf) = normalize_host_inner(host_raw)?;
    obfuscated |= host_obf;
    let _ = deobf;
    let mut url = String::with_capacity(scheme.len() + 3 + host.len() + port.len() + path.len());
    url.push_str(scheme);
    url.push_str("://");
    if host.contains(':') {
        url.push('[');
        url.push_str(&host);
        url.push(']');
    } else {
        url.push_str(&host);
    }
    if port.starts_with(':') && port.len() > 1 {
        url.push_str(port);
    }
    url.push_str(if path.is_empty() { "/" } else { path });
    let domain = if is_ip {
        None
    } else {
        registered_domain(&host)
    };
    Some(UrlRef {
        url,
        host,
        domain,
        is_ip,
        obfuscated,
        context,
    })
}

/// Normalise a host: percent-decoding, lowercase, trailing dot, decimal/hex
/// IPv4 forms. Returns the host and whether it is an IP address, or `None`
/// when it is not a plausible host.
pub fn normalize_host(host: &str) -> Option<(String, bool)> {
    normalize_host_inner(host).map(|(h, ip, _)| (h, ip))
}

fn normalize_host_inner(host: &str) -> Option<(String, bool, bool)> {
    let mut obf = false;
    let decoded;
    let host = if host.contains('%') {
        obf = true;
        decoded = percent_encoding::percent_decode_str(host)
            .decode_utf8_lossy()
            .into_owned();
        decoded.as_str()
    } else {
        host
    };
    let h = host.trim_end_matches('.').to_lowercase();
    if h.is_empty() || h.len() > 253 {
        return None;
    }
    if let Ok(ip) = h.parse::<std::net::IpAddr>() {
        return Some((ip.to_string(), true, obf));
    }
    // Decimal (3232235777) or hex (0xc0a80101) IPv4: browsers accept both.
    if h.bytes().all(|c| c.is_ascii_digit()) && h.len() <= 10 {
        let n: u64 = h.parse().ok()?;
        if n > u32::MAX as u64 || n < 1 << 24 {
            return None;
        }
        return Some((Ipv4Addr::from(n as u32).to_string(), true, true));
    }
    if let Some(hex) = h.strip_prefix("0x")
        && let Ok(n) = u32::from_str_radix(hex, 16)
    {
        return Some((Ipv4Addr::from(n).to_string(), true, true));
    }
    if !h.contains('.') {
        return None;
    }
    if !h
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        return None;
    }
    // `..` looked for a pair of bytes at a time: `str::contains` would
    // build a substring searcher for each host.
    if h.starts_with('.') || h.as_bytes().windows(2).any(|w| w == b"..") {
        return None;
    }
    // The last label must look like a TLD: letters (or punycode).
    let tld = h.rsplit('.').next()?;
    if tld.len() < 2 || !(tld.chars().all(|c| c.is_alphabetic()) || tld.starts_with("xn--")) {
        return None;
    }
    Some((h, false, obf))
}

/// The registered domain of a host under the Public Suffix List, or `None`
/// when the host is itself a public suffix or not a name.
pub fn registered_domain(host: &str) -> Option<String> {
    let d = psl::domain(host.as_bytes())?;
    // A domain whose suffix is not in the list (unknown TLD) is still useful,
    // but only if it has a label before the suffix.
    std::str::from_utf8(d.as_bytes()).ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(t: &str) -> Vec<(String, Option<String>, bool)> {
        let mut v = Vec::new();
        extract_urls(t, UrlContext::Text, &mut v, 100);
        v.into_iter()
            .map(|u| (u.url, u.domain, u.obfuscated))
            .collect()
    }

    #[test]
    fn plain_and_obfuscated() {
        let got = urls(
            "Visit http://Shop.Example.CO.UK/buy?x=1. or hxxp://evil[.]example(.)com/p, \
             www.pills-now.com! and http://3232235777/x and https://%77ww.bank.com/login \
             and http://paypal.com@phish.ru/ and (http://a.example.org/path)",
        );
        assert_eq!(
            got,
            vec![
                (
                    "http://shop.example.co.uk/buy?x=1".into(),
                    Some("example.co.uk".into()),
                    false
                ),
                (
                    "http://evil.example.com/p".into(),
                    Some("example.com".into()),
                    true
                ),
                (
                    "http://www.pills-now.com/".into(),
                    Some("pills-now.com".into()),
                    false
                ),
                ("http://192.168.1.1/x".into(), None, true),
                (
                    "https://www.bank.com/login".into(),
                    Some("bank.com".into()),
                    true
                ),
                ("http://phish.ru/".into(), Some("phish.ru".into()), true),
                (
                    "http://a.example.org/path".into(),
                    Some("example.org".into()),
                    false
                ),
            ]
        );
    }

    #[test]
    fn junk_is_not_a_url() {
        assert!(urls("a://b :// http:// www. http://nohost/ http://-/ ://::").is_empty());
        let long = format!("http://a.com/{}", "x".repeat(100_000));
        let u = urls(&long);
        assert_eq!(u.len(), 1);
        assert!(u[0].0.len() <= MAX_URL + 20);
    }

    #[test]
    fn attribute_urls() {
        let u = url_from_attribute("HTTP://Example.com:8080/a", UrlContext::Href, true).unwrap();
        assert_eq!(u.url, "http://example.com:8080/a");
        assert!(u.obfuscated);
        assert!(url_from_attribute("mailto:x@y.com", UrlContext::Href, false).is_none());
    }
}
