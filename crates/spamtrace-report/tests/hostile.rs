//! Mail is hostile: whatever a subject, domain or template holds, the report
//! must stay one inert document with only the tags and attributes it writes itself.

mod common;

use spamtrace_report::render;

const PAYLOADS: &[&str] = &[
    "</style><script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
    "</svg></title><script src=https://evil.example/x.js></script>",
    "<!-- --><iframe src=//evil.example>",
    "javascript:alert(1)",
    "a\u{0}b\u{7}c\u{1b}[31m",
    "evil\u{202E}gpj.exe\u{2066}x\u{2069}",
    "\u{feff}<base href=//evil.example/>",
    "<style>@import url(//evil.example/x.css)</style>",
    "<meta http-equiv=refresh content=0;url=//evil.example>",
];

/// The tags the report itself writes; anything else came from mail.
const ALLOWED_TAGS: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "style", "body", "header", "div", "h1", "h2",
    "h3", "p", "main", "section", "ul", "li", "span", "b", "svg", "line", "text", "path", "g",
    "rect", "table", "thead", "tbody", "tr", "th", "td", "pre", "dl", "dt", "dd", "footer",
];

/// Every tag name in the document, with the text of the whole tag.
fn tags(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("every tag is closed");
        let tag = &rest[..end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        out.push((name.to_ascii_lowercase(), tag.to_string()));
        rest = &rest[end..];
    }
    out
}

fn check_inert(html: &str) {
    for (name, tag) in tags(html) {
        assert!(ALLOWED_TAGS.contains(&name.as_str()), "foreign tag <{tag}>");
        // Attribute names only: values are double-quoted and cannot hold a
        // double quote (it would be escaped), so dropping them is exact.
        let lower: String = tag
            .to_ascii_lowercase()
            .split('"')
            .step_by(2)
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{tag}>"
        );
        assert!(!lower.contains('\''), "single-quoted attribute in <{tag}>");
        // Event handlers are `on...=` attributes; none is ever written.
        assert!(
            !lower
                .split_whitespace()
                .any(|w| w.starts_with("on") && w.contains('=')),
            "handler in <{tag}>"
        );
        assert!(
            !lower.contains("javascript:") && !lower.contains("href") && !lower.contains("src="),
            "link in <{tag}>"
        );
        assert!(!lower.contains(" style="), "inline style in <{tag}>");
    }
    assert_eq!(html.matches("<style>").count(), 1);
    assert_eq!(html.matches("</style>").count(), 1);
    assert_eq!(html.matches("<script").count(), 0);
    assert!(
        !html.contains('\0')
            && !html.contains('\u{202E}')
            && !html.contains('\u{1b}')
            && !html.contains('\u{feff}')
    );
}

#[test]
fn every_payload_in_every_field_stays_inert() {
    for payload in PAYLOADS {
        let html = render(&common::sample(&|name: &str| format!("{name}{payload}")));
        check_inert(&html);
        // The payload is still shown, escaped, so an analyst sees it.
        assert!(
            html.contains("&lt;") || !payload.contains('<'),
            "payload {payload:?} vanished"
        );
    }
    let html = render(&common::sample(&|name: &str| {
        format!("{name}evil\u{202E}gpj.exe")
    }));
    assert!(html.contains("evil[U+202E]gpj.exe"));
}

#[test]
fn a_megabyte_subject_is_clipped() {
    let huge = "<b>".repeat(350_000);
    let baseline = render(&common::sample(&|name: &str| name.to_string())).len();
    let html = render(&common::sample(&|name: &str| format!("{name}{huge}")));
    check_inert(&html);
    // About forty fields hold the payload; each shows at most 2,000 characters.
    assert!(html.len() < baseline + 2_500_000, "{} bytes", html.len());
    assert!(html.contains('…'));
}

#[test]
fn the_style_is_allowed_by_its_hash_and_nothing_else_is() {
    use base64::Engine;
    use sha2::Digest;
    let html = render(&common::sample(&|n: &str| n.to_string()));
    let css = &html[html.find("<style>").unwrap() + 7..html.find("</style>").unwrap()];
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(css.as_bytes()));
    let csp = spamtrace_report::content_security_policy();
    assert!(csp.starts_with("default-src 'none'; "));
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")));
    assert!(html.contains(&format!("content=\"{csp}\"")));
}

#[test]
fn empty_data_renders_a_page_that_says_so() {
    let html = render(&spamtrace_report::ReportData::default());
    check_inert(&html);
    assert!(html.contains("No takedown detected"));
    assert!(html.contains("No spam sightings in this period."));
}

#[test]
fn the_takedown_is_the_headline() {
    let html = render(&common::sample(&|n: &str| n.to_string()));
    let headline = &html[html.find("<section class=\"panel headline").unwrap()..];
    let headline = &headline[..headline.find("</section>").unwrap()];
    assert!(
        headline.contains("rustock fell to almost nothing at 16 Mar 2011 14:"),
        "{headline}"
    );
    assert!(html.matches("<svg class=\"chart").count() >= 7);
}
