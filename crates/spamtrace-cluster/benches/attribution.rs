//! Attribution throughput (campaign assignment, header-shape fingerprinting
//! and signatures) on one core, over pre-analysed simulated messages, for
//! MinHash and SimHash text sketches. Before timing, prints the clustering
//! quality of both methods (adjusted Rand index against the simulator's
//! truth) so speed and quality are read side by side.
//!
//! Run: `cargo bench -p spamtrace-cluster --bench attribution`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use spamtrace_cluster::{Attributor, NearDupMethod, SignatureSet};
use spamtrace_mail::{Analysis, Envelope, Limits, TrustedHosts, analyze};
use spamtrace_sim::{Feed, SimConfig, adjusted_rand_index};
use std::hint::black_box;

struct Corpus {
    analyses: Vec<(Analysis, i64)>,
    campaigns: Vec<String>,
    botnets: Vec<String>,
}

fn corpus(seed: u64) -> Corpus {
    let cfg = SimConfig {
        seed,
        days: 10,
        messages_per_day: 1000,
        ..Default::default()
    };
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let mut c = Corpus {
        analyses: Vec::new(),
        campaigns: Vec::new(),
        botnets: Vec::new(),
    };
    for m in Feed::new(&cfg).expect("valid config") {
        c.analyses
            .push((analyze(&m.bytes, &limits, &trusted), m.truth.time));
        c.campaigns.push(m.truth.campaign);
        c.botnets.push(m.truth.botnet);
    }
    c
}

fn run(c: &Corpus, method: NearDupMethod) -> Attributor {
    let mut a = Attributor::with_method(SignatureSet::builtin(), method);
    let env = Envelope::default();
    for (analysis, t) in &c.analyses {
        black_box(a.attribute(analysis, &env, *t));
    }
    a
}

fn quality_table(c: &Corpus) {
    println!("\nquality on seed 77 ({} messages):", c.analyses.len());
    println!(
        "{:>8} | {:>12} | {:>10} | {:>10}",
        "method", "campaign ARI", "botnet ARI", "campaigns"
    );
    for method in [NearDupMethod::MinHash, NearDupMethod::SimHash] {
        let mut a = Attributor::with_method(SignatureSet::builtin(), method);
        let env = Envelope::default();
        let (mut camps, mut bots) = (Vec::new(), Vec::new());
        for (i, (analysis, t)) in c.analyses.iter().enumerate() {
            let r = a.attribute(analysis, &env, *t);
            camps.push(r.campaign.unwrap_or_else(|| format!("u{i}")));
            bots.push(r.botnet.unwrap_or_else(|| format!("u{i}")));
        }
        println!(
            "{:>8} | {:>12.4} | {:>10.4} | {:>10}",
            format!("{method:?}"),
            adjusted_rand_index(&c.campaigns, &camps),
            adjusted_rand_index(&c.botnets, &bots),
            a.campaign_count()
        );
    }
}

fn bench(crit: &mut Criterion) {
    let c = corpus(77);
    quality_table(&c);
    let mut group = crit.benchmark_group("attribute");
    group.throughput(Throughput::Elements(c.analyses.len() as u64));
    group.sample_size(10);
    for method in [NearDupMethod::MinHash, NearDupMethod::SimHash] {
        group.bench_function(format!("{method:?}"), |b| {
            b.iter_batched(|| (), |_| run(&c, method), BatchSize::PerIteration)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
