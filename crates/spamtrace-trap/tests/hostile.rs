//! Hostile clients and every limit: the trap answers with the proper SMTP
//! error, ends the offending session and keeps serving everyone else.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{RawClient, TestTrap, send_message, test_config, wait_until};
use spamtrace_trap::{RejectReason, SessionEnd};

const GOOD: &[u8] = b"Subject: still here\r\n\r\nhello\r\n";

/// Deterministic pseudo-random bytes (xorshift), no extra dependency.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn session_ends(sink: &common::RecordingSink) -> Vec<SessionEnd> {
    sink.sessions
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.end.clone())
        .collect()
}

#[test]
fn garbage_bytes_get_errors_then_the_door() {
    let mut config = test_config();
    config.max_bad_commands = 5;
    let (trap, sink) = TestTrap::start_recording(config);
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    // A TLS ClientHello on the plain port, then binary noise with newlines.
    client.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n");
    let mut garbage = noise(3000, 42);
    for i in (0..garbage.len()).step_by(97) {
        garbage[i] = b'\n';
    }
    let _ = client.try_send(&garbage);
    let mut codes = Vec::new();
    while let Some(reply) = client.reply() {
        codes.push(reply[..3].to_string());
    }
    assert_eq!(codes.len(), 7, "{codes:?}");
    assert!(codes[..6].iter().all(|c| c.starts_with('5')), "{codes:?}");
    assert_eq!(codes[6], "421");
    assert_eq!(send_message(trap.addr, "x@trap.example", GOOD), 250);
    assert!(wait_until(Duration::from_secs(5), || session_ends(&sink)
        .contains(&SessionEnd::TooManyBadCommands)));
    let record = sink
        .sessions
        .lock()
        .unwrap()
        .iter()
        .find(|s| s.end == SessionEnd::TooManyBadCommands)
        .cloned()
        .unwrap();
    assert!(
        record
            .transcript
            .iter()
            .any(|e| e.bytes.starts_with(b"\x16\x03\x01"))
    );
    assert!(record.dialect.explanation().contains("<garbage>"));
}

#[test]
fn a_line_without_end_is_cut_at_the_limit() {
    let mut config = test_config();
    config.max_line_len = 100;
    let (trap, sink) = TestTrap::start_recording(config);
    // Long enough to be refused.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    let _ = client.try_send(&[b'A'; 10_000]);
    assert!(
        client
            .reply()
            .unwrap()
            .starts_with("500 5.5.2 Line too long")
    );
    assert!(client.closed());
    // Exactly at the limit is fine; one byte over is not.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    let at_limit = format!("NOOP {}\r\n", "a".repeat(100 - 7));
    assert_eq!(at_limit.len(), 100);
    client.send(at_limit.as_bytes());
    assert_eq!(client.code(), 250);
    let over = format!("NOOP {}\r\n", "a".repeat(100 - 6));
    client.send(over.as_bytes());
    assert_eq!(client.code(), 500);
    assert!(client.closed());
    // No line end at all, then the client hangs up.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(b"EHLO half-a-line");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(client.closed());
    assert_eq!(send_message(trap.addr, "x@trap.example", GOOD), 250);
    assert!(wait_until(Duration::from_secs(5), || session_ends(&sink)
        .contains(&SessionEnd::ClientClosedEarly)));
    assert_eq!(
        trap.metrics
            .snapshot()
            .rejects_for(RejectReason::LineTooLong),
        2
    );
}

#[test]
fn hundred_megabyte_message_gets_552_while_others_are_served() {
    let mut config = test_config();
    config.max_message_bytes = 10 * 1024 * 1024;
    let (trap, sink) = TestTrap::start_recording(config);

    // Declared too large up front.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(b"EHLO big.example\r\n");
    let ehlo = client.reply().unwrap();
    assert!(ehlo.contains("250-SIZE 10485760"), "{ehlo}");
    client.send(b"MAIL FROM:<a@big.example> SIZE=104857600\r\n");
    assert!(client.reply().unwrap().starts_with("552 5.3.4"));

    // Undeclared: 100 MB of DATA.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(
        b"EHLO big.example\r\nMAIL FROM:<a@big.example>\r\nRCPT TO:<b@trap.example>\r\nDATA\r\n",
    );
    assert_eq!(client.code(), 250);
    assert_eq!(client.code(), 250);
    assert_eq!(client.code(), 250);
    assert_eq!(client.code(), 354);
    let mut writer = client.stream.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let line = [b"x".repeat(998), b"\r\n".to_vec()].concat();
        let chunk = line.repeat(1024); // about 1 MB
        for _ in 0..100 {
            if writer.write_all(&chunk).is_err() {
                return false;
            }
        }
        writer.write_all(b".\r\n").is_ok()
    });
    // Meanwhile other clients are served.
    for _ in 0..3 {
        assert_eq!(send_message(trap.addr, "x@trap.example", GOOD), 250);
    }
    assert!(
        flood.join().unwrap(),
        "the trap should read the whole flood"
    );
    assert!(client.reply().unwrap().starts_with("552 5.3.4"));
    assert!(client.closed());
    assert_eq!(send_message(trap.addr, "x@trap.example", GOOD), 250);
    assert_eq!(trap.records().len(), 4);
    assert!(wait_until(Duration::from_secs(5), || session_ends(&sink)
        .contains(&SessionEnd::MessageTooLarge)));
    assert_eq!(
        trap.metrics
            .snapshot()
            .rejects_for(RejectReason::MessageTooLarge),
        2
    );
}

#[test]
fn dot_stuffing_round_trips_byte_exact() {
    let trap = TestTrap::start(test_config());
    // On the wire, dot-stuffed: what the trap must store is `original`.
    let original: &[u8] =
        b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\n. \r\n\r.\r\nx.\r\n.\rbare-cr\r\nlast\r\n";
    let wire: &[u8] = b"Subject: dots\r\n\r\n..\r\n...\r\n..hidden\r\n.. \r\n\r.\r\nx.\r\n..\rbare-cr\r\nlast\r\n";
    assert_eq!(send_message(trap.addr, "dots@trap.example", wire), 250);
    // A body whose lines and terminator use bare LF.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(b"HELO lf.example\nMAIL FROM:<a@lf.example>\nRCPT TO:<b@trap.example>\nDATA\n");
    assert_eq!(client.code(), 250);
    assert_eq!(client.code(), 250);
    assert_eq!(client.code(), 250);
    assert_eq!(client.code(), 354);
    client.send(b"Subject: lf\n\n..x\n.\n");
    assert_eq!(client.code(), 250);
    let records = trap.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].message.bytes, original);
    assert_eq!(records[1].message.bytes, b"Subject: lf\n\n.x\n");
    let transcript = &records[1]
        .message
        .envelope
        .smtp
        .as_ref()
        .unwrap()
        .transcript;
    assert!(
        transcript.contains("eol: lf; body: bare-lf-end"),
        "{transcript}"
    );
}

#[test]
fn nothing_after_quit_is_answered() {
    let (trap, sink) = TestTrap::start_recording(test_config());
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(b"HELO q.example\r\nQUIT\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@trap.example>\r\nDATA\r\n");
    assert_eq!(client.code(), 250);
    assert!(client.reply().unwrap().starts_with("221 "));
    assert_eq!(client.reply(), None);
    assert!(wait_until(Duration::from_secs(5), || !session_ends(&sink).is_empty()));
    let record = sink.sessions.lock().unwrap()[0].clone();
    assert_eq!(record.end, SessionEnd::Quit);
    let notes: Vec<String> = record
        .transcript
        .iter()
        .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("57 bytes after QUIT ignored")),
        "{notes:?}"
    );
    assert!(trap.records().is_empty());
}

#[test]
fn a_thousand_idle_connections_do_not_block_mail() {
    let mut config = test_config();
    config.max_sessions = 1100;
    config.max_sessions_per_ip = 1100;
    config.command_timeout = Duration::from_secs(3);
    let trap = TestTrap::start(config);
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(trap.addr).unwrap())
        .collect();
    assert!(wait_until(Duration::from_secs(10), || trap
        .metrics
        .snapshot()
        .sessions
        >= 1000));
    assert_eq!(send_message(trap.addr, "busy@trap.example", GOOD), 250);
    // All of them time out and are closed with 421.
    assert!(wait_until(Duration::from_secs(15), || {
        trap.metrics
            .snapshot()
            .rejects_for(RejectReason::CommandTimeout)
            >= 1000
    }));
    for mut stream in idle.into_iter().step_by(100) {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut all = Vec::new();
        stream.read_to_end(&mut all).unwrap();
        let text = String::from_utf8_lossy(&all);
        assert!(
            text.starts_with("220 ") && text.contains("\r\n421 4.4.2"),
            "{text}"
        );
    }
    assert_eq!(trap.records().len(), 1);
}

#[test]
fn slowloris_is_cut_off_by_whole_line_timeouts() {
    let mut config = test_config();
    config.command_timeout = Duration::from_secs(2);
    config.data_timeout = Duration::from_secs(2);
    let trap = TestTrap::start(config);
    // One byte a second of a command.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    let started = Instant::now();
    let mut writer = client.stream.try_clone().unwrap();
    let drip = std::thread::spawn(move || {
        for &byte in b"EHLO slow.example\r\n" {
            if writer.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    assert!(client.reply().unwrap().starts_with("421 4.4.2"));
    assert!(client.closed());
    assert!(started.elapsed() < Duration::from_secs(8));
    // One byte a second of a message.
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client
        .send(b"EHLO s.example\r\nMAIL FROM:<a@s.example>\r\nRCPT TO:<b@trap.example>\r\nDATA\r\n");
    for expected in [250, 250, 250, 354] {
        assert_eq!(client.code(), expected);
    }
    let mut writer = client.stream.try_clone().unwrap();
    let drip_data = std::thread::spawn(move || {
        for &byte in b"Subject: slow\r\n\r\nbody\r\n.\r\n" {
            if writer.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    assert!(client.reply().unwrap().starts_with("421 4.4.2"));
    assert!(client.closed());
    assert_eq!(send_message(trap.addr, "x@trap.example", GOOD), 250);
    let stats = trap.stop();
    assert_eq!(stats.rejects_for(RejectReason::CommandTimeout), 1);
    assert_eq!(stats.rejects_for(RejectReason::DataTimeout), 1);
    assert_eq!(stats.messages_accepted, 1);
    drip.join().unwrap();
    drip_data.join().unwrap();
}

#[test]
fn recipient_and_session_limits() {
    let mut config = test_config();
    config.max_recipients = 3;
    config.max_sessions = 3;
    config.max_sessions_per_ip = 2;
    let trap = TestTrap::start(config);

    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(b"EHLO r.example\r\nMAIL FROM:<a@r.example>\r\n");
    assert_eq!(client.code(), 250);
    assert_eq!(client.code(), 250);
    for n in 0..4 {
        client.send(format!("RCPT TO:<r{n}@trap.example>\r\n").as_bytes());
        let reply = client.reply().unwrap();
        if n < 3 {
            assert!(reply.starts_with("250"), "{reply}");
        } else {
            assert!(reply.starts_with("452 4.5.3"), "{reply}");
        }
    }
    client.send(b"DATA\r\n");
    assert_eq!(client.code(), 354);
    client.send(b"Subject: r\r\n\r\nx\r\n.\r\n");
    assert_eq!(client.code(), 250);

    // Second session from the same IP is fine, the third is refused at connect.
    let mut second = RawClient::connect(trap.addr);
    assert_eq!(second.code(), 220);
    let mut third = RawClient::connect(trap.addr);
    let refused = third.reply().unwrap();
    assert!(
        refused.starts_with("421 4.7.0") && refused.contains("from your address"),
        "{refused}"
    );
    assert!(third.closed());
    drop(client);
    drop(second);
    // Once they are gone, new sessions are welcome again.
    assert!(wait_until(Duration::from_secs(5), || {
        let stats = trap.metrics.snapshot();
        stats.sessions == stats.sessions_closed
    }));
    assert_eq!(send_message(trap.addr, "x@trap.example", GOOD), 250);
    let records = trap.records();
    assert_eq!(
        records[0].message.envelope.smtp.as_ref().unwrap().rcpt_to,
        vec!["r0@trap.example", "r1@trap.example", "r2@trap.example"]
    );
    let stats = trap.stop();
    assert_eq!(stats.rejects_for(RejectReason::TooManyRecipients), 1);
    assert_eq!(stats.rejects_for(RejectReason::TooManySessionsPerIp), 1);
}

#[test]
fn total_session_limit_refuses_at_connect() {
    let mut config = test_config();
    config.max_sessions = 2;
    let trap = TestTrap::start(config);
    let mut first = RawClient::connect(trap.addr);
    let mut second = RawClient::connect(trap.addr);
    assert_eq!(first.code(), 220);
    assert_eq!(second.code(), 220);
    let mut third = RawClient::connect(trap.addr);
    let refused = third.reply().unwrap();
    assert!(
        refused.starts_with("421 4.7.0") && refused.contains("Too many connections,"),
        "{refused}"
    );
    first.send(b"QUIT\r\n");
    assert_eq!(first.code(), 221);
    assert!(wait_until(Duration::from_secs(5), || {
        let stats = trap.metrics.snapshot();
        stats.sessions_closed >= 2
    }));
    assert_eq!(send_message(trap.addr, "x@trap.example", GOOD), 250);
    assert_eq!(trap.stop().rejects_for(RejectReason::TooManySessions), 1);
}

#[test]
fn store_failure_gives_451_and_nothing_is_acknowledged() {
    let (trap, sink) = TestTrap::start_recording(test_config());
    sink.fail_next.store(1, Ordering::SeqCst);
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    for attempt in 0..2 {
        client.send(b"MAIL FROM:<a@f.example>\r\nRCPT TO:<b@trap.example>\r\nDATA\r\n");
        assert_eq!(client.code(), 250);
        assert_eq!(client.code(), 250);
        assert_eq!(client.code(), 354);
        client.send(b"Subject: retry\r\n\r\nx\r\n.\r\n");
        let reply = client.reply().unwrap();
        if attempt == 0 {
            assert!(reply.starts_with("451 4.3.0"), "{reply}");
        } else {
            assert!(reply.starts_with("250 2.0.0"), "{reply}");
        }
    }
    assert_eq!(trap.records().len(), 1);
    assert_eq!(trap.stop().rejects_for(RejectReason::StoreFailed), 1);
}

#[test]
fn shutdown_finishes_the_message_in_flight_then_closes() {
    let trap = TestTrap::start(test_config());
    let addr = trap.addr;
    let mut client = RawClient::connect(addr);
    assert_eq!(client.code(), 220);
    client
        .send(b"EHLO d.example\r\nMAIL FROM:<a@d.example>\r\nRCPT TO:<b@trap.example>\r\nDATA\r\n");
    for expected in [250, 250, 250, 354] {
        assert_eq!(client.code(), expected);
    }
    client.send(b"Subject: in flight\r\n\r\nfirst half\r\n");
    let idle = RawClient::connect(addr);
    let stopper = std::thread::spawn(move || trap.stop());
    // New connections are refused once the listener is closed.
    assert!(wait_until(Duration::from_secs(5), || TcpStream::connect(
        addr
    )
    .is_err()));
    client.send(b"second half\r\n.\r\n");
    assert!(client.reply().unwrap().starts_with("250 2.0.0"));
    assert!(client.reply().unwrap().starts_with("421 4.3.2"));
    assert!(client.closed());
    drop(idle);
    let stats = stopper.join().unwrap();
    assert_eq!(stats.messages_accepted, 1);
    assert!(!stats.drain_timed_out);
}

#[test]
fn metrics_are_served_over_http() {
    let mut config = test_config();
    config.metrics = Some("127.0.0.1:0".parse().unwrap());
    let trap = TestTrap::start(config);
    assert_eq!(send_message(trap.addr, "m@trap.example", GOOD), 250);
    let get = |path: &str| {
        let mut stream = TcpStream::connect(trap.metrics_addr.unwrap()).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let response = get("/metrics");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("Content-Type: text/plain; version=0.0.4"));
    assert!(
        response.contains("\nspamtrace_trap_messages_accepted_total 1\n"),
        "{response}"
    );
    assert!(response.contains(&format!(
        "\nspamtrace_trap_message_bytes_total {}\n",
        GOOD.len()
    )));
    assert!(response.contains("\nspamtrace_trap_sessions_total 1\n"));
    assert!(response.contains("# TYPE spamtrace_trap_rejects_total counter\n"));
    assert!(get("/").starts_with("HTTP/1.1 404"));
}

#[test]
fn clients_that_talk_before_the_greeting_are_marked() {
    let mut config = test_config();
    config.greeting_delay = Duration::from_millis(300);
    let trap = TestTrap::start(config);
    let mut client = RawClient::connect(trap.addr);
    client.send(b"EHLO eager.example\r\n");
    assert_eq!(client.code(), 220);
    assert_eq!(client.code(), 250);
    client.send(b"MAIL FROM:<a@eager.example>\r\nRCPT TO:<b@trap.example>\r\nDATA\r\n");
    for expected in [250, 250, 354] {
        assert_eq!(client.code(), expected);
    }
    client.send(b"Subject: eager\r\n\r\nx\r\n.\r\n");
    assert_eq!(client.code(), 250);
    let transcript = trap.records()[0]
        .message
        .envelope
        .smtp
        .clone()
        .unwrap()
        .transcript;
    assert!(transcript.contains("pregreet: yes"), "{transcript}");
    assert!(
        transcript.contains("client sent 20 bytes before the greeting"),
        "{transcript}"
    );
}

#[test]
fn a_command_flood_keeps_the_record_bounded() {
    let (trap, sink) = TestTrap::start_recording(test_config());
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    let noop = format!("NOOP {}\r\n", "n".repeat(1500));
    let mut writer = client.stream.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        for _ in 0..5000 {
            writer.write_all(noop.as_bytes()).unwrap();
        }
        writer.write_all(b"QUIT\r\n").unwrap();
    });
    let mut replies = 0;
    while let Some(reply) = client.reply() {
        replies += 1;
        if reply.starts_with("221") {
            break;
        }
    }
    flood.join().unwrap();
    assert_eq!(replies, 5001);
    assert!(wait_until(Duration::from_secs(5), || !session_ends(&sink).is_empty()));
    let record = sink.sessions.lock().unwrap()[0].clone();
    let bytes: usize = record.transcript.iter().map(|e| e.bytes.len()).sum();
    assert!(bytes <= 300 * 1024, "{bytes}");
    let last = record.transcript.last().unwrap();
    assert_eq!(last.bytes, b"session ended: quit");
    assert!(
        record
            .transcript
            .iter()
            .any(|e| e.bytes.starts_with(b"transcript truncated"))
    );
}

#[test]
fn messages_of_one_session_share_a_dialect() {
    let trap = TestTrap::start(test_config());
    let mut client = RawClient::connect(trap.addr);
    assert_eq!(client.code(), 220);
    client.send(b"EHLO many.example\r\n");
    assert_eq!(client.code(), 250);
    for n in 0..3 {
        client.send(b"MAIL FROM:<a@many.example>\r\n");
        assert_eq!(client.code(), 250);
        for r in 0..=n {
            client.send(format!("RCPT TO:<r{r}@trap.example>\r\n").as_bytes());
            assert_eq!(client.code(), 250);
        }
        client.send(b"DATA\r\n");
        assert_eq!(client.code(), 354);
        client.send(format!("Subject: {n}\r\n\r\nx\r\n.\r\n").as_bytes());
        assert_eq!(client.code(), 250);
    }
    client.send(b"QUIT\r\n");
    let sessions: Vec<_> = trap
        .records()
        .into_iter()
        .map(|r| r.message.envelope.smtp.unwrap())
        .collect();
    assert_eq!(sessions.len(), 3);
    assert!(sessions.iter().all(|s| s.dialect == sessions[0].dialect));
    assert!(!sessions[0].transcript.contains("omitted"));
    assert!(
        sessions[2]
            .transcript
            .contains("earlier lines of this session (previous transactions) omitted")
    );
    assert!(sessions[2].transcript.contains("EHLO many.example"));
    assert!(
        !sessions[2].transcript.contains("Subject"),
        "bodies stay out of transcripts"
    );
    assert_eq!(sessions[2].rcpt_to.len(), 3);
}
