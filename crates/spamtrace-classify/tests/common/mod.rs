//! Shared by the corpus tests of this crate.

use std::path::{Path, PathBuf};

/// `../shared/corpora` next to the workspace, when it is there. Without it a
/// test is skipped (saying which), except under `CI=true`, where the corpora
/// are required and their absence fails the test.
pub fn corpora_root(skipping: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    if root.is_dir() {
        return Some(root);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "corpora not found at {}: CI=true needs them (mount /work/shared/corpora)",
        root.display()
    );
    eprintln!("skipping {skipping}: no corpora at {}", root.display());
    None
}
