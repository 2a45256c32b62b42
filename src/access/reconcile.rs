//! The org-wide audit: every binding in TMC (every scope) and on every TAP cluster, reconciled
//! with the CSP org. What a removal from CSP or IdP deprovisioning leaves behind (USER subjects
//! who are not members), people bound before they accepted their invitation, GROUP subjects
//! that match no CSP group exactly, and every place that could not be read. Each finding
//! carries the tool calls that fix it. An ACTIVE member is never a finding.
//!
//! Cost: one scan (the same as one `get_user_access`), the invitations and groups, and the
//! members needed to settle the bound users: one CSP page read alongside the scan, then either a
//! search per user still unsettled or the remaining pages, whichever is fewer requests, at most
//! [`FAN_OUT`] at a time. Pages are dropped once checked, so memory follows the bindings, not
//! the size of the org.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{StreamExt, stream};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use super::Systems;
use super::inventory::{self, FAN_OUT, Inventory, Place, ScanObserver};
use super::ports::{
    BackendError, BackendResult, Directory, InvitationStatus, MAX_MEMBERS_PAGE, Member, MemberPage,
    OrgGroup, RoleKind, Subject, SubjectKind, TmcScope,
};
use super::scope::ScopeRef;
use super::validate;

/// What is wrong, as a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A USER subject who is neither a member of the CSP org nor invited: a leftover of a
    /// removal from CSP or of IdP deprovisioning.
    NotAMember,
    /// A USER subject whose invitation is still pending: the binding dangles until they
    /// accept (bind after acceptance, with provision_user).
    InvitedWithBindings,
    /// A GROUP subject equal to a CSP group only when case is ignored: it grants nothing.
    GroupNearMiss,
    /// A GROUP subject that matches no CSP group at all: it grants nothing until the IdP
    /// provides a group of exactly that name.
    UnknownGroup,
    /// A scope, cluster or listing that could not be read: findings there may be missing.
    Unreadable,
}

/// A tool call, exactly as an MCP client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ToolCall {
    pub tool: String,
    /// Always an object: declared so, because a bare `true` schema is refused by strict clients.
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub arguments: Value,
}

/// One thing to fix.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Finding {
    pub kind: FindingKind,
    /// What is wrong and why it matters, for a human.
    pub message: String,
    /// The bound subject, exactly as the binding spells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// The role it is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Where, in the shape the write tools take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeRef>,
    /// Kubernetes only: the binding's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// For `group_near_miss`: the CSP group's exact name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_group: Option<String>,
    /// The calls that fix it, in order. For `unreadable`: fix the cause named in `message`,
    /// then this call reads the place again.
    pub fix: Vec<ToolCall>,
    /// For `not_a_member`: one call that removes every leftover of this person at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_all: Option<ToolCall>,
}

/// Findings counted by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ByKind {
    pub not_a_member: usize,
    pub invited_with_bindings: usize,
    pub group_near_miss: usize,
    pub unknown_group: usize,
    pub unreadable: usize,
}

/// What was read and what was found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AuditSummary {
    pub by_kind: ByKind,
    /// Distinct subjects named by findings.
    pub subjects: usize,
    /// TMC resources whose IAM policy was read.
    pub tmc_scopes_read: usize,
    /// TAP clusters whose bindings were read.
    pub tap_clusters_read: usize,
    /// Subject-role-scope bindings checked.
    pub bindings_checked: usize,
    /// True when everything could be read (no `unreadable` finding).
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AuditReport {
    pub summary: AuditSummary,
    /// Sorted by kind, then subject.
    pub findings: Vec<Finding>,
}

/// A read that failed, and where.
enum Failed {
    Tmc(TmcScope, BackendError),
    Tap(String, BackendError),
}

/// Passes reads on to the caller's observer and keeps the failures with their place.
struct Recorder<'a> {
    inner: &'a dyn ScanObserver,
    failed: Mutex<Vec<Failed>>,
    tmc_read: AtomicUsize,
    tap_read: AtomicUsize,
}

impl ScanObserver for Recorder<'_> {
    fn expecting(&self, more: usize) {
        self.inner.expecting(more);
    }
    fn read(&self, place: Place<'_>, outcome: Result<usize, &BackendError>) {
        self.inner.read(place, outcome);
        if outcome.is_ok() {
            match place {
                Place::Tmc(_) => &self.tmc_read,
                Place::Tap(_) => &self.tap_read,
            }
            .fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = outcome {
            let failed = match place {
                Place::Tmc(scope) => Failed::Tmc(scope.clone(), e.clone()),
                Place::Tap(cluster) => Failed::Tap(cluster.to_string(), e.clone()),
            };
            if let Ok(mut list) = self.failed.lock() {
                list.push(failed);
            }
        }
    }
}

/// Audit the whole org, telling `observer` about each scope and cluster as it is read.
pub async fn audit_access(systems: &Systems, observer: &dyn ScanObserver) -> AuditReport {
    let recorder = Recorder {
        inner: observer,
        failed: Mutex::default(),
        tmc_read: AtomicUsize::new(0),
        tap_read: AtomicUsize::new(0),
    };
    let directory = systems.directory.as_ref();
    let (inventory, invitations, groups, first_page) = futures::join!(
        inventory::scan_observed(systems.tmc.as_ref(), systems.rbac.as_ref(), &recorder),
        directory.invitations(),
        directory.groups(),
        directory.members_page(0, MAX_MEMBERS_PAGE),
    );
    let read = (
        recorder.tmc_read.load(Ordering::Relaxed),
        recorder.tap_read.load(Ordering::Relaxed),
    );
    let failed = recorder.failed.into_inner().unwrap_or_default();
    let mut findings = unreadable(&inventory, &failed);

    let bound = bound_users(&inventory);
    let active = match first_page {
        Ok(first) => active_among(directory, &bound, first).await,
        Err(e) => Err(e),
    };
    let people = match (active, invitations) {
        (Ok(active), invitations) => {
            let invited = match invitations {
                Ok(list) => Some(
                    list.into_iter()
                        .filter(|i| i.status == InvitationStatus::Available)
                        .map(|i| i.email.to_lowercase())
                        .collect::<HashSet<_>>(),
                ),
                Err(e) => {
                    findings.push(csp_unreadable(
                        e,
                        "so invited people are reported as not members",
                    ));
                    None
                }
            };
            Some((active, invited))
        }
        (Err(e), _) => {
            // Without the members nobody can be called a leftover: an ACTIVE member must
            // never be reported as one.
            findings.push(csp_unreadable(e, "so no USER subject was checked"));
            None
        }
    };
    let groups = match groups {
        Ok(groups) => Some(groups),
        Err(e) => {
            findings.push(csp_unreadable(e, "so no GROUP subject was checked"));
            None
        }
    };

    let mut checked = 0;
    for place in places(&inventory) {
        checked += 1;
        let finding = match place.subject.kind {
            SubjectKind::User => people
                .as_ref()
                .and_then(|(active, invited)| user_finding(&place, active, invited.as_ref())),
            SubjectKind::Group => groups.as_deref().and_then(|g| group_finding(&place, g)),
            SubjectKind::ServiceAccount => None,
        };
        findings.extend(finding);
    }
    findings
        .sort_by(|a, b| (a.kind, &a.subject, &a.message).cmp(&(b.kind, &b.subject, &b.message)));
    let summary = summarize(&findings, read, checked);
    AuditReport { summary, findings }
}

/// One subject bound to one role at one place.
struct Bound<'a> {
    subject: &'a Subject,
    role: &'a str,
    scope: ScopeRef,
    binding: Option<&'a str>,
    /// Kubernetes: the binding points at a namespaced Role, which bind_role cannot bind.
    namespaced_role: bool,
}

fn places(inventory: &Inventory) -> impl Iterator<Item = Bound<'_>> {
    let tmc = inventory.tmc.iter().flat_map(|(scope, bindings)| {
        bindings.iter().flat_map(move |binding| {
            binding.subjects.iter().map(move |subject| Bound {
                subject,
                role: &binding.role,
                scope: ScopeRef::from(scope.clone()),
                binding: None,
                namespaced_role: false,
            })
        })
    });
    let tap = inventory.tap.iter().flat_map(|binding| {
        binding.subjects.iter().map(move |subject| Bound {
            subject,
            role: &binding.role_name,
            scope: ScopeRef::tap(&binding.cluster, binding.namespace.as_deref()),
            binding: Some(&binding.name),
            namespaced_role: binding.role_kind == RoleKind::Role,
        })
    });
    // Kubernetes' own subjects (`system:...`) are the cluster's business, never a finding.
    tmc.chain(tap)
        .filter(|b| !b.subject.name.starts_with("system:"))
}

/// Every USER subject bound anywhere, lowercase (the IdPs fold case for emails).
fn bound_users(inventory: &Inventory) -> BTreeSet<String> {
    places(inventory)
        .filter(|b| b.subject.kind == SubjectKind::User)
        .map(|b| b.subject.name.to_lowercase())
        .collect()
}

/// Which of `names` are ACTIVE members (by email or CSP username), starting from the first
/// page: a search per name still unsettled, or the remaining pages, whichever is fewer calls.
async fn active_among(
    directory: &dyn Directory,
    names: &BTreeSet<String>,
    first: MemberPage,
) -> BackendResult<HashSet<String>> {
    let mut active = HashSet::new();
    let total = first.total;
    let mut fetched = first.members.len();
    mark(&mut active, names, first.members);
    let unsettled: Vec<&String> = names.iter().filter(|n| !active.contains(*n)).collect();
    if unsettled.is_empty() || fetched == 0 || fetched >= total {
        return Ok(active);
    }
    let pages_left = (total - fetched).div_ceil(MAX_MEMBERS_PAGE);
    if unsettled.len() <= pages_left {
        let searches: Vec<_> = unsettled
            .into_iter()
            .map(|name| async move { (name, directory.find_member(name).await) })
            .collect();
        let mut answers = stream::iter(searches).buffer_unordered(FAN_OUT);
        while let Some((name, found)) = answers.next().await {
            if found?.is_some() {
                active.insert(name.clone());
            }
        }
        return Ok(active);
    }
    let mut reads = Vec::new();
    while fetched < total {
        let start = fetched;
        reads.push(async move { directory.members_page(start, MAX_MEMBERS_PAGE).await });
        fetched += MAX_MEMBERS_PAGE;
    }
    let mut pages = stream::iter(reads).buffer_unordered(FAN_OUT);
    while let Some(page) = pages.next().await {
        mark(&mut active, names, page?.members);
        if names.iter().all(|n| active.contains(n)) {
            break;
        }
    }
    Ok(active)
}

fn mark(active: &mut HashSet<String>, names: &BTreeSet<String>, members: Vec<Member>) {
    for member in members {
        for key in [member.email.to_lowercase(), member.username.to_lowercase()] {
            if names.contains(&key) {
                active.insert(key);
            }
        }
    }
}

fn user_finding(
    place: &Bound<'_>,
    active: &HashSet<String>,
    invited: Option<&HashSet<String>>,
) -> Option<Finding> {
    let name = place.subject.name.to_lowercase();
    if active.contains(&name) {
        return None;
    }
    let is_invited = invited.is_some_and(|set| set.contains(&name));
    let (kind, message, fix_all) = if is_invited {
        (
            FindingKind::InvitedWithBindings,
            format!(
                "{} has not accepted their invitation to the CSP org yet, but holds {} on {}: a binding for someone who is not ACTIVE dangles; unbind it, and bind again once they accept (provision_user does both steps in order)",
                place.subject.name,
                place.role,
                describe(&place.scope)
            ),
            None,
        )
    } else {
        let fix_all = validate::email(&place.subject.name)
            .ok()
            .map(|email| ToolCall {
                tool: "revoke_all_access".into(),
                arguments: json!({ "email": email }),
            });
        (
            FindingKind::NotAMember,
            format!(
                "{} is not a member of the CSP org but still holds {} on {}: a leftover that removing someone from CSP (or IdP deprovisioning) does not clean up",
                place.subject.name,
                place.role,
                describe(&place.scope)
            ),
            fix_all,
        )
    };
    Some(Finding {
        kind,
        message,
        fix: vec![call("unbind_role", place.subject, place.role, &place.scope)],
        fix_all,
        ..located(place)
    })
}

fn group_finding(place: &Bound<'_>, groups: &[OrgGroup]) -> Option<Finding> {
    let name = &place.subject.name;
    if groups.iter().any(|g| g.display_name == *name) {
        return None;
    }
    let unbind = call("unbind_role", place.subject, place.role, &place.scope);
    let finding = match groups
        .iter()
        .find(|g| g.display_name.eq_ignore_ascii_case(name))
    {
        Some(real) => {
            let exact = Subject::group(&real.display_name);
            // Bind the exact name first, so the group is never left without the role.
            let mut fix = Vec::new();
            if !place.namespaced_role {
                fix.push(call("bind_role", &exact, place.role, &place.scope));
            }
            fix.push(unbind);
            Finding {
                kind: FindingKind::GroupNearMiss,
                message: format!(
                    "GROUP '{name}' holds {} on {}, but the CSP group is '{}': names are compared exactly, so this binding grants nothing; bind the exact name, then remove this one",
                    place.role,
                    describe(&place.scope),
                    real.display_name
                ),
                real_group: Some(real.display_name.clone()),
                fix,
                ..located(place)
            }
        }
        None => Finding {
            kind: FindingKind::UnknownGroup,
            message: format!(
                "GROUP '{name}' holds {} on {}, but the CSP org has no group of that name: it grants nothing until the IdP provides one; remove it unless that group is on its way",
                place.role,
                describe(&place.scope)
            ),
            fix: vec![unbind],
            ..located(place)
        },
    };
    Some(finding)
}

/// A finding's where and who, the rest left to fill.
fn located(place: &Bound<'_>) -> Finding {
    Finding {
        kind: FindingKind::Unreadable,
        message: String::new(),
        subject: Some(place.subject.clone()),
        role: Some(place.role.to_string()),
        scope: Some(place.scope.clone()),
        binding: place.binding.map(str::to_string),
        real_group: None,
        fix: Vec::new(),
        fix_all: None,
    }
}

/// `{tool, arguments: {email | group, role, scope}}`.
fn call(tool: &str, subject: &Subject, role: &str, scope: &ScopeRef) -> ToolCall {
    let who = match subject.kind {
        SubjectKind::Group => "group",
        _ => "email",
    };
    ToolCall {
        tool: tool.into(),
        arguments: json!({ who: subject.name, "role": role, "scope": scope }),
    }
}

fn describe(scope: &ScopeRef) -> String {
    match scope {
        ScopeRef::Organization => "the TMC organization".into(),
        ScopeRef::ClusterGroup { name } => format!("TMC cluster group '{name}'"),
        ScopeRef::Workspace { name } => format!("TMC workspace '{name}'"),
        ScopeRef::Cluster { name, .. } => format!("TMC cluster '{name}'"),
        ScopeRef::Namespace { cluster, name, .. } => {
            format!("namespace '{name}' of TMC cluster '{cluster}'")
        }
        ScopeRef::TapCluster {
            name,
            namespace: None,
        } => format!("TAP cluster '{name}'"),
        ScopeRef::TapCluster {
            name,
            namespace: Some(ns),
        } => format!("namespace '{ns}' of TAP cluster '{name}'"),
    }
}

fn no_arguments(tool: &str) -> ToolCall {
    ToolCall {
        tool: tool.into(),
        arguments: json!({}),
    }
}

fn unreadable_finding(error: &BackendError, scope: Option<ScopeRef>) -> Finding {
    let again = match &scope {
        Some(scope) => ToolCall {
            tool: "list_role_bindings".into(),
            arguments: json!({ "scope": scope }),
        },
        None => no_arguments("audit_access"),
    };
    Finding {
        kind: FindingKind::Unreadable,
        message: format!("could not be read, so findings there may be missing: {error}"),
        subject: None,
        role: None,
        scope,
        binding: None,
        real_group: None,
        fix: vec![again],
        fix_all: None,
    }
}

fn csp_unreadable(error: BackendError, consequence: &str) -> Finding {
    let mut finding = unreadable_finding(&error, None);
    finding.message = format!("{error}; {consequence}");
    finding
}

/// Every read of the scan that failed: the policies and clusters with their place, and the
/// listings (of clusters, namespaces, groups, workspaces) that hid whole scopes.
fn unreadable(inventory: &Inventory, failed: &[Failed]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut placed = BTreeSet::new();
    for failure in failed {
        let (scope, error) = match failure {
            Failed::Tmc(scope, e) => (ScopeRef::from(scope.clone()), e),
            Failed::Tap(cluster, e) => (ScopeRef::tap(cluster, None), e),
        };
        placed.insert(error.to_string());
        findings.push(unreadable_finding(error, Some(scope)));
    }
    for error in &inventory.errors {
        if !placed.contains(&error.to_string()) {
            findings.push(unreadable_finding(error, None));
        }
    }
    findings
}

fn summarize(
    findings: &[Finding],
    (tmc_read, tap_read): (usize, usize),
    checked: usize,
) -> AuditSummary {
    let mut by_kind = ByKind::default();
    let mut subjects = BTreeSet::new();
    for finding in findings {
        let count = match finding.kind {
            FindingKind::NotAMember => &mut by_kind.not_a_member,
            FindingKind::InvitedWithBindings => &mut by_kind.invited_with_bindings,
            FindingKind::GroupNearMiss => &mut by_kind.group_near_miss,
            FindingKind::UnknownGroup => &mut by_kind.unknown_group,
            FindingKind::Unreadable => &mut by_kind.unreadable,
        };
        *count += 1;
        if let Some(subject) = &finding.subject {
            subjects.insert(subject);
        }
    }
    AuditSummary {
        complete: by_kind.unreadable == 0,
        by_kind,
        subjects: subjects.len(),
        tmc_scopes_read: tmc_read,
        tap_clusters_read: tap_read,
        bindings_checked: checked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::fakes::small_world;
    use crate::access::inventory::Unobserved;
    use crate::access::ports::{RbacBinding, TmcRoleBinding};

    #[tokio::test]
    async fn leftovers_invitees_and_near_misses_are_found_and_no_member_is_named() {
        let fake = small_world();
        fake.world().tap.push(RbacBinding {
            cluster: "tap-b".into(),
            namespace: Some("dev-team".into()),
            name: "carol-early".into(),
            role_kind: RoleKind::ClusterRole,
            role_name: "edit".into(),
            subjects: vec![Subject::user("carol@example.com"), Subject::group("ghosts")],
        });
        fake.world().tmc.insert(
            TmcScope::Workspace { name: "w".into() },
            vec![TmcRoleBinding {
                role: "workspace.view".into(),
                subjects: vec![Subject::group("system:authenticated")],
            }],
        );
        let report = audit_access(&fake.systems(), &Unobserved).await;
        let kinds: Vec<(FindingKind, &str)> = report
            .findings
            .iter()
            .map(|f| (f.kind, f.subject.as_ref().map_or("", |s| s.name.as_str())))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (FindingKind::NotAMember, "mallory@example.com"),
                (FindingKind::InvitedWithBindings, "carol@example.com"),
                (FindingKind::GroupNearMiss, "platform-admins"),
                (FindingKind::UnknownGroup, "ghosts"),
            ]
        );
        let mallory = &report.findings[0];
        assert_eq!(mallory.fix[0].tool, "unbind_role");
        assert_eq!(mallory.fix[0].arguments["email"], "mallory@example.com");
        assert_eq!(mallory.fix[0].arguments["scope"]["kind"], "cluster");
        assert_eq!(
            mallory.fix_all.as_ref().unwrap().arguments,
            json!({ "email": "mallory@example.com" })
        );
        let near = &report.findings[2];
        assert_eq!(near.fix[0].tool, "bind_role");
        assert_eq!(near.fix[0].arguments["group"], "Platform-Admins");
        assert_eq!(near.fix[1].arguments["group"], "platform-admins");
        assert_eq!(report.summary.by_kind.not_a_member, 1);
        assert!(report.summary.complete);
        assert_eq!(report.summary.tap_clusters_read, 2);
    }

    #[tokio::test]
    async fn what_could_not_be_read_is_reported_and_without_members_no_user_is_named() {
        let fake = small_world();
        fake.world().failing = vec!["bindings:tap-b".into(), "members_page".into()];
        let report = audit_access(&fake.systems(), &Unobserved).await;
        assert!(!report.summary.complete);
        assert!(report.findings.iter().all(|f| {
            f.subject
                .as_ref()
                .is_none_or(|s| s.kind == SubjectKind::Group)
        }));
        let tap_b = report
            .findings
            .iter()
            .find(|f| f.scope == Some(ScopeRef::tap("tap-b", None)))
            .expect("tap-b reported");
        assert_eq!(tap_b.kind, FindingKind::Unreadable);
        assert_eq!(tap_b.fix[0].tool, "list_role_bindings");
        assert_eq!(report.summary.by_kind.unreadable, 2);
    }
}
