//! Asking the human through MCP elicitation: the form, the prompt, and reading the answer.
//!
//! The human approves by typing the target back (the email of the person whose access
//! changes), never by a yes the model could give:
//! - protocol 2025-06-18 and 2025-11-25: `elicitation/create` mid-call (`peer.elicit`);
//! - protocol 2026-07-28: servers may not send requests, so the tool answers with an
//!   input-required result carrying the same form, and the client retries the call with the
//!   answer (see `super` for the sealed state that travels with it).

use rmcp::RoleServer;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult, InputResponses,
};
use rmcp::service::{ElicitationError, Peer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::access::approval::{ApprovalRequest, Round};

/// The key under which the approval is requested in an input-required result.
pub const INPUT_KEY: &str = "approval";

/// What the human fills in.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalForm {
    /// Type the email address (or group name) the plan is about, to approve exactly the plan
    /// shown. Anything else cancels.
    pub email: String,
}
rmcp::elicit_safe!(ApprovalForm);

/// The human's answer, once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The right target was typed back.
    Approved,
    /// Declined, cancelled, mistyped or unanswerable: nothing may change.
    Refused(String),
    /// The client cannot ask its user: fail closed.
    CannotAsk(String),
}

/// Ask over a live session (protocol before 2026-07-28).
pub async fn ask_live(peer: &Peer<RoleServer>, request: &ApprovalRequest<'_>) -> Answer {
    match peer.elicit::<ApprovalForm>(prompt(request)).await {
        Ok(Some(form)) => judge(ElicitationAction::Accept, Some(&form.email), request.target),
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

/// The input-required result asking the human (protocol 2026-07-28), with the sealed state.
pub fn input_required(request: &ApprovalRequest<'_>, state: String) -> InputRequiredResult {
    let mut requests = InputRequests::new();
    requests.insert(
        INPUT_KEY.to_string(),
        InputRequest::Elicitation(ElicitRequest::new(
            ElicitRequestParams::FormElicitationParams {
                meta: None,
                message: prompt(request),
                requested_schema: ElicitationSchema::from_type::<ApprovalForm>()
                    .expect("ApprovalForm is a flat object of strings"),
            },
        )),
    );
    InputRequiredResult::new(Some(requests), Some(state))
}

/// Read the human's answer from a 2026-07-28 retry.
pub fn read_responses(responses: Option<&InputResponses>, target: &str) -> Answer {
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
            target,
        ),
        Err(_) => Answer::Refused("the answer to the approval request is unreadable".into()),
    }
}

fn judge(action: ElicitationAction, typed: Option<&str>, target: &str) -> Answer {
    match action {
        ElicitationAction::Accept => match typed {
            Some(typed) if typed.trim().eq_ignore_ascii_case(target) => Answer::Approved,
            Some(_) => Answer::Refused(format!("the email typed back did not match {target}")),
            None => Answer::Refused("the user accepted without typing the email back".into()),
        },
        ElicitationAction::Decline => Answer::Refused("the user declined".into()),
        _ => Answer::Refused("the user cancelled".into()),
    }
}

/// What the human reads: why it needs them, the plan, and what to type.
pub fn prompt(request: &ApprovalRequest<'_>) -> String {
    let mut text = String::new();
    if request.round == Round::PlanChanged {
        text.push_str(
            "The plan changed while you were deciding (see below); nothing has changed yet.\n\n",
        );
    }
    text.push_str(request.summary);
    text.push_str(&format!(
        "\n\nThis needs a human because {}. To approve exactly this plan, type {} below. Anything else cancels.",
        request.reason, request.target
    ));
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(round: Round) -> ApprovalRequest<'static> {
        ApprovalRequest {
            tool: "revoke_all_access",
            target: "alice@example.com",
            digest: "d1",
            summary: "Revoke all access of alice@example.com (0 actions):",
            reason: "removing access is destructive",
            round,
        }
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
    fn the_right_email_approves_whatever_its_case_and_spacing() {
        assert_eq!(
            read_responses(Some(&answered("Alice@Example.com ")), "alice@example.com"),
            Answer::Approved
        );
    }

    #[test]
    fn a_missing_mistyped_or_declined_answer_is_refused() {
        assert!(matches!(
            read_responses(None, "alice@example.com"),
            Answer::Refused(_)
        ));
        let wrong = read_responses(Some(&answered("bob@example.com")), "alice@example.com");
        assert!(matches!(wrong, Answer::Refused(why) if why.contains("did not match")));
        let mut declined = InputResponses::new();
        declined.insert(INPUT_KEY.into(), json!({ "action": "decline" }));
        assert!(matches!(
            read_responses(Some(&declined), "alice@example.com"),
            Answer::Refused(_)
        ));
        let mut unreadable = InputResponses::new();
        unreadable.insert(INPUT_KEY.into(), json!("yes"));
        assert!(matches!(
            read_responses(Some(&unreadable), "alice@example.com"),
            Answer::Refused(_)
        ));
    }

    #[test]
    fn the_prompt_shows_the_plan_why_and_asks_for_the_email() {
        let text = serde_json::to_string(&input_required(
            &request(Round::PlanChanged),
            "state".into(),
        ))
        .unwrap();
        assert!(
            text.contains("The plan changed")
                && text.contains("type alice@example.com")
                && text.contains("destructive"),
            "{text}"
        );
    }
}
