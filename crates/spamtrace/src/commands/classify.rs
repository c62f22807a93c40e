//! `classify`, `train` and `eval`: the spam model from the command line.
//!
//! The model lives in `<data>/model.bin` unless `--model` names another file;
//! when that file does not exist yet, reads fall back to the model shipped in
//! the binary and `train` starts from a copy of it (or from nothing with
//! `--fresh`).

use super::{Context, stages};
use anyhow::{Context as _, bail};
use spamtrace_classify::eval::{self, RocSeries};
use spamtrace_classify::features::FeatureSet;
use spamtrace_classify::{
    KindModel, Loss, MAX_IDF_POWER, Model, ModelConfig, Thresholds, kind_evidence,
    kinds::MIN_KIND_SCORE,
};
use spamtrace_mail::{Label, Limits, RawMessage, TrustedHosts, analyze};
use spamtrace_source::{SourceItem, SourceOptions, read_paths};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Score messages: spam probability, verdict and scam kind, one line each.
#[derive(clap::Args, Debug)]
pub struct ClassifyArgs {
    /// Files, folders, mbox files, TREC indexes, compressed archives or `-`
    /// (read as `ingest` reads them).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// One JSON object per message instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also list the features that pushed each score most, and the kind evidence.
    #[arg(long)]
    pub explain: bool,
    /// How many features `--explain` lists.
    #[arg(long, default_value_t = 12)]
    pub top: usize,
    /// The model file (default: `<data>/model.bin`, else the built-in model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

/// Verdict thresholds on the command line. Scores are calibrated
/// probabilities, so a threshold reads as "how sure must the model be".
#[derive(clap::Args, Debug, Default)]
pub struct ThresholdArgs {
    /// Call a message spam when its P(spam) is at least P (0 to 1). Default:
    /// the model's own, chosen when it was built to let at most 0.1% of
    /// held-out ham through as spam (0.996 for the built-in model).
    #[arg(long, value_name = "P")]
    pub spam_threshold: Option<f32>,
    /// Call a message ham when its P(spam) is at most P (0 to 1, at most the
    /// spam threshold; between the two a message is "unsure"). Default: the
    /// model's own (0.284 for the built-in model).
    #[arg(long, value_name = "P")]
    pub ham_threshold: Option<f32>,
}

impl ThresholdArgs {
    fn given(&self) -> bool {
        self.spam_threshold.is_some() || self.ham_threshold.is_some()
    }

    /// The thresholds given, checked on their own: each a probability, the
    /// ham one at most the spam one when both are given.
    fn check(&self) -> anyhow::Result<()> {
        for (flag, value) in [
            ("--spam-threshold", self.spam_threshold),
            ("--ham-threshold", self.ham_threshold),
        ] {
            if let Some(p) = value
                && !(0.0..=1.0).contains(&p)
            {
                bail!("{flag} {p} is not a probability: give a value from 0 to 1");
            }
        }
        if let (Some(spam), Some(ham)) = (self.spam_threshold, self.ham_threshold)
            && ham > spam
        {
            bail!(
                "--ham-threshold {ham} is above --spam-threshold {spam}: a message at or below \
                 the ham threshold is ham, at or above the spam threshold spam, so the ham one \
                 must be the lower"
            );
        }
        Ok(())
    }

    /// `current` with the thresholds given here put in, or an error that
    /// says what is wrong with them.
    fn apply(&self, current: Thresholds) -> anyhow::Result<Thresholds> {
        self.check()?;
        let t = Thresholds {
            spam: self.spam_threshold.unwrap_or(current.spam),
            ham: self.ham_threshold.unwrap_or(current.ham),
        };
        if !t.is_valid() {
            bail!(
                "the ham threshold {:.3} would be above the spam threshold {:.3} (the model's own \
                 are spam {:.3}, ham {:.3}): give both --spam-threshold and --ham-threshold",
                t.ham,
                t.spam,
                current.spam,
                current.ham
            );
        }
        Ok(t)
    }
}

/// Train the model on labelled mail, updating the model file in place.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Spam: files, folders, mbox files, archives.
    #[arg(long, num_args = 1..)]
    pub spam: Vec<PathBuf>,
    /// Ham (wanted mail): files, folders, mbox files, archives.
    #[arg(long, num_args = 1..)]
    pub ham: Vec<PathBuf>,
    /// A TREC index (`spam|ham PATH` lines): learnt in index order.
    #[arg(long)]
    pub index: Vec<PathBuf>,
    /// The model file to update (default: `<data>/model.bin`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Build a new model from these messages alone instead of updating the
    /// existing file or the built-in model: all of them are read first and
    /// learnt as one batch, as the shipped model is built (IDF over them, 5
    /// passes, calibration and thresholds from two held-out windows), which
    /// learns far better than one message at a time from nothing.
    #[arg(long)]
    pub fresh: bool,
    /// Verdict thresholds to store in the model file, so that `classify`,
    /// `ingest` and the trap use them from then on. They may be given
    /// without messages, to change only the thresholds.
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
}

/// Evaluate a fresh model on a TREC index.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The TREC index (`spam|ham PATH` lines, in delivery order).
    #[arg(long)]
    pub index: PathBuf,
    /// Share of the index (from the start) to train on; the rest is tested.
    #[arg(long, default_value_t = 0.5)]
    pub split: f64,
    /// TREC online protocol instead: classify each message, then learn it.
    /// Learns without IDF scaling: from an empty model, one message at a
    /// time, IDF ranks far worse (classify README, "Fifth round").
    #[arg(long)]
    pub online: bool,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where to write the ROC curve (SVG; default `<data>/eval-roc.svg`).
    #[arg(long)]
    pub roc: Option<PathBuf>,
    /// Feature groups, `+`-separated: words, bigrams, char4, headers, structure, hwords,
    /// sgrams, script, rcpt, rwords, digits, nolist, nolistlinks, cjk, lightsgrams (sgrams at half
    /// weight), lightbigrams (bigrams at half weight); `all` and `default` (what the shipped model
    /// uses) combine with the rest: `default+cjk`.
    #[arg(long, default_value = "default")]
    pub features: String,
    /// log2 of the number of weight slots.
    #[arg(long, default_value_t = 20)]
    pub hash_bits: u32,
    /// SGD learning rate.
    #[arg(long, default_value_t = ModelConfig::default().learning_rate)]
    pub learning_rate: f32,
    /// Loss: `hinge` (the shipped model) or `logistic`.
    #[arg(long, default_value = "hinge")]
    pub loss: String,
    /// Passes over the training part.
    #[arg(long, default_value_t = ModelConfig::default().passes)]
    pub passes: u32,
    /// Leave out the IDF scaling of features (by default each feature is
    /// scaled by its inverse document frequency over the training part before
    /// the vector is made unit length, so rare features count more; `--online`
    /// always leaves it out).
    #[arg(long)]
    pub no_idf: bool,
    /// The power of the IDF each feature is scaled by (above 1, rare features
    /// count for more still against common ones).
    #[arg(long, default_value_t = ModelConfig::default().idf_power)]
    pub idf_power: f32,
    /// Also save the trained model to this file.
    #[arg(long)]
    pub save_model: Option<PathBuf>,
}

/// The model to read: `--model` (which must exist), else the store's
/// (`<data>/model.bin` when present, else the built-in model).
fn model_for_reading(ctx: &Context, explicit: Option<&Path>) -> anyhow::Result<Model> {
    match explicit {
        Some(p) => Ok(Model::load(p)?),
        None => stages::load_model(ctx),
    }
}

fn parse(raw: &RawMessage) -> spamtrace_mail::Analysis {
    analyze(&raw.bytes, &Limits::default(), &TrustedHosts::default())
}

fn where_from(raw: &RawMessage) -> String {
    match raw.envelope.offset {
        Some(o) => format!("{}@{o}", raw.envelope.source),
        None => raw.envelope.source.clone(),
    }
}

/// Report a source item that is not a message on stderr; true if it was a message.
fn note_non_message(item: &SourceItem) {
    match item {
        SourceItem::Message(_) => {}
        SourceItem::Oversized { source, size, .. } => {
            eprintln!("skipped {source}: message of {size} bytes is over the size limit")
        }
        SourceItem::Skipped { path, reason } => eprintln!("skipped {}: {reason}", path.display()),
        SourceItem::Error { path, error } => eprintln!("error reading {}: {error}", path.display()),
    }
}

/// `spamtrace classify`.
pub fn run_classify(ctx: &Context, args: ClassifyArgs) -> anyhow::Result<()> {
    let mut model = model_for_reading(ctx, args.model.as_deref())?;
    model.thresholds = args.thresholds.apply(model.thresholds)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut count = 0usize;
    let (limits, trusted) = (Limits::default(), TrustedHosts::default());
    for item in read_paths(&args.paths, &SourceOptions::default()) {
        let SourceItem::Message(raw) = &item else {
            note_non_message(&item);
            continue;
        };
        count += 1;
        // Scoring needs only the lean analysis, plus the identity printed
        // with each line.
        let a = model.analyze_with_identity(&raw.bytes, &limits, &trusted);
        let c = model.classify(&a);
        let kind = c.kind.map(|k| k.as_str()).unwrap_or("-");
        if args.json {
            let mut obj = serde_json::json!({
                "sha256": a.sha256,
                "source": raw.envelope.source,
                "offset": raw.envelope.offset,
                "subject": a.subject,
                "score": c.score,
                "log_odds": c.log_odds,
                "verdict": c.verdict.as_str(),
                "kind": c.kind.map(|k| k.as_str()),
            });
            if args.explain {
                obj["explain"] = serde_json::to_value(model.explain(&a, args.top))?;
                let ev = kind_evidence(&a, true);
                obj["kind_evidence"] = ev
                    .reasons
                    .iter()
                    .map(|(k, r)| serde_json::json!({"kind": k.as_str(), "reason": r}))
                    .collect();
                if c.kind.is_some() {
                    let why = KindModel::builtin().explain(&a, &ev, args.top);
                    obj["kind_explain"] = serde_json::json!({
                        "kind": why.kind.as_str(),
                        "lexicon_kind": why.lexicon_kind.as_str(),
                        "decisive": ev.decisive.is_some(),
                        "top": why.top.iter().map(|(f, w)| serde_json::json!({"feature": f, "weight": w})).collect::<Vec<_>>(),
                    });
                }
            }
            writeln!(out, "{obj}")?;
        } else {
            let subject: String = a
                .subject
                .as_deref()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect();
            writeln!(
                out,
                "{}  {:.3}  {:<6}  {:<11}  {}  {}",
                a.sha256.get(..12).unwrap_or("?"),
                c.score,
                c.verdict.as_str(),
                kind,
                where_from(raw),
                subject
            )?;
            if args.explain {
                for contribution in model.explain(&a, args.top) {
                    let towards = if contribution.weight > 0.0 {
                        "spam"
                    } else {
                        "ham"
                    };
                    writeln!(
                        out,
                        "    {:+.3} towards {towards}: {}",
                        contribution.weight, contribution.feature
                    )?;
                }
                let ev = kind_evidence(&a, true);
                // A message that gets no kind (not called spam) has no kind
                // to explain: its stray lexicon words would only mislead.
                // (`--json` still lists them, for scripts.)
                if c.kind.is_some() {
                    for (k, reason) in &ev.reasons {
                        // A kind's phrases below the bar name nothing by
                        // themselves; say so, or "advance_fee" beside a
                        // message called marketing reads as a contradiction.
                        let score = ev.scores[*k as usize];
                        let weak = match score < MIN_KIND_SCORE {
                            true => format!(", too weak alone: a kind needs {MIN_KIND_SCORE}"),
                            false => String::new(),
                        };
                        writeln!(
                            out,
                            "    kind evidence ({k}, score {score}{weak}): {reason}"
                        )?;
                    }
                }
                match (c.kind, ev.decisive) {
                    (None, _) => {}
                    (Some(k), Some(_)) => {
                        writeln!(out, "    kind {k}: decided by the evidence above")?
                    }
                    (Some(_), None) => {
                        let why = KindModel::builtin().explain(&a, &ev, args.top.min(5));
                        writeln!(
                            out,
                            "    kind {} by the learnt kind model (the phrases alone say {}); it leaned on:",
                            why.kind, why.lexicon_kind
                        )?;
                        for (feature, weight) in &why.top {
                            writeln!(out, "      {weight:+.3} {feature}")?;
                        }
                    }
                }
            }
        }
    }
    out.flush()?;
    if count == 0 {
        bail!(
            "no messages found in the given paths; name mail files, folders, mbox files or a TREC index"
        );
    }
    Ok(())
}

/// `spamtrace train`.
pub fn run_train(ctx: &Context, args: TrainArgs) -> anyhow::Result<()> {
    let nothing_to_learn = args.spam.is_empty() && args.ham.is_empty() && args.index.is_empty();
    if nothing_to_learn && (args.fresh || !args.thresholds.given()) {
        bail!(
            "nothing to learn: give --spam PATH..., --ham PATH... or --index INDEX \
             (or only --spam-threshold / --ham-threshold to change the verdict thresholds)"
        );
    }
    // Thresholds that cannot fit any model fail before the reading starts.
    args.thresholds.check()?;
    let path = args
        .model
        .clone()
        .unwrap_or_else(|| stages::model_path(ctx));
    if nothing_to_learn {
        let mut model = match path.exists() {
            true => Model::load(&path)?,
            false => Model::builtin(),
        };
        model.thresholds = args.thresholds.apply(model.thresholds)?;
        return save_model(&model, &path, "thresholds set");
    }
    // An update learns each message as it comes; a fresh model is built
    // from the whole batch at the end.
    let mut model = match (args.fresh, path.exists()) {
        (true, _) => None,
        (false, true) => Some(Model::load(&path)?),
        (false, false) => Some(Model::builtin()),
    };
    let mut batch: Vec<(Vec<u8>, Label)> = Vec::new();
    let (mut learnt, mut unchanged) = (0usize, 0usize);
    let mut learn = |raw: &RawMessage, label: Label| match &mut model {
        Some(model) => match model.train(&parse(raw), label) {
            true => learnt += 1,
            false => unchanged += 1,
        },
        None => batch.push((raw.bytes.clone(), label)),
    };
    for index in &args.index {
        for item in read_paths(std::slice::from_ref(index), &SourceOptions::default()) {
            match &item {
                SourceItem::Message(raw) => match raw.envelope.label {
                    Some(label) => learn(raw, label),
                    None => eprintln!("skipped {}: no label in the index", where_from(raw)),
                },
                _ => note_non_message(&item),
            }
        }
    }
    // Spam and ham alternate, so that the online learner does not see a long
    // run of one class at the end (which would bias it towards that class).
    let opts = |label| SourceOptions {
        label: Some(label),
        ..SourceOptions::default()
    };
    let mut spam = read_paths(&args.spam, &opts(Label::Spam)).fuse();
    let mut ham = read_paths(&args.ham, &opts(Label::Ham)).fuse();
    loop {
        let (s, h) = (spam.next(), ham.next());
        if s.is_none() && h.is_none() {
            break;
        }
        for (item, label) in [(s, Label::Spam), (h, Label::Ham)] {
            if let Some(item) = item {
                match &item {
                    SourceItem::Message(raw) => learn(raw, label),
                    _ => note_non_message(&item),
                }
            }
        }
    }
    if learnt + unchanged + batch.len() == 0 {
        bail!("no messages found in the given paths; the model file was not changed");
    }
    let (mut model, summary) = match model {
        Some(model) => (
            model,
            format!("learnt {learnt} messages ({unchanged} already known with the same label)"),
        ),
        None => {
            let model = eval::train_calibrated(&batch, ModelConfig::default());
            let spam = batch.iter().filter(|(_, l)| *l == Label::Spam).count();
            let summary = format!(
                "built a new model from {} messages ({spam} spam) in one batch",
                batch.len(),
            );
            (model, summary)
        }
    };
    model.thresholds = args.thresholds.apply(model.thresholds)?;
    save_model(&model, &path, &summary)
}

/// Save a trained model and say what was done and which verdicts it gives.
fn save_model(model: &Model, path: &Path, summary: &str) -> anyhow::Result<()> {
    model
        .save(path)
        .with_context(|| format!("saving the model to {}", path.display()))?;
    println!(
        "{summary}; verdicts: spam at P >= {:.3}, ham at P <= {:.3}; model saved to {}",
        model.thresholds.spam,
        model.thresholds.ham,
        path.display()
    );
    Ok(())
}

/// `spamtrace eval`.
pub fn run_eval(ctx: &Context, args: EvalArgs) -> anyhow::Result<()> {
    if !(0.05..=0.95).contains(&args.split) && !args.online {
        bail!("--split must be between 0.05 and 0.95 (share of the index used for training)");
    }
    let features = FeatureSet::parse(&args.features).with_context(|| {
        format!(
            "unknown --features {:?}: use {}, all, default joined by + (e.g. default+cjk)",
            args.features,
            FeatureSet::GROUP_NAMES.join(", ")
        )
    })?;
    if !(args.idf_power > 0.0 && args.idf_power <= MAX_IDF_POWER) {
        bail!("--idf-power must be above 0 and at most {MAX_IDF_POWER}");
    }
    let loss = match args.loss.as_str() {
        "hinge" => Loss::Hinge,
        "logistic" => Loss::Logistic,
        other => bail!("unknown --loss {other:?}: use hinge or logistic"),
    };
    let config = ModelConfig {
        hash_bits: args.hash_bits,
        features,
        learning_rate: args.learning_rate,
        loss,
        passes: args.passes.clamp(1, 100),
        // (`evaluate_online` always learns without IDF.)
        idf: !args.no_idf,
        idf_power: args.idf_power,
    };
    let entries = eval::read_trec_index(&args.index)?;
    if entries.is_empty() {
        bail!("{} lists no messages", args.index.display());
    }
    let messages = eval::load_messages(&entries)?;
    let (model, report, scored) = if args.online {
        eval::evaluate_online(&messages, config)
    } else {
        eval::evaluate_split(&messages, args.split, config)
    };
    let roc_path = args
        .roc
        .clone()
        .unwrap_or_else(|| ctx.data.join("eval-roc.svg"));
    let title = format!(
        "spamtrace on {} ({})",
        args.index.display(),
        if args.online {
            "online".to_string()
        } else {
            format!("split {}", args.split)
        }
    );
    let svg = eval::roc_svg(
        &title,
        &[RocSeries {
            name: "spamtrace".into(),
            points: scored.iter().map(|s| (s.log_odds as f64, s.spam)).collect(),
        }],
    );
    if let Some(dir) = roc_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&roc_path, svg)
        .with_context(|| format!("writing the ROC curve to {}", roc_path.display()))?;
    if let Some(p) = &args.save_model {
        model.save(p)?;
    }
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["roc_svg"] = serde_json::Value::String(roc_path.display().to_string());
        println!("{v}");
    } else {
        println!("protocol               {}", report.protocol);
        println!("trained on             {} messages", report.train_messages);
        println!(
            "tested on              {} ({} spam, {} ham)",
            report.test_messages, report.test_spam, report.test_ham
        );
        let [lo, hi] = report.one_minus_roca_pct_ci95;
        println!(
            "(1-ROCA)%              {:.3} (95% interval {lo:.3} - {hi:.3}, {} bootstrap resamples)",
            report.one_minus_roca_pct,
            spamtrace_classify::eval::BOOTSTRAP_RESAMPLES
        );
        println!(
            "false positives        {:.2}% of ham (spam threshold {})",
            report.fpr_pct, report.spam_threshold
        );
        println!(
            "false negatives        {:.2}% of spam ({:.2}% unsure)",
            report.fnr_pct, report.spam_unsure_pct
        );
        println!(
            "spam caught at 0.1% FP {:.1}%",
            report.recall_at_0_1pct_fpr_pct
        );
        println!(
            "train speed            {:.0} msgs/s (parse included)",
            report.train_msgs_per_s
        );
        println!(
            "classify speed         {:.0} msgs/s (parse included)",
            report.test_msgs_per_s
        );
        println!("ROC curve              {}", roc_path.display());
    }
    Ok(())
}
