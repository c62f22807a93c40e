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
