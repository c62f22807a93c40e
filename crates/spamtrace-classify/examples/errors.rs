//! Show the worst-ranked test messages of a split (for error analysis).
//! cargo run -p spamtrace-classify --release --example errors -- INDEX [N]
//! (`FEATURES=default+lightbigrams` builds the model on another feature set.)
use spamtrace_classify::ModelConfig;
use spamtrace_classify::eval::{load_messages, read_trec_index, train_calibrated};
use spamtrace_classify::features::FeatureSet;
use spamtrace_mail::{Label, Limits, TrustedHosts, analyze};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let entries = read_trec_index(args[1].as_ref()).unwrap();
    let n: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(15);
    let messages = load_messages(&entries).unwrap();
    let n_train = messages.len() / 2;
    // Built as `eval` builds its model: one batch over the first half (IDF
    // counts need every message before the first step).
    let mut config = ModelConfig::default();
    if let Ok(set) = std::env::var("FEATURES") {
        config.features = FeatureSet::parse(&set).expect("FEATURES: groups joined by +");
    }
    let model = train_calibrated(&messages[..n_train], config);
    let an: Vec<_> = messages
        .iter()
        .map(|(b, _)| analyze(b, &Limits::default(), &TrustedHosts::default()))
        .collect();
    let mut sc: Vec<(f32, usize)> = (n_train..messages.len())
        .map(|i| (model.log_odds(&an[i]), i))
        .collect();
    sc.sort_by(|a, b| a.0.total_cmp(&b.0));
    let hams: Vec<_> = sc
        .iter()
        .rev()
        .filter(|(_, i)| messages[*i].1 == Label::Ham)
        .take(n)
        .collect();
    let spams: Vec<_> = sc
        .iter()
        .filter(|(_, i)| messages[*i].1 == Label::Spam)
        .take(n)
        .collect();
    println!("== highest ham");
    for (s, i) in hams {
        println!(
            "{s:7.2} {} | {:?} | {} chars | {}",
            entries[*i].path.display(),
            an[*i].subject,
            an[*i].text.len(),
            an[*i].problem.as_deref().unwrap_or("")
        );
    }
    for (_, i) in sc
        .iter()
        .rev()
        .filter(|(_, i)| messages[*i].1 == Label::Ham)
        .take(3)
    {
        println!("-- explain {}", entries[*i].path.display());
        for c in model.explain(&an[*i], 25) {
            println!("   {:+.3} {}", c.weight, c.feature);
        }
    }
    for (_, i) in sc
        .iter()
        .filter(|(_, i)| messages[*i].1 == Label::Spam)
        .take(3)
    {
        println!("-- explain {}", entries[*i].path.display());
        for c in model.explain(&an[*i], 25) {
            println!("   {:+.3} {}", c.weight, c.feature);
        }
    }
    // Each spam's share of the misordered (spam, ham) pairs: the ham
    // ranked above it.
    let ham_scores: Vec<f32> = sc
        .iter()
        .filter(|(_, i)| messages[*i].1 == Label::Ham)
        .map(|(s, _)| *s)
        .collect();
    println!("== lowest spam (ham ranked above it)");
    for (s, i) in spams {
        let above = ham_scores.iter().filter(|h| **h >= *s).count();
        println!(
            "{s:7.2} {above:5} {} | {:?} | {} chars | {}",
            entries[*i].path.display(),
            an[*i].subject,
            an[*i].text.len(),
            an[*i].problem.as_deref().unwrap_or("")
        );
    }
}
