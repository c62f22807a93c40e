//! The rows the store keeps.

use serde::{Deserialize, Serialize};
use spamtrace_mail::{Analysis, Envelope, SmtpSession, TimeSource};

/// What the analysis stages concluded about a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// Calibrated spam probability.
    pub score: Option<f32>,
    /// `spam`, `unsure` or `ham`.
    pub verdict: Option<String>,
    /// Scam kind (`pharmacy`, `lottery`...).
    pub kind: Option<String>,
    /// Campaign id.
    pub campaign: Option<String>,
    /// Why the message joined its campaign (or why it is unclustered).
    pub campaign_reason: Option<String>,
    /// Sending software (botnet or ratware family).
    pub botnet: Option<String>,
    /// Why, in words.
    pub botnet_reasons: Vec<String>,
    /// The header-shape fingerprint.
    pub shape: Option<String>,
}

/// One time a message was seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    /// When (Unix seconds).
    pub seen_at: i64,
    /// Which clock `seen_at` came from.
    pub time_source: String,
    /// Where: file path, `stdin`, `smtp://ip:port`.
    pub source: String,
    /// Byte offset in the source (mbox), where there is one.
    pub offset: Option<u64>,
    /// The recipient, where known.
    pub recipient: Option<String>,
    /// The SMTP session, for trap mail.
    pub smtp: Option<SmtpSession>,
}

/// A message ready to store: compressed blobs plus the columns views query.
/// Built by the pipeline's workers so the single writer only writes.
#[derive(Debug, Clone)]
pub struct Record {
    /// SHA-256 of the raw bytes.
    pub sha256: String,
    /// Raw size.
    pub size: u64,
    /// The raw bytes, zstd-compressed.
    pub raw_zstd: Vec<u8>,
    /// The analysis as JSON, zstd-compressed.
    pub analysis_zstd: Vec<u8>,
    /// Columns copied from the analysis.
    pub row: MessageRow,
    /// URLs (url, host, registered domain).
    pub urls: Vec<(String, String, Option<String>)>,
    /// This sighting.
    pub sighting: Sighting,
}

/// How `put_batch` treated one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A message not seen before: stored, with its first sighting.
    New,
    /// A known message: a new sighting added.
    Duplicate,
    /// The same source position was read before: nothing added.
    AlreadySeen,
}

/// The queryable columns of one message (`messages --json` prints these).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageRow {
    /// SHA-256 of the raw bytes, hex.
    pub sha256: String,
    /// Where it was first seen (path, with `:offset` for mbox).
    pub source: String,
    /// Receive time, ISO 8601 UTC.
    pub received_at: Option<String>,
    /// Receive time, Unix seconds.
    #[serde(skip)]
    pub received_ts: i64,
    /// Which clock the receive time came from.
    pub time_source: String,
    /// Message-ID.
    pub message_id: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// From address.
    pub from: Option<String>,
    /// Corpus label, when known.
    pub label: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Why it could not be fully parsed, when it could not.
    pub problem: Option<String>,
    /// Spam probability.
    pub score: Option<f32>,
    /// Verdict.
    pub verdict: Option<String>,
    /// Scam kind.
    pub kind: Option<String>,
    /// Campaign id.
    pub campaign: Option<String>,
    /// Sending software.
    pub botnet: Option<String>,
    /// Origin IP (first untrusted Received hop).
    pub origin_ip: Option<String>,
    /// Number of sightings.
    pub sightings: u64,
    /// Envelope sender, for trap mail.
    pub envelope_from: Option<String>,
    /// Envelope recipients, for trap mail.
    pub envelope_to: Vec<String>,
    /// SMTP dialect fingerprint, for trap mail.
    pub dialect: Option<String>,
    /// Everything the attribution stage said, for `show`.
    #[serde(skip)]
    pub verdicts: Verdicts,
}

impl Record {
    /// Build a record: compress, copy the columns. Runs in the parallel workers.
    pub fn build(
        raw: &[u8],
        envelope: &Envelope,
        analysis: &Analysis,
        received_at: (i64, TimeSource),
        verdicts: Verdicts,
    ) -> Record {
        let raw_zstd = compress(raw, 3);
        let json = serde_json::to_vec(analysis).unwrap_or_default();
        let analysis_zstd = compress(&json, 1);
        let origin_ip = analysis.origin_hop().and_then(|h| h.from_ip.clone());
        let source = match envelope.offset {
            Some(o) => format!("{}:{o}", envelope.source),
            None => envelope.source.clone(),
        };
        let smtp = envelope.smtp.as_ref();
        let row = MessageRow {
            sha256: analysis.sha256.clone(),
            source,
            received_at: iso(received_at.0),
            received_ts: received_at.0,
            time_source: received_at.1.as_str().to_string(),
            message_id: analysis.message_id.clone(),
            subject: analysis.subject.clone(),
            from: analysis.from.as_ref().and_then(|m| m.address.clone()),
            label: envelope.label.map(|l| l.as_str().to_string()),
            size: raw.len() as u64,
            problem: analysis.problem.clone(),
            score: verdicts.score,
            verdict: verdicts.verdict.clone(),
            kind: verdicts.kind.clone(),
            campaign: verdicts.campaign.clone(),
            botnet: verdicts.botnet.clone(),
            origin_ip,
            sightings: 1,
            envelope_from: smtp.map(|s| s.mail_from.clone()),
            envelope_to: smtp.map(|s| s.rcpt_to.clone()).unwrap_or_default(),
            dialect: smtp.map(|s| s.dialect.clone()),
            verdicts,
        };
        Record {
            sha256: analysis.sha256.clone(),
            size: raw.len() as u64,
            raw_zstd,
            analysis_zstd,
            row,
            urls: analysis
                .urls
                .iter()
                .map(|u| (u.url.clone(), u.host.clone(), u.domain.clone()))
                .collect(),
            sighting: Sighting {
                seen_at: received_at.0,
                time_source: received_at.1.as_str().to_string(),
                source: envelope.source.clone(),
                offset: envelope.offset,
                recipient: envelope
                    .recipient
                    .clone()
                    .or_else(|| smtp.and_then(|s| s.rcpt_to.first().cloned())),
                smtp: envelope.smtp.clone(),
            },
        }
    }
}

thread_local! {
    // One compression context per worker thread: creating one per message
    // cost more than compressing a small message.
    static COMPRESSORS: std::cell::RefCell<[Option<zstd::bulk::Compressor<'static>>; 2]> =
        const { std::cell::RefCell::new([None, None]) };
}

/// zstd-compress with a reused per-thread context (level 1 or 3).
fn compress(data: &[u8], level: i32) -> Vec<u8> {
    COMPRESSORS.with(|c| {
        let mut c = c.borrow_mut();
        let slot = &mut c[usize::from(level > 1)];
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(level).ok();
        }
        match slot.as_mut() {
            Some(z) => z.compress(data).unwrap_or_default(),
            None => zstd::bulk::compress(data, level).unwrap_or_default(),
        }
    })
}

/// Unix seconds as ISO 8601 UTC (`2011-03-16T14:45:00Z`).
pub fn iso(ts: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A summary of the store (`spamtrace stats`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Unique messages.
    pub messages: u64,
    /// Sightings (spam volume counts these).
    pub sightings: u64,
    /// Messages kept raw because they could not be parsed, by reason.
    pub failed: Vec<(String, u64)>,
    /// Messages per label (`spam`, `ham`, `unlabelled`).
    pub labels: Vec<(String, u64)>,
    /// Messages per verdict.
    pub verdicts: Vec<(String, u64)>,
    /// Messages per scam kind.
    pub kinds: Vec<(String, u64)>,
    /// First receive time, ISO 8601.
    pub first_seen: Option<String>,
    /// Last receive time, ISO 8601.
    pub last_seen: Option<String>,
    /// Top sender (From) domains.
    pub top_sender_domains: Vec<(String, u64)>,
    /// Top URL registered domains (messages containing them).
    pub top_url_domains: Vec<(String, u64)>,
    /// Raw bytes stored, before compression.
    pub raw_bytes: u64,
    /// Raw bytes stored, compressed.
    pub stored_bytes: u64,
}
