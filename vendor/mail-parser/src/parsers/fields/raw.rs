/*
 * SPDX-FileCopyrightText: 2020 Stalwart Labs LLC <hello@stalw.art>
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

use crate::{HeaderValue, parsers::MessageStream};

impl<'x> MessageStream<'x> {
    pub fn parse_raw(&mut self) -> HeaderValue<'x> {
        let mut token_start: usize = 0;
        let mut token_end: usize = 0;

        while let Some(ch) = self.next() {
            match ch {
                b'\n' => {
                    if !self.try_next_is_space() {
                        break;
                    } else {
                        continue;
                    }
                }
                b' ' | b'\t' | b'\r' => continue,
                _ => (),
            }

            if token_start == 0 {
                token_start = self.offset();
            }

            token_end = self.offset();
        }

        if token_start > 0 {
            HeaderValue::Text(crate::parsers::utf8_lossy(
                self.bytes(token_start - 1..token_end),
            ))
        } else {
            HeaderValue::Empty
        }
    }

    pub fn parse_and_ignore(&mut self) {
        // spamtrace patch: jump from line end to line end with memchr
        // instead of reading the value byte by byte (most of a message's
        // header bytes are in fields nobody asked for, Received above all).
        // The stream ends where the byte loop left it, also at the end of
        // the input (one past it, as `next` leaves it).
        loop {
            let pos = self.offset();
            match memchr::memchr(b'\n', &self.data[pos..]) {
                Some(p) => {
                    self.skip_bytes(p + 1);
                    if !self.try_next_is_space() {
                        break;
                    }
                }
                None => {
                    self.seek_end();
                    self.pos += 1;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{MessageParser, parsers::MessageStream};

    #[test]
    fn parse_and_ignore_stops_where_the_byte_loop_stopped() {
        // spamtrace patch check: the memchr version against the original.
        let pieces: [&[u8]; 7] = [b"\n", b" ", b"\t", b"ab", b"\r\n", b":", b"\n\n"];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            // A step per input too: an input of no pieces must not leave
            // the state (and so every later input) as it was.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut input = Vec::new();
            for _ in 0..(state % 9) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                input.extend_from_slice(pieces[(state % 7) as usize]);
            }
            let (mut fast, mut slow) = (MessageStream::new(&input), MessageStream::new(&input));
            fast.parse_and_ignore();
            while let Some(&ch) = slow.next() {
                if ch == b'\n' && !slow.try_next_is_space() {
                    break;
                }
            }
            assert_eq!(fast.pos, slow.pos, "{input:?}");
            assert_eq!(fast.peek(), slow.peek(), "{input:?}");
            assert_eq!(fast.next(), slow.next(), "{input:?}");
        }
    }

    #[test]
    fn parse_raw_text() {
        let inputs = [
            ("Saying Hello\nMessage-Id", "Saying Hello"),
            ("Re: Saying Hello\r\n \r\nFrom:", "Re: Saying Hello"),
            (
                concat!(
                    " from x.y.test\n      by example.net\n      via TCP\n",
                    "      with ESMTP\n      id ABC12345\n      ",
                    "for <mary@example.net>;  21 Nov 1997 10:05:43 -0600\n"
                ),
                concat!(
                    "from x.y.test\n      by example.net\n      via TCP\n",
                    "      with ESMTP\n      id ABC12345\n      ",
                    "for <mary@example.net>;  21 Nov 1997 10:05:43 -0600"
                ),
            ),
            ("Re: Saying Hello", "Re: Saying Hello"), // No newline test
        ];

        for (input, expected) in inputs {
            assert_eq!(
                MessageStream::new(input.as_bytes())
                    .parse_raw()
                    .unwrap_text(),
                expected,
                "Failed for '{:?}'",
                input
            );
        }
    }

    #[test]
    fn ordered_raw_headers() {
        let input = br#"From: Art Vandelay <art@vandelay.com>
To: jane@example.com
Date: Sat, 20 Nov 2021 14:22:01 -0800
Subject: Why not both importing AND exporting? =?utf-8?b?4pi6?=
Content-Type: multipart/mixed; boundary="festivus";

Here's a message body.
"#;
        let message = MessageParser::default().parse(input).unwrap();
        let mut iter = message.headers_raw();
        assert_eq!(
            iter.next().unwrap(),
            ("From", " Art Vandelay <art@vandelay.com>\n")
        );
        assert_eq!(iter.next().unwrap(), ("To", " jane@example.com\n"));
        assert_eq!(
            iter.next().unwrap(),
            ("Date", " Sat, 20 Nov 2021 14:22:01 -0800\n")
        );
        assert_eq!(
            iter.next().unwrap(),
            (
                "Subject",
                " Why not both importing AND exporting? =?utf-8?b?4pi6?=\n"
            )
        );
        assert_eq!(
            iter.next().unwrap(),
            ("Content-Type", " multipart/mixed; boundary=\"festivus\";\n")
        );
    }
}
