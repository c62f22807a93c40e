//! Does a learned kind model add to the lexicon? (Issue 3: "combine what
//! works (lexicons, URL and attachment evidence, a learned model)".)
//!
//! Variants are compared by 5-fold cross-validation inside the **dev** half
//! of `kinds-eval.tsv` (SHA-256 first hex digit 0-7); the test half is read
//! only with `--test`, once, for the variant chosen on dev. The lexicon's
//! weights were tuned on the dev half, so its dev figure is optimistic and
//! so is every variant that reads the lexicon's scores.
//!
//!     cargo run -p spamtrace-classify --release --example kinds_learned -- ../shared/corpora [--test VARIANT]
//!
//! The library's `KindModel` is the "learned+lex3" variant at 2^14 rows
//! (`build_kind_model` trains it on the whole dev half).
use spamtrace_classify::{Model, ScamKind, kind_evidence};
use spamtrace_mail::{Limits, TrustedHosts, analyze};
use std::collections::HashMap;
use std::path::PathBuf;

#[path = "validation/kinds_set.rs"]
mod kinds_set;
use kinds_set::Confusion;
const KINDS: usize = 10;
/// Rows the 2^20 feature slots are folded into: `2^BITS` (`BITS=12..18`
/// in the environment; 14, the shipped model's, by default).
static BITS: std::sync::LazyLock<u32> = std::sync::LazyLock::new(|| {
    std::env::var("BITS")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(14)
});

struct Item {
    label: Option<ScamKind>,
    dev: bool,
    slots: Vec<u32>,
    lex: [u32; KINDS],
}

#[derive(Clone, Copy, Debug)]
struct Variant {
    name: &'static str,
    /// Weight of the lexicon's scores as features (0 = not read).
    lex_weight: f32,
    /// Weight of a weakly labelled message (the lexicon's kind) in training.
    weak_weight: f32,
    /// Keep the lexicon's kind when it names one (not marketing).
    lexicon_first: bool,
    passes: usize,
    lr: f32,
    /// The hashed text features (false: lexicon scores only).
    text: bool,
    /// Starting weight of each kind's lexicon score for that kind (a prior:
    /// with no example of a kind, its phrases still name it). 0 = none.
    prior: f32,
    /// Class balance: a labelled example's step is scaled by
    /// `(n / (kinds present * n_kind))^balance`, so a kind with 4 examples
    /// is not outvoted by one with 75 (0 = every example alike).
    balance: f32,
    /// The lexicon decides when its kind's score is at least this (strong
    /// phrase evidence outranks a model with few examples of the kind);
    /// 0 = never.
    lexicon_strong: u32,
}

fn bits() -> u32 {
    *BITS
}

fn features(it: &Item, v: &Variant) -> Vec<(u32, f32)> {
    let mut x: Vec<(u32, f32)> = Vec::new();
    if v.text {
        let n = it.slots.len().max(1) as f32;
        let val = 1.0 / n.sqrt();
        x.extend(it.slots.iter().map(|s| (s >> (20 - bits()), val)));
    }
    if v.lex_weight > 0.0 {
        let base = 1u32 << bits();
        for k in 0..KINDS {
            if it.lex[k] > 0 {
                x.push((
                    base + k as u32,
                    v.lex_weight * (it.lex[k].min(20) as f32 / 10.0),
                ));
            }
        }
    }
    x.push(((1 << bits()) + KINDS as u32, 1.0)); // bias
    x
}

struct Learner {
    w: Vec<[f32; KINDS]>,
}

impl Learner {
    fn new() -> Learner {
        Learner {
            w: vec![[0.0; KINDS]; (1 << bits()) + KINDS + 1],
        }
    }
    fn scores(&self, x: &[(u32, f32)]) -> [f32; KINDS] {
        let mut s = [0.0; KINDS];
        for &(i, v) in x {
            let w = &self.w[i as usize];
            for k in 0..KINDS {
                s[k] += w[k] * v;
            }
        }
        s
    }
    fn learn(&mut self, x: &[(u32, f32)], label: usize, lr: f32) {
        let s = self.scores(x);
        for (k, score) in s.iter().enumerate() {
            let y = if k == label { 1.0 } else { -1.0 };
            if y * score < 1.0 {
                for &(i, v) in x {
                    self.w[i as usize][k] += lr * y * v;
                }
            }
        }
    }
}

fn argmax(s: &[f32; KINDS]) -> usize {
    let mut b = 0;
    for k in 1..KINDS {
        if s[k] > s[b] {
            b = k;
        }
    }
    b
}

fn lexicon_kind(lex: &[u32; KINDS]) -> usize {
    // As `KindEvidence::kind`.
    let mut best = ScamKind::Marketing as usize;
    let mut best_score = spamtrace_classify::kinds::MIN_KIND_SCORE - 1;
    for k in ScamKind::ALL {
        if k != ScamKind::Marketing && lex[k as usize] > best_score {
            best = k as usize;
            best_score = lex[k as usize];
        }
    }
    best
}

fn train(items: &[&Item], weak: &[&Item], v: &Variant) -> Learner {
    let mut l = Learner::new();
    if v.prior != 0.0 {
        for k in 0..KINDS {
            l.w[(1 << bits()) + k][k] = v.prior;
        }
    }
    // (features, kind, weight of the message)
    type Weighted = (Vec<(u32, f32)>, usize, f32);
    let mut count = [0usize; KINDS];
    for it in items {
        count[it.label.unwrap() as usize] += 1;
    }
    let present = count.iter().filter(|c| **c > 0).count().max(1);
    let weight = |k: usize| match v.balance {
        0.0 => 1.0,
        b => (items.len() as f32 / (present * count[k]) as f32).powf(b),
    };
    let mut batch: Vec<Weighted> = items
        .iter()
        .map(|it| {
            let k = it.label.unwrap() as usize;
            (features(it, v), k, weight(k))
        })
        .collect();
    if v.weak_weight > 0.0 {
        batch.extend(
            weak.iter()
                .map(|it| (features(it, v), lexicon_kind(&it.lex), v.weak_weight)),
        );
    }
    for order in spamtrace_classify::kind_model::pass_orders(batch.len(), v.passes) {
        for i in order {
            let (x, y, wt) = &batch[i];
            l.learn(x, *y, v.lr * wt);
        }
    }
    l
}

fn predict(l: &Learner, it: &Item, v: &Variant) -> usize {
    let lex = lexicon_kind(&it.lex);
    if v.passes == 0 || (v.lexicon_first && lex != ScamKind::Marketing as usize) {
        return lex;
    }
    if v.lexicon_strong > 0
        && lex != ScamKind::Marketing as usize
        && it.lex[lex] >= v.lexicon_strong
    {
        return lex;
    }
    argmax(&l.scores(&features(it, v)))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = PathBuf::from(&args[1]);
    let test_variant = args
        .iter()
        .position(|a| a == "--test")
        .map(|i| args[i + 1].clone());
    let labels: HashMap<String, ScamKind> = kinds_set::load_set()
        .into_iter()
        .map(|l| (l.sha256, l.kind))
        .collect();
    let model = Model::builtin();
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let mut items = Vec::new();
    for (sha, bytes) in kinds_set::drawn_messages(&root) {
        let a = analyze(&bytes, &limits, &trusted);
        let dev = kinds_set::is_dev(&sha);
        let label = labels.get(&sha).copied();
        // Test-half messages are never trained on, labelled or not.
        if !dev && label.is_none() {
            continue;
        }
        items.push(Item {
            label,
            dev,
            slots: model.features_of(&a).slots,
            lex: kind_evidence(&a, false).scores,
        });
    }
    let dev: Vec<&Item> = items
        .iter()
        .filter(|i| i.dev && i.label.is_some())
        .collect();
    let test: Vec<&Item> = items
        .iter()
        .filter(|i| !i.dev && i.label.is_some())
        .collect();
    let weak: Vec<&Item> = items
        .iter()
        .filter(|i| i.dev && i.label.is_none())
        .collect();
    eprintln!(
        "dev {} labelled, test {} labelled, {} unlabelled dev-half spam for weak labels",
        dev.len(),
        test.len(),
        weak.len()
    );
    let base = Variant {
        name: "",
        lex_weight: 0.0,
        weak_weight: 0.0,
        lexicon_first: false,
        passes: 10,
        lr: 0.5,
        text: true,
        prior: 0.0,
        balance: 0.0,
        lexicon_strong: 0,
    };
    let variants = [
        Variant {
            name: "lexicon",
            lexicon_first: true,
            text: false,
            passes: 0,
            ..base
        },
        Variant {
            name: "learned",
            ..base
        },
        Variant {
            name: "learned+lex1",
            lex_weight: 1.0,
            ..base
        },
        Variant {
            name: "learned+lex3",
            lex_weight: 3.0,
            ..base
        },
        Variant {
            name: "lexicon-first, else learned",
            lexicon_first: true,
            ..base
        },
        Variant {
            name: "learned+weak0.3",
            weak_weight: 0.3,
            ..base
        },
        Variant {
            name: "learned+lex1+weak0.3",
            lex_weight: 1.0,
            weak_weight: 0.3,
            ..base
        },
        Variant {
            name: "learned+lex3+weak0.3",
            lex_weight: 3.0,
            weak_weight: 0.3,
            ..base
        },
        Variant {
            name: "lexicon-first, else learned+weak0.3",
            lexicon_first: true,
            weak_weight: 0.3,
            ..base
        },
        Variant {
            name: "learned+lex1+weak1",
            lex_weight: 1.0,
            weak_weight: 1.0,
            ..base
        },
        Variant {
            name: "learned+lex2",
            lex_weight: 2.0,
            ..base
        },
        Variant {
            name: "learned+lex5",
            lex_weight: 5.0,
            ..base
        },
        Variant {
            name: "learned+lex3, 5 passes",
            lex_weight: 3.0,
            passes: 5,
            ..base
        },
        Variant {
            name: "learned+lex3, 20 passes",
            lex_weight: 3.0,
            passes: 20,
            ..base
        },
        Variant {
            name: "learned+lex3, lr 0.1",
            lex_weight: 3.0,
            lr: 0.1,
            ..base
        },
        Variant {
            name: "learned+lex3, prior 0.5",
            lex_weight: 3.0,
            prior: 0.5,
            ..base
        },
        Variant {
            name: "learned+lex3, prior 1",
            lex_weight: 3.0,
            prior: 1.0,
            ..base
        },
        Variant {
            name: "learned+lex3, prior 2",
            lex_weight: 3.0,
            prior: 2.0,
            ..base
        },
        Variant {
            name: "learned+lex3, balance 0.5",
            lex_weight: 3.0,
            balance: 0.5,
            ..base
        },
        Variant {
            name: "learned+lex3, balance 1",
            lex_weight: 3.0,
            balance: 1.0,
            ..base
        },
        Variant {
            name: "learned+lex3, balance 0.25",
            lex_weight: 3.0,
            balance: 0.25,
            ..base
        },
        Variant {
            name: "learned+lex3, lexicon decides at score 8",
            lex_weight: 3.0,
            lexicon_strong: 8,
            ..base
        },
        Variant {
            name: "learned+lex3, lexicon decides at score 12",
            lex_weight: 3.0,
            lexicon_strong: 12,
            ..base
        },
        Variant {
            name: "learned+lex3, lexicon decides at score 16",
            lex_weight: 3.0,
            lexicon_strong: 16,
            ..base
        },
        Variant {
            name: "lex3 only (learned weights of the lexicon scores)",
            lex_weight: 3.0,
            text: false,
            ..base
        },
    ];
    if let Some(name) = test_variant {
        let v = variants.iter().find(|v| v.name == name).expect("variant");
        let l = train(&dev, &weak, v);
        let mut conf = Confusion::new();
        for it in &test {
            *conf
                .entry((it.label.unwrap(), ScamKind::ALL[predict(&l, it, v)]))
                .or_default() += 1;
        }
        report(&format!("TEST {}", v.name), &conf);
        return;
    }
    for v in &variants {
        let mut conf = Confusion::new();
        for fold in 0..5 {
            let tr: Vec<&Item> = dev
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 5 != fold)
                .map(|(_, x)| *x)
                .collect();
            let l = train(&tr, &weak, v);
            for (i, it) in dev.iter().enumerate() {
                if i % 5 == fold {
                    *conf
                        .entry((it.label.unwrap(), ScamKind::ALL[predict(&l, it, v)]))
                        .or_default() += 1;
                }
            }
        }
        report(&format!("dev 5-fold {}", v.name), &conf);
    }
}

fn report(name: &str, conf: &Confusion) {
    let (right, total) = kinds_set::accuracy(conf);
    let mut per = String::new();
    let (mut recall_sum, mut kinds) = (0.0, 0);
    for k in ScamKind::ALL {
        let (r, p, t) = kinds_set::kind_counts(conf, k);
        per.push_str(&format!(" {}:{r}/{p}/{t}", k.as_str()));
        if t > 0 {
            recall_sum += r as f64 / t as f64;
            kinds += 1;
        }
    }
    println!(
        "{name}: {right}/{total} = {:.1}%, mean recall over kinds {:.1}% |{per}",
        100.0 * right as f64 / total as f64,
        100.0 * recall_sum / kinds.max(1) as f64
    );
}
