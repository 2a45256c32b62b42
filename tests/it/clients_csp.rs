//! The CSP directory against the sandbox: invitations (create, list, revoke), member removal
//! in batches with per-id results, groups, and paging through 50 pages of a large org.

use crate::support::clients::{fast_options, world, world_with};
use tanzu_mcp::access::ports::{Directory, InvitationStatus};
use tanzu_mcp::sandbox::DataSet;

const REMOVE_ROUTE: &str = "DELETE /csp/gateway/am/api/v2/orgs/{org_id}/users";

#[tokio::test]
async fn invitations_are_created_listed_and_revoked() {
    let world = world(DataSet::Demo).await;
    let csp: &dyn Directory = world.clients.csp.as_ref();

    let before = csp.invitations().await.expect("list");
    let carol = before
        .iter()
        .find(|i| i.email == "carol@example.com")
        .expect("carol is invited");
    assert_eq!(carol.status, InvitationStatus::Available);
    assert!(
        before
            .iter()
            .any(|i| i.email == "mallory@example.com" && i.status == InvitationStatus::Redeemed)
    );

    csp.invite(
        &["frank@example.com".into(), "grace@example.com".into()],
        "org_member",
    )
    .await
    .expect("invite two");
    let after = csp.invitations().await.expect("list");
    let frank = after
        .iter()
        .find(|i| i.email == "frank@example.com")
        .expect("frank is invited");
    assert_eq!(frank.status, InvitationStatus::Available);
    assert_eq!(frank.org_roles, ["org_member"]);

    csp.revoke_invitation(&frank.id).await.expect("revoke");
    let revoked = csp.invitations().await.expect("list");
    let frank = revoked
        .iter()
        .find(|i| i.id == frank.id)
        .expect("still listed");
    assert_eq!(frank.status, InvitationStatus::Revoked);
}

#[tokio::test]
async fn members_are_removed_in_batches_of_twenty_with_per_id_results() {
    let world = world(DataSet::Demo).await;
    let csp: &dyn Directory = world.clients.csp.as_ref();
    let page = csp.members_page(10, 45).await.expect("members");
    let ids: Vec<String> = page.members.iter().map(|m| m.user_id.clone()).collect();
    assert_eq!(ids.len(), 45);

    let outcome = csp.remove_members(&ids).await.expect("remove");
    assert_eq!(outcome.succeeded, ids);
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(world.requests(REMOVE_ROUTE).await, 3, "20 + 20 + 5");
    let total = csp.members_page(0, 1).await.expect("count").total;
    assert_eq!(total, 262 - 45);
}

#[tokio::test]
async fn removing_the_last_owner_fails_that_batch_only() {
    let world = world(DataSet::Demo).await;
    let csp: &dyn Directory = world.clients.csp.as_ref();
    let owner = csp
        .find_member("owner@example.com")
        .await
        .expect("search")
        .expect("the owner");
    let bob = csp
        .find_member("bob@example.com")
        .await
        .expect("search")
        .expect("bob");
    let mut ids = vec![owner.user_id.clone()];
    let others = csp.members_page(100, 20).await.expect("members");
    ids.extend(others.members.iter().map(|m| m.user_id.clone()).take(19));
    ids.push(bob.user_id.clone());

    let outcome = csp
        .remove_members(&ids)
        .await
        .expect("a partial result, not an error");
    let failed: Vec<&str> = outcome.failed.iter().map(|(id, _)| id.as_str()).collect();
    assert!(failed.contains(&owner.user_id.as_str()), "{outcome:?}");
    assert_eq!(
        outcome.succeeded,
        std::slice::from_ref(&bob.user_id),
        "the second batch went through"
    );
    assert!(
        outcome.failed.iter().all(|(_, reason)| !reason.is_empty()),
        "every failure says why"
    );
    assert!(
        csp.find_member("owner@example.com")
            .await
            .expect("search")
            .is_some()
    );
}

#[tokio::test]
async fn groups_are_listed() {
    let world = world(DataSet::Demo).await;
    let groups = Directory::groups(world.clients.csp.as_ref())
        .await
        .expect("groups");
    let mut names: Vec<String> = groups.into_iter().map(|g| g.display_name).collect();
    names.sort();
    assert_eq!(names, ["Platform-Admins", "auditors", "tap-developers"]);
}

#[tokio::test]
async fn a_large_org_is_read_in_fifty_pages_across_a_token_expiry() {
    let world = world_with(DataSet::Large, fast_options()).await;
    let mut pager = world.clients.csp.pager(200);
    let mut count = 0;
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.expect("every page") {
        pages += 1;
        count += page.members.len();
        if pages == 25 {
            world.expire_tokens().await;
        }
    }
    assert_eq!((pages, count), (50, 10_000));
    assert_eq!(world.token_exchanges().await, 2);
}
