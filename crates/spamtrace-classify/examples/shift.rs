//! Validation under shift: four ways to score a configuration without
//! touching the SpamAssassin test half (it stays for the one final look).
//!
//! - `chron`: train on the first 60% (80%) of the training half, score the
//!   next 20% (pooled), as `tune` does: later mail of the same collections.
//! - `walk`: walk forward in tenths of the training half (train on the
//!   first 3..9 tenths, score the next tenth each time, pooled).
//! - `half`: train on the first half of the training half, score the rest:
//!   the test protocol at half scale, a longer gap.
//! - `shift`: train on the first 80% of the training half; score spam of
//!   collections it never saw (Nazario phishing, modern-spam, SpamAssassin's
//!   test-suite spam) against the held-out ham (its last 20%).
//! - `shift5`: every training-half ham held out once (5 interleaved folds of
//!   the ham, all training spam kept) against the same outside spam.
//!
//! The shift columns favour whatever tells the collections apart (the outside
//! spam came through other mailboxes and relays, and none through a mailing
//! list), so header features and list footers look better there than they
//! are; `chron` and `half` cannot see a new collection at all. No column is
//! the test; a change worth making should not lose on most of them.
//!
//! cargo run -p spamtrace-classify --release --example shift -- ../shared/corpora [NAME_FILTER]
use spamtrace_classify::features::FeatureSet;
use spamtrace_classify::{Features, Model, ModelConfig, TokenModelConfig};
use spamtrace_mail::Label;

#[path = "validation/data.rs"]
mod validation;

use validation::Points;

fn trained(
    cfg: ModelConfig,
    tok: Option<TokenModelConfig>,
    batch: &[(Option<u64>, Features, Label)],
) -> Model {
    let mut m = Model::with_token_model(cfg, tok);
    m.train_batch(batch, cfg.passes);
    m
}

fn score(m: &Model, f: &Features, spam: bool) -> (f64, bool) {
    (m.log_odds_of_features(f) as f64, spam)
}

fn main() {
    let (corpora, only) = validation::corpora_and_filter("shift");
    let (train, outside_spam) = validation::training_half_and_outside_spam(&corpora);

    // The fourth round's model (character 4-grams, no IDF), against which
    // the README's tables compare, and the shipped one (no 4-grams, IDF).
    let fs = FeatureSet {
        char4: true,
        ..validation::SIXTH_ROUND_SET
    };
    let base = ModelConfig {
        features: fs,
        idf: false,
        ..ModelConfig::default()
    };
    let kept = FeatureSet {
        drop_list_text: false,
        ..fs
    };
    let with = |features: FeatureSet| ModelConfig { features, ..base };
    let idf = |features: FeatureSet| ModelConfig {
        features,
        idf: true,
        ..base
    };
    let no_char4 = FeatureSet { char4: false, ..fs };
    // The shipped model of the seventh to tenth rounds, and the eleventh
    // round's (a list's own links left out too).
    let seventh = idf(FeatureSet {
        light_subject_grams: true,
        ..no_char4
    });
    let with_seventh = |features: FeatureSet| ModelConfig {
        features,
        ..seventh
    };
    assert_eq!(
        ModelConfig::default(),
        with_seventh(FeatureSet {
            drop_list_links: true,
            ..seventh.features
        })
    );
    let mut variants: Vec<(String, ModelConfig, Option<TokenModelConfig>)> = vec![
        (
            "4-grams, list text kept (model of 2026-11-28)",
            with(kept),
            None,
        ),
        (
            "4-grams, list text kept + token model",
            with(kept),
            Some(TokenModelConfig::DEFAULT),
        ),
        (
            "4-grams, list footers and tags left out (fourth round)",
            base,
            None,
        ),
        (
            "4-grams + token model",
            base,
            Some(TokenModelConfig::DEFAULT),
        ),
        ("4-grams, IDF (fifth round, first look)", idf(fs), None),
        (
            "no 4-grams, IDF (shipped in the fifth and sixth rounds)",
            idf(no_char4),
            None,
        ),
        (
            "no 4-grams, IDF, list links and bare list addresses left out (sixth round)",
            idf(FeatureSet {
                drop_list_links: true,
                ..no_char4
            }),
            None,
        ),
        (
            "no 4-grams, IDF, CJK character pairs (sixth round)",
            idf(FeatureSet {
                cjk_bigrams: true,
                ..no_char4
            }),
            None,
        ),
        (
            "no 4-grams, IDF, subject and sender-name 3-grams at half weight (shipped in the seventh to tenth rounds)",
            seventh,
            None,
        ),
        // (the "8:" rows, the IDF raised to a power, are added after this list)
        (
            "9: shipped, word pairs at half weight (lightbigrams)",
            with_seventh(FeatureSet {
                light_bigrams: true,
                ..seventh.features
            }),
            None,
        ),
        (
            "11: seventh round's, word pairs at half weight and list links left out (lightbigrams + nolistlinks)",
            with_seventh(FeatureSet {
                light_bigrams: true,
                drop_list_links: true,
                ..seventh.features
            }),
            None,
        ),
        (
            "no 4-grams, IDF, 3-grams at half weight, list links left out (seventh round; shipped since the eleventh)",
            idf(FeatureSet {
                light_subject_grams: true,
                drop_list_links: true,
                ..no_char4
            }),
            None,
        ),
        (
            "no 4-grams, no bigrams, IDF",
            idf(FeatureSet {
                bigrams: false,
                ..no_char4
            }),
            None,
        ),
        (
            "4-grams, no bigrams, IDF",
            idf(FeatureSet {
                bigrams: false,
                ..fs
            }),
            None,
        ),
        ("no 4-grams, no IDF", with(no_char4), None),
        ("4-grams + header groups", with(FeatureSet::ALL), None),
        (
            "no 4-grams + header groups",
            with(FeatureSet {
                char4: false,
                ..FeatureSet::ALL
            }),
            None,
        ),
    ]
    .into_iter()
    .map(|(name, cfg, tok): (&str, _, _)| (name.to_string(), cfg, tok))
    .collect();
    // Eighth round: the then shipped model with the IDF raised to a power.
    for power in [1.25f32, 1.5, 2.0, 1.75, 2.5, 3.0] {
        let cfg = ModelConfig {
            idf_power: power,
            ..seventh
        };
        variants.push((format!("8: shipped, IDF^{power}"), cfg, None));
    }
    // LISTS=1: also split the walk and half columns' error between spam
    // that came through a mailing list and the other spam (the low tail of
    // the test half's spam is thought to be list-posted; see the README).
    let by_list = std::env::var("LISTS").is_ok_and(|v| v == "1");
    let via_list: Vec<bool> = train.iter().map(|(a, _)| a.via_mailing_list()).collect();
    validation::print_header();
    for (name, cfg, tok) in variants {
        if let Some(o) = &only
            && !name.contains(o.as_str())
        {
            continue;
        }
        let probe = Model::with_token_model(cfg, tok);
        let feats: Vec<(Option<u64>, Features, Label)> = train
            .iter()
            .map(|(a, lab)| (Model::message_key(a), probe.features_of(a), *lab))
            .collect();
        let outside: Vec<Features> = outside_spam.iter().map(|a| probe.features_of(a)).collect();
        let n = feats.len();
        let is_spam = |lab: &Label| *lab == Label::Spam;

        let (mut chron, mut shift): (Points, Points) = (Vec::new(), Vec::new());
        for (from, to) in [(n * 3 / 5, n * 4 / 5), (n * 4 / 5, n)] {
            let m = trained(cfg, tok, &feats[..from]);
            chron.extend(
                feats[from..to]
                    .iter()
                    .map(|(_, f, lab)| score(&m, f, is_spam(lab))),
            );
            if to == n {
                shift.extend(
                    feats[from..to]
                        .iter()
                        .filter(|(_, _, lab)| !is_spam(lab))
                        .map(|(_, f, _)| score(&m, f, false)),
                );
                shift.extend(outside.iter().map(|f| score(&m, f, true)));
            }
        }
        // walk: walk forward in tenths, train on the first k tenths, score the next.
        let mut walk = Vec::new();
        let mut walk_via_list = Vec::new();
        for k in 3..10 {
            let (from, to) = (n * k / 10, n * (k + 1) / 10);
            let m = trained(cfg, tok, &feats[..from]);
            walk.extend(
                feats[from..to]
                    .iter()
                    .map(|(_, f, lab)| score(&m, f, is_spam(lab))),
            );
            walk_via_list.extend_from_slice(&via_list[from..to]);
        }
        let m = trained(cfg, tok, &feats[..n / 2]);
        let half: Points = feats[n / 2..]
            .iter()
            .map(|(_, f, lab)| score(&m, f, is_spam(lab)))
            .collect();
        let mut shift5 = Vec::new();
        let ham: Vec<usize> = (0..n).filter(|&i| !is_spam(&feats[i].2)).collect();
        for k in 0..5 {
            let held: Vec<usize> = ham.iter().copied().skip(k).step_by(5).collect();
            let batch: Vec<_> = (0..n)
                .filter(|i| held.binary_search(i).is_err())
                .map(|i| feats[i].clone())
                .collect();
            let m = trained(cfg, tok, &batch);
            shift5.extend(held.iter().map(|&i| score(&m, &feats[i].1, false)));
            shift5.extend(outside.iter().map(|f| score(&m, f, true)));
        }
        validation::print_row(&name, [&chron, &walk, &half, &shift, &shift5]);
        if by_list {
            let half_via_list = &via_list[n / 2..];
            for (column, points, lists) in [
                ("walk", &walk, &walk_via_list[..]),
                ("half", &half, half_via_list),
            ] {
                println!("|   {column}: {} |", list_split(points, lists));
            }
        }
    }
}

/// Of a column's misordered (spam, ham) pairs, the share whose spam came
/// through a mailing list, and each group's (1-ROCA)% against all the ham.
fn list_split(points: &Points, via_list: &[bool]) -> String {
    let ham: Vec<f64> = points.iter().filter(|p| !p.1).map(|p| p.0).collect();
    let misordered = |spam: f64| {
        ham.iter()
            .map(|&h| match h.partial_cmp(&spam) {
                Some(std::cmp::Ordering::Greater) => 1.0,
                Some(std::cmp::Ordering::Equal) => 0.5,
                _ => 0.0,
            })
            .sum::<f64>()
    };
    let (mut pairs, mut count) = ([0.0f64; 2], [0usize; 2]);
    for (p, &list) in points.iter().zip(via_list) {
        if p.1 {
            pairs[list as usize] += misordered(p.0);
            count[list as usize] += 1;
        }
    }
    let pct = |g: usize| 100.0 * pairs[g] / (count[g].max(1) * ham.len().max(1)) as f64;
    format!(
        "list-posted spam: {} of {} spam, {:.0}% of the misordered pairs, (1-ROCA)% {:.3}; other spam: {:.3}",
        count[1],
        count[0] + count[1],
        100.0 * pairs[1] / (pairs[0] + pairs[1]).max(1e-9),
        pct(1),
        pct(0)
    )
}
