//! IAM policies: `GET`, `PATCH` and `PUT` of the policy of any of the five scopes, one handler
//! per verb (the scope comes from [`ScopePath`]).

use axum::body::Bytes;
use axum::extract::{Query, State};
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{TmcError, TmcResult};
use super::scope::{FullNameQuery, ScopePath, ancestors, resolve, rid};
use crate::sandbox::data::TMC_ROLES;
use crate::sandbox::state::{AppState, Policy, PolicyScope, TmcRoleBinding, TmcSubject, World};

const SUBJECT_KINDS: &[&str] = &["USER", "GROUP", "SERVICEACCOUNT", "K8S_SERVICEACCOUNT"];

fn policy_json(world: &World, scope: &PolicyScope, policy: &Policy) -> Value {
    json!({
        "meta": {
            "uid": policy.uid,
            "resourceVersion": policy.resource_version.to_string(),
            "creationTime": policy.created.to_string(),
            "updateTime": policy.updated.to_string(),
            "parentReferences": [{ "rid": rid(world, scope) }],
        },
        "roleBindings": policy.role_bindings,
    })
}

type Reply = TmcResult<axum::Json<Value>>;

/// `GET`: the scope's own policy, then those it inherits.
pub(super) async fn get_policy(
    State(state): State<AppState>,
    ScopePath(named): ScopePath,
    Query(query): Query<FullNameQuery>,
) -> Reply {
    let world = state.world();
    let scope = resolve(&world, &named, &query)?;
    let policies: Vec<Value> = std::iter::once(scope.clone())
        .chain(ancestors(&world, &scope))
        .filter_map(|s| {
            let policy = world.tmc.policies.get(&s)?;
            Some(policy_json(&world, &s, policy))
        })
        .collect();
    Ok(axum::Json(json!({ "policyList": policies })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PatchRequest {
    #[serde(default)]
    full_name: Option<Value>,
    #[serde(default)]
    binding_delta_list: Vec<BindingDelta>,
}

#[derive(Deserialize)]
struct BindingDelta {
    op: Option<String>,
    role: Option<String>,
    subject: Option<TmcSubject>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PutRequest {
    #[serde(default)]
    meta: Option<PutMeta>,
    #[serde(default)]
    role_bindings: Vec<TmcRoleBinding>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMeta {
    resource_version: Option<String>,
}

fn parse_body<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> TmcResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| TmcError::invalid_argument(format!("invalid request body: {e}")))
}

/// A role must exist and be bindable on this kind of resource.
fn check_role(role: &str, scope: &PolicyScope) -> TmcResult<()> {
    let known = TMC_ROLES
        .iter()
        .find(|r| r.name == role)
        .ok_or_else(|| TmcError::invalid_argument(format!("role '{role}' does not exist")))?;
    if known.resources.contains(&scope.resource_type()) {
        Ok(())
    } else {
        Err(TmcError::invalid_argument(format!(
            "role '{role}' cannot be bound on a {} (allowed on: {})",
            scope.resource_type(),
            known.resources.join(", ")
        )))
    }
}

fn check_subject(world: &World, subject: &TmcSubject, adding: bool) -> TmcResult<()> {
    if !SUBJECT_KINDS.contains(&subject.kind.as_str()) {
        return Err(TmcError::invalid_argument(format!(
            "subject kind '{}' is invalid; use one of {}",
            subject.kind,
            SUBJECT_KINDS.join(", ")
        )));
    }
    if subject.name.trim().is_empty() {
        return Err(TmcError::invalid_argument("subject name must not be empty"));
    }
    if adding && subject.kind == "USER" && !world.csp.is_active_member(&subject.name) {
        return Err(TmcError::failed_precondition(format!(
            "user '{}' is not an active member of the organization; invite them to the CSP \
             organization and wait until they accept before binding roles",
            subject.name
        )));
    }
    Ok(())
}

fn check_full_name(scope: &PolicyScope, full_name: Option<&Value>) -> TmcResult<()> {
    let Some(given) = full_name
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let expected = match scope {
        PolicyScope::Organization => return Ok(()),
        PolicyScope::ClusterGroup(n) | PolicyScope::Workspace(n) => n,
        PolicyScope::Cluster(key) => &key.name,
        PolicyScope::Namespace { name, .. } => name,
    };
    if given == expected {
        Ok(())
    } else {
        Err(TmcError::invalid_argument(format!(
            "fullName.name '{given}' does not match the path's '{expected}'"
        )))
    }
}

/// Store `bindings` as the policy of `scope` (or drop the policy when empty); returns its JSON.
fn store_policy(world: &mut World, scope: &PolicyScope, bindings: Vec<TmcRoleBinding>) -> Value {
    let bindings: Vec<TmcRoleBinding> = bindings
        .into_iter()
        .filter(|b| !b.subjects.is_empty())
        .collect();
    let now = Timestamp::now();
    if bindings.is_empty() {
        return match world.tmc.policies.remove(scope) {
            Some(mut gone) => {
                gone.resource_version += 1;
                gone.updated = now;
                gone.role_bindings.clear();
                policy_json(world, scope, &gone)
            }
            None => json!({ "meta": {}, "roleBindings": [] }),
        };
    }
    let uid = world.ids.uuid();
    let policy = world
        .tmc
        .policies
        .entry(scope.clone())
        .or_insert_with(|| Policy {
            uid,
            resource_version: 0,
            created: now,
            updated: now,
            role_bindings: Vec::new(),
        });
    policy.resource_version += 1;
    policy.updated = now;
    policy.role_bindings = bindings;
    let stored = policy.clone();
    policy_json(world, scope, &stored)
}

/// `PATCH`: apply binding deltas, all or nothing.
pub(super) async fn patch_policy(
    State(state): State<AppState>,
    ScopePath(named): ScopePath,
    Query(query): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    let request: PatchRequest = parse_body(&body)?;
    let mut world = state.world();
    let scope = resolve(&world, &named, &query)?;
    check_full_name(&scope, request.full_name.as_ref())?;
    if request.binding_delta_list.is_empty() {
        return Err(TmcError::invalid_argument(
            "bindingDeltaList must not be empty",
        ));
    }
    let mut bindings = world
        .tmc
        .policies
        .get(&scope)
        .map(|p| p.role_bindings.clone())
        .unwrap_or_default();
    // Validate every delta before applying any: a PATCH is all or nothing.
    for delta in &request.binding_delta_list {
        let role = delta
            .role
            .as_deref()
            .ok_or_else(|| TmcError::invalid_argument("bindingDelta.role is required"))?;
        let subject = delta
            .subject
            .as_ref()
            .ok_or_else(|| TmcError::invalid_argument("bindingDelta.subject is required"))?;
        let adding = match delta.op.as_deref() {
            Some("ADD") => true,
            Some("DELETE") => false,
            other => {
                return Err(TmcError::invalid_argument(format!(
                    "bindingDelta.op must be ADD or DELETE, got {}",
                    other.unwrap_or("nothing")
                )));
            }
        };
        check_role(role, &scope)?;
        check_subject(&world, subject, adding)?;
    }
    for delta in request.binding_delta_list {
        let (Some(role), Some(subject)) = (delta.role, delta.subject) else {
            continue; // validated above
        };
        let binding = match bindings.iter().position(|b| b.role == role) {
            Some(index) => &mut bindings[index],
            None => {
                bindings.push(TmcRoleBinding {
                    role,
                    subjects: Vec::new(),
                });
                let last = bindings.len() - 1;
                &mut bindings[last]
            }
        };
        let present = binding.subjects.iter().position(|s| *s == subject);
        match (delta.op.as_deref(), present) {
            (Some("ADD"), None) => binding.subjects.push(subject),
            (Some("DELETE"), Some(index)) => {
                binding.subjects.remove(index);
            }
            _ => {}
        }
    }
    let policy = store_policy(&mut world, &scope, bindings);
    Ok(axum::Json(json!({ "policy": policy })))
}

/// `PUT`: replace the policy (an empty one deletes it).
pub(super) async fn put_policy(
    State(state): State<AppState>,
    ScopePath(named): ScopePath,
    Query(query): Query<FullNameQuery>,
    body: Bytes,
) -> Reply {
    let request: PutRequest = parse_body(&body)?;
    let mut world = state.world();
    let scope = resolve(&world, &named, &query)?;
    let current = world.tmc.policies.get(&scope);
    if let Some(expected) = request.meta.and_then(|m| m.resource_version)
        && current.map(|p| p.resource_version.to_string()) != Some(expected.clone())
    {
        return Err(TmcError::aborted(format!(
            "the policy was modified (resourceVersion {expected} is stale); read it again"
        )));
    }
    let existing: Vec<(String, TmcSubject)> = current
        .map(|p| {
            p.role_bindings
                .iter()
                .flat_map(|b| b.subjects.iter().map(|s| (b.role.clone(), s.clone())))
                .collect()
        })
        .unwrap_or_default();
    for binding in &request.role_bindings {
        check_role(&binding.role, &scope)?;
        for subject in &binding.subjects {
            // Only new grants need an active member: a PUT may carry leftovers along.
            let adding = !existing
                .iter()
                .any(|(r, s)| *r == binding.role && s == subject);
            check_subject(&world, subject, adding)?;
        }
    }
    let policy = store_policy(&mut world, &scope, request.role_bindings);
    Ok(axum::Json(json!({ "policy": policy })))
}
