//! Deciding one call's approval through a browser page: find the call's page (answered, open,
//! or none), else make one and put it before the person (URL-mode elicitation when the client
//! offers it, else the browser opener), then wait a while for the answer, with progress.

use std::sync::Arc;
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{ElicitationAction, ProgressNotificationParam};
use rmcp::service::{ElicitationMode, RequestContext};

use super::{BrowserPages, Found};
use crate::access::approval::{ApprovalRequest, Decision};
use crate::server::approval::Pending;

/// Whether the client can show a URL to its user (URL-mode elicitation, 2025-11-25), over a
/// protocol where the server may still send it requests.
pub fn client_shows_urls(ctx: &RequestContext<RoleServer>, input_required_protocol: bool) -> bool {
    !input_required_protocol
        && ctx
            .peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Url)
}

/// The browser's decision for call `key` (its tool and arguments).
pub async fn decide(
    pages: &Arc<BrowserPages>,
    ctx: &RequestContext<RoleServer>,
    key: &str,
    client: &str,
    shows_urls: bool,
    request: &ApprovalRequest<'_>,
) -> Decision<Pending> {
    let id = match pages.find(key, request.digest) {
        // Given before the plan at hand was made: `apply` compares digests.
        Found::Approved(digest) => {
            return Decision::Approved {
                digest,
                while_waiting: false,
            };
        }
        Found::Refused(why) => return Decision::Refused(why),
        // The page is already before the person: do not open it again.
        Found::Waiting(id) => id,
        Found::Nothing => {
            match put_before_person(pages, ctx, key, client, shows_urls, request).await {
                Ok(id) => id,
                Err(why) => return Decision::CannotAsk(why),
            }
        }
    };
    let wait = pages.wait;
    let tick = progress_ticker(ctx, wait);
    match pages.wait_for(&id, wait, ctx.ct.cancelled(), tick).await {
        Some(Found::Approved(digest)) => Decision::Approved {
            digest,
            while_waiting: true,
        },
        Some(Found::Refused(why)) => Decision::Refused(why),
        Some(_) => Decision::Refused(
            "the approval page expired or was replaced before it was answered; call again for a new page"
                .into(),
        ),
        None => Decision::Pending(Pending::Browser),
    }
}

async fn put_before_person(
    pages: &Arc<BrowserPages>,
    ctx: &RequestContext<RoleServer>,
    key: &str,
    client: &str,
    shows_urls: bool,
    request: &ApprovalRequest<'_>,
) -> Result<String, String> {
    if !shows_urls && !pages.can_open() {
        return Err("this MCP client cannot ask its user (no elicitation support), and no browser can be opened here (no display; pass --approval-browser CMD)".into());
    }
    let (id, url) = pages
        .create(
            key,
            request,
            client,
            crate::server::transport::credential_label(&ctx.extensions).as_deref(),
        )
        .await?;
    if shows_urls {
        ask_by_url(pages.clone(), ctx, &id, url, request);
    } else {
        pages.open_in_browser(&url)?;
    }
    tracing::info!(
        tool = request.tool,
        by_client = shows_urls,
        "approval requested on a browser page"
    );
    Ok(id)
}

/// Hand the page's address to the client (URL-mode elicitation): it shows it to the person, not
/// to the model. The page's answer decides; the client's answer only tells us the person gave up.
fn ask_by_url(
    pages: Arc<BrowserPages>,
    ctx: &RequestContext<RoleServer>,
    id: &str,
    url: String,
    request: &ApprovalRequest<'_>,
) {
    let Ok(url) = url::Url::parse(&url) else {
        return;
    };
    let peer = ctx.peer.clone();
    let id = id.to_string();
    let message = format!(
        "Approve or decline this {} plan for {} on the page at this address (it opens in your browser; nothing changes until you approve there).",
        request.tool, request.target
    );
    // Not the page's secret: the elicitation id is seen by the client's logs and UI.
    let elicitation_id = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        match peer.elicit_url(message, url, elicitation_id).await {
            Ok(ElicitationAction::Accept) => {}
            Ok(_) => pages.give_up(&id, "the user declined in the client"),
            Err(error) => tracing::warn!(%error, "URL-mode elicitation failed"),
        }
    });
}

/// Progress while waiting, when the request asked for it: values below 1, so the progress of
/// the actions that follow (1, 2, ...) still increases.
fn progress_ticker(ctx: &RequestContext<RoleServer>, wait: Duration) -> impl FnMut(Duration) {
    let token = ctx.meta.get_progress_token();
    let peer = ctx.peer.clone();
    move |waited: Duration| {
        let Some(token) = token.clone() else {
            return;
        };
        let fraction = waited.as_secs_f64() / (wait.as_secs_f64() + 1.0);
        let note = ProgressNotificationParam::new(token, fraction.min(0.99)).with_message(format!(
            "waiting for approval in the browser ({} s of {} s)",
            waited.as_secs(),
            wait.as_secs()
        ));
        let peer = peer.clone();
        tokio::spawn(async move {
            let _ = peer.notify_progress(note).await;
        });
    }
}
