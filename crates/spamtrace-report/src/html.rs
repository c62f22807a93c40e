//! The page: sections in reading order, from the headline to the method.

use crate::escape::{MAX_LONG, esc, esc_clip};
use crate::svg::{self, Frame, Layer, Marker, OTHER, PALETTE, compact, day_time, thousands};
use crate::{Note, Ranked, ReportData};
use base64::Engine;
use sha2::{Digest, Sha256};
use spamtrace_watch::{Change, Direction, Series, bucket_format, format_time};
use std::fmt::Write;

/// The stylesheet, allowed by its hash in the Content-Security-Policy.
const CSS: &str = include_str!("report.css");

/// How many sending programs get their own colour; the rest are summed.
const MAX_LAYERS: usize = 8;
/// How many rows the ranking tables show at most.
const MAX_ROWS: usize = 25;
/// How many campaigns are shown at most.
const MAX_CAMPAIGNS: usize = 15;
/// How many subjects per campaign are shown at most.
const MAX_SUBJECTS: usize = 5;
/// How many changes the change table lists at most.
const MAX_CHANGES: usize = 200;
/// Width of the drawing, px (the SVG scales to the page).
const WIDTH: f64 = 1040.0;

/// The Content-Security-Policy of the page: nothing may load or run except
/// the one stylesheet whose hash is given; images only as `data:` URLs.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; base-uri 'none'; form-action 'none'"
    )
}

/// Render the report as one self-contained HTML document.
pub fn render(data: &ReportData) -> String {
    let mut page = String::with_capacity(256 * 1024);
    let title = if data.title.trim().is_empty() {
        "spamtrace report"
    } else {
        data.title.as_str()
    };
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t}</title>
<style>{CSS}</style></head><body>
<header class="top"><div class="inner"><h1>{t}</h1><p>{period} · buckets of {bucket} · generated {generated}</p></div></header>
<main>
"#,
        csp = content_security_policy(),
        t = esc(title),
        period = esc(&period_text(data)),
        bucket = esc(&bucket_format(data.bucket_secs.max(1))),
        generated = esc(&format_time(data.generated_at)),
    );
    headline(&mut page, data);
    overview(&mut page, data);
    volume_section(&mut page, data);
    per_botnet(&mut page, data);
    shares(&mut page, data);
    changes_table(&mut page, data);
    rotations(&mut page, data);
    campaigns(&mut page, data);
    rankings(&mut page, data);
    notes(&mut page, data);
    page.push_str("<footer>Made by spamtrace. This file loads nothing and runs no script; every text from mail is shown escaped and clipped.</footer>\n</main></body></html>\n");
    page
}

fn period_text(data: &ReportData) -> String {
    let days = (data.period_end - data.period_start) as f64 / 86_400.0;
    format!(
        "{} to {} UTC ({days:.1} days)",
        day_time(data.period_start, "%d %b %Y %H:%M"),
        day_time(data.period_end, "%d %b %Y %H:%M")
    )
}

/// `16 Mar 14:45`.
fn short_time(t: i64) -> String {
    day_time(t, "%d %b %H:%M")
}

fn rate(v: f64) -> String {
    if v >= 100.0 {
        thousands(v.round() as u64)
    } else {
        compact(v)
    }
}

fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::Drop => "▼",
        Direction::Rise => "▲",
    }
}

/// What a change means, in words, for the headline.
fn change_sentence(label: &str, c: &Change, bucket: &str) -> String {
    let verb = match c.direction {
        Direction::Drop if c.after < c.before * 0.05 => "fell to almost nothing",
        Direction::Drop => "fell",
        Direction::Rise if c.before < 0.5 => "started sending",
        Direction::Rise => "rose",
    };
    format!(
        "{label} {verb} at {} UTC: {} → {} spam per {bucket} (confidence {:.0}%, confirmed {} UTC)",
        day_time(c.at, "%d %b %Y %H:%M"),
        rate(c.before),
        rate(c.after),
        c.confidence * 100.0,
        short_time(c.detected_at)
    )
}

fn headline(page: &mut String, data: &ReportData) {
    let bucket = bucket_format(data.bucket_secs.max(1));
    let mut events: Vec<(&str, &Change)> = data
        .botnets
        .iter()
        .flat_map(|b| b.changes.iter().map(move |c| (b.label.as_str(), c)))
        .collect();
    events.sort_by_key(|(_, c)| c.at);
    let drops = events
        .iter()
        .filter(|(_, c)| c.direction == Direction::Drop)
        .count();
    let silenced = events
        .iter()
        .filter(|(_, c)| c.direction == Direction::Drop && c.after < c.before * 0.05)
        .count();
    let class = if drops > 0 {
        "panel headline"
    } else {
        "panel headline calm"
    };
    let title = match (drops, silenced) {
        (0, _) => "No takedown detected".to_string(),
        (_, 1) => "A sending program went silent".to_string(),
        (_, n) if n > 1 => format!("{n} sending programs went silent"),
        (n, _) => format!("{n} drops in sending programs' volume"),
    };
    let _ = write!(page, r#"<section class="{class}"><h2>{}</h2>"#, esc(&title));
    if events.is_empty() {
        page.push_str(r#"<p class="lead">No sending program's volume left its usual range in this period.</p>"#);
    } else {
        page.push_str("<ul>");
        for (label, c) in &events {
            let class = if c.direction == Direction::Drop {
                "event-drop"
            } else {
                "event-rise"
            };
            let _ = write!(
                page,
                r#"<li><span class="{class}">{}</span> <span class="mail">{}</span></li>"#,
                arrow(c.direction),
                esc_clip(&change_sentence(label, c, &bucket), 400)
            );
        }
        page.push_str("</ul>");
    }
    let others = data.other_changes.len();
    if others > 0 {
        let _ = write!(
            page,
            r#"<p class="lead">{} more changes in campaigns, kinds, domains and networks are listed under <b>Detected changes</b>.</p>"#,
            thousands(others as u64)
        );
    }
    if !data.rotations.is_empty() {
        let _ = write!(
            page,
            r#"<p class="lead">{} campaigns rotated their storefront domains: see <b>Storefront domain rotation</b>.</p>"#,
            thousands(data.rotations.len() as u64)
        );
    }
    page.push_str("</section>\n");
}

fn card(page: &mut String, value: &str, label: &str) {
    let _ = write!(
        page,
        r#"<div class="card"><div class="value">{}</div><div class="label">{}</div></div>"#,
        esc(value),
        esc(label)
    );
}

fn overview(page: &mut String, data: &ReportData) {
    let t = &data.totals;
    page.push_str(r#"<section><h2>Overview</h2><div class="cards">"#);
    card(page, &thousands(t.messages), "distinct messages");
    card(page, &thousands(t.sightings), "sightings");
    let judged = t.spam_sightings + t.ham_sightings;
    let share = if judged > 0 {
        format!("{:.1}%", 100.0 * t.spam_sightings as f64 / judged as f64)
    } else {
        "–".into()
    };
    card(page, &share, "spam share");
    let attributed = if t.spam_sightings > 0 {
        format!(
            "{:.0}%",
            100.0 * t.attributed_sightings as f64 / t.spam_sightings as f64
        )
    } else {
        "–".into()
    };
    card(page, &attributed, "spam attributed to a program");
    card(
        page,
        &thousands(data.botnets.len() as u64),
        "sending programs",
    );
    card(
        page,
        &thousands(data.campaigns.len() as u64),
        "campaigns shown",
    );
    page.push_str("</div>");
    if !t.kinds.is_empty() {
        let items: Vec<(String, f64)> = t
            .kinds
            .iter()
            .take(12)
            .map(|k| (k.name.clone(), k.count as f64))
            .collect();
        page.push_str(r#"<div class="panel"><h3>Spam by kind</h3>"#);
        page.push_str(&svg::bars("Spam sightings by kind", &items, WIDTH));
        page.push_str("</div>");
    }
    page.push_str("</section>\n");
}

/// The chart's time frame, from the period and bucket size.
fn frame(data: &ReportData, height: f64, step: i64) -> (Frame, usize) {
    let step = step.max(1);
    let start = data.period_start.div_euclid(step) * step;
    let end = data.period_end.max(start + step);
    let n = ((end - start + step - 1) / step) as usize;
    (
        Frame {
            start,
            end: start + n as i64 * step,
            step,
            width: WIDTH,
            height,
        },
        n,
    )
}

/// A series' counts placed on the frame's buckets, whatever its own start.
fn align(series: &Series, start: i64, step: i64, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for (i, &c) in series.counts.iter().enumerate() {
        let t = series.bucket_start(i);
        if t >= start {
            let j = ((t - start) / step) as usize;
            if j < n && c.is_finite() {
                out[j] += c.max(0.0);
            }
        }
    }
    out
}

/// The stacked layers: the largest programs, the rest, and unattributed spam.
fn botnet_layers(
    data: &ReportData,
    start: i64,
    step: i64,
    n: usize,
) -> Vec<(String, &'static str, Vec<f64>)> {
    let mut layers = Vec::new();
    let mut attributed = vec![0.0; n];
    let mut rest = vec![0.0; n];
    for (i, b) in data.botnets.iter().enumerate() {
        let v = align(&b.series, start, step, n);
        for j in 0..n {
            attributed[j] += v[j];
        }
        if i < MAX_LAYERS {
            layers.push((b.label.clone(), PALETTE[i % PALETTE.len()], v));
        } else {
            for j in 0..n {
                rest[j] += v[j];
            }
        }
    }
    if rest.iter().any(|&v| v > 0.0) {
        layers.push(("other programs".to_string(), "#9c755f", rest));
    }
    if let Some(total) = &data.total {
        let total = align(total, start, step, n);
        let unattributed: Vec<f64> = total
            .iter()
            .zip(&attributed)
            .map(|(t, a)| (t - a).max(0.0))
            .collect();
        if unattributed.iter().any(|&v| v > 0.0) {
            layers.push(("unattributed".to_string(), OTHER, unattributed));
        }
    }
    layers
}

fn legend(page: &mut String, layers: &[(String, &'static str, Vec<f64>)]) {
    page.push_str(r#"<div class="legend">"#);
    for (label, color, _) in layers {
        let _ = write!(
            page,
            r#"<span class="mail">{}{}</span>"#,
            svg::swatch(color),
            esc(label)
        );
    }
    page.push_str("</div>");
}

/// Named, coloured series as the chart draws them.
fn as_layers<'a>(named: &'a [(String, &'static str, Vec<f64>)]) -> Vec<Layer<'a>> {
    named
        .iter()
        .map(|(l, c, v)| Layer {
            label: l,
            color: c,
            values: v.clone(),
        })
        .collect()
}

fn volume_section(page: &mut String, data: &ReportData) {
    let bucket = bucket_format(data.bucket_secs.max(1));
    page.push_str(r#"<section><h2>Spam volume by sending program</h2>"#);
    let (frame, n) = frame(data, 320.0, data.bucket_secs);
    let layers = botnet_layers(data, frame.start, frame.step, n);
    if layers.is_empty() {
        page.push_str(r#"<p class="empty">No spam sightings in this period.</p></section>"#);
        return;
    }
    let markers: Vec<Marker> = data
        .botnets
        .iter()
        .flat_map(|b| {
            b.changes.iter().map(move |c| Marker {
                t: c.at,
                label: format!("{} {} {}", arrow(c.direction), b.label, short_time(c.at)),
                drop: c.direction == Direction::Drop,
            })
        })
        .collect();
    let drawn = as_layers(&layers);
    let _ = write!(
        page,
        r#"<p class="lead">Spam sightings per {} stacked by the program that sent them; dashed lines mark detected changes.</p><div class="panel">"#,
        esc(&bucket)
    );
    page.push_str(&svg::stacked_area(
        "Spam volume by sending program",
        &frame,
        &drawn,
        &markers,
        &format!("spam per {bucket}"),
        false,
    ));
    legend(page, &layers);
    page.push_str("</div></section>\n");
}

fn per_botnet(page: &mut String, data: &ReportData) {
    if data.botnets.is_empty() {
        return;
    }
    let bucket = bucket_format(data.bucket_secs.max(1));
    page.push_str(r#"<section><h2>Each program over time</h2><p class="lead">Each chart has its own scale. Detected changes are marked with the level before and after and the detector's confidence.</p>"#);
    let (frame, n) = frame(data, 170.0, data.bucket_secs);
    for (i, b) in data.botnets.iter().enumerate() {
        let values = align(&b.series, frame.start, frame.step, n);
        let total: f64 = values.iter().sum();
        let markers: Vec<Marker> = b
            .changes
            .iter()
            .map(|c| Marker {
                t: c.at,
                label: format!(
                    "{} {} {} · {} → {} per {bucket} · {:.0}%",
                    arrow(c.direction),
                    c.direction.as_str(),
                    short_time(c.at),
                    rate(c.before),
                    rate(c.after),
                    c.confidence * 100.0
                ),
                drop: c.direction == Direction::Drop,
            })
            .collect();
        let color = if i < MAX_LAYERS {
            PALETTE[i % PALETTE.len()]
        } else {
            "#9c755f"
        };
        let _ = write!(
            page,
            r#"<div class="panel small-multiple"><h3><span class="mail">{}{}</span><span>{} spam sightings · peak {} per {}</span></h3>"#,
            svg::swatch(color),
            esc(&b.label),
            thousands(total as u64),
            rate(values.iter().copied().fold(0.0, f64::max)),
            esc(&bucket)
        );
        let layer = [Layer {
            label: &b.label,
            color,
            values,
        }];
        page.push_str(&svg::stacked_area(
            &format!("Volume of {}", b.label),
            &frame,
            &layer,
            &markers,
            &format!("per {bucket}"),
            false,
        ));
        page.push_str("</div>");
    }
    page.push_str("</section>\n");
}

fn shares(page: &mut String, data: &ReportData) {
    if data.botnets.is_empty() || data.total.is_none() {
        return;
    }
    // Daily shares read best; short periods keep their own buckets.
    let step = if data.period_end - data.period_start >= 3 * 86_400 {
        86_400.max(data.bucket_secs)
    } else {
        data.bucket_secs
    };
    let (frame, n) = frame(data, 260.0, step);
    let layers = botnet_layers(data, frame.start, frame.step, n);
    let totals: Vec<f64> = (0..n)
        .map(|j| layers.iter().map(|l| l.2[j]).sum())
        .collect();
    let shares: Vec<(String, &'static str, Vec<f64>)> = layers
        .iter()
        .map(|(l, c, v)| {
            (
                l.clone(),
                *c,
                v.iter()
                    .zip(&totals)
                    .map(|(x, t)| if *t > 0.0 { x / t } else { 0.0 })
                    .collect(),
            )
        })
        .collect();
    let drawn = as_layers(&shares);
    let _ = write!(
        page,
        r#"<section><h2>Share of spam by program</h2><p class="lead">Each program's share of all spam sightings per {}.</p><div class="panel">"#,
        esc(&bucket_format(step))
    );
    page.push_str(&svg::stacked_area(
        "Share of spam by sending program",
        &frame,
        &drawn,
        &[],
        "share of spam",
        true,
    ));
    legend(page, &shares);
    page.push_str("</div></section>\n");
}

fn changes_table(page: &mut String, data: &ReportData) {
    let bucket = bucket_format(data.bucket_secs.max(1));
    let mut all: Vec<&Change> = data
        .botnets
        .iter()
        .flat_map(|b| b.changes.iter())
        .chain(data.other_changes.iter())
        .collect();
    // What an analyst looks for first: sending programs, all spam and kinds,
    // then campaigns, then the many short-lived storefront domains and
    // networks; in time order within each.
    let rank = |c: &Change| match c.series.split(':').next().unwrap_or("") {
        "botnet" | "total" => 0,
        "kind" => 1,
        "campaign" => 2,
        _ => 3,
    };
    all.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(a.at.cmp(&b.at))
            .then_with(|| a.series.cmp(&b.series))
    });
    page.push_str(r#"<section><h2>Detected changes</h2>"#);
    if all.is_empty() {
        page.push_str(
            r#"<p class="empty">No abrupt change was detected in any series.</p></section>"#,
        );
        return;
    }
    let _ = write!(
        page,
        r#"<p class="lead">Every abrupt drop or rise found in any series ({} in all{}): sending programs and kinds first, then campaigns, then domains and networks, each in time order.</p><div class="panel"><table><thead><tr><th>series</th><th>change</th><th>at (UTC)</th><th class="num">before / {b}</th><th class="num">after / {b}</th><th class="num">confidence</th><th>seen on</th></tr></thead><tbody>"#,
        thousands(all.len() as u64),
        if all.len() > MAX_CHANGES {
            format!(", the first {MAX_CHANGES} shown")
        } else {
            String::new()
        },
        b = esc(&bucket)
    );
    for c in all.iter().take(MAX_CHANGES) {
        let class = if c.direction == Direction::Drop {
            "event-drop"
        } else {
            "event-rise"
        };
        let _ = write!(
            page,
            r#"<tr><td class="mail">{}</td><td class="{class}">{} {}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{:.1}%</td><td>{} sums</td></tr>"#,
            esc(&c.series),
            arrow(c.direction),
            c.direction.as_str(),
            esc(&format_time(c.at)),
            rate(c.before),
            rate(c.after),
            c.confidence * 100.0,
            esc(&bucket_format(c.scale_secs.max(1)))
        );
    }
    page.push_str("</tbody></table></div></section>\n");
}

/// How many domains of a rotation are named before "and N more".
const ROTATION_DOMAINS_SHOWN: usize = 8;

fn rotations(page: &mut String, data: &ReportData) {
    if data.rotations.is_empty() {
        return;
    }
    let folded: usize = data.rotations.iter().map(|r| r.changes).sum();
    let _ = write!(
        page,
        r#"<section><h2>Storefront domain rotation</h2><p class="lead">Campaigns that moved their links from one registered domain to the next: each domain's start and stop is a real change in that domain's series, but together they are one campaign going on ({} domain changes in {} campaigns, folded here from <b>Detected changes</b>). The money trail runs through these domains.</p><div class="panel"><table><thead><tr><th>campaign</th><th class="num">domains</th><th>from (UTC)</th><th>to (UTC)</th><th>domains in order</th></tr></thead><tbody>"#,
        thousands(folded as u64),
        thousands(data.rotations.len() as u64)
    );
    for r in &data.rotations {
        let mut names: Vec<String> = r
            .domains
            .iter()
            .take(ROTATION_DOMAINS_SHOWN)
            .map(|d| esc_clip(d, 80))
            .collect();
        if r.domains.len() > ROTATION_DOMAINS_SHOWN {
            names.push(format!(
                "and {} more",
                r.domains.len() - ROTATION_DOMAINS_SHOWN
            ));
        }
        let _ = write!(
            page,
            r#"<tr><td class="mail">{}</td><td class="num">{}</td><td class="when">{}</td><td class="when">{}</td><td class="mail">{}</td></tr>"#,
            esc_clip(&r.campaign, 80),
            r.domains.len(),
            esc(&day_time(r.first, "%Y-%m-%d %H:%M")),
            esc(&day_time(r.last, "%Y-%m-%d %H:%M")),
            names.join(" → ")
        );
    }
    page.push_str("</tbody></table></div></section>\n");
}

fn campaigns(page: &mut String, data: &ReportData) {
    page.push_str(r#"<section><h2>Top campaigns</h2>"#);
    if data.campaigns.is_empty() {
        page.push_str(r#"<p class="empty">No campaigns in this period.</p></section>"#);
        return;
    }
    page.push_str(r#"<p class="lead">The largest campaigns by spam sightings, with sample subjects and the template inferred from their messages (variable parts shown as {slots}).</p><div class="panel">"#);
    for c in data.campaigns.iter().take(MAX_CAMPAIGNS) {
        let _ = write!(
            page,
            r#"<div class="campaign"><h3 class="mail">{}</h3><div class="meta">{} sightings · {} messages · {} → {} UTC"#,
            esc(&c.id),
            thousands(c.size),
            thousands(c.messages),
            esc(&short_time(c.first_seen)),
            esc(&short_time(c.last_seen))
        );
        if let Some(kind) = &c.kind {
            let _ = write!(page, r#" · <span class="tag mail">{}</span>"#, esc(kind));
        }
        if let Some(botnet) = &c.botnet {
            let _ = write!(
                page,
                r#" · sent by <span class="tag mail">{}</span>"#,
                esc(botnet)
            );
        }
        page.push_str("</div>");
        if !c.subjects.is_empty() {
            page.push_str("<ul>");
            for s in c.subjects.iter().take(MAX_SUBJECTS) {
                let _ = write!(page, r#"<li class="mail">{}</li>"#, esc(s));
            }
            page.push_str("</ul>");
        }
        if !c.domains.is_empty() {
            page.push_str(r#"<div class="meta">links to "#);
            for d in c.domains.iter().take(8) {
                let _ = write!(page, r#"<span class="tag mail">{}</span>"#, esc(d));
            }
            page.push_str("</div>");
        }
        if let Some(t) = &c.template {
            let _ = write!(
                page,
                r#"<pre class="template">{}</pre>"#,
                esc_clip(t, MAX_LONG)
            );
        }
        page.push_str("</div>");
    }
    page.push_str("</div></section>\n");
}

fn ranking_table(page: &mut String, title: &str, what: &str, rows: &[Ranked]) {
    let _ = write!(page, r#"<div class="panel"><h3>{}</h3>"#, esc(title));
    if rows.is_empty() {
        page.push_str(r#"<p class="empty">None in this period.</p></div>"#);
        return;
    }
    let max = rows.iter().map(|r| r.count).max().unwrap_or(1).max(1) as f64;
    let _ = write!(
        page,
        r#"<table><thead><tr><th>{}</th><th class="num">spam</th><th></th></tr></thead><tbody>"#,
        esc(what)
    );
    for r in rows.iter().take(MAX_ROWS) {
        let _ = write!(page, r#"<tr><td class="mail">{}"#, esc(&r.name));
        if let Some(d) = &r.detail {
            let _ = write!(page, r#"<div class="meta mail">{}</div>"#, esc(d));
        }
        let _ = write!(
            page,
            r#"</td><td class="num">{}</td><td class="meter-cell">{}</td></tr>"#,
            thousands(r.count),
            svg::meter(r.count as f64 / max)
        );
    }
    page.push_str("</tbody></table></div>");
}

fn rankings(page: &mut String, data: &ReportData) {
    page.push_str(
        r#"<section><h2>Where it points and where it comes from</h2><div class="grid2">"#,
    );
    ranking_table(page, "Top URL domains", "registered domain", &data.domains);
    ranking_table(page, "Top sender networks", "network", &data.networks);
    page.push_str("</div></section>\n");
}

/// The report's own notes on method, then the caller's.
fn notes(page: &mut String, data: &ReportData) {
    let bucket = bucket_format(data.bucket_secs.max(1));
    let builtin = [
        Note {
            title: "Volumes".into(),
            text: format!("Spam sightings (every time a message was seen counts, duplicates included) per {bucket} bucket in UTC, by the sending program attributed to each message. \"Unattributed\" is spam that no program fingerprint matched."),
        },
        Note {
            title: "Spam share".into(),
            text: "Spam sightings divided by all sightings judged spam or ham (corpus labels first, the classifier's verdict otherwise); unsure verdicts are left out.".into(),
        },
        Note {
            title: "Shares over time".into(),
            text: "Each program's sightings divided by all spam sightings in the same day (or bucket, for periods under three days).".into(),
        },
        Note {
            title: "Detected changes".into(),
            text: "At 1 hour, 6 hour and 1 day sums, a change is reported when every bucket of a confirmation window (3 hours, at least 2 buckets) lies outside the range the series itself showed over the preceding 4 days (its 5th to 95th percentile of log(1 + count)) by at least a factor 4. Spikes and day/night cycles stay inside that range, so they are not reported; a takedown or a new campaign leaves it. The confidence is the posterior probability that the rate changed by at least a factor 2, widened by the series' own overdispersion. The moment is the first bucket at the new level, moved into the bucket before when that bucket's count shows the change happened during it. After a change, the new level becomes the reference.".into(),
        },
    ];
    page.push_str(
        r#"<section><h2>How these figures were computed</h2><div class="panel"><dl class="notes">"#,
    );
    for n in builtin.iter().chain(data.notes.iter()) {
        let _ = write!(
            page,
            "<dt>{}</dt><dd>{}</dd>",
            esc(&n.title),
            esc_clip(&n.text, MAX_LONG)
        );
    }
    page.push_str("</dl></div></section>\n");
}
