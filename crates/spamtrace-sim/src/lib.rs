//! A simulated spam-trap feed with ground truth, for tests, benchmarks and the
//! demo.
//!
//! [`simulate`] writes a feed (mbox files or `.eml` files) and `truth.jsonl`;
//! [`Feed`] yields the same messages in memory, for tests and benchmarks that
//! do not need files. The feed is deterministic per seed: the same
//! [`SimConfig`] always produces the same bytes (the random generator is part
//! of this crate, so no dependency update can change a published seed).
//!
//! What is simulated:
//! - seven sending programs with distinct header shapes (see `programs.rs`):
//!   a Rustock-like forger of Microsoft CDO headers, a Srizbi-like Reactor
//!   Mailer, a Send-Safe-like with hashbuster lines, a Cutwail-like, a
//!   DarkMailer (`HELO DM`), a template engine that leaves `{nChar[8-12]}`
//!   macros unexpanded, and one unknown ratware;
//! - sixteen template campaigns (pharmacy, replica, lottery, advance-fee,
//!   phishing, stock, dating, loan, software, diploma, malware lures) with
//!   spun phrases, names, numbers, hashbusters and per-message links on the
//!   rotating domains of one storefront each (see `campaigns.rs`);
//! - a timeline: a diurnal cycle, Rustock-like spikes every other day with a
//!   gradual decay, campaigns that start and stop, and an optional takedown
//!   at which one program stops sending;
//! - Received headers from bot IPs, added by the trap.
//!
//! This crate must not depend on `spamtrace-cluster`: the truth must be
//! independent of what is measured against it.

mod campaigns;
mod programs;
mod rng;

use campaigns::{CAMPAIGNS, Campaign};
use rng::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The names of the simulated sending programs (ground-truth botnet labels).
pub fn program_names() -> Vec<&'static str> {
    programs::PROGRAMS.iter().map(|p| p.name).collect()
}

/// How the feed is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One mboxrd file per day: `feed/YYYY-MM-DD.mbox`.
    Mbox,
    /// One file per message: `feed/YYYY-MM-DD/NNNNNN.eml`.
    Eml,
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The seed: the same seed gives the same feed.
    pub seed: u64,
    /// Start of the timeline, Unix seconds (UTC).
    pub start: i64,
    /// Length of the timeline in days.
    pub days: u32,
    /// Messages per day on average before any takedown.
    pub messages_per_day: u32,
    /// A program (one of [`program_names`]) that stops sending at a Unix time.
    pub takedown: Option<(String, i64)>,
    /// How the feed is written by [`simulate`].
    pub format: Format,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            // 2011-03-01T00:00:00Z: the month of Rustock's takedown.
            start: 1_298_937_600,
            days: 30,
            messages_per_day: 1000,
            takedown: None,
            format: Format::Mbox,
        }
    }
}

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The takedown names a program the simulator does not have.
    #[error("unknown sending program {0:?} for the takedown; use one of: {names}", names = program_names().join(", "))]
    UnknownProgram(String),
    /// The configuration asks for nothing or for too much.
    #[error("{0}")]
    BadConfig(String),
    /// Writing the feed failed.
    #[error(
        "cannot write the simulated feed to {path}: {source}; check that the directory is writable and the disk not full"
    )]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The ground truth of one simulated message (one line of `truth.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthRecord {
    /// The file holding the message, relative to the output directory
    /// (empty for messages from [`Feed`]).
    pub file: String,
    /// Byte offset of the message's mbox `From ` line in `file` (0 for .eml).
    pub offset: u64,
    /// SHA-256 of the message bytes (as an mboxrd reader returns them).
    pub sha256: String,
    /// The campaign that sent it.
    pub campaign: String,
    /// The sending program.
    pub botnet: String,
    /// The scam kind.
    pub kind: String,
    /// When the trap received it, Unix seconds.
    pub time: i64,
}

/// The ground truth of a whole feed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Truth {
    /// One record per message, in time order.
    pub messages: Vec<TruthRecord>,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
}

/// One simulated message in memory.
#[derive(Debug, Clone)]
pub struct SimMessage {
    /// The raw message.
    pub bytes: Vec<u8>,
    /// Its truth (`file` empty, `offset` 0).
    pub truth: TruthRecord,
}

/// The simulated messages of one configuration, generated lazily in time
/// order. Memory holds the schedule (16 bytes a message), not the messages.
pub struct Feed {
    schedule: Vec<(i64, u8)>,
    next: usize,
    campaigns: Vec<Campaign>,
    rng: Rng,
}

const HOUR: i64 = 3600;
/// Share of messages that carry no text, only a storefront link (image spam).
const IMAGE_ONLY_SHARE: f64 = 0.03;
const MAX_MESSAGES: u64 = 50_000_000;

impl Feed {
    /// Plan the feed for `config`.
    pub fn new(config: &SimConfig) -> Result<Feed, SimError> {
        if config.days == 0 || config.messages_per_day == 0 {
            return Err(SimError::BadConfig(
                "nothing to simulate: give --days and --per-day greater than 0".into(),
            ));
        }
        let total = config.days as u64 * config.messages_per_day as u64;
        if total > MAX_MESSAGES {
            return Err(SimError::BadConfig(format!(
                "{total} messages asked for, more than the simulator's limit of {MAX_MESSAGES}; lower --days or --per-day"
            )));
        }
        let takedown = match &config.takedown {
            Some((name, t)) => {
                let i = programs::PROGRAMS
                    .iter()
                    .position(|p| p.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| SimError::UnknownProgram(name.clone()))?;
                Some((i, *t))
            }
            None => None,
        };
        let root = Rng::new(config.seed);
        let t0 = config.start;
        let t1 = t0 + config.days as i64 * 86_400;

        let mut crng = root.fork(1);
        let mut campaigns = Vec::with_capacity(CAMPAIGNS.len());
        for (i, def) in CAMPAIGNS.iter().enumerate() {
            // The first campaign of each program runs all the time, so a
            // program never falls silent for lack of work.
            let first_of_program = CAMPAIGNS[..i].iter().all(|d| d.program != def.program);
            campaigns.push(Campaign::new(def, &mut crng, t0, t1, first_of_program));
        }

        // Expected volume per (hour, program): share x diurnal cycle x spikes.
        let mut trng = root.fork(2);
        let spike_hour = trng.range(8, 18) as i64;
        let hours = config.days as i64 * 24;
        let n_programs = programs::PROGRAMS.len();
        let mut weights = Vec::with_capacity(hours as usize * n_programs);
        for h in 0..hours {
            let hour_of_day = (h % 24) as f64;
            let diurnal = 1.0 + 0.35 * ((hour_of_day - 9.0) / 24.0 * std::f64::consts::TAU).cos();
            for (pi, p) in programs::PROGRAMS.iter().enumerate() {
                let mut w = p.share * diurnal;
                if pi == 0 {
                    // Rustock: an abrupt spike every other day, then decay.
                    let since = (h - spike_hour).rem_euclid(48) as f64;
                    w *= 0.6 + 2.4 * (-since / 10.0).exp();
                }
                weights.push(w);
            }
        }
        let sum: f64 = weights.iter().sum();
        let scale = total as f64 / sum;
        let mut schedule = Vec::with_capacity(total as usize + 64);
        for h in 0..hours {
            for pi in 0..n_programs {
                let expected = weights[h as usize * n_programs + pi] * scale;
                let mut n = expected.floor() as u64;
                if trng.chance(expected - n as f64) {
                    n += 1;
                }
                for _ in 0..n {
                    let t = t0 + h * HOUR + trng.range(0, HOUR as u64 - 1) as i64;
                    if let Some((tp, tt)) = takedown
                        && tp == pi
                        && t >= tt
                    {
                        continue;
                    }
                    schedule.push((t, pi as u8));
                }
            }
        }
        schedule.sort_unstable();
        Ok(Feed {
            schedule,
            next: 0,
            campaigns,
            rng: root.fork(3),
        })
    }

    /// How many messages the feed holds.
    pub fn len(&self) -> usize {
        self.schedule.len()
    }

    /// Whether the feed is empty (a takedown at the start of a one-program feed).
    pub fn is_empty(&self) -> bool {
        self.schedule.is_empty()
    }
}

impl Iterator for Feed {
    type Item = SimMessage;

    fn next(&mut self) -> Option<SimMessage> {
        loop {
            let &(t, pi) = self.schedule.get(self.next)?;
            self.next += 1;
            let program = programs::PROGRAMS[pi as usize].name;
            let weights: Vec<f64> = self
                .campaigns
                .iter()
                .map(|c| {
                    if !c.active(t) {
                        0.0
                    } else if c.def.program == program {
                        c.def.weight
                    } else {
                        match c.def.also {
                            Some((p, w)) if p == program => w,
                            _ => 0.0,
                        }
                    }
                })
                .collect();
            if weights.iter().all(|w| *w == 0.0) {
                continue;
            }
            let ci = self.rng.weighted(&weights);
            let campaign = &self.campaigns[ci];
            let rng = &mut self.rng;
            let mut subject = String::new();
            campaigns::render(
                rng.pick(campaign.def.subjects),
                campaign,
                rng,
                t,
                &mut subject,
            );
            let mut body = String::new();
            if rng.chance(IMAGE_ONLY_SHARE) {
                // Image spam: no text, only a link to the storefront.
                body.push_str(&campaign.url(rng, t));
            } else {
                campaigns::render(campaign.def.body, campaign, rng, t, &mut body);
                if campaign.def.poison {
                    body.push_str("\n\n");
                    campaigns::poison(rng, &mut body);
                }
            }
            let mut recipient = campaigns::first_name(rng).to_ascii_lowercase();
            recipient.push_str(&rng.range(1, 999).to_string());
            recipient.push_str(&format!("@trap{}.example.net", rng.range(1, 3)));
            let content = programs::Content {
                time: t,
                subject: &subject,
                body: &body,
                recipient: &recipient,
            };
            let mut bytes = programs::write_message(program, rng, &content);
            // A message must end with a line break: an mbox cannot hold one
            // that does not (its reader cannot tell the separator's newline
            // from the message's), and the truth must hash what a reader yields.
            if !bytes.ends_with(b"\n") {
                let crlf = bytes.windows(2).any(|w| w == b"\r\n");
                bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            let truth = TruthRecord {
                file: String::new(),
                offset: 0,
                sha256: hex::encode(Sha256::digest(&bytes)),
                campaign: campaign.id.clone(),
                botnet: program.to_string(),
                kind: campaign.def.kind.to_string(),
                time: t,
            };
            return Some(SimMessage { bytes, truth });
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn day_of(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Write the feed for `config` under `out_dir` (`feed/...` and `truth.jsonl`)
/// and return its ground truth. The directory is created when missing.
pub fn simulate(config: &SimConfig, out_dir: &Path) -> Result<Truth, SimError> {
    let feed = Feed::new(config)?;
    let feed_dir = out_dir.join("feed");
    fs::create_dir_all(&feed_dir).map_err(io_err(&feed_dir))?;
    let truth_path = out_dir.join("truth.jsonl");
    let mut truth_out = BufWriter::new(fs::File::create(&truth_path).map_err(io_err(&truth_path))?);
    let mut truth = Truth {
        messages: Vec::with_capacity(feed.len()),
        files: Vec::new(),
    };
    let mut current: Option<(String, BufWriter<fs::File>, u64)> = None;
    let mut seq = 0u64;
    let mut eml_day: Option<String> = None;
    for msg in feed {
        let day = day_of(msg.truth.time);
        let mut record = msg.truth;
        match config.format {
            Format::Mbox => {
                if current.as_ref().is_none_or(|(d, _, _)| *d != day) {
                    if let Some((_, mut w, _)) = current.take() {
                        w.flush().map_err(io_err(&feed_dir))?;
                    }
                    let rel = format!("feed/{day}.mbox");
                    let path = out_dir.join(&rel);
                    let w = BufWriter::new(fs::File::create(&path).map_err(io_err(&path))?);
                    truth.files.push(rel);
                    current = Some((day.clone(), w, 0));
                }
                let (_, w, pos) = current.as_mut().expect("file opened above");
                record.file = format!("feed/{day}.mbox");
                record.offset = *pos;
                let written =
                    write_mbox_entry(w, &msg.bytes, record.time).map_err(io_err(&feed_dir))?;
                *pos += written;
            }
            Format::Eml => {
                seq += 1;
                let dir = feed_dir.join(&day);
                if eml_day.as_ref() != Some(&day) {
                    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
                    eml_day = Some(day.clone());
                }
                let rel = format!("feed/{day}/{seq:07}.eml");
                let path = out_dir.join(&rel);
                fs::write(&path, &msg.bytes).map_err(io_err(&path))?;
                record.file = rel.clone();
                truth.files.push(rel);
            }
        }
        serde_json::to_writer(&mut truth_out, &record).map_err(|e| SimError::Io {
            path: truth_path.display().to_string(),
            source: e.into(),
        })?;
        truth_out.write_all(b"\n").map_err(io_err(&truth_path))?;
        truth.messages.push(record);
    }
    if let Some((_, mut w, _)) = current.take() {
        w.flush().map_err(io_err(&feed_dir))?;
    }
    truth_out.flush().map_err(io_err(&truth_path))?;
    Ok(truth)
}

/// Write one mboxrd entry: the `From ` line, the message with `>`-quoting of
/// lines that start with `>*From `, and the blank separator line. Returns the
/// number of bytes written.
fn write_mbox_entry(w: &mut impl Write, msg: &[u8], time: i64) -> std::io::Result<u64> {
    let from_line = chrono::DateTime::from_timestamp(time, 0)
        .unwrap_or_default()
        .format("From MAILER-DAEMON %a %b %e %H:%M:%S %Y\n")
        .to_string();
    w.write_all(from_line.as_bytes())?;
    let mut written = from_line.len() as u64;
    for line in msg.split_inclusive(|b| *b == b'\n') {
        let unquoted = line.iter().position(|b| *b != b'>').map(|i| &line[i..]);
        if unquoted.is_some_and(|rest| rest.starts_with(b"From ")) {
            w.write_all(b">")?;
            written += 1;
        }
        w.write_all(line)?;
        written += line.len() as u64;
    }
    if !msg.ends_with(b"\n") {
        w.write_all(b"\n")?;
        written += 1;
    }
    w.write_all(b"\n")?;
    Ok(written + 1)
}

/// Read a `truth.jsonl` back.
pub fn read_truth(path: &Path) -> Result<Vec<TruthRecord>, SimError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| SimError::Io {
                path: path.display().to_string(),
                source: e.into(),
            })
        })
        .collect()
}

/// The adjusted Rand index of two labelings of the same items (Hubert and
/// Arabie 1985): 1 for identical partitions, about 0 for a random one.
/// `truth[i]` and `predicted[i]` label item `i`; only the partition matters,
/// not the label values. Panics if the slices differ in length.
pub fn adjusted_rand_index<A, B>(truth: &[A], predicted: &[B]) -> f64
where
    A: std::hash::Hash + Eq,
    B: std::hash::Hash + Eq,
{
    use std::collections::HashMap;
    assert_eq!(
        truth.len(),
        predicted.len(),
        "both labelings must cover the same items"
    );
    let n = truth.len() as f64;
    if truth.len() < 2 {
        return 1.0;
    }
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let mut a: HashMap<&A, f64> = HashMap::new();
    let mut b: HashMap<&B, f64> = HashMap::new();
    let mut ab: HashMap<(&A, &B), f64> = HashMap::new();
    for (x, y) in truth.iter().zip(predicted) {
        *a.entry(x).or_default() += 1.0;
        *b.entry(y).or_default() += 1.0;
        *ab.entry((x, y)).or_default() += 1.0;
    }
    let index: f64 = ab.values().map(|&c| pairs(c)).sum();
    let sum_a: f64 = a.values().map(|&c| pairs(c)).sum();
    let sum_b: f64 = b.values().map(|&c| pairs(c)).sum();
    let expected = sum_a * sum_b / pairs(n);
    let max = (sum_a + sum_b) / 2.0;
    if (max - expected).abs() < f64::EPSILON {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            days: 4,
            messages_per_day: 300,
            ..Default::default()
        }
    }

    #[test]
    fn same_seed_same_feed_other_seed_other_feed() {
        let a: Vec<String> = Feed::new(&small(11))
            .unwrap()
            .map(|m| m.truth.sha256)
            .collect();
        let b: Vec<String> = Feed::new(&small(11))
            .unwrap()
            .map(|m| m.truth.sha256)
            .collect();
        let c: Vec<String> = Feed::new(&small(12))
            .unwrap()
            .map(|m| m.truth.sha256)
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!((1000..1400).contains(&a.len()), "{}", a.len());
    }

    #[test]
    fn every_program_and_campaign_appears_and_time_is_ordered() {
        let cfg = SimConfig {
            seed: 5,
            days: 10,
            messages_per_day: 500,
            ..Default::default()
        };
        let msgs: Vec<TruthRecord> = Feed::new(&cfg).unwrap().map(|m| m.truth).collect();
        let programs: std::collections::BTreeSet<_> =
            msgs.iter().map(|m| m.botnet.as_str()).collect();
        assert_eq!(programs.len(), program_names().len());
        let campaigns: std::collections::BTreeSet<_> =
            msgs.iter().map(|m| m.campaign.as_str()).collect();
        assert_eq!(campaigns.len(), CAMPAIGNS.len());
        assert!(msgs.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(
            msgs.iter()
                .all(|m| m.time >= cfg.start && m.time < cfg.start + 10 * 86_400)
        );
    }

    #[test]
    fn takedown_stops_the_program_and_rustock_spikes() {
        let t = SimConfig::default().start + 5 * 86_400 + 14 * 3600;
        let cfg = SimConfig {
            seed: 2,
            days: 8,
            messages_per_day: 2000,
            takedown: Some(("rustock".into(), t)),
            ..Default::default()
        };
        let msgs: Vec<TruthRecord> = Feed::new(&cfg).unwrap().map(|m| m.truth).collect();
        assert!(
            msgs.iter()
                .filter(|m| m.botnet == "rustock")
                .all(|m| m.time < t)
        );
        assert!(msgs.iter().any(|m| m.botnet == "cutwail" && m.time >= t));
        // Spikes: Rustock's busiest hour carries well over its average hour.
        let mut per_hour = std::collections::HashMap::<i64, u32>::new();
        for m in msgs.iter().filter(|m| m.botnet == "rustock") {
            *per_hour.entry(m.time / 3600).or_default() += 1;
        }
        let max = *per_hour.values().max().unwrap() as f64;
        let mean = per_hour.values().sum::<u32>() as f64 / per_hour.len() as f64;
        assert!(max > 2.0 * mean, "max {max} mean {mean}");
        let bad = SimConfig {
            takedown: Some(("nosuch".into(), t)),
            ..cfg
        };
        assert!(matches!(Feed::new(&bad), Err(SimError::UnknownProgram(_))));
    }

    #[test]
    fn writes_mbox_and_eml_with_truth_that_points_at_the_messages() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SimConfig {
            seed: 3,
            days: 2,
            messages_per_day: 50,
            ..Default::default()
        };
        let truth = simulate(&cfg, dir.path()).unwrap();
        assert_eq!(truth.files.len(), 2);
        let reread = read_truth(&dir.path().join("truth.jsonl")).unwrap();
        assert_eq!(reread, truth.messages);
        for rec in truth.messages.iter().take(20) {
            let file = fs::read(dir.path().join(&rec.file)).unwrap();
            assert!(file[rec.offset as usize..].starts_with(b"From MAILER-DAEMON "));
        }
        let eml = SimConfig {
            format: Format::Eml,
            ..cfg
        };
        let dir2 = tempfile::tempdir().unwrap();
        let truth2 = simulate(&eml, dir2.path()).unwrap();
        assert_eq!(truth2.messages.len(), truth.messages.len());
        for rec in &truth2.messages {
            let bytes = fs::read(dir2.path().join(&rec.file)).unwrap();
            assert_eq!(hex::encode(Sha256::digest(&bytes)), rec.sha256);
        }
    }

    #[test]
    fn refuses_empty_and_huge_configs() {
        assert!(
            Feed::new(&SimConfig {
                days: 0,
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            Feed::new(&SimConfig {
                days: 10_000,
                messages_per_day: 1_000_000,
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn adjusted_rand_index_known_values() {
        assert_eq!(
            adjusted_rand_index(&[1, 1, 2, 2], &["a", "a", "b", "b"]),
            1.0
        );
        // Worked example: scikit-learn gives 0.5714285714 for these labelings.
        let ari = adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]);
        assert!((ari - 0.571_428_571_4).abs() < 1e-9, "{ari}");
        // Everything in one cluster against a real partition scores 0.
        assert_eq!(
            adjusted_rand_index(&[0, 0, 1, 1, 2, 2], &[7, 7, 7, 7, 7, 7]),
            0.0
        );
        assert!(adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 1, 2, 0, 1, 2]) < 0.0);
    }
}
