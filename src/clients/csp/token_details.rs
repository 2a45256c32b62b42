//! Which org an API token belongs to: `POST /csp/gateway/am/api/auth/api-tokens/details` with
//! `{tokenValue}` and no bearer (public scripts that derive `orgId` from it: VMware Horizon
//! Cloud `Get-HCOrganizationId`, William Lam's `Get-CSPRefreshTokenExpiry` for `expiresAt`).
//! It lets `csp.org_id` be left out and a wrong one be refused with the token's own org.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::CSP;
use crate::access::ports::System;
use crate::clients::api_error::ApiError;
use crate::clients::http::{ApiRequest, HttpClient, endpoint};
use crate::secret::Secret;

/// What CSP says about an API token (only the fields the product reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenDetails {
    pub org_id: String,
    #[serde(default)]
    pub username: Option<String>,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

pub fn details_url(csp_base: &Url) -> Url {
    endpoint(
        csp_base,
        &[
            "csp",
            "gateway",
            "am",
            "api",
            "auth",
            "api-tokens",
            "details",
        ],
    )
}

/// Ask CSP about `api_token`. Reading details changes nothing, so it is retried like a GET.
pub(crate) async fn token_details(
    http: &HttpClient,
    csp_base: &Url,
    api_token: &Secret,
) -> Result<TokenDetails, ApiError> {
    let request = ApiRequest::new(
        System::Csp,
        "read API token details",
        Method::POST,
        details_url(csp_base),
    )
    .json(json!({ "tokenValue": api_token.expose() }))
    .idempotent();
    let response = http
        .send(&request, None)
        .await
        .map_err(|e| CSP.call_error(e))?;
    if !response.is_success() {
        return Err(CSP.status_error(&response));
    }
    serde_json::from_slice(&response.body).map_err(|e| CSP.decode_error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_details_fixture_parses() {
        let details: TokenDetails = serde_json::from_str(include_str!(
            "../../../tests/fixtures/csp/api-tokens.details.json"
        ))
        .unwrap();
        assert_eq!(details.org_id, "7d2a1f4e-6b3c-4e8a-9f10-5a6b7c8d9e01");
        assert_eq!(details.expires_at, Some(1_798_761_600_000));
        let base = Url::parse("https://console.example").unwrap();
        assert_eq!(
            details_url(&base).path(),
            "/csp/gateway/am/api/auth/api-tokens/details"
        );
    }
}
