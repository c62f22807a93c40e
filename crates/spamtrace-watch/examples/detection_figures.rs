//! Detection figures of the change detector on synthetic series with known
//! changes: `cargo run --release -p spamtrace-watch --example detection_figures [seeds]`.

use spamtrace_watch::DetectParams;
use spamtrace_watch::synthetic::{Evaluation, Scenario, evaluate};

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let days = 30.0;
    let params = DetectParams::default();
    println!("{seeds} seeds x 30 days, hourly buckets, default parameters");
    println!(
        "| scenario | true changes | detected | delay h (median / p90 / max) | |at| error min (median / p90) | false alarms / series-month |"
    );
    println!("|---|---|---|---|---|---|");
    for scenario in Scenario::ALL {
        let e = evaluate(scenario, 0..seeds, days, &params);
        let q = Evaluation::quantile;
        let delay = if e.delays_hours.is_empty() {
            "-".to_string()
        } else {
            format!(
                "{:.1} / {:.1} / {:.1}",
                q(&e.delays_hours, 0.5),
                q(&e.delays_hours, 0.9),
                q(&e.delays_hours, 1.0)
            )
        };
        let err = if e.at_errors_minutes.is_empty() {
            "-".to_string()
        } else {
            format!(
                "{:.0} / {:.0}",
                q(&e.at_errors_minutes, 0.5),
                q(&e.at_errors_minutes, 0.9)
            )
        };
        println!(
            "| {} | {} | {} ({:.1}%) | {} | {} | {:.3} ({}) |",
            scenario.name(),
            e.true_changes,
            e.detected,
            100.0 * e.detection_rate(),
            delay,
            err,
            e.false_alarms_per_month(days),
            e.false_alarms
        );
    }
}
