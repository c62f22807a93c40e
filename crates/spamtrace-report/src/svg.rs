//! Inline SVG charts. Colours and sizes are SVG presentation attributes or
//! classes from the page's stylesheet, never `style` attributes, so the page's
//! Content-Security-Policy can forbid inline styles.

use crate::escape::esc;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Colours for series, in order (Tableau 10: distinguishable, print-safe).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];
/// Colour of the "everything else" layer.
pub const OTHER: &str = "#d4d4d4";

/// Most points drawn per layer; longer series are summed into wider buckets.
const MAX_POINTS: usize = 800;

/// One stacked layer.
pub struct Layer<'a> {
    /// Its name, for the tooltip.
    pub label: &'a str,
    /// Fill colour.
    pub color: &'a str,
    /// One value per bucket.
    pub values: Vec<f64>,
}

/// A vertical marker for a detected change.
pub struct Marker {
    /// When, Unix seconds.
    pub t: i64,
    /// The text shown next to it (plain; escaped here).
    pub label: String,
    /// A drop (true) or a rise.
    pub drop: bool,
}

/// The time axis and size of a chart.
pub struct Frame {
    /// Start of the first bucket.
    pub start: i64,
    /// End of the last bucket.
    pub end: i64,
    /// Bucket width of the values.
    pub step: i64,
    /// Width and height in px (the SVG scales to its container).
    pub width: f64,
    /// Height in px.
    pub height: f64,
}

const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const BOTTOM: f64 = 28.0;
const LABEL_ROW: f64 = 14.0;

/// A stacked area chart (a filled line chart with one layer), with a time
/// axis, a value axis and change markers. `percent` draws a 0-100 % axis.
pub fn stacked_area(
    title: &str,
    frame: &Frame,
    layers: &[Layer],
    markers: &[Marker],
    unit: &str,
    percent: bool,
) -> String {
    let n = layers.iter().map(|l| l.values.len()).max().unwrap_or(0);
    // Sum into wider buckets when there are too many points to draw.
    let factor = n.div_ceil(MAX_POINTS).max(1);
    let step = frame.step * factor as i64;
    let layers: Vec<(&str, &str, Vec<f64>)> = layers
        .iter()
        .map(|l| {
            let v: Vec<f64> = l
                .values
                .chunks(factor)
                .map(|c| {
                    if percent {
                        c.iter().sum::<f64>() / c.len() as f64
                    } else {
                        c.iter().sum()
                    }
                })
                .collect();
            (l.label, l.color, v)
        })
        .collect();
    let n = n.div_ceil(factor);
    let mut stacked = vec![vec![0.0; n]; layers.len() + 1];
    for (i, (_, _, v)) in layers.iter().enumerate() {
        let (below, above) = stacked.split_at_mut(i + 1);
        for (j, cell) in above[0].iter_mut().enumerate() {
            *cell = below[i][j] + v.get(j).copied().unwrap_or(0.0).max(0.0);
        }
    }
    let top_value = if percent {
        1.0
    } else {
        stacked
            .last()
            .map_or(0.0, |s| s.iter().copied().fold(0.0, f64::max))
    };
    let (ticks, y_max) = if percent {
        ((0..=4).map(|i| i as f64 * 0.25).collect(), 1.0)
    } else {
        nice_ticks(top_value)
    };

    let rows = marker_rows(frame, markers);
    let top = 10.0 + LABEL_ROW * rows.iter().copied().max().map_or(0.0, |r| r as f64 + 1.0);
    let plot_w = frame.width - LEFT - RIGHT;
    let plot_h = frame.height - top - BOTTOM;
    let span = (frame.end - frame.start).max(1) as f64;
    let x = |t: i64| LEFT + (t - frame.start) as f64 / span * plot_w;
    let y = |v: f64| top + plot_h - (v / y_max.max(f64::MIN_POSITIVE)) * plot_h;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><title>{t}</title>"#,
        w = frame.width,
        h = frame.height,
        t = esc(title)
    );
    // Grid and value axis.
    for &v in &ticks {
        let yy = y(v);
        let label = if percent {
            format!("{:.0}%", v * 100.0)
        } else {
            compact(v)
        };
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{x2:.1}" y1="{yy:.1}" y2="{yy:.1}"/><text class="tick" x="{lx:.1}" y="{ty:.1}" text-anchor="end">{label}</text>"#,
            x2 = LEFT + plot_w,
            lx = LEFT - 6.0,
            ty = yy + 4.0
        );
    }
    let _ = write!(
        s,
        r#"<text class="axis-label" transform="translate(12 {cy:.1}) rotate(-90)" text-anchor="middle">{u}</text>"#,
        cy = top + plot_h / 2.0,
        u = esc(unit)
    );
    // Layers, bottom first: upper edge forward, lower edge back.
    for (i, (label, color, _)) in layers.iter().enumerate() {
        if n == 0 {
            break;
        }
        let mut d = String::new();
        for (j, &value) in stacked[i + 1].iter().enumerate() {
            let t0 = frame.start + j as i64 * step;
            let cmd = if j == 0 { 'M' } else { 'L' };
            let _ = write!(
                d,
                "{cmd}{:.1} {:.1}H{:.1}",
                x(t0),
                y(value),
                x((t0 + step).min(frame.end))
            );
        }
        for j in (0..n).rev() {
            let t0 = frame.start + j as i64 * step;
            let _ = write!(
                d,
                "L{:.1} {:.1}H{:.1}",
                x((t0 + step).min(frame.end)),
                y(stacked[i][j]),
                x(t0)
            );
        }
        let _ = write!(
            s,
            r#"<path class="layer" d="{d}Z" fill="{color}"><title>{}</title></path>"#,
            esc(label)
        );
    }
    // Time axis.
    let _ = write!(
        s,
        r#"<line class="axis" x1="{LEFT}" x2="{x2:.1}" y1="{yb:.1}" y2="{yb:.1}"/>"#,
        x2 = LEFT + plot_w,
        yb = top + plot_h
    );
    for (t, label) in time_ticks(frame.start, frame.end) {
        let xx = x(t);
        let _ = write!(
            s,
            r#"<line class="axis" x1="{xx:.1}" x2="{xx:.1}" y1="{y0:.1}" y2="{y1:.1}"/><text class="tick" x="{xx:.1}" y="{ty:.1}" text-anchor="middle">{label}</text>"#,
            y0 = top + plot_h,
            y1 = top + plot_h + 4.0,
            ty = top + plot_h + 17.0
        );
    }
    // Change markers, labels stacked in rows so they do not overlap.
    for (m, row) in markers.iter().zip(&rows) {
        let xx = x(m.t.clamp(frame.start, frame.end));
        let class = if m.drop { "marker drop" } else { "marker rise" };
        let ly = 10.0 + LABEL_ROW * (*row as f64 + 1.0) - 3.0;
        let (anchor, dx) = if xx > LEFT + plot_w * 0.7 {
            ("end", -4.0)
        } else {
            ("start", 4.0)
        };
        let _ = write!(
            s,
            r#"<g class="{class}"><line x1="{xx:.1}" x2="{xx:.1}" y1="{y0:.1}" y2="{y1:.1}"/><text x="{tx:.1}" y="{ly:.1}" text-anchor="{anchor}">{label}</text></g>"#,
            y0 = ly - 9.0,
            y1 = top + plot_h,
            tx = xx + dx,
            label = esc(&m.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// Row (0 = top) of each marker's label: a label goes one row down when it
/// would overlap an earlier one.
fn marker_rows(frame: &Frame, markers: &[Marker]) -> Vec<usize> {
    let plot_w = frame.width - LEFT - RIGHT;
    let span = (frame.end - frame.start).max(1) as f64;
    let mut taken: Vec<Vec<(f64, f64)>> = Vec::new();
    markers
        .iter()
        .map(|m| {
            let xx =
                LEFT + (m.t.clamp(frame.start, frame.end) - frame.start) as f64 / span * plot_w;
            let width = 6.2 * m.label.chars().count().min(60) as f64 + 8.0;
            let extent = if xx > LEFT + plot_w * 0.7 {
                (xx - width, xx)
            } else {
                (xx, xx + width)
            };
            let row = (0..)
                .find(|&r| {
                    taken.get(r).is_none_or(|row: &Vec<(f64, f64)>| {
                        row.iter().all(|&(a, b)| extent.1 < a || extent.0 > b)
                    })
                })
                .unwrap_or(0);
            if taken.len() <= row {
                taken.resize(row + 1, Vec::new());
            }
            taken[row].push(extent);
            row.min(5)
        })
        .collect()
}

/// A horizontal bar chart with labels and values.
pub fn bars(title: &str, items: &[(String, f64)], width: f64) -> String {
    let row = 24.0;
    let label_w = 150.0;
    let height = row * items.len().max(1) as f64 + 8.0;
    let max = items
        .iter()
        .map(|i| i.1)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let bar_w = width - label_w - 80.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let yy = 4.0 + i as f64 * row;
        let w = (value / max * bar_w).max(1.0);
        let _ = write!(
            s,
            r#"<text class="bar-label" x="{lx}" y="{ty:.1}" text-anchor="end">{label}</text><rect x="{label_w}" y="{yy:.1}" width="{w:.1}" height="{bh}" rx="3" fill="{color}"/><text class="tick" x="{vx:.1}" y="{ty:.1}">{value}</text>"#,
            lx = label_w - 8.0,
            ty = yy + 15.0,
            bh = row - 8.0,
            color = PALETTE[i % PALETTE.len()],
            vx = label_w + w + 6.0,
            label = esc(&crate::escape::clip(label, 24)),
            value = thousands(*value as u64)
        );
    }
    s.push_str("</svg>");
    s
}

/// A small colour square for legends.
pub fn swatch(color: &str) -> String {
    format!(
        r#"<svg class="swatch" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" aria-hidden="true"><rect width="10" height="10" rx="2" fill="{color}"/></svg>"#
    )
}

/// A thin inline bar for table cells, `fraction` of full width.
pub fn meter(fraction: f64) -> String {
    let w = (fraction.clamp(0.0, 1.0) * 100.0).max(0.5);
    format!(
        r##"<svg class="meter" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true"><rect width="100" height="8" rx="2" fill="#eef1f5"/><rect width="{w:.1}" height="8" rx="2" fill="#4e79a7"/></svg>"##
    )
}

/// Round tick values from 0 covering `max`, and the axis top.
fn nice_ticks(max: f64) -> (Vec<f64>, f64) {
    if max.is_nan() || max <= 0.0 {
        return (vec![0.0, 1.0], 1.0);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let count = (max / step).ceil() as usize;
    let ticks: Vec<f64> = (0..=count).map(|i| i as f64 * step).collect();
    let top = ticks.last().copied().unwrap_or(1.0);
    (ticks, top)
}

/// Tick times and labels for a time axis: round hours or days, about eight of them.
fn time_ticks(start: i64, end: i64) -> Vec<(i64, String)> {
    let span = (end - start).max(1);
    let steps = [
        3_600,
        3 * 3_600,
        6 * 3_600,
        12 * 3_600,
        86_400,
        2 * 86_400,
        7 * 86_400,
        14 * 86_400,
        28 * 86_400,
    ];
    let step = steps
        .iter()
        .copied()
        .find(|s| span / s <= 10)
        .unwrap_or(91 * 86_400);
    // Multi-day steps count from the first midnight, not from the epoch.
    let align = step.min(86_400);
    let first = start.div_euclid(align) * align
        + if start.rem_euclid(align) == 0 {
            0
        } else {
            align
        };
    let mut out = Vec::new();
    let mut t = first;
    while t <= end && out.len() < 20 {
        let format = if step < 86_400 {
            "%d %b %H:%M"
        } else {
            "%d %b"
        };
        out.push((t, day_time(t, format)));
        t += step;
    }
    out
}

/// A time formatted with a chrono format string, in UTC.
pub fn day_time(t: i64, format: &str) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.format(format).to_string())
        .unwrap_or_default()
}

/// 1234567 as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A short number for axes: 950, 1.2k, 3.4M; fractions with two digits.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6).replace(".0M", "M")
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3).replace(".0k", "k")
    } else if a >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(1_200.0), "1.2k");
        assert_eq!(compact(2_000_000.0), "2M");
        assert_eq!(compact(0.25), "0.25");
    }

    #[test]
    fn axes_have_round_ticks() {
        let (ticks, top) = nice_ticks(1_730.0);
        assert_eq!(ticks, vec![0.0, 500.0, 1000.0, 1500.0, 2000.0]);
        assert_eq!(top, 2000.0);
        assert_eq!(nice_ticks(0.0).1, 1.0);
        let t = time_ticks(1_298_937_600, 1_298_937_600 + 30 * 86_400);
        assert!(t.len() >= 4 && t.len() <= 10, "{t:?}");
        assert_eq!(t[0].1, "01 Mar");
    }
}
