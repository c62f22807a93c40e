//! Recognising what a file holds from its first bytes, never from its name:
//! spam archives are full of files called `1.`, `msg` or `inmail.42`.

/// How many leading bytes [`detect_kind`] is given by the readers in this crate.
pub const SAMPLE_BYTES: usize = 8 * 1024;

/// What the first bytes of a file or stream say it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentKind {
    /// One RFC 822 message: it starts with header fields.
    Eml,
    /// An mbox file (one or more messages, each after a `From ` line).
    Mbox,
    /// A batch-SMTP transcript (`HELO`, `MAIL FROM:`, `RCPT TO:`, `DATA` ... `.`),
    /// as some spam traps and test suites store mail; each DATA block is a message.
    Bsmtp,
    /// A TREC spam-track index: lines `spam PATH` / `ham PATH`.
    TrecIndex,
    /// gzip-compressed data (magic `1f 8b`); its content is detected again after decompression.
    Gzip,
    /// zstd-compressed data (magic `28 b5 2f fd`); detected again after decompression.
    Zstd,
    /// Anything else, with the reason it does not look like mail.
    NotMail {
        /// Why the content was not taken for mail, for the `skipped` report.
        reason: String,
    },
}

/// Header names that mark a header block as mail (any `X-` name counts too).
/// A text file can start with `Name: value` by chance (`Note: ...`,
/// `https://...`); requiring a known mail header avoids taking it for mail.
const MAIL_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "received",
    "return-path",
    "message-id",
    "delivered-to",
    "envelope-to",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "mime-version",
    "sender",
    "reply-to",
    "in-reply-to",
    "references",
    "dkim-signature",
    "domainkey-signature",
    "authentication-results",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "received-spf",
    "user-agent",
    "thread-topic",
    "thread-index",
    "precedence",
    "errors-to",
    "organization",
    "importance",
    "status",
];

/// Decide what `first_bytes` (the start of a file or stream; [`SAMPLE_BYTES`]
/// is plenty) hold. Total on any input: never panics, never allocates much.
pub fn detect_kind(first_bytes: &[u8]) -> ContentKind {
    if first_bytes.is_empty() {
        return not_mail("empty file");
    }
    if first_bytes.starts_with(&[0x1f, 0x8b]) {
        return ContentKind::Gzip;
    }
    if first_bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return ContentKind::Zstd;
    }
    // Leading blank lines (and a UTF-8 BOM) say nothing; look past them.
    let body = first_bytes
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(first_bytes);
    let start = body
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
        .unwrap_or(body.len());
    let body = &body[start..];
    if body.is_empty() {
        return not_mail("only whitespace");
    }
    if memchr::memchr(0, &body[..body.len().min(1024)]).is_some() {
        return not_mail("binary data (NUL bytes)");
    }
    if body.starts_with(b"From ") {
        return ContentKind::Mbox;
    }
    if is_bsmtp(body) {
        return ContentKind::Bsmtp;
    }
    if is_trec_index(body) {
        return ContentKind::TrecIndex;
    }
    header_verdict(body)
}

fn not_mail(reason: &str) -> ContentKind {
    ContentKind::NotMail {
        reason: reason.to_string(),
    }
}

/// Lines of `sample`; the last one may be cut off by the sample's end.
fn lines(sample: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut rest = sample;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                Some((line.strip_suffix(b"\r").unwrap_or(line), true))
            }
            None => {
                let line = rest;
                rest = &[];
                Some((line, false))
            }
        }
    })
}

fn is_bsmtp(body: &[u8]) -> bool {
    let mut saw_greeting = false;
    for (line, _) in lines(body).take(4) {
        let upper = line.get(..10).unwrap_or(line).to_ascii_uppercase();
        if upper.starts_with(b"HELO ") || upper.starts_with(b"EHLO ") {
            saw_greeting = true;
        } else if upper.starts_with(b"MAIL FROM:") {
            return true;
        } else if !saw_greeting {
            return false;
        }
    }
    false
}

fn is_trec_index(body: &[u8]) -> bool {
    // A damaged line or two must not turn an index into "not mail" (its
    // bad lines are reported one by one when it is read), but the first line
    // must be an entry and entries must be the majority.
    let (mut valid, mut invalid) = (0, 0);
    for (line, complete) in lines(body)
        .filter(|(l, _)| !l.iter().all(u8::is_ascii_whitespace))
        .take(20)
    {
        let mut fields = line
            .split(|b| *b == b' ' || *b == b'\t')
            .filter(|f| !f.is_empty());
        let label_ok = fields
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case(b"spam") || l.eq_ignore_ascii_case(b"ham"));
        let path_ok = fields.next().is_some();
        let no_more = fields.next().is_none();
        if label_ok && path_ok && no_more {
            valid += 1;
        } else if complete {
            if valid == 0 {
                return false;
            }
            invalid += 1;
        }
    }
    valid > invalid
}

/// The name of a header field line (`Name: value`), if the line is one.
pub(crate) fn header_name(line: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', &line[..line.len().min(256)])?;
    let name = line[..colon].strip_suffix(b" ").unwrap_or(&line[..colon]);
    let printable = |b: &u8| (33..=126).contains(b) && *b != b':';
    (!name.is_empty() && name.iter().all(printable)).then_some(name)
}

fn is_mail_header(name: &[u8]) -> bool {
    (name.len() > 2 && name[..2].eq_ignore_ascii_case(b"x-"))
        || MAIL_HEADERS
            .iter()
            .any(|h| h.as_bytes().eq_ignore_ascii_case(name))
}

/// Mail starts with header fields (`Name: value`, folded lines beginning with
/// white space), at least one of them a name mail uses.
fn header_verdict(body: &[u8]) -> ContentKind {
    let mut fields = 0;
    for (i, (line, complete)) in lines(body).enumerate() {
        if line.is_empty() {
            break;
        }
        if i > 0 && (line[0] == b' ' || line[0] == b'\t') {
            continue;
        }
        match header_name(line) {
            Some(name) => {
                fields += 1;
                if is_mail_header(name) {
                    return ContentKind::Eml;
                }
            }
            // A cut-off last line of the sample proves nothing either way.
            None if !complete => break,
            None if fields == 0 => {
                let shown: String =
                    String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
                return ContentKind::NotMail {
                    reason: format!("text without mail headers (starts with {shown:?})"),
                };
            }
            None => break,
        }
    }
    if fields == 0 {
        not_mail("no mail header fields")
    } else {
        not_mail("header-like lines but none a mail header (a feed or list?)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_not_mail(k: ContentKind) -> bool {
        matches!(k, ContentKind::NotMail { .. })
    }

    #[test]
    fn recognises_mail_formats() {
        assert_eq!(
            detect_kind(b"Return-Path: <a@b>\nSubject: x\n\nbody"),
            ContentKind::Eml
        );
        assert_eq!(
            detect_kind(b"in-reply-to: <x>\nfoo: bar\n\n"),
            ContentKind::Eml
        );
        assert_eq!(
            detect_kind(b"Replied: Fri\r\nX-Foo: 1\r\n\r\n"),
            ContentKind::Eml
        );
        assert_eq!(detect_kind(b"\n\nFrom: a@b\n\n"), ContentKind::Eml);
        assert_eq!(
            detect_kind(b"From a@b  Tue Jun 14 19:52:09 2005\nSubject: x\n"),
            ContentKind::Mbox
        );
        assert_eq!(
            detect_kind(b"HELO example.com\nMAIL FROM:<a@b>\n"),
            ContentKind::Bsmtp
        );
        assert_eq!(
            detect_kind(b"spam ../spam/1\nham ../ham/2\n"),
            ContentKind::TrecIndex
        );
        assert_eq!(
            detect_kind(b"spam ../spam/1\nham ../ha"),
            ContentKind::TrecIndex
        );
        assert_eq!(
            detect_kind(b"spam a\nham b\nbroken line here\n"),
            ContentKind::TrecIndex
        );
        assert_eq!(detect_kind(&[0x1f, 0x8b, 8, 0]), ContentKind::Gzip);
        assert_eq!(detect_kind(&[0x28, 0xb5, 0x2f, 0xfd, 0]), ContentKind::Zstd);
    }

    #[test]
    fn rejects_non_mail() {
        assert!(is_not_mail(detect_kind(b"")));
        assert!(is_not_mail(detect_kind(b"\n")));
        assert!(is_not_mail(detect_kind(
            b"https://a.example/x\nhttps://b.example/y\n"
        )));
        assert!(is_not_mail(detect_kind(
            b"phish_id,url,phish_detail_url\n1,http://x,y\n"
        )));
        assert!(is_not_mail(detect_kind(b"Permission is hereby granted\n")));
        assert!(is_not_mail(detect_kind(
            b"RENAME \"A.BAS\" \"B.BAS\"\n\nRUN:\n"
        )));
        assert!(is_not_mail(detect_kind(b"3 V1234 N5 G0123\n1 :1234.M1\n")));
        assert!(is_not_mail(detect_kind(
            b"Note: this is a readme\nIt has text.\n"
        )));
        assert!(is_not_mail(detect_kind(b"\x00\x01\x02From: x\n")));
        assert!(is_not_mail(detect_kind(
            b"spam ../a\nthis is not an index\nnor this\n"
        )));
        assert!(is_not_mail(detect_kind(
            b"this is not\nspam ../a\nham ../b\n"
        )));
        assert!(is_not_mail(detect_kind(b"<html><body>hi</body></html>")));
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut state: u32 = 12345;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (state >> 16) as u8
                })
                .collect();
            let _ = detect_kind(&bytes);
        }
        let _ = detect_kind(b"\xef\xbb\xbf");
        let _ = detect_kind(b":");
        let _ = detect_kind(b" :\n\t:\n");
    }
}
