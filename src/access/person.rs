//! One person's whole access: CSP membership or invitation, every TMC binding at every scope,
//! every Kubernetes binding on every TAP cluster, and warnings for what the three systems hide
//! from each other (leftovers after a removal, access through groups, group names that match
//! a real group only when case is ignored).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Systems;
use super::error::AccessResult;
use super::identity::{Identity, normalize_email};
use super::inventory::{self, Inventory};
use super::ports::{
    BackendError, Invitation, InvitationStatus, Member, OrgGroup, RbacBinding, RoleKind, Subject,
    SubjectKind, TmcScope,
};
use super::scope::ScopeRef;
use super::warning::Warning;

/// A person's standing in the CSP org, derived from members and invitations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PersonStatus {
    /// A member of the org.
    Active,
    /// Invited, invitation not yet accepted.
    Invited,
    /// Not a member and not invited, but known from a binding or an old invitation.
    Removed,
    /// Not known to any of the systems.
    Unknown,
}

/// CSP org membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Membership {
    pub user_id: String,
    pub username: String,
    /// Organization roles, such as `org_owner` or `org_member`.
    pub org_roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// A pending CSP invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PendingInvitation {
    pub id: String,
    /// Organization roles the invitation offers.
    pub org_roles: Vec<String>,
}

/// A TMC role the person holds directly (as a USER subject). `role` and `scope` are what
/// `bind_role`, `change_role` and `unbind_role` take, unchanged (a TMC scope serializes as the
/// tools' `Scope`, with management cluster and provisioner filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TmcGrant {
    /// The resource whose IAM policy holds the binding.
    pub scope: TmcScope,
    /// TMC role, such as `cluster.admin`.
    pub role: String,
    /// The subject exactly as the policy spells it: what revocation removes. Not sent: it is
    /// USER `email` on nearly every grant (see `spelled`).
    #[serde(skip)]
    pub subject: Subject,
    /// The USER subject, only when the policy spells the person otherwise than `email`
    /// (another case, or the CSP username); absent means USER `email`.
    #[serde(rename = "subject", skip_serializing_if = "Option::is_none")]
    pub spelled: Option<Subject>,
}

/// Which kind of Kubernetes binding holds a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BindingKind {
    ClusterRoleBinding,
    RoleBinding,
}

impl std::fmt::Display for BindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
            BindingKind::RoleBinding => "RoleBinding",
        })
    }
}

/// A Kubernetes binding on a TAP cluster that names the person as a User. `role` and `scope`
/// are what `bind_role`, `change_role` and `unbind_role` take, unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TapGrant {
    /// The role the binding points at: a ClusterRole name such as `app-editor` (or a Role's
    /// name when `role_kind` is `Role`).
    pub role: String,
    /// Where, in the write tools' shape: `{kind: "tap_cluster", name, namespace?}`.
    pub scope: ScopeRef,
    /// `ClusterRole`, or `Role` for a RoleBinding to a namespaced Role (which bind_role does
    /// not make).
    pub role_kind: RoleKind,
    /// TAP cluster name (the same as `scope.name`).
    pub cluster: String,
    /// `ClusterRoleBinding` or `RoleBinding`.
    pub binding_kind: BindingKind,
    /// Namespace of a RoleBinding; absent for a ClusterRoleBinding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Binding name.
    pub binding: String,
    /// The subject exactly as the binding spells it: what revocation removes. Not sent (see
    /// `spelled`).
    #[serde(skip)]
    pub subject: Subject,
    /// The User subject, only when the binding spells the person otherwise than `email`
    /// (another case, or the CSP username); absent means User `email`.
    #[serde(rename = "subject", skip_serializing_if = "Option::is_none")]
    pub spelled: Option<Subject>,
    /// How many other subjects share this binding (they keep it when the person is revoked).
    pub other_subjects: usize,
}

/// Everything one person can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UserAccess {
    /// The email asked about, lowercase.
    pub email: String,
    /// ACTIVE, INVITED, REMOVED or UNKNOWN, derived across the systems.
    pub status: PersonStatus,
    /// CSP org membership; null when not a member.
    pub membership: Option<Membership>,
    /// Pending (AVAILABLE) invitations; empty when none. A member can still have one, and
    /// accepting it would bring them back after a removal, so revocation revokes them too.
    pub invitations: Vec<PendingInvitation>,
    /// Direct TMC bindings at every scope.
    pub tmc: Vec<TmcGrant>,
    /// Direct Kubernetes bindings on every TAP cluster.
    pub tap: Vec<TapGrant>,
    /// What a human should know: leftovers, access through groups, near-miss group names.
    pub warnings: Vec<Warning>,
    /// Reads that failed: the picture is incomplete where these name a system or resource.
    pub incomplete: Vec<String>,
}

impl UserAccess {
    /// Whether the person holds any direct binding anywhere.
    pub fn has_bindings(&self) -> bool {
        !self.tmc.is_empty() || !self.tap.is_empty()
    }
}

/// What the CSP directory says about one email.
#[derive(Debug, Clone, Default)]
pub struct DirectoryStanding {
    pub member: Option<Member>,
    /// Every AVAILABLE invitation for the email, member or not.
    pub pending: Vec<Invitation>,
    /// An accepted or revoked invitation: proof the person was known.
    pub past_invitation: bool,
}

/// Look one email up in the directory: membership first, then invitations.
pub async fn standing(systems: &Systems, email: &str) -> Result<DirectoryStanding, BackendError> {
    let (member, invitations) = futures::join!(
        systems.directory.find_member(email),
        systems.directory.invitations()
    );
    let member = member?;
    let invitations = invitations?;
    let mine = || {
        invitations
            .iter()
            .filter(|inv| inv.email.eq_ignore_ascii_case(email))
    };
    Ok(DirectoryStanding {
        pending: mine()
            .filter(|inv| inv.status == InvitationStatus::Available)
            .cloned()
            .collect(),
        past_invitation: mine().any(|inv| inv.status != InvitationStatus::Available),
        member,
    })
}

/// The whole picture of one person.
pub async fn user_access(systems: &Systems, email: &str) -> AccessResult<UserAccess> {
    let email = normalize_email(email)?;
    let (standing, inventory, groups) = futures::join!(
        standing(systems, &email),
        inventory::scan(systems.tmc.as_ref(), systems.rbac.as_ref()),
        systems.directory.groups(),
    );
    let standing = standing?;
    let in_groups = memberships(systems, standing.member.as_ref(), &groups, &inventory).await;
    Ok(assemble(email, standing, &inventory, groups, in_groups))
}

/// Which of the groups bound somewhere the person belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMembership {
    /// Not an org member: no CSP group gives them anything.
    NotMember,
    /// The names of the bound groups the person is in (possibly none).
    Known(BTreeSet<String>),
    /// The directory could not say.
    Unknown(String),
}

/// GROUP subject names in the inventory (Kubernetes' `system:` groups aside).
fn bound_group_names(inventory: &Inventory) -> BTreeSet<String> {
    let tmc = inventory
        .tmc
        .iter()
        .flat_map(|(_, bindings)| bindings.iter().flat_map(|b| b.subjects.iter()));
    let tap = inventory.tap.iter().flat_map(|b| b.subjects.iter());
    tmc.chain(tap)
        .filter(|s| s.kind == SubjectKind::Group && !s.name.starts_with("system:"))
        .map(|s| s.name.clone())
        .collect()
}

/// Ask the directory for the members of each CSP group that is bound somewhere (by its exact
/// name, the only way TMC and Kubernetes match it). Only for org members: a non-member costs
/// no request here.
pub async fn memberships(
    systems: &Systems,
    member: Option<&Member>,
    groups: &Result<Vec<OrgGroup>, BackendError>,
    inventory: &Inventory,
) -> GroupMembership {
    let Some(member) = member else {
        return GroupMembership::NotMember;
    };
    let groups = match groups {
        Ok(groups) => groups,
        Err(e) => return GroupMembership::Unknown(e.to_string()),
    };
    let bound = bound_group_names(inventory);
    let relevant: Vec<&OrgGroup> = groups
        .iter()
        .filter(|g| bound.contains(&g.display_name))
        .collect();
    let answers = futures::future::join_all(
        relevant
            .iter()
            .map(|g| systems.directory.group_member_ids(&g.id)),
    )
    .await;
    let mut mine = BTreeSet::new();
    for (group, answer) in relevant.iter().zip(answers) {
        match answer {
            Ok(ids) if ids.contains(&member.user_id) => {
                mine.insert(group.display_name.clone());
            }
            Ok(_) => {}
            Err(e) => return GroupMembership::Unknown(e.to_string()),
        }
    }
    GroupMembership::Known(mine)
}

/// Build the picture from what was read. Pure, so the rules are unit-tested.
pub fn assemble(
    email: String,
    standing: DirectoryStanding,
    inventory: &Inventory,
    groups: Result<Vec<OrgGroup>, BackendError>,
    in_groups: GroupMembership,
) -> UserAccess {
    let identity = Identity::new(email.clone(), standing.member.as_ref());
    let mut warnings = Vec::new();
    let incomplete: Vec<String> = inventory.errors.iter().map(ToString::to_string).collect();

    let mut tmc = Vec::new();
    // Group name to what it grants: TMC grants as sentences, TAP roles to their clusters.
    let mut group_grants: BTreeMap<String, GroupGrants> = BTreeMap::new();
    let mut group_subjects = Vec::new();
    for (scope, bindings) in &inventory.tmc {
        for binding in bindings {
            for subject in &binding.subjects {
                if identity.is(subject) {
                    tmc.push(TmcGrant {
                        scope: scope.clone(),
                        role: binding.role.clone(),
                        subject: subject.clone(),
                        spelled: spelled_otherwise(subject, &email),
                    });
                } else if subject.kind == SubjectKind::Group {
                    group_grants
                        .entry(subject.name.clone())
                        .or_default()
                        .tmc
                        .insert(format!("TMC {} on {scope}", binding.role));
                    group_subjects.push((subject.name.clone(), format!("TMC {scope}")));
                }
            }
        }
    }

    let mut tap = Vec::new();
    for binding in &inventory.tap {
        for subject in &binding.subjects {
            if identity.is(subject) {
                tap.push(tap_grant(binding, subject, &email));
            } else if subject.kind == SubjectKind::Group && !subject.name.starts_with("system:") {
                group_grants
                    .entry(subject.name.clone())
                    .or_default()
                    .tap
                    .entry(binding.role_name.clone())
                    .or_default()
                    .insert(binding.cluster.clone());
                group_subjects.push((
                    subject.name.clone(),
                    format!("TAP cluster {} binding {}", binding.cluster, binding.name),
                ));
            }
        }
    }

    let status = match (&standing.member, standing.pending.first()) {
        (Some(_), _) => PersonStatus::Active,
        (None, Some(_)) => PersonStatus::Invited,
        (None, None) if standing.past_invitation || !tmc.is_empty() || !tap.is_empty() => {
            PersonStatus::Removed
        }
        (None, None) => PersonStatus::Unknown,
    };
    if status != PersonStatus::Active && (!tmc.is_empty() || !tap.is_empty()) {
        warnings.push(Warning::Leftovers {
            email: email.clone(),
            tmc: tmc.len(),
            tap: tap.len(),
        });
    }
    match in_groups {
        GroupMembership::NotMember => {}
        GroupMembership::Known(mine) => {
            for (group, grants) in group_grants {
                if mine.contains(&group) {
                    warnings.push(Warning::GroupAccess {
                        group,
                        grants: grants.sentences(),
                    });
                }
            }
        }
        GroupMembership::Unknown(error) if !group_grants.is_empty() => {
            warnings.push(Warning::GroupMembershipUnknown {
                error,
                groups: group_grants.into_keys().collect(),
            });
        }
        GroupMembership::Unknown(_) => {}
    }
    match groups {
        Ok(groups) => warnings.extend(near_miss_groups(&groups, &group_subjects)),
        // Groups only feed the near-miss warning: not reading them must not block a revocation.
        Err(e) => warnings.push(Warning::GroupsUnreadable {
            error: e.to_string(),
        }),
    }

    if let Some(member) = &standing.member
        && member.org_roles.is_none()
    {
        warnings.push(Warning::OrgRolesHidden {
            email: email.clone(),
        });
    }

    UserAccess {
        email,
        status,
        membership: standing.member.map(|m| Membership {
            user_id: m.user_id,
            username: m.username,
            org_roles: m.org_roles.unwrap_or_default(),
            first_name: m.first_name,
            last_name: m.last_name,
        }),
        invitations: standing
            .pending
            .into_iter()
            .map(|inv| PendingInvitation {
                id: inv.id,
                org_roles: inv.org_roles,
            })
            .collect(),
        tmc,
        tap,
        warnings,
        incomplete,
    }
}

/// What one group is bound to.
#[derive(Default)]
struct GroupGrants {
    tmc: BTreeSet<String>,
    /// ClusterRole name to the TAP clusters it is bound on.
    tap: BTreeMap<String, BTreeSet<String>>,
}

impl GroupGrants {
    /// One short sentence per grant; a role bound on many TAP clusters is one sentence.
    fn sentences(self) -> Vec<String> {
        let tap = self.tap.into_iter().map(|(role, clusters)| {
            let names: Vec<String> = clusters.into_iter().collect();
            match names.as_slice() {
                [one] => format!("{role} on TAP cluster {one}"),
                few if few.len() <= 3 => format!("{role} on TAP clusters {}", few.join(", ")),
                many => format!(
                    "{role} on {} TAP clusters ({} .. {})",
                    many.len(),
                    many[0],
                    many[many.len() - 1]
                ),
            }
        });
        self.tmc.into_iter().chain(tap).collect()
    }
}

/// The subject to show, when it is not simply the email the person was asked about: the
/// common case costs nothing in the answer, the odd spelling stays visible.
fn spelled_otherwise(subject: &Subject, email: &str) -> Option<Subject> {
    (subject.name != email).then(|| subject.clone())
}

fn tap_grant(binding: &RbacBinding, subject: &Subject, email: &str) -> TapGrant {
    TapGrant {
        cluster: binding.cluster.clone(),
        binding_kind: if binding.namespace.is_some() {
            BindingKind::RoleBinding
        } else {
            BindingKind::ClusterRoleBinding
        },
        namespace: binding.namespace.clone(),
        binding: binding.name.clone(),
        role: binding.role_name.clone(),
        scope: ScopeRef::tap(&binding.cluster, binding.namespace.as_deref()),
        role_kind: binding.role_kind,
        subject: subject.clone(),
        spelled: spelled_otherwise(subject, email),
        other_subjects: binding.subjects.iter().filter(|s| *s != subject).count(),
    }
}

/// GROUP subjects whose name equals a CSP group only when case is ignored: such a binding
/// grants nothing, because TMC and Kubernetes compare group names exactly.
pub fn near_miss_groups(groups: &[OrgGroup], subjects: &[(String, String)]) -> Vec<Warning> {
    let mut seen = BTreeSet::new();
    for (name, place) in subjects {
        if groups.iter().any(|g| g.display_name == *name) {
            continue;
        }
        if let Some(real) = groups
            .iter()
            .find(|g| g.display_name.eq_ignore_ascii_case(name))
        {
            seen.insert((name.clone(), place.clone(), real.display_name.clone()));
        }
    }
    seen.into_iter()
        .map(|(name, place, real)| Warning::GroupNearMiss { name, place, real })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::GroupGrants;

    #[test]
    fn a_role_bound_on_many_tap_clusters_is_one_short_sentence() {
        let mut grants = GroupGrants::default();
        grants
            .tmc
            .insert("TMC organization.admin on organization".into());
        let clusters = (1..=50).map(|i| format!("tap-{i:03}")).collect();
        grants.tap.insert("app-viewer".into(), clusters);
        grants
            .tap
            .insert("view".into(), ["tap-a".to_string()].into_iter().collect());
        assert_eq!(
            grants.sentences(),
            [
                "TMC organization.admin on organization",
                "app-viewer on 50 TAP clusters (tap-001 .. tap-050)",
                "view on TAP cluster tap-a",
            ]
        );
    }
}
