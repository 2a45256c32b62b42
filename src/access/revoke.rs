//! Revoking all of a person's access: the plan of ordered actions that `access::change` runs.
//!
//! Order: TMC and Kubernetes subject removals first (a Kubernetes binding is deleted only when
//! the person is its last subject), then, last, pending invitations and the CSP membership, so
//! that a person is never removed from the directory while bindings that name them remain.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Serialize;

use super::Systems;
use super::change::{About, Change, ChangePlan, Operation, Step, plan::count};
use super::error::{AccessError, AccessResult};
use super::person::{UserAccess, user_access};

/// What a revocation plan is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Revocation {
    /// The person whose access is revoked.
    pub email: String,
    /// Whether the CSP org membership is kept (only bindings are removed).
    pub keep_membership: bool,
}

impl About for Revocation {
    fn target(&self) -> &str {
        &self.email
    }
    fn headline(&self, actions: usize) -> String {
        format!(
            "Revoke all access of {} ({}):",
            self.email,
            count(actions, "action")
        )
    }
}

/// Every action a revocation would take, in order.
pub type RevocationPlan = ChangePlan<Revocation>;

/// `revoke_all_access` as a change: every plan needs a human.
pub struct RevokeAll {
    pub email: String,
    pub keep_membership: bool,
}

#[async_trait]
impl Change for RevokeAll {
    type About = Revocation;
    const TOOL: &'static str = "revoke_all_access";

    fn key(&self) -> &str {
        &self.email
    }

    async fn plan(&self, systems: &Systems) -> AccessResult<RevocationPlan> {
        plan(systems, &self.email, self.keep_membership).await
    }

    fn needs_approval(&self, _: &RevocationPlan) -> Option<String> {
        Some("removing access is destructive".to_string())
    }
}

/// Build the plan from a person's access. Pure: same access, same plan, same digest.
pub fn plan_from_access(
    access: &UserAccess,
    keep_membership: bool,
) -> AccessResult<RevocationPlan> {
    if !access.incomplete.is_empty() {
        return Err(AccessError::refused(
            format!(
                "the picture of {}'s access is incomplete, so a plan would miss bindings: {}",
                access.email,
                access.incomplete.join("; ")
            ),
            "fix the failing system (see the message) and run revoke_all_access again",
        ));
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut tmc: Vec<_> = access.tmc.iter().collect();
    tmc.sort_by(|a, b| (&a.scope, &a.role, &a.subject).cmp(&(&b.scope, &b.role, &b.subject)));
    for grant in tmc {
        steps.push(Step {
            target: format!("{} role {}", grant.scope, grant.role),
            effect: format!(
                "remove USER {} from role {}",
                grant.subject.name, grant.role
            ),
            operation: Operation::TmcRemoveSubject {
                scope: grant.scope.clone(),
                role: grant.role.clone(),
                subject: grant.subject.clone(),
            },
        });
    }
    let mut tap: Vec<_> = access.tap.iter().collect();
    tap.sort_by(|a, b| {
        (&a.cluster, &a.namespace, &a.binding).cmp(&(&b.cluster, &b.namespace, &b.binding))
    });
    for grant in tap {
        let where_ = match &grant.namespace {
            Some(ns) => format!(
                "TAP cluster {} {} {ns}/{}",
                grant.cluster, grant.binding_kind, grant.binding
            ),
            None => format!(
                "TAP cluster {} {} {}",
                grant.cluster, grant.binding_kind, grant.binding
            ),
        };
        let effect = if grant.other_subjects == 0 {
            format!(
                "delete the {} ({} is its only subject)",
                grant.binding_kind, grant.subject.name
            )
        } else {
            format!(
                "remove User {} from it; {} other subject{} keep{} {}",
                grant.subject.name,
                grant.other_subjects,
                if grant.other_subjects == 1 { "" } else { "s" },
                if grant.other_subjects == 1 { "s" } else { "" },
                grant.role
            )
        };
        steps.push(Step {
            target: where_,
            effect,
            operation: Operation::TapRemoveSubject {
                cluster: grant.cluster.clone(),
                namespace: grant.namespace.clone(),
                binding: grant.binding.clone(),
                subject: grant.subject.clone(),
            },
        });
    }
    if !keep_membership {
        // Invitations first: a pending one would let the person rejoin after the removal.
        for invitation in &access.invitations {
            steps.push(Step {
                target: format!("pending invitation {} of {}", invitation.id, access.email),
                effect: "revoke the invitation".to_string(),
                operation: Operation::CspRevokeInvitation {
                    invitation_id: invitation.id.clone(),
                },
            });
        }
        if let Some(member) = &access.membership {
            steps.push(Step {
                target: format!("org membership of {}", access.email),
                effect: if member.org_roles.is_empty() {
                    format!(
                        "remove {} from the CSP org (roles: not shown to this API token)",
                        access.email
                    )
                } else {
                    format!(
                        "remove {} from the CSP org (roles: {})",
                        access.email,
                        member.org_roles.join(", ")
                    )
                },
                operation: Operation::CspRemoveMember {
                    user_id: member.user_id.clone(),
                },
            });
        }
    }
    let warnings = access
        .warnings
        .iter()
        .filter(|w| w.concerns_revocation())
        .cloned()
        .collect();
    Ok(ChangePlan::new(
        Revocation {
            email: access.email.clone(),
            keep_membership,
        },
        steps,
        warnings,
    ))
}

/// Read the world and plan.
pub async fn plan(
    systems: &Systems,
    email: &str,
    keep_membership: bool,
) -> AccessResult<RevocationPlan> {
    let access = user_access(systems, email).await?;
    if !keep_membership
        && let Some(member) = &access.membership
        && member.org_roles.iter().any(|r| r == ORG_OWNER)
        && owners(systems).await? <= 1
    {
        // CSP refuses to remove an org's last owner: a plan that cannot finish would be
        // approved, fail as partial, and ask to be run again forever.
        return Err(AccessError::refused(
            format!("{email} is the CSP org's only owner, and CSP never removes the last owner"),
            "make someone else an org owner first, or call revoke_all_access with keep_membership: true to remove only the bindings",
        ));
    }
    plan_from_access(&access, keep_membership)
}

const ORG_OWNER: &str = "org_owner";

/// How many members hold the org owner role (walks the member pages: only asked when the
/// person to remove is an owner).
async fn owners(systems: &Systems) -> AccessResult<usize> {
    let mut owners = 0;
    let mut start = 0;
    loop {
        let page = systems
            .directory
            .members_page(start, super::ports::MAX_MEMBERS_PAGE)
            .await?;
        if page.members.is_empty() {
            return Ok(owners);
        }
        start += page.members.len();
        owners += page
            .members
            .iter()
            .filter(|m| m.org_roles.iter().flatten().any(|r| r == ORG_OWNER))
            .count();
        if start >= page.total {
            return Ok(owners);
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_orgs_only_owner_is_refused_before_anyone_is_asked() {
        let fake = super::super::fakes::small_world();
        for member in fake.world().members.iter_mut() {
            member.org_roles = if member.email == "alice@example.com" {
                Some(vec!["org_owner".into()])
            } else {
                Some(vec!["org_member".into()])
            };
        }
        let err = super::plan(&fake.systems(), "alice@example.com", false)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, super::AccessError::Refused { reason, .. } if reason.contains("only owner")),
            "{err}"
        );
        // Keeping the membership needs no owner, and a second owner lifts the refusal.
        assert!(
            super::plan(&fake.systems(), "alice@example.com", true)
                .await
                .is_ok()
        );
        if let Some(other) = fake
            .world()
            .members
            .iter_mut()
            .find(|m| m.email != "alice@example.com")
        {
            other.org_roles = Some(vec!["org_owner".into()]);
        }
        assert!(
            super::plan(&fake.systems(), "alice@example.com", false)
                .await
                .is_ok()
        );
    }
}
