//! Received headers into hops, and the origin of a message.

use crate::{Hop, TrustedHosts};
use mail_parser::{Host, MessageParser, Received};
use std::net::IpAddr;

/// Parse one Received header value into a hop.
pub fn parse_received(value: &str) -> Hop {
    let raw = format!("Received: {value}\r\n\r\n");
    MessageParser::default()
        .parse_headers(raw.as_bytes())
        .and_then(|m| m.received().map(hop_from))
        .unwrap_or_default()
}

fn host_str(h: &Host<'_>) -> String {
    match h {
        Host::Name(n) => n.to_ascii_lowercase(),
        Host::IpAddr(ip) => ip.to_string(),
    }
}

/// Convert mail-parser's Received into our hop.
pub(crate) fn hop_from(r: &Received<'_>) -> Hop {
    let from_ip = r
        .from_ip
        .map(|ip| ip.to_string())
        .or_else(|| match &r.from {
            Some(Host::IpAddr(ip)) => Some(ip.to_string()),
            _ => None,
        });
    let with = r.with.as_ref().map(|p| p.to_string());
    // ESMTPS, ESMTPSA, LMTPS...: a protocol name ending in S means TLS.
    let tls = r.tls_version.is_some()
        || with.as_deref().is_some_and(|w| {
            w.as_bytes()
                .last()
                .is_some_and(|c| c.eq_ignore_ascii_case(&b'S'))
        });
    Hop {
        from_host: r.from.as_ref().map(host_str),
        from_ip,
        from_rdns: r.from_iprev.as_ref().map(|s| s.to_ascii_lowercase()),
        helo: r.helo.as_ref().map(host_str),
        by: r.by.as_ref().map(host_str),
        with,
        date: r.date.as_ref().map(|d| d.to_timestamp()),
        tls,
    }
}

fn is_internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00
        }
    }
}

impl TrustedHosts {
    fn matches(&self, hop: &Hop) -> bool {
        self.hosts.iter().any(|t| {
            let t = t.to_ascii_lowercase();
            hop.from_ip.as_deref() == Some(t.as_str())
                || [&hop.from_host, &hop.from_rdns].iter().any(|h| {
                    h.as_deref()
                        .is_some_and(|h| h == t || h.ends_with(&format!(".{t}")))
                })
        })
    }
}

/// The origin: the first hop (from the top) whose client is neither a trusted
/// host nor an internal address. Hops with no client IP are passed over.
pub(crate) fn find_origin(hops: &[Hop], trusted: &TrustedHosts) -> Option<usize> {
    hops.iter().position(|h| {
        let Some(ip) = h.from_ip.as_deref().and_then(|s| s.parse::<IpAddr>().ok()) else {
            return false;
        };
        !is_internal(&ip) && !trusted.matches(h)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_postfix_hop() {
        let h = parse_received(
            "from mail.example.com (mail.example.com [203.0.113.7]) by mx.trap.org (Postfix) \
             with ESMTPS id 123 for <a@trap.org>; Tue, 15 Mar 2011 14:45:00 +0000",
        );
        assert_eq!(h.from_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(h.by.as_deref(), Some("mx.trap.org"));
        assert_eq!(h.date, Some(1300200300));
        assert!(h.tls);
    }

    #[test]
    fn origin_skips_trusted_and_private() {
        let hops = vec![
            Hop {
                from_ip: Some("10.0.0.2".into()),
                ..Default::default()
            },
            Hop {
                from_ip: Some("198.51.100.9".into()),
                from_host: Some("relay.trap.org".into()),
                ..Default::default()
            },
            Hop {
                from_ip: Some("203.0.113.7".into()),
                ..Default::default()
            },
        ];
        let trusted = TrustedHosts {
            hosts: vec!["trap.org".into()],
        };
        assert_eq!(find_origin(&hops, &trusted), Some(2));
        assert_eq!(find_origin(&hops, &TrustedHosts::default()), Some(1));
        assert_eq!(find_origin(&[], &trusted), None);
    }

    #[test]
    fn garbage_does_not_panic() {
        for v in ["", "from", "(((", "by ; ;", "from [999.1.1.1]"] {
            let _ = parse_received(v);
        }
    }
}
