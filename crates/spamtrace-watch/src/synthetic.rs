//! Synthetic volume series with known changes, to measure the detector:
//! detection rate, delay and false alarms across many seeds.
//!
//! The shapes follow the published behaviour of spam botnets (see
//! `shared/reference/botnets.md`): Rustock's spikes every other day with a
//! gradual decay and its fall to about zero in mid-spike; campaigns that start
//! from nothing and stop; pauses; day/night cycles seen by traps; bursty
//! overdispersed counts. Deterministic for a given seed; no dependencies.

use crate::detect::{Change, DetectParams, Direction, detect_changes};
use crate::series::Series;
use std::f64::consts::PI;

/// A small deterministic generator (SplitMix64): enough for simulation, not for secrets.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high)`.
    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }

    /// Poisson with mean `lambda` (exact below 30, normal approximation above).
    pub fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0.0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let mut k = 0.0;
            let mut p = self.uniform();
            while p > limit {
                k += 1.0;
                p *= self.uniform();
            }
            k
        } else {
            (lambda + lambda.sqrt() * self.normal()).round().max(0.0)
        }
    }
}

/// How one simulated sender's volume behaves. Times are hours from the start.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Mean messages per hour while active, before modulation.
    pub rate_per_hour: f64,
    /// Every how many hours a spike starts (Rustock: 48), if it spikes.
    pub spike_period_hours: Option<f64>,
    /// Volume multiplier at the top of a spike.
    pub spike_factor: f64,
    /// Time constant of the decay after a spike, hours.
    pub spike_decay_hours: f64,
    /// Hours from the start to the first spike.
    pub spike_phase_hours: f64,
    /// Day/night modulation, 0 (none) to 1 (silent at night).
    pub diurnal_amplitude: f64,
    /// Standard deviation of the per-bucket log-normal noise (burstiness beyond Poisson).
    pub noise_sigma: f64,
    /// Intervals `[from, to)` in hours during which the sender is active.
    pub active: Vec<(f64, f64)>,
    /// Messages per hour while inactive (stragglers, relays delivering late).
    pub residual_per_hour: f64,
}

impl Profile {
    /// Rustock as the CBL saw it: spikes every other day (about three times the
    /// base volume) with a gradual decay, a day/night cycle and bursty counts.
    pub fn rustock_like(rate_per_hour: f64) -> Profile {
        Profile {
            rate_per_hour,
            spike_period_hours: Some(48.0),
            spike_factor: 3.0,
            spike_decay_hours: 16.0,
            spike_phase_hours: 10.0,
            diurnal_amplitude: 0.3,
            noise_sigma: 0.25,
            active: vec![(0.0, f64::INFINITY)],
            residual_per_hour: 0.0,
        }
    }

    /// A steady sender with a day/night cycle and mild burstiness.
    pub fn steady(rate_per_hour: f64) -> Profile {
        Profile {
            rate_per_hour,
            spike_period_hours: None,
            spike_factor: 1.0,
            spike_decay_hours: 1.0,
            spike_phase_hours: 0.0,
            diurnal_amplitude: 0.5,
            noise_sigma: 0.2,
            active: vec![(0.0, f64::INFINITY)],
            residual_per_hour: 0.0,
        }
    }

    /// The mean rate at hour `t` while active, before noise.
    fn rate_at(&self, t: f64) -> f64 {
        let diurnal = 1.0 + self.diurnal_amplitude * (2.0 * PI * (t - 8.0) / 24.0).sin();
        let spike = match self.spike_period_hours {
            Some(period) if period > 0.0 && t >= self.spike_phase_hours => {
                let since = (t - self.spike_phase_hours).rem_euclid(period);
                1.0 + (self.spike_factor - 1.0) * (-since / self.spike_decay_hours.max(1e-9)).exp()
            }
            _ => 1.0,
        };
        self.rate_per_hour * diurnal.max(0.0) * spike
    }

    /// Fraction of `[from, to)` (hours) during which the sender is active.
    fn active_fraction(&self, from: f64, to: f64) -> f64 {
        let overlap: f64 = self
            .active
            .iter()
            .map(|&(a, b)| (to.min(b) - from.max(a)).max(0.0))
            .sum();
        (overlap / (to - from)).clamp(0.0, 1.0)
    }

    /// The true changes: every start of an active interval after the first
    /// hour is a rise, every end before `hours` a drop.
    pub fn true_changes(&self, start: i64, hours: f64) -> Vec<(i64, Direction)> {
        let mut out = Vec::new();
        for &(a, b) in &self.active {
            if a > 0.0 && a < hours {
                out.push((start + (a * 3600.0).round() as i64, Direction::Rise));
            }
            if b.is_finite() && b < hours {
                out.push((start + (b * 3600.0).round() as i64, Direction::Drop));
            }
        }
        out.sort_unstable_by_key(|c| c.0);
        out
    }

    /// Draw a series of `hours` hours in buckets of `bucket_secs`, starting at `start`.
    pub fn generate(
        &self,
        name: &str,
        seed: u64,
        start: i64,
        hours: f64,
        bucket_secs: i64,
    ) -> Series {
        let mut rng = Rng::new(seed);
        let bucket_hours = bucket_secs as f64 / 3600.0;
        let buckets = (hours / bucket_hours).ceil().max(1.0) as usize;
        let counts = (0..buckets)
            .map(|i| {
                let from = i as f64 * bucket_hours;
                let to = from + bucket_hours;
                let active = self.active_fraction(from, to);
                let noise = (self.noise_sigma * rng.normal()
                    - self.noise_sigma * self.noise_sigma / 2.0)
                    .exp();
                let mean = self.rate_at(from + bucket_hours / 2.0) * noise * active * bucket_hours
                    + self.residual_per_hour * (1.0 - active) * bucket_hours;
                rng.poisson(mean)
            })
            .collect();
        Series {
            name: name.to_string(),
            start,
            bucket_secs,
            counts,
        }
    }
}

/// The scenarios the detector is measured on, each with known changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Rustock-like spiky sender (2,000/h) taken down at a random minute between days 10 and 20.
    SpikyTakedown,
    /// The same sender, never taken down: every report is a false alarm.
    SpikyNoChange,
    /// A steady sender (50/h) with a strong day/night cycle and no change.
    SteadyNoChange,
    /// A very bursty sender (20/h, log-normal noise σ = 1) with no change.
    BurstyNoChange,
    /// Sharper spikes than Rustock's (6x, 8 h decay, every other day), no change.
    SharpSpikesNoChange,
    /// A campaign (30/h) that starts between days 3 and 10 and stops 3 to 15 days later.
    CampaignStartStop,
    /// A spiky sender (500/h) that pauses for 2 to 6 days and comes back.
    PauseAndReturn,
    /// A low-volume sender (2/h) taken down between days 10 and 20.
    LowVolumeTakedown,
    /// A sender (1,000/h) cut to a 5% trickle between days 10 and 20.
    PartialTakedown,
}

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Scenario; 9] = [
        Scenario::SpikyTakedown,
        Scenario::SpikyNoChange,
        Scenario::SteadyNoChange,
        Scenario::BurstyNoChange,
        Scenario::SharpSpikesNoChange,
        Scenario::CampaignStartStop,
        Scenario::PauseAndReturn,
        Scenario::LowVolumeTakedown,
        Scenario::PartialTakedown,
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::SpikyTakedown => "spiky (Rustock-like) takedown",
            Scenario::SpikyNoChange => "spiky, no change",
            Scenario::SteadyNoChange => "steady + day/night, no change",
            Scenario::BurstyNoChange => "very bursty, no change",
            Scenario::SharpSpikesNoChange => "sharp spikes (6x), no change",
            Scenario::CampaignStartStop => "campaign start and stop",
            Scenario::PauseAndReturn => "pause and return",
            Scenario::LowVolumeTakedown => "low volume (2/h) takedown",
            Scenario::PartialTakedown => "cut to 5% trickle",
        }
    }

    /// The sender profile for one seed.
    pub fn profile(self, seed: u64) -> Profile {
        let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(7));
        let day = 24.0;
        // Minute resolution, as real takedowns do not wait for bucket boundaries.
        let mut at = |from: f64, to: f64| (rng.range(from * day, to * day) * 60.0).round() / 60.0;
        match self {
            Scenario::SpikyTakedown => Profile {
                active: vec![(0.0, at(10.0, 20.0))],
                ..Profile::rustock_like(2000.0)
            },
            Scenario::SpikyNoChange => Profile::rustock_like(2000.0),
            Scenario::SteadyNoChange => Profile::steady(50.0),
            Scenario::BurstyNoChange => Profile {
                noise_sigma: 1.0,
                ..Profile::steady(20.0)
            },
            Scenario::SharpSpikesNoChange => Profile {
                spike_factor: 6.0,
                spike_decay_hours: 8.0,
                ..Profile::rustock_like(300.0)
            },
            Scenario::CampaignStartStop => {
                let start = at(3.0, 10.0);
                let stop = start + at(3.0, 15.0);
                Profile {
                    active: vec![(start, stop)],
                    ..Profile::steady(30.0)
                }
            }
            Scenario::PauseAndReturn => {
                let pause = at(8.0, 16.0);
                let back = pause + at(2.0, 6.0);
                Profile {
                    active: vec![(0.0, pause), (back, f64::INFINITY)],
                    ..Profile::rustock_like(500.0)
                }
            }
            Scenario::LowVolumeTakedown => Profile {
                active: vec![(0.0, at(10.0, 20.0))],
                diurnal_amplitude: 0.3,
                ..Profile::steady(2.0)
            },
            Scenario::PartialTakedown => Profile {
                active: vec![(0.0, at(10.0, 20.0))],
                residual_per_hour: 50.0,
                ..Profile::steady(1000.0)
            },
        }
    }
}

/// Detection figures for one scenario over many seeds.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// How many series were generated.
    pub series: usize,
    /// How many true changes they held.
    pub true_changes: usize,
    /// How many of those were detected (right direction, within `max_delay`).
    pub detected: usize,
    /// Reported changes that matched no true change.
    pub false_alarms: usize,
    /// Detection delays (`detected_at` minus the true moment), hours, sorted.
    pub delays_hours: Vec<f64>,
    /// Absolute error of the reported moment `at`, minutes, sorted.
    pub at_errors_minutes: Vec<f64>,
    /// Confidence of the matched detections, sorted.
    pub confidences: Vec<f64>,
}

impl Evaluation {
    /// Share of true changes detected (1 when there were none).
    pub fn detection_rate(&self) -> f64 {
        if self.true_changes == 0 {
            1.0
        } else {
            self.detected as f64 / self.true_changes as f64
        }
    }

    /// False alarms per series-month (30 days).
    pub fn false_alarms_per_month(&self, days: f64) -> f64 {
        self.false_alarms as f64 / (self.series as f64 * days / 30.0).max(f64::MIN_POSITIVE)
    }

    /// The `q` quantile of a sorted sample (NaN when empty).
    pub fn quantile(sorted: &[f64], q: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let i = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        sorted[i]
    }
}

/// A reported change counts as finding a true one when it has the same
/// direction and is confirmed within this long after it.
pub const MAX_DELAY_SECS: i64 = 3 * 86_400;

/// Generate `seeds` series of `days` days for a scenario (hourly buckets), run
/// the detector, and match its reports against the truth.
pub fn evaluate(
    scenario: Scenario,
    seeds: std::ops::Range<u64>,
    days: f64,
    params: &DetectParams,
) -> Evaluation {
    let start = 1_298_937_600; // 2011-03-01T00:00:00Z, the month of Rustock's takedown.
    let mut eval = Evaluation::default();
    for seed in seeds {
        let profile = scenario.profile(seed);
        let series = profile.generate("botnet:synthetic", seed, start, days * 24.0, 3600);
        let truth = profile.true_changes(start, days * 24.0);
        let changes = detect_changes(&series, params);
        eval.series += 1;
        eval.true_changes += truth.len();
        let mut used = vec![false; changes.len()];
        for &(at, direction) in &truth {
            let found = changes.iter().enumerate().find(|(i, c)| {
                !used[*i]
                    && c.direction == direction
                    && c.detected_at >= at
                    && c.detected_at - at <= MAX_DELAY_SECS
                    && c.at >= at - c.scale_secs
            });
            if let Some((i, c)) = found {
                used[i] = true;
                eval.detected += 1;
                eval.delays_hours.push((c.detected_at - at) as f64 / 3600.0);
                eval.at_errors_minutes.push((c.at - at).abs() as f64 / 60.0);
                eval.confidences.push(c.confidence);
            }
        }
        eval.false_alarms += used.iter().filter(|u| !**u).count();
    }
    for v in [
        &mut eval.delays_hours,
        &mut eval.at_errors_minutes,
        &mut eval.confidences,
    ] {
        v.sort_by(f64::total_cmp);
    }
    eval
}

/// The reported changes of one generated series, for inspection.
pub fn example_changes(
    scenario: Scenario,
    seed: u64,
    days: f64,
    params: &DetectParams,
) -> (Series, Vec<Change>) {
    let profile = scenario.profile(seed);
    let series = profile.generate("botnet:synthetic", seed, 1_298_937_600, days * 24.0, 3600);
    let changes = detect_changes(&series, params);
    (series, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_poisson_is_unbiased() {
        let a = Profile::rustock_like(100.0).generate("x", 1, 0, 48.0, 3600);
        let b = Profile::rustock_like(100.0).generate("x", 1, 0, 48.0, 3600);
        assert_eq!(a, b);
        let mut rng = Rng::new(3);
        for lambda in [0.5, 7.0, 300.0] {
            let n = 20_000;
            let m: f64 = (0..n).map(|_| rng.poisson(lambda)).sum::<f64>() / n as f64;
            assert!((m - lambda).abs() < 0.05 * lambda.max(1.0), "{lambda}: {m}");
        }
    }

    #[test]
    fn takedown_truth_is_where_the_volume_stops() {
        let p = Scenario::SpikyTakedown.profile(5);
        let truth = p.true_changes(0, 30.0 * 24.0);
        assert_eq!(truth.len(), 1);
        let s = p.generate("x", 5, 0, 30.0 * 24.0, 3600);
        let i = (truth[0].0 / 3600) as usize;
        assert!(s.counts[i + 1..].iter().all(|&c| c == 0.0));
        assert!(s.counts[..i].iter().all(|&c| c > 0.0));
    }
}
