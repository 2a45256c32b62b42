//! The CSP (Cloud Services Portal) identity API, as the real service shapes it:
//!
//! - `POST /csp/gateway/am/api/auth/api-tokens/authorize`: form field `api_token` (or the
//!   deprecated `refresh_token`, also accepted as a query parameter) for an access token.
//! - `POST /csp/gateway/am/api/auth/api-tokens/details` `{tokenValue}`: the token's `orgId`,
//!   `username` and times (ms), no bearer.
//! - `GET  /csp/gateway/am/api/v2/orgs/{orgId}/users?pageStart=&pageLimit=`: members, pageStart
//!   is the 1-based index of the first result, pageLimit at most 200 (default 20); `nextLink`
//!   and `prevLink` are relative URLs.
//! - `DELETE /csp/gateway/am/api/v2/orgs/{orgId}/users` `{ids, notifyUsers}`: at most 20 ids;
//!   200 `{succeeded, failed}` (partial success); 400 if it would remove the last org owner.
//! - `GET|POST /csp/gateway/am/api/orgs/{orgId}/invitations`: a JSON array of invitations
//!   (AVAILABLE, REDEEMED, REVOKED); POST `{usernames, organizationRoles}` answers 202.
//!   `DELETE .../invitations/{invitationId}` revokes an AVAILABLE one (the id is the last
//!   segment of the listed `refLink`; there is no `POST .../invitations/{id}?action=revoke`).
//! - `GET /csp/gateway/am/api/orgs/{orgId}/groups?pageStart=&pageLimit=`: the org's groups.
//! - `GET /csp/gateway/am/api/orgs/{orgId}/groups/{groupId}/users`: a group's members, flat
//!   `{userId, username, email, firstName, lastName}` items, paged like the groups.
//! - `GET /csp/gateway/am/api/orgs/{orgId}/users/search?userSearchTerm=`: the first 20 members
//!   matching a term, `{results: [...]}` in the v2 listing's item shape.
//!
//! - Who is asking matters, as in CSP's access policies: the default API token is an org
//!   owner's; `Sandbox::member_api_token` is a plain member's, which lists and searches members
//!   with "only basic user information" (no `organizationRoles`, `serviceRoles`,
//!   `customRoles`) and is refused (403) to invite, revoke or remove.
//!
//! Errors look like CSP's: `{statusCode, message, moduleCode, cspErrorCode, errorCode, requestId}`
//! with an integer `moduleCode`.
//!
//! Choices where public evidence ran out (documented so clients do not over-fit): inviting an
//! existing member is refused with 400 naming them; inviting someone who already has an
//! AVAILABLE invitation answers 202 and keeps that one invitation (no duplicate).

//!
//! Layout: [`members`] (members, groups, the org), [`invitations`] and [`error`]; this module
//! holds the routes, the token exchange and what they share.

mod error;
mod invitations;
mod members;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::routing::{delete, get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth;
use super::state::{AppState, World};
pub use error::CspError;
use error::CspResult;

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
            get(members::list_members).delete(members::remove_members),
        )
        .route(
            "/csp/gateway/am/api/orgs/{org_id}/users/search",
            get(members::search_members),
        )
        .route(
            "/csp/gateway/am/api/orgs/{org_id}/invitations",
            get(invitations::list_invitations).post(invitations::invite),
        )
        .route(
            "/csp/gateway/am/api/orgs/{org_id}/invitations/{invitation_id}",
            delete(invitations::revoke_invitation),
        )
        .route(
            "/csp/gateway/am/api/orgs/{org_id}/groups",
            get(members::list_groups),
        )
        .route(
            "/csp/gateway/am/api/orgs/{org_id}/groups/{group_id}/users",
            get(members::list_group_users),
        )
        .route("/csp/gateway/am/api/orgs/{org_id}", get(members::get_org))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_csp_token,
        ));
    Router::new()
        .route(
            "/csp/gateway/am/api/auth/api-tokens/authorize",
            post(exchange_token),
        )
        .route(
            "/csp/gateway/am/api/auth/api-tokens/details",
            post(token_details),
        )
        .merge(protected)
}

/// Parse a JSON body, answering malformed input the CSP way rather than axum's plain text.
fn parse_json<T: DeserializeOwned>(body: &Bytes) -> CspResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| CspError::bad_request(format!("The request body is invalid: {e}")))
}

/// The role an API token's user holds: the default token is an org owner's, the member token
/// a plain member's; any other is not a token of this org.
fn api_token_role(state: &AppState, presented: &str) -> Option<auth::CallerRole> {
    let secrets = state.secrets();
    if presented == secrets.api_token {
        Some(auth::CallerRole::Owner)
    } else if presented == secrets.member_api_token {
        Some(auth::CallerRole::Member)
    } else {
        None
    }
}

/// CSP's access policy for invitations and removals: org owners and admins only.
fn require_owner(caller: auth::CallerRole, what: &str) -> CspResult<()> {
    if caller == auth::CallerRole::Owner {
        Ok(())
    } else {
        Err(CspError::forbidden(format!(
            "Only organization owners and admins may {what}."
        )))
    }
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
    RawQuery(query): RawQuery,
    body: Bytes,
) -> CspResult<axum::Json<TokenResponse>> {
    // The form body; older clients put the deprecated `refresh_token` in the query string.
    let mut fields: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    if let Some(query) = query {
        fields.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(presented) = field("api_token").or_else(|| field("refresh_token")) else {
        return Err(CspError::bad_request(
            "invalid_request: api_token is required (form field api_token).",
        ));
    };
    let Some(role) = api_token_role(&state, presented) else {
        // CSP echoes a masked tail of the token; the sandbox echoes none of it, so no part of
        // a credential can travel on into a client's error message.
        return Err(CspError::bad_request(
            "invalid_grant: Invalid API token (wrong, expired or revoked).",
        ));
    };
    let (access_token, expires_in) = state.tokens().issue(role);
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

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailsRequest {
    token_value: Option<String>,
}

/// `POST .../api-tokens/details` `{tokenValue}`: the token's org and owner, no bearer needed.
/// Only the fields public scripts read (`orgId`, `username`, `createdAt`, `lastUsedAt`,
/// `expiresAt` in ms).
async fn token_details(
    State(state): State<AppState>,
    body: Bytes,
) -> CspResult<axum::Json<serde_json::Value>> {
    let request: DetailsRequest = parse_json(&body)?;
    let Some(role) = request
        .token_value
        .as_deref()
        .and_then(|t| api_token_role(&state, t))
    else {
        return Err(CspError::bad_request(
            "invalid_grant: Invalid API token (wrong, expired or revoked).",
        ));
    };
    let world = state.world();
    // The owner token's user is the first owner; the member token's the first plain member.
    let is_owner =
        |m: &&crate::sandbox::state::Member| m.org_roles.iter().any(|r| r == "org_owner");
    let owner = world
        .csp
        .members
        .iter()
        .find(|m| is_owner(m) == (role == auth::CallerRole::Owner))
        .map(|m| m.email.clone());
    const DAY_MS: i64 = 86_400_000;
    let now = k8s_openapi::jiff::Timestamp::now().as_millisecond();
    Ok(axum::Json(serde_json::json!({
        "orgId": world.org_id,
        "username": owner,
        "createdAt": now - 30 * DAY_MS,
        "lastUsedAt": now,
        "expiresAt": now + 180 * DAY_MS,
    })))
}

pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}
