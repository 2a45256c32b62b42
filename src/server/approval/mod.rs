//! Asking a human to approve a plan, for every way a client can be asked: the server's side of
//! the domain's [`Approver`] port.
//!
//! A `confirm: true` argument proves nothing: the model can fill it in. So approval comes from
//! the human, by typing the target back, or, for trusted automation only, from a token:
//! - `--confirm auto` (the default): elicitation when the client offers forms, else the
//!   browser page when one can be put before the person, else fail closed;
//! - `--confirm browser`: a one-time page in the person's browser ([`browser`]), never shown to
//!   the model; the call waits for it a while, else returns `approval_pending` and the same
//!   call made again runs the approved plan;
//! - `--confirm elicit`, protocol 2025-06-18 and 2025-11-25: live elicitation mid-call;
//! - `--confirm elicit`, protocol 2026-07-28: an input-required result whose request state is a
//!   sealed approval of the plan's digest; the client retries with the answer and the state;
//! - `--confirm token`: the first call returns a sealed approval as `confirmation_token`, and the
//!   same call with `confirm: <token>` runs the plan.
//!
//! Tokens and states are one primitive ([`sealed`]) with one spent-nonce store ([`nonces`]).
//! Either way, an approval is for a plan digest: the domain plans again and asks again if the
//! world changed.

pub mod browser;
pub mod elicit;
pub mod nonces;
pub mod sealed;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rmcp::RoleServer;
use rmcp::model::{InputRequiredResult, InputResponses, ProtocolVersion};
use rmcp::service::RequestContext;

use crate::access::approval::{ApprovalRequest, Approver, Decision};
use browser::BrowserPages;
use browser::opener::Opener;
use elicit::Answer;
use nonces::{InMemoryNonces, SpentNonces};
use sealed::{Binding, Purpose, Sealer};

/// How long a human has to answer a 2026-07-28 approval before it must be asked again.
pub const APPROVAL_TTL: Duration = Duration::from_secs(600);
/// How long a confirmation token stays valid unless `--confirm-ttl` says otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// How destructive calls and privileged grants are approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ConfirmMode {
    /// Elicitation when the client offers forms, else a browser page, else fail closed.
    #[default]
    Auto,
    /// Ask the human through MCP elicitation; fail closed when the client cannot ask.
    Elicit,
    /// Always a one-time page in the person's browser (URL-mode elicitation when offered).
    Browser,
    /// Return a single-use token the caller passes back (trusted automation only).
    Token,
}

/// Per-process approval state: the mode, the sealing key and the spent nonces, the browser pages.
pub struct Approvals {
    pub mode: ConfirmMode,
    pub token_ttl: Duration,
    sealer: Sealer,
    pub browser: Arc<BrowserPages>,
}

impl Approvals {
    pub fn new(mode: ConfirmMode, token_ttl: Duration) -> Self {
        Self::with_nonces(mode, token_ttl, Arc::new(InMemoryNonces::default()))
    }

    /// With a nonce store shared by several replicas.
    pub fn with_nonces(
        mode: ConfirmMode,
        token_ttl: Duration,
        nonces: Arc<dyn SpentNonces>,
    ) -> Self {
        Approvals {
            mode,
            token_ttl,
            sealer: Sealer::new(nonces),
            browser: Arc::new(BrowserPages::new(
                Opener::new(None),
                token_ttl,
                browser::DEFAULT_WAIT,
                None,
            )),
        }
    }

    /// With these browser pages (their opener, lifetime, wait and audit trail).
    pub fn with_browser(mut self, pages: BrowserPages) -> Self {
        self.browser = Arc::new(pages);
        self
    }
}

/// What the client gets while the human has not answered yet.
#[derive(Debug)]
pub enum Pending {
    /// `--confirm token`: pass this back as `confirm`.
    Token(String),
    /// 2026-07-28: the input-required result to return.
    InputRequired(InputRequiredResult),
    /// A browser page is before the person: the same call made again runs the plan they
    /// approve there. Carries nothing: the page's address must not reach the model.
    Browser,
}

/// The approver of one tool call: knows its client, its arguments and what came with it (a
/// token, or the state and answers of an input-required retry). Each is used at most once.
pub struct CallApprover<'a> {
    approvals: &'a Approvals,
    ctx: &'a RequestContext<RoleServer>,
    tool: &'static str,
    /// The tool's arguments as canonical JSON, without the approval itself.
    arguments: String,
    /// The label of the HTTP credential this call came with: tokens and request states are
    /// bound to it.
    credential: Option<String>,
    token: Mutex<Option<String>>,
    retry: Mutex<Option<(String, Option<InputResponses>)>>,
}

impl<'a> CallApprover<'a> {
    pub fn new(
        approvals: &'a Approvals,
        ctx: &'a RequestContext<RoleServer>,
        tool: &'static str,
        arguments: String,
        token: Option<String>,
        state: Option<String>,
        responses: Option<InputResponses>,
    ) -> Self {
        CallApprover {
            approvals,
            ctx,
            tool,
            arguments,
            credential: crate::server::transport::credential_label(&ctx.extensions),
            token: Mutex::new(token),
            retry: Mutex::new(state.map(|state| (state, responses))),
        }
    }

    fn binding(&self) -> Binding<'_> {
        Binding {
            tool: self.tool,
            arguments: &self.arguments,
            credential: self.credential.as_deref(),
        }
    }

    fn by_token(&self, request: &ApprovalRequest<'_>) -> Decision<Pending> {
        let given = self.token.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(token) = given else {
            let ttl = self.approvals.token_ttl;
            return Decision::Pending(Pending::Token(self.approvals.sealer.seal(
                Purpose::Token,
                self.binding(),
                request.digest,
                ttl,
            )));
        };
        match self
            .approvals
            .sealer
            .open(&token, Purpose::Token, self.binding())
        {
            Ok(digest) => Decision::Approved {
                digest,
                while_waiting: false,
            },
            Err(rejection) => Decision::Refused(format!(
                "the confirmation token was refused ({rejection}); call again without confirm to get a fresh plan and token"
            )),
        }
    }

    fn by_input_request(&self, request: &ApprovalRequest<'_>) -> Decision<Pending> {
        let retry = self.retry.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some((state, responses)) = retry else {
            let can_ask = self
                .ctx
                .client_capabilities()
                .is_some_and(|caps| caps.elicitation.is_some());
            if !can_ask {
                return Decision::CannotAsk(
                    "this MCP client cannot ask its user (no elicitation support)".into(),
                );
            }
            let state = self.approvals.sealer.seal(
                Purpose::InputState,
                self.binding(),
                request.digest,
                APPROVAL_TTL,
            );
            return Decision::Pending(Pending::InputRequired(elicit::input_required(
                request, state,
            )));
        };
        // The state is attacker-controlled on the way back: it must be ours, for this very
        // call, unexpired and unspent.
        let digest = match self
            .approvals
            .sealer
            .open(&state, Purpose::InputState, self.binding())
        {
            Ok(digest) => digest,
            Err(sealed::Rejection::AlreadyUsed) => {
                return Decision::Refused("this approval was already used".into());
            }
            Err(_) => {
                return Decision::Refused(
                    "the approval state is not valid for this call (forged, altered, for other arguments, or expired)"
                        .into(),
                );
            }
        };
        match elicit::read_responses(responses.as_ref(), request.target) {
            // The plan at hand was made on this retry, after the human answered.
            Answer::Approved => Decision::Approved {
                digest,
                while_waiting: false,
            },
            Answer::Refused(why) => Decision::Refused(why),
            Answer::CannotAsk(why) => Decision::CannotAsk(why),
        }
    }
}

#[async_trait]
impl Approver for CallApprover<'_> {
    type Pending = Pending;

    async fn decide(&self, request: &ApprovalRequest<'_>) -> Decision<Pending> {
        match self.approvals.mode {
            ConfirmMode::Token => self.by_token(request),
            ConfirmMode::Elicit => self.by_elicitation(request).await,
            ConfirmMode::Auto if client_asks_by_form(self.ctx) => {
                self.by_elicitation(request).await
            }
            ConfirmMode::Auto | ConfirmMode::Browser => self.by_browser(request).await,
        }
    }
}

impl CallApprover<'_> {
    async fn by_elicitation(&self, request: &ApprovalRequest<'_>) -> Decision<Pending> {
        if is_input_required_protocol(self.ctx) {
            return self.by_input_request(request);
        }
        match elicit::ask_live(&self.ctx.peer, request).await {
            Answer::Approved => Decision::Approved {
                digest: request.digest.to_string(),
                while_waiting: true,
            },
            Answer::Refused(why) => Decision::Refused(why),
            Answer::CannotAsk(why) => Decision::CannotAsk(why),
        }
    }

    async fn by_browser(&self, request: &ApprovalRequest<'_>) -> Decision<Pending> {
        // A page approves one call: this tool with these arguments, and one plan digest.
        let key = format!("{}\n{}", self.tool, self.arguments);
        let shows_urls =
            browser::ask::client_shows_urls(self.ctx, is_input_required_protocol(self.ctx));
        let client = crate::server::tools::client_name(self.ctx);
        browser::ask::decide(
            &self.approvals.browser,
            self.ctx,
            &key,
            &client,
            shows_urls,
            request,
        )
        .await
    }
}

/// The client can answer a form elicitation (declaring elicitation without a mode means forms).
fn client_asks_by_form(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.client_capabilities()
        .and_then(|caps| caps.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// 2026-07-28 and later: the server may not send requests, so it asks by input-required results.
fn is_input_required_protocol(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
}
