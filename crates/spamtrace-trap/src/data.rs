//! The DATA phase as a byte-exact state machine: finds the end-of-data line,
//! undoes dot-stuffing and enforces the size limit without ever buffering more
//! than the limit.

/// How the end-of-data line was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataEnd {
    /// `.` followed by CR LF, as RFC 5321 requires.
    CrLf,
    /// `.` followed by a bare LF (accepted: ratware does it, and the trap wants
    /// the message; recorded as a dialect trait).
    BareLf,
}

/// Result of feeding bytes to a [`BodyReceiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyProgress {
    /// The end-of-data line has not arrived yet; feed more bytes.
    NeedMore,
    /// The message is complete.
    Done(DataEnd),
}

/// Receives one message body after `354`.
#[derive(Debug)]
pub(crate) struct BodyReceiver {
    /// True when the next byte starts a line (after LF, or at the start).
    line_start: bool,
    /// The last byte appended to the message (to spot bare LF line ends).
    last_byte: u8,
    /// Bytes of the message so far, counted even past the limit.
    size: usize,
    limit: usize,
    /// Any line of the message ended with LF alone.
    pub(crate) bare_lf: bool,
    /// The message, while within the limit (emptied once it is exceeded).
    pub(crate) body: Vec<u8>,
}

impl BodyReceiver {
    pub(crate) fn new(limit: usize) -> BodyReceiver {
        BodyReceiver {
            line_start: true,
            last_byte: b'\n',
            size: 0,
            limit,
            bare_lf: false,
            body: Vec::new(),
        }
    }

    /// True once the message grew beyond the limit.
    pub(crate) fn overflowed(&self) -> bool {
        self.size > self.limit
    }

    /// Message size so far (after unstuffing), counted past the limit too.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.size = self.size.saturating_add(bytes.len());
        if self.size > self.limit {
            // Free what was kept: the message will be refused anyway.
            self.body = Vec::new();
        } else {
            self.body.extend_from_slice(bytes);
        }
        self.last_byte = bytes[bytes.len() - 1];
    }

    /// Consume as much of `input` as possible. Returns how many bytes were
    /// used and whether the message is complete. Unused bytes (a possible
    /// end-of-data line cut by a read boundary, or what follows the end) must
    /// be offered again with more input appended.
    pub(crate) fn feed(&mut self, input: &[u8]) -> (usize, BodyProgress) {
        let mut at = 0;
        while at < input.len() {
            if self.line_start && input[at] == b'.' {
                match input.get(at + 1) {
                    None => return (at, BodyProgress::NeedMore),
                    Some(b'\n') => return (at + 2, BodyProgress::Done(DataEnd::BareLf)),
                    Some(b'\r') => match input.get(at + 2) {
                        None => return (at, BodyProgress::NeedMore),
                        Some(b'\n') => return (at + 3, BodyProgress::Done(DataEnd::CrLf)),
                        // ".\rX": a stuffed line whose content starts with CR.
                        Some(_) => {}
                    },
                    // Dot-stuffing (RFC 5321 4.5.2): drop the leading dot.
                    Some(_) => {}
                }
                at += 1;
                self.line_start = false;
                continue;
            }
            match memchr::memchr(b'\n', &input[at..]) {
                Some(offset) => {
                    let end = at + offset + 1;
                    let before_lf = if offset > 0 {
                        input[at + offset - 1]
                    } else {
                        self.last_byte
                    };
                    if before_lf != b'\r' {
                        self.bare_lf = true;
                    }
                    self.push(&input[at..end]);
                    self.line_start = true;
                    at = end;
                }
                None => {
                    self.push(&input[at..]);
                    self.line_start = false;
                    at = input.len();
                }
            }
        }
        (at, BodyProgress::NeedMore)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `input` split at every possible boundary and check each split
    /// gives the same message.
    fn receive_all_splits(input: &[u8], limit: usize) -> (Vec<u8>, DataEnd, usize, bool) {
        let mut expected: Option<(Vec<u8>, DataEnd, usize, bool)> = None;
        for split in 0..=input.len() {
            let mut receiver = BodyReceiver::new(limit);
            let mut pending: Vec<u8> = Vec::new();
            let mut outcome = None;
            let mut fed = 0;
            for chunk in [&input[..split], &input[split..]] {
                fed += chunk.len();
                pending.extend_from_slice(chunk);
                let (used, progress) = receiver.feed(&pending);
                let rest = pending.split_off(used);
                pending = rest;
                if let BodyProgress::Done(end) = progress {
                    // Bytes after the end-of-data line, fed or not yet fed.
                    let left = pending.len() + input.len() - fed;
                    outcome = Some((receiver.body.clone(), end, left, receiver.bare_lf));
                    break;
                }
            }
            let outcome = outcome.expect("end of data found");
            match &expected {
                None => expected = Some(outcome),
                Some(e) => assert_eq!(e, &outcome, "split at {split}"),
            }
        }
        expected.unwrap()
    }

    #[test]
    fn dot_stuffing_is_undone_byte_exact() {
        let wire = b"Subject: x\r\n\r\n..\r\n...\r\n.hidden\r\n. \r\n.\r.\r\nend\r\n.\r\nQUIT\r\n";
        let (body, end, left, bare_lf) = receive_all_splits(wire, 1 << 20);
        assert_eq!(
            body,
            b"Subject: x\r\n\r\n.\r\n..\r\nhidden\r\n \r\n\r.\r\nend\r\n".to_vec()
        );
        assert_eq!(end, DataEnd::CrLf);
        assert_eq!(left, b"QUIT\r\n".len());
        assert!(!bare_lf);
    }

    #[test]
    fn empty_message_and_bare_lf_end() {
        let (body, end, _, _) = receive_all_splits(b".\r\n", 100);
        assert!(body.is_empty());
        assert_eq!(end, DataEnd::CrLf);
        let (body, end, _, bare_lf) = receive_all_splits(b"a\nb\n.\n", 100);
        assert_eq!(body, b"a\nb\n".to_vec());
        assert_eq!(end, DataEnd::BareLf);
        assert!(bare_lf);
    }

    #[test]
    fn crlf_dot_inside_a_line_is_not_the_end() {
        let (body, _, _, _) = receive_all_splits(b"a.\r\nb\r.\r\n\r\n.\r\n", 100);
        assert_eq!(body, b"a.\r\nb\r.\r\n\r\n".to_vec());
    }

    #[test]
    fn oversize_is_counted_but_not_kept() {
        let mut receiver = BodyReceiver::new(10);
        let (_, progress) = receiver.feed(b"0123456789abcdef\r\n");
        assert_eq!(progress, BodyProgress::NeedMore);
        assert!(receiver.overflowed());
        assert!(receiver.body.is_empty());
        let (_, progress) = receiver.feed(b"more\r\n.\r\n");
        assert_eq!(progress, BodyProgress::Done(DataEnd::CrLf));
        assert_eq!(receiver.size(), 24);
    }
}
