//! Members, groups and the organization itself: the paginated listings (`pageStart`,
//! `pageLimit`, `nextLink`/`prevLink`) and the batch removal of members.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{CspError, CspResult};
use super::{
    DEFAULT_PAGE_LIMIT, MAX_IDS_PER_DELETE, MAX_PAGE_LIMIT, ORG_ROLES, check_org, email_domain,
    parse_json, require_owner,
};
use crate::sandbox::auth::CallerRole;
use crate::sandbox::state::{AppState, Member};
use axum::Extension;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageQuery {
    page_start: Option<String>,
    page_limit: Option<String>,
}

/// A validated 1-based window.
struct Page {
    start: usize,
    limit: usize,
}

impl Page {
    fn parse(query: &PageQuery) -> CspResult<Page> {
        let start = match &query.page_start {
            None => 1,
            Some(s) => s.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                CspError::bad_request("pageStart must be an integer of at least 1.")
            })?,
        };
        let limit = match &query.page_limit {
            None => DEFAULT_PAGE_LIMIT,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_LIMIT).contains(n))
                .ok_or_else(|| {
                    CspError::bad_request(format!(
                        "pageLimit must be an integer between 1 and {MAX_PAGE_LIMIT}."
                    ))
                })?,
        };
        Ok(Page { start, limit })
    }

    fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let from = (self.start - 1).min(items.len());
        let to = (from + self.limit).min(items.len());
        &items[from..to]
    }

    /// `(nextLink, prevLink)` for a listing at `path` holding `total` items.
    fn links(&self, path: &str, total: usize) -> (Option<String>, Option<String>) {
        let next_start = self.start - 1 + self.limit;
        let next = (next_start < total).then(|| {
            format!(
                "{path}?pageStart={}&pageLimit={}",
                next_start + 1,
                self.limit
            )
        });
        let prev = (self.start > 1).then(|| {
            let prev_start = self.start.saturating_sub(self.limit).max(1);
            format!("{path}?pageStart={prev_start}&pageLimit={}", self.limit)
        });
        (next, prev)
    }

    /// This page of `items` (a listing at `path`) with its total and links.
    fn respond<T>(
        &self,
        items: &[T],
        path: &str,
        to_json: impl Fn(&T) -> Value,
    ) -> axum::Json<PagedResponse> {
        let (next_link, prev_link) = self.links(path, items.len());
        axum::Json(PagedResponse {
            total_results: items.len(),
            results: self.slice(items).iter().map(to_json).collect(),
            next_link,
            prev_link,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PagedResponse {
    total_results: usize,
    results: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_link: Option<String>,
}

/// One org role as the v2 listing shows it (`tests/fixtures/csp/users.page.json`).
fn role_json(name: &str) -> Value {
    let display = ORG_ROLES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, d)| d);
    json!({ "name": name, "displayName": display, "membershipType": "DIRECT" })
}

/// One member in the v2 listing's (and the user search's) item shape. CSP shows the org and
/// service roles only to owners and admins; a plain member's token gets "only basic user
/// information" (Broadcom `tcsp-account-management`), here the `user` and `orgId`.
fn member_json(org_id: &str, member: &Member, caller: CallerRole) -> Value {
    let domain = email_domain(&member.email);
    let mut item = json!({
        "user": {
            "username": member.email,
            "firstName": member.first_name,
            "lastName": member.last_name,
            "domain": domain,
            "idpId": domain,
            "accessible": true,
            "acct": member.email,
            "email": member.email,
            "userId": member.user_id,
        },
        "orgId": org_id,
    });
    if caller.sees_roles() {
        item["organizationRoles"] = member.org_roles.iter().map(|r| role_json(r)).collect();
        item["serviceRoles"] = json!([{
            "serviceDefinitionId": "tmc-sandbox-service",
            "serviceRoles": [{ "roleName": "tmc-user", "membershipType": "DIRECT" }],
        }]);
        item["customRoles"] = json!([]);
    }
    item
}

pub(super) async fn list_members(
    State(state): State<AppState>,
    Extension(caller): Extension<CallerRole>,
    Path(org_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> CspResult<axum::Json<PagedResponse>> {
    let page = Page::parse(&query)?;
    let world = state.world();
    check_org(&world, &org_id)?;
    let path = format!("/csp/gateway/am/api/v2/orgs/{org_id}/users");
    Ok(page.respond(&world.csp.members, &path, |m| {
        member_json(&org_id, m, caller)
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SearchQuery {
    user_search_term: Option<String>,
}

/// The most results CSP's user search answers.
const SEARCH_RESULTS: usize = 20;

/// `GET .../orgs/{org}/users/search?userSearchTerm=`: the first members whose email, username
/// or name contains the term, in the v2 listing's item shape, under `results`.
pub(super) async fn search_members(
    State(state): State<AppState>,
    Extension(caller): Extension<CallerRole>,
    Path(org_id): Path<String>,
    Query(query): Query<SearchQuery>,
) -> CspResult<axum::Json<Value>> {
    let term = query
        .user_search_term
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CspError::bad_request("userSearchTerm is required."))?
        .to_lowercase();
    let world = state.world();
    check_org(&world, &org_id)?;
    let results: Vec<Value> = world
        .csp
        .members
        .iter()
        .filter(|m| {
            [&m.email, &m.first_name, &m.last_name]
                .iter()
                .any(|field| field.to_lowercase().contains(&term))
        })
        .take(SEARCH_RESULTS)
        .map(|m| member_json(&org_id, m, caller))
        .collect();
    Ok(axum::Json(json!({ "results": results })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveRequest {
    ids: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)] // accepted like CSP does; the sandbox sends no mail
    notify_users: Option<bool>,
}

#[derive(Serialize)]
pub(super) struct RemoveResponse {
    succeeded: Vec<String>,
    failed: Vec<String>,
}

pub(super) async fn remove_members(
    State(state): State<AppState>,
    Extension(caller): Extension<CallerRole>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> CspResult<axum::Json<RemoveResponse>> {
    require_owner(caller, "remove users")?;
    let request: RemoveRequest = parse_json(&body)?;
    if request.ids.is_empty() {
        return Err(CspError::bad_request("ids must not be empty."));
    }
    if request.ids.len() > MAX_IDS_PER_DELETE {
        return Err(CspError::bad_request(format!(
            "At most {MAX_IDS_PER_DELETE} user ids can be removed in one request; got {}.",
            request.ids.len()
        )));
    }
    let mut world = state.world();
    check_org(&world, &org_id)?;
    let org = &mut world.csp;
    let owners_left = org
        .members
        .iter()
        .filter(|m| m.org_roles.iter().any(|r| r == "org_owner"))
        .filter(|m| !request.ids.contains(&m.user_id))
        .count();
    let removes_an_owner = org
        .members
        .iter()
        .any(|m| request.ids.contains(&m.user_id) && m.org_roles.iter().any(|r| r == "org_owner"));
    if removes_an_owner && owners_left == 0 {
        return Err(CspError::bad_request(
            "Cannot remove the last organization owner. Make another member org_owner first.",
        ));
    }
    // Real CSP answers 404 "Users [...] not found" when none of the ids is a member (clients
    // read it as already absent); a batch that mixes members and strangers is a partial 200.
    if !request
        .ids
        .iter()
        .any(|id| org.members.iter().any(|m| &m.user_id == id))
    {
        return Err(CspError::not_found(format!(
            "Users [{}] not found",
            request.ids.join(", ")
        )));
    }
    let mut response = RemoveResponse {
        succeeded: Vec::new(),
        failed: Vec::new(),
    };
    for id in request.ids {
        match org.members.iter().position(|m| m.user_id == id) {
            Some(index) => {
                org.members.remove(index);
                response.succeeded.push(id);
            }
            None => response.failed.push(id),
        }
    }
    Ok(axum::Json(response))
}

// ---------------------------------------------------------------------------------------------
// Groups and the org itself

pub(super) async fn list_groups(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> CspResult<axum::Json<PagedResponse>> {
    let page = Page::parse(&query)?;
    let world = state.world();
    check_org(&world, &org_id)?;
    let path = format!("/csp/gateway/am/api/orgs/{org_id}/groups");
    Ok(page.respond(&world.csp.groups, &path, |g| {
        // Only the fields public clients read (pyVMC `getCSPGroups`: id, displayName,
        // groupType, usersCount; API_NOTES.md: domain).
        json!({
            "id": g.id,
            "displayName": g.display_name,
            "domain": "example.com",
            "groupType": "USER_GROUP",
            "usersCount": g.members.len(),
        })
    }))
}

/// `GET .../groups/{groupId}/users`: the group's members as flat user objects (pyVMC's
/// `getCSPGroupMembers` reads `results[].{username, firstName, lastName, email, userId}`).
pub(super) async fn list_group_users(
    State(state): State<AppState>,
    Path((org_id, group_id)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> CspResult<axum::Json<PagedResponse>> {
    let page = Page::parse(&query)?;
    let world = state.world();
    check_org(&world, &org_id)?;
    let group = world
        .csp
        .groups
        .iter()
        .find(|g| g.id == group_id)
        .ok_or_else(|| CspError::not_found(format!("Group {group_id} was not found.")))?;
    let members: Vec<&Member> = group
        .members
        .iter()
        .filter_map(|email| world.csp.member_by_email(email))
        .collect();
    let path = format!("/csp/gateway/am/api/orgs/{org_id}/groups/{group_id}/users");
    Ok(page.respond(&members, &path, |m| {
        json!({
            "userId": m.user_id,
            "username": m.email,
            "email": m.email,
            "firstName": m.first_name,
            "lastName": m.last_name,
        })
    }))
}

pub(super) async fn get_org(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
) -> CspResult<axum::Json<Value>> {
    let world = state.world();
    check_org(&world, &org_id)?;
    Ok(axum::Json(json!({
        "id": org_id,
        "refLink": format!("/csp/gateway/am/api/orgs/{org_id}"),
        "name": org_id,
        "displayName": "Sandbox Org",
    })))
}
