//! Accepted messages per second with Postfix's `smtp-source` at 1, 8 and 64
//! concurrent sessions of 4 KB messages, durability on: every message is in
//! the spool and `fdatasync`ed (group commit) before its 250.
//!
//! Run: `cargo bench -p spamtrace-trap --bench smtp_source`
//! (`SMTP_BENCH_MESSAGES=N` changes the messages per run, default 5000).
//! Not a test: it prints figures, it asserts only that every message arrived.
//! The spool lives under `target/` (a real disk; /tmp may be tmpfs where
//! fsync costs nothing).

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use spamtrace_trap::{SpoolSink, Trap, TrapConfig};

const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";

/// CPU seconds used so far by this process (the trap) and by its waited-for
/// children (smtp-source), from /proc/self/stat (Linux; zeros elsewhere).
/// Wall-clock rates depend on what else runs on the machine; CPU per message
/// does much less.
fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name; utime is field 14.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let tick = 100.0; // USER_HZ on Linux
    let field = |n: usize| fields.get(n - 3).copied().unwrap_or(0.0) / tick;
    (field(14) + field(15), field(16) + field(17))
}

fn main() {
    if !std::path::Path::new(SMTP_SOURCE).exists() {
        eprintln!("smtp-source not found: apt-get install -y postfix");
        return;
    }
    let messages: u64 = std::env::var("SMTP_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&target).unwrap();
    let dir = tempfile::tempdir_in(&target).unwrap();
    let spool = dir.path().join("bench.spool");
    let sink = Arc::new(SpoolSink::open(&spool).unwrap());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut config = TrapConfig::new(vec!["127.0.0.1:0".parse().unwrap()]);
    config.max_sessions_per_ip = 200;
    let trap = runtime.block_on(Trap::bind(config, sink.clone())).unwrap();
    let addr = trap.local_addrs()[0];
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(trap.run(async {
        let _ = stop_rx.await;
    }));

    println!(
        "smtp-source -l 4096, {messages} messages per run, spool {}",
        spool.display()
    );
    println!(
        "{:>8} {:>10} {:>9} {:>10} {:>11} {:>16} {:>18}",
        "sessions",
        "messages",
        "seconds",
        "msg/s",
        "msgs/fsync",
        "trap CPU us/msg",
        "client CPU us/msg"
    );
    for sessions in [1u32, 8, 64] {
        let (stored_before, commits_before) = sink.counts();
        let (trap_cpu_before, client_cpu_before) = cpu_seconds();
        let started = Instant::now();
        let status = Command::new(SMTP_SOURCE)
            .args([
                "-s",
                &sessions.to_string(),
                "-m",
                &messages.to_string(),
                "-l",
                "4096",
            ])
            .arg(addr.to_string())
            .status()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let (trap_cpu, client_cpu) = cpu_seconds();
        assert!(status.success(), "smtp-source failed");
        let (stored, commits) = sink.counts();
        let stored = stored - stored_before;
        let commits = commits - commits_before;
        assert_eq!(stored, messages, "every message must be stored");
        println!(
            "{sessions:>8} {stored:>10} {seconds:>9.2} {:>10.0} {:>11.1} {:>16.0} {:>18.0}",
            stored as f64 / seconds,
            stored as f64 / commits.max(1) as f64,
            (trap_cpu - trap_cpu_before) * 1e6 / stored as f64,
            (client_cpu - client_cpu_before) * 1e6 / stored as f64,
        );
    }
    let _ = stop_tx.send(());
    let stats = runtime.block_on(server).unwrap().unwrap();
    println!(
        "trap: {} sessions, {} messages, {} bytes",
        stats.sessions, stats.messages_accepted, stats.message_bytes
    );
}
