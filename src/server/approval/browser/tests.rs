//! The page registry's rules without a browser: one page per call, bound to a digest, single
//! use, expiring, and a post without the page's token changes nothing.

use std::sync::Arc;
use std::time::Duration;

use super::listener::FormPost;
use super::opener::Opener;
use super::{Answered, BrowserPages, Found};
use crate::access::approval::{ApprovalRequest, Round};

fn request(digest: &str) -> ApprovalRequest<'_> {
    ApprovalRequest {
        tool: "revoke_all_access",
        target: "alice@example.com",
        digest,
        summary: "Revoke all access of alice@example.com (1 action):",
        reason: "removing access is destructive",
        round: Round::First,
    }
}

fn pages(ttl: Duration) -> Arc<BrowserPages> {
    Arc::new(BrowserPages::new(
        Opener::new(Some("true")),
        ttl,
        Duration::from_millis(50),
        None,
    ))
}

fn post(token: Option<&str>, email: &str, decision: &str) -> FormPost {
    FormPost {
        token: token.map(String::from),
        email: Some(email.into()),
        decision: Some(decision.into()),
    }
}

fn token_of(pages: &BrowserPages, id: &str) -> String {
    pages.lock()[id].token.clone()
}

#[tokio::test]
async fn an_approval_is_for_one_digest_and_is_taken_once() {
    let pages = pages(Duration::from_secs(60));
    let (id, url) = pages
        .create("k", &request("d1"), "client", None)
        .await
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with(&id));
    assert_eq!(pages.find("k", "d1"), Found::Waiting(id.clone()));
    assert_eq!(pages.find("other call", "d1"), Found::Nothing);

    let token = token_of(&pages, &id);
    let forged = pages.answer(&id, &post(Some("forged"), "alice@example.com", "approve"));
    assert_eq!(forged.unwrap(), Answered::BadToken);
    assert_eq!(
        pages.find("k", "d1"),
        Found::Waiting(id.clone()),
        "still open"
    );
    let approved = pages.answer(&id, &post(Some(&token), " Alice@Example.com", "approve"));
    assert_eq!(approved.unwrap(), Answered::Approved);
    assert!(
        pages
            .answer(&id, &post(Some(&token), "alice@example.com", "approve"))
            .is_err()
    );
    assert_eq!(pages.find("k", "d2"), Found::Approved("d1".into()));
    assert_eq!(pages.find("k", "d1"), Found::Nothing, "single use");
}

#[tokio::test]
async fn a_page_for_another_plan_or_past_its_time_approves_nothing() {
    let pages = pages(Duration::from_millis(200));
    let (first, _) = pages
        .create("k", &request("d1"), "client", None)
        .await
        .unwrap();
    assert_eq!(pages.find("k", "d2"), Found::Nothing, "the plan changed");
    assert!(pages.render(&first).is_none(), "the stale page is gone");

    let (id, _) = pages
        .create("k", &request("d2"), "client", None)
        .await
        .unwrap();
    let token = token_of(&pages, &id);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        pages
            .answer(&id, &post(Some(&token), "alice@example.com", "approve"))
            .is_err()
    );
    assert_eq!(pages.find("k", "d2"), Found::Nothing);
}

#[tokio::test]
async fn a_mistyped_email_or_a_decline_refuses_the_call() {
    let pages = pages(Duration::from_secs(60));
    let (id, _) = pages
        .create("k", &request("d1"), "client", None)
        .await
        .unwrap();
    let token = token_of(&pages, &id);
    let mistyped = pages.answer(&id, &post(Some(&token), "bob@example.com", "approve"));
    assert_eq!(mistyped.unwrap(), Answered::Mistyped);
    assert!(matches!(pages.find("k", "d1"), Found::Refused(why) if why.contains("did not match")));

    let (id, _) = pages
        .create("k", &request("d1"), "client", None)
        .await
        .unwrap();
    let token = token_of(&pages, &id);
    let declined = pages.answer(&id, &post(Some(&token), "alice@example.com", "decline"));
    assert_eq!(declined.unwrap(), Answered::Declined);
    let waited = pages.wait_for(
        &id,
        Duration::from_millis(50),
        std::future::pending(),
        |_| {},
    );
    assert!(matches!(waited.await, Some(Found::Refused(_))));
}

#[tokio::test]
async fn no_more_than_so_many_pages_wait_at_once() {
    let pages = pages(Duration::from_secs(60));
    for n in 0..super::MAX_OPEN_PAGES {
        pages
            .create(&format!("k{n}"), &request("d"), "c", None)
            .await
            .unwrap();
    }
    assert!(
        pages
            .create("one more", &request("d"), "c", None)
            .await
            .is_err()
    );
    // A new plan for a call that has a page replaces it, within the limit.
    assert!(pages.create("k0", &request("d2"), "c", None).await.is_ok());
}
