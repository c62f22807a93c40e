//! Honest model selection: every variant trains on the first 60% (80%) of
//! the training half and is scored on the next 20% (the validation slices);
//! the variant with the best chronological-validation (1-ROCA)% (also shown:
//! pooled 5-fold interleaved cross-validation of the training half, which
//! ignores drift over time) is then trained on the
//! whole training half and scored once on the test half. The test half is
//! never used to choose anything.
//!
//! cargo run -p spamtrace-classify --release --example tune -- \
//!     ../shared/corpora/spamassassin/full/index [split=0.5]

use spamtrace_classify::eval::{load_messages, read_trec_index, recall_at_fpr, roc_area};
use spamtrace_classify::features::{FeatureSet, Featurizer, Slots};
use spamtrace_mail::{Analysis, Label, Limits, TrustedHosts, analyze};

#[path = "tune/experiments.rs"]
mod experiments;

#[derive(Clone, Copy, Debug)]
enum Loss {
    Logistic,
    Hinge,
}

#[derive(Clone, Copy, Debug)]
struct Learner {
    loss: Loss,
    lr: f32,
    epochs: usize,
    bits: u32,
}

fn slots_for(analyses: &[Analysis], set: FeatureSet, bits: u32) -> Vec<Vec<u32>> {
    let mut f = Featurizer::new(set);
    // Optional overrides, to measure the text budgets.
    if let Some(v) = std::env::var("CHAR4_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        f.limits.max_char4_bytes = v;
    }
    if let Some(v) = std::env::var("WORD_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        f.limits.max_word_bytes = v;
    }
    let mut s = Slots::new(bits);
    analyses
        .iter()
        .map(|a| {
            s.clear();
            f.extract(a, &mut s);
            s.slots.clone()
        })
        .collect()
}

/// Train on `train` indices in order, return scores of `test` indices.
fn run(
    slots: &[Vec<u32>],
    labels: &[bool],
    l: Learner,
    train: std::ops::Range<usize>,
    test: std::ops::Range<usize>,
) -> Vec<(f64, bool)> {
    let train: Vec<usize> = train.collect();
    let test: Vec<usize> = test.collect();
    run_idx(slots, labels, l, &train, &test)
}

fn run_idx(
    slots: &[Vec<u32>],
    labels: &[bool],
    l: Learner,
    train: &[usize],
    test: &[usize],
) -> Vec<(f64, bool)> {
    let mut w = vec![0.0f32; 1 << l.bits];
    for _ in 0..l.epochs {
        for &i in train {
            step(&mut w, &slots[i], labels[i], l);
        }
    }
    test.iter()
        .map(|&i| (score(&w, &slots[i]), labels[i]))
        .collect()
}

fn score(w: &[f32], sl: &[u32]) -> f64 {
    let v = 1.0 / (sl.len().max(1) as f64).sqrt();
    sl.iter().map(|s| w[*s as usize]).sum::<f32>() as f64 * v
}

fn step(w: &mut [f32], sl: &[u32], spam: bool, l: Learner) {
    let v = 1.0 / (sl.len().max(1) as f32).sqrt();
    let m: f32 = sl.iter().map(|s| w[*s as usize]).sum::<f32>() * v;
    let step = match l.loss {
        Loss::Logistic => {
            let y = if spam { 1.0 } else { 0.0 };
            let p = 1.0 / (1.0 + (-m.clamp(-30.0, 30.0)).exp());
            l.lr * (y - p) * v
        }
        Loss::Hinge => {
            let y = if spam { 1.0 } else { -1.0 };
            if y * m >= 1.0 {
                return;
            }
            l.lr * y * v
        }
    };
    for s in sl {
        w[*s as usize] += step;
    }
}

fn figures(scores: &[(f64, bool)]) -> (f64, f64) {
    (
        100.0 * (1.0 - roc_area(scores)),
        100.0 * recall_at_fpr(scores, 0.001),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let index = args.get(1).expect("usage: tune INDEX [SPLIT]");
    let split: f64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(0.5);
    let entries = read_trec_index(index.as_ref()).unwrap();
    let messages = load_messages(&entries).unwrap();
    let n = messages.len();
    let n_train = (n as f64 * split).floor() as usize;
    let n_fit = n_train * 4 / 5;
    let labels: Vec<bool> = messages.iter().map(|m| m.1 == Label::Spam).collect();
    println!(
        "{n} messages: fit {n_fit}, validation {}, test {}",
        n_train - n_fit,
        n - n_train
    );
    let t = std::time::Instant::now();
    let analyses: Vec<Analysis> = messages
        .iter()
        .map(|(b, _)| analyze(b, &Limits::default(), &TrustedHosts::default()))
        .collect();
    let parse_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let feats = slots_for(&analyses, FeatureSet::DEFAULT, 20);
    let feat_s = t.elapsed().as_secs_f64();
    println!(
        "one core: parse {:.0} msgs/s, featurize (default set) {:.0} msgs/s, {} features/msg",
        n as f64 / parse_s,
        n as f64 / feat_s,
        feats.iter().map(|f| f.len()).sum::<usize>() / n
    );
    if std::env::var_os("EXPLAIN").is_some() {
        explain_validation_errors(&messages, &analyses, n_train);
        return;
    }
    if std::env::var_os("EXP").is_some() {
        experiments::run_all(&analyses, &labels, n_train);
        return;
    }
    let base = Learner {
        loss: Loss::Logistic,
        lr: 10.0,
        epochs: 1,
        bits: 20,
    };
    let sets: [(&str, &str); 8] = [
        (
            "previous groups",
            "words+bigrams+char4+headers+structure+hwords+rcpt+rwords",
        ),
        (
            "- rcpt",
            "words+bigrams+char4+headers+structure+hwords+sgrams+script+rwords",
        ),
        (
            "- rcpt - rwords",
            "words+bigrams+char4+headers+structure+hwords+sgrams+script",
        ),
        (
            "- rcpt - rwords + digits",
            "words+bigrams+char4+headers+structure+hwords+sgrams+script+digits",
        ),
        (
            "- rcpt - hwords",
            "words+bigrams+char4+headers+structure+sgrams+script",
        ),
        (
            "- rcpt - hwords + digits",
            "words+bigrams+char4+headers+structure+sgrams+script+digits",
        ),
        (
            "- rcpt - hwords - headers",
            "words+bigrams+char4+structure+sgrams+script",
        ),
        (
            "- rcpt - hwords - headers + digits",
            "words+bigrams+char4+structure+sgrams+script+digits",
        ),
    ];
    let learners = [
        ("log lr10 x1", base),
        (
            "log lr3 x5",
            Learner {
                lr: 3.0,
                epochs: 5,
                ..base
            },
        ),
        (
            "hinge lr1 x3",
            Learner {
                loss: Loss::Hinge,
                lr: 1.0,
                epochs: 3,
                ..base
            },
        ),
        (
            "hinge lr0.5 x5",
            Learner {
                loss: Loss::Hinge,
                lr: 0.5,
                epochs: 5,
                ..base
            },
        ),
        (
            "hinge lr1 x5 2^22",
            Learner {
                loss: Loss::Hinge,
                lr: 1.0,
                epochs: 5,
                bits: 22,
            },
        ),
    ];
    let mut variants: Vec<(String, &str, Learner)> = Vec::new();
    let only = std::env::var("ONLY_SET").ok();
    for (sname, set) in sets {
        if only.as_deref().is_some_and(|o| o != set) {
            continue;
        }
        for (lname, l) in learners {
            variants.push((format!("{sname}, {lname}"), set, l));
        }
    }
    println!(
        "\n{:<44} {:>10} {:>10} {:>10} {:>10}",
        "variant", "cv5 ROCA", "cv5 rec", "chron ROCA", "chron rec"
    );
    let mut cache: std::collections::HashMap<(String, u32), Vec<Vec<u32>>> = Default::default();
    let mut best: Option<(f64, usize)> = None;
    for (k, (name, set, l)) in variants.iter().enumerate() {
        let slots = cache
            .entry((set.to_string(), l.bits))
            .or_insert_with(|| slots_for(&analyses, FeatureSet::parse(set).unwrap(), l.bits));
        // Chronological validation, like the test: train on the first 60%
        // of the training half, score the next 20%; train on the first 80%,
        // score the last 20%; scores pooled.
        let n_60 = n_train * 3 / 5;
        let mut chrono = run(slots, &labels, *l, 0..n_60, n_60..n_fit);
        chrono.extend(run(slots, &labels, *l, 0..n_fit, n_fit..n_train));
        let (vroca, vrec) = figures(&chrono);
        // Five interleaved folds of the training half, scores pooled.
        let mut pooled = Vec::with_capacity(n_train);
        for fold in 0..5 {
            let train: Vec<usize> = (0..n_train).filter(|i| i % 5 != fold).collect();
            let test: Vec<usize> = (0..n_train).filter(|i| i % 5 == fold).collect();
            pooled.extend(run_idx(slots, &labels, *l, &train, &test));
        }
        let (roca, rec) = figures(&pooled);
        println!("{name:<44} {roca:>10.3} {rec:>10.1} {vroca:>10.3} {vrec:>10.1}");
        if best.is_none_or(|b| vroca < b.0) {
            best = Some((vroca, k));
        }
    }
    let (_, k) = best.unwrap();
    println!(
        "\nchosen on chronological validation inside the training half: {}",
        variants[k].0
    );
    for k in [0, k] {
        let (name, set, l) = &variants[k];
        let slots = &cache[&(set.to_string(), l.bits)];
        let (roca, rec) = figures(&run(slots, &labels, *l, 0..n_train, n_train..n));
        println!("TEST {name:<51} {roca:>12.3} {rec:>12.1}");
    }
}

/// The worst-scored messages of the validation slices (train on the first
/// 60% of the training half, score the next 40%) with the features that
/// pushed them most: what the model gets wrong, without touching the test.
fn explain_validation_errors(messages: &[(Vec<u8>, Label)], analyses: &[Analysis], n_train: usize) {
    use spamtrace_classify::{Model, ModelConfig};
    let cfg = ModelConfig::default();
    let n_60 = n_train * 3 / 5;
    let mut m = Model::new(cfg);
    let batch: Vec<_> = analyses[..n_60]
        .iter()
        .zip(messages)
        .map(|(a, (_, l))| (Model::message_key(a), m.features_of(a), *l))
        .collect();
    m.train_batch(&batch, cfg.passes);
    let mut scored: Vec<(f32, usize)> = (n_60..n_train)
        .map(|i| (m.log_odds(&analyses[i]), i))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let hams: Vec<_> = scored
        .iter()
        .rev()
        .filter(|(_, i)| messages[*i].1 == Label::Ham)
        .take(8)
        .collect();
    let spams: Vec<_> = scored
        .iter()
        .filter(|(_, i)| messages[*i].1 == Label::Spam)
        .take(8)
        .collect();
    for (what, list) in [("HAM scored high", hams), ("SPAM scored low", spams)] {
        for (x, i) in list {
            let a = &analyses[*i];
            println!("\n{what}: #{i} log-odds {x:.2} subject {:?}", a.subject);
            for c in m.explain(a, 12) {
                println!("   {:+.3} {}", c.weight, c.feature);
            }
        }
    }
}
