//! Measure model alternatives against each other on a TREC index split:
//! feature groups, hash sizes, learners (plain SGD logistic regression vs
//! FTRL-proximal), learning rates, passes; and the cost of each stage.
//!
//! cargo run -p spamtrace-classify --release --example bench_models -- \
//!     ../shared/corpora/spamassassin/full/index [split=0.5]
//!
//! Every variant trains on the first part of the index (in order) and is
//! scored on the rest; no variant is ever scored on a message it learnt.

use spamtrace_classify::eval::{load_messages, read_trec_index, recall_at_fpr, roc_area};
use spamtrace_classify::features::{FeatureSet, Featurizer, Slots};
use spamtrace_classify::{Model, ModelConfig};
use spamtrace_mail::{Analysis, Label, Limits, TrustedHosts, analyze};
use std::time::Instant;

/// FTRL-proximal (McMahan et al. 2013), per-coordinate learning rates, L1/L2.
struct Ftrl {
    z: Vec<f32>,
    n: Vec<f32>,
    alpha: f32,
    beta: f32,
    l1: f32,
    l2: f32,
}

impl Ftrl {
    fn new(bits: u32, alpha: f32, l1: f32) -> Ftrl {
        Ftrl {
            z: vec![0.0; 1 << bits],
            n: vec![0.0; 1 << bits],
            alpha,
            beta: 1.0,
            l1,
            l2: 1.0,
        }
    }
    fn w(&self, i: usize) -> f32 {
        let z = self.z[i];
        if z.abs() <= self.l1 {
            0.0
        } else {
            -(z - z.signum() * self.l1) / ((self.beta + self.n[i].sqrt()) / self.alpha + self.l2)
        }
    }
    fn score(&self, slots: &[u32]) -> f32 {
        slots.iter().map(|s| self.w(*s as usize)).sum()
    }
    fn learn(&mut self, slots: &[u32], spam: bool) {
        let p = 1.0 / (1.0 + (-self.score(slots).clamp(-30.0, 30.0)).exp());
        let g = p - spam as u8 as f32;
        for &s in slots {
            let i = s as usize;
            let w = self.w(i);
            let sigma = ((self.n[i] + g * g).sqrt() - self.n[i].sqrt()) / self.alpha;
            self.z[i] += g - sigma * w;
            self.n[i] += g * g;
        }
    }
}

fn slots_for(analyses: &[Analysis], set: FeatureSet, bits: u32) -> Vec<Vec<u32>> {
    let f = Featurizer::new(set);
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

fn figures(scores: &[(f64, bool)]) -> (f64, f64) {
    (
        100.0 * (1.0 - roc_area(scores)),
        100.0 * recall_at_fpr(scores, 0.001),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let index = args.get(1).expect("usage: bench_models INDEX [SPLIT]");
    let split: f64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(0.5);
    let entries = read_trec_index(index.as_ref()).unwrap();
    let messages = load_messages(&entries).unwrap();
    let n_train = (messages.len() as f64 * split).round() as usize;
    let labels: Vec<bool> = messages.iter().map(|m| m.1 == Label::Spam).collect();
    let bytes: usize = messages.iter().map(|m| m.0.len()).sum();
    println!(
        "{} messages ({} MB), {} train, {} test",
        messages.len(),
        bytes >> 20,
        n_train,
        messages.len() - n_train
    );

    // Stage costs (one thread).
    let t = Instant::now();
    let analyses: Vec<Analysis> = messages
        .iter()
        .map(|(b, _)| analyze(b, &Limits::default(), &TrustedHosts::default()))
        .collect();
    let parse_s = t.elapsed().as_secs_f64();
    println!(
        "parse:      {:>8.0} msgs/s",
        messages.len() as f64 / parse_s
    );
    let f = Featurizer::new(FeatureSet::ALL);
    let mut s = Slots::new(20);
    let t = Instant::now();
    let mut total = 0usize;
    for _ in 0..3 {
        for a in &analyses {
            s.clear();
            f.extract(a, &mut s);
            total += s.slots.len();
        }
    }
    let feat_s = t.elapsed().as_secs_f64() / 3.0;
    println!(
        "featurize:  {:>8.0} msgs/s ({} features/msg after dedup)",
        messages.len() as f64 / feat_s,
        total / 3 / messages.len()
    );
    let mut model = Model::new(ModelConfig::default());
    for (a, (_, l)) in analyses[..n_train].iter().zip(&messages) {
        model.train(a, *l);
    }
    let t = Instant::now();
    let mut sink = 0.0f32;
    for _ in 0..3 {
        for a in &analyses[n_train..] {
            sink += model.classify(a).score;
        }
    }
    let cls_s = t.elapsed().as_secs_f64() / 3.0;
    println!(
        "classify (featurize+score+kind, no parse): {:>8.0} msgs/s  [{sink:.0}]",
        (messages.len() - n_train) as f64 / cls_s
    );

    println!(
        "\n{:<52} {:>10} {:>14}",
        "variant", "(1-ROCA)%", "recall@0.1%FPR"
    );
    // Local SGD so that options can be compared: `norm` scales each message's
    // features to unit length; `margin` skips updates on messages already
    // right with |log-odds| above it (a "thick threshold").
    let run_sgd =
        |slots: &[Vec<u32>], bits: u32, lr: f32, epochs: usize, norm: bool, margin: f32| {
            let mut w = vec![0.0f32; 1 << bits];
            for _ in 0..epochs {
                for i in 0..n_train {
                    let sl = &slots[i];
                    let v = if norm {
                        1.0 / (sl.len() as f32).sqrt()
                    } else {
                        1.0
                    };
                    let m: f32 = sl.iter().map(|s| w[*s as usize]).sum::<f32>() * v;
                    let y = if labels[i] { 1.0 } else { 0.0 };
                    if (y == 1.0 && m > margin) || (y == 0.0 && m < -margin) {
                        continue;
                    }
                    let p = 1.0 / (1.0 + (-m.clamp(-30.0, 30.0)).exp());
                    let step = lr * (y - p) * v;
                    for s in sl {
                        w[*s as usize] += step;
                    }
                }
            }
            let sc: Vec<(f64, bool)> = (n_train..slots.len())
                .map(|i| {
                    (
                        slots[i].iter().map(|s| w[*s as usize]).sum::<f32>() as f64
                            / if norm {
                                (slots[i].len() as f64).sqrt()
                            } else {
                                1.0
                            },
                        labels[i],
                    )
                })
                .collect();
            figures(&sc)
        };
    let line = |name: String, (roca, rec): (f64, f64)| {
        println!("{:<52} {:>10.3} {:>14.1}", name, roca, rec)
    };
    let sets = std::env::var("SETS").unwrap_or("words,words+bigrams,words+char4,words+bigrams+char4,words+bigrams+char4+headers,words+bigrams+char4+headers+hwords,words+bigrams+headers+hwords+structure,all".into());
    for set in sets.split(',') {
        let fs = FeatureSet::parse(set).unwrap();
        let slots = slots_for(&analyses, fs, 20);
        line(
            format!("SGD lr=0.02 2^20 {set}"),
            run_sgd(&slots, 20, 0.02, 1, false, f32::INFINITY),
        );
        line(
            format!("SGD-norm lr=0.5 2^20 {set}"),
            run_sgd(&slots, 20, 0.5, 1, true, f32::INFINITY),
        );
    }
    for bits in [16, 18, 22] {
        let slots = slots_for(&analyses, FeatureSet::ALL, bits);
        line(
            format!("SGD lr=0.02 2^{bits} all"),
            run_sgd(&slots, bits, 0.02, 1, false, f32::INFINITY),
        );
        line(
            format!("SGD-norm lr=0.5 2^{bits} all"),
            run_sgd(&slots, bits, 0.5, 1, true, f32::INFINITY),
        );
    }
    let slots = slots_for(&analyses, FeatureSet::ALL, 20);
    for lr in [0.005, 0.01, 0.05] {
        line(
            format!("SGD lr={lr} 2^20 all"),
            run_sgd(&slots, 20, lr, 1, false, f32::INFINITY),
        );
    }
    for lr in [0.1, 0.25, 1.0, 2.0] {
        line(
            format!("SGD-norm lr={lr} 2^20 all"),
            run_sgd(&slots, 20, lr, 1, true, f32::INFINITY),
        );
    }
    for epochs in [2, 4] {
        line(
            format!("SGD lr=0.02 2^20 all, {epochs} passes"),
            run_sgd(&slots, 20, 0.02, epochs, false, f32::INFINITY),
        );
        line(
            format!("SGD-norm lr=0.5 2^20 all, {epochs} passes"),
            run_sgd(&slots, 20, 0.5, epochs, true, f32::INFINITY),
        );
    }
    // Averaged SGD: score with the average of the weights over all steps
    // (Polyak-Ruppert), a strong regulariser for one-pass learners.
    let run_avg = |slots: &[Vec<u32>], bits: u32, lr: f32, epochs: usize| {
        let mut w = vec![0.0f32; 1 << bits];
        let mut u = vec![0.0f32; 1 << bits];
        let mut c = 1.0f32;
        for _ in 0..epochs {
            for i in 0..n_train {
                let sl = &slots[i];
                let m: f32 = sl.iter().map(|s| w[*s as usize]).sum();
                let y = if labels[i] { 1.0 } else { 0.0 };
                let p = 1.0 / (1.0 + (-m.clamp(-30.0, 30.0)).exp());
                let step = lr * (y - p);
                for s in sl {
                    w[*s as usize] += step;
                    u[*s as usize] += c * step;
                }
                c += 1.0;
            }
        }
        let avg: Vec<f32> = w.iter().zip(&u).map(|(w, u)| w - u / c).collect();
        let sc: Vec<(f64, bool)> = (n_train..slots.len())
            .map(|i| {
                (
                    slots[i].iter().map(|s| avg[*s as usize]).sum::<f32>() as f64,
                    labels[i],
                )
            })
            .collect();
        figures(&sc)
    };
    for (lr, ep) in [(0.02, 1), (0.05, 1), (0.1, 1), (0.02, 3)] {
        line(
            format!("averaged SGD lr={lr} 2^20 all, {ep} passes"),
            run_avg(&slots, 20, lr, ep),
        );
    }
    for lr in [5.0, 10.0, 20.0] {
        line(
            format!("SGD-norm lr={lr} 2^20 all"),
            run_sgd(&slots, 20, lr, 1, true, f32::INFINITY),
        );
    }
    for (lr, ep) in [(10.0, 2), (10.0, 3), (5.0, 3), (3.0, 5)] {
        line(
            format!("SGD-norm lr={lr} 2^20 all, {ep} passes"),
            run_sgd(&slots, 20, lr, ep, true, f32::INFINITY),
        );
    }
    for set in [
        "words+bigrams+char4",
        "words+bigrams+char4+headers+hwords",
        "words+bigrams+char4+headers+structure",
    ] {
        let fs = FeatureSet::parse(set).unwrap();
        let sl = slots_for(&analyses, fs, 20);
        line(
            format!("SGD-norm lr=10 2^20 {set}"),
            run_sgd(&sl, 20, 10.0, 1, true, f32::INFINITY),
        );
    }
    for bits in [18, 22] {
        let sl = slots_for(&analyses, FeatureSet::ALL, bits);
        line(
            format!("SGD-norm lr=10 2^{bits} all"),
            run_sgd(&sl, bits, 10.0, 1, true, f32::INFINITY),
        );
    }
    for margin in [2.0, 4.0] {
        line(
            format!("SGD lr=0.02 2^20 all, thick threshold {margin}"),
            run_sgd(&slots, 20, 0.02, 1, false, margin),
        );
    }
    for (alpha, l1) in [(0.01, 0.0), (0.02, 0.0), (0.05, 0.0), (0.1, 1.0)] {
        let mut m = Ftrl::new(20, alpha, l1);
        for i in 0..n_train {
            m.learn(&slots[i], labels[i]);
        }
        let sc: Vec<(f64, bool)> = (n_train..slots.len())
            .map(|i| (m.score(&slots[i]) as f64, labels[i]))
            .collect();
        line(format!("FTRL alpha={alpha} l1={l1} 2^20 all"), figures(&sc));
    }
}
