//! One SMTP session: framing, the command state machine, DATA, STARTTLS and
//! the record of everything the client did.
//!
//! Commands are framed here (not by smtp-proto's receiver) because the trap
//! must keep every line byte-exact, bound each line, time each one out as a
//! whole and know whether it arrived before the previous reply (pipelining);
//! smtp-proto only parses each framed line.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use spamtrace_mail::{Envelope, RawMessage, SmtpSession, TimeSource};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Duration, sleep_until, timeout};
use tokio_rustls::TlsAcceptor;

use crate::data::{BodyProgress, BodyReceiver, DataEnd};
use crate::dialect::{ClientAct, Dialect, dialect_fingerprint, split_ending, verb_of};
use crate::metrics::{RejectReason, TrapMetrics};
use crate::transcript::{Speaker, TranscriptEntry, escape_bytes, render};
use crate::{MessageSink, TrapConfig, config::normalize_domain};

/// Transcript entries kept per session; a client that floods commands keeps
/// being served but stops being recorded (memory stays bounded).
const MAX_TRANSCRIPT_ENTRIES: usize = 2_000;
/// Bytes of transcript kept per session (with the entry cap, this bounds a
/// session's record to a few hundred KB even with maximal command lines).
const MAX_TRANSCRIPT_BYTES: usize = 256 * 1024;
/// Client acts kept per session for the dialect fingerprint.
const MAX_ACTS: usize = 2_000;
/// Bytes of command lines kept in those acts.
const MAX_ACT_BYTES: usize = 256 * 1024;
/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client sent QUIT.
    Quit,
    /// The client closed the connection between commands.
    ClientClosed,
    /// The client closed the connection in the middle of a line or a message.
    ClientClosedEarly,
    /// No whole command within the command timeout.
    CommandTimeout,
    /// No whole message within the data timeout.
    DataTimeout,
    /// A command line longer than the limit.
    LineTooLong,
    /// Too many unrecognised or malformed commands.
    TooManyBadCommands,
    /// A message larger than the limit.
    MessageTooLarge,
    /// The TLS handshake after STARTTLS failed.
    TlsFailed(String),
    /// The trap is shutting down.
    Shutdown,
    /// Reading from or writing to the client failed.
    Io(String),
}

impl std::fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionEnd::Quit => f.write_str("quit"),
            SessionEnd::ClientClosed => f.write_str("client closed the connection"),
            SessionEnd::ClientClosedEarly => {
                f.write_str("client closed the connection mid-line or mid-message")
            }
            SessionEnd::CommandTimeout => f.write_str("command timeout"),
            SessionEnd::DataTimeout => f.write_str("data timeout"),
            SessionEnd::LineTooLong => f.write_str("command line too long"),
            SessionEnd::TooManyBadCommands => f.write_str("too many bad commands"),
            SessionEnd::MessageTooLarge => f.write_str("message too large"),
            SessionEnd::TlsFailed(why) => write!(f, "TLS handshake failed: {why}"),
            SessionEnd::Shutdown => f.write_str("trap shutting down"),
            SessionEnd::Io(why) => write!(f, "connection error: {why}"),
        }
    }
}

/// Everything recorded about one session, handed to
/// [`MessageSink::session_closed`] when it ends.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The client's address.
    pub client: SocketAddr,
    /// The trap address it connected to.
    pub local: SocketAddr,
    /// Connect time, Unix seconds.
    pub started_at: i64,
    /// Session length in milliseconds.
    pub duration_ms: u64,
    /// The last HELO/EHLO argument, as sent.
    pub helo: Option<String>,
    /// Whether STARTTLS succeeded.
    pub tls: bool,
    /// Messages stored in this session.
    pub messages: u32,
    /// How it ended.
    pub end: SessionEnd,
    /// The client's dialect over the whole session.
    pub dialect: Dialect,
    /// The conversation (capped at a few thousand entries).
    pub transcript: Vec<TranscriptEntry>,
}

/// What all sessions of one trap share.
pub(crate) struct Shared {
    pub(crate) config: TrapConfig,
    pub(crate) sink: Arc<dyn MessageSink>,
    pub(crate) metrics: Arc<TrapMetrics>,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

enum ReadOutcome {
    Data,
    Eof,
    Timeout,
    Shutdown,
    Failed(String),
}

enum Flow {
    Continue,
    StartTls,
    End(SessionEnd),
}

struct Session {
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    client: SocketAddr,
    local: SocketAddr,
    started: Instant,
    started_at: i64,
    inbuf: Vec<u8>,
    /// Bytes of `inbuf` already consumed.
    start: usize,
    outbuf: Vec<u8>,
    last_flush: Instant,
    transcript: Vec<TranscriptEntry>,
    transcript_bytes: usize,
    transcript_truncated: bool,
    acts: Vec<ClientAct>,
    act_bytes: usize,
    /// The command waiting for its first reply: (line, pipelined).
    unanswered: Option<(Vec<u8>, bool)>,
    /// Transcript and act indices where the greeting phase ended (first MAIL).
    greeting_end: Option<(usize, usize)>,
    /// Transcript and act indices where the current transaction began.
    transaction_start: (usize, usize),
    helo: Option<String>,
    tls: bool,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    bad_commands: usize,
    messages: u32,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Serve one accepted connection to its end.
pub(crate) async fn run_session(
    shared: Arc<Shared>,
    stream: TcpStream,
    client: SocketAddr,
    local: SocketAddr,
    // Held for the life of the session (session limits); released before the
    // session is counted as closed, so the counters never run ahead of them.
    limits: impl Send,
) {
    let now = Instant::now();
    let mut session = Session {
        shutdown: shared.shutdown.clone(),
        shared,
        client,
        local,
        started: now,
        started_at: unix_now(),
        inbuf: Vec::with_capacity(READ_CHUNK),
        start: 0,
        outbuf: Vec::with_capacity(1024),
        last_flush: now,
        transcript: Vec::new(),
        transcript_bytes: 0,
        transcript_truncated: false,
        acts: Vec::new(),
        act_bytes: 0,
        unanswered: None,
        greeting_end: None,
        transaction_start: (0, 0),
        helo: None,
        tls: false,
        mail_from: None,
        rcpt_to: Vec::new(),
        bad_commands: 0,
        messages: 0,
    };
    let end = session.drive(stream).await;
    session.note(format!("session ended: {end}"));
    let record = SessionRecord {
        client,
        local,
        started_at: session.started_at,
        duration_ms: session.started.elapsed().as_millis() as u64,
        helo: session.helo.clone(),
        tls: session.tls,
        messages: session.messages,
        dialect: dialect_fingerprint(&session.acts),
        end,
        transcript: std::mem::take(&mut session.transcript),
    };
    tracing::debug!(
        client = %record.client,
        helo = record.helo.as_deref().unwrap_or(""),
        tls = record.tls,
        messages = record.messages,
        dialect = %record.dialect.id,
        end = %record.end,
        "session closed"
    );
    drop(limits);
    session.shared.metrics.session_closed();
    session.shared.sink.session_closed(&record);
}

impl Session {
    fn config(&self) -> &TrapConfig {
        &self.shared.config
    }

    fn at_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn record(&mut self, speaker: Speaker, bytes: Vec<u8>, pipelined: bool, pause_ms: Option<u64>) {
        let full = self.transcript.len() >= MAX_TRANSCRIPT_ENTRIES
            || self.transcript_bytes + bytes.len() > MAX_TRANSCRIPT_BYTES;
        // The closing note always fits, so every record says how it ended.
        let closing = speaker == Speaker::Note && bytes.starts_with(b"session ended");
        if full && !closing {
            if !self.transcript_truncated {
                self.transcript_truncated = true;
                let at_ms = self.at_ms();
                self.transcript.push(TranscriptEntry {
                    at_ms,
                    speaker: Speaker::Note,
                    bytes: b"transcript truncated: size limit reached".to_vec(),
                    pipelined: false,
                    pause_ms: None,
                });
            }
            return;
        }
        let at_ms = self.at_ms();
        self.transcript_bytes += bytes.len();
        self.transcript.push(TranscriptEntry {
            at_ms,
            speaker,
            bytes,
            pipelined,
            pause_ms,
        });
    }

    fn note(&mut self, text: String) {
        self.record(Speaker::Note, text.into_bytes(), false, None);
    }

    fn act(&mut self, act: ClientAct) {
        let size = match &act {
            ClientAct::Command { line, .. } => line.len(),
            ClientAct::Pregreet | ClientAct::Body { .. } => 0,
        };
        if self.acts.len() < MAX_ACTS && self.act_bytes + size <= MAX_ACT_BYTES {
            self.act_bytes += size;
            self.acts.push(act);
        }
    }

    /// Queue a reply (sent at the next flush). The first reply to a command
    /// also records the command as a dialect act with that reply code.
    fn reply(&mut self, text: &str) {
        debug_assert!(text.ends_with("\r\n"));
        let code = text.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if let Some((line, pipelined)) = self.unanswered.take() {
            self.act(ClientAct::Command {
                line,
                pipelined,
                reply: code,
            });
        }
        self.outbuf.extend_from_slice(text.as_bytes());
        self.record(Speaker::Trap, text.as_bytes().to_vec(), false, None);
    }

    fn unconsumed(&self) -> usize {
        self.inbuf.len() - self.start
    }

    async fn flush<S: AsyncWrite + Unpin>(&mut self, io: &mut S) -> Result<(), SessionEnd> {
        if self.outbuf.is_empty() {
            return Ok(());
        }
        let write = async {
            io.write_all(&self.outbuf).await?;
            io.flush().await
        };
        match timeout(self.shared.config.command_timeout, write).await {
            Ok(Ok(())) => {
                self.outbuf.clear();
                self.last_flush = Instant::now();
                Ok(())
            }
            Ok(Err(error)) => Err(SessionEnd::Io(error.to_string())),
            Err(_) => Err(SessionEnd::Io("client stopped reading replies".into())),
        }
    }

    /// Read more bytes into the input buffer, until `deadline`, watching for
    /// shutdown when `watch_shutdown`.
    async fn read_more<S: AsyncRead + Unpin>(
        &mut self,
        io: &mut S,
        deadline: tokio::time::Instant,
        watch_shutdown: bool,
    ) -> ReadOutcome {
        if self.start > 0 {
            self.inbuf.drain(..self.start);
            self.start = 0;
        }
        self.inbuf.reserve(READ_CHUNK);
        let inbuf = &mut self.inbuf;
        let shutdown = &mut self.shutdown;
        tokio::select! {
            biased;
            read = io.read_buf(inbuf) => match read {
                Ok(0) => ReadOutcome::Eof,
                Ok(_) => ReadOutcome::Data,
                Err(error) => ReadOutcome::Failed(error.to_string()),
            },
            _ = sleep_until(deadline) => ReadOutcome::Timeout,
            _ = crate::stop_requested(shutdown), if watch_shutdown => ReadOutcome::Shutdown,
        }
    }

    async fn drive(&mut self, mut tcp: TcpStream) -> SessionEnd {
        let delay = self.config().greeting_delay;
        if !delay.is_zero() {
            let deadline = tokio::time::Instant::now() + delay;
            loop {
                match self.read_more(&mut tcp, deadline, true).await {
                    ReadOutcome::Data if self.unconsumed() > 64 * 1024 => break,
                    ReadOutcome::Data => continue,
                    ReadOutcome::Timeout => break,
                    ReadOutcome::Eof => return SessionEnd::ClientClosed,
                    ReadOutcome::Shutdown => return SessionEnd::Shutdown,
                    ReadOutcome::Failed(why) => return SessionEnd::Io(why),
                }
            }
            if self.unconsumed() > 0 {
                self.act(ClientAct::Pregreet);
                let n = self.unconsumed();
                self.note(format!("client sent {n} bytes before the greeting"));
            }
        }
        let greeting = format!("220 {} ESMTP ready\r\n", self.config().hostname);
        self.reply(&greeting);
        match self.converse(&mut tcp).await {
            Flow::End(end) => {
                self.close(&mut tcp).await;
                return end;
            }
            Flow::Continue | Flow::StartTls => {}
        }
        let Some(acceptor) = self.shared.tls.clone() else {
            return SessionEnd::Io("STARTTLS without a TLS setup".into());
        };
        let handshake = timeout(self.config().command_timeout, acceptor.accept(tcp)).await;
        let mut stream = match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                self.shared.metrics.reject(RejectReason::TlsFailed);
                return SessionEnd::TlsFailed(error.to_string());
            }
            Err(_) => {
                self.shared.metrics.reject(RejectReason::TlsFailed);
                return SessionEnd::TlsFailed("handshake timed out".into());
            }
        };
        self.tls = true;
        self.shared.metrics.tls_session();
        let (_, connection) = stream.get_ref();
        let version = connection
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default();
        let suite = connection
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        self.note(format!("TLS established: {version} {suite}"));
        // RFC 3207 4.2: forget what the client said before TLS.
        self.helo = None;
        self.reset_transaction();
        let end = match self.converse(&mut stream).await {
            Flow::End(end) => end,
            Flow::Continue | Flow::StartTls => SessionEnd::Io("STARTTLS inside TLS".into()),
        };
        self.close(&mut stream).await;
        end
    }

    async fn close<S: AsyncRead + AsyncWrite + Unpin>(&mut self, io: &mut S) {
        let _ = self.flush(io).await;
        let _ = timeout(Duration::from_secs(1), io.shutdown()).await;
        // Lingering close: closing a socket with unread input makes the kernel
        // send RST, which can destroy our last reply (552, 421) before the
        // client reads it. Swallow what is still coming, briefly and bounded.
        let mut sink = [0u8; 4096];
        let mut swallowed = 0usize;
        let _ = timeout(Duration::from_millis(500), async {
            while swallowed < 1024 * 1024 {
                match io.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => swallowed += n,
                }
            }
        })
        .await;
    }

    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(&mut self, io: &mut S) -> Flow {
        loop {
            let (line, pipelined, pause) = match self.next_line(io).await {
                Ok(line) => line,
                Err(end) => return Flow::End(end),
            };
            match self.handle(line, pipelined, pause, io).await {
                Flow::Continue => {}
                other => return other,
            }
        }
    }

    /// The next command line, replying and ending the session on timeout,
    /// over-long lines, shutdown or a closed connection.
    async fn next_line<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
    ) -> Result<(Vec<u8>, bool, Option<u64>), SessionEnd> {
        // Bytes already here arrived before the previous reply was sent.
        let pipelined = self.unconsumed() > 0;
        let deadline = tokio::time::Instant::now() + self.config().command_timeout;
        let max_line = self.config().max_line_len;
        loop {
            let pending = &self.inbuf[self.start..];
            let found = memchr::memchr(b'\n', pending);
            if let Some(pos) = found
                && pos < max_line
            {
                let line = pending[..=pos].to_vec();
                self.start += pos + 1;
                let pause = (!pipelined).then(|| self.last_flush.elapsed().as_millis() as u64);
                return Ok((line, pipelined, pause));
            }
            if found.is_some() || pending.len() >= max_line {
                let shown = pending[..pending.len().min(200)].to_vec();
                self.note(format!(
                    "command line over {max_line} bytes, starting {}",
                    escape_bytes(&shown)
                ));
                self.shared.metrics.reject(RejectReason::LineTooLong);
                self.reply("500 5.5.2 Line too long\r\n");
                self.flush(io).await?;
                return Err(SessionEnd::LineTooLong);
            }
            self.flush(io).await?;
            if *self.shutdown.borrow() {
                return Err(self.shutting_down(io).await);
            }
            match self.read_more(io, deadline, true).await {
                ReadOutcome::Data => {}
                ReadOutcome::Eof => {
                    if self.unconsumed() > 0 {
                        let rest = self.inbuf[self.start..].to_vec();
                        self.note(format!(
                            "unterminated line at close: {}",
                            escape_bytes(&rest)
                        ));
                        return Err(SessionEnd::ClientClosedEarly);
                    }
                    return Err(SessionEnd::ClientClosed);
                }
                ReadOutcome::Timeout => {
                    self.shared.metrics.reject(RejectReason::CommandTimeout);
                    let text = format!(
                        "421 4.4.2 {} Timeout waiting for a command, closing\r\n",
                        self.config().hostname
                    );
                    self.reply(&text);
                    let _ = self.flush(io).await;
                    return Err(SessionEnd::CommandTimeout);
                }
                ReadOutcome::Shutdown => return Err(self.shutting_down(io).await),
                ReadOutcome::Failed(why) => return Err(SessionEnd::Io(why)),
            }
        }
    }

    async fn shutting_down<S: AsyncWrite + Unpin>(&mut self, io: &mut S) -> SessionEnd {
        let text = format!(
            "421 4.3.2 {} Service shutting down, try again later\r\n",
            self.config().hostname
        );
        self.reply(&text);
        let _ = self.flush(io).await;
        SessionEnd::Shutdown
    }

    fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.transaction_start = (self.transcript.len(), self.acts.len());
    }

    /// Count a bad command; past the limit, say goodbye.
    fn bad_command(&mut self, reply: &str) -> Flow {
        self.shared.metrics.reject(RejectReason::BadCommand);
        self.reply(reply);
        self.bad_commands += 1;
        if self.bad_commands > self.config().max_bad_commands {
            self.shared.metrics.reject(RejectReason::TooManyBadCommands);
            self.reply("421 4.7.0 Too many errors, closing\r\n");
            return Flow::End(SessionEnd::TooManyBadCommands);
        }
        Flow::Continue
    }

    fn recipient_allowed(&self, address: &str) -> bool {
        let Some(domains) = &self.config().domains else {
            return true;
        };
        // A source route (`@relay:user@domain`) names the mailbox last.
        let mailbox = address.rsplit(':').next().unwrap_or(address);
        if mailbox.eq_ignore_ascii_case("postmaster") {
            return true; // RFC 5321 4.5.1: always accepted.
        }
        match mailbox.rsplit_once('@') {
            Some((_, domain)) => {
                let domain = normalize_domain(domain);
                domains.contains(&domain)
            }
            None => false,
        }
    }

    async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        line: Vec<u8>,
        pipelined: bool,
        pause: Option<u64>,
        io: &mut S,
    ) -> Flow {
        self.record(Speaker::Client, line.clone(), pipelined, pause);
        let (content, _) = split_ending(&line);
        let verb = verb_of(content);
        if verb == "MAIL" && self.greeting_end.is_none() {
            self.greeting_end = Some((self.transcript.len().saturating_sub(1), self.acts.len()));
        }
        self.unanswered = Some((line.clone(), pipelined));
        let parsed = smtp_proto::Request::parse(&mut line.iter());
        match parsed {
            Ok(smtp_proto::Request::Ehlo { host }) => {
                self.helo = Some(host.into_owned());
                self.reset_transaction();
                let hostname = self.config().hostname.clone();
                let size = self.config().max_message_bytes;
                let mut text = format!(
                    "250-{hostname} greets you\r\n250-PIPELINING\r\n250-SIZE {size}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                );
                if self.shared.tls.is_some() && !self.tls {
                    text.push_str("250-STARTTLS\r\n");
                }
                text.push_str("250 ENHANCEDSTATUSCODES\r\n");
                self.reply(&text);
                Flow::Continue
            }
            Ok(smtp_proto::Request::Helo { host }) => {
                self.helo = Some(host.into_owned());
                self.reset_transaction();
                let text = format!("250 {}\r\n", self.config().hostname);
                self.reply(&text);
                Flow::Continue
            }
            // The address is taken from the line as sent: smtp-proto
            // normalises some (`<postmaster>` comes back empty, source
            // routes are cut), and the trap records what the client said.
            Ok(smtp_proto::Request::Mail { from }) => {
                let address = raw_path(content).unwrap_or_else(|| from.address.into_owned());
                self.mail(address, from.size)
            }
            Ok(smtp_proto::Request::Rcpt { to }) => {
                let address = raw_path(content).unwrap_or_else(|| to.address.into_owned());
                self.rcpt(address)
            }
            Ok(smtp_proto::Request::Data) => self.data(io).await,
            Ok(smtp_proto::Request::Rset) => {
                self.reset_transaction();
                self.reply("250 2.0.0 Ok\r\n");
                Flow::Continue
            }
            Ok(smtp_proto::Request::Noop { .. }) => {
                self.reply("250 2.0.0 Ok\r\n");
                Flow::Continue
            }
            Ok(smtp_proto::Request::Vrfy { .. }) => {
                self.reply("252 2.5.0 Cannot VRFY user, but will accept message\r\n");
                Flow::Continue
            }
            Ok(smtp_proto::Request::Help { .. }) => {
                self.reply("214 2.0.0 See RFC 5321\r\n");
                Flow::Continue
            }
            Ok(smtp_proto::Request::Quit) => {
                self.reply("221 2.0.0 Bye\r\n");
                if self.unconsumed() > 0 {
                    let rest = self.inbuf[self.start..].to_vec();
                    self.note(format!(
                        "{} bytes after QUIT ignored: {}",
                        rest.len(),
                        escape_bytes(&rest[..rest.len().min(200)])
                    ));
                }
                Flow::End(SessionEnd::Quit)
            }
            Ok(smtp_proto::Request::StartTls) => {
                if self.shared.tls.is_none() {
                    return self.bad_command("502 5.5.1 STARTTLS not available\r\n");
                }
                if self.tls {
                    return self.bad_command("503 5.5.1 Already in TLS\r\n");
                }
                self.reply("220 2.0.0 Ready to start TLS\r\n");
                if self.unconsumed() > 0 {
                    // Plaintext sent after STARTTLS must not be taken as
                    // coming through TLS (CVE-2011-0411): drop it.
                    let injected = self.inbuf[self.start..].to_vec();
                    self.note(format!(
                        "discarded {} bytes sent after STARTTLS before the handshake: {}",
                        injected.len(),
                        escape_bytes(&injected[..injected.len().min(200)])
                    ));
                    self.start = self.inbuf.len();
                }
                match self.flush(io).await {
                    Ok(()) => Flow::StartTls,
                    Err(end) => Flow::End(end),
                }
            }
            Ok(smtp_proto::Request::Expn { .. }) => {
                self.bad_command("502 5.5.1 EXPN not available\r\n")
            }
            Ok(smtp_proto::Request::Auth { .. }) => {
                self.bad_command("502 5.5.1 AUTH not available\r\n")
            }
            Ok(smtp_proto::Request::Bdat { .. }) => {
                self.bad_command("502 5.5.1 CHUNKING not offered\r\n")
            }
            Ok(
                smtp_proto::Request::Lhlo { .. }
                | smtp_proto::Request::Etrn { .. }
                | smtp_proto::Request::Atrn { .. }
                | smtp_proto::Request::Burl { .. },
            ) => self.bad_command("502 5.5.1 Command not implemented\r\n"),
            Err(smtp_proto::Error::UnknownCommand) => {
                self.bad_command("500 5.5.2 Command not recognized\r\n")
            }
            Err(error) => {
                // Ratware often omits the angle brackets; Postfix accepts
                // that by default and so does the trap, to get the message.
                if (verb == "MAIL" || verb == "RCPT")
                    && let Some(address) = raw_path(content).filter(|a| !a.is_empty())
                {
                    return if verb == "MAIL" {
                        self.mail(address, 0)
                    } else {
                        self.rcpt(address)
                    };
                }
                let text = match error {
                    smtp_proto::Error::SyntaxError { syntax } => {
                        format!("501 5.5.4 Syntax: {syntax}\r\n")
                    }
                    smtp_proto::Error::InvalidSenderAddress => {
                        "501 5.1.7 Bad sender address syntax\r\n".to_string()
                    }
                    smtp_proto::Error::InvalidRecipientAddress => {
                        "501 5.1.3 Bad recipient address syntax\r\n".to_string()
                    }
                    smtp_proto::Error::InvalidParameter { param } => {
                        format!("501 5.5.4 Invalid parameter {param}\r\n")
                    }
                    smtp_proto::Error::UnsupportedParameter { param } => {
                        let param = escape_bytes(param.as_bytes());
                        format!("555 5.5.4 Unsupported parameter {param}\r\n")
                    }
                    _ => "500 5.5.2 Command not recognized\r\n".to_string(),
                };
                self.bad_command(&text)
            }
        }
    }

    fn mail(&mut self, address: String, declared_size: usize) -> Flow {
        if self.mail_from.is_some() {
            return self.bad_command("503 5.5.1 Error: nested MAIL command\r\n");
        }
        if declared_size > self.config().max_message_bytes {
            self.shared.metrics.reject(RejectReason::MessageTooLarge);
            let text = format!(
                "552 5.3.4 Message size exceeds fixed limit of {} bytes\r\n",
                self.config().max_message_bytes
            );
            self.reply(&text);
            return Flow::Continue;
        }
        self.transaction_start = (self.transcript.len().saturating_sub(1), self.acts.len());
        self.mail_from = Some(address);
        self.reply("250 2.1.0 Ok\r\n");
        Flow::Continue
    }

    fn rcpt(&mut self, address: String) -> Flow {
        if address.is_empty() {
            return self.bad_command("501 5.1.3 Empty recipient address\r\n");
        }
        if self.mail_from.is_none() {
            return self.bad_command("503 5.5.1 Error: need MAIL command\r\n");
        }
        if self.rcpt_to.len() >= self.config().max_recipients {
            self.shared.metrics.reject(RejectReason::TooManyRecipients);
            self.reply("452 4.5.3 Error: too many recipients\r\n");
            return Flow::Continue;
        }
        if !self.recipient_allowed(&address) {
            self.shared.metrics.reject(RejectReason::RecipientDomain);
            let shown = escape_bytes(address.as_bytes());
            let text = format!("550 5.7.1 <{shown}>: Relay access denied\r\n");
            self.reply(&text);
            return Flow::Continue;
        }
        self.rcpt_to.push(address);
        self.reply("250 2.1.5 Ok\r\n");
        Flow::Continue
    }

    async fn data<S: AsyncRead + AsyncWrite + Unpin>(&mut self, io: &mut S) -> Flow {
        if self.mail_from.is_none() {
            return self.bad_command("503 5.5.1 Error: need MAIL command\r\n");
        }
        if self.rcpt_to.is_empty() {
            // Normal when every pipelined RCPT was refused (RFC 2920 3.1).
            self.reply("554 5.5.1 Error: no valid recipients\r\n");
            return Flow::Continue;
        }
        self.reply("354 End data with <CR><LF>.<CR><LF>\r\n");
        if let Err(end) = self.flush(io).await {
            return Flow::End(end);
        }
        let deadline = tokio::time::Instant::now() + self.config().data_timeout;
        let mut receiver = BodyReceiver::new(self.config().max_message_bytes);
        let ended = loop {
            let (used, progress) = receiver.feed(&self.inbuf[self.start..]);
            self.start += used;
            if let BodyProgress::Done(end) = progress {
                break end;
            }
            match self.read_more(io, deadline, false).await {
                ReadOutcome::Data => {}
                ReadOutcome::Eof => {
                    self.note(format!(
                        "connection closed inside DATA after {} bytes",
                        receiver.size()
                    ));
                    return Flow::End(SessionEnd::ClientClosedEarly);
                }
                ReadOutcome::Timeout | ReadOutcome::Shutdown => {
                    self.note(format!("DATA timed out after {} bytes", receiver.size()));
                    self.shared.metrics.reject(RejectReason::DataTimeout);
                    let text = format!(
                        "421 4.4.2 {} Timeout receiving the message, closing\r\n",
                        self.config().hostname
                    );
                    self.reply(&text);
                    return Flow::End(SessionEnd::DataTimeout);
                }
                ReadOutcome::Failed(why) => return Flow::End(SessionEnd::Io(why)),
            }
        };
        self.act(ClientAct::Body {
            bare_lf_end: ended == DataEnd::BareLf,
            bare_lf_lines: receiver.bare_lf,
        });
        let end_text = match ended {
            DataEnd::CrLf => "CRLF.CRLF",
            DataEnd::BareLf => "LF.LF (bare LF)",
        };
        self.note(format!(
            "message data: {} bytes, ended by {end_text}",
            receiver.size()
        ));
        if receiver.overflowed() {
            self.shared.metrics.reject(RejectReason::MessageTooLarge);
            let text = format!(
                "552 5.3.4 Message size exceeds fixed limit of {} bytes\r\n",
                self.config().max_message_bytes
            );
            self.reply(&text);
            return Flow::End(SessionEnd::MessageTooLarge);
        }
        let body = std::mem::take(&mut receiver.body);
        self.store(body).await;
        self.reset_transaction();
        Flow::Continue
    }

    /// The acts and transcript that describe the current message: the
    /// greeting phase plus this transaction (earlier transactions of the same
    /// session are left out so every message of a session reads alike).
    fn message_view(&self) -> (Dialect, String) {
        let (greeting_transcript, greeting_acts) = self.greeting_end.unwrap_or((0, 0));
        let (tx_transcript, tx_acts) = self.transaction_start;
        let mut acts: Vec<ClientAct> = self.acts[..greeting_acts.min(self.acts.len())].to_vec();
        acts.extend_from_slice(&self.acts[tx_acts.min(self.acts.len())..]);
        let dialect = dialect_fingerprint(&acts);
        let greeting = &self.transcript[..greeting_transcript.min(self.transcript.len())];
        let tx_from = tx_transcript.min(self.transcript.len());
        let transaction = &self.transcript[tx_from..];
        let omitted = tx_from.saturating_sub(greeting.len());
        let mut text = format!(
            "# spamtrace trap: client {} to {}, connected at {} (Unix seconds), tls {}\n# dialect {}: {}\n",
            self.client,
            self.local,
            self.started_at,
            if self.tls { "yes" } else { "no" },
            dialect.id,
            dialect.explanation()
        );
        text.push_str(&render(greeting));
        if omitted > 0 {
            text.push_str(&format!(
                "-- {omitted} earlier lines of this session (previous transactions) omitted\n"
            ));
        }
        text.push_str(&render(transaction));
        (dialect, text)
    }

    async fn store(&mut self, body: Vec<u8>) {
        let (dialect, transcript) = self.message_view();
        let size = body.len();
        let mail_from = self.mail_from.clone().unwrap_or_default();
        let message = RawMessage {
            bytes: body,
            envelope: Envelope {
                source: format!("smtp://{}", self.client),
                received_at: Some((unix_now(), TimeSource::Trap)),
                recipient: self.rcpt_to.first().cloned(),
                smtp: Some(SmtpSession {
                    client: self.client.to_string(),
                    helo: self.helo.clone().unwrap_or_default(),
                    tls: self.tls,
                    mail_from: mail_from.clone(),
                    rcpt_to: self.rcpt_to.clone(),
                    dialect: dialect.id.clone(),
                    transcript,
                }),
                ..Envelope::default()
            },
        };
        let sink = self.shared.sink.clone();
        let stored = tokio::task::spawn_blocking(move || sink.store(message)).await;
        match stored {
            Ok(Ok(id)) => {
                self.messages += 1;
                self.shared.metrics.message_accepted(size);
                tracing::info!(
                    id = %id,
                    client = %self.client,
                    helo = self.helo.as_deref().unwrap_or(""),
                    from = %mail_from,
                    rcpts = self.rcpt_to.len(),
                    bytes = size,
                    tls = self.tls,
                    dialect = %dialect.id,
                    "message stored"
                );
                let short: Cow<str> = match id.get(..16) {
                    Some(prefix) => Cow::Borrowed(prefix),
                    None => Cow::Borrowed(id.as_str()),
                };
                let text = format!(
                    "250 2.0.0 Ok: stored as {}\r\n",
                    escape_bytes(short.as_bytes())
                );
                self.reply(&text);
            }
            Ok(Err(error)) => {
                self.shared.metrics.reject(RejectReason::StoreFailed);
                tracing::warn!(client = %self.client, %error, "could not store a message; the client was told to retry (451)");
                self.note(format!("store failed: {error}"));
                self.reply("451 4.3.0 Temporary storage failure, try again later\r\n");
            }
            Err(join_error) => {
                self.shared.metrics.reject(RejectReason::StoreFailed);
                tracing::error!(client = %self.client, error = %join_error, "the message sink panicked; the client was told to retry (451)");
                self.note("store failed: sink panicked".into());
                self.reply("451 4.3.0 Temporary storage failure, try again later\r\n");
            }
        }
    }
}

/// The address of a `MAIL FROM:` / `RCPT TO:` line as sent: what is between
/// the angle brackets (empty for `<>`), or the first word after the colon
/// when the brackets are missing (`MAIL FROM: a@b.example`, which ratware
/// sends and Postfix accepts by default).
fn raw_path(content: &[u8]) -> Option<String> {
    let colon = memchr::memchr(b':', content)?;
    let after = &content[colon + 1..];
    let start = after.iter().position(|&b| b != b' ')?;
    let after = &after[start..];
    let address = if let Some(inner) = after.strip_prefix(b"<") {
        &inner[..memchr::memchr(b'>', inner)?]
    } else {
        let end = after.iter().position(|&b| b == b' ').unwrap_or(after.len());
        &after[..end]
    };
    if address.len() > 256 || address.iter().any(|&b| b < b' ' || b == 0x7f) {
        return None;
    }
    Some(String::from_utf8_lossy(address).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_sent() {
        assert_eq!(
            raw_path(b"MAIL FROM: a@b.example").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(raw_path(b"RCPT TO:<c@d> junk").as_deref(), Some("c@d"));
        assert_eq!(
            raw_path(b"RCPT TO:<Postmaster>").as_deref(),
            Some("Postmaster")
        );
        assert_eq!(raw_path(b"MAIL FROM:<>").as_deref(), Some(""));
        assert_eq!(
            raw_path(b"RCPT TO:<@a.example:c@d.example>").as_deref(),
            Some("@a.example:c@d.example")
        );
        assert_eq!(raw_path(b"RCPT TO:<unterminated"), None);
        assert_eq!(raw_path(b"RCPT TO:"), None);
        assert_eq!(raw_path(b"RCPT"), None);
    }
}
