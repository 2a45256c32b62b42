//! The write policy: before anything changes, every grant is classified.
//!
//! - **forbidden**, refused with the reason and never approvable: Kubernetes built-in subjects
//!   (`system:` users and groups, such as `system:authenticated` or `system:masters`) and
//!   wildcard subjects or roles;
//! - **privileged**, needs the same human approval as a revocation: any CSP org role but the
//!   plain member role; TMC `*.admin` roles and every `organization.*` role above view; on TAP
//!   clusters `cluster-admin`, `admin` and any ClusterRole whose rules grant `*`, `escalate`,
//!   `bind`, `impersonate` or writes to RBAC objects (its rules are read, not its name
//!   trusted); any GROUP subject at organization scope; and the roles the configuration adds;
//! - **ordinary**: everything else (view and edit at cluster, namespace, workspace or TAP
//!   scope), with no prompt, unless the configuration asks for approval of all writes.

use serde::Deserialize;

use super::ports::{PolicyRule, Subject, SubjectKind, TmcScope};
use super::scope::BindTarget;

/// Which writes need a human (`[policy] approve` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approve {
    /// Only privileged grants (and destructive tools, always).
    #[default]
    Privileged,
    /// Every write.
    AllWrites,
}

/// `[policy]` in the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WritePolicy {
    #[serde(default)]
    pub approve: Approve,
    /// More role names (TMC roles, ClusterRoles, CSP org roles) to treat as privileged.
    #[serde(default)]
    pub privileged_roles: Vec<String>,
}

/// How a write is treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Never done; the reason.
    Forbidden(String),
    /// Needs a human; why.
    Privileged(String),
    Ordinary,
}

/// The only CSP org role that is not privileged.
pub const PLAIN_ORG_ROLE: &str = "org_member";

impl WritePolicy {
    fn finish(&self, class: Class, what: &str) -> Class {
        match class {
            Class::Ordinary if self.approve == Approve::AllWrites => Class::Privileged(format!(
                "the server's policy asks a human to approve every write ({what})"
            )),
            other => other,
        }
    }

    fn listed(&self, role: &str) -> bool {
        self.privileged_roles.iter().any(|r| r == role)
    }

    /// Inviting with `org_role`.
    pub fn classify_invite(&self, org_role: &str) -> Class {
        let class = if org_role != PLAIN_ORG_ROLE || self.listed(org_role) {
            Class::Privileged(format!(
                "the CSP org role {org_role} is more than plain membership ({PLAIN_ORG_ROLE})"
            ))
        } else {
            Class::Ordinary
        };
        self.finish(class, "an invitation")
    }

    /// Binding `subject` to `role` at `target`; `rules` are the ClusterRole's rules on a TAP
    /// cluster (read from the cluster), `None` for TMC.
    pub fn classify_grant(
        &self,
        subject: &Subject,
        role: &str,
        target: &BindTarget,
        rules: Option<&[PolicyRule]>,
    ) -> Class {
        if let Some(reason) = forbidden_subject(subject) {
            return Class::Forbidden(reason);
        }
        if role.contains('*') {
            return Class::Forbidden(format!("'{role}' is a wildcard, not a role"));
        }
        let class = if self.listed(role) {
            Class::Privileged(format!("the configuration lists {role} as privileged"))
        } else {
            match target {
                BindTarget::Tmc(scope) => tmc_class(subject, role, scope),
                BindTarget::Tap {
                    namespace: Some(namespace),
                    ..
                } if namespace.starts_with("kube-") => Class::Privileged(format!(
                    "namespace {namespace} belongs to the cluster itself: any write there (pods \
                     under its service accounts) reaches cluster-admin"
                )),
                BindTarget::Tap { .. } => tap_class(role, rules.unwrap_or_default()),
            }
        };
        self.finish(class, "a role binding")
    }
}

fn forbidden_subject(subject: &Subject) -> Option<String> {
    let name = subject.name.trim();
    if name.to_ascii_lowercase().starts_with("system:") {
        return Some(format!(
            "'{name}' is a Kubernetes built-in subject (system:...); binding it would hand the role to \
             every caller it stands for (all authenticated or anonymous users, all service accounts, \
             cluster admins)"
        ));
    }
    if name.contains('*') {
        return Some(format!("'{name}' is a wildcard, not a user or group"));
    }
    None
}

fn tmc_class(subject: &Subject, role: &str, scope: &TmcScope) -> Class {
    if role.ends_with(".admin") {
        return Class::Privileged(format!("{role} is an admin role"));
    }
    if role.starts_with("organization.") && role != "organization.view" {
        return Class::Privileged(format!("{role} is an organization role above view"));
    }
    if subject.kind == SubjectKind::Group && *scope == TmcScope::Organization {
        return Class::Privileged(format!(
            "a group grant at organization scope reaches every cluster for every member of group '{}'",
            subject.name
        ));
    }
    Class::Ordinary
}

/// Verbs that write.
const WRITE_VERBS: [&str; 6] = [
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "*",
];

fn tap_class(role: &str, rules: &[PolicyRule]) -> Class {
    if role == "cluster-admin" || role == "admin" {
        return Class::Privileged(format!("{role} is a Kubernetes admin role"));
    }
    for rule in rules {
        let has = |list: &[String], value: &str| list.iter().any(|v| v == value);
        if has(&rule.verbs, "*") || has(&rule.resources, "*") || has(&rule.api_groups, "*") {
            return Class::Privileged(format!("ClusterRole {role} grants a wildcard"));
        }
        for verb in ["escalate", "bind", "impersonate"] {
            if has(&rule.verbs, verb) {
                return Class::Privileged(format!("ClusterRole {role} grants '{verb}'"));
            }
        }
        let rbac = has(&rule.api_groups, "rbac.authorization.k8s.io");
        if rbac && rule.verbs.iter().any(|v| WRITE_VERBS.contains(&v.as_str())) {
            return Class::Privileged(format!("ClusterRole {role} can write RBAC objects"));
        }
    }
    Class::Ordinary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap() -> BindTarget {
        BindTarget::Tap {
            cluster: "tap-dev".into(),
            namespace: None,
        }
    }

    #[test]
    fn any_grant_in_a_kube_namespace_needs_a_human() {
        let policy = WritePolicy::default();
        let alice = Subject {
            kind: SubjectKind::User,
            name: "alice@example.com".into(),
            namespace: None,
        };
        for (namespace, privileged) in [
            ("kube-system", true),
            ("kube-public", true),
            ("dev-team", false),
        ] {
            let target = BindTarget::Tap {
                cluster: "tap-dev".into(),
                namespace: Some(namespace.into()),
            };
            let class = policy.classify_grant(&alice, "view", &target, Some(&[]));
            assert_eq!(
                matches!(class, Class::Privileged(_)),
                privileged,
                "{namespace}: {class:?}"
            );
        }
    }

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        PolicyRule {
            api_groups: own(groups),
            resources: own(resources),
            verbs: own(verbs),
        }
    }

    #[test]
    fn built_in_and_wildcard_subjects_are_forbidden_everywhere() {
        let policy = WritePolicy::default();
        for name in [
            "system:authenticated",
            "system:unauthenticated",
            "system:masters",
            "System:ServiceAccounts",
            " system:anonymous",
            "*",
            "team-*",
        ] {
            for subject in [Subject::user(name), Subject::group(name)] {
                for target in [tap(), BindTarget::Tmc(TmcScope::Organization)] {
                    assert!(
                        matches!(
                            policy.classify_grant(&subject, "view", &target, Some(&[])),
                            Class::Forbidden(_)
                        ),
                        "{name}"
                    );
                }
            }
        }
    }

    #[test]
    fn admin_roles_org_roles_above_view_and_group_grants_at_org_scope_are_privileged() {
        let policy = WritePolicy::default();
        let alice = Subject::user("alice@example.com");
        let org = BindTarget::Tmc(TmcScope::Organization);
        let group = BindTarget::Tmc(TmcScope::ClusterGroup { name: "g".into() });
        for (subject, role, target) in [
            (&alice, "organization.admin", &org),
            (&alice, "organization.edit", &org),
            (&alice, "clustergroup.admin", &group),
            (&Subject::group("devs"), "organization.view", &org),
        ] {
            assert!(matches!(
                policy.classify_grant(subject, role, target, None),
                Class::Privileged(_)
            ));
        }
        assert_eq!(
            policy.classify_grant(&alice, "organization.view", &org, None),
            Class::Ordinary
        );
        assert_eq!(
            policy.classify_grant(&alice, "clustergroup.edit", &group, None),
            Class::Ordinary
        );
    }

    #[test]
    fn a_cluster_role_is_judged_by_its_rules_not_only_its_name() {
        let policy = WritePolicy::default();
        let bob = Subject::user("bob@example.com");
        let harmless = [rule(
            &["apps"],
            &["deployments"],
            &["get", "list", "update"],
        )];
        assert_eq!(
            policy.classify_grant(&bob, "app-editor", &tap(), Some(&harmless)),
            Class::Ordinary
        );
        for rules in [
            vec![rule(&[""], &["*"], &["get"])],
            vec![rule(&[""], &["pods"], &["*"])],
            vec![rule(&[""], &["users"], &["impersonate"])],
            vec![rule(
                &["rbac.authorization.k8s.io"],
                &["clusterroles"],
                &["bind"],
            )],
            vec![rule(
                &["rbac.authorization.k8s.io"],
                &["rolebindings"],
                &["create"],
            )],
        ] {
            assert!(matches!(
                policy.classify_grant(&bob, "innocent-name", &tap(), Some(&rules)),
                Class::Privileged(_)
            ));
        }
        for role in ["cluster-admin", "admin"] {
            assert!(matches!(
                policy.classify_grant(&bob, role, &tap(), Some(&[])),
                Class::Privileged(_)
            ));
        }
    }

    #[test]
    fn invitations_beyond_plain_membership_are_privileged() {
        let policy = WritePolicy::default();
        assert!(matches!(
            policy.classify_invite("org_owner"),
            Class::Privileged(_)
        ));
        assert_eq!(policy.classify_invite("org_member"), Class::Ordinary);
    }

    #[test]
    fn the_configuration_can_ask_for_all_writes_and_add_roles() {
        let policy = WritePolicy {
            approve: Approve::AllWrites,
            privileged_roles: vec!["app-editor".into()],
        };
        assert!(matches!(
            policy.classify_invite("org_member"),
            Class::Privileged(_)
        ));
        let narrow = WritePolicy {
            privileged_roles: vec!["app-editor".into()],
            ..WritePolicy::default()
        };
        assert!(matches!(
            narrow.classify_grant(&Subject::user("b@x.io"), "app-editor", &tap(), Some(&[])),
            Class::Privileged(_)
        ));
    }
}
