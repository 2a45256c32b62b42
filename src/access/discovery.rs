//! Discovery: every name a write tool accepts ([`list_clusters`]) and every binding at one
//! scope ([`list_role_bindings`]), each row in the shape `bind_role`, `change_role` and
//! `unbind_role` take back unchanged.
//!
//! A model that cannot see valid names guesses them; these listings end the guessing. A read
//! that fails is named in `unreadable`, never hidden, and the rest is still listed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::{StreamExt, stream};
use hmac::{Hmac, Mac};
use rand::RngCore;
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Systems;
use super::error::{AccessError, AccessResult};
use super::inventory::TAP_CLUSTERS_IN_FLIGHT;
use super::person::BindingKind;
use super::ports::{BackendError, RbacBinding, RoleKind, Subject, TmcCluster};
use super::scope::{BindTarget, ScopeRef, resolve};
use super::suggest::unknown_name;

/// A TMC cluster with the two names that, with its own, identify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ClusterEntry {
    /// Cluster name (`scope.name` of a `cluster` scope, `scope.cluster` of a `namespace` one).
    pub name: String,
    /// Management cluster (`attached` for attached clusters).
    pub management_cluster: String,
    /// Provisioner (`attached` for attached clusters).
    pub provisioner: String,
}

/// TAP clusters that offer the same ClusterRoles, listed once for all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TapRoles {
    /// TAP cluster names (`scope.name` of a `tap_cluster` scope).
    pub clusters: Vec<String>,
    /// ClusterRoles bindable there (`role` of bind_role), built-in `system:` ones left out.
    pub cluster_roles: Vec<String>,
}

/// The namespaces of one cluster, on each system that knows a cluster of that name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ClusterNamespaces {
    /// The cluster asked about.
    pub cluster: String,
    /// Namespaces TMC manages on the TMC cluster of this name (`scope.name` of a `namespace`
    /// scope); absent when TMC has no such cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmc: Option<Vec<String>>,
    /// Namespaces of the TAP cluster of this name (`scope.namespace` of a `tap_cluster`
    /// scope); absent when no TAP cluster has this name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tap: Option<Vec<String>>,
}

/// Every valid name, compactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ClusterListing {
    /// TMC clusters.
    pub tmc_clusters: Vec<ClusterEntry>,
    /// TMC cluster groups (`cluster_group` scopes).
    pub cluster_groups: Vec<String>,
    /// TMC workspaces (`workspace` scopes).
    pub workspaces: Vec<String>,
    /// TMC roles (`role` at a TMC scope), such as `cluster.edit`.
    pub tmc_roles: Vec<String>,
    /// TAP clusters and the ClusterRoles they offer, grouped by identical role sets.
    pub tap: Vec<TapRoles>,
    /// With `cluster`: its namespaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<ClusterNamespaces>,
    /// Reads that failed: these names may be missing above.
    pub unreadable: Vec<String>,
}

/// Every valid name for the write tools; with `cluster`, that cluster's namespaces too.
pub async fn list_clusters(
    systems: &Systems,
    cluster: Option<&str>,
) -> AccessResult<ClusterListing> {
    let mut unreadable = Vec::new();
    let tap_names = systems.rbac.clusters();
    // Owned names: futures yielding borrowed items trip the compiler's higher-ranked lifetime
    // check once the tool's future must be Send.
    let role_reads: Vec<_> = tap_names
        .iter()
        .cloned()
        .map(|name| async move {
            let roles = systems.rbac.cluster_roles(&name).await;
            (name, roles)
        })
        .collect();
    let ((clusters, groups, workspaces, roles), tap_roles) = futures::join!(
        async {
            futures::join!(
                systems.tmc.clusters(),
                systems.tmc.cluster_groups(),
                systems.tmc.workspaces(),
                systems.tmc.roles(),
            )
        },
        stream::iter(role_reads)
            .buffered(TAP_CLUSTERS_IN_FLIGHT)
            .collect::<Vec<_>>(),
    );
    let mut keep = |read: Result<Vec<String>, BackendError>| -> Vec<String> {
        match read {
            Ok(mut names) => {
                names.sort();
                names
            }
            Err(e) => {
                unreadable.push(e.to_string());
                Vec::new()
            }
        }
    };
    let cluster_groups = keep(groups);
    let workspaces = keep(workspaces);
    let tmc_roles = keep(roles);
    let mut tap: Vec<TapRoles> = Vec::new();
    for (name, read) in tap_roles {
        let cluster_roles: Vec<String> = keep(read)
            .into_iter()
            .filter(|r| !r.starts_with("system:"))
            .collect();
        match tap.iter_mut().find(|g| g.cluster_roles == cluster_roles) {
            Some(group) => group.clusters.push(name),
            None => tap.push(TapRoles {
                clusters: vec![name],
                cluster_roles,
            }),
        }
    }
    let tmc_clusters: Vec<TmcCluster> = match clusters {
        Ok(clusters) => clusters,
        Err(e) => {
            unreadable.push(e.to_string());
            Vec::new()
        }
    };
    let namespaces = match cluster {
        None => None,
        Some(name) => Some(namespaces_of(systems, name, &tmc_clusters, &tap_names).await?),
    };
    let mut tmc_clusters: Vec<ClusterEntry> = tmc_clusters
        .into_iter()
        .map(|c| ClusterEntry {
            name: c.name,
            management_cluster: c.management_cluster,
            provisioner: c.provisioner,
        })
        .collect();
    tmc_clusters.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ClusterListing {
        tmc_clusters,
        cluster_groups,
        workspaces,
        tmc_roles,
        tap,
        namespaces,
        unreadable,
    })
}

async fn namespaces_of(
    systems: &Systems,
    name: &str,
    tmc_clusters: &[TmcCluster],
    tap_names: &[String],
) -> AccessResult<ClusterNamespaces> {
    let tmc_cluster = tmc_clusters.iter().find(|c| c.name == name);
    let on_tap = tap_names.iter().any(|t| t == name);
    if tmc_cluster.is_none() && !on_tap {
        let known = tmc_clusters
            .iter()
            .map(|c| c.name.as_str())
            .chain(tap_names.iter().map(String::as_str));
        return Err(unknown_name("TMC or TAP cluster", name, known));
    }
    let sorted = |mut names: Vec<String>| {
        names.sort();
        names
    };
    let (tmc, tap) = futures::join!(
        async {
            match tmc_cluster {
                Some(c) => Some(systems.tmc.namespaces(c).await.map(sorted)),
                None => None,
            }
        },
        async {
            if on_tap {
                Some(systems.rbac.namespaces(name).await.map(sorted))
            } else {
                None
            }
        }
    );
    Ok(ClusterNamespaces {
        cluster: name.to_string(),
        tmc: tmc.transpose()?,
        tap: tap.transpose()?,
    })
}

// ---------------------------------------------------------------------------------------------
// list_role_bindings
// ---------------------------------------------------------------------------------------------

pub const DEFAULT_BINDINGS_PAGE: usize = 100;
pub const MAX_BINDINGS_PAGE: usize = 500;

/// One subject bound to one role at one scope: pass `role` and `scope`, with the subject's
/// name as `email` (USER) or `group` (GROUP), to `unbind_role` or `change_role` unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct BindingRow {
    /// The subject exactly as the binding spells it.
    pub subject: Subject,
    /// The role: a TMC role, or the ClusterRole (or Role) a Kubernetes binding points at.
    pub role: String,
    /// Where the binding is, in the shape the write tools take.
    pub scope: ScopeRef,
    /// Kubernetes only: the binding's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// Kubernetes only: `ClusterRoleBinding` or `RoleBinding`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_kind: Option<BindingKind>,
    /// Kubernetes only: `Role` when the binding points at a namespaced Role, which the write
    /// tools do not bind; absent for a ClusterRole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_kind: Option<RoleKind>,
}

/// One page of the bindings at a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct BindingListing {
    /// The scope listed, every name filled in.
    pub scope: ScopeRef,
    pub bindings: Vec<BindingRow>,
    /// How many rows the scope has in all.
    pub total: usize,
    /// Pass back as `cursor`, with the same scope, for the next page; null after the last.
    pub next_cursor: Option<String>,
}

/// The key cursors are signed with: one per process, so a cursor cannot be forged or moved to
/// another scope, and a page cannot be skipped to by editing one.
pub struct CursorKey([u8; 32]);

impl Default for CursorKey {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        CursorKey(key)
    }
}

type HmacSha256 = Hmac<Sha256>;

impl CursorKey {
    fn tag(&self, offset: usize, listing: &[u8; 32]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"list_role_bindings\0");
        mac.update(&(offset as u64).to_be_bytes());
        mac.update(listing);
        mac.finalize().into_bytes().into()
    }

    /// `offset.tag`, the tag over the offset and the digest of the listing it pages through.
    fn issue(&self, offset: usize, listing: &[u8; 32]) -> String {
        format!(
            "{offset}.{}",
            URL_SAFE_NO_PAD.encode(self.tag(offset, listing))
        )
    }

    fn open(&self, cursor: &str, listing: &[u8; 32], total: usize) -> AccessResult<usize> {
        let refused = || {
            AccessError::invalid(
                "the cursor is not one this server issued for this scope, or the bindings changed since; list again without a cursor",
            )
        };
        let (offset, tag) = cursor.trim().split_once('.').ok_or_else(refused)?;
        let offset: usize = offset.parse().map_err(|_| refused())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused())?;
        if !bool::from(tag.as_slice().ct_eq(self.tag(offset, listing).as_slice())) {
            return Err(refused());
        }
        if offset > total {
            return Err(refused());
        }
        Ok(offset)
    }
}

/// One page of every binding at `scope`: the TMC policy of that resource, or a TAP cluster's
/// ClusterRoleBindings and RoleBindings (only the RoleBindings of `namespace` when given).
pub async fn list_role_bindings(
    systems: &Systems,
    key: &CursorKey,
    scope: ScopeRef,
    cursor: Option<&str>,
    limit: Option<usize>,
) -> AccessResult<BindingListing> {
    let limit = match limit {
        None => DEFAULT_BINDINGS_PAGE,
        Some(0) => return Err(AccessError::invalid("limit must be at least 1")),
        Some(n) => n.min(MAX_BINDINGS_PAGE),
    };
    let target = resolve(systems, scope).await?;
    let (scope, rows) = match &target {
        BindTarget::Tmc(scope) => {
            let policy = systems.tmc.policy(scope).await?;
            let shown = ScopeRef::from(scope.clone());
            let mut rows: Vec<BindingRow> = policy
                .into_iter()
                .flat_map(|binding| {
                    let shown = shown.clone();
                    binding.subjects.into_iter().map(move |subject| BindingRow {
                        subject,
                        role: binding.role.clone(),
                        scope: shown.clone(),
                        binding: None,
                        binding_kind: None,
                        role_kind: None,
                    })
                })
                .collect();
            rows.sort_by(|a, b| (&a.role, &a.subject).cmp(&(&b.role, &b.subject)));
            (shown, rows)
        }
        BindTarget::Tap { cluster, namespace } => {
            let mut bindings = systems.rbac.bindings(cluster).await?;
            bindings.retain(|b| namespace.is_none() || b.namespace == *namespace);
            bindings.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            let rows = bindings.iter().flat_map(rbac_rows).collect();
            (ScopeRef::tap(cluster, namespace.as_deref()), rows)
        }
    };
    let digest = listing_digest(&scope, &rows);
    let total = rows.len();
    let start = match cursor.filter(|c| !c.trim().is_empty()) {
        Some(raw) => key.open(raw, &digest, total)?,
        None => 0,
    };
    let end = (start + limit).min(total);
    let next_cursor = (end < total).then(|| key.issue(end, &digest));
    Ok(BindingListing {
        scope,
        bindings: rows[start..end].to_vec(),
        total,
        next_cursor,
    })
}

/// One row per subject of a Kubernetes binding.
pub fn rbac_rows(binding: &RbacBinding) -> impl Iterator<Item = BindingRow> + '_ {
    binding.subjects.iter().map(move |subject| BindingRow {
        subject: subject.clone(),
        role: binding.role_name.clone(),
        scope: ScopeRef::tap(&binding.cluster, binding.namespace.as_deref()),
        binding: Some(binding.name.clone()),
        binding_kind: Some(if binding.namespace.is_some() {
            BindingKind::RoleBinding
        } else {
            BindingKind::ClusterRoleBinding
        }),
        role_kind: (binding.role_kind == RoleKind::Role).then_some(RoleKind::Role),
    })
}

/// What a cursor pages through: the scope and every row, so a cursor from before a change (or
/// for another scope) is refused rather than skipping or repeating rows.
fn listing_digest(scope: &ScopeRef, rows: &[BindingRow]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(scope).unwrap_or_default());
    for row in rows {
        hash.update(serde_json::to_vec(row).unwrap_or_default());
    }
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::fakes::small_world;

    #[tokio::test]
    async fn pages_cover_every_row_once_and_forged_cursors_are_refused() {
        let systems = small_world().systems();
        let key = CursorKey::default();
        let scope = || ScopeRef::tap("tap-a", None);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = list_role_bindings(&systems, &key, scope(), cursor.as_deref(), Some(1))
                .await
                .unwrap();
            assert_eq!(page.total, 3);
            seen.extend(page.bindings);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 3);
        assert!(
            seen.iter()
                .any(|r| r.binding.as_deref() == Some("alice-admin")
                    && r.scope == ScopeRef::tap("tap-a", Some("dev-team")))
        );

        let first = list_role_bindings(&systems, &key, scope(), None, Some(1))
            .await
            .unwrap();
        let issued = first.next_cursor.unwrap();
        let (_, tag) = issued.split_once('.').unwrap();
        for forged in [
            "made-up".to_string(),
            format!("2.{tag}"),
            format!("{issued}x"),
        ] {
            let err = list_role_bindings(&systems, &key, scope(), Some(&forged), None)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("cursor"), "{forged}: {err}");
        }
        let other_scope = list_role_bindings(
            &systems,
            &key,
            ScopeRef::tap("tap-b", None),
            Some(&issued),
            None,
        )
        .await;
        assert!(other_scope.is_err());
        let other_key = list_role_bindings(
            &systems,
            &CursorKey::default(),
            scope(),
            Some(&issued),
            None,
        )
        .await;
        assert!(other_key.is_err());
    }

    #[tokio::test]
    async fn unknown_scopes_are_refused_with_close_matches() {
        let systems = small_world().systems();
        let err = list_role_bindings(
            &systems,
            &CursorKey::default(),
            ScopeRef::tap("tap-c", None),
            None,
            None,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("did you mean tap-a or tap-b?"), "{err}");
        assert!(err.contains("list_clusters"), "{err}");
    }

    #[tokio::test]
    async fn listing_groups_tap_clusters_and_refuses_an_unknown_cluster() {
        let systems = small_world().systems();
        let listing = list_clusters(&systems, Some("dev")).await.unwrap();
        assert_eq!(listing.tap.len(), 1);
        assert_eq!(listing.tap[0].clusters, vec!["tap-a", "tap-b"]);
        assert_eq!(listing.tmc_clusters[0].name, "dev");
        assert!(listing.namespaces.unwrap().tap.is_none());
        let err = list_clusters(&systems, Some("deev")).await.unwrap_err();
        assert!(err.to_string().contains("did you mean dev?"), "{err}");
    }
}
