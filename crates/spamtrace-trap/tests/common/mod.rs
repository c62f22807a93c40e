//! Shared helpers: a trap running in-process on a free loopback port with a
//! real durable spool sink, a tiny blocking SMTP client for hostile tests,
//! and the rule for external tools (skip locally when absent, fail in CI).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use spamtrace_mail::RawMessage;
use spamtrace_trap::{
    MessageSink, SessionRecord, SinkError, SpoolReader, SpoolRecord, SpoolSink, Trap, TrapConfig,
    TrapMetrics, TrapStats,
};

/// The real spool sink, plus the session records the trap reports, plus a
/// switch to make the next stores fail like a full disk would.
pub struct RecordingSink {
    pub spool: SpoolSink,
    pub sessions: Mutex<Vec<SessionRecord>>,
    pub fail_next: AtomicUsize,
}

impl MessageSink for RecordingSink {
    fn store(&self, message: RawMessage) -> Result<String, SinkError> {
        let failing = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(SinkError::Io(std::io::Error::other(
                "simulated: no space left on device",
            )));
        }
        self.spool.store(message)
    }

    fn session_closed(&self, session: &SessionRecord) {
        self.sessions.lock().unwrap().push(session.clone());
    }
}

/// A trap serving on `127.0.0.1:<free port>` from a background runtime.
pub struct TestTrap {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub metrics: Arc<TrapMetrics>,
    pub spool: PathBuf,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<TrapStats>>,
}

/// Defaults for tests: loopback, port 0, a short drain.
pub fn test_config() -> TrapConfig {
    let mut config = TrapConfig::new(vec!["127.0.0.1:0".parse().unwrap()]);
    config.hostname = "trap.test".into();
    config.drain_timeout = Duration::from_secs(10);
    config
}

impl TestTrap {
    /// Start with a spool sink in a fresh temporary directory.
    pub fn start(config: TrapConfig) -> TestTrap {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("trap.spool");
        let sink = Arc::new(SpoolSink::open(&spool).unwrap());
        TestTrap::start_with(config, sink, dir, spool)
    }

    /// Start with a [`RecordingSink`] over a spool in a fresh directory.
    pub fn start_recording(config: TrapConfig) -> (TestTrap, Arc<RecordingSink>) {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("trap.spool");
        let sink = Arc::new(RecordingSink {
            spool: SpoolSink::open(&spool).unwrap(),
            sessions: Mutex::new(Vec::new()),
            fail_next: AtomicUsize::new(0),
        });
        (TestTrap::start_with(config, sink.clone(), dir, spool), sink)
    }

    /// Start with any sink (`spool` is then only a path in `dir`).
    pub fn start_with(
        config: TrapConfig,
        sink: Arc<dyn MessageSink>,
        dir: tempfile::TempDir,
        spool: PathBuf,
    ) -> TestTrap {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let trap = Trap::bind(config, sink).await.unwrap();
                ready_tx
                    .send((trap.local_addrs()[0], trap.metrics_addr(), trap.metrics()))
                    .unwrap();
                trap.run(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap()
            })
        });
        let (addr, metrics_addr, metrics) = ready_rx.recv().unwrap();
        TestTrap {
            addr,
            metrics_addr,
            metrics,
            spool,
            dir,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message in the spool.
    pub fn records(&self) -> Vec<SpoolRecord> {
        SpoolReader::open(&self.spool)
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// Shut down (as on SIGTERM) and return the final counters.
    pub fn stop(mut self) -> TrapStats {
        self.stop.take().unwrap().send(()).ok();
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for TestTrap {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// True when `tool` exists. When it does not: panic under CI=true (CI must
/// install it), otherwise print why the test is skipped.
pub fn have_tool(tool: &str) -> bool {
    if Path::new(tool).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{tool} is missing; CI must install it (apt-get install -y swaks postfix)");
    }
    eprintln!("SKIPPED: {tool} is not installed (apt-get install -y swaks postfix)");
    false
}

/// A blocking SMTP client that sends exactly the bytes it is given.
pub struct RawClient {
    pub stream: TcpStream,
    buffer: Vec<u8>,
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        RawClient {
            stream,
            buffer: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Try to send; false if the trap already closed the connection.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Read one whole (possibly multi-line) reply; `None` at end of stream.
    pub fn reply(&mut self) -> Option<String> {
        let mut text = String::new();
        loop {
            let line = self.line()?;
            let last = line.as_bytes().get(3) != Some(&b'-');
            text.push_str(&line);
            if last {
                return Some(text);
            }
        }
    }

    /// The code of the next reply, 0 at end of stream.
    pub fn code(&mut self) -> u16 {
        self.reply()
            .and_then(|r| r.get(..3).and_then(|c| c.parse().ok()))
            .unwrap_or(0)
    }

    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(pos) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=pos).collect();
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// True when the trap closed the connection (read returns end of stream
    /// or reset) within the read timeout.
    pub fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Send one message over a fresh connection and return the final reply code.
pub fn send_message(addr: SocketAddr, to: &str, body: &[u8]) -> u16 {
    let mut client = RawClient::connect(addr);
    assert_eq!(client.code(), 220);
    client.send(b"EHLO client.test\r\n");
    assert_eq!(client.code(), 250);
    client.send(b"MAIL FROM:<sender@client.test>\r\n");
    assert_eq!(client.code(), 250);
    client.send(format!("RCPT TO:<{to}>\r\n").as_bytes());
    let rcpt = client.code();
    if rcpt != 250 {
        return rcpt;
    }
    client.send(b"DATA\r\n");
    assert_eq!(client.code(), 354);
    client.send(body);
    client.send(b".\r\n");
    let code = client.code();
    client.send(b"QUIT\r\n");
    code
}

/// Poll until `check` holds or `limit` passes.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}
