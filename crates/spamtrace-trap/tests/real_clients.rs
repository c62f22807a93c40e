//! The trap against real SMTP clients on loopback: swaks (single sessions,
//! STARTTLS, pipelining, HELO), Postfix's smtp-source and Python's smtplib
//! (load), and open-relay attempts.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::{RawClient, TestTrap, have_tool, test_config, wait_until};
use spamtrace_mail::TimeSource;
use spamtrace_trap::TlsSetup;

const SWAKS: &str = "/usr/bin/swaks";
const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";

fn swaks(trap: &TestTrap, extra: &[&str]) -> (bool, String) {
    let server = format!("127.0.0.1:{}", trap.port());
    let output = Command::new(SWAKS)
        .args(["--server", &server, "--timeout", "20"])
        .args(extra)
        .output()
        .expect("run swaks");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn swaks_message_is_stored_with_envelope_and_transcript() {
    if !have_tool(SWAKS) {
        return;
    }
    let trap = TestTrap::start(test_config());
    let (ok, output) = swaks(
        &trap,
        &[
            "--from",
            "alice@sender.example",
            "--to",
            "bob@trap.example,carol@trap.example",
            "--helo",
            "swaks.sender.example",
            "--header",
            "Subject: swaks test",
            "--body",
            "hello from swaks",
        ],
    );
    assert!(ok, "swaks failed:\n{output}");
    let records = trap.records();
    assert_eq!(records.len(), 1);
    let message = &records[0].message;
    let text = String::from_utf8_lossy(&message.bytes);
    assert!(text.contains("Subject: swaks test\r\n"), "{text}");
    assert!(text.contains("hello from swaks"), "{text}");
    let envelope = &message.envelope;
    assert_eq!(envelope.received_at.map(|(_, s)| s), Some(TimeSource::Trap));
    assert_eq!(envelope.recipient.as_deref(), Some("bob@trap.example"));
    assert!(envelope.source.starts_with("smtp://127.0.0.1:"));
    let smtp = envelope.smtp.as_ref().expect("smtp session recorded");
    assert_eq!(smtp.helo, "swaks.sender.example");
    assert_eq!(smtp.mail_from, "alice@sender.example");
    assert_eq!(smtp.rcpt_to, vec!["bob@trap.example", "carol@trap.example"]);
    assert!(!smtp.tls);
    assert!(smtp.client.starts_with("127.0.0.1:"));
    assert!(smtp.dialect.starts_with("d1-"), "{}", smtp.dialect);
    // Commands recorded byte-exact, with the replies and the dialect.
    assert!(
        smtp.transcript.contains("C  [pause "),
        "{}",
        smtp.transcript
    );
    assert!(
        smtp.transcript.contains("EHLO swaks.sender.example\\r\\n"),
        "{}",
        smtp.transcript
    );
    assert!(
        smtp.transcript
            .contains("MAIL FROM:<alice@sender.example>\\r\\n")
    );
    assert!(smtp.transcript.contains("S  354 "));
    assert!(smtp.transcript.contains(&format!(
        "# dialect {}: greeting: EHLO <domain>",
        smtp.dialect
    )));
    assert_eq!(
        records[0].id,
        spamtrace_trap::spool::message_id(&message.bytes)
    );
    let stats = trap.stop();
    assert_eq!(stats.messages_accepted, 1);
    assert_eq!(stats.message_bytes, message.bytes.len() as u64);
}

#[test]
fn swaks_starttls_is_recorded_and_certificate_generated() {
    if !have_tool(SWAKS) {
        return;
    }
    let cert_dir = tempfile::tempdir().unwrap();
    let mut config = test_config();
    config.tls = Some(TlsSetup::SelfSigned {
        dir: cert_dir.path().to_path_buf(),
    });
    let trap = TestTrap::start(config);
    assert!(
        cert_dir
            .path()
            .join(spamtrace_trap::tls::SELF_SIGNED_CERT_FILE)
            .exists()
    );
    let (ok, output) = swaks(
        &trap,
        &["--tls", "--to", "x@trap.example", "--helo", "tls.example"],
    );
    assert!(ok, "swaks --tls failed:\n{output}");
    let records = trap.records();
    assert_eq!(records.len(), 1);
    let smtp = records[0].message.envelope.smtp.clone().unwrap();
    assert!(smtp.tls);
    assert!(
        smtp.transcript.contains("-- TLS established: TLSv1_3"),
        "{}",
        smtp.transcript
    );
    assert!(smtp.transcript.contains("STARTTLS\\r\\n"));
    assert!(smtp.dialect.starts_with("d1-"));
    let stats = trap.stop();
    assert_eq!(stats.tls_sessions, 1);
}

#[test]
fn starttls_is_refused_when_not_configured() {
    if !have_tool(SWAKS) {
        return;
    }
    let trap = TestTrap::start(test_config());
    let (ok, output) = swaks(&trap, &["--tls", "--to", "x@trap.example"]);
    assert!(!ok, "swaks --tls should fail without STARTTLS:\n{output}");
    assert!(trap.records().is_empty());
}

#[test]
fn swaks_pipelining_and_helo_dialects_differ() {
    if !have_tool(SWAKS) {
        return;
    }
    let trap = TestTrap::start(test_config());
    let (ok, output) = swaks(
        &trap,
        &[
            "--pipeline",
            "--to",
            "a@trap.example",
            "--helo",
            "p.example",
        ],
    );
    assert!(ok, "{output}");
    let (ok, output) = swaks(
        &trap,
        &[
            "--protocol",
            "SMTP",
            "--to",
            "a@trap.example",
            "--helo",
            "DM",
        ],
    );
    assert!(ok, "{output}");
    let records = trap.records();
    assert_eq!(records.len(), 2);
    let pipelined = records[0].message.envelope.smtp.clone().unwrap();
    let helo = records[1].message.envelope.smtp.clone().unwrap();
    assert!(
        pipelined
            .transcript
            .contains("C  [pipelined] RCPT TO:<a@trap.example>"),
        "{}",
        pipelined.transcript
    );
    assert!(
        pipelined.transcript.contains("pipelined: RCPT"),
        "{}",
        pipelined.transcript
    );
    assert!(
        helo.transcript.contains("greeting: HELO DM;"),
        "{}",
        helo.transcript
    );
    assert_eq!(helo.helo, "DM");
    assert_ne!(pipelined.dialect, helo.dialect);
}

#[test]
fn never_an_open_relay() {
    let mut config = test_config();
    config.domains = Some(vec!["Trap.Example.".into()]);
    let trap = TestTrap::start(config);
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(b"EHLO relay-abuser.example\r\n");
    assert_eq!(client.code(), 250);
    client.send(b"MAIL FROM:<spammer@relay-abuser.example>\r\n");
    assert_eq!(client.code(), 250);
    for refused in [
        "victim@elsewhere.example",
        "@trap.example:victim@elsewhere.example",
        "victim@trap.example.elsewhere.example",
        "victim",
    ] {
        client.send(format!("RCPT TO:<{refused}>\r\n").as_bytes());
        let reply = client.reply().unwrap();
        assert!(reply.starts_with("550 5.7.1"), "{refused}: {reply}");
    }
    // Local addresses, however spelled, are accepted and only stored.
    for local in [
        "user@TRAP.example",
        "victim%elsewhere.example@trap.example",
        "postmaster",
    ] {
        client.send(format!("RCPT TO:<{local}>\r\n").as_bytes());
        assert_eq!(client.code(), 250, "{local}");
    }
    client.send(b"DATA\r\n");
    assert_eq!(client.code(), 354);
    client.send(b"Subject: relay me\r\n\r\nplease\r\n.\r\n");
    assert_eq!(client.code(), 250);
    client.send(b"QUIT\r\n");
    let records = trap.records();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].message.envelope.smtp.as_ref().unwrap().rcpt_to,
        vec![
            "user@TRAP.example",
            "victim%elsewhere.example@trap.example",
            "postmaster"
        ]
    );
    let stats = trap.stop();
    assert_eq!(
        stats.rejects_for(spamtrace_trap::RejectReason::RecipientDomain),
        4
    );

    if have_tool(SWAKS) {
        let mut config = test_config();
        config.domains = Some(vec!["trap.example".into()]);
        let trap = TestTrap::start(config);
        let (ok, output) = swaks(&trap, &["--to", "victim@elsewhere.example"]);
        assert!(!ok, "{output}");
        assert!(output.contains("550 5.7.1"), "{output}");
        assert!(trap.records().is_empty());
    }
}

#[test]
fn accepted_foreign_mail_goes_nowhere() {
    // A would-be next hop on another loopback address: the trap accepts
    // mail for it (it accepts everything by default) and must never connect.
    let next_hop = match TcpListener::bind("127.0.0.2:25") {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot bind 127.0.0.2:25 ({error}); checking with a high port instead");
            TcpListener::bind("127.0.0.2:0").unwrap()
        }
    };
    next_hop.set_nonblocking(true).unwrap();
    let trap = TestTrap::start(test_config());
    let hop = next_hop.local_addr().unwrap();
    for to in [
        "victim@[127.0.0.2]".to_string(),
        format!("victim@[127.0.0.2]:{}", hop.port()),
    ] {
        assert_eq!(
            common::send_message(trap.addr, &to, b"Subject: x\r\n\r\nrelay test\r\n"),
            250
        );
    }
    assert_eq!(trap.records().len(), 2);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        next_hop.accept().is_err(),
        "the trap connected to the next hop: it must never relay"
    );
    // And structurally: no outbound connection code in the library.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let code = std::fs::read_to_string(&path).unwrap();
                for outbound in [
                    "TcpStream::connect",
                    "UdpSocket",
                    "TcpSocket",
                    "ToSocketAddrs",
                ] {
                    assert!(
                        !code.contains(outbound),
                        "{} contains {outbound}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn smtp_source_load_is_all_stored() {
    if !have_tool(SMTP_SOURCE) {
        return;
    }
    let trap = TestTrap::start(test_config());
    let status = Command::new(SMTP_SOURCE)
        .args([
            "-s",
            "8",
            "-m",
            "400",
            "-l",
            "4096",
            "-f",
            "load@source.example",
            "-t",
            "sink@trap.example",
        ])
        .arg(format!("127.0.0.1:{}", trap.port()))
        .status()
        .expect("run smtp-source");
    assert!(status.success());
    let records = trap.records();
    assert_eq!(records.len(), 400);
    assert!(records.iter().all(|r| r.message.bytes.len() >= 4096));
    let stats = trap.stop();
    assert_eq!(stats.messages_accepted, 400);
}

#[test]
fn python_smtplib_load_is_all_stored() {
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("python3");
    let trap = TestTrap::start(test_config());
    let script = r#"
import smtplib, sys, threading
port = int(sys.argv[1])
errors = []
def worker(t):
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("python.example")
            for i in range(25):
                msg = "Subject: py %d-%d\r\nMessage-ID: <%d.%d@python.example>\r\n\r\nline\r\n.leading dot\r\n" % (t, i, t, i)
                refused = s.sendmail("py@python.example", ["r%d@trap.example" % i], msg)
                assert not refused, refused
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print("errors:", errors)
sys.exit(1 if errors else 0)
"#;
    let output = match Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(trap.port().to_string())
        .output()
    {
        Ok(output) => output,
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 missing: {error}"
            );
            eprintln!("SKIPPED: python3 not found");
            return;
        }
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let records = trap.records();
    assert_eq!(records.len(), 100);
    // smtplib dot-stuffs; the trap must give the original line back.
    assert!(
        records
            .iter()
            .all(|r| r.message.bytes.ends_with(b"line\r\n.leading dot\r\n"))
    );
    assert!(wait_until(Duration::from_secs(5), || trap
        .metrics
        .snapshot()
        .sessions_closed
        == 4));
}
