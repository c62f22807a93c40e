//! Incremental campaign assignment.
//!
//! Each message is compared with the campaigns seen so far, never with all
//! earlier messages: a campaign keeps a bounded summary (at most
//! `MAX_REPS` text sketches, `MAX_DOMAINS` storefront domains, a few
//! subject patterns, attachment hashes and sample texts), and inverted
//! indexes from sketch bands, domains, subject patterns and attachment
//! hashes lead to the candidates. Memory therefore grows with the number of
//! campaigns, not of messages.
//!
//! Evidence, strongest first:
//! - near-duplicate text after masking variable tokens (numbers, links,
//!   addresses, random words): estimated Jaccard similarity of 3-word
//!   shingles, by MinHash with LSH banding (default) or SimHash;
//! - a storefront domain (registered domain of a link) that belongs to one
//!   campaign only (a domain seen in two campaigns, or a common site, is
//!   never evidence);
//! - an attachment with the same SHA-256 (image spam);
//! - the same masked subject pattern.
//!
//! A message joins a campaign on strong text similarity alone, on weaker
//! similarity plus a shared domain, subject or attachment, or, when it has
//! too little text to compare, on a shared domain or attachment. Otherwise it
//! founds a new campaign, unless it offers no evidence at all, in which case
//! it stays unclustered with the reason: there is no catch-all campaign.

use crate::text;
use crate::text::FastMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Most text sketches kept per campaign.
/// A core shingle shared by more campaigns than this is ignored as a common phrase.
const MAX_SHARED_CORE: usize = 8;
const MAX_REPS: usize = 8;
/// Most storefront domains remembered per campaign.
const MAX_DOMAINS: usize = 64;
/// Most subject patterns remembered per campaign.
const MAX_SUBJECT_PATTERNS: usize = 16;
/// Most example subjects kept per campaign.
const MAX_SUBJECTS: usize = 8;
/// Most attachment hashes remembered per campaign.
const MAX_ATTACHMENTS: usize = 16;
/// Most sample texts kept per campaign (for template inference).
const MAX_SAMPLES: usize = 12;
/// Longest sample text kept, in bytes.
const MAX_SAMPLE_BYTES: usize = 2000;
/// Most botnet names counted per campaign.
const MAX_BOTNETS: usize = 16;
/// Most campaigns one index bucket points to: a bucket shared by more is
/// common boilerplate, not evidence.
const MAX_BUCKET: usize = 64;
/// A message with links to more registered domains than this gives no
/// domain evidence (link farms, newsletters pasted into spam).
const MAX_EVIDENCE_DOMAINS: usize = 20;
/// Fewer shingles (or unmasked words) than this: too little text to compare.
const MIN_SHINGLES: usize = 6;
const MIN_PLAIN_WORDS: usize = 5;
/// Similarity at which text alone joins a campaign.
const STRONG_TEXT: f64 = 0.3;
/// Similarity at which text plus a shared domain, subject or attachment joins.
const WEAK_TEXT: f64 = 0.15;
/// Most shingles counted per campaign (its template profile).
const MAX_TRACKED_SHINGLES: usize = 768;
/// Most template shingles per campaign in the inverted index.
const MAX_CORE_INDEXED: usize = 256;
/// Shingles of a message counted into its campaign's profile.
const MAX_SHINGLES_COUNTED: usize = 256;
/// A shingle is part of a campaign's template once members have it this
/// often (and at least twice).
const CORE_SHARE: f64 = 0.2;
/// Share of a message's shingles inside a campaign's template at which it
/// joins on that alone, and the least number of such shingles.
const STRONG_TEMPLATE: f64 = 0.5;
const MIN_TEMPLATE_HITS: usize = 8;
/// A new sketch is kept as a representative only when the campaign's
/// existing ones are less similar than this (it adds coverage).
const NEW_REP_BELOW: f64 = 0.8;

/// Sites too common to tell campaigns apart.
const COMMON_DOMAINS: &[&str] = &[
    "w3.org",
    "yahoo.com",
    "hotmail.com",
    "msn.com",
    "live.com",
    "outlook.com",
    "google.com",
    "gmail.com",
    "microsoft.com",
    "aol.com",
    "apple.com",
    "facebook.com",
    "twitter.com",
    "x.com",
    "youtube.com",
    "instagram.com",
    "linkedin.com",
    "whatsapp.com",
    "t.me",
    "wa.me",
    "googleapis.com",
    "gstatic.com",
    "amazonaws.com",
    "cloudfront.net",
    "akamaihd.net",
    "mozilla.org",
    "adobe.com",
    "macromedia.com",
    "doubleclick.net",
    "example.com",
];

/// How the text of messages is sketched for near-duplicate search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NearDupMethod {
    /// MinHash over 3-word shingles (60 values), LSH with 20 bands of 3 rows.
    #[default]
    MinHash,
    /// 64-bit SimHash over 3-word shingles, indexed by its 8 bytes.
    SimHash,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Sketch {
    #[serde(rename = "m")]
    Min(Vec<u32>),
    #[serde(rename = "s")]
    Sim(u64),
}

impl Sketch {
    fn similarity(&self, other: &Sketch) -> f64 {
        match (self, other) {
            (Sketch::Min(a), Sketch::Min(b)) => text::minhash_similarity(a, b),
            (Sketch::Sim(a), Sketch::Sim(b)) => text::simhash_similarity(*a, *b),
            _ => 0.0,
        }
    }
}

/// One campaign's bounded summary (persisted in the snapshot).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CampaignState {
    pub id: String,
    pub size: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    reps: Vec<Sketch>,
    pub domains: Vec<(String, u64)>,
    pub subjects: Vec<String>,
    pub subject_patterns: Vec<String>,
    pub attachments: Vec<String>,
    /// (message SHA-256, start of its text).
    pub samples: Vec<(String, String)>,
    pub botnets: BTreeMap<String, u64>,
    /// How often members had each shingle (bounded): the template profile.
    /// Template text recurs in every member; hashbusters and random
    /// dictionary words ("Bayes poison") do not, and are pruned.
    #[serde(default)]
    shingle_counts: FastMap<u64, u32>,
    /// How many of its shingles are in the template index (recomputed on restore).
    #[serde(skip)]
    core_indexed: usize,
    /// How members joined: evidence kind -> count.
    pub joined_by: BTreeMap<String, u64>,
}

/// What the index needs to know about one message.
#[derive(Debug, Clone, Default)]
pub struct CampaignInput<'a> {
    /// The message's SHA-256 (hex).
    pub sha256: &'a str,
    /// Its text (HTML already converted).
    pub text: &'a str,
    /// Its subject.
    pub subject: &'a str,
    /// Registered domains of its links (duplicates allowed).
    pub domains: Vec<&'a str>,
    /// Number of links.
    pub links: usize,
    /// SHA-256 of its attachments.
    pub attachments: Vec<&'a str>,
    /// When it was received (Unix seconds).
    pub time: i64,
    /// The sending program attributed to it, if any.
    pub botnet: Option<&'a str>,
}

/// Where a message went.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignDecision {
    /// The campaign ID, or `None` when unclustered.
    pub campaign: Option<String>,
    /// The evidence in words, or why it is unclustered.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Owner(u32),
    Ambiguous,
}

fn claim(map: &mut FastMap<String, Claim>, key: &str, owner: u32) {
    match map.get_mut(key) {
        None => {
            map.insert(key.to_string(), Claim::Owner(owner));
        }
        Some(Claim::Owner(o)) if *o != owner => {
            *map.get_mut(key).expect("present") = Claim::Ambiguous
        }
        _ => {}
    }
}

/// The incremental campaign index.
#[derive(Debug, Clone, Default)]
pub struct CampaignIndex {
    method: NearDupMethod,
    pub(crate) campaigns: Vec<CampaignState>,
    by_id: FastMap<String, u32>,
    lsh: FastMap<u64, Vec<u32>>,
    core: FastMap<u64, Vec<u32>>,
    simhash_buckets: Vec<Vec<u32>>,
    domains: FastMap<String, Claim>,
    subjects: FastMap<String, Claim>,
    attachments: FastMap<String, Claim>,
}

#[derive(Default, Clone)]
struct Candidate {
    similarity: f64,
    template_hits: usize,
    domain: Option<String>,
    subject: bool,
    attachment: bool,
}

impl CampaignIndex {
    /// An empty index using `method` for text sketches.
    pub fn new(method: NearDupMethod) -> CampaignIndex {
        let mut index = CampaignIndex {
            method,
            ..Default::default()
        };
        if method == NearDupMethod::SimHash {
            index.simhash_buckets = vec![Vec::new(); 8 * 256];
        }
        index
    }

    /// The sketch method in use.
    pub fn method(&self) -> NearDupMethod {
        self.method
    }

    /// Number of campaigns.
    pub fn len(&self) -> usize {
        self.campaigns.len()
    }

    /// Whether there are no campaigns yet.
    pub fn is_empty(&self) -> bool {
        self.campaigns.is_empty()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&CampaignState> {
        self.by_id.get(id).map(|&i| &self.campaigns[i as usize])
    }

    /// Rebuild an index from persisted campaigns.
    pub(crate) fn from_states(
        method: NearDupMethod,
        mut states: Vec<CampaignState>,
    ) -> CampaignIndex {
        let mut index = CampaignIndex::new(method);
        for c in &mut states {
            c.core_indexed = 0;
        }
        let mut cores = Vec::new();
        for (i, c) in states.iter().enumerate() {
            let i = i as u32;
            index.by_id.insert(c.id.clone(), i);
            for rep in &c.reps {
                index.index_sketch(rep, i);
            }
            for (d, _) in &c.domains {
                claim(&mut index.domains, d, i);
            }
            let mut core: Vec<u64> = c
                .shingle_counts
                .iter()
                .filter(|(_, n)| is_core(**n, c.size))
                .map(|(s, _)| *s)
                .collect();
            core.sort_unstable();
            cores.push(core);
            for p in &c.subject_patterns {
                claim(&mut index.subjects, p, i);
            }
            for a in &c.attachments {
                claim(&mut index.attachments, a, i);
            }
        }
        index.campaigns = states;
        for (i, core) in cores.into_iter().enumerate() {
            for s in core {
                index.index_core(s, i as u32);
            }
        }
        index
    }

    fn index_core(&mut self, shingle: u64, campaign: u32) {
        let camp = &mut self.campaigns[campaign as usize];
        if camp.core_indexed >= MAX_CORE_INDEXED {
            return;
        }
        let list = self.core.entry(shingle).or_default();
        if list.len() < MAX_BUCKET && !list.contains(&campaign) {
            list.push(campaign);
            camp.core_indexed += 1;
        }
    }

    fn sketch(&self, shingles: &[u64]) -> Sketch {
        match self.method {
            NearDupMethod::MinHash => Sketch::Min(text::minhash(shingles)),
            NearDupMethod::SimHash => Sketch::Sim(text::simhash(shingles)),
        }
    }

    fn index_sketch(&mut self, sketch: &Sketch, campaign: u32) {
        let push = |list: &mut Vec<u32>| {
            if list.len() < MAX_BUCKET && !list.contains(&campaign) {
                list.push(campaign);
            }
        };
        match sketch {
            Sketch::Min(m) => {
                for key in text::band_keys(m) {
                    push(self.lsh.entry(key).or_default());
                }
            }
            Sketch::Sim(s) => {
                for (table, byte) in s.to_le_bytes().iter().enumerate() {
                    push(&mut self.simhash_buckets[table * 256 + *byte as usize]);
                }
            }
        }
    }

    /// Collect candidate campaigns from the near-duplicate index.
    fn sketch_candidates(&self, sketch: &Sketch, out: &mut FastMap<u32, Candidate>) {
        match sketch {
            Sketch::Min(m) => {
                for key in text::band_keys(m) {
                    if let Some(list) = self.lsh.get(&key) {
                        for &c in list {
                            out.entry(c).or_default();
                        }
                    }
                }
            }
            Sketch::Sim(s) => {
                for (table, byte) in s.to_le_bytes().iter().enumerate() {
                    for &c in &self.simhash_buckets[table * 256 + *byte as usize] {
                        out.entry(c).or_default();
                    }
                }
            }
        }
    }

    fn new_id(&self, sha256: &str) -> String {
        let digest = hex::encode(Sha256::digest(format!("campaign:{sha256}").as_bytes()));
        let mut len = 6;
        loop {
            let id = format!("c-{}", &digest[..len]);
            if !self.by_id.contains_key(&id) || len >= digest.len() {
                return id;
            }
            len += 2;
        }
    }

    /// Assign one message to a campaign (see the module documentation).
    pub fn assign(&mut self, input: &CampaignInput<'_>) -> CampaignDecision {
        let (tokens, plain) = text::masked_token_hashes(input.text);
        let shingles = text::shingles(&tokens);
        let sketch = (shingles.len() >= MIN_SHINGLES && plain >= MIN_PLAIN_WORDS)
            .then(|| self.sketch(&shingles));

        let mut domains: Vec<&str> = input
            .domains
            .iter()
            .copied()
            .filter(|d| !COMMON_DOMAINS.contains(d))
            .collect();
        domains.sort_unstable();
        domains.dedup();
        let too_many_domains = domains.len() > MAX_EVIDENCE_DOMAINS;
        if too_many_domains {
            domains.clear();
        }
        let subject_pattern = {
            let p = text::masked_pattern(input.subject);
            (p.split(' ')
                .filter(|w| w.chars().all(char::is_alphabetic))
                .count()
                >= 2)
                .then_some(p)
        };
        let mut attachments: Vec<&str> = input.attachments.iter().copied().take(8).collect();
        attachments.sort_unstable();
        attachments.dedup();

        // Candidates from every index.
        let mut cands: FastMap<u32, Candidate> = FastMap::default();
        if let Some(s) = &sketch {
            self.sketch_candidates(s, &mut cands);
            for sh in &shingles {
                // A shingle in the core of many campaigns is a common phrase
                // (a list footer, a disclaimer): it tells campaigns apart no
                // better than a stop word, and scanning its list for every
                // message made assignment cost grow with the campaign count.
                if let Some(list) = self.core.get(sh).filter(|l| l.len() <= MAX_SHARED_CORE) {
                    for &c in list {
                        let camp = &self.campaigns[c as usize];
                        if camp
                            .shingle_counts
                            .get(sh)
                            .is_some_and(|n| is_core(*n, camp.size))
                        {
                            cands.entry(c).or_default().template_hits += 1;
                        }
                    }
                }
            }
        }
        for d in &domains {
            if let Some(Claim::Owner(c)) = self.domains.get(*d) {
                cands
                    .entry(*c)
                    .or_default()
                    .domain
                    .get_or_insert_with(|| d.to_string());
            }
        }
        if let Some(p) = &subject_pattern
            && let Some(Claim::Owner(c)) = self.subjects.get(p)
        {
            cands.entry(*c).or_default().subject = true;
        }
        for a in &attachments {
            if let Some(Claim::Owner(c)) = self.attachments.get(*a) {
                cands.entry(*c).or_default().attachment = true;
            }
        }
        if let Some(s) = &sketch {
            for (&c, cand) in cands.iter_mut() {
                cand.similarity = self.campaigns[c as usize]
                    .reps
                    .iter()
                    .map(|r| r.similarity(s))
                    .fold(0.0, f64::max);
            }
        }

        let coverage = |c: &Candidate| {
            if c.template_hits < MIN_TEMPLATE_HITS {
                0.0
            } else {
                c.template_hits as f64 / shingles.len().max(1) as f64
            }
        };
        // The best candidate that the evidence allows joining.
        let mut best: Option<(u32, f64, String, &'static str)> = None;
        for (&c, cand) in &cands {
            let side = cand.domain.is_some() || cand.subject || cand.attachment;
            let template_share = coverage(cand);
            let joins = match &sketch {
                Some(_) => {
                    cand.similarity >= STRONG_TEXT
                        || template_share >= STRONG_TEMPLATE
                        || (cand.similarity.max(template_share) >= WEAK_TEXT && side)
                }
                None => cand.domain.is_some() || cand.attachment,
            };
            if !joins {
                continue;
            }
            let score = cand.similarity.max(template_share)
                + if cand.domain.is_some() { 0.3 } else { 0.0 }
                + if cand.attachment { 0.3 } else { 0.0 }
                + if cand.subject { 0.1 } else { 0.0 };
            let better = match &best {
                None => true,
                Some((bc, bs, _, _)) => score > *bs || (score == *bs && c < *bc),
            };
            if better {
                let mut why = Vec::new();
                let kind = if sketch.is_some() && cand.similarity >= STRONG_TEXT {
                    why.push(format!(
                        "text {:.0}% similar to members after masking numbers, links and random words ({})",
                        cand.similarity * 100.0,
                        match self.method {
                            NearDupMethod::MinHash => "MinHash",
                            NearDupMethod::SimHash => "SimHash",
                        }
                    ));
                    "text"
                } else if sketch.is_some() && template_share >= STRONG_TEMPLATE {
                    why.push(format!(
                        "{:.0}% of its text is the campaign's template (word sequences most members share)",
                        template_share * 100.0
                    ));
                    "template"
                } else if sketch.is_some() {
                    why.push(format!(
                        "text {:.0}% similar, {:.0}% template",
                        cand.similarity * 100.0,
                        template_share * 100.0
                    ));
                    "text+link"
                } else {
                    why.push("too little text to compare".into());
                    "link"
                };
                if let Some(d) = &cand.domain {
                    why.push(format!("links to the campaign's storefront domain {d}"));
                }
                if cand.attachment {
                    why.push("carries an attachment identical to a member's".into());
                }
                if cand.subject {
                    why.push("same subject pattern".into());
                }
                best = Some((c, score, why.join("; "), kind));
            }
        }

        let (index, reason, kind) = match best {
            Some((c, _, why, kind)) => (c, why, kind),
            None => {
                if sketch.is_none() && domains.is_empty() && attachments.is_empty() {
                    let mut why =
                        format!("unclustered: too little text to compare ({plain} words)");
                    if too_many_domains {
                        why.push_str(&format!(
                            ", and {} links to more than {MAX_EVIDENCE_DOMAINS} domains give no storefront",
                            input.links
                        ));
                    } else if input.links == 0 {
                        why.push_str(", no links");
                    } else {
                        why.push_str(", links only to common sites");
                    }
                    why.push_str(", no attachments");
                    return CampaignDecision {
                        campaign: None,
                        reason: why,
                    };
                }
                let id = self.new_id(input.sha256);
                let i = self.campaigns.len() as u32;
                self.by_id.insert(id.clone(), i);
                self.campaigns.push(CampaignState {
                    id,
                    size: 0,
                    first_seen: input.time,
                    last_seen: input.time,
                    reps: Vec::new(),
                    domains: Vec::new(),
                    subjects: Vec::new(),
                    subject_patterns: Vec::new(),
                    attachments: Vec::new(),
                    samples: Vec::new(),
                    botnets: BTreeMap::new(),
                    shingle_counts: FastMap::default(),
                    core_indexed: 0,
                    joined_by: BTreeMap::new(),
                });
                let best_sim = cands.values().map(|c| c.similarity).fold(0.0, f64::max);
                let why = match &sketch {
                    Some(_) => format!(
                        "new campaign: no earlier campaign shares its template (best text similarity {:.0}%), its storefront domains or its attachments",
                        best_sim * 100.0
                    ),
                    None => "new campaign: too little text to compare; founded on its links or attachments".to_string(),
                };
                (i, why, "founded")
            }
        };

        // Update the campaign's summary and the indexes.
        let similarity = cands.get(&index).map_or(0.0, |c| c.similarity);
        let c = &mut self.campaigns[index as usize];
        c.size += 1;
        c.first_seen = c.first_seen.min(input.time);
        c.last_seen = c.last_seen.max(input.time);
        *c.joined_by.entry(kind.to_string()).or_default() += 1;
        if let Some(b) = input.botnet
            && (c.botnets.len() < MAX_BOTNETS || c.botnets.contains_key(b))
        {
            *c.botnets.entry(b.to_string()).or_default() += 1;
        }
        if !input.subject.is_empty()
            && c.subjects.len() < MAX_SUBJECTS
            && !c.subjects.iter().any(|s| s == input.subject)
        {
            c.subjects
                .push(input.subject[..input.subject.floor_char_boundary(200)].to_string());
        }
        if c.samples.len() < MAX_SAMPLES && !input.text.trim().is_empty() {
            c.samples.push((
                input.sha256.to_string(),
                input.text[..input.text.floor_char_boundary(MAX_SAMPLE_BYTES)].to_string(),
            ));
        }
        let mut new_domains = Vec::new();
        for d in &domains {
            if let Some(entry) = c.domains.iter_mut().find(|(x, _)| x == d) {
                entry.1 += 1;
            } else if c.domains.len() < MAX_DOMAINS {
                c.domains.push((d.to_string(), 1));
                new_domains.push(*d);
            }
        }
        let new_pattern = match &subject_pattern {
            Some(p)
                if c.subject_patterns.len() < MAX_SUBJECT_PATTERNS
                    && !c.subject_patterns.contains(p) =>
            {
                c.subject_patterns.push(p.clone());
                Some(p.clone())
            }
            _ => None,
        };
        let mut new_attachments = Vec::new();
        for a in &attachments {
            if c.attachments.len() < MAX_ATTACHMENTS && !c.attachments.iter().any(|x| x == a) {
                c.attachments.push(a.to_string());
                new_attachments.push(*a);
            }
        }
        let new_rep = match sketch {
            Some(s)
                if c.reps.len() < MAX_REPS && (c.reps.is_empty() || similarity < NEW_REP_BELOW) =>
            {
                c.reps.push(s.clone());
                Some(s)
            }
            _ => None,
        };
        if let Some(s) = new_rep {
            self.index_sketch(&s, index);
        }
        let mut new_core = Vec::new();
        {
            let c = &mut self.campaigns[index as usize];
            let size = c.size;
            for sh in shingles.iter().take(MAX_SHINGLES_COUNTED) {
                let tracked = c.shingle_counts.len();
                match c.shingle_counts.get_mut(sh) {
                    Some(n) => {
                        let was_core = is_core(*n, size - 1);
                        *n += 1;
                        if !was_core && is_core(*n, size) {
                            new_core.push(*sh);
                        }
                    }
                    None if tracked < MAX_TRACKED_SHINGLES => {
                        c.shingle_counts.insert(*sh, 1);
                    }
                    None => {}
                }
            }
            if c.shingle_counts.len() >= MAX_TRACKED_SHINGLES * 3 / 4 && size.is_multiple_of(8) {
                // Forget what only a few members had: room for template text.
                c.shingle_counts
                    .retain(|_, n| (*n as f64) >= (size as f64 * CORE_SHARE / 2.0).max(2.0));
            }
        }
        for sh in new_core {
            self.index_core(sh, index);
        }
        for d in new_domains {
            claim(&mut self.domains, d, index);
        }
        if let Some(p) = new_pattern {
            claim(&mut self.subjects, &p, index);
        }
        for a in new_attachments {
            claim(&mut self.attachments, a, index);
        }
        CampaignDecision {
            campaign: Some(self.campaigns[index as usize].id.clone()),
            reason,
        }
    }
}

/// Whether a shingle seen `n` times among `size` members is template text.
fn is_core(n: u32, size: u64) -> bool {
    n >= 2 && n as f64 >= size as f64 * CORE_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(sha: &'a str, text: &'a str, domains: Vec<&'a str>) -> CampaignInput<'a> {
        CampaignInput {
            sha256: sha,
            text,
            subject: "",
            domains,
            links: 1,
            ..Default::default()
        }
    }

    const PHARMA: &str = "Hello {}, Canadian Pharmacy special offer for you today. Viagra from $1.{} per pill, Cialis from $2.{} per pill. World wide shipping, no prescription required, satisfaction guaranteed. Visit our store now http://x{}.example/";
    const LOTTERY: &str = "Dear {}, we are pleased to inform you that your e-mail address has won the sum of {} dollars in the international promotion draw. Contact our claims agent with your full name and address to claim the prize {}{}.";

    fn fill(t: &str, name: &str, n: u32) -> String {
        t.replacen("{}", name, 1)
            .replacen("{}", &n.to_string(), 1)
            .replacen("{}", &(n * 7).to_string(), 1)
            .replacen("{}", &n.to_string(), 1)
    }

    #[test]
    fn template_variants_join_and_different_templates_do_not() {
        for method in [NearDupMethod::MinHash, NearDupMethod::SimHash] {
            let mut idx = CampaignIndex::new(method);
            let names = ["John", "Mary", "Olga", "Peter", "Anna", "Mark"];
            let mut pharma_ids = Vec::new();
            let mut lottery_ids = Vec::new();
            for (i, n) in names.iter().enumerate() {
                let p = fill(PHARMA, n, i as u32 + 10);
                let l = fill(LOTTERY, n, i as u32 + 50);
                pharma_ids.push(
                    idx.assign(&input(&format!("p{i}"), &p, vec![]))
                        .campaign
                        .unwrap(),
                );
                lottery_ids.push(
                    idx.assign(&input(&format!("l{i}"), &l, vec![]))
                        .campaign
                        .unwrap(),
                );
            }
            assert!(
                pharma_ids.iter().all(|c| *c == pharma_ids[0]),
                "{method:?} {pharma_ids:?}"
            );
            assert!(
                lottery_ids.iter().all(|c| *c == lottery_ids[0]),
                "{method:?}"
            );
            assert_ne!(pharma_ids[0], lottery_ids[0]);
            assert_eq!(idx.len(), 2);
        }
    }

    #[test]
    fn domains_join_textless_messages_and_common_or_shared_domains_do_not() {
        let mut idx = CampaignIndex::default();
        let text = fill(PHARMA, "John", 3);
        let founded = idx.assign(&input("a", &text, vec!["storefront1.example", "w3.org"]));
        let id = founded.campaign.unwrap();
        assert!(founded.reason.starts_with("new campaign"));
        let image_only = idx.assign(&input("b", "", vec!["storefront1.example"]));
        assert_eq!(image_only.campaign.as_deref(), Some(id.as_str()));
        assert!(
            image_only.reason.contains("storefront1.example"),
            "{}",
            image_only.reason
        );
        // A common site is no evidence: a new campaign, not this one.
        let common = idx.assign(&input("c", "", vec!["w3.org"]));
        assert!(common.campaign.is_none(), "{common:?}");
        assert!(common.reason.contains("common sites"));
        // Nothing at all: unclustered with the reason.
        let empty = idx.assign(&CampaignInput {
            sha256: "d",
            ..Default::default()
        });
        assert_eq!(empty.campaign, None);
        assert!(empty.reason.contains("no links") && empty.reason.contains("no attachments"));
    }

    #[test]
    fn link_farms_and_attachments() {
        let mut idx = CampaignIndex::default();
        let many: Vec<String> = (0..3000).map(|i| format!("site{i}.example")).collect();
        let farm = CampaignInput {
            sha256: "f",
            domains: many.iter().map(String::as_str).collect(),
            links: 3000,
            ..Default::default()
        };
        let d = idx.assign(&farm);
        assert_eq!(d.campaign, None);
        assert!(d.reason.contains("3000 links"), "{}", d.reason);
        let img = CampaignInput {
            sha256: "i1",
            attachments: vec!["abc"],
            ..Default::default()
        };
        let first = idx.assign(&img).campaign.unwrap();
        let again = idx.assign(&CampaignInput {
            sha256: "i2",
            attachments: vec!["abc"],
            ..Default::default()
        });
        assert_eq!(again.campaign.as_deref(), Some(first.as_str()));
        assert!(again.reason.contains("attachment identical"));
    }

    #[test]
    fn restore_rebuilds_the_same_decisions() {
        let mut idx = CampaignIndex::default();
        let a = idx
            .assign(&input("a", &fill(PHARMA, "John", 1), vec!["s.example"]))
            .campaign;
        let restored = CampaignIndex::from_states(NearDupMethod::MinHash, idx.campaigns.clone());
        let mut idx2 = restored;
        let b = idx2
            .assign(&input("b", &fill(PHARMA, "Mary", 2), vec![]))
            .campaign;
        assert_eq!(a, b);
        assert_eq!(idx2.get(a.as_deref().unwrap()).unwrap().size, 2);
    }
}
