//! The CSP (Cloud Services Portal) identity API, as the real service shapes it:
//!
//! - `POST /csp/gateway/am/api/auth/api-tokens/authorize`: form field `api_token` (or the
//!   deprecated `refresh_token`, also accepted as a query parameter) for an access token.
//! - `GET  /csp/gateway/am/api/v2/orgs/{orgId}/users?pageStart=&pageLimit=`: members, pageStart
//!   is the 1-based index of the first result, pageLimit at most 200 (default 20); `nextLink`
//!   and `prevLink` are relative URLs.
//! - `DELETE /csp/gateway/am/api/v2/orgs/{orgId}/users` `{ids, notifyUsers}`: at most 20 ids;
//!   200 `{succeeded, failed}` (partial success); 400 if it would remove the last org owner.
//! - `GET|POST /csp/gateway/am/api/orgs/{orgId}/invitations`: a JSON array of invitations
//!   (AVAILABLE, REDEEMED, REVOKED); POST `{usernames, organizationRoles}` answers 202.
//!   `POST .../invitations/{id}?action=revoke` revokes an AVAILABLE one.
//! - `GET /csp/gateway/am/api/orgs/{orgId}/groups?pageStart=&pageLimit=`: the org's groups.
//!
//! Errors look like CSP's: `{statusCode, message, moduleCode, cspErrorCode, traceId, requestId}`.
//!
//! Choices where public evidence ran out (documented so clients do not over-fit): inviting an
//! existing member is refused with 400 naming them; inviting someone who already has an
//! AVAILABLE invitation answers 202 and keeps that one invitation (no duplicate).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use k8s_openapi::jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth;
use super::state::{AppState, CspOrg, IdGen, Invitation, InvitationStatus, Member, World};

/// The most ids one batch DELETE of members may carry.
pub const MAX_IDS_PER_DELETE: usize = 20;
/// The largest `pageLimit` CSP serves.
pub const MAX_PAGE_LIMIT: usize = 200;
const DEFAULT_PAGE_LIMIT: usize = 20;

/// Organization roles CSP knows, with their display names.
pub const ORG_ROLES: &[(&str, &str)] = &[
    ("org_owner", "Organization Owner"),
    ("org_member", "Organization Member"),
    ("developer", "Developer"),
    ("support_user", "Support User"),
    ("billing_read_only", "Billing Read-only"),
];

pub fn routes(state: AppState) -> Router<AppState> {
    let protected = Router::new()
        .route(
            "/csp/gateway/am/api/v2/orgs/{org_id}/users",
            get(list_members).delete(remove_members),
        )
        .route(
            "/csp/gateway/am/api/orgs/{org_id}/invitations",
            get(list_invitations).post(invite),
        )
        .route(
            "/csp/gateway/am/api/orgs/{org_id}/invitations/{invitation_id}",
            post(invitation_action),
        )
        .route("/csp/gateway/am/api/orgs/{org_id}/groups", get(list_groups))
        .route("/csp/gateway/am/api/orgs/{org_id}", get(get_org))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_csp_token,
        ));
    Router::new()
        .route(
            "/csp/gateway/am/api/auth/api-tokens/authorize",
            post(exchange_token),
        )
        .merge(protected)
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A CSP error response.
#[derive(Debug)]
pub struct CspError {
    status: StatusCode,
    message: String,
}

impl CspError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> CspError {
        CspError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> CspError {
        CspError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> CspError {
        CspError::new(StatusCode::UNAUTHORIZED, message)
    }

    fn not_found(message: impl Into<String>) -> CspError {
        CspError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for CspError {
    fn into_response(self) -> Response {
        let trace = uuid::Uuid::new_v4().simple().to_string();
        let body = json!({
            "statusCode": self.status.as_u16(),
            "message": self.message,
            "moduleCode": "540",
            "cspErrorCode": format!("540.{}", self.status.as_u16()),
            "metadata": null,
            "traceId": &trace[..16],
            "requestId": &trace[16..],
        });
        (self.status, axum::Json(body)).into_response()
    }
}

type CspResult<T> = Result<T, CspError>;

/// Parse a JSON body, answering malformed input the CSP way rather than axum's plain text.
fn parse_json<T: DeserializeOwned>(body: &Bytes) -> CspResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| CspError::bad_request(format!("The request body is invalid: {e}")))
}

fn check_org(world: &World, org_id: &str) -> CspResult<()> {
    if world.org_id == org_id {
        Ok(())
    } else {
        Err(CspError::not_found(format!(
            "Organization {org_id} was not found."
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Token exchange

#[derive(Serialize)]
struct TokenResponse {
    id_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: &'static str,
    access_token: String,
    refresh_token: String,
}

async fn exchange_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> CspResult<axum::Json<TokenResponse>> {
    let is_form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut fields: Vec<(String, String)> = Vec::new();
    if is_form || !body.is_empty() {
        fields.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    // Older clients put the deprecated `refresh_token` in the query string.
    if let Some(query) = query {
        fields.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
    }
    let presented = fields
        .iter()
        .find(|(k, _)| k == "api_token")
        .or_else(|| fields.iter().find(|(k, _)| k == "refresh_token"))
        .map(|(_, v)| v.as_str());
    let Some(presented) = presented else {
        return Err(CspError::bad_request(
            "invalid_request: api_token is required (form field api_token).",
        ));
    };
    if presented != state.secrets().api_token {
        // Like CSP, name the token only by a masked tail.
        let tail: String = presented
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(CspError::bad_request(format!(
            "invalid_grant: Invalid API token: xxxx...{tail}"
        )));
    }
    let (access_token, expires_in) = state.tokens().issue();
    state.stats().count_token_exchange();
    Ok(axum::Json(TokenResponse {
        id_token: format!("sbx-id-{}", uuid::Uuid::new_v4().simple()),
        token_type: "bearer",
        expires_in,
        scope: "ALL_PERMISSIONS customer_number openid group_ids group_names",
        access_token,
        refresh_token: presented.to_string(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Members

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageQuery {
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
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PagedResponse {
    total_results: usize,
    results: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_link: Option<String>,
}

fn role_json(org_id: &str, name: &str) -> Value {
    let display = ORG_ROLES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, d)| d);
    json!({
        "id": null,
        "name": name,
        "displayName": display,
        "resource": null,
        "membershipType": "DIRECT",
        "expiresAt": null,
        "orgId": org_id,
    })
}

fn member_json(org_id: &str, member: &Member) -> Value {
    let domain = member.email.rsplit_once('@').map_or("", |(_, d)| d);
    json!({
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
            "userProfile": null,
        },
        "orgId": org_id,
        "organizationRoles": member
            .org_roles
            .iter()
            .map(|r| role_json(org_id, r))
            .collect::<Vec<_>>(),
        "serviceRoles": [{
            "serviceDefinitionId": "tmc-sandbox-service",
            "serviceRoles": [{
                "name": "tmc-user", "roleName": "tmc-user", "resource": null,
                "membershipType": "DIRECT", "expiresAt": null,
            }],
        }],
        "customRoles": [],
        "createdDate": member.created.to_string(),
    })
}

async fn list_members(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> CspResult<axum::Json<PagedResponse>> {
    let page = Page::parse(&query)?;
    let world = state.world();
    check_org(&world, &org_id)?;
    let members = &world.csp.members;
    let results = page
        .slice(members)
        .iter()
        .map(|m| member_json(&org_id, m))
        .collect();
    let path = format!("/csp/gateway/am/api/v2/orgs/{org_id}/users");
    let (next_link, prev_link) = page.links(&path, members.len());
    Ok(axum::Json(PagedResponse {
        total_results: members.len(),
        results,
        next_link,
        prev_link,
    }))
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
struct RemoveResponse {
    succeeded: Vec<String>,
    failed: Vec<String>,
}

async fn remove_members(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> CspResult<axum::Json<RemoveResponse>> {
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
// Invitations

fn invitation_json(org_id: &str, invitation: &Invitation) -> Value {
    let expires = invitation.created.as_millisecond() + 7 * 24 * 3600 * 1000;
    json!({
        "refLink": format!("/csp/gateway/am/api/orgs/{org_id}/invitations/{}", invitation.id),
        "orgId": org_id,
        "username": invitation.email,
        "status": invitation.status,
        "organizationRoleNames": invitation.org_roles,
        "serviceRolesDtos": [],
        "generatedBy": "owner@example.com",
        "createdDate": invitation.created.to_string(),
        "expirationTime": expires,
    })
}

#[derive(Deserialize)]
struct InvitationFilter {
    status: Option<InvitationStatus>,
}

async fn list_invitations(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    Query(filter): Query<InvitationFilter>,
) -> CspResult<axum::Json<Vec<Value>>> {
    let world = state.world();
    check_org(&world, &org_id)?;
    let invitations = world
        .csp
        .invitations
        .iter()
        .filter(|i| filter.status.is_none_or(|s| s == i.status))
        .map(|i| invitation_json(&org_id, i))
        .collect();
    Ok(axum::Json(invitations))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteRequest {
    usernames: Vec<String>,
    #[serde(default)]
    organization_roles: Vec<RoleRef>,
    /// The deprecated form.
    #[serde(default)]
    org_role_names: Vec<String>,
}

#[derive(Deserialize)]
struct RoleRef {
    name: String,
}

async fn invite(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> CspResult<StatusCode> {
    let request: InviteRequest = parse_json(&body)?;
    let roles: Vec<String> = request
        .organization_roles
        .into_iter()
        .map(|r| r.name)
        .chain(request.org_role_names)
        .collect();
    if roles.is_empty() {
        return Err(CspError::bad_request(
            "organizationRoles is required, e.g. [{\"name\": \"org_member\"}].",
        ));
    }
    if let Some(unknown) = roles
        .iter()
        .find(|r| !ORG_ROLES.iter().any(|(n, _)| n == r))
    {
        return Err(CspError::bad_request(format!(
            "Unknown organization role '{unknown}'."
        )));
    }
    if request.usernames.is_empty() {
        return Err(CspError::bad_request("usernames must not be empty."));
    }
    if let Some(bad) = request.usernames.iter().find(|u| !looks_like_email(u)) {
        return Err(CspError::bad_request(format!(
            "'{bad}' is not a valid email address."
        )));
    }
    let mut world = state.world();
    check_org(&world, &org_id)?;
    let World { csp, ids, .. } = &mut *world;
    let members: Vec<&str> = request
        .usernames
        .iter()
        .filter(|u| csp.is_active_member(u))
        .map(String::as_str)
        .collect();
    if !members.is_empty() {
        return Err(CspError::bad_request(format!(
            "User(s) {} already belong to the organization.",
            members.join(", ")
        )));
    }
    for username in &request.usernames {
        if csp.pending_invitation(username).is_none() {
            csp.invitations.push(Invitation {
                id: ids.uuid(),
                email: username.to_ascii_lowercase(),
                org_roles: roles.clone(),
                status: InvitationStatus::Available,
                created: Timestamp::now(),
            });
        }
    }
    Ok(StatusCode::ACCEPTED)
}

fn looks_like_email(s: &str) -> bool {
    s.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

#[derive(Deserialize)]
struct ActionQuery {
    action: Option<String>,
}

async fn invitation_action(
    State(state): State<AppState>,
    Path((org_id, invitation_id)): Path<(String, String)>,
    Query(query): Query<ActionQuery>,
) -> CspResult<StatusCode> {
    if query.action.as_deref() != Some("revoke") {
        return Err(CspError::bad_request(
            "Unsupported action; the only action is ?action=revoke.",
        ));
    }
    let mut world = state.world();
    check_org(&world, &org_id)?;
    let invitation = world
        .csp
        .invitations
        .iter_mut()
        .find(|i| i.id == invitation_id)
        .ok_or_else(|| CspError::not_found(format!("Invitation {invitation_id} was not found.")))?;
    if invitation.status != InvitationStatus::Available {
        return Err(CspError::bad_request(format!(
            "Invitation {invitation_id} is {:?}, only an AVAILABLE invitation can be revoked.",
            invitation.status
        )));
    }
    invitation.status = InvitationStatus::Revoked;
    Ok(StatusCode::OK)
}

impl CspOrg {
    /// The invitee becomes an ACTIVE member (what a person clicking the link does).
    pub fn accept_invitation(&mut self, email: &str, ids: &mut IdGen) -> Result<(), String> {
        let invitation = self
            .invitations
            .iter_mut()
            .find(|i| {
                i.status == InvitationStatus::Available && i.email.eq_ignore_ascii_case(email)
            })
            .ok_or_else(|| format!("no AVAILABLE invitation for {email}"))?;
        invitation.status = InvitationStatus::Redeemed;
        let roles = invitation.org_roles.clone();
        let email = invitation.email.clone();
        if self.is_active_member(&email) {
            return Ok(());
        }
        let (first_name, last_name) = names_from_email(&email);
        self.members.push(Member {
            user_id: format!("{}:{}", email_domain(&email), ids.uuid()),
            email,
            first_name,
            last_name,
            org_roles: roles,
            created: Timestamp::now(),
        });
        Ok(())
    }
}

pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}

/// "carol.jones@example.com" -> ("Carol", "Jones"); "carol@..." -> ("Carol", "").
fn names_from_email(email: &str) -> (String, String) {
    let local = email.split('@').next().unwrap_or_default();
    let mut parts = local.split(['.', '_', '-']).map(capitalize);
    let first = parts.next().unwrap_or_default();
    let last = parts.next().unwrap_or_default();
    (first, last)
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Groups and the org itself

async fn list_groups(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> CspResult<axum::Json<PagedResponse>> {
    let page = Page::parse(&query)?;
    let world = state.world();
    check_org(&world, &org_id)?;
    let groups = &world.csp.groups;
    let results = page
        .slice(groups)
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "displayName": g.display_name,
                "description": g.description,
                "domain": "example.com",
                "groupType": "USER_GROUP",
                "orgId": org_id,
            })
        })
        .collect();
    let path = format!("/csp/gateway/am/api/orgs/{org_id}/groups");
    let (next_link, prev_link) = page.links(&path, groups.len());
    Ok(axum::Json(PagedResponse {
        total_results: groups.len(),
        results,
        next_link,
        prev_link,
    }))
}

async fn get_org(
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
