//! Kubernetes failures: how a kube error ends an attempt (for the retry policy) and how it
//! reads as a [`BackendError`].

use crate::access::ports::{BackendError, FailureKind, System};
use crate::clients::errors::{kind_of_status, status_line};
use crate::clients::http::error_chain;
use crate::clients::retry::AttemptOutcome;

/// A failed Kubernetes call, before it is named with its operation.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    #[error("{}: {message}", status_line(*.status))]
    Api {
        status: u16,
        message: String,
        reason: String,
    },
    #[error("cannot reach the API server: {0}")]
    Unreachable(String),
    #[error("no complete answer from the API server: {0}")]
    NoAnswer(String),
    #[error("the answer was lost ({0}); the change may or may not have been made")]
    OutcomeUnknown(String),
    #[error("no TAP cluster named '{0}' is configured")]
    UnknownCluster(String),
    #[error("{0}")]
    Config(String),
    #[error("the binding kept changing under us: {0}")]
    Contended(String),
}

impl K8sError {
    pub fn into_backend(self, operation: impl Into<String>) -> BackendError {
        let (kind, status, fix) = match &self {
            K8sError::Api { status, .. } => (
                kind_of_status(*status),
                Some(*status),
                fix_for_status(*status),
            ),
            K8sError::Unreachable(_) => (
                FailureKind::Unavailable,
                None,
                "check the cluster's kubeconfig context and that its API server is reachable",
            ),
            K8sError::NoAnswer(_) => (FailureKind::Unavailable, None, "try again later"),
            K8sError::OutcomeUnknown(_) => (
                FailureKind::Unknown,
                None,
                "read the binding before trying again; the change may already be made",
            ),
            K8sError::UnknownCluster(_) => (
                FailureKind::NotFound,
                None,
                "use one of the TAP clusters named in the configuration's [[tap]] tables",
            ),
            K8sError::Config(_) => (
                FailureKind::Configuration,
                None,
                "fix the [[tap]] table's kubeconfig and context (`kubectl config get-contexts`)",
            ),
            K8sError::Contended(_) => (FailureKind::Conflict, Some(409), "try again"),
        };
        BackendError {
            system: System::Kubernetes,
            operation: operation.into(),
            kind,
            status,
            message: self.to_string(),
            fix: fix.to_string(),
        }
    }
}

fn fix_for_status(status: u16) -> &'static str {
    match status {
        401 => {
            "the cluster refused our credentials; log in again (for Pinniped, refresh the kubeconfig)"
        }
        403 => "the kubeconfig user needs RBAC rights to manage (cluster)rolebindings",
        404 => "check the binding and namespace names",
        429 | 500..=599 => "the API server is busy or failing; try again later",
        _ => "",
    }
}

/// How a kube call ended, for [`retry::decide`].
pub(super) fn outcome_of(error: &kube::Error) -> AttemptOutcome {
    if let kube::Error::Api(status) = error {
        return AttemptOutcome::Status {
            status: status.code,
            retry_after: status
                .details
                .as_ref()
                .map(|d| d.retry_after_seconds)
                .filter(|s| *s > 0)
                .map(|s| std::time::Duration::from_secs(u64::from(s))),
        };
    }
    if connection_refused(error) {
        AttemptOutcome::NotSent
    } else {
        AttemptOutcome::AnswerLost
    }
}

fn connection_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        current = e.source();
    }
    false
}

pub(super) fn convert(error: kube::Error, outcome: AttemptOutcome) -> K8sError {
    match error {
        kube::Error::Api(status) => K8sError::Api {
            status: status.code,
            message: status.message.clone(),
            reason: status.reason.clone(),
        },
        other => match outcome {
            AttemptOutcome::NotSent => K8sError::Unreachable(error_chain(&other)),
            _ => K8sError::NoAnswer(error_chain(&other)),
        },
    }
}
