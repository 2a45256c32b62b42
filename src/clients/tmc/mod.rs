//! The TMC client: IAM policies at every scope, and listings of what they attach to, as
//! [`TmcIam`].
//!
//! Changes are single PATCH deltas (`ADD` or `DELETE` of one subject of one role), the way the
//! Terraform provider makes them. A PATCH whose answer is lost is settled by reading the
//! policy: the subject is there or not.

pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::errors::{authorized_failure, kind_of_status, status_line};
use super::http::{ApiRequest, ApiResponse, HttpClient, HttpError};
use super::token::{AuthorizedError, TokenSource, send_authorized};
use crate::access::ports::{
    BackendError, BackendResult, FailureKind, Subject, System, TmcCluster, TmcIam, TmcRoleBinding,
    TmcScope,
};
use wire::DeltaOp;

/// A failed TMC call, before it is named with its operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TmcError {
    #[error("{}: {message}", status_line(*.status))]
    Api {
        status: u16,
        message: String,
        request_id: Option<String>,
    },
    #[error(transparent)]
    Call(#[from] AuthorizedError),
    #[error("answer not understood: {0}")]
    Decode(String),
}

impl From<HttpError> for TmcError {
    fn from(error: HttpError) -> Self {
        TmcError::Call(AuthorizedError::Http(error))
    }
}

impl TmcError {
    pub fn into_backend(self, operation: impl Into<String>) -> BackendError {
        let operation = operation.into();
        match self {
            TmcError::Api {
                status,
                message,
                request_id,
            } => BackendError {
                system: System::Tmc,
                operation,
                kind: kind_of_status(status),
                status: Some(status),
                message: match request_id {
                    Some(id) => format!("{}: {message} (request id {id})", status_line(status)),
                    None => format!("{}: {message}", status_line(status)),
                },
                fix: fix_for_status(status).to_string(),
            },
            TmcError::Call(error) => authorized_failure(
                System::Tmc,
                operation,
                &error,
                "check tmc.url (or TMC_ENDPOINT): it is your org's TMC host",
            ),
            TmcError::Decode(message) => BackendError {
                system: System::Tmc,
                operation,
                kind: FailureKind::Unavailable,
                status: None,
                message,
                fix: "TMC answered in an unexpected shape; check tmc.url points at TMC".into(),
            },
        }
    }
}

fn fix_for_status(status: u16) -> &'static str {
    match status {
        401 => "TMC refused the CSP access token; check the API token has TMC access",
        403 => {
            "give the API token's user a TMC role that can manage access at this scope (an admin role)"
        }
        404 => "check the name, and for clusters the management cluster and provisioner",
        429 => "TMC is limiting the request rate; wait a minute and try again",
        500..=599 => "TMC is failing; try again later",
        _ => "",
    }
}

pub struct TmcClient {
    http: HttpClient,
    tokens: Arc<TokenSource>,
    base: Url,
    org_id: String,
    page_size: usize,
}

impl TmcClient {
    pub(crate) fn new(
        http: HttpClient,
        tokens: Arc<TokenSource>,
        base: Url,
        org_id: String,
        page_size: usize,
    ) -> Self {
        TmcClient {
            http,
            tokens,
            base,
            org_id,
            page_size,
        }
    }

    async fn call(&self, request: &ApiRequest) -> Result<ApiResponse, TmcError> {
        Ok(send_authorized(&self.http, &self.tokens, request).await?)
    }

    async fn get_json(&self, operation: &'static str, url: Url) -> Result<Value, TmcError> {
        let request = ApiRequest::new(System::Tmc, operation, Method::GET, url);
        let response = self.call(&request).await?;
        if !response.is_success() {
            return Err(api_error(&response));
        }
        serde_json::from_slice(&response.body).map_err(|e| TmcError::Decode(e.to_string()))
    }

    /// Every item of an offset-paginated listing.
    async fn list_all(
        &self,
        operation: &'static str,
        url: Url,
        key: &str,
    ) -> Result<Vec<Value>, TmcError> {
        let mut items = Vec::new();
        loop {
            let body = self
                .get_json(
                    operation,
                    wire::with_page(url.clone(), items.len(), self.page_size),
                )
                .await?;
            let (page, total) = wire::listing_page(&body, key);
            let got = page.len();
            items.extend(page);
            let done = got == 0 || total.is_none_or(|total| items.len() >= total);
            if done {
                return Ok(items);
            }
        }
    }

    /// The cluster is `"attached"` to `"attached"` when the listing does not say.
    #[tracing::instrument(skip(self), fields(system = "TMC"))]
    pub async fn clusters(&self) -> Result<Vec<TmcCluster>, TmcError> {
        let items = self
            .list_all("list clusters", wire::clusters_url(&self.base), "clusters")
            .await?;
        Ok(items.iter().filter_map(wire::listed_cluster).collect())
    }

    #[tracing::instrument(skip(self), fields(system = "TMC"))]
    pub async fn cluster_groups(&self) -> Result<Vec<String>, TmcError> {
        let items = self
            .list_all(
                "list cluster groups",
                wire::cluster_groups_url(&self.base),
                "clusterGroups",
            )
            .await?;
        Ok(items.iter().filter_map(wire::listed_name).collect())
    }

    #[tracing::instrument(skip(self), fields(system = "TMC"))]
    pub async fn workspaces(&self) -> Result<Vec<String>, TmcError> {
        let items = self
            .list_all(
                "list workspaces",
                wire::workspaces_url(&self.base),
                "workspaces",
            )
            .await?;
        Ok(items.iter().filter_map(wire::listed_name).collect())
    }

    #[tracing::instrument(skip(self), fields(system = "TMC"))]
    pub async fn namespaces(&self, cluster: &TmcCluster) -> Result<Vec<String>, TmcError> {
        let items = self
            .list_all(
                "list namespaces",
                wire::namespaces_url(&self.base, cluster),
                "namespaces",
            )
            .await?;
        Ok(items.iter().filter_map(wire::listed_name).collect())
    }

    #[tracing::instrument(skip(self), fields(system = "TMC"))]
    pub async fn roles(&self) -> Result<Vec<String>, TmcError> {
        let items = self
            .list_all("list roles", wire::roles_url(&self.base), "roles")
            .await?;
        Ok(items.iter().filter_map(wire::listed_name).collect())
    }

    /// The bindings of the policy attached to `scope` itself.
    #[tracing::instrument(skip(self), fields(system = "TMC", scope = %scope))]
    pub async fn policy(&self, scope: &TmcScope) -> Result<Vec<TmcRoleBinding>, TmcError> {
        let url = wire::policy_url(&self.base, &self.org_id, scope);
        let body = self.get_json("get IAM policy", url).await?;
        let answer: wire::PolicyAnswer =
            serde_json::from_value(body).map_err(|e| TmcError::Decode(e.to_string()))?;
        Ok(wire::own_policy(answer.policy_list, &self.org_id, scope)
            .map(wire::bindings_of)
            .unwrap_or_default())
    }

    /// Apply one delta. A lost answer is settled by reading the policy.
    #[tracing::instrument(skip(self), fields(system = "TMC", scope = %scope))]
    pub async fn apply_delta(
        &self,
        scope: &TmcScope,
        op: DeltaOp,
        role: &str,
        subject: &Subject,
    ) -> Result<(), TmcError> {
        let request = ApiRequest::new(
            System::Tmc,
            "patch IAM policy",
            Method::PATCH,
            wire::policy_url(&self.base, &self.org_id, scope),
        )
        .json(wire::delta_body(&self.org_id, scope, op, role, subject));
        match self.call(&request).await {
            Ok(response) if response.is_success() => Ok(()),
            Ok(response) => Err(api_error(&response)),
            Err(TmcError::Call(AuthorizedError::Http(lost @ HttpError::OutcomeUnknown { .. }))) => {
                let bindings = self.policy(scope).await?;
                let present = bindings
                    .iter()
                    .any(|b| b.role == role && b.subjects.contains(subject));
                let done = match op {
                    DeltaOp::Add => present,
                    DeltaOp::Delete => !present,
                };
                if done {
                    tracing::info!("PATCH answer lost, but the policy shows it applied");
                    Ok(())
                } else {
                    Err(lost.into())
                }
            }
            Err(other) => Err(other),
        }
    }
}

fn api_error(response: &ApiResponse) -> TmcError {
    TmcError::Api {
        status: response.status,
        message: response.message_with_attempts(wire::error_message(&response.body)),
        request_id: response.request_id.clone(),
    }
}

#[async_trait]
impl TmcIam for TmcClient {
    async fn clusters(&self) -> BackendResult<Vec<TmcCluster>> {
        TmcClient::clusters(self)
            .await
            .map_err(|e| e.into_backend("list clusters"))
    }

    async fn cluster_groups(&self) -> BackendResult<Vec<String>> {
        TmcClient::cluster_groups(self)
            .await
            .map_err(|e| e.into_backend("list cluster groups"))
    }

    async fn workspaces(&self) -> BackendResult<Vec<String>> {
        TmcClient::workspaces(self)
            .await
            .map_err(|e| e.into_backend("list workspaces"))
    }

    async fn namespaces(&self, cluster: &TmcCluster) -> BackendResult<Vec<String>> {
        TmcClient::namespaces(self, cluster)
            .await
            .map_err(|e| e.into_backend(format!("list namespaces of cluster '{}'", cluster.name)))
    }

    async fn roles(&self) -> BackendResult<Vec<String>> {
        TmcClient::roles(self)
            .await
            .map_err(|e| e.into_backend("list roles"))
    }

    async fn policy(&self, scope: &TmcScope) -> BackendResult<Vec<TmcRoleBinding>> {
        TmcClient::policy(self, scope)
            .await
            .map_err(|e| e.into_backend(format!("get IAM policy of {scope}")))
    }

    async fn add_binding(
        &self,
        scope: &TmcScope,
        role: &str,
        subject: &Subject,
    ) -> BackendResult<()> {
        self.apply_delta(scope, DeltaOp::Add, role, subject)
            .await
            .map_err(|e| {
                e.into_backend(format!(
                    "add {} '{}' to role {role} on {scope}",
                    kind_word(subject),
                    subject.name
                ))
            })
    }

    async fn remove_binding(
        &self,
        scope: &TmcScope,
        role: &str,
        subject: &Subject,
    ) -> BackendResult<()> {
        self.apply_delta(scope, DeltaOp::Delete, role, subject)
            .await
            .map_err(|e| {
                e.into_backend(format!(
                    "remove {} '{}' from role {role} on {scope}",
                    kind_word(subject),
                    subject.name
                ))
            })
    }
}

fn kind_word(subject: &Subject) -> &'static str {
    match subject.kind {
        crate::access::ports::SubjectKind::User => "user",
        crate::access::ports::SubjectKind::Group => "group",
        crate::access::ports::SubjectKind::ServiceAccount => "service account",
    }
}
