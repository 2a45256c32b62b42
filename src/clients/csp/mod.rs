//! The CSP client: org members, invitations, member removal and groups, as [`Directory`].
//!
//! Members are read one page at a time: [`CspClient::members_page`] maps onto
//! `pageStart`/`pageLimit`, and [`MemberPager`] follows `nextLink` so a search can stop at the
//! first page that holds its answer. Writes whose answer is lost are settled by reading state,
//! never by sending them again.

pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::errors::{authorized_failure, kind_of_status, status_line};
use super::http::{ApiRequest, ApiResponse, HttpClient, HttpError};
use super::token::{AuthorizedError, TokenSource, send_authorized, server_message};
use crate::access::ports::{
    BackendError, BackendResult, Directory, FailureKind, Invitation, InvitationStatus, Member,
    MemberPage, OrgGroup, RemovalOutcome, System,
};

/// A failed CSP call, before it is named with its operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CspError {
    #[error("{}: {message}", status_line(*.status))]
    Api {
        status: u16,
        message: String,
        request_id: Option<String>,
    },
    #[error(transparent)]
    Call(#[from] AuthorizedError),
    #[error("answer not understood: {0}")]
    Decode(String),
    #[error("{0}")]
    Protocol(String),
}

impl From<HttpError> for CspError {
    fn from(error: HttpError) -> Self {
        CspError::Call(AuthorizedError::Http(error))
    }
}

impl CspError {
    pub fn into_backend(self, operation: impl Into<String>) -> BackendError {
        let operation = operation.into();
        match self {
            CspError::Api {
                status,
                message,
                request_id,
            } => BackendError {
                system: System::Csp,
                operation,
                kind: kind_of_status(status),
                status: Some(status),
                message: match request_id {
                    Some(id) => format!("{}: {message} (request id {id})", status_line(status)),
                    None => format!("{}: {message}", status_line(status)),
                },
                fix: fix_for_status(status).to_string(),
            },
            CspError::Call(error) => authorized_failure(
                System::Csp,
                operation,
                &error,
                "check csp.url (or VMW_CLOUD_ENDPOINT) and the network",
            ),
            CspError::Decode(message) | CspError::Protocol(message) => BackendError {
                system: System::Csp,
                operation,
                kind: FailureKind::Unavailable,
                status: None,
                message,
                fix: "CSP answered in an unexpected shape; check csp.url points at the CSP console"
                    .into(),
            },
        }
    }
}

fn fix_for_status(status: u16) -> &'static str {
    match status {
        401 => {
            "CSP refused a fresh access token; create a new API token and set VMW_CLOUD_API_TOKEN"
        }
        403 => {
            "the API token's user lacks the org role for this; use a token of an Organization \
             Owner or Administrator"
        }
        404 => "check csp.org_id: CSP does not know this organization or object",
        429 => "CSP is limiting the request rate; wait a minute and try again",
        500..=599 => "CSP is failing; try again later",
        _ => "",
    }
}

/// The CSP directory of one org.
pub struct CspClient {
    http: HttpClient,
    tokens: Arc<TokenSource>,
    base: Url,
    org_id: String,
}

impl CspClient {
    pub(crate) fn new(
        http: HttpClient,
        tokens: Arc<TokenSource>,
        base: Url,
        org_id: String,
    ) -> Self {
        CspClient {
            http,
            tokens,
            base,
            org_id,
        }
    }

    async fn call(&self, request: &ApiRequest) -> Result<ApiResponse, CspError> {
        Ok(send_authorized(&self.http, &self.tokens, request).await?)
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
    ) -> Result<T, CspError> {
        let request = ApiRequest::new(System::Csp, operation, Method::GET, url);
        let response = self.call(&request).await?;
        decode(&response)
    }

    /// One page of members, `start` 0-based.
    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn members_page(&self, start: usize, limit: usize) -> Result<MemberPage, CspError> {
        let url = wire::members_url(&self.base, &self.org_id, start, limit);
        let page: wire::UsersPage = self.get_json("list members", url).await?;
        Ok(into_member_page(page).0)
    }

    /// Walk the members page by page through `nextLink`, `page_size` at a time.
    pub fn pager(&self, page_size: usize) -> MemberPager<'_> {
        MemberPager {
            client: self,
            next: Some(wire::members_url(&self.base, &self.org_id, 0, page_size)),
            pages: 0,
        }
    }

    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn invitations(&self) -> Result<Vec<Invitation>, CspError> {
        let url = wire::invitations_url(&self.base, &self.org_id);
        let list: wire::InvitationList = self.get_json("list invitations", url).await?;
        Ok(list
            .into_entries()
            .into_iter()
            .filter_map(wire::InvitationEntry::into_invitation)
            .collect())
    }

    #[tracing::instrument(skip(self, emails), fields(system = "CSP", count = emails.len()))]
    pub async fn invite(&self, emails: &[String], org_role: &str) -> Result<(), CspError> {
        let request = ApiRequest::new(
            System::Csp,
            "invite",
            Method::POST,
            wire::invitations_url(&self.base, &self.org_id),
        )
        .json(wire::invite_body(emails, org_role));
        match self.call(&request).await {
            Ok(response) => expect_success(&response),
            Err(CspError::Call(AuthorizedError::Http(lost @ HttpError::OutcomeUnknown { .. }))) => {
                // Settle it by reading: the invitation either exists now or it does not.
                let invitations = self.invitations().await?;
                let all_invited = emails.iter().all(|email| {
                    invitations.iter().any(|i| {
                        i.email.eq_ignore_ascii_case(email)
                            && i.status == InvitationStatus::Available
                    })
                });
                if all_invited {
                    tracing::info!("invitation answer lost, but the invitations exist");
                    Ok(())
                } else {
                    Err(lost.into())
                }
            }
            Err(other) => Err(other),
        }
    }

    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn revoke_invitation(&self, invitation_id: &str) -> Result<(), CspError> {
        let request = ApiRequest::new(
            System::Csp,
            "revoke invitation",
            Method::POST,
            wire::revoke_invitation_url(&self.base, &self.org_id, invitation_id),
        );
        match self.call(&request).await {
            Ok(response) => expect_success(&response),
            Err(CspError::Call(AuthorizedError::Http(lost @ HttpError::OutcomeUnknown { .. }))) => {
                let revoked = self
                    .invitations()
                    .await?
                    .iter()
                    .any(|i| i.id == invitation_id && i.status == InvitationStatus::Revoked);
                if revoked { Ok(()) } else { Err(lost.into()) }
            }
            Err(other) => Err(other),
        }
    }

    /// Remove members in batches of at most 20. A batch CSP refuses as invalid (400, such as
    /// removing the last org owner) fails its ids and the others go on; any other failure
    /// stops and is returned.
    #[tracing::instrument(skip(self, user_ids), fields(system = "CSP", count = user_ids.len()))]
    pub async fn remove_members(&self, user_ids: &[String]) -> Result<RemovalOutcome, CspError> {
        let mut outcome = RemovalOutcome::default();
        for batch in user_ids.chunks(wire::MAX_REMOVAL_BATCH) {
            let request = ApiRequest::new(
                System::Csp,
                "remove members",
                Method::DELETE,
                wire::remove_members_url(&self.base, &self.org_id),
            )
            .json(wire::remove_members_body(batch));
            match self.call(&request).await {
                Ok(response) if response.is_success() => {
                    let answer: wire::RemovalAnswer = if response.body.is_empty() {
                        wire::RemovalAnswer::default()
                    } else {
                        decode(&response)?
                    };
                    merge_removal(&mut outcome, batch, &answer);
                }
                Ok(response) if response.status == 400 => {
                    let reason = server_message(&response.body);
                    outcome
                        .failed
                        .extend(batch.iter().map(|id| (id.clone(), reason.clone())));
                }
                Ok(response) => return Err(api_error(&response)),
                Err(CspError::Call(AuthorizedError::Http(HttpError::OutcomeUnknown {
                    ..
                }))) => {
                    self.settle_removal(&mut outcome, batch).await?;
                }
                Err(other) => return Err(other),
            }
        }
        Ok(outcome)
    }

    /// After a lost removal answer: whoever is no longer listed was removed.
    async fn settle_removal(
        &self,
        outcome: &mut RemovalOutcome,
        batch: &[String],
    ) -> Result<(), CspError> {
        let mut still_members = std::collections::HashSet::new();
        let mut pager = self.pager(wire::MAX_PAGE_LIMIT);
        while let Some(page) = pager.next_page().await? {
            for member in page.members {
                if batch.contains(&member.user_id) {
                    still_members.insert(member.user_id);
                }
            }
        }
        for id in batch {
            if still_members.contains(id) {
                outcome.failed.push((
                    id.clone(),
                    "the removal's answer was lost and the user is still a member".into(),
                ));
            } else {
                outcome.succeeded.push(id.clone());
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn groups(&self) -> Result<Vec<OrgGroup>, CspError> {
        let mut groups = Vec::new();
        let mut next = Some(wire::groups_url(
            &self.base,
            &self.org_id,
            0,
            wire::MAX_PAGE_LIMIT,
        ));
        let mut pages = 0usize;
        while let Some(url) = next.take() {
            pages += 1;
            guard_page_count(pages)?;
            let page: wire::GroupsPage = self.get_json("list groups", url).await?;
            let got = page.results.len();
            groups.extend(page.results.into_iter().map(OrgGroup::from));
            next = match page.next_link.filter(|l| !l.is_empty()) {
                Some(link) if got > 0 => {
                    Some(wire::resolve_next_link(&self.base, &link).map_err(CspError::Protocol)?)
                }
                _ => None,
            };
        }
        Ok(groups)
    }
}

/// Pages of members, following `nextLink` until CSP sends none.
pub struct MemberPager<'a> {
    client: &'a CspClient,
    next: Option<Url>,
    pages: usize,
}

impl MemberPager<'_> {
    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<MemberPage>, CspError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.pages += 1;
        guard_page_count(self.pages)?;
        let page: wire::UsersPage = self.client.get_json("list members", url).await?;
        let (page, link) = into_member_page(page);
        self.next = match link {
            Some(link) if !page.members.is_empty() => Some(
                wire::resolve_next_link(&self.client.base, &link).map_err(CspError::Protocol)?,
            ),
            _ => None,
        };
        Ok(Some(page))
    }
}

/// A loop guard: no real org has 200 x 100,000 members; a `nextLink` that never ends does.
fn guard_page_count(pages: usize) -> Result<(), CspError> {
    if pages > 100_000 {
        return Err(CspError::Protocol(
            "more than 100,000 pages: the nextLink chain does not end".into(),
        ));
    }
    Ok(())
}

fn into_member_page(page: wire::UsersPage) -> (MemberPage, Option<String>) {
    let members: Vec<Member> = page.results.into_iter().map(Member::from).collect();
    let total = page.total_results.unwrap_or(members.len());
    (
        MemberPage { members, total },
        page.next_link.filter(|l| !l.is_empty()),
    )
}

fn merge_removal(outcome: &mut RemovalOutcome, batch: &[String], answer: &wire::RemovalAnswer) {
    let succeeded: Vec<(String, String)> = answer
        .succeeded
        .iter()
        .filter_map(wire::removal_entry)
        .collect();
    let failed: Vec<(String, String)> = answer
        .failed
        .iter()
        .filter_map(wire::removal_entry)
        .collect();
    for id in batch {
        if let Some((_, reason)) = failed.iter().find(|(f, _)| f == id) {
            let reason = if reason.is_empty() {
                "refused by CSP"
            } else {
                reason
            };
            outcome.failed.push((id.clone(), reason.to_string()));
        } else if succeeded.iter().any(|(s, _)| s == id)
            || (succeeded.is_empty() && failed.is_empty())
        {
            // An empty 200 means the whole batch went through.
            outcome.succeeded.push(id.clone());
        } else {
            outcome
                .failed
                .push((id.clone(), "CSP did not report this id".into()));
        }
    }
}

fn expect_success(response: &ApiResponse) -> Result<(), CspError> {
    if response.is_success() {
        Ok(())
    } else {
        Err(api_error(response))
    }
}

fn api_error(response: &ApiResponse) -> CspError {
    CspError::Api {
        status: response.status,
        message: response.message_with_attempts(server_message(&response.body)),
        request_id: response.request_id.clone(),
    }
}

fn decode<T: DeserializeOwned>(response: &ApiResponse) -> Result<T, CspError> {
    if !response.is_success() {
        return Err(api_error(response));
    }
    serde_json::from_slice(&response.body).map_err(|e| CspError::Decode(e.to_string()))
}

#[async_trait]
impl Directory for CspClient {
    async fn members_page(&self, start: usize, limit: usize) -> BackendResult<MemberPage> {
        CspClient::members_page(self, start, limit)
            .await
            .map_err(|e| e.into_backend("list members"))
    }

    async fn find_member(&self, email: &str) -> BackendResult<Option<Member>> {
        let operation = || format!("find member '{email}'");
        let mut pager = self.pager(wire::MAX_PAGE_LIMIT);
        while let Some(page) = pager
            .next_page()
            .await
            .map_err(|e| e.into_backend(operation()))?
        {
            if let Some(member) = page.members.into_iter().find(|m| {
                m.email.eq_ignore_ascii_case(email) || m.username.eq_ignore_ascii_case(email)
            }) {
                return Ok(Some(member));
            }
        }
        Ok(None)
    }

    async fn invitations(&self) -> BackendResult<Vec<Invitation>> {
        CspClient::invitations(self)
            .await
            .map_err(|e| e.into_backend("list invitations"))
    }

    async fn invite(&self, emails: &[String], org_role: &str) -> BackendResult<()> {
        CspClient::invite(self, emails, org_role)
            .await
            .map_err(|e| e.into_backend(format!("invite {}", emails.join(", "))))
    }

    async fn revoke_invitation(&self, invitation_id: &str) -> BackendResult<()> {
        CspClient::revoke_invitation(self, invitation_id)
            .await
            .map_err(|e| e.into_backend(format!("revoke invitation '{invitation_id}'")))
    }

    async fn remove_members(&self, user_ids: &[String]) -> BackendResult<RemovalOutcome> {
        CspClient::remove_members(self, user_ids)
            .await
            .map_err(|e| e.into_backend(format!("remove {} member(s)", user_ids.len())))
    }

    async fn groups(&self) -> BackendResult<Vec<OrgGroup>> {
        CspClient::groups(self)
            .await
            .map_err(|e| e.into_backend("list groups"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn removal_answers_map_to_per_id_results() {
        let batch: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let answer: wire::RemovalAnswer = serde_json::from_value(json!({
            "succeeded": ["a"],
            "failed": [{"id": "b", "message": "last org owner"}]
        }))
        .unwrap();
        let mut outcome = RemovalOutcome::default();
        merge_removal(&mut outcome, &batch, &answer);
        assert_eq!(outcome.succeeded, vec!["a"]);
        assert_eq!(outcome.failed[0], ("b".into(), "last org owner".into()));
        assert_eq!(outcome.failed[1].0, "c");
    }

    #[test]
    fn api_errors_name_status_and_fix() {
        let error = CspError::Api {
            status: 403,
            message: "Forbidden".into(),
            request_id: Some("r-1".into()),
        }
        .into_backend("invite a@x");
        assert_eq!(error.kind, FailureKind::Forbidden);
        assert!(
            error
                .to_string()
                .starts_with("CSP: invite a@x: 403 Forbidden")
        );
        assert!(error.to_string().contains("r-1"));
        assert!(error.fix.contains("Organization Owner"));
    }
}
