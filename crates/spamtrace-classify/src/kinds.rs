//! Which scam a spam is: lexicons plus URL and attachment evidence, weighed
//! with the message's words by a learnt model.
//!
//! Each kind has weighted phrases (matched whole-word, ASCII case-insensitive,
//! each counted once, in the subject, the sender's display name and the first
//! 32 KiB of the text) and structural evidence: an executable attachment or a
//! link to a program says malware, an archive attachment nearly so; an
//! attached HTML page, a form, a link to a bare IP, a disguised link, and a
//! bank or payment brand named while the links go to other domains add to
//! phishing. On its own ([`KindEvidence::kind`]) the kind with the highest
//! score wins when it reaches [`MIN_KIND_SCORE`]; otherwise the spam is plain
//! marketing. What a message is called ([`detect_kind`], and
//! `Model::classify`) is the choice of the learnt kind model
//! ([`crate::kind_model`]), which reads these ten scores together with the
//! message's features; an executable attachment still makes it malware, and
//! a kind whose phrases score at least [`LEXICON_DECIDES`] is that kind.
//!
//! Since 2026-11-29 (the learnt model, trained on the dev half below): test
//! accuracy 168/216 (77.8%) against the lexicon alone's 161/216; after a
//! third draw (99 more modern-spam messages, mostly advance-fee and lottery)
//! and the model retrained on the larger dev half, 223/265 (84.2%) against
//! 198/265; with phrase scores of at least [`LEXICON_DECIDES`] settling the
//! kind, 225/265 (84.9%). The test prints both. What follows is the history
//! of the lexicon.
//!
//! How the weights were set and measured: they were first written from
//! knowledge of the genres. Then `kinds-eval.tsv` (in this crate) was built
//! from spam drawn deterministically from every corpus under
//! `../shared/corpora`, each message labelled by an engineer reading it,
//! without running this detector (the file's header says how). It is split by
//! SHA-256 into `dev` (first hex digit 0-7) and `test` (8-f). The lexicon was
//! adjusted in two quick passes, each looking only at the evidence behind the
//! dev errors of the first draw (314 messages; the evaluation also lists test
//! errors, which were not used): weak generic words such as "bank", "account", "transfer",
//! "market", "rate", "congratulations" moved to weight 1; a few genre phrases
//! added (pheromones, Norton SystemWorks, invoice, "paying bank", "i am mrs",
//! ...); the common words "chase" and "apple" replaced by "chase bank" and
//! "apple id". On that first draw, accuracy of the kind went from 74.1% to
//! 82.7% on dev and from 70.4% to 72.4% on test. A second draw (144 more
//! messages from spamassassin/spam_2 and the Nazario phishing corpus) was
//! labelled after that and nothing was tuned since. On all 458 messages
//! (measured 2026-11-28): test accuracy 74.5% (161/216), dev 81.0% (196/242).
//! Per-kind precision and recall are printed by
//! `cargo test -p spamtrace-classify --test kinds_eval -- --nocapture`;
//! malware, stock and counterfeit have five or fewer messages each in the
//! set (lottery eleven since the third draw), so their figures say little.

use crate::kind_model::KindModel;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use serde::{Deserialize, Serialize};
use spamtrace_mail::Analysis;
use std::sync::OnceLock;

/// The kind of scam a spam is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScamKind {
    /// Drugs, pills, "online pharmacy", enlargement, diet pills.
    Pharmacy,
    /// "You have won": lotteries, prizes, sweepstakes.
    Lottery,
    /// Advance-fee fraud (419): inheritances, funds to move, next of kin.
    AdvanceFee,
    /// Credential theft: fake bank, payment or mailbox notices.
    Phishing,
    /// Executable attachments or links to payloads.
    Malware,
    /// Pump-and-dump stock promotion.
    Stock,
    /// Counterfeit goods: replica watches and bags, OEM software, diplomas.
    Counterfeit,
    /// Adult content and dating.
    Adult,
    /// Loans, mortgages, credit, debt, insurance.
    Loans,
    /// Any other unsolicited advertising.
    Marketing,
}

impl ScamKind {
    /// Every kind, in a stable order.
    pub const ALL: [ScamKind; 10] = [
        ScamKind::Pharmacy,
        ScamKind::Lottery,
        ScamKind::AdvanceFee,
        ScamKind::Phishing,
        ScamKind::Malware,
        ScamKind::Stock,
        ScamKind::Counterfeit,
        ScamKind::Adult,
        ScamKind::Loans,
        ScamKind::Marketing,
    ];

    /// The snake_case name used in the store, in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ScamKind::Pharmacy => "pharmacy",
            ScamKind::Lottery => "lottery",
            ScamKind::AdvanceFee => "advance_fee",
            ScamKind::Phishing => "phishing",
            ScamKind::Malware => "malware",
            ScamKind::Stock => "stock",
            ScamKind::Counterfeit => "counterfeit",
            ScamKind::Adult => "adult",
            ScamKind::Loans => "loans",
            ScamKind::Marketing => "marketing",
        }
    }

    /// Parse a name from [`ScamKind::as_str`] (also accepts `419`, `prize`,
    /// `dating`, `finance`, `other`).
    pub fn parse(s: &str) -> Option<ScamKind> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "pharmacy" => ScamKind::Pharmacy,
            "lottery" | "prize" => ScamKind::Lottery,
            "advance_fee" | "advance-fee" | "419" => ScamKind::AdvanceFee,
            "phishing" => ScamKind::Phishing,
            "malware" => ScamKind::Malware,
            "stock" => ScamKind::Stock,
            "counterfeit" => ScamKind::Counterfeit,
            "adult" | "dating" => ScamKind::Adult,
            "loans" | "finance" => ScamKind::Loans,
            "marketing" | "other" => ScamKind::Marketing,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ScamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind needs at least this much evidence to beat "marketing".
pub const MIN_KIND_SCORE: u32 = 4;

/// From this score on, the lexicon's kind is the message's kind whatever
/// the learnt model says ([`KindEvidence::decisive`]). Chosen by 5-fold
/// cross-validation on the dev half of `kinds-eval.tsv` among 8, 12 and 16
/// (README, "Eleventh round"), then taken after one look at the test half.
pub const LEXICON_DECIDES: u32 = 12;

/// Bytes of text scanned for phrases: scams say what they are early.
const MAX_SCAN_BYTES: usize = 32 << 10;

/// Each phrase counts once per message, however often it appears.
const LEXICON: &[(ScamKind, u32, &[&str])] = &[
    (
        ScamKind::Pharmacy,
        4,
        &[
            "viagra",
            "cialis",
            "levitra",
            "vicodin",
            "xanax",
            "valium",
            "phentermine",
            "tramadol",
            "ambien",
            "propecia",
            "online pharmacy",
            "canadian pharmacy",
            "no prescription",
            "human growth hormone",
            "erectile",
            "penis enlargement",
            "soma",
            "meridia",
            "hydrocodone",
            "oxycontin",
            "adipex",
            "ultram",
            "pharmacy online",
            "vigrx",
            "penis",
            "pheromone",
            "pheromones",
            "aphrodisiac",
        ],
    ),
    (
        ScamKind::Pharmacy,
        2,
        &[
            "pharmacy",
            "pharmaceutical",
            "prescription",
            "prescriptions",
            "meds",
            "medication",
            "medications",
            "pills",
            "pill",
            "drugstore",
            "impotence",
            "hgh",
            "weight loss",
            "lose weight",
            "diet",
            "libido",
            "enlargement",
            "rx",
            "generic",
            "fda",
            "herbal",
            "antibiotics",
            "physician",
            "doctor",
            "pounds",
            "fat",
            "anti-aging",
            "sexual",
            "sex drive",
            "cellulite",
            "thighs",
        ],
    ),
    (
        ScamKind::Lottery,
        4,
        &[
            "lottery",
            "lotto",
            "you have won",
            "you've won",
            "ticket number",
            "winning number",
            "winning numbers",
            "lucky number",
            "batch number",
            "prize money",
            "cash prize",
            "claims agent",
            "international lottery",
            "sweepstakes",
            "powerball",
            "claim your prize",
            "lucky winner",
            "won the sum",
            "been selected as a winner",
        ],
    ),
    (
        ScamKind::Lottery,
        2,
        &[
            "winner", "winners", "winning", "prize", "jackpot", "ballot", "raffle", "awarded",
        ],
    ),
    // Words every promotion uses: alone they do not make a lottery.
    (
        ScamKind::Lottery,
        1,
        &["claim", "draw", "congratulations", "award", "selected"],
    ),
    (
        ScamKind::AdvanceFee,
        4,
        &[
            "next of kin",
            "barrister",
            "foreign partner",
            "trunk box",
            "dormant account",
            "business proposal",
            "unclaimed",
            "atm card",
            "consignment",
            "late husband",
            "my late father",
            "million united states dollars",
            "diplomatic",
            "inheritance",
            "compensation fund",
            "beneficiary",
            "beneficiaries",
            "paying bank",
            "scam victims",
            "reliable partner",
        ],
    ),
    (
        ScamKind::AdvanceFee,
        2,
        &[
            "us$",
            "deceased",
            "funds",
            "fund",
            "strictly confidential",
            "nigeria",
            "lagos",
            "ghana",
            "benin",
            "togo",
            "compensation",
            "widow",
            "orphanage",
            "charity",
            "donation",
            "central bank",
            "security company",
            "million dollars",
            "western union",
            "moneygram",
            "bank draft",
            "crude oil",
            "mutual benefit",
            "imf",
            "world bank",
            "god bless",
            "dear friend",
            "attorney",
            "my client",
            "cancer",
            "humanitarian",
            "assistance",
            "trustworthy",
            "business relationship",
            "good faith",
            "get back to me",
            "this email is still",
            "is this email still",
            "whatsapp",
            "joint venture",
            "solicitor",
            "chamber of commerce",
            "i am mr",
            "i am mrs",
            "my name is mr",
            "my name is mrs",
            "profitable",
            "abandoned",
            "proposal",
        ],
    ),
    // Words 419 letters use but so do ordinary offers: they only add up.
    (
        ScamKind::AdvanceFee,
        1,
        &[
            "kindly",
            "transfer",
            "investment",
            "partnership",
            "usd",
            "urgent",
            "confidential",
        ],
    ),
    (
        ScamKind::Phishing,
        4,
        &[
            "verify your account",
            "confirm your account",
            "verify your identity",
            "confirm your identity",
            "account has been suspended",
            "account will be suspended",
            "account has been limited",
            "unusual activity",
            "suspicious activity",
            "billing information",
            "update your account",
            "update your information",
            "online banking",
            "internet banking",
            "security measure",
            "security measures",
            "unauthorized access",
            "access to your account",
            "account verification",
            "password will expire",
            "mailbox quota",
            "validate your",
            "re-activate",
            "reactivate your",
            "suspended",
            "verify your",
            "confirm your",
            "invoice",
            "payment request",
        ],
    ),
    (
        ScamKind::Phishing,
        2,
        &[
            "paypal",
            "ebay",
            "password",
            "login",
            "log in",
            "sign in",
            "username",
            "unauthorized",
            "banking",
            "verify",
            "verification",
            "restore",
            "credentials",
            "webmail",
            "mailbox",
            "quota",
            "receipt",
            "e-receipts",
            "requested document",
            "secured message",
            "citibank",
            "barclays",
            "wells fargo",
            "chase bank",
            "jpmorgan chase",
            "jpmchase",
            "bank of america",
            "suntrust",
            "washington mutual",
            "lloyds",
            "hsbc",
            "fifth third",
            "us bank",
            "amazon",
            "apple id",
            "microsoft",
            "netflix",
            "docusign",
            "expire",
            "expired",
            "locked",
        ],
    ),
    // Every 419 letter and many offers name a bank or an account too.
    (
        ScamKind::Phishing,
        1,
        &["account", "bank", "security", "payment", "pending"],
    ),
    (
        ScamKind::Stock,
        4,
        &[
            "pink sheets",
            "price target",
            "strong buy",
            "stock alert",
            "penny stock",
            "hot stock",
            "small cap",
            "investor alert",
            "otc bb",
            "otcbb",
            "forward-looking statements",
            "forward looking statements",
            "exchange act",
            "stock profile",
        ],
    ),
    (
        ScamKind::Stock,
        2,
        &[
            "stock",
            "stocks",
            "shares",
            "otc",
            "symbol",
            "investor",
            "investors",
            "ticker",
            "breakout",
            "undervalued",
            "shareholders",
            "nasdaq",
        ],
    ),
    (ScamKind::Stock, 1, &["trading", "market"]),
    (
        ScamKind::Counterfeit,
        4,
        &[
            "replica",
            "replicas",
            "rolex",
            "louis vuitton",
            "breitling",
            "knockoff",
            "knock-off",
            "oem software",
            "cheap software",
            "diploma",
            "diplomas",
            "fake id",
            "systemworks",
        ],
    ),
    (
        ScamKind::Counterfeit,
        2,
        &[
            "watches",
            "watch",
            "handbag",
            "handbags",
            "gucci",
            "prada",
            "cartier",
            "omega",
            "luxury",
            "designer",
            "oem",
            "adobe",
            "photoshop",
            "degree",
            "degrees",
            "university",
            "swiss",
            "norton",
            "symantec",
            "software suite",
        ],
    ),
    (
        ScamKind::Adult,
        4,
        &[
            "porn",
            "xxx",
            "horny",
            "nude",
            "naked",
            "milf",
            "pussy",
            "hardcore",
            "barely legal",
            "erotic",
            "fetish",
            "hot girls",
            "sex",
            "lesbian",
            "hookup",
            "webcam girls",
            "orgasm",
            "sluts",
            "cock",
            "fuck",
            "fucking",
            "cum",
            "adult site",
            "adult sites",
            "adult dvds",
        ],
    ),
    (
        ScamKind::Adult,
        2,
        &[
            "sexy", "adult", "teen", "teens", "dating", "singles", "webcam", "cam", "lonely",
            "girls", "babes", "amateur", "date", "meet", "romance", "love", "naughty", "teenie",
        ],
    ),
    (
        ScamKind::Loans,
        4,
        &[
            "mortgage",
            "refinance",
            "refinancing",
            "bad credit",
            "interest rate",
            "interest rates",
            "lender",
            "lenders",
            "homeowner",
            "homeowners",
            "debt consolidation",
            "cash advance",
            "payday",
            "fixed rate",
            "life insurance",
            "health insurance",
            "loan",
            "loans",
            "credit line",
            "platinum visa",
        ],
    ),
    (
        ScamKind::Loans,
        2,
        &[
            "credit",
            "debt",
            "apr",
            "pre-approved",
            "equity",
            "insurance",
            "financing",
            "refi",
            "borrow",
        ],
    ),
    // Any offer has rates and approvals; they only tip a finance message.
    (
        ScamKind::Loans,
        1,
        &["approved", "rates", "rate", "lowest", "qualify"],
    ),
];

/// Banks and payment services whose names in a message, beside links to
/// other domains, say phishing.
const BRANDS: &[(&str, &str)] = &[
    ("paypal", "paypal.com"),
    ("ebay", "ebay.com"),
    ("citibank", "citibank.com"),
    ("barclays", "barclays.co.uk"),
    ("wells fargo", "wellsfargo.com"),
    ("bank of america", "bankofamerica.com"),
    ("chase bank", "chase.com"),
    ("jpmorgan chase", "chase.com"),
    ("suntrust", "suntrust.com"),
    ("washington mutual", "wamu.com"),
    ("lloyds", "lloydstsb.com"),
    ("hsbc", "hsbc.com"),
    ("amazon", "amazon.com"),
    ("apple id", "apple.com"),
    ("microsoft", "microsoft.com"),
];

/// File extensions that run code when opened.
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe", "scr", "pif", "com", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "hta", "cpl",
    "msi", "jar", "lnk", "iso", "img", "docm", "xlsm", "ps1",
];

/// Archive extensions: a small archive attached to spam is usually a payload.
const ARCHIVE_EXTENSIONS: &[&str] = &["zip", "rar", "7z", "gz", "ace", "arj", "cab"];

struct Lexicon {
    matcher: AhoCorasick,
    /// Per pattern: its kind and weight.
    meta: Vec<(ScamKind, u32)>,
    brand_matcher: AhoCorasick,
}

fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| {
        let mut patterns = Vec::new();
        let mut meta = Vec::new();
        for (kind, weight, phrases) in LEXICON {
            for p in *phrases {
                patterns.push(*p);
                meta.push((*kind, *weight));
            }
        }
        // A full DFA: one table lookup per byte, several times faster than
        // the default NFA on 32 KiB of text, for a few hundred KB of memory
        // built once. Same matches (the match kind decides those).
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("the built-in lexicon is a valid pattern set");
        // Matched against lowercased copies of the texts instead of with
        // ASCII case insensitivity (the same matches): an exact-byte
        // automaton of a few patterns skips ahead with a SIMD prefilter
        // (Teddy), where a case-insensitive one takes a table step per
        // byte, and most texts name no brand at all.
        debug_assert!(BRANDS.iter().all(|(b, _)| b.to_ascii_lowercase() == *b));
        let brand_matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(BRANDS.iter().map(|(b, _)| *b))
            .expect("the built-in brand list is a valid pattern set");
        Lexicon {
            matcher,
            meta,
            brand_matcher,
        }
    })
}

/// The evidence for each kind in one message, for `--explain` and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindEvidence {
    /// Score per kind, in [`ScamKind::ALL`] order.
    pub scores: [u32; 10],
    /// What was found, in words (phrase matches and structural signs).
    pub reasons: Vec<(ScamKind, String)>,
    /// Evidence that settles the kind whatever the words say: an executable
    /// attachment is malware (a kind too rare in the labelled mail for the
    /// learnt model to know), and a kind's phrases scoring at least
    /// [`LEXICON_DECIDES`] name it. A link to a program is not decisive:
    /// phishing pages link scripts too (six dev-half phishing and adult
    /// messages).
    pub decisive: Option<ScamKind>,
}

impl KindEvidence {
    fn add(&mut self, kind: ScamKind, weight: u32, reason: impl FnOnce() -> String, keep: bool) {
        self.scores[kind as usize] += weight;
        if keep {
            self.reasons.push((kind, reason()));
        }
    }

    /// The lexicon's kind: the highest score if it reaches
    /// [`MIN_KIND_SCORE`], else marketing. Ties go to the kind listed first
    /// in [`ScamKind::ALL`]. (What a message is called is the learnt
    /// model's choice, [`detect_kind`], which reads these scores.)
    pub fn kind(&self) -> ScamKind {
        let mut best = ScamKind::Marketing;
        let mut best_score = MIN_KIND_SCORE - 1;
        for k in ScamKind::ALL {
            if k != ScamKind::Marketing && self.scores[k as usize] > best_score {
                best = k;
                best_score = self.scores[k as usize];
            }
        }
        best
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Scan `text` for phrases, each phrase counted once (`seen` is per message).
fn scan(text: &[u8], lex: &Lexicon, seen: &mut [bool], ev: &mut KindEvidence, keep: bool) {
    for m in lex.matcher.find_iter(text) {
        let (s, e) = (m.start(), m.end());
        let before_ok = s == 0 || !is_word_byte(text[s - 1]);
        let after_ok = e >= text.len() || !is_word_byte(text[e]);
        let id = m.pattern().as_usize();
        if !before_ok || !after_ok || seen[id] {
            continue;
        }
        seen[id] = true;
        let (kind, weight) = lex.meta[id];
        ev.add(
            kind,
            weight,
            || {
                format!(
                    "says \"{}\"",
                    String::from_utf8_lossy(&text[s..e]).to_lowercase()
                )
            },
            keep,
        );
    }
}

/// Gather the evidence for every kind. `keep_reasons` records why (for
/// `--explain`); without it nothing is allocated beyond the score table.
pub fn kind_evidence(a: &Analysis, keep_reasons: bool) -> KindEvidence {
    let lex = lexicon();
    let mut ev = KindEvidence::default();
    let mut seen = vec![false; lex.meta.len()];
    if let Some(subject) = &a.subject {
        let b = subject.as_bytes();
        scan(
            &b[..b.len().min(1024)],
            lex,
            &mut seen,
            &mut ev,
            keep_reasons,
        );
    }
    if let Some(name) = a.from.as_ref().and_then(|f| f.name.as_deref()) {
        let b = name.as_bytes();
        scan(
            &b[..b.len().min(256)],
            lex,
            &mut seen,
            &mut ev,
            keep_reasons,
        );
    }
    let text = a.text.as_bytes();
    let text = &text[..text.len().min(MAX_SCAN_BYTES)];
    scan(text, lex, &mut seen, &mut ev, keep_reasons);

    // Attachments: executables say malware outright; archives nearly so.
    for att in a.attachments.iter().take(32) {
        let ext = att
            .filename
            .as_deref()
            .and_then(|f| f.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let sniffed = att.sniffed_type.as_deref().unwrap_or("");
        let exe = EXECUTABLE_EXTENSIONS.contains(&ext.as_str())
            || sniffed.contains("dosexec")
            || sniffed.contains("executable")
            || sniffed.contains("msdownload");
        if exe {
            ev.decisive = Some(ScamKind::Malware);
            ev.add(
                ScamKind::Malware,
                8,
                || format!("executable attachment (.{ext})"),
                keep_reasons,
            );
        } else if ARCHIVE_EXTENSIONS.contains(&ext.as_str()) || sniffed.contains("zip") {
            ev.add(
                ScamKind::Malware,
                4,
                || format!("archive attachment (.{ext})"),
                keep_reasons,
            );
        } else if ext == "htm" || ext == "html" || ext == "shtml" {
            ev.add(
                ScamKind::Phishing,
                4,
                || "HTML page attached".to_string(),
                keep_reasons,
            );
        }
    }
    // Links to payloads.
    for u in a.urls.iter().take(64) {
        let path_ext = u
            .url
            .split(['?', '#'])
            .next()
            .and_then(|p| p.rsplit_once('/'))
            .and_then(|(_, last)| last.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase());
        if let Some(e) = path_ext
            && EXECUTABLE_EXTENSIONS.contains(&e.as_str())
            && e != "com"
        {
            ev.add(
                ScamKind::Malware,
                6,
                || format!("links to a program (.{e})"),
                keep_reasons,
            );
            break;
        }
    }
    // Phishing structure: forms, bare-IP or disguised links, and a brand
    // named in the text while the links go elsewhere.
    if a.html.forms > 0 {
        ev.add(
            ScamKind::Phishing,
            2,
            || "has a form".to_string(),
            keep_reasons,
        );
    }
    if a.urls.iter().any(|u| u.is_ip) {
        ev.add(
            ScamKind::Phishing,
            1,
            || "links to a bare IP address".to_string(),
            keep_reasons,
        );
    }
    if a.urls.iter().any(|u| u.obfuscated) {
        ev.add(
            ScamKind::Phishing,
            1,
            || "has a disguised link".to_string(),
            keep_reasons,
        );
    }
    // A brand counts only against links elsewhere: with no links at all
    // there is nothing to find, so the text is not read again.
    if !a.urls.is_empty() {
        let brand_text = [
            a.subject.as_deref().unwrap_or(""),
            a.from
                .as_ref()
                .and_then(|f| f.name.as_deref())
                .unwrap_or(""),
            &a.text[..a.text.floor_char_boundary(8192)],
        ];
        let mut lower = Vec::new();
        'brands: for t in brand_text {
            lower.clear();
            lower.extend_from_slice(t.as_bytes());
            lower.make_ascii_lowercase();
            for m in lex.brand_matcher.find_iter(&lower) {
                let (brand, domain) = BRANDS[m.pattern().as_usize()];
                let elsewhere = a
                    .urls
                    .iter()
                    .any(|u| u.domain.as_deref().is_none_or(|d| d != domain));
                if elsewhere {
                    ev.add(
                        ScamKind::Phishing,
                        3,
                        || format!("names {brand} but links elsewhere"),
                        keep_reasons,
                    );
                    break 'brands;
                }
            }
        }
    }
    // Strong phrase evidence settles the kind too: the learnt model has few
    // examples of the rarer kinds (4 lottery in its dev half against 75
    // advance-fee, whose phrases lottery shares) and outvoted them.
    if ev.decisive.is_none() {
        let kind = ev.kind();
        if kind != ScamKind::Marketing && ev.scores[kind as usize] >= LEXICON_DECIDES {
            ev.decisive = Some(kind);
        }
    }
    ev
}

/// The kind of a message (meaningful for spam; ham gets a kind only if
/// asked): the lexicon's evidence weighed with the message's words by the
/// learnt [`KindModel`] (`Model::classify` does the same without
/// featurizing the message twice).
pub fn detect_kind(a: &Analysis) -> ScamKind {
    KindModel::builtin().kind_of(a, &kind_evidence(a, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spamtrace_mail::{Attachment, UrlContext, UrlRef};

    #[test]
    fn brands_in_a_lowercased_copy_match_as_case_insensitive_brands() {
        // The automaton the brand search used before: ASCII case
        // insensitive over the text itself.
        let reference = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(BRANDS.iter().map(|(b, _)| *b))
            .unwrap();
        let pieces = [
            "PayPal",
            "EBAY",
            "ebay",
            "Wells Fargo",
            "wells",
            " fargo",
            "Bank of America",
            "bank of",
            "Chase Bank",
            "JPMorgan Chase",
            "chase",
            "Apple ID",
            "apple",
            "Amazon",
            "amaz",
            "é",
            "x",
            " ",
            "\n",
            "hsbc",
            "HSBC",
            "Lloyds",
            "SunTrust",
            "Washington Mutual",
            "Microsoft",
            "Citibank",
            "Barclays",
        ];
        let mut rng = crate::test_rng::XorShift(0x9e37_79b9_7f4a_7c15);
        for t in rng.texts(&pieces, 5000, 14) {
            let lower = t.to_ascii_lowercase();
            let got: Vec<_> = lexicon().brand_matcher.find_iter(&lower).collect();
            let want: Vec<_> = reference.find_iter(&t).collect();
            assert_eq!(got, want, "{t:?}");
        }
    }

    fn msg(subject: &str, text: &str) -> Analysis {
        Analysis {
            subject: Some(subject.into()),
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn names_round_trip() {
        for k in ScamKind::ALL {
            assert_eq!(ScamKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ScamKind::parse("419"), Some(ScamKind::AdvanceFee));
        assert_eq!(ScamKind::parse("nonsense"), None);
    }

    #[test]
    fn lexicons_pick_the_obvious_kinds() {
        let cases = [
            (
                "Cheap VIAGRA",
                "Buy generic viagra and cialis, no prescription needed",
                ScamKind::Pharmacy,
            ),
            (
                "WINNING NOTIFICATION",
                "You have won the international lottery. Your ticket number is 55.",
                ScamKind::Lottery,
            ),
            (
                "URGENT",
                "I am a barrister. My late client died without next of kin; US$12 million",
                ScamKind::AdvanceFee,
            ),
            (
                "Account notice",
                "We noticed unusual activity. Please verify your account or it will be suspended.",
                ScamKind::Phishing,
            ),
            (
                "Hot pick",
                "Strong buy! Symbol XYZ on the pink sheets, price target $2",
                ScamKind::Stock,
            ),
            (
                "Swiss watches",
                "Replica Rolex watches at 90% off",
                ScamKind::Counterfeit,
            ),
            (
                "Lonely?",
                "Horny singles in your area want to meet you, xxx",
                ScamKind::Adult,
            ),
            (
                "Lower your payments",
                "Refinance your mortgage at the lowest interest rate, bad credit ok",
                ScamKind::Loans,
            ),
            (
                "Great deals",
                "Our new catalogue of garden furniture is out.",
                ScamKind::Marketing,
            ),
        ];
        for (s, t, want) in cases {
            assert_eq!(
                detect_kind(&msg(s, t)),
                want,
                "{s}: {:?}",
                kind_evidence(&msg(s, t), true)
            );
        }
    }

    #[test]
    fn strong_phrase_evidence_settles_the_kind() {
        // A lottery notice that also talks of beneficiaries and funds (the
        // advance-fee phrases lottery shares): its lottery phrases score
        // past the bar, so the kind is lottery whatever the model says.
        let a = msg(
            "WINNING NOTIFICATION: claim your prize",
            "Congratulations! Your email address won the international lottery draw. \
             Your winning ticket number is 55 and your prize of $1,000,000 awaits the \
             beneficiary. Contact our claims agent to claim your winnings; the funds \
             will be released after verification.",
        );
        let ev = kind_evidence(&a, false);
        assert!(
            ev.scores[ScamKind::Lottery as usize] >= LEXICON_DECIDES,
            "{ev:?}"
        );
        assert_eq!(ev.decisive, Some(ScamKind::Lottery));
        assert_eq!(detect_kind(&a), ScamKind::Lottery);
        // A phrase or two is not enough: the learnt model decides.
        let weak = kind_evidence(&msg("Hello", "You have won."), false);
        assert!(weak.scores[ScamKind::Lottery as usize] < LEXICON_DECIDES);
        assert_eq!(weak.decisive, None);
    }

    #[test]
    fn no_phrase_is_listed_twice() {
        // With leftmost-longest matching a second copy of a phrase never
        // matches, so its kind and weight would be silently ignored.
        let mut seen = std::collections::HashSet::new();
        for (_, _, phrases) in LEXICON {
            for p in *phrases {
                assert!(seen.insert(p.to_ascii_lowercase()), "{p} listed twice");
            }
        }
    }

    #[test]
    fn whole_words_only() {
        // "sex" inside "Middlesex", "won" inside "wonderful", "cam" inside "camera".
        let a = msg("Hello", "A wonderful camera from Middlesex, Essex.");
        assert_eq!(kind_evidence(&a, false).scores, [0; 10]);
    }

    #[test]
    fn attachments_and_links_say_malware_and_phishing() {
        let mut a = msg("Your invoice", "See attached.");
        a.attachments.push(Attachment {
            filename: Some("invoice.pdf.scr".into()),
            declared_type: "application/octet-stream".into(),
            sniffed_type: None,
            size: 20_000,
            sha256: String::new(),
        });
        assert_eq!(detect_kind(&a), ScamKind::Malware);

        let mut p = msg("PayPal", "Dear PayPal member, please log in to confirm.");
        p.urls.push(UrlRef {
            url: "http://192.0.2.7/paypal/".into(),
            host: "192.0.2.7".into(),
            domain: None,
            is_ip: true,
            obfuscated: false,
            context: UrlContext::Href,
        });
        let ev = kind_evidence(&p, true);
        assert_eq!(ev.kind(), ScamKind::Phishing, "{ev:?}");
        assert!(
            ev.reasons
                .iter()
                .any(|(_, r)| r.contains("links elsewhere"))
        );
    }
}
