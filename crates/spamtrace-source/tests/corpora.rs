//! Exact counts over the real corpora in `../shared/corpora` (read in place).
//! When the folder is missing these tests are skipped, unless `CI=true`,
//! where a missing corpus is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use spamtrace_source::{Label, SourceItem, SourceOptions, TimeSource, read_paths, read_reader};

fn corpora() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    match dir.canonicalize() {
        Ok(dir) => Some(dir),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "corpora missing at {}: {e}; CI=true requires them",
                dir.display()
            )
        }
        Err(_) => {
            eprintln!("skipping: no corpora at {}", dir.display());
            None
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    messages: usize,
    oversized: usize,
    skipped: Vec<PathBuf>,
    errors: Vec<String>,
    labels: BTreeMap<Option<&'static str>, usize>,
    /// Items per source path, to check that no file is lost.
    per_path: BTreeMap<PathBuf, usize>,
    sources_in_order: Vec<String>,
    with_mbox_time: usize,
}

fn tally(paths: &[PathBuf]) -> Tally {
    let mut t = Tally::default();
    for item in read_paths(paths, &SourceOptions::default()) {
        let path = match item {
            SourceItem::Message(m) => {
                t.messages += 1;
                *t.labels
                    .entry(m.envelope.label.map(Label::as_str))
                    .or_default() += 1;
                if matches!(m.envelope.received_at, Some((_, TimeSource::MboxFrom))) {
                    t.with_mbox_time += 1;
                }
                t.sources_in_order.push(m.envelope.source.clone());
                PathBuf::from(m.envelope.source)
            }
            SourceItem::Oversized { source, .. } => {
                t.oversized += 1;
                PathBuf::from(source)
            }
            SourceItem::Skipped { path, .. } => {
                t.skipped.push(path.clone());
                path
            }
            SourceItem::Error { path, error } => {
                t.errors.push(format!("{}: {error}", path.display()));
                path
            }
        };
        *t.per_path.entry(path).or_default() += 1;
    }
    t
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

#[test]
fn spamassassin_through_the_trec_index() {
    let Some(corpora) = corpora() else { return };
    let index = corpora.join("spamassassin/full/index");
    let t = tally(std::slice::from_ref(&index));
    assert_eq!(t.errors, Vec::<String>::new());
    assert!(t.skipped.is_empty());
    assert_eq!(t.messages, 6047);
    assert_eq!(t.labels.get(&Some("spam")), Some(&1897));
    assert_eq!(t.labels.get(&Some("ham")), Some(&4150));
    // In index order, with the paths the folder walk gives.
    let index_text = std::fs::read_to_string(&index).unwrap();
    let expected: Vec<String> = index_text
        .lines()
        .map(|l| {
            let rel = l
                .split_whitespace()
                .nth(1)
                .unwrap()
                .trim_start_matches("../");
            corpora
                .join("spamassassin")
                .join(rel)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(t.sources_in_order, expected);
}

#[test]
fn spamassassin_as_a_folder() {
    let Some(corpora) = corpora() else { return };
    let dir = corpora.join("spamassassin");
    let t = tally(std::slice::from_ref(&dir));
    assert_eq!(t.errors, Vec::<String>::new());
    assert_eq!(t.messages, 6047);
    assert_eq!(t.oversized, 0);
    assert_eq!(t.skipped, [dir.join("full/index")]);
    assert_eq!(t.labels.get(&None), Some(&6047));
    // One item per file, each file once.
    assert_eq!(
        t.per_path.keys().cloned().collect::<BTreeSet<_>>(),
        files_under(&dir)
    );
    assert!(t.per_path.values().all(|n| *n == 1));
    // The folder and the index name the same files the same way.
    let by_index = tally(&[dir.join("full/index")]);
    let walked: BTreeSet<_> = t.sources_in_order.into_iter().collect();
    let indexed: BTreeSet<_> = by_index.sources_in_order.into_iter().collect();
    assert_eq!(walked, indexed);
}

#[test]
fn nazario_mbox_files() {
    let Some(corpora) = corpora() else { return };
    let dir = corpora.join("phishing-nazario");
    let mut total = 0;
    // Counts of `From ` separator lines in each file (`grep -c '^From '`).
    for (name, count) in [
        ("20051114.mbox", 438),
        ("phishing0.mbox", 414),
        ("phishing1.mbox", 456),
    ] {
        let t = tally(&[dir.join(name)]);
        assert_eq!(t.errors, Vec::<String>::new(), "{name}");
        assert_eq!(
            (t.messages, t.oversized, t.skipped.len()),
            (count, 0, 0),
            "{name}"
        );
        // Every `From ` line in these files carries an asctime date.
        assert_eq!(t.with_mbox_time, count, "{name}");
        total += t.messages;
    }
    assert_eq!(total, 1308);
    assert_eq!(tally(&[dir]).messages, 1308);
}

/// Reads `dir` as a folder: returns the tally after checking that every file
/// under it is accounted for by at least one item.
fn read_and_account(dir: &Path) -> Tally {
    let t = tally(&[dir.to_path_buf()]);
    let files = files_under(dir);
    let seen: BTreeSet<PathBuf> = t.per_path.keys().cloned().collect();
    let lost: Vec<_> = files.difference(&seen).collect();
    assert!(lost.is_empty(), "files that yielded nothing: {lost:?}");
    let unknown: Vec<_> = seen.difference(&files).collect();
    assert!(
        unknown.is_empty(),
        "items for paths that are not files: {unknown:?}"
    );
    t
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn fixtures_read_without_loss() {
    let Some(corpora) = corpora() else { return };
    let t = read_and_account(&corpora.join("fixtures"));
    assert_eq!(t.errors, Vec::<String>::new());
    // Observed: 315 files; two URL feeds and a one-byte BSMTP file are not mail.
    assert_eq!(t.per_path.len(), 315);
    assert_eq!(
        names(&t.skipped),
        ["openphish-feed.txt", "phishtank-feed.csv", "bsmtpnull"]
    );
    assert_eq!((t.messages, t.oversized), (312, 0));
}

#[test]
fn modern_spam_reads_without_loss() {
    let Some(corpora) = corpora() else { return };
    let t = read_and_account(&corpora.join("modern-spam"));
    assert_eq!(t.errors, Vec::<String>::new());
    assert_eq!(
        names(&t.skipped),
        ["LICENSE.txt", "NEWAPP.BAS", "README.txt"]
    );
    assert_eq!((t.messages, t.oversized), (213, 0));
}

/// Files read whole (fast path for one-message mbox files) and the same
/// bytes streamed line by line give identical items, over every file of the
/// SpamAssassin corpus and the fixtures.
#[test]
fn whole_file_and_streaming_agree_on_real_files() {
    let Some(corpora) = corpora() else { return };
    let mut compared = 0;
    for dir in ["spamassassin", "fixtures", "phishing-nazario"] {
        for path in files_under(&corpora.join(dir)) {
            let opts = SourceOptions::default();
            let from_file: Vec<_> = read_paths(std::slice::from_ref(&path), &opts).collect();
            let bytes = std::fs::read(&path).unwrap();
            let name = path.to_string_lossy().into_owned();
            let streamed: Vec<_> = read_reader(&name, std::io::Cursor::new(bytes), &opts).collect();
            if path.ends_with("full/index") {
                continue; // an index is followed from a path, skipped from a reader
            }
            assert!(from_file == streamed, "read differently: {name}");
            compared += 1;
        }
    }
    assert_eq!(compared, 6047 + 315 + 3);
}
