//! What analysis extracts from one message. Every other stage reads this, never
//! the raw bytes again.

use serde::{Deserialize, Serialize};

/// One header field, decoded (RFC 2047), with its name as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    /// The field name exactly as written (case preserved).
    pub name: String,
    /// The decoded value, unfolded, bounded in length.
    pub value: String,
}

/// A mailbox from an address header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// The display name, decoded.
    pub name: Option<String>,
    /// The address, lowercased domain.
    pub address: Option<String>,
}

impl Mailbox {
    /// The domain part of the address, lowercased.
    pub fn domain(&self) -> Option<&str> {
        self.address
            .as_deref()
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d)
            .filter(|d| !d.is_empty())
    }
}

/// Where in the message a URL was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlContext {
    /// Plain text (or HTML converted to text).
    Text,
    /// An HTML `href`.
    Href,
    /// An HTML `src` (images, scripts, frames).
    Src,
    /// An HTML form `action`.
    Form,
}

/// One URL found in a message, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlRef {
    /// The normalised URL (scheme and host lowercased, obfuscation undone).
    pub url: String,
    /// The host: a lowercased name or an IP literal.
    pub host: String,
    /// The registered domain under the Public Suffix List (none for IPs).
    pub domain: Option<String>,
    /// Whether the host is an IP address (including decimal/hex forms).
    pub is_ip: bool,
    /// Whether the URL was obfuscated (`hxxp`, `[.]`, encoded host, decimal IP...).
    pub obfuscated: bool,
    /// Where it was found.
    pub context: UrlContext,
}

/// One attachment (any non-body leaf part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file name as declared, decoded.
    pub filename: Option<String>,
    /// The declared Content-Type (`type/subtype`).
    pub declared_type: String,
    /// The type recognised from the first bytes (magic numbers).
    pub sniffed_type: Option<String>,
    /// Decoded size in bytes.
    pub size: u64,
    /// SHA-256 of the decoded content, hex.
    pub sha256: String,
}

/// One Received hop, topmost (most recent) first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The `from` host name as claimed by the client (often the HELO).
    pub from_host: Option<String>,
    /// The client IP as recorded by the receiving MTA.
    pub from_ip: Option<String>,
    /// The reverse DNS name, where the MTA recorded one.
    pub from_rdns: Option<String>,
    /// The HELO/EHLO argument, where the MTA recorded it separately.
    pub helo: Option<String>,
    /// The receiving host.
    pub by: Option<String>,
    /// The protocol (`SMTP`, `ESMTPS`...).
    pub with: Option<String>,
    /// The hop's timestamp (Unix seconds).
    pub date: Option<i64>,
    /// Whether the hop used TLS.
    pub tls: bool,
}

/// Structure of the MIME tree, for fingerprints and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MimeShape {
    /// Number of MIME parts.
    pub parts: u32,
    /// Deepest multipart nesting.
    pub depth: u32,
    /// The top-level Content-Type (`type/subtype`), lowercased.
    pub content_type: String,
    /// The top-level boundary, where there is one.
    pub boundary: Option<String>,
    /// The top-level charset, where declared.
    pub charset: Option<String>,
    /// The top-level Content-Transfer-Encoding, lowercased.
    pub transfer_encoding: Option<String>,
    /// Whether header lines end in CRLF (bots often differ from real clients).
    pub crlf: bool,
}

/// Facts about the HTML of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtmlStats {
    /// Number of HTML parts.
    pub parts: u32,
    /// Number of tags seen.
    pub tags: u32,
    /// Links (`<a href>`).
    pub links: u32,
    /// Images (`<img>`).
    pub images: u32,
    /// Forms.
    pub forms: u32,
    /// Scripts.
    pub scripts: u32,
    /// Tags with hidden or tiny text (`display:none`, `font-size:0`, `<font size=1>`...).
    pub hidden: u32,
}

/// Everything extracted from one message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// SHA-256 of the raw bytes, hex: the message's identity in the store.
    pub sha256: String,
    /// Size of the raw message in bytes.
    pub size: u64,
    /// Why the message could not be fully understood, when it could not.
    pub problem: Option<String>,
    /// Header fields, decoded, in their original order (bounded by the limits).
    pub headers: Vec<HeaderField>,
    /// The decoded Subject.
    pub subject: Option<String>,
    /// The first From mailbox.
    pub from: Option<Mailbox>,
    /// The Sender mailbox.
    pub sender: Option<Mailbox>,
    /// The first Reply-To mailbox.
    pub reply_to: Option<Mailbox>,
    /// The Return-Path address.
    pub return_path: Option<String>,
    /// To and Cc addresses.
    pub to: Vec<String>,
    /// The Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// The Date header as Unix seconds.
    pub date: Option<i64>,
    /// The Date header as written.
    pub date_raw: Option<String>,
    /// X-Mailer or User-Agent.
    pub mailer: Option<String>,
    /// The plain text of every text part, HTML converted to text (bounded).
    pub text: String,
    /// HTML facts.
    pub html: HtmlStats,
    /// Every URL, normalised, deduplicated.
    pub urls: Vec<UrlRef>,
    /// Every attachment.
    pub attachments: Vec<Attachment>,
    /// The Received chain, topmost first.
    pub received: Vec<Hop>,
    /// Index into `received` of the origin: the first hop outside the trusted hosts.
    pub origin: Option<usize>,
    /// The MIME structure.
    pub mime: MimeShape,
}

impl Analysis {
    /// The origin hop, where one was found.
    pub fn origin_hop(&self) -> Option<&Hop> {
        self.origin.and_then(|i| self.received.get(i))
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Whether a mailing list delivered this message: it carries one of the
    /// fields list software adds ([`crate::LIST_HEADERS`], which the lean
    /// analysis also keeps).
    pub fn via_mailing_list(&self) -> bool {
        self.headers.iter().any(|h| crate::is_list_header(&h.name))
    }

    /// The From address's domain, lowercased.
    pub fn from_domain(&self) -> Option<&str> {
        self.from.as_ref().and_then(|m| m.domain())
    }
}
