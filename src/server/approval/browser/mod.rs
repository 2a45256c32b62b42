//! Approval in the person's browser, for clients that cannot ask (`--confirm browser`, and
//! `--confirm auto` when the client has no form elicitation).
//!
//! Per pending plan there is one page at an unguessable path, served on 127.0.0.1 (an ephemeral
//! port, started on first use) or, over `--transport http`, by the same listener behind the same
//! bearer auth. The page is opened with the platform's opener or `--approval-browser`, or its
//! address goes to the client by URL-mode elicitation: it never reaches the model, a log line,
//! an error or the audit trail. A page is single use, expires, is bound to the call (tool and
//! arguments) and to the digest of the plan it shows, and its form carries a token of its own.
//!
//! - [`page`]: the HTML.
//! - [`listener`]: the routes, their Host/Origin checks, and the loopback listener.
//! - [`opener`]: starting the browser.

pub mod ask;
pub mod listener;
pub mod opener;
pub mod page;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use tokio::sync::{OnceCell, watch};

use crate::access::approval::ApprovalRequest;
use crate::access::audit::{ApprovalRecord, AuditLog};
use opener::Opener;
use page::Shown;

/// Open pages beyond which no new one is made: each opens a browser tab, and a model looping
/// over many targets must not flood the person with them.
pub const MAX_OPEN_PAGES: usize = 16;

/// How long a call waits for the page's answer before returning `approval_pending`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(45);

/// Where pages are served.
#[derive(Debug, Clone)]
struct Served {
    /// `http://host:port`, no trailing slash.
    base: String,
    /// Requests reach the page only with the HTTP transport's bearer token.
    behind_bearer: bool,
}

#[derive(Debug, Clone)]
enum State {
    Open,
    Approved,
    Refused(String),
}

struct Page {
    /// The call it is for: tool and arguments.
    key: String,
    digest: String,
    /// Ties the form post to this page.
    token: String,
    shown: Shown,
    /// The MCP client whose call opened it, for the audit trail.
    client: String,
    /// The label of the HTTP credential the call came with, for the audit (never the secret).
    credential: Option<String>,
    expires: Instant,
    state: State,
}

/// What the pages say about one call.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// A human approved the plan with this digest (the page is spent).
    Approved(String),
    /// Declined or mistyped (the page is spent).
    Refused(String),
    /// A page for this very plan is open and unanswered.
    Waiting(String),
    /// No usable page: make one.
    Nothing,
}

/// Every open approval page of the process.
pub struct BrowserPages {
    pages: Mutex<HashMap<String, Page>>,
    /// Bumped on every answer, so waiting calls look again.
    answered: watch::Sender<u64>,
    served: OnceCell<Served>,
    opener: Opener,
    /// How long a page stays valid.
    pub ttl: Duration,
    /// How long a call waits for an answer.
    pub wait: Duration,
    audit: Option<Arc<AuditLog>>,
}

impl BrowserPages {
    pub fn new(
        opener: Opener,
        ttl: Duration,
        wait: Duration,
        audit: Option<Arc<AuditLog>>,
    ) -> Self {
        BrowserPages {
            pages: Mutex::default(),
            answered: watch::channel(0).0,
            served: OnceCell::new(),
            opener,
            ttl,
            wait,
            audit,
        }
    }

    /// Serve pages on the HTTP transport's listener (`base`: `http://host:port`) instead of a
    /// loopback listener of their own. Called before the first page.
    pub fn serve_on_http_listener(&self, base: String) {
        let _ = self.served.set(Served {
            base,
            behind_bearer: true,
        });
    }

    /// Whether a page can be put before a person without the client's help.
    pub fn can_open(&self) -> bool {
        self.opener.available()
    }

    pub fn open_in_browser(&self, url: &str) -> Result<(), String> {
        self.opener.open(url)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Page>> {
        self.pages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the pages say about the call `key` whose plan now has `digest`. An answered page
    /// is taken (single use); a page for another digest, or expired, is dropped.
    pub fn find(&self, key: &str, digest: &str) -> Found {
        let now = Instant::now();
        let mut pages = self.lock();
        pages.retain(|_, p| p.expires > now);
        let Some(id) = pages
            .iter()
            .find(|(_, p)| p.key == key)
            .map(|(id, _)| id.clone())
        else {
            return Found::Nothing;
        };
        let page = &pages[&id];
        match &page.state {
            State::Open if page.digest == digest => Found::Waiting(id),
            State::Open => {
                // The plan changed after the page opened: that page approves nothing now.
                pages.remove(&id);
                Found::Nothing
            }
            State::Approved => {
                let page = pages.remove(&id).expect("present");
                Found::Approved(page.digest)
            }
            State::Refused(why) => {
                let why = why.clone();
                pages.remove(&id);
                Found::Refused(why)
            }
        }
    }

    /// Make a page for `request` of call `key`; returns its id and full URL.
    pub async fn create(
        self: &Arc<Self>,
        key: &str,
        request: &ApprovalRequest<'_>,
        client: &str,
        credential: Option<&str>,
    ) -> Result<(String, String), String> {
        let served = self
            .served
            .get_or_try_init(|| async {
                listener::start_loopback(self.clone())
                    .await
                    .map(|addr| Served {
                        base: format!("http://{addr}"),
                        behind_bearer: false,
                    })
            })
            .await?;
        let id = secret();
        let page = Page {
            key: key.to_string(),
            digest: request.digest.to_string(),
            token: secret(),
            shown: Shown {
                tool: request.tool,
                target: request.target.to_string(),
                summary: request.summary.to_string(),
                reason: request.reason.to_string(),
                round: request.round,
            },
            client: client.to_string(),
            credential: credential.map(str::to_string),
            expires: Instant::now() + self.ttl,
            state: State::Open,
        };
        let mut pages = self.lock();
        // One page per call: a new plan replaces the old page.
        pages.retain(|_, p| p.key != key);
        if pages.len() >= MAX_OPEN_PAGES {
            return Err(format!(
                "{MAX_OPEN_PAGES} approval pages are already waiting for an answer; answer or let them expire first"
            ));
        }
        pages.insert(id.clone(), page);
        Ok((
            id.clone(),
            format!("{}{}", served.base, listener::path(&id)),
        ))
    }

    /// Wait up to `wait` for page `id` to be answered; `tick` is called every few seconds with
    /// the time waited so far. `None`: still unanswered.
    pub async fn wait_for(
        &self,
        id: &str,
        wait: Duration,
        cancelled: impl std::future::Future<Output = ()>,
        mut tick: impl FnMut(Duration),
    ) -> Option<Found> {
        let start = Instant::now();
        let mut answered = self.answered.subscribe();
        tokio::pin!(cancelled);
        loop {
            {
                let mut pages = self.lock();
                match pages.get(id).map(|p| (p.state.clone(), p.expires)) {
                    None => return Some(Found::Nothing),
                    Some((_, expires)) if expires <= Instant::now() => {
                        pages.remove(id);
                        return Some(Found::Nothing);
                    }
                    Some((State::Open, _)) => {}
                    Some((State::Approved, _)) => {
                        let page = pages.remove(id).expect("present");
                        return Some(Found::Approved(page.digest));
                    }
                    Some((State::Refused(why), _)) => {
                        pages.remove(id);
                        return Some(Found::Refused(why));
                    }
                }
            }
            let waited = start.elapsed();
            if waited >= wait {
                return None;
            }
            let step = (wait - waited).min(Duration::from_secs(5));
            tokio::select! {
                _ = answered.changed() => {}
                () = tokio::time::sleep(step) => tick(start.elapsed()),
                () = &mut cancelled => return None,
            }
        }
    }

    /// Mark page `id` as given up (the client declined the URL elicitation).
    pub fn give_up(&self, id: &str, why: &str) {
        if let Some(page) = self.lock().get_mut(id)
            && matches!(page.state, State::Open)
        {
            page.state = State::Refused(why.to_string());
        }
        self.answered.send_modify(|n| *n += 1);
    }

    /// A post of the page's form: check it and record the answer.
    fn answer(&self, id: &str, form: &listener::FormPost) -> Result<Answered, PageGone> {
        let mut pages = self.lock();
        let page = match pages.get_mut(id) {
            Some(page) if page.expires > Instant::now() && matches!(page.state, State::Open) => {
                page
            }
            _ => return Err(PageGone),
        };
        let token_ok: bool = subtle::ConstantTimeEq::ct_eq(
            form.token.as_deref().unwrap_or("").as_bytes(),
            page.token.as_bytes(),
        )
        .into();
        if !token_ok {
            return Ok(Answered::BadToken);
        }
        let (state, answered) = match form.decision.as_deref() {
            Some("approve") => {
                let typed = form.email.as_deref().unwrap_or("").trim();
                if typed.eq_ignore_ascii_case(&page.shown.target) {
                    (State::Approved, Answered::Approved)
                } else {
                    (
                        State::Refused(format!(
                            "the email typed on the approval page did not match {}",
                            page.shown.target
                        )),
                        Answered::Mistyped,
                    )
                }
            }
            _ => (
                State::Refused("the user declined on the approval page".into()),
                Answered::Declined,
            ),
        };
        page.state = state;
        let served = self.served.get();
        let via = if served.is_some_and(|s| s.behind_bearer) {
            "browser page on the HTTP listener (bearer token)"
        } else {
            "browser page on 127.0.0.1"
        };
        if let Some(audit) = &self.audit {
            // The answer stands even if the trail fails: the change itself is audited (and
            // stopped) by the lifecycle, which writes to the same file.
            let _ = audit.record_approval(&ApprovalRecord {
                tool: page.shown.tool,
                target: &page.shown.target,
                approval: answered.as_str(),
                plan_digest: &page.digest,
                approved_via: via,
                client: &page.client,
                credential: page.credential.as_deref(),
            });
        }
        drop(pages);
        self.answered.send_modify(|n| *n += 1);
        Ok(answered)
    }

    /// The form of page `id`, if it is open.
    fn render(&self, id: &str) -> Option<String> {
        let pages = self.lock();
        let page = pages.get(id)?;
        let now = Instant::now();
        if page.expires <= now || !matches!(page.state, State::Open) {
            return None;
        }
        Some(page::form(
            &page.shown,
            &listener::path(id),
            &page.token,
            (page.expires - now).as_secs(),
        ))
    }

    /// Whether the loopback listener (not the HTTP transport) serves the pages.
    fn on_loopback(&self) -> bool {
        self.served.get().is_none_or(|s| !s.behind_bearer)
    }
}

/// How a form post ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answered {
    Approved,
    Declined,
    Mistyped,
    /// The post did not carry this page's token: ignored, the page stays open.
    BadToken,
}

impl Answered {
    fn as_str(self) -> &'static str {
        match self {
            Answered::Approved => "approved",
            Answered::Declined => "declined",
            Answered::Mistyped => "refused",
            Answered::BadToken => "bad_token",
        }
    }
}

/// The page is used, expired, replaced or never was: all look the same from outside.
#[derive(Debug)]
struct PageGone;

/// 32 random bytes, URL-safe.
fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
