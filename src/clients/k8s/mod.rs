//! Kubernetes RBAC on the TAP clusters through kube-rs, as [`ClusterRbac`].
//!
//! One `kube::Client` per configured `[[tap]]` context, built from its kubeconfig with exec
//! credential plugins forced non-interactive: over stdio our stdin carries the MCP protocol and
//! a plugin must never read it. Each kubeconfig file is parsed once at start and shared; a
//! cluster's client (its TLS configuration and connection pool) is built at its first call, so
//! start-up costs nothing per cluster and 50 clusters set up concurrently, not one by one. kube's own retry layer is off (it would re-send a POST on 504);
//! calls go through the same [`retry::decide`] policy as CSP and TMC. Removing a subject from a
//! shared binding replaces the binding at the resourceVersion it was read at and starts again
//! on a Conflict, so a concurrent writer is never overwritten.

mod error;
mod port;
mod retry_after;
mod subjects;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, RoleBinding, RoleRef, Subject as K8sSubject,
};
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use tracing::Instrument;

use super::http::error_chain;
use super::retry::{self, ClientOptions, Decision, Idempotency};
use crate::access::ports::{
    BindingRef, NewBinding, PolicyRule, RbacBinding, Subject, SubjectRemoval,
};
use crate::config::TapClusterConfig;
pub use error::K8sError;
use error::{convert, outcome_of};
/// The API group of roles and bindings; the one definition in the crate.
pub use subjects::RBAC_GROUP;
use subjects::{binding_view, same_subject, subject_to_k8s};

/// Read-modify-write rounds before a contended binding is reported as a Conflict.
const MAX_CONFLICT_ROUNDS: u32 = 5;

/// ClusterRoleBinding and RoleBinding, for the code that creates and edits either alike.
trait Binding: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug {
    fn role_ref(&self) -> &RoleRef;
    fn subjects(&self) -> &Option<Vec<K8sSubject>>;
    fn subjects_mut(&mut self) -> &mut Option<Vec<K8sSubject>>;

    /// The same role and subjects: what a binding found after a lost create must show.
    fn same_grant(&self, other: &Self) -> bool {
        self.role_ref() == other.role_ref() && self.subjects() == other.subjects()
    }
}

/// The two types have the same fields; only their scope differs.
macro_rules! binding {
    ($type:ty) => {
        impl Binding for $type {
            fn role_ref(&self) -> &RoleRef {
                &self.role_ref
            }
            fn subjects(&self) -> &Option<Vec<K8sSubject>> {
                &self.subjects
            }
            fn subjects_mut(&mut self) -> &mut Option<Vec<K8sSubject>> {
                &mut self.subjects
            }
        }
    };
}
binding!(ClusterRoleBinding);
binding!(RoleBinding);

/// The RBAC clients of every configured TAP cluster.
pub struct K8sRbac {
    /// In configuration order.
    clusters: Vec<Cluster>,
    options: ClientOptions,
}

/// One `[[tap]]` table: its context in a shared kubeconfig, and its client once built.
struct Cluster {
    name: String,
    context: String,
    kubeconfig: Arc<Kubeconfig>,
    client: OnceCell<Client>,
}

impl K8sRbac {
    /// Read and parse each kubeconfig file once and check every context is in it. Builds no
    /// client and makes no request: each cluster's client is built at its first call.
    pub async fn connect(
        tap: &[TapClusterConfig],
        options: &ClientOptions,
    ) -> Result<Self, (String, K8sError)> {
        let mut kubeconfigs: HashMap<Option<PathBuf>, Arc<Kubeconfig>> = HashMap::new();
        let mut clusters = Vec::with_capacity(tap.len());
        for entry in tap {
            let fail = |e: K8sError| (entry.name.clone(), e);
            let kubeconfig = match kubeconfigs.get(&entry.kubeconfig) {
                Some(shared) => shared.clone(),
                None => {
                    let loaded = Arc::new(non_interactive(
                        read_kubeconfig(entry.kubeconfig.as_deref()).map_err(fail)?,
                    ));
                    kubeconfigs.insert(entry.kubeconfig.clone(), loaded.clone());
                    loaded
                }
            };
            if !kubeconfig.contexts.iter().any(|c| c.name == entry.context) {
                return Err(fail(K8sError::Config(format!(
                    "context '{}': no such context in the kubeconfig",
                    entry.context
                ))));
            }
            clusters.push(Cluster {
                name: entry.name.clone(),
                context: entry.context.clone(),
                kubeconfig,
                client: OnceCell::new(),
            });
        }
        Ok(K8sRbac {
            clusters,
            options: options.clone(),
        })
    }

    /// The cluster's client, built on first use (concurrent first calls build it once).
    async fn client(&self, cluster: &str) -> Result<Client, K8sError> {
        let entry = self
            .clusters
            .iter()
            .find(|c| c.name == cluster)
            .ok_or_else(|| K8sError::UnknownCluster(cluster.to_string()))?;
        entry
            .client
            .get_or_try_init(|| {
                client_for(
                    only_context(&entry.kubeconfig, &entry.context),
                    &entry.context,
                    &self.options,
                )
            })
            .await
            .cloned()
    }

    /// Run `call` under the shared retry policy, in a span with its outcome, attempts and
    /// latency (kube's own `HTTP` span beneath it has method, URL and status).
    async fn with_retries<T, F, Fut>(
        &self,
        operation: &'static str,
        idempotency: Idempotency,
        call: F,
    ) -> Result<T, K8sError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let span = tracing::info_span!(
            "k8s",
            system = "Kubernetes",
            operation,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let result = self
            .retry_loop(idempotency, call)
            .instrument(span.clone())
            .await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok((_, attempts)) => {
                span.record("status", "ok");
                span.record("attempts", attempts);
            }
            Err(K8sError::Api { status, .. }) => {
                span.record("status", status);
            }
            Err(_) => {
                span.record("status", "transport error");
            }
        }
        result.map(|(value, _)| value)
    }

    async fn retry_loop<T, F, Fut>(
        &self,
        idempotency: Idempotency,
        mut call: F,
    ) -> Result<(T, u32), K8sError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let mut retries_done = 0;
        loop {
            let error = match call().await {
                Ok(value) => return Ok((value, retries_done + 1)),
                Err(error) => error,
            };
            let outcome = outcome_of(&error);
            match retry::decide(outcome, idempotency, retries_done, &self.options) {
                Decision::RetryAfter(wait) => {
                    tracing::debug!(?outcome, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    retries_done += 1;
                }
                Decision::OutcomeUnknown => {
                    return Err(K8sError::OutcomeUnknown(error_chain(&error)));
                }
                Decision::Done | Decision::GiveUp => return Err(convert(error, outcome)),
            }
        }
    }

    /// Every object of a kind, following `continue`.
    async fn list_all<K>(&self, api: &Api<K>) -> Result<Vec<K>, K8sError>
    where
        K: Clone + DeserializeOwned + std::fmt::Debug,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let limit = u32::try_from(self.options.list_page_size.max(1)).unwrap_or(u32::MAX);
            let mut params = ListParams::default().limit(limit);
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let page = self
                .with_retries("list", Idempotency::Idempotent, || api.list(&params))
                .await?;
            items.extend(page.items);
            let next = page.metadata.continue_.filter(|t| !t.is_empty());
            match next {
                None => return Ok(items),
                // A server that hands back the token it was given would page forever.
                Some(next) if token.as_ref() == Some(&next) => {
                    return Err(K8sError::NoAnswer(
                        "the list's continue token did not advance".into(),
                    ));
                }
                Some(next) => token = Some(next),
            }
        }
    }

    /// One list call of ClusterRoleBindings: reachability and the read right, for checks.
    pub async fn probe(&self, cluster: &str, params: ListParams) -> Result<(), K8sError> {
        let api: Api<ClusterRoleBinding> = Api::all(self.client(cluster).await?);
        self.with_retries("probe", Idempotency::Idempotent, || api.list(&params))
            .await
            .map(|_| ())
    }

    #[tracing::instrument(skip(self), fields(system = "Kubernetes"))]
    pub async fn bindings(&self, cluster: &str) -> Result<Vec<RbacBinding>, K8sError> {
        let client = self.client(cluster).await?;
        let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
        let rbs: Api<RoleBinding> = Api::all(client);
        // Two independent lists: one round trip of latency, not two.
        let (crbs, rbs) = futures::try_join!(self.list_all(&crbs), self.list_all(&rbs))?;
        let mut out = Vec::with_capacity(crbs.len() + rbs.len());
        for crb in crbs {
            out.push(binding_view(
                cluster,
                None,
                &crb.metadata,
                &crb.role_ref,
                crb.subjects.as_deref(),
            ));
        }
        for rb in rbs {
            let namespace = rb.metadata.namespace.clone();
            out.push(binding_view(
                cluster,
                namespace,
                &rb.metadata,
                &rb.role_ref,
                rb.subjects.as_deref(),
            ));
        }
        Ok(out)
    }

    pub async fn cluster_roles(&self, cluster: &str) -> Result<Vec<String>, K8sError> {
        self.list_names::<ClusterRole>(cluster).await
    }

    #[tracing::instrument(skip(self), fields(system = "Kubernetes"))]
    pub async fn namespaces(&self, cluster: &str) -> Result<Vec<String>, K8sError> {
        self.list_names::<Namespace>(cluster).await
    }

    /// The rules of one ClusterRole, for the write policy.
    #[tracing::instrument(skip(self), fields(system = "Kubernetes"))]
    pub async fn cluster_role_rules(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Vec<PolicyRule>, K8sError> {
        let api: Api<ClusterRole> = Api::all(self.client(cluster).await?);
        let role = self
            .with_retries("get", Idempotency::Idempotent, || api.get(name))
            .await?;
        Ok(role
            .rules
            .unwrap_or_default()
            .into_iter()
            .map(|rule| PolicyRule {
                api_groups: rule.api_groups.unwrap_or_default(),
                resources: rule.resources.unwrap_or_default(),
                verbs: rule.verbs,
            })
            .collect())
    }

    /// The names of every object of a cluster-wide kind.
    async fn list_names<K>(&self, cluster: &str) -> Result<Vec<String>, K8sError>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    {
        let api: Api<K> = Api::all(self.client(cluster).await?);
        Ok(self
            .list_all(&api)
            .await?
            .into_iter()
            .filter_map(|object| object.meta().name.clone())
            .collect())
    }

    #[tracing::instrument(skip(self, binding), fields(system = "Kubernetes", cluster = binding.cluster, name = binding.name))]
    pub async fn create_binding(&self, binding: NewBinding<'_>) -> Result<(), K8sError> {
        let NewBinding {
            cluster,
            namespace,
            name,
            role,
            subjects,
        } = binding;
        let client = self.client(cluster).await?;
        let metadata = ObjectMeta {
            name: Some(name.to_string()),
            namespace: namespace.map(str::to_owned),
            labels: Some(
                [(
                    "app.kubernetes.io/managed-by".to_string(),
                    "tanzu-mcp".to_string(),
                )]
                .into(),
            ),
            ..ObjectMeta::default()
        };
        let role_ref = RoleRef {
            api_group: RBAC_GROUP.into(),
            kind: "ClusterRole".into(),
            name: role.into(),
        };
        let subjects = Some(subjects.iter().map(subject_to_k8s).collect());
        match namespace {
            None => {
                let object = ClusterRoleBinding {
                    metadata,
                    role_ref,
                    subjects,
                };
                self.create_settled(&Api::all(client), name, &object).await
            }
            Some(ns) => {
                let object = RoleBinding {
                    metadata,
                    role_ref,
                    subjects,
                };
                self.create_settled(&Api::namespaced(client, ns), name, &object)
                    .await
            }
        }
    }

    /// Create; if the answer is lost, read back: the same binding existing means it was made.
    async fn create_settled<K: Binding>(
        &self,
        api: &Api<K>,
        name: &str,
        object: &K,
    ) -> Result<(), K8sError> {
        let params = PostParams::default();
        match self
            .with_retries("create", Idempotency::NotIdempotent, || {
                api.create(&params, object)
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(K8sError::OutcomeUnknown(detail)) => {
                let found = self
                    .with_retries("get", Idempotency::Idempotent, || api.get_opt(name))
                    .await?;
                match found {
                    Some(found) if found.same_grant(object) => Ok(()),
                    _ => Err(K8sError::OutcomeUnknown(detail)),
                }
            }
            Err(other) => Err(other),
        }
    }

    #[tracing::instrument(skip(self), fields(system = "Kubernetes", subject = %subject.name))]
    pub async fn remove_subject(
        &self,
        binding: BindingRef<'_>,
        subject: &Subject,
    ) -> Result<SubjectRemoval, K8sError> {
        let BindingRef {
            cluster,
            namespace,
            name,
        } = binding;
        let client = self.client(cluster).await?;
        match namespace {
            None => {
                let api: Api<ClusterRoleBinding> = Api::all(client);
                self.remove_from(&api, name, subject).await
            }
            Some(ns) => {
                let api: Api<RoleBinding> = Api::namespaced(client, ns);
                self.remove_from(&api, name, subject).await
            }
        }
    }

    /// Read, drop the subject, write back at the read resourceVersion; on 409 start over.
    async fn remove_from<K: Binding>(
        &self,
        api: &Api<K>,
        name: &str,
        subject: &Subject,
    ) -> Result<SubjectRemoval, K8sError> {
        for round in 1..=MAX_CONFLICT_ROUNDS {
            let Some(mut binding) = self
                .with_retries("get", Idempotency::Idempotent, || api.get_opt(name))
                .await?
            else {
                return Ok(SubjectRemoval::AlreadyAbsent);
            };
            let resource_version = binding.meta().resource_version.clone();
            let subjects = binding.subjects_mut();
            let before = subjects.as_ref().map_or(0, Vec::len);
            let remaining: Vec<K8sSubject> = subjects
                .take()
                .unwrap_or_default()
                .into_iter()
                .filter(|s| !same_subject(s, subject))
                .collect();
            if remaining.len() == before {
                return Ok(SubjectRemoval::AlreadyAbsent);
            }
            // Both writes are conditional on the version we read, so repeating one after a lost
            // answer cannot undo someone else's change: at worst it meets a 409 or a 404.
            let result = if remaining.is_empty() {
                let params = DeleteParams::default().preconditions(Preconditions {
                    resource_version: resource_version.clone(),
                    uid: None,
                });
                self.with_retries("delete", Idempotency::Idempotent, || {
                    api.delete(name, &params)
                })
                .await
                .map(|_| SubjectRemoval::Deleted)
            } else {
                *subjects = Some(remaining);
                let params = PostParams::default();
                self.with_retries("replace", Idempotency::Idempotent, || {
                    api.replace(name, &params, &binding)
                })
                .await
                .map(|_| SubjectRemoval::Updated)
            };
            match result {
                Ok(done) => return Ok(done),
                Err(K8sError::Api { status: 409, .. }) => {
                    tracing::debug!(round, "binding changed since read (409); reading again");
                }
                // Gone between our read and our write: nothing of the subject is left either.
                Err(K8sError::Api { status: 404, .. }) => {
                    return Ok(SubjectRemoval::AlreadyAbsent);
                }
                Err(other) => return Err(other),
            }
        }
        Err(K8sError::Contended(format!(
            "'{name}' changed {MAX_CONFLICT_ROUNDS} times while we removed a subject"
        )))
    }
}

fn read_kubeconfig(path: Option<&std::path::Path>) -> Result<Kubeconfig, K8sError> {
    match path {
        Some(path) => Kubeconfig::read_from(path).map_err(|e| {
            K8sError::Config(format!("cannot read kubeconfig {}: {e}", path.display()))
        }),
        None => Kubeconfig::read().map_err(|e| {
            K8sError::Config(format!(
                "cannot read the default kubeconfig (KUBECONFIG or ~/.kube/config): {e}"
            ))
        }),
    }
}

/// The part of `kubeconfig` that `context` uses: its context, cluster and user. kube takes a
/// kubeconfig by value, and copying all 50 clusters' CA data for each of 50 clients would be
/// 2,500 copies.
fn only_context(kubeconfig: &Kubeconfig, context: &str) -> Kubeconfig {
    let named = kubeconfig.contexts.iter().find(|c| c.name == context);
    let inner = named.and_then(|c| c.context.as_ref());
    let cluster = inner.map(|c| c.cluster.as_str());
    let user = inner.and_then(|c| c.user.as_deref());
    Kubeconfig {
        preferences: kubeconfig.preferences.clone(),
        clusters: kubeconfig
            .clusters
            .iter()
            .filter(|c| Some(c.name.as_str()) == cluster)
            .cloned()
            .collect(),
        auth_infos: kubeconfig
            .auth_infos
            .iter()
            .filter(|u| Some(u.name.as_str()) == user)
            .cloned()
            .collect(),
        contexts: named.into_iter().cloned().collect(),
        current_context: Some(context.to_string()),
        extensions: kubeconfig.extensions.clone(),
        kind: kubeconfig.kind.clone(),
        api_version: kubeconfig.api_version.clone(),
        other: kubeconfig.other.clone(),
    }
}

/// Exec plugins (Pinniped, cloud logins) must never read our stdin: it is the MCP transport.
fn non_interactive(mut kubeconfig: Kubeconfig) -> Kubeconfig {
    for named in &mut kubeconfig.auth_infos {
        if let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(kube::config::ExecInteractiveMode::Never);
        }
    }
    kubeconfig
}

async fn client_for(
    kubeconfig: Kubeconfig,
    context: &str,
    options: &ClientOptions,
) -> Result<Client, K8sError> {
    let kube_options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options)
        .await
        .map_err(|e| K8sError::Config(format!("context '{context}': {e}")))?;
    config.connect_timeout = Some(options.connect_timeout);
    config.read_timeout = Some(options.request_timeout);
    config.write_timeout = Some(options.request_timeout);
    config.reset_reader_on_write = true;
    config.default_retry = false;
    if let Some(exec) = config.auth_info.exec.as_mut() {
        exec.interactive_mode = Some(kube::config::ExecInteractiveMode::Never);
    }
    let builder = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| K8sError::Config(format!("context '{context}': {e}")))?;
    Ok(builder.with_layer(&retry_after::RetryAfterLayer).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_plugins_are_made_non_interactive() {
        let kubeconfig = Kubeconfig::from_yaml(
            r#"
apiVersion: v1
kind: Config
clusters: []
contexts: []
users:
- name: pinniped
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: pinniped
      interactiveMode: IfAvailable
"#,
        )
        .unwrap();
        let kubeconfig = non_interactive(kubeconfig);
        let exec = kubeconfig.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|a| a.exec.as_ref())
            .unwrap();
        assert_eq!(
            exec.interactive_mode,
            Some(kube::config::ExecInteractiveMode::Never)
        );
    }
}
