//! RBAC subjects and bindings between their Kubernetes shape and the domain's.

use k8s_openapi::api::rbac::v1::{RoleRef, Subject as K8sSubject};
use kube::api::ObjectMeta;

use crate::access::ports::{RbacBinding, RoleKind, Subject, SubjectKind};

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The domain view of a ClusterRoleBinding (`namespace: None`) or RoleBinding.
pub(super) fn binding_view(
    cluster: &str,
    namespace: Option<String>,
    meta: &ObjectMeta,
    role_ref: &RoleRef,
    subjects: Option<&[K8sSubject]>,
) -> RbacBinding {
    RbacBinding {
        cluster: cluster.to_string(),
        namespace,
        name: meta.name.clone().unwrap_or_default(),
        role_kind: RoleKind::from_k8s(&role_ref.kind),
        role_name: role_ref.name.clone(),
        subjects: subjects
            .unwrap_or_default()
            .iter()
            .filter_map(subject_from_k8s)
            .collect(),
    }
}

pub fn subject_to_k8s(subject: &Subject) -> K8sSubject {
    match subject.kind {
        SubjectKind::User | SubjectKind::Group => K8sSubject {
            api_group: Some(RBAC_GROUP.into()),
            kind: if subject.kind == SubjectKind::User {
                "User"
            } else {
                "Group"
            }
            .into(),
            name: subject.name.clone(),
            namespace: None,
        },
        SubjectKind::ServiceAccount => K8sSubject {
            api_group: Some(String::new()),
            kind: "ServiceAccount".into(),
            name: subject.name.clone(),
            namespace: subject.namespace.clone(),
        },
    }
}

pub fn subject_from_k8s(subject: &K8sSubject) -> Option<Subject> {
    let kind = match subject.kind.as_str() {
        "User" => SubjectKind::User,
        "Group" => SubjectKind::Group,
        "ServiceAccount" => SubjectKind::ServiceAccount,
        _ => return None,
    };
    Some(Subject {
        kind,
        name: subject.name.clone(),
        namespace: match kind {
            SubjectKind::ServiceAccount => subject.namespace.clone(),
            _ => None,
        },
    })
}

/// Exact match: Kubernetes compares subject names as given (a group differing only in case is
/// a different group).
pub(super) fn same_subject(wire: &K8sSubject, subject: &Subject) -> bool {
    subject_from_k8s(wire).is_some_and(|s| {
        s.kind == subject.kind
            && s.name == subject.name
            && (s.kind != SubjectKind::ServiceAccount || s.namespace == subject.namespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_map_both_ways() {
        let user = Subject::user("alice@example.com");
        let wire = subject_to_k8s(&user);
        assert_eq!(wire.kind, "User");
        assert_eq!(wire.api_group.as_deref(), Some(RBAC_GROUP));
        assert_eq!(subject_from_k8s(&wire), Some(user.clone()));
        assert!(same_subject(&wire, &user));
        assert!(!same_subject(&wire, &Subject::user("Alice@example.com")));
        assert!(!same_subject(&wire, &Subject::group("alice@example.com")));
    }
}
