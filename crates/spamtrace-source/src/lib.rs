//! Sources: turn paths into a stream of raw messages, knowing nothing about
//! analysis.
//!
//! [`read_paths`] takes what a user names on the command line and yields
//! [`SourceItem`]s one at a time, in a reproducible order, holding at most one
//! message (bounded by [`SourceOptions::max_message_bytes`]) in memory:
//!
//! - a file is recognised **by content** ([`detect_kind`]), whatever its name:
//!   one RFC 822 message, an mbox (see [`mbox`](crate#mbox-files) below), a
//!   batch-SMTP transcript, a TREC spam-track index, or gzip/zstd
//!   compression of any of these (detected by magic bytes, nested at most
//!   [`MAX_COMPRESSION_LAYERS`] deep);
//! - a directory is walked recursively in byte order of file names, following
//!   symbolic links (loops are reported as errors). In a Maildir (a folder with
//!   `cur/` or `new/`), `tmp/` is not read: it holds deliveries in progress.
//!   Files in `cur/` and `new/` get their first `Delivered-To` as recipient.
//!   Mail-store bookkeeping (`.DS_Store`, `dovecot*`, `courierimap*`,
//!   `maildirfolder`, `maildirsize`, `Thumbs.db`) is skipped by name, all other
//!   files by content (feeds, text, binaries);
//! - `-` reads standard input (normally one message; an mbox or compressed
//!   stream on stdin is split like a file);
//! - a TREC index (`spam PATH` / `ham PATH` lines, PATH relative to the
//!   index's folder) named explicitly is followed: each listed file is read in
//!   index order with the index's label. An index met during a directory walk
//!   is [`SourceItem::Skipped`], not followed, so that walking a corpus folder
//!   does not read every message twice. Listed paths are resolved lexically
//!   (`full/../spam/1` becomes `spam/1`), so a message gets the same `source`
//!   through the index as through a folder walk. Bad lines and missing files
//!   are `Error`s and the index goes on.
//!
//! Nothing is lost silently: every file met yields at least one item (a
//! message, an oversized message, a skip with its reason, or an error naming
//! the path), and the walk goes on after errors.
//!
//! # mbox files
//! - **Separators.** A line starting with `From ` separates messages when it
//!   is the first line of the file, or when it follows a blank line *and*
//!   contains a clock time (`h:mm`). Every mbox writer puts a date with a
//!   time there, while prose in an unquoted (mboxo) body rarely has one: the
//!   SpamAssassin corpus has "From home recordings to ..." after a blank line,
//!   and it is not split. Odd dates are fine: only the time is needed to
//!   split, and an unparsable date gives `received_at = None`.
//! - **Quoting.** A file does not say whether it is mboxo or mboxrd, so one
//!   rule is applied: a body line matching `^>+From ` loses one `>`. For
//!   mboxrd this restores the original exactly. For mboxo (whose writers quote
//!   only `From ` as `>From `) it restores quoted lines, but a line that
//!   really began with `>From ` loses its `>`: that ambiguity is in the format,
//!   and this is the reading mail clients use.
//! - **Envelope.** The blank line the writer put before each separator (and at
//!   the end of the file) is removed from the message. The `From ` line's date
//!   ([`parse_from_line_date`]: asctime or RFC 2822, zone if given, else UTC)
//!   becomes `received_at` with [`TimeSource::MboxFrom`]; `offset` is the byte
//!   offset of the `From ` line (in the decompressed stream for a compressed
//!   mbox). A single message file that starts with a `From ` line is a
//!   one-message mbox.
//! - **Batch SMTP** files (`HELO`/`MAIL FROM:`/`RCPT TO:`/`DATA` ... `.`) yield
//!   each DATA block, dot-stuffing undone, the first `RCPT TO` as recipient.
//!
//! # Limits
//! A message larger than `max_message_bytes` becomes [`SourceItem::Oversized`]
//! with its first `max_message_bytes` bytes; the rest is counted, not stored
//! (for a plain file, not even read). Lines are never held in full beyond the
//! limit, so a file without newlines cannot exhaust memory. A truncated or
//! corrupt compressed file yields the messages before the damage, then an
//! [`SourceItem::Error`] naming the file.

#![warn(missing_docs)]

mod detect;
mod lines;
mod mbox;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Component, Path, PathBuf};

pub use detect::{ContentKind, SAMPLE_BYTES, detect_kind};
pub use mbox::parse_from_line_date;
pub use spamtrace_mail::{Envelope, Label, RawMessage, TimeSource};

use mbox::{BsmtpReader, MboxReader, StreamContext};

/// Default for [`SourceOptions::max_message_bytes`]: 64 MiB, far above any
/// real message (mail servers commonly refuse more than 25-50 MB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// How many compression layers (gzip in zstd in gzip...) are unwrapped before
/// a file is skipped: real archives use one; more is a decompression trap.
pub const MAX_COMPRESSION_LAYERS: usize = 3;

/// Longest TREC index line accepted; real lines are under 100 bytes.
const MAX_INDEX_LINE: usize = 4096;

/// Plain mbox files up to this size are read whole and, when they hold one
/// message in the usual shape, split without line-by-line work.
const SMALL_MBOX_BYTES: usize = 1024 * 1024;

/// Read buffer for mbox and index streams.
const READ_BUFFER: usize = 64 * 1024;

/// How sources read their input.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Messages larger than this are yielded as [`SourceItem::Oversized`]
    /// with only their first `max_message_bytes` bytes.
    pub max_message_bytes: usize,
    /// A label for every message, unless a TREC index gives one.
    pub label: Option<Label>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            label: None,
        }
    }
}

/// One thing a source met: a message, or a reason why it yielded none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceItem {
    /// One message, with its envelope.
    Message(RawMessage),
    /// A message larger than the limit: the pipeline counts it as failed and
    /// keeps `head` with the reason.
    Oversized {
        /// The file path (as in [`Envelope::source`]).
        source: String,
        /// Byte offset inside an mbox or BSMTP stream, `None` for a whole file.
        offset: Option<u64>,
        /// The message's full size in bytes.
        size: u64,
        /// Its first `max_message_bytes` bytes.
        head: Vec<u8>,
    },
    /// A file that is not mail (index files, Dovecot files, `.DS_Store`,
    /// feeds, binaries), with the reason it was taken for something else.
    Skipped {
        /// The file.
        path: PathBuf,
        /// Why it is not mail.
        reason: String,
    },
    /// A path that could not be read, or a file damaged part way; the message
    /// names the path and says what to do. The walk goes on.
    Error {
        /// The path that failed.
        path: PathBuf,
        /// What went wrong and what to do about it.
        error: String,
    },
}

impl SourceItem {
    /// Message bytes this item stands for, for MB progress displays: the
    /// message length, the full size of an oversized message, 0 otherwise.
    pub fn byte_len(&self) -> u64 {
        match self {
            SourceItem::Message(m) => m.bytes.len() as u64,
            SourceItem::Oversized { size, .. } => *size,
            SourceItem::Skipped { .. } | SourceItem::Error { .. } => 0,
        }
    }
}

/// Stream the messages under `paths` (files, directories, TREC indexes, `-`
/// for standard input), in order. See the crate docs for what is recognised.
/// Lazy: nothing is opened until the iterator is advanced.
pub fn read_paths(paths: &[PathBuf], opts: &SourceOptions) -> SourceStream {
    SourceStream::new(paths.to_vec(), opts.clone())
}

/// Stream the messages of one reader (standard input, a socket, a test
/// buffer) named `name`, recognised by content like a file. A TREC index on
/// a reader is skipped: its relative paths have no folder to resolve against.
pub fn read_reader<R: Read + Send + 'static>(
    name: &str,
    reader: R,
    opts: &SourceOptions,
) -> SourceStream {
    let mut stream = SourceStream::new(Vec::new(), opts.clone());
    let ctx = OpenContext {
        path: PathBuf::from(name),
        source: name.to_string(),
        label: opts.label,
        maildir: false,
        follow_index: false,
    };
    let opened = open_stream(Box::new(reader), None, &ctx, opts, 0);
    stream.take_opened(opened);
    stream
}

type DynBufRead = Box<dyn BufRead + Send>;
type Walker = walkdir::FilterEntry<walkdir::IntoIter, fn(&walkdir::DirEntry) -> bool>;

/// A multi-message stream being read.
enum Active {
    Mbox(MboxReader<DynBufRead>),
    Bsmtp(BsmtpReader<DynBufRead>),
}

/// What opening one file or stream gave.
enum Opened {
    Item(SourceItem),
    Stream(Active),
    Index(IndexReader),
}

/// The iterator returned by [`read_paths`] and [`read_reader`]: a state
/// machine over the roots, the current directory walk, the current index and
/// the current multi-message file, so that only one message is in memory.
pub struct SourceStream {
    opts: SourceOptions,
    roots: std::vec::IntoIter<PathBuf>,
    walker: Option<Walker>,
    index: Option<IndexReader>,
    active: Option<Active>,
    ready: VecDeque<SourceItem>,
}

impl SourceStream {
    fn new(roots: Vec<PathBuf>, opts: SourceOptions) -> Self {
        SourceStream {
            opts,
            roots: roots.into_iter(),
            walker: None,
            index: None,
            active: None,
            ready: VecDeque::new(),
        }
    }

    fn take_opened(&mut self, opened: Opened) {
        match opened {
            Opened::Item(item) => self.ready.push_back(item),
            Opened::Stream(active) => self.active = Some(active),
            Opened::Index(index) => self.index = Some(index),
        }
    }

    fn open_root(&mut self, root: PathBuf) {
        if root.as_os_str() == "-" {
            let ctx = OpenContext {
                path: root,
                source: "stdin".to_string(),
                label: self.opts.label,
                maildir: false,
                follow_index: false,
            };
            let opened = open_stream(Box::new(io::stdin()), None, &ctx, &self.opts, 0);
            self.take_opened(opened);
            return;
        }
        match std::fs::metadata(&root) {
            Err(e) => self.ready.push_back(SourceItem::Error {
                error: format!(
                    "cannot read {}: {e}; check that the path exists and is readable",
                    root.display()
                ),
                path: root,
            }),
            Ok(meta) if meta.is_dir() => {
                let walker = walkdir::WalkDir::new(&root)
                    .follow_links(true)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(not_maildir_tmp as fn(&walkdir::DirEntry) -> bool);
                self.walker = Some(walker);
            }
            Ok(_) => {
                let opened = open_path(&root, self.opts.label, false, true, &self.opts);
                self.take_opened(opened);
            }
        }
    }

    fn walk_entry(&mut self, entry: walkdir::DirEntry) {
        let file_type = entry.file_type();
        if file_type.is_dir() {
            return;
        }
        let path = entry.into_path();
        if !file_type.is_file() {
            self.ready.push_back(SourceItem::Skipped {
                path,
                reason: "not a regular file".to_string(),
            });
            return;
        }
        if let Some(reason) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(bookkeeping_file)
        {
            self.ready.push_back(SourceItem::Skipped {
                path,
                reason: reason.to_string(),
            });
            return;
        }
        let maildir = path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "cur" || n == "new");
        let opened = open_path(&path, self.opts.label, maildir, false, &self.opts);
        self.take_opened(opened);
    }
}

impl Iterator for SourceStream {
    type Item = SourceItem;

    fn next(&mut self) -> Option<SourceItem> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if let Some(active) = &mut self.active {
                let item = match active {
                    Active::Mbox(r) => r.next(),
                    Active::Bsmtp(r) => r.next(),
                };
                match item {
                    Some(item) => return Some(item),
                    None => self.active = None,
                }
                continue;
            }
            if let Some(index) = &mut self.index {
                match index.next_entry() {
                    Some(Ok((label, path))) => {
                        let opened = open_path(&path, Some(label), false, false, &self.opts);
                        self.take_opened(opened);
                    }
                    Some(Err(item)) => return Some(item),
                    None => self.index = None,
                }
                continue;
            }
            if let Some(walker) = &mut self.walker {
                match walker.next() {
                    Some(Ok(entry)) => self.walk_entry(entry),
                    Some(Err(e)) => {
                        let path = e.path().map(Path::to_path_buf).unwrap_or_default();
                        return Some(SourceItem::Error {
                            error: format!(
                                "cannot read {}: {e}; check its permissions (or the symbolic link loop)",
                                path.display()
                            ),
                            path,
                        });
                    }
                    None => self.walker = None,
                }
                continue;
            }
            let root = self.roots.next()?;
            self.open_root(root);
        }
    }
}

/// Directory-walk filter: skip a Maildir's `tmp/` (deliveries in progress,
/// possibly half-written).
fn not_maildir_tmp(entry: &walkdir::DirEntry) -> bool {
    if entry.depth() == 0 || entry.file_name() != "tmp" || !entry.file_type().is_dir() {
        return true;
    }
    let parent = entry.path().parent().unwrap_or(Path::new("."));
    !(parent.join("cur").is_dir() || parent.join("new").is_dir())
}

/// Why a file met in a walk is mail-store bookkeeping, judged by its name
/// alone because these names are fixed by the software that writes them.
fn bookkeeping_file(name: &str) -> Option<&'static str> {
    if name == ".DS_Store" {
        Some("macOS Finder metadata (.DS_Store), not mail")
    } else if name.eq_ignore_ascii_case("Thumbs.db") || name.eq_ignore_ascii_case("desktop.ini") {
        Some("Windows folder metadata, not mail")
    } else if name.starts_with("dovecot") {
        Some("Dovecot index or bookkeeping file, not mail")
    } else if name.starts_with("courierimap") || name == "maildirfolder" || name == "maildirsize" {
        Some("Maildir bookkeeping file, not mail")
    } else {
        None
    }
}

/// Who is opening a stream, and what its messages share.
struct OpenContext {
    /// The path reported in `Skipped`/`Error` items.
    path: PathBuf,
    /// `Envelope::source` of its messages.
    source: String,
    label: Option<Label>,
    /// In a Maildir `cur/` or `new/`: take `Delivered-To` as recipient.
    maildir: bool,
    /// Named explicitly, so a TREC index is followed rather than skipped.
    follow_index: bool,
}

fn open_path(
    path: &Path,
    label: Option<Label>,
    maildir: bool,
    follow_index: bool,
    opts: &SourceOptions,
) -> Opened {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return Opened::Item(SourceItem::Error {
                path: path.to_path_buf(),
                error: format!(
                    "cannot open {}: {e}; check that it exists and is readable",
                    path.display()
                ),
            });
        }
    };
    let size_hint = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let ctx = OpenContext {
        path: path.to_path_buf(),
        source: path.to_string_lossy().into_owned(),
        label,
        maildir,
        follow_index,
    };
    open_stream(Box::new(file), size_hint, &ctx, opts, 0)
}

/// Recognise a stream by its first bytes and start reading it accordingly.
/// `size_hint` is the exact size of an uncompressed regular file.
fn open_stream(
    mut reader: Box<dyn Read + Send>,
    size_hint: Option<u64>,
    ctx: &OpenContext,
    opts: &SourceOptions,
    layers: usize,
) -> Opened {
    let max = opts.max_message_bytes;
    // Room for the sample only: a huge mbox must not reserve a message's worth.
    let mut buf = Vec::with_capacity(
        size_hint.map_or(SAMPLE_BYTES, |s| s.min(SAMPLE_BYTES as u64) as usize + 1),
    );
    if let Err(e) = (&mut reader)
        .take(SAMPLE_BYTES as u64)
        .read_to_end(&mut buf)
    {
        let what = if layers > 0 { "decompress" } else { "read" };
        return Opened::Item(SourceItem::Error {
            path: ctx.path.clone(),
            error: format!(
                "cannot {what} {}: {e}; the file is probably truncated or damaged — re-fetch it, \
                 or check that it is readable",
                ctx.path.display()
            ),
        });
    }
    let kind = detect_kind(&buf);
    let compressed = matches!(kind, ContentKind::Gzip | ContentKind::Zstd);
    if compressed && layers >= MAX_COMPRESSION_LAYERS {
        return Opened::Item(SourceItem::Skipped {
            path: ctx.path.clone(),
            reason: format!(
                "compressed more than {MAX_COMPRESSION_LAYERS} times over; not unpacked (decompression trap?)"
            ),
        });
    }
    if kind == ContentKind::Mbox && size_hint.is_some_and(|size| size <= SMALL_MBOX_BYTES as u64) {
        // Small plain files are read whole: most are one message after a `From ` line.
        buf.reserve_exact(
            size_hint
                .map_or(0, |s| s as usize + 1)
                .saturating_sub(buf.len()),
        );
        if let Err(e) = reader.read_to_end(&mut buf) {
            return Opened::Item(SourceItem::Error {
                path: ctx.path.clone(),
                error: format!(
                    "reading {} failed: {e}; check that it is readable",
                    ctx.path.display()
                ),
            });
        }
        match mbox::single_message_fast(buf, &stream_context(ctx, max, "mbox")) {
            Ok(item) => return Opened::Item(item),
            Err(whole) => buf = whole,
        }
    }
    let rest = Cursor::new(buf).chain(reader);
    let stream_context = |what: &str| stream_context(ctx, max, what);
    let buffered = |r: Box<dyn Read + Send>| -> DynBufRead {
        Box::new(BufReader::with_capacity(READ_BUFFER, r))
    };
    match kind {
        ContentKind::Gzip => {
            let decoder = flate2::read::MultiGzDecoder::new(rest);
            open_stream(Box::new(decoder), None, ctx, opts, layers + 1)
        }
        ContentKind::Zstd => match zstd::stream::read::Decoder::new(rest) {
            Ok(decoder) => open_stream(Box::new(decoder), None, ctx, opts, layers + 1),
            Err(e) => Opened::Item(SourceItem::Error {
                path: ctx.path.clone(),
                error: format!("cannot start zstd decoding of {}: {e}; the file may be damaged", ctx.path.display()),
            }),
        },
        ContentKind::Mbox => {
            Opened::Stream(Active::Mbox(MboxReader::new(buffered(Box::new(rest)), stream_context(&kind_name("mbox", layers)))))
        }
        ContentKind::Bsmtp => Opened::Stream(Active::Bsmtp(BsmtpReader::new(
            buffered(Box::new(rest)),
            stream_context(&kind_name("BSMTP transcript", layers)),
        ))),
        ContentKind::TrecIndex if ctx.follow_index => {
            let base = ctx.path.parent().map(Path::to_path_buf).unwrap_or_default();
            Opened::Index(IndexReader::new(buffered(Box::new(rest)), ctx.path.clone(), base))
        }
        ContentKind::TrecIndex => Opened::Item(SourceItem::Skipped {
            path: ctx.path.clone(),
            reason: "TREC spam-track index file: not followed while walking a folder; name it explicitly to read \
                     the messages it lists with their labels"
                .to_string(),
        }),
        ContentKind::NotMail { reason } => Opened::Item(SourceItem::Skipped { path: ctx.path.clone(), reason }),
        ContentKind::Eml => {
            let (mut buf, reader) = rest.into_inner();
            let buf = buf.get_mut();
            Opened::Item(read_single(std::mem::take(buf), reader, size_hint, ctx, max, layers))
        }
    }
}

fn stream_context(ctx: &OpenContext, max: usize, what: &str) -> StreamContext {
    StreamContext {
        source: ctx.source.clone(),
        path: ctx.path.clone(),
        label: ctx.label,
        max,
        what: format!("{what} {}", ctx.path.display()),
    }
}

fn kind_name(kind: &str, layers: usize) -> String {
    if layers > 0 {
        format!("compressed {kind}")
    } else {
        kind.to_string()
    }
}

/// Read the rest of a one-message file whose first bytes are in `buf`,
/// keeping at most `max` bytes.
fn read_single(
    mut buf: Vec<u8>,
    mut reader: Box<dyn Read + Send>,
    size_hint: Option<u64>,
    ctx: &OpenContext,
    max: usize,
    layers: usize,
) -> SourceItem {
    // One allocation of the right size for a plain file (the +1 lets
    // `read_to_end` see the end without growing the buffer).
    let wanted = size_hint
        .map_or(0, |s| s.min(max as u64) as usize)
        .saturating_add(1);
    buf.reserve_exact(wanted.saturating_sub(buf.len()));
    let result = (|| -> io::Result<u64> {
        match size_hint {
            // A plain file's size is known: read its head only.
            Some(size) if size > max as u64 => {
                (&mut reader)
                    .take(max.saturating_sub(buf.len()) as u64)
                    .read_to_end(&mut buf)?;
                Ok(size)
            }
            _ => {
                (&mut reader)
                    .take(max.saturating_add(1).saturating_sub(buf.len()) as u64)
                    .read_to_end(&mut buf)?;
                let beyond = if buf.len() > max {
                    io::copy(&mut reader, &mut io::sink())?
                } else {
                    0
                };
                Ok(buf.len() as u64 + beyond)
            }
        }
    })();
    let size = match result {
        Ok(size) => size,
        Err(e) => {
            let what = if layers > 0 {
                "compressed message"
            } else {
                "message"
            };
            return SourceItem::Error {
                path: ctx.path.clone(),
                error: format!(
                    "reading {what} {} failed after {} bytes: {e}; the file is probably truncated or corrupt — \
                     re-fetch it and ingest it again",
                    ctx.path.display(),
                    buf.len()
                ),
            };
        }
    };
    if size > max as u64 {
        buf.truncate(max);
        return SourceItem::Oversized {
            source: ctx.source.clone(),
            offset: None,
            size,
            head: buf,
        };
    }
    let recipient = if ctx.maildir {
        delivered_to(&buf)
    } else {
        None
    };
    SourceItem::Message(RawMessage {
        bytes: buf,
        envelope: Envelope {
            source: ctx.source.clone(),
            offset: None,
            received_at: None,
            label: ctx.label,
            recipient,
            smtp: None,
        },
    })
}

/// The first `Delivered-To` header of a message (the Maildir owner's
/// address, added by the final delivery agent), looked up in the header block only.
fn delivered_to(message: &[u8]) -> Option<String> {
    let mut rest = message;
    while let Some(end) = memchr::memchr(b'\n', rest) {
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        if line.is_empty() {
            return None;
        }
        if line.len() > 13 && line[..13].eq_ignore_ascii_case(b"delivered-to:") {
            let value = line[13..].trim_ascii();
            if !value.is_empty() {
                return Some(String::from_utf8_lossy(value).into_owned());
            }
        }
        rest = &rest[end + 1..];
    }
    None
}

/// Reads a TREC index line by line (never the whole index at once).
struct IndexReader {
    lines: lines::LineReader<DynBufRead>,
    path: PathBuf,
    base: PathBuf,
    line_no: u64,
    line: Vec<u8>,
    done: bool,
}

impl IndexReader {
    fn new(reader: DynBufRead, path: PathBuf, base: PathBuf) -> Self {
        IndexReader {
            lines: lines::LineReader::new(reader),
            path,
            base,
            line_no: 0,
            line: Vec::new(),
            done: false,
        }
    }

    /// The next `(label, path)` entry, or an error item for a bad line.
    fn next_entry(&mut self) -> Option<Result<(Label, PathBuf), SourceItem>> {
        if self.done {
            return None;
        }
        loop {
            self.line.clear();
            let len = match self.lines.read_line(&mut self.line, MAX_INDEX_LINE) {
                Ok(Some(len)) => len,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(SourceItem::Error {
                        path: self.path.clone(),
                        error: format!(
                            "reading index {} failed after line {}: {e}; check the file is complete",
                            self.path.display(),
                            self.line_no
                        ),
                    }));
                }
            };
            self.line_no += 1;
            let text = self.line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let bad = |why: &str| {
                Some(Err(SourceItem::Error {
                    path: self.path.clone(),
                    error: format!(
                        "index {} line {}: {why}; expected `spam PATH` or `ham PATH` — fix or remove the line",
                        self.path.display(),
                        self.line_no
                    ),
                }))
            };
            if len as usize > MAX_INDEX_LINE {
                return bad("line too long");
            }
            let mut fields = text
                .split(|b| b.is_ascii_whitespace())
                .filter(|f| !f.is_empty());
            let label = fields
                .next()
                .and_then(|l| std::str::from_utf8(l).ok())
                .and_then(Label::parse);
            let (Some(label), Some(rel)) = (label, fields.next()) else {
                return bad("not a label and a path");
            };
            let rel = PathBuf::from(String::from_utf8_lossy(rel).into_owned());
            return Some(Ok((label, normalize_lexically(&self.base.join(rel)))));
        }
    }
}

/// Resolve `.` and `..` without touching the file system, so a message named
/// by an index (`full/../spam/1`) gets the same source as when a folder walk
/// finds it (`spam/1`) and re-ingesting either way adds no new sighting.
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(
                    out.components().next_back(),
                    Some(Component::RootDir | Component::Prefix(_))
                ) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_normalisation() {
        assert_eq!(
            normalize_lexically(Path::new("a/full/../spam/1")),
            PathBuf::from("a/spam/1")
        );
        assert_eq!(
            normalize_lexically(Path::new("../x/./y")),
            PathBuf::from("../x/y")
        );
        assert_eq!(normalize_lexically(Path::new("/../x")), PathBuf::from("/x"));
        assert_eq!(normalize_lexically(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn delivered_to_only_from_headers() {
        assert_eq!(
            delivered_to(b"X: 1\nDelivered-To:  me@x\n\nbody"),
            Some("me@x".to_string())
        );
        assert_eq!(delivered_to(b"X: 1\r\n\r\nDelivered-To: me@x\r\n"), None);
        assert_eq!(
            delivered_to(b"delivered-to:\nDELIVERED-TO: b@y\n\n"),
            Some("b@y".to_string())
        );
    }

    #[test]
    fn stream_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        assert_send(&read_paths(&[], &SourceOptions::default()));
    }
}
