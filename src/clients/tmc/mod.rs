//! The TMC client: IAM policies at every scope, and listings of what they attach to, as
//! [`TmcIam`].
//!
//! Changes are single PATCH deltas (`ADD` or `DELETE` of one subject of one role), the way the
//! Terraform provider makes them. A PATCH whose answer is lost is settled by reading the
//! policy: the subject is there or not.

pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::api_error::{ApiError, ApiSystem};
use super::http::{ApiRequest, ApiResponse, HttpClient};
use super::token::{TokenSource, send_authorized};
use crate::access::ports::{
    BackendResult, Subject, SubjectKind, System, TmcCluster, TmcIam, TmcRoleBinding, TmcScope,
};
use wire::DeltaOp;

/// What TMC's failures mean and how to fix them.
pub(crate) static TMC: ApiSystem = ApiSystem {
    system: System::Tmc,
    status_fixes: &[
        (
            401..=401,
            "TMC refused the CSP access token; check the API token has TMC access",
        ),
        (
            403..=403,
            "give the API token's user a TMC role that can manage access at this scope (an admin \
             role)",
        ),
        (
            404..=404,
            "check the name, and for clusters the management cluster and provisioner",
        ),
        (
            429..=429,
            "TMC is limiting the request rate; wait a minute and try again",
        ),
        (500..=599, "TMC is failing; try again later"),
    ],
    unreachable_fix: "check tmc.url (or TMC_ENDPOINT): it is your org's TMC host",
    unexpected_shape_fix: "TMC answered in an unexpected shape; check tmc.url points at TMC",
};

pub struct TmcClient {
    http: HttpClient,
    tokens: Arc<TokenSource>,
    base: Url,
    org_id: String,
    page_size: usize,
    /// The `meta.uid` of each scope's own policy, from our PATCH answers (how the Terraform
    /// provider tells its policy from inherited ones).
    own_policy_uids: Mutex<HashMap<TmcScope, String>>,
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
            own_policy_uids: Mutex::default(),
        }
    }

    fn known_policy_uid(&self, scope: &TmcScope) -> Option<String> {
        let uids = self
            .own_policy_uids
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        uids.get(scope).cloned()
    }

    fn remember_policy_uid(&self, scope: &TmcScope, uid: Option<String>) {
        let mut uids = self
            .own_policy_uids
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match uid {
            Some(uid) => uids.insert(scope.clone(), uid),
            None => uids.remove(scope),
        };
    }

    async fn call(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
        send_authorized(&self.http, &self.tokens, request)
            .await
            .map_err(|e| TMC.call_error(e))
    }

    async fn get_json(&self, operation: &'static str, url: Url) -> Result<Value, ApiError> {
        let request = ApiRequest::new(System::Tmc, operation, Method::GET, url);
        let response = self.call(&request).await?;
        if !response.is_success() {
            return Err(TMC.status_error(&response));
        }
        serde_json::from_slice(&response.body).map_err(|e| TMC.decode_error(e))
    }

    /// Every item of an offset-paginated listing.
    async fn list_all(
        &self,
        operation: &'static str,
        url: Url,
        key: &str,
    ) -> Result<Vec<Value>, ApiError> {
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
            if wire::listing_done(got, items.len(), self.page_size, total) {
                return Ok(items);
            }
        }
    }

    /// The cluster is `"attached"` to `"attached"` when the listing does not say.
    #[tracing::instrument(skip(self), fields(system = "TMC"))]
    pub async fn clusters(&self) -> Result<Vec<TmcCluster>, ApiError> {
        let items = self
            .list_all("list clusters", wire::clusters_url(&self.base), "clusters")
            .await?;
        Ok(items.iter().filter_map(wire::listed_cluster).collect())
    }

    #[tracing::instrument(skip(self), fields(system = "TMC"))]
    pub async fn cluster_groups(&self) -> Result<Vec<String>, ApiError> {
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
    pub async fn workspaces(&self) -> Result<Vec<String>, ApiError> {
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
    pub async fn namespaces(&self, cluster: &TmcCluster) -> Result<Vec<String>, ApiError> {
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
    pub async fn roles(&self) -> Result<Vec<String>, ApiError> {
        let items = self
            .list_all("list roles", wire::roles_url(&self.base), "roles")
            .await?;
        Ok(items.iter().filter_map(wire::listed_name).collect())
    }

    /// The bindings of the policy attached to `scope` itself. When the policy list alone does
    /// not prove which entry is the resource's own, TMC's effective-policy view of the
    /// resource (by its `meta.uid`) settles it: its entries say whether they are inherited.
    #[tracing::instrument(skip(self), fields(system = "TMC", scope = %scope))]
    pub async fn policy(&self, scope: &TmcScope) -> Result<Vec<TmcRoleBinding>, ApiError> {
        let url = wire::policy_url(&self.base, &self.org_id, scope);
        let body = self.get_json("get IAM policy", url).await?;
        let answer: wire::PolicyAnswer =
            serde_json::from_value(body).map_err(|e| TMC.decode_error(e))?;
        let known = self.known_policy_uid(scope);
        let mut list = answer.policy_list;
        match wire::own_policy(&list, &self.org_id, scope, known.as_deref()) {
            wire::OwnPolicy::At(at) => Ok(wire::bindings_of(list.swap_remove(at).role_bindings)),
            wire::OwnPolicy::NoPolicy => Ok(Vec::new()),
            wire::OwnPolicy::Ask => self.direct_bindings(scope).await,
        }
    }

    /// The non-inherited bindings of `scope` by `GET /v1alpha1/iam/effective`.
    async fn direct_bindings(&self, scope: &TmcScope) -> Result<Vec<TmcRoleBinding>, ApiError> {
        let Some((url, key)) = wire::resource_url(&self.base, scope) else {
            return Ok(Vec::new());
        };
        let resource = self.get_json("get resource", url).await?;
        let uid = wire::resource_uid(&resource, key).ok_or_else(|| {
            TMC.decode_error(format!(
                "{scope} has no meta.uid to read its effective policy by"
            ))
        })?;
        let entries = self
            .list_all(
                "get effective IAM policies",
                wire::effective_url(&self.base, uid),
                "effective",
            )
            .await?;
        Ok(wire::bindings_of(wire::direct_effective_bindings(&entries)))
    }

    /// Apply one delta. A lost answer is settled by reading the policy.
    pub async fn apply_delta(
        &self,
        scope: &TmcScope,
        op: DeltaOp,
        role: &str,
        subject: &Subject,
    ) -> Result<(), ApiError> {
        self.apply_deltas(scope, &[(op, role)], subject).await
    }

    /// Apply several deltas of one subject in one PATCH (TMC applies the list as one change).
    /// A lost answer is settled by reading the policy: done when every delta shows.
    #[tracing::instrument(skip(self), fields(system = "TMC", scope = %scope))]
    pub async fn apply_deltas(
        &self,
        scope: &TmcScope,
        deltas: &[(DeltaOp, &str)],
        subject: &Subject,
    ) -> Result<(), ApiError> {
        let request = ApiRequest::new(
            System::Tmc,
            "patch IAM policy",
            Method::PATCH,
            wire::policy_url(&self.base, &self.org_id, scope),
        )
        .json(wire::deltas_body(&self.org_id, scope, deltas, subject));
        match self.call(&request).await {
            Ok(response) if response.is_success() => {
                let answer: Option<Value> = serde_json::from_slice(&response.body).ok();
                self.remember_policy_uid(scope, answer.as_ref().and_then(wire::patched_policy_uid));
                Ok(())
            }
            Ok(response) => Err(TMC.status_error(&response)),
            Err(lost) if lost.outcome_unknown() => {
                let bindings = self.policy(scope).await?;
                let done = deltas.iter().all(|(op, role)| {
                    let present = bindings
                        .iter()
                        .any(|b| b.role == *role && b.subjects.contains(subject));
                    match op {
                        DeltaOp::Add => present,
                        DeltaOp::Delete => !present,
                    }
                });
                if done {
                    tracing::info!("PATCH answer lost, but the policy shows it applied");
                    Ok(())
                } else {
                    Err(lost)
                }
            }
            Err(other) => Err(other),
        }
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

    async fn move_binding(
        &self,
        scope: &TmcScope,
        subject: &Subject,
        from_role: &str,
        to_role: &str,
    ) -> BackendResult<()> {
        let deltas = [(DeltaOp::Add, to_role), (DeltaOp::Delete, from_role)];
        self.apply_deltas(scope, &deltas, subject)
            .await
            .map_err(|e| {
                e.into_backend(format!(
                    "move {} '{}' from role {from_role} to {to_role} on {scope}",
                    kind_word(subject),
                    subject.name
                ))
            })
    }
}

fn kind_word(subject: &Subject) -> &'static str {
    match subject.kind {
        SubjectKind::User => "user",
        SubjectKind::Group => "group",
        SubjectKind::ServiceAccount => "service account",
    }
}
