//! `spamtrace show`: one message in full.

use super::Context;
use anyhow::{Context as _, bail};
use clap::Args;
use spamtrace_store::{SqliteStore, Store, iso};
use std::io::Write;

/// Show one message: its decoded headers, what analysis found (URLs,
/// attachments, Received hops and origin, verdict, kind, campaign, sending
/// software and why), every sighting, and for trap mail the SMTP transcript.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The message's SHA-256, or a unique prefix of it (as `messages` prints).
    pub id: String,
    /// Print the raw message exactly as received (byte for byte) and nothing else.
    #[arg(long)]
    pub raw: bool,
    /// Print everything as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// How much of the extracted text to print (characters).
    #[arg(long, default_value_t = 2000)]
    pub text_chars: usize,
}

/// Run `show`.
pub fn run(ctx: &Context, args: ShowArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open_readonly(&ctx.data)?;
    let Some(sha) = store.resolve(&args.id)? else {
        bail!(
            "no message matches '{}': list them with `spamtrace messages`",
            args.id
        );
    };
    if args.raw {
        let raw = store.raw(&sha)?.context("the raw message is missing")?;
        std::io::stdout().write_all(&raw)?;
        return Ok(());
    }
    let row = store.message(&sha)?.context("message vanished")?;
    let analysis = store.analysis(&sha)?.unwrap_or_default();
    let sightings = store.sightings(&sha)?;
    if args.json {
        let v = serde_json::json!({ "message": row, "verdicts": row.verdicts, "analysis": analysis, "sightings": sightings });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(o, "message   {sha}");
    let _ = writeln!(
        o,
        "received  {} (from {})",
        row.received_at.as_deref().unwrap_or("-"),
        row.time_source
    );
    let _ = writeln!(o, "size      {} bytes", row.size);
    if let Some(l) = &row.label {
        let _ = writeln!(o, "label     {l}");
    }
    if let Some(p) = &row.problem {
        let _ = writeln!(o, "PROBLEM   {p}");
    }
    if let Some(v) = &row.verdict {
        let _ = writeln!(
            o,
            "verdict   {v} (score {:.3})",
            row.score.unwrap_or(f32::NAN)
        );
    }
    if let Some(k) = &row.kind {
        let _ = writeln!(o, "kind      {k}");
    }
    let v = &row.verdicts;
    if let Some(c) = &row.campaign {
        let _ = writeln!(
            o,
            "campaign  {c}: {}",
            v.campaign_reason.as_deref().unwrap_or("")
        );
    } else if let Some(r) = &v.campaign_reason {
        let _ = writeln!(o, "campaign  unclustered: {r}");
    }
    if let Some(b) = &row.botnet {
        let _ = writeln!(o, "sender    {b}");
        for r in &v.botnet_reasons {
            let _ = writeln!(o, "          - {r}");
        }
    }
    if let Some(s) = &v.shape {
        let _ = writeln!(o, "shape     {s}");
    }
    let _ = writeln!(o, "\nheaders ({}):", analysis.headers.len());
    for h in &analysis.headers {
        let _ = writeln!(
            o,
            "  {}: {}",
            h.name,
            h.value.chars().take(300).collect::<String>()
        );
    }
    if !analysis.received.is_empty() {
        let _ = writeln!(o, "\nreceived chain (topmost first):");
        for (i, h) in analysis.received.iter().enumerate() {
            let mark = if analysis.origin == Some(i) {
                "origin ->"
            } else {
                "         "
            };
            let _ = writeln!(
                o,
                "  {mark} from {} [{}] helo={} by {} at {}{}",
                h.from_host.as_deref().unwrap_or("?"),
                h.from_ip.as_deref().unwrap_or("?"),
                h.helo.as_deref().unwrap_or("-"),
                h.by.as_deref().unwrap_or("?"),
                h.date.and_then(iso).unwrap_or_else(|| "-".into()),
                if h.tls { " TLS" } else { "" }
            );
        }
    }
    if let Some(d) = analysis.date {
        let _ = writeln!(
            o,
            "\ndate skew: Date header is {} s from the receive time",
            d - row.received_ts
        );
    }
    if !analysis.urls.is_empty() {
        let _ = writeln!(o, "\nurls ({}):", analysis.urls.len());
        for u in &analysis.urls {
            let _ = writeln!(
                o,
                "  {} [{}{}{}]",
                u.url,
                u.domain
                    .as_deref()
                    .unwrap_or(if u.is_ip { "ip" } else { "-" }),
                if u.obfuscated { ", obfuscated" } else { "" },
                match u.context {
                    spamtrace_mail::UrlContext::Text => "",
                    spamtrace_mail::UrlContext::Href => ", href",
                    spamtrace_mail::UrlContext::Src => ", src",
                    spamtrace_mail::UrlContext::Form => ", form",
                }
            );
        }
    }
    if !analysis.attachments.is_empty() {
        let _ = writeln!(o, "\nattachments:");
        for a in &analysis.attachments {
            let _ = writeln!(
                o,
                "  {} declared {} sniffed {} {} bytes sha256 {}",
                a.filename.as_deref().unwrap_or("(no name)"),
                a.declared_type,
                a.sniffed_type.as_deref().unwrap_or("?"),
                a.size,
                a.sha256
            );
        }
    }
    let _ = writeln!(o, "\nsightings ({}):", sightings.len());
    for s in &sightings {
        let _ = writeln!(
            o,
            "  {} {}{}{}",
            iso(s.seen_at).unwrap_or_default(),
            s.source,
            s.offset.map(|x| format!(":{x}")).unwrap_or_default(),
            s.recipient
                .as_deref()
                .map(|r| format!(" to {r}"))
                .unwrap_or_default()
        );
        if let Some(smtp) = &s.smtp {
            let _ = writeln!(
                o,
                "    client {} helo {:?} tls {} dialect {}",
                smtp.client, smtp.helo, smtp.tls, smtp.dialect
            );
            let _ = writeln!(
                o,
                "    MAIL FROM {} RCPT TO {}",
                smtp.mail_from,
                smtp.rcpt_to.join(", ")
            );
            for line in smtp.transcript.lines() {
                let _ = writeln!(o, "    | {line}");
            }
        }
    }
    let text: String = analysis.text.chars().take(args.text_chars).collect();
    let _ = writeln!(o, "\ntext:\n{text}");
    if analysis.text.chars().count() > args.text_chars {
        let _ = writeln!(
            o,
            "[... more text: --text-chars N; raw source: spamtrace show {} --raw]",
            &sha[..12]
        );
    }
    let _ = std::io::stdout().write_all(o.as_bytes());
    Ok(())
}
