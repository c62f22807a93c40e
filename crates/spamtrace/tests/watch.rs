//! The main job, `spamtrace demo`, and the watch views over its store, run as
//! a user runs them.

mod common;
use common::*;

#[test]
fn demo_finds_the_takedown_and_writes_a_safe_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let data = dir.path().join("unused");
    // A shorter month keeps the test quick; the default is 30 days.
    let d = json(
        &data,
        &[
            "demo",
            "--out",
            out.to_str().unwrap(),
            "--days",
            "20",
            "--per-day",
            "800",
            "--json",
        ],
    );
    let report = std::path::PathBuf::from(d["report"].as_str().unwrap());
    assert!(report.is_absolute() && report.exists(), "{d}");
    assert!(d["messages"].as_u64().unwrap() > 10_000, "{d}");
    let drops: Vec<&serde_json::Value> = d["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["botnet"] == "rustock" && c["direction"] == "drop")
        .collect();
    assert_eq!(
        drops.len(),
        1,
        "exactly one rustock drop: {:?}",
        d["changes"]
    );
    for key in ["series", "at", "before", "after", "confidence"] {
        assert!(drops[0].get(key).is_some(), "{key} missing");
    }
    // No other botnet series changes: the others kept sending all month.
    let other: Vec<_> = d["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["series"].as_str().unwrap().starts_with("botnet:") && c["botnet"] != "rustock"
        })
        .collect();
    assert!(other.is_empty(), "false alarms: {other:?}");

    // The report: self-contained, restrictive CSP, no script, charts drawn.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "no remote loads"
    );
    assert!(html.matches("<svg").count() >= 5);

    // The views over the demo's store.
    let store = std::path::PathBuf::from(d["data"].as_str().unwrap());
    let csv = ok(
        &store,
        &["volume", "--by", "botnet", "--bucket", "1d", "--csv"],
    );
    assert!(csv.lines().next().unwrap().contains("series"), "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with("botnet:rustock,")),
        "{csv}"
    );
    let changes = json(&store, &["changes", "--json"]);
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["series"] == "botnet:rustock" && c["direction"] == "drop")
    );
    // Storefront rotation: domain changes folded per campaign. The simulator
    // names a campaign's domains after one stem (swisswatch861.com,
    // swisswatch-ember344.com...), so every folded domain of a campaign must
    // share it.
    let mut rotated: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for c in changes.as_array().unwrap() {
        if c["rotation"] == true {
            let series = c["series"].as_str().unwrap();
            assert!(series.starts_with("domain:"), "{c}");
            rotated
                .entry(c["campaign"].as_str().expect("campaign").to_string())
                .or_default()
                .push(series["domain:".len()..].to_string());
        }
    }
    assert!(rotated.len() >= 3, "{rotated:?}");
    for (campaign, domains) in &rotated {
        let stem = |d: &str| {
            d.split(|c: char| c.is_ascii_digit() || c == '-')
                .next()
                .unwrap()
                .to_string()
        };
        assert!(
            domains.iter().all(|d| stem(d) == stem(&domains[0])),
            "{campaign}: {domains:?}"
        );
    }
    let text = ok(&store, &["changes"]);
    assert!(text.contains("storefront domain rotation"), "{text}");
    assert!(
        text.lines().filter(|l| l.contains(" domain:")).count() < 5,
        "rotating domains are folded: {text}"
    );
    let r2 = dir.path().join("again.html");
    ok(&store, &["report", "--out", r2.to_str().unwrap()]);
    assert!(std::fs::metadata(&r2).unwrap().len() > 10_000);
    let html2 = std::fs::read_to_string(&r2).unwrap();
    assert!(html2.contains("Storefront domain rotation"));
}

/// A Date or Received header from year 9999 or 1971 is hostile input: it must
/// not become the message's time (old mail in a 70,000-year series) nor make
/// the views allocate a bucket per hour of that span.
#[test]
fn implausible_dates_do_not_stretch_the_series() {
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("mail");
    std::fs::create_dir(&mail).unwrap();
    let dates = [
        "Fri, 31 Dec 9999 23:59:59 +0000",
        "Fri, 1 Jan 1971 00:00:00 +0000",
        "Wed, 16 Mar 2011 14:00:00 +0000",
    ];
    for (i, date) in dates.iter().enumerate() {
        std::fs::write(
            mail.join(format!("{i}.eml")),
            format!(
                "Received: from x ([192.0.2.{i}]) by trap; {date}\r\nDate: {date}\r\nFrom: a@example.com\r\nTo: b@example.com\r\nSubject: cheap pills {i}\r\n\r\nbuy now http://pills{i}.example/\r\n"
            ),
        )
        .unwrap();
    }
    let data = dir.path().join("data");
    ok(
        &data,
        &["ingest", "--label", "spam", mail.to_str().unwrap()],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let times: Vec<String> = ok(&data, &["messages", "--json"])
        .lines()
        .map(|l| {
            let m: serde_json::Value = serde_json::from_str(l).unwrap();
            m["received_at"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(
        times.iter().any(|t| t.starts_with("2011-03-16")),
        "{times:?}"
    );
    assert!(
        !times
            .iter()
            .any(|t| t.starts_with("9999") || t.starts_with("1971")),
        "{times:?}"
    );
    let v = json(
        &data,
        &["volume", "--by", "total", "--bucket", "1h", "--json"],
    );
    let counts = v["series"][0]["counts"].as_array().unwrap().len() as i64;
    // From 2011 to now, hourly: bounded by the real span, not by year 9999.
    assert!(counts <= (now - 1_300_000_000) / 3600 + 2, "{counts}");
    let c = run(&data, &["changes", "--json"]);
    assert!(c.status.success());
    // Fifteen years of minutes is refused with advice, not allocated.
    let m = run(&data, &["volume", "--bucket", "1m"]);
    assert!(!m.status.success());
    let err = String::from_utf8_lossy(&m.stderr);
    assert!(err.contains("--since") && err.contains("--bucket"), "{err}");
    let narrow = run(
        &data,
        &[
            "volume",
            "--bucket",
            "1m",
            "--since",
            "2011-03-16",
            "--until",
            "2011-03-17",
        ],
    );
    assert!(narrow.status.success());
}
