//! Accepting connections, with the limits axum's own `serve` does not offer: at most
//! `max_connections` open at once (more are closed at once), and a header read timeout (a
//! client that sends half a request, or nothing after its last one, is dropped: slowloris).
//! Body reads have their own deadline where bodies are read (`streamable::read_body`).
//!
//! Shutdown is graceful: once `stop` completes no connection is accepted, every connection
//! finishes the response it is sending and closes, and [`serve_connections`] returns when the
//! last one is gone.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The per-connection limits, from [`super::HttpOptions`].
#[derive(Clone, Copy, Debug)]
pub(super) struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

/// Serves `app` on `listener` until `stop` completes, then drains the connections.
pub(super) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let closing = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Usually EMFILE: back off briefly instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(
                max = limits.max_connections,
                "closed a new connection: connection limit reached"
            );
            drop(stream);
            continue;
        };
        // Nagle would hold a call's result behind the SSE priming event until the client's
        // delayed ACK (about 40 ms per call on Linux): every accepted socket sends at once.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY on an accepted connection");
        }
        connections.spawn(connection(
            stream,
            app.clone(),
            limits,
            closing.clone(),
            permit,
        ));
        // Reap finished connections so the set does not grow with every one.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    closing.cancel();
    while connections.join_next().await.is_some() {}
}

async fn connection(
    stream: TcpStream,
    app: Router,
    limits: ConnectionLimits,
    closing: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        () = closing.cancelled() => {
            connection.as_mut().graceful_shutdown();
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error during shutdown");
            }
        }
    }
}
