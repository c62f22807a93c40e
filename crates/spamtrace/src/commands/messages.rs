//! `spamtrace messages`: the one stable export scripts rely on.

use super::Context;
use clap::Args;
use spamtrace_store::{SqliteStore, Store};
use std::io::Write;

/// List stored messages, oldest first.
///
/// With --json: one JSON object per line, with sha256, source (path, with
/// `:offset` in an mbox), received_at (ISO 8601 UTC), time_source,
/// message_id, subject, from, label, size, problem, score, verdict, kind,
/// campaign, botnet, origin_ip, sightings, and for trap mail envelope_from,
/// envelope_to and dialect. Fields are only ever added.
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct MessagesArgs {
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Stop after this many messages.
    #[arg(long)]
    pub limit: Option<usize>,
}

/// Run `messages`.
pub fn run(ctx: &Context, args: MessagesArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open_readonly(&ctx.data)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut n = 0usize;
    let mut err = None;
    store.for_each_message(&mut |row| {
        n += 1;
        let r = if args.json {
            serde_json::to_writer(&mut out, &row)
                .map_err(std::io::Error::other)
                .and_then(|_| out.write_all(b"\n"))
        } else {
            writeln!(
                out,
                "{}  {}  {:<5} {:<11} {}",
                &row.sha256[..12],
                row.received_at.as_deref().unwrap_or("-"),
                row.verdict
                    .as_deref()
                    .or(row.label.as_deref())
                    .unwrap_or("-"),
                row.kind.as_deref().unwrap_or("-"),
                row.subject
                    .as_deref()
                    .unwrap_or("(no subject)")
                    .chars()
                    .take(80)
                    .collect::<String>()
            )
        };
        if let Err(e) = r {
            // A closed pipe (`| head`) ends the listing quietly.
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                err = Some(e);
            }
            return false;
        }
        args.limit.is_none_or(|l| n < l)
    })?;
    if let Some(e) = err {
        return Err(e.into());
    }
    let _ = out.flush();
    Ok(())
}
