/*
 * SPDX-FileCopyrightText: 2020 Stalwart Labs LLC <hello@stalw.art>
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

use std::{iter::Peekable, ops::Range, slice::Iter};

pub mod fields;
pub mod header;
pub mod message;
pub mod mime;
pub mod preview;

/// spamtrace patch: `String::from_utf8_lossy` with `str::from_utf8` first.
/// The lossy conversion walks the bytes through `Utf8Chunks`, one at a
/// time; the validator has an ASCII fast path. Same result in every case:
/// valid UTF-8 is borrowed by both, anything else is converted by
/// [`replace_invalid`] as the lossy one converts it (tested).
#[inline]
pub(crate) fn utf8_lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(e) => std::borrow::Cow::Owned(replace_invalid(bytes, e)),
    }
}

/// spamtrace patch: what `String::from_utf8_lossy` makes of `bytes`, whose
/// first error is `err`: each invalid sequence (as `Utf8Error::error_len`
/// delimits it, or an incomplete one at the end) becomes one U+FFFD. The
/// valid runs between are found by the validator, with its ASCII fast path,
/// instead of `Utf8Chunks`, which reads every byte on its own: an 8-bit text
/// part without a charset (Latin-1 sent as is) took ~10 instructions a byte.
pub(crate) fn replace_invalid(bytes: &[u8], mut err: std::str::Utf8Error) -> String {
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    loop {
        let (valid, after) = rest.split_at(err.valid_up_to());
        // Valid by the error's own account: checked again, not assumed.
        out.push_str(std::str::from_utf8(valid).unwrap_or_default());
        out.push(char::REPLACEMENT_CHARACTER);
        let Some(len) = err.error_len() else {
            return out;
        };
        rest = &after[len..];
        match std::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                return out;
            }
            Err(e) => err = e,
        }
    }
}

#[cfg(test)]
mod spamtrace_patch_utf8_lossy {
    #[test]
    fn byte_loop_lossy_equals_the_validated_one() {
        // Generated inputs: ASCII, valid multi-byte, and broken sequences.
        let pieces: [&[u8]; 16] = [
            b"abc", b" ", "\u{e9}".as_bytes(), "\u{4e2d}".as_bytes(), b"\xff", b"\xc3", b"\xe4\xb8", b"\r\n",
            b"\x80", b"\xed\xa0\x80", b"\xf0\x9f\x98", "\u{1f600}".as_bytes(), b"\xf4\x90\x80\x80",
            b"\xc0\xaf", b"\xe0\x80", b"\xf8",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            let mut input = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut s = seed;
            for _ in 0..(s % 13) {
                input.extend_from_slice(pieces[((s >> 4) % 16) as usize]);
                s /= 16;
            }
            let want = String::from_utf8_lossy(&input);
            let got = super::utf8_lossy(&input);
            assert_eq!(got, want, "{input:?}");
            assert_eq!(
                matches!(got, std::borrow::Cow::Borrowed(_)),
                matches!(want, std::borrow::Cow::Borrowed(_))
            );
        }
    }
}

pub struct MessageStream<'x> {
    data: &'x [u8],
    iter: Peekable<Iter<'x, u8>>,
    pos: usize,
    restore_pos: usize,
}

impl<'x> MessageStream<'x> {
    pub fn new(data: &'x [u8]) -> MessageStream<'x> {
        MessageStream {
            data,
            iter: data.iter().peekable(),
            pos: 0,
            restore_pos: 0,
        }
    }

    #[inline(always)]
    pub fn peek(&mut self) -> Option<&&u8> {
        self.iter.peek()
    }

    #[inline(always)]
    pub fn offset(&self) -> usize {
        std::cmp::min(self.pos, self.data.len())
    }

    #[inline(always)]
    pub fn remaining(&self) -> usize {
        self.data.len() - self.offset()
    }

    #[inline(always)]
    pub fn checkpoint(&mut self) {
        self.restore_pos = self.offset();
    }

    #[inline(always)]
    pub fn restore(&mut self) {
        self.iter = self.data[self.restore_pos..].iter().peekable();
        self.pos = self.restore_pos;
        self.restore_pos = 0;
    }

    #[inline(always)]
    pub fn reset(&mut self) {
        self.restore_pos = 0;
    }

    #[inline(always)]
    pub fn peek_bytes(&self, len: usize) -> Option<&[u8]> {
        let pos = self.offset();
        self.data.get(pos..pos + len)
    }

    #[inline(always)]
    pub fn peek_char(&mut self, ch: u8) -> bool {
        matches!(self.peek(), Some(&&ch_) if ch_ == ch)
    }

    #[inline(always)]
    pub fn skip_bytes(&mut self, len: usize) {
        self.pos += len;
        self.iter = self.data[self.pos..].iter().peekable();
    }

    #[inline(always)]
    pub fn try_skip(&mut self, bytes: &[u8]) -> bool {
        if self.peek_bytes(bytes.len()) == Some(bytes) {
            self.skip_bytes(bytes.len());
            true
        } else {
            false
        }
    }

    #[inline(always)]
    pub fn try_skip_char(&mut self, ch: u8) -> bool {
        if self.peek_char(ch) {
            self.next();
            true
        } else {
            false
        }
    }

    #[inline(always)]
    pub fn bytes(&self, range: Range<usize>) -> &'x [u8] {
        self.data.get(range).unwrap_or_default()
    }

    #[inline(always)]
    pub fn seek_end(&mut self) {
        self.pos = self.data.len();
        self.iter = [][..].iter().peekable();
    }

    #[inline(always)]
    pub fn next_is_space(&mut self) -> bool {
        matches!(self.next(), Some(b' ' | b'\t'))
    }

    #[inline(always)]
    pub fn peek_next_is_space(&mut self) -> bool {
        matches!(self.peek(), Some(b' ' | b'\t'))
    }

    #[inline(always)]
    pub fn try_next_is_space(&mut self) -> bool {
        if self.peek_next_is_space() {
            self.next();
            true
        } else {
            false
        }
    }

    #[allow(clippy::len_without_is_empty)]
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    #[inline(always)]
    pub fn is_eof(&mut self) -> bool {
        self.iter.peek().is_none()
    }
}

impl<'x> Iterator for MessageStream<'x> {
    type Item = &'x u8;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        self.pos += 1;
        self.iter.next()
    }
}
