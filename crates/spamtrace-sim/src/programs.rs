//! Simulated sending programs (botnets and ratware). Each writes its own
//! header set, in its own order, with its own Message-ID, Date and boundary
//! shapes, line endings and quirks, modelled on the published facts in
//! `shared/reference/botnets.md` where there are any (Rustock's forged CDO
//! set, Srizbi's Reactor Mailer, DarkMailer's `HELO DM`, Send-Safe's
//! hashbuster line, the unexpanded-macro template) and invented otherwise
//! (Cutwail-like and an unknown ratware: their real shapes were never
//! published, which is why spamtrace must learn shapes from data).

use crate::campaigns::{first_name, gibberish, last_name};
use crate::rng::Rng;
use chrono::{DateTime, FixedOffset};

/// A simulated sending program.
pub(crate) struct Program {
    /// Its ground-truth name.
    pub name: &'static str,
    /// Its share of all spam while active.
    pub share: f64,
}

/// The simulated programs and their shares of the feed.
pub(crate) const PROGRAMS: &[Program] = &[
    Program {
        name: "rustock",
        share: 0.42,
    },
    Program {
        name: "cutwail",
        share: 0.18,
    },
    Program {
        name: "srizbi",
        share: 0.12,
    },
    Program {
        name: "sendsafe",
        share: 0.08,
    },
    Program {
        name: "mystery",
        share: 0.08,
    },
    Program {
        name: "darkmailer",
        share: 0.06,
    },
    Program {
        name: "bbcnews",
        share: 0.06,
    },
];

/// What one message says, before a program writes it out.
pub(crate) struct Content<'a> {
    pub time: i64,
    pub subject: &'a str,
    pub body: &'a str,
    pub recipient: &'a str,
}

const ISPS: &[&str] = &[
    "comcast.net",
    "telecomitalia.it",
    "ttnet.net.tr",
    "vnpt.vn",
    "rima-tde.net",
    "bezeqint.net",
    "speedy.com.ar",
    "pldt.net",
    "airtelbroadband.in",
];
const SENDER_DOMAINS: &[&str] = &[
    "hotmail.com",
    "yahoo.com",
    "msn.com",
    "aol.com",
    "gmail.com",
    "comcast.net",
    "verizon.net",
    "btinternet.com",
    "orange.fr",
    "web.de",
    "libero.it",
    "terra.es",
];
const HEXU: &[u8] = b"0123456789ABCDEF";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM_MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn rfc2822(t: i64, offset_minutes: i32, weekday: bool) -> String {
    let tz = FixedOffset::east_opt(offset_minutes * 60)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    let dt = DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&tz);
    if weekday {
        dt.format("%a, %d %b %Y %H:%M:%S %z").to_string()
    } else {
        dt.format("%-d %b %Y %H:%M:%S %z").to_string()
    }
}

fn bot_offset(rng: &mut Rng) -> i32 {
    // Bots keep their owners' local time: whole hours, mostly.
    (rng.range(0, 18) as i32 - 8) * 60
}

fn bot_ip(rng: &mut Rng) -> String {
    let first = rng.pick(&[
        24u64, 41, 59, 71, 77, 78, 81, 85, 88, 89, 95, 109, 112, 113, 117, 121, 122, 186, 187, 189,
        190, 200, 201,
    ]);
    format!(
        "{}.{}.{}.{}",
        first,
        rng.range(0, 255),
        rng.range(0, 255),
        rng.range(1, 254)
    )
}

fn sender(rng: &mut Rng) -> (String, String) {
    let first = first_name(rng);
    let last = last_name(rng);
    let mut local = String::new();
    match rng.range(0, 2) {
        0 => local.push_str(&format!(
            "{}.{}",
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase()
        )),
        1 => {
            local.push_str(&first.to_ascii_lowercase());
            local.push_str(&rng.range(1, 9999).to_string());
        }
        _ => gibberish(rng, 5, 9, &mut local),
    }
    let domain = rng.pick(SENDER_DOMAINS);
    (format!("{first} {last}"), format!("{local}@{domain}"))
}

/// Convert the plain body to the HTML these programs send: paragraphs, and
/// links as anchors.
fn to_html(body: &str, nl: &str) -> String {
    let mut html = String::with_capacity(body.len() * 2);
    html.push_str("<html><body>");
    html.push_str(nl);
    for para in body.split("\n\n") {
        html.push_str("<p>");
        for (i, line) in para.lines().enumerate() {
            if i > 0 {
                html.push_str("<br>");
                html.push_str(nl);
            }
            for (j, word) in line.split(' ').enumerate() {
                if j > 0 {
                    html.push(' ');
                }
                if word.starts_with("http://") {
                    html.push_str(&format!("<a href=\"{word}\">{word}</a>"));
                } else {
                    html.push_str(&word.replace('&', "&amp;").replace('<', "&lt;"));
                }
            }
        }
        html.push_str("</p>");
        html.push_str(nl);
    }
    html.push_str("</body></html>");
    html
}

fn with_newlines(text: &str, nl: &str) -> String {
    if nl == "\n" {
        text.to_string()
    } else {
        text.replace('\n', nl)
    }
}

/// The Send-Safe hashbuster: a line of random characters and dashes.
fn hashbuster_line(rng: &mut Rng) -> String {
    let mut line = String::new();
    let groups = rng.range(4, 7);
    for g in 0..groups {
        if g > 0 {
            line.push('-');
        }
        let n = rng.range(3, 8) as usize;
        rng.chars(ALNUM, n, &mut line);
    }
    line
}

/// Write one message as `program` would, with the trap's Received header on
/// top. Returns the bytes.
pub(crate) fn write_message(program: &str, rng: &mut Rng, c: &Content<'_>) -> Vec<u8> {
    let ip = bot_ip(rng);
    let (from_name, from_addr) = sender(rng);
    let from_domain = from_addr
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let rdns = if rng.chance(0.3) {
        "unknown".to_string()
    } else {
        format!("{}.dyn.{}", ip.replace('.', "-"), rng.pick(ISPS))
    };
    let mut h = String::with_capacity(2048);
    let nl: &str;
    let helo: String;
    let skew = rng.range(0, 600) as i64 - 300;
    let sent = c.time + skew;
    let mut body = String::new();
    match program {
        "rustock" => {
            nl = "\r\n";
            helo = rdns.replace("unknown", &format!("host{}", rng.range(1, 9999)));
            let html = rng.chance(0.8);
            h.push_str(&format!("Message-ID: <{}", {
                let mut s = String::new();
                rng.chars(HEXU, 10, &mut s);
                s
            }));
            h.push_str(&format!(
                ".{}@{}>{nl}",
                rng.range(100_000, 999_999),
                from_domain
            ));
            h.push_str(&format!("From: \"{from_name}\" <{from_addr}>{nl}"));
            h.push_str(&format!("To: <{}>{nl}", c.recipient));
            h.push_str(&format!("Subject: {}{nl}", c.subject));
            h.push_str(&format!(
                "Date: {}{nl}",
                rfc2822(sent, bot_offset(rng), true)
            ));
            h.push_str(&format!("MIME-Version: 1.0{nl}"));
            h.push_str(&format!(
                "Content-Type: text/{}; charset=\"iso-8859-1\"{nl}",
                if html { "html" } else { "plain" }
            ));
            h.push_str(&format!("Content-Transfer-Encoding: 7bit{nl}"));
            h.push_str(&format!("X-Mailer: Microsoft CDO for Windows 2000{nl}"));
            h.push_str(&format!("Content-Class: urn:content-classes:message{nl}"));
            h.push_str(&format!("Importance: normal{nl}"));
            h.push_str(&format!("Priority: normal{nl}"));
            h.push_str(&format!(
                "X-MimeOLE: Produced By Microsoft MimeOLE V6.00.3790.3119{nl}"
            ));
            let mut ti = String::from("Ac");
            rng.chars(B64, 26, &mut ti);
            h.push_str(&format!("Thread-Index: {ti}=={nl}"));
            body.push_str(&if html {
                to_html(c.body, nl)
            } else {
                with_newlines(c.body, nl)
            });
        }
        "srizbi" => {
            nl = "\r\n";
            helo = format!("[{ip}]");
            let mut host = String::new();
            gibberish(rng, 4, 8, &mut host);
            host.push_str(&rng.range(1, 99).to_string());
            h.push_str(&format!(
                "Message-ID: <000{}01c8{}${}${}@{host}>{nl}",
                rng.hex(1),
                rng.hex(4),
                rng.hex(8),
                rng.hex(8)
            ));
            h.push_str(&format!("From: \"{from_name}\" <{from_addr}>{nl}"));
            h.push_str(&format!("To: <{}>{nl}", c.recipient));
            h.push_str(&format!("Subject: {}{nl}", c.subject));
            h.push_str(&format!("Date: {}{nl}", rfc2822(sent, 0, true)));
            h.push_str(&format!("MIME-Version: 1.0{nl}"));
            let mut boundary = String::from("----=_NextPart_000_");
            rng.chars(HEXU, 4, &mut boundary);
            boundary.push_str("_01C8");
            rng.chars(HEXU, 4, &mut boundary);
            boundary.push('.');
            rng.chars(HEXU, 8, &mut boundary);
            h.push_str(&format!(
                "Content-Type: multipart/alternative;{nl}\tboundary=\"{boundary}\"{nl}"
            ));
            h.push_str(&format!("X-Priority: 3{nl}X-MSMail-Priority: Normal{nl}"));
            h.push_str(&format!(
                "X-Mailer: Microsoft Outlook Express 6.00.2900.3138{nl}"
            ));
            h.push_str(&format!(
                "X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2900.3198{nl}"
            ));
            body.push_str(&format!(
                "This is a multi-part message in MIME format.{nl}{nl}"
            ));
            body.push_str(&format!("--{boundary}{nl}Content-Type: text/plain;{nl}\tcharset=\"windows-1250\"{nl}Content-Transfer-Encoding: 7bit{nl}{nl}"));
            body.push_str(&with_newlines(c.body, nl));
            body.push_str(&format!("{nl}{nl}--{boundary}{nl}Content-Type: text/html;{nl}\tcharset=\"windows-1250\"{nl}Content-Transfer-Encoding: 7bit{nl}{nl}"));
            body.push_str(&to_html(c.body, nl));
            body.push_str(&format!("{nl}{nl}--{boundary}--{nl}"));
        }
        "cutwail" => {
            nl = "\n";
            let mut s = String::new();
            gibberish(rng, 5, 9, &mut s);
            helo = format!("{s}.{}", rng.pick(ISPS));
            h.push_str(&format!(
                "Date: {}{nl}",
                rfc2822(sent, bot_offset(rng), true)
            ));
            h.push_str(&format!("From: {from_name} <{from_addr}>{nl}"));
            h.push_str(&format!(
                "User-Agent: Thunderbird 2.0.0.{} (Windows/2008{:04})",
                rng.range(6, 19),
                rng.range(101, 1231)
            ));
            h.push_str(nl);
            h.push_str(&format!("MIME-Version: 1.0{nl}"));
            h.push_str(&format!("To: {}{nl}", c.recipient));
            h.push_str(&format!("Subject: {}{nl}", c.subject));
            let mut boundary = String::from("------------");
            rng.chars(b"0123456789", 24, &mut boundary);
            h.push_str(&format!(
                "Content-Type: multipart/alternative;{nl} boundary=\"{boundary}\"{nl}"
            ));
            h.push_str(&format!(
                "Message-ID: <{}.{}@{}>{nl}",
                rng.hex(8),
                rng.range(1000, 9999),
                from_domain
            ));
            body.push_str(&format!("This is a multi-part message in MIME format.{nl}"));
            body.push_str(&format!("--{boundary}{nl}Content-Type: text/plain; charset=ISO-8859-1; format=flowed{nl}Content-Transfer-Encoding: 7bit{nl}{nl}"));
            body.push_str(c.body);
            body.push_str(&format!("{nl}{nl}--{boundary}{nl}Content-Type: text/html; charset=ISO-8859-1{nl}Content-Transfer-Encoding: 7bit{nl}{nl}"));
            body.push_str(&to_html(c.body, nl));
            body.push_str(&format!("{nl}{nl}--{boundary}--{nl}"));
        }
        "sendsafe" => {
            nl = "\r\n";
            helo = from_domain.clone();
            h.push_str(&format!("From: \"{from_name}\" <{from_addr}>{nl}"));
            if rng.chance(0.5) {
                let (_, reply) = sender(rng);
                h.push_str(&format!("Reply-To: {reply}{nl}"));
            }
            h.push_str(&format!("To: {}{nl}", c.recipient));
            h.push_str(&format!("Subject: {}{nl}", c.subject));
            h.push_str(&format!(
                "Date: {}{nl}",
                rfc2822(sent, bot_offset(rng), true)
            ));
            let mut id = String::new();
            rng.chars(HEXU, 12, &mut id);
            id.push('.');
            rng.chars(HEXU, 8, &mut id);
            h.push_str(&format!("Message-ID: <{id}@{from_domain}>{nl}"));
            let mailer = rng.pick(&[
                "The Bat! (v2.00.6) Personal",
                "The Bat! (v2.12.00) Business",
                "The Bat! (v1.62r)",
            ]);
            h.push_str(&format!("X-Mailer: {mailer}{nl}"));
            h.push_str(&format!("MIME-Version: 1.0{nl}"));
            h.push_str(&format!("Content-Type: text/plain; charset=us-ascii{nl}"));
            h.push_str(&format!("Content-Transfer-Encoding: 7bit{nl}"));
            body.push_str(&with_newlines(c.body, nl));
            body.push_str(nl);
            body.push_str(nl);
            body.push_str(&hashbuster_line(rng));
            body.push_str(nl);
        }
        "darkmailer" => {
            nl = "\n";
            helo = "DM".to_string();
            h.push_str(&format!("From: \"{from_name}\" <{from_addr}>{nl}"));
            h.push_str(&format!("To: \"{}\" <{}>{nl}", c.recipient, c.recipient));
            h.push_str(&format!("Subject: {}{nl}", c.subject));
            h.push_str(&format!(
                "Date: {}{nl}",
                rfc2822(sent, bot_offset(rng), true)
            ));
            h.push_str(&format!("MIME-Version: 1.0{nl}"));
            h.push_str(&format!(
                "Content-Type: text/html; charset=\"windows-1252\"{nl}"
            ));
            h.push_str(&format!("Content-Transfer-Encoding: 7bit{nl}"));
            h.push_str(&format!("X-Priority: 3{nl}"));
            h.push_str(&format!(
                "Message-Id: <{}.{}@{}>{nl}",
                rng.range(100_000_000_000, 999_999_999_999),
                rng.range(1000, 9999),
                from_domain
            ));
            body.push_str(&to_html(c.body, nl));
            body.push_str(nl);
        }
        "mystery" => {
            nl = "\n";
            helo = "localhost".to_string();
            let mut forged = String::new();
            gibberish(rng, 6, 10, &mut forged);
            h.push_str(&format!(
                "Received: from {forged} ([{}]) by {from_domain} with Microsoft SMTPSVC(6.0.3790.3959);{nl}\t {}{nl}",
                bot_ip(rng),
                rfc2822(sent - 2, 0, true)
            ));
            let mut id = String::new();
            gibberish(rng, 20, 20, &mut id);
            h.push_str(&format!("Message-ID: <{id}@{forged}.{from_domain}>{nl}"));
            h.push_str(&format!("From: {from_addr}{nl}"));
            h.push_str(&format!("Subject: {}{nl}", c.subject));
            h.push_str(&format!("To: {}{nl}", c.recipient));
            h.push_str(&format!(
                "Date: {}{nl}",
                rfc2822(sent, bot_offset(rng), false)
            ));
            h.push_str(&format!("Mime-Version: 1.0{nl}"));
            h.push_str(&format!(
                "Content-type: text/plain; charset=\"us-ascii\"{nl}"
            ));
            h.push_str(&format!("Content-transfer-encoding: 7bit{nl}"));
            if rng.chance(0.4) {
                h.push_str(&format!("X-Priority: 1 (Highest){nl}"));
            }
            body.push_str(c.body);
            body.push_str(nl);
        }
        _ => {
            // "bbcnews": a template engine that fails to expand its macros.
            nl = "\n";
            let mut s = String::new();
            gibberish(rng, 6, 10, &mut s);
            helo = s.clone();
            h.push_str(&format!(
                "Received: from {{nChar[8-12]}} {{nChar[4-6]}} ([{}]) by {s}.{from_domain} with SMTP id {{nChar[10]}};{nl}\t{}{nl}",
                bot_ip(rng),
                rfc2822(sent - 5, 0, true)
            ));
            h.push_str(&format!(
                "Message-ID: <{}.{}.JavaMail.{s}@{s}>{nl}",
                rng.range(10_000_000, 99_999_999),
                rng.range(1_000_000_000_000, 9_999_999_999_999)
            ));
            h.push_str(&format!(
                "Date: {}{nl}",
                rfc2822(sent, bot_offset(rng), true)
            ));
            h.push_str(&format!("From: {from_name} <{from_addr}>{nl}"));
            h.push_str(&format!("To: {}{nl}", c.recipient));
            h.push_str(&format!("Subject: {}{nl}", c.subject));
            h.push_str(&format!("MIME-Version: 1.0{nl}"));
            h.push_str(&format!("Content-Type: text/plain; charset=UTF-8{nl}"));
            h.push_str(&format!("Content-Transfer-Encoding: 8bit{nl}"));
            body.push_str(c.body);
            body.push_str(nl);
        }
    }
    let mut qid = String::new();
    rng.chars(&ALNUM_MIXED[..36], 10, &mut qid);
    let trap = format!(
        "Received: from {helo} ({rdns} [{ip}]){nl}\tby trap.spamtrace.example (spamtrace-sim) with {} id {}{nl}\tfor <{}>; {}{nl}",
        if program == "darkmailer" {
            "SMTP"
        } else {
            "ESMTP"
        },
        qid.to_ascii_uppercase(),
        c.recipient,
        rfc2822(c.time, 0, true)
    );
    let mut out = Vec::with_capacity(trap.len() + h.len() + body.len() + 4);
    out.extend_from_slice(trap.as_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(nl.as_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_program_writes_its_telltale() {
        let mut rng = Rng::new(9);
        let c = Content {
            time: 1_300_000_000,
            subject: "hi",
            body: "Hello\n\nvisit http://x.example/a now",
            recipient: "a@trap.example",
        };
        let text = |p: &str, rng: &mut Rng| String::from_utf8(write_message(p, rng, &c)).unwrap();
        let r = text("rustock", &mut rng);
        assert!(
            r.contains("X-Mailer: Microsoft CDO for Windows 2000\r\n")
                && r.contains("Thread-Index: Ac")
        );
        let s = text("srizbi", &mut rng);
        assert!(
            s.contains("Message-ID: <000") && s.contains(" +0000\r\n"),
            "{s}"
        );
        assert!(text("darkmailer", &mut rng).starts_with("Received: from DM ("));
        assert!(text("bbcnews", &mut rng).contains("{nChar[8-12]}"));
        let ss = text("sendsafe", &mut rng);
        let last = ss.trim_end().lines().last().unwrap();
        assert!(last.matches('-').count() >= 3, "{last}");
        for p in PROGRAMS {
            let m = text(p.name, &mut rng);
            let head_end = m.find("\r\n\r\n").or_else(|| m.find("\n\n")).unwrap();
            assert!(m[..head_end].contains("Subject: hi"), "{}", p.name);
        }
    }
}
