//! Asking a human to approve a plan, as the domain sees it: a port the server implements.
//!
//! The domain says what needs approving (the plan's summary and digest, who it is about, why a
//! human must decide); the server decides how to ask (elicitation, an input-required round, a
//! confirmation token) and answers with a [`Decision`]. Some ways of asking end the call and
//! come back in a later one (an input-required result, a token): that is `Pending`, carrying
//! whatever the server needs to answer the client, opaque to the domain.

use async_trait::async_trait;

/// Which round of asking this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// The first time this plan is put to the human.
    First,
    /// The world changed after an approval: this is a new plan, asked again.
    PlanChanged,
}

/// What the human is asked to approve.
#[derive(Debug, Clone)]
pub struct ApprovalRequest<'a> {
    /// The tool whose plan it is.
    pub tool: &'static str,
    /// Who the change is about; the human types it back to approve.
    pub target: &'a str,
    /// The plan's digest: an approval is for exactly this plan.
    pub digest: &'a str,
    /// The plan, for a human to read.
    pub summary: &'a str,
    /// Why this plan needs a human.
    pub reason: &'a str,
    pub round: Round,
}

/// The answer.
#[derive(Debug)]
pub enum Decision<P> {
    /// A human approved the plan with this digest. `while_waiting`: the approval came during
    /// this call, so the world may have moved since the plan was made; otherwise the approval
    /// was given before the plan at hand was made (a token, an answered input request).
    Approved { digest: String, while_waiting: bool },
    /// The answer will come in a later call; `P` is what to send the client meanwhile.
    Pending(P),
    /// Declined, cancelled, mistyped, forged, replayed or expired: nothing may change.
    Refused(String),
    /// Nobody can be asked through this client: fail closed.
    CannotAsk(String),
}

#[async_trait]
pub trait Approver: Send + Sync {
    type Pending: Send;
    async fn decide(&self, request: &ApprovalRequest<'_>) -> Decision<Self::Pending>;
}
