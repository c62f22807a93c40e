//! The spamtrace report: one self-contained HTML file that a person can read
//! offline and grasp at a glance: what arrived, who sent it, what changed.
//!
//! [`render`] is pure (data in, `String` out). The file loads nothing: charts
//! are inline SVG drawn here, the stylesheet is inline and allowed by its
//! SHA-256 hash in a Content-Security-Policy that forbids everything else
//! (no script at all, no remote loads, no inline style attributes). Every
//! piece of mail content (subjects, templates, domains, names) is clipped and
//! escaped by [`escape`] before it reaches the page.

pub mod escape;
mod html;
mod svg;

use serde::{Deserialize, Serialize};
use spamtrace_watch::{Change, Series};

pub use html::{content_security_policy, render};

/// Everything the report shows. The caller (the CLI) fills it from the store;
/// nothing in it is trusted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReportData {
    /// The report's title.
    pub title: String,
    /// When the report was made, Unix seconds.
    pub generated_at: i64,
    /// Start of the period covered, Unix seconds.
    pub period_start: i64,
    /// End of the period covered (exclusive), Unix seconds.
    pub period_end: i64,
    /// The bucket size of the series, seconds.
    pub bucket_secs: i64,
    /// Counts over the whole period.
    pub totals: Totals,
    /// All spam sightings per bucket (the denominator of shares).
    pub total: Option<Series>,
    /// Spam sightings per bucket for each sending program, largest first,
    /// with the changes detected in each.
    pub botnets: Vec<WatchedSeries>,
    /// Changes detected in the other series (campaigns, kinds, domains, networks, total).
    pub other_changes: Vec<Change>,
    /// Campaigns whose storefront domains came and went: their domain
    /// changes, folded out of `other_changes`.
    pub rotations: Vec<Rotation>,
    /// The largest campaigns.
    pub campaigns: Vec<CampaignSummary>,
    /// The most frequent registered URL domains.
    pub domains: Vec<Ranked>,
    /// The most frequent sender networks.
    pub networks: Vec<Ranked>,
    /// How the figures were computed, in addition to the report's own notes.
    pub notes: Vec<Note>,
}

/// Counts over the whole period.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Distinct messages.
    pub messages: u64,
    /// Sightings (a message seen again counts again).
    pub sightings: u64,
    /// Sightings judged spam (by label, or by the classifier where unlabelled).
    pub spam_sightings: u64,
    /// Sightings judged ham.
    pub ham_sightings: u64,
    /// Spam sightings per scam kind, largest first.
    pub kinds: Vec<Ranked>,
    /// Spam sightings attributed to a sending program.
    pub attributed_sightings: u64,
}

/// A campaign that moved its links from one registered domain to the next:
/// the starts and stops of those domains, summed up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    /// The campaign (`c-1a2b3c`).
    pub campaign: String,
    /// Its domains with a detected start or stop, in the order they started.
    pub domains: Vec<String>,
    /// The first and last of those changes, Unix seconds.
    pub first: i64,
    /// See `first`.
    pub last: i64,
    /// How many domain changes were folded.
    pub changes: usize,
}

/// A name with a count, for rankings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ranked {
    /// What is counted (a domain, a network, a kind).
    pub name: String,
    /// How many spam sightings.
    pub count: u64,
    /// An optional remark (e.g. the botnets or campaigns involved).
    pub detail: Option<String>,
}

/// One watched series with what was detected in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WatchedSeries {
    /// The name shown (e.g. `rustock`).
    pub label: String,
    /// Counts per bucket.
    pub series: Series,
    /// Changes detected in it.
    pub changes: Vec<Change>,
}

/// One campaign, summarised.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CampaignSummary {
    /// The campaign id.
    pub id: String,
    /// Spam sightings.
    pub size: u64,
    /// Distinct messages.
    pub messages: u64,
    /// First sighting, Unix seconds.
    pub first_seen: i64,
    /// Last sighting, Unix seconds.
    pub last_seen: i64,
    /// Scam kind, where classified.
    pub kind: Option<String>,
    /// The sending program most of it came from.
    pub botnet: Option<String>,
    /// A few subjects, as received.
    pub subjects: Vec<String>,
    /// The inferred template: fixed text with `{slot}` markers.
    pub template: Option<String>,
    /// Registered domains its links point to.
    pub domains: Vec<String>,
}

/// A note on how a figure was computed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Note {
    /// Which figure.
    pub title: String,
    /// How it was computed.
    pub text: String,
}
