//! The listener: binds, enforces the session limits at connect, spawns one
//! task per session and drains them on shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::metrics::{RejectReason, TrapMetrics, TrapStats, serve_metrics};
use crate::session::{Shared, run_session};
use crate::{MessageSink, TrapConfig, TrapError};

/// A trap whose sockets are bound, ready to [`Trap::run`].
///
/// Binding first and running second lets callers learn the real addresses
/// (port 0 in tests) before any client connects.
pub struct Trap {
    shared: Arc<Shared>,
    listeners: Vec<TcpListener>,
    local_addrs: Vec<SocketAddr>,
    metrics_listener: Option<TcpListener>,
    metrics_addr: Option<SocketAddr>,
    shutdown_tx: watch::Sender<bool>,
}

impl Trap {
    /// Validate `config`, prepare TLS (generating the self-signed certificate
    /// if configured and absent) and bind every listen address.
    pub async fn bind(
        mut config: TrapConfig,
        sink: Arc<dyn MessageSink>,
    ) -> Result<Trap, TrapError> {
        config.validate()?;
        let tls = match &config.tls {
            Some(setup) => Some(crate::tls::acceptor(setup, &config.hostname)?),
            None => None,
        };
        let mut listeners = Vec::new();
        let mut local_addrs = Vec::new();
        for addr in &config.listen {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| TrapError::Bind {
                    addr: *addr,
                    source,
                })?;
            local_addrs.push(listener.local_addr().unwrap_or(*addr));
            listeners.push(listener);
        }
        let (metrics_listener, metrics_addr) = match config.metrics {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|source| TrapError::Bind { addr, source })?;
                let bound = listener.local_addr().unwrap_or(addr);
                (Some(listener), Some(bound))
            }
            None => (None, None),
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        Ok(Trap {
            shared: Arc::new(Shared {
                config,
                sink,
                metrics: Arc::new(TrapMetrics::default()),
                tls,
                shutdown: shutdown_rx,
            }),
            listeners,
            local_addrs,
            metrics_listener,
            metrics_addr,
            shutdown_tx,
        })
    }

    /// The addresses actually bound (with real port numbers).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The bound metrics address, when `--metrics` was given.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The live counters (also served over HTTP when configured).
    pub fn metrics(&self) -> Arc<TrapMetrics> {
        self.shared.metrics.clone()
    }

    /// Serve until `shutdown` completes; then stop accepting, let open
    /// sessions finish (each gets `421` when it next waits for a command; a
    /// message being received or stored is finished first), up to
    /// `drain_timeout`, and return the counters.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<TrapStats, TrapError> {
        let config = &self.shared.config;
        let sessions = Arc::new(Semaphore::new(config.max_sessions));
        let per_ip = Arc::new(IpSlots::default());
        let mut accept_tasks = Vec::new();
        for (listener, addr) in self.listeners.into_iter().zip(self.local_addrs.iter()) {
            tracing::info!(%addr, "trap listening");
            accept_tasks.push(tokio::spawn(accept_loop(
                listener,
                self.shared.clone(),
                sessions.clone(),
                per_ip.clone(),
            )));
        }
        if let (Some(listener), Some(addr)) = (self.metrics_listener, self.metrics_addr) {
            tracing::info!(%addr, "metrics at http://{addr}/metrics");
            tokio::spawn(serve_metrics(
                listener,
                self.shared.metrics.clone(),
                self.shared.shutdown.clone(),
            ));
        }
        shutdown.await;
        tracing::info!("trap shutting down: no new sessions, draining open ones");
        let _ = self.shutdown_tx.send(true);
        for task in accept_tasks {
            let _ = task.await;
        }
        // Every running session holds one permit: getting them all back
        // means every session has ended.
        let all = u32::try_from(config.max_sessions).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(config.drain_timeout, sessions.acquire_many(all)).await;
        let mut stats = self.shared.metrics.snapshot();
        if drained.is_err() {
            stats.drain_timed_out = true;
            tracing::warn!(
                "some sessions were still open after the drain timeout; they are abandoned (their messages were not acknowledged)"
            );
        }
        tracing::info!(
            sessions = stats.sessions,
            messages = stats.messages_accepted,
            bytes = stats.message_bytes,
            "trap stopped"
        );
        Ok(stats)
    }
}

/// Bind and serve in one call: see [`Trap::bind`] and [`Trap::run`].
pub async fn serve(
    config: TrapConfig,
    sink: Arc<dyn MessageSink>,
    shutdown: impl Future<Output = ()>,
) -> Result<TrapStats, TrapError> {
    Trap::bind(config, sink).await?.run(shutdown).await
}

/// Open sessions per client IP.
#[derive(Default)]
struct IpSlots {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One session's claim on its IP's slots, released on drop.
struct IpSlot {
    slots: Arc<IpSlots>,
    ip: IpAddr,
}

impl IpSlots {
    fn try_claim(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<IpSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            slots: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    sessions: Arc<Semaphore>,
    per_ip: Arc<IpSlots>,
) {
    let mut shutdown = shared.shutdown.clone();
    let local = listener.local_addr().ok();
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Usually EMFILE: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = crate::stop_requested(&mut shutdown) => return,
        };
        shared.metrics.session_opened();
        // Replies are small and often pipelined: do not let Nagle hold them.
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok().or(local).unwrap_or(client);
        let Ok(permit) = sessions.clone().try_acquire_owned() else {
            shared.metrics.reject(RejectReason::TooManySessions);
            tokio::spawn(refuse(stream, shared.clone(), "Too many connections"));
            continue;
        };
        let Some(slot) = per_ip.try_claim(client.ip(), shared.config.max_sessions_per_ip) else {
            shared.metrics.reject(RejectReason::TooManySessionsPerIp);
            tokio::spawn(refuse(
                stream,
                shared.clone(),
                "Too many connections from your address",
            ));
            continue;
        };
        let shared = shared.clone();
        let limits: (OwnedSemaphorePermit, IpSlot) = (permit, slot);
        tokio::spawn(run_session(shared, stream, client, local, limits));
    }
}

/// Say `421` and close, without reading anything.
async fn refuse(mut stream: TcpStream, shared: Arc<Shared>, why: &str) {
    let text = format!(
        "421 4.7.0 {} {why}, try again later\r\n",
        shared.config.hostname
    );
    // Short: under a connection flood these tasks must not pile up.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(text.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
    shared.metrics.session_closed();
}
