//! The one place where results and domain errors become tool results.
//!
//! Problems a person can act on (bad input, a refusal, a failing system) come back as
//! `isError: true` results whose text names the system, the operation and the fix, so the
//! model can read them and tell the human. Only bugs become protocol errors.

use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;

use crate::access::error::AccessError;

/// A tool failure the model can read: `Result<Json<T>, ToolFailure>` in a tool signature.
#[derive(Debug)]
pub struct ToolFailure(pub String);

impl From<AccessError> for ToolFailure {
    fn from(error: AccessError) -> Self {
        let failure = ToolFailure(Self::message(error));
        // What the model was told, for whoever debugs a client; it names the model's input, so
        // it relies on the log's escaping of control characters like every other field.
        tracing::debug!(message = %failure.0, "tool call failed");
        failure
    }
}

impl ToolFailure {
    fn message(error: AccessError) -> String {
        match error {
            AccessError::Invalid(message) => {
                format!("invalid input: {message}. Nothing was changed.")
            }
            AccessError::Refused { reason, fix } => {
                format!("refused: {reason}. Fix: {fix}. Nothing was changed.")
            }
            AccessError::Backend(e) => {
                let fix = if e.fix.is_empty() {
                    "retry later; if it persists, check the system's status".to_string()
                } else {
                    e.fix.clone()
                };
                format!(
                    "{}: {} failed: {}. Fix: {fix}.",
                    e.system, e.operation, e.message
                )
            }
        }
    }
}

impl rmcp::model::IntoContents for ToolFailure {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.0)]
    }
}

/// A domain error as an `isError` result, for tools that return a whole `CallToolResponse`
/// (and so cannot use `Result<_, ToolFailure>`).
pub fn failure(error: AccessError) -> CallToolResult {
    let ToolFailure(message) = error.into();
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// A successful structured result: `structuredContent` plus the same JSON as text.
pub fn structured<T: Serialize>(value: &T) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(json) => CallToolResult::structured(json),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
            "internal error: cannot encode the result: {e}"
        ))]),
    }
}

/// A structured result flagged as an error (for outcomes that are failures but have a shape,
/// such as a refused confirmation).
pub fn structured_error<T: Serialize>(value: &T) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(json) => CallToolResult::structured_error(json),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
            "internal error: cannot encode the result: {e}"
        ))]),
    }
}
