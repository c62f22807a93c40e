//! SMTP dialect fingerprints in the manner of B@BEL (USENIX Security 2012):
//! the sending software betrays itself by how it speaks SMTP, the spelling,
//! case and spacing of its commands, their order, whether it pipelines, and
//! how it reacts to error replies. Addresses and host names vary per bot and
//! message, so they are replaced by their class; constant words (DarkMailer's
//! `HELO DM`) are kept because they identify the software.

use sha2::{Digest, Sha256};

/// What a client did, as the fingerprint sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAct {
    /// The client sent bytes before the greeting (needs a greeting delay).
    Pregreet,
    /// One command line, exact bytes with its line ending.
    Command {
        /// The line as sent.
        line: Vec<u8>,
        /// It arrived before the reply to the previous command was sent.
        pipelined: bool,
        /// The reply code the trap gave it.
        reply: u16,
    },
    /// A message body was sent after `354`.
    Body {
        /// The end-of-data line was `.` LF rather than `.` CR LF.
        bare_lf_end: bool,
        /// Some line of the body ended with LF alone.
        bare_lf_lines: bool,
    },
}

/// A dialect fingerprint: a short stable identifier plus the features it was
/// computed from, for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    /// `d1-` and 12 hex digits of SHA-256 over the features; equal dialects
    /// give equal identifiers on any machine and in any session.
    pub id: String,
    /// The features, one `name: value` string each, in a fixed order.
    pub features: Vec<String>,
}

impl Dialect {
    /// The features as one human-readable line.
    pub fn explanation(&self) -> String {
        self.features.join("; ")
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.id, self.explanation())
    }
}

/// Compute the dialect of a client from what it did so far in a session.
///
/// Features (each stable over the number of recipients and of messages per
/// session, so one bot's messages share a fingerprint):
/// - `greeting`: shapes of the commands before the first `MAIL`, repeats collapsed;
/// - `mail`, `rcpt`, `data`: shapes of the last transaction's commands;
/// - `pipelined`: the commands that arrived before their predecessor's reply;
/// - `eol`: line endings of commands (`crlf`, `lf`, `mixed`);
/// - `body`: how the message body ended;
/// - `on-error`: for each error reply seen, what the client did next;
/// - `other`: commands outside the usual flow (NOOP, RSET, VRFY, unknown);
/// - `pregreet`: present when the client talked before the greeting.
pub fn dialect_fingerprint(acts: &[ClientAct]) -> Dialect {
    let mut greeting: Vec<String> = Vec::new();
    let mut mail = String::new();
    let mut rcpt: Vec<String> = Vec::new();
    let mut data = String::new();
    let mut pipelined: Vec<String> = Vec::new();
    let mut other: Vec<String> = Vec::new();
    let mut on_error: Vec<String> = Vec::new();
    let (mut crlf, mut lf) = (false, false);
    let mut body = String::from("none");
    let mut pregreet = false;
    let mut seen_mail = false;
    let mut pending_error: Option<String> = None;

    for act in acts {
        match act {
            ClientAct::Pregreet => pregreet = true,
            ClientAct::Body {
                bare_lf_end,
                bare_lf_lines,
            } => {
                body = match (bare_lf_end, bare_lf_lines) {
                    (false, false) => "crlf".into(),
                    (false, true) => "crlf-end,bare-lf-lines".into(),
                    (true, _) => "bare-lf-end".into(),
                };
            }
            ClientAct::Command {
                line,
                pipelined: was_pipelined,
                reply,
            } => {
                let (content, ending) = split_ending(line);
                match ending {
                    b"\r\n" => crlf = true,
                    _ => lf = true,
                }
                let verb = verb_of(content);
                let shape = command_shape(content);
                if let Some(error) = pending_error.take() {
                    push_unique(&mut on_error, format!("{error}>{verb}"));
                }
                if *was_pipelined {
                    push_unique(&mut pipelined, verb.clone());
                }
                match verb.as_str() {
                    "MAIL" => {
                        mail = shape;
                        seen_mail = true;
                        rcpt.clear();
                        data.clear();
                    }
                    "RCPT" => push_unique(&mut rcpt, shape),
                    "DATA" => data = shape,
                    "HELO" | "EHLO" | "STARTTLS" | "AUTH" if !seen_mail => {
                        if greeting.last() != Some(&shape) {
                            greeting.push(shape);
                        }
                    }
                    "QUIT" => {}
                    _ => push_unique(&mut other, shape),
                }
                if *reply >= 400 {
                    pending_error = Some(format!("{verb}:{reply}"));
                }
            }
        }
    }

    let eol = match (crlf, lf) {
        (true, false) => "crlf",
        (false, true) => "lf",
        (true, true) => "mixed",
        (false, false) => "none",
    };
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(" | ")
        }
    };
    let mut features = vec![
        format!("greeting: {}", list(&greeting)),
        format!("mail: {}", if mail.is_empty() { "-" } else { &mail }),
        format!("rcpt: {}", list(&rcpt)),
        format!("data: {}", if data.is_empty() { "-" } else { &data }),
        format!("pipelined: {}", list(&pipelined)),
        format!("eol: {eol}"),
        format!("body: {body}"),
        format!("on-error: {}", list(&on_error)),
        format!("other: {}", list(&other)),
    ];
    if pregreet {
        features.push("pregreet: yes".into());
    }
    let digest = Sha256::digest(features.join("\n").as_bytes());
    Dialect {
        id: format!("d1-{}", &hex::encode(digest)[..12]),
        features,
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Split a line into content and its line ending (`\r\n`, `\n` or nothing).
pub(crate) fn split_ending(line: &[u8]) -> (&[u8], &[u8]) {
    if let Some(content) = line.strip_suffix(b"\r\n") {
        (content, b"\r\n")
    } else if let Some(content) = line.strip_suffix(b"\n") {
        (content, b"\n")
    } else {
        (line, b"")
    }
}

/// The command verb, upper-cased, or `?` for something that is no verb.
pub(crate) fn verb_of(content: &[u8]) -> String {
    let word = content.split(|&b| b == b' ').next().unwrap_or_default();
    if word.is_empty() || word.len() > 12 || !word.iter().all(u8::is_ascii_alphanumeric) {
        return "?".into();
    }
    String::from_utf8_lossy(word).to_ascii_uppercase()
}

/// The shape of a command: verb and keywords as sent (case and spacing kept),
/// variable parts replaced by their class.
pub fn command_shape(content: &[u8]) -> String {
    let text = String::from_utf8_lossy(content);
    let verb_end = text.find(' ').unwrap_or(text.len());
    let (verb, rest) = text.split_at(verb_end);
    if verb_of(content) == "?" {
        return "<garbage>".into();
    }
    match verb.to_ascii_uppercase().as_str() {
        "HELO" | "EHLO" => {
            let arg = rest.trim_start_matches(' ');
            let spaces = &rest[..rest.len() - arg.len()];
            if arg.is_empty() {
                format!("{verb}{spaces}")
            } else {
                format!("{verb}{spaces}{}", host_class(arg))
            }
        }
        "MAIL" | "RCPT" => format!("{verb}{}", path_shape(rest)),
        _ => {
            if rest.trim().is_empty() {
                format!("{verb}{rest}")
            } else {
                format!("{verb} <arg>")
            }
        }
    }
}

/// Classify a HELO/EHLO argument: `<ip-literal>`, `<ip>`, `<domain>`, the
/// word itself when it is a short constant such as `DM`, else `<word>`.
fn host_class(arg: &str) -> String {
    let arg = arg.trim_end();
    if arg.starts_with('[') && arg.ends_with(']') {
        "<ip-literal>".into()
    } else if arg.parse::<std::net::IpAddr>().is_ok() {
        "<ip>".into()
    } else if arg.contains(' ') {
        "<words>".into()
    } else if arg.contains('.') {
        "<domain>".into()
    } else if arg.len() <= 16 && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        // Short dotless words are usually constants of the sending software.
        arg.to_string()
    } else {
        "<word>".into()
    }
}

/// `" FROM:<a@b> SIZE=123 BODY=8BITMIME"` becomes `" FROM:<a> SIZE=n BODY=8BITMIME"`.
fn path_shape(rest: &str) -> String {
    let mut out = String::new();
    let Some(colon) = rest.find(':') else {
        return if rest.trim().is_empty() {
            rest.to_string()
        } else {
            " <arg>".into()
        };
    };
    out.push_str(&rest[..=colon]);
    let after = &rest[colon + 1..];
    let trimmed = after.trim_start_matches(' ');
    out.push_str(&after[..after.len() - trimmed.len()]);
    let params = if let Some(inner) = trimmed.strip_prefix('<') {
        match inner.find('>') {
            Some(close) => {
                out.push_str(if close == 0 { "<>" } else { "<a>" });
                &inner[close + 1..]
            }
            None => {
                out.push_str("<a");
                ""
            }
        }
    } else {
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        if end > 0 {
            out.push('a');
        }
        &trimmed[end..]
    };
    for (index, token) in params.split(' ').enumerate() {
        if index > 0 {
            out.push(' ');
        }
        match token.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("BODY") => {
                out.push_str(key);
                out.push('=');
                out.push_str(value);
            }
            Some((key, _)) => {
                out.push_str(key);
                out.push_str("=v");
            }
            None => out.push_str(token),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str, pipelined: bool, reply: u16) -> ClientAct {
        ClientAct::Command {
            line: line.as_bytes().to_vec(),
            pipelined,
            reply,
        }
    }

    fn session(helo: &str, from: &str, rcpts: &[&str]) -> Vec<ClientAct> {
        let mut acts = vec![command(helo, false, 250), command(from, false, 250)];
        for rcpt in rcpts {
            acts.push(command(rcpt, true, 250));
        }
        acts.push(command("DATA\r\n", true, 354));
        acts.push(ClientAct::Body {
            bare_lf_end: false,
            bare_lf_lines: false,
        });
        acts
    }

    #[test]
    fn shapes_keep_spelling_and_hide_addresses() {
        assert_eq!(
            command_shape(b"MAIL FROM: <x@y.com> SIZE=1234"),
            "MAIL FROM: <a> SIZE=v"
        );
        assert_eq!(command_shape(b"mail from:<>"), "mail from:<>");
        assert_eq!(command_shape(b"RCPT TO:bob@example.com"), "RCPT TO:a");
        assert_eq!(
            command_shape(b"MAIL FROM:<a@b> BODY=8BITMIME"),
            "MAIL FROM:<a> BODY=8BITMIME"
        );
        assert_eq!(command_shape(b"HELO DM"), "HELO DM");
        assert_eq!(command_shape(b"EHLO  host.example.net"), "EHLO  <domain>");
        assert_eq!(command_shape(b"ehlo [10.1.2.3]"), "ehlo <ip-literal>");
        assert_eq!(command_shape(b"Helo 192.0.2.7"), "Helo <ip>");
        assert_eq!(command_shape(b"\x16\x03\x01garbage"), "<garbage>");
        assert_eq!(command_shape(b"NOOP hello"), "NOOP <arg>");
    }

    #[test]
    fn stable_across_recipients_and_addresses() {
        let one = dialect_fingerprint(&session(
            "EHLO a.example\r\n",
            "MAIL FROM:<x@a.example>\r\n",
            &["RCPT TO:<y@b.example>\r\n"],
        ));
        let many = dialect_fingerprint(&session(
            "EHLO other.example.org\r\n",
            "MAIL FROM:<z@c.example>\r\n",
            &["RCPT TO:<p@d.example>\r\n", "RCPT TO:<q@e.example>\r\n"],
        ));
        assert_eq!(one.id, many.id);
        assert!(one.id.starts_with("d1-") && one.id.len() == 15);
    }

    #[test]
    fn darkmailer_differs_from_a_polite_client() {
        let darkmailer = dialect_fingerprint(&session(
            "HELO DM\r\n",
            "MAIL FROM:<x@a.example>\r\n",
            &["RCPT TO:<y@b.example>\r\n"],
        ));
        let polite = dialect_fingerprint(&session(
            "HELO mx.a.example\r\n",
            "MAIL FROM:<x@a.example>\r\n",
            &["RCPT TO:<y@b.example>\r\n"],
        ));
        assert_ne!(darkmailer.id, polite.id);
        assert!(darkmailer.explanation().contains("greeting: HELO DM"));
    }

    #[test]
    fn error_reactions_and_line_endings_count() {
        let mut acts = session(
            "HELO x.example\n",
            "MAIL FROM:<a@b>\n",
            &["RCPT TO:<c@d>\n"],
        );
        acts.insert(2, command("RCPT TO:<nobody@elsewhere>\n", false, 550));
        let dialect = dialect_fingerprint(&acts);
        assert!(
            dialect
                .features
                .contains(&"on-error: RCPT:550>RCPT".to_string())
        );
        assert!(dialect.features.contains(&"eol: mixed".to_string()));
        assert!(
            dialect
                .features
                .contains(&"pipelined: RCPT | DATA".to_string())
        );
    }
}
