//! Graceful shutdown: the signal that starts it, and the accounting of running calls that it
//! waits for before closing the sessions.
//!
//! Order matters: first refuse new sessions, then let running tool calls finish (a revoke
//! half-done because the pod was rescheduled is the worst outcome), then close the sessions,
//! then the connections.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

/// How long connections may stay open after every session was closed before the server stops
/// waiting for them.
const CONNECTION_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what container runtimes send), whichever comes first.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// Counts the calls in flight on every transport; each holds a [`TaskTrackerToken`] until its
/// response has been handed to the client.
#[derive(Clone, Default)]
pub(super) struct Drain {
    calls: TaskTracker,
}

impl Drain {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// A token held for the duration of one call.
    pub(super) fn call_started(&self) -> TaskTrackerToken {
        self.calls.token()
    }

    /// Waits until every running call has finished or `deadline` has passed; false when some
    /// still run. Cancel-safe: polled again after being dropped, it waits for the same moment.
    pub(super) async fn finish_by(&self, deadline: tokio::time::Instant) -> bool {
        self.calls.close();
        tokio::time::timeout_at(deadline, self.calls.wait())
            .await
            .is_ok()
    }

    /// Waits until every running call has finished, or `grace` has passed.
    pub(super) async fn finish(&self, grace: Duration) {
        self.calls.close();
        let running = self.calls.len();
        if running > 0 {
            tracing::info!(running, "waiting for running calls to finish");
        }
        if tokio::time::timeout(grace, self.calls.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                running = self.calls.len(),
                grace_secs = grace.as_secs(),
                "calls still running after the shutdown grace period; closing their sessions"
            );
        }
    }
}

/// Completes a while after `sessions_closed` fires: the bound on how long a stuck connection can
/// hold up the exit.
pub(super) async fn connections_outlive(sessions_closed: &CancellationToken) {
    sessions_closed.cancelled().await;
    tokio::time::sleep(CONNECTION_CLOSE_TIMEOUT).await;
}
