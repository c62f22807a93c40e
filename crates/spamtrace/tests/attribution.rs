//! Attribution end to end: simulate a feed, ingest it as a user would, and
//! compare the stored campaigns and sending programs with the ground truth.

mod common;
use common::*;
use std::collections::HashMap;

#[test]
fn simulated_feed_campaigns_and_botnets_match_truth() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let data = dir.path().join("store");
    // Seed 4242 was never used while tuning the attribution.
    ok(
        &data,
        &[
            "simulate",
            "--out",
            sim.to_str().unwrap(),
            "--seed",
            "4242",
            "--days",
            "4",
            "--per-day",
            "700",
        ],
    );
    let s = json(
        &data,
        &["ingest", sim.join("feed").to_str().unwrap(), "--json"],
    );
    assert_eq!(s["failed"], 0, "{s}");
    let truth: HashMap<String, (String, String)> = std::fs::read_to_string(sim.join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["sha256"].as_str().unwrap().to_string(),
                (
                    v["campaign"].as_str().unwrap().to_string(),
                    v["botnet"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let (mut tc, mut pc, mut tb, mut pb) = (vec![], vec![], vec![], vec![]);
    for line in ok(&data, &["messages", "--json"]).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (c, b) = &truth[v["sha256"].as_str().unwrap()];
        tc.push(c.clone());
        pc.push(v["campaign"].as_str().unwrap_or("(none)").to_string());
        tb.push(b.clone());
        pb.push(v["botnet"].as_str().unwrap_or("(none)").to_string());
    }
    assert_eq!(tc.len(), truth.len(), "every simulated message is stored");
    let ari_c = spamtrace_sim::adjusted_rand_index(&tc, &pc);
    let ari_b = spamtrace_sim::adjusted_rand_index(&tb, &pb);
    eprintln!(
        "campaign ARI {ari_c:.4}, botnet ARI {ari_b:.4} over {} messages",
        tc.len()
    );
    assert!(ari_c >= 0.95, "campaign ARI {ari_c}");
    assert!(ari_b >= 0.95, "botnet ARI {ari_b}");

    // The views.
    let campaigns = json(&data, &["campaigns", "--json"]);
    let first = &campaigns[0];
    assert!(first["size"].as_u64().unwrap() > 50);
    assert!(first["template"].as_str().unwrap().contains('«'), "{first}");
    assert!(
        first["kind"].is_string() && first["botnet"].is_string(),
        "{first}"
    );
    let id = first["id"].as_str().unwrap();
    let one = ok(&data, &["campaign", id]);
    assert!(
        one.contains("template") && one.contains("evidence"),
        "{one}"
    );
    let botnets = json(&data, &["botnets", "--json"]);
    let names: Vec<&str> = botnets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    for known in ["rustock", "srizbi", "darkmailer"] {
        assert!(names.contains(&known), "{known} not found in {names:?}");
    }
    let rustock = botnets
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "rustock")
        .unwrap();
    assert!(
        rustock["fingerprint"].as_str().unwrap().contains("CDO"),
        "{rustock}"
    );
    let share: f64 = botnets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["share_pct"].as_f64().unwrap())
        .sum();
    assert!((share - 100.0).abs() < 0.01);
    // show explains both.
    let sha = json(&data, &["campaign", id, "--json"])["samples"][0]
        .as_str()
        .unwrap()
        .to_string();
    let shown = ok(&data, &["show", &sha]);
    assert!(
        shown.contains("campaign  c-") && shown.contains("sender    "),
        "{shown}"
    );
}

#[test]
fn a_malformed_signature_file_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("signatures.txt"),
        "# mine\nfamily mybot\n  this is not a rule\n",
    )
    .unwrap();
    let f = dir.path().join("m.eml");
    std::fs::write(&f, "From: a@b.example\nSubject: x\n\nhello\n").unwrap();
    let o = run(&data, &["ingest", f.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("signatures.txt") && err.contains("line 3"),
        "{err}"
    );
}
