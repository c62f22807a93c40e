//! Attribution: which campaign a message belongs to, and which sending
//! program (botnet or ratware) sent it, with the reasons in words.
//!
//! The [`Attributor`] is incremental and stateful: feed it messages in
//! arrival order with [`Attributor::attribute`]; persist its state with
//! [`Attributor::snapshot`] and bring it back with [`Attributor::restore`]
//! so that campaign IDs and family names stay stable across runs. It does no
//! I/O (the store persists the snapshot).
//!
//! - Campaigns ([`CampaignIndex`]): near-duplicate text after masking
//!   variable tokens (MinHash + LSH by default; SimHash available, both
//!   measured in `benches/attribution.rs`), storefront domains, attachments
//!   and subject patterns. IDs look like `c-1a2b3c`.
//! - Sending programs: known families from a [`SignatureSet`] (the shipped
//!   `signatures.txt`, documented in `SIGNATURES.md`), and otherwise
//!   clustered [`HeaderShape`]s named `ratware-xxxx`, which an analyst can
//!   rename with an `alias` line in a signature file.
//! - Templates ([`template()`]): the fixed text of a campaign with its slots,
//!   inferred from sample members as Judo does.

mod campaigns;
mod families;
mod shape;
mod signatures;
mod template;
mod text;

pub use campaigns::{CampaignDecision, CampaignIndex, CampaignInput, NearDupMethod};
pub use shape::{
    HeaderShape, header_shape, header_shape_with, is_receiver_header, quirks, value_shape,
};
pub use signatures::{
    BUILTIN_SIGNATURES, FamilyRule, SignatureError, SignatureMatch, SignatureSet,
};
pub use template::{Piece, Template, template};

use families::{FamilyIndex, FamilyState};
use serde::{Deserialize, Serialize};
use spamtrace_mail::{Analysis, Envelope};

/// The attribution of one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// The campaign ID (`c-` and hex digits), or `None` when unclustered.
    pub campaign: Option<String>,
    /// The evidence that put it there, or why it is unclustered.
    pub campaign_reason: String,
    /// The sending program: a known family (`rustock`, `srizbi`...), a
    /// learned one (`ratware-1a2b`), or an alias of either; `None` when the
    /// message has no sender headers to fingerprint.
    pub botnet: Option<String>,
    /// Why, in words: the signature conditions that held, or the shape.
    pub botnet_reasons: Vec<String>,
    /// The header-shape fingerprint (16 hex digits).
    pub shape: String,
}

/// One campaign, summarised for analysts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    /// Its ID.
    pub id: String,
    /// Messages assigned to it.
    pub size: u64,
    /// First and last receive time (Unix seconds).
    pub first_seen: i64,
    /// Last receive time (Unix seconds).
    pub last_seen: i64,
    /// Example subjects (up to 8 distinct).
    pub subjects: Vec<String>,
    /// Subject patterns with variable tokens masked.
    pub subject_patterns: Vec<String>,
    /// Storefront domains with message counts, most frequent first.
    pub domains: Vec<(String, u64)>,
    /// Sending programs with message counts, most frequent first.
    pub botnets: Vec<(String, u64)>,
    /// How members joined (`founded`, `text`, `text+link`, `link`) with counts.
    pub evidence: Vec<(String, u64)>,
    /// SHA-256 of sample members.
    pub samples: Vec<String>,
    /// The inferred template, slots marked `«…»`.
    pub template: String,
}

/// One sending-program family, summarised for analysts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilySummary {
    /// The name shown (alias applied).
    pub name: String,
    /// The learned shape family's own name (`ratware-xxxx`).
    pub shape_family: String,
    /// Messages in the shape family.
    pub size: u64,
    /// First receive time (Unix seconds).
    pub first_seen: i64,
    /// Last receive time (Unix seconds).
    pub last_seen: i64,
    /// The fingerprint in words (the known family's description, or the
    /// founding shape).
    pub description: String,
    /// Known-family signature matches among members, with counts.
    pub signatures: Vec<(String, u64)>,
    /// Campaigns of members, with counts, largest first.
    pub campaigns: Vec<(String, u64)>,
}

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum AttributorError {
    /// The snapshot is not one this version wrote.
    #[error(
        "attribution state is unreadable ({0}); remove it to start afresh (campaign IDs and family names will be reassigned)"
    )]
    Snapshot(String),
}

#[derive(Serialize, Deserialize)]
struct State {
    version: u32,
    method: NearDupMethod,
    campaigns: Vec<campaigns::CampaignState>,
    families: Vec<FamilyState>,
}

const STATE_VERSION: u32 = 1;

/// Incremental attribution of messages to campaigns and sending programs.
pub struct Attributor {
    signatures: SignatureSet,
    campaigns: CampaignIndex,
    families: FamilyIndex,
}

impl Attributor {
    /// A fresh attributor with these signatures (MinHash text sketches).
    pub fn new(signatures: SignatureSet) -> Attributor {
        Attributor::with_method(signatures, NearDupMethod::MinHash)
    }

    /// A fresh attributor with a chosen text-sketch method.
    pub fn with_method(signatures: SignatureSet, method: NearDupMethod) -> Attributor {
        Attributor {
            signatures,
            campaigns: CampaignIndex::new(method),
            families: FamilyIndex::default(),
        }
    }

    /// Bring back an attributor from [`Attributor::snapshot`] bytes.
    pub fn restore(state: &[u8], signatures: SignatureSet) -> Result<Attributor, AttributorError> {
        let s: State =
            serde_json::from_slice(state).map_err(|e| AttributorError::Snapshot(e.to_string()))?;
        if s.version != STATE_VERSION {
            return Err(AttributorError::Snapshot(format!(
                "version {} where {STATE_VERSION} was expected",
                s.version
            )));
        }
        Ok(Attributor {
            signatures,
            campaigns: CampaignIndex::from_states(s.method, s.campaigns),
            families: FamilyIndex::from_states(s.families),
        })
    }

    /// The state to persist (JSON; its size grows with campaigns and
    /// families, not messages).
    pub fn snapshot(&self) -> Vec<u8> {
        let s = State {
            version: STATE_VERSION,
            method: self.campaigns.method(),
            campaigns: self.campaigns.campaigns.clone(),
            families: self.families.families.clone(),
        };
        serde_json::to_vec(&s).expect("attribution state serialises")
    }

    /// The signatures in use.
    pub fn signatures(&self) -> &SignatureSet {
        &self.signatures
    }

    /// Attribute one message received at `received_at` (Unix seconds).
    pub fn attribute(
        &mut self,
        analysis: &Analysis,
        envelope: &Envelope,
        received_at: i64,
    ) -> Attribution {
        let shape = header_shape_with(analysis, Some(envelope));
        let signature = self.signatures.matches(analysis, envelope);
        let features = shape.features();
        let fingerprint = format!("{:016x}", shape::fingerprint_of(&features));
        let family =
            (!shape.is_empty()).then(|| self.families.assign(&shape, features, received_at));

        let (botnet, botnet_reasons) = match (&signature, &family) {
            (Some(m), _) => (Some(m.family.clone()), m.reasons.clone()),
            (None, Some(f)) => {
                let fam = &self.families.families[f.index as usize];
                if let Some((known, n)) = self.families.dominant_signature(f.index) {
                    let known = self.signatures.display_name(known).to_string();
                    let why = format!(
                        "header shape in family {} where {n} of {} messages match the {known} signature",
                        fam.name, fam.size
                    );
                    (Some(known), vec![why, shape.describe()])
                } else {
                    let name = self.signatures.display_name(&fam.name).to_string();
                    let how = if f.founded {
                        "a header shape not seen before: new family".to_string()
                    } else {
                        format!(
                            "header shape {:.0}% like family {} ({} messages)",
                            f.similarity * 100.0,
                            fam.name,
                            fam.size
                        )
                    };
                    (Some(name), vec![how, shape.describe()])
                }
            }
            (None, None) => (None, vec!["no sender headers to fingerprint".to_string()]),
        };

        let domains: Vec<&str> = analysis
            .urls
            .iter()
            .filter_map(|u| u.domain.as_deref())
            .collect();
        let attachments: Vec<&str> = analysis
            .attachments
            .iter()
            .filter(|a| a.size > 0)
            .map(|a| a.sha256.as_str())
            .collect();
        let input = CampaignInput {
            sha256: &analysis.sha256,
            text: &analysis.text,
            subject: analysis.subject.as_deref().unwrap_or(""),
            domains,
            links: analysis.urls.len(),
            attachments,
            time: received_at,
            botnet: botnet.as_deref(),
        };
        let decision = self.campaigns.assign(&input);
        if let Some(f) = &family {
            self.families.note(
                f.index,
                signature.as_ref().map(|m| m.family.as_str()),
                decision.campaign.as_deref(),
            );
        }
        Attribution {
            campaign: decision.campaign,
            campaign_reason: decision.reason,
            botnet,
            botnet_reasons,
            shape: fingerprint,
        }
    }

    /// Number of campaigns.
    pub fn campaign_count(&self) -> usize {
        self.campaigns.len()
    }

    /// Every campaign, largest first (templates inferred on the way).
    pub fn campaigns(&self) -> Vec<CampaignSummary> {
        let mut all: Vec<CampaignSummary> = self
            .campaigns
            .campaigns
            .iter()
            .map(|c| self.summarise(c))
            .collect();
        all.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// One campaign by ID.
    pub fn campaign(&self, id: &str) -> Option<CampaignSummary> {
        self.campaigns.get(id).map(|c| self.summarise(c))
    }

    fn summarise(&self, c: &campaigns::CampaignState) -> CampaignSummary {
        let sorted = |m: Vec<(String, u64)>| {
            let mut v = m;
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        let texts: Vec<&str> = c.samples.iter().map(|(_, t)| t.as_str()).collect();
        CampaignSummary {
            id: c.id.clone(),
            size: c.size,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
            subjects: c.subjects.clone(),
            subject_patterns: c.subject_patterns.clone(),
            domains: sorted(c.domains.clone()),
            botnets: sorted(c.botnets.iter().map(|(k, v)| (k.clone(), *v)).collect()),
            evidence: sorted(c.joined_by.iter().map(|(k, v)| (k.clone(), *v)).collect()),
            samples: c.samples.iter().map(|(s, _)| s.clone()).collect(),
            template: template(&texts).to_string(),
        }
    }

    /// Every sending-program family learned from shapes, largest first.
    pub fn families(&self) -> Vec<FamilySummary> {
        let mut all: Vec<FamilySummary> = self
            .families
            .families
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let dominant = self
                    .families
                    .dominant_signature(i as u32)
                    .map(|(n, _)| n.to_string());
                let name = self
                    .signatures
                    .display_name(dominant.as_deref().unwrap_or(&f.name))
                    .to_string();
                let description = dominant
                    .as_deref()
                    .and_then(|d| self.signatures.description(d))
                    .map(str::to_string)
                    .unwrap_or_else(|| f.description.clone());
                let mut campaigns: Vec<(String, u64)> =
                    f.campaigns.iter().map(|(k, v)| (k.clone(), *v)).collect();
                campaigns.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                FamilySummary {
                    name,
                    shape_family: f.name.clone(),
                    size: f.size,
                    first_seen: f.first_seen,
                    last_seen: f.last_seen,
                    description,
                    signatures: f.signatures.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    campaigns,
                }
            })
            .collect();
        all.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spamtrace_mail::{HeaderField, UrlContext, UrlRef};

    fn message(sha: &str, mailer: &str, text: &str, domain: &str) -> Analysis {
        let h = |n: &str, v: &str| HeaderField {
            name: n.into(),
            value: v.into(),
        };
        Analysis {
            sha256: sha.into(),
            headers: vec![
                h("From", "a@b.example"),
                h("To", "x@trap.example"),
                h("Subject", "hi"),
                h("X-Mailer", mailer),
                h("Date", "Tue, 1 Mar 2011 10:00:00 +0100"),
            ],
            subject: Some("hi".into()),
            text: text.into(),
            urls: vec![UrlRef {
                url: format!("http://{domain}/"),
                host: domain.into(),
                domain: Some(domain.into()),
                is_ip: false,
                obfuscated: false,
                context: UrlContext::Text,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn attributes_and_survives_a_snapshot() {
        let mut a = Attributor::new(SignatureSet::builtin());
        let text = "Replica watches of the highest quality. We offer Rolex, Omega and Breitling with swiss movement and free shipping worldwide to every country.";
        let first = a.attribute(
            &message("1", "Bulk 1.0", text, "rep1.example"),
            &Envelope::default(),
            10,
        );
        let id = first.campaign.clone().unwrap();
        assert!(id.starts_with("c-") && id.len() == 8);
        let family = first.botnet.clone().unwrap();
        assert!(family.starts_with("ratware-"));
        let state = a.snapshot();
        let mut b = Attributor::restore(&state, SignatureSet::builtin()).unwrap();
        let second = b.attribute(
            &message("2", "Bulk 1.0", text, "rep2.example"),
            &Envelope::default(),
            20,
        );
        assert_eq!(second.campaign.as_deref(), Some(id.as_str()));
        assert_eq!(second.botnet.as_deref(), Some(family.as_str()));
        let summary = b.campaign(&id).unwrap();
        assert_eq!(summary.size, 2);
        assert_eq!((summary.first_seen, summary.last_seen), (10, 20));
        assert!(
            summary.template.starts_with("Replica watches"),
            "{}",
            summary.template
        );
        assert_eq!(b.families()[0].size, 2);
        // Renaming a learned family is an alias line.
        let mut sigs = SignatureSet::builtin();
        sigs.extend(SignatureSet::parse(&format!("alias {family} = cutwail")).unwrap());
        let mut c = Attributor::restore(&state, sigs).unwrap();
        let third = c.attribute(
            &message("3", "Bulk 1.0", text, "rep1.example"),
            &Envelope::default(),
            30,
        );
        assert_eq!(third.botnet.as_deref(), Some("cutwail"));
        assert_eq!(c.families()[0].name, "cutwail");
        assert!(matches!(
            Attributor::restore(b"{}", SignatureSet::builtin()),
            Err(AttributorError::Snapshot(_))
        ));
    }

    #[test]
    fn empty_message_is_unclustered_without_a_botnet() {
        let mut a = Attributor::new(SignatureSet::builtin());
        let r = a.attribute(&Analysis::default(), &Envelope::default(), 0);
        assert_eq!(r.campaign, None);
        assert_eq!(r.botnet, None);
        assert!(r.campaign_reason.starts_with("unclustered"));
        assert_eq!(r.botnet_reasons, vec!["no sender headers to fingerprint"]);
    }
}
