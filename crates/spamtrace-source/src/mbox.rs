//! Splitting mbox files and batch-SMTP transcripts into messages, streaming.
//!
//! # Which `From ` lines separate messages
//! A line starting with `From ` is a separator when it is the first line of
//! the file, or when it follows a blank line **and** contains a clock time
//! (`h:mm`). Every mbox writer puts a date with a time on the `From ` line,
//! while prose in an unquoted (mboxo) body ("From home recordings to ...",
//! found in the SpamAssassin corpus) rarely has one. Odd dates are fine: only
//! the time pattern is needed to split, and an unparsable date gives
//! `received_at = None`.
//!
//! # Quoting (mboxo / mboxrd)
//! A file does not say whether it is mboxo or mboxrd, so one rule is applied:
//! a body line matching `^>+From ` loses one `>`. For mboxrd this restores the
//! original exactly. For mboxo, whose writers quote only `From ` as `>From `,
//! it restores quoted lines, but a line that really began with `>From ` in
//! the original (a quoted reply) loses its `>`: that ambiguity is in the
//! format itself and this is the reading mail clients use.
//!
//! The blank line that the mbox writer put before each separator (and at the
//! end of the file) belongs to the mbox, not the message, and is removed.

use std::io::{self, BufRead};

use spamtrace_mail::{Envelope, Label, RawMessage, TimeSource};

use crate::SourceItem;
use crate::lines::{LineReader, is_blank};

/// How much of a line is always kept, even past the size limit, so that a
/// separator line can still be recognised in an oversized message.
pub(crate) const PROBE: usize = 1024;

/// Whether `line` contains a clock time `h:mm`.
fn has_clock_time(line: &[u8]) -> bool {
    memchr::memchr_iter(b':', line).any(|i| {
        i > 0
            && line[i - 1].is_ascii_digit()
            && line.get(i + 1).is_some_and(u8::is_ascii_digit)
            && line.get(i + 2).is_some_and(u8::is_ascii_digit)
    })
}

/// Whether `line` (following a blank line) is an mbox separator.
pub(crate) fn is_separator(line: &[u8], at_file_start: bool) -> bool {
    line.starts_with(b"From ") && line.len() <= PROBE && (at_file_start || has_clock_time(line))
}

/// Parse the date of an mbox `From ` line leniently: asctime
/// (`Tue Jun 14 19:52:09 2005`), with or without a zone (`+0200`, `EST`),
/// or RFC 2822 (`Tue, 14 Jun 2005 19:52:09 -0400`), in any field order. A
/// missing zone is taken as UTC (mbox writers use local time and do not say
/// which). Returns Unix seconds, or `None` when the line has no usable date.
pub fn parse_from_line_date(line: &[u8]) -> Option<i64> {
    let rest = line.strip_prefix(b"From ")?;
    let text = std::str::from_utf8(rest).ok()?;
    let (mut year, mut month, mut day, mut hms, mut offset) = (None, None, None, None, 0i64);
    for raw in text.split_ascii_whitespace() {
        let token = raw.trim_end_matches([',', '.']);
        if token.contains('@') {
            continue;
        }
        if let Some(t) = parse_time(token) {
            hms.get_or_insert(t);
        } else if let Some(off) = parse_numeric_zone(token) {
            offset = off;
        } else if token.bytes().all(|b| b.is_ascii_digit()) && !token.is_empty() {
            match token.len() {
                4 if year.is_none() => year = token.parse::<i32>().ok(),
                1 | 2 if day.is_none() => day = token.parse::<u32>().ok(),
                _ => {}
            }
        } else if let Some(m) = month_number(token) {
            month.get_or_insert(m);
        } else if let Some(off) = named_zone(token) {
            offset = off;
        }
    }
    let (h, mi, s) = hms?;
    let year = year.filter(|y| (1970..=2100).contains(y))?;
    let naive = chrono::NaiveDate::from_ymd_opt(year, month?, day?)?.and_hms_opt(h, mi, s)?;
    Some(naive.and_utc().timestamp() - offset)
}

fn parse_time(token: &str) -> Option<(u32, u32, u32)> {
    let mut parts = token.split(':');
    let h = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let s = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    parts.next().is_none().then_some((h, m, s))
}

fn parse_numeric_zone(token: &str) -> Option<i64> {
    let bytes = token.as_bytes();
    if bytes.len() != 5
        || !matches!(bytes[0], b'+' | b'-')
        || !bytes[1..].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let hh: i64 = token[1..3].parse().ok()?;
    let mm: i64 = token[3..5].parse().ok()?;
    let secs = hh * 3600 + mm * 60;
    Some(if bytes[0] == b'-' { -secs } else { secs })
}

fn named_zone(token: &str) -> Option<i64> {
    let hours = match token.to_ascii_uppercase().as_str() {
        "UT" | "UTC" | "GMT" | "Z" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        _ => return None,
    };
    Some(hours * 3600)
}

fn month_number(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = token.get(..3)?;
    if !token.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(prefix))
        .map(|i| i as u32 + 1)
}

/// The one message of a small, fully read mbox file in the common shape
/// "a `From ` line, then a message with no line that starts with `From ` or
/// `>...From `" (as in the SpamAssassin corpus), without line-by-line work.
/// Gives exactly what [`MboxReader`] gives, or `Err(buf)` when the file is
/// not in that shape and must be streamed.
pub(crate) fn single_message_fast(
    mut buf: Vec<u8>,
    ctx: &StreamContext,
) -> Result<SourceItem, Vec<u8>> {
    let Some(first_end) = memchr::memchr(b'\n', &buf[..buf.len().min(PROBE)]).map(|i| i + 1) else {
        return Err(buf);
    };
    if !buf.starts_with(b"From ") || buf.len() > ctx.max.saturating_add(first_end) {
        return Err(buf);
    }
    let body = &buf[first_end..];
    // Any `From ` at a line start, or after `>` (a quoted one), needs the full reader.
    let needs_reader = memchr::memmem::find_iter(body, b"From ")
        .any(|i| i == 0 || matches!(body[i - 1], b'\n' | b'>'));
    if needs_reader {
        return Err(buf);
    }
    let received_at = parse_from_line_date(&buf[..first_end]);
    buf.drain(..first_end);
    // The mbox writer's blank line at the end, as in `Pending::strip_separator_blank`.
    let last_line_start = buf.len().checked_sub(1).map_or(0, |end| {
        memchr::memrchr(b'\n', &buf[..end]).map_or(0, |i| i + 1)
    });
    if is_blank(&buf[last_line_start..]) {
        buf.truncate(last_line_start);
    }
    let p = Pending {
        offset: 0,
        received_at,
        size: buf.len() as u64,
        bytes: buf,
        last_blank: 0,
    };
    Ok(p.finish(ctx))
}

/// A message being collected line by line, holding at most the size limit
/// (plus one probe line) in memory.
struct Pending {
    /// Stream offset of the message (its `From ` line, or its first line).
    offset: u64,
    received_at: Option<i64>,
    bytes: Vec<u8>,
    /// The message's full size, including bytes beyond the limit.
    size: u64,
    /// Length of the last line if it was blank (1 or 2), else 0.
    last_blank: u8,
}

impl Pending {
    fn new(offset: u64, received_at: Option<i64>) -> Self {
        Pending {
            offset,
            received_at,
            bytes: Vec::with_capacity(8 * 1024),
            size: 0,
            last_blank: 0,
        }
    }

    /// Reads the next line onto the message; returns where it starts and its
    /// full length. The caller inspects `bytes[start..]`, then calls `commit`.
    fn read_line<R: BufRead>(
        &mut self,
        lines: &mut LineReader<R>,
        max: usize,
    ) -> io::Result<Option<(usize, u64)>> {
        let start = self.bytes.len();
        let room = max.saturating_sub(start).max(PROBE);
        Ok(lines
            .read_line(&mut self.bytes, room)?
            .map(|len| (start, len)))
    }

    /// Accounts for a line read with `read_line`, of which `removed` quoting
    /// bytes were taken out, and drops whatever exceeds the limit.
    fn commit(&mut self, len: u64, removed: u64, blank: bool, max: usize) {
        self.size += len - removed;
        self.last_blank = if blank { len as u8 } else { 0 };
        if self.bytes.len() > max {
            self.bytes.truncate(max);
        }
    }

    /// Removes the final blank line, which the mbox writer added (also from
    /// the size of an oversized message, whose head may not hold it).
    fn strip_separator_blank(&mut self) {
        self.size -= u64::from(self.last_blank);
        self.last_blank = 0;
        if self.bytes.len() as u64 > self.size {
            self.bytes.truncate(self.size as usize);
        }
    }

    fn finish(self, ctx: &StreamContext) -> SourceItem {
        if self.size > ctx.max as u64 {
            return SourceItem::Oversized {
                source: ctx.source.clone(),
                offset: Some(self.offset),
                size: self.size,
                head: self.bytes,
            };
        }
        SourceItem::Message(RawMessage {
            bytes: self.bytes,
            envelope: Envelope {
                source: ctx.source.clone(),
                offset: Some(self.offset),
                received_at: self.received_at.map(|t| (t, TimeSource::MboxFrom)),
                label: ctx.label,
                recipient: None,
                smtp: None,
            },
        })
    }
}

/// What every message from one stream shares.
pub(crate) struct StreamContext {
    /// `Envelope::source` of its messages.
    pub source: String,
    /// The path reported in `Error` items.
    pub path: std::path::PathBuf,
    pub label: Option<Label>,
    pub max: usize,
    /// What the stream is, for error messages ("gzip-compressed mbox").
    pub what: String,
}

impl StreamContext {
    fn read_error(&self, e: &io::Error, yielded: u64, lost: Option<&Pending>) -> SourceItem {
        let lost = match lost {
            Some(p) => format!(
                "; the message at offset {} ({} bytes read) was incomplete and dropped",
                p.offset, p.size
            ),
            None => String::new(),
        };
        SourceItem::Error {
            path: self.path.clone(),
            error: format!(
                "reading {} failed after {yielded} message(s): {e}{lost}; the file is probably truncated or corrupt — \
                 re-fetch or re-compress it and ingest it again",
                self.what
            ),
        }
    }
}

/// Streams the messages of an mbox.
pub(crate) struct MboxReader<R> {
    lines: LineReader<R>,
    ctx: StreamContext,
    pending: Option<Pending>,
    prev_blank: bool,
    yielded: u64,
    done: bool,
}

impl<R: BufRead> MboxReader<R> {
    pub(crate) fn new(inner: R, ctx: StreamContext) -> Self {
        MboxReader {
            lines: LineReader::new(inner),
            ctx,
            pending: None,
            prev_blank: true,
            yielded: 0,
            done: false,
        }
    }

    fn emit(&mut self, mut p: Pending) -> SourceItem {
        p.strip_separator_blank();
        self.yielded += 1;
        p.finish(&self.ctx)
    }

    fn step(&mut self) -> Option<SourceItem> {
        let max = self.ctx.max;
        loop {
            let line_pos = self.lines.pos();
            // Lines are read straight into the message being built, to copy them once.
            let mut p = self
                .pending
                .take()
                .unwrap_or_else(|| Pending::new(line_pos, None));
            let started = self.pending_started(&p, line_pos);
            let (start, len) = match p.read_line(&mut self.lines, max) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.done = true;
                    return started.then(|| self.emit(p));
                }
                Err(e) => {
                    self.done = true;
                    return Some(self.ctx.read_error(&e, self.yielded, started.then_some(&p)));
                }
            };
            let line = &p.bytes[start..];
            let whole = len as usize == line.len();
            if self.prev_blank && whole && is_separator(line, self.yielded == 0 && !started) {
                let received_at = parse_from_line_date(line);
                p.bytes.truncate(start);
                self.prev_blank = false;
                self.pending = Some(Pending::new(line_pos, received_at));
                if started {
                    return Some(self.emit(p));
                }
                continue;
            }
            if !started && is_blank(line) {
                // Blank lines before the first message are mbox padding.
                p.bytes.truncate(start);
                self.pending = None;
                continue;
            }
            let blank = whole && is_blank(line);
            self.prev_blank = blank;
            let quoted = line[0] == b'>' && {
                let unquoted = line.iter().position(|b| *b != b'>').unwrap_or(line.len());
                line[unquoted..].starts_with(b"From ")
            };
            if quoted {
                p.bytes.remove(start);
            }
            p.commit(len, u64::from(quoted), blank, max);
            self.pending = Some(p);
        }
    }

    /// Whether `p` is a real message already (it has a `From ` line or content).
    fn pending_started(&self, p: &Pending, line_pos: u64) -> bool {
        p.size > 0 || p.offset < line_pos
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = SourceItem;
    fn next(&mut self) -> Option<SourceItem> {
        if self.done {
            return None;
        }
        self.step()
    }
}

/// Streams the messages of a batch-SMTP transcript: commands until `DATA`,
/// then the message until a line `.`, with dot-stuffing undone. The first
/// `RCPT TO` becomes the recipient; a `From ` line at the top of the data is
/// an mbox-style envelope line and gives the receive time.
pub(crate) struct BsmtpReader<R> {
    lines: LineReader<R>,
    ctx: StreamContext,
    recipient: Option<String>,
    yielded: u64,
    done: bool,
    scratch: Vec<u8>,
}

impl<R: BufRead> BsmtpReader<R> {
    pub(crate) fn new(inner: R, ctx: StreamContext) -> Self {
        BsmtpReader {
            lines: LineReader::new(inner),
            ctx,
            recipient: None,
            yielded: 0,
            done: false,
            scratch: Vec::new(),
        }
    }

    fn step(&mut self) -> Option<SourceItem> {
        let max = self.ctx.max;
        // Commands, up to DATA.
        loop {
            self.scratch.clear();
            match self.lines.read_line(&mut self.scratch, PROBE) {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(e) => return Some(self.ctx.read_error(&e, self.yielded, None)),
            }
            let cmd = self.scratch.trim_ascii();
            let upper = cmd.get(..8).unwrap_or(cmd).to_ascii_uppercase();
            if upper.starts_with(b"RCPT TO:") && self.recipient.is_none() {
                let addr = cmd[8..].trim_ascii();
                let addr = addr.strip_prefix(b"<").unwrap_or(addr);
                let addr = addr.split(|b| *b == b'>').next().unwrap_or(addr);
                self.recipient = Some(String::from_utf8_lossy(addr).into_owned());
            } else if upper.starts_with(b"MAIL FROM") || upper.starts_with(b"RSET") {
                self.recipient = None;
            } else if upper == b"DATA" {
                break;
            }
        }
        let mut p = Pending::new(self.lines.pos(), None);
        let mut first = true;
        loop {
            let (start, len) = match p.read_line(&mut self.lines, max) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    return Some(SourceItem::Error {
                        path: self.ctx.path.clone(),
                        error: format!(
                            "BSMTP data at offset {} has no terminating '.' line (truncated file?); \
                             the partial message was dropped — check the file is complete",
                            p.offset
                        ),
                    });
                }
                Err(e) => return Some(self.ctx.read_error(&e, self.yielded, Some(&p))),
            };
            let line = &p.bytes[start..];
            if line == b".\r\n" || line == b".\n" || line == b"." {
                p.bytes.truncate(start);
                break;
            }
            if first && is_separator(line, true) && len as usize == line.len() {
                p.received_at = parse_from_line_date(line);
                p.bytes.truncate(start);
                first = false;
                continue;
            }
            first = false;
            let stuffed = line.starts_with(b"..");
            if stuffed {
                p.bytes.remove(start);
            }
            p.commit(len, u64::from(stuffed), false, max);
        }
        self.yielded += 1;
        let recipient = self.recipient.take();
        match p.finish(&self.ctx) {
            SourceItem::Message(mut m) => {
                m.envelope.recipient = recipient;
                Some(SourceItem::Message(m))
            }
            other => Some(other),
        }
    }
}

impl<R: BufRead> Iterator for BsmtpReader<R> {
    type Item = SourceItem;
    fn next(&mut self) -> Option<SourceItem> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(
            item,
            Some(SourceItem::Message(_) | SourceItem::Oversized { .. })
        ) {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        chrono::NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
            .and_utc()
            .timestamp()
    }

    #[test]
    fn parses_from_line_dates_leniently() {
        let t = ts(2005, 6, 14, 19, 52, 9);
        assert_eq!(
            parse_from_line_date(b"From aw-confirm@ebay.com  Tue Jun 14 19:52:09 2005\n"),
            Some(t)
        );
        assert_eq!(
            parse_from_line_date(b"From MAILER-DAEMON Tue Jun 14 19:52:09 2005"),
            Some(t)
        );
        assert_eq!(
            parse_from_line_date(b"From a@b Tue Jun 14 19:52:09 +0200 2005\r\n"),
            Some(t - 7200)
        );
        assert_eq!(
            parse_from_line_date(b"From a@b Tue Jun 14 21:52:09 EDT 2005"),
            Some(t + 2 * 3600 + 4 * 3600)
        );
        assert_eq!(
            parse_from_line_date(b"From a@b  Tue, 14 Jun 2005 19:52:09 -0000"),
            Some(t)
        );
        assert_eq!(
            parse_from_line_date(b"From nsb Thu Oct  3 16:04:09 1991"),
            Some(ts(1991, 10, 3, 16, 4, 9))
        );
        assert_eq!(
            parse_from_line_date(b"From - Tue Jun 14 19:52 2005"),
            Some(ts(2005, 6, 14, 19, 52, 0))
        );
    }

    #[test]
    fn odd_dates_give_none() {
        assert_eq!(parse_from_line_date(b"From a@b ??? 12:00"), None);
        assert_eq!(parse_from_line_date(b"From a@b Feb 30 12:00:00 2005"), None);
        assert_eq!(parse_from_line_date(b"From a@b Jun 14 99:00:00 2005"), None);
        assert_eq!(parse_from_line_date(b"From a@b Jun 14 12:00:00 1066"), None);
        assert_eq!(parse_from_line_date(b"From \xff\xfe Jun"), None);
        assert_eq!(parse_from_line_date(b"From "), None);
        assert_eq!(parse_from_line_date(b"Subject: no"), None);
    }

    #[test]
    fn separators_need_a_time_except_at_the_start() {
        assert!(is_separator(b"From a@b Tue Jun 14 19:52:09 2005\n", false));
        assert!(is_separator(b"From whoever\n", true));
        assert!(!is_separator(
            b"From home recordings to downloaded mp3s\n",
            false
        ));
        assert!(!is_separator(b"From: a@b 12:00\n", false));
        assert!(!is_separator(b">From a@b 12:00\n", false));
    }
}
