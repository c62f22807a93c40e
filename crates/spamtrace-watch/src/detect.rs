//! Change detection: range separation at several time scales, scored by a
//! dispersion-aware posterior (see the crate documentation for the idea).

use crate::series::Series;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Which way the level moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The level fell (a takedown, a campaign's end, a pause).
    Drop,
    /// The level rose (a new campaign, a return from a pause).
    Rise,
}

impl Direction {
    /// `drop` or `rise`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Drop => "drop",
            Direction::Rise => "rise",
        }
    }
}

/// One abrupt change in a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The series name (`botnet:rustock`...).
    pub series: String,
    /// Which way the level moved.
    pub direction: Direction,
    /// When the change happened, Unix seconds: the start of the first bucket at
    /// the new level, moved into the preceding bucket when that bucket's count
    /// lies between the two levels (the change happened during it, and its
    /// count tells how far into it).
    pub at: i64,
    /// When the detector could first tell (end of the bucket that confirmed it),
    /// Unix seconds. `detected_at - at` is the detection delay.
    pub detected_at: i64,
    /// Mean count per bucket (of the series' own bucket size) before the change,
    /// over the reference window.
    pub before: f64,
    /// Mean count per bucket after the change, from `at` to `detected_at`.
    pub after: f64,
    /// Posterior probability (0..1) that the rate changed by at least
    /// [`DetectParams::min_rate_ratio`], allowing for the series' overdispersion.
    pub confidence: f64,
    /// The time scale (bucket sum, seconds) at which the change was seen.
    pub scale_secs: i64,
}

/// Tuning of the detector. Durations are in seconds so that one set of
/// parameters serves every bucket size; [`DetectParams::default`] is what the
/// figures in the crate's tests were measured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectParams {
    /// Time scales at which to look, seconds. Each is rounded up to a multiple
    /// of the series' bucket. Finer scales see changes sooner; coarser scales
    /// see changes in low-volume series that fine buckets drown in noise.
    pub scales_secs: Vec<i64>,
    /// How far back the reference range reaches. It must span at least one full
    /// cycle of the series' normal behaviour (Rustock: two days).
    pub window_secs: i64,
    /// How much of a new regime must be seen before it can itself be judged.
    pub min_history_secs: i64,
    /// How long the new level must hold before a change is reported (the
    /// detection delay at the finest scale).
    pub confirm_secs: i64,
    /// Lower bound on the confirmation, in buckets of the scale.
    pub min_confirm_buckets: usize,
    /// Lower bound on the reference window, in buckets of the scale.
    pub min_window_buckets: usize,
    /// How far outside the reference range, in `log1p(count)` units, every
    /// confirming bucket must be (ln 4: four times below the range's low end,
    /// or above its high end).
    pub min_log_ratio: f64,
    /// Quantile of the reference window taken as its low end (for drops).
    pub low_quantile: f64,
    /// Quantile of the reference window taken as its high end (for rises).
    pub high_quantile: f64,
    /// The rate ratio whose posterior probability is the confidence.
    pub min_rate_ratio: f64,
    /// Candidates below this confidence are not reported.
    pub min_confidence: f64,
}

impl Default for DetectParams {
    fn default() -> Self {
        DetectParams {
            scales_secs: vec![3_600, 6 * 3_600, 86_400],
            window_secs: 4 * 86_400,
            min_history_secs: 2 * 86_400,
            confirm_secs: 3 * 3_600,
            min_confirm_buckets: 2,
            min_window_buckets: 8,
            min_log_ratio: 4f64.ln(),
            low_quantile: 0.05,
            high_quantile: 0.95,
            min_rate_ratio: 2.0,
            min_confidence: 0.95,
        }
    }
}

/// Find every change in a whole series, by replaying it through an
/// [`OnlineDetector`]: history gives what live monitoring would have given.
pub fn detect_changes(series: &Series, params: &DetectParams) -> Vec<Change> {
    let mut detector = OnlineDetector::new(&series.name, series.bucket_secs, params.clone());
    // The whole series is known: scales at which it never reaches a level
    // that could change enough are not watched (most sparse series).
    if !detector.retire_hopeless_scales(&series.counts) {
        return Vec::new();
    }
    series
        .counts
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| detector.push(series.bucket_start(i), c))
        .collect()
}

/// One time scale of the detector: sums of `factor` base buckets.
#[derive(Debug, Clone)]
struct Scale {
    /// False when the series is known never to reach a sum that could change
    /// enough at this scale: it is then not kept at all.
    active: bool,
    factor: usize,
    window: usize,
    min_history: usize,
    confirm: usize,
    /// Completed sums since the regime start, the most recent `window + confirm`.
    sums: VecDeque<f64>,
    /// `log1p` of each of `sums`, computed once when the sum completes.
    logs: VecDeque<f64>,
    /// Absolute index (counting completed sums) of `logs[0]`.
    front_index: usize,
    /// Sliding maximum and minimum of the reference window's logs (all but the
    /// last `confirm`), as monotonic queues of (absolute index, log): they rule
    /// out most buckets in O(1) before any quantile is needed.
    reference_max: VecDeque<(usize, f64)>,
    reference_min: VecDeque<(usize, f64)>,
    /// How many sums of the reference window are zero: when they reach the
    /// low quantile, that quantile is zero and nothing can drop below it.
    reference_zeros: usize,
    /// How many sums were completed since the regime start (including dropped ones).
    completed: usize,
    partial: f64,
    partial_len: usize,
}

impl Scale {
    /// Close the partial sum and slide the reference window.
    fn complete_sum(&mut self) {
        self.sums.push_back(self.partial);
        self.logs.push_back(log1p_count(self.partial));
        self.completed += 1;
        self.partial = 0.0;
        self.partial_len = 0;
        let len = self.sums.len();
        if len > self.confirm {
            // The oldest of the recent sums just became part of the reference.
            let at = len - 1 - self.confirm;
            let (index, entering) = (self.front_index + at, self.logs[at]);
            while self
                .reference_max
                .back()
                .is_some_and(|&(_, v)| v <= entering)
            {
                self.reference_max.pop_back();
            }
            self.reference_max.push_back((index, entering));
            while self
                .reference_min
                .back()
                .is_some_and(|&(_, v)| v >= entering)
            {
                self.reference_min.pop_back();
            }
            self.reference_min.push_back((index, entering));
            self.reference_zeros += usize::from(entering == 0.0);
        }
        if len > self.window + self.confirm {
            self.sums.pop_front();
            if self.logs.pop_front() == Some(0.0) {
                self.reference_zeros -= 1;
            }
            let leaving = self.front_index;
            self.front_index += 1;
            for q in [&mut self.reference_max, &mut self.reference_min] {
                if q.front().is_some_and(|&(i, _)| i == leaving) {
                    q.pop_front();
                }
            }
        }
    }
}

/// Watches one series as its buckets arrive and reports changes as soon as
/// they are confirmed. Memory is bounded by the largest scale's window.
#[derive(Debug, Clone)]
pub struct OnlineDetector {
    series: String,
    bucket_secs: i64,
    params: DetectParams,
    scales: Vec<Scale>,
    /// Start of bucket index 0, set by the first push.
    origin: Option<i64>,
    /// Absolute index of the next bucket expected.
    next_index: i64,
    /// Absolute index of `base[0]`.
    base_start: i64,
    /// Absolute index of the first bucket of the current regime (where every
    /// scale's sums are aligned).
    regime_start: i64,
    /// Base counts of the current regime, the most recent `base_cap`.
    base: VecDeque<f64>,
    base_cap: usize,
}

impl OnlineDetector {
    /// A detector for series `name` with buckets of `bucket_secs` seconds.
    pub fn new(name: &str, bucket_secs: i64, params: DetectParams) -> OnlineDetector {
        let bucket_secs = bucket_secs.max(1);
        let mut factors: Vec<usize> = params
            .scales_secs
            .iter()
            .map(|&s| (s.max(bucket_secs) + bucket_secs - 1) / bucket_secs)
            .map(|f| f.max(1) as usize)
            .collect();
        if factors.is_empty() {
            factors.push(1);
        }
        factors.sort_unstable();
        factors.dedup();
        let scales: Vec<Scale> = factors
            .into_iter()
            .map(|factor| {
                let scale_secs = factor as i64 * bucket_secs;
                let window = ((params.window_secs / scale_secs) as usize)
                    .max(params.min_window_buckets)
                    .max(2);
                let min_history = ((params.min_history_secs / scale_secs) as usize)
                    .max(params.min_window_buckets / 2)
                    .clamp(2, window);
                let confirm = ((params.confirm_secs / scale_secs) as usize)
                    .max(params.min_confirm_buckets)
                    .max(1);
                Scale {
                    active: true,
                    factor,
                    window,
                    min_history,
                    confirm,
                    sums: VecDeque::new(),
                    logs: VecDeque::new(),
                    front_index: 0,
                    reference_max: VecDeque::new(),
                    reference_min: VecDeque::new(),
                    reference_zeros: 0,
                    completed: 0,
                    partial: 0.0,
                    partial_len: 0,
                }
            })
            .collect();
        // Enough base buckets to locate a change found at the coarsest scale.
        let base_cap = scales
            .iter()
            .map(|s| (s.confirm + 4) * s.factor)
            .max()
            .unwrap_or(16);
        OnlineDetector {
            series: name.to_string(),
            bucket_secs,
            params,
            scales,
            origin: None,
            next_index: 0,
            base_start: 0,
            regime_start: 0,
            base: VecDeque::new(),
            base_cap,
        }
    }

    /// Stop watching the scales at which `counts` (the whole series to come)
    /// can never change: a drop needs some sum above `e^min_log_ratio - 1`
    /// (3 by default) to fall from, and a rise needs sums above it to rise
    /// to, so a scale whose largest sum of `factor` consecutive buckets, at
    /// any alignment, stays below that cannot report anything. The changes
    /// found are exactly those of the full detector. Returns whether any
    /// scale is left.
    fn retire_hopeless_scales(&mut self, counts: &[f64]) -> bool {
        let mut whole = true;
        let mut prefix = Vec::with_capacity(counts.len() + 1);
        let mut running = 0.0;
        prefix.push(running);
        for &c in counts {
            let c = if c.is_finite() && c > 0.0 { c } else { 0.0 };
            whole &= c.fract() == 0.0;
            running += c;
            prefix.push(running);
        }
        // Sums of whole counts are exact (below 2^53); differences of running
        // sums of other counts may be off by a few rounding steps of the
        // total, so they are rounded up by more than that.
        whole &= running < 1e15;
        let slack = if whole {
            0.0
        } else {
            running * (counts.len() as f64 + 1.0) * 1e-15 + 1e-9
        };
        let ratio = self.params.min_log_ratio;
        for scale in &mut self.scales {
            let f = scale.factor.min(counts.len()).max(1);
            scale.active = prefix
                .iter()
                .zip(&prefix[f..])
                .any(|(a, b)| log1p_count(b - a + slack) > ratio);
        }
        self.scales.iter().any(|s| s.active)
    }

    /// The series this detector watches.
    pub fn series(&self) -> &str {
        &self.series
    }

    /// Feed the count of the bucket starting at `t` (Unix seconds). Buckets must
    /// come in time order: a bucket at or before one already pushed is ignored
    /// (its count cannot change the past), and skipped buckets count as zero
    /// (nothing was seen). Returns the change that this bucket confirmed, if any.
    /// Counts that are negative or not finite are read as zero.
    pub fn push(&mut self, t: i64, count: f64) -> Option<Change> {
        let origin = *self.origin.get_or_insert(t);
        let index = (t - origin).div_euclid(self.bucket_secs);
        if index < self.next_index {
            return None;
        }
        let count = if count.is_finite() && count > 0.0 {
            count
        } else {
            0.0
        };
        let mut found = None;
        // A gap can only hold zeros, which can confirm at most one drop (a
        // zero level cannot drop further), so one result is all there can be.
        while self.next_index < index {
            if let Some(c) = self.push_value(0.0) {
                found = Some(c);
            }
        }
        self.push_value(count).or(found)
    }

    fn push_value(&mut self, value: f64) -> Option<Change> {
        let index = self.next_index;
        self.next_index += 1;
        self.base.push_back(value);
        while self.base.len() > self.base_cap {
            self.base.pop_front();
            self.base_start += 1;
        }
        let regime_start = self.regime_start;
        for s in 0..self.scales.len() {
            let scale = &mut self.scales[s];
            if !scale.active {
                continue;
            }
            scale.partial += value;
            scale.partial_len += 1;
            if scale.partial_len < scale.factor {
                continue;
            }
            scale.complete_sum();
            if let Some(change) = self.evaluate(s, regime_start, index) {
                return Some(change);
            }
        }
        None
    }

    fn evaluate(&mut self, s: usize, regime_start: i64, last_index: i64) -> Option<Change> {
        let p = &self.params;
        let scale = &self.scales[s];
        let n = scale.sums.len();
        if n < scale.confirm + scale.min_history {
            return None;
        }
        let split = n - scale.confirm;
        let from = split.saturating_sub(scale.window);
        let (mut recent_min, mut recent_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &l in scale.logs.range(split..) {
            recent_min = recent_min.min(l);
            recent_max = recent_max.max(l);
        }
        // Cheap bounds first, so that most buckets of most series stop here:
        // the low quantile is at most the window's maximum, and zero when at
        // least as many sums as its rank are zero; the high quantile is at
        // least the window's minimum.
        let ref_max = scale.reference_max.front().map_or(0.0, |x| x.1);
        let ref_min = scale.reference_min.front().map_or(0.0, |x| x.1);
        let low_rank = (p.low_quantile.clamp(0.0, 1.0) * (split - from - 1) as f64).ceil() as usize;
        let can_drop = ref_max - recent_max > p.min_log_ratio && scale.reference_zeros <= low_rank;
        let can_rise = recent_min - ref_min > p.min_log_ratio;
        if !can_drop && !can_rise {
            return None;
        }
        // Only the quantile of a direction still possible is selected.
        let mut log_ref: Vec<f64> = scale.logs.range(from..split).copied().collect();
        let direction = if can_drop
            && quantile_select(&mut log_ref, p.low_quantile) - recent_max > p.min_log_ratio
        {
            Direction::Drop
        } else if can_rise
            && recent_min - quantile_select(&mut log_ref, p.high_quantile) > p.min_log_ratio
        {
            Direction::Rise
        } else {
            return None;
        };
        let reference: Vec<f64> = scale.sums.range(from..split).copied().collect();
        let recent: Vec<f64> = scale.sums.range(split..).copied().collect();
        let confidence = rate_change_probability(&reference, &recent, p.min_rate_ratio);
        if confidence < p.min_confidence {
            return None;
        }
        // Where the recent window starts, in base buckets.
        let coarse_split = regime_start + ((scale.completed - scale.confirm) * scale.factor) as i64;
        let first_new = self.locate(coarse_split, scale.factor, last_index);
        let factor = scale.factor as f64;
        let before = mean(&reference) / factor;
        let after_values: Vec<f64> = self.base_range(first_new, last_index + 1);
        let after = mean(&after_values);
        let at_fraction = self.transition_fraction(first_new, before, after, direction);
        let origin = self.origin.unwrap_or(0);
        let mut at =
            origin + ((first_new as f64 - at_fraction) * self.bucket_secs as f64).round() as i64;
        if self.bucket_secs >= 60 && at_fraction > 0.0 {
            // The estimate is not better than a minute: do not print seconds.
            at = (at as f64 / 60.0).round() as i64 * 60;
        }
        let change = Change {
            series: self.series.clone(),
            direction,
            at,
            detected_at: origin + (last_index + 1) * self.bucket_secs,
            before,
            after,
            confidence,
            scale_secs: scale.factor as i64 * self.bucket_secs,
        };
        self.start_regime(first_new);
        Some(change)
    }

    /// The base bucket where the new level starts: the split near the coarse
    /// one that best separates two constant levels of `log1p(count)`.
    fn locate(&self, coarse_split: i64, factor: usize, last_index: i64) -> i64 {
        let f = factor as i64;
        let region_from = (coarse_split - 2 * f - 2).max(self.base_start);
        let region_to = last_index + 1;
        let values: Vec<f64> = self
            .base_range(region_from, region_to)
            .iter()
            .map(|c| c.ln_1p())
            .collect();
        let mut best = (f64::INFINITY, coarse_split);
        for c in (coarse_split - f).max(region_from + 1)..=(coarse_split + f).min(region_to - 1) {
            let k = (c - region_from) as usize;
            let cost = sse(&values[..k]) + sse(&values[k..]);
            // Ties go to the coarse split, the detector's own answer.
            if cost < best.0 - 1e-9 || (cost <= best.0 + 1e-9 && c == coarse_split) {
                best = (cost, c);
            }
        }
        best.1
    }

    /// How much of bucket `first_new - 1` already belonged to the new level,
    /// from where its count lies between the local old level and the new one.
    fn transition_fraction(
        &self,
        first_new: i64,
        before: f64,
        after: f64,
        direction: Direction,
    ) -> f64 {
        let Some(x) = self.base_value(first_new - 1) else {
            return 0.0;
        };
        // The old level right before the change, not the window mean: spiky
        // series sit far from their mean.
        let local: Vec<f64> = self.base_range(first_new - 4, first_new - 1);
        let old = if local.is_empty() {
            before
        } else {
            mean(&local)
        };
        let inside = match direction {
            Direction::Drop => x < old && x > after,
            Direction::Rise => x > old && x < after,
        };
        if !inside || (old - after).abs() < f64::EPSILON {
            return 0.0;
        }
        // Share of the bucket spent at the new level.
        ((old - x) / (old - after)).clamp(0.0, 1.0)
    }

    fn base_value(&self, index: i64) -> Option<f64> {
        if index < self.base_start {
            return None;
        }
        self.base.get((index - self.base_start) as usize).copied()
    }

    fn base_range(&self, from: i64, to: i64) -> Vec<f64> {
        (from.max(self.base_start)..to)
            .filter_map(|i| self.base_value(i))
            .collect()
    }

    /// Start a new regime at base bucket `first`: the new level becomes the
    /// reference, so the same change is not reported again.
    fn start_regime(&mut self, first: i64) {
        let kept = self.base_range(first, self.next_index);
        self.base = kept.iter().copied().collect();
        self.base_start = self.next_index - kept.len() as i64;
        self.regime_start = self.base_start;
        for scale in self.scales.iter_mut().filter(|s| s.active) {
            scale.sums.clear();
            scale.logs.clear();
            scale.front_index = 0;
            scale.reference_max.clear();
            scale.reference_min.clear();
            scale.reference_zeros = 0;
            scale.completed = 0;
            scale.partial = 0.0;
            scale.partial_len = 0;
            for &v in &kept {
                scale.partial += v;
                scale.partial_len += 1;
                if scale.partial_len == scale.factor {
                    scale.complete_sum();
                }
            }
        }
    }
}

/// `ln(1 + x)`, from a table for the small whole counts that most buckets
/// hold (the detector takes it of every sum; the table gives the same values).
fn log1p_count(x: f64) -> f64 {
    const TABLED: usize = 4096;
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    if (0.0..TABLED as f64).contains(&x) && x.fract() == 0.0 {
        TABLE.get_or_init(|| (0..TABLED).map(|i| (i as f64).ln_1p()).collect())[x as usize]
    } else {
        x.ln_1p()
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

fn sse(values: &[f64]) -> f64 {
    let m = mean(values);
    values.iter().map(|v| (v - m) * (v - m)).sum()
}

/// [`quantile_sorted`] of `values` without sorting them all: the two order
/// statistics it interpolates are selected in linear time (`values` is
/// reordered).
fn quantile_select(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (left, &mut at_hi, _) = values.select_nth_unstable_by(hi, f64::total_cmp);
    let at_lo = if lo == hi {
        at_hi
    } else {
        // Everything left of `hi` is no greater: the next order statistic down is their maximum.
        left.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    };
    at_lo + (at_hi - at_lo) * (pos - lo as f64)
}

/// Linear-interpolated quantile of sorted values (0 for none).
#[cfg(test)]
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Posterior probability that the rate of `recent` differs from that of
/// `reference` by at least `ratio`, in the direction of the observed change.
///
/// Each rate gets a Jeffreys Gamma posterior, approximated as log-normal:
/// `log λ ~ N(log((S + ½) / n), φ / (S + ½))`. The reference's variance is
/// widened by its index of dispersion φ (variance / mean, at least 1), so a
/// spiky series counts as less evidence than a Poisson one of the same size.
/// The recent window is too short to estimate its own dispersion and is taken
/// as Poisson: its level is new, not a mixture of the old regime's phases.
fn rate_change_probability(reference: &[f64], recent: &[f64], ratio: f64) -> f64 {
    let (n_ref, n_new) = (reference.len().max(1) as f64, recent.len().max(1) as f64);
    let (s_ref, s_new) = (reference.iter().sum::<f64>(), recent.iter().sum::<f64>());
    let m_ref = s_ref / n_ref;
    let var_ref = reference
        .iter()
        .map(|c| (c - m_ref) * (c - m_ref))
        .sum::<f64>()
        / n_ref;
    let dispersion = if m_ref > 0.0 {
        (var_ref / m_ref).max(1.0)
    } else {
        1.0
    };
    let log_ref = ((s_ref + 0.5) / n_ref).ln();
    let log_new = ((s_new + 0.5) / n_new).ln();
    let sd = (dispersion / (s_ref + 0.5) + 1.0 / (s_new + 0.5)).sqrt();
    let z = ((log_ref - log_new).abs() - ratio.max(1.0).ln()) / sd;
    normal_cdf(z)
}

/// Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, error < 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    let erf = if x >= 0.0 { erf } else { -erf };
    0.5 * (1.0 + erf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(counts: Vec<f64>) -> Series {
        Series {
            name: "botnet:test".into(),
            start: 0,
            bucket_secs: 3600,
            counts,
        }
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_25).abs() < 1e-6);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0], 0.5), 2.0);
        assert_eq!(quantile_sorted(&[1.0, 2.0], 0.25), 1.25);
        assert_eq!(quantile_sorted(&[], 0.5), 0.0);
        // Selection gives exactly what sorting gives.
        let mut x: u64 = 1;
        for len in 1..120 {
            let values: Vec<f64> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((x >> 40) % 50) as f64 / 7.0
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            for q in [0.0, 0.05, 0.5, 0.95, 1.0] {
                let mut scratch = values.clone();
                assert_eq!(
                    quantile_select(&mut scratch, q),
                    quantile_sorted(&sorted, q)
                );
            }
        }
    }

    #[test]
    fn a_step_down_to_zero_is_a_drop_at_the_right_bucket() {
        let mut counts = vec![100.0; 24 * 5];
        counts.extend(vec![0.0; 24]);
        let changes = detect_changes(&series(counts), &DetectParams::default());
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = &changes[0];
        assert_eq!(c.direction, Direction::Drop);
        assert_eq!(c.at, 24 * 5 * 3600);
        assert_eq!(c.detected_at, c.at + 3 * 3600);
        assert!((c.before - 100.0).abs() < 1e-9 && c.after == 0.0);
        assert!(c.confidence > 0.99);
        assert_eq!(c.scale_secs, 3600);
    }

    #[test]
    fn a_partial_bucket_places_the_change_inside_it() {
        // The takedown happens three quarters into bucket 120.
        let mut counts = vec![400.0; 24 * 5];
        counts.push(300.0);
        counts.extend(vec![0.0; 24]);
        let changes = detect_changes(&series(counts), &DetectParams::default());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].at, 120 * 3600 + 45 * 60);
    }

    #[test]
    fn a_start_from_zero_is_a_rise() {
        let mut counts = vec![0.0; 24 * 3];
        counts.extend(vec![50.0; 24]);
        let changes = detect_changes(&series(counts), &DetectParams::default());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].direction, Direction::Rise);
        assert_eq!(changes[0].at, 72 * 3600);
    }

    #[test]
    fn constant_and_empty_series_have_no_changes() {
        assert!(detect_changes(&series(vec![50.0; 24 * 30]), &DetectParams::default()).is_empty());
        assert!(detect_changes(&series(vec![0.0; 24 * 30]), &DetectParams::default()).is_empty());
        assert!(detect_changes(&series(vec![]), &DetectParams::default()).is_empty());
    }

    #[test]
    fn hostile_counts_and_out_of_order_buckets_do_not_break_it() {
        let mut d = OnlineDetector::new("x", 3600, DetectParams::default());
        for (i, v) in [f64::NAN, f64::INFINITY, -5.0, 1e300, f64::MIN_POSITIVE]
            .into_iter()
            .enumerate()
        {
            d.push(i as i64 * 3600, v);
        }
        assert!(d.push(0, 1.0).is_none(), "a past bucket is ignored");
        // A gap of three days of silence after a steady level is a drop.
        let mut d = OnlineDetector::new("x", 3600, DetectParams::default());
        for i in 0..100 {
            assert!(d.push(i * 3600, 80.0).is_none());
        }
        let change = d.push(200 * 3600, 0.0).expect("the gap is a drop");
        assert_eq!(change.at, 100 * 3600);
    }

    #[test]
    fn memory_stays_bounded_on_fine_buckets() {
        let mut d = OnlineDetector::new("x", 60, DetectParams::default());
        for i in 0..(60 * 24 * 20) {
            d.push(i * 60, (i % 7) as f64);
        }
        assert!(d.base.len() <= d.base_cap);
        assert!(
            d.scales
                .iter()
                .all(|s| s.sums.len() <= s.window + s.confirm)
        );
    }
}
