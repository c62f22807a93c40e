//! `spamtrace ingest`, `stats`, `messages` and `show`, run as a user runs them.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn spam_eml(i: usize) -> String {
    format!(
        "Received: from bot{i} ([203.0.113.{}]) by mx.trap.example; Wed, 16 Mar 2011 14:{:02}:00 +0000\r\n\
         From: \"Pharmacy\" <sales{i}@rx-shop.example>\r\nTo: victim@trap.example\r\n\
         Subject: Cheap meds {i}\r\nMessage-ID: <{i}.abc@rx-shop.example>\r\nDate: Wed, 16 Mar 2011 14:00:00 +0000\r\n\
         Content-Type: text/plain\r\n\r\nBuy now at http://shop{i}.rx-shop.example/buy?id={i}\r\n",
        i % 250,
        i % 60
    )
}

#[test]
fn formats_dedupe_and_views() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let mail = dir.path().join("mail");
    std::fs::create_dir_all(mail.join("Maildir/cur")).unwrap();
    std::fs::create_dir_all(mail.join("Maildir/new")).unwrap();
    std::fs::write(mail.join("one.eml"), spam_eml(1)).unwrap();
    std::fs::write(mail.join("Maildir/cur/a:2,S"), spam_eml(2)).unwrap();
    std::fs::write(mail.join("Maildir/new/b"), spam_eml(1)).unwrap(); // same bytes as one.eml
    std::fs::write(
        mail.join(".DS_Store"),
        [0u8, 0, 0, 1, 66, 117, 100, 49, 0, 0, 16, 0],
    )
    .unwrap();
    let mut mbox = String::new();
    for i in 10..20 {
        mbox.push_str(&format!(
            "From MAILER-DAEMON Wed Mar 16 14:45:{:02} 2011\n",
            i
        ));
        mbox.push_str(&spam_eml(i).replace("\r\n", "\n"));
        mbox.push_str(">From the quoted line\n\n");
    }
    std::fs::write(mail.join("spam.mbox"), &mbox).unwrap();

    let d = data.to_str().unwrap();
    let s = json(&data, &["ingest", mail.to_str().unwrap(), "--json"]);
    assert_eq!(s["messages_seen"], 13, "{s}");
    assert_eq!(s["stored_new"], 12, "{s}");
    assert_eq!(s["duplicates"], 1, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    assert_eq!(s["skipped"], 1, "{s}");
    assert!(s["elapsed_s"].as_f64().is_some());

    // Re-ingesting the same archive adds no message and no sighting.
    let s2 = json(&data, &["ingest", mail.to_str().unwrap(), "--json"]);
    assert_eq!(s2["stored_new"], 0);
    assert_eq!(s2["duplicates"], 13);
    let st = json(&data, &["stats", "--json"]);
    assert_eq!(st["messages"], 12, "{st}");
    assert_eq!(st["sightings"], 13, "{st}");
    assert_eq!(st["top_url_domains"][0][0], "rx-shop.example");

    // The one stable export.
    let lines = ok(&data, &["messages", "--json"]);
    let rows: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 12);
    for key in [
        "sha256",
        "source",
        "received_at",
        "message_id",
        "subject",
        "from",
        "label",
        "time_source",
    ] {
        assert!(rows[0].get(key).is_some(), "missing {key} in {}", rows[0]);
    }
    let mboxed: Vec<_> = rows
        .iter()
        .filter(|r| r["source"].as_str().unwrap().contains("spam.mbox:"))
        .collect();
    assert_eq!(mboxed.len(), 10);
    assert_eq!(mboxed[0]["time_source"], "mbox_from");
    assert_eq!(mboxed[0]["received_at"], "2011-03-16T14:45:10Z");
    // one.eml and Maildir/new/b hold the same bytes: one message, two sightings.
    let eml = rows
        .iter()
        .find(|r| r["subject"] == "Cheap meds 1")
        .unwrap();
    assert_eq!(eml["time_source"], "received");
    assert_eq!(eml["sightings"], 2);

    // show: by prefix, decoded; --raw byte for byte.
    let sha = eml["sha256"].as_str().unwrap();
    let shown = ok(&data, &["show", &sha[..10]]);
    assert!(shown.contains("Subject: Cheap meds 1"), "{shown}");
    assert!(shown.contains("origin -> from"), "{shown}");
    assert!(
        shown.contains("http://shop1.rx-shop.example/buy?id=1"),
        "{shown}"
    );
    let raw = run(&data, &["show", sha, "--raw"]).stdout;
    assert_eq!(raw, spam_eml(1).as_bytes());
    let mbox_msg = mboxed[0]["sha256"].as_str().unwrap();
    let raw = String::from_utf8(run(&data, &["show", mbox_msg, "--raw"]).stdout).unwrap();
    assert!(
        raw.contains("\nFrom the quoted line"),
        "mboxrd quoting undone: {raw}"
    );
    let none = run(&data, &["show", "ffffffffffff"]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("spamtrace messages"));
    let _ = d;
}

#[test]
fn stdin_unreadable_paths_and_oversized() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spamtrace"))
        .args(["--data", data.to_str().unwrap(), "ingest", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spam_eml(7).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["stored_new"], 1);

    // A missing path is an error that names it; the rest is ingested.
    let good = dir.path().join("good.eml");
    std::fs::write(&good, spam_eml(8)).unwrap();
    let big = dir.path().join("big.eml");
    let mut b = spam_eml(9).into_bytes();
    b.extend(std::iter::repeat_n(b'x', 2 << 20));
    std::fs::write(&big, &b).unwrap();
    let o = run(
        &data,
        &[
            "ingest",
            "/nonexistent/spam.mbox",
            good.to_str().unwrap(),
            big.to_str().unwrap(),
            "--max-message-mb",
            "1",
            "--json",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/spam.mbox"));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["stored_new"], 1, "{s}");
    assert_eq!(s["failed"], 1, "{s}");
    assert_eq!(s["messages_seen"], 2, "{s}");
    let st = json(&data, &["stats", "--json"]);
    assert!(
        st["failed"][0][0].as_str().unwrap().contains("too large"),
        "{st}"
    );
}

#[test]
fn binary_garbage_is_counted_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    // Looks like a header line, then garbage: a message the parser cannot use.
    let mut g = b"X-Junk: yes\n".to_vec();
    g.extend((0..100_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let f = dir.path().join("garbage.eml");
    std::fs::write(&f, &g).unwrap();
    let s = json(&data, &["ingest", f.to_str().unwrap(), "--json"]);
    let seen = s["messages_seen"].as_u64().unwrap();
    let counted = s["stored_new"].as_u64().unwrap()
        + s["duplicates"].as_u64().unwrap()
        + s["failed"].as_u64().unwrap();
    assert_eq!(seen, counted, "{s}");
    assert_eq!(seen + s["skipped"].as_u64().unwrap(), 1, "{s}");
}

#[test]
fn corpora_exact_counts() {
    let Some(c) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let s = json(
        &data,
        &[
            "ingest",
            c.join("spamassassin/full/index").to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(
        s["stored_new"].as_u64().unwrap() + s["failed"].as_u64().unwrap(),
        6047,
        "{s}"
    );
    let st = json(&data, &["stats", "--json"]);
    assert_eq!(st["messages"], 6047);
    let labels: std::collections::HashMap<String, u64> = st["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
        .collect();
    assert_eq!(labels["spam"], 1897);
    assert_eq!(labels["ham"], 4150);
    // The same corpus walked as a directory: the same messages, the same positions.
    let s = json(
        &data,
        &["ingest", c.join("spamassassin").to_str().unwrap(), "--json"],
    );
    assert_eq!(s["stored_new"], 0, "{s}");
    assert_eq!(s["duplicates"], 6047, "{s}");
    assert_eq!(json(&data, &["stats", "--json"])["sightings"], 6047);
    // Nazario's three mbox files.
    let s = json(
        &data,
        &[
            "ingest",
            c.join("phishing-nazario").to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(s["messages_seen"], 1308, "{s}");
    // Everything else: nothing lost.
    for sub in ["fixtures", "modern-spam"] {
        let s = json(&data, &["ingest", c.join(sub).to_str().unwrap(), "--json"]);
        let seen = s["messages_seen"].as_u64().unwrap();
        assert!(seen > 200);
        assert_eq!(
            seen,
            s["stored_new"].as_u64().unwrap()
                + s["duplicates"].as_u64().unwrap()
                + s["failed"].as_u64().unwrap()
        );
    }
}

#[test]
fn sigkill_leaves_a_consistent_store_and_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let mbox = dir.path().join("big.mbox");
    let n = 30_000;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&mbox).unwrap());
        for i in 0..n {
            writeln!(f, "From bot Wed Mar 16 14:45:00 2011").unwrap();
            f.write_all(spam_eml(i).replace("\r\n", "\n").as_bytes())
                .unwrap();
            writeln!(f).unwrap();
        }
    }
    for delay_ms in [300u64, 900] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spamtrace"))
            .args([
                "--data",
                data.to_str().unwrap(),
                "ingest",
                mbox.to_str().unwrap(),
                "--batch",
                "200",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The store opens, and every message row has its blobs and a sighting.
        let conn = rusqlite::Connection::open(data.join("store.sqlite")).unwrap();
        let (m, b, s): (i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM blobs), (SELECT count(DISTINCT msg) FROM sightings)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(m, b, "a message without its raw bytes");
        assert_eq!(m, s, "a message without a sighting");
        assert!(m < n as i64, "killed too late to test anything ({m})");
    }
    let s = json(&data, &["ingest", mbox.to_str().unwrap(), "--json"]);
    assert_eq!(s["messages_seen"], n);
    let st = json(&data, &["stats", "--json"]);
    assert_eq!(st["messages"], n, "{st}");
    assert_eq!(
        st["sightings"], n,
        "no duplicate sightings after the re-run: {st}"
    );
}
