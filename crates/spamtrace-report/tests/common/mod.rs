//! A report's worth of data built from synthetic series (no store needed):
//! a Rustock-like program taken down on 16 March 2011 at 14:45, others steady.

#![allow(dead_code)]

use spamtrace_report::{CampaignSummary, Note, Ranked, ReportData, Totals, WatchedSeries};
use spamtrace_watch::synthetic::Profile;
use spamtrace_watch::{DetectParams, Series, detect_changes, parse_time};

/// Sample data; every text field is `text(i)` so callers can inject hostile strings.
pub fn sample(text: &dyn Fn(&str) -> String) -> ReportData {
    let start = parse_time("2011-03-01").unwrap();
    let end = parse_time("2011-03-31").unwrap();
    let takedown = parse_time("2011-03-16T14:45:00Z").unwrap();
    let hours = 30.0 * 24.0;
    let to_hours = |t: i64| (t - start) as f64 / 3600.0;
    let profiles = [
        (
            "rustock",
            Profile {
                active: vec![(0.0, to_hours(takedown))],
                spike_phase_hours: to_hours(takedown) - 14.0 * 24.0,
                ..Profile::rustock_like(180.0)
            },
        ),
        ("cutwail", Profile::steady(60.0)),
        (
            "srizbi",
            Profile {
                active: vec![(0.0, 9.0 * 24.0), (13.0 * 24.0, f64::INFINITY)],
                ..Profile::steady(30.0)
            },
        ),
        (
            "darkmailer",
            Profile {
                active: vec![(20.0 * 24.0 + 7.5, f64::INFINITY)],
                ..Profile::steady(15.0)
            },
        ),
    ];
    let params = DetectParams::default();
    let mut botnets = Vec::new();
    let mut total = Series::zeros("total", start, end, 3600);
    for (i, (name, p)) in profiles.iter().enumerate() {
        let series = p.generate(
            &format!("botnet:{}", text(name)),
            i as u64 + 1,
            start,
            hours,
            3600,
        );
        for (j, c) in series.counts.iter().enumerate() {
            total.counts[j] += c;
        }
        let changes = detect_changes(&series, &params);
        botnets.push(WatchedSeries {
            label: text(name),
            series,
            changes,
        });
    }
    let unattributed = Profile::steady(25.0).generate("x", 99, start, hours, 3600);
    for (j, c) in unattributed.counts.iter().enumerate() {
        total.counts[j] += c;
    }
    let spam = total.total() as u64;
    let attributed: f64 = botnets.iter().map(|b| b.series.total()).sum();
    let rank = |name: &str, count: u64| Ranked {
        name: text(name),
        count,
        detail: Some(text("rustock, cutwail")),
    };
    ReportData {
        title: text("spamtrace demo: March 2011"),
        generated_at: end + 3600,
        period_start: start,
        period_end: end,
        bucket_secs: 3600,
        totals: Totals {
            messages: spam * 9 / 10,
            sightings: spam + 1200,
            spam_sightings: spam,
            ham_sightings: 1200,
            kinds: vec![
                rank("pharmacy", spam / 2),
                rank("replica", spam / 5),
                rank("lottery", spam / 8),
                rank("phishing", spam / 12),
            ],
            attributed_sightings: attributed as u64,
        },
        total: Some(total),
        botnets,
        other_changes: vec![],
        rotations: vec![spamtrace_report::Rotation {
            campaign: text("c-0001"),
            domains: (0..12)
                .map(|i| text(&format!("pills{i}.example")))
                .collect(),
            first: start + 86_400,
            last: end - 86_400,
            changes: 23,
        }],
        campaigns: (0..6)
            .map(|i| CampaignSummary {
                id: text(&format!("c-{i:04x}")),
                size: 5000 / (i + 1),
                messages: 4000 / (i + 1),
                first_seen: start + i as i64 * 86_400,
                last_seen: end - i as i64 * 3600,
                kind: Some(text("pharmacy")),
                botnet: Some(text("rustock")),
                subjects: vec![
                    text("Canadian Pharmacy: 80% off"),
                    text("Men's Health - order now"),
                ],
                template: Some(text(
                    "Dear {name},\nBuy {drug} at {price} today: http://{domain}/{path}\n",
                )),
                domains: vec![text("pills-example.com"), text("cheap-meds.example")],
            })
            .collect(),
        domains: (0..10)
            .map(|i| rank(&format!("domain{i}.example"), 1000 - i * 90))
            .collect(),
        networks: (0..10)
            .map(|i| rank(&format!("192.0.2.{i}/24"), 800 - i * 70))
            .collect(),
        notes: vec![Note {
            title: text("Campaigns"),
            text: text("Messages joined by template similarity."),
        }],
    }
}
