//! TMC wire shapes and the pure functions that build its URLs and bodies.
//!
//! Access in TMC is one IAM policy per resource (API_NOTES.md): `GET` reads it, `PATCH` with a
//! `bindingDeltaList` adds or removes one subject of one role. The whole-policy `PUT` is never
//! used: it races with every other writer.

use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::access::ports::{Subject, SubjectKind, TmcCluster, TmcRoleBinding, TmcScope};
use crate::clients::http::endpoint;

/// The IAM policy URL of `scope`, with the scope's query parameters.
pub fn policy_url(base: &Url, org_id: &str, scope: &TmcScope) -> Url {
    match scope {
        TmcScope::Organization => {
            let mut url = endpoint(base, &["v1alpha1", "organization:iam"]);
            url.query_pairs_mut().append_pair("fullName.orgId", org_id);
            url
        }
        TmcScope::ClusterGroup { name } => endpoint(base, &["v1alpha1", "clustergroups:iam", name]),
        TmcScope::Cluster {
            name,
            management_cluster,
            provisioner,
        } => {
            let mut url = endpoint(base, &["v1alpha1", "clusters:iam", name]);
            cluster_query(&mut url, management_cluster, provisioner);
            url
        }
        TmcScope::Namespace {
            cluster,
            name,
            management_cluster,
            provisioner,
        } => {
            let mut url = endpoint(
                base,
                &["v1alpha1", "clusters", cluster, "namespaces:iam", name],
            );
            cluster_query(&mut url, management_cluster, provisioner);
            url
        }
        TmcScope::Workspace { name } => endpoint(base, &["v1alpha1", "workspaces:iam", name]),
    }
}

fn cluster_query(url: &mut Url, management_cluster: &str, provisioner: &str) {
    url.query_pairs_mut()
        .append_pair("fullName.managementClusterName", management_cluster)
        .append_pair("fullName.provisionerName", provisioner);
}

/// The `fullName` of the resource that owns the policy, as the PATCH body carries it.
pub fn full_name(org_id: &str, scope: &TmcScope) -> Value {
    match scope {
        TmcScope::Organization => json!({ "orgId": org_id }),
        TmcScope::ClusterGroup { name } | TmcScope::Workspace { name } => json!({ "name": name }),
        TmcScope::Cluster {
            name,
            management_cluster,
            provisioner,
        } => under_management_cluster(management_cluster, provisioner, json!({ "name": name })),
        TmcScope::Namespace {
            cluster,
            name,
            management_cluster,
            provisioner,
        } => under_management_cluster(
            management_cluster,
            provisioner,
            json!({ "clusterName": cluster, "name": name }),
        ),
    }
}

/// A cluster's or namespace's `fullName`: its own names plus where the cluster is managed.
fn under_management_cluster(management_cluster: &str, provisioner: &str, mut own: Value) -> Value {
    own["managementClusterName"] = json!(management_cluster);
    own["provisionerName"] = json!(provisioner);
    own
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaOp {
    Add,
    Delete,
}

/// `PATCH` body: one delta, one role, one subject.
pub fn delta_body(
    org_id: &str,
    scope: &TmcScope,
    op: DeltaOp,
    role: &str,
    subject: &Subject,
) -> Value {
    deltas_body(org_id, scope, &[(op, role)], subject)
}

/// `PATCH` body: several deltas of one subject, in order (a change of role is `ADD` of the new
/// role then `DELETE` of the old, as the Terraform provider's in-place update sends them).
pub fn deltas_body(
    org_id: &str,
    scope: &TmcScope,
    deltas: &[(DeltaOp, &str)],
    subject: &Subject,
) -> Value {
    let (name, kind) = subject_to_wire(subject);
    let list: Vec<Value> = deltas
        .iter()
        .map(|(op, role)| {
            json!({
                "op": match op { DeltaOp::Add => "ADD", DeltaOp::Delete => "DELETE" },
                "role": role,
                "subject": { "name": name, "kind": kind },
            })
        })
        .collect();
    json!({
        "fullName": full_name(org_id, scope),
        "bindingDeltaList": list,
    })
}

/// TMC's subject kinds. A Kubernetes service account is `K8S_SERVICEACCOUNT` named
/// `namespace:name`; a TMC service account is `SERVICEACCOUNT`.
pub fn subject_to_wire(subject: &Subject) -> (String, &'static str) {
    match (subject.kind, &subject.namespace) {
        (SubjectKind::User, _) => (subject.name.clone(), "USER"),
        (SubjectKind::Group, _) => (subject.name.clone(), "GROUP"),
        (SubjectKind::ServiceAccount, Some(ns)) => {
            (format!("{ns}:{}", subject.name), "K8S_SERVICEACCOUNT")
        }
        (SubjectKind::ServiceAccount, None) => (subject.name.clone(), "SERVICEACCOUNT"),
    }
}

pub fn subject_from_wire(subject: &WireSubject) -> Option<Subject> {
    let kind = subject.kind.as_deref().unwrap_or("USER");
    Some(match kind {
        "USER" => Subject::user(&subject.name),
        "GROUP" => Subject::group(&subject.name),
        "SERVICEACCOUNT" => Subject {
            kind: SubjectKind::ServiceAccount,
            name: subject.name.clone(),
            namespace: None,
        },
        "K8S_SERVICEACCOUNT" => {
            let (ns, name) = subject
                .name
                .split_once(':')
                .map_or((None, subject.name.as_str()), |(ns, n)| (Some(ns), n));
            Subject {
                kind: SubjectKind::ServiceAccount,
                name: name.to_string(),
                namespace: ns.map(str::to_owned),
            }
        }
        _ => return None,
    })
}

/// `pagination.offset` / `pagination.size` of a listing, asking for `totalCount` (TMC leaves
/// it out unless `includeTotalCount=true`).
pub fn with_page(mut url: Url, offset: usize, size: usize) -> Url {
    url.query_pairs_mut()
        .append_pair("pagination.offset", &offset.to_string())
        .append_pair("pagination.size", &size.max(1).to_string())
        .append_pair("includeTotalCount", "true");
    url
}

/// Whether a listing is complete after a page of `got` items (`so_far` in all, `size` asked
/// for). A known total decides; without one, a short or empty page is the last.
pub fn listing_done(got: usize, so_far: usize, size: usize, total: Option<usize>) -> bool {
    match total {
        _ if got == 0 => true,
        Some(total) => so_far >= total,
        None => got < size.max(1),
    }
}

pub fn clusters_url(base: &Url) -> Url {
    endpoint(base, &["v1alpha1", "clusters"])
}

pub fn cluster_groups_url(base: &Url) -> Url {
    endpoint(base, &["v1alpha1", "clustergroups"])
}

pub fn workspaces_url(base: &Url) -> Url {
    endpoint(base, &["v1alpha1", "workspaces"])
}

/// Namespaces of one cluster. The list request scopes by `searchScope.*` (TMC ignores unknown
/// query fields, so `fullName.*` here would silently merge same-named clusters' namespaces).
pub fn namespaces_url(base: &Url, cluster: &TmcCluster) -> Url {
    let mut url = endpoint(base, &["v1alpha1", "clusters", &cluster.name, "namespaces"]);
    url.query_pairs_mut()
        .append_pair(
            "searchScope.managementClusterName",
            &cluster.management_cluster,
        )
        .append_pair("searchScope.provisionerName", &cluster.provisioner);
    url
}

pub fn roles_url(base: &Url) -> Url {
    endpoint(base, &["v1alpha1", "iam", "roles"])
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAnswer {
    #[serde(default)]
    pub policy_list: Vec<WirePolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePolicy {
    #[serde(default)]
    pub meta: Option<Value>,
    #[serde(default)]
    pub role_bindings: Vec<WireRoleBinding>,
}

#[derive(Debug, Deserialize)]
pub struct WireRoleBinding {
    pub role: String,
    #[serde(default)]
    pub subjects: Vec<WireSubject>,
}

#[derive(Debug, Deserialize)]
pub struct WireSubject {
    pub name: String,
    #[serde(default)]
    pub kind: Option<String>,
}

/// The `rid` of a cluster, the one form of `meta.parentReferences[].rid` a public source shows
/// (`rid:c:{org}:{managementCluster}:{provisioner}:{name}`). The other scopes' forms are not
/// attested, so they are never guessed.
pub fn cluster_rid(org_id: &str, scope: &TmcScope) -> Option<String> {
    match scope {
        TmcScope::Cluster {
            name,
            management_cluster,
            provisioner,
        } => Some(format!(
            "rid:c:{org_id}:{management_cluster}:{provisioner}:{name}"
        )),
        _ => None,
    }
}

/// Which entry of a `policyList` is the resource's own, as far as the list itself tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnPolicy {
    At(usize),
    /// No policy at all: the resource has none of its own either.
    NoPolicy,
    /// The list may hold inherited policies and none is provably the resource's: ask TMC's
    /// effective-policy endpoint, which marks inherited ones.
    Ask,
}

fn policy_uid(policy: &WirePolicy) -> Option<&str> {
    policy.meta.as_ref()?.get("uid")?.as_str()
}

fn parent_rids(policy: &WirePolicy) -> impl Iterator<Item = &str> {
    policy
        .meta
        .as_ref()
        .and_then(|m| m.get("parentReferences"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("rid").and_then(Value::as_str))
}

/// Pick the resource's own policy. `known_uid` is the `meta.uid` of the policy a PATCH of ours
/// answered for this scope: the Terraform provider selects its policy that way. The
/// organization inherits nothing, so its list's first entry is its own (as the migration
/// scripts read it); a cluster's own policy names it by its attested `rid`. Anything else is
/// not guessed.
pub fn own_policy(
    list: &[WirePolicy],
    org_id: &str,
    scope: &TmcScope,
    known_uid: Option<&str>,
) -> OwnPolicy {
    if list.is_empty() {
        return OwnPolicy::NoPolicy;
    }
    if let Some(uid) = known_uid
        && let Some(at) = list.iter().position(|p| policy_uid(p) == Some(uid))
    {
        return OwnPolicy::At(at);
    }
    if *scope == TmcScope::Organization {
        return OwnPolicy::At(0);
    }
    if let Some(rid) = cluster_rid(org_id, scope)
        && let Some(at) = list.iter().position(|p| parent_rids(p).any(|r| r == rid))
    {
        return OwnPolicy::At(at);
    }
    OwnPolicy::Ask
}

/// The URL of the resource behind `scope` (whose `meta.uid` the effective-policy endpoint
/// takes) and the key its `GET` answers under; `None` for the organization.
pub fn resource_url(base: &Url, scope: &TmcScope) -> Option<(Url, &'static str)> {
    Some(match scope {
        TmcScope::Organization => return None,
        TmcScope::ClusterGroup { name } => (
            endpoint(base, &["v1alpha1", "clustergroups", name]),
            "clusterGroup",
        ),
        TmcScope::Workspace { name } => (
            endpoint(base, &["v1alpha1", "workspaces", name]),
            "workspace",
        ),
        TmcScope::Cluster {
            name,
            management_cluster,
            provisioner,
        } => {
            let mut url = endpoint(base, &["v1alpha1", "clusters", name]);
            cluster_query(&mut url, management_cluster, provisioner);
            (url, "cluster")
        }
        TmcScope::Namespace {
            cluster,
            name,
            management_cluster,
            provisioner,
        } => {
            let mut url = endpoint(base, &["v1alpha1", "clusters", cluster, "namespaces", name]);
            cluster_query(&mut url, management_cluster, provisioner);
            (url, "namespace")
        }
    })
}

/// The `meta.uid` of a single-resource read: under the key `GET` answers with (the Terraform
/// provider's `Get*Response` models: `{cluster}`, `{clusterGroup}`, `{workspace}`,
/// `{namespace}`), or at the top should an answer come unwrapped.
pub fn resource_uid<'a>(answer: &'a Value, key: &str) -> Option<&'a str> {
    answer
        .get(key)
        .unwrap_or(answer)
        .pointer("/meta/uid")
        .and_then(Value::as_str)
}

/// `GET /v1alpha1/iam/effective?searchScope.targetResourceUid=`: every policy in force on the
/// resource, each marked `spec.inherited` (vmware-samples/tmc-migration-scripts export with it
/// and import only `select(.spec.inherited != true).spec.policySpec`).
pub fn effective_url(base: &Url, resource_uid: &str) -> Url {
    let mut url = endpoint(base, &["v1alpha1", "iam", "effective"]);
    url.query_pairs_mut()
        .append_pair("searchScope.targetResourceUid", resource_uid);
    url
}

/// The role bindings of the entries of an effective-policy listing that are not inherited.
pub fn direct_effective_bindings(entries: &[Value]) -> Vec<WireRoleBinding> {
    entries
        .iter()
        .filter(|e| e.pointer("/spec/inherited").and_then(Value::as_bool) != Some(true))
        .filter_map(|e| e.pointer("/spec/policySpec/roleBindings"))
        .filter_map(|b| serde_json::from_value::<Vec<WireRoleBinding>>(b.clone()).ok())
        .flatten()
        .collect()
}

/// The `meta.uid` of the policy a PATCH answered with (`{policy: {meta: {uid}}}`); none when
/// the PATCH emptied the policy away.
pub fn patched_policy_uid(answer: &Value) -> Option<String> {
    let policy = answer.get("policy")?;
    let has_bindings = policy
        .get("roleBindings")
        .and_then(Value::as_array)
        .is_some_and(|b| !b.is_empty());
    has_bindings
        .then(|| policy.pointer("/meta/uid")?.as_str().map(str::to_owned))
        .flatten()
}

pub fn bindings_of(role_bindings: Vec<WireRoleBinding>) -> Vec<TmcRoleBinding> {
    role_bindings
        .into_iter()
        .map(|binding| TmcRoleBinding {
            role: binding.role,
            subjects: binding
                .subjects
                .iter()
                .filter_map(subject_from_wire)
                .collect(),
        })
        .collect()
}

/// One page of a TMC listing: the items under `key` and `totalCount` (a number, or a string
/// as protobuf JSON writes 64-bit integers).
pub fn listing_page(body: &Value, key: &str) -> (Vec<Value>, Option<usize>) {
    let items = body
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let total = body.get("totalCount").and_then(|t| match t {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    (items, total)
}

/// `fullName.name` of a listed object.
pub fn listed_name(item: &Value) -> Option<String> {
    item.pointer("/fullName/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub fn listed_cluster(item: &Value) -> Option<TmcCluster> {
    let full = item.get("fullName")?;
    let field = |k: &str| full.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(TmcCluster {
        name: field("name")?,
        management_cluster: field("managementClusterName").unwrap_or_else(|| "attached".into()),
        provisioner: field("provisionerName").unwrap_or_else(|| "attached".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://org.tmc.example").unwrap()
    }

    fn cluster() -> TmcScope {
        TmcScope::Cluster {
            name: "dev/1".into(),
            management_cluster: "attached".into(),
            provisioner: "attached".into(),
        }
    }

    #[test]
    fn policy_urls_for_every_scope() {
        let org = "o-1";
        let cases = [
            (
                TmcScope::Organization,
                "/v1alpha1/organization:iam?fullName.orgId=o-1",
            ),
            (
                TmcScope::ClusterGroup { name: "cg".into() },
                "/v1alpha1/clustergroups:iam/cg",
            ),
            (
                cluster(),
                "/v1alpha1/clusters:iam/dev%2F1?fullName.managementClusterName=attached&fullName.provisionerName=attached",
            ),
            (
                TmcScope::Namespace {
                    cluster: "c".into(),
                    name: "ns".into(),
                    management_cluster: "m".into(),
                    provisioner: "p".into(),
                },
                "/v1alpha1/clusters/c/namespaces:iam/ns?fullName.managementClusterName=m&fullName.provisionerName=p",
            ),
            (
                TmcScope::Workspace { name: "w s".into() },
                "/v1alpha1/workspaces:iam/w%20s",
            ),
        ];
        for (scope, expected) in cases {
            let url = policy_url(&base(), org, &scope);
            assert_eq!(&url.as_str()["https://org.tmc.example".len()..], expected);
        }
    }

    #[test]
    fn delta_body_carries_one_op_one_role_one_subject() {
        let body = delta_body(
            "o",
            &cluster(),
            DeltaOp::Delete,
            "cluster.edit",
            &Subject::user("a@x"),
        );
        assert_eq!(
            body,
            json!({
                "fullName": {"managementClusterName": "attached", "provisionerName": "attached", "name": "dev/1"},
                "bindingDeltaList": [{"op": "DELETE", "role": "cluster.edit",
                                      "subject": {"name": "a@x", "kind": "USER"}}]
            })
        );
    }

    #[test]
    fn a_change_of_role_is_one_body_adding_then_deleting() {
        let body = deltas_body(
            "o",
            &TmcScope::Workspace { name: "w".into() },
            &[
                (DeltaOp::Add, "workspace.edit"),
                (DeltaOp::Delete, "workspace.view"),
            ],
            &Subject::group("devs"),
        );
        assert_eq!(
            body,
            json!({
                "fullName": {"name": "w"},
                "bindingDeltaList": [
                    {"op": "ADD", "role": "workspace.edit", "subject": {"name": "devs", "kind": "GROUP"}},
                    {"op": "DELETE", "role": "workspace.view", "subject": {"name": "devs", "kind": "GROUP"}}
                ]
            })
        );
    }

    #[test]
    fn service_account_subjects_round_trip() {
        let sa = Subject {
            kind: SubjectKind::ServiceAccount,
            name: "flux".into(),
            namespace: Some("ns".into()),
        };
        let (name, kind) = subject_to_wire(&sa);
        assert_eq!((name.as_str(), kind), ("ns:flux", "K8S_SERVICEACCOUNT"));
        let back = subject_from_wire(&WireSubject {
            name,
            kind: Some(kind.into()),
        });
        assert_eq!(back, Some(sa));
    }

    #[test]
    fn the_listing_fixtures_parse() {
        let clusters: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/tmc/clusters.list.json"
        ))
        .unwrap();
        let (items, total) = listing_page(&clusters, "clusters");
        assert_eq!(total, Some(1));
        let cluster = listed_cluster(&items[0]).unwrap();
        assert_eq!(cluster.name, "dev-cluster-1");
        assert_eq!(cluster.management_cluster, "attached");
        let namespaces: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/tmc/namespaces.list.json"
        ))
        .unwrap();
        let (items, total) = listing_page(&namespaces, "namespaces");
        assert_eq!(total, None, "no totalCount unless asked for");
        assert_eq!(listed_name(&items[0]).as_deref(), Some("team-a"));
        let cluster = TmcCluster {
            name: "dev-cluster-1".into(),
            management_cluster: "attached".into(),
            provisioner: "attached".into(),
        };
        let url = with_page(namespaces_url(&base(), &cluster), 0, 100);
        let request = include_str!("../../../tests/fixtures/tmc/namespaces.list.request.txt");
        assert_eq!(
            format!("GET {}?{}", url.path(), url.query().unwrap()),
            request.trim()
        );
    }

    #[test]
    fn the_group_and_workspace_listing_fixtures_parse() {
        for (text, key, name) in [
            (
                include_str!("../../../tests/fixtures/tmc/clustergroups.list.json"),
                "clusterGroups",
                "dev-group",
            ),
            (
                include_str!("../../../tests/fixtures/tmc/workspaces.list.json"),
                "workspaces",
                "team-a",
            ),
        ] {
            let body: Value = serde_json::from_str(text).unwrap();
            let (items, total) = listing_page(&body, key);
            assert_eq!(total, Some(1));
            assert_eq!(listed_name(&items[0]).as_deref(), Some(name));
        }
    }

    #[test]
    fn single_reads_give_the_resource_uid_under_their_key() {
        for (text, scope, uid) in [
            (
                include_str!("../../../tests/fixtures/tmc/cluster.get.json"),
                cluster(),
                "c:01HXYZ0000000000000000000",
            ),
            (
                include_str!("../../../tests/fixtures/tmc/clustergroup.get.json"),
                TmcScope::ClusterGroup {
                    name: "dev-group".into(),
                },
                "cg:01HXYZ0000000000000000000",
            ),
            (
                include_str!("../../../tests/fixtures/tmc/workspace.get.json"),
                TmcScope::Workspace {
                    name: "team-a".into(),
                },
                "ws:01HXYZ0000000000000000000",
            ),
            (
                include_str!("../../../tests/fixtures/tmc/namespace.get.json"),
                TmcScope::Namespace {
                    cluster: "dev-cluster-1".into(),
                    name: "team-a".into(),
                    management_cluster: "attached".into(),
                    provisioner: "attached".into(),
                },
                "ns:01HXYZ0000000000000000000",
            ),
        ] {
            let body: Value = serde_json::from_str(text).unwrap();
            let (_, key) = resource_url(&base(), &scope).unwrap();
            assert_eq!(resource_uid(&body, key), Some(uid), "{scope}");
            // The same object unwrapped still reads (the envelope key is the only guess).
            assert_eq!(resource_uid(&body[key], key), Some(uid), "{scope}");
        }
    }

    #[test]
    fn listings_end_on_the_total_or_else_on_a_short_page() {
        assert!(
            !listing_done(20, 20, 20, None),
            "a full page without a total: go on"
        );
        assert!(listing_done(7, 27, 20, None));
        assert!(listing_done(0, 20, 20, None));
        assert!(
            !listing_done(10, 10, 20, Some(30)),
            "a capped page below the total: go on"
        );
        assert!(listing_done(10, 30, 20, Some(30)));
        assert!(
            with_page(base(), 0, 20)
                .query()
                .unwrap()
                .contains("includeTotalCount=true")
        );
    }

    #[test]
    fn listing_pages_read_total_count_as_number_or_string() {
        let (items, total) =
            listing_page(&json!({"clusters": [{}], "totalCount": "3"}), "clusters");
        assert_eq!((items.len(), total), (1, Some(3)));
        let (_, total) = listing_page(&json!({"clusters": [], "totalCount": 7}), "clusters");
        assert_eq!(total, Some(7));
    }

    fn policy(uid: &str, rid: &str, role: &str) -> WirePolicy {
        serde_json::from_value(json!({
            "meta": {"uid": uid, "parentReferences": [{"rid": rid}]},
            "roleBindings": [{"role": role, "subjects": [{"name": "a@x", "kind": "USER"}]}]
        }))
        .unwrap()
    }

    #[test]
    fn a_clusters_own_policy_is_found_by_its_attested_rid() {
        let list = vec![
            policy("p1", "rid:cg:o:default", "clustergroup.view"),
            policy("p2", "rid:c:o:attached:attached:dev/1", "cluster.edit"),
            policy("p3", "rid:org:o", "organization.view"),
        ];
        assert_eq!(own_policy(&list, "o", &cluster(), None), OwnPolicy::At(1));
        // Only inherited policies: nothing in the list proves an own one, so TMC is asked.
        let inherited = vec![policy("p3", "rid:org:o", "organization.view")];
        assert_eq!(
            own_policy(&inherited, "o", &cluster(), None),
            OwnPolicy::Ask
        );
        assert_eq!(own_policy(&[], "o", &cluster(), None), OwnPolicy::NoPolicy);
    }

    #[test]
    fn other_scopes_rids_are_never_guessed() {
        // Issue 10: a namespace policy named in a rid form the client once guessed
        // (`rid:ns:...`) or in any other: neither is attested, so the list is not trusted.
        let scope = TmcScope::Namespace {
            cluster: "c".into(),
            name: "ns".into(),
            management_cluster: "m".into(),
            provisioner: "p".into(),
        };
        for rid in ["rid:ns:o:m:p:c:ns", "rid:ns:o:c:ns"] {
            let list = vec![
                policy("p1", rid, "namespace.edit"),
                policy("p2", "rid:ws:o:w", "workspace.edit"),
            ];
            assert_eq!(
                own_policy(&list, "o", &scope, None),
                OwnPolicy::Ask,
                "{rid}"
            );
        }
    }

    #[test]
    fn the_policy_a_patch_answered_with_is_picked_by_its_uid() {
        let workspace = TmcScope::Workspace { name: "w".into() };
        let list = vec![
            policy("p2", "rid:org:o", "organization.view"),
            policy("p1", "anything", "workspace.edit"),
        ];
        assert_eq!(
            own_policy(&list, "o", &workspace, Some("p1")),
            OwnPolicy::At(1)
        );
        assert_eq!(
            own_policy(&list, "o", &workspace, Some("gone")),
            OwnPolicy::Ask
        );
        let answer = json!({"policy": {"meta": {"uid": "p1"}, "roleBindings": [{"role": "r"}]}});
        assert_eq!(patched_policy_uid(&answer).as_deref(), Some("p1"));
        let emptied = json!({"policy": {"meta": {"uid": "p1"}, "roleBindings": []}});
        assert_eq!(patched_policy_uid(&emptied), None);
        // The organization inherits nothing: its first policy is its own.
        assert_eq!(
            own_policy(&list, "o", &TmcScope::Organization, None),
            OwnPolicy::At(0)
        );
    }

    #[test]
    fn the_effective_fixture_gives_the_direct_bindings_only() {
        let body: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/tmc/iam.effective.json"
        ))
        .unwrap();
        let (entries, total) = listing_page(&body, "effective");
        assert_eq!(total, Some(2));
        let direct = bindings_of(direct_effective_bindings(&entries));
        assert_eq!(direct.len(), 1);
        assert_eq!(direct[0].role, "workspace.edit");
        assert_eq!(direct[0].subjects, [Subject::user("alice@example.com")]);
        let url = effective_url(&base(), "uid-1");
        assert_eq!(
            url.as_str(),
            "https://org.tmc.example/v1alpha1/iam/effective?searchScope.targetResourceUid=uid-1"
        );
    }

    #[test]
    fn the_policy_fixtures_parse_and_the_patch_body_matches() {
        let answer: PolicyAnswer =
            serde_json::from_str(include_str!("../../../tests/fixtures/tmc/policy.get.json"))
                .unwrap();
        let scope = TmcScope::Cluster {
            name: "dev-cluster-1".into(),
            management_cluster: "attached".into(),
            provisioner: "attached".into(),
        };
        let list = answer.policy_list;
        assert_eq!(own_policy(&list, "org-1", &scope, None), OwnPolicy::At(0));
        let bindings = bindings_of(list.into_iter().next().unwrap().role_bindings);
        assert_eq!(bindings[1].subjects, [Subject::group("Platform-Admins")]);
        let request: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/tmc/policy.patch.request.json"
        ))
        .unwrap();
        let body = delta_body(
            "org-1",
            &scope,
            DeltaOp::Add,
            "cluster.edit",
            &Subject::user("bob@example.com"),
        );
        assert_eq!(body, request);
    }
}
