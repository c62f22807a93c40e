//! The TREC online protocol (score each message, then learn it with its
//! true label) for learner variants, over the training half of the
//! SpamAssassin split only (the first half of the index), so that choosing
//! among them never reads the test half. `bench/peers.py --online --index
//! HALF_INDEX` runs bogofilter the same way.
//!
//! cargo run -p spamtrace-classify --release --example online -- ../shared/corpora [NAME_FILTER]
use spamtrace_classify::features::FeatureSet;
use spamtrace_classify::{Loss, Model, ModelConfig, TokenModelConfig};
use spamtrace_mail::{Analysis, Label};

// Shared with the validation-column examples; the table printers are theirs.
#[allow(dead_code)]
#[path = "validation/data.rs"]
mod validation;

use validation::{Points, figures};

/// One way of learning online.
struct Variant {
    name: String,
    config: ModelConfig,
    tokens: Option<TokenModelConfig>,
    /// Extra steps on a message the model got wrong or inside the margin,
    /// until it is outside it (at most this many).
    repeat: u32,
}

fn run(v: &Variant, msgs: &[(Analysis, Label)]) -> (f64, f64) {
    let mut model = Model::with_token_model(v.config, v.tokens);
    let mut points: Points = Vec::with_capacity(msgs.len());
    for (a, label) in msgs {
        let lo = model.log_odds(a);
        points.push((lo as f64, *label == Label::Spam));
        model.train(a, *label);
        if v.repeat > 0 {
            let y = if *label == Label::Spam { 1.0 } else { -1.0 };
            let slots = model.slots_of(a);
            for _ in 0..v.repeat {
                if y * model.log_odds_of_slots(&slots) >= 1.0 {
                    break;
                }
                model.learn_slots(&slots, *label, v.config.learning_rate);
            }
        }
    }
    figures(&points)
}

fn main() {
    let (corpora, only) = validation::corpora_and_filter("online");
    let (msgs, _) = validation::training_half_and_outside_spam(&corpora);
    // What `spamtrace eval --online` ran in the sixth round: the shipped
    // features of the time, no IDF.
    let base = ModelConfig {
        idf: false,
        features: validation::SIXTH_ROUND_SET,
        ..ModelConfig::default()
    };
    // A message learnt alone steps by the learning rate times the passes
    // (`Model::train`), so `passes: 1` below makes the step the rate itself.
    let mut variants = vec![Variant {
        name: "shipped online: hinge, steps of 0.5 x 5 passes = 2.5, no IDF".into(),
        config: base,
        tokens: None,
        repeat: 0,
    }];
    for lr in [0.25f32, 0.5, 1.0, 2.0, 2.5, 4.0, 8.0] {
        variants.push(Variant {
            name: format!(
                "hinge, steps of {lr}{}",
                if lr == 0.5 {
                    " (before the sixth round)"
                } else {
                    ""
                }
            ),
            config: ModelConfig {
                learning_rate: lr,
                passes: 1,
                ..base
            },
            tokens: None,
            repeat: 0,
        });
    }
    for lr in [1.0f32, 3.0, 10.0] {
        variants.push(Variant {
            name: format!("logistic, steps of {lr}"),
            config: ModelConfig {
                learning_rate: lr,
                passes: 1,
                loss: Loss::Logistic,
                ..base
            },
            tokens: None,
            repeat: 0,
        });
    }
    for (lr, repeat) in [(0.5f32, 2u32), (0.5, 5), (0.5, 10), (1.0, 3), (2.0, 3)] {
        variants.push(Variant {
            name: format!("hinge, steps of {lr}, up to {repeat} more while inside the margin"),
            config: ModelConfig {
                learning_rate: lr,
                passes: 1,
                ..base
            },
            tokens: None,
            repeat,
        });
    }
    variants.push(Variant {
        name: "hinge + 4-grams".into(),
        config: ModelConfig {
            features: FeatureSet {
                char4: true,
                ..validation::SIXTH_ROUND_SET
            },
            ..base
        },
        tokens: None,
        repeat: 0,
    });
    variants.push(Variant {
        name: "hinge + token model (Fisher)".into(),
        config: base,
        tokens: Some(TokenModelConfig::DEFAULT),
        repeat: 0,
    });
    variants.push(Variant {
        name: "IDF (batch default)".into(),
        config: ModelConfig::default(),
        tokens: None,
        repeat: 0,
    });
    println!("| variant | (1-ROCA)% | spam caught at 0.1% FP |");
    println!("|---|---|---|");
    for v in &variants {
        if let Some(o) = &only
            && !v.name.contains(o.as_str())
        {
            continue;
        }
        let (roca, rec) = run(v, &msgs);
        println!("| {} | {roca:.3} | {rec:.1} |", v.name);
    }
}
