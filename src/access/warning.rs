//! What a human should know about a person's access or a change: a closed set of kinds, each
//! with the data a reader needs. Code branches on the kind; the wire carries the sentence
//! (`Display`), so the tool JSON stays a list of strings a model can read as it is.

use std::fmt;

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// Not a member, yet still bound: what a removal from CSP (or IdP deprovisioning) leaves.
    Leftovers {
        email: String,
        tmc: usize,
        tap: usize,
    },
    /// The person is in this CSP group, which is bound to these grants (its membership is the
    /// IdP's, so revoking the person leaves it).
    GroupAccess { group: String, grants: Vec<String> },
    /// Group membership could not be read: access may also come through these bound groups.
    GroupMembershipUnknown { error: String, groups: Vec<String> },
    /// A GROUP subject that equals a CSP group only when case is ignored: it grants nothing.
    GroupNearMiss {
        name: String,
        place: String,
        real: String,
    },
    /// The CSP groups could not be read, so near misses were not checked.
    GroupsUnreadable { error: String },
    /// A group bound by name that CSP does not know (yet).
    UnknownGroup { name: String },
    /// CSP did not show the member's org roles: it shows other members' roles only to org
    /// owners and admins, and this API token's user is neither.
    OrgRolesHidden { email: String },
}

impl Warning {
    /// Whether a revocation plan should repeat it: the plan leaves group access alone.
    pub fn concerns_revocation(&self) -> bool {
        matches!(
            self,
            Warning::GroupAccess { .. }
                | Warning::GroupMembershipUnknown { .. }
                | Warning::OrgRolesHidden { .. }
        )
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Leftovers { email, tmc, tap } => write!(
                f,
                "{email} is not a member of the CSP org but still holds {tmc} TMC and {tap} TAP bindings: \
                 leftovers that a removal from CSP does not clean up; revoke_all_access removes them"
            ),
            Warning::GroupAccess { group, grants } => write!(
                f,
                "also has access through CSP group '{group}' (kept by revocation): {}",
                grants.join("; ")
            ),
            Warning::GroupMembershipUnknown { error, groups } => write!(
                f,
                "could not read group membership ({error}); access may also come through groups: {}",
                groups.join(", ")
            ),
            Warning::GroupNearMiss { name, place, real } => write!(
                f,
                "GROUP '{name}' ({place}) matches CSP group '{real}' only when case is ignored, so it \
                 grants nothing; bind '{real}' exactly instead"
            ),
            Warning::GroupsUnreadable { error } => write!(
                f,
                "could not check group names for case-only mismatches: {error}"
            ),
            Warning::OrgRolesHidden { email } => write!(
                f,
                "CSP did not show the org roles of {email}: it shows other members' roles only to org \
                 owners and admins, and the API token's user is neither. org_roles is empty because it \
                 is unknown, not because there are none; whether {email} is an org owner (CSP never \
                 removes the last one) cannot be checked. Use an org owner's or admin's API token to see them"
            ),
            Warning::UnknownGroup { name } => write!(
                f,
                "'{name}' is not a group of the CSP org (yet): the binding grants nothing until the IdP \
                 provides a group with exactly this name"
            ),
        }
    }
}

impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for Warning {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Warning".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}
