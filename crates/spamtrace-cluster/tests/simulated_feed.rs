//! Attribution quality against the simulator's ground truth.
//!
//! Tuning was done on seeds 1 and 2 only (see `tuning_seed_report`); the
//! assertions run on seeds 1001, 2002 and 3003, which were not looked at
//! while choosing thresholds.

use spamtrace_cluster::{Attributor, NearDupMethod, SignatureSet};
use spamtrace_mail::{Envelope, Limits, TrustedHosts, analyze};
use spamtrace_sim::{Feed, SimConfig, adjusted_rand_index};

struct Quality {
    messages: usize,
    campaign_ari: f64,
    botnet_ari: f64,
    campaigns: usize,
    families: usize,
    unclustered: usize,
}

fn evaluate(seed: u64, days: u32, per_day: u32, method: NearDupMethod) -> Quality {
    let cfg = SimConfig {
        seed,
        days,
        messages_per_day: per_day,
        ..Default::default()
    };
    let mut attributor = Attributor::with_method(SignatureSet::builtin(), method);
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let mut truth_campaign = Vec::new();
    let mut truth_botnet = Vec::new();
    let mut got_campaign = Vec::new();
    let mut got_botnet = Vec::new();
    let mut unclustered = 0;
    for (i, msg) in Feed::new(&cfg).unwrap().enumerate() {
        let analysis = analyze(&msg.bytes, &limits, &trusted);
        let a = attributor.attribute(&analysis, &Envelope::default(), msg.truth.time);
        truth_campaign.push(msg.truth.campaign);
        truth_botnet.push(msg.truth.botnet);
        // An unclustered message is its own singleton for the index.
        got_campaign.push(a.campaign.unwrap_or_else(|| {
            unclustered += 1;
            format!("unclustered-{i}")
        }));
        got_botnet.push(a.botnet.unwrap_or_else(|| format!("none-{i}")));
    }
    if std::env::var("SPAMTRACE_DIAG").is_ok() {
        // For tuning: how each true campaign is split.
        let mut split: std::collections::BTreeMap<&str, std::collections::BTreeMap<&str, u32>> =
            Default::default();
        for (t, g) in truth_campaign.iter().zip(&got_campaign) {
            *split.entry(t).or_default().entry(g).or_default() += 1;
        }
        for (t, parts) in &split {
            let total: u32 = parts.values().sum();
            let max = parts.values().max().unwrap();
            println!(
                "  {t:>20}: {total:>5} messages in {:>3} campaigns, largest {max}",
                parts.len()
            );
        }
    }
    let families: std::collections::BTreeSet<&String> = got_botnet.iter().collect();
    Quality {
        messages: truth_campaign.len(),
        campaign_ari: adjusted_rand_index(&truth_campaign, &got_campaign),
        botnet_ari: adjusted_rand_index(&truth_botnet, &got_botnet),
        campaigns: attributor.campaign_count(),
        families: families.len(),
        unclustered,
    }
}

fn report(label: &str, seed: u64, method: NearDupMethod, q: &Quality) {
    println!(
        "{label:>8} seed {seed:>5} {method:>8?}: {:>6} messages, campaign ARI {:.4} ({} campaigns, {} unclustered), botnet ARI {:.4} ({} families)",
        q.messages, q.campaign_ari, q.campaigns, q.unclustered, q.botnet_ari, q.families
    );
}

#[test]
fn fresh_seeds_reach_the_targets() {
    for seed in [1001, 2002, 3003] {
        let q = evaluate(seed, 5, 600, NearDupMethod::MinHash);
        report("fresh", seed, NearDupMethod::MinHash, &q);
        assert!(
            q.campaign_ari >= 0.95,
            "seed {seed}: campaign ARI {}",
            q.campaign_ari
        );
        assert!(
            q.botnet_ari >= 0.95,
            "seed {seed}: botnet ARI {}",
            q.botnet_ari
        );
    }
}
