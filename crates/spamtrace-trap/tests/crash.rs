//! Durability: the trap runs as a separate process under load (smtp-source
//! plus clients that note every `250`), is killed with SIGKILL, restarted on
//! the same spool, and every acknowledged message must be there. Then SIGTERM
//! must stop it cleanly.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RawClient, have_tool, wait_until};
use spamtrace_trap::SpoolReader;
use spamtrace_trap::spool::message_id;

const TRAP_BIN: &str = env!("CARGO_BIN_EXE_spamtrace-trap-spool");
const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";

fn start_trap(spool: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(TRAP_BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--max-sessions-per-ip",
            "500",
            "--spool",
        ])
        .arg(spool)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start spamtrace-trap-spool");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

/// Send messages one after another until the connection breaks; record the
/// id of every message the trap acknowledged.
fn acknowledged_sender(
    addr: SocketAddr,
    thread: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) {
    let mut client = RawClient::connect(addr);
    if client.code() != 220 {
        return;
    }
    client.send(b"EHLO crash.test\r\n");
    if client.code() != 250 {
        return;
    }
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let body = format!(
            "Message-ID: <{thread}-{n}@crash.test>\r\nSubject: crash {thread} {n}\r\n\r\n{}\r\n",
            "x".repeat(4000)
        );
        if !client.try_send(b"MAIL FROM:<a@crash.test>\r\nRCPT TO:<b@trap.example>\r\nDATA\r\n") {
            return;
        }
        if client.code() != 250 || client.code() != 250 || client.code() != 354 {
            return;
        }
        if !client.try_send(body.as_bytes()) || !client.try_send(b".\r\n") {
            return;
        }
        match client.reply() {
            Some(reply) if reply.starts_with("250 ") => {
                acked.lock().unwrap().push(message_id(body.as_bytes()));
            }
            _ => return,
        }
    }
}

#[test]
fn every_acknowledged_message_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("trap.spool");
    let (mut trap, addr) = start_trap(&spool);

    let mut load = if have_tool(SMTP_SOURCE) {
        Some(
            Command::new(SMTP_SOURCE)
                .args(["-s", "8", "-m", "1000000", "-l", "4096"])
                .arg(addr.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    } else {
        None
    };
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || acknowledged_sender(addr, t, stop, acked))
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(30), || acked.lock().unwrap().len()
            >= 200),
        "the trap acknowledged too few messages under load"
    );
    trap.kill().unwrap(); // SIGKILL, mid-load
    trap.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for sender in senders {
        sender.join().unwrap();
    }
    if let Some(load) = load.as_mut() {
        let _ = load.kill();
        let _ = load.wait();
    }

    // Restart on the same spool: it recovers and serves again.
    let (mut trap, addr) = start_trap(&spool);
    assert_eq!(
        common::send_message(
            addr,
            "after@trap.example",
            b"Subject: after restart\r\n\r\nx\r\n"
        ),
        250
    );
    let status = Command::new("kill")
        .args(["-TERM", &trap.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = trap.wait().unwrap();
    assert!(
        exit.success(),
        "SIGTERM should stop the trap cleanly: {exit}"
    );

    let mut reader = SpoolReader::open(&spool).unwrap();
    let stored: HashSet<String> = reader.by_ref().map(|r| r.unwrap().id).collect();
    assert!(
        !reader.torn_tail(),
        "a restarted spool must end with a whole record"
    );
    let acked = acked.lock().unwrap();
    let missing = acked.iter().filter(|id| !stored.contains(*id)).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged messages were lost",
        acked.len()
    );
    assert!(stored.contains(&message_id(b"Subject: after restart\r\n\r\nx\r\n")));
    eprintln!(
        "acknowledged by our clients: {}, stored in total (smtp-source included): {}",
        acked.len(),
        stored.len()
    );
}
