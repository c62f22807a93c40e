//! `spamtrace trap` into the real store, killed under load: every message that
//! got its 250 is in the store after a restart.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn start_trap(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spamtrace"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "trap",
            "--listen",
            "127.0.0.1:0",
            "--no-tls",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the trap exited before listening"
        );
        if let Some(rest) = line.trim().strip_prefix("trap listening on ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // Keep draining stderr so the trap never blocks on a full pipe.
    std::thread::spawn(move || for _ in err.lines() {});
    (child, addr)
}

const CLIENT: &str = r#"
import smtplib, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
out = open(sys.argv[2], "a", buffering=1)
lock = threading.Lock()
def worker(w):
    for i in range(100000):
        mid = f"<w{w}-{i}@load.example>"
        msg = f"From: bot@load.example\r\nTo: x@trap.example\r\nSubject: load {w} {i}\r\nMessage-ID: {mid}\r\n\r\nbody {w} {i} http://shop{i % 7}.example.com/\r\n"
        try:
            s = smtplib.SMTP(host, int(port), timeout=5)
            s.sendmail("bot@load.example", ["x@trap.example"], msg)
            with lock:
                out.write(mid + "\n")
            s.quit()
        except Exception:
            return
ts = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
[t.start() for t in ts]
[t.join() for t in ts]
"#;

#[test]
fn sigkill_under_load_loses_no_acknowledged_message() {
    if Command::new("python3").arg("--version").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "python3 is needed"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let acked = dir.path().join("acked.txt");
    let (mut trap, addr) = start_trap(&data);
    let mut client = Command::new("python3")
        .args(["-c", CLIENT, &addr, acked.to_str().unwrap()])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    trap.kill().unwrap(); // SIGKILL, mid-load
    trap.wait().unwrap();
    client.wait().unwrap();
    let acked: Vec<String> = std::fs::read_to_string(&acked)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        acked.len() > 20,
        "too few messages before the kill: {}",
        acked.len()
    );

    // Restart: the store opens and every acknowledged message is there.
    let (mut trap, _addr) = start_trap(&data);
    let stored: std::collections::HashSet<String> = ok(&data, &["messages", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["message_id"].as_str().map(|s| format!("<{s}>")))
        .collect();
    for m in &acked {
        assert!(
            stored.contains(m),
            "{m} got its 250 but is not in the store"
        );
    }
    // SIGTERM stops it cleanly.
    unsafe { libc_kill(trap.id() as i32, 15) };
    let status = trap.wait().unwrap();
    assert!(status.success(), "SIGTERM exit: {status}");
    let row = ok(&data, &["messages", "--json", "--limit", "1"]);
    let v: serde_json::Value = serde_json::from_str(row.lines().next().unwrap()).unwrap();
    assert_eq!(v["envelope_from"], "bot@load.example");
    assert!(v["dialect"].as_str().unwrap().starts_with("d1-"), "{v}");
    assert_eq!(v["time_source"], "trap");
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
