//! CSP wire shapes and the pure functions that build its URLs and bodies.
//!
//! Shapes follow API_NOTES.md (the real API, not the integration guide). Readers are lenient
//! where CSP has more than one spelling (`organizationRoles` or the deprecated `orgRoleNames`).

use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::access::ports::{Invitation, InvitationStatus, Member, OrgGroup};
use crate::clients::http::endpoint;

/// CSP caps `pageLimit` at 200.
pub const MAX_PAGE_LIMIT: usize = 200;
/// CSP removes at most 20 members a call.
pub const MAX_REMOVAL_BATCH: usize = 20;

const AM_API: [&str; 4] = ["csp", "gateway", "am", "api"];

fn am(base: &Url, rest: &[&str]) -> Url {
    let segments: Vec<&str> = AM_API.iter().chain(rest).copied().collect();
    endpoint(base, &segments)
}

/// `GET /csp/gateway/am/api/v2/orgs/{org}/users?pageStart&pageLimit`; `start` is 0-based,
/// `pageStart` 1-based.
pub fn members_url(base: &Url, org: &str, start: usize, limit: usize) -> Url {
    let mut url = am(base, &["v2", "orgs", org, "users"]);
    url.query_pairs_mut()
        .append_pair("pageStart", &start.saturating_add(1).to_string())
        .append_pair("pageLimit", &limit.clamp(1, MAX_PAGE_LIMIT).to_string());
    url
}

/// `DELETE /csp/gateway/am/api/v2/orgs/{org}/users` with the ids in the body.
pub fn remove_members_url(base: &Url, org: &str) -> Url {
    am(base, &["v2", "orgs", org, "users"])
}

pub fn remove_members_body(ids: &[String]) -> Value {
    json!({ "ids": ids, "notifyUsers": false })
}

/// `GET /csp/gateway/am/api/orgs/{org}/users/search?userSearchTerm=`: the first members that
/// match a term, as `{results: [{user, organizationRoles, ...}]}` like the v2 listing's items.
pub fn user_search_url(base: &Url, org: &str, term: &str) -> Url {
    let mut url = am(base, &["orgs", org, "users", "search"]);
    url.query_pairs_mut().append_pair("userSearchTerm", term);
    url
}

/// CSP's user search answers only its first matches; a full answer may have cut some off.
pub const SEARCH_RESULTS_CAP: usize = 20;

/// `GET` lists and `POST` creates invitations.
pub fn invitations_url(base: &Url, org: &str) -> Url {
    am(base, &["orgs", org, "invitations"])
}

pub fn invite_body(emails: &[String], org_role: &str) -> Value {
    json!({ "usernames": emails, "organizationRoles": [{ "name": org_role }] })
}

/// `DELETE /csp/gateway/am/api/orgs/{org}/invitations/{invitationId}` revokes one invitation
/// (CSP has no `POST .../invitations/{id}?action=revoke`).
pub fn revoke_invitation_url(base: &Url, org: &str, id: &str) -> Url {
    am(base, &["orgs", org, "invitations", id])
}

pub fn groups_url(base: &Url, org: &str, start: usize, limit: usize) -> Url {
    let mut url = am(base, &["orgs", org, "groups"]);
    url.query_pairs_mut()
        .append_pair("pageStart", &start.saturating_add(1).to_string())
        .append_pair("pageLimit", &limit.clamp(1, MAX_PAGE_LIMIT).to_string());
    url
}

/// `GET /csp/gateway/am/api/orgs/{org}/groups/{groupId}/users`: the group's users, each a flat
/// `{userId, username, email, firstName, lastName}` under `results` (pyVMC
/// `getCSPGroupMembers`), paged like the other CSP listings.
pub fn group_users_url(base: &Url, org: &str, group_id: &str, start: usize, limit: usize) -> Url {
    let mut url = am(base, &["orgs", org, "groups", group_id, "users"]);
    url.query_pairs_mut()
        .append_pair("pageStart", &start.saturating_add(1).to_string())
        .append_pair("pageLimit", &limit.clamp(1, MAX_PAGE_LIMIT).to_string());
    url
}

/// Resolve a `nextLink` (relative, as CSP sends it) against the base. Refuses a link to
/// another origin: the bearer token must not follow it there.
pub fn resolve_next_link(base: &Url, link: &str) -> Result<Url, String> {
    let url = base
        .join(link)
        .map_err(|e| format!("nextLink '{link}' is not a URL: {e}"))?;
    if url.origin() != base.origin() {
        return Err(format!(
            "nextLink points to another host ({}); refusing to send the token there",
            url.origin().ascii_serialization()
        ));
    }
    Ok(url)
}

/// One page of a CSP listing (members, groups): `nextLink` is absent or empty on the last.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default)]
    pub total_results: Option<usize>,
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    #[serde(default)]
    pub next_link: Option<String>,
}

pub type UsersPage = Page<UserEntry>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntry {
    pub user: User,
    /// Absent (or empty) when the token may not see other members' roles.
    #[serde(default)]
    pub organization_roles: Option<Vec<NamedRole>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NamedRole {
    pub name: String,
}

impl From<UserEntry> for Member {
    fn from(entry: UserEntry) -> Member {
        let user = entry.user;
        let username = user.username.unwrap_or_default();
        let email = user.email.unwrap_or_else(|| username.clone());
        Member {
            user_id: user.user_id,
            username,
            email,
            first_name: user.first_name.filter(|s| !s.is_empty()),
            last_name: user.last_name.filter(|s| !s.is_empty()),
            // CSP shows members' roles only to owners and admins, and every member holds at
            // least one: absent and empty both mean "not shown" (the reference does not say
            // which of the two a plain member's token gets).
            org_roles: entry
                .organization_roles
                .filter(|roles| !roles.is_empty())
                .map(|roles| roles.into_iter().map(|r| r.name).collect()),
        }
    }
}

/// One invitation as CSP lists it. The id is `id`/`invitationId`, or the last segment of
/// `refLink`; the email is `username` (older answers) or `email`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationEntry {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub invitation_id: Option<String>,
    #[serde(default)]
    pub ref_link: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Optional in CSP's schema; an entry without it is still listed (as pending, see
    /// [`InvitationEntry::into_invitation`]) rather than failing the whole list.
    #[serde(default)]
    pub status: Option<InvitationStatus>,
    #[serde(default)]
    pub organization_roles: Vec<NamedRole>,
    /// `orgRoleNames`, or `organizationRoleNames` as the invitation list spells it.
    #[serde(default, alias = "organizationRoleNames")]
    pub org_role_names: Vec<String>,
}

impl InvitationEntry {
    pub fn into_invitation(self) -> Option<Invitation> {
        let id = self.id.or(self.invitation_id).or_else(|| {
            self.ref_link
                .as_deref()
                .and_then(|link| link.split(['?', '#']).next())
                .and_then(|path| path.rsplit('/').find(|s| !s.is_empty()))
                .map(str::to_owned)
        })?;
        let email = self.email.or(self.username)?;
        let mut org_roles: Vec<String> = self
            .organization_roles
            .into_iter()
            .map(|r| r.name)
            .collect();
        if org_roles.is_empty() {
            org_roles = self.org_role_names;
        }
        Some(Invitation {
            id,
            email,
            // CSP lists an invitation without a status only while it is open; treating it as
            // AVAILABLE lets a revoke try it, and CSP itself refuses one that is not.
            status: self.status.unwrap_or(InvitationStatus::Available),
            org_roles,
        })
    }
}

/// The invitation list is a bare array in CSP; some versions wrap it in `results`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum InvitationList {
    Bare(Vec<InvitationEntry>),
    Wrapped { results: Vec<InvitationEntry> },
}

impl InvitationList {
    pub fn into_entries(self) -> Vec<InvitationEntry> {
        match self {
            InvitationList::Bare(entries) | InvitationList::Wrapped { results: entries } => entries,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupEntry {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl From<GroupEntry> for OrgGroup {
    fn from(entry: GroupEntry) -> OrgGroup {
        OrgGroup {
            display_name: entry.display_name.or(entry.name).unwrap_or_default(),
            id: entry.id,
        }
    }
}

/// `{succeeded, failed}` of a removal. Entries are ids, or objects with an id and a reason.
#[derive(Debug, Default, Deserialize)]
pub struct RemovalAnswer {
    #[serde(default)]
    pub succeeded: Vec<Value>,
    #[serde(default)]
    pub failed: Vec<Value>,
}

/// The id (and reason) of one entry of `succeeded` or `failed`.
pub fn removal_entry(entry: &Value) -> Option<(String, String)> {
    match entry {
        Value::String(id) => Some((id.clone(), String::new())),
        Value::Object(map) => {
            let id = ["id", "userId", "user_id"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))?;
            let reason = ["message", "reason", "error"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .unwrap_or_default();
            Some((id.to_string(), reason.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://console.example").unwrap()
    }

    #[test]
    fn members_url_is_one_based_and_capped() {
        let url = members_url(&base(), "org 1", 200, 500);
        assert_eq!(
            url.as_str(),
            "https://console.example/csp/gateway/am/api/v2/orgs/org%201/users?pageStart=201&pageLimit=200"
        );
    }

    #[test]
    fn revoke_and_remove_urls() {
        assert_eq!(
            revoke_invitation_url(&base(), "o", "inv/1").as_str(),
            "https://console.example/csp/gateway/am/api/orgs/o/invitations/inv%2F1"
        );
        assert_eq!(
            remove_members_url(&base(), "o").as_str(),
            "https://console.example/csp/gateway/am/api/v2/orgs/o/users"
        );
        assert_eq!(
            remove_members_body(&["a".into()]),
            json!({"ids": ["a"], "notifyUsers": false})
        );
    }

    #[test]
    fn invite_body_uses_organization_roles() {
        assert_eq!(
            invite_body(&["a@x".into()], "org_member"),
            json!({"usernames": ["a@x"], "organizationRoles": [{"name": "org_member"}]})
        );
        let fixture: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/csp/invitations.create.request.json"
        ))
        .unwrap();
        assert_eq!(
            invite_body(&["carol@example.com".into()], "org_member"),
            fixture
        );
    }

    #[test]
    fn next_link_stays_on_the_same_origin() {
        let next = resolve_next_link(
            &base(),
            "/csp/gateway/am/api/v2/orgs/o/users?pageStart=201&pageLimit=200",
        )
        .unwrap();
        assert_eq!(next.query(), Some("pageStart=201&pageLimit=200"));
        assert!(resolve_next_link(&base(), "https://evil.example/x").is_err());
    }

    #[test]
    fn a_users_page_reads_into_members() {
        let page: UsersPage = serde_json::from_value(json!({
            "totalResults": 262,
            "results": [{
                "user": {"userId": "u1", "username": "a@x", "email": "a@x", "firstName": "A", "lastName": ""},
                "organizationRoles": [{"name": "org_member", "membershipType": "DIRECT"}],
                "serviceRoles": []
            }],
            "nextLink": "/next",
            "prevLink": null
        }))
        .unwrap();
        let member = Member::from(page.results.into_iter().next().unwrap());
        assert_eq!(member.email, "a@x");
        assert_eq!(member.last_name, None);
        assert_eq!(member.org_roles, Some(vec!["org_member".to_string()]));
    }

    #[test]
    fn the_users_page_and_search_fixtures_parse() {
        let page: UsersPage =
            serde_json::from_str(include_str!("../../../tests/fixtures/csp/users.page.json"))
                .unwrap();
        assert_eq!(page.total_results, Some(45));
        assert!(
            page.next_link
                .unwrap()
                .ends_with("pageStart=41&pageLimit=20")
        );
        let alice = Member::from(page.results.into_iter().next().unwrap());
        assert_eq!(alice.email, "alice@example.com");
        assert_eq!(
            alice.user_id,
            "example.com:0b6c3f0e-1111-4a2b-9c3d-000000000002"
        );
        assert_eq!(alice.first_name.as_deref(), Some("Alice"));
        assert_eq!(alice.org_roles, Some(vec!["org_member".to_string()]));

        let found: UsersPage = serde_json::from_str(include_str!(
            "../../../tests/fixtures/csp/users.search.json"
        ))
        .unwrap();
        assert_eq!(found.total_results, None, "the search has no paging fields");
        let bob = Member::from(found.results.into_iter().next().unwrap());
        assert_eq!(bob.email, "bob@example.com");
        assert_eq!(bob.org_roles, Some(vec!["org_owner".to_string()]));
    }

    #[test]
    fn roles_a_member_token_may_not_see_read_as_not_shown_either_way() {
        let mut item: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/csp/users.page.json"))
                .unwrap();
        let item = item["results"][0].take();
        let mut absent = item.clone();
        absent.as_object_mut().unwrap().remove("organizationRoles");
        let mut empty = item;
        empty["organizationRoles"] = json!([]);
        for basic in [absent, empty] {
            let entry: UserEntry = serde_json::from_value(basic).unwrap();
            let member = Member::from(entry);
            assert_eq!(member.email, "alice@example.com");
            assert_eq!(member.org_roles, None, "not shown, not 'no roles'");
        }
    }

    #[test]
    fn invitations_read_from_either_spelling() {
        let list: InvitationList = serde_json::from_value(json!([
            {"refLink": "/csp/gateway/am/api/orgs/o/invitations/i-1", "username": "a@x",
             "status": "AVAILABLE", "orgRoleNames": ["org_member"]},
            {"id": "i-2", "email": "b@x", "status": "REVOKED",
             "organizationRoles": [{"name": "org_owner"}]}
        ]))
        .unwrap();
        let all: Vec<Invitation> = list
            .into_entries()
            .into_iter()
            .filter_map(InvitationEntry::into_invitation)
            .collect();
        assert_eq!(all[0].id, "i-1");
        assert_eq!(all[0].org_roles, vec!["org_member"]);
        assert_eq!(all[1].status, InvitationStatus::Revoked);
        assert_eq!(all[1].org_roles, vec!["org_owner"]);
    }

    #[test]
    fn the_invitation_fixture_parses_with_and_without_status() {
        let list: InvitationList = serde_json::from_str(include_str!(
            "../../../tests/fixtures/csp/invitations.list.json"
        ))
        .expect("one entry without status does not fail the list");
        let all: Vec<Invitation> = list
            .into_entries()
            .into_iter()
            .filter_map(InvitationEntry::into_invitation)
            .collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id, "1b2c3d4e-0000-4a5b-8c9d-000000000001");
        assert_eq!(all[0].org_roles, vec!["org_member"]);
        assert_eq!(all[1].status, InvitationStatus::Available);
    }

    #[test]
    fn removal_entries_are_ids_or_objects() {
        assert_eq!(
            removal_entry(&json!("u1")),
            Some(("u1".into(), String::new()))
        );
        assert_eq!(
            removal_entry(&json!({"id": "u2", "message": "last owner"})),
            Some(("u2".into(), "last owner".into()))
        );
    }

    #[test]
    fn the_group_fixtures_parse() {
        let groups: Page<GroupEntry> =
            serde_json::from_str(include_str!("../../../tests/fixtures/csp/groups.list.json"))
                .unwrap();
        let group = OrgGroup::from(groups.results.into_iter().next().unwrap());
        assert_eq!(group.display_name, "Platform-Admins");
        let users: Page<User> = serde_json::from_str(include_str!(
            "../../../tests/fixtures/csp/groups.users.json"
        ))
        .unwrap();
        assert_eq!(
            users.results[0].user_id,
            "example.com:0b6c3f0e-1111-4a2b-9c3d-000000000002"
        );
    }
}
