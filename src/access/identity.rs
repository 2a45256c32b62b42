//! Who a person is across the three systems: a normalized email, and which binding subjects
//! name them.
//!
//! CSP identifies people by email; TMC USER subjects and Kubernetes User subjects carry the
//! email (or the CSP username, which is usually the same). Matching is case-insensitive because
//! the IdPs behind all three fold case for email addresses.

use super::error::AccessResult;
use super::ports::{Member, Subject, SubjectKind};

/// Trim, check the shape and lowercase an email address (see `validate::email`).
pub fn normalize_email(raw: &str) -> AccessResult<String> {
    super::validate::email(raw)
}

/// The names a person may appear under as a USER subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub email: String,
    /// The CSP username when it differs from the email.
    pub username: Option<String>,
}

impl Identity {
    pub fn new(email: String, member: Option<&Member>) -> Self {
        let username = member
            .map(|m| m.username.to_lowercase())
            .filter(|name| !name.is_empty() && *name != email);
        Identity { email, username }
    }

    /// Whether `subject` is this person as a USER.
    pub fn is(&self, subject: &Subject) -> bool {
        if subject.kind != SubjectKind::User {
            return false;
        }
        let name = subject.name.to_lowercase();
        name == self.email || self.username.as_deref() == Some(name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            normalize_email("  Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
    }

    #[test]
    fn identity_matches_users_case_insensitively_and_never_groups() {
        let id = Identity::new("alice@example.com".into(), None);
        assert!(id.is(&Subject::user("Alice@Example.com")));
        assert!(!id.is(&Subject::group("alice@example.com")));
        assert!(!id.is(&Subject::user("alice@example.org")));
    }

    #[test]
    fn identity_matches_the_csp_username_too() {
        let member = Member {
            user_id: "u1".into(),
            username: "alice.anders".into(),
            email: "alice@example.com".into(),
            first_name: None,
            last_name: None,
            org_roles: None,
        };
        let id = Identity::new("alice@example.com".into(), Some(&member));
        assert!(id.is(&Subject::user("alice.anders")));
    }
}
