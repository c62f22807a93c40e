//! The second learner of the ensemble: a token model in the manner of
//! bogofilter and SpamBayes. Per feature slot it counts the spam and ham
//! messages that had the feature; a message's features get Robinson's
//! smoothed spam probabilities `f`, which Fisher's method combines into two
//! chi-square tail probabilities (how unlike chance the features' hamminess
//! and spamminess are). The score is the log ratio of the two tails, which
//! unlike bogofilter's spamicity never saturates at 0 or 1, so it still
//! ranks the messages bogofilter would call 0.000 or 1.000.
//!
//! Why a second learner: counting learners make different mistakes from
//! margin learners (a feature seen in a few spam and no ham is strong
//! evidence here however little the hinge model moved it). On every
//! validation inside the training half of the SpamAssassin split (README,
//! `examples/tune.rs` with `EXP=1`) the sum of both ranked better than the
//! hinge model alone (chronological (1-ROCA)% 0.054 vs 0.132), but on the
//! test half, evaluated once, far worse (1.857 vs 0.582): it is therefore
//! **off** in the shipped configuration, available through
//! [`crate::Model::with_token_model`] for experiments.
//!
//! It reads the same hashed features as the linear model except the character
//! 4-grams ([`TokenModelConfig::features`]): thousands of overlapping 4-grams
//! per message are far from the independent evidence Fisher's method assumes,
//! and with them it ranked worse (0.134).
//!
//! Counting makes training exact to undo: relabelling a message moves its
//! counts from one label to the other.

use crate::features::FeatureSet;
use crate::model::{Reader, put_varint};
use spamtrace_mail::Label;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Scorings without the table after which it is built: building costs about
/// as much as computing this many messages' probabilities on the fly, so a
/// model that learns between every two messages (the online protocol) never
/// pays for it, and one that classifies a whole archive pays once.
const BUILD_TABLE_AFTER: u32 = 512;

/// Settings of the token model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenModelConfig {
    /// The features it counts: a subset of the model's features, extracted
    /// first (the rest follow for the linear model).
    pub features: FeatureSet,
    /// Robinson's strength `s` of the prior for rarely seen features
    /// (bogofilter's `robs`).
    pub robs: f32,
    /// Robinson's prior spam probability `x` of an unseen feature
    /// (bogofilter's `robx`).
    pub robx: f32,
    /// How much of the token score is added to the linear model's log-odds.
    pub weight: f32,
}

impl TokenModelConfig {
    /// The best settings on chronological validation (README): the default
    /// features without character 4-grams, bogofilter's `robs` 0.0178 and
    /// `robx` 0.52, no minimum deviation (every feature counts), weight 0.1
    /// on the linear model's scale. Not used unless
    /// [`crate::Model::with_token_model`] asks for it.
    pub const DEFAULT: TokenModelConfig = TokenModelConfig {
        features: FeatureSet {
            char4: false,
            ..FeatureSet::DEFAULT
        },
        robs: 0.0178,
        robx: 0.52,
        weight: 0.1,
    };
}

/// Per-slot message counts and the derived log-probabilities.
#[derive(Debug)]
pub(crate) struct TokenModel {
    pub(crate) config: TokenModelConfig,
    spam: Vec<u32>,
    ham: Vec<u32>,
    n_spam: u32,
    n_ham: u32,
    /// `[ln f, ln (1 - f)]` per slot for the current counts, built by
    /// [`TokenModel::prepare`] (after batch training and loading); scoring
    /// without it computes the few slots it needs on the fly.
    table: OnceLock<Box<[[f32; 2]]>>,
    /// Messages scored without the table since the counts last changed.
    misses: AtomicU32,
}

impl Clone for TokenModel {
    fn clone(&self) -> Self {
        TokenModel {
            config: self.config,
            spam: self.spam.clone(),
            ham: self.ham.clone(),
            n_spam: self.n_spam,
            n_ham: self.n_ham,
            table: self.table.clone(),
            misses: AtomicU32::new(self.misses.load(Ordering::Relaxed)),
        }
    }
}

impl TokenModel {
    pub(crate) fn new(config: TokenModelConfig, bits: u32) -> TokenModel {
        let size = 1usize << bits;
        TokenModel {
            config,
            spam: vec![0; size],
            ham: vec![0; size],
            n_spam: 0,
            n_ham: 0,
            table: OnceLock::new(),
            misses: AtomicU32::new(0),
        }
    }

    /// Count (`add`) or uncount (`!add`) one message's token slots.
    pub(crate) fn learn(&mut self, slots: &[u32], label: Label, add: bool) {
        let (counts, total) = match label {
            Label::Spam => (&mut self.spam, &mut self.n_spam),
            Label::Ham => (&mut self.ham, &mut self.n_ham),
        };
        let bump = |c: &mut u32| {
            *c = if add {
                c.saturating_add(1)
            } else {
                c.saturating_sub(1)
            }
        };
        for &s in slots {
            bump(&mut counts[s as usize]);
        }
        bump(total);
        self.table = OnceLock::new();
        *self.misses.get_mut() = 0;
    }

    /// Robinson's smoothed spam probability of a slot.
    fn probability(&self, slot: usize) -> f64 {
        let (robs, robx) = (self.config.robs as f64, self.config.robx as f64);
        let (b, g) = (self.spam[slot] as f64, self.ham[slot] as f64);
        let n = b + g;
        if n == 0.0 {
            return robx;
        }
        let (nb, ng) = ((self.n_spam as f64).max(1.0), (self.n_ham as f64).max(1.0));
        let p = (b / nb) / (b / nb + g / ng);
        ((robs * robx + n * p) / (robs + n)).clamp(1e-9, 1.0 - 1e-9)
    }

    fn ln_pair(&self, slot: usize) -> [f32; 2] {
        let f = self.probability(slot);
        [f.ln() as f32, (1.0 - f).ln() as f32]
    }

    /// Build the per-slot table for the current counts (about 10 ms for
    /// 2^20 slots), so that scoring costs one lookup per feature.
    pub(crate) fn prepare(&self) {
        self.table
            .get_or_init(|| (0..self.spam.len()).map(|s| self.ln_pair(s)).collect());
    }

    /// The token score of a message's token slots: ln of the chi-square tail
    /// of its spamminess minus that of its hamminess (positive = spam).
    #[inline]
    pub(crate) fn score(&self, slots: &[u32]) -> f32 {
        let (mut ln_f, mut ln_1f) = (0.0f64, 0.0f64);
        if self.table.get().is_none()
            && self.misses.fetch_add(1, Ordering::Relaxed) >= BUILD_TABLE_AFTER
        {
            self.prepare();
        }
        match self.table.get() {
            Some(t) => {
                for &s in slots {
                    let [a, b] = t[s as usize];
                    ln_f += a as f64;
                    ln_1f += b as f64;
                }
            }
            None => {
                for &s in slots {
                    let [a, b] = self.ln_pair(s as usize);
                    ln_f += a as f64;
                    ln_1f += b as f64;
                }
            }
        }
        let k = slots.len();
        (ln_chi2_tail(-ln_f, k) - ln_chi2_tail(-ln_1f, k)) as f32
    }

    /// A slot's evidence for `explain`: ln(f / (1 - f)) and the spam and ham
    /// messages counted.
    pub(crate) fn evidence(&self, slot: u32) -> (f32, u32, u32) {
        let f = self.probability(slot as usize);
        (
            (f / (1.0 - f)).ln() as f32,
            self.spam[slot as usize],
            self.ham[slot as usize],
        )
    }

    /// Append the token section of the model file: feature bits, robs,
    /// robx, weight, message totals, then the non-zero slots as (slot delta,
    /// spam count, ham count) varints.
    pub(crate) fn write(&self, b: &mut Vec<u8>) {
        b.extend_from_slice(&self.config.features.to_bits().to_le_bytes());
        for f in [self.config.robs, self.config.robx, self.config.weight] {
            b.extend_from_slice(&f.to_le_bytes());
        }
        b.extend_from_slice(&self.n_spam.to_le_bytes());
        b.extend_from_slice(&self.n_ham.to_le_bytes());
        let nonzero = (0..self.spam.len())
            .filter(|&s| self.spam[s] != 0 || self.ham[s] != 0)
            .count();
        b.extend_from_slice(&(nonzero as u32).to_le_bytes());
        let mut last = 0usize;
        for s in 0..self.spam.len() {
            if self.spam[s] != 0 || self.ham[s] != 0 {
                put_varint(b, (s - last) as u32);
                put_varint(b, self.spam[s]);
                put_varint(b, self.ham[s]);
                last = s;
            }
        }
    }

    /// Read a section written by [`TokenModel::write`] from `b[*pos..]`.
    pub(crate) fn read(b: &[u8], pos: &mut usize, bits: u32) -> Result<TokenModel, &'static str> {
        let mut r = Reader { b, pos: *pos };
        let short = "cut short in the token model";
        let features = FeatureSet::from_bits(r.u32().ok_or(short)?);
        let robs = r.f32().ok_or(short)?;
        let robx = r.f32().ok_or(short)?;
        let weight = r.f32().ok_or(short)?;
        let in_range = robs.is_finite() && robs > 0.0 && robx > 0.0 && robx < 1.0;
        if !in_range || !weight.is_finite() {
            return Err("token model settings out of range");
        }
        let mut m = TokenModel::new(
            TokenModelConfig {
                features,
                robs,
                robx,
                weight,
            },
            bits,
        );
        m.n_spam = r.u32().ok_or(short)?;
        m.n_ham = r.u32().ok_or(short)?;
        let nonzero = r.u32().ok_or(short)? as usize;
        if nonzero > m.spam.len() {
            return Err("more token counts than slots");
        }
        let mut slot = 0usize;
        for i in 0..nonzero {
            let delta = r.varint().ok_or(short)? as usize;
            if i > 0 && delta == 0 {
                return Err("token slots out of order");
            }
            slot += delta;
            let (s, h) = (r.varint().ok_or(short)?, r.varint().ok_or(short)?);
            if slot >= m.spam.len() || s > m.n_spam || h > m.n_ham {
                return Err("token count out of range");
            }
            m.spam[slot] = s;
            m.ham[slot] = h;
        }
        *pos = r.pos;
        Ok(m)
    }
}

/// ln of the upper tail of the chi-square distribution with `2k` degrees of
/// freedom at `2m`: ln(e^-m * sum_{i<k} m^i / i!), in log space so that it
/// never rounds to 0 or 1. The terms are log-concave in `i`, so only those
/// within e^-40 of the largest are summed (a few dozen for any `m`).
pub(crate) fn ln_chi2_tail(m: f64, k: usize) -> f64 {
    if k == 0 || m <= 0.0 {
        return 0.0;
    }
    let lm = m.ln();
    let top = (m.floor() as usize).min(k - 1);
    let t_top = top as f64 * lm - ln_factorial(top);
    // ln i from the factorial table: no logarithm per term.
    let ln_i = |i: usize| ln_factorial(i) - ln_factorial(i - 1);
    let mut sum = 1.0f64;
    // Downwards from the top term: t_{i-1} = t_i - ln m + ln i.
    let mut t = t_top;
    let mut i = top;
    while i > 0 {
        t += ln_i(i) - lm;
        if t - t_top < -40.0 {
            break;
        }
        sum += (t - t_top).exp();
        i -= 1;
    }
    // Upwards: t_{i+1} = t_i + ln m - ln(i + 1).
    let mut t = t_top;
    let mut i = top;
    while i + 1 < k {
        t += lm - ln_i(i + 1);
        if t - t_top < -40.0 {
            break;
        }
        sum += (t - t_top).exp();
        i += 1;
    }
    -m + t_top + sum.ln()
}

/// ln(n!), from a table for the counts features reach, Stirling beyond.
fn ln_factorial(n: usize) -> f64 {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut v = Vec::with_capacity(16_385);
        let mut acc = 0.0f64;
        v.push(0.0);
        for i in 1..16_385 {
            acc += (i as f64).ln();
            v.push(acc);
        }
        v
    });
    match t.get(n) {
        Some(v) => *v,
        None => {
            let x = n as f64;
            x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail by the plain series, for small cases.
    fn naive(m: f64, k: usize) -> f64 {
        let mut term = 1.0;
        let mut sum = 0.0;
        for i in 0..k {
            if i > 0 {
                term *= m / i as f64;
            }
            sum += term;
        }
        ((-m).exp() * sum).ln()
    }

    #[test]
    fn chi2_tail_matches_the_series_and_never_saturates() {
        for (m, k) in [
            (0.5, 1),
            (3.0, 4),
            (10.0, 5),
            (20.0, 40),
            (60.0, 30),
            (100.0, 150),
        ] {
            let (a, b) = (ln_chi2_tail(m, k), naive(m, k));
            assert!(
                (a - b).abs() < 1e-9 * b.abs().max(1.0),
                "m {m} k {k}: {a} vs {b}"
            );
        }
        // Far in the tail the probability underflows f64, its log does not.
        let deep = ln_chi2_tail(5000.0, 100);
        assert!(deep.is_finite() && deep < -3000.0, "{deep}");
        assert!(ln_chi2_tail(5000.0, 100) < ln_chi2_tail(4000.0, 100));
        assert_eq!(ln_chi2_tail(0.0, 10), 0.0);
        assert_eq!(ln_chi2_tail(3.0, 0), 0.0);
    }

    #[test]
    fn counts_rank_spam_above_ham_and_unlearning_is_exact() {
        let mut m = TokenModel::new(TokenModelConfig::DEFAULT, 12);
        for _ in 0..20 {
            m.learn(&[1, 2, 3], Label::Spam, true);
            m.learn(&[4, 5, 6], Label::Ham, true);
        }
        let before = m.clone();
        assert!(m.score(&[1, 2, 9]) > 0.0 && m.score(&[4, 5, 9]) < 0.0);
        // The table and the on-the-fly path agree.
        let slow = m.score(&[1, 5, 9]);
        m.prepare();
        assert!((m.score(&[1, 5, 9]) - slow).abs() < 1e-4);
        m.learn(&[1, 4], Label::Spam, true);
        m.learn(&[1, 4], Label::Spam, false);
        assert_eq!(m.spam, before.spam);
        assert_eq!((m.n_spam, m.n_ham), (before.n_spam, before.n_ham));
    }

    #[test]
    fn section_round_trips_and_rejects_damage() {
        let mut m = TokenModel::new(TokenModelConfig::DEFAULT, 12);
        m.learn(&[7, 300, 4000], Label::Spam, true);
        m.learn(&[300, 12], Label::Ham, true);
        let mut b = Vec::new();
        m.write(&mut b);
        let mut pos = 0;
        let back = TokenModel::read(&b, &mut pos, 12).unwrap();
        assert_eq!(pos, b.len());
        assert_eq!((back.spam, back.ham), (m.spam.clone(), m.ham.clone()));
        for cut in [0, 3, 20, b.len() - 1] {
            assert!(
                TokenModel::read(&b[..cut], &mut 0, 12).is_err(),
                "cut {cut}"
            );
        }
        // A slot beyond a smaller table.
        assert!(TokenModel::read(&b, &mut 0, 10).is_err());
    }
}
