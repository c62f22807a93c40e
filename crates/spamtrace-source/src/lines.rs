//! A line reader with a memory bound: hostile input may hold a "line" of
//! gigabytes without a newline, so callers say how much of each line to keep
//! and the rest is counted but not stored.

use std::io::{self, BufRead};

/// Reads `\n`-terminated lines from a buffered reader and tracks the byte
/// position in the stream (used for mbox offsets).
pub(crate) struct LineReader<R> {
    inner: R,
    /// Bytes consumed so far from the start of the stream.
    pos: u64,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineReader { inner, pos: 0 }
    }

    /// Byte position of the next line in the stream.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Appends the next line (with its line ending) to `out`, keeping at most
    /// `max_keep` bytes of it. Returns the full length of the line, or `None`
    /// at the end of the stream. Copies each kept byte exactly once.
    pub(crate) fn read_line(
        &mut self,
        out: &mut Vec<u8>,
        max_keep: usize,
    ) -> io::Result<Option<u64>> {
        let mut total: u64 = 0;
        let mut kept: usize = 0;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok((total > 0).then_some(total));
            }
            let (chunk, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let take = chunk.min(max_keep - kept);
            out.extend_from_slice(&buf[..take]);
            kept += take;
            total += chunk as u64;
            self.inner.consume(chunk);
            self.pos += chunk as u64;
            if done {
                return Ok(Some(total));
            }
        }
    }
}

/// Whether a line (with its ending) is empty: `\n` or `\r\n`.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_and_positions() {
        let mut r = LineReader::new(&b"ab\ncd\r\nlast"[..]);
        let mut out = Vec::new();
        assert_eq!(r.read_line(&mut out, 100).unwrap(), Some(3));
        assert_eq!(r.pos(), 3);
        assert_eq!(r.read_line(&mut out, 100).unwrap(), Some(4));
        assert_eq!(r.read_line(&mut out, 100).unwrap(), Some(4));
        assert_eq!(r.read_line(&mut out, 100).unwrap(), None);
        assert_eq!(out, b"ab\ncd\r\nlast");
        assert_eq!(r.pos(), 11);
    }

    #[test]
    fn long_line_is_counted_not_kept() {
        let data = vec![b'x'; 100_000];
        // A tiny BufReader buffer forces the line across many refills.
        let mut r = LineReader::new(io::BufReader::with_capacity(7, &data[..]));
        let mut out = Vec::new();
        assert_eq!(r.read_line(&mut out, 10).unwrap(), Some(100_000));
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn blank_lines() {
        assert!(is_blank(b"\n"));
        assert!(is_blank(b"\r\n"));
        assert!(!is_blank(b" \n"));
        assert!(!is_blank(b""));
    }
}
