//! The record of one SMTP conversation: every command exactly as sent, every
//! reply, with timings, pipelining and pauses.

use std::fmt::Write as _;

/// Who produced a transcript entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// A line sent by the client, exact bytes including its line ending.
    Client,
    /// A reply sent by the trap.
    Trap,
    /// Something the trap observed or did (TLS, message stored, session end).
    Note,
}

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    /// Milliseconds since the client connected.
    pub at_ms: u64,
    /// Who spoke.
    pub speaker: Speaker,
    /// The bytes exactly as sent (client lines keep their CR LF or bare LF;
    /// notes are UTF-8 text).
    pub bytes: Vec<u8>,
    /// For client lines: it arrived before the reply to the previous command
    /// was sent (pipelining, RFC 2920, or talking out of turn).
    pub pipelined: bool,
    /// For client lines that were not pipelined: milliseconds between the
    /// trap's previous reply and the line's arrival.
    pub pause_ms: Option<u64>,
}

/// Render bytes so that the text is printable and the bytes can be recovered
/// exactly: printable ASCII as is, `\\`, `\r`, `\n`, `\t`, and `\xNN` for the rest.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// Render entries one per line:
/// `+<ms>ms C  [pause 12ms] EHLO x\r\n`, `+<ms>ms C  [pipelined] RCPT ...`,
/// `+<ms>ms S  250 ...`, `+<ms>ms -- note`.
pub fn render(entries: &[TranscriptEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        let _ = write!(out, "+{}ms ", entry.at_ms);
        match entry.speaker {
            Speaker::Client => {
                out.push_str("C  ");
                if entry.pipelined {
                    out.push_str("[pipelined] ");
                } else if let Some(pause) = entry.pause_ms {
                    let _ = write!(out, "[pause {pause}ms] ");
                }
                out.push_str(&escape_bytes(&entry.bytes));
            }
            Speaker::Trap => {
                out.push_str("S  ");
                out.push_str(&escape_bytes(&entry.bytes));
            }
            Speaker::Note => {
                out.push_str("-- ");
                out.push_str(&String::from_utf8_lossy(&entry.bytes));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_every_byte_visible() {
        assert_eq!(
            escape_bytes(b"Ehlo  x\\y\t\x00\xff\r\n"),
            "Ehlo  x\\\\y\\t\\x00\\xff\\r\\n"
        );
    }

    #[test]
    fn render_marks_pipelining_and_pauses() {
        let entries = vec![
            TranscriptEntry {
                at_ms: 0,
                speaker: Speaker::Trap,
                bytes: b"220 x\r\n".to_vec(),
                pipelined: false,
                pause_ms: None,
            },
            TranscriptEntry {
                at_ms: 5,
                speaker: Speaker::Client,
                bytes: b"HELO DM\n".to_vec(),
                pipelined: false,
                pause_ms: Some(5),
            },
            TranscriptEntry {
                at_ms: 5,
                speaker: Speaker::Client,
                bytes: b"MAIL FROM:<a@b>\r\n".to_vec(),
                pipelined: true,
                pause_ms: None,
            },
        ];
        assert_eq!(
            render(&entries),
            "+0ms S  220 x\\r\\n\n+5ms C  [pause 5ms] HELO DM\\n\n+5ms C  [pipelined] MAIL FROM:<a@b>\\r\\n\n"
        );
    }
}
