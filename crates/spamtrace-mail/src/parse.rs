//! From raw bytes to an [`Analysis`].

use crate::html::scan_html;
use crate::received::{find_origin, hop_from};
use crate::urls::{extract_urls, url_from_attribute};
use crate::{Analysis, Attachment, HeaderField, Mailbox, MimeShape, UrlContext};
use mail_parser::{
    Address, Header, HeaderName, HeaderValue, Message, MessageParser, MimeHeaders, PartType,
};
use sha2::{Digest, Sha256};

/// Explicit limits on what one message may cost. A message over a limit is
/// still stored raw, with [`Analysis::problem`] saying which limit it broke.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest message parsed, in bytes (larger ones are stored raw, unparsed).
    pub max_message_bytes: usize,
    /// Most MIME parts analysed.
    pub max_parts: usize,
    /// Deepest multipart nesting analysed.
    pub max_depth: usize,
    /// Most header fields kept.
    pub max_headers: usize,
    /// Longest header value kept, in bytes.
    pub max_header_value: usize,
    /// Most text kept for analysis, in bytes.
    pub max_text_bytes: usize,
    /// Most URLs kept.
    pub max_urls: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 << 20,
            max_parts: 1000,
            max_depth: 50,
            max_headers: 1000,
            max_header_value: 16 << 10,
            max_text_bytes: 256 << 10,
            max_urls: 500,
        }
    }
}

/// The receiving infrastructure: hops whose client matches are skipped when
/// looking for the origin of a message.
#[derive(Debug, Clone, Default)]
pub struct TrustedHosts {
    /// Host names (matched with their subdomains) or IP addresses.
    pub hosts: Vec<String>,
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Analyse one raw message. Never panics on any input; what could not be
/// understood is in `problem`, and the raw bytes are kept by the caller.
pub fn analyze(raw: &[u8], limits: &Limits, trusted: &TrustedHosts) -> Analysis {
    let depth = Depth::Full(trusted);
    guarded(raw, depth, || analyze_inner(raw, limits, depth))
}

/// Analyse one raw message for scoring only: the fields a classifier reads,
/// two to three times as fast as [`analyze`] on the SpamAssassin corpus.
///
/// Filled exactly as [`analyze`] fills them (same parser output, same
/// limits, same `problem`): `size`, `problem`, `subject`, `from` (display
/// name and address), `text`, `html`, `urls`, `attachments` (file name,
/// declared and sniffed type, size) and `mime`.
///
/// `headers` holds only the mailing-list fields ([`LIST_HEADERS`]), each as
/// [`analyze`] has it, in their original order.
///
/// Left empty, because scoring does not read them and they cost most of the
/// parse: `sha256` (of the message and of each attachment), every other
/// header field (none is decoded or unfolded), `sender`, `reply_to`, `return_path`,
/// `to`, `message_id`, `date`, `date_raw`, `mailer`, `received` and
/// `origin`. Whoever stores or trains on a message needs [`analyze`]; a
/// caller that only needs the message's identity besides the score can take
/// [`sha256_hex`] of the raw bytes.
///
/// Like [`analyze`], it never panics on any input.
pub fn analyze_for_scoring(raw: &[u8], limits: &Limits) -> Analysis {
    guarded(raw, Depth::Scoring, || {
        analyze_inner(raw, limits, Depth::Scoring)
    })
}

/// How much one analysis extracts.
#[derive(Clone, Copy)]
enum Depth<'t> {
    /// Everything ([`analyze`]); the trusted hosts locate the origin hop.
    Full(&'t TrustedHosts),
    /// Only what scoring reads ([`analyze_for_scoring`]).
    Scoring,
}

impl Depth<'_> {
    fn is_full(self) -> bool {
        matches!(self, Depth::Full(_))
    }
}

/// The header parsing [`analyze_for_scoring`] needs: the MIME headers (which
/// drive the body decoding exactly as the default configuration does), the
/// Subject as text and From as an address; every other field is skipped to
/// its end without being decoded. Built once: building it allocates.
///
/// The dates are the exception: mail-parser 0.11's date parser reads an
/// obsolete zone name as three bytes whatever they are, so on a value such
/// as `29 Jul 01 11:34:44 AM` it runs over the line end and swallows the
/// next field (or the blank line before the body). Skipping it would find
/// fields the full parse does not, so dates go through the same parser as
/// in [`analyze`]. Every other parser mail-parser has ends a field exactly
/// where skipping does (at the first line break not followed by a space or
/// tab; encoded words only ever consume folded line breaks), which the
/// corpus test in `spamtrace-classify/tests/lean_analysis.rs` checks.
static SCORING_PARSER: std::sync::LazyLock<MessageParser> = std::sync::LazyLock::new(|| {
    let mut parser = MessageParser::new()
        .with_mime_headers()
        .header_text(HeaderName::Subject)
        .header_address(HeaderName::From)
        .header_date(HeaderName::Date)
        .header_date(HeaderName::ResentDate);
    // The mailing-list fields kept in `headers`, decoded as the default
    // configuration decodes them: the RFC 2369/2919 ones as addresses,
    // the others (unknown to mail-parser) raw.
    for name in [
        HeaderName::ListArchive,
        HeaderName::ListHelp,
        HeaderName::ListId,
        HeaderName::ListOwner,
        HeaderName::ListPost,
        HeaderName::ListSubscribe,
        HeaderName::ListUnsubscribe,
    ] {
        debug_assert!(LIST_HEADERS.contains(&name.as_str().to_ascii_lowercase().as_str()));
        parser = parser.header_address(name);
    }
    for name in LIST_HEADERS {
        if !name.starts_with("list-") {
            parser = parser.header_raw(HeaderName::Other((*name).into()));
        }
    }
    parser.default_header_ignore()
});

/// The header fields (lowercase names) that [`analyze_for_scoring`] keeps
/// in [`Analysis::headers`]: those mailing-list software adds (RFC 2369 and
/// 2919, Mailman, ezmlm, Yahoo! Groups). They tell a classifier which text
/// a list added to a message (its footer, its subject tag) rather than the
/// sender.
pub const LIST_HEADERS: &[&str] = &[
    "list-archive",
    "list-help",
    "list-id",
    "list-owner",
    "list-post",
    "list-subscribe",
    "list-unsubscribe",
    "x-mailman-version",
    "x-beenthere",
    "mailing-list",
    "x-mailing-list",
];

/// Whether a header field name (any case) is one of [`LIST_HEADERS`].
pub fn is_list_header(name: &str) -> bool {
    LIST_HEADERS.iter().any(|l| name.eq_ignore_ascii_case(l))
}

/// Run one analysis, turning a panic into a `problem`.
fn guarded(raw: &[u8], depth: Depth<'_>, analysis: impl FnOnce() -> Analysis) -> Analysis {
    // Belt and braces: a panic in the third-party parser on some hostile
    // input we have not met yet must cost one message, not the whole run.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(analysis)) {
        Ok(a) => a,
        Err(e) => {
            let why = e
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Analysis {
                sha256: if depth.is_full() {
                    sha256_hex(raw)
                } else {
                    String::new()
                },
                size: raw.len() as u64,
                problem: Some(format!("the MIME parser failed on this message: {why}")),
                ..Default::default()
            }
        }
    }
}

fn analyze_inner(raw: &[u8], limits: &Limits, depth: Depth<'_>) -> Analysis {
    let full = depth.is_full();
    let mut a = Analysis {
        sha256: if full { sha256_hex(raw) } else { String::new() },
        size: raw.len() as u64,
        ..Default::default()
    };
    if raw.len() > limits.max_message_bytes {
        a.problem = Some(format!(
            "message too large: {} bytes over the {}-byte limit (kept raw, not parsed)",
            raw.len(),
            limits.max_message_bytes
        ));
        return a;
    }
    let default_parser;
    let parser = if full {
        default_parser = MessageParser::default();
        &default_parser
    } else {
        &*SCORING_PARSER
    };
    let Some(msg) = parser.parse(raw) else {
        a.problem = Some("not a mail message: no header section could be parsed".into());
        return a;
    };
    if msg.headers().is_empty() || !looks_like_headers(raw) {
        a.problem = Some("not a mail message: no header fields found".into());
        return a;
    }
    if full {
        extract_headers(&msg, raw, limits, &mut a);
    } else {
        // Skipped fields are still listed by the parser (with an empty
        // value), so the header-count limit reads as in `extract_headers`.
        extract_list_headers(&msg, raw, limits, &mut a);
        header_count_problem(&msg, limits, &mut a);
        extract_subject_and_from(&msg, limits, &mut a);
    }
    a.mime = mime_shape(&msg, raw);
    let shape = tree_shape(&msg);
    a.mime.parts = shape.0;
    a.mime.depth = shape.1;
    let mut problems: Vec<String> = a.problem.take().into_iter().collect();
    if shape.1 as usize > limits.max_depth {
        problems.push(format!(
            "MIME nesting too deep: {} levels over the limit of {}",
            shape.1, limits.max_depth
        ));
    }
    if msg.parts.len() > limits.max_parts {
        problems.push(format!(
            "too many MIME parts: {} over the limit of {} (the first {} analysed)",
            msg.parts.len(),
            limits.max_parts,
            limits.max_parts
        ));
    }
    if !problems.is_empty() {
        a.problem = Some(problems.join("; "));
    }
    let mut budget = limits.max_parts;
    extract_bodies(&msg, limits, &mut a, 0, &mut budget, full);
    if let Depth::Full(trusted) = depth {
        a.received = msg
            .headers()
            .iter()
            .filter_map(|h| h.value.as_received())
            .take(limits.max_headers)
            .map(hop_from)
            .collect();
        a.origin = find_origin(&a.received, trusted);
    }
    a
}

/// A header section starts with `Name:` (or an mbox `From ` line that a
/// source left in place): guards against binary garbage that mail-parser
/// accepts as a body-only message.
fn looks_like_headers(raw: &[u8]) -> bool {
    let line_end = memchr::memchr(b'\n', raw).unwrap_or(raw.len()).min(1000);
    let line = &raw[..line_end];
    if line.starts_with(b"From ") {
        return true;
    }
    match memchr::memchr(b':', line) {
        Some(p) if p > 0 => line[..p].iter().all(|&c| c.is_ascii_graphic() && c != b':'),
        _ => false,
    }
}

fn clip(s: &str, max: usize) -> String {
    s[..s.floor_char_boundary(max)].to_string()
}

/// [`clip`] of a string already built for the purpose: cut in place
/// instead of copied.
fn clip_owned(mut s: String, max: usize) -> String {
    s.truncate(s.floor_char_boundary(max));
    s
}

/// Bytes as text: borrowed when valid UTF-8 (the common case, checked
/// with the fast validator), else with U+FFFD for the bad bytes, exactly
/// as [`String::from_utf8_lossy`].
fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// A raw header value as one line: every run of CR, LF, tab and space
/// becomes one space, none at either end, clipped to `max` bytes on a
/// character boundary.
fn unfold(raw: &[u8], max: usize) -> String {
    let raw = &raw[..raw.len().min(max * 2)];
    let s = lossy(raw);
    let mut out = String::with_capacity(s.len().min(max + 4));
    // The separators are ASCII, so every piece between them is whole
    // characters: find them byte by byte, copy pieces, not characters.
    let b = s.as_bytes();
    let is_sep = |c: &u8| matches!(c, b'\r' | b'\n' | b'\t' | b' ');
    let mut i = 0;
    while i < b.len() {
        let Some(start) = b[i..].iter().position(|c| !is_sep(c)).map(|p| p + i) else {
            break;
        };
        let end = b[start..]
            .iter()
            .position(is_sep)
            .map_or(b.len(), |p| p + start);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&s[start..end]);
        if out.len() > max {
            // Nothing after this changes the first `max` bytes.
            break;
        }
        i = end;
    }
    out.truncate(out.floor_char_boundary(max));
    out
}

fn render_address(addr: &Address<'_>) -> String {
    let mut s = String::new();
    for (i, a) in addr.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        match (&a.name, &a.address) {
            (Some(n), Some(ad)) => {
                s.push_str(n);
                s.push_str(" <");
                s.push_str(ad);
                s.push('>');
            }
            (None, Some(ad)) => s.push_str(ad),
            (Some(n), None) => s.push_str(n),
            (None, None) => {}
        }
    }
    s
}

fn mailbox(addr: Option<&Address<'_>>) -> Option<Mailbox> {
    let a = addr?.first()?;
    Some(Mailbox {
        name: a.name.as_ref().map(|n| n.to_string()),
        address: a.address.as_ref().map(|ad| lower_domain(ad)),
    })
}

fn lower_domain(addr: &str) -> String {
    // `local@domain` with the domain lowercased in place (a `format!` cost
    // several times the copy, once per message at least).
    let mut s = addr.to_string();
    if let Some((l, _)) = addr.rsplit_once('@') {
        s[l.len() + 1..].make_ascii_lowercase();
    }
    s
}

fn extract_headers(msg: &Message<'_>, raw: &[u8], limits: &Limits, a: &mut Analysis) {
    for h in msg.headers().iter().take(limits.max_headers) {
        let name = field_name(h, raw);
        a.headers.push(header_field(h, &name, raw, limits));
    }
    header_count_problem(msg, limits, a);
    extract_subject_and_from(msg, limits, a);
    a.sender = mailbox(msg.sender());
    a.reply_to = mailbox(msg.reply_to());
    a.return_path = msg.return_address().map(|s| lower_domain(s.trim()));
    a.to = msg
        .to()
        .into_iter()
        .chain(msg.cc())
        .flat_map(|ad| ad.iter())
        .filter_map(|x| x.address.as_ref().map(|s| lower_domain(s)))
        .take(100)
        .collect();
    a.message_id = msg.message_id().map(|s| clip(s, 998));
    a.date = msg.date().map(|d| d.to_timestamp());
    a.date_raw = msg.header_raw("Date").map(|s| unfold(s.as_bytes(), 200));
    a.mailer = msg
        .header_raw("X-Mailer")
        .or_else(|| msg.header_raw("User-Agent"))
        .map(|s| unfold(s.as_bytes(), 500));
}

/// A field's name as written (case kept, the colon and blanks before it
/// cut), or mail-parser's name for it when nothing is written.
fn field_name<'r>(h: &'r Header<'_>, raw: &'r [u8]) -> std::borrow::Cow<'r, str> {
    let name_bytes = raw
        .get(h.offset_field as usize..h.offset_start as usize)
        .unwrap_or_default();
    let parsed = h.name.as_str();
    match lossy(name_bytes) {
        std::borrow::Cow::Borrowed(n) => std::borrow::Cow::Borrowed(trim_field_name(n, parsed)),
        std::borrow::Cow::Owned(n) => {
            std::borrow::Cow::Owned(trim_field_name(&n, parsed).to_string())
        }
    }
}

/// `written` without the colon and the blanks around it, or `parsed` when
/// nothing is left.
fn trim_field_name<'a>(written: &'a str, parsed: &'a str) -> &'a str {
    match written.trim_end().trim_end_matches(':').trim_end() {
        "" => parsed,
        name => name,
    }
}

/// One header field as [`Analysis::headers`] holds it: `name` from
/// [`field_name`], the value decoded by the parser, bounded.
fn header_field(h: &Header<'_>, name: &str, raw: &[u8], limits: &Limits) -> HeaderField {
    let raw_value = raw
        .get(h.offset_start as usize..h.offset_end as usize)
        .unwrap_or_default();
    let value = match &h.value {
        HeaderValue::Text(t) => clip(t.trim(), limits.max_header_value),
        HeaderValue::TextList(l) => clip_owned(l.join(", "), limits.max_header_value),
        HeaderValue::Address(ad) => clip_owned(render_address(ad), limits.max_header_value),
        _ => unfold(raw_value, limits.max_header_value),
    };
    HeaderField {
        name: clip(name, 200),
        value,
    }
}

/// The lean analysis's header list: only the fields named in
/// [`LIST_HEADERS`], exactly as [`extract_headers`] has them (the lean
/// parser decodes those names as the default one does).
fn extract_list_headers(msg: &Message<'_>, raw: &[u8], limits: &Limits, a: &mut Analysis) {
    for h in msg.headers().iter().take(limits.max_headers) {
        // mail-parser's name first (no allocation): a name written as one
        // of ours is read by mail-parser as that name too (it drops blanks
        // and case), so this only skips fields that cannot match.
        let maybe = match &h.name {
            HeaderName::ListArchive
            | HeaderName::ListHelp
            | HeaderName::ListId
            | HeaderName::ListOwner
            | HeaderName::ListPost
            | HeaderName::ListSubscribe
            | HeaderName::ListUnsubscribe => true,
            HeaderName::Other(n) => is_list_header(n),
            _ => false,
        };
        if !maybe {
            continue;
        }
        let name = field_name(h, raw);
        if is_list_header(&name) {
            a.headers.push(header_field(h, &name, raw, limits));
        }
    }
}

/// The `problem` of a message with more header fields than the limit.
fn header_count_problem(msg: &Message<'_>, limits: &Limits, a: &mut Analysis) {
    if msg.headers().len() > limits.max_headers {
        a.problem = Some(format!(
            "too many header fields: {} over the limit of {} (the first {} kept)",
            msg.headers().len(),
            limits.max_headers,
            limits.max_headers
        ));
    }
}

/// The decoded Subject and the first From mailbox: the header fields
/// scoring reads.
fn extract_subject_and_from(msg: &Message<'_>, limits: &Limits, a: &mut Analysis) {
    a.subject = msg
        .subject()
        .map(|s| clip(s.trim(), limits.max_header_value));
    a.from = mailbox(msg.from());
}

fn mime_shape(msg: &Message<'_>, raw: &[u8]) -> MimeShape {
    let root = msg.root_part();
    let ct = root.content_type();
    let first_nl = memchr::memchr(b'\n', raw);
    MimeShape {
        parts: 0,
        depth: 0,
        content_type: ct
            .map(|c| match c.subtype() {
                // `type/subtype` lowercased, built without `format!`.
                Some(s) => {
                    let mut t = String::with_capacity(c.ctype().len() + 1 + s.len());
                    t.push_str(c.ctype());
                    t.push('/');
                    t.push_str(s);
                    t.make_ascii_lowercase();
                    t
                }
                None => c.ctype().to_ascii_lowercase(),
            })
            .unwrap_or_else(|| "text/plain".into()),
        boundary: ct
            .and_then(|c| c.attribute("boundary"))
            .map(|b| clip(b, 200)),
        charset: ct
            .and_then(|c| c.attribute("charset"))
            .map(|b| clip(&b.to_ascii_lowercase(), 100)),
        transfer_encoding: msg
            .header_raw("Content-Transfer-Encoding")
            .map(|s| clip(&s.trim().to_ascii_lowercase(), 100)),
        crlf: first_nl.is_some_and(|p| p > 0 && raw[p - 1] == b'\r'),
    }
}

/// (number of parts, deepest multipart nesting), iteratively: hostile mail
/// nests a thousand multiparts, and recursion must not blow the stack.
fn tree_shape(msg: &Message<'_>) -> (u32, u32) {
    let mut max_depth = 0u32;
    let mut stack = vec![(0u32, 0u32)];
    let mut seen = 0usize;
    while let Some((id, depth)) = stack.pop() {
        seen += 1;
        if seen > msg.parts.len() {
            break; // a cycle cannot happen, but never loop forever
        }
        max_depth = max_depth.max(depth);
        if let Some(PartType::Multipart(children)) = msg.parts.get(id as usize).map(|p| &p.body) {
            for c in children {
                stack.push((*c, depth + 1));
            }
        }
    }
    (msg.parts.len() as u32, max_depth)
}

fn sniff(data: &[u8]) -> Option<&'static str> {
    let t: &[(&[u8], &str)] = &[
        (b"%PDF", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\xD0\xCF\x11\xE0", "application/x-ole-storage"),
        (b"MZ", "application/x-msdownload"),
        (b"\x7FELF", "application/x-elf"),
        (b"Rar!", "application/x-rar"),
        (b"7z\xBC\xAF", "application/x-7z-compressed"),
        (b"\x1F\x8B", "application/gzip"),
        (b"GIF8", "image/gif"),
        (b"\x89PNG", "image/png"),
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"BM", "image/bmp"),
        (b"{\\rtf", "application/rtf"),
    ];
    for (magic, ty) in t {
        if data.starts_with(magic) {
            return Some(ty);
        }
    }
    let head = &data[..data.len().min(512)];
    let lower: Vec<u8> = head.iter().map(|c| c.to_ascii_lowercase()).collect();
    if memchr::memmem::find(&lower, b"<html").is_some()
        || memchr::memmem::find(&lower, b"<!doctype html").is_some()
    {
        return Some("text/html");
    }
    if !data.is_empty()
        && head
            .iter()
            .all(|&c| c >= 0x20 || c == b'\n' || c == b'\r' || c == b'\t')
    {
        return Some("text/plain");
    }
    None
}

fn push_text(a: &mut Analysis, s: &str, max: usize) {
    if a.text.len() >= max {
        return;
    }
    if !a.text.is_empty() {
        a.text.push('\n');
    }
    let room = max.saturating_sub(a.text.len());
    a.text.push_str(&s[..s.floor_char_boundary(room)]);
}

fn extract_bodies(
    msg: &Message<'_>,
    limits: &Limits,
    a: &mut Analysis,
    nesting: u32,
    budget: &mut usize,
    hash_attachments: bool,
) {
    for (id, part) in msg.parts.iter().enumerate() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let is_attachment = msg.attachments.contains(&(id as u32));
        match &part.body {
            PartType::Text(t) if !is_attachment => {
                let room = limits.max_text_bytes.saturating_sub(a.text.len());
                extract_urls(
                    &t[..t.floor_char_boundary(room)],
                    UrlContext::Text,
                    &mut a.urls,
                    limits.max_urls,
                );
                push_text(a, t, limits.max_text_bytes);
            }
            PartType::Html(h) if !is_attachment => {
                let x = scan_html(h, limits.max_text_bytes, limits.max_urls);
                for (link, ctx, enc) in &x.links {
                    if a.urls.len() >= limits.max_urls {
                        break;
                    }
                    if let Some(u) = url_from_attribute(link, *ctx, *enc)
                        && !a.urls.iter().any(|o| o.url == u.url)
                    {
                        a.urls.push(u);
                    }
                }
                // Text-looking URLs inside the HTML text too (`www.x.com` written out).
                extract_urls(&x.text, UrlContext::Text, &mut a.urls, limits.max_urls);
                // With a text alternative present, the HTML text is mostly a
                // duplicate; keep it anyway, since spam often differs between the two.
                push_text(a, &x.text, limits.max_text_bytes);
                let s = &mut a.html;
                s.parts += 1;
                s.tags = s.tags.saturating_add(x.stats.tags);
                s.links = s.links.saturating_add(x.stats.links);
                s.images += x.stats.images;
                s.forms += x.stats.forms;
                s.scripts += x.stats.scripts;
                s.hidden += x.stats.hidden;
            }
            PartType::Multipart(_) => {}
            PartType::Message(inner) => {
                attachment(a, part, inner.raw_message(), limits, hash_attachments);
                if nesting < 3 {
                    extract_bodies(inner, limits, a, nesting + 1, budget, hash_attachments);
                }
            }
            _ => {
                attachment(a, part, part.contents(), limits, hash_attachments);
            }
        }
    }
}

/// Record one attachment; its SHA-256 only when `hash` (the lean analysis
/// leaves it empty).
fn attachment(
    a: &mut Analysis,
    part: &mail_parser::MessagePart<'_>,
    data: &[u8],
    limits: &Limits,
    hash: bool,
) {
    if a.attachments.len() >= limits.max_parts {
        return;
    }
    let declared = part
        .content_type()
        .map(|c| match c.subtype() {
            Some(s) => format!("{}/{}", c.ctype(), s).to_ascii_lowercase(),
            None => c.ctype().to_ascii_lowercase(),
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    a.attachments.push(Attachment {
        filename: part.attachment_name().map(|n| clip(n, 255)),
        declared_type: clip(&declared, 100),
        sniffed_type: sniff(data).map(str::to_string),
        size: data.len() as u64,
        sha256: if hash {
            sha256_hex(data)
        } else {
            String::new()
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn an(raw: &str) -> Analysis {
        analyze(raw.as_bytes(), &Limits::default(), &TrustedHosts::default())
    }

    #[test]
    fn charsets_quoted_printable_and_base64_decode_through_ignored_fields() {
        // The paths the vendored mail-parser patches speed up: folded fields
        // nobody asked for, a quoted-printable body with runs of plain text,
        // soft line breaks and trailing blanks, in a single-byte charset,
        // and a base64 attachment.
        let raw = "Received: from a\r\n\tby b\r\n with SMTP\r\nX-Long: one\r\n  two\r\n\
Subject: caf\\xe9\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Plain text, then caf=E9 and na=EFve =3D fine=\r\n joined   \r\nnext-line\r\n--b\r\n\
Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
JVBERi0xLjQg\r\naGVsbG8gd29y\r\nbGQ=\r\n--b--\r\n";
        let mut bytes = raw.as_bytes().to_vec();
        // A raw latin-1 byte in the subject, as old mailers wrote it.
        let at = bytes.windows(4).position(|w| w == b"caf\\").unwrap();
        bytes.splice(at + 3..at + 7, [0xe9]);
        for a in [
            analyze(&bytes, &Limits::default(), &TrustedHosts::default()),
            analyze_for_scoring(&bytes, &Limits::default()),
        ] {
            assert_eq!(
                a.text.trim_end(),
                "Plain text, then café and naïve = fine joined\r\nnext-line"
            );
            // "%PDF-1.4 hello world" in base64 quads, split over lines, padded.
            let att = &a.attachments[0];
            assert_eq!((att.size, att.filename.as_deref()), (20, Some("a.pdf")));
        }
    }

    #[test]
    fn a_simple_spam() {
        let a = an(
            "Received: from bot (host [203.0.113.5]) by mx.trap.org; Wed, 16 Mar 2011 14:40:00 +0000\r\n\
From: =?utf-8?B?Q2FuYWRpYW4gUGhhcm1hY3k=?= <Sales@Pharma.EXAMPLE>\r\n\
Subject: =?iso-8859-1?Q?V=EDagra?= 80% off\r\nmessage-id: <0001@x>\r\nX-Mailer: Microsoft CDO for Windows 2000\r\n\
Date: Wed, 16 Mar 2011 14:39:00 +0000\r\nContent-Type: text/html\r\n\r\n\
<p>Buy at <a href=\"hxxp://rx-shop[.]ru/p?id=1\">here</a> www.cheap-meds.com</p>",
        );
        assert!(a.problem.is_none(), "{:?}", a.problem);
        assert_eq!(a.subject.as_deref(), Some("Víagra 80% off"));
        let from = a.from.as_ref().unwrap();
        assert_eq!(from.name.as_deref(), Some("Canadian Pharmacy"));
        assert_eq!(from.address.as_deref(), Some("Sales@pharma.example"));
        let names: Vec<_> = a.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Received",
                "From",
                "Subject",
                "message-id",
                "X-Mailer",
                "Date",
                "Content-Type"
            ]
        );
        assert_eq!(a.mailer.as_deref(), Some("Microsoft CDO for Windows 2000"));
        assert_eq!(a.message_id.as_deref(), Some("0001@x"));
        assert_eq!(a.date, Some(1300286340));
        assert!(a.text.contains("Buy at here"));
        let urls: Vec<_> = a
            .urls
            .iter()
            .map(|u| (u.url.as_str(), u.domain.as_deref(), u.obfuscated))
            .collect();
        assert_eq!(
            urls,
            [
                ("http://rx-shop.ru/p?id=1", Some("rx-shop.ru"), true),
                ("http://www.cheap-meds.com/", Some("cheap-meds.com"), false)
            ]
        );
        assert_eq!(
            a.origin_hop().and_then(|h| h.from_ip.as_deref()),
            Some("203.0.113.5")
        );
        assert!(a.mime.crlf);
        assert_eq!(a.mime.content_type, "text/html");
    }

    #[test]
    fn attachments_are_hashed_and_sniffed() {
        let a = an(
            "From: a@b.c\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nsee attached\n--B\nContent-Type: application/octet-stream; name=\"invoice.pdf.exe\"\nContent-Disposition: attachment; filename=\"invoice.pdf.exe\"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--B--\n",
        );
        assert_eq!(a.attachments.len(), 1);
        let at = &a.attachments[0];
        assert_eq!(at.filename.as_deref(), Some("invoice.pdf.exe"));
        assert_eq!(at.sniffed_type.as_deref(), Some("application/x-msdownload"));
        assert_eq!(at.size, 12);
        assert_eq!(a.mime.boundary.as_deref(), Some("B"));
        assert_eq!(a.mime.depth, 1);
        assert!(!a.mime.crlf);
    }

    #[test]
    fn the_lean_analysis_fills_what_scoring_reads_and_nothing_else() {
        let raw = "Received: from bot (host [203.0.113.5]) by mx.trap.org; Wed, 16 Mar 2011 14:40:00 +0000\r\n\
From: =?utf-8?B?Q2FuYWRpYW4gUGhhcm1hY3k=?= <Sales@Pharma.EXAMPLE>\r\nTo: a@b.example\r\n\
Subject: =?iso-8859-1?Q?V=EDagra?= 80% off\r\nmessage-id: <0001@x>\r\nList-Id: Pills <pills.lists.example>\r\n\
X-BeenThere:  pills@lists.example \r\nDate: 29 Jul 01 11:34:44 AM\r\nX-Mailer: ratware\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/html\r\n\r\n<p>Buy at <a href=\"hxxp://rx-shop[.]ru/p?id=1\">here</a></p>\r\n\
--B\r\nContent-Type: application/octet-stream; name=\"x.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--B--\r\n";
        let full = an(raw);
        let lean = analyze_for_scoring(raw.as_bytes(), &Limits::default());
        assert!(full.problem.is_none(), "{:?}", full.problem);
        // What scoring reads: exactly as the full analysis has it.
        assert_eq!(lean.size, full.size);
        assert_eq!(lean.problem, full.problem);
        assert_eq!(lean.subject.as_deref(), Some("Víagra 80% off"));
        assert_eq!(lean.subject, full.subject);
        assert_eq!(lean.from, full.from);
        assert_eq!(lean.text, full.text);
        assert_eq!(lean.html, full.html);
        assert_eq!(lean.urls, full.urls);
        assert_eq!(lean.mime, full.mime);
        assert_eq!(lean.attachments.len(), 1);
        let (l, f) = (&lean.attachments[0], &full.attachments[0]);
        assert_eq!(
            (&l.filename, &l.declared_type, &l.sniffed_type, l.size),
            (&f.filename, &f.declared_type, &f.sniffed_type, f.size)
        );
        // The mailing-list fields, as the full analysis decodes them.
        let names: Vec<_> = lean.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["List-Id", "X-BeenThere"]);
        let full_list: Vec<_> = full
            .headers
            .iter()
            .filter(|h| names.contains(&h.name.as_str()))
            .collect();
        assert_eq!(full_list, lean.headers.iter().collect::<Vec<_>>());
        // Skipped: everything else, and the hashes.
        assert!(lean.sha256.is_empty() && l.sha256.is_empty());
        assert!(!full.sha256.is_empty() && !f.sha256.is_empty());
        assert!(lean.to.is_empty() && lean.received.is_empty() && lean.origin.is_none());
        assert!(lean.message_id.is_none() && lean.mailer.is_none() && lean.date.is_none());
        assert!(!full.to.is_empty() && !full.received.is_empty() && full.mailer.is_some());
    }

    #[test]
    fn the_lean_analysis_keeps_the_limits_and_never_panics() {
        let limits = Limits {
            max_message_bytes: 10,
            ..Default::default()
        };
        let a = analyze_for_scoring(b"Subject: hello world\n\nbody", &limits);
        assert!(a.problem.unwrap().contains("too large"));
        let a = analyze_for_scoring(&[0u8, 159, 146, 150, 255, 0, 1], &Limits::default());
        assert!(a.problem.unwrap().starts_with("not a mail message"));
        let mut m = String::new();
        for i in 0..50 {
            m.push_str(&format!("X-H{i}: v\nList-Id: <l{i}.example>\n"));
        }
        m.push_str("\nbody\n");
        let limits = Limits {
            max_headers: 10,
            ..Default::default()
        };
        let lean = analyze_for_scoring(m.as_bytes(), &limits);
        let full = analyze(m.as_bytes(), &limits, &TrustedHosts::default());
        assert_eq!(lean.problem, full.problem);
        assert!(lean.problem.unwrap().contains("too many header fields"));
        assert_eq!(lean.headers.len(), 5, "list fields among the first 10 only");
        // mail-parser's date parser runs over this line end and swallows
        // the From line; the lean parse must see the same fields.
        let m = b"Subject: s\nDate: 29 Jul 01 11:34:44 AM\nFrom: x@y.example\n\nbody\n";
        let lean = analyze_for_scoring(m, &Limits::default());
        let full = analyze(m, &Limits::default(), &TrustedHosts::default());
        assert_eq!((&lean.from, &lean.text), (&full.from, &full.text));
    }

    #[test]
    fn garbage_is_a_problem_not_a_panic() {
        let a = analyze(
            &[0u8, 159, 146, 150, 255, 0, 1],
            &Limits::default(),
            &TrustedHosts::default(),
        );
        assert!(
            a.problem
                .as_deref()
                .unwrap()
                .starts_with("not a mail message")
        );
        assert!(
            analyze(b"", &Limits::default(), &TrustedHosts::default())
                .problem
                .is_some()
        );
    }

    #[test]
    fn size_limit() {
        let limits = Limits {
            max_message_bytes: 10,
            ..Default::default()
        };
        let a = analyze(
            b"Subject: hello world\n\nbody",
            &limits,
            &TrustedHosts::default(),
        );
        assert!(a.problem.unwrap().contains("too large"));
    }

    /// The unfolding of the first version, character by character: the
    /// faster one must give exactly the same strings (they are stored, and
    /// classifier features are hashed from them).
    fn unfold_reference(raw: &[u8], max: usize) -> String {
        let raw = &raw[..raw.len().min(max * 2)];
        let s = String::from_utf8_lossy(raw);
        let mut out = String::new();
        let mut ws = false;
        for c in s.chars() {
            if c == '\r' || c == '\n' || c == '\t' || c == ' ' {
                ws = true;
            } else {
                if ws && !out.is_empty() {
                    out.push(' ');
                }
                ws = false;
                out.push(c);
            }
        }
        clip(&out, max)
    }

    #[test]
    fn unfolding_matches_the_reference_on_awkward_values() {
        let values: &[&[u8]] = &[
            b"",
            b"   ",
            b"plain value",
            b"  lead and trail  \r\n",
            b"folded\r\n\tover\r\n  three lines\r\n",
            b"double  space\t\ttabs",
            "Grüße aus Köln, 東京".as_bytes(),
            b"bad \xff\xfe utf-8 \xc3",
            "ééééééééé".as_bytes(),
            b"\x0bvertical tab and\x0cform feed stay",
        ];
        for v in values {
            for max in [0, 1, 2, 3, 5, 7, 8, 9, 12, 16, 200] {
                assert_eq!(
                    unfold(v, max),
                    unfold_reference(v, max),
                    "{:?} max {max}",
                    String::from_utf8_lossy(v)
                );
            }
        }
    }

    #[test]
    fn header_limit() {
        let mut m = String::new();
        for i in 0..50 {
            m.push_str(&format!("X-H{i}: v\n"));
        }
        m.push_str("\nbody\n");
        let limits = Limits {
            max_headers: 10,
            ..Default::default()
        };
        let a = analyze(m.as_bytes(), &limits, &TrustedHosts::default());
        assert_eq!(a.headers.len(), 10);
        assert!(a.problem.unwrap().contains("too many header fields"));
    }
}
