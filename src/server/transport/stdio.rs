//! The stdio transport, with one change to rmcp's: when stdin closes, the calls already received
//! still get their answers (at most [`EOF_GRACE`]) before the session ends.
//!
//! A client that writes a `tools/call` and closes its end of stdin (a script, a CI step) would
//! otherwise lose the answer of any call that runs longer than rmcp's own drain (5 s): a
//! `provision_user` waiting for acceptance, a revoke on a slow cluster. This wrapper holds back
//! the end of input until every request read so far was answered (or cancelled by the client),
//! the way the HTTP transports drain running calls on SIGTERM.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{ClientNotification, JsonRpcMessage, RequestId};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::AsyncRwTransport;
use tokio::time::Instant;
use tokio_util::task::task_tracker::TaskTrackerToken;

use super::HttpOptions;
use super::shutdown::Drain;

/// How long the calls running at end of input may take to finish: the HTTP transports' grace.
pub const EOF_GRACE: Duration = HttpOptions::DEFAULT_SHUTDOWN_GRACE;

/// rmcp's stdio transport (stdin, stdout) that drains running calls at end of input.
pub fn stdio() -> DrainOnEof<impl Transport<RoleServer, Error = std::io::Error>> {
    DrainOnEof::new(
        AsyncRwTransport::new_server(tokio::io::stdin(), tokio::io::stdout()),
        EOF_GRACE,
    )
}

/// A server transport whose end of input waits for the requests it delivered to be answered.
pub struct DrainOnEof<T> {
    inner: T,
    drain: Drain,
    /// Requests delivered and not yet answered, each holding a token of `drain`.
    running: Arc<Mutex<HashMap<RequestId, TaskTrackerToken>>>,
    grace: Duration,
    /// Set when the input ended: the latest moment to report it. Kept here because rmcp polls
    /// `receive` inside a `select!` and drops the future whenever an answer goes out.
    ended: Option<Instant>,
}

impl<T> DrainOnEof<T> {
    pub fn new(inner: T, grace: Duration) -> Self {
        DrainOnEof {
            inner,
            drain: Drain::new(),
            running: Arc::default(),
            grace,
            ended: None,
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, TaskTrackerToken>> {
        // A panic while holding this lock leaves a plain map: still usable.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Note what the client sent: a request starts a call, a cancellation ends one (rmcp sends
    /// no answer for a cancelled request).
    fn track(&self, message: &RxJsonRpcMessage<RoleServer>) {
        match message {
            JsonRpcMessage::Request(request) => {
                let token = self.drain.call_started();
                self.running().insert(request.id.clone(), token);
            }
            JsonRpcMessage::Notification(note) => {
                if let ClientNotification::CancelledNotification(cancelled) = &note.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    self.running().remove(id);
                }
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => {}
        }
    }
}

impl<T> Transport<RoleServer> for DrainOnEof<T>
where
    T: Transport<RoleServer>,
{
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answered = match &item {
            JsonRpcMessage::Response(response) => Some(response.id.clone()),
            JsonRpcMessage::Error(error) => error.id.clone(),
            JsonRpcMessage::Request(_) | JsonRpcMessage::Notification(_) => None,
        };
        let running = self.running.clone();
        let sent = self.inner.send(item);
        async move {
            let result = sent.await;
            // Only once written: the end of input is reported after the answer is out.
            if let Some(id) = answered {
                running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            }
            result
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        if self.ended.is_none() {
            if let Some(message) = self.inner.receive().await {
                self.track(&message);
                return Some(message);
            }
            self.ended = Some(Instant::now() + self.grace);
            let running = self.running().len();
            if running > 0 {
                tracing::info!(
                    running,
                    grace_secs = self.grace.as_secs(),
                    "stdin closed; answering the running calls before exiting"
                );
            }
        }
        let deadline = self.ended.expect("set above");
        if !self.drain.finish_by(deadline).await {
            tracing::warn!(
                running = self.running().len(),
                grace_secs = self.grace.as_secs(),
                "stdin closed and calls still running after the grace period; exiting without their answers"
            );
        }
        None
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{ErrorData, NumberOrString};
    use tokio::io::AsyncWriteExt;

    use super::*;

    const GRACE: Duration = Duration::from_secs(30);

    /// A transport reading `input` (then end of input) and writing nowhere.
    async fn fed(
        input: &str,
    ) -> DrainOnEof<impl Transport<RoleServer, Error = std::io::Error> + use<>> {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        client.write_all(input.as_bytes()).await.unwrap();
        drop(client);
        DrainOnEof::new(
            AsyncRwTransport::new_server(server, tokio::io::sink()),
            GRACE,
        )
    }

    const PING: &str = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n";

    #[tokio::test(start_paused = true)]
    async fn end_of_input_waits_for_the_answer_and_no_longer() {
        let mut transport = fed(PING).await;
        assert!(transport.receive().await.is_some());
        let started = Instant::now();
        let answer = transport.send(TxJsonRpcMessage::<RoleServer>::error(
            ErrorData::internal_error("answered", None),
            Some(NumberOrString::Number(7)),
        ));
        let ended = tokio::spawn(async move { transport.receive().await.is_none() });
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(!ended.is_finished(), "held back while the call runs");
        answer.await.unwrap();
        assert!(ended.await.unwrap());
        assert!(
            started.elapsed() < GRACE,
            "ended when answered, not at the grace"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_unanswered_call_holds_the_end_only_for_the_grace() {
        let mut transport = fed(PING).await;
        assert!(transport.receive().await.is_some());
        let started = Instant::now();
        assert!(transport.receive().await.is_none());
        assert_eq!(started.elapsed(), GRACE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_call_needs_no_answer() {
        let cancel = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":7}}\n";
        let mut transport = fed(&format!("{PING}{cancel}")).await;
        assert!(transport.receive().await.is_some());
        assert!(transport.receive().await.is_some());
        let started = Instant::now();
        assert!(transport.receive().await.is_none());
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_wait_keeps_its_deadline() {
        let mut transport = fed(PING).await;
        assert!(transport.receive().await.is_some());
        let started = Instant::now();
        // rmcp drops `receive` whenever another branch of its select! is ready.
        for _ in 0..3 {
            let _ = tokio::time::timeout(Duration::from_secs(10), transport.receive()).await;
        }
        assert!(transport.receive().await.is_none());
        assert_eq!(
            started.elapsed(),
            GRACE,
            "the grace is counted from the end of input"
        );
    }
}
