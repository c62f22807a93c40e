//! Parse hostile mail and extract everything spamtrace analyses.
//!
//! This crate is pure: it does no I/O. [`analyze`] takes the raw bytes of one
//! message (plus the [`Limits`] and the operator's [`TrustedHosts`]) and returns
//! an [`Analysis`]: decoded headers in their original order, the text of every
//! part, URLs (de-obfuscated and normalised), attachments, the Received chain
//! and its origin hop. Anything the parser cannot make sense of is reported in
//! [`Analysis::problem`], never by a panic.

mod analysis;
mod html;
mod parse;
mod raw;
mod received;
mod urls;

pub use analysis::{
    Analysis, Attachment, HeaderField, Hop, HtmlStats, Mailbox, MimeShape, UrlContext, UrlRef,
};
pub use html::html_to_text;
pub use parse::{
    LIST_HEADERS, Limits, TrustedHosts, analyze, analyze_for_scoring, is_list_header, sha256_hex,
};
pub use raw::{Envelope, Label, RawMessage, SmtpSession, TimeSource, resolve_received_at};
pub use received::parse_received;
pub use urls::{extract_urls, normalize_host, registered_domain, url_from_attribute};
