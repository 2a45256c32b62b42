//! Progress notifications for a running plan: one per finished action, in order, when the
//! request carries a progress token. Sent from a task of their own so that a slow client never
//! holds up the actions.

use rmcp::RoleServer;
use rmcp::model::ProgressNotificationParam;
use rmcp::service::RequestContext;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use crate::access::change::{ActionResult, PlannedAction, Progress};
use crate::access::provision::Waiting;

pub struct ProgressReporter {
    /// A message and, for a finished action, the plan's number of actions.
    sender: Option<UnboundedSender<(String, Option<usize>)>>,
    task: Option<JoinHandle<()>>,
}

impl ProgressReporter {
    /// Reports to the client of `ctx` if it asked for progress; otherwise does nothing.
    pub fn start(ctx: &RequestContext<RoleServer>) -> Self {
        let Some(token) = ctx.meta.get_progress_token() else {
            return ProgressReporter {
                sender: None,
                task: None,
            };
        };
        let (sender, mut receiver) = unbounded_channel::<(String, Option<usize>)>();
        let peer = ctx.peer.clone();
        let task = tokio::spawn(async move {
            let mut done = 0.0;
            while let Some((message, total)) = receiver.recv().await {
                done += 1.0;
                let mut note =
                    ProgressNotificationParam::new(token.clone(), done).with_message(message);
                if let Some(total) = total {
                    note = note.with_total(total as f64);
                }
                if peer.notify_progress(note).await.is_err() {
                    break;
                }
            }
        });
        ProgressReporter {
            sender: Some(sender),
            task: Some(task),
        }
    }

    /// One step of a read finished (an audit's scope or cluster): `total` is how many steps
    /// are known so far.
    pub fn step(&self, message: String, total: usize) {
        if let Some(sender) = &self.sender {
            let _ = sender.send((message, Some(total)));
        }
    }

    /// Wait until every notification is sent, so they precede the tool's result.
    pub async fn finish(mut self) {
        self.sender = None;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Progress for ProgressReporter {
    fn action_done(&self, action: &PlannedAction, result: &ActionResult, total: usize) {
        let message = format!(
            "{} {}: {}",
            result.outcome.as_str(),
            action.system,
            action.target
        );
        self.step(message, total);
    }
}

impl Waiting for ProgressReporter {
    fn waiting(&self, message: String) {
        if let Some(sender) = &self.sender {
            let _ = sender.send((message, None));
        }
    }
}
