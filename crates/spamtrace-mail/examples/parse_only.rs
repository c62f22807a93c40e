//! Baseline: mail-parser alone plus SHA-256 over the same files, one thread:
//! `cargo run --release -p spamtrace-mail --example parse_only -- DIR [N]`.
use mail_parser::MessageParser;
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
    let s = t.elapsed().as_secs_f64();
    println!(
        "mail-parser parse: {:.0} messages/s ({parts} parts)",
        n as f64 / s
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
}
