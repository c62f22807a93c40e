/*
 * SPDX-FileCopyrightText: 2020 Stalwart Labs LLC <hello@stalw.art>
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

use super::MessageStream;
use crate::{Header, HeaderName, MessageParser, header_map};
use std::borrow::Cow;
const MAX_HEADER_NAME_LEN: usize = 34;

impl<'x> MessageStream<'x> {
    pub fn parse_headers(&mut self, conf: &MessageParser, headers: &mut Vec<Header<'x>>) -> bool {
        loop {
            loop {
                match self.peek() {
                    Some(b'\n') => {
                        self.next();
                        return true;
                    }
                    None => return false,
                    Some(ch) if !ch.is_ascii_whitespace() => {
                        break;
                    }
                    _ => {
                        self.next();
                    }
                }
            }

            let offset_field = self.offset();

            if let Some(header_name) = self.parse_header_name() {
                let from_offset = self.offset();
                let value = if conf.header_map.is_empty() {
                    match &header_name {
                        HeaderName::Subject
                        | HeaderName::Comments
                        | HeaderName::ContentDescription
                        | HeaderName::ContentLocation
                        | HeaderName::ContentTransferEncoding => self.parse_unstructured(),
                        HeaderName::From
                        | HeaderName::To
                        | HeaderName::Cc
                        | HeaderName::Bcc
                        | HeaderName::ReplyTo
                        | HeaderName::Sender
                        | HeaderName::ResentTo
                        | HeaderName::ResentFrom
                        | HeaderName::ResentBcc
                        | HeaderName::ResentCc
                        | HeaderName::ResentSender
                        | HeaderName::ListArchive
                        | HeaderName::ListHelp
                        | HeaderName::ListId
                        | HeaderName::ListOwner
                        | HeaderName::ListPost
                        | HeaderName::ListSubscribe
                        | HeaderName::ListUnsubscribe => self.parse_address(),
                        HeaderName::Date | HeaderName::ResentDate => self.parse_date(),
                        HeaderName::MessageId
                        | HeaderName::References
                        | HeaderName::InReplyTo
                        | HeaderName::ReturnPath
                        | HeaderName::ContentId
                        | HeaderName::ResentMessageId => self.parse_id(),
                        HeaderName::Keywords | HeaderName::ContentLanguage => {
                            self.parse_comma_separared()
                        }
                        HeaderName::Received => self.parse_received(),
                        HeaderName::MimeVersion => self.parse_raw(),
                        HeaderName::ContentType | HeaderName::ContentDisposition => {
                            self.parse_content_type()
                        }
                        _ => self.parse_raw(),
                    }
                } else {
                    (conf
                        .header_map
                        .get(&header_name)
                        .unwrap_or(&conf.def_hdr_parse_fnc))(self)
                };

                headers.push(Header {
                    name: header_name,
                    value,
                    offset_field: offset_field as u32,
                    offset_start: from_offset as u32,
                    offset_end: self.offset() as u32,
                });
            } else if self.is_eof() {
                return false;
            }
        }
    }

    pub fn parse_header_name(&mut self) -> Option<HeaderName<'x>> {
        // spamtrace patch: the name is found with memchr and read from the
        // slice instead of byte by byte through the iterator; same result
        // and same stopping place as the byte loop (kept in the tests):
        // leading blanks and colons are skipped, blanks inside the name are
        // dropped, a line end before the colon means no name, and the end
        // of the input ends the name (one past the end, as `next` leaves it).
        let start = self.offset();
        let rest = &self.data[start..];
        let mut first = None;
        let mut search = 0;
        let colon = loop {
            match memchr::memchr2(b':', b'\n', &rest[search..]) {
                Some(p) => {
                    let at = search + p;
                    if first.is_none() {
                        first = rest[search..at]
                            .iter()
                            .position(|b| !b.is_ascii_whitespace())
                            .map(|q| search + q);
                    }
                    if rest[at] == b'\n' {
                        self.skip_bytes(at + 1);
                        return None;
                    }
                    if first.is_some() {
                        self.skip_bytes(at + 1);
                        break at;
                    }
                    search = at + 1;
                }
                None => {
                    if first.is_none() {
                        first = rest[search..]
                            .iter()
                            .position(|b| !b.is_ascii_whitespace())
                            .map(|q| search + q);
                    }
                    self.seek_end();
                    self.pos += 1;
                    break rest.len();
                }
            }
        };
        let first = first?;
        let name = &rest[first..colon];
        let mut header = [0u8; NAME_BUF_LEN];
        let (token_len, last) = if lowercase_name(rest, first, name.len(), &mut header) {
            // No blank in the name (the usual case): every byte is kept.
            (name.len(), first + name.len() - 1)
        } else {
            let header = &mut header[..MAX_HEADER_NAME_LEN];
            let mut token_len: usize = 0;
            let mut last = first;
            for (i, &ch) in name.iter().enumerate() {
                if !ch.is_ascii_whitespace() {
                    if let Some(header) = header.get_mut(token_len) {
                        *header = ch.to_ascii_lowercase();
                    }
                    token_len += 1;
                    last = first + i;
                }
            }
            (token_len, last)
        };
        let (token_start, token_end) = (start + first + 1, start + last + 1);
        header[..MAX_HEADER_NAME_LEN]
            .get(..token_len)
            .and_then(header_map)
            .unwrap_or_else(|| {
                HeaderName::Other(crate::parsers::utf8_lossy(
                    self.bytes(token_start - 1..token_end),
                ))
            })
            .into()
    }
}

/// [`MAX_HEADER_NAME_LEN`] rounded up to whole words.
const NAME_BUF_LEN: usize = MAX_HEADER_NAME_LEN.div_ceil(8) * 8;

/// spamtrace patch: the header name `data[first..first + len]` (its first
/// byte not blank) ASCII-lowercased into `out[..len]` eight bytes at a time,
/// when it fits (`len <= MAX_HEADER_NAME_LEN`) and has no ASCII byte below
/// `!` (so no blank for the byte loop to drop); false, with `out` to be
/// rewritten, otherwise. The byte loop it stands for cost a dozen
/// instructions a byte. Bytes past the name that are read with it are
/// masked out of the test (and land in `out` past `len`).
#[inline]
fn lowercase_name(data: &[u8], first: usize, len: usize, out: &mut [u8; NAME_BUF_LEN]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if len > MAX_HEADER_NAME_LEN {
        return false;
    }
    // The name and what follows it, or the name alone zero-padded near
    // the end of the input.
    let mut padded = [0u8; NAME_BUF_LEN];
    let src: &[u8] = match data.get(first..first + NAME_BUF_LEN) {
        Some(s) => s,
        None => {
            padded[..len].copy_from_slice(&data[first..first + len]);
            &padded
        }
    };
    let mut below_bang = 0u64;
    let mut k = 0;
    while k < len {
        let w = u64::from_le_bytes(src[k..k + 8].try_into().unwrap());
        let n = (len - k).min(8);
        let valid = u64::MAX >> (64 - 8 * n);
        // Per byte, no carry into the next: the high bit of `seven + c`
        // says whether the low seven bits are >= 0x80 - c.
        let seven = w & !HIGH;
        let ascii = !w & HIGH;
        below_bang |= !(seven + (0x80 - 0x21) * ONES) & ascii & valid;
        let upper =
            (seven + (0x80 - b'A' as u64) * ONES) & !(seven + (0x7f - b'Z' as u64) * ONES) & ascii;
        out[k..k + 8].copy_from_slice(&(w | upper >> 2).to_le_bytes());
        k += 8;
    }
    below_bang == 0
}

impl<'x> HeaderName<'x> {
    /// Parse a header name
    pub fn parse(data: impl Into<Cow<'x, str>>) -> Option<HeaderName<'x>> {
        let data = data.into();

        if !data.is_empty() {
            let mut data_lc = String::with_capacity(data.len());
            for ch in data.chars() {
                match ch {
                    'A'..='Z' => data_lc.push(ch.to_ascii_lowercase()),
                    'a'..='z' | '0'..='9' | '-' | '_' => data_lc.push(ch),
                    _ => return None,
                }
            }
            header_map(data_lc.as_bytes())
                .unwrap_or(HeaderName::Other(data))
                .into()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{HeaderName, parsers::MessageStream};

    #[test]
    fn header_name_parse() {
        let inputs = [
            ("From: ", HeaderName::From),
            ("receiVED: ", HeaderName::Received),
            (" subject   : ", HeaderName::Subject),
            (
                "X-Custom-Field : ",
                HeaderName::Other("X-Custom-Field".into()),
            ),
            (" T : ", HeaderName::Other("T".into())),
            ("mal formed: ", HeaderName::Other("mal formed".into())),
            ("MIME-version : ", HeaderName::MimeVersion),
            ("Delivered-To: ", HeaderName::DeliveredTo),
            ("archived-AT: ", HeaderName::ArchivedAt),
            ("X-Face: ", HeaderName::Other("X-Face".into())),
            (
                "Disposition-Notification-Options: ",
                HeaderName::DispositionNotificationOptions,
            ),
            (
                "MMHS-Other-Recipients-Indicator-To: ",
                HeaderName::MmhsOtherRecipientsIndicatorTo,
            ),
            (
                "Original-Encoded-Information-Types-Extra: ",
                HeaderName::Other("Original-Encoded-Information-Types-Extra".into()),
            ),
        ];

        for (input, expected_result) in inputs {
            assert_eq!(
                expected_result,
                MessageStream::new(input.as_bytes())
                    .parse_header_name()
                    .unwrap(),
                "Failed to parse '{input:?}'",
            );
        }
    }
}

#[cfg(test)]
mod spamtrace_patch_tests {
    use super::MAX_HEADER_NAME_LEN;
    use crate::{HeaderName, header_map, parsers::MessageStream};

    // The original byte loop, kept to compare with.
    fn reference<'x>(this: &mut MessageStream<'x>) -> Option<HeaderName<'x>> {
        let mut token_start: usize = 0;
        let mut token_end: usize = 0;
        let mut token_len: usize = 0;

        let mut header = [0u8; MAX_HEADER_NAME_LEN];

        while let Some(&ch) = this.next() {
            match ch {
                b':' => {
                    if token_start != 0 {
                        break;
                    }
                }
                b'\n' => {
                    return None;
                }
                _ => {
                    if !ch.is_ascii_whitespace() {
                        if token_start == 0 {
                            token_start = this.offset();
                            token_end = token_start;
                        } else {
                            token_end = this.offset();
                        }

                        if let Some(header) = header.get_mut(token_len) {
                            *header = ch.to_ascii_lowercase();
                        }
                        token_len += 1;
                    }
                }
            }
        }

        if token_start != 0 {
            header
                .get(..token_len)
                .and_then(header_map)
                .unwrap_or_else(|| {
                    HeaderName::Other(crate::parsers::utf8_lossy(
                        this.bytes(token_start - 1..token_end),
                    ))
                })
                .into()
        } else {
            None
        }
    }

    #[test]
    fn header_names_are_read_as_the_byte_loop_read_them() {
        let pieces: [&[u8]; 18] = [
            b"Subject", b"x-Long-Name-That-Goes-On-And-On-Past-34", b" ", b"\t", b":", b"\n",
            b"\r\n", b"From", b"a", b"\xc3\xa9", b"\xff", b"List-Id",
            b"MMHS-Other-Recipients-Indicator-To", b"X-MiXed_Case[Z]@`{", b"\x0b", b"\x00",
            b"\x0c", b"CONTENT-type",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            // A step per input too: an input of no pieces must not leave
            // the state (and so every later input) as it was.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut input = Vec::new();
            for _ in 0..(state % 8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                input.extend_from_slice(pieces[(state % 18) as usize]);
            }
            let (mut fast, mut slow) = (MessageStream::new(&input), MessageStream::new(&input));
            // Debug too: `==` compares unknown names without case.
            let (got, want) = (fast.parse_header_name(), reference(&mut slow));
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{input:?}");
            assert_eq!(got, want, "{input:?}");
            assert_eq!(fast.pos, slow.pos, "{input:?}");
            assert_eq!(fast.next(), slow.next(), "{input:?}");
        }
    }

    #[test]
    fn known_names_are_equal_exactly_when_their_ids_are() {
        // Every name of the `header_names!` table, read from the source.
        let names: Vec<&str> = include_str!("../lib.rs")
            .lines()
            .filter(|l| l.contains(", id = ") && l.trim_end().ends_with("\";"))
            .filter_map(|l| l.trim_end().trim_end_matches(';').rsplit('"').nth(1))
            .collect();
        assert_eq!(names.len(), 140, "{names:?}");
        let known: Vec<HeaderName<'static>> = names
            .iter()
            .map(|n| header_map(n.as_bytes()).expect("a known name"))
            .collect();
        for a in &known {
            for b in &known {
                assert_eq!(a == b, a.id() == b.id(), "{a:?} {b:?}");
            }
            assert_ne!(a, &HeaderName::Other(a.as_str().into()));
            assert_ne!(&HeaderName::Other(a.as_str().into()), a);
        }
    }
}
