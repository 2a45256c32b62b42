//! `GET /v1alpha1/iam/effective?searchScope.targetResourceUid=`: every IAM policy in force on
//! one resource, its own and the inherited ones, each marked `spec.inherited`. The shape is the
//! one vmware-samples/tmc-migration-scripts export and read back
//! (`.effective[] | select(.spec.inherited != true).spec.policySpec`, `spec.sourcePolicy.rid`).

use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::TmcResult;
use super::listing::{PageQuery, paginate};
use super::scope::{ancestors, rid};
use crate::sandbox::state::{AppState, PolicyScope, World};

#[derive(Deserialize)]
pub(super) struct EffectiveQuery {
    #[serde(rename = "searchScope.targetResourceUid")]
    target: Option<String>,
}

/// The resource whose `meta.uid` is `uid`; the organization has none to ask by.
fn scope_of_uid(world: &World, uid: &str) -> Option<PolicyScope> {
    let tmc = &world.tmc;
    if let Some(c) = tmc.cluster_groups.iter().find(|o| o.uid == uid) {
        return Some(PolicyScope::ClusterGroup(c.name.clone()));
    }
    if let Some(w) = tmc.workspaces.iter().find(|o| o.uid == uid) {
        return Some(PolicyScope::Workspace(w.name.clone()));
    }
    if let Some(c) = tmc.clusters.iter().find(|c| c.object.uid == uid) {
        return Some(PolicyScope::Cluster(c.key()));
    }
    tmc.namespaces
        .iter()
        .find(|n| n.object.uid == uid)
        .map(|n| PolicyScope::Namespace {
            cluster: n.cluster.clone(),
            name: n.object.name.clone(),
        })
}

pub(super) async fn effective(
    State(state): State<AppState>,
    Query(target): Query<EffectiveQuery>,
    Query(page): Query<PageQuery>,
) -> TmcResult<axum::Json<Value>> {
    let world = state.world();
    // An unknown uid has no policies in force (not attested either way).
    let scope = target
        .target
        .as_deref()
        .and_then(|uid| scope_of_uid(&world, uid));
    let entries: Vec<Value> = scope
        .iter()
        .flat_map(|own| std::iter::once(own.clone()).chain(ancestors(&world, own)))
        .filter_map(|s| {
            let policy = world.tmc.policies.get(&s)?;
            Some(json!({
                "spec": {
                    "inherited": Some(&s) != scope.as_ref(),
                    "sourcePolicy": { "rid": rid(&world, &s) },
                    "policySpec": { "roleBindings": policy.role_bindings },
                }
            }))
        })
        .collect();
    paginate("effective", entries, &page).map(axum::Json)
}
