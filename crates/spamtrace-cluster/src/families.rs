//! Clustering header shapes into sending-program families, so unknown
//! programs are found without rules.
//!
//! A family keeps up to `MAX_EXEMPLARS` feature sets (see
//! [`HeaderShape::features`]) and the fingerprints of up to `MAX_EXACT`
//! exact shapes. A message whose exact shape is known goes straight to its
//! family; otherwise it joins the family with the most similar exemplar
//! (Jaccard of feature sets at least `JOIN_SIMILARITY`), or founds a new
//! family named `ratware-` plus four hex digits of its shape's hash (more
//! digits on a collision). Memory grows with families, not messages.

use crate::shape::HeaderShape;
use crate::text::FastMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const MAX_EXEMPLARS: usize = 16;
const MAX_EXACT: usize = 64;
const MAX_CAMPAIGNS: usize = 64;
/// Jaccard similarity of feature sets at which a shape joins a family. Shapes
/// of one program differ in optional headers, MIME type or the rotating
/// X-Mailer (one or two features of fifteen or more); different programs
/// share few adjacent header pairs.
const JOIN_SIMILARITY: f64 = 0.6;
/// Below this, a joining shape is kept as a new exemplar.
const NEW_EXEMPLAR_BELOW: f64 = 0.85;

/// One family's bounded summary (persisted in the snapshot).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FamilyState {
    pub name: String,
    pub size: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The founding shape, in words.
    pub description: String,
    exemplars: Vec<Vec<u64>>,
    exact: Vec<u64>,
    /// Known-family signature matches among members: name -> count.
    pub signatures: BTreeMap<String, u64>,
    /// Campaigns of members: ID -> count (bounded).
    pub campaigns: BTreeMap<String, u64>,
}

fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

/// The shape-family index.
#[derive(Debug, Clone, Default)]
pub(crate) struct FamilyIndex {
    pub families: Vec<FamilyState>,
    exact: FastMap<u64, u32>,
}

/// Where a shape went.
pub(crate) struct FamilyDecision {
    pub index: u32,
    pub similarity: f64,
    pub founded: bool,
}

impl FamilyIndex {
    pub(crate) fn from_states(states: Vec<FamilyState>) -> FamilyIndex {
        let mut exact = FastMap::default();
        for (i, f) in states.iter().enumerate() {
            for &e in &f.exact {
                exact.entry(e).or_insert(i as u32);
            }
        }
        FamilyIndex {
            families: states,
            exact,
        }
    }

    fn new_name(&self, hash: u64) -> String {
        let hex = format!("{hash:016x}");
        let mut len = 4;
        loop {
            let name = format!("ratware-{}", &hex[..len]);
            if len >= hex.len() || !self.families.iter().any(|f| f.name == name) {
                return name;
            }
            len += 2;
        }
    }

    /// Assign a (non-empty) shape to a family.
    pub(crate) fn assign(
        &mut self,
        shape: &HeaderShape,
        features: Vec<u64>,
        time: i64,
    ) -> FamilyDecision {
        let exact_key = crate::shape::fingerprint_of(&features);
        let (index, similarity, founded) = if let Some(&i) = self.exact.get(&exact_key) {
            (i, 1.0, false)
        } else {
            let mut best: Option<(u32, f64)> = None;
            for (i, f) in self.families.iter().enumerate() {
                for e in &f.exemplars {
                    let s = jaccard(&features, e);
                    if best.is_none_or(|(_, b)| s > b) {
                        best = Some((i as u32, s));
                    }
                }
            }
            match best {
                Some((i, s)) if s >= JOIN_SIMILARITY => {
                    let f = &mut self.families[i as usize];
                    if s < NEW_EXEMPLAR_BELOW && f.exemplars.len() < MAX_EXEMPLARS {
                        f.exemplars.push(features.clone());
                    }
                    if f.exact.len() < MAX_EXACT {
                        f.exact.push(exact_key);
                        self.exact.insert(exact_key, i);
                    }
                    (i, s, false)
                }
                _ => {
                    let i = self.families.len() as u32;
                    let name = self.new_name(exact_key);
                    self.families.push(FamilyState {
                        name,
                        size: 0,
                        first_seen: time,
                        last_seen: time,
                        description: shape.describe(),
                        exemplars: vec![features.clone()],
                        exact: vec![exact_key],
                        signatures: BTreeMap::new(),
                        campaigns: BTreeMap::new(),
                    });
                    self.exact.insert(exact_key, i);
                    (i, 1.0, true)
                }
            }
        };
        let f = &mut self.families[index as usize];
        f.size += 1;
        f.first_seen = f.first_seen.min(time);
        f.last_seen = f.last_seen.max(time);
        FamilyDecision {
            index,
            similarity,
            founded,
        }
    }

    /// Record a member's signature match and campaign.
    pub(crate) fn note(&mut self, index: u32, signature: Option<&str>, campaign: Option<&str>) {
        let f = &mut self.families[index as usize];
        if let Some(s) = signature {
            *f.signatures.entry(s.to_string()).or_default() += 1;
        }
        if let Some(c) = campaign
            && (f.campaigns.len() < MAX_CAMPAIGNS || f.campaigns.contains_key(c))
        {
            *f.campaigns.entry(c.to_string()).or_default() += 1;
        }
    }

    /// The known family most members of this shape family were signed as,
    /// when it is a clear majority of at least three messages.
    pub(crate) fn dominant_signature(&self, index: u32) -> Option<(&str, u64)> {
        let f = &self.families[index as usize];
        let (name, &n) = f.signatures.iter().max_by_key(|(_, n)| **n)?;
        (n >= 3 && n * 2 > f.size).then_some((name.as_str(), n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(idx: &mut FamilyIndex, s: &HeaderShape, t: i64) -> FamilyDecision {
        idx.assign(s, s.features(), t)
    }

    fn shape(order: &[&str], mailer: &str) -> HeaderShape {
        HeaderShape {
            order: order.iter().map(|s| s.to_string()).collect(),
            message_id: Some("<x8@from>".into()),
            date: Some("a, 99 a 9999 99:99:99 -9999".into()),
            mailer: Some(mailer.into()),
            mime: "text/plain;us-ascii;7bit".into(),
            ..Default::default()
        }
    }

    #[test]
    fn variants_of_one_program_share_a_family_and_others_do_not() {
        let mut idx = FamilyIndex::default();
        let base = [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "X-Mailer",
            "MIME-Version",
            "Content-Type",
        ];
        let a = assign(&mut idx, &shape(&base, "The Bat! (v2.00.6)"), 1);
        assert!(a.founded);
        let with_reply_to = [
            "From",
            "Reply-To",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "X-Mailer",
            "MIME-Version",
            "Content-Type",
        ];
        let b = assign(&mut idx, &shape(&with_reply_to, "The Bat! (v2.12.00)"), 2);
        assert_eq!(b.index, a.index, "similarity {}", b.similarity);
        let other = [
            "Date",
            "From",
            "User-Agent",
            "MIME-Version",
            "To",
            "Subject",
            "Content-Type",
            "Message-ID",
        ];
        let c = assign(&mut idx, &shape(&other, "Thunderbird 2.0.0.9"), 3);
        assert!(c.founded && c.index != a.index);
        assert!(idx.families[0].name.starts_with("ratware-") && idx.families[0].name.len() == 12);
        assert_eq!(idx.families[a.index as usize].size, 2);
        // Exact shapes are remembered.
        assert_eq!(
            assign(&mut idx, &shape(&with_reply_to, "The Bat! (v2.12.00)"), 4).similarity,
            1.0
        );
    }

    #[test]
    fn dominant_signature_needs_a_majority() {
        let mut idx = FamilyIndex::default();
        let s = shape(&["From", "To"], "m");
        for _ in 0..4 {
            let d = assign(&mut idx, &s, 0);
            idx.note(d.index, Some("rustock"), Some("c-1"));
        }
        assert_eq!(idx.dominant_signature(0), Some(("rustock", 4)));
        for _ in 0..5 {
            assign(&mut idx, &s, 0);
        }
        assert_eq!(idx.dominant_signature(0), None);
        assert_eq!(idx.families[0].campaigns.get("c-1"), Some(&4));
    }
}
