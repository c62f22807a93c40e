//! Reads the given paths and prints one line per item kind with counts, plus
//! the elapsed time: a quick way to see what a source makes of a folder.
//! `cargo run --release -p spamtrace-source --example scan -- PATH...`

use std::path::PathBuf;
use std::time::Instant;

use spamtrace_source::{SourceItem, SourceOptions, read_paths};

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let verbose = std::env::var_os("SCAN_VERBOSE").is_some();
    let start = Instant::now();
    let (mut messages, mut oversized, mut skipped, mut errors, mut bytes) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for item in read_paths(&paths, &SourceOptions::default()) {
        bytes += item.byte_len();
        match &item {
            SourceItem::Message(_) => messages += 1,
            SourceItem::Oversized { .. } => oversized += 1,
            SourceItem::Skipped { path, reason } => {
                skipped += 1;
                if verbose {
                    println!("skipped {}: {reason}", path.display());
                }
            }
            SourceItem::Error { path, error } => {
                errors += 1;
                if verbose {
                    println!("error {}: {error}", path.display());
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "messages={messages} oversized={oversized} skipped={skipped} errors={errors} bytes={bytes} \
         elapsed_s={secs:.3} messages_per_s={:.0} mb_per_s={:.1}",
        messages as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
