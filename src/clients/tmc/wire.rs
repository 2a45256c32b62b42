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

/// TMC's resource identifier (`rid`) of the resource that owns a policy, as a policy's
/// `meta.parentReferences` names it.
pub fn resource_id(org_id: &str, scope: &TmcScope) -> String {
    match scope {
        TmcScope::Organization => format!("rid:org:{org_id}"),
        TmcScope::ClusterGroup { name } => format!("rid:cg:{org_id}:{name}"),
        TmcScope::Workspace { name } => format!("rid:ws:{org_id}:{name}"),
        TmcScope::Cluster {
            name,
            management_cluster,
            provisioner,
        } => format!("rid:c:{org_id}:{management_cluster}:{provisioner}:{name}"),
        TmcScope::Namespace {
            cluster,
            name,
            management_cluster,
            provisioner,
        } => format!("rid:ns:{org_id}:{management_cluster}:{provisioner}:{cluster}:{name}"),
    }
}

/// The policy attached to the resource itself. The list also holds the policies the resource
/// inherits (cluster group, workspace, organization); each names its owner in
/// `meta.parentReferences[].rid`. When no policy carries a reference at all, the list is taken
/// to hold only the resource's own policy.
pub fn own_policy(list: Vec<WirePolicy>, org_id: &str, scope: &TmcScope) -> Option<WirePolicy> {
    let rid = resource_id(org_id, scope);
    let parents = |policy: &WirePolicy| -> Vec<String> {
        policy
            .meta
            .as_ref()
            .and_then(|m| m.get("parentReferences"))
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| r.get("rid").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    if list.iter().all(|p| parents(p).is_empty()) {
        return list.into_iter().next();
    }
    list.into_iter().find(|p| parents(p).contains(&rid))
}

pub fn bindings_of(policy: WirePolicy) -> Vec<TmcRoleBinding> {
    policy
        .role_bindings
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

    #[test]
    fn the_own_policy_is_found_by_its_parent_reference() {
        let policy = |rid: &str, role: &str| -> WirePolicy {
            serde_json::from_value(json!({
                "meta": {"uid": "u", "parentReferences": [{"rid": rid}]},
                "roleBindings": [{"role": role, "subjects": [{"name": "a@x", "kind": "USER"}]}]
            }))
            .unwrap()
        };
        let scope = cluster();
        let list = vec![
            policy("rid:cg:o:default", "clustergroup.view"),
            policy("rid:c:o:attached:attached:dev/1", "cluster.edit"),
            policy("rid:org:o", "organization.view"),
        ];
        let own = own_policy(list, "o", &scope).unwrap();
        assert_eq!(own.role_bindings[0].role, "cluster.edit");
        // Only inherited policies: the resource has none of its own.
        let inherited = vec![policy("rid:org:o", "organization.view")];
        assert!(own_policy(inherited, "o", &scope).is_none());
    }
}
