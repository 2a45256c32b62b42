//! The CSP client: org members, invitations, member removal and groups, as [`Directory`].
//!
//! Members are read one page at a time: [`CspClient::members_page`] maps onto
//! `pageStart`/`pageLimit`, and [`MemberPager`] follows `nextLink` so a search can stop at the
//! first page that holds its answer. Writes whose answer is lost are settled by reading state,
//! never by sending them again.

mod pager;
pub mod token_details;
pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::api_error::{ApiError, ApiSystem, server_message};
use super::http::{ApiRequest, ApiResponse, HttpClient};
use super::token::{TokenSource, send_authorized};
use crate::access::ports::{
    BackendResult, Directory, Invitation, InvitationStatus, Member, MemberPage, OrgGroup,
    RemovalOutcome, System,
};
pub use pager::{LinkPager, MemberPager};

/// What CSP's failures mean and how to fix them.
pub(crate) static CSP: ApiSystem = ApiSystem {
    system: System::Csp,
    status_fixes: &[
        (
            401..=401,
            "CSP refused a fresh access token; create a new API token and set VMW_CLOUD_API_TOKEN",
        ),
        (
            403..=403,
            "the API token's user lacks the org role for this; use a token of an Organization \
             Owner or Administrator",
        ),
        (
            404..=404,
            "check csp.org_id: CSP does not know this organization or object",
        ),
        (
            429..=429,
            "CSP is limiting the request rate; wait a minute and try again",
        ),
        (500..=599, "CSP is failing; try again later"),
    ],
    unreachable_fix: "check csp.url (or VMW_CLOUD_ENDPOINT) and the network",
    unexpected_shape_fix: "CSP answered in an unexpected shape; check csp.url points at the CSP \
                           console",
};

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

    async fn call(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
        send_authorized(&self.http, &self.tokens, request)
            .await
            .map_err(|e| CSP.call_error(e))
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
    ) -> Result<T, ApiError> {
        let request = ApiRequest::new(System::Csp, operation, Method::GET, url);
        let response = self.call(&request).await?;
        decode(&response)
    }

    /// One page of members, `start` 0-based.
    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn members_page(&self, start: usize, limit: usize) -> Result<MemberPage, ApiError> {
        let url = wire::members_url(&self.base, &self.org_id, start, limit);
        let page: wire::UsersPage = self.get_json("list members", url).await?;
        Ok(into_member_page(page))
    }

    /// Walk the members page by page through `nextLink`, `page_size` at a time.
    pub fn pager(&self, page_size: usize) -> MemberPager<'_> {
        MemberPager::new(LinkPager::new(
            self,
            "list members",
            wire::members_url(&self.base, &self.org_id, 0, page_size),
        ))
    }

    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn invitations(&self) -> Result<Vec<Invitation>, ApiError> {
        let url = wire::invitations_url(&self.base, &self.org_id);
        let list: wire::InvitationList = self.get_json("list invitations", url).await?;
        Ok(list
            .into_entries()
            .into_iter()
            .filter_map(wire::InvitationEntry::into_invitation)
            .collect())
    }

    #[tracing::instrument(skip(self, emails), fields(system = "CSP", count = emails.len()))]
    pub async fn invite(&self, emails: &[String], org_role: &str) -> Result<(), ApiError> {
        let request = ApiRequest::new(
            System::Csp,
            "invite",
            Method::POST,
            wire::invitations_url(&self.base, &self.org_id),
        )
        .json(wire::invite_body(emails, org_role));
        match self.call(&request).await {
            Ok(response) => expect_success(&response),
            Err(lost) if lost.outcome_unknown() => {
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
                    Err(lost)
                }
            }
            Err(other) => Err(other),
        }
    }

    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn revoke_invitation(&self, invitation_id: &str) -> Result<(), ApiError> {
        let request = ApiRequest::new(
            System::Csp,
            "revoke invitation",
            Method::DELETE,
            wire::revoke_invitation_url(&self.base, &self.org_id, invitation_id),
        );
        match self.call(&request).await {
            Ok(response) => expect_success(&response),
            Err(lost) if lost.outcome_unknown() => {
                let revoked = self
                    .invitations()
                    .await?
                    .iter()
                    .any(|i| i.id == invitation_id && i.status == InvitationStatus::Revoked);
                if revoked { Ok(()) } else { Err(lost) }
            }
            Err(other) => Err(other),
        }
    }

    /// Remove members in batches of at most 20. A batch CSP refuses as invalid (400, such as
    /// removing the last org owner) fails its ids and the others go on; any other failure
    /// stops and is returned.
    #[tracing::instrument(skip(self, user_ids), fields(system = "CSP", count = user_ids.len()))]
    pub async fn remove_members(&self, user_ids: &[String]) -> Result<RemovalOutcome, ApiError> {
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
                Ok(response) => return Err(CSP.status_error(&response)),
                Err(lost) if lost.outcome_unknown() => {
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
    ) -> Result<(), ApiError> {
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
    pub async fn groups(&self) -> Result<Vec<OrgGroup>, ApiError> {
        let first = wire::groups_url(&self.base, &self.org_id, 0, wire::MAX_PAGE_LIMIT);
        let mut pager = LinkPager::<wire::GroupEntry>::new(self, "list groups", first);
        let mut groups = Vec::new();
        while let Some(page) = pager.next_page().await? {
            groups.extend(page.results.into_iter().map(OrgGroup::from));
        }
        Ok(groups)
    }

    /// The user ids of one group's members, every page.
    #[tracing::instrument(skip(self), fields(system = "CSP"))]
    pub async fn group_member_ids(&self, group_id: &str) -> Result<Vec<String>, ApiError> {
        let first =
            wire::group_users_url(&self.base, &self.org_id, group_id, 0, wire::MAX_PAGE_LIMIT);
        let mut pager = LinkPager::<wire::User>::new(self, "list group members", first);
        let mut ids = Vec::new();
        while let Some(page) = pager.next_page().await? {
            ids.extend(page.results.into_iter().map(|u| u.user_id));
        }
        Ok(ids)
    }
}

impl CspClient {
    /// One member by email through CSP's user search: `Some(answer)` when the search settles
    /// it, `None` when it cannot (search refused, or as many results as it ever answers without
    /// the email among them) and the caller must walk the pages.
    async fn search_member(&self, email: &str) -> Option<Option<Member>> {
        let url = wire::user_search_url(&self.base, &self.org_id, email);
        let page: wire::UsersPage = match self.get_json("search members", url).await {
            Ok(page) => page,
            Err(e) => {
                tracing::info!(error = %e, "user search failed; walking the member pages");
                return None;
            }
        };
        let got = page.results.len();
        let found = page.results.into_iter().map(Member::from).find(|m| {
            m.email.eq_ignore_ascii_case(email) || m.username.eq_ignore_ascii_case(email)
        });
        match found {
            Some(member) => Some(Some(member)),
            None if got < wire::SEARCH_RESULTS_CAP => Some(None),
            None => None,
        }
    }
}

fn into_member_page(page: wire::UsersPage) -> MemberPage {
    let members: Vec<Member> = page.results.into_iter().map(Member::from).collect();
    let total = page.total_results.unwrap_or(members.len());
    MemberPage { members, total }
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

fn expect_success(response: &ApiResponse) -> Result<(), ApiError> {
    if response.is_success() {
        Ok(())
    } else {
        Err(CSP.status_error(response))
    }
}

fn decode<T: DeserializeOwned>(response: &ApiResponse) -> Result<T, ApiError> {
    if !response.is_success() {
        return Err(CSP.status_error(response));
    }
    serde_json::from_slice(&response.body).map_err(|e| CSP.decode_error(e))
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
        if let Some(answer) = self.search_member(email).await {
            return Ok(answer);
        }
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

    async fn group_member_ids(&self, group_id: &str) -> BackendResult<Vec<String>> {
        CspClient::group_member_ids(self, group_id)
            .await
            .map_err(|e| e.into_backend(format!("list the members of group {group_id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::ports::FailureKind;
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
        let answer = ApiResponse {
            status: 403,
            body: b"Forbidden".to_vec(),
            request_id: Some("r-1".into()),
            attempts: 1,
        };
        let error = CSP.status_error(&answer).into_backend("invite a@x");
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
