//! Header shapes: what a sending program leaves in the headers regardless of
//! the campaign it sends (which headers, in which order, how its Message-ID,
//! Date and MIME boundary look, its X-Mailer, encodings, line endings and
//! quirks).

use crate::text::{hash_bytes, mix};
use serde::{Deserialize, Serialize};
use spamtrace_mail::{Analysis, Envelope};

/// Header names added by receiving systems (MTAs, filters, mailbox
/// software), not by the sending program: left out of the shape. Matched
/// case-insensitively; an entry ending in `*` is a prefix.
const RECEIVER_HEADERS: &[&str] = &[
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-envelope-*",
    "x-spam-*",
    "x-virus-*",
    "x-amavis-*",
    "x-received",
    "authentication-results",
    "arc-*",
    "received-spf",
    "x-google-*",
    "x-gm-*",
    "x-ms-exchange-*",
    "x-forefront-*",
    "x-microsoft-antispam*",
    "x-eopattributedmessage",
    "status",
    "x-status",
    "x-keywords",
    "x-uid",
    "x-uidl",
    "content-length",
    "lines",
    "x-mozilla-*",
    "x-evolution*",
    "x-pyzor",
    "x-razor*",
    "x-dcc-*",
    "x-mailscanner*",
    "x-barracuda*",
    "x-proofpoint*",
    "x-ironport*",
    "x-sieve",
    "x-loop",
    "x-rcpt-to",
    "x-beenthere",
    "x-mailman-version",
    "list-*",
    "errors-to",
    "x-apparently-to",
    "x-yahoo*",
    "x-ymail*",
    "x-originalarrivaltime",
    "dkim-signature",
    "domainkey-signature",
    "x-authentication-warning",
    "x-spamtrace-*",
    "x-egroups-*",
    "mailing-list",
    "x-topica-*",
    "x-antiabuse",
    "x-ms-*",
    "x-sender-ip",
    "x-ms-has-attach",
    "x-original-*",
    "x-cloudmark*",
    "x-orig-*",
    "x-incomingheadercount",
    "x-get-message-sender-via",
    "x-source*",
    "x-authenticated-*",
    "x-abuse-*",
    "x-ovh-*",
    "x-gmx-*",
    "x-ui-*",
    "x-mail-from",
];

/// Whether a header name was probably written by a receiving system.
pub fn is_receiver_header(name: &str) -> bool {
    let b = name.as_bytes();
    let Some(first) = b.first().map(u8::to_ascii_lowercase) else {
        return false;
    };
    // Most sender headers start with a letter no receiver header starts with.
    if !b"rdexaslcpm".contains(&first) {
        return false;
    }
    RECEIVER_HEADERS.iter().any(|pat| {
        pat.as_bytes()[0] == first
            && match pat.strip_suffix('*') {
                Some(prefix) => {
                    b.len() >= prefix.len()
                        && b[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
                }
                None => name.eq_ignore_ascii_case(pat),
            }
    })
}

/// The header-shape fingerprint of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderShape {
    /// Names of the headers the sender wrote, in order, spelled as written
    /// (case is part of a program's hand: `Content-type`, `Message-Id`).
    pub order: Vec<String>,
    /// Shape of the Message-ID (see [`value_shape`]); `@from` when its domain
    /// is the From domain.
    pub message_id: Option<String>,
    /// Shape of the Date header: digits as `9`, words as `a`, and the time
    /// zone kept when it is `+0000`.
    pub date: Option<String>,
    /// Shape of the top-level MIME boundary.
    pub boundary: Option<String>,
    /// X-Mailer or User-Agent, as written.
    pub mailer: Option<String>,
    /// Top-level Content-Type, charset (as written) and transfer encoding.
    pub mime: String,
    /// Whether header lines end in CRLF.
    pub crlf: bool,
    /// The SMTP dialect the trap recorded, when the message came over SMTP.
    pub dialect: Option<String>,
    /// Oddities no real client produces (see [`quirks`]).
    pub quirks: Vec<String>,
}

/// Classify a maximal run of ASCII alphanumerics: `9` digits, `x`/`X` hex
/// with both digits and letters, `a` lowercase, `A` uppercase, `Aa` mixed
/// case, `w` letters and digits. Machine-made runs (digits, hex) keep their
/// length, which programs fix; word-like runs do not, since they vary.
fn run_shape(run: &str, out: &mut String) {
    let b = run.as_bytes();
    let digits = b.iter().all(|c| c.is_ascii_digit());
    let has_digit = b.iter().any(|c| c.is_ascii_digit());
    let has_lower = b.iter().any(|c| c.is_ascii_lowercase());
    let has_upper = b.iter().any(|c| c.is_ascii_uppercase());
    let lower_hex = b
        .iter()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
    let upper_hex = b
        .iter()
        .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
    let (class, keep_len) = if digits {
        ("9", true)
    } else if has_digit && lower_hex && b.len() >= 4 {
        ("x", true)
    } else if has_digit && upper_hex && b.len() >= 4 {
        ("X", true)
    } else if has_digit {
        ("w", false)
    } else if has_lower && has_upper {
        ("Aa", false)
    } else if has_upper {
        ("A", false)
    } else {
        ("a", false)
    };
    out.push_str(class);
    if keep_len {
        out.push_str(&b.len().to_string());
    }
}

/// The shape of a header value: every run of letters and digits replaced by
/// its class (see `run_shape`), punctuation kept. Bounded to 200 bytes.
pub fn value_shape(value: &str) -> String {
    let value = &value[..value.floor_char_boundary(200)];
    let mut out = String::with_capacity(value.len());
    let mut run_start: Option<usize> = None;
    for (i, c) in value.char_indices() {
        if c.is_ascii_alphanumeric() {
            run_start.get_or_insert(i);
        } else {
            if let Some(s) = run_start.take() {
                run_shape(&value[s..i], &mut out);
            }
            if c.is_ascii() {
                out.push(c);
            } else {
                out.push('?');
            }
        }
    }
    if let Some(s) = run_start {
        run_shape(&value[s..], &mut out);
    }
    out
}

fn message_id_shape(value: &str, from_domain: Option<&str>) -> String {
    let value = value.trim();
    if let Some((local, domain)) = value.rsplit_once('@') {
        let domain_clean = domain.trim_end_matches('>').to_ascii_lowercase();
        if from_domain.is_some_and(|d| d == domain_clean) {
            return format!("{}@from>", value_shape(local));
        }
        // A domain's labels vary by sender; their count and classes do not.
        return format!("{}@{}", value_shape(local), value_shape(domain));
    }
    value_shape(value)
}

fn date_shape(value: &str) -> String {
    let value = value.trim();
    let mut out = String::new();
    let mut last_alpha = false;
    for c in value.chars().take(64) {
        if c.is_ascii_digit() {
            out.push('9');
            last_alpha = false;
        } else if c.is_alphabetic() {
            if !last_alpha {
                out.push('a');
            }
            last_alpha = true;
        } else {
            out.push(if c.is_ascii() { c } else { '?' });
            last_alpha = false;
        }
    }
    if value.ends_with(" +0000") || value.ends_with(" -0000") {
        out.truncate(out.len() - 5);
        out.push_str(&value[value.len() - 5..]);
    }
    out
}

/// Oddities in the headers that real mail clients do not produce:
/// unexpanded template macros, missing Date or Message-ID, an Outlook
/// Express X-Mailer with a MimeOLE version from another build.
pub fn quirks(analysis: &Analysis) -> Vec<String> {
    let sender_headers = analysis
        .headers
        .iter()
        .any(|h| !is_receiver_header(&h.name));
    quirks_with(analysis, sender_headers)
}

fn quirks_with(analysis: &Analysis, sender_headers: bool) -> Vec<String> {
    let mut q = Vec::new();
    let macro_like = |v: &str| {
        v.contains("{nChar")
            || v.contains("%RND")
            || v.contains("%RAND")
            || v.contains("{%")
            || v.contains("[RND")
    };
    if analysis.headers.iter().any(|h| macro_like(&h.value)) {
        q.push("unexpanded template macro in a header".to_string());
    }
    if sender_headers {
        if analysis.header("Date").is_none() {
            q.push("no Date header".to_string());
        }
        if analysis.header("Message-ID").is_none() {
            q.push("no Message-ID header".to_string());
        }
    }
    if let (Some(mailer), Some(mime_ole)) =
        (analysis.header("X-Mailer"), analysis.header("X-MimeOLE"))
    {
        // Outlook Express 6.00.2900.NNNN ships with MimeOLE V6.00.2900.NNNN.
        if let Some(build) = mailer.strip_prefix("Microsoft Outlook Express 6.00.2900.")
            && !mime_ole
                .trim_end()
                .ends_with(&format!("V6.00.2900.{}", build.trim()))
        {
            q.push(format!(
                "X-Mailer Outlook Express 6.00.2900.{} with a MimeOLE of another build",
                build.trim()
            ));
        }
    }
    q
}

/// Compute the header shape of a message (the trap's SMTP dialect, when
/// there is one, is part of it).
pub fn header_shape(analysis: &Analysis) -> HeaderShape {
    header_shape_with(analysis, None)
}

/// [`header_shape`] with the envelope's SMTP dialect.
pub fn header_shape_with(analysis: &Analysis, envelope: Option<&Envelope>) -> HeaderShape {
    let from_domain = analysis.from_domain();
    let order: Vec<String> = analysis
        .headers
        .iter()
        // A name with spaces is no header: it is an mbox `From ` line or
        // damage, and would make every message's shape unique.
        .filter(|h| !is_receiver_header(&h.name) && !h.name.contains(char::is_whitespace))
        .take(64)
        .map(|h| h.name.chars().take(64).collect())
        .collect();
    let mime = format!(
        "{};{};{}",
        analysis.mime.content_type,
        analysis.mime.charset.as_deref().unwrap_or("-"),
        analysis.mime.transfer_encoding.as_deref().unwrap_or("-")
    );
    HeaderShape {
        message_id: analysis
            .header("Message-ID")
            .map(|v| message_id_shape(v, from_domain)),
        date: analysis
            .date_raw
            .as_deref()
            .or_else(|| analysis.header("Date"))
            .map(date_shape),
        boundary: analysis.mime.boundary.as_deref().map(value_shape),
        mailer: analysis
            .header("X-Mailer")
            .or_else(|| analysis.header("User-Agent"))
            .map(|m| m.chars().take(100).collect()),
        mime,
        crlf: analysis.mime.crlf,
        dialect: envelope
            .and_then(|e| e.smtp.as_ref())
            .map(|s| s.dialect.clone())
            .filter(|d| !d.is_empty()),
        quirks: quirks_with(analysis, !order.is_empty()),
        order,
    }
}

impl HeaderShape {
    /// Whether there is anything to fingerprint (no sender headers: no).
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The features compared when clustering shapes into families: adjacent
    /// header-name pairs (order), the value shapes, the mailer, the MIME
    /// summary, line endings, dialect and quirks. As a sorted set of hashes.
    pub fn features(&self) -> Vec<u64> {
        let mut f = Vec::with_capacity(self.order.len() + 12);
        let tag = |t: &str, v: &str| mix(hash_bytes(t.as_bytes()) ^ hash_bytes(v.as_bytes()));
        let mut prev = "^";
        for name in &self.order {
            f.push(mix(
                tag("pair", prev) ^ hash_bytes(name.as_bytes()).rotate_left(17)
            ));
            prev = name;
        }
        f.push(mix(tag("pair", prev) ^ hash_bytes(b"$").rotate_left(17)));
        if let Some(m) = &self.message_id {
            f.push(tag("mid", m));
        } else {
            f.push(tag("mid", "-"));
        }
        if let Some(d) = &self.date {
            f.push(tag("date", d));
        }
        if let Some(b) = &self.boundary {
            f.push(tag("boundary", b));
        }
        if let Some(m) = &self.mailer {
            f.push(tag("mailer", m));
        }
        f.push(tag("mime", &self.mime));
        f.push(tag("crlf", if self.crlf { "y" } else { "n" }));
        if let Some(d) = &self.dialect {
            f.push(tag("dialect", d));
        }
        for q in &self.quirks {
            f.push(tag("quirk", q));
        }
        f.sort_unstable();
        f.dedup();
        f
    }

    /// A short stable fingerprint of the whole shape, hex.
    pub fn fingerprint(&self) -> String {
        format!("{:016x}", fingerprint_of(&self.features()))
    }

    /// The shape in words, for analysts.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.order.is_empty() {
            parts.push(format!("headers in the order {}", self.order.join(", ")));
        }
        if let Some(m) = &self.message_id {
            parts.push(format!("Message-ID shaped {m}"));
        }
        if let Some(d) = &self.date {
            parts.push(format!("Date shaped \"{d}\""));
        }
        if let Some(b) = &self.boundary {
            parts.push(format!("boundary shaped \"{b}\""));
        }
        if let Some(m) = &self.mailer {
            parts.push(format!("mailer \"{m}\""));
        }
        parts.push(format!("MIME {}", self.mime));
        parts.push(if self.crlf {
            "CRLF line endings".into()
        } else {
            "bare LF line endings".into()
        });
        if let Some(d) = &self.dialect {
            parts.push(format!("SMTP dialect {d}"));
        }
        for q in &self.quirks {
            parts.push(q.clone());
        }
        parts.join("; ")
    }
}

/// The fingerprint hash of a feature set (see [`HeaderShape::features`]).
pub(crate) fn fingerprint_of(features: &[u64]) -> u64 {
    features.iter().fold(0u64, |acc, f| mix(acc ^ f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spamtrace_mail::HeaderField;

    fn hf(name: &str, value: &str) -> HeaderField {
        HeaderField {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn value_shapes() {
        assert_eq!(
            value_shape("<000d01c8a1b2$3c4d5e60$6f1a2b3c@kqzt12>"),
            "<x12$x8$x8@w>"
        );
        assert_eq!(
            value_shape("----=_NextPart_000_0006_01C8A1B2.3C4D5E60"),
            "----=_Aa_93_94_X8.X8"
        );
        assert_eq!(value_shape("héllo"), "a?a");
        assert_eq!(
            date_shape("Tue, 15 Apr 2008 10:11:12 +0000"),
            "a, 99 a 9999 99:99:99 +0000"
        );
        assert_eq!(
            date_shape("15 Apr 2008 10:11:12 -0700"),
            "99 a 9999 99:99:99 -9999"
        );
        assert_eq!(
            message_id_shape("<ABCDEF0123.123456@yahoo.com>", Some("yahoo.com")),
            "<X10.96@from>"
        );
    }

    #[test]
    fn receiver_headers_are_left_out_and_quirks_found() {
        let a = Analysis {
            headers: vec![
                hf("Received", "from {nChar[8-12]} ([1.2.3.4])"),
                hf("X-Spam-Status", "Yes"),
                hf("From", "a@b.example"),
                hf("X-Mailer", "Microsoft Outlook Express 6.00.2900.3138"),
                hf("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.2900.3198"),
            ],
            ..Default::default()
        };
        let s = header_shape(&a);
        assert_eq!(s.order, vec!["From", "X-Mailer", "X-MimeOLE"]);
        assert!(s.quirks.iter().any(|q| q.contains("macro")));
        assert!(s.quirks.iter().any(|q| q.contains("another build")));
        assert!(s.quirks.iter().any(|q| q == "no Date header"));
        assert!(
            s.describe()
                .contains("headers in the order From, X-Mailer, X-MimeOLE")
        );
        assert_eq!(s.fingerprint(), header_shape(&a).fingerprint());
        assert!(header_shape(&Analysis::default()).is_empty());
        assert!(is_receiver_header("x-spam-level") && !is_receiver_header("X-Mailer"));
    }
}
