//! One module per group of subcommands. Each exposes clap `Args` structs and
//! `run` functions taking the shared [`Context`].

pub mod attribution;
pub mod classify;
pub mod ingest;
pub mod messages;
pub mod show;
pub mod stages;
pub mod stats;
pub mod trap;
pub mod watch;

use std::path::PathBuf;

/// What every subcommand gets from the global options.
#[derive(Debug, Clone)]
pub struct Context {
    /// The store directory.
    pub data: PathBuf,
}
