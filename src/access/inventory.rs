//! Reading every binding there is: each TMC resource's IAM policy and each TAP cluster's
//! RBAC bindings, fetched concurrently with a bound so a large org does not flood the APIs.
//!
//! A scan never fails as a whole: what could not be read is listed in `errors`, so callers can
//! report a partial picture as partial instead of a wrong one as complete.

use futures::{StreamExt, stream};

use super::ports::{BackendError, ClusterRbac, RbacBinding, TmcIam, TmcRoleBinding, TmcScope};

/// How many calls one scan keeps in flight against one system.
pub const FAN_OUT: usize = 8;

/// How many TAP clusters one scan reads at once. Each cluster is its own API server and gets
/// at most two lists at a time (its two binding kinds), so the bound is global, not per system:
/// 50 clusters cost one round trip, not seven.
pub const TAP_CLUSTERS_IN_FLIGHT: usize = 64;

/// Everything a scan saw.
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    /// Every TMC resource with a policy, and that policy's bindings.
    pub tmc: Vec<(TmcScope, Vec<TmcRoleBinding>)>,
    /// Every ClusterRoleBinding and RoleBinding on every TAP cluster.
    pub tap: Vec<RbacBinding>,
    /// Reads that failed; the picture above is missing what they would have added.
    pub errors: Vec<BackendError>,
}

/// One read of a scan: a TMC resource's policy or a TAP cluster's bindings.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    Tmc(&'a TmcScope),
    Tap(&'a str),
}

/// Told about a scan as it goes (for progress and per-place reporting); every method may be
/// called from concurrent reads.
pub trait ScanObserver: Sync {
    /// `more` reads are now known to be coming (called again as listings reveal more).
    fn expecting(&self, more: usize);
    /// One read finished: how many bindings it found, or why it failed.
    fn read(&self, place: Place<'_>, outcome: Result<usize, &BackendError>);
}

/// Observes nothing.
pub struct Unobserved;

impl ScanObserver for Unobserved {
    fn expecting(&self, _: usize) {}
    fn read(&self, _: Place<'_>, _: Result<usize, &BackendError>) {}
}

/// Scan TMC and every TAP cluster.
pub async fn scan(tmc: &dyn TmcIam, rbac: &dyn ClusterRbac) -> Inventory {
    scan_observed(tmc, rbac, &Unobserved).await
}

/// [`scan`], telling `observer` about each read as it finishes.
pub async fn scan_observed(
    tmc: &dyn TmcIam,
    rbac: &dyn ClusterRbac,
    observer: &dyn ScanObserver,
) -> Inventory {
    let (tmc_part, tap_part) = futures::join!(scan_tmc(tmc, observer), scan_tap(rbac, observer));
    let mut inventory = Inventory {
        tmc: tmc_part.0,
        tap: tap_part.0,
        errors: tmc_part.1,
    };
    inventory.errors.extend(tap_part.1);
    inventory
}

/// Every TMC resource that can carry a policy: the org, cluster groups, clusters, their
/// namespaces and workspaces.
pub async fn tmc_scopes(tmc: &dyn TmcIam) -> (Vec<TmcScope>, Vec<BackendError>) {
    let mut scopes = vec![TmcScope::Organization];
    let mut errors = Vec::new();
    let (groups, clusters, workspaces) =
        futures::join!(tmc.cluster_groups(), tmc.clusters(), tmc.workspaces());
    match groups {
        Ok(names) => scopes.extend(
            names
                .into_iter()
                .map(|name| TmcScope::ClusterGroup { name }),
        ),
        Err(e) => errors.push(e),
    }
    match workspaces {
        Ok(names) => scopes.extend(names.into_iter().map(|name| TmcScope::Workspace { name })),
        Err(e) => errors.push(e),
    }
    match clusters {
        Ok(clusters) => {
            // Futures are built up front: a stream of closures over borrowed items trips the
            // compiler's higher-ranked lifetime check once the future must be Send.
            let lookups: Vec<_> = clusters
                .iter()
                .map(|cluster| async move { (cluster, tmc.namespaces(cluster).await) })
                .collect();
            let namespaces: Vec<_> = stream::iter(lookups).buffered(FAN_OUT).collect().await;
            for (cluster, listed) in namespaces {
                scopes.push(TmcScope::Cluster {
                    name: cluster.name.clone(),
                    management_cluster: cluster.management_cluster.clone(),
                    provisioner: cluster.provisioner.clone(),
                });
                match listed {
                    Ok(names) => scopes.extend(names.into_iter().map(|name| TmcScope::Namespace {
                        cluster: cluster.name.clone(),
                        name,
                        management_cluster: cluster.management_cluster.clone(),
                        provisioner: cluster.provisioner.clone(),
                    })),
                    Err(e) => errors.push(e),
                }
            }
        }
        Err(e) => errors.push(e),
    }
    (scopes, errors)
}

async fn scan_tmc(
    tmc: &dyn TmcIam,
    observer: &dyn ScanObserver,
) -> (Vec<(TmcScope, Vec<TmcRoleBinding>)>, Vec<BackendError>) {
    let (scopes, mut errors) = tmc_scopes(tmc).await;
    observer.expecting(scopes.len());
    let reads: Vec<_> = scopes
        .into_iter()
        .map(|scope| async move {
            let policy = tmc.policy(&scope).await;
            observer.read(
                Place::Tmc(&scope),
                policy.as_ref().map(|bindings| bindings.len()),
            );
            (scope, policy)
        })
        .collect();
    let policies: Vec<_> = stream::iter(reads).buffered(FAN_OUT).collect().await;
    let mut found = Vec::new();
    for (scope, policy) in policies {
        match policy {
            Ok(bindings) if bindings.is_empty() => {}
            Ok(bindings) => found.push((scope, bindings)),
            Err(e) => errors.push(e),
        }
    }
    (found, errors)
}

async fn scan_tap(
    rbac: &dyn ClusterRbac,
    observer: &dyn ScanObserver,
) -> (Vec<RbacBinding>, Vec<BackendError>) {
    let clusters = rbac.clusters();
    observer.expecting(clusters.len());
    let reads: Vec<_> = clusters
        .into_iter()
        .map(|cluster| async move {
            let bindings = rbac.bindings(&cluster).await;
            observer.read(
                Place::Tap(&cluster),
                bindings.as_ref().map(|found| found.len()),
            );
            bindings
        })
        .collect();
    let listed: Vec<_> = stream::iter(reads)
        .buffered(TAP_CLUSTERS_IN_FLIGHT)
        .collect()
        .await;
    let mut bindings = Vec::new();
    let mut errors = Vec::new();
    for result in listed {
        match result {
            Ok(found) => bindings.extend(found),
            Err(e) => errors.push(e),
        }
    }
    (bindings, errors)
}
