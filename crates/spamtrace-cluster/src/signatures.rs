//! Known sending programs, described in a human-editable signature file.
//!
//! # Format
//!
//! One statement per line; blank lines and lines starting with `#` are
//! ignored; leading spaces are free (indent conditions for readability).
//!
//! ```text
//! alias ratware-1a2b = cutwail        # rename a family (learned or known)
//!
//! family NAME                         # start a family; NAME: letters, digits, - _ .
//!   describe TEXT                     # the fingerprint in words (shown to analysts)
//!   need N                            # N conditions must hold (default: all)
//!   header NAME exists                # a header is present (case-insensitive name)
//!   header NAME absent                # a header is missing
//!   header NAME = TEXT                # its value is TEXT (case-insensitive, trimmed)
//!   header NAME ~ REGEX               # its value matches REGEX (NAME `*`: any header)
//!   order NAME, NAME, ...             # these headers are all present, in this order
//!   message-id ~ REGEX                # the Message-ID as written, with its <>
//!   date ~ REGEX                      # the Date header as written
//!   received ~ REGEX                  # any Received header
//!   body ~ REGEX                      # the message text (first 64 KiB; (?m) for lines)
//!   helo = TEXT | helo ~ REGEX        # the HELO from the trap, else the origin Received hop
//!   dialect ~ REGEX                   # the trap's SMTP dialect fingerprint
//! ```
//!
//! REGEX is the rest of the line, in the syntax of the `regex` crate. A
//! message belongs to the first family, in file order, whose conditions
//! hold. A malformed file is an error naming the line.

use regex::Regex;
use spamtrace_mail::{Analysis, Envelope};
use std::collections::BTreeMap;
use std::path::Path;

/// The signatures shipped with spamtrace.
pub const BUILTIN_SIGNATURES: &str = include_str!("../signatures.txt");

/// Most bytes of text a `body` condition looks at.
const MAX_BODY_SCAN: usize = 64 << 10;

/// Why a signature file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// A line could not be understood.
    #[error("signature file line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read signature file {path}: {source}; check the path and its permissions")]
    Io {
        /// The path given.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// One condition of a family.
#[derive(Debug, Clone)]
enum Condition {
    HeaderExists(String),
    HeaderAbsent(String),
    HeaderEquals(String, String),
    HeaderMatches(Option<String>, Regex),
    Order(Vec<String>),
    MessageId(Regex),
    Date(Regex),
    Received(Regex),
    Body(Regex),
    HeloEquals(String),
    HeloMatches(Regex),
    Dialect(Regex),
}

/// A known sending program.
#[derive(Debug, Clone)]
pub struct FamilyRule {
    /// Its name (as shown, before aliases).
    pub name: String,
    /// The fingerprint in words.
    pub description: String,
    /// How many conditions must hold.
    pub need: usize,
    conditions: Vec<Condition>,
}

/// A family whose signature a message matched, with the conditions that held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureMatch {
    /// The family (aliases applied).
    pub family: String,
    /// The conditions that held, in words.
    pub reasons: Vec<String>,
}

/// A set of signatures and aliases.
#[derive(Debug, Clone, Default)]
pub struct SignatureSet {
    families: Vec<FamilyRule>,
    aliases: BTreeMap<String, String>,
}

fn syntax(line: usize, message: impl Into<String>) -> SignatureError {
    SignatureError::Syntax {
        line,
        message: message.into(),
    }
}

fn regex(line: usize, pattern: &str) -> Result<Regex, SignatureError> {
    let pattern = pattern.trim();
    let pattern = pattern
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix('/'))
        .unwrap_or(pattern);
    if pattern.is_empty() {
        return Err(syntax(line, "empty regular expression after `~`"));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| syntax(line, format!("bad regular expression: {e}")))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

impl SignatureSet {
    /// The signatures shipped with spamtrace (`signatures.txt`).
    pub fn builtin() -> SignatureSet {
        SignatureSet::parse(BUILTIN_SIGNATURES).expect("the shipped signature file parses (tested)")
    }

    /// An empty set: no known families, no aliases.
    pub fn empty() -> SignatureSet {
        SignatureSet::default()
    }

    /// Read a signature file (see the module documentation for its format).
    pub fn load(path: &Path) -> Result<SignatureSet, SignatureError> {
        let text = std::fs::read_to_string(path).map_err(|source| SignatureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        SignatureSet::parse(&text)
    }

    /// Parse signature text.
    pub fn parse(text: &str) -> Result<SignatureSet, SignatureError> {
        let mut set = SignatureSet::default();
        let mut current: Option<(usize, FamilyRule, Option<usize>)> = None;
        let finish = |set: &mut SignatureSet,
                      cur: Option<(usize, FamilyRule, Option<usize>)>|
         -> Result<(), SignatureError> {
            if let Some((line, mut fam, need)) = cur {
                if fam.conditions.is_empty() {
                    return Err(syntax(
                        line,
                        format!(
                            "family {} has no conditions; add at least one (header, order, message-id, date, received, body, helo, dialect)",
                            fam.name
                        ),
                    ));
                }
                let need = need.unwrap_or(fam.conditions.len());
                if need == 0 || need > fam.conditions.len() {
                    return Err(syntax(
                        line,
                        format!(
                            "family {}: `need {need}` but it has {} conditions",
                            fam.name,
                            fam.conditions.len()
                        ),
                    ));
                }
                fam.need = need;
                if set.families.iter().any(|f| f.name == fam.name) {
                    return Err(syntax(
                        line,
                        format!("family {} is defined twice", fam.name),
                    ));
                }
                set.families.push(fam);
            }
            Ok(())
        };
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim();
            match keyword {
                "alias" => {
                    let (from, to) = rest
                        .split_once('=')
                        .ok_or_else(|| syntax(line_no, "expected `alias OLD-NAME = NEW-NAME`"))?;
                    let (from, to) = (from.trim(), to.trim());
                    if !valid_name(from) || !valid_name(to) {
                        return Err(syntax(
                            line_no,
                            "alias names may hold only letters, digits, `-`, `_` and `.`",
                        ));
                    }
                    set.aliases.insert(from.to_string(), to.to_string());
                }
                "family" => {
                    finish(&mut set, current.take())?;
                    if !valid_name(rest) {
                        return Err(syntax(
                            line_no,
                            "expected `family NAME` (letters, digits, `-`, `_`, `.`)",
                        ));
                    }
                    let fam = FamilyRule {
                        name: rest.to_string(),
                        description: String::new(),
                        need: 0,
                        conditions: Vec::new(),
                    };
                    current = Some((line_no, fam, None));
                }
                _ => {
                    let Some((_, fam, need)) = current.as_mut() else {
                        return Err(syntax(
                            line_no,
                            format!("`{keyword}` outside a family: start one with `family NAME`"),
                        ));
                    };
                    match keyword {
                        "describe" => fam.description = rest.to_string(),
                        "need" => {
                            *need = Some(rest.parse().map_err(|_| {
                                syntax(line_no, "expected `need N` with N a number")
                            })?);
                        }
                        _ => fam
                            .conditions
                            .push(parse_condition(line_no, keyword, rest)?),
                    }
                }
            }
        }
        finish(&mut set, current.take())?;
        Ok(set)
    }

    /// Add the families and aliases of `other` after this set's (a user's
    /// file extends the shipped one; a family of the same name replaces it).
    pub fn extend(&mut self, other: SignatureSet) {
        for fam in other.families {
            if let Some(existing) = self.families.iter_mut().find(|f| f.name == fam.name) {
                *existing = fam;
            } else {
                self.families.push(fam);
            }
        }
        self.aliases.extend(other.aliases);
    }

    /// The known families, in matching order.
    pub fn families(&self) -> &[FamilyRule] {
        &self.families
    }

    /// The name a family is shown under: its alias, else itself.
    pub fn display_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map(String::as_str).unwrap_or(name)
    }

    /// The description of a known family (by its own name or its alias).
    pub fn description(&self, name: &str) -> Option<&str> {
        self.families
            .iter()
            .find(|f| f.name == name || self.display_name(&f.name) == name)
            .map(|f| f.description.as_str())
    }

    /// The first family whose signature the message matches.
    pub fn matches(&self, analysis: &Analysis, envelope: &Envelope) -> Option<SignatureMatch> {
        let body = &analysis.text[..analysis.text.floor_char_boundary(MAX_BODY_SCAN)];
        for fam in &self.families {
            let mut held = Vec::new();
            let mut failed = 0;
            for cond in &fam.conditions {
                match check(cond, analysis, envelope, body) {
                    Some(reason) => held.push(reason),
                    None => {
                        failed += 1;
                        if fam.conditions.len() - failed < fam.need {
                            break;
                        }
                    }
                }
            }
            if held.len() >= fam.need {
                return Some(SignatureMatch {
                    family: self.display_name(&fam.name).to_string(),
                    reasons: held,
                });
            }
        }
        None
    }
}

fn parse_condition(line: usize, keyword: &str, rest: &str) -> Result<Condition, SignatureError> {
    let op_value = |rest: &str| -> Option<(char, String)> {
        let rest = rest.trim();
        let op = rest.chars().next()?;
        Some((op, rest[op.len_utf8()..].trim().to_string()))
    };
    match keyword {
        "header" => {
            let (name, tail) = rest.split_once(char::is_whitespace).ok_or_else(|| {
                syntax(line, "expected `header NAME exists|absent|= TEXT|~ REGEX`")
            })?;
            let tail = tail.trim();
            if name != "*" && !valid_header_name(name) {
                return Err(syntax(line, format!("`{name}` is not a header name")));
            }
            match tail {
                "exists" if name != "*" => Ok(Condition::HeaderExists(name.to_string())),
                "absent" if name != "*" => Ok(Condition::HeaderAbsent(name.to_string())),
                _ => match op_value(tail) {
                    Some(('=', v)) if name != "*" => Ok(Condition::HeaderEquals(
                        name.to_string(),
                        unquote(&v).to_string(),
                    )),
                    Some(('~', v)) => Ok(Condition::HeaderMatches(
                        (name != "*").then(|| name.to_string()),
                        regex(line, &v)?,
                    )),
                    _ => Err(syntax(
                        line,
                        "expected `header NAME exists`, `absent`, `= TEXT` or `~ REGEX` (NAME `*` only with `~`)",
                    )),
                },
            }
        }
        "order" => {
            let names: Vec<String> = rest.split(',').map(|n| n.trim().to_string()).collect();
            if names.len() < 2 || names.iter().any(|n| !valid_header_name(n)) {
                return Err(syntax(
                    line,
                    "expected `order NAME, NAME, ...` with at least two header names",
                ));
            }
            Ok(Condition::Order(names))
        }
        "message-id" | "date" | "received" | "body" | "dialect" => match op_value(rest) {
            Some(('~', v)) => {
                let re = regex(line, &v)?;
                Ok(match keyword {
                    "message-id" => Condition::MessageId(re),
                    "date" => Condition::Date(re),
                    "received" => Condition::Received(re),
                    "body" => Condition::Body(re),
                    _ => Condition::Dialect(re),
                })
            }
            _ => Err(syntax(line, format!("expected `{keyword} ~ REGEX`"))),
        },
        "helo" => match op_value(rest) {
            Some(('=', v)) if !v.is_empty() => Ok(Condition::HeloEquals(unquote(&v).to_string())),
            Some(('~', v)) => Ok(Condition::HeloMatches(regex(line, &v)?)),
            _ => Err(syntax(line, "expected `helo = TEXT` or `helo ~ REGEX`")),
        },
        other => Err(syntax(
            line,
            format!(
                "unknown statement `{other}`; expected family, alias, describe, need, header, order, message-id, date, received, body, helo or dialect"
            ),
        )),
    }
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// The HELO the client gave: the trap's record, else the origin hop's (or
/// the topmost hop's) recorded HELO or claimed host name.
fn helo<'a>(analysis: &'a Analysis, envelope: &'a Envelope) -> Option<&'a str> {
    if let Some(s) = &envelope.smtp {
        return Some(s.helo.as_str());
    }
    let hop = analysis
        .origin_hop()
        .or_else(|| analysis.received.first())?;
    hop.helo.as_deref().or(hop.from_host.as_deref())
}

fn shorten(s: &str) -> String {
    let cut = s.floor_char_boundary(80);
    if cut < s.len() {
        format!("{}…", &s[..cut])
    } else {
        s.to_string()
    }
}

fn check(cond: &Condition, a: &Analysis, e: &Envelope, body: &str) -> Option<String> {
    match cond {
        Condition::HeaderExists(n) => a.header(n).map(|_| format!("has a {n} header")),
        Condition::HeaderAbsent(n) => a.header(n).is_none().then(|| format!("has no {n} header")),
        Condition::HeaderEquals(n, v) => a
            .header(n)
            .filter(|x| x.trim().eq_ignore_ascii_case(v))
            .map(|_| format!("{n} is \"{v}\"")),
        Condition::HeaderMatches(Some(n), re) => a
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(n) && re.is_match(&h.value))
            .map(|h| format!("{n} \"{}\" matches /{}/", shorten(&h.value), re.as_str())),
        Condition::HeaderMatches(None, re) => {
            a.headers.iter().find(|h| re.is_match(&h.value)).map(|h| {
                format!(
                    "{} \"{}\" matches /{}/",
                    h.name,
                    shorten(&h.value),
                    re.as_str()
                )
            })
        }
        Condition::Order(names) => {
            let mut pos = 0;
            for n in names {
                let found = a.headers[pos..]
                    .iter()
                    .position(|h| h.name.eq_ignore_ascii_case(n))?;
                pos += found + 1;
            }
            Some(format!("headers {} appear in this order", names.join(", ")))
        }
        Condition::MessageId(re) => {
            let raw = a.header("Message-ID")?.trim();
            let with_brackets = if raw.starts_with('<') {
                raw.to_string()
            } else {
                format!("<{raw}>")
            };
            re.is_match(&with_brackets).then(|| {
                format!(
                    "Message-ID {} matches /{}/",
                    shorten(&with_brackets),
                    re.as_str()
                )
            })
        }
        Condition::Date(re) => {
            let d = a.date_raw.as_deref().or_else(|| a.header("Date"))?.trim();
            re.is_match(d)
                .then(|| format!("Date \"{d}\" matches /{}/", re.as_str()))
        }
        Condition::Received(re) => a
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("Received") && re.is_match(&h.value))
            .map(|h| {
                format!(
                    "Received \"{}\" matches /{}/",
                    shorten(&h.value),
                    re.as_str()
                )
            }),
        Condition::Body(re) => re.find(body).map(|m| {
            format!(
                "text line \"{}\" matches /{}/",
                shorten(m.as_str().trim()),
                re.as_str()
            )
        }),
        Condition::HeloEquals(v) => helo(a, e)
            .filter(|h| h.trim().eq_ignore_ascii_case(v))
            .map(|h| format!("the client greeted with HELO {h}")),
        Condition::HeloMatches(re) => helo(a, e)
            .filter(|h| re.is_match(h))
            .map(|h| format!("HELO {h} matches /{}/", re.as_str())),
        Condition::Dialect(re) => e
            .smtp
            .as_ref()
            .filter(|s| re.is_match(&s.dialect))
            .map(|s| format!("SMTP dialect {} matches /{}/", s.dialect, re.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spamtrace_mail::{HeaderField, Hop, SmtpSession};

    fn msg(headers: &[(&str, &str)], text: &str) -> Analysis {
        Analysis {
            headers: headers
                .iter()
                .map(|(n, v)| HeaderField {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            date_raw: headers
                .iter()
                .find(|(n, _)| *n == "Date")
                .map(|(_, v)| v.to_string()),
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn builtin_parses_and_knows_the_families() {
        let s = SignatureSet::builtin();
        let names: Vec<&str> = s.families().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "rustock",
                "srizbi",
                "darkmailer",
                "send-safe",
                "unexpanded-macro"
            ]
        );
        assert!(s.families().iter().all(|f| !f.description.is_empty()));
    }

    #[test]
    fn rustock_and_srizbi_match_their_published_headers() {
        let s = SignatureSet::builtin();
        let e = Envelope::default();
        let rustock = msg(
            &[
                ("From", "a@b.example"),
                ("Content-Transfer-Encoding", "7bit"),
                ("X-Mailer", "Microsoft CDO for Windows 2000"),
                ("Content-Class", "urn:content-classes:message"),
                ("Importance", "normal"),
                ("Priority", "normal"),
                ("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.3790.3119"),
                ("Thread-Index", "AcXYZ=="),
            ],
            "",
        );
        let m = s.matches(&rustock, &e).unwrap();
        assert_eq!(m.family, "rustock");
        assert_eq!(m.reasons.len(), 5);
        // The same headers in another order are not Rustock's.
        let mut shuffled = rustock.clone();
        shuffled.headers.swap(2, 4);
        assert_eq!(s.matches(&shuffled, &e), None);

        let srizbi = msg(
            &[
                ("Message-ID", "<000d01c8a1b2$3c4d5e60$6f1a2b3c@abc12>"),
                ("Date", "Tue, 15 Apr 2008 10:11:12 +0000"),
                ("X-Mailer", "Microsoft Outlook Express 6.00.2900.3138"),
                ("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.2900.3198"),
            ],
            "",
        );
        assert_eq!(s.matches(&srizbi, &e).unwrap().family, "srizbi");
        let mut real_oe = srizbi.clone();
        real_oe.headers[3].value = "Produced By Microsoft MimeOLE V6.00.2900.3138".into();
        assert_eq!(s.matches(&real_oe, &e), None);
    }

    #[test]
    fn helo_hashbuster_and_macros() {
        let s = SignatureSet::builtin();
        let mut dm = msg(&[("From", "x@y.example")], "hello");
        let trap = Envelope {
            smtp: Some(SmtpSession {
                helo: "DM".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(s.matches(&dm, &trap).unwrap().family, "darkmailer");
        dm.received = vec![Hop {
            from_host: Some("DM".into()),
            ..Default::default()
        }];
        assert_eq!(
            s.matches(&dm, &Envelope::default()).unwrap().family,
            "darkmailer"
        );
        let ss = msg(
            &[("From", "x@y.example")],
            "Buy now.\n\nqk3m-zzpa-81kd-aap0q\n",
        );
        let m = s.matches(&ss, &Envelope::default()).unwrap();
        assert_eq!(m.family, "send-safe");
        assert!(m.reasons[0].contains("qk3m-zzpa-81kd-aap0q"));
        let uuid = msg(
            &[("From", "x@y.example")],
            "id:\n123e4567-e89b-12d3-a456-426614174000\n",
        );
        assert_eq!(s.matches(&uuid, &Envelope::default()), None);
        let mac = msg(
            &[("Received", "from {nChar[8-12]} {nChar[4-6]} ([1.2.3.4])")],
            "",
        );
        assert_eq!(
            s.matches(&mac, &Envelope::default()).unwrap().family,
            "unexpanded-macro"
        );
    }

    #[test]
    fn malformed_files_name_the_line() {
        let err = |t: &str| match SignatureSet::parse(t) {
            Err(SignatureError::Syntax { line, message }) => (line, message),
            other => panic!("expected a syntax error, got {other:?}"),
        };
        assert_eq!(err("header X exists").0, 1);
        let (line, message) = err("# c\nfamily a\n  header X ~ (unclosed\n");
        assert_eq!(line, 3);
        assert!(message.contains("bad regular expression"));
        assert_eq!(err("family a\n  heder X exists\n").0, 2);
        assert_eq!(err("family a\nfamily b\n  header X exists\n").0, 1);
        assert_eq!(err("family a\n header X exists\n need 3\n").0, 1);
        assert_eq!(err("alias nothing").0, 1);
        assert_eq!(err("family a b\n").0, 1);
        assert_eq!(err("family a\n header * exists\n").0, 2);
        assert!(
            err("family a\n header X exists\nfamily a\n header Y exists\n")
                .1
                .contains("twice")
        );
        assert!(matches!(
            SignatureSet::load(Path::new("/nonexistent/sigs.txt")),
            Err(SignatureError::Io { .. })
        ));
    }

    #[test]
    fn aliases_and_extension() {
        let mut s = SignatureSet::builtin();
        s.extend(SignatureSet::parse("alias ratware-1a2b = cutwail\nalias rustock = rustock-b107\nfamily mine\n header X-Custom exists\n").unwrap());
        assert_eq!(s.display_name("ratware-1a2b"), "cutwail");
        assert_eq!(s.display_name("other"), "other");
        assert_eq!(s.families().len(), 6);
        let m = msg(&[("X-Custom", "1")], "");
        assert_eq!(s.matches(&m, &Envelope::default()).unwrap().family, "mine");
        assert!(s.description("rustock-b107").is_some());
    }
}
