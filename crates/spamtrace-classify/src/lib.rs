//! Spam or ham, and which scam: the classifier of spamtrace.
//!
//! [`Model`] is an online linear model (hinge or logistic loss) on hashed sparse features
//! ([`features`]): body words and bigrams, character 4-grams of the start of
//! the text, subject words and shape, header names and order, header value
//! shapes, sender, URL domains, attachments, HTML and MIME structure. It
//! scores a parsed [`spamtrace_mail::Analysis`] with a calibrated probability
//! ([`Classification::score`]), turns it into a [`Verdict`] under configurable
//! [`Thresholds`], and names the [`ScamKind`] of anything not ham
//! ([`kinds`]: lexicons plus URL and attachment evidence, weighed with the
//! message's words by a learnt model, [`kind_model`]).
//!
//! Like the rest of analysis, this crate does no I/O except [`Model::load`]
//! and [`Model::save`], and the index reading of [`eval`].
//!
//! ```
//! use spamtrace_classify::{Model, Verdict};
//! use spamtrace_mail::{analyze, Limits, TrustedHosts};
//!
//! let raw = b"From: a@example.com\r\nSubject: lunch?\r\n\r\nSee you at noon.\r\n";
//! let analysis = analyze(raw, &Limits::default(), &TrustedHosts::default());
//! let c = Model::builtin().classify(&analysis);
//! assert!((0.0..=1.0).contains(&c.score));
//! assert_eq!(c.kind.is_none(), c.verdict == Verdict::Ham);
//! ```

pub mod eval;
pub mod features;
pub mod kind_model;
pub mod kinds;
mod list_text;
mod model;
#[cfg(test)]
mod test_rng;
pub mod tokens;

pub use kind_model::{KindExplanation, KindModel};
pub use kinds::{KindEvidence, ScamKind, detect_kind, kind_evidence};
pub use model::{
    Calibration, Classification, Contribution, FORMAT_VERSION, Features, Loss, MAX_IDF_POWER,
    Model, ModelConfig, ModelError, Thresholds, Verdict,
};
pub use tokens::TokenModelConfig;
