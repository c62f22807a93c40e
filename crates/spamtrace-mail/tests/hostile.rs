//! Hostile mail: every case ends in an Analysis (maybe with a problem), in
//! bounded time and memory, never a panic.

use spamtrace_mail::{Limits, TrustedHosts, analyze};

fn an(raw: &[u8]) -> spamtrace_mail::Analysis {
    analyze(raw, &Limits::default(), &TrustedHosts::default())
}

#[test]
fn binary_garbage() {
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut g = Vec::with_capacity(1 << 20);
    for _ in 0..(1 << 20) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        g.push(x as u8);
    }
    let a = an(&g);
    assert!(a.problem.is_some(), "garbage must be reported as a problem");
    assert_eq!(a.size, 1 << 20);
}

#[test]
fn truncated_messages() {
    let full = b"From: a@b.com\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGEgaHJlZj0iaHR0cDovL2V2aWwuY29tIj5ldmlsPC9hPg==\r\n--XX--\r\n";
    for cut in 0..full.len() {
        let _ = an(&full[..cut]);
    }
    let a = an(&full[..]);
    assert_eq!(a.urls.len(), 1);
    assert_eq!(a.urls[0].host, "evil.com");
}

#[test]
fn fifty_megabyte_message() {
    let mut m = b"From: a@b.com\nSubject: big\nContent-Type: text/plain\n\n".to_vec();
    let line = b"All work and no play makes Jack a dull boy http://www.example.com/x\n";
    while m.len() < 50 << 20 {
        m.extend_from_slice(line);
    }
    let limits = Limits::default();
    let a = an(&m);
    assert!(a.problem.is_none());
    assert!(a.text.len() <= limits.max_text_bytes + 1);
    assert_eq!(a.urls.len(), 1);
}

#[test]
fn over_the_size_limit_is_a_problem() {
    let limits = Limits {
        max_message_bytes: 1 << 20,
        ..Default::default()
    };
    let m = vec![b'a'; 2 << 20];
    let a = analyze(&m, &limits, &TrustedHosts::default());
    assert!(a.problem.unwrap().contains("too large"));
}

#[test]
fn ten_thousand_parts() {
    let mut m = String::from(
        "From: a@b.com\nSubject: parts\nContent-Type: multipart/mixed; boundary=\"B\"\n\n",
    );
    for i in 0..10_000 {
        m.push_str(&format!(
            "--B\nContent-Type: text/plain\n\npart {i} http://host{i}.example.com/\n"
        ));
    }
    m.push_str("--B--\n");
    let a = an(m.as_bytes());
    let limits = Limits::default();
    assert!(a.mime.parts > 10_000);
    assert!(
        a.problem
            .as_deref()
            .unwrap()
            .contains("too many MIME parts")
    );
    assert!(a.urls.len() <= limits.max_urls);
}

#[test]
fn a_thousand_nested_multiparts() {
    let mut m = String::from(
        "From: a@b.com\nSubject: nest\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n",
    );
    for i in 1..=1000 {
        m.push_str(&format!(
            "--b{}\nContent-Type: multipart/mixed; boundary=\"b{i}\"\n\n",
            i - 1
        ));
    }
    m.push_str("--b1000\nContent-Type: text/plain\n\ndeep\n");
    for i in (0..=1000).rev() {
        m.push_str(&format!("--b{i}--\n"));
    }
    let a = an(m.as_bytes());
    let p = a.problem.expect("depth over the limit is a problem");
    assert!(p.contains("nesting too deep"), "{p}");
}

#[test]
fn ten_megabytes_of_one_word_and_huge_headers() {
    let mut m = b"From: a@b.com\nSubject: ".to_vec();
    m.extend(std::iter::repeat_n(b'x', 1 << 20));
    m.extend_from_slice(b"\n\n");
    m.extend(std::iter::repeat_n(b'w', 10 << 20));
    let a = an(&m);
    assert!(a.subject.unwrap().len() <= Limits::default().max_header_value);
    assert!(a.text.len() <= Limits::default().max_text_bytes + 1);
}

#[test]
fn every_fixture_and_corpus_file_analyses() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    if !root.exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "corpora missing under CI"
        );
        return;
    }
    let mut stack = vec![root.join("fixtures"), root.join("modern-spam")];
    let mut n = 0;
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        } else {
            let raw = std::fs::read(&p).unwrap();
            let a = an(&raw);
            assert_eq!(a.size, raw.len() as u64);
            n += 1;
        }
    }
    assert!(n > 400, "only {n} files");
}

#[test]
fn quoted_printable_boundary_after_a_soft_line_break() {
    // The vendored parser's fix: the text before a boundary that follows a
    // soft line break keeps its last byte, and a part that is only the soft
    // break does not underflow (a panic where overflow is checked).
    let part = |body: &str| {
        format!(
            "From: a@b.com\nSubject: qp\nMIME-Version: 1.0\n\
             Content-Type: multipart/alternative; boundary=\"b\"\n\n\
             --b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n\
             {body}--b--\n"
        )
    };
    let a = an(part("Cheap pills=\n").as_bytes());
    assert_eq!(a.text.trim_end(), "Cheap pills");
    let a = an(part("=\n").as_bytes());
    assert!(a.text.trim().is_empty(), "{:?}", a.text);
}
