//! The learnt half of the scam-kind detector: a linear model per kind over
//! the spam model's feature slots and the lexicon's ten kind scores.
//!
//! The lexicon ([`crate::kinds`]) knows the phrases of each genre; a learnt
//! model also knows the words that come with them, and how far to trust
//! each kind's phrases. Trained on the dev half of `kinds-eval.tsv` only
//! (`examples/build_kind_model.rs`), so the test half still measures it:
//! 5-fold cross-validation inside the dev half chose it over the lexicon
//! alone and over other combinations (`examples/kinds_learned.rs`), and one
//! look at the test half took it: 168/216 (77.8%) against the lexicon's
//! 161/216 (74.5%). See the crate README, "Eighth round". Retrained after
//! the set's third draw and the spam model's eleventh-round features:
//! 223/265 (84.2%) against 198/265 (74.7%); 225/265 (84.9%) with strong
//! phrase evidence deciding ("Eleventh round").
//!
//! One-vs-rest hinge, 10 shuffled passes at rate 0.5; features: each slot of
//! [`FeatureSet::DEFAULT`] in a table of 2^20 folded to 2^14 rows, valued
//! 1/sqrt(number of slots), each kind's lexicon score (capped at 20) / 10 ×
//! 3, and a bias.

use crate::features::{Describe, FeatureSet, Featurizer, Slots};
use crate::kinds::{KindEvidence, ScamKind};
use crate::model::{ModelError, Reader, check_magic, put_varint, seal, unseal};
use spamtrace_mail::Analysis;
use std::cell::RefCell;
use std::sync::OnceLock;

const KINDS: usize = ScamKind::ALL.len();
/// The spam model's slots this model reads: those of `FEATURES` in a
/// table of `2^FEATURE_BITS`.
pub const FEATURES: FeatureSet = FeatureSet::DEFAULT;
/// See [`FEATURES`].
pub const FEATURE_BITS: u32 = 20;
/// Rows the slots are folded into: `2^ROW_BITS` (a 640 KB table, within a
/// core's L2 cache; 2^12 to 2^18 measured alike on dev).
const ROW_BITS: u32 = 14;
const LEXICON_ROW: usize = 1 << ROW_BITS;
const BIAS_ROW: usize = LEXICON_ROW + KINDS;
const ROWS: usize = BIAS_ROW + 1;
/// How much a lexicon score counts against the words.
const LEXICON_WEIGHT: f32 = 3.0;
const PASSES: usize = 10;
const LEARNING_RATE: f32 = 0.5;

const MAGIC: &[u8; 8] = b"SPTRKND\x01";
const FORMAT_VERSION: u32 = 1;

static BUILTIN: &[u8] = include_bytes!("../model/kinds.bin");

/// One labelled message for [`KindModel::train`].
pub struct KindExample<'a> {
    /// Its slots under [`KindModel::featurizer`] (any order, distinct).
    pub slots: &'a [u32],
    /// The lexicon's scores ([`KindEvidence::scores`]).
    pub lexicon: [u32; KINDS],
    /// Its true kind.
    pub kind: ScamKind,
}

/// A learnt kind model. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct KindModel {
    /// Per row, a weight per kind (in [`ScamKind::ALL`] order).
    table: Vec<[f32; KINDS]>,
}

/// Why [`KindModel::explain`] picked a kind.
#[derive(Debug, Clone, PartialEq)]
pub struct KindExplanation {
    /// The kind picked.
    pub kind: ScamKind,
    /// What the lexicon alone would have said.
    pub lexicon_kind: ScamKind,
    /// The features that pushed the picked kind's score most, strongest
    /// first: a description and its contribution.
    pub top: Vec<(String, f32)>,
}

/// Each present feature of a message as (row, value).
fn features<'a>(
    slots: &'a [u32],
    lexicon: &'a [u32; KINDS],
) -> impl Iterator<Item = (usize, f32)> + 'a {
    let value = 1.0 / (slots.len().max(1) as f32).sqrt();
    let fold = FEATURE_BITS - ROW_BITS;
    slots
        .iter()
        .map(move |&s| ((s >> fold) as usize, value))
        .chain(
            lexicon
                .iter()
                .enumerate()
                .filter(|(_, s)| **s > 0)
                .map(|(k, &s)| (LEXICON_ROW + k, LEXICON_WEIGHT * s.min(20) as f32 / 10.0)),
        )
        .chain(std::iter::once((BIAS_ROW, 1.0)))
}

/// The order of each training pass over `n` examples: shuffled by
/// Fisher-Yates with a fixed xorshift, so training is deterministic on every
/// platform. (`examples/kinds_learned.rs` trains its variants in the same
/// order.)
pub fn pass_orders(n: usize, passes: usize) -> impl Iterator<Item = Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    (0..passes).map(move |_| {
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        order.clone()
    })
}

impl KindModel {
    /// The featurizer whose slots the model reads.
    pub fn featurizer() -> Featurizer {
        Featurizer::new(FEATURES)
    }

    /// The model shipped in the binary.
    pub fn builtin() -> &'static KindModel {
        static MODEL: OnceLock<KindModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            KindModel::from_bytes(BUILTIN, "<builtin kind model>")
                .expect("the builtin kind model is checked by a unit test")
        })
    }

    /// Train on `examples` (deterministic: the same examples give the same
    /// model).
    pub fn train(examples: &[KindExample<'_>]) -> KindModel {
        let mut m = KindModel {
            table: vec![[0.0; KINDS]; ROWS],
        };
        let mut x = Vec::new();
        for order in pass_orders(examples.len(), PASSES) {
            for i in order {
                let e = &examples[i];
                x.clear();
                x.extend(features(e.slots, &e.lexicon));
                let scores = m.scores_of(x.iter().copied());
                for (k, kind) in ScamKind::ALL.iter().enumerate() {
                    let y = if *kind == e.kind { 1.0 } else { -1.0 };
                    if y * scores[k] < 1.0 {
                        for &(row, v) in &x {
                            m.table[row][k] += LEARNING_RATE * y * v;
                        }
                    }
                }
            }
        }
        m
    }

    /// Each kind's score for features as (row, value).
    fn scores_of(&self, x: impl IntoIterator<Item = (usize, f32)>) -> [f32; KINDS] {
        let mut s = [0.0f32; KINDS];
        for (row, v) in x {
            for (acc, w) in s.iter_mut().zip(&self.table[row]) {
                *acc += w * v;
            }
        }
        s
    }

    /// Each kind's score for a message's slots and lexicon scores.
    pub fn scores(&self, slots: &[u32], lexicon: &[u32; KINDS]) -> [f32; KINDS] {
        self.scores_of(features(slots, lexicon))
    }

    /// The kind with the highest score (ties: the first in [`ScamKind::ALL`]).
    pub fn kind(&self, slots: &[u32], lexicon: &[u32; KINDS]) -> ScamKind {
        let s = self.scores(slots, lexicon);
        let mut best = 0;
        for k in 1..KINDS {
            if s[k] > s[best] {
                best = k;
            }
        }
        ScamKind::ALL[best]
    }

    /// The kind of a message given its slots and the lexicon's evidence:
    /// the evidence's decisive kind if it has one
    /// ([`KindEvidence::decisive`]), else the model's.
    pub fn decide(&self, slots: &[u32], evidence: &KindEvidence) -> ScamKind {
        evidence
            .decisive
            .unwrap_or_else(|| self.kind(slots, &evidence.scores))
    }

    /// [`KindModel::decide`] for an analysed message, featurizing it (a
    /// caller that has the slots already calls `decide`).
    pub fn kind_of(&self, a: &Analysis, evidence: &KindEvidence) -> ScamKind {
        if let Some(kind) = evidence.decisive {
            return kind;
        }
        // This thread's buffer: a fresh `Slots` zeroes a 128 KB bitset, and
        // `Model::classify` comes here for every non-ham message when its
        // model reads other features than the kind model.
        thread_local! {
            static SLOTS: RefCell<Slots> = RefCell::new(Slots::new(FEATURE_BITS));
        }
        SLOTS.with(|cell| {
            let mut slots = cell.borrow_mut();
            slots.clear();
            Self::featurizer().extract(a, &mut *slots);
            let kind = self.kind(&slots.slots, &evidence.scores);
            slots.clear();
            kind
        })
    }

    /// The kind of a message and the features that pushed it most.
    pub fn explain(&self, a: &Analysis, evidence: &KindEvidence, top: usize) -> KindExplanation {
        let mut d = Describe::new(FEATURE_BITS);
        Self::featurizer().extract(a, &mut d);
        let slots: Vec<u32> = d.features.iter().map(|(s, _)| *s).collect();
        let kind = self.decide(&slots, evidence);
        let k = kind as usize;
        let mut pushes: Vec<(String, f32)> = Vec::new();
        let value = 1.0 / (slots.len().max(1) as f32).sqrt();
        let fold = FEATURE_BITS - ROW_BITS;
        for (slot, what) in &d.features {
            pushes.push((what.clone(), self.table[(slot >> fold) as usize][k] * value));
        }
        for kind_of_phrase in ScamKind::ALL {
            let s = evidence.scores[kind_of_phrase as usize];
            if s > 0 {
                let row = LEXICON_ROW + kind_of_phrase as usize;
                let v = LEXICON_WEIGHT * s.min(20) as f32 / 10.0;
                pushes.push((
                    format!("the phrases and signs of {kind_of_phrase} (lexicon score {s})"),
                    self.table[row][k] * v,
                ));
            }
        }
        pushes.sort_by(|a, b| b.1.total_cmp(&a.1));
        pushes.truncate(top);
        KindExplanation {
            kind,
            lexicon_kind: evidence.kind(),
            top: pushes,
        }
    }

    /// Serialise: magic, version, the feature groups' bits, feature and row
    /// bits, the non-zero rows as (row delta varint, one f32 per kind), and
    /// the SHA-256 of everything before it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&FEATURES.to_bits().to_le_bytes());
        b.extend_from_slice(&FEATURE_BITS.to_le_bytes());
        b.extend_from_slice(&ROW_BITS.to_le_bytes());
        let nonzero: Vec<usize> = (0..ROWS)
            .filter(|&r| self.table[r].iter().any(|w| *w != 0.0))
            .collect();
        b.extend_from_slice(&(nonzero.len() as u32).to_le_bytes());
        let mut last = 0;
        for r in nonzero {
            put_varint(&mut b, (r - last) as u32);
            last = r;
            for w in self.table[r] {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        seal(&mut b);
        b
    }

    /// Parse [`KindModel::to_bytes`]; `name` is used in errors. A file for
    /// other features, cut short or altered is an error, never a default.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<KindModel, ModelError> {
        let corrupt = |what: &str| ModelError::Corrupt {
            path: name.to_string(),
            what: what.to_string(),
        };
        check_magic(bytes, MAGIC, name)?;
        let body = unseal(bytes, name)?;
        let mut r = Reader {
            b: body,
            pos: MAGIC.len(),
        };
        let short = || corrupt("cut short");
        let version = r.u32().ok_or_else(short)?;
        if version != FORMAT_VERSION {
            return Err(ModelError::Version {
                path: name.to_string(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let set = r.u32().ok_or_else(short)?;
        let feature_bits = r.u32().ok_or_else(short)?;
        let row_bits = r.u32().ok_or_else(short)?;
        if set != FEATURES.to_bits() || feature_bits != FEATURE_BITS || row_bits != ROW_BITS {
            return Err(corrupt(
                "built for other features: rebuild it with the build_kind_model example",
            ));
        }
        let rows = r.u32().ok_or_else(short)? as usize;
        if rows > ROWS {
            return Err(corrupt("more rows than the table holds"));
        }
        let mut table = vec![[0.0f32; KINDS]; ROWS];
        let mut row = 0usize;
        for _ in 0..rows {
            row += r.varint().ok_or_else(short)? as usize;
            if row >= ROWS {
                return Err(corrupt("row out of range"));
            }
            for w in table[row].iter_mut() {
                *w = r.f32().ok_or_else(short)?;
                if !w.is_finite() {
                    return Err(corrupt("non-finite weight"));
                }
            }
        }
        if r.pos != body.len() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(KindModel { table })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn example(slots: &[u32], lexicon: [u32; KINDS], kind: ScamKind) -> KindExample<'_> {
        KindExample {
            slots,
            lexicon,
            kind,
        }
    }

    #[test]
    fn the_builtin_model_reads_and_round_trips() {
        let m = KindModel::builtin();
        assert_eq!(KindModel::from_bytes(&m.to_bytes(), "m").unwrap(), *m);
        assert_eq!(m.to_bytes(), BUILTIN, "the file is in canonical form");
    }

    #[test]
    fn learns_words_and_trusts_the_lexicon() {
        let mut pharmacy_lex = [0; KINDS];
        pharmacy_lex[ScamKind::Pharmacy as usize] = 8;
        let pills: Vec<u32> = (0..50).map(|i| i << 8).collect();
        let loans: Vec<u32> = (0..50).map(|i| (i << 8) + (7 << 16)).collect();
        let examples: Vec<KindExample<'_>> = (0..20)
            .map(|i| match i % 2 {
                0 => example(&pills, [0; KINDS], ScamKind::Pharmacy),
                _ => example(&loans, [0; KINDS], ScamKind::Loans),
            })
            .collect();
        let m = KindModel::train(&examples);
        assert_eq!(m.kind(&pills, &[0; KINDS]), ScamKind::Pharmacy);
        assert_eq!(m.kind(&loans, &[0; KINDS]), ScamKind::Loans);
        assert_eq!(KindModel::train(&examples), m, "deterministic");
        // Words that every kind has say nothing; the lexicon decides.
        let mut loans_lex = [0; KINDS];
        loans_lex[ScamKind::Loans as usize] = 8;
        let common: Vec<u32> = (0..50).map(|i| i << 9).collect();
        let examples: Vec<KindExample<'_>> = (0..20)
            .map(|i| match i % 2 {
                0 => example(&common, pharmacy_lex, ScamKind::Pharmacy),
                _ => example(&common, loans_lex, ScamKind::Loans),
            })
            .collect();
        let m = KindModel::train(&examples);
        assert_eq!(m.kind(&common, &pharmacy_lex), ScamKind::Pharmacy);
        assert_eq!(m.kind(&common, &loans_lex), ScamKind::Loans);
        // Decisive evidence overrides the model.
        let evidence = KindEvidence {
            scores: pharmacy_lex,
            decisive: Some(ScamKind::Malware),
            ..Default::default()
        };
        assert_eq!(m.decide(&common, &evidence), ScamKind::Malware);
    }

    #[test]
    fn a_damaged_file_is_an_error() {
        let good = KindModel::builtin().to_bytes();
        assert!(matches!(
            KindModel::from_bytes(&good[..good.len() / 2], "m"),
            Err(ModelError::Corrupt { .. })
        ));
        let mut bad = good.clone();
        bad[40] ^= 1;
        assert!(matches!(
            KindModel::from_bytes(&bad, "m"),
            Err(ModelError::Corrupt { .. })
        ));
        assert!(matches!(
            KindModel::from_bytes(b"not a model at all, not at all", "m"),
            Err(ModelError::BadMagic { .. })
        ));
        // Another feature set: refused, so that no slot is read as another.
        let mut other = good[..good.len() - 32].to_vec();
        other[12..16].copy_from_slice(&FeatureSet::ALL.to_bits().to_le_bytes());
        let digest = Sha256::digest(&other);
        other.extend_from_slice(&digest);
        assert!(matches!(
            KindModel::from_bytes(&other, "m"),
            Err(ModelError::Corrupt { .. })
        ));
    }
}
