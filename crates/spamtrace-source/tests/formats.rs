//! Every input format, built as small fixtures in temporary folders and read
//! back through the public API.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use spamtrace_source::{
    ContentKind, Label, RawMessage, SourceItem, SourceOptions, TimeSource, detect_kind, read_paths,
    read_reader,
};

const MSG_A: &[u8] =
    b"Return-Path: <a@example.com>\nFrom: a@example.com\nSubject: first\n\nHello A.\n";
const MSG_B: &[u8] =
    b"From: b@example.com\nSubject: second\n\nFrom the start, B.\n>From quoted B\n>>From twice\n";
const MSG_C: &[u8] =
    b"Received: from x by y; Tue, 14 Jun 2005 19:52:09 -0400\nSubject: third\n\nC.\n";

fn collect(paths: &[PathBuf], opts: &SourceOptions) -> Vec<SourceItem> {
    read_paths(paths, opts).collect()
}

fn messages(items: &[SourceItem]) -> Vec<&RawMessage> {
    items
        .iter()
        .filter_map(|i| match i {
            SourceItem::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, bytes).unwrap();
}

/// mboxrd-quote a message: every `^>*From ` line gains one `>`.
fn mboxrd_quote(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in message.split_inclusive(|b| *b == b'\n') {
        let gt = line.iter().take_while(|b| **b == b'>').count();
        if line[gt..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
    out
}

/// An mboxrd file holding `messages` with asctime `From ` lines.
fn mboxrd(messages: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        writeln!(
            out,
            "From sender{i}@example.com  Tue Jun 14 19:52:0{i} 2005"
        )
        .unwrap();
        out.extend_from_slice(&mboxrd_quote(m));
        out.push(b'\n');
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

fn error_text(item: &SourceItem) -> Option<(&Path, &str)> {
    match item {
        SourceItem::Error { path, error } => Some((path, error)),
        _ => None,
    }
}

#[test]
fn single_eml_file_with_any_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inmail.42");
    write(&path, MSG_A);
    let opts = SourceOptions {
        label: Some(Label::Spam),
        ..SourceOptions::default()
    };
    let items = collect(std::slice::from_ref(&path), &opts);
    assert_eq!(items.len(), 1);
    let m = messages(&items)[0];
    assert_eq!(m.bytes, MSG_A);
    assert_eq!(m.envelope.source, path.to_string_lossy());
    assert_eq!(m.envelope.offset, None);
    assert_eq!(m.envelope.received_at, None);
    assert_eq!(m.envelope.label, Some(Label::Spam));
    assert_eq!(items[0].byte_len(), MSG_A.len() as u64);
}

#[test]
fn mboxrd_quoting_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box");
    let data = mboxrd(&[MSG_A, MSG_B, MSG_C]);
    write(&path, &data);
    let items = collect(std::slice::from_ref(&path), &SourceOptions::default());
    let msgs = messages(&items);
    assert_eq!(items.len(), 3);
    assert_eq!(msgs[0].bytes, MSG_A);
    assert_eq!(
        msgs[1].bytes,
        MSG_B,
        "{}",
        String::from_utf8_lossy(&msgs[1].bytes)
    );
    assert_eq!(msgs[2].bytes, MSG_C);
    for (i, m) in msgs.iter().enumerate() {
        let offset = m.envelope.offset.unwrap() as usize;
        let expected = format!("From sender{i}@example.com");
        assert!(
            data[offset..].starts_with(expected.as_bytes()),
            "offset of message {i}"
        );
        let (t, clock) = m.envelope.received_at.unwrap();
        assert_eq!(clock, TimeSource::MboxFrom);
        assert_eq!(t, 1_118_778_720 + i as i64, "2005-06-14 19:52:0{i} UTC");
    }
}

#[test]
fn mbox_separators_need_blank_line_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mboxo");
    // Unquoted body `From ` lines: one without a blank line before it, one
    // without a clock time; neither splits. Odd and RFC 2822 dates still split.
    let data = b"From a@x Tue Jun 14 19:52:09 2005\nSubject: one\n\nbody\nFrom me 12:00 is not a separator\n\n\
From home recordings to mp3s\n\nFrom b@x  ??? 12:34 ???\nSubject: two\n\n\
From c@x  Wed, 15 Jun 2005 10:00:00 +0200\nSubject: three\n\nlast\n";
    write(&path, data);
    let items = collect(std::slice::from_ref(&path), &SourceOptions::default());
    let msgs = messages(&items);
    assert_eq!(msgs.len(), 3);
    assert_eq!(
        msgs[0].bytes,
        b"Subject: one\n\nbody\nFrom me 12:00 is not a separator\n\nFrom home recordings to mp3s\n"
    );
    assert_eq!(msgs[1].bytes, b"Subject: two\n");
    assert_eq!(msgs[1].envelope.received_at, None, "odd date gives None");
    assert_eq!(
        msgs[2].envelope.received_at,
        Some((1_118_822_400, TimeSource::MboxFrom))
    );
    assert_eq!(msgs[2].bytes, b"Subject: three\n\nlast\n");
}

#[test]
fn mbox_with_crlf_and_leading_blank_lines() {
    let data = b"\r\n\r\nFrom a@x Tue Jun 14 19:52:09 2005\r\nSubject: one\r\n\r\n>From q\r\n\r\nFrom b@x Tue Jun 14 19:53:09 2005\r\nSubject: two\r\n\r\nx\r\n";
    let items: Vec<_> = read_reader("crlf", &data[..], &SourceOptions::default()).collect();
    let msgs = messages(&items);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].bytes, b"Subject: one\r\n\r\nFrom q\r\n");
    assert_eq!(msgs[0].envelope.offset, Some(4));
    assert_eq!(msgs[1].bytes, b"Subject: two\r\n\r\nx\r\n");
}

#[test]
fn empty_mbox_messages_are_kept() {
    let data = b"From a@x Tue Jun 14 19:52:09 2005\n\nFrom b@x Tue Jun 14 19:52:09 2005\n";
    let items: Vec<_> = read_reader("empty", &data[..], &SourceOptions::default()).collect();
    assert_eq!(messages(&items).len(), 2, "{items:?}");
    assert!(messages(&items).iter().all(|m| m.bytes.is_empty()));
}

#[test]
fn maildir_reads_cur_and_new_not_tmp() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Maildir");
    let with_rcpt = b"Delivered-To: trap@example.org\nFrom: x@y\nSubject: hi\n\nbody\n";
    write(&md.join("cur/1700000000.M1P1.host:2,S"), with_rcpt);
    write(&md.join("new/1700000001.M2P1.host"), MSG_A);
    write(&md.join("tmp/1700000002.M3P1.host"), MSG_B);
    write(&md.join(".Junk/cur/1700000003.M4P1.host:2,"), MSG_C);
    write(&md.join(".Junk/maildirfolder"), b"");
    write(
        &md.join("dovecot-uidlist"),
        b"3 V1700000000 N5\n1 1700000000.M1P1.host\n",
    );
    write(&md.join("dovecot.index"), b"\x01\x00\x00\x00binary");
    write(&md.join(".DS_Store"), b"\x00\x00\x00\x01Bud1");
    let items = collect(std::slice::from_ref(&md), &SourceOptions::default());
    let msgs = messages(&items);
    assert_eq!(msgs.len(), 3, "{items:?}");
    // Sorted by name: `.Junk` < `cur` < `new`.
    assert_eq!(msgs[0].bytes, MSG_C);
    assert_eq!(msgs[1].bytes, with_rcpt);
    assert_eq!(
        msgs[1].envelope.recipient.as_deref(),
        Some("trap@example.org")
    );
    assert_eq!(msgs[2].bytes, MSG_A);
    assert_eq!(msgs[2].envelope.recipient, None);
    let skipped: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            SourceItem::Skipped { path, .. } => {
                Some(path.file_name().unwrap().to_string_lossy().into_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ".DS_Store",
            "maildirfolder",
            "dovecot-uidlist",
            "dovecot.index"
        ]
    );
    assert!(!items.iter().any(|i| matches!(i, SourceItem::Error { .. })));
}

#[test]
fn trec_index_followed_explicitly_skipped_in_walk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("trec");
    write(&root.join("data/inmail.1"), MSG_A);
    write(&root.join("data/inmail.2"), MSG_B);
    write(&root.join("data/inmail.3"), &gzip(MSG_C));
    let index = root.join("full/index");
    write(
        &index,
        b"spam ../data/inmail.2\n\nham ../data/inmail.1\nbogus line here\nspam ../data/missing\nHAM ../data/inmail.3\n",
    );
    let opts = SourceOptions {
        label: Some(Label::Spam),
        ..SourceOptions::default()
    };
    let items = collect(std::slice::from_ref(&index), &opts);
    assert_eq!(items.len(), 5, "{items:?}");
    let msgs = messages(&items);
    let got: Vec<(&[u8], Option<Label>, &str)> = msgs
        .iter()
        .map(|m| (&m.bytes[..], m.envelope.label, m.envelope.source.as_str()))
        .collect();
    let src = |n: &str| root.join("data").join(n).to_string_lossy().into_owned();
    assert_eq!(got[0], (MSG_B, Some(Label::Spam), src("inmail.2").as_str()));
    assert_eq!(got[1], (MSG_A, Some(Label::Ham), src("inmail.1").as_str()));
    assert_eq!(got[2], (MSG_C, Some(Label::Ham), src("inmail.3").as_str()));
    let (path, error) = error_text(&items[2]).expect("bad line is an error");
    assert_eq!(path, index);
    assert!(error.contains("line 4"), "{error}");
    let (path, error) = error_text(&items[3]).expect("missing file is an error");
    assert_eq!(path, root.join("data/missing"));
    assert!(error.contains("missing"), "{error}");

    // Walking the folder reads each message once and skips the index.
    let items = collect(std::slice::from_ref(&root), &SourceOptions::default());
    assert_eq!(messages(&items).len(), 3);
    assert!(
        matches!(&items[3], SourceItem::Skipped { path, reason } if *path == index && reason.contains("index"))
    );
}

#[test]
fn directory_walk_is_sorted_and_recursive() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("b/2"), MSG_B);
    write(&dir.path().join("a/z/1"), MSG_A);
    write(&dir.path().join("c"), MSG_C);
    write(&dir.path().join("a/y"), &mboxrd(&[MSG_A, MSG_C]));
    let items = collect(&[dir.path().to_path_buf()], &SourceOptions::default());
    let got: Vec<&[u8]> = messages(&items).iter().map(|m| &m.bytes[..]).collect();
    assert_eq!(got, [MSG_A, MSG_C, MSG_A, MSG_B, MSG_C]);
}

#[test]
fn gzip_and_zstd_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = mboxrd(&[MSG_A, MSG_B]);
    let files = [
        ("eml.gz", gzip(MSG_A), 1),
        ("eml.zst", zstd(MSG_B), 1),
        ("mbox.gz", gzip(&mbox), 2),
        ("mbox.zst", zstd(&mbox), 2),
        ("nested", gzip(&zstd(&mbox)), 2),
    ];
    for (name, bytes, _) in &files {
        write(&dir.path().join(name), bytes);
    }
    for (name, _, count) in &files {
        let path = dir.path().join(name);
        let items = collect(std::slice::from_ref(&path), &SourceOptions::default());
        assert_eq!(messages(&items).len(), *count, "{name}: {items:?}");
        assert_eq!(items.len(), *count, "{name}");
    }
    let items = collect(&[dir.path().join("mbox.zst")], &SourceOptions::default());
    assert_eq!(messages(&items)[1].bytes, MSG_B);
    // Concatenated gzip members (as `cat a.gz b.gz` makes) read as one stream.
    let mut two = gzip(&mboxrd(&[MSG_A]));
    two.extend(gzip(&mboxrd(&[MSG_C])));
    let items: Vec<_> =
        read_reader("two", std::io::Cursor::new(two), &SourceOptions::default()).collect();
    assert_eq!(messages(&items).len(), 2);
    // A compressed TREC index is followed too.
    write(&dir.path().join("m/1"), MSG_A);
    let index = dir.path().join("index.gz");
    write(&index, &gzip(b"spam m/1\n"));
    let items = collect(&[index], &SourceOptions::default());
    assert_eq!(messages(&items)[0].envelope.label, Some(Label::Spam));
}

#[test]
fn compression_bombs_in_layers_are_skipped() {
    let mut bytes = MSG_A.to_vec();
    for _ in 0..4 {
        bytes = gzip(&bytes);
    }
    let items: Vec<_> = read_reader(
        "layers",
        std::io::Cursor::new(bytes),
        &SourceOptions::default(),
    )
    .collect();
    assert!(
        matches!(&items[..], [SourceItem::Skipped { reason, .. }] if reason.contains("compressed")),
        "{items:?}"
    );
}

#[test]
fn truncated_compressed_files_keep_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    // Incompressible bodies, so that the compressed stream has many blocks
    // and half of it decodes to many messages.
    let mut state: u32 = 7;
    let mut noise = |n: usize| -> String {
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                char::from(b'a' + (state >> 24) as u8 % 26)
            })
            .collect()
    };
    let many: Vec<Vec<u8>> = (0..200)
        .map(|i| format!("Subject: {i}\n\n{}\n", noise(2000 + i)).into_bytes())
        .collect();
    let refs: Vec<&[u8]> = many.iter().map(|m| &m[..]).collect();
    let mbox = mboxrd(&refs);
    for (name, compressed) in [("cut.mbox.gz", gzip(&mbox)), ("cut.mbox.zst", zstd(&mbox))] {
        let path = dir.path().join(name);
        write(&path, &compressed[..compressed.len() / 2]);
        let items = collect(std::slice::from_ref(&path), &SourceOptions::default());
        let (last, before) = items.split_last().unwrap();
        let (err_path, error) =
            error_text(last).unwrap_or_else(|| panic!("{name}: last item {last:?}"));
        assert_eq!(err_path, path);
        assert!(error.contains("truncated"), "{error}");
        assert!(
            before.len() > 10 && before.len() < 200,
            "{name}: {} messages before the cut",
            before.len()
        );
        for (item, original) in before.iter().zip(&many) {
            assert!(
                matches!(item, SourceItem::Message(m) if m.bytes == *original),
                "{name}"
            );
        }
    }
    let path = dir.path().join("cut.eml.gz");
    let compressed = gzip(&many.concat());
    write(&path, &compressed[..compressed.len() - 20]);
    let items = collect(std::slice::from_ref(&path), &SourceOptions::default());
    assert!(
        matches!(&items[..], [SourceItem::Error { path: p, .. }] if *p == path),
        "{items:?}"
    );
}

#[test]
fn oversized_single_files() {
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<u8> = [MSG_A, &vec![b'y'; 10_000]].concat();
    write(&dir.path().join("big.eml"), &big);
    write(&dir.path().join("big.eml.gz"), &gzip(&big));
    write(&dir.path().join("fits.eml"), MSG_A);
    let opts = SourceOptions {
        max_message_bytes: 4096,
        ..SourceOptions::default()
    };
    let items = collect(&[dir.path().to_path_buf()], &opts);
    assert_eq!(items.len(), 3);
    for item in &items[..2] {
        match item {
            SourceItem::Oversized {
                source,
                offset,
                size,
                head,
            } => {
                assert!(source.ends_with("big.eml") || source.ends_with("big.eml.gz"));
                assert_eq!(*offset, None);
                assert_eq!(*size, big.len() as u64);
                assert_eq!(head[..], big[..4096]);
                assert_eq!(item.byte_len(), big.len() as u64);
            }
            other => panic!("expected oversized, got {other:?}"),
        }
    }
    assert!(matches!(&items[2], SourceItem::Message(m) if m.bytes == MSG_A));
}

#[test]
fn oversized_message_inside_mbox_leaves_neighbours_intact() {
    let huge: Vec<u8> = [
        &b"Subject: huge\n\n"[..],
        &vec![b'z'; 50_000],
        b"\n",
        &vec![b'w'; 3000],
        b"\n",
    ]
    .concat();
    let data = mboxrd(&[MSG_A, &huge, MSG_C]);
    let opts = SourceOptions {
        max_message_bytes: 2000,
        ..SourceOptions::default()
    };
    let items: Vec<_> = read_reader("box", std::io::Cursor::new(data.clone()), &opts).collect();
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(matches!(&items[0], SourceItem::Message(m) if m.bytes == MSG_A));
    match &items[1] {
        SourceItem::Oversized {
            source,
            offset,
            size,
            head,
        } => {
            assert_eq!(source, "box");
            assert!(data[offset.unwrap() as usize..].starts_with(b"From sender1@"));
            assert_eq!(head[..], huge[..2000]);
            assert_eq!(*size, huge.len() as u64, "without the mbox's blank line");
        }
        other => panic!("expected oversized, got {other:?}"),
    }
    assert!(matches!(&items[2], SourceItem::Message(m) if m.bytes == MSG_C));
}

#[test]
fn separator_right_at_the_limit_is_still_seen() {
    // The first message fills the limit exactly, so the next `From ` line
    // arrives when there is no room left.
    let first: Vec<u8> = [&b"Subject: a\n\n"[..], &[b'q'; 87], b"\n"].concat();
    assert_eq!(first.len(), 100);
    let data = mboxrd(&[&first, MSG_C]);
    let opts = SourceOptions {
        max_message_bytes: 100,
        ..SourceOptions::default()
    };
    let items: Vec<_> = read_reader("edge", std::io::Cursor::new(data), &opts).collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(&items[0], SourceItem::Message(m) if m.bytes == first));
    assert!(matches!(&items[1], SourceItem::Message(m) if m.bytes == MSG_C));
}

#[test]
fn bsmtp_transcripts() {
    let data = b"HELO example.com\r\nMAIL FROM:<s@x>\r\nRCPT TO:<trap@example.org>\r\nRCPT TO:<b@x>\r\nDATA\r\n\
From s@x  Fri Aug 31 13:39:16 2001\r\nSubject: one\r\n\r\n..dotted\r\n.\r\nMAIL FROM:<t@x>\r\nRCPT TO:<c@x>\r\nDATA\r\nSubject: two\r\n\r\nx\r\n.\r\nQUIT\r\n";
    assert_eq!(detect_kind(data), ContentKind::Bsmtp);
    let items: Vec<_> = read_reader("bsmtp", &data[..], &SourceOptions::default()).collect();
    let msgs = messages(&items);
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(msgs[0].bytes, b"Subject: one\r\n\r\n.dotted\r\n");
    assert_eq!(
        msgs[0].envelope.recipient.as_deref(),
        Some("trap@example.org")
    );
    assert_eq!(
        msgs[0].envelope.received_at,
        Some((999_265_156, TimeSource::MboxFrom))
    );
    assert_eq!(msgs[1].bytes, b"Subject: two\r\n\r\nx\r\n");
    assert_eq!(msgs[1].envelope.recipient.as_deref(), Some("c@x"));
    // Data that never ends is an error, not a silent partial message.
    let cut = b"HELO x\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nDATA\nSubject: cut\n";
    let items: Vec<_> = read_reader("cut", &cut[..], &SourceOptions::default()).collect();
    assert!(
        matches!(&items[..], [SourceItem::Error { error, .. }] if error.contains("terminating")),
        "{items:?}"
    );
}

#[test]
fn reader_input_like_stdin() {
    let items: Vec<_> = read_reader("stdin", MSG_A, &SourceOptions::default()).collect();
    assert!(
        matches!(&items[..], [SourceItem::Message(m)] if m.bytes == MSG_A && m.envelope.source == "stdin")
    );
    let items: Vec<_> = read_reader(
        "stdin",
        std::io::Cursor::new(gzip(MSG_B)),
        &SourceOptions::default(),
    )
    .collect();
    assert!(matches!(&items[..], [SourceItem::Message(m)] if m.bytes == MSG_B));
    let items: Vec<_> =
        read_reader("stdin", &b"spam ../x\n"[..], &SourceOptions::default()).collect();
    assert!(matches!(&items[..], [SourceItem::Skipped { .. }]));
}

#[test]
fn unreadable_paths_are_errors_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file");
    let good = dir.path().join("good/1");
    write(&good, MSG_A);
    std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("good/dangling"))
        .unwrap();
    let items = collect(
        &[missing.clone(), dir.path().join("good")],
        &SourceOptions::default(),
    );
    assert_eq!(items.len(), 3, "{items:?}");
    let (path, error) = error_text(&items[0]).unwrap();
    assert_eq!(path, missing);
    assert!(
        error.contains("no-such-file") && error.contains("check"),
        "{error}"
    );
    assert!(matches!(&items[1], SourceItem::Message(m) if m.bytes == MSG_A));
    let (path, error) = error_text(&items[2]).unwrap();
    assert!(path.ends_with("dangling"), "{path:?}");
    assert!(error.contains("dangling"), "{error}");
}

#[test]
fn explicit_non_mail_is_skipped_with_reason() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.txt");
    write(
        &feed,
        b"https://phish.example/login\nhttps://other.example/x\n",
    );
    let items = collect(std::slice::from_ref(&feed), &SourceOptions::default());
    assert!(
        matches!(&items[..], [SourceItem::Skipped { path, reason }] if *path == feed && reason.contains("feed"))
    );
}

#[test]
fn binary_garbage_never_panics() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet =
        b"From \n\r>:.HELOMAIL FROM:RCPT TO:DATA\x1f\x8b\x28\xb5\x2f\xfd\x00spam ham 12:00";
    for round in 0..400 {
        let len = (next() % 3000) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                if round % 2 == 0 {
                    alphabet[(r % alphabet.len() as u64) as usize]
                } else {
                    r as u8
                }
            })
            .collect();
        let opts = SourceOptions {
            max_message_bytes: 1 + (next() % 2000) as usize,
            ..SourceOptions::default()
        };
        let mut total = 0u64;
        for item in read_reader("garbage", std::io::Cursor::new(bytes.clone()), &opts) {
            if let SourceItem::Message(m) = &item {
                assert!(m.bytes.len() <= opts.max_message_bytes);
            }
            total += item.byte_len();
        }
        assert!(total <= len as u64, "never more bytes out than in");
    }
}

#[test]
fn long_line_without_newline_is_bounded() {
    // 3 MB without a newline in an mbox and as one message: kept to the limit.
    let mut data = b"From a@x Tue Jun 14 19:52:09 2005\nSubject: x\n\n".to_vec();
    data.extend(std::iter::repeat_n(b'A', 3_000_000));
    let opts = SourceOptions {
        max_message_bytes: 10_000,
        ..SourceOptions::default()
    };
    let items: Vec<_> = read_reader("long", std::io::Cursor::new(data), &opts).collect();
    assert!(
        matches!(&items[..], [SourceItem::Oversized { head, size, .. }] if head.len() == 10_000 && *size > 3_000_000)
    );
}

/// Reads `bytes` as a small plain file (whole-file fast path where it
/// applies) and as a stream (line by line), and checks both agree.
fn assert_file_and_stream_agree(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    max: usize,
) -> Vec<SourceItem> {
    let path = dir.join(name);
    write(&path, bytes);
    let opts = SourceOptions {
        max_message_bytes: max,
        ..SourceOptions::default()
    };
    let from_file = collect(std::slice::from_ref(&path), &opts);
    let source = path.to_string_lossy().into_owned();
    let from_stream: Vec<_> =
        read_reader(&source, std::io::Cursor::new(bytes.to_vec()), &opts).collect();
    assert!(
        from_file == from_stream,
        "{name}: {from_file:?}\n{from_stream:?}"
    );
    from_file
}

#[test]
fn whole_file_and_streaming_mbox_reading_agree() {
    let dir = tempfile::tempdir().unwrap();
    let from = b"From a@x Tue Jun 14 19:52:09 2005\n";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("plain", [&from[..], MSG_A].concat()),
        ("trailing-blank", [&from[..], MSG_A, b"\n"].concat()),
        (
            "crlf-blank",
            [&from[..], b"Subject: x\r\n\r\nbody\r\n\r\n"].concat(),
        ),
        ("only-blank", [&from[..], b"\n"].concat()),
        ("only-from", from.to_vec()),
        ("no-newline", b"From a@x Tue Jun 14 19:52:09 2005".to_vec()),
        ("quoted", [&from[..], MSG_B].concat()),
        (
            "mid-line-from",
            [&from[..], b"Subject: x\n\nsent From here\n"].concat(),
        ),
        ("two", mboxrd(&[MSG_A, MSG_C])),
        (
            "prose-from",
            [&from[..], b"Subject: x\n\nFrom home recordings\n"].concat(),
        ),
        (
            "huge-from-line",
            [b"From ".as_slice(), &[b'a'; 2000], b"\nSubject: x\n"].concat(),
        ),
        ("bom", [b"\xef\xbb\xbf".as_slice(), from, MSG_A].concat()),
    ];
    for (name, bytes) in &cases {
        let items = assert_file_and_stream_agree(dir.path(), name, bytes, 1 << 20);
        assert!(!items.is_empty(), "{name}");
    }
    // Around the size limit.
    let body = [&from[..], b"Subject: x\n\n", &[b'b'; 100], b"\n\n"].concat();
    for max in [100, 111, 112, 113, 114, 200] {
        assert_file_and_stream_agree(dir.path(), &format!("limit-{max}"), &body, max);
    }
}

#[test]
fn extreme_limits_do_not_panic() {
    let data = mboxrd(&[MSG_A, MSG_B]);
    for max in [0, 1, usize::MAX] {
        let opts = SourceOptions {
            max_message_bytes: max,
            ..SourceOptions::default()
        };
        for input in [MSG_A.to_vec(), data.clone(), gzip(MSG_C)] {
            let items: Vec<_> = read_reader("x", std::io::Cursor::new(input), &opts).collect();
            assert!(!items.is_empty());
            if max == usize::MAX {
                assert!(items.iter().all(|i| matches!(i, SourceItem::Message(_))));
            } else {
                assert!(
                    items.iter().all(
                        |i| matches!(i, SourceItem::Oversized { head, .. } if head.len() <= max)
                    )
                );
            }
        }
    }
}

#[test]
fn fifty_megabyte_message_is_read_whole_under_the_default_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.eml");
    let mut big = b"Subject: big\n\n".to_vec();
    big.resize(50 * 1024 * 1024, b'b');
    write(&path, &big);
    let items = collect(std::slice::from_ref(&path), &SourceOptions::default());
    assert!(
        matches!(&items[..], [SourceItem::Message(m)] if m.bytes.len() == big.len() && m.bytes == big)
    );
}
