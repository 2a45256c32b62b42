//! Asking a human to approve a destructive plan.
//!
//! A `confirm: true` argument proves nothing: the model can fill it in. Approval therefore
//! comes from the human, through MCP elicitation, by typing the target's email back:
//! - protocol 2025-06-18 and 2025-11-25: the server sends `elicitation/create` mid-call
//!   (`peer.elicit`) and waits for the answer;
//! - protocol 2026-07-28: servers may not send requests, so the tool answers with an
//!   input-required result carrying the elicitation and a sealed request state (HMAC over the
//!   plan digest and a nonce, bound to the tool and its arguments, expiring); the client
//!   retries the call with the answer. The state is attacker-controlled on the way back, so it
//!   is verified, and its nonce is spent so an approval cannot be replayed.
//!
//! Either way the approval is for a plan digest: if the world changed before the plan runs,
//! the new plan is shown and asked for again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use rmcp::RoleServer;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult, InputResponses, RequestStateCodec,
    SealOptions,
};
use rmcp::service::{ElicitationError, Peer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::access::revoke::RevocationPlan;

/// How long a human has to answer a 2026-07-28 approval before it must be asked again.
pub const APPROVAL_TTL: Duration = Duration::from_secs(600);
/// The key under which the approval is requested in an input-required result.
const INPUT_KEY: &str = "approval";

/// What the human fills in.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalForm {
    /// Type the email address of the person whose access will be revoked, to approve exactly
    /// the plan shown. Anything else cancels.
    pub email: String,
}
rmcp::elicit_safe!(ApprovalForm);

/// The human's answer, once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The right email was typed back for this plan digest.
    Approved { digest: String },
    /// Declined, cancelled, mistyped or unanswerable: nothing may change.
    Refused(String),
    /// The client cannot ask its user: fail closed.
    CannotAsk(String),
}

/// What a sealed 2026-07-28 request state carries (signed, not secret).
#[derive(Debug, Serialize, Deserialize)]
struct SealedApproval {
    digest: String,
    nonce: String,
}

/// Per-process approval state: the request-state key and the spent nonces.
pub struct ApprovalState {
    codec: RequestStateCodec,
    spent: Mutex<HashMap<String, Instant>>,
}

impl Default for ApprovalState {
    fn default() -> Self {
        Self::new()
    }
}

impl ApprovalState {
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let codec = RequestStateCodec::try_new(key.to_vec()).expect("a 32-byte key is long enough");
        ApprovalState {
            codec,
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// The input-required result asking the human to approve `plan` (protocol 2026-07-28).
    pub fn input_required(
        &self,
        plan: &RevocationPlan,
        binding: &[u8],
        note: Option<&str>,
    ) -> InputRequiredResult {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = SealedApproval {
            digest: plan.digest.clone(),
            nonce: nonce.iter().map(|b| format!("{b:02x}")).collect(),
        };
        let payload = serde_json::to_vec(&sealed).unwrap_or_default();
        let state = self.codec.seal_with(
            &payload,
            &SealOptions::new()
                .associated_data(binding)
                .ttl(APPROVAL_TTL),
        );
        let mut requests = InputRequests::new();
        requests.insert(
            INPUT_KEY.to_string(),
            InputRequest::Elicitation(ElicitRequest::new(form_request(plan, note))),
        );
        InputRequiredResult::new(Some(requests), Some(state))
    }

    /// Read the human's answer from a 2026-07-28 retry. The state must be ours, for this very
    /// call, unexpired and unspent; it is spent here.
    pub fn read_retry(
        &self,
        state: &str,
        responses: Option<&InputResponses>,
        binding: &[u8],
        email: &str,
    ) -> Answer {
        let sealed: SealedApproval = match self
            .codec
            .open_with(state, binding)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
        {
            Some(sealed) => sealed,
            None => {
                return Answer::Refused(
                    "the approval state is not valid for this call (forged, altered, for other arguments, or expired)".into(),
                );
            }
        };
        {
            let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            spent.retain(|_, at| now.duration_since(*at) < APPROVAL_TTL * 2);
            if spent.insert(sealed.nonce.clone(), now).is_some() {
                return Answer::Refused("this approval was already used".into());
            }
        }
        let Some(raw) = responses.and_then(|r| r.get(INPUT_KEY)) else {
            return Answer::Refused("the retry carried no answer to the approval request".into());
        };
        match serde_json::from_value::<ElicitResult>(raw.clone()) {
            Ok(result) => judge(
                result.action,
                result
                    .content
                    .as_ref()
                    .and_then(|c| c.get("email"))
                    .and_then(|v| v.as_str()),
                email,
                sealed.digest,
            ),
            Err(_) => Answer::Refused("the answer to the approval request is unreadable".into()),
        }
    }
}

/// Ask over a live session (protocol before 2026-07-28).
pub async fn ask_live(
    peer: &Peer<RoleServer>,
    plan: &RevocationPlan,
    note: Option<&str>,
) -> Answer {
    let message = prompt(plan, note);
    match peer.elicit::<ApprovalForm>(message).await {
        Ok(Some(form)) => judge(
            ElicitationAction::Accept,
            Some(&form.email),
            &plan.email,
            plan.digest.clone(),
        ),
        Ok(None) | Err(ElicitationError::NoContent) => {
            Answer::Refused("the user gave no answer".into())
        }
        Err(ElicitationError::UserDeclined) => Answer::Refused("the user declined".into()),
        Err(ElicitationError::UserCancelled) => Answer::Refused("the user cancelled".into()),
        Err(ElicitationError::ParseError { .. }) => {
            Answer::Refused("the user's answer was unreadable".into())
        }
        Err(ElicitationError::CapabilityNotSupported) => {
            Answer::CannotAsk("this MCP client cannot ask its user (no elicitation support)".into())
        }
        Err(e) => Answer::Refused(format!("could not ask the user: {e}")),
    }
}

fn judge(action: ElicitationAction, typed: Option<&str>, email: &str, digest: String) -> Answer {
    match action {
        ElicitationAction::Accept => match typed {
            Some(typed) if typed.trim().eq_ignore_ascii_case(email) => Answer::Approved { digest },
            Some(_) => Answer::Refused(format!("the email typed back did not match {email}")),
            None => Answer::Refused("the user accepted without typing the email back".into()),
        },
        ElicitationAction::Decline => Answer::Refused("the user declined".into()),
        _ => Answer::Refused("the user cancelled".into()),
    }
}

fn form_request(plan: &RevocationPlan, note: Option<&str>) -> ElicitRequestParams {
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: prompt(plan, note),
        requested_schema: ElicitationSchema::from_type::<ApprovalForm>()
            .expect("ApprovalForm is a flat object of strings"),
    }
}

fn prompt(plan: &RevocationPlan, note: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(note) = note {
        text.push_str(note);
        text.push_str("\n\n");
    }
    text.push_str(&plan.summary());
    text.push_str(&format!(
        "\n\nTo approve exactly this plan, type {} below. Anything else cancels.",
        plan.email
    ));
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const BINDING: &[u8] = br#"["revoke_all_access","alice@example.com",false]"#;

    fn plan(digest: &str) -> RevocationPlan {
        RevocationPlan {
            email: "alice@example.com".into(),
            keep_membership: false,
            actions: vec![],
            warnings: vec![],
            digest: digest.into(),
        }
    }

    fn state_for(approvals: &ApprovalState, binding: &[u8]) -> String {
        approvals
            .input_required(&plan("d1"), binding, None)
            .request_state
            .expect("a request state")
    }

    fn answered(email: &str) -> InputResponses {
        let mut responses = InputResponses::new();
        responses.insert(
            INPUT_KEY.into(),
            json!({ "action": "accept", "content": { "email": email } }),
        );
        responses
    }

    #[test]
    fn the_right_email_approves_the_sealed_digest_once() {
        let approvals = ApprovalState::new();
        let state = state_for(&approvals, BINDING);
        let answer = approvals.read_retry(
            &state,
            Some(&answered("Alice@Example.com ")),
            BINDING,
            "alice@example.com",
        );
        assert_eq!(
            answer,
            Answer::Approved {
                digest: "d1".into()
            }
        );
        let replay = approvals.read_retry(
            &state,
            Some(&answered("alice@example.com")),
            BINDING,
            "alice@example.com",
        );
        assert!(matches!(replay, Answer::Refused(why) if why.contains("already used")));
    }

    #[test]
    fn a_state_for_other_arguments_or_from_another_server_is_refused() {
        let approvals = ApprovalState::new();
        let state = state_for(&approvals, BINDING);
        let keep = br#"["revoke_all_access","alice@example.com",true]"#;
        let other = approvals.read_retry(
            &state,
            Some(&answered("alice@example.com")),
            keep,
            "alice@example.com",
        );
        assert!(matches!(other, Answer::Refused(_)), "{other:?}");
        let foreign = state_for(&ApprovalState::new(), BINDING);
        let forged = approvals.read_retry(
            &foreign,
            Some(&answered("alice@example.com")),
            BINDING,
            "alice@example.com",
        );
        assert!(matches!(forged, Answer::Refused(_)), "{forged:?}");
        let tampered = format!("{state}x");
        let tampered = approvals.read_retry(
            &tampered,
            Some(&answered("alice@example.com")),
            BINDING,
            "alice@example.com",
        );
        assert!(matches!(tampered, Answer::Refused(_)), "{tampered:?}");
    }

    #[test]
    fn a_missing_mistyped_or_declined_answer_is_refused() {
        let approvals = ApprovalState::new();
        let missing = approvals.read_retry(
            &state_for(&approvals, BINDING),
            None,
            BINDING,
            "alice@example.com",
        );
        assert!(matches!(missing, Answer::Refused(_)));
        let wrong = approvals.read_retry(
            &state_for(&approvals, BINDING),
            Some(&answered("bob@example.com")),
            BINDING,
            "alice@example.com",
        );
        assert!(matches!(wrong, Answer::Refused(why) if why.contains("did not match")));
        let mut declined = InputResponses::new();
        declined.insert(INPUT_KEY.into(), json!({ "action": "decline" }));
        let declined = approvals.read_retry(
            &state_for(&approvals, BINDING),
            Some(&declined),
            BINDING,
            "alice@example.com",
        );
        assert!(matches!(declined, Answer::Refused(_)));
    }

    #[test]
    fn the_prompt_shows_the_plan_and_asks_for_the_email() {
        let approvals = ApprovalState::new();
        let request = approvals.input_required(&plan("d1"), BINDING, Some("The plan changed."));
        let text = serde_json::to_string(&request).unwrap();
        assert!(
            text.contains("The plan changed.") && text.contains("type alice@example.com"),
            "{text}"
        );
    }
}
