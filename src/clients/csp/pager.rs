//! CSP's one way of paging: follow `nextLink` until CSP sends none, for members and groups
//! alike.
//!
//! The caller drives the pages, so a search can stop at the first page that holds its answer.

use serde::de::DeserializeOwned;
use url::Url;

use super::wire::{self, Page};
use super::{CSP, CspClient, into_member_page};
use crate::access::ports::MemberPage;
use crate::clients::api_error::ApiError;

/// A loop guard: no real org has 200 x 100,000 members; a `nextLink` that never ends does.
const MAX_PAGES: usize = 100_000;

/// Pages of one CSP listing of `T`, following `nextLink`.
pub struct LinkPager<'a, T> {
    client: &'a CspClient,
    operation: &'static str,
    next: Option<Url>,
    pages: usize,
    entries: std::marker::PhantomData<T>,
}

impl<'a, T: DeserializeOwned> LinkPager<'a, T> {
    /// The listing whose first page is at `first`.
    pub(crate) fn new(client: &'a CspClient, operation: &'static str, first: Url) -> Self {
        LinkPager {
            client,
            operation,
            next: Some(first),
            pages: 0,
            entries: std::marker::PhantomData,
        }
    }

    /// The next page, or `None` after the last. An empty page is the last whatever its
    /// `nextLink` says.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>, ApiError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.pages += 1;
        if self.pages > MAX_PAGES {
            return Err(CSP.protocol_error(
                "more than 100,000 pages: the nextLink chain does not end".into(),
            ));
        }
        let page: Page<T> = self.client.get_json(self.operation, url).await?;
        self.next = match page.next_link.as_deref().filter(|l| !l.is_empty()) {
            Some(link) if !page.results.is_empty() => Some(
                wire::resolve_next_link(&self.client.base, link)
                    .map_err(|e| CSP.protocol_error(e))?,
            ),
            _ => None,
        };
        Ok(Some(page))
    }
}

/// Pages of members, as the domain reads them.
pub struct MemberPager<'a>(LinkPager<'a, wire::UserEntry>);

impl<'a> MemberPager<'a> {
    pub(super) fn new(pager: LinkPager<'a, wire::UserEntry>) -> Self {
        MemberPager(pager)
    }

    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<MemberPage>, ApiError> {
        Ok(self.0.next_page().await?.map(into_member_page))
    }
}
