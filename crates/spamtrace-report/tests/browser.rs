//! The report in a real browser: headless Chromium driven over WebDriver by
//! chromedriver (a tiny HTTP client below, on loopback). Checks that the
//! charts are in the DOM, that nothing was loaded, that the console holds no
//! error (a Content-Security-Policy violation is one), and saves a full-page
//! screenshot under `target/report-screenshot.png`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`. Skipped when
//! they are missing, unless CI=true, where a missing browser is a failure.

mod common;

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, killed when the test ends however it ends.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to chromedriver; returns the JSON body.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to chromedriver");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // chromedriver keeps the connection open: read the head, then exactly
    // Content-Length bytes of body.
    let mut response = Vec::new();
    let mut buf = [0u8; 65536];
    let (head, body_start, length) = loop {
        let n = stream.read(&mut buf).expect("read chromedriver response");
        assert!(n > 0, "chromedriver closed the connection early");
        response.extend_from_slice(&buf[..n]);
        if let Some(i) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..i]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .expect("Content-Length");
            break (head, i + 4, length);
        }
    };
    while response.len() < body_start + length {
        let n = stream.read(&mut buf).expect("read chromedriver body");
        assert!(n > 0, "chromedriver closed the connection early");
        response.extend_from_slice(&buf[..n]);
    }
    let json = String::from_utf8_lossy(&response[body_start..body_start + length]).to_string();
    let value: Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {head}\n{json}"));
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "{method} {path}: {head}\n{value}"
    );
    value
}

fn start_driver() -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

/// A browser session, closed (browser and all) when the test ends however it ends.
struct Session {
    port: u16,
    id: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                self.id
            );
            let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
            let _ = s.read(&mut [0u8; 1024]);
        }
    }
}

/// A browser session with a fresh profile directory.
fn new_session(port: u16, profile: &Path) -> Session {
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:loggingPrefs": {"browser": "ALL"},
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,900",
                     format!("--user-data-dir={}", profile.display())]
        }
    }}});
    let v = http(port, "POST", "/session", Some(&caps));
    Session {
        port,
        id: v["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_string(),
    }
}

fn script(port: u16, session: &str, code: &str) -> Value {
    http(
        port,
        "POST",
        &format!("/session/{session}/execute/sync"),
        Some(&json!({"script": code, "args": []})),
    )["value"]
        .clone()
}

fn console(port: u16, session: &str) -> Vec<Value> {
    let v = http(
        port,
        "POST",
        &format!("/session/{session}/se/log"),
        Some(&json!({"type": "browser"})),
    );
    v["value"].as_array().cloned().unwrap_or_default()
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

#[test]
fn report_renders_in_chromium_with_charts_and_no_console_errors() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "chromium and chromium-driver must be installed on CI"
        );
        eprintln!("skipped: install the Debian packages chromium and chromium-driver");
        return;
    }
    let dir = tempfile_dir();
    let report = dir.join("report.html");
    // Hostile text in every field: the browser must not run or load any of it.
    let hostile = |n: &str| {
        if n.starts_with("c-") {
            format!("{n}</style><script>alert(1)</script><img src=x onerror=alert(2)>")
        } else {
            n.to_string()
        }
    };
    std::fs::write(&report, spamtrace_report::render(&common::sample(&hostile))).unwrap();
    // A control page that breaks the same policy, to prove violations do reach the log.
    let control = dir.join("control.html");
    std::fs::write(
        &control,
        format!(
            "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"{}\"></head><body><p style=\"color:red\">x</p><script>1</script></body></html>",
            spamtrace_report::content_security_policy()
        ),
    )
    .unwrap();

    let driver = start_driver();
    let port = driver.port;
    let browser = new_session(port, &dir.join("profile"));
    let session = browser.id.clone();

    http(
        port,
        "POST",
        &format!("/session/{session}/url"),
        Some(&json!({"url": file_url(&control)})),
    );
    let control_errors: Vec<Value> = console(port, &session)
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(
        control_errors.iter().any(|e| e["message"]
            .as_str()
            .unwrap_or("")
            .contains("Content Security Policy")),
        "the control page's CSP violations were not logged: {control_errors:?}"
    );

    http(
        port,
        "POST",
        &format!("/session/{session}/url"),
        Some(&json!({"url": file_url(&report)})),
    );
    let dom = script(
        port,
        &session,
        "return {svgs: document.querySelectorAll('svg.chart').length,
                 paths: document.querySelectorAll('svg.chart path.layer').length,
                 markers: document.querySelectorAll('svg.chart g.marker').length,
                 scripts: document.querySelectorAll('script').length,
                 imgs: document.querySelectorAll('img').length,
                 resources: performance.getEntriesByType('resource').length,
                 styled: getComputedStyle(document.querySelector('header.top')).backgroundColor,
                 headline: document.querySelector('.headline h2').textContent,
                 height: document.documentElement.scrollHeight,
                 chartWidth: document.querySelector('svg.chart').getBoundingClientRect().width};",
    );
    let errors: Vec<Value> = console(port, &session)
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    assert!(dom["svgs"].as_u64().unwrap() >= 7, "{dom}");
    assert!(dom["paths"].as_u64().unwrap() >= 10, "{dom}");
    assert!(dom["markers"].as_u64().unwrap() >= 2, "{dom}");
    assert_eq!(dom["scripts"], 0, "{dom}");
    assert_eq!(dom["imgs"], 0, "{dom}");
    assert_eq!(dom["resources"], 0, "nothing may load: {dom}");
    // The hashed stylesheet applied (the header is dark blue, not transparent).
    assert_eq!(dom["styled"], "rgb(16, 42, 67)", "{dom}");
    assert!(
        dom["headline"].as_str().unwrap().contains("went silent"),
        "{dom}"
    );
    assert!(dom["chartWidth"].as_f64().unwrap() > 800.0, "{dom}");

    // The first screen, as a reader sees it on opening the file.
    use base64::Engine;
    let first = http(port, "GET", &format!("/session/{session}/screenshot"), None)["value"]
        .as_str()
        .unwrap()
        .to_string();
    let first = base64::engine::general_purpose::STANDARD
        .decode(first)
        .unwrap();
    std::fs::create_dir_all(target_dir()).unwrap();
    std::fs::write(target_dir().join("report-screenshot-top.png"), &first).unwrap();
    // Full-page screenshot: grow the window to the page, then capture.
    let height = dom["height"].as_u64().unwrap().clamp(900, 16_000);
    http(
        port,
        "POST",
        &format!("/session/{session}/window/rect"),
        Some(&json!({"width": 1280, "height": height})),
    );
    let png = http(port, "GET", &format!("/session/{session}/screenshot"), None)["value"]
        .as_str()
        .unwrap()
        .to_string();
    let png = base64::engine::general_purpose::STANDARD
        .decode(png)
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let out = target_dir().join("report-screenshot.png");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, &png).unwrap();
    std::fs::copy(&report, target_dir().join("report-sample.html")).unwrap();
    eprintln!(
        "screenshot: {}",
        out.canonicalize().unwrap_or(out).display()
    );
    drop(browser);
    drop(driver);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory for the report and the browser profile.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "spamtrace-report-browser-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
