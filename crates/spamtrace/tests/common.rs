//! Helpers for tests that run `spamtrace` as a user does.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The corpora folder, or None when absent (then the test is skipped,
/// except under CI where it must exist).
pub fn corpora() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    if p.exists() {
        Some(p.canonicalize().unwrap())
    } else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "the corpora must exist under CI: {}",
            p.display()
        );
        None
    }
}

/// Run spamtrace with a store directory and arguments.
pub fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spamtrace"))
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run spamtrace")
}

/// Run and require success; returns stdout.
pub fn ok(data: &Path, args: &[&str]) -> String {
    let o = run(data, args);
    assert!(
        o.status.success(),
        "spamtrace {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Run and parse stdout as one JSON value.
pub fn json(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = ok(data, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}
