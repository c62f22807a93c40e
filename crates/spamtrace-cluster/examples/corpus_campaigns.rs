//! Attribute every message of a folder of raw messages (one per file,
//! searched recursively; files over 8 MiB skipped) and print the largest
//! campaigns and families, for judging by eye.
//!
//! `cargo run --release -p spamtrace-cluster --example corpus_campaigns -- DIR [DIR...]`

use spamtrace_cluster::{Attributor, SignatureSet};
use spamtrace_mail::{Envelope, Limits, TrustedHosts, analyze, resolve_received_at};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.metadata().is_ok_and(|m| m.len() < 8 << 20) && !p.ends_with("cmds") {
            out.push(p);
        }
    }
}

fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: corpus_campaigns DIR [DIR...]");
        std::process::exit(2);
    }
    let mut paths = Vec::new();
    for d in &dirs {
        files(Path::new(d), &mut paths);
    }
    let mut a = Attributor::new(SignatureSet::builtin());
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let mut unclustered = 0;
    let mut reasons = std::collections::BTreeMap::<String, u32>::new();
    for p in &paths {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let analysis = analyze(&bytes, &limits, &trusted);
        let env = Envelope {
            source: p.display().to_string(),
            ..Default::default()
        };
        let (t, _) = resolve_received_at(&env, &analysis, 0);
        let r = a.attribute(&analysis, &env, t);
        if r.campaign.is_none() {
            unclustered += 1;
            *reasons.entry(r.campaign_reason).or_default() += 1;
        }
    }
    println!(
        "{} messages, {} campaigns, {} unclustered",
        paths.len(),
        a.campaign_count(),
        unclustered
    );
    for (r, n) in reasons.iter().take(5) {
        println!("  unclustered x{n}: {r}");
    }
    for c in a.campaigns().iter().take(5) {
        println!(
            "\n== {} : {} messages, evidence {:?}",
            c.id, c.size, c.evidence
        );
        println!(
            "   subjects: {:?}",
            c.subjects.iter().take(4).collect::<Vec<_>>()
        );
        println!(
            "   domains: {:?}",
            c.domains.iter().take(5).collect::<Vec<_>>()
        );
        println!(
            "   botnets: {:?}",
            c.botnets.iter().take(3).collect::<Vec<_>>()
        );
        let t: String = c.template.chars().take(300).collect();
        println!("   template: {}", t.replace('\n', " / "));
    }
    println!("\nfamilies:");
    for f in a.families().iter().take(8) {
        let d: String = f.description.chars().take(160).collect();
        println!("  {:<18} {:>5}  {d}", f.name, f.size);
    }
}
