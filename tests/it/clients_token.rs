//! The CSP token source against the sandbox: one exchange shared by concurrent callers,
//! refresh in the middle of a listing, and a dead API token reported once, with the fix.

use std::collections::HashSet;
use std::sync::Arc;

use crate::support::clients::{EXCHANGE_ROUTE, USERS_ROUTE, world};
use crate::support::common::ORG_ID;
use serde_json::json;
use tanzu_mcp::access::ports::{Directory, FailureKind};
use tanzu_mcp::clients;
use tanzu_mcp::sandbox::DataSet;
use tanzu_mcp::secret::Secret;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_meeting_an_expired_token_cause_one_exchange() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("first exchange");
    assert_eq!(world.token_exchanges().await, 1);

    world.expire_tokens().await;
    // Hold each of the 50 first requests a moment, so that all of them are on the wire with
    // the expired token before any answer (and any refresh) comes back.
    world
        .fault_spec(
            json!({"method": "GET", "path_prefix": "/csp/gateway/am/api/v2/",
                           "status": 0, "delay_ms": 300, "count": 50}),
        )
        .await;
    let directory: Arc<dyn Directory> = world.clients.csp.clone();
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let directory = directory.clone();
            tokio::spawn(async move { directory.members_page(i, 1).await })
        })
        .collect();
    for call in calls {
        let page = call
            .await
            .expect("task")
            .expect("call succeeds after refresh");
        assert_eq!(page.members.len(), 1);
    }

    assert_eq!(
        world.requests(USERS_ROUTE).await,
        100,
        "each call met the expired token (401) once and succeeded once"
    );
    assert_eq!(
        world.token_exchanges().await,
        2,
        "50 callers meeting one expired token share a single exchange"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_first_calls_share_one_exchange() {
    let world = world(DataSet::Demo).await;
    let directory: Arc<dyn Directory> = world.clients.csp.clone();
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let directory = directory.clone();
            tokio::spawn(async move { directory.members_page(0, 1).await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("call succeeds");
    }
    assert_eq!(world.token_exchanges().await, 1);
}

#[tokio::test]
async fn token_expiry_mid_listing_does_not_break_it() {
    let world = world(DataSet::Demo).await;
    let mut pager = world.clients.csp.pager(5);
    let mut ids = Vec::new();
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.expect("every page arrives") {
        pages += 1;
        ids.extend(page.members.into_iter().map(|m| m.user_id));
        if pages == 25 {
            world.expire_tokens().await;
        }
    }

    assert!(pages >= 50, "a listing of at least 50 pages, got {pages}");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no member twice");
    let total = world
        .clients
        .csp
        .members_page(0, 1)
        .await
        .expect("first page")
        .total;
    assert_eq!(ids.len(), total, "every member once");
    assert_eq!(world.token_exchanges().await, 2, "one refresh mid-listing");
}

#[tokio::test]
async fn find_member_walks_pages_and_stops_at_the_answer() {
    let world = world(DataSet::Demo).await;
    let directory: &dyn Directory = world.clients.csp.as_ref();
    // Without CSP's user search the walk is the fallback; this pins the walk.
    world
        .fault(
            "GET",
            &format!("/csp/gateway/am/api/orgs/{ORG_ID}/users/search"),
            404,
            10,
        )
        .await;
    let alice = directory
        .find_member("ALICE@example.com")
        .await
        .expect("search")
        .expect("alice is a member");
    assert_eq!(alice.email, "alice@example.com");
    let pages_for_alice = world.requests(USERS_ROUTE).await;

    assert_eq!(
        directory
            .find_member("nobody@example.com")
            .await
            .expect("search"),
        None
    );
    let pages_for_nobody = world.requests(USERS_ROUTE).await - pages_for_alice;
    assert!(
        pages_for_nobody >= 2,
        "an absent member means reading every page"
    );
    assert!(pages_for_alice <= pages_for_nobody);
}

#[tokio::test]
async fn a_refused_api_token_is_one_clear_error_not_a_retry_loop() {
    let world = world(DataSet::Demo).await;
    let mut config = world.config.clone();
    config.csp.api_token = Secret::new("not-the-sandbox-token");
    let clients = clients::build(&config, crate::support::clients::fast_options())
        .await
        .expect("build");

    let error = clients
        .csp
        .members_page(0, 10)
        .await
        .map_err(|e| e.into_backend("list members"))
        .expect_err("a wrong token cannot list");
    assert_eq!(error.kind, FailureKind::Unauthenticated);
    assert!(error.fix.contains("create a new API token"), "{error}");
    assert!(!error.to_string().contains("not-the-sandbox-token"));
    assert_eq!(
        world.requests(EXCHANGE_ROUTE).await,
        1,
        "the exchange is not retried"
    );
    assert_eq!(world.requests(USERS_ROUTE).await, 0);
}
