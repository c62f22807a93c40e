//! Second-round variants (`EXP=1 tune INDEX`): weight averaging, more passes,
//! a Robinson/Fisher token model like bogofilter's, and ensembles of the
//! hinge model with it, each scored by the same chronological validation
//! inside the training half (and cv5). Nothing here looks at the test half.

use super::{figures, slots_for};
use spamtrace_classify::Calibration;
use spamtrace_classify::features::FeatureSet;
use spamtrace_mail::Analysis;

/// A learner and its settings.
#[derive(Clone, Debug)]
pub enum Method {
    /// SGD on the hinge loss over unit-length binary features; `avg` returns
    /// the average of the weights over every step instead of the last ones.
    Hinge { lr: f32, epochs: usize, avg: bool },
    /// Robinson's smoothed per-feature spam probability, combined with
    /// Fisher's chi-square (bogofilter), ranked by the log ratio of the two
    /// chi-square tails (no saturation at 0/1). `min_dev`: features with
    /// |f - 0.5| below it are ignored.
    Fisher { min_dev: f64, robs: f64, robx: f64 },
    /// Calibrated log-odds of the components (Platt fitted on the two inner
    /// chronological windows of the component's own training data), summed
    /// with the given weights.
    Ensemble(Vec<(Method, usize, f64)>),
    /// Raw scores of the components times fixed weights, summed.
    Sum(Vec<(Method, usize, f64)>),
    /// A method's score clipped to [-bound, bound]: no component can
    /// outvote the others by more than that.
    Clip(Box<Method>, f64),
    /// Fisher's score divided by the square root of the number of features
    /// used (a per-feature average, bounded however long the message).
    FisherPerToken(f64),
}

/// Trained scorer.
enum Fitted {
    Linear(Vec<f32>),
    Fisher {
        ln_f: Vec<f32>,
        ln_1f: Vec<f32>,
        keep: Vec<bool>,
    },
    Ensemble(Vec<(Fitted, usize, f64, Calibration)>),
    Clip(Box<Fitted>, f64),
    PerToken(Box<Fitted>),
}

fn hinge(
    slots: &[Vec<u32>],
    labels: &[bool],
    train: &[usize],
    lr: f32,
    epochs: usize,
    avg: bool,
) -> Vec<f32> {
    let size = 1usize << 20;
    let mut w = vec![0.0f32; size];
    let mut u = if avg { vec![0.0f64; size] } else { Vec::new() };
    let mut c = 1.0f64;
    for _ in 0..epochs {
        for &i in train {
            let sl = &slots[i];
            let v = 1.0 / (sl.len().max(1) as f32).sqrt();
            let m: f32 = sl.iter().map(|s| w[*s as usize]).sum::<f32>() * v;
            let y = if labels[i] { 1.0 } else { -1.0 };
            if y * m < 1.0 {
                let d = lr * y * v;
                for s in sl {
                    w[*s as usize] += d;
                    if avg {
                        u[*s as usize] += c * d as f64;
                    }
                }
            }
            c += 1.0;
        }
    }
    if avg {
        for (wi, ui) in w.iter_mut().zip(&u) {
            *wi = (*wi as f64 - ui / c) as f32;
        }
    }
    w
}

fn fisher(
    slots: &[Vec<u32>],
    labels: &[bool],
    train: &[usize],
    min_dev: f64,
    robs: f64,
    robx: f64,
) -> Fitted {
    let size = 1usize << 20;
    let mut spam = vec![0u32; size];
    let mut ham = vec![0u32; size];
    let (mut nb, mut ng) = (0.0f64, 0.0f64);
    for &i in train {
        let counts = if labels[i] {
            nb += 1.0;
            &mut spam
        } else {
            ng += 1.0;
            &mut ham
        };
        for s in &slots[i] {
            counts[*s as usize] += 1;
        }
    }
    let (nb, ng) = (nb.max(1.0), ng.max(1.0));
    let mut ln_f = vec![0.0f32; size];
    let mut ln_1f = vec![0.0f32; size];
    let mut keep = vec![false; size];
    for s in 0..size {
        let (b, g) = (spam[s] as f64, ham[s] as f64);
        let n = b + g;
        let f = if n == 0.0 {
            robx
        } else {
            let p = (b / nb) / (b / nb + g / ng);
            (robs * robx + n * p) / (robs + n)
        };
        if (f - 0.5).abs() >= min_dev {
            keep[s] = true;
            ln_f[s] = f.ln() as f32;
            ln_1f[s] = (1.0 - f).ln() as f32;
        }
    }
    Fitted::Fisher { ln_f, ln_1f, keep }
}

/// ln of the upper tail of chi-square with `2k` degrees of freedom at `x`:
/// ln(e^{-m} sum_{i<k} m^i / i!), m = x/2, in log space (never 0 or 1).
fn ln_chi2_tail(x: f64, k: usize) -> f64 {
    let m = x / 2.0;
    if k == 0 || m <= 0.0 {
        return 0.0;
    }
    let lm = m.ln();
    let mut term = 0.0f64; // ln(m^0/0!)
    let mut acc = 0.0f64; // ln-sum-exp so far
    for i in 1..k {
        term += lm - (i as f64).ln();
        // acc = ln(exp(acc) + exp(term))
        if term > acc {
            acc = term + (1.0 + (acc - term).exp()).ln();
        } else {
            acc += (1.0 + (term - acc).exp()).ln();
        }
    }
    -m + acc
}

fn fit(method: &Method, feats: &[Vec<Vec<u32>>], labels: &[bool], train: &[usize]) -> Fitted {
    match method {
        Method::Hinge { lr, epochs, avg } => {
            Fitted::Linear(hinge(&feats[0], labels, train, *lr, *epochs, *avg))
        }
        Method::Fisher {
            min_dev,
            robs,
            robx,
        } => fisher(&feats[0], labels, train, *min_dev, *robs, *robx),
        Method::Clip(m, b) => Fitted::Clip(Box::new(fit(m, feats, labels, train)), *b),
        Method::FisherPerToken(robs) => {
            Fitted::PerToken(Box::new(fisher(&feats[0], labels, train, 0.0, *robs, 0.52)))
        }
        Method::Sum(parts) => Fitted::Ensemble(
            parts
                .iter()
                .map(|(m, fi, w)| {
                    let f = std::slice::from_ref(&feats[*fi]);
                    (
                        fit(m, f, labels, train),
                        *fi,
                        *w,
                        Calibration { a: 1.0, b: 0.0 },
                    )
                })
                .collect(),
        ),
        Method::Ensemble(parts) => Fitted::Ensemble(
            parts
                .iter()
                .map(|(m, fi, w)| {
                    let f = std::slice::from_ref(&feats[*fi]);
                    // Inner chronological windows of this training data.
                    let n = train.len();
                    let (n60, n80) = (n * 3 / 5, n * 4 / 5);
                    let mut pts = Vec::new();
                    for (a, b) in [(n60, n80), (n80, n)] {
                        let inner = fit(m, f, labels, &train[..a]);
                        pts.extend(
                            train[a..b]
                                .iter()
                                .map(|&i| (score(&inner, f, i) as f32, labels[i])),
                        );
                    }
                    let cal = if std::env::var_os("ZSCORE").is_some() {
                        zscore(&pts)
                    } else {
                        platt(&pts)
                    };
                    (fit(m, f, labels, train), *fi, *w, cal)
                })
                .collect(),
        ),
    }
}

fn score(fitted: &Fitted, feats: &[Vec<Vec<u32>>], i: usize) -> f64 {
    match fitted {
        Fitted::Linear(w) => {
            let sl = &feats[0][i];
            let v = 1.0 / (sl.len().max(1) as f64).sqrt();
            sl.iter().map(|s| w[*s as usize]).sum::<f32>() as f64 * v
        }
        Fitted::Fisher { ln_f, ln_1f, keep } => {
            let (mut q, mut p, mut k) = (0.0f64, 0.0f64, 0usize);
            for s in &feats[0][i] {
                let s = *s as usize;
                if keep[s] {
                    q += ln_f[s] as f64;
                    p += ln_1f[s] as f64;
                    k += 1;
                }
            }
            ln_chi2_tail(-2.0 * q, k) - ln_chi2_tail(-2.0 * p, k)
        }
        Fitted::Clip(f, b) => score(f, feats, i).clamp(-*b, *b),
        Fitted::PerToken(f) => {
            let k = feats[0][i].len().max(1) as f64;
            score(f, feats, i) / k.sqrt()
        }
        Fitted::Ensemble(parts) => parts
            .iter()
            .map(|(f, fi, w, cal)| {
                let x = score(f, std::slice::from_ref(&feats[*fi]), i);
                w * (cal.a as f64 * x + cal.b as f64)
            })
            .sum(),
    }
}

fn run_idx(
    method: &Method,
    feats: &[Vec<Vec<u32>>],
    labels: &[bool],
    train: &[usize],
    test: &[usize],
) -> Vec<(f64, bool)> {
    // Top-level feature choice: a plain method uses feature family 0.
    let f = fit(method, feats, labels, train);
    test.iter()
        .map(|&i| (score(&f, feats, i), labels[i]))
        .collect()
}

pub fn run_all(analyses: &[Analysis], labels: &[bool], n_train: usize) {
    let families = [
        ("default", FeatureSet::DEFAULT),
        (
            "default - char4",
            FeatureSet::parse("words+bigrams+structure+sgrams+script+digits").unwrap(),
        ),
        (
            "all headers",
            FeatureSet::parse("words+bigrams+headers+structure+hwords+sgrams+script+digits")
                .unwrap(),
        ),
        ("words", FeatureSet::parse("words+digits").unwrap()),
        (
            "words+bigrams",
            FeatureSet::parse("words+bigrams+digits").unwrap(),
        ),
        (
            "default - char4 - digits",
            FeatureSet::parse("words+bigrams+structure+sgrams+script").unwrap(),
        ),
    ];
    let feats: Vec<Vec<Vec<u32>>> = families
        .iter()
        .map(|(_, set)| slots_for(analyses, *set, 20))
        .collect();
    let base = Method::Hinge {
        lr: 0.5,
        epochs: 5,
        avg: false,
    };
    // bogofilter's robs and robx.
    let fisher = |min_dev| Method::Fisher {
        min_dev,
        robs: 0.0178,
        robx: 0.52,
    };
    // The rows of the README's second-round table.
    let mut variants: Vec<(String, usize, Method)> =
        vec![("hinge lr0.5 x5 (shipped)".into(), 0, base.clone())];
    for (epochs, avg) in [(5, true), (10, true), (20, false), (20, true)] {
        variants.push((
            format!(
                "hinge lr0.5 x{epochs}{}",
                if avg { " averaged" } else { "" }
            ),
            0,
            Method::Hinge {
                lr: 0.5,
                epochs,
                avg,
            },
        ));
    }
    for (fi, fname) in [(0, "default"), (1, "fam1"), (4, "words+bigrams")] {
        for md in [0.0, 0.1, 0.375] {
            if fi != 1 && md != 0.0 {
                continue;
            }
            variants.push((format!("fisher md{md} on {fname}"), fi, fisher(md)));
        }
    }
    variants.push((
        "fisher md0 robs 0.1 on fam1".into(),
        1,
        Method::Fisher {
            min_dev: 0.0,
            robs: 0.1,
            robx: 0.52,
        },
    ));
    variants.push((
        "Platt(hinge) + Platt(fisher md0 fam1)".into(),
        0,
        Method::Ensemble(vec![(base.clone(), 0, 1.0), (fisher(0.0), 1, 1.0)]),
    ));
    for c in [5.0, 10.0, 50.0] {
        variants.push((
            format!("fisher md0 fam1 + {c} x hinge"),
            0,
            Method::Sum(vec![(fisher(0.0), 1, 1.0), (base.clone(), 0, c)]),
        ));
    }
    variants.push((
        "fisher md0 fam1 + 10 x hinge on fam1".into(),
        0,
        Method::Sum(vec![(fisher(0.0), 1, 1.0), (base.clone(), 1, 10.0)]),
    ));
    variants.push((
        "hinge on all headers + hinge (Platt)".into(),
        0,
        Method::Ensemble(vec![(base.clone(), 0, 1.0), (base.clone(), 2, 1.0)]),
    ));
    variants.push((
        "10 x hinge + fisher clipped to +-20".into(),
        0,
        Method::Sum(vec![
            (Method::Clip(Box::new(fisher(0.0)), 20.0), 1, 1.0),
            (base.clone(), 0, 10.0),
        ]),
    ));
    variants.push((
        "fisher per token on fam1".into(),
        1,
        Method::FisherPerToken(0.0178),
    ));
    for c in [0.5, 1.0, 2.0] {
        variants.push((
            format!("hinge + {c} fisher per token"),
            0,
            Method::Sum(vec![
                (Method::FisherPerToken(0.0178), 1, c),
                (base.clone(), 0, 1.0),
            ]),
        ));
    }
    let only = std::env::var("ONLY").ok();
    if std::env::var_os("MODEL_API").is_some() {
        model_api(analyses, labels, n_train);
    }
    println!(
        "\n{:<48} {:>9} {:>8} {:>10} {:>9} {:>9} {:>8}",
        "variant", "cv5 ROCA", "cv5 rec", "chron ROCA", "chron rec", "half ROCA", "half rec"
    );
    let n60 = n_train * 3 / 5;
    let n80 = n_train * 4 / 5;
    for (name, fi, m) in &variants {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        // A plain method sees its family as family 0; an ensemble names
        // families itself.
        let fam: Vec<Vec<Vec<u32>>>;
        let f: &[Vec<Vec<u32>>] = match m {
            Method::Ensemble(_) | Method::Sum(_) => &feats,
            _ => {
                fam = vec![feats[*fi].clone()];
                &fam
            }
        };
        let r = |a: usize, b: usize, c: usize| {
            let train: Vec<usize> = (0..a).collect();
            let test: Vec<usize> = (b..c).collect();
            run_idx(m, f, labels, &train, &test)
        };
        // "half": the test protocol at half scale inside the training half.
        let half = r(n_train / 2, n_train / 2, n_train);
        let (hroca, hrec) = figures(&half);
        let mut chron = r(n60, n60, n80);
        if std::env::var_os("DEBUG_NAN").is_some() {
            for (k, p) in chron.iter().enumerate() {
                if !p.0.is_finite() {
                    eprintln!("non-finite score {} at validation #{k} spam={}", p.0, p.1);
                }
            }
        }
        chron.extend(r(n80, n80, n_train));
        let (vroca, vrec) = figures(&chron);
        let mut pooled = Vec::new();
        if std::env::var_os("NO_CV").is_none() {
            for fold in 0..5 {
                let train: Vec<usize> = (0..n_train).filter(|i| i % 5 != fold).collect();
                let test: Vec<usize> = (0..n_train).filter(|i| i % 5 == fold).collect();
                pooled.extend(run_idx(m, f, labels, &train, &test));
            }
        }
        let (roca, rec) = if pooled.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            figures(&pooled)
        };
        println!(
            "{name:<48} {roca:>9.3} {rec:>8.1} {vroca:>10.3} {vrec:>9.1} {hroca:>9.3} {hrec:>8.1}  worst chron spam: ham above {:?}; half {:?}",
            worst(&chron),
            worst(&half)
        );
    }
}

/// For the five lowest-scored spam, how many ham score above each: the
/// outliers that dominate (1-ROCA)%.
fn worst(points: &[(f64, bool)]) -> Vec<usize> {
    let mut spam: Vec<f64> = points.iter().filter(|p| p.1).map(|p| p.0).collect();
    spam.sort_by(|a, b| a.total_cmp(b));
    spam.iter()
        .take(5)
        .map(|s| points.iter().filter(|p| !p.1 && p.0 >= *s).count())
        .collect()
}

/// Platt scaling, fitted on standardised scores (Newton's method from a = 1
/// stalls when raw scores are in the hundreds, as Fisher's log tails are).
fn platt(pts: &[(f32, bool)]) -> Calibration {
    let n = pts.len().max(1) as f64;
    let mean = pts.iter().map(|p| p.0 as f64).sum::<f64>() / n;
    let sd = (pts.iter().map(|p| (p.0 as f64 - mean).powi(2)).sum::<f64>() / n)
        .sqrt()
        .max(1e-9);
    let scaled: Vec<(f32, bool)> = pts
        .iter()
        .map(|p| ((p.0 as f64 / sd) as f32, p.1))
        .collect();
    let c = Calibration::fit(&scaled);
    if std::env::var_os("DEBUG_NAN").is_some() {
        eprintln!("platt sd {sd:.3} a {} b {}", c.a, c.b);
    }
    Calibration {
        a: (c.a as f64 / sd) as f32,
        b: c.b,
    }
}

/// Standardisation as a [`Calibration`]: (x - mean) / sd of held-out scores.
fn zscore(pts: &[(f32, bool)]) -> Calibration {
    let n = pts.len().max(1) as f64;
    let mean = pts.iter().map(|p| p.0 as f64).sum::<f64>() / n;
    let sd = (pts.iter().map(|p| (p.0 as f64 - mean).powi(2)).sum::<f64>() / n)
        .sqrt()
        .max(1e-9);
    Calibration {
        a: (1.0 / sd) as f32,
        b: (-mean / sd) as f32,
    }
}

/// The same chronological and cv5 validation through the library's own
/// `Model` (ModelConfig::default(), batch training as `train_calibrated`
/// does it): checks that the shipped code scores like the experiment.
fn model_api(analyses: &[Analysis], labels: &[bool], n_train: usize) {
    use spamtrace_classify::{Model, ModelConfig};
    use spamtrace_mail::Label;
    let cfg = ModelConfig::default();
    for (name, tokens) in [
        (
            "Model API, hinge + token model",
            Some(spamtrace_classify::TokenModelConfig::DEFAULT),
        ),
        ("Model API, default config (hinge)", None),
    ] {
        let probe = Model::with_token_model(cfg, tokens);
        let items: Vec<_> = analyses
            .iter()
            .zip(labels)
            .map(|(a, l)| {
                let label = if *l { Label::Spam } else { Label::Ham };
                (Model::message_key(a), probe.features_of(a), label)
            })
            .collect();
        let run = |train: &[usize], test: &[usize]| -> Vec<(f64, bool)> {
            let mut m = Model::with_token_model(cfg, tokens);
            let batch: Vec<_> = train.iter().map(|&i| items[i].clone()).collect();
            m.train_batch(&batch, cfg.passes);
            test.iter()
                .map(|&i| (m.log_odds_of_features(&items[i].1) as f64, labels[i]))
                .collect()
        };
        let (n60, n80) = (n_train * 3 / 5, n_train * 4 / 5);
        let idx = |a: usize, b: usize| (a..b).collect::<Vec<_>>();
        let mut chron = run(&idx(0, n60), &idx(n60, n80));
        chron.extend(run(&idx(0, n80), &idx(n80, n_train)));
        let half = run(&idx(0, n_train / 2), &idx(n_train / 2, n_train));
        let (hroca, hrec) = figures(&half);
        let mut pooled = Vec::new();
        for fold in 0..5 {
            let train: Vec<usize> = (0..n_train).filter(|i| i % 5 != fold).collect();
            let test: Vec<usize> = (0..n_train).filter(|i| i % 5 == fold).collect();
            pooled.extend(run(&train, &test));
        }
        // Speed of featurize + score (parse excluded), one core, with a
        // model trained on the training half, scoring the training half.
        // Best of 7 runs (the machine is shared).
        let mut m = Model::with_token_model(cfg, tokens);
        m.train_batch(&items[..n_train], cfg.passes);
        let mut best = 0.0f64;
        let mut sink = 0.0f32;
        for _ in 0..7 {
            let t = std::time::Instant::now();
            for a in &analyses[..n_train] {
                sink += m.log_odds(a);
            }
            best = best.max(n_train as f64 / t.elapsed().as_secs_f64());
        }
        println!("{name}: featurize + score {best:.0} msgs/s, best of 7 (checksum {sink:.1})");
        let (roca, rec) = figures(&pooled);
        let (vroca, vrec) = figures(&chron);
        println!(
            "{name:<48} {roca:>9.3} {rec:>8.1} {vroca:>10.3} {vrec:>9.1} {hroca:>9.3} {hrec:>8.1}  worst chron spam: ham above {:?}; half {:?}",
            worst(&chron),
            worst(&half)
        );
    }
}
