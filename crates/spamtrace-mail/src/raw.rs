//! A raw message as a source hands it over: bytes plus the envelope that says
//! where and when it was seen. Sources know nothing about analysis.

use serde::{Deserialize, Serialize};

/// A label that a corpus or an analyst attached to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Unsolicited bulk mail.
    Spam,
    /// Wanted mail.
    Ham,
}

impl Label {
    /// The lowercase name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Spam => "spam",
            Label::Ham => "ham",
        }
    }

    /// Parse `spam` or `ham` (any case).
    pub fn parse(s: &str) -> Option<Label> {
        if s.eq_ignore_ascii_case("spam") {
            Some(Label::Spam)
        } else if s.eq_ignore_ascii_case("ham") {
            Some(Label::Ham)
        } else {
            None
        }
    }
}

/// Which clock the receive time of a message came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The trap's own clock when the message arrived over SMTP.
    Trap,
    /// The date on the mbox `From ` separator line.
    MboxFrom,
    /// The date of the topmost Received header (added by the receiving MTA).
    Received,
    /// The Date header, written by the sender (least trustworthy).
    DateHeader,
    /// The time of ingest, when the message itself carries no usable date.
    Ingest,
}

impl TimeSource {
    /// The snake_case name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::Trap => "trap",
            TimeSource::MboxFrom => "mbox_from",
            TimeSource::Received => "received",
            TimeSource::DateHeader => "date_header",
            TimeSource::Ingest => "ingest",
        }
    }
}

/// What the trap saw of the SMTP conversation that delivered a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpSession {
    /// Client IP address and port, as `ip:port`.
    pub client: String,
    /// The HELO/EHLO argument exactly as sent.
    pub helo: String,
    /// Whether the session was upgraded with STARTTLS before DATA.
    pub tls: bool,
    /// MAIL FROM address as sent (without angle brackets).
    pub mail_from: String,
    /// Every accepted RCPT TO address.
    pub rcpt_to: Vec<String>,
    /// The dialect fingerprint of the client (see `spamtrace-trap`).
    pub dialect: String,
    /// The transcript: every command and reply, in order, with timings.
    pub transcript: String,
}

/// Where and when a message was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Where it came from: a file path, `stdin`, or `smtp://ip:port` for the trap.
    pub source: String,
    /// Byte offset inside `source` (mbox position), where there is one.
    pub offset: Option<u64>,
    /// The receive time (Unix seconds) known from outside the message, with its clock.
    pub received_at: Option<(i64, TimeSource)>,
    /// A corpus label (TREC index, `--label`), when known.
    pub label: Option<Label>,
    /// The recipient, where known (trap RCPT TO, Delivered-To of a Maildir).
    pub recipient: Option<String>,
    /// The SMTP conversation, for mail caught by the trap.
    pub smtp: Option<SmtpSession>,
}

/// One message as a source yields it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The bytes exactly as received (mboxrd `>From ` quoting already undone).
    pub bytes: Vec<u8>,
    /// Where and when it was seen.
    pub envelope: Envelope,
}

/// The earliest receive time taken from a message: 1 January 1990 (older
/// dates in spam are forged or broken clocks).
pub const EARLIEST_PLAUSIBLE: i64 = 631_152_000;

/// How far past `now` a message's own date may lie (clock skew).
pub const FUTURE_SLACK_SECS: i64 = 2 * 86_400;

/// The receive time of a message and the clock it came from: the trap's clock
/// or the mbox `From ` line (in the envelope), else the topmost Received date,
/// else the Date header, else `now`. Dates the message carries are hostile
/// input: one before 1990 or more than two days after `now` is passed over
/// (a year-9999 Date must not stretch every time series to that year).
pub fn resolve_received_at(
    envelope: &Envelope,
    analysis: &crate::Analysis,
    now: i64,
) -> (i64, TimeSource) {
    let plausible =
        |t: i64| (EARLIEST_PLAUSIBLE..=now.saturating_add(FUTURE_SLACK_SECS)).contains(&t);
    if let Some(t) = envelope.received_at
        && (t.1 == TimeSource::Trap || plausible(t.0))
    {
        return t;
    }
    if let Some(t) = analysis.received.iter().find_map(|h| h.date)
        && plausible(t)
    {
        return (t, TimeSource::Received);
    }
    if let Some(t) = analysis.date.filter(|&t| plausible(t)) {
        return (t, TimeSource::DateHeader);
    }
    (now, TimeSource::Ingest)
}
