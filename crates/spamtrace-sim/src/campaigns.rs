//! Campaign templates: the text each simulated operation sends, with slots
//! that every message fills differently (names, numbers, links, hashbusters,
//! spun phrases), the way template-driven spam engines do.
//!
//! Template syntax (rendered by [`render`]):
//! `{first}` `{last}` first/last name, `{n:A-B}` an integer, `{price}` a price,
//! `{money}` a large sum, `{url}` a link into the campaign's storefront,
//! `{hash}` a random hashbuster word, `{pick:a|b|c}` one of the choices,
//! `{ticker}` the campaign's stock symbol, `{email}` a reply address,
//! `{ref}` a reference number, `{city}` a city, `{brand}` the storefront's name.

use crate::rng::Rng;

/// What a campaign is: fixed text, who sends it, how its links look.
pub(crate) struct CampaignDef {
    /// Stable key, unique per simulator version: part of the ground-truth ID.
    pub key: &'static str,
    /// The scam kind (pharmacy, lottery, advance-fee, phishing, stock, dating...).
    pub kind: &'static str,
    /// The sending program (see `programs`).
    pub program: &'static str,
    /// Relative volume among the program's campaigns.
    pub weight: f64,
    /// Subject templates: each message uses one.
    pub subjects: &'static [&'static str],
    /// Body template (plain text; programs that send HTML wrap it).
    pub body: &'static str,
    /// Top-level domains the storefront's rotating domains use.
    pub tlds: &'static [&'static str],
    /// The storefront's names (one is picked per seed).
    pub brands: &'static [&'static str],
    /// Path pattern of the links: `#` is replaced by digits, `*` by letters.
    pub path: &'static str,
    /// Whether hosts get a random per-message subdomain (hashbusting DNS).
    pub random_subdomain: bool,
    /// A second program that also sends this campaign (spam-as-a-service:
    /// Cutwail was rented out), with its relative weight there.
    pub also: Option<(&'static str, f64)>,
    /// Whether messages carry a paragraph of random dictionary words
    /// ("Bayes poison") that differs in every message.
    pub poison: bool,
}

/// Every campaign the simulator can run. Each seed runs all of them, with its
/// own storefront domains, activity windows and volumes.
pub(crate) const CAMPAIGNS: &[CampaignDef] = &[
    CampaignDef {
        key: "canadian-pharmacy",
        kind: "pharmacy",
        program: "rustock",
        weight: 5.0,
        subjects: &[
            "{pick:Pfizer|VIAGRA|Cialis} {pick:-|from} {n:70-85}% off for {first}",
            "Re: your {pick:order|prescription} #{n:10000-99999}",
            "{first}, {pick:cheap|discount} meds {pick:online|today}",
        ],
        body: "{pick:Hello|Hi|Dear} {first},\n\nCanadian Pharmacy {pick:special|exclusive} offer for you today.\nViagra from {price} per pill, Cialis from {price} per pill, Levitra from {price}.\nWorld wide shipping, no prescription required, 100% satisfaction guaranteed.\nOver {n:200-900} popular products in stock and {pick:discreet|secure} packaging.\n\nVisit our store: {url}\n\nOffer valid until the end of the week. Licensed pharmacists answer your questions 24/7.\n\n{hash} {hash} {hash}",
        tlds: &["com", "ru", "net"],
        brands: &["canadianpharmacy", "cndrx", "pharmacyca"],
        path: "/?aff=#####",
        random_subdomain: true,
        also: Some(("cutwail", 1.5)),
        poison: true,
    },
    CampaignDef {
        key: "mens-health",
        kind: "pharmacy",
        program: "rustock",
        weight: 3.0,
        subjects: &[
            "Men's Health: {pick:new|best} {pick:formula|solution} {n:2-9}x",
            "{first} {last}, she will be {pick:amazed|surprised}",
            "Be a {pick:real|better} man, {first}",
        ],
        body: "Men's Health Store\n\nAre you ready to satisfy your woman every night? Our {pick:herbal|natural} formula gives you the size and the stamina you always wanted.\nThousands of men already use it: results in {n:2-6} weeks or your money back.\nOrder now and get {n:2-5} bottles free: {url}\n\nUnsubscribe: reply with remove in the subject line.\n{hash}",
        tlds: &["com", "info"],
        brands: &["menshealth", "megaman", "malepower"],
        path: "/mh/#####.html",
        random_subdomain: false,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "microsoft-lottery",
        kind: "lottery",
        program: "rustock",
        weight: 2.0,
        subjects: &[
            "Microsoft {pick:Lottery|Promotion} Award Notification",
            "Your e-mail address won {money}",
            "WINNING NOTIFICATION REF {ref}",
        ],
        body: "MICROSOFT INTERNATIONAL PROMOTION\n\nDear {first} {last},\n\nWe are pleased to inform you that your e-mail address has won the sum of {money} in the Microsoft Windows end of year promotion, draw number {n:100-999}.\nYour reference number is {ref} and your batch number is {n:1000-9999}.\nTo claim your prize contact our claims agent {first} {last} at {email} with your full name, address and phone number.\nDetails: {url}\n\nCongratulations once again.\nMrs. {last}, Promotions Manager",
        tlds: &["com", "org"],
        brands: &["msaward", "winclaims"],
        path: "/claim/#####",
        random_subdomain: false,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "fake-news",
        kind: "malware",
        program: "rustock",
        weight: 1.5,
        subjects: &[
            "MSNBC Breaking News: {pick:Obama|Senate|Pentagon} {pick:shock|scandal|crisis} in {city}",
            "MSNBC: {n:12-400} dead in {city} {pick:blast|storm|riot}",
        ],
        body: "MSNBC Breaking News\n\n{pick:Shocking|Exclusive} video from {city}: watch the full report before it is removed.\nWitnesses say {n:12-400} people were involved and the police refused to comment.\nClick to play the video: {url}\n\nYou are receiving this alert because you subscribed to MSNBC Breaking News.\nCopyright MSNBC Interactive News LLC",
        tlds: &["com", "net"],
        brands: &["msnbc-news", "newsvid"],
        path: "/video/player#####.exe",
        random_subdomain: true,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "replica-watches",
        kind: "replica",
        program: "srizbi",
        weight: 3.0,
        subjects: &[
            "{pick:Rolex|Omega|Breitling} replica {pick:sale|discount}, {first}",
            "Luxury watches from {price}",
            "Re: {pick:Rolex|watch} for {first}",
        ],
        body: "Replica Watches of the highest quality\n\nWe offer Rolex, Omega, Breitling, Cartier and {n:30-60} other brands. Swiss movement, sapphire glass, free shipping worldwide.\nPrices start at {price}. Nobody will tell the difference, {first}.\nSee our catalog: {url}\n\nBest regards, {first} {last}",
        tlds: &["com", "cn"],
        brands: &["replicaclub", "swisswatch", "luxtime"],
        path: "/w/?id=####",
        random_subdomain: false,
        also: None,
        poison: true,
    },
    CampaignDef {
        key: "herbal-king",
        kind: "pharmacy",
        program: "srizbi",
        weight: 2.0,
        subjects: &[
            "Herbal King: {pick:VPXL|Maxiderm} {pick:works|delivers}",
            "{first}, add {n:2-4} inches naturally",
        ],
        body: "HERBAL KING presents VPXL\n\nThe only herbal enlargement pill with clinical results. {n:87-98}% of our customers report gains within a month.\nNo side effects, no prescription. Order {n:3-6} months and save {n:20-50}%.\nOfficial store: {url}\n\n{hash}-{hash}",
        tlds: &["com", "net"],
        brands: &["herbalking", "vpxl"],
        path: "/hk/#####/",
        random_subdomain: true,
        also: Some(("rustock", 0.5)),
        poison: false,
    },
    CampaignDef {
        key: "bank-phish",
        kind: "phishing",
        program: "cutwail",
        weight: 3.0,
        subjects: &[
            "{pick:Important|Urgent} notice about your account",
            "Your online banking access has been {pick:suspended|limited}",
            "Security alert: verify your account {ref}",
        ],
        body: "Dear Customer,\n\nWe detected {n:2-9} unsuccessful login attempts on your online banking account from an unknown device in {city}.\nFor your protection your access has been temporarily limited.\nTo restore full access please verify your identity within {n:24-72} hours:\n{url}\n\nIf you do not verify, your account will be suspended.\nReference: {ref}\n\nOnline Banking Security Team",
        tlds: &["com", "net", "info"],
        brands: &["secure-banking", "online-verify", "account-update"],
        path: "/signin/verify.php?session=########",
        random_subdomain: true,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "dating",
        kind: "dating",
        program: "cutwail",
        weight: 2.0,
        subjects: &[
            "{first} sent you a {pick:message|photo}",
            "Hi, I am {first} from {city}",
        ],
        body: "Hi! My name is {first}, I am {n:21-34} years old and I live in {city}.\nI saw your profile and I want to know you better. I am {pick:lonely|bored} tonight and I have some {pick:hot|new} photos for you.\nMy private page is here: {url}\n\nKisses, {first}",
        tlds: &["com", "ru"],
        brands: &["lovedate", "hotmeet", "datingfun"],
        path: "/u/*****",
        random_subdomain: false,
        also: None,
        poison: true,
    },
    CampaignDef {
        key: "stock-pump-a",
        kind: "stock",
        program: "cutwail",
        weight: 1.5,
        subjects: &[
            "{ticker} is about to {pick:explode|soar|take off}",
            "Hot stock alert: {ticker} {pick:up|climbing} {n:20-90}%",
        ],
        body: "HOT STOCK ALERT\n\nSymbol: {ticker}\nCurrent price: {price}\nShort term target: {price}\n\n{ticker} announced a major contract today and volume is up {n:200-900}%. Get in before the news breaks on Monday.\nThis company is growing fast and the market has not noticed yet. Watch {ticker} trade on {pick:Monday|Tuesday|Wednesday}!\n\nFull report: {url}",
        tlds: &["com", "biz"],
        brands: &["stockwire", "pennyalert"],
        path: "/report#####.htm",
        random_subdomain: false,
        also: None,
        poison: true,
    },
    CampaignDef {
        key: "stock-pump-b",
        kind: "stock",
        program: "sendsafe",
        weight: 2.0,
        subjects: &[
            "{ticker}: {pick:strong buy|big news} {hash}",
            "Investor {pick:alert|update}: {ticker}",
        ],
        body: "Investor Update\n\nCompany: {brand} Holdings Inc.\nTicker: {ticker}\nRecommendation: STRONG BUY\n\nAnalysts expect earnings to grow {n:100-400}% this year after the merger with a {pick:Chinese|German|Canadian} energy group.\nShares traded at {price} yesterday; our 5 day target is {price}.\nRead the analyst note at {url}\n\nThis newsletter is paid advertising.",
        tlds: &["com", "net"],
        brands: &["greenenergy", "solartech", "petroinvest"],
        path: "/news/####",
        random_subdomain: false,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "advance-fee",
        kind: "advance-fee",
        program: "sendsafe",
        weight: 2.0,
        subjects: &[
            "{pick:URGENT|CONFIDENTIAL} BUSINESS PROPOSAL",
            "From Barrister {first} {last}",
            "Re: Transfer of {money}",
        ],
        body: "Dear Friend,\n\nI am Barrister {first} {last}, the personal attorney to the late Engr. {last}, a foreign contractor who died in a car accident with his family in {city}.\nHe left the sum of {money} in a bank here, and the bank has asked me to present a next of kin or the fund will be confiscated.\nI am contacting you because you share the same last name. I propose that we share the money {n:40-60}% to me and the rest to you.\nPlease reply to my private email {email} with your full name and phone number.\n\nYours faithfully,\nBarrister {first} {last}",
        tlds: &["com"],
        brands: &["barristerchambers"],
        path: "/",
        random_subdomain: false,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "software-oem",
        kind: "software",
        program: "darkmailer",
        weight: 2.0,
        subjects: &[
            "{pick:Windows|Office|Adobe} {pick:2007|XP|CS3} for {price}",
            "OEM software {pick:sale|downloads}, {first}",
        ],
        body: "OEM SOFTWARE DOWNLOADS\n\nWindows XP Professional {price}\nOffice 2007 Enterprise {price}\nAdobe Photoshop CS3 {price}\nAutoCAD 2008 {price}\n\nInstant download, original CD keys, {n:24-48} hour support. Over {n:1000-5000} titles.\nShop: {url}",
        tlds: &["com", "net"],
        brands: &["oemsoft", "cheapsoft", "softdl"],
        path: "/oem/?p=###",
        random_subdomain: false,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "diploma",
        kind: "diploma",
        program: "darkmailer",
        weight: 1.0,
        subjects: &[
            "{pick:University|College} diplomas",
            "Get a degree in {n:2-6} weeks",
        ],
        body: "UNIVERSITY DIPLOMAS\n\nObtain a prosperous future, money earning power, and the admiration of all.\nBachelors, Masters, MBA and Doctorate (PhD) diplomas available in the field of your choice, based on your present knowledge and life experience.\nNo required tests, classes, books or interviews. Confidentiality assured.\nCall us 24 hours a day, 7 days a week, at {n:100-999}-{n:100-999}-{n:1000-9999} or visit {url}",
        tlds: &["com", "info"],
        brands: &["unidiploma"],
        path: "/d/#####",
        random_subdomain: false,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "loan",
        kind: "loan",
        program: "mystery",
        weight: 2.0,
        subjects: &[
            "{first}, your loan of {money} is approved",
            "Low rate {pick:mortgage|refinance} at {n:2-4}.{n:1-9}%",
        ],
        body: "Dear Homeowner,\n\nYour credit does not matter to us! If you own real estate and want immediate cash, we will give you a loan at {n:2-4}.{n:1-9}% fixed rate.\nYou have been pre-approved for {money}. Fill in our short form and get an answer in {n:2-24} hours.\nApply now: {url}\n\nBest Regards, {first} {last}\nAccount Manager",
        tlds: &["com", "net"],
        brands: &["lowrate", "homeloans", "refinow"],
        path: "/apply/?ref=#####",
        random_subdomain: false,
        also: Some(("sendsafe", 1.0)),
        poison: false,
    },
    CampaignDef {
        key: "payment-request",
        kind: "phishing",
        program: "mystery",
        weight: 1.5,
        subjects: &[
            "Invoice {ref} {pick:due|overdue}",
            "Payment request from {first} {last}",
        ],
        body: "Hello,\n\nPlease find your invoice {ref} for {price} attached to this notice. The payment is overdue by {n:3-30} days.\nTo avoid a late fee of {price} review and pay the invoice online:\n{url}\n\nThank you for your business.\n{first} {last}, Accounts Receivable",
        tlds: &["com", "xyz"],
        brands: &["invoice-portal", "billpay"],
        path: "/inv/########",
        random_subdomain: true,
        also: None,
        poison: false,
    },
    CampaignDef {
        key: "bbc-headlines",
        kind: "malware",
        program: "bbcnews",
        weight: 1.0,
        subjects: &[
            "BBC {pick:News|World} headlines: {city} {pick:crisis|talks|vote}",
            "BBC: {pick:Top|Breaking} stories for {first}",
        ],
        body: "BBC NEWS HEADLINES\n\n* {city} talks collapse as {n:2-40} delegates walk out\n* Markets fall {n:2-9}% on oil fears\n* Celebrity video leaked: watch now {url}\n\nUpdated every hour. To read the full stories open the links above.\nBBC News (c) British Broadcasting Corporation",
        tlds: &["com", "co.uk"],
        brands: &["bbc-headlines", "newsupdate"],
        path: "/story/#####.html",
        random_subdomain: false,
        also: None,
        poison: false,
    },
];

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Anna",
    "Olga",
    "Elena",
    "Natasha",
    "Peter",
    "Paul",
    "Mark",
    "Laura",
    "Kevin",
    "Helen",
    "Frank",
    "Sandra",
    "Steven",
    "Donna",
    "Brian",
    "Carol",
    "George",
    "Ruth",
];
const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "White", "Harris", "Clark",
    "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner",
];
const CITIES: &[&str] = &[
    "London", "Paris", "Berlin", "Madrid", "Rome", "Moscow", "Kiev", "Lagos", "Accra", "Dakar",
    "Toronto", "Chicago", "Houston", "Miami", "Sydney", "Tokyo", "Mumbai", "Cairo", "Lisbon",
    "Warsaw", "Prague", "Vienna", "Dublin", "Oslo",
];
const WORDS: &[&str] = &[
    "amber", "falcon", "river", "copper", "mint", "cedar", "ember", "harbor", "lotus", "maple",
    "nova", "orbit", "pixel", "quartz", "raven", "sage", "tidal", "umbra", "velvet", "willow",
];
/// Dictionary for Bayes poison.
const POISON: &[&str] = &[
    "about", "above", "across", "after", "again", "against", "almost", "alone", "along", "already",
    "among", "another", "answer", "around", "basket", "beauty", "before", "behind", "believe",
    "better", "between", "bicycle", "bottle", "branch", "bridge", "bright", "brother", "button",
    "camera", "candle", "carpet", "castle", "center", "chance", "change", "cheese", "choose",
    "circle", "clever", "closet", "coffee", "colour", "corner", "cotton", "county", "course",
    "cousin", "danger", "debate", "decide", "degree", "desert", "dinner", "doctor", "dragon",
    "drawer", "effort", "eleven", "empire", "engine", "escape", "evening", "except", "family",
    "farmer", "father", "figure", "finger", "flower", "follow", "forest", "friend", "garden",
    "gentle", "glance", "golden", "ground", "growth", "guitar", "hammer", "handle", "happen",
    "harbor", "health", "heaven", "hidden", "hollow", "honest", "island", "jacket", "jungle",
    "kettle", "kitten", "ladder", "lawyer", "leader", "lemon", "letter", "listen", "little",
    "lizard", "market", "meadow", "method", "middle", "minute", "mirror", "moment", "monkey",
    "mother", "motion", "narrow", "nature", "needle", "number", "object", "office", "orange",
    "palace", "parcel", "pencil", "people", "pepper", "planet", "pocket", "police", "potato",
    "powder", "prison", "public", "puzzle", "rabbit", "reason", "record", "ribbon", "river",
    "rocket", "saddle", "salmon", "school", "season", "second", "shadow", "silver", "simple",
    "singer", "sister", "spirit", "spring", "square", "stream", "street", "summer", "sunset",
    "supper", "switch", "symbol", "tailor", "temple", "thirty", "ticket", "timber", "tomato",
    "travel", "turtle", "valley", "velvet", "violin", "walnut", "weapon", "window", "winter",
    "wonder", "yellow", "zipper",
];

/// A paragraph of random dictionary words: Bayes poison, different in
/// every message.
pub(crate) fn poison(rng: &mut Rng, out: &mut String) {
    let n = rng.range(12, 35);
    for i in 0..n {
        if i > 0 {
            out.push(if rng.chance(0.1) { '\n' } else { ' ' });
        }
        out.push_str(rng.pick(POISON));
    }
}

const FREEMAIL: &[&str] = &[
    "yahoo.com",
    "hotmail.com",
    "gmail.com",
    "aol.com",
    "mail.ru",
];
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";

/// A first name.
pub(crate) fn first_name(rng: &mut Rng) -> &'static str {
    rng.pick(FIRST)
}

/// A last name.
pub(crate) fn last_name(rng: &mut Rng) -> &'static str {
    rng.pick(LAST)
}

/// A random lowercase word of `lo..=hi` letters (hashbusters, subdomains).
pub(crate) fn gibberish(rng: &mut Rng, lo: u64, hi: u64, out: &mut String) {
    let n = rng.range(lo, hi) as usize;
    rng.chars(LOWER, n, out);
}

/// One seed's instance of a campaign: its storefront and its slot constants.
pub(crate) struct Campaign {
    /// Index into [`CAMPAIGNS`].
    pub def: &'static CampaignDef,
    /// Ground-truth ID: `<key>`.
    pub id: String,
    /// The storefront's rotating registered domains (one per rotation period).
    pub domains: Vec<String>,
    /// The storefront's display name.
    pub brand: String,
    /// Stock symbol (stock campaigns).
    pub ticker: String,
    /// Active from this Unix time.
    pub start: i64,
    /// Active until this Unix time.
    pub end: i64,
}

impl Campaign {
    /// Instantiate `def` for one seed over the timeline `[t0, t1)`.
    pub(crate) fn new(
        def: &'static CampaignDef,
        rng: &mut Rng,
        t0: i64,
        t1: i64,
        always_on: bool,
    ) -> Campaign {
        let brand = rng.pick(def.brands).to_string();
        let n_domains = rng.range(4, 10) as usize;
        let mut domains = Vec::with_capacity(n_domains);
        for _ in 0..n_domains {
            let mut d = String::new();
            d.push_str(&brand);
            if rng.chance(0.5) {
                d.push('-');
                d.push_str(rng.pick(WORDS));
            }
            d.push_str(&rng.range(1, 999).to_string());
            d.push('.');
            d.push_str(rng.pick(def.tlds));
            domains.push(d);
        }
        let mut ticker = String::new();
        let n = rng.range(3, 4) as usize;
        rng.chars(UPPER, n, &mut ticker);
        let span = (t1 - t0).max(1);
        let (start, end) = if always_on {
            (t0, t1)
        } else {
            let len = (span as f64 * (0.35 + 0.5 * rng.unit())) as i64;
            let start = t0 + ((span - len) as f64 * rng.unit()) as i64;
            (start, start + len)
        };
        Campaign {
            def,
            id: def.key.to_string(),
            domains,
            brand,
            ticker,
            start,
            end,
        }
    }

    /// Whether the campaign sends at time `t`.
    pub(crate) fn active(&self, t: i64) -> bool {
        t >= self.start && t < self.end
    }

    /// A per-message link: the storefront domain of the current rotation
    /// period (spammers move to a fresh domain as the old one gets listed),
    /// an optional random subdomain, and the campaign's path pattern.
    pub(crate) fn url(&self, rng: &mut Rng, t: i64) -> String {
        let span = (self.end - self.start).max(1);
        let period = (span / self.domains.len() as i64).max(1);
        let mut i = ((t - self.start).max(0) / period) as usize;
        // Occasionally an older domain is still in use.
        if i > 0 && rng.chance(0.15) {
            i -= 1;
        }
        let domain = &self.domains[i.min(self.domains.len() - 1)];
        let mut url = String::from("http://");
        if self.def.random_subdomain {
            gibberish(rng, 4, 8, &mut url);
            url.push('.');
        } else if rng.chance(0.5) {
            url.push_str("www.");
        }
        url.push_str(domain);
        for c in self.def.path.chars() {
            match c {
                '#' => url.push(rng.pick(DIGITS) as char),
                '*' => url.push(rng.pick(LOWER) as char),
                c => url.push(c),
            }
        }
        url
    }
}

/// Fill a template's slots for one message.
pub(crate) fn render(template: &str, campaign: &Campaign, rng: &mut Rng, t: i64, out: &mut String) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return;
        };
        let slot = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        fill_slot(slot, campaign, rng, t, out);
    }
    out.push_str(rest);
}

fn fill_slot(slot: &str, campaign: &Campaign, rng: &mut Rng, t: i64, out: &mut String) {
    let (name, arg) = slot.split_once(':').unwrap_or((slot, ""));
    match name {
        "first" => out.push_str(first_name(rng)),
        "last" => out.push_str(last_name(rng)),
        "city" => out.push_str(rng.pick(CITIES)),
        "brand" => {
            let mut b = campaign.brand.replace('-', " ");
            if let Some(c) = b.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            out.push_str(&b);
        }
        "ticker" => out.push_str(&campaign.ticker),
        "url" => out.push_str(&campaign.url(rng, t)),
        "hash" => gibberish(rng, 5, 11, out),
        "price" => out.push_str(&format!("${}.{:02}", rng.range(0, 120), rng.range(0, 99))),
        "money" => {
            let millions = rng.range(1, 30);
            out.push_str(&format!(
                "{}{},{:03},000.00",
                rng.pick(&["$", "USD ", "GBP ", "EUR "]),
                millions,
                rng.range(0, 9) * 100
            ));
        }
        "ref" => {
            rng.chars(UPPER, 2, out);
            out.push('-');
            let n = rng.range(4, 6) as usize;
            rng.chars(DIGITS, n, out);
            out.push('-');
            rng.chars(DIGITS, 2, out);
        }
        "email" => {
            out.push_str(&last_name(rng).to_ascii_lowercase());
            out.push('.');
            gibberish(rng, 3, 6, out);
            out.push_str(&rng.range(1, 99).to_string());
            out.push('@');
            out.push_str(rng.pick(FREEMAIL));
        }
        "n" => {
            let (lo, hi) = arg.split_once('-').unwrap_or(("0", "9"));
            let lo = lo.parse().unwrap_or(0);
            let hi = hi.parse().unwrap_or(lo);
            out.push_str(&rng.range(lo, hi).to_string());
        }
        "pick" => {
            let choices: Vec<&str> = arg.split('|').collect();
            out.push_str(rng.pick(&choices));
        }
        _ => {
            // Unknown slots are left as written, like a broken template engine.
            out.push('{');
            out.push_str(slot);
            out.push('}');
        }
    }
    let _ = t;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_without_leftover_slots() {
        let mut rng = Rng::new(3);
        for def in CAMPAIGNS {
            let c = Campaign::new(def, &mut rng, 0, 86_400 * 30, false);
            for tpl in def.subjects.iter().chain(std::iter::once(&def.body)) {
                let mut out = String::new();
                render(tpl, &c, &mut rng, c.start, &mut out);
                assert!(
                    !out.contains('{') && !out.contains('}'),
                    "{}: {out}",
                    def.key
                );
            }
            assert!(c.start >= 0 && c.end <= 86_400 * 30 && c.start < c.end);
        }
    }

    #[test]
    fn links_rotate_through_the_storefront_domains() {
        let mut rng = Rng::new(5);
        let c = Campaign::new(&CAMPAIGNS[0], &mut rng, 0, 1_000_000, true);
        let first = c.url(&mut rng, 0);
        let last = c.url(&mut rng, 999_999);
        assert!(first.contains(&c.domains[0]), "{first}");
        assert!(
            last.contains(c.domains.last().unwrap())
                || last.contains(&c.domains[c.domains.len() - 2]),
            "{last}"
        );
    }
}
