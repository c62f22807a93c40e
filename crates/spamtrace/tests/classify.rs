//! `spamtrace train`, `classify` and `eval` as a user runs them, on real
//! SpamAssassin mail (the corpora are required under CI).
mod common;

use common::{corpora, json, ok, run};
use spamtrace_classify::eval::roc_area;
use std::path::{Path, PathBuf};

/// A TREC index of every `step`th line of the SpamAssassin index in
/// `lines` (its delivery order runs in long stretches of one class), with
/// absolute paths, so that it can live in a temporary folder.
fn index_slice(
    corpora: &Path,
    lines: std::ops::Range<usize>,
    step: usize,
    out: &Path,
) -> Vec<(PathBuf, bool)> {
    let full = corpora.join("spamassassin/full");
    let text = std::fs::read_to_string(full.join("index")).unwrap();
    let entries: Vec<(PathBuf, bool)> = text
        .lines()
        .take(lines.end)
        .skip(lines.start)
        .step_by(step)
        .map(|l| {
            let (label, rel) = l.split_once(' ').unwrap();
            (full.join(rel), label == "spam")
        })
        .collect();
    let body: String = entries
        .iter()
        .map(|(p, spam)| format!("{} {}\n", if *spam { "spam" } else { "ham" }, p.display()))
        .collect();
    std::fs::write(out, body).unwrap();
    entries
}

#[test]
fn a_fresh_model_is_built_in_one_batch_and_ranks_later_mail() {
    let Some(corpora) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = (dir.path().join("data"), dir.path().join("m.bin"));
    let train_index = dir.path().join("train.index");
    // Every 8th message of the first half; then every 20th of the second.
    let train = index_slice(&corpora, 0..3023, 8, &train_index);
    let n = train.len();
    let spam = train.iter().filter(|e| e.1).count();
    let out = ok(
        &data,
        &[
            "train",
            "--fresh",
            "--index",
            train_index.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
        ],
    );
    assert!(
        out.contains(&format!(
            "built a new model from {n} messages ({spam} spam) in one batch"
        )),
        "{out}"
    );

    // Later messages, never trained on, are ranked well.
    let test = index_slice(&corpora, 3023..6047, 20, &dir.path().join("test.index"));
    let mut args = vec!["classify", "--json", "--model", model.to_str().unwrap()];
    let paths: Vec<String> = test.iter().map(|e| e.0.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let lines = ok(&data, &args);
    let mut scored = Vec::new();
    for (line, (path, spam)) in lines.lines().zip(&test) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["source"].as_str().unwrap(), path.display().to_string());
        let score = v["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{v}");
        let verdict = v["verdict"].as_str().unwrap();
        assert!(["spam", "unsure", "ham"].contains(&verdict), "{v}");
        // A kind for everything not called ham.
        assert_eq!(v["kind"].is_null(), verdict == "ham", "{v}");
        scored.push((v["log_odds"].as_f64().unwrap(), *spam));
    }
    assert_eq!(scored.len(), test.len());
    assert!(scored.iter().any(|p| p.1) && scored.iter().any(|p| !p.1));
    let area = roc_area(&scored);
    eprintln!("ROC area {area:.4} on {} later messages", test.len());
    assert!(
        area > 0.95,
        "ROC area {area} on {} later messages",
        test.len()
    );

    // Learning a message the fresh model has seen, with the same label, changes nothing.
    let first = &train[0];
    let flag = if first.1 { "--spam" } else { "--ham" };
    let again = ok(
        &data,
        &[
            "train",
            flag,
            first.0.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
        ],
    );
    assert!(
        again.contains("learnt 0 messages (1 already known with the same label)"),
        "{again}"
    );
}

#[test]
fn eval_reports_the_figures_and_draws_the_roc_curve() {
    let Some(corpora) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let index = dir.path().join("sa.index");
    let all = index_slice(&corpora, 0..6047, 10, &index);
    let roc = dir.path().join("roc.svg");
    let report = json(
        &data,
        &[
            "eval",
            "--index",
            index.to_str().unwrap(),
            "--split",
            "0.5",
            "--json",
            "--roc",
            roc.to_str().unwrap(),
        ],
    );
    for key in [
        "one_minus_roca_pct",
        "fpr_pct",
        "fnr_pct",
        "recall_at_0_1pct_fpr_pct",
        "train_msgs_per_s",
        "test_msgs_per_s",
    ] {
        assert!(report[key].is_number(), "{key} missing: {report}");
    }
    // The figure's 95% bootstrap interval brackets it.
    let figure = report["one_minus_roca_pct"].as_f64().unwrap();
    let ci = &report["one_minus_roca_pct_ci95"];
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo <= figure && figure <= hi && lo < hi, "{ci} vs {figure}");
    let half = all.len() / 2;
    assert_eq!(report["train_messages"], half);
    assert_eq!(report["test_messages"], all.len() - half);
    let svg = std::fs::read_to_string(&roc).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{svg:.80}"
    );
    // Without IDF, as the models before the fifth round.
    let old = json(
        &data,
        &[
            "eval",
            "--index",
            index.to_str().unwrap(),
            "--json",
            "--no-idf",
            "--features",
            "words+bigrams+char4+structure+sgrams+script+digits+nolist",
        ],
    );
    assert!(old["one_minus_roca_pct"].is_number(), "{old}");
    // The opt-in groups, combined with the default set, and an IDF power,
    // through a saved model: the file records its groups and power, so
    // `classify` featurizes and scales with them (a model scored with other
    // groups would rank at random).
    let saved = dir.path().join("options.bin");
    let options = json(
        &data,
        &[
            "eval",
            "--index",
            index.to_str().unwrap(),
            "--json",
            "--features",
            "default+nolistlinks+cjk",
            "--idf-power",
            "1.5",
            "--save-model",
            saved.to_str().unwrap(),
        ],
    );
    assert!(
        options["one_minus_roca_pct"].as_f64().unwrap() < 5.0,
        "{options}"
    );
    let test = &all[half..];
    let mut args = vec!["classify", "--json", "--model", saved.to_str().unwrap()];
    let paths: Vec<String> = test.iter().map(|e| e.0.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let scored: Vec<(f64, bool)> = ok(&data, &args)
        .lines()
        .zip(test)
        .map(|(line, (_, spam))| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (v["log_odds"].as_f64().unwrap(), *spam)
        })
        .collect();
    assert_eq!(scored.len(), test.len());
    assert!(roc_area(&scored) > 0.95, "{}", roc_area(&scored));
    let bad = run(
        &data,
        &[
            "eval",
            "--index",
            index.to_str().unwrap(),
            "--features",
            "default+4grams",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("e.g. default+cjk"),
        "{bad:?}"
    );
    let bad = run(
        &data,
        &[
            "eval",
            "--index",
            index.to_str().unwrap(),
            "--idf-power",
            "0",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--idf-power must be above 0"),
        "{bad:?}"
    );
    // The TREC protocol: every message scored before it is learnt.
    let online = json(
        &data,
        &[
            "eval",
            "--index",
            index.to_str().unwrap(),
            "--online",
            "--json",
        ],
    );
    assert_eq!(online["protocol"], "online", "{online}");
    assert!(
        online["one_minus_roca_pct"].as_f64().unwrap() < 5.0,
        "{online}"
    );
}

#[test]
fn a_corrupt_model_file_is_a_clear_error() {
    let Some(corpora) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let model = dir.path().join("broken.bin");
    std::fs::write(&model, b"SPTRMDL\x01\x04\x00\x00\x00 not a model").unwrap();
    let msg = corpora.join("fixtures/spamassassin/spam");
    let out = run(
        &data,
        &[
            "classify",
            "--model",
            model.to_str().unwrap(),
            msg.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.bin"), "{err}");
    assert!(out.stdout.is_empty(), "no verdicts from a default model");
}

#[test]
fn explain_says_why_the_score_and_the_kind() {
    let Some(corpora) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let spam = corpora.join("spamassassin/spam");
    let lines = ok(
        &data,
        &["classify", "--json", "--explain", spam.to_str().unwrap()],
    );
    let mut with_kind = 0;
    let mut a_kind_source = None;
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let explain = v["explain"].as_array().unwrap();
        assert!(!explain.is_empty(), "{v}");
        assert!(explain.iter().all(|c| c["weight"].is_number()), "{v}");
        match v["kind"].as_str() {
            // The kind's explanation names the kind the verdict line gives.
            Some(kind) => {
                with_kind += 1;
                a_kind_source.get_or_insert_with(|| v["source"].as_str().unwrap().to_string());
                assert_eq!(v["kind_explain"]["kind"], kind, "{v}");
                let decisive = v["kind_explain"]["decisive"].as_bool().unwrap();
                let top = v["kind_explain"]["top"].as_array().unwrap();
                assert!(decisive || !top.is_empty(), "{v}");
            }
            None => assert!(v.get("kind_explain").is_none(), "{v}"),
        }
    }
    assert!(with_kind > 300, "{with_kind} of 500 spam got a kind");
    // The same in words, for a message that got a kind.
    let source = a_kind_source.unwrap();
    let text = ok(&data, &["classify", "--explain", &source]);
    assert!(text.contains(" towards spam: "), "{text}");
    assert!(
        text.contains("by the learnt kind model (the phrases alone say")
            || text.contains("decided by the evidence above"),
        "{text}"
    );
}

#[test]
fn explain_says_which_kind_evidence_is_too_weak_to_name_a_kind() {
    let Some(corpora) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A list-posted MLM pitch: spam, kind marketing; one advance-fee word
    // ("abandoned") is in it, far from enough to call it advance-fee.
    let spam = corpora.join("spamassassin/spam_2/00001.317e78fa8ee2f54cd4890fdc09ba8176");
    let text = ok(&data, &["classify", "--explain", spam.to_str().unwrap()]);
    assert!(
        text.contains("  spam  ") && text.contains("marketing"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("kind evidence (advance_fee"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("too weak alone: a kind needs 4") && line.contains("\"abandoned\""),
        "{line}"
    );
    // Evidence that does name a kind says its score and nothing more.
    let pills = corpora.join("spamassassin/spam");
    let text = ok(&data, &["classify", "--explain", pills.to_str().unwrap()]);
    let strong = text
        .lines()
        .find(|l| l.contains("kind evidence (pharmacy, score ") && !l.contains("too weak"))
        .unwrap_or_else(|| panic!("no strong pharmacy evidence in {text}"));
    assert!(strong.contains("): "), "{strong}");
}

#[test]
fn explain_on_ham_gives_no_kind_evidence() {
    let Some(corpora) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A news digest the shipped model calls ham; "date" in it is also a
    // word of the adult lexicon, which means nothing for a message that
    // gets no kind.
    let ham = corpora.join("spamassassin/easy_ham/01967.c30def1b9cb26faec22834ab35e8a4d8");
    let text = ok(&data, &["classify", "--explain", ham.to_str().unwrap()]);
    assert!(text.contains("  ham  "), "{text}");
    assert!(text.contains(" towards ham: "), "{text}");
    assert!(!text.contains("kind evidence"), "{text}");
}

#[test]
fn verdict_thresholds_are_given_per_run_or_stored_in_the_model() {
    let Some(corpora) = corpora() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sa = corpora.join("spamassassin");
    let ham = sa.join("easy_ham/01967.c30def1b9cb26faec22834ab35e8a4d8");
    let spam = sa.join("spam_2/01208.6e10d44b4339eacb5db69d1afabae907");
    let (ham, spam) = (ham.to_str().unwrap(), spam.to_str().unwrap());
    let verdicts = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["classify", "--json", ham, spam];
        args.extend_from_slice(extra);
        ok(&data, &args)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["verdict"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(verdicts(&[]), ["ham", "spam"]);
    // For this run only: every score is at least 0.
    let everything_spam = ["--spam-threshold", "0", "--ham-threshold", "0"];
    assert_eq!(verdicts(&everything_spam), ["spam", "spam"]);
    assert_eq!(verdicts(&[]), ["ham", "spam"]);

    // Thresholds that cannot work are refused, saying why.
    let out = run(&data, &["classify", ham, "--ham-threshold", "1.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a probability"));
    let out = run(
        &data,
        &["train", "--spam-threshold", "0.5", "--ham-threshold", "0.9"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be the lower"));
    assert!(!data.join("model.bin").exists(), "nothing saved");

    // Stored in the store's model: classify and ingest use them from then on.
    let mut train = vec!["train"];
    train.extend_from_slice(&everything_spam);
    let said = ok(&data, &train);
    assert!(
        said.contains("spam at P >= 0.000, ham at P <= 0.000"),
        "{said}"
    );
    assert_eq!(verdicts(&[]), ["spam", "spam"]);
    ok(&data, &["ingest", ham]);
    let stored: serde_json::Value =
        serde_json::from_str(ok(&data, &["messages", "--json"]).trim()).unwrap();
    assert_eq!(stored["verdict"], "spam", "{stored}");
}
