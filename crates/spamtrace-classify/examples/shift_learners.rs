//! Learner and feature-weighting variants on the validation columns of
//! `examples/shift.rs` (chron, walk, half, shift, shift5), without touching
//! the SpamAssassin test half: only the training half (first half of the
//! index) and the outside spam are read.
//!
//! The learner runs here, on the slot lists of the fourth round's feature
//! set (the shipped set plus character 4-grams; featurized once), so a
//! variant costs seconds. Each slot is tagged with its feature group (words,
//! bigrams, character 4-grams, ...) by featurizing again with one group at a
//! time, so groups can be weighted differently. The first row reimplements
//! the library's training of the fourth round (`Model::train_batch`, no
//! IDF) and must match `shift`'s fourth-round row. (The IDF rows found the
//! fifth round's change, README.)
//!
//! cargo run -p spamtrace-classify --release --example shift_learners -- ../shared/corpora [NAME_FILTER]
//! FEATURES=default cargo run ... (every row on another feature set, here the eleventh round's shipped one)
use spamtrace_classify::features::FeatureSet;
use spamtrace_classify::{Model, ModelConfig};
use spamtrace_mail::{Analysis, Label};
use std::collections::{HashMap, HashSet};

#[path = "validation/data.rs"]
mod validation;

use validation::Points;

/// Feature groups a slot can belong to (index into `Recipe::group_scale`).
const GROUP_NAMES: [&str; 7] = [
    "other",
    "words",
    "bigrams",
    "char4",
    "sgrams",
    "structure",
    "script",
];
const OTHER: usize = 0;
const BIGRAMS: usize = 2;
const CHAR4: usize = 3;
const SGRAMS: usize = 4;
const STRUCTURE: usize = 5;
const GROUPS: usize = GROUP_NAMES.len();

/// One message, featurized once with the shipped feature set.
struct Msg {
    slots: Vec<u32>,
    /// Group of each slot (`GROUP_NAMES`).
    groups: Vec<u8>,
    spam: bool,
    key: Option<u64>,
}

/// How one training step is taken.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// SGD on the hinge loss: `w += lr * y * x` when `y * w.x < 1`
    /// (the library's rule).
    Hinge,
    /// Passive-aggressive PA-I: `w += min(C, loss / |x|^2) * y * x`.
    PassiveAggressive1(f32),
    /// Passive-aggressive PA-II: `w += loss / (|x|^2 + 1 / (2C)) * y * x`.
    PassiveAggressive2(f32),
    /// Diagonal AROW (Crammer, Kulesza, Dredze 2009) with regulariser `r`.
    Arow(f32),
}

/// A training recipe: step rule, schedule and feature values.
#[derive(Clone, Copy, Debug)]
struct Recipe {
    step: Step,
    learning_rate: f32,
    passes: u32,
    /// L2 weight decay per update: every step first multiplies all weights
    /// by `1 - learning_rate * decay` (lazily, through a global scale).
    decay: f32,
    /// Relative value of a present feature of each group, before
    /// normalisation.
    group_scale: [f32; GROUPS],
    /// Feature values are `scale / (sum of scale^2)^power`: 0.5 = unit length.
    norm_power: f32,
    /// Share of features dropped at random in each training step (the kept
    /// ones scaled by `1 / (1 - dropout)`), 0 = none.
    dropout: f32,
    /// Final weights clamped to `[-clip, clip]` (0 = no clamp).
    clip: f32,
    /// Weight of a ham step relative to a spam step.
    ham_weight: f32,
    /// Seed of the dropout masks.
    seed: u64,
    /// Each feature's value also times `idf^idf_power`, with
    /// `idf = ln((N + 1) / (df + 1))` over the training batch (0 = off).
    idf_power: f32,
    /// Block normalisation: each group's features first scaled to unit
    /// length within the group (then `group_scale`, then the whole vector).
    block: bool,
    /// Scoring normalises over the slots the training batch contained only:
    /// features never seen in training carry no weight, and with them in
    /// the norm a message of a new collection is pulled towards 0.
    norm_known: bool,
    /// Document frequencies counted as the first pass goes (each message's
    /// slots added just before its step, its values computed from the counts
    /// so far), as an incremental `train` would; later passes and scoring
    /// use the final counts. Off: counted over the whole batch first.
    idf_online: bool,
    /// Share of steps taken on a (spam, ham) pair instead of one message
    /// (Sculley's combined regression and ranking, KDD 2010): the message
    /// and a random message of the other label from the batch, with the
    /// hinge on their score difference, `w += lr * (x_spam - x_ham)` when
    /// the spam does not outscore the ham by 1. 0 = none, 1 = ranking only.
    /// The ROC area is a ranking measure; this trains for it directly.
    pairwise: f32,
    /// Extreme evidence at scoring time: the mean of the `top_k` largest
    /// (and, with `top_both`, plus the mean of the `top_k` smallest)
    /// contributions `w_i * value_i` before normalisation, times
    /// `top_beta`, added to the score. A message whose few strong features
    /// are diluted by many common ones keeps them. 0 = off.
    top_k: usize,
    top_beta: f32,
    top_both: bool,
    /// Recency: a step on the message at position `p` of the `n` in the
    /// batch (index order, which is delivery order) is scaled by
    /// `exp(recency * (p / n - 1))`, so later mail counts more. 0 = off.
    recency: f32,
    /// Bagging: this many models, each trained with its own dropout masks
    /// (seeds `seed`, `seed + 1`, ...), their weights averaged into one
    /// linear model (so scoring costs what one model costs). 0 or 1 = one.
    bag: u32,
}

const SHIPPED: Recipe = Recipe {
    step: Step::Hinge,
    learning_rate: 0.5,
    passes: 5,
    decay: 0.0,
    group_scale: [1.0; GROUPS],
    norm_power: 0.5,
    dropout: 0.0,
    clip: 0.0,
    ham_weight: 1.0,
    seed: 0x9e37_79b9_7f4a_7c15,
    idf_power: 0.0,
    block: false,
    norm_known: false,
    idf_online: false,
    pairwise: 0.0,
    top_k: 0,
    top_beta: 0.0,
    top_both: false,
    recency: 0.0,
    bag: 0,
};

/// Feature values of one message under a recipe: `common * rel[i]`.
/// With every `rel` 1.0 this computes exactly what the library computes.
struct Values {
    common: f32,
    rel: Vec<f32>,
}

/// `df`: per slot, how many messages of the training batch hold it (and
/// the batch size), when the recipe needs it.
fn values(m: &Msg, r: &Recipe, df: Option<&(Vec<u32>, usize)>) -> Values {
    let mut per_group = [0usize; GROUPS];
    if r.block {
        for &g in &m.groups {
            per_group[g as usize] += 1;
        }
    }
    let mut rel: Vec<f32> = m
        .groups
        .iter()
        .map(|&g| {
            let b = if r.block {
                1.0 / (per_group[g as usize] as f32).sqrt()
            } else {
                1.0
            };
            r.group_scale[g as usize] * b
        })
        .collect();
    if let Some((df, n)) = df
        && r.idf_power != 0.0
    {
        for (v, s) in rel.iter_mut().zip(&m.slots) {
            let d = df[*s as usize];
            let idf = ((*n as f32 + 1.0) / (d as f32 + 1.0)).ln().max(0.01);
            *v *= idf.powf(r.idf_power);
        }
    }
    let known = |i: usize| match (df, r.norm_known) {
        (Some((df, _)), true) => df[m.slots[i] as usize] > 0,
        _ => true,
    };
    let sum2: f32 = rel
        .iter()
        .enumerate()
        .filter(|(i, _)| known(*i))
        .map(|(_, v)| v * v)
        .sum();
    let sum2 = sum2.max(1e-12);
    let common = if r.norm_power == 0.5 {
        1.0 / sum2.sqrt()
    } else {
        1.0 / sum2.powf(r.norm_power)
    };
    Values { common, rel }
}

/// A linear model being trained by a recipe.
struct Learner {
    /// Weights are `scale * v` (lazy L2 decay).
    v: Vec<f32>,
    scale: f32,
    /// AROW's per-weight variance.
    sigma: Vec<f32>,
    rng: u64,
    /// Multiplier of the next steps (`Recipe::recency`).
    mult: f32,
}

impl Learner {
    fn new(r: &Recipe) -> Learner {
        Learner {
            v: vec![0.0; 1 << 20],
            scale: 1.0,
            sigma: match r.step {
                Step::Arow(_) => vec![1.0; 1 << 20],
                _ => Vec::new(),
            },
            rng: r.seed,
            mult: 1.0,
        }
    }

    /// The raw score, summed as `Model::log_odds_of_slots` sums it.
    fn score(&self, slots: &[u32], x: &Values) -> f32 {
        let w = &self.v;
        let mut acc = [0.0f32; 4];
        let n = slots.len() / 4 * 4;
        for i in (0..n).step_by(4) {
            acc[0] += w[slots[i] as usize] * x.rel[i];
            acc[1] += w[slots[i + 1] as usize] * x.rel[i + 1];
            acc[2] += w[slots[i + 2] as usize] * x.rel[i + 2];
            acc[3] += w[slots[i + 3] as usize] * x.rel[i + 3];
        }
        for i in n..slots.len() {
            acc[0] += w[slots[i] as usize] * x.rel[i];
        }
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) * x.common * self.scale
    }

    fn next_unit(&mut self) -> f32 {
        // xorshift64*: deterministic, good enough for dropout masks.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let z = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (z >> 40) as f32 / (1u64 << 24) as f32
    }

    fn learn(&mut self, r: &Recipe, slots: &[u32], x: &Values, spam: bool) {
        if r.dropout > 0.0 {
            let keep = 1.0 - r.dropout;
            let mut s2 = Vec::with_capacity(slots.len());
            let mut rel = Vec::with_capacity(slots.len());
            for (i, &s) in slots.iter().enumerate() {
                if self.next_unit() < keep {
                    s2.push(s);
                    rel.push(x.rel[i] / keep);
                }
            }
            let xd = Values {
                common: x.common,
                rel,
            };
            return self.learn_full(r, &s2, &xd, spam);
        }
        self.learn_full(r, slots, x, spam)
    }

    fn learn_full(&mut self, r: &Recipe, slots: &[u32], x: &Values, spam: bool) {
        let y = if spam { 1.0f32 } else { -1.0 };
        let cw = if spam { 1.0 } else { r.ham_weight } * self.mult;
        if r.decay > 0.0 {
            self.scale *= 1.0 - r.learning_rate * r.decay;
            if self.scale < 1e-6 {
                for w in &mut self.v {
                    *w *= self.scale;
                }
                self.scale = 1.0;
            }
        }
        let m = self.score(slots, x);
        let loss = 1.0 - y * m;
        if loss <= 0.0 {
            return;
        }
        let norm2 = || -> f32 { x.rel.iter().map(|v| v * v).sum::<f32>() * x.common * x.common };
        let step = match r.step {
            Step::Hinge => r.learning_rate * y * x.common,
            Step::PassiveAggressive1(c) => c.min(loss / norm2().max(1e-12)) * y * x.common,
            Step::PassiveAggressive2(c) => loss / (norm2() + 0.5 / c) * y * x.common,
            Step::Arow(rr) => {
                let conf: f32 = slots
                    .iter()
                    .zip(&x.rel)
                    .map(|(&s, &v)| self.sigma[s as usize] * (v * x.common).powi(2))
                    .sum();
                let beta = 1.0 / (conf + rr);
                let alpha = loss * beta;
                for (&s, &v) in slots.iter().zip(&x.rel) {
                    let xi = v * x.common;
                    let sg = self.sigma[s as usize];
                    self.v[s as usize] += cw * alpha * y * sg * xi / self.scale;
                    self.sigma[s as usize] = sg - beta * sg * sg * xi * xi;
                }
                return;
            }
        } * cw
            / self.scale;
        for (&s, &v) in slots.iter().zip(&x.rel) {
            self.v[s as usize] += step * v;
        }
    }

    /// One hinge step on the score difference of a spam and a ham message.
    fn learn_pair(&mut self, r: &Recipe, spam: (&[u32], &Values), ham: (&[u32], &Values)) {
        let margin = self.score(spam.0, spam.1) - self.score(ham.0, ham.1);
        if margin >= 1.0 {
            return;
        }
        for ((slots, x), sign) in [(spam, 1.0f32), (ham, -1.0)] {
            let step = r.learning_rate * sign * x.common / self.scale;
            for (&s, &v) in slots.iter().zip(&x.rel) {
                self.v[s as usize] += step * v;
            }
        }
    }

    fn finish(&mut self, r: &Recipe) {
        if self.scale != 1.0 {
            for w in &mut self.v {
                *w *= self.scale;
            }
            self.scale = 1.0;
        }
        if r.clip > 0.0 {
            for w in &mut self.v {
                *w = w.clamp(-r.clip, r.clip);
            }
        }
    }
}

/// A trained model and the feature values it scores every message with.
struct Trained {
    learner: Learner,
    vals: Vec<Values>,
    top: (usize, f32, bool),
}

impl Trained {
    fn score(&self, msgs: &[Msg], i: usize) -> (f64, bool) {
        let base = self.learner.score(&msgs[i].slots, &self.vals[i]) as f64;
        let (k, beta, both) = self.top;
        if k == 0 {
            return (base, msgs[i].spam);
        }
        let w = &self.learner.v;
        let mut c: Vec<f32> = msgs[i]
            .slots
            .iter()
            .zip(&self.vals[i].rel)
            .map(|(&s, &r)| w[s as usize] * r)
            .collect();
        c.sort_by(|a, b| b.total_cmp(a));
        let kk = k.min(c.len()).max(1);
        let hi: f32 = c.iter().take(kk).map(|x| x.max(0.0)).sum::<f32>() / kk as f32;
        let lo: f32 = match both {
            true => c.iter().rev().take(kk).map(|x| x.min(0.0)).sum::<f32>() / kk as f32,
            false => 0.0,
        };
        (base + beta as f64 * (hi + lo) as f64, msgs[i].spam)
    }
}

/// Train on `batch` (indices into `msgs`) in order, `passes` times; a
/// message whose key was seen earlier in the batch is learnt once, as in
/// `Model::train_batch`.
fn train(r: &Recipe, msgs: &[Msg], batch: &[usize]) -> Trained {
    if r.bag > 1 {
        let mut models = (0..r.bag as u64).map(|k| {
            let one = Recipe {
                bag: 1,
                seed: r.seed + k,
                ..*r
            };
            train(&one, msgs, batch)
        });
        let mut first = models.next().expect("bag > 1");
        for m in models {
            for (a, b) in first.learner.v.iter_mut().zip(&m.learner.v) {
                *a += b;
            }
        }
        for a in &mut first.learner.v {
            *a /= r.bag as f32;
        }
        return first;
    }
    let mut seen = HashSet::new();
    let active: Vec<usize> = batch
        .iter()
        .copied()
        .filter(|&i| msgs[i].key.is_none_or(|k| seen.insert(k)))
        .collect();
    let df = (r.idf_power != 0.0 || r.norm_known).then(|| {
        let mut df = vec![0u32; 1 << 20];
        for &i in &active {
            for &s in &msgs[i].slots {
                df[s as usize] += 1;
            }
        }
        (df, active.len())
    });
    let vals: Vec<Values> = msgs.iter().map(|m| values(m, r, df.as_ref())).collect();
    let mut l = Learner::new(r);
    let mut first_pass = 0;
    if r.idf_online {
        first_pass = 1;
        let mut so_far: (Vec<u32>, usize) = (vec![0; 1 << 20], 0);
        for &i in &active {
            for &s in &msgs[i].slots {
                so_far.0[s as usize] += 1;
            }
            so_far.1 += 1;
            let x = values(&msgs[i], r, Some(&so_far));
            l.learn(r, &msgs[i].slots, &x, msgs[i].spam);
        }
    }
    let (spam_idx, ham_idx): (Vec<usize>, Vec<usize>) =
        active.iter().copied().partition(|&i| msgs[i].spam);
    for _ in first_pass..r.passes.max(1) {
        for (p, &i) in active.iter().enumerate() {
            if r.recency != 0.0 {
                l.mult = (r.recency * (p as f32 / active.len() as f32 - 1.0)).exp();
            }
            if r.pairwise > 0.0
                && !spam_idx.is_empty()
                && !ham_idx.is_empty()
                && l.next_unit() < r.pairwise
            {
                let others = if msgs[i].spam { &ham_idx } else { &spam_idx };
                let j = others[(l.next_unit() * others.len() as f32) as usize % others.len()];
                let (s, h) = if msgs[i].spam { (i, j) } else { (j, i) };
                l.learn_pair(r, (&msgs[s].slots, &vals[s]), (&msgs[h].slots, &vals[h]));
                continue;
            }
            l.learn(r, &msgs[i].slots, &vals[i], msgs[i].spam);
        }
    }
    l.finish(r);
    Trained {
        learner: l,
        vals,
        top: (r.top_k, r.top_beta, r.top_both),
    }
}

impl Recipe {
    /// This recipe with one group's value (`group_scale`) changed.
    fn with_group(self, group: usize, value: f32) -> Recipe {
        let mut r = self;
        r.group_scale[group] = value;
        r
    }
}

/// `group_scale` with one group's value changed.
fn scaled(changes: &[(usize, f32)]) -> [f32; GROUPS] {
    let mut s = [1.0; GROUPS];
    for &(g, v) in changes {
        s[g] = v;
    }
    s
}

/// The variants measured (README table), shipped first.
fn variants() -> Vec<(String, Recipe)> {
    let mut v: Vec<(String, Recipe)> = vec![("shipped (hinge lr0.5 x5)".into(), SHIPPED)];
    let mut add = |name: String, r: Recipe| v.push((name, r));
    // Noise: the same learner with dropout masks from other seeds.
    for seed in 1..=3u64 {
        add(
            format!("dropout 0.2 seed {seed}"),
            Recipe {
                dropout: 0.2,
                seed,
                ..SHIPPED
            },
        );
    }
    for d in [1e-5f32, 3e-5, 1e-4, 1e-3] {
        add(
            format!("L2 decay {d}"),
            Recipe {
                decay: d,
                ..SHIPPED
            },
        );
    }
    for c in [0.1f32, 0.5, 1.0] {
        add(
            format!("PA-I C={c}"),
            Recipe {
                step: Step::PassiveAggressive1(c),
                ..SHIPPED
            },
        );
        add(
            format!("PA-II C={c}"),
            Recipe {
                step: Step::PassiveAggressive2(c),
                ..SHIPPED
            },
        );
    }
    for a in [0.3f32, 0.5, 0.6, 0.7, 0.8, 0.9] {
        add(
            format!("char4 x{a}"),
            Recipe {
                group_scale: scaled(&[(CHAR4, a)]),
                ..SHIPPED
            },
        );
    }
    for (name, s) in [
        ("bigrams x0.7", scaled(&[(BIGRAMS, 0.7)])),
        (
            "bigrams x0.7 char4 x0.7",
            scaled(&[(BIGRAMS, 0.7), (CHAR4, 0.7)]),
        ),
        ("sgrams x0.5", scaled(&[(SGRAMS, 0.5)])),
        ("structure x2", scaled(&[(STRUCTURE, 2.0)])),
        ("other x2", scaled(&[(OTHER, 2.0)])),
    ] {
        add(
            name.into(),
            Recipe {
                group_scale: s,
                ..SHIPPED
            },
        );
    }
    for p in [0.4f32, 0.45, 0.55, 0.6] {
        add(
            format!("value 1/n^{p}"),
            Recipe {
                norm_power: p,
                ..SHIPPED
            },
        );
    }
    for lr in [0.25f32, 1.0] {
        add(
            format!("hinge lr{lr} (margin 1)"),
            Recipe {
                learning_rate: lr,
                ..SHIPPED
            },
        );
    }
    for rr in [0.1f32, 1.0] {
        add(
            format!("AROW r={rr} x1"),
            Recipe {
                step: Step::Arow(rr),
                passes: 1,
                ..SHIPPED
            },
        );
    }
    add(
        "AROW r=0.1 x5".into(),
        Recipe {
            step: Step::Arow(0.1),
            ..SHIPPED
        },
    );
    for d in [0.2f32, 0.5] {
        add(
            format!("dropout {d}"),
            Recipe {
                dropout: d,
                ..SHIPPED
            },
        );
    }
    for c in [0.05f32, 0.1, 0.2] {
        add(
            format!("weights clipped to +-{c}"),
            Recipe { clip: c, ..SHIPPED },
        );
    }
    for ip in [0.5f32, 1.0, -0.5] {
        add(
            format!("idf^{ip}"),
            Recipe {
                idf_power: ip,
                ..SHIPPED
            },
        );
    }
    add(
        "block normalisation".into(),
        Recipe {
            block: true,
            ..SHIPPED
        },
    );
    add(
        "norm over known slots".into(),
        Recipe {
            norm_known: true,
            ..SHIPPED
        },
    );
    for ip in [0.75f32, 1.5, 2.0] {
        add(
            format!("idf^{ip}"),
            Recipe {
                idf_power: ip,
                ..SHIPPED
            },
        );
    }
    let idf = Recipe {
        idf_power: 1.0,
        ..SHIPPED
    };
    for seed in 1..=3u64 {
        add(
            format!("idf^1 + dropout 0.2 seed {seed}"),
            Recipe {
                dropout: 0.2,
                seed,
                ..idf
            },
        );
    }
    for passes in [1u32, 5] {
        add(
            format!("idf^1 counted online x{passes} passes"),
            Recipe {
                idf_online: true,
                passes,
                ..idf
            },
        );
    }
    add(
        "idf^1 + norm over known slots".into(),
        Recipe {
            norm_known: true,
            ..idf
        },
    );
    for a in [0.5f32, 0.7] {
        add(
            format!("idf^1 + char4 x{a}"),
            Recipe {
                group_scale: scaled(&[(CHAR4, a)]),
                ..idf
            },
        );
    }
    add("idf^1 + L2 1e-5".into(), Recipe { decay: 1e-5, ..idf });
    for lr in [0.25f32, 1.0] {
        add(
            format!("idf^1 + lr{lr}"),
            Recipe {
                learning_rate: lr,
                ..idf
            },
        );
    }
    for passes in [1u32, 3, 10] {
        add(format!("idf^1 x{passes} passes"), Recipe { passes, ..idf });
    }
    // On the fifth round's shipped model: IDF, 4-grams left out (scale 0
    // takes them out of the vector and its length). Names start with "5:".
    let fifth = Recipe {
        idf_power: 1.0,
        group_scale: scaled(&[(CHAR4, 0.0)]),
        ..SHIPPED
    };
    add("5: no 4-grams, idf^1 (shipped)".into(), fifth);
    for seed in 1..=3u64 {
        add(
            format!("5: dropout 0.2 seed {seed}"),
            Recipe {
                dropout: 0.2,
                seed,
                ..fifth
            },
        );
    }
    for p in [0.75f32, 1.25, 1.5] {
        add(
            format!("5: idf^{p}"),
            Recipe {
                idf_power: p,
                ..fifth
            },
        );
    }
    for d in [1e-5f32, 1e-4] {
        add(format!("5: L2 {d}"), Recipe { decay: d, ..fifth });
    }
    for (name, group, a) in [
        ("bigrams", BIGRAMS, 0.5f32),
        ("bigrams", BIGRAMS, 0.7),
        ("sgrams", SGRAMS, 0.5),
        ("structure", STRUCTURE, 2.0),
        ("other", OTHER, 2.0),
    ] {
        add(
            format!("5: {name} x{a}"),
            Recipe {
                group_scale: scaled(&[(CHAR4, 0.0), (group, a)]),
                ..fifth
            },
        );
    }
    add(
        "5: norm over known slots".into(),
        Recipe {
            norm_known: true,
            ..fifth
        },
    );
    for lr in [0.25f32, 1.0] {
        add(
            format!("5: lr{lr}"),
            Recipe {
                learning_rate: lr,
                ..fifth
            },
        );
    }
    // Sixth round: ranking steps (the ROC area is a ranking measure).
    for (p, lr) in [(0.5f32, 0.5f32), (1.0, 0.5), (1.0, 0.25), (0.25, 0.5)] {
        add(
            format!("6: pairwise {p} lr{lr}"),
            Recipe {
                pairwise: p,
                learning_rate: lr,
                ..fifth
            },
        );
    }
    // Seventh round: the subject and sender-name 3-grams down-weighted
    // (the "5: sgrams x0.5" row), how far and how stably.
    for a in [0.0f32, 0.25, 0.35, 0.5, 0.7] {
        add(
            format!("7: sgrams x{a}"),
            Recipe {
                group_scale: scaled(&[(CHAR4, 0.0), (SGRAMS, a)]),
                ..fifth
            },
        );
    }
    for seed in 1..=3u64 {
        add(
            format!("7: sgrams x0.5, dropout 0.2 seed {seed}"),
            Recipe {
                group_scale: scaled(&[(CHAR4, 0.0), (SGRAMS, 0.5)]),
                dropout: 0.2,
                seed,
                ..fifth
            },
        );
    }
    // On the seventh round's shipped model (3-grams at half weight), the
    // fifth round's near misses again (for the next round; nothing here was
    // tested).
    let seventh = Recipe {
        group_scale: scaled(&[(CHAR4, 0.0), (SGRAMS, 0.5)]),
        ..fifth
    };
    for p in [1.25f32, 1.5] {
        add(
            format!("7b: idf^{p}"),
            Recipe {
                idf_power: p,
                ..seventh
            },
        );
    }
    for (name, group, a) in [("bigrams", BIGRAMS, 0.7f32), ("structure", STRUCTURE, 1.5)] {
        add(format!("7b: {name} x{a}"), seventh.with_group(group, a));
    }
    add(
        "7b: L2 1e-5".into(),
        Recipe {
            decay: 1e-5,
            ..seventh
        },
    );
    add(
        "7b: pairwise 0.25 lr0.5".into(),
        Recipe {
            pairwise: 0.25,
            ..seventh
        },
    );
    // Eighth round: the IDF's power on the seventh round's model, and how
    // stable its gain is under dropout (the base's seeds are the "7:" rows).
    for p in [1.75f32, 2.0] {
        add(
            format!("8: idf^{p}"),
            Recipe {
                idf_power: p,
                ..seventh
            },
        );
    }
    for p in [1.5f32, 1.75, 2.0] {
        for seed in 1..=3u64 {
            add(
                format!("8: idf^{p}, dropout 0.2 seed {seed}"),
                Recipe {
                    idf_power: p,
                    dropout: 0.2,
                    seed,
                    ..seventh
                },
            );
        }
    }
    // Ninth round: extreme evidence added at scoring time.
    for (k, beta, both) in [
        (3usize, 0.1f32, false),
        (3, 0.25, false),
        (3, 0.5, false),
        (3, 1.0, false),
        (5, 1.0, false),
        (10, 1.0, false),
        (5, 2.0, false),
        (5, 1.0, true),
        (5, 2.0, true),
    ] {
        add(
            format!("9: top{k} x{beta}{}", if both { " both" } else { "" }),
            Recipe {
                top_k: k,
                top_beta: beta,
                top_both: both,
                ..seventh
            },
        );
    }
    for a in [0.0f32, 0.3, 0.5, 0.7] {
        add(format!("9: bigrams x{a}"), seventh.with_group(BIGRAMS, a));
    }
    for a in [0.5f32, 0.7] {
        for seed in 1..=3u64 {
            add(
                format!("9: bigrams x{a}, dropout 0.2 seed {seed}"),
                Recipe {
                    dropout: 0.2,
                    seed,
                    ..seventh.with_group(BIGRAMS, a)
                },
            );
        }
    }
    for lambda in [0.5f32, 1.0, 2.0, 4.0] {
        add(
            format!("9: recency {lambda}"),
            Recipe {
                recency: lambda,
                ..seventh
            },
        );
    }
    // Tenth round: bagging dropout models into one weight vector.
    for (k, d) in [(5u32, 0.2f32), (10, 0.2), (5, 0.5), (10, 0.5)] {
        add(
            format!("10: bag {k} dropout {d}"),
            Recipe {
                bag: k,
                dropout: d,
                seed: 1,
                ..seventh
            },
        );
    }
    // Eleventh round: the character 4-grams back, light. With IDF they won
    // in-collection and lost on the shift columns (fifth round); light
    // weight turned the same trade into a gain for the 3-grams and pairs.
    for a in [0.15f32, 0.25, 0.35, 0.5] {
        add(format!("11: char4 x{a}"), seventh.with_group(CHAR4, a));
        add(
            format!("11: char4 x{a} + bigrams x0.5"),
            seventh.with_group(CHAR4, a).with_group(BIGRAMS, 0.5),
        );
    }
    // Second-order and adaptive steps on the seventh round's model (the
    // fifth round tried them without IDF only).
    for (name, step, passes) in [
        ("arow r0.1", Step::Arow(0.1), 1u32),
        ("arow r1", Step::Arow(1.0), 1),
        ("arow r1 x5", Step::Arow(1.0), 5),
        ("arow r10 x5", Step::Arow(10.0), 5),
        ("pa1 c0.5 x5", Step::PassiveAggressive1(0.5), 5),
        ("pa1 c2 x5", Step::PassiveAggressive1(2.0), 5),
    ] {
        add(
            format!("11: {name}"),
            Recipe {
                step,
                passes,
                ..seventh
            },
        );
    }
    add(
        "char4 x0.7 + L2 1e-5".into(),
        Recipe {
            group_scale: scaled(&[(CHAR4, 0.7)]),
            decay: 1e-5,
            ..SHIPPED
        },
    );
    add(
        "char4 x0.7 + dropout 0.2".into(),
        Recipe {
            group_scale: scaled(&[(CHAR4, 0.7)]),
            dropout: 0.2,
            ..SHIPPED
        },
    );
    v
}

/// Featurize with the fourth round's set (the shipped one plus character
/// 4-grams) and tag each slot with its group.
fn featurize(a: &[(Analysis, bool)]) -> Vec<Msg> {
    // `FEATURES=default+cjk` runs every row on another feature set
    // (4-grams are always featurized: the "5:" rows scale them to 0). By
    // default the sixth round's set, on which the rows were measured: the
    // learner here weights the groups itself ("7:" rows scale the 3-grams
    // as the library's `lightsgrams` does, without moving their slots).
    let base = match std::env::var("FEATURES") {
        Ok(s) => FeatureSet::parse(&s).unwrap_or_else(|| panic!("FEATURES={s}: unknown group")),
        Err(_) => validation::SIXTH_ROUND_SET,
    };
    let fs = FeatureSet {
        char4: true,
        ..base
    };
    let model = |features| {
        Model::new(ModelConfig {
            features,
            ..ModelConfig::default()
        })
    };
    let full = model(fs);
    let none = FeatureSet {
        words: false,
        bigrams: false,
        char4: false,
        structure: false,
        subject_grams: false,
        script: false,
        ..fs
    };
    let base = model(none);
    let probes: Vec<(usize, Model)> = vec![
        (
            1,
            model(FeatureSet {
                words: true,
                ..none
            }),
        ),
        (
            2,
            model(FeatureSet {
                bigrams: true,
                ..none
            }),
        ),
        (
            3,
            model(FeatureSet {
                char4: true,
                ..none
            }),
        ),
        (
            4,
            model(FeatureSet {
                subject_grams: true,
                ..none
            }),
        ),
        (
            5,
            model(FeatureSet {
                structure: true,
                ..none
            }),
        ),
        (
            6,
            model(FeatureSet {
                script: true,
                ..none
            }),
        ),
    ];
    let mut untagged = 0usize;
    let out = a
        .iter()
        .map(|(an, spam)| {
            let slots = full.slots_of(an);
            let mut tag: HashMap<u32, u8> = HashMap::new();
            for s in base.slots_of(an) {
                tag.insert(s, OTHER as u8);
            }
            for (g, p) in &probes {
                for s in p.slots_of(an) {
                    tag.entry(s).or_insert(*g as u8);
                }
            }
            let groups = slots
                .iter()
                .map(|s| {
                    tag.get(s).copied().unwrap_or_else(|| {
                        untagged += 1;
                        OTHER as u8
                    })
                })
                .collect();
            Msg {
                slots,
                groups,
                spam: *spam,
                key: Model::message_key(an),
            }
        })
        .collect();
    if untagged > 0 {
        eprintln!("{untagged} slots matched no group probe (tagged other)");
    }
    out
}

fn main() {
    let (corpora, only) = validation::corpora_and_filter("shift_learners");
    let (training_half, outside) = validation::training_half_and_outside_spam(&corpora);
    let train_a: Vec<(Analysis, bool)> = training_half
        .into_iter()
        .map(|(a, lab)| (a, lab == Label::Spam))
        .collect();
    let outside_a = outside.into_iter().map(|a| (a, true));

    // Training half first, then the outside spam, in one list.
    let n = train_a.len();
    let all: Vec<(Analysis, bool)> = train_a.into_iter().chain(outside_a).collect();
    let msgs = featurize(&all);
    drop(all);
    let mut share = [0usize; GROUPS];
    for m in &msgs[..n] {
        for &g in &m.groups {
            share[g as usize] += 1;
        }
    }
    let total: usize = share.iter().sum();
    eprintln!(
        "slots per group (training half): {}",
        GROUP_NAMES
            .iter()
            .zip(share)
            .map(|(g, c)| format!("{g} {:.1}%", 100.0 * c as f64 / total as f64))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let variants = variants();
    let ham: Vec<usize> = (0..n).filter(|&i| !msgs[i].spam).collect();
    let outside: Vec<usize> = (n..msgs.len()).collect();
    validation::print_header();
    for (name, r) in &variants {
        if let Some(o) = &only
            && !name.contains(o.as_str())
        {
            continue;
        }
        let score = |l: &Trained, i: usize| l.score(&msgs, i);
        let range = |a: usize, b: usize| -> Vec<usize> { (a..b).collect() };
        let (mut chron, mut shift): (Points, Points) = (Vec::new(), Vec::new());
        for (from, to) in [(n * 3 / 5, n * 4 / 5), (n * 4 / 5, n)] {
            let l = train(r, &msgs, &range(0, from));
            chron.extend((from..to).map(|i| score(&l, i)));
            if to == n {
                shift.extend((from..to).filter(|&i| !msgs[i].spam).map(|i| score(&l, i)));
                shift.extend(outside.iter().map(|&i| score(&l, i)));
            }
        }
        let mut walk = Vec::new();
        for k in 3..10 {
            let (from, to) = (n * k / 10, n * (k + 1) / 10);
            let l = train(r, &msgs, &range(0, from));
            walk.extend((from..to).map(|i| score(&l, i)));
        }
        let l = train(r, &msgs, &range(0, n / 2));
        let half: Points = (n / 2..n).map(|i| score(&l, i)).collect();
        let mut shift5 = Vec::new();
        for k in 0..5 {
            let held: Vec<usize> = ham.iter().copied().skip(k).step_by(5).collect();
            let batch: Vec<usize> = (0..n).filter(|i| held.binary_search(i).is_err()).collect();
            let l = train(r, &msgs, &batch);
            shift5.extend(held.iter().map(|&i| score(&l, i)));
            shift5.extend(outside.iter().map(|&i| score(&l, i)));
        }
        validation::print_row(name, [&chron, &walk, &half, &shift, &shift5]);
    }
}
