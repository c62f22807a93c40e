//! From an [`Analysis`] to hashed sparse features, cheaply and within bounds.
//!
//! Every feature is a 64-bit hash of a namespace and some bytes, folded to a
//! slot of the weight table ("the hashing trick"). Nothing is allocated per
//! feature: tokens are lowercased into a fixed stack buffer and hashed on the
//! fly, and the slots land in one reused `Vec<u32>`. Every loop is bounded by
//! [`FeatureLimits`], so a 10 MB word or a binary body costs a bounded amount
//! of time and memory.
//!
//! For `--explain`, the same code runs with a [`Describe`] sink that also
//! records a human description of each feature; the fast path passes closures
//! that are never called, so describing costs nothing when not asked for.

use crate::list_text;
use spamtrace_mail::Analysis;

/// Which groups of features are extracted. The shipped model uses
/// [`FeatureSet::ALL`]; the others exist to measure what each group is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSet {
    /// Body and subject words.
    pub words: bool,
    /// Pairs of adjacent body words.
    pub bigrams: bool,
    /// Character 4-grams of the start of the body.
    pub char4: bool,
    /// Header names, their order, value shapes, mailer, sender domains, hops.
    pub headers: bool,
    /// URL hosts and domains, attachments, HTML and MIME structure.
    pub structure: bool,
    /// Words of every header value, per header name.
    pub header_words: bool,
    /// Character 3-grams of the subject and of the sender's display name:
    /// spammers vary spelling ("V1agra", "Ｆree") where whole words miss.
    pub subject_grams: bool,
    /// Script and charset evidence: the share of non-ASCII bytes in the
    /// text and subject (foreign-language spam is a real, lasting signal).
    pub script: bool,
    /// Headers written by the receiving side (`Delivered-To`, `X-Spam-*`,
    /// `X-Virus-*`, mailbox status): they describe the collection a message
    /// was kept in, not the sender, so a model that learns them learns the
    /// corpus. Off in [`FeatureSet::DEFAULT`].
    pub recipient_headers: bool,
    /// Words of `Received` headers: relay names of the collector's own
    /// infrastructure, which change when the collection does.
    pub received_words: bool,
    /// Fold every digit of body/subject words and character 4-grams to `0`:
    /// years, prices and counts drift over time, their shape does not.
    pub fold_digits: bool,
    /// Leave out what a mailing list added to a message it delivered: the
    /// footer at the end of the text and the `[tag]` before the subject
    /// (see `list_text.rs`: they say how the mail travelled, not what it is).
    pub drop_list_text: bool,
    /// Also leave out a list's own links (to the domains its `List-*`
    /// fields name) and a footer that is only a trailing paragraph with
    /// the list's address, without a separator line above it: on spam
    /// posted to a list they were the strongest ham evidence (in the
    /// shipped set since the eleventh round).
    pub drop_list_links: bool,
    /// Pairs of adjacent Chinese, Japanese or Korean characters: those
    /// scripts are written without spaces, so a sentence is one "word".
    pub cjk_bigrams: bool,
    /// The subject and sender-name 3-grams count half
    /// ([`LIGHT_FEATURE_SCALE`]): a short field yields dozens of them,
    /// which outweigh the few words of a short message and say again what
    /// the field's words say. They are hashed to their own eighth of the
    /// table ([`is_light_slot`]), where a model that scales by IDF gives
    /// every slot half its IDF; without IDF they only move there.
    pub light_subject_grams: bool,
    /// Pairs of adjacent body words count half ([`LIGHT_FEATURE_SCALE`])
    /// too: a word pair mostly says again what its two words say, and the
    /// pairs, as many as the words, outweighed them. With this option the
    /// light groups get half of the table instead of an eighth (bigrams are
    /// about half of a message's features).
    pub light_bigrams: bool,
}

impl FeatureSet {
    /// Every group but the opt-in `cjk` and `lightbigrams`, with the
    /// shipped weighting (`lightsgrams`) and list additions left out
    /// (`nolist`, `nolistlinks`).
    pub const ALL: FeatureSet = FeatureSet {
        words: true,
        bigrams: true,
        char4: true,
        headers: true,
        structure: true,
        header_words: true,
        subject_grams: true,
        script: true,
        recipient_headers: true,
        received_words: true,
        fold_digits: true,
        drop_list_text: true,
        drop_list_links: true,
        cjk_bigrams: false,
        light_subject_grams: true,
        light_bigrams: false,
    };

    /// The set the shipped model uses (chosen on validation inside the
    /// training half, see the README): body words and bigrams, subject and
    /// sender-name text with digits folded, structure and script, but no
    /// header features: header names, order, shapes and words described
    /// the collections of the training period (relays, list software, the
    /// collector's own filters) and generalised worse to later mail. No
    /// character 4-grams either (since the fifth round): with IDF scaling
    /// ([`crate::ModelConfig::idf`]) the model without them won on
    /// validation and on the test half, and featurizes a fifth faster.
    /// The subject and sender-name 3-grams count half (since the seventh
    /// round: better on four validation columns, and on the test half).
    /// A list's own links are left out (since the eleventh round: better on
    /// the columns that hold list-posted spam, and on the test half).
    pub const DEFAULT: FeatureSet = FeatureSet {
        char4: false,
        headers: false,
        header_words: false,
        recipient_headers: false,
        received_words: false,
        ..FeatureSet::ALL
    };

    /// Pack as bits (stored in the model file so a model is always scored with
    /// the features it was trained on).
    pub fn to_bits(self) -> u32 {
        (self.words as u32)
            | (self.bigrams as u32) << 1
            | (self.char4 as u32) << 2
            | (self.headers as u32) << 3
            | (self.structure as u32) << 4
            | (self.header_words as u32) << 5
            | (self.subject_grams as u32) << 6
            | (self.script as u32) << 7
            | (self.recipient_headers as u32) << 8
            | (self.received_words as u32) << 9
            | (self.fold_digits as u32) << 10
            | (self.drop_list_text as u32) << 11
            | (self.drop_list_links as u32) << 12
            | (self.cjk_bigrams as u32) << 13
            | (self.light_subject_grams as u32) << 14
            | (self.light_bigrams as u32) << 15
    }

    /// Unpack from [`FeatureSet::to_bits`].
    pub fn from_bits(bits: u32) -> FeatureSet {
        FeatureSet {
            words: bits & 1 != 0,
            bigrams: bits & 2 != 0,
            char4: bits & 4 != 0,
            headers: bits & 8 != 0,
            structure: bits & 16 != 0,
            header_words: bits & 32 != 0,
            subject_grams: bits & 64 != 0,
            script: bits & 128 != 0,
            recipient_headers: bits & 256 != 0,
            received_words: bits & 512 != 0,
            fold_digits: bits & 1024 != 0,
            drop_list_text: bits & 2048 != 0,
            drop_list_links: bits & 4096 != 0,
            cjk_bigrams: bits & 8192 != 0,
            light_subject_grams: bits & 16384 != 0,
            light_bigrams: bits & 32768 != 0,
        }
    }

    /// Parse a `+`-separated list such as `words+bigrams+char4` (`all` and
    /// `default` name those sets and combine with the rest:
    /// `default+nolistlinks`; `hwords` are the header words, `sgrams`
    /// subject and sender name 3-grams, `script` non-ASCII shares, `rcpt`
    /// receiving-side headers, `rwords` words of Received headers, `digits`
    /// digit folding, `nolist` mailing-list footers and subject tags left
    /// out, `nolistlinks` a list's own links and bare address too, `cjk`
    /// pairs of CJK characters, `lightsgrams` the subject and sender-name
    /// 3-grams at half weight, `lightbigrams` the word pairs at half weight).
    pub fn parse(s: &str) -> Option<FeatureSet> {
        let mut bits = 0;
        for part in s.split('+') {
            bits |= match part.trim() {
                "all" => FeatureSet::ALL.to_bits(),
                "default" => FeatureSet::DEFAULT.to_bits(),
                one => 1 << FeatureSet::GROUP_NAMES.iter().position(|n| *n == one)?,
            };
        }
        Some(FeatureSet::from_bits(bits))
    }

    /// The bits that change how groups are read rather than which are read
    /// (`digits`, `nolist`, `nolistlinks`, `lightsgrams`, `lightbigrams`): a message
    /// featurized in two passes over parts of a set needs them in both to
    /// get the features one pass gets.
    pub const OPTION_BITS: u32 = 1 << 10 | 1 << 11 | 1 << 12 | 1 << 14 | 1 << 15;

    /// These groups, read with `main`'s options ([`FeatureSet::OPTION_BITS`]).
    pub fn with_options_of(self, main: FeatureSet) -> FeatureSet {
        let options = FeatureSet::OPTION_BITS;
        FeatureSet::from_bits(self.to_bits() & !options | main.to_bits() & options)
    }

    /// Every bit [`FeatureSet::to_bits`] can set.
    pub const KNOWN_BITS: u32 = (1 << FeatureSet::GROUP_NAMES.len()) - 1;

    /// The names [`FeatureSet::parse`] reads, each at the position of its
    /// bit in [`FeatureSet::to_bits`].
    pub const GROUP_NAMES: [&str; 16] = [
        "words",
        "bigrams",
        "char4",
        "headers",
        "structure",
        "hwords",
        "sgrams",
        "script",
        "rcpt",
        "rwords",
        "digits",
        "nolist",
        "nolistlinks",
        "cjk",
        "lightsgrams",
        "lightbigrams",
    ];
}

/// Bounds on the work done for one message. Whatever the input, a message
/// yields at most `max_features` features after reading at most
/// `max_word_bytes` + `max_char4_bytes` bytes of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureLimits {
    /// Bytes of body text read for words and bigrams.
    pub max_word_bytes: usize,
    /// Bytes of body text read for character 4-grams (the start of a message
    /// says most; TREC systems used the first few KB).
    pub max_char4_bytes: usize,
    /// Longest token hashed as itself; longer ones become a length-class feature.
    pub max_token_bytes: usize,
    /// Header fields looked at.
    pub max_headers: usize,
    /// Bytes of one header value read for words.
    pub max_header_word_bytes: usize,
    /// Bytes of one header value looked at for its shape.
    pub max_shape_bytes: usize,
    /// URLs looked at.
    pub max_urls: usize,
    /// Attachments looked at.
    pub max_attachments: usize,
    /// Features per message, all groups together.
    pub max_features: usize,
}

impl Default for FeatureLimits {
    fn default() -> Self {
        FeatureLimits {
            max_word_bytes: 8 << 10,
            max_char4_bytes: 3000,
            max_token_bytes: MAX_TOKEN_BUF,
            max_headers: 64,
            max_header_word_bytes: 256,
            max_shape_bytes: 48,
            max_urls: 64,
            max_attachments: 16,
            max_features: 12_000,
        }
    }
}

/// Hard cap on a token's length (the stack buffer size).
const MAX_TOKEN_BUF: usize = 40;

/// Feature namespaces: the same bytes in the subject and the body are
/// different features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
enum Ns {
    Bias = 1,
    Word,
    Bigram,
    Char4,
    SubjectWord,
    SubjectShape,
    HeaderName,
    HeaderPair,
    HeaderShape,
    Mailer,
    FromDomain,
    FromName,
    ReplyToDiffers,
    ReturnPathDomain,
    Hops,
    UrlDomain,
    UrlHost,
    UrlFlag,
    UrlCount,
    Attachment,
    Html,
    Mime,
    LongToken,
    TextSize,
    HeaderWord,
    SubjectGram,
    FromNameGram,
    Script,
    /// What a mailing list added, as one fact each (the text itself is left out).
    ListText,
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hash bytes with a seed (FxHash-style over 8-byte words: fast, good enough
/// once the top bits are taken, see [`slot`]).
#[inline]
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed.wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = (h.rotate_left(5) ^ load_tail(rest)).wrapping_mul(K);
    }
    (h.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(K)
}

/// The 1 to 7 bytes of `rest` as a little-endian word padded with zeros
/// (the same value as copying them into a zeroed `[u8; 8]`), with two or
/// three loads instead of a `memcpy` call of variable length: most words
/// end in such a tail, so this is on the hottest path.
#[inline]
fn load_tail(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        // Two overlapping 4-byte loads; the shared bytes are equal, so OR
        // puts every byte at its own position.
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]) as u64;
        lo | hi << (8 * (n - 4))
    } else {
        // Positions 0, n/2 and n-1 cover every byte of 1 to 3.
        rest[0] as u64
            | (rest[n / 2] as u64) << (8 * (n / 2))
            | (rest[n - 1] as u64) << (8 * (n - 1))
    }
}

#[inline]
fn combine(a: u64, b: u64) -> u64 {
    (a.rotate_left(5) ^ b).wrapping_mul(K)
}

/// Where features go: the fast path only wants slots, `--explain` also wants words.
pub trait Sink {
    /// Record one feature by its mixed 64-bit hash (its slot is the top
    /// bits: [`slot_of`]). `describe` is called only by sinks that keep
    /// descriptions.
    fn add(&mut self, hash: u64, describe: impl FnOnce() -> String);
    /// How many features were recorded.
    fn len(&self) -> usize;
    /// Whether none were recorded.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Collects slot numbers only, each once (features are binary: present or
/// not, which on spam works better than counts and stops a repeated word
/// from dominating the score). Duplicates are dropped on insert with a
/// bitset over the table, cleared after use: cheaper than sorting.
#[derive(Debug)]
pub struct Slots {
    /// The distinct slots, in extraction order.
    pub slots: Vec<u32>,
    seen: Vec<u64>,
    shift: u32,
}

impl Slots {
    /// A collector for a table of `2^bits` weights.
    pub fn new(bits: u32) -> Slots {
        Slots {
            slots: Vec::with_capacity(4096),
            seen: vec![0; ((1usize << bits) / 64).max(1)],
            shift: 64 - bits,
        }
    }

    /// log2 of the table size these slots index.
    pub fn bits(&self) -> u32 {
        64 - self.shift
    }

    /// Forget the previous message's slots, keep the buffers.
    pub fn clear(&mut self) {
        for &s in &self.slots {
            self.seen[(s / 64) as usize] = 0;
        }
        self.slots.clear();
    }
}

/// The slot of a feature's mixed hash ([`mix`]) in a table of
/// `2^(64-shift)` weights: its top bits.
#[inline]
pub fn slot_of(mixed: u64, shift: u32) -> u32 {
    (mixed >> shift) as u32
}

/// Mix a feature hash so that its top bits are well spread (Fibonacci
/// hashing: the top bits after a multiply are well mixed). What a [`Sink`]
/// receives.
#[inline]
pub fn mix(hash: u64) -> u64 {
    hash.wrapping_mul(K)
}

/// What a present feature of a light group
/// ([`FeatureSet::light_subject_grams`], [`FeatureSet::light_bigrams`])
/// counts for, relative to the rest.
pub const LIGHT_FEATURE_SCALE: f32 = 0.5;

/// How the weight table is cut when a feature set has light groups: the
/// light groups are hashed to the last part, every other feature is spread
/// evenly over the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LightPart {
    /// In eighths: the subject and sender-name 3-grams alone are light
    /// ([`FeatureSet::light_subject_grams`]).
    Eighth,
    /// In halves: the word pairs are light too ([`FeatureSet::light_bigrams`];
    /// they are about half of a message's features).
    Half,
}

impl LightPart {
    /// The cut for `set`, if it has light groups.
    pub fn of(set: FeatureSet) -> Option<LightPart> {
        match (set.light_subject_grams, set.light_bigrams) {
            (_, true) => Some(LightPart::Half),
            (true, false) => Some(LightPart::Eighth),
            (false, false) => None,
        }
    }

    /// The table is cut in `2^cut_bits()` parts; the light part is the last.
    fn cut_bits(self) -> u32 {
        match self {
            LightPart::Eighth => 3,
            LightPart::Half => 1,
        }
    }

    /// The index of the light part among the `2^cut_bits()`.
    fn last(self) -> u64 {
        (1 << self.cut_bits()) - 1
    }

    /// Whether `slot` of a `2^bits` table lies in the light part.
    #[inline]
    pub fn holds(self, slot: u32, bits: u32) -> bool {
        (slot >> (bits - self.cut_bits())) as u64 == self.last()
    }
}

/// Where one group's mixed hashes go in the table, as one branch-free
/// formula, `(mixed >> shift) * mul | or`, with the constants of the
/// feature set's cut ([`LightPart`]) and the group's weight, chosen once per
/// message: every feature passes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    shift: u32,
    mul: u64,
    or: u64,
}

impl Place {
    /// The light part (`light`) or the rest of the table of the cut
    /// `part` (the whole table without one).
    fn of(part: Option<LightPart>, light: bool) -> Place {
        let Some(part) = part else {
            return Place {
                shift: 0,
                mul: 1,
                or: 0,
            };
        };
        let shift = part.cut_bits();
        match light {
            // The last part: its index in the top bits.
            true => Place {
                shift,
                mul: 1,
                or: part.last() << (64 - shift),
            },
            // The others, spread evenly: the rest of the hash times their
            // number stays below the last part.
            false => Place {
                shift,
                mul: part.last(),
                or: 0,
            },
        }
    }

    #[inline]
    fn apply(self, mixed: u64) -> u64 {
        (mixed >> self.shift).wrapping_mul(self.mul) | self.or
    }
}

/// Whether `slot` of a `2^bits` table lies in the light part of the
/// table of `set` ([`LightPart`]; false when the set has no light groups).
#[inline]
pub fn is_light_slot(slot: u32, bits: u32, set: FeatureSet) -> bool {
    LightPart::of(set).is_some_and(|p| p.holds(slot, bits))
}

impl Sink for Slots {
    #[inline]
    fn add(&mut self, hash: u64, _describe: impl FnOnce() -> String) {
        let s = slot_of(hash, self.shift);
        let word = &mut self.seen[(s / 64) as usize];
        // Branch-free: whether a slot is new is data the CPU cannot
        // predict (text repeats words at random), and a mispredicted branch
        // waiting on a bitset load costs more than the whole insert. So the
        // slot is always written, and kept by setting the length.
        let new = ((*word >> (s % 64)) & 1) ^ 1;
        *word |= 1u64 << (s % 64);
        let len = self.slots.len();
        self.slots.push(s);
        self.slots.truncate(len + new as usize);
    }
    fn len(&self) -> usize {
        self.slots.len()
    }
}

/// Collects distinct slots with a description of each, for explanations.
/// Features that share a slot (hash collisions) share one entry, their
/// descriptions joined.
#[derive(Debug)]
pub struct Describe {
    /// `(slot, description)` in first-extraction order.
    pub features: Vec<(u32, String)>,
    index: std::collections::HashMap<u32, usize>,
    shift: u32,
}

impl Describe {
    /// A describing collector for a table of `2^bits` weights.
    pub fn new(bits: u32) -> Describe {
        Describe {
            features: Vec::new(),
            index: std::collections::HashMap::new(),
            shift: 64 - bits,
        }
    }
}

impl Sink for Describe {
    fn add(&mut self, hash: u64, describe: impl FnOnce() -> String) {
        let s = slot_of(hash, self.shift);
        match self.index.get(&s) {
            Some(&i) => {
                let d = describe();
                let e = &mut self.features[i].1;
                if !e.split(" / ").any(|x| x == d) && e.len() < 200 {
                    e.push_str(" / ");
                    e.push_str(&d);
                }
            }
            None => {
                self.index.insert(s, self.features.len());
                self.features.push((s, describe()));
            }
        }
    }
    fn len(&self) -> usize {
        self.features.len()
    }
}

/// Extracts features from analyses. Holds no per-message state, so one value
/// can be shared; buffers live in the [`Sink`].
#[derive(Debug, Clone, Copy)]
pub struct Featurizer {
    /// Which groups to extract.
    pub set: FeatureSet,
    /// Bounds on the work per message.
    pub limits: FeatureLimits,
}

/// A bounded sink wrapper: stops recording at `max` features.
struct Capped<'a, S: Sink> {
    inner: &'a mut S,
    max: usize,
    /// Where the subject and sender-name 3-grams, the word pairs and
    /// every other feature go in the table ([`Place`]).
    sgrams: Place,
    bigrams: Place,
    others: Place,
}

impl<S: Sink> Capped<'_, S> {
    #[inline]
    fn full(&self) -> bool {
        self.inner.len() >= self.max
    }
    #[inline]
    fn add(&mut self, ns: Ns, hash: u64, describe: impl FnOnce() -> String) {
        if self.inner.len() < self.max {
            let place = match ns {
                Ns::SubjectGram | Ns::FromNameGram => self.sgrams,
                Ns::Bigram => self.bigrams,
                _ => self.others,
            };
            self.inner
                .add(place.apply(mix(combine(ns as u64, hash))), describe);
        }
    }
    #[inline]
    fn add_str(&mut self, ns: Ns, s: &str, describe: impl FnOnce() -> String) {
        self.add(ns, hash_bytes(ns as u64, s.as_bytes()), describe);
    }
}

/// A power-of-two size class, so counts become a handful of features.
fn size_class(n: u64) -> u32 {
    64 - n.leading_zeros()
}

impl Featurizer {
    /// The shipped configuration: every group, default limits.
    pub fn new(set: FeatureSet) -> Featurizer {
        Featurizer {
            set,
            limits: FeatureLimits::default(),
        }
    }

    /// Extract every feature of `a` into `sink`.
    pub fn extract<S: Sink>(&self, a: &Analysis, sink: &mut S) {
        let max = self.limits.max_features;
        let part = LightPart::of(self.set);
        let mut out = Capped {
            inner: sink,
            max,
            sgrams: Place::of(part, self.set.light_subject_grams),
            bigrams: Place::of(part, self.set.light_bigrams),
            others: Place::of(part, false),
        };
        // A bias feature, so the model learns the base rate.
        out.add(Ns::Bias, 0, || "(base rate)".to_string());
        let via_list = self.set.drop_list_text && a.via_mailing_list();
        let subject = a.subject.as_deref().map(|s| match via_list {
            true => list_text::without_tag(s),
            false => std::borrow::Cow::Borrowed(s),
        });
        let list_links = via_list && self.set.drop_list_links;
        let body = match (via_list, list_links) {
            (true, false) => list_text::without_footer(&a.text),
            (true, true) => list_text::without_footer_or_address(&a.text),
            (false, _) => a.text.as_str(),
        };
        let list_domains = match list_links {
            true => list_text::list_domains(a),
            false => Vec::new(),
        };
        // The list's additions count once each, however many words they had.
        if body.len() < a.text.len() {
            out.add(Ns::ListText, 1, || {
                "text ends in a mailing-list footer".to_string()
            });
        }
        if let (Some(s), Some(orig)) = (&subject, &a.subject)
            && s.len() < orig.len()
        {
            out.add(Ns::ListText, 2, || {
                "subject has a mailing-list tag".to_string()
            });
        }
        if let Some(subject) = &subject {
            self.subject(subject, &mut out);
            if self.set.subject_grams {
                grams3(
                    subject.as_bytes(),
                    256,
                    Ns::SubjectGram,
                    "subject",
                    &mut out,
                );
            }
        }
        if self.set.subject_grams
            && let Some(name) = a.from.as_ref().and_then(|f| f.name.as_deref())
        {
            grams3(
                name.as_bytes(),
                128,
                Ns::FromNameGram,
                "sender name",
                &mut out,
            );
        }
        if self.set.script {
            let text = body.as_bytes();
            let sample = &text[..floor_len(text, self.limits.max_word_bytes)];
            let class = non_ascii_class(sample);
            out.add(Ns::Script, class, || {
                format!("text is {}", NON_ASCII_CLASSES[class as usize])
            });
            if let Some(subject) = &subject {
                let class = non_ascii_class(subject.as_bytes());
                out.add(Ns::Script, 16 + class, || {
                    format!("subject is {}", NON_ASCII_CLASSES[class as usize])
                });
            }
        }
        if self.set.headers {
            self.headers(a, &mut out);
        }
        if self.set.structure {
            self.structure(a, &list_domains, &mut out);
        }
        let text = body.as_bytes();
        if self.set.words || self.set.bigrams {
            let end = floor_len(text, self.limits.max_word_bytes);
            self.words(&text[..end], &mut out);
        }
        if self.set.char4 && !out.full() {
            let end = floor_len(text, self.limits.max_char4_bytes);
            self.char4(&text[..end], &mut out);
        }
    }

    fn subject<S: Sink>(&self, subject: &str, out: &mut Capped<'_, S>) {
        let bytes = subject.as_bytes();
        let bytes = &bytes[..floor_len(bytes, 512)];
        let mut tok = Tokens::new(bytes, self.limits.max_token_bytes)
            .folding_digits(self.set.fold_digits)
            .hashing(Ns::SubjectWord);
        while let Some(t) = tok.next_token() {
            match t {
                Token::Word(w, _, _, h) => {
                    out.add(Ns::SubjectWord, h, || {
                        format!("subject word \"{}\"", String::from_utf8_lossy(w))
                    });
                }
                Token::Long(n, _) => {
                    out.add(Ns::LongToken, 1000 + size_class(n as u64) as u64, || {
                        "a very long word in the subject".to_string()
                    })
                }
            }
        }
        // The subject's shape: shouting, money, exclamation, numbers.
        let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic()).count();
        let upper = bytes.iter().filter(|b| b.is_ascii_uppercase()).count();
        if letters >= 8 && upper * 10 >= letters * 8 {
            out.add(Ns::SubjectShape, 1, || {
                "subject mostly in capitals".to_string()
            });
        }
        if bytes.contains(&b'!') {
            out.add(Ns::SubjectShape, 2, || "subject has \"!\"".to_string());
        }
        if bytes.contains(&b'$') {
            out.add(Ns::SubjectShape, 3, || "subject has \"$\"".to_string());
        }
        if bytes.iter().any(|b| *b >= 0x80) {
            out.add(Ns::SubjectShape, 4, || {
                "subject has non-ASCII characters".to_string()
            });
        }
        let lower_start =
            subject.starts_with("re:") || subject.starts_with("Re:") || subject.starts_with("RE:");
        if lower_start {
            out.add(Ns::SubjectShape, 5, || {
                "subject is a reply (Re:)".to_string()
            });
        }
        // Trailing run of spaces/digits/random IDs, a classic ratware tell.
        let trailing_ws = bytes
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        if trailing_ws >= 2 {
            out.add(Ns::SubjectShape, 6, || {
                "subject ends in blank padding".to_string()
            });
        }
        let cls = size_class(bytes.len() as u64) as u64;
        out.add(Ns::SubjectShape, 100 + cls, || {
            format!(
                "subject length about {} characters",
                1u64 << cls.saturating_sub(1)
            )
        });
    }

    fn headers<S: Sink>(&self, a: &Analysis, out: &mut Capped<'_, S>) {
        let mut prev: u64 = 0;
        let mut prev_name: &str = "(start)";
        for h in a.headers.iter().take(self.limits.max_headers) {
            let name = h.name.as_bytes();
            let name = &name[..floor_len(name, 40)];
            let mut lower = [0u8; 40];
            for (d, s) in lower.iter_mut().zip(name) {
                *d = s.to_ascii_lowercase();
            }
            let lname = &lower[..name.len()];
            if !self.set.recipient_headers && is_recipient_side(lname) {
                continue;
            }
            let nh = hash_bytes(Ns::HeaderName as u64, lname);
            out.add(Ns::HeaderName, nh, || {
                format!("has header {}", String::from_utf8_lossy(name))
            });
            // Header order: which header follows which is what a sending
            // program writes, hard for a spammer to vary.
            out.add(Ns::HeaderPair, combine(prev, nh), || {
                format!(
                    "header {} right after {prev_name}",
                    String::from_utf8_lossy(name)
                )
            });
            prev = nh;
            prev_name = &h.name;
            // The words of every header value, per header name: list names,
            // relays, mail programs, boundaries say much about who sent it.
            if self.set.header_words && (self.set.received_words || lname != b"received") {
                let v = h.value.as_bytes();
                let v = &v[..floor_len(v, self.limits.max_header_word_bytes)];
                let mut tok = Tokens::new(v, self.limits.max_token_bytes).hashing(Ns::HeaderWord);
                while let Some(t) = tok.next_token() {
                    // Numbers in headers are dates, times, IDs and addresses:
                    // they change with every message and say nothing lasting.
                    if let Token::Word(w, _, _, wh) = t
                        && !w.iter().any(|b| b.is_ascii_digit())
                    {
                        out.add(Ns::HeaderWord, combine(nh, wh), || {
                            format!(
                                "header {} has \"{}\"",
                                String::from_utf8_lossy(name),
                                String::from_utf8_lossy(w)
                            )
                        });
                    }
                }
            }
            // Received and similar trace headers say where the mail went, not
            // who wrote it; their shapes are noise.
            if lname == b"received" || lname.starts_with(b"x-spam") {
                continue;
            }
            let (shape_hash, shape) = value_shape(h.value.as_bytes(), self.limits.max_shape_bytes);
            out.add(Ns::HeaderShape, combine(nh, shape_hash), || {
                format!(
                    "header {} looks like \"{}\"",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(&shape.0[..shape.1])
                )
            });
        }
        if let Some(mailer) = &a.mailer {
            let bytes = mailer.as_bytes();
            let bytes = &bytes[..floor_len(bytes, 128)];
            let mut tok = Tokens::new(bytes, self.limits.max_token_bytes).hashing(Ns::Mailer);
            while let Some(Token::Word(w, _, _, h)) = tok.next_token() {
                if w.iter().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                out.add(Ns::Mailer, h, || {
                    format!("mail program mentions \"{}\"", String::from_utf8_lossy(w))
                });
            }
        }
        if let Some(from) = &a.from {
            if let Some(d) = from.domain() {
                out.add_str(Ns::FromDomain, d, || format!("sender domain {d}"));
                if let Some(rt) = a.reply_to.as_ref().and_then(|r| r.domain())
                    && !rt.eq_ignore_ascii_case(d)
                {
                    out.add(Ns::ReplyToDiffers, 1, || {
                        "Reply-To goes to another domain than From".to_string()
                    });
                }
            } else {
                out.add(Ns::FromDomain, 0, || "From has no address".to_string());
            }
            if let Some(name) = &from.name {
                let bytes = name.as_bytes();
                let bytes = &bytes[..floor_len(bytes, 128)];
                let mut tok = Tokens::new(bytes, self.limits.max_token_bytes).hashing(Ns::FromName);
                while let Some(Token::Word(w, _, _, h)) = tok.next_token() {
                    out.add(Ns::FromName, h, || {
                        format!("sender name has \"{}\"", String::from_utf8_lossy(w))
                    });
                }
            }
        } else {
            out.add(Ns::FromDomain, 1, || "no From header".to_string());
        }
        if let Some(rp) = &a.return_path {
            let d = rp.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            out.add_str(Ns::ReturnPathDomain, d, || {
                format!("bounce address domain {d}")
            });
        }
        let hops = a.received.len() as u64;
        out.add(Ns::Hops, hops.min(12), || format!("{hops} Received hops"));
    }

    /// `skip_domains`: a mailing list's own domains, whose links the list
    /// added (empty unless [`FeatureSet::drop_list_links`]).
    fn structure<S: Sink>(&self, a: &Analysis, skip_domains: &[String], out: &mut Capped<'_, S>) {
        // Links the sender wrote: all of them unless a list's are left out.
        let senders = |u: &&spamtrace_mail::UrlRef| {
            skip_domains.is_empty()
                || !skip_domains
                    .iter()
                    .any(|d| u.domain.as_deref().unwrap_or(u.host.as_str()) == d)
        };
        for u in a.urls.iter().filter(senders).take(self.limits.max_urls) {
            if let Some(d) = &u.domain {
                out.add_str(Ns::UrlDomain, d, || format!("links to {d}"));
            }
            if u.domain.as_deref() != Some(u.host.as_str()) {
                let host = u.host.as_str();
                out.add_str(Ns::UrlHost, host, || format!("links to host {host}"));
            }
            if u.is_ip {
                out.add(Ns::UrlFlag, 1, || "a link to a bare IP address".to_string());
            }
            if u.obfuscated {
                out.add(Ns::UrlFlag, 2, || "a disguised link".to_string());
            }
            out.add(Ns::UrlFlag, 10 + u.context as u64, || {
                format!("a link found in {:?}", u.context).to_lowercase()
            });
        }
        let n = match skip_domains.is_empty() {
            true => a.urls.len(),
            false => a.urls.iter().filter(senders).count(),
        } as u64;
        let cls = size_class(n);
        out.add(Ns::UrlCount, cls as u64, || match n {
            0 => "no links".to_string(),
            _ => format!("about {} links", 1u64 << (cls - 1)),
        });
        for att in a.attachments.iter().take(self.limits.max_attachments) {
            let t = att.declared_type.as_str();
            out.add_str(Ns::Attachment, t, || format!("attachment declared {t}"));
            if let Some(s) = &att.sniffed_type {
                out.add(
                    Ns::Attachment,
                    combine(1, hash_bytes(0, s.as_bytes())),
                    || format!("attachment content is {s}"),
                );
            }
            if let Some(ext) = att
                .filename
                .as_deref()
                .and_then(|f| f.rsplit_once('.'))
                .map(|(_, e)| e)
                .filter(|e| e.len() <= 8)
            {
                let mut lower = [0u8; 8];
                for (d, s) in lower.iter_mut().zip(ext.as_bytes()) {
                    *d = s.to_ascii_lowercase();
                }
                let e = &lower[..ext.len()];
                out.add(Ns::Attachment, combine(2, hash_bytes(0, e)), || {
                    format!("attachment named *.{}", String::from_utf8_lossy(e))
                });
            }
        }
        let h = &a.html;
        if h.parts > 0 {
            out.add(Ns::Html, 1, || "has HTML".to_string());
            let counts = [
                (2u64, h.tags, "HTML tags"),
                (3, h.links, "HTML links"),
                (4, h.images, "images"),
                (5, h.forms, "forms"),
                (6, h.scripts, "scripts"),
                (7, h.hidden, "hidden-text tags"),
            ];
            for (id, count, what) in counts {
                let cls = size_class(count as u64) as u64;
                out.add(Ns::Html, combine(id, cls), || match count {
                    0 => format!("no {what}"),
                    _ => format!("about {} {what}", 1u64 << (cls - 1)),
                });
            }
            // HTML with almost no text: an image spam or a link-only message.
            if a.text.len() < 200 {
                out.add(Ns::Html, 20, || "HTML with almost no text".to_string());
            }
        }
        let m = &a.mime;
        let ct = m.content_type.as_str();
        out.add_str(Ns::Mime, ct, || format!("message type {ct}"));
        if let Some(cs) = &m.charset {
            let cs = cs.as_str();
            out.add(
                Ns::Mime,
                combine(1, hash_bytes(0, cs.to_ascii_lowercase().as_bytes())),
                || format!("charset {cs}"),
            );
        }
        if let Some(te) = &m.transfer_encoding {
            let te = te.as_str();
            out.add(Ns::Mime, combine(2, hash_bytes(0, te.as_bytes())), || {
                format!("encoded as {te}")
            });
        }
        let parts = m.parts.min(16) as u64;
        out.add(Ns::Mime, combine(3, parts), || {
            format!("{parts} MIME parts")
        });
        if !m.crlf {
            out.add(Ns::Mime, 4, || "header lines end in bare LF".to_string());
        }
        let cls = size_class(a.text.len() as u64) as u64;
        out.add(Ns::TextSize, cls, || {
            format!("text of about {} bytes", 1u64 << cls.saturating_sub(1))
        });
    }

    fn words<S: Sink>(&self, text: &[u8], out: &mut Capped<'_, S>) {
        let mut tok = Tokens::new(text, self.limits.max_token_bytes)
            .folding_digits(self.set.fold_digits)
            .hashing(Ns::Word);
        let mut prev: Option<(u64, usize, usize)> = None;
        while !out.full() {
            let Some(t) = tok.next_token() else { break };
            match t {
                Token::Word(w, start, end, h) => {
                    if self.set.cjk_bigrams && !w.is_ascii() {
                        cjk_bigrams(&text[start..end], out);
                    }
                    if self.set.words {
                        out.add(Ns::Word, h, || {
                            format!("word \"{}\"", String::from_utf8_lossy(w))
                        });
                    }
                    if self.set.bigrams
                        && let Some((ph, ps, pe)) = prev
                    {
                        out.add(Ns::Bigram, combine(ph, h), || {
                            format!(
                                "words \"{} {}\"",
                                String::from_utf8_lossy(&lowercase_copy(&text[ps..pe])),
                                String::from_utf8_lossy(&lowercase_copy(&text[start..end]))
                            )
                        });
                    }
                    prev = Some((h, start, end));
                }
                Token::Long(n, start) => {
                    out.add(Ns::LongToken, size_class(n as u64) as u64, || {
                        "a very long unbroken string in the text".to_string()
                    });
                    if self.set.cjk_bigrams {
                        cjk_bigrams(&text[start..start + n], out);
                    }
                    prev = None;
                }
            }
        }
    }

    fn char4<S: Sink>(&self, text: &[u8], out: &mut Capped<'_, S>) {
        // Lowercased, whitespace runs folded to one space: layout noise
        // (line breaks, padding) must not create new grams.
        let map = if self.set.fold_digits {
            &CHAR4_FOLDED
        } else {
            &CHAR4
        };
        let mut window: u32 = 0;
        let mut filled = 0u32;
        let mut last_space = true;
        for &b in text {
            let c = map[b as usize];
            let space = c == b' ';
            if space && last_space {
                continue;
            }
            last_space = space;
            window = (window << 8) | c as u32;
            filled += 1;
            if filled >= 4 {
                if out.full() {
                    return;
                }
                let w = window;
                out.add(Ns::Char4, w as u64, || {
                    format!(
                        "characters \"{}\"",
                        String::from_utf8_lossy(&w.to_be_bytes())
                    )
                });
            }
        }
    }
}

/// How [`Featurizer::char4`] sees a byte: whitespace as a space, letters
/// lowercased, everything else as itself.
static CHAR4: [u8; 256] = {
    let mut t = LOWER;
    let mut i = 0;
    while i < 256 {
        if (i as u8).is_ascii_whitespace() {
            t[i] = b' ';
        }
        i += 1;
    }
    t
};

/// [`CHAR4`] with digits folded to `0`.
static CHAR4_FOLDED: [u8; 256] = fold_digits(CHAR4);

/// Receiving-side headers: written by the mailbox that kept the message
/// (delivery address, local spam and virus filters, mail client status),
/// so they say which collection a message came from, not who sent it.
fn is_recipient_side(lname: &[u8]) -> bool {
    lname.starts_with(b"x-spam")
        || lname.starts_with(b"x-virus")
        || lname.starts_with(b"x-mozilla")
        || matches!(
            lname,
            b"delivered-to"
                | b"x-original-to"
                | b"envelope-to"
                | b"x-envelope-to"
                | b"x-uidl"
                | b"status"
                | b"x-status"
                | b"x-keywords"
                | b"lines"
                | b"content-length"
                | b"x-filtered-by"
        )
}

/// Descriptions of the classes of [`non_ascii_class`].
const NON_ASCII_CLASSES: [&str; 5] = [
    "empty",
    "all ASCII",
    "under 5% non-ASCII",
    "5-30% non-ASCII",
    "mostly non-ASCII (another script)",
];

/// How much of `b` is non-ASCII, as one of five classes.
fn non_ascii_class(b: &[u8]) -> u64 {
    if b.is_empty() {
        return 0;
    }
    // Eight bytes at a time: the high bit of each byte is what counts.
    let mut chunks = b.chunks_exact(8);
    let mut high = 0usize;
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        high += (w & 0x8080_8080_8080_8080).count_ones() as usize;
    }
    high += chunks.remainder().iter().filter(|c| **c >= 0x80).count();
    match high * 100 / b.len() {
        0 if high == 0 => 1,
        0..5 => 2,
        5..30 => 3,
        _ => 4,
    }
}

/// Character 3-grams of a short field (subject, display name), lowercased,
/// runs of non-word bytes folded to one space, over at most `max` bytes.
fn grams3<S: Sink>(field: &[u8], max: usize, ns: Ns, what: &str, out: &mut Capped<'_, S>) {
    let mut window: u32 = 0;
    let mut filled = 0u32;
    let mut last_space = true;
    for &b in &field[..floor_len(field, max)] {
        let c = if !is_word_byte(b) {
            if last_space {
                continue;
            }
            last_space = true;
            b' '
        } else {
            last_space = false;
            b.to_ascii_lowercase()
        };
        window = ((window << 8) | c as u32) & 0x00ff_ffff;
        filled += 1;
        if filled >= 3 {
            let w = window;
            out.add(ns, w as u64, || {
                let g = w.to_be_bytes();
                format!("{what} has \"{}\"", String::from_utf8_lossy(&g[1..]))
            });
        }
    }
}

fn lowercase_copy(b: &[u8]) -> Vec<u8> {
    b.to_ascii_lowercase()
}

/// The largest length ≤ `max` (bytes are cut anywhere: hashing does not need
/// character boundaries, descriptions use lossy conversion).
#[inline]
fn floor_len(b: &[u8], max: usize) -> usize {
    b.len().min(max)
}

/// A header value's shape: letters become `a`/`A`, digits `9`, runs folded,
/// punctuation kept. `<3F2A1B.9@host.example>` and `<7C1D22.4@other.example>`
/// have the same shape; ratware's Message-IDs and Dates have telling shapes.
fn value_shape(value: &[u8], max: usize) -> (u64, ([u8; 64], usize)) {
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut last = 0u8;
    for &b in value.iter().take(max) {
        let c = if b.is_ascii_uppercase() {
            b'A'
        } else if b.is_ascii_lowercase() {
            b'a'
        } else if b.is_ascii_digit() {
            b'9'
        } else if b >= 0x80 {
            b'~'
        } else if b.is_ascii_whitespace() {
            b' '
        } else {
            b
        };
        if c == last && matches!(c, b'A' | b'a' | b'9' | b'~' | b' ') {
            continue;
        }
        last = c;
        if n < buf.len() {
            buf[n] = c;
            n += 1;
        }
    }
    (hash_bytes(0x5a, &buf[..n]), (buf, n))
}

/// Whether `c` is written without spaces between words: Han ideographs,
/// kana, Hangul syllables (Korean has spaces, but between phrases).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// Every pair of adjacent CJK characters of `token` as a word feature (and
/// a lone character as itself), as search engines index these scripts.
fn cjk_bigrams<S: Sink>(token: &[u8], out: &mut Capped<'_, S>) {
    // Tokens end at ASCII bytes, so a token of valid UTF-8 text is valid.
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let mut prev: Option<(usize, char)> = None;
    let mut run = 0usize;
    for (i, c) in token.char_indices() {
        if out.full() {
            return;
        }
        if !is_cjk(c) {
            if run == 1
                && let Some((p, pc)) = prev
            {
                emit_cjk(&token[p..p + pc.len_utf8()], out);
            }
            prev = None;
            run = 0;
            continue;
        }
        if let Some((p, _)) = prev {
            emit_cjk(&token[p..i + c.len_utf8()], out);
        }
        prev = Some((i, c));
        run += 1;
    }
    if run == 1
        && let Some((p, pc)) = prev
    {
        emit_cjk(&token[p..p + pc.len_utf8()], out);
    }
}

fn emit_cjk<S: Sink>(chars: &str, out: &mut Capped<'_, S>) {
    let h = hash_bytes(Ns::Word as u64 ^ 0xC1C1, chars.as_bytes());
    out.add(Ns::Word, h, || format!("characters \"{chars}\""));
}

/// One token from [`Tokens`].
enum Token<'a> {
    /// A lowercased word (borrowed from the tokenizer's buffer), where it
    /// was in the text (start, end), and its `hash_bytes` under the
    /// tokenizer's seed ([`Tokens::hashing`]).
    Word(&'a [u8], usize, usize, u64),
    /// A token longer than the limit, with its length (capped by the scan)
    /// and where it starts.
    Long(usize, usize),
}

/// A bounded tokenizer: word characters are ASCII letters and digits, bytes of
/// non-ASCII characters, and `$ ' -` inside a word. Lowercases into a fixed
/// buffer; never allocates.
struct Tokens<'a> {
    text: &'a [u8],
    pos: usize,
    max: usize,
    buf: [u8; MAX_TOKEN_BUF],
    fold_digits: bool,
    /// The seed of the words' hashes (see [`Token::Word`]).
    seed: u64,
    /// Which bytes of the 64-byte block at `block_at` are word bytes (bit
    /// `i` for `text[block_at + i]`; none past the end of the text): word
    /// boundaries are found with bit scans, not a branch per byte (whose
    /// mispredictions at every boundary were most of the tokenizer's time).
    block: u64,
    block_at: usize,
}

/// Which bytes are word bytes, as a table (the tokenizer's inner loop).
static WORD_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b >= 0x80 || b == b'$' || b == b'\'' || b == b'-';
        i += 1;
    }
    t
};

#[inline]
fn is_word_byte(b: u8) -> bool {
    WORD_BYTE[b as usize]
}

/// Bit `i` set when `chunk[i]` is a word byte (at most 64 bytes).
fn word_mask_scalar(chunk: &[u8]) -> u64 {
    let mut m = 0u64;
    for (i, &b) in chunk.iter().enumerate() {
        m |= (is_word_byte(b) as u64) << i;
    }
    m
}

/// [`word_mask_scalar`] of a full 64-byte block, 16 bytes per step with
/// SSE2 (part of every x86-64): the byte loop was the tokenizer's largest
/// cost. A word byte is a letter, a digit, a byte >= 0x80, `$`, `'` or `-`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn word_mask64(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    let mut m = 0u64;
    for k in 0..4 {
        // SAFETY: SSE2 is baseline on x86_64, and the 16 bytes read are
        // inside `chunk` (k * 16 + 16 <= 64).
        let bits = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k) as *const __m128i);
            let splat = |b: u8| _mm_set1_epi8(b as i8);
            // x <= max, unsigned: min(x, max) == x.
            let at_most = |x: __m128i, max: u8| _mm_cmpeq_epi8(_mm_min_epu8(x, splat(max)), x);
            let digit = at_most(_mm_sub_epi8(v, splat(b'0')), 9);
            // Setting bit 5 maps A-Z onto a-z and no other byte into a-z.
            let letter = at_most(_mm_sub_epi8(_mm_or_si128(v, splat(0x20)), splat(b'a')), 25);
            let joiner = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, splat(b'$')),
                    _mm_cmpeq_epi8(v, splat(b'\'')),
                ),
                _mm_cmpeq_epi8(v, splat(b'-')),
            );
            // `v` itself has its top bit set exactly on the bytes >= 0x80.
            let any = _mm_or_si128(_mm_or_si128(v, digit), _mm_or_si128(letter, joiner));
            _mm_movemask_epi8(any) as u16 as u64
        };
        m |= bits << (16 * k);
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn word_mask64(chunk: &[u8; 64]) -> u64 {
    word_mask_scalar(chunk)
}

impl<'a> Tokens<'a> {
    fn new(text: &'a [u8], max: usize) -> Tokens<'a> {
        Tokens {
            text,
            pos: 0,
            max: max.min(MAX_TOKEN_BUF),
            buf: [0; MAX_TOKEN_BUF],
            fold_digits: false,
            seed: 0,
            block: 0,
            block_at: usize::MAX,
        }
    }

    /// The word-byte mask of the 64-byte block holding `at` (< text length),
    /// computed once per block.
    #[inline]
    fn word_bits(&mut self, at: usize) -> u64 {
        let base = at & !63;
        if base != self.block_at {
            let chunk = &self.text[base..self.text.len().min(base + 64)];
            self.block = match chunk.try_into() {
                Ok(full) => word_mask64(full),
                Err(_) => word_mask_scalar(chunk),
            };
            self.block_at = base;
        }
        self.block
    }

    /// Fold every digit of the words to `0` (see [`FeatureSet::fold_digits`]).
    fn folding_digits(mut self, fold: bool) -> Tokens<'a> {
        self.fold_digits = fold;
        self
    }

    /// Hash the words with `hash_bytes(ns as u64, word)`.
    fn hashing(mut self, ns: Ns) -> Tokens<'a> {
        self.seed = ns as u64;
        self
    }

    #[inline(always)]
    fn next_token(&mut self) -> Option<Token<'_>> {
        let text = self.text;
        loop {
            // The first word byte at or after `pos`...
            let start = loop {
                if self.pos >= text.len() {
                    self.pos = text.len();
                    return None;
                }
                let words = self.word_bits(self.pos) >> (self.pos % 64);
                if words != 0 {
                    break self.pos + words.trailing_zeros() as usize;
                }
                self.pos = (self.pos | 63) + 1;
            };
            // ...and the first byte after it that is not one (bits shifted
            // in from above the block read as "not found in this block").
            // `start` lies in the block just read: most words end in it
            // too, found without looking the block up again.
            let mut end = start;
            let mut others = !self.block >> (end % 64);
            loop {
                if others != 0 {
                    end += others.trailing_zeros() as usize;
                    break;
                }
                end = (end | 63) + 1;
                if end >= text.len() {
                    break;
                }
                others = !self.word_bits(end) >> (end % 64);
            }
            self.pos = end.min(text.len());
            // Trim joiners at the ends: "-- " and "'quoted'" are not words.
            let mut s = start;
            let mut e = self.pos;
            while s < e && matches!(text[s], b'\'' | b'-') {
                s += 1;
            }
            while e > s && matches!(text[e - 1], b'\'' | b'-') {
                e -= 1;
            }
            let len = e - s;
            if len == 0 {
                continue;
            }
            if len > self.max {
                return Some(Token::Long(len, s));
            }
            // Lowercase (and fold digits) eight bytes at a time, noting
            // whether every byte is a digit for the digit-run check below:
            // most words take one step, where a loop per byte mispredicted
            // its exit every word. The word is hashed on the way, each
            // lowercased word zero-padded as `hash_bytes` loads it from the
            // buffer (the same hash without reading the word again).
            let mut not_digit = 0u64;
            let mut h = self.seed.wrapping_mul(K);
            let mut i = 0;
            while i < len {
                let n = (len - i).min(8);
                let word = match text.get(s + i..s + i + 8) {
                    Some(w) => u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]),
                    None => load_tail(&text[s + i..s + i + n]),
                };
                let (lower, digit_bits) = lower_and_digits8(word, self.fold_digits);
                let valid = if n == 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * n)) - 1
                };
                not_digit |= !digit_bits & 0x8080_8080_8080_8080 & valid;
                h = combine(h, lower & valid);
                self.buf[i..i + 8].copy_from_slice(&lower.to_le_bytes());
                i += 8;
            }
            // Long digit runs (phone numbers, IDs) are one feature per length.
            if len > 4 && not_digit == 0 {
                self.buf[0] = b'#';
                self.buf[1] = b'0' + len.min(9) as u8;
                let w = &self.buf[..2];
                return Some(Token::Word(w, s, e, hash_bytes(self.seed, w)));
            }
            let h = combine(h, len as u64);
            return Some(Token::Word(&self.buf[..len], s, e, h));
        }
    }
}

/// Eight bytes (little-endian in a word) ASCII-lowercased, with every digit
/// folded to `0` as well under `fold`, and the high bit of each byte that
/// is an ASCII digit. No carry crosses a byte: every sum stays under 0x100.
#[inline]
fn lower_and_digits8(word: u64, fold: bool) -> (u64, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let seven = word & !HIGH;
    let ascii = !word & HIGH;
    // High bit set where an ASCII byte lies in lo..=hi.
    let in_range = |lo: u8, hi: u8| {
        let at_least_lo = seven + (0x80 - lo as u64) * ONES;
        let above_hi = seven + (0x7f - hi as u64) * ONES;
        at_least_lo & !above_hi & ascii
    };
    let upper = in_range(b'A', b'Z');
    let digit = in_range(b'0', b'9');
    let mut lower = word | (upper >> 2);
    if fold {
        // '0'..='9' are 0x30..=0x39: clearing the low nibble gives '0'.
        lower &= !((digit >> 7) * 0x0F);
    }
    (lower, digit)
}

/// ASCII lowercase of every byte, as a table.
static LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).to_ascii_lowercase();
        i += 1;
    }
    t
};

/// A byte table with every digit mapped to `0`.
const fn fold_digits(mut t: [u8; 256]) -> [u8; 256] {
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = b'0';
        d += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use spamtrace_mail::{HeaderField, UrlContext, UrlRef};

    #[test]
    fn the_block_mask_agrees_with_the_byte_table() {
        // Every byte value at every position of a block, among word bytes
        // and among spaces.
        for filler in [b'a', b' '] {
            for b in 0..=255u8 {
                for at in 0..64 {
                    let mut block = [filler; 64];
                    block[at] = b;
                    assert_eq!(
                        word_mask64(&block),
                        word_mask_scalar(&block),
                        "byte {b} at {at} among {filler}"
                    );
                }
            }
        }
    }

    fn words_of(s: &str) -> Vec<String> {
        let mut t = Tokens::new(s.as_bytes(), 40);
        let mut v = Vec::new();
        while let Some(tok) = t.next_token() {
            match tok {
                Token::Word(w, ..) => v.push(String::from_utf8_lossy(w).into_owned()),
                Token::Long(n, _) => v.push(format!("<long {n}>")),
            }
        }
        v
    }

    #[test]
    fn placements_equal_the_arms_of_each_cut() {
        // The per-cut arms `Capped::add` used before `Place`.
        let arms = |part: Option<LightPart>, mixed: u64, light: bool| match (part, light) {
            (None, _) => mixed,
            (Some(LightPart::Eighth), true) => 7 << 61 | mixed >> 3,
            (Some(LightPart::Eighth), false) => (mixed >> 3).wrapping_mul(7),
            (Some(LightPart::Half), true) => 1 << 63 | mixed >> 1,
            (Some(LightPart::Half), false) => mixed >> 1,
        };
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..100_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mixed = match i % 4 {
                0 => x,
                1 => u64::MAX - (i >> 2),
                2 => i >> 2,
                _ => x | 7 << 61,
            };
            for part in [None, Some(LightPart::Eighth), Some(LightPart::Half)] {
                for light in [false, true] {
                    assert_eq!(
                        Place::of(part, light).apply(mixed),
                        arms(part, mixed, light),
                        "{part:?} {light} {mixed:x}"
                    );
                }
            }
        }
    }

    #[test]
    fn light_groups_get_their_own_part_of_the_table() {
        let a = Analysis {
            subject: Some("Cheap meds for you today".into()),
            from: Some(spamtrace_mail::Mailbox {
                name: Some("Dr Smith".into()),
                address: Some("smith@example.com".into()),
            }),
            text: "Buy cheap meds online http://pills.example/ now".into(),
            ..Analysis::default()
        };
        let bits = 20;
        let light = FeatureSet::DEFAULT;
        let plain = FeatureSet {
            light_subject_grams: false,
            ..light
        };
        let described = |set| {
            let mut d = Describe::new(bits);
            Featurizer::new(set).extract(&a, &mut d);
            d
        };
        let d = described(light);
        let grams = |f: &str| f.starts_with("subject has") || f.starts_with("sender name has");
        assert!(d.features.iter().any(|(_, f)| grams(f)));
        for (slot, feature) in &d.features {
            assert_eq!(
                is_light_slot(*slot, bits, light),
                grams(feature),
                "{feature}"
            );
        }
        // Off, the same features are found, in the usual slots (the
        // shipped models before the seventh round keep scoring the same).
        let off = described(plain);
        let names = |d: &Describe| {
            let mut v: Vec<String> = d.features.iter().map(|(_, f)| f.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(names(&d), names(&off));
        assert!(
            off.features
                .iter()
                .any(|(s, f)| grams(f) && !is_light_slot(*s, bits, light))
        );
        // With the word pairs light too, they join the 3-grams in the
        // light half; the same features again.
        let heavier = FeatureSet {
            light_bigrams: true,
            ..light
        };
        let pairs = described(heavier);
        let light_group = |f: &str| grams(f) || f.starts_with("words \"");
        assert!(
            pairs
                .features
                .iter()
                .any(|(_, f)| f.starts_with("words \""))
        );
        for (slot, feature) in &pairs.features {
            assert_eq!(
                is_light_slot(*slot, bits, heavier),
                light_group(feature),
                "{feature}"
            );
        }
        assert_eq!(names(&pairs), names(&d));
        // Word pairs alone light: the 3-grams stay with the rest.
        let pairs_only = FeatureSet {
            light_subject_grams: false,
            ..heavier
        };
        for (slot, feature) in &described(pairs_only).features {
            assert_eq!(
                is_light_slot(*slot, bits, pairs_only),
                feature.starts_with("words \""),
                "{feature}"
            );
        }
    }

    #[test]
    fn feature_sets_parse_and_combine() {
        assert_eq!(FeatureSet::parse("default"), Some(FeatureSet::DEFAULT));
        assert_eq!(FeatureSet::parse("all"), Some(FeatureSet::ALL));
        assert_eq!(
            FeatureSet::parse("default+cjk"),
            Some(FeatureSet {
                cjk_bigrams: true,
                ..FeatureSet::DEFAULT
            })
        );
        assert_eq!(
            FeatureSet::parse(
                "words+bigrams+structure+sgrams+script+digits+nolist+nolistlinks+lightsgrams"
            ),
            Some(FeatureSet::DEFAULT)
        );
        assert_eq!(FeatureSet::parse("default+4grams"), None);
        assert_eq!(
            FeatureSet::parse("digits+nolist+nolistlinks+lightsgrams+lightbigrams")
                .map(FeatureSet::to_bits),
            Some(FeatureSet::OPTION_BITS)
        );
        // Every name sets its own bit, and only that one.
        for (i, name) in FeatureSet::GROUP_NAMES.iter().enumerate() {
            let set = FeatureSet::parse(name).unwrap();
            assert_eq!(set.to_bits(), 1 << i, "{name}");
            assert_eq!(FeatureSet::from_bits(set.to_bits()), set);
        }
        assert_eq!(FeatureSet::parse(""), None);
    }

    #[test]
    fn cjk_text_gives_character_pairs_when_asked() {
        let long_run = "稿件野蛮女友喜欢中国酷哥稿件野蛮女友喜欢中国酷哥";
        let a = Analysis {
            text: format!("野蛮女友 hello 中 {long_run} Grüße"),
            ..Default::default()
        };
        let described = |set: FeatureSet| {
            let mut d = Describe::new(20);
            Featurizer::new(set).extract(&a, &mut d);
            d.features.into_iter().map(|(_, s)| s).collect::<Vec<_>>()
        };
        let on = described(FeatureSet {
            cjk_bigrams: true,
            ..FeatureSet::DEFAULT
        });
        for want in ["野蛮", "蛮女", "女友", "中", "国酷"] {
            assert!(
                on.contains(&format!("characters \"{want}\"")),
                "{want}: {on:?}"
            );
        }
        // The run longer than a token is still one long-token feature too,
        // and non-CJK words give no pairs.
        assert!(
            on.iter().any(|d| d.contains("very long unbroken")),
            "{on:?}"
        );
        assert!(!on.iter().any(|d| d.contains("characters \"gr")), "{on:?}");
        let off = described(FeatureSet::DEFAULT);
        assert!(!off.iter().any(|d| d.starts_with("characters")), "{off:?}");
    }

    #[test]
    fn tokenizer_lowercases_trims_and_folds_numbers() {
        assert_eq!(
            words_of("FREE Viagra!! -- don't 'miss' $99.95 call 5551234567"),
            vec!["free", "viagra", "don't", "miss", "$99", "95", "call", "#9"]
        );
        assert_eq!(words_of(&"x".repeat(100)), vec!["<long 100>"]);
        assert_eq!(words_of("Grüße aus Köln"), vec!["grüße", "aus", "köln"]);
    }

    #[test]
    fn word_at_a_time_lowercasing_equals_the_byte_tables() {
        for fold in [false, true] {
            let table = if fold { fold_digits(LOWER) } else { LOWER };
            // Every byte value at every position of the word.
            for b in 0..=255u8 {
                for at in 0..8 {
                    let mut bytes = [b'x', b'Q', b'7', 0x80, b'-', b'Z', b'a', 0xff];
                    bytes[at] = b;
                    let (lower, digit_bits) = lower_and_digits8(u64::from_le_bytes(bytes), fold);
                    let want: Vec<u8> = bytes.iter().map(|&c| table[c as usize]).collect();
                    assert_eq!(lower.to_le_bytes().to_vec(), want, "{bytes:?} fold {fold}");
                    let digits: Vec<bool> = bytes.iter().map(u8::is_ascii_digit).collect();
                    let got: Vec<bool> =
                        (0..8).map(|i| digit_bits >> (8 * i + 7) & 1 == 1).collect();
                    assert_eq!(got, digits, "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn tokens_across_block_and_text_ends() {
        // Words that straddle the 64-byte blocks of the word mask, a text
        // that ends inside a word, runs of joiners and long words (only
        // ASCII is lowercased).
        let mut text = "a".repeat(63);
        text.push_str(" Bc-D'e 1234567 ");
        text.push_str(&"x".repeat(70));
        text.push_str(" -- 'q' ÉTÉ");
        let mut want = vec!["<long 63>", "bc-d'e", "#7", "<long 70>", "q", "ÉtÉ"];
        let mut got = words_of(&text);
        assert_eq!(got, want);
        text.truncate(60);
        want = vec!["<long 60>"];
        got = words_of(&text);
        assert_eq!(got, want);
    }

    #[test]
    fn token_bounds_equal_a_byte_by_byte_split() {
        // Random texts of words, joiners and separators across many block
        // boundaries, against runs of word bytes found one byte at a time.
        let pieces: [&[u8]; 10] = [
            b"a",
            b"Word",
            b" ",
            b"\n",
            b"-",
            b"'",
            b"1234567",
            b"\xc3\xa9",
            b".,",
            b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ];
        let mut rng = crate::test_rng::XorShift(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let mut text = Vec::new();
            while text.len() < (rng.0 % 300) as usize {
                text.extend_from_slice(pieces[(rng.next() % 10) as usize]);
            }
            rng.next();
            let mut want = Vec::new();
            let mut i = 0;
            while i < text.len() {
                if !is_word_byte(text[i]) {
                    i += 1;
                    continue;
                }
                let mut e = i;
                while e < text.len() && is_word_byte(text[e]) {
                    e += 1;
                }
                let (mut a, mut b) = (i, e);
                while a < b && matches!(text[a], b'\'' | b'-') {
                    a += 1;
                }
                while b > a && matches!(text[b - 1], b'\'' | b'-') {
                    b -= 1;
                }
                match b - a {
                    0 => {}
                    n if n > 40 => want.push((a, n, true)),
                    _ => want.push((a, b, false)),
                }
                i = e;
            }
            let mut t = Tokens::new(&text, 40);
            let mut got = Vec::new();
            while let Some(tok) = t.next_token() {
                got.push(match tok {
                    Token::Word(_, a, b, _) => (a, b, false),
                    Token::Long(n, a) => (a, n, true),
                });
            }
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn token_hashes_equal_hash_bytes_of_the_word() {
        // Words of every length up to past the limit, digit runs (the `#N`
        // words), mixed case, non-ASCII, with and without digit folding.
        let mut text = String::new();
        for n in 1..=45 {
            let w: String = (0..n)
                .map(|i| ['a', 'Q', '7', 'é', '-', '$', 'z', '0'][(i * 5 + n) % 8])
                .collect();
            text.push_str(&w);
            text.push(' ');
            text.push_str(&"9".repeat(n));
            text.push_str(", ");
        }
        for fold in [false, true] {
            let mut t = Tokens::new(text.as_bytes(), 40)
                .folding_digits(fold)
                .hashing(Ns::Bigram);
            let mut words = 0;
            while let Some(tok) = t.next_token() {
                if let Token::Word(w, _, _, h) = tok {
                    assert_eq!(h, hash_bytes(Ns::Bigram as u64, w), "{w:?}");
                    words += 1;
                }
            }
            assert!(words > 70, "{words}");
        }
    }

    #[test]
    fn tail_loads_equal_a_zero_padded_copy() {
        let bytes: Vec<u8> = (1..=7u8).map(|i| i.wrapping_mul(37) | 0x80).collect();
        for n in 1..=7 {
            let mut buf = [0u8; 8];
            buf[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(load_tail(&bytes[..n]), u64::from_le_bytes(buf), "{n} bytes");
        }
    }

    #[test]
    fn slots_keep_the_first_of_each_in_order() {
        let mut s = Slots::new(16);
        for h in [5u64, 9, 5, 7, 9, 9, 1, 7] {
            s.add(mix(h), String::new);
        }
        let want: Vec<u32> = [5u64, 9, 7, 1]
            .iter()
            .map(|&h| slot_of(mix(h), 48))
            .collect();
        assert_eq!(s.slots, want);
        s.clear();
        assert!(s.is_empty());
        s.add(mix(9), String::new);
        assert_eq!(
            s.slots,
            [slot_of(mix(9), 48)],
            "clearing forgets what was seen"
        );
    }

    #[test]
    fn shapes_fold_letters_and_digits() {
        let (h1, s1) = value_shape(b"<3F2A1B.9@host.example>", 48);
        let (h2, _) = value_shape(b"<7C1D22.4@other.example>", 48);
        let shape = String::from_utf8_lossy(&s1.0[..s1.1]).into_owned();
        assert_eq!(shape, "<9A9A9A.9@a.a>");
        assert_ne!(h1, h2, "digit/letter interleaving differs");
        let (h3, _) = value_shape(b"<8D2C4E.7@mail.example>", 48);
        assert_eq!(h1, h3);
    }

    fn sample() -> Analysis {
        Analysis {
            subject: Some("Cheap MEDS online!!".into()),
            headers: vec![
                HeaderField {
                    name: "From".into(),
                    value: "a@b.example".into(),
                },
                HeaderField {
                    name: "Message-ID".into(),
                    value: "<123@b.example>".into(),
                },
            ],
            text: "Buy cheap meds now. Visit our pharmacy today.".into(),
            urls: vec![UrlRef {
                url: "http://pills.example/".into(),
                host: "pills.example".into(),
                domain: Some("pills.example".into()),
                is_ip: false,
                obfuscated: false,
                context: UrlContext::Href,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn slots_and_descriptions_agree() {
        let f = Featurizer::new(FeatureSet::ALL);
        let a = sample();
        let mut slots = Slots::new(20);
        f.extract(&a, &mut slots);
        let mut desc = Describe::new(20);
        f.extract(&a, &mut desc);
        let described: Vec<u32> = desc.features.iter().map(|(s, _)| *s).collect();
        assert_eq!(slots.slots, described);
        let mut unique = slots.slots.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), slots.slots.len(), "slots are distinct");
        slots.clear();
        f.extract(&a, &mut slots);
        assert_eq!(slots.slots, described, "clearing resets the seen set");
        let names: Vec<&str> = desc.features.iter().map(|(_, d)| d.as_str()).collect();
        assert!(names.contains(&"word \"pharmacy\""), "{names:?}");
        assert!(names.contains(&"words \"cheap meds\""), "{names:?}");
        assert!(names.contains(&"subject word \"meds\""), "{names:?}");
        assert!(names.contains(&"links to pills.example"), "{names:?}");
        assert!(names.contains(&"characters \"phar\""), "{names:?}");
        assert!(slots.slots.iter().all(|s| *s < 1 << 20));
    }

    #[test]
    fn feature_groups_can_be_switched_off() {
        let a = sample();
        let only_words = FeatureSet::parse("words").unwrap();
        let mut desc = Describe::new(20);
        Featurizer::new(only_words).extract(&a, &mut desc);
        assert!(
            desc.features
                .iter()
                .all(|(_, d)| !d.starts_with("characters")
                    && !d.starts_with("words ")
                    && !d.starts_with("links"))
        );
        assert_eq!(
            FeatureSet::from_bits(FeatureSet::ALL.to_bits()),
            FeatureSet::ALL
        );
        assert_eq!(FeatureSet::parse("all"), Some(FeatureSet::ALL));
        assert_eq!(FeatureSet::parse("bogus"), None);
    }

    #[test]
    fn new_groups_and_digit_folding() {
        let mut a = sample();
        a.subject = Some("V1AGRA now".into());
        a.text = "Offer ends 2002, price $99".into();
        a.headers.push(HeaderField {
            name: "Delivered-To".into(),
            value: "collector@example.org".into(),
        });
        a.headers.push(HeaderField {
            name: "X-Spam-Status".into(),
            value: "No, hits=0.1".into(),
        });
        let names = |set: FeatureSet| {
            let mut d = Describe::new(20);
            Featurizer::new(set).extract(&a, &mut d);
            d.features
                .into_iter()
                .map(|(_, d)| d)
                .collect::<Vec<String>>()
        };
        let all = names(FeatureSet::ALL);
        assert!(
            all.contains(&"subject has \"v0a\"".to_string())
                || all.contains(&"subject has \"v1a\"".to_string()),
            "{all:?}"
        );
        assert!(all.contains(&"word \"0000\"".to_string()), "{all:?}");
        assert!(all.contains(&"text is all ASCII".to_string()), "{all:?}");
        assert!(all.iter().any(|d| d.contains("Delivered-To")), "{all:?}");
        let mut no_rcpt = FeatureSet::ALL;
        no_rcpt.recipient_headers = false;
        let n = names(no_rcpt);
        assert!(
            !n.iter()
                .any(|d| d.contains("Delivered-To") || d.contains("X-Spam")),
            "{n:?}"
        );
        let mut raw_digits = FeatureSet::ALL;
        raw_digits.fold_digits = false;
        assert!(names(raw_digits).contains(&"word \"2002\"".to_string()));
        for set in [FeatureSet::ALL, FeatureSet::DEFAULT, no_rcpt] {
            assert_eq!(FeatureSet::from_bits(set.to_bits()), set);
        }
        assert_eq!(FeatureSet::parse("default"), Some(FeatureSet::DEFAULT));
        assert_eq!(non_ascii_class(b""), 0);
        assert_eq!(non_ascii_class("привет".as_bytes()), 4);
    }

    #[test]
    fn hostile_text_is_bounded() {
        let f = Featurizer::new(FeatureSet::ALL);
        let limits = f.limits;
        // 10 MB of one word, 10 MB of short words, 10 MB of binary, huge subject.
        let one_word = "a".repeat(10 << 20);
        let short_words = "ab ".repeat((10 << 20) / 3);
        let binary: String = (0..10u32 << 20)
            .map(|i| {
                char::from_u32(0x80 + (i.wrapping_mul(2_654_435_761) >> 24) % 0x700).unwrap_or('x')
            })
            .take(3 << 20)
            .collect();
        for text in [one_word, short_words, binary] {
            let a = Analysis {
                subject: Some(text[..text.len().min(1 << 20)].to_string()),
                text,
                headers: (0..5000)
                    .map(|i| HeaderField {
                        name: format!("X-H{i}"),
                        value: "v".repeat(1000),
                    })
                    .collect(),
                ..Default::default()
            };
            let mut slots = Slots::new(20);
            f.extract(&a, &mut slots);
            assert!(
                slots.slots.len() <= limits.max_features,
                "{}",
                slots.slots.len()
            );
            assert!(!slots.slots.is_empty());
        }
    }
}
