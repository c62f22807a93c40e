//! Analyse every file under a directory N times on one thread and print the
//! rate, beside two baselines over the same bytes (mail-parser alone, SHA-256
//! alone): `cargo run --release -p spamtrace-mail --example analyze_dir -- DIR [N]`.
use mail_parser::MessageParser;
use spamtrace_mail::{Limits, TrustedHosts, analyze};
use std::time::Instant;

fn walk(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            out.push(b);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("../shared/corpora/spamassassin");
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut msgs = Vec::new();
    walk(std::path::Path::new(dir), &mut msgs);
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let n = msgs.len() * rounds;
    let t = Instant::now();
    let mut parts = 0;
    for _ in 0..rounds {
        for m in &msgs {
            parts += MessageParser::default()
                .parse(m)
                .map(|p| p.parts.len())
                .unwrap_or(0);
        }
    }
    println!(
        "mail-parser parse: {:.0} messages/s ({parts} parts)",
        n as f64 / t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for _ in 0..rounds {
        for m in &msgs {
            std::hint::black_box(spamtrace_mail::sha256_hex(m));
        }
    }
    println!(
        "sha256: {:.0} messages/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    let t = Instant::now();
    let mut urls = 0;
    for _ in 0..rounds {
        for m in &msgs {
            urls += analyze(m, &limits, &trusted).urls.len();
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{n} messages, {:.1} MB, {s:.2} s: {:.0} messages/s, {:.0} MB/s on one thread ({urls} urls)",
        (bytes * rounds) as f64 / 1e6,
        n as f64 / s,
        (bytes * rounds) as f64 / 1e6 / s
    );
}
