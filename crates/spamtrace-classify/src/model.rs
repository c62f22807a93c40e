//! The spam model: an online linear model (hinge loss by default, logistic
//! available) on hashed sparse features.
//!
//! Why this model: discriminative online learners on hashed n-gram features
//! led the TREC spam tracks and are what modern filters moved to; they score a
//! message with one pass over its features (one table lookup each) and learn
//! from one message at a time. Plain stochastic gradient descent with a
//! constant learning rate beat FTRL-proximal on our split (see the README's
//! measurements) and needs one number per slot, which keeps the model file
//! small and makes undoing a training step exact (see [`Model::train`]).
//! The hinge loss with a few passes over the training batch (a relaxed
//! online SVM, Sculley & Wachman 2007) beat logistic loss on chronological
//! validation slices (README, `examples/tune.rs`).

use crate::features::{Describe, FeatureSet, Featurizer, LIGHT_FEATURE_SCALE, LightPart, Slots};

use crate::kind_model::{self, KindModel};
use crate::kinds::{ScamKind, detect_kind, kind_evidence};
use crate::tokens::{TokenModel, TokenModelConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spamtrace_mail::{Analysis, Label, Limits, TrustedHosts, analyze, analyze_for_scoring};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Why a model file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("cannot access model file {path}: {source} (check the path and permissions)")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a spamtrace model at all.
    #[error(
        "{path} is not a spamtrace model file (bad magic); pass the file written by `spamtrace train`"
    )]
    BadMagic {
        /// The file.
        path: String,
    },
    /// The file was written by another format version.
    #[error(
        "{path} is model format version {found}, this spamtrace reads version {expected}; retrain with `spamtrace train`"
    )]
    Version {
        /// The file.
        path: String,
        /// The version in the file.
        found: u32,
        /// The version this code reads.
        expected: u32,
    },
    /// The file is cut short or its checksum does not match.
    #[error(
        "{path} is truncated or corrupt ({what}); restore it from a backup or retrain with `spamtrace train`"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// What was wrong.
        what: String,
    },
}

/// What a message is judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Score at or above the spam threshold.
    Spam,
    /// Between the thresholds: a person should look.
    Unsure,
    /// Score at or below the ham threshold.
    Ham,
}

impl Verdict {
    /// The lowercase name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Spam => "spam",
            Verdict::Unsure => "unsure",
            Verdict::Ham => "ham",
        }
    }

    /// Parse a name from [`Verdict::as_str`].
    pub fn parse(s: &str) -> Option<Verdict> {
        match s.trim().to_ascii_lowercase().as_str() {
            "spam" => Some(Verdict::Spam),
            "unsure" => Some(Verdict::Unsure),
            "ham" => Some(Verdict::Ham),
            _ => None,
        }
    }
}

/// Where scores turn into verdicts. Spam if `score >= spam`, ham if
/// `score <= ham`, unsure in between.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Lowest calibrated P(spam) called spam.
    pub spam: f32,
    /// Highest calibrated P(spam) called ham.
    pub ham: f32,
}

impl Default for Thresholds {
    /// Spam at 0.9 and above, ham at 0.1 and below: the thresholds of a
    /// fresh model. Models built by `eval::train_calibrated` (the shipped
    /// one, `eval`) replace them by [`Thresholds::choose`] on held-out
    /// scores, aiming at 0.1% false positives.
    fn default() -> Self {
        Thresholds {
            spam: 0.9,
            ham: 0.1,
        }
    }
}

impl Thresholds {
    /// Choose thresholds from calibrated scores of held-out messages
    /// `(score, is_spam)`: the spam threshold is the lowest (at least 0.5)
    /// that lets at most `max_fpr` of the ham through as spam; the ham
    /// threshold is the highest (at most the spam threshold and 0.5) that
    /// calls at most `max_fnr` of the spam ham. Between them is "unsure".
    pub fn choose(points: &[(f32, bool)], max_fpr: f64, max_fnr: f64) -> Thresholds {
        let mut ham: Vec<f32> = points.iter().filter(|p| !p.1).map(|p| p.0).collect();
        let mut spam: Vec<f32> = points.iter().filter(|p| p.1).map(|p| p.0).collect();
        if ham.is_empty() || spam.is_empty() {
            return Thresholds::default();
        }
        ham.sort_by(|a, b| b.total_cmp(a));
        spam.sort_by(|a, b| a.total_cmp(b));
        // The k-th highest ham may be let through (k = allowed count).
        let k = (max_fpr * ham.len() as f64).floor() as usize;
        let spam_t = ham.get(k).map_or(0.5, |s| next_up(*s)).clamp(0.5, 0.999);
        let k = (max_fnr * spam.len() as f64).floor() as usize;
        let ham_t = spam
            .get(k)
            .map_or(0.5, |s| next_down(*s))
            .clamp(0.001, 0.5)
            .min(spam_t);
        Thresholds {
            spam: spam_t,
            ham: ham_t,
        }
    }

    /// Both in [0, 1] and the ham threshold at most the spam one (equal:
    /// no message is unsure). Model files with other thresholds do not load.
    pub fn is_valid(&self) -> bool {
        (0.0..=1.0).contains(&self.spam) && (0.0..=1.0).contains(&self.ham) && self.ham <= self.spam
    }

    /// The verdict for a calibrated score.
    pub fn verdict(&self, score: f32) -> Verdict {
        if score >= self.spam {
            Verdict::Spam
        } else if score <= self.ham {
            Verdict::Ham
        } else {
            Verdict::Unsure
        }
    }
}

/// The result of classifying one message.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// Calibrated probability that the message is spam, in [0, 1].
    pub score: f32,
    /// The model's raw log-odds before calibration: finer-grained than the
    /// score near 0 and 1, use it to rank (ROC curves).
    pub log_odds: f32,
    /// Spam, unsure or ham under the model's thresholds.
    pub verdict: Verdict,
    /// The scam kind, for messages that are not ham.
    pub kind: Option<ScamKind>,
}

/// One feature's push on a message's score, for explanations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// What the feature is, in words ("word \"viagra\"", "links to example.com").
    pub feature: String,
    /// Its effect on the log-odds of spam: positive pushes towards spam.
    pub weight: f32,
}

/// Platt scaling: `P(spam) = 1 / (1 + exp(-(a * log_odds + b)))`, fitted on
/// messages the model was not trained on, because a model's raw outputs on
/// its own training data are overconfident.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Slope.
    pub a: f32,
    /// Offset.
    pub b: f32,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration { a: 1.0, b: 0.0 }
    }
}

impl Calibration {
    /// Fit on `(log_odds, is_spam)` pairs (Platt 1999, with his smoothed
    /// targets; Newton's method on the two parameters).
    /// The scores are standardised first (and the slope scaled back), so
    /// that Newton's method, started at slope 1, converges whatever their
    /// scale (the ensemble's raw scores reach the hundreds).
    pub fn fit(points: &[(f32, bool)]) -> Calibration {
        let n = points.len().max(1) as f64;
        let mean = points.iter().map(|p| p.0 as f64).sum::<f64>() / n;
        let sd = (points
            .iter()
            .map(|p| (p.0 as f64 - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        if !(sd.is_finite() && sd > 1e-12) {
            return Calibration::default();
        }
        let scaled: Vec<(f32, bool)> = points
            .iter()
            .map(|p| ((p.0 as f64 / sd) as f32, p.1))
            .collect();
        let c = Calibration::fit_unit(&scaled);
        if c == Calibration::default() {
            return c;
        }
        Calibration {
            a: (c.a as f64 / sd) as f32,
            b: c.b,
        }
    }

    fn fit_unit(points: &[(f32, bool)]) -> Calibration {
        let pos = points.iter().filter(|p| p.1).count() as f64;
        let neg = points.len() as f64 - pos;
        if pos == 0.0 || neg == 0.0 {
            return Calibration::default();
        }
        let hi = (pos + 1.0) / (pos + 2.0);
        let lo = 1.0 / (neg + 2.0);
        let (mut a, mut b) = (1.0f64, 0.0f64);
        for _ in 0..100 {
            let (mut g_a, mut g_b, mut h_aa, mut h_ab, mut h_bb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
            for &(x, y) in points {
                let x = x as f64;
                let t = if y { hi } else { lo };
                let p = sigmoid64(a * x + b);
                let d = p - t;
                let w = p * (1.0 - p);
                g_a += d * x;
                g_b += d;
                h_aa += w * x * x;
                h_ab += w * x;
                h_bb += w;
            }
            let det = h_aa * h_bb - h_ab * h_ab;
            if det.abs() < 1e-12 {
                break;
            }
            let da = (h_bb * g_a - h_ab * g_b) / det;
            let db = (h_aa * g_b - h_ab * g_a) / det;
            a -= da;
            b -= db;
            if da.abs() < 1e-7 && db.abs() < 1e-7 {
                break;
            }
        }
        if !a.is_finite() || !b.is_finite() || a <= 0.0 {
            return Calibration::default();
        }
        Calibration {
            a: a as f32,
            b: b as f32,
        }
    }

    /// The calibrated probability for a log-odds.
    pub fn apply(&self, log_odds: f32) -> f32 {
        sigmoid64(self.a as f64 * log_odds as f64 + self.b as f64) as f32
    }
}

/// A little above `x` (ties with the held-out ham must not be called spam).
fn next_up(x: f32) -> f32 {
    x + (x.abs() * 1e-6).max(1e-7)
}

/// A little below `x`.
fn next_down(x: f32) -> f32 {
    x - (x.abs() * 1e-6).max(1e-7)
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-30.0, 30.0)).exp())
}

/// What the model remembers about a message it was trained on, so that
/// retraining it is harmless and relabelling it undoes the first lesson.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TrainedMessage {
    label: Label,
    /// The amount added to each of the message's feature weights.
    step: f32,
}

/// What a training step minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Logistic loss: every message moves the weights, by how wrong the
    /// predicted probability was.
    Logistic,
    /// Hinge loss (an online linear SVM without the regulariser, as in
    /// Sculley's relaxed online SVMs for spam): only messages inside the
    /// margin (`label * log_odds < 1`) move the weights, so easy mail stops
    /// pushing weights apart and the model overfits less.
    Hinge,
}

/// Settings of a fresh model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelConfig {
    /// log2 of the number of weight slots.
    pub hash_bits: u32,
    /// Which feature groups are used.
    pub features: FeatureSet,
    /// SGD step size.
    pub learning_rate: f32,
    /// The loss the steps minimise.
    pub loss: Loss,
    /// Passes over a training batch (`eval::train_calibrated`); incremental
    /// `train` calls make one step, of `learning_rate` times this.
    pub passes: u32,
    /// Scale each feature by its inverse document frequency (IDF) over the
    /// trained messages before the vector is made unit length, so that
    /// features every message has (the bias, common words) count for
    /// little and rare ones for more. On in the shipped configuration,
    /// chosen on the validation columns of `examples/shift.rs` and tested
    /// once (README, "Fifth round").
    pub idf: bool,
    /// With `idf`, each feature is scaled by its IDF raised to this power:
    /// above 1, rare features count for more still against common ones.
    pub idf_power: f32,
}

impl Default for ModelConfig {
    /// Chosen on chronological validation slices inside the training half
    /// of the SpamAssassin split (`examples/tune.rs`, README).
    fn default() -> Self {
        ModelConfig {
            hash_bits: 20,
            features: FeatureSet::DEFAULT,
            learning_rate: 0.5,
            loss: Loss::Hinge,
            passes: 5,
            idf: true,
            idf_power: 1.0,
        }
    }
}

/// The smallest IDF: a feature in every trained message still counts a
/// little (and a fresh model, which has counted nothing, scales every
/// feature alike).
const IDF_FLOOR: f64 = 0.01;

/// ln((n + 1) / (df + 1)), at least [`IDF_FLOOR`]: the weight of a feature
/// that `df` of `n` counted messages have.
fn idf_of(df: u32, n: u32) -> f32 {
    ((n as f64 + 1.0) / (df as f64 + 1.0)).ln().max(IDF_FLOOR) as f32
}

/// Document frequencies: in how many trained messages each slot occurs.
/// The IDF the model uses is computed against `reference` (the message count
/// at the last full refresh, see [`Model::count_message`]), so every slot's
/// scale is always `idf_of(counts[slot], reference)` exactly, and a saved
/// model scores as it did in memory.
#[derive(Debug, Clone, PartialEq)]
struct DocFreq {
    counts: Vec<u32>,
    /// Messages counted.
    docs: u32,
    /// `docs` when every slot's scale was last recomputed.
    reference: u32,
    /// The table's bits and light part when the feature set has light
    /// groups ([`FeatureSet::light_subject_grams`],
    /// [`FeatureSet::light_bigrams`]): their slots' scales are cut by
    /// [`LIGHT_FEATURE_SCALE`].
    light_bits: Option<(u32, LightPart)>,
    /// The power of the IDF that is a slot's scale ([`ModelConfig::idf_power`]).
    power: f32,
}

impl DocFreq {
    fn new(
        counts: Vec<u32>,
        docs: u32,
        reference: u32,
        set: FeatureSet,
        bits: u32,
        power: f32,
    ) -> DocFreq {
        DocFreq {
            counts,
            docs,
            reference,
            light_bits: LightPart::of(set).map(|part| (bits, part)),
            power,
        }
    }

    /// The IDF of a slot counted in `df` messages, raised to the power.
    fn powered_idf(&self, df: u32) -> f32 {
        let idf = idf_of(df, self.reference);
        if self.power == 1.0 {
            idf
        } else {
            idf.powf(self.power)
        }
    }

    /// The scale of `slot`: its powered IDF against `reference`, cut in the
    /// light groups' eighth of the table when the model has light groups.
    fn scale(&self, slot: usize) -> f32 {
        slot_scale(self.powered_idf(self.counts[slot]), slot, self.light_bits)
    }

    /// Every slot's [`DocFreq::scale`], in slot order (the IDF of the many
    /// unseen slots computed once).
    fn scales(&self) -> impl Iterator<Item = f32> + '_ {
        let unseen = self.powered_idf(0);
        self.counts.iter().enumerate().map(move |(slot, &c)| {
            let idf = match c {
                0 => unseen,
                c => self.powered_idf(c),
            };
            slot_scale(idf, slot, self.light_bits)
        })
    }

    /// Give every slot of `table` its squared scale, leaving its stored
    /// weight as it is (a model being built or read).
    fn set_scales(&self, table: &mut [Entry]) {
        for (e, scale) in table.iter_mut().zip(self.scales()) {
            e.scale2 = square(scale);
        }
    }
}

/// One slot of the weight table. The two numbers scoring reads for a
/// feature sit side by side, so a feature costs one cache line, not two
/// (the table is larger than the caches: measured, about 1 µs a message).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(8))]
struct Entry {
    /// What the score adds when the feature is present: the learnt weight
    /// times the feature's scale (its IDF; 1 without IDF).
    weight: f32,
    /// The square of the feature's scale (what the length of a message's
    /// scaled vector sums; 1 and unused without IDF).
    scale2: f32,
}

impl Entry {
    const EMPTY: Entry = Entry {
        weight: 0.0,
        scale2: 1.0,
    };
}

/// A slot's scale given its IDF: the IDF, cut by [`LIGHT_FEATURE_SCALE`] in
/// the light groups' part of the table when the model has light groups.
#[inline]
fn slot_scale(idf: f32, slot: usize, light_bits: Option<(u32, LightPart)>) -> f32 {
    match light_bits {
        Some((bits, part)) if part.holds(slot as u32, bits) => idf * LIGHT_FEATURE_SCALE,
        _ => idf,
    }
}

/// The spam model. See the module documentation for why it is built this way.
#[derive(Debug, Clone)]
pub struct Model {
    bits: u32,
    featurizer: Featurizer,
    /// Per slot: its weight and squared scale.
    table: Vec<Entry>,
    /// Document frequencies and scales, when the model scales by IDF.
    doc_freq: Option<DocFreq>,
    learning_rate: f32,
    /// The step of a message learnt on its own ([`Model::train`]): the
    /// learning rate times the batch passes, so that it moves the weights
    /// as far as a batch moves them for it over all its passes. (One step
    /// of the batch rate alone learnt the TREC online protocol at half the
    /// accuracy: `examples/online.rs`, README "Sixth round".) Not stored
    /// in the model file: a loaded model takes the default passes, which
    /// every shipped and `train --fresh` model was built with.
    incremental_rate: f32,
    loss: Loss,
    /// How raw log-odds map to a probability.
    pub calibration: Calibration,
    /// Where scores become verdicts.
    pub thresholds: Thresholds,
    /// Per message (first 8 bytes of its SHA-256): what it was trained as.
    trained: HashMap<u64, TrainedMessage>,
    /// Training updates applied (messages, including relabels).
    updates: u64,
    /// The token model of the ensemble, if any.
    tokens: Option<TokenModel>,
}

const MAGIC: &[u8; 8] = b"SPTRMDL\x01";
/// The model file layout version; bump when the layout or the features change.
/// Version 3 added the token model section, version 4 the IDF section,
/// version 5 the feature option `lightsgrams` (same layout as version 4:
/// the bump makes an older reader refuse a file whose features it would
/// hash to other slots), version 6 the IDF power after the IDF section's
/// counts; version 2 to 5 files are still read.
pub const FORMAT_VERSION: u32 = 6;

/// The largest [`ModelConfig::idf_power`] a model file may hold.
pub const MAX_IDF_POWER: f32 = 4.0;

thread_local! {
    static SLOTS: RefCell<Option<Slots>> = const { RefCell::new(None) };
}

/// The shipped default model (see README: "Building the default model").
static BUILTIN: &[u8] = include_bytes!("../model/default.bin");

impl Model {
    /// A fresh, untrained model (every message scores 0.5).
    pub fn new(config: ModelConfig) -> Model {
        let bits = config.hash_bits.clamp(10, 26);
        let doc_freq = config.idf.then(|| {
            DocFreq::new(
                vec![0; 1 << bits],
                0,
                0,
                config.features,
                bits,
                // As the hash bits: a model file can always be read back.
                match config.idf_power {
                    p if p.is_finite() => p.clamp(0.01, MAX_IDF_POWER),
                    _ => 1.0,
                },
            )
        });
        let mut table = vec![Entry::EMPTY; 1 << bits];
        if let Some(df) = &doc_freq {
            df.set_scales(&mut table);
        }
        Model {
            bits,
            featurizer: Featurizer::new(config.features),
            table,
            doc_freq,
            learning_rate: config.learning_rate,
            incremental_rate: config.learning_rate * config.passes.max(1) as f32,
            loss: config.loss,
            calibration: Calibration::default(),
            thresholds: Thresholds::default(),
            trained: HashMap::new(),
            updates: 0,
            tokens: None,
        }
    }

    /// The model shipped inside the binary, trained on the corpora in
    /// `shared/corpora` by a documented command (see the crate README).
    pub fn builtin() -> Model {
        Model::from_bytes(BUILTIN, "<builtin model>")
            .expect("the builtin model is checked by a unit test at build time")
    }

    /// Training updates applied so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Number of distinct messages remembered as trained.
    pub fn trained_messages(&self) -> usize {
        self.trained.len()
    }

    /// The feature configuration.
    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }

    /// log2 of the number of weight slots.
    pub fn hash_bits(&self) -> u32 {
        self.bits
    }

    /// Whether this model scores an [`analyze_for_scoring`] analysis exactly
    /// as a full [`analyze`] one: its features read no field the lean
    /// analysis leaves empty. Those fields (header fields other than the
    /// mailing-list ones, mailer, sender, Reply-To and bounce domains,
    /// Received hops) are read only by the header groups
    /// ([`FeatureSet::headers`]), off in [`FeatureSet::DEFAULT`]. The corpus
    /// test `tests/lean_analysis.rs` holds the shipped model and the default
    /// configuration to this.
    pub fn scores_lean_analysis(&self) -> bool {
        !self.featurizer.set.headers
    }

    /// The analysis this model needs to score `raw`, as cheaply as it
    /// can be had: [`analyze_for_scoring`] when it is enough
    /// ([`Model::scores_lean_analysis`]), else the full [`analyze`]. Either
    /// way [`Model::classify`] and [`Model::explain`] give what they give on
    /// the full analysis. Store only full analyses; to [`Model::train`] on
    /// this one, set its `sha256` ([`spamtrace_mail::sha256_hex`] of `raw`)
    /// first, as the lean analysis leaves it empty.
    pub fn analyze_for_scoring(
        &self,
        raw: &[u8],
        limits: &Limits,
        trusted: &TrustedHosts,
    ) -> Analysis {
        if self.scores_lean_analysis() {
            analyze_for_scoring(raw, limits)
        } else {
            analyze(raw, limits, trusted)
        }
    }

    /// [`Model::analyze_for_scoring`] plus the message's SHA-256 (which the
    /// lean analysis leaves out): enough to score the message, name it, and
    /// [`Model::train`] on it (the hash is what makes learning a message
    /// twice harmless).
    pub fn analyze_with_identity(
        &self,
        raw: &[u8],
        limits: &Limits,
        trusted: &TrustedHosts,
    ) -> Analysis {
        let mut a = self.analyze_for_scoring(raw, limits, trusted);
        if a.sha256.is_empty() {
            a.sha256 = spamtrace_mail::sha256_hex(raw);
        }
        a
    }

    fn with_slots<R>(&self, a: &Analysis, f: impl FnOnce(&[u32]) -> R) -> R {
        self.with_scratch(|slots| {
            self.featurizer.extract(a, slots);
            f(&slots.slots)
        })
    }

    /// Run `f` on this thread's reusable slot buffer (sized for this model,
    /// empty on entry, emptied after): extraction allocates nothing per message.
    fn with_scratch<R>(&self, f: impl FnOnce(&mut Slots) -> R) -> R {
        SLOTS.with(|cell| {
            let mut guard = cell.borrow_mut();
            let slots = match guard.as_mut() {
                Some(s) if s.slots.capacity() > 0 && slot_bits(s) == self.bits => s,
                _ => guard.insert(Slots::new(self.bits)),
            };
            slots.clear();
            let r = f(slots);
            slots.clear();
            r
        })
    }

    /// Raw log-odds of spam for already extracted, deduplicated slots.
    #[inline]
    pub fn log_odds_of_slots(&self, slots: &[u32]) -> f32 {
        let (sum, inverse_length) = self.sum_and_inverse_length(slots);
        sum * inverse_length
    }

    /// The sum of the present features' weights (already times their
    /// scale) and 1 / the length of the message's scaled feature vector.
    /// Each message's vector is made unit length: long and short messages
    /// move the score alike, measured better than raw binary features
    /// (README). Without IDF every scale is 1 and the length is sqrt(n).
    #[inline]
    fn sum_and_inverse_length(&self, slots: &[u32]) -> (f32, f32) {
        let (sum, squares) = sum_weights_and_scales(&self.table, slots);
        match &self.doc_freq {
            None => (sum, feature_value(slots.len())),
            Some(_) => (sum, 1.0 / squares.sqrt().max(f32::MIN_POSITIVE)),
        }
    }

    /// Count a new message's slots in the document frequencies (a
    /// relabelled message is counted already) and bring the slots' scales up
    /// to date. Once the message count has grown by a 32nd since the last
    /// full refresh, every slot's IDF is recomputed against the new count;
    /// in between, only the counted slots change, against the same reference
    /// count. `refresh` false leaves that to the caller (a batch counts every
    /// message first).
    fn count_message(&mut self, slots: &[u32], refresh: bool) {
        let Some(df) = &mut self.doc_freq else {
            return;
        };
        for &s in slots {
            let c = &mut df.counts[s as usize];
            *c = c.saturating_add(1);
        }
        df.docs = df.docs.saturating_add(1);
        if !refresh {
            return;
        }
        if df.docs.saturating_sub(df.reference) >= (df.reference / 32).max(16) {
            self.refresh_scales();
        } else {
            for &s in slots {
                rescale(&mut self.table[s as usize], df.scale(s as usize));
            }
        }
    }

    /// Add `step` to the learnt weight of each slot: the table holds weight
    /// times scale, so each entry moves by step times its squared scale (a
    /// step along the message's scaled feature vector).
    fn add_step(&mut self, slots: &[u32], step: f32) {
        match &self.doc_freq {
            None => {
                for &s in slots {
                    self.table[s as usize].weight += step;
                }
            }
            Some(_) => {
                for &s in slots {
                    let e = &mut self.table[s as usize];
                    e.weight += step * e.scale2;
                }
            }
        }
    }

    /// Recompute every slot's IDF against the current message count.
    fn refresh_scales(&mut self) {
        let Some(df) = &mut self.doc_freq else {
            return;
        };
        df.reference = df.docs;
        for (e, scale) in self.table.iter_mut().zip(df.scales()) {
            rescale(e, scale);
        }
    }

    /// Raw log-odds of spam (uncalibrated).
    pub fn log_odds(&self, a: &Analysis) -> f32 {
        self.with_features(a, |s, k| self.log_odds_of_split(s, k))
    }

    /// Score, verdict and (unless ham) scam kind of one message.
    pub fn classify(&self, a: &Analysis) -> Classification {
        let classification = |log_odds: f32, kind_slots: Option<&[u32]>| {
            let score = self.calibration.apply(log_odds);
            let verdict = self.thresholds.verdict(score);
            let kind = (verdict != Verdict::Ham).then(|| match kind_slots {
                Some(slots) => KindModel::builtin().decide(slots, &kind_evidence(a, false)),
                None => detect_kind(a),
            });
            Classification {
                score,
                log_odds,
                verdict,
                kind,
            }
        };
        // The kind model reads the shipped feature set's slots: a model
        // with that set has them already.
        let same_slots = self.tokens.is_none()
            && self.bits == kind_model::FEATURE_BITS
            && self.featurizer.set == kind_model::FEATURES;
        if same_slots {
            self.with_slots(a, |slots| {
                classification(self.log_odds_of_split(slots, 0), Some(slots))
            })
        } else {
            classification(self.log_odds(a), None)
        }
    }

    /// Learn one message's true label.
    ///
    /// The model remembers, per message SHA-256, the label it learnt and the
    /// step it took. Training the same message again with the same label does
    /// nothing; with the other label, the earlier step is subtracted from the
    /// same features (exactly undoing its direct effect) before learning the
    /// new label. Returns whether the weights changed.
    pub fn train(&mut self, a: &Analysis, label: Label) -> bool {
        let key = message_key(&a.sha256);
        let previous = key.and_then(|k| self.trained.get(&k).copied());
        if previous.is_some_and(|p| p.label == label) {
            return false;
        }
        let lr = self.incremental_rate;
        let Features { slots, token_slots } = self.features_of(a);
        match previous {
            // Relabelled: the message is counted already.
            Some(p) => self.add_step(&slots, -p.step),
            None => self.count_message(&slots, true),
        }
        if let Some(t) = &mut self.tokens {
            if let Some(p) = previous {
                t.learn(&slots[..token_slots], p.label, false);
            }
            t.learn(&slots[..token_slots], label, true);
        }
        let step = self.learn_slots(&slots, label, lr);
        if let Some(k) = key {
            self.trained.insert(k, TrainedMessage { label, step });
        }
        true
    }

    /// One SGD step of logistic regression on deduplicated slots, without
    /// the per-message memory of [`Model::train`] (for batch experiments).
    /// Returns the step added to each weight.
    pub fn learn_slots(&mut self, slots: &[u32], label: Label, learning_rate: f32) -> f32 {
        let (sum, inverse_length) = self.sum_and_inverse_length(slots);
        let m = sum * inverse_length;
        let step = match self.loss {
            Loss::Logistic => {
                let y = if label == Label::Spam { 1.0 } else { 0.0 };
                learning_rate * (y - sigmoid(m)) * inverse_length
            }
            Loss::Hinge => {
                let y = if label == Label::Spam { 1.0 } else { -1.0 };
                if y * m >= 1.0 {
                    0.0
                } else {
                    learning_rate * y * inverse_length
                }
            }
        };
        self.add_step(slots, step);
        self.updates += 1;
        step
    }

    /// Learn a batch of messages with several passes over it (the model's
    /// `passes` setting is the caller's: see `eval::train_calibrated`).
    /// Messages already learnt with the same label are skipped; relabelled
    /// ones are undone first, as in [`Model::train`]. Each message's total
    /// step over all passes is remembered, so a later relabel undoes all of
    /// it. The token model (if any) counts each message once.
    /// `features[i]` must be `self.features_of(&analyses[i])`.
    pub fn train_batch(&mut self, batch: &[(Option<u64>, Features, Label)], passes: u32) {
        let mut steps = vec![0.0f32; batch.len()];
        let mut active = vec![true; batch.len()];
        let mut in_batch = std::collections::HashSet::new();
        for (i, (key, features, label)) in batch.iter().enumerate() {
            // A message twice in one batch is learnt once.
            if key.is_some_and(|k| !in_batch.insert(k)) {
                active[i] = false;
                continue;
            }
            let token_slots = &features.slots[..features.token_slots];
            if let Some(p) = key.and_then(|k| self.trained.get(&k).copied()) {
                if p.label == *label {
                    active[i] = false;
                    continue;
                }
                self.add_step(&features.slots, -p.step);
                if let Some(t) = &mut self.tokens {
                    t.learn(token_slots, p.label, false);
                }
            } else {
                self.count_message(&features.slots, false);
            }
            if let Some(t) = &mut self.tokens {
                t.learn(token_slots, *label, true);
            }
        }
        // Every message is counted before the first step, so the whole
        // batch trains with one set of IDFs.
        self.refresh_scales();
        let lr = self.learning_rate;
        for _ in 0..passes.max(1) {
            for (i, (_, features, label)) in batch.iter().enumerate() {
                if active[i] {
                    steps[i] += self.learn_slots(&features.slots, *label, lr);
                }
            }
        }
        for (i, (key, _, label)) in batch.iter().enumerate() {
            if active[i]
                && let Some(key) = key
            {
                self.trained.insert(
                    *key,
                    TrainedMessage {
                        label: *label,
                        step: steps[i],
                    },
                );
            }
        }
        if let Some(t) = &self.tokens {
            t.prepare();
        }
    }

    /// The key under which [`Model::train`] remembers a message (from its
    /// SHA-256), if it has one.
    pub fn message_key(a: &Analysis) -> Option<u64> {
        message_key(&a.sha256)
    }

    /// Extract the deduplicated slots of a message (for experiments that
    /// featurize once and train many times).
    pub fn slots_of(&self, a: &Analysis) -> Vec<u32> {
        self.with_features(a, |s, _| s.to_vec())
    }

    /// The features that pushed this message's score most, strongest first,
    /// in words. Features hashing to the same slot are merged.
    pub fn explain(&self, a: &Analysis, top: usize) -> Vec<Contribution> {
        let mut d = Describe::new(self.bits);
        let token_slots = self.extract_split(a, &mut d);
        let slots: Vec<u32> = d.features.iter().map(|(s, _)| *s).collect();
        let (_, inverse_length) = self.sum_and_inverse_length(&slots);
        let mut out: Vec<Contribution> = d
            .features
            .into_iter()
            .enumerate()
            .map(|(i, (slot, feature))| {
                let linear = self.table[slot as usize].weight * inverse_length;
                match &self.tokens {
                    Some(t) if i < token_slots => {
                        let (evidence, spam, ham) = t.evidence(slot);
                        Contribution {
                            feature: format!("{feature} (in {spam} spam, {ham} ham trained)"),
                            weight: linear + t.config.weight * evidence,
                        }
                    }
                    _ => Contribution {
                        feature,
                        weight: linear,
                    },
                }
            })
            .filter(|c| c.weight != 0.0)
            .collect();
        out.sort_by(|x, y| {
            y.weight
                .abs()
                .total_cmp(&x.weight.abs())
                .then_with(|| x.feature.cmp(&y.feature))
        });
        out.truncate(top);
        out
    }

    /// Write the model atomically: to a temporary file beside `path`, then
    /// renamed over it, so a crash never leaves a half-written model.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let bytes = self.to_bytes();
        let io = |source| ModelError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!(
            ".{}.tmp{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("model"),
            std::process::id()
        ));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// Read a model written by [`Model::save`]. A file that is not a model,
    /// of another version, truncated or altered is an error, never a default.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Model::from_bytes(&bytes, &path.display().to_string())
    }

    /// Serialise. Layout (little-endian): magic, version, hash bits, feature
    /// bits, loss, learning rate, calibration a and b, thresholds spam and
    /// ham, updates, then the non-zero weights (times their scale) as (slot
    /// delta varint, f32), then (version 4) an IDF flag byte and, when set,
    /// the message count, the reference count, (version 6) the IDF power
    /// as f32 and the non-zero document
    /// frequencies as (slot delta varint, count varint), then the
    /// trained-message table as (u64 key, u8 label, f32 step), the token
    /// model section, and the SHA-256 of everything before it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let nonzero = self.table.iter().filter(|e| e.weight != 0.0).count();
        let mut b = Vec::with_capacity(64 + nonzero * 6 + self.trained.len() * 13);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&self.bits.to_le_bytes());
        b.extend_from_slice(&self.featurizer.set.to_bits().to_le_bytes());
        b.extend_from_slice(
            &match self.loss {
                Loss::Logistic => 0u32,
                Loss::Hinge => 1u32,
            }
            .to_le_bytes(),
        );
        for f in [
            self.learning_rate,
            self.calibration.a,
            self.calibration.b,
            self.thresholds.spam,
            self.thresholds.ham,
        ] {
            b.extend_from_slice(&f.to_le_bytes());
        }
        b.extend_from_slice(&self.updates.to_le_bytes());
        b.extend_from_slice(&(nonzero as u32).to_le_bytes());
        let mut last = 0u32;
        for (i, e) in self.table.iter().enumerate() {
            if e.weight != 0.0 {
                put_varint(&mut b, i as u32 - last);
                last = i as u32;
                b.extend_from_slice(&e.weight.to_le_bytes());
            }
        }
        match &self.doc_freq {
            None => b.push(0),
            Some(df) => {
                b.push(1);
                b.extend_from_slice(&df.docs.to_le_bytes());
                b.extend_from_slice(&df.reference.to_le_bytes());
                b.extend_from_slice(&df.power.to_le_bytes());
                let seen = df.counts.iter().filter(|c| **c != 0).count();
                b.extend_from_slice(&(seen as u32).to_le_bytes());
                let mut last = 0u32;
                for (i, &c) in df.counts.iter().enumerate() {
                    if c != 0 {
                        put_varint(&mut b, i as u32 - last);
                        last = i as u32;
                        put_varint(&mut b, c);
                    }
                }
            }
        }
        let mut trained: Vec<(&u64, &TrainedMessage)> = self.trained.iter().collect();
        trained.sort_by_key(|(k, _)| **k);
        b.extend_from_slice(&(trained.len() as u32).to_le_bytes());
        for (k, t) in trained {
            b.extend_from_slice(&k.to_le_bytes());
            b.push(match t.label {
                Label::Spam => 1,
                Label::Ham => 0,
            });
            b.extend_from_slice(&t.step.to_le_bytes());
        }
        match &self.tokens {
            None => b.push(0),
            Some(t) => {
                b.push(1);
                t.write(&mut b);
            }
        }
        seal(&mut b);
        b
    }

    /// Parse bytes from [`Model::to_bytes`]; `name` is used in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Model, ModelError> {
        let corrupt = |what: &str| ModelError::Corrupt {
            path: name.to_string(),
            what: what.to_string(),
        };
        check_magic(bytes, MAGIC, name)?;
        let mut r = Reader {
            b: bytes,
            pos: MAGIC.len(),
        };
        let version = r.u32().ok_or_else(|| corrupt("cut short in the header"))?;
        if !(2..=FORMAT_VERSION).contains(&version) {
            return Err(ModelError::Version {
                path: name.to_string(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let body = unseal(bytes, name)?;
        let mut r = Reader {
            b: body,
            pos: r.pos,
        };
        let short = || corrupt("cut short");
        let bits = r.u32().ok_or_else(short)?;
        if !(10..=26).contains(&bits) {
            return Err(corrupt("hash size out of range"));
        }
        let set_bits = r.u32().ok_or_else(short)?;
        // A feature group this code does not know would silently go
        // unextracted and its weights unread: refuse the file instead.
        if set_bits & !FeatureSet::KNOWN_BITS != 0 {
            return Err(corrupt(
                "unknown feature groups: written by a newer spamtrace?",
            ));
        }
        let set = FeatureSet::from_bits(set_bits);
        let loss = match r.u32().ok_or_else(short)? {
            0 => Loss::Logistic,
            1 => Loss::Hinge,
            _ => return Err(corrupt("unknown loss")),
        };
        let learning_rate = r.f32().ok_or_else(short)?;
        let calibration = Calibration {
            a: r.f32().ok_or_else(short)?,
            b: r.f32().ok_or_else(short)?,
        };
        let thresholds = Thresholds {
            spam: r.f32().ok_or_else(short)?,
            ham: r.f32().ok_or_else(short)?,
        };
        let updates = r.u64().ok_or_else(short)?;
        let nonzero = r.u32().ok_or_else(short)? as usize;
        let size = 1usize << bits;
        if nonzero > size {
            return Err(corrupt("more weights than slots"));
        }
        let mut table = vec![Entry::EMPTY; size];
        let mut slot = 0u64;
        for _ in 0..nonzero {
            slot += r.varint().ok_or_else(short)? as u64;
            let w = r.f32().ok_or_else(short)?;
            if slot as usize >= size || !w.is_finite() {
                return Err(corrupt("weight out of range"));
            }
            table[slot as usize].weight = w;
        }
        // Versions 2 and 3 have no IDF: every scale is 1.
        let doc_freq = match version {
            2 | 3 => None,
            _ => match r.u8().ok_or_else(short)? {
                0 => None,
                1 => {
                    let docs = r.u32().ok_or_else(short)?;
                    let reference = r.u32().ok_or_else(short)?;
                    if reference > docs {
                        return Err(corrupt("IDF reference count above the message count"));
                    }
                    // Versions 4 and 5 scale by the IDF itself.
                    let power = match version {
                        4 | 5 => 1.0,
                        _ => r.f32().ok_or_else(short)?,
                    };
                    if !(power.is_finite() && power > 0.0 && power <= MAX_IDF_POWER) {
                        return Err(corrupt("IDF power out of range"));
                    }
                    let seen = r.u32().ok_or_else(short)? as usize;
                    if seen > size {
                        return Err(corrupt("more document frequencies than slots"));
                    }
                    let mut counts = vec![0u32; size];
                    let mut slot = 0u64;
                    for _ in 0..seen {
                        slot += r.varint().ok_or_else(short)? as u64;
                        let c = r.varint().ok_or_else(short)?;
                        if slot as usize >= size {
                            return Err(corrupt("document frequency out of range"));
                        }
                        counts[slot as usize] = c;
                    }
                    Some(DocFreq::new(counts, docs, reference, set, bits, power))
                }
                _ => return Err(corrupt("bad IDF flag")),
            },
        };
        let count = r.u32().ok_or_else(short)? as usize;
        if count > body.len() / 13 {
            return Err(corrupt("trained-message table larger than the file"));
        }
        let mut trained = HashMap::with_capacity(count);
        for _ in 0..count {
            let key = r.u64().ok_or_else(short)?;
            let label = match r.u8().ok_or_else(short)? {
                1 => Label::Spam,
                0 => Label::Ham,
                _ => return Err(corrupt("bad label")),
            };
            let step = r.f32().ok_or_else(short)?;
            trained.insert(key, TrainedMessage { label, step });
        }
        // Version 2 files end here: the linear model alone.
        let tokens = if version == 2 {
            None
        } else {
            match r.u8().ok_or_else(short)? {
                0 => None,
                1 => {
                    let mut pos = r.pos;
                    let t = TokenModel::read(body, &mut pos, bits).map_err(corrupt)?;
                    r.pos = pos;
                    t.prepare();
                    Some(t)
                }
                _ => return Err(corrupt("bad token model flag")),
            }
        };
        if r.pos != body.len() {
            return Err(corrupt("trailing bytes"));
        }
        let finite = [
            learning_rate,
            calibration.a,
            calibration.b,
            thresholds.spam,
            thresholds.ham,
        ];
        if let Some(df) = &doc_freq {
            df.set_scales(&mut table);
        }
        if finite.iter().any(|f| !f.is_finite()) {
            return Err(corrupt("non-finite settings"));
        }
        if !thresholds.is_valid() {
            return Err(corrupt(
                "verdict thresholds outside [0, 1] or ham above spam",
            ));
        }
        Ok(Model {
            bits,
            featurizer: Featurizer::new(set),
            table,
            doc_freq,
            learning_rate,
            incremental_rate: learning_rate * ModelConfig::default().passes as f32,
            loss,
            calibration,
            thresholds,
            trained,
            updates,
            tokens,
        })
    }
}

/// The value of each present feature in a message with `n` features (no IDF).
#[inline]
fn feature_value(n: usize) -> f32 {
    1.0 / (n.max(1) as f32).sqrt()
}

fn square(x: f32) -> f32 {
    x * x
}

/// The sums of the weights and of the squared scales of `slots`, in one
/// pass over the table, with four accumulators each so that the
/// independent table lookups overlap. (Without IDF the squares go unused.)
#[inline]
fn sum_weights_and_scales(table: &[Entry], slots: &[u32]) -> (f32, f32) {
    let mut acc = [0.0f32; 4];
    let mut sq = [0.0f32; 4];
    let chunks = slots.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            let e = table[c[k] as usize];
            acc[k] += e.weight;
            sq[k] += e.scale2;
        }
    }
    for &s in rest {
        let e = table[s as usize];
        acc[0] += e.weight;
        sq[0] += e.scale2;
    }
    (
        (acc[0] + acc[1]) + (acc[2] + acc[3]),
        (sq[0] + sq[1]) + (sq[2] + sq[3]),
    )
}

/// Give a slot a new scale, keeping its learnt weight (the table holds
/// weight times scale).
#[inline]
fn rescale(e: &mut Entry, scale: f32) {
    // Unchanged (sqrt of a square need not give the scale back exactly).
    if e.scale2 == scale * scale {
        return;
    }
    if e.weight != 0.0 {
        e.weight *= scale / e.scale2.sqrt();
    }
    e.scale2 = scale * scale;
}

fn slot_bits(s: &Slots) -> u32 {
    s.bits()
}

/// The key of a message in the trained-message table: the first 8 bytes of
/// its SHA-256 (hex). None when the analysis carries no hash.
fn message_key(sha256_hex: &str) -> Option<u64> {
    let prefix = sha256_hex.get(..16)?;
    u64::from_str_radix(prefix, 16).ok()
}

/// A model file (of either kind) must start with its magic.
pub(crate) fn check_magic(bytes: &[u8], magic: &[u8; 8], name: &str) -> Result<(), ModelError> {
    match bytes.starts_with(magic) {
        true => Ok(()),
        false => Err(ModelError::BadMagic {
            path: name.to_string(),
        }),
    }
}

/// Append the SHA-256 of everything written: a model file's trailer.
pub(crate) fn seal(b: &mut Vec<u8>) {
    let digest = Sha256::digest(&b);
    b.extend_from_slice(&digest);
}

/// The body of a model file without its SHA-256 trailer, once the trailer
/// matches (a file cut short or altered is an error, never a default).
pub(crate) fn unseal<'a>(bytes: &'a [u8], name: &str) -> Result<&'a [u8], ModelError> {
    let corrupt = |what: &str| ModelError::Corrupt {
        path: name.to_string(),
        what: what.to_string(),
    };
    // The magic, a version and the trailer at least.
    if bytes.len() < 8 + 4 + 32 {
        return Err(corrupt("cut short"));
    }
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body).as_slice() != digest {
        return Err(corrupt("checksum mismatch"));
    }
    Ok(body)
}

/// LEB128: 7 bits a byte, low first (the model file's counts and slot gaps).
pub(crate) fn put_varint(b: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        b.push((v as u8) | 0x80);
        v >>= 7;
    }
    b.push(v as u8);
}

/// Reads the model file's fields; `None` when the file is cut short.
pub(crate) struct Reader<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.pos..self.pos.checked_add(N)?)?;
        self.pos += N;
        s.try_into().ok()
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    pub(crate) fn f32(&mut self) -> Option<f32> {
        self.take().map(f32::from_le_bytes)
    }
    pub(crate) fn varint(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for shift in (0..35).step_by(7) {
            let byte = self.u8()?;
            v |= ((byte & 0x7f) as u32).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

/// A message's extracted features: every slot (the linear model reads all),
/// of which the first `token_slots` are the token model's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Distinct feature slots, the token model's first.
    pub slots: Vec<u32>,
    /// How many of `slots` the token model reads.
    pub token_slots: usize,
}

/// The token model reads a subset of the model's features.
fn restrict_tokens(t: TokenModelConfig, features: FeatureSet) -> TokenModelConfig {
    TokenModelConfig {
        features: FeatureSet::from_bits(t.features.to_bits() & features.to_bits()),
        ..t
    }
}

impl Model {
    /// Extract a message's features into `sink`: the token model's groups
    /// first, then the rest of the model's groups (the same features, in the
    /// same order, as one pass over the model's set when the token set is
    /// the model's set minus the character 4-grams, which come last).
    /// Returns how many features came from the token model's pass.
    fn extract_split<S: crate::features::Sink>(&self, a: &Analysis, sink: &mut S) -> usize {
        match &self.tokens {
            None => {
                self.featurizer.extract(a, sink);
                0
            }
            Some(t) => {
                let main = self.featurizer.set;
                // Both passes read their groups as the single pass does.
                let first = Featurizer {
                    set: t.config.features.with_options_of(main),
                    limits: self.featurizer.limits,
                };
                first.extract(a, sink);
                let k = sink.len();
                let rest = FeatureSet::from_bits(main.to_bits() & !first.set.to_bits());
                Featurizer {
                    set: rest.with_options_of(main),
                    limits: self.featurizer.limits,
                }
                .extract(a, sink);
                k
            }
        }
    }

    fn with_features<R>(&self, a: &Analysis, f: impl FnOnce(&[u32], usize) -> R) -> R {
        if self.tokens.is_none() {
            return self.with_slots(a, |s| f(s, 0));
        }
        self.with_scratch(|slots| {
            let k = self.extract_split(a, slots);
            f(&slots.slots, k)
        })
    }

    /// The ensemble's raw score: the linear model's log-odds plus the token
    /// model's weighted score of the first `token_slots` slots.
    #[inline]
    fn log_odds_of_split(&self, slots: &[u32], token_slots: usize) -> f32 {
        let linear = self.log_odds_of_slots(slots);
        match &self.tokens {
            Some(t) => linear + t.config.weight * t.score(&slots[..token_slots]),
            None => linear,
        }
    }

    /// The raw (uncalibrated) score of already extracted features, as
    /// [`Model::log_odds`] computes it.
    pub fn log_odds_of_features(&self, features: &Features) -> f32 {
        self.log_odds_of_split(&features.slots, features.token_slots)
    }

    /// Extract a message's features once (for experiments and batch training
    /// that featurize once and train or score many times).
    pub fn features_of(&self, a: &Analysis) -> Features {
        self.with_features(a, |s, k| Features {
            slots: s.to_vec(),
            token_slots: k,
        })
    }

    /// A fresh model with the optional second learner, the token model
    /// (`tokens.rs`), whose score is added to the linear model's; `None`
    /// is [`Model::new`]. Off in the shipped configuration: the ensemble won
    /// every validation inside the training half but ranked the test half
    /// far worse (README, "Second round").
    pub fn with_token_model(config: ModelConfig, tokens: Option<TokenModelConfig>) -> Model {
        let mut m = Model::new(config);
        m.tokens = tokens.map(|t| TokenModel::new(restrict_tokens(t, config.features), m.bits));
        m
    }

    /// The token model's settings, if the model has one.
    pub fn token_model(&self) -> Option<TokenModelConfig> {
        self.tokens.as_ref().map(|t| t.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spamtrace_mail::HeaderField;

    fn msg(sha: &str, subject: &str, text: &str) -> Analysis {
        Analysis {
            sha256: format!("{sha:0<64}"),
            subject: Some(subject.into()),
            text: text.into(),
            headers: vec![HeaderField {
                name: "Subject".into(),
                value: subject.into(),
            }],
            ..Default::default()
        }
    }

    fn small_model() -> Model {
        Model::new(ModelConfig {
            hash_bits: 16,
            ..Default::default()
        })
    }

    #[test]
    fn learns_to_separate_spam_and_ham() {
        let mut m = small_model();
        for i in 0..30 {
            m.train(
                &msg(
                    &format!("a{i:02}"),
                    "cheap viagra",
                    "buy cheap viagra pills now",
                ),
                Label::Spam,
            );
            m.train(
                &msg(
                    &format!("b{i:02}"),
                    "meeting notes",
                    "the meeting notes from tuesday",
                ),
                Label::Ham,
            );
        }
        let spam = m.classify(&msg("c1", "viagra pills", "cheap pills"));
        let ham = m.classify(&msg("c2", "notes", "notes from the meeting"));
        assert!(
            spam.log_odds > 0.0 && ham.log_odds < 0.0,
            "{spam:?} {ham:?}"
        );
        assert_eq!(spam.kind, Some(ScamKind::Pharmacy));
        let why = m.explain(&msg("c1", "viagra pills", "cheap pills"), 100);
        assert!(why.len() > 5);
        assert!(
            why.iter()
                .any(|c| c.feature.contains("viagra") && c.weight > 0.0),
            "{why:?}"
        );
        assert!(
            why.windows(2)
                .all(|w| w[0].weight.abs() >= w[1].weight.abs())
        );
    }

    #[test]
    fn a_message_learnt_alone_steps_as_far_as_all_the_batch_passes() {
        let spam = msg("f1", "cheap pills", "buy cheap pills today");
        let config = |learning_rate, passes| ModelConfig {
            hash_bits: 16,
            learning_rate,
            passes,
            idf: false,
            ..ModelConfig::default()
        };
        let mut five = Model::new(config(0.5, 5));
        let mut one = Model::new(config(2.5, 1));
        assert!(five.train(&spam, Label::Spam) && one.train(&spam, Label::Spam));
        assert_eq!(five.log_odds(&spam), one.log_odds(&spam));
        assert!(five.log_odds(&spam) > 0.0);
        // A loaded model takes the default passes.
        let mut loaded = Model::from_bytes(&Model::new(config(0.5, 5)).to_bytes(), "t").unwrap();
        loaded.train(&spam, Label::Spam);
        assert_eq!(loaded.log_odds(&spam), five.log_odds(&spam));
    }

    #[test]
    fn batch_training_is_idempotent_and_relabel_undoes_every_pass() {
        let mut m = small_model();
        let spam = msg("e1", "cheap pills", "buy cheap pills today");
        let ham = msg("e2", "lunch", "see you at lunch tomorrow");
        let item = |m: &Model, a: &Analysis, l| (Model::message_key(a), m.features_of(a), l);
        let batch = vec![item(&m, &spam, Label::Spam), item(&m, &ham, Label::Ham)];
        m.train_batch(&batch, 5);
        let (s1, h1) = (m.log_odds(&spam), m.log_odds(&ham));
        assert!(s1 > 0.0 && h1 < 0.0, "{s1} {h1}");
        // The same batch again changes nothing.
        m.train_batch(&batch, 5);
        assert_eq!((m.log_odds(&spam), m.log_odds(&ham)), (s1, h1));
        // Relabelling the spam as ham first removes all five passes' steps.
        let before = m.clone();
        m.train_batch(&[item(&m, &spam, Label::Ham)], 1);
        assert!(m.log_odds(&spam) < 0.0, "{}", m.log_odds(&spam));
        assert_eq!(m.trained_messages(), before.trained_messages());
        // A message twice in one batch is learnt once.
        let mut once = small_model();
        once.train_batch(&[item(&once, &ham, Label::Ham)], 1);
        let mut twice = small_model();
        twice.train_batch(
            &[
                item(&twice, &ham, Label::Ham),
                item(&twice, &ham, Label::Ham),
            ],
            1,
        );
        assert_eq!(once.log_odds(&ham), twice.log_odds(&ham));
    }

    #[test]
    fn hinge_steps_only_inside_the_margin() {
        // Without IDF every feature has the same scale, so each step moves
        // the score by exactly the learning rate.
        let mut m = Model::new(ModelConfig {
            hash_bits: 16,
            idf: false,
            ..Default::default()
        });
        assert_eq!(m.loss, Loss::Hinge);
        let a = msg("f1", "x", "alpha beta gamma");
        let slots = m.slots_of(&a);
        let mut steps = 0;
        for _ in 0..100 {
            if m.learn_slots(&slots, Label::Spam, 0.5) != 0.0 {
                steps += 1;
            }
        }
        // log-odds grow by 0.5 per step (unit-length features) until >= 1.
        assert_eq!(steps, 2);
        assert!(m.log_odds(&a) >= 1.0);
    }

    #[test]
    fn thresholds_are_chosen_from_held_out_scores() {
        // 1000 ham spread over [0, 0.5) plus one outlier ham at 0.95; spam over [0.4, 1).
        let mut pts: Vec<(f32, bool)> = (0..1000).map(|i| (i as f32 / 2000.0, false)).collect();
        pts.push((0.95, false));
        pts.extend((0..200).map(|i| (0.4 + i as f32 * 0.003, true)));
        let t = Thresholds::choose(&pts, 0.001, 0.01);
        // One ham in 1001 may pass (the outlier): the next ham sets the bar.
        assert!(t.spam > 0.4995 && t.spam < 0.501, "{t:?}");
        let fp = pts.iter().filter(|p| !p.1 && p.0 >= t.spam).count();
        assert!(fp <= 1);
        let fn_ = pts.iter().filter(|p| p.1 && p.0 <= t.ham).count();
        assert!(fn_ <= 2, "{t:?}");
        assert!(t.ham <= t.spam);
        // No data on one side: the defaults.
        assert_eq!(
            Thresholds::choose(&pts[..10], 0.001, 0.01),
            Thresholds::default()
        );
    }

    #[test]
    fn training_twice_is_harmless_and_relabel_undoes() {
        let mut m = small_model();
        let a = msg("d1", "hello there", "some words in a message");
        assert!(m.train(&a, Label::Spam));
        let after_once = m.log_odds(&a);
        assert!(
            !m.train(&a, Label::Spam),
            "second identical training must be a no-op"
        );
        assert_eq!(m.log_odds(&a), after_once);
        // Relabel: the spam step is undone, then ham is learnt from zero.
        assert!(m.train(&a, Label::Ham));
        let mut fresh = small_model();
        fresh.train(&a, Label::Ham);
        assert!((m.log_odds(&a) - fresh.log_odds(&a)).abs() < 1e-5);
        assert_eq!(m.trained_messages(), 1);
    }

    #[test]
    fn save_load_round_trip_and_corruption_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("model.bin");
        let mut m = small_model();
        m.train(&msg("e1", "cheap pills", "buy pills"), Label::Spam);
        m.train(&msg("e2", "lunch", "see you at noon"), Label::Ham);
        m.calibration = Calibration { a: 0.5, b: -1.0 };
        m.thresholds = Thresholds {
            spam: 0.8,
            ham: 0.2,
        };
        m.save(&path).unwrap();
        let back = Model::load(&path).unwrap();
        assert_eq!(back.table, m.table);
        assert_eq!(back.trained, m.trained);
        assert_eq!(back.calibration, m.calibration);
        assert_eq!(back.thresholds, m.thresholds);
        assert_eq!(back.to_bytes(), m.to_bytes());
        // No temporary files left behind.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );

        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 5, 12, 40, bytes.len() / 2, bytes.len() - 1] {
            let err = Model::from_bytes(&bytes[..cut], "m").unwrap_err();
            assert!(
                matches!(
                    err,
                    ModelError::BadMagic { .. } | ModelError::Corrupt { .. }
                ),
                "cut {cut}: {err}"
            );
        }
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 1;
        assert!(matches!(
            Model::from_bytes(&flipped, "m"),
            Err(ModelError::Corrupt { .. })
        ));
        // Feature bits this code does not know (checksum made to match).
        let mut unknown = bytes.clone();
        unknown[19] |= 0x80;
        let n = unknown.len();
        let digest = Sha256::digest(&unknown[..n - 32]);
        unknown[n - 32..].copy_from_slice(&digest);
        let err = Model::from_bytes(&unknown, "m").unwrap_err();
        assert!(err.to_string().contains("unknown feature groups"), "{err}");
        let mut other_version = bytes.clone();
        other_version[8] = 99;
        assert!(matches!(
            Model::from_bytes(&other_version, "m"),
            Err(ModelError::Version { found: 99, .. })
        ));
        assert!(matches!(
            Model::from_bytes(b"hello world, not a model at all", "m"),
            Err(ModelError::BadMagic { .. })
        ));
        let missing = Model::load(&dir.path().join("nope.bin"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.bin"), "{missing}");
    }

    #[test]
    fn builtin_model_loads_and_scores() {
        let m = Model::builtin();
        assert!(m.updates() > 0, "the shipped model must be trained");
        let c = m.classify(&msg("f1", "hi", "hello"));
        assert!((0.0..=1.0).contains(&c.score));
    }

    #[test]
    fn calibration_fit_recovers_a_known_mapping() {
        // Labels drawn deterministically so that P(spam | x) = sigmoid(2x - 1).
        let mut pts = Vec::new();
        for i in 0..4000 {
            let x = (i % 400) as f32 / 50.0 - 4.0;
            let p = 1.0 / (1.0 + (-(2.0 * x - 1.0)).exp());
            let u =
                ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f32 / (1u64 << 24) as f32;
            pts.push((x, u < p));
        }
        let c = Calibration::fit(&pts);
        assert!((c.a - 2.0).abs() < 0.3 && (c.b + 1.0).abs() < 0.3, "{c:?}");
        assert_eq!(Calibration::fit(&[(1.0, true)]), Calibration::default());
    }

    #[test]
    fn thresholds_make_verdicts() {
        let t = Thresholds::default();
        assert_eq!(t.verdict(0.95), Verdict::Spam);
        assert_eq!(t.verdict(0.5), Verdict::Unsure);
        assert_eq!(t.verdict(0.01), Verdict::Ham);
        assert_eq!(Verdict::parse("UNSURE"), Some(Verdict::Unsure));
        assert!(t.is_valid());
        let equal = Thresholds {
            spam: 0.5,
            ham: 0.5,
        };
        assert!(equal.is_valid());
        assert_eq!(equal.verdict(0.5), Verdict::Spam);
        for (spam, ham) in [(0.4, 0.6), (1.5, 0.1), (0.9, -0.1), (f32::NAN, 0.1)] {
            assert!(!Thresholds { spam, ham }.is_valid(), "{spam} {ham}");
        }
    }

    #[test]
    fn a_model_file_with_thresholds_out_of_range_is_an_error() {
        let mut m = small_model();
        m.thresholds = Thresholds {
            spam: 0.2,
            ham: 0.8,
        };
        let err = Model::from_bytes(&m.to_bytes(), "m").unwrap_err();
        assert!(err.to_string().contains("thresholds"), "{err}");
    }

    // The token model.

    fn model(token_model: Option<TokenModelConfig>) -> Model {
        // With character 4-grams, which the token model leaves out, so that
        // its features are a part of the linear model's.
        let config = ModelConfig {
            hash_bits: 16,
            features: FeatureSet {
                char4: true,
                ..FeatureSet::DEFAULT
            },
            ..Default::default()
        };
        Model::with_token_model(config, token_model)
    }

    #[test]
    fn token_features_come_first_and_match_one_pass_extraction() {
        let with = model(Some(TokenModelConfig::DEFAULT));
        let without = model(None);
        let a = msg(
            "a1",
            "Cheap pills!",
            "buy cheap pills online today, best prices 2002",
        );
        let f = with.features_of(&a);
        assert!(f.token_slots > 3 && f.token_slots < f.slots.len(), "{f:?}");
        // The same feature set as the single pass of the linear model alone.
        let same_as_one_pass = |with: &Model, without: &Model, a: &Analysis| {
            let mut split = with.features_of(a).slots;
            let mut single = without.slots_of(a);
            split.sort_unstable();
            single.sort_unstable();
            assert_eq!(split, single);
        };
        same_as_one_pass(&with, &without, &a);
        // Also where the options that change how groups are read (here the
        // list footer left out, which the 4-grams of the second pass must
        // leave out too) are at work.
        let mut post = msg(
            "a2",
            "[ILUG] cheap pills",
            "cheap pills here\n-- \nIrish Linux Users' Group: ilug@linux.ie\n\
             http://www.linux.ie/mailman/listinfo/ilug for (un)subscription information.",
        );
        post.headers.push(HeaderField {
            name: "List-Id".into(),
            value: "<ilug.linux.ie>".into(),
        });
        same_as_one_pass(&with, &without, &post);
    }

    #[test]
    fn relabel_moves_token_counts_and_explain_names_them() {
        let mut m = model(Some(TokenModelConfig::DEFAULT));
        for i in 0..10 {
            m.train(
                &msg(&format!("aa{i}"), "cheap pills", "buy cheap pills"),
                Label::Spam,
            );
            m.train(
                &msg(&format!("bb{i}"), "lunch", "see you at lunch"),
                Label::Ham,
            );
        }
        let probe = msg("p1", "pills", "cheap pills");
        assert!(m.log_odds(&probe) > 0.0);
        let why = m.explain(&probe, 5);
        assert!(
            why.iter()
                .any(|c| c.feature.contains("spam,") && c.weight > 0.0),
            "{why:?}"
        );
        // Relabelling every spam as ham leaves no spam counts behind.
        for i in 0..10 {
            m.train(
                &msg(&format!("aa{i}"), "cheap pills", "buy cheap pills"),
                Label::Ham,
            );
        }
        let t = m.tokens.as_ref().unwrap();
        let (_, spam, _) = t.evidence(m.features_of(&probe).slots[0]);
        assert_eq!(spam, 0);
    }

    #[test]
    fn version_2_files_are_read_as_the_linear_model_alone() {
        let mut m = Model::new(ModelConfig {
            hash_bits: 16,
            idf: false,
            ..Default::default()
        });
        m.train(&msg("v1", "cheap pills", "buy pills"), Label::Spam);
        let v4 = m.to_bytes();
        // Without IDF, a version 4 file is a version 3 file plus the IDF
        // flag byte after the weights.
        let flag = idf_flag_offset(&m);
        assert_eq!(v4[flag], 0);
        let mut v3 = v4[..flag].to_vec();
        v3.extend_from_slice(&v4[flag + 1..v4.len() - 32]);
        v3[8..12].copy_from_slice(&3u32.to_le_bytes());
        // A version 2 file: no token section flag either.
        let mut v2 = v3[..v3.len() - 1].to_vec();
        v2[8..12].copy_from_slice(&2u32.to_le_bytes());
        for (name, mut file) in [("v3", v3), ("v2", v2)] {
            let digest = Sha256::digest(&file);
            file.extend_from_slice(&digest);
            let back = Model::from_bytes(&file, name).unwrap();
            assert!(back.token_model().is_none());
            assert!(back.doc_freq.is_none());
            assert_eq!(back.table, m.table);
            assert_eq!(back.to_bytes(), m.to_bytes());
        }
        // A version 3 file with a token model survives a round trip.
        let mut t = model(Some(TokenModelConfig::DEFAULT));
        t.train(&msg("v2", "lunch", "see you"), Label::Ham);
        let back = Model::from_bytes(&t.to_bytes(), "v3").unwrap();
        assert_eq!(back.to_bytes(), t.to_bytes());
        assert_eq!(back.token_model(), t.token_model());
        // A bad token flag is corruption, not a default.
        let mut bad = t.to_bytes();
        let n = bad.len();
        bad[token_flag_offset(&t)] = 7;
        let digest = Sha256::digest(&bad[..n - 32]);
        bad[n - 32..].copy_from_slice(&digest);
        assert!(matches!(
            Model::from_bytes(&bad, "m"),
            Err(ModelError::Corrupt { .. })
        ));
    }

    /// Where the token section flag sits in `m.to_bytes()`: the same bytes
    /// precede it in the linear-only file, which ends with it.
    fn token_flag_offset(m: &Model) -> usize {
        let mut without = m.clone();
        without.tokens = None;
        without.to_bytes().len() - 33
    }

    /// Where the IDF flag sits in `m.to_bytes()`: right after the weights.
    fn idf_flag_offset(m: &Model) -> usize {
        let nonzero = m.table.iter().filter(|e| e.weight != 0.0).count();
        // magic, version, bits, features, loss, 5 f32 settings, updates, count.
        let mut at = 8 + 4 * 4 + 5 * 4 + 8 + 4;
        let mut last = 0u32;
        for (i, e) in m.table.iter().enumerate() {
            if e.weight != 0.0 {
                let mut v = Vec::new();
                put_varint(&mut v, i as u32 - last);
                last = i as u32;
                at += v.len() + 4;
            }
        }
        assert!(nonzero > 0);
        at
    }

    // IDF scaling.

    #[test]
    fn light_groups_count_half_their_idf_in_memory_and_on_disk() {
        light_groups_count_half(FeatureSet::DEFAULT, |f| f.starts_with("subject has"));
        // Word pairs light too (`lightbigrams`): the table is cut in half.
        light_groups_count_half(
            FeatureSet {
                light_bigrams: true,
                ..FeatureSet::DEFAULT
            },
            |f| f.starts_with("subject has") || f.starts_with("words \""),
        );
    }

    fn light_groups_count_half(set: FeatureSet, is_light: fn(&str) -> bool) {
        let mut m = Model::new(ModelConfig {
            hash_bits: 16,
            features: set,
            ..Default::default()
        });
        assert!(m.featurizer.set.light_subject_grams);
        for i in 0..40 {
            let (subject, label) = match i % 2 {
                0 => ("cheap pills today", Label::Spam),
                _ => ("meeting notes", Label::Ham),
            };
            m.train(&msg(&format!("l{i:02}"), subject, "common words"), label);
        }
        let probe = msg("q", "cheap pills now", "common words");
        let mut d = Describe::new(m.bits);
        m.featurizer.extract(&probe, &mut d);
        let df = m.doc_freq.as_ref().unwrap();
        let (mut light, mut plain) = (0, 0);
        for (slot, feature) in &d.features {
            let s = *slot as usize;
            let idf = idf_of(df.counts[s], df.reference);
            if is_light(feature) {
                assert_eq!(
                    m.table[s].scale2,
                    square(idf * LIGHT_FEATURE_SCALE),
                    "{feature}"
                );
                light += 1;
            } else {
                assert_eq!(m.table[s].scale2, idf * idf, "{feature}");
                plain += 1;
            }
        }
        assert!(light > 5 && plain > 3, "{light} {plain}");
        let back = Model::from_bytes(&m.to_bytes(), "m").unwrap();
        assert_eq!(back.featurizer.set, set);
        assert!(back.doc_freq == m.doc_freq);
        assert_eq!(back.log_odds(&probe), m.log_odds(&probe));
        assert!(m.log_odds(&probe) > 0.0);
    }

    #[test]
    fn idf_weighs_rare_features_above_common_ones_and_survives_a_round_trip() {
        let idf_model = || {
            Model::new(ModelConfig {
                hash_bits: 16,
                idf: true,
                ..Default::default()
            })
        };
        let mut m = idf_model();
        // "common" is in every message, the topic words in a few.
        for i in 0..40 {
            let (subject, text, label) = match i % 2 {
                0 => ("pills", "common cheap pills offer", Label::Spam),
                _ => ("notes", "common meeting notes agenda", Label::Ham),
            };
            m.train(&msg(&format!("c{i:02}"), subject, text), label);
        }
        let df = m.doc_freq.as_ref().unwrap();
        assert_eq!(df.docs, 40);
        // Trained one by one, the scales are refreshed every 16 messages
        // and kept exact for the counted slots in between.
        assert_eq!(df.reference, 32);
        let slot = |m: &Model, word: &str| {
            let mut d = Describe::new(m.bits);
            m.featurizer.extract(&msg("p", "", word), &mut d);
            d.features
                .iter()
                .find(|(_, f)| f.contains(word))
                .map(|(s, _)| *s as usize)
                .unwrap()
        };
        let (common, rare) = (slot(&m, "common"), slot(&m, "pills"));
        assert_eq!(df.counts[common], 40);
        assert_eq!(df.counts[rare], 20);
        assert!(m.table[common].scale2 < m.table[rare].scale2);
        for s in [common, rare] {
            let idf = idf_of(df.counts[s], df.reference);
            assert_eq!(m.table[s].scale2, idf * idf);
        }
        // A saved model scores exactly as the one in memory.
        let back = Model::from_bytes(&m.to_bytes(), "m").unwrap();
        assert!(back.table == m.table);
        assert!(back.doc_freq == m.doc_freq);
        let probe = msg("q", "pills", "cheap pills");
        assert_eq!(back.log_odds(&probe), m.log_odds(&probe));
        assert!(m.log_odds(&probe) > 0.0);
        // A reference count above the message count is corruption (and
        // would otherwise underflow the refresh rule).
        let mut bad = m.to_bytes();
        let flag = idf_flag_offset(&m);
        assert_eq!(bad[flag], 1);
        bad[flag + 5..flag + 9].copy_from_slice(&41u32.to_le_bytes());
        let n = bad.len();
        let digest = Sha256::digest(&bad[..n - 32]);
        bad[n - 32..].copy_from_slice(&digest);
        assert!(matches!(
            Model::from_bytes(&bad, "m"),
            Err(ModelError::Corrupt { .. })
        ));
        // Relabelling does not count a message twice; training the same
        // label again changes nothing.
        let before = m.doc_freq.clone();
        let first = msg("c00", "pills", "common cheap pills offer");
        assert!(m.train(&first, Label::Ham));
        assert!(m.doc_freq == before, "a relabel must not count again");
        let w = m.table.clone();
        assert!(!m.train(&first, Label::Ham));
        assert!(m.table == w);
        // A batch counts every message before its first step: one refresh.
        let mut b = idf_model();
        let batch: Vec<_> = (0..10)
            .map(|i| {
                let a = msg(&format!("j{i}"), "x", &format!("word{i} shared"));
                (Model::message_key(&a), b.features_of(&a), Label::Ham)
            })
            .collect();
        b.train_batch(&batch, 2);
        let df = b.doc_freq.as_ref().unwrap();
        assert_eq!((df.docs, df.reference), (10, 10));
    }

    #[test]
    fn idf_power_scales_by_the_powered_idf_and_older_files_read_as_power_one() {
        let trained = |idf_power: f32| {
            let mut m = Model::new(ModelConfig {
                hash_bits: 16,
                idf_power,
                ..Default::default()
            });
            for i in 0..40 {
                let (text, label) = match i % 2 {
                    0 => ("common cheap pills offer", Label::Spam),
                    _ => ("common meeting notes agenda", Label::Ham),
                };
                m.train(&msg(&format!("p{i:02}"), "", text), label);
            }
            m
        };
        let (plain, powered) = (trained(1.0), trained(1.5));
        let probe = msg("q", "", "common cheap pills");
        let mut d = Describe::new(powered.bits);
        powered.featurizer.extract(&probe, &mut d);
        let df = powered.doc_freq.as_ref().unwrap();
        for (slot, feature) in &d.features {
            let s = *slot as usize;
            let idf = idf_of(df.counts[s], df.reference).powf(1.5);
            assert_eq!(powered.table[s].scale2, idf * idf, "{feature}");
        }
        // The power moves the scores, and is kept on disk.
        assert_ne!(plain.log_odds(&probe), powered.log_odds(&probe));
        let back = Model::from_bytes(&powered.to_bytes(), "m").unwrap();
        assert!(back.doc_freq == powered.doc_freq);
        assert_eq!(back.log_odds(&probe), powered.log_odds(&probe));
        // A version 5 file (no power after the reference count) reads as
        // the power 1 it was written with.
        let v6 = plain.to_bytes();
        let flag = idf_flag_offset(&plain);
        assert_eq!(v6[flag + 9..flag + 13], 1.0f32.to_le_bytes());
        let mut v5 = v6[..flag + 9].to_vec();
        v5.extend_from_slice(&v6[flag + 13..v6.len() - 32]);
        v5[8..12].copy_from_slice(&5u32.to_le_bytes());
        let digest = Sha256::digest(&v5);
        v5.extend_from_slice(&digest);
        let back = Model::from_bytes(&v5, "v5").unwrap();
        assert!(back.table == plain.table);
        assert_eq!(back.to_bytes(), v6);
        // A power that is not a sane positive number is corruption.
        for power in [0.0f32, -1.0, f32::NAN, MAX_IDF_POWER * 2.0] {
            let mut bad = v6.clone();
            bad[flag + 9..flag + 13].copy_from_slice(&power.to_le_bytes());
            let n = bad.len();
            let digest = Sha256::digest(&bad[..n - 32]);
            bad[n - 32..].copy_from_slice(&digest);
            assert!(
                matches!(
                    Model::from_bytes(&bad, "m"),
                    Err(ModelError::Corrupt { .. })
                ),
                "{power}"
            );
        }
    }
}
