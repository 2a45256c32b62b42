//! Listing the org: ACTIVE members, then pending invitations (INVITED), with filters and an
//! opaque cursor.
//!
//! CSP pages members by position, and invitations come as one list. The cursor records where
//! the scan stopped (phase and raw position), so a filtered listing resumes without rescanning
//! and every person appears exactly once while the org does not change under it.

use std::hash::{DefaultHasher, Hash, Hasher};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::{AccessError, AccessResult};
use super::ports::{Directory, InvitationStatus, MAX_MEMBERS_PAGE, Member};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// A person's standing in the CSP org, derived: CSP itself has no such field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberStatus {
    /// A member of the org.
    Active,
    /// Has a pending (AVAILABLE) invitation and is not a member yet.
    Invited,
}

/// One person in the org listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberEntry {
    /// Email address, lowercase.
    pub email: String,
    /// ACTIVE (member) or INVITED (invitation pending).
    pub status: MemberStatus,
    /// CSP organization roles, such as `org_owner` or `org_member` (for INVITED: the roles offered).
    pub org_roles: Vec<String>,
    /// CSP user id (members only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

impl MemberEntry {
    fn from_member(member: Member) -> Self {
        MemberEntry {
            email: member.email.to_lowercase(),
            status: MemberStatus::Active,
            // Not shown to this token: an empty list (get_user_access says why).
            org_roles: member.org_roles.unwrap_or_default(),
            user_id: Some(member.user_id),
            first_name: member.first_name,
            last_name: member.last_name,
        }
    }

    fn matches(&self, query: Option<&str>) -> bool {
        let Some(query) = query else { return true };
        let first = self.first_name.as_deref().unwrap_or("");
        let last = self.last_name.as_deref().unwrap_or("");
        [self.email.as_str(), first, last, &format!("{first} {last}")]
            .iter()
            .any(|field| field.to_lowercase().contains(query))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MemberFilter {
    pub status: Option<MemberStatus>,
    /// Matched case-insensitively against email and names.
    pub query: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberListing {
    pub members: Vec<MemberEntry>,
    /// Pass back as `cursor` for the next page; null when this was the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    #[serde(rename = "m")]
    Members,
    #[serde(rename = "i")]
    Invitations,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "p")]
    phase: Phase,
    /// Raw position in the phase's list (members: CSP index; invitations: pending index).
    #[serde(rename = "o")]
    offset: usize,
    /// Fingerprint of the filter the cursor was issued for.
    #[serde(rename = "f")]
    filter: u64,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(raw: &str, filter: u64) -> AccessResult<Cursor> {
        let bad = || {
            AccessError::invalid(
                "the cursor is not one this server issued; list again without a cursor",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if cursor.filter != filter {
            return Err(AccessError::invalid(
                "the cursor was issued for other filters; pass the same status and query, or list again without a cursor",
            ));
        }
        // A cursor is plain data the model can edit: refuse a position no listing reaches, before
        // it becomes arithmetic or a request (an offset near usize::MAX once wrapped to page 1).
        if cursor.offset > MAX_CURSOR_OFFSET {
            return Err(past_the_end());
        }
        Ok(cursor)
    }
}

/// Far beyond any org's members or invitations (CSP orgs hold thousands), far below overflow.
const MAX_CURSOR_OFFSET: usize = 100_000_000;

fn past_the_end() -> AccessError {
    AccessError::invalid(
        "the cursor points past the end of the list (it was edited, or the org shrank since); list again without a cursor",
    )
}

fn fingerprint(filter: &MemberFilter) -> u64 {
    let mut hasher = DefaultHasher::new();
    filter.hash(&mut hasher);
    hasher.finish()
}

/// One page of the org listing.
pub async fn list_members(
    directory: &dyn Directory,
    filter: &MemberFilter,
    limit: Option<usize>,
    cursor: Option<&str>,
) -> AccessResult<MemberListing> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(0) => return Err(AccessError::invalid("limit must be at least 1")),
        Some(n) => n.min(MAX_LIMIT),
    };
    let filter = MemberFilter {
        status: filter.status,
        query: filter
            .query
            .as_ref()
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty()),
    };
    let print = fingerprint(&filter);
    let mut position = match cursor.filter(|c| !c.trim().is_empty()) {
        Some(raw) => Cursor::decode(raw, print)?,
        None => Cursor {
            phase: Phase::Members,
            offset: 0,
            filter: print,
        },
    };
    let query = filter.query.as_deref();
    let mut out = Vec::with_capacity(limit);

    if position.phase == Phase::Members {
        if filter.status != Some(MemberStatus::Invited) {
            let mut offset = position.offset;
            loop {
                // Without a query every member is listed: ask for what the page still needs,
                // not a whole CSP page. A query filters here, so it reads full pages.
                let want = match query {
                    None => (limit - out.len()).min(MAX_MEMBERS_PAGE),
                    Some(_) => MAX_MEMBERS_PAGE,
                };
                let page = directory.members_page(offset, want).await?;
                if offset > page.total {
                    return Err(past_the_end());
                }
                let fetched = page.members.len();
                for (index, member) in page.members.into_iter().enumerate() {
                    let entry = MemberEntry::from_member(member);
                    if entry.matches(query) {
                        out.push(entry);
                        if out.len() == limit {
                            let next = offset + index + 1;
                            if next < page.total {
                                let cursor = Cursor {
                                    phase: Phase::Members,
                                    offset: next,
                                    filter: print,
                                };
                                return Ok(MemberListing {
                                    members: out,
                                    next_cursor: Some(cursor.encode()),
                                });
                            }
                            break;
                        }
                    }
                }
                offset += fetched;
                if out.len() == limit || fetched == 0 || offset >= page.total {
                    break;
                }
            }
        }
        position = Cursor {
            phase: Phase::Invitations,
            offset: 0,
            filter: print,
        };
    }

    if filter.status == Some(MemberStatus::Active) {
        return Ok(MemberListing {
            members: out,
            next_cursor: None,
        });
    }
    let pending = pending_invitations(directory, query).await?;
    if position.offset > pending.len() {
        return Err(past_the_end());
    }
    let start = position.offset;
    let room = limit - out.len();
    let end = (start + room).min(pending.len());
    // A page already full of members ends here; the invitations start the next one.
    let next_cursor = if end < pending.len() {
        Some(
            Cursor {
                phase: Phase::Invitations,
                offset: end,
                filter: print,
            }
            .encode(),
        )
    } else {
        None
    };
    out.extend(pending[start..end].iter().cloned());
    Ok(MemberListing {
        members: out,
        next_cursor,
    })
}

/// AVAILABLE invitations as INVITED entries, one per email, in email order.
async fn pending_invitations(
    directory: &dyn Directory,
    query: Option<&str>,
) -> AccessResult<Vec<MemberEntry>> {
    let mut pending: Vec<MemberEntry> = directory
        .invitations()
        .await?
        .into_iter()
        .filter(|inv| inv.status == InvitationStatus::Available)
        .map(|inv| MemberEntry {
            email: inv.email.to_lowercase(),
            status: MemberStatus::Invited,
            org_roles: inv.org_roles,
            user_id: None,
            first_name: None,
            last_name: None,
        })
        .filter(|entry| entry.matches(query))
        .collect();
    pending.sort_by(|a, b| a.email.cmp(&b.email));
    pending.dedup_by(|a, b| a.email == b.email);
    // INVITED means "not a member": an invitation left AVAILABLE for a member is not listed twice.
    let emails = pending.iter().map(|entry| entry.email.clone()).collect();
    let members = find_members(directory, &emails).await?;
    pending.retain(|entry| !members.contains_key(&entry.email));
    Ok(pending)
}

/// Up to this many emails are looked up one by one with CSP's search (concurrently); more are
/// found in one walk over the member pages. On `--data large` a walk is 50 requests, and it
/// made the page of `list_members` that reaches the invitations 34 times slower than the first.
const SEARCH_AT_MOST: usize = 16;

/// Find several members: each by CSP's search when they are few, else in one walk over the
/// pages, stopping once all are found.
pub async fn find_members(
    directory: &dyn Directory,
    emails: &std::collections::BTreeSet<String>,
) -> AccessResult<std::collections::HashMap<String, Member>> {
    use futures::{StreamExt, stream};
    if emails.len() > SEARCH_AT_MOST {
        return walk_for_members(directory, emails).await;
    }
    let lookups: Vec<_> = emails
        .iter()
        .map(|email| async move { (email, directory.find_member(email).await) })
        .collect();
    let answers: Vec<_> = stream::iter(lookups)
        .buffered(super::inventory::FAN_OUT)
        .collect()
        .await;
    let mut found = std::collections::HashMap::new();
    for (email, answer) in answers {
        if let Some(member) = answer? {
            found.insert(email.clone(), member);
        }
    }
    Ok(found)
}

/// Find several members in one walk over the pages, stopping once all are found.
async fn walk_for_members(
    directory: &dyn Directory,
    emails: &std::collections::BTreeSet<String>,
) -> AccessResult<std::collections::HashMap<String, Member>> {
    let mut found = std::collections::HashMap::new();
    let mut offset = 0;
    while found.len() < emails.len() {
        let page = directory.members_page(offset, MAX_MEMBERS_PAGE).await?;
        if page.members.is_empty() {
            break;
        }
        offset += page.members.len();
        for member in page.members {
            let email = member.email.to_lowercase();
            if emails.contains(&email) {
                found.insert(email, member);
            }
        }
        if offset >= page.total {
            break;
        }
    }
    Ok(found)
}
