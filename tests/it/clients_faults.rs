//! Faults injected by the sandbox, system by system: every one ends in success or in a clear
//! typed error, and a write whose answer was lost is never sent again blindly.

use std::time::{Duration, Instant};

use crate::support::clients::{
    INVITE_ROUTE, USERS_ROUTE, fast_options, refused_url, world, world_with,
};
use serde_json::json;
use tanzu_mcp::access::ports::{
    ClusterRbac, Directory, FailureKind, NewBinding, Subject, System, TmcIam, TmcScope,
};
use tanzu_mcp::clients::{self, ClientOptions};
use tanzu_mcp::sandbox::DataSet;

/// Options whose request timeout (300 ms) a sandbox delay of 1.5 s or more exceeds. Writes are
/// delayed 3 s, so the server has surely not acted yet when the client reads state back.
fn short_timeout() -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_millis(300),
        ..fast_options()
    }
}

const CSP_V2: &str = "/csp/gateway/am/api/v2/";
const CSP_ORGS: &str = "/csp/gateway/am/api/orgs/";

// ---------------------------------------------------------------------------------------------
// CSP

#[tokio::test]
async fn csp_read_survives_two_503s() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world.fault("GET", CSP_V2, 503, 2).await;
    let page = Directory::members_page(world.clients.csp.as_ref(), 0, 10)
        .await
        .expect("the third attempt succeeds");
    assert_eq!(page.members.len(), 10);
    assert_eq!(world.requests(USERS_ROUTE).await, 3);
}

#[tokio::test]
async fn csp_read_waits_out_a_429_with_retry_after() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world
        .fault_spec(
            json!({"method": "GET", "path_prefix": CSP_V2, "status": 429,
                           "count": 1, "retry_after_secs": 1}),
        )
        .await;
    let started = Instant::now();
    Directory::members_page(world.clients.csp.as_ref(), 0, 10)
        .await
        .expect("the retry after Retry-After succeeds");
    // The backoff alone would be at most 50 ms: only honouring Retry-After waits a second.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(world.requests(USERS_ROUTE).await, 2);
}

#[tokio::test]
async fn csp_read_delayed_past_the_timeout_is_sent_again() {
    let world = world_with(DataSet::Demo, short_timeout()).await;
    world.clients.ensure_token().await.expect("token");
    world
        .fault_spec(json!({"method": "GET", "path_prefix": CSP_V2, "status": 0,
                           "count": 1, "delay_ms": 1500}))
        .await;
    Directory::members_page(world.clients.csp.as_ref(), 0, 10)
        .await
        .expect("a read may be repeated");
    assert_eq!(world.requests(USERS_ROUTE).await, 2);
}

#[tokio::test]
async fn csp_read_that_keeps_failing_is_a_typed_unavailable_error() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world.fault("GET", CSP_V2, 503, 10).await;
    let error = Directory::members_page(world.clients.csp.as_ref(), 0, 10)
        .await
        .expect_err("four 503s exhaust the retries");
    assert_eq!(error.system, System::Csp);
    assert_eq!(error.kind, FailureKind::Unavailable);
    assert_eq!(error.status, Some(503));
    assert!(error.to_string().contains("after 4 attempts"), "{error}");
}

#[tokio::test]
async fn csp_invite_whose_answer_is_lost_is_not_sent_again() {
    let world = world_with(DataSet::Demo, short_timeout()).await;
    world.clients.ensure_token().await.expect("token");
    world
        .fault_spec(
            json!({"method": "POST", "path_prefix": CSP_ORGS, "status": 0,
                           "count": 1, "delay_ms": 3000}),
        )
        .await;
    let error = Directory::invite(
        world.clients.csp.as_ref(),
        &["lost.answer@example.com".to_string()],
        "org_member",
    )
    .await
    .expect_err("the server has not acted when the client reads back");
    assert_eq!(error.kind, FailureKind::Unknown, "{error}");
    assert!(error.fix.contains("read the current state"), "{error}");
    assert_eq!(
        world.requests(INVITE_ROUTE).await,
        1,
        "the POST was sent once"
    );
}

#[tokio::test]
async fn csp_invite_refused_with_503_is_sent_again() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world.fault("POST", CSP_ORGS, 503, 2).await;
    Directory::invite(
        world.clients.csp.as_ref(),
        &["retried@example.com".to_string()],
        "org_member",
    )
    .await
    .expect("503 means not acted upon, so the invitation is sent again");
    assert_eq!(world.requests(INVITE_ROUTE).await, 3);
    let invitations = Directory::invitations(world.clients.csp.as_ref())
        .await
        .expect("list");
    let sent: Vec<_> = invitations
        .iter()
        .filter(|i| i.email == "retried@example.com")
        .collect();
    assert_eq!(sent.len(), 1, "exactly one invitation exists");
}

#[tokio::test]
async fn csp_invite_answered_500_is_not_repeated() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world.fault("POST", CSP_ORGS, 500, 1).await;
    let error = Directory::invite(
        world.clients.csp.as_ref(),
        &["maybe@example.com".to_string()],
        "org_member",
    )
    .await
    .expect_err("a 500 on a write is reported");
    assert_eq!(error.status, Some(500));
    assert_eq!(world.requests(INVITE_ROUTE).await, 1);
}

#[tokio::test]
async fn csp_removal_whose_answer_is_lost_is_settled_by_reading_the_members() {
    let world = world_with(DataSet::Demo, short_timeout()).await;
    let csp: &dyn Directory = world.clients.csp.as_ref();
    let bob = csp
        .find_member("bob@example.com")
        .await
        .expect("search")
        .expect("bob");
    world
        .fault_spec(
            json!({"method": "DELETE", "path_prefix": CSP_V2, "status": 0,
                           "count": 1, "delay_ms": 3000}),
        )
        .await;
    let outcome = csp
        .remove_members(std::slice::from_ref(&bob.user_id))
        .await
        .expect("settled by reading, not an error");
    assert!(outcome.succeeded.is_empty());
    assert_eq!(outcome.failed.len(), 1);
    assert!(
        outcome.failed[0].1.contains("answer was lost"),
        "{outcome:?}"
    );
    assert_eq!(
        world
            .requests("DELETE /csp/gateway/am/api/v2/orgs/{org_id}/users")
            .await,
        1,
        "the removal was sent once"
    );
}

#[tokio::test]
async fn csp_connection_refused_names_the_setting_to_fix() {
    let world = world(DataSet::Demo).await;
    let mut config = world.config.clone();
    config.csp.url = refused_url();
    let clients = clients::build(&config, fast_options())
        .await
        .expect("build");
    let error = Directory::members_page(clients.csp.as_ref(), 0, 10)
        .await
        .expect_err("nothing listens there");
    assert_eq!(error.kind, FailureKind::Unavailable);
    assert!(error.message.contains("cannot connect"), "{error}");
    assert!(error.fix.contains("csp.url"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// TMC

const TMC: &str = "/v1alpha1/";
const CLUSTERS_ROUTE: &str = "GET /v1alpha1/clusters";

fn dev_cluster_2() -> TmcScope {
    TmcScope::Cluster {
        name: "dev-cluster-2".into(),
        management_cluster: "attached".into(),
        provisioner: "attached".into(),
    }
}

#[tokio::test]
async fn tmc_read_survives_two_503s() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world.fault("GET", TMC, 503, 2).await;
    let clusters = TmcIam::clusters(world.clients.tmc.as_ref())
        .await
        .expect("the third attempt succeeds");
    assert_eq!(clusters.len(), 3);
    // Two pages of two: the first page took three attempts.
    assert_eq!(world.requests(CLUSTERS_ROUTE).await, 4);
}

#[tokio::test]
async fn tmc_read_waits_out_a_429_with_retry_after() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world
        .fault_spec(json!({"method": "GET", "path_prefix": TMC, "status": 429,
                           "count": 1, "retry_after_secs": 1}))
        .await;
    let started = Instant::now();
    TmcIam::policy(world.clients.tmc.as_ref(), &TmcScope::Organization)
        .await
        .expect("the retry after Retry-After succeeds");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(world.requests_matching("GET", "organization:iam").await, 2);
}

#[tokio::test]
async fn tmc_read_delayed_past_the_timeout_is_sent_again() {
    let world = world_with(DataSet::Demo, short_timeout()).await;
    world.clients.ensure_token().await.expect("token");
    world
        .fault_spec(json!({"method": "GET", "path_prefix": TMC, "status": 0,
                           "count": 1, "delay_ms": 1500}))
        .await;
    TmcIam::policy(world.clients.tmc.as_ref(), &TmcScope::Organization)
        .await
        .expect("a read may be repeated");
    assert_eq!(world.requests_matching("GET", "organization:iam").await, 2);
}

#[tokio::test]
async fn tmc_patch_whose_answer_is_lost_is_not_sent_again() {
    let world = world_with(DataSet::Demo, short_timeout()).await;
    world.clients.ensure_token().await.expect("token");
    world
        .fault_spec(json!({"method": "PATCH", "path_prefix": TMC, "status": 0,
                           "count": 1, "delay_ms": 3000}))
        .await;
    let error = TmcIam::add_binding(
        world.clients.tmc.as_ref(),
        &dev_cluster_2(),
        "cluster.view",
        &Subject::user("bob@example.com"),
    )
    .await
    .expect_err("the policy does not show the change when the client reads back");
    assert_eq!(error.system, System::Tmc);
    assert_eq!(error.kind, FailureKind::Unknown, "{error}");
    assert_eq!(world.requests_matching("PATCH", ":iam").await, 1);
    assert_eq!(
        world.requests_matching("GET", "clusters:iam").await,
        1,
        "the client read the policy to settle the outcome"
    );
}

#[tokio::test]
async fn tmc_patch_refused_with_503_is_sent_again() {
    let world = world(DataSet::Demo).await;
    world.clients.ensure_token().await.expect("token");
    world.fault("PATCH", TMC, 503, 2).await;
    TmcIam::add_binding(
        world.clients.tmc.as_ref(),
        &dev_cluster_2(),
        "cluster.view",
        &Subject::user("bob@example.com"),
    )
    .await
    .expect("503 means not applied, so the delta is sent again");
    assert_eq!(world.requests_matching("PATCH", ":iam").await, 3);
}

#[tokio::test]
async fn tmc_connection_refused_names_the_setting_to_fix() {
    let world = world(DataSet::Demo).await;
    let mut config = world.config.clone();
    config.tmc.url = refused_url();
    let clients = clients::build(&config, fast_options())
        .await
        .expect("build");
    let error = TmcIam::clusters(clients.tmc.as_ref())
        .await
        .expect_err("nothing listens there");
    assert_eq!(error.system, System::Tmc);
    assert_eq!(error.kind, FailureKind::Unavailable);
    assert!(error.fix.contains("tmc.url"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

const TAP_DEV: &str = "/k8s/tap-dev/";

#[tokio::test]
async fn k8s_read_survives_two_503s() {
    let world = world(DataSet::Demo).await;
    world.fault("GET", TAP_DEV, 503, 2).await;
    let bindings = ClusterRbac::bindings(world.clients.rbac.as_ref(), "tap-dev")
        .await
        .expect("the third attempt succeeds");
    assert!(bindings.iter().any(|b| b.name == "app-editors"));
    assert_eq!(world.stats().await["faults_served"], 2);
}

#[tokio::test]
async fn k8s_read_waits_out_a_429_with_retry_after() {
    let world = world(DataSet::Demo).await;
    world
        .fault_spec(
            json!({"method": "GET", "path_prefix": TAP_DEV, "status": 429,
                           "count": 1, "retry_after_secs": 1}),
        )
        .await;
    let started = Instant::now();
    ClusterRbac::cluster_roles(world.clients.rbac.as_ref(), "tap-dev")
        .await
        .expect("retried after the 429");
    // kube drops the headers of error answers; the client's layer keeps Retry-After.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(world.stats().await["faults_served"], 1);
}

#[tokio::test]
async fn k8s_read_delayed_past_the_timeout_is_sent_again() {
    let world = world_with(DataSet::Demo, short_timeout()).await;
    world
        .fault_spec(json!({"method": "GET", "path_prefix": TAP_DEV, "status": 0,
                           "count": 1, "delay_ms": 1500}))
        .await;
    let namespaces = ClusterRbac::namespaces(world.clients.rbac.as_ref(), "tap-dev")
        .await
        .expect("a read may be repeated");
    assert_eq!(namespaces.len(), 4);
    // Two pages of two, and the first page sent twice.
    assert_eq!(world.requests_matching("GET", "namespaces").await, 3);
}

#[tokio::test]
async fn k8s_create_whose_answer_is_lost_is_not_sent_again() {
    let world = world_with(DataSet::Demo, short_timeout()).await;
    world
        .fault_spec(
            json!({"method": "POST", "path_prefix": TAP_DEV, "status": 0,
                           "count": 1, "delay_ms": 3000}),
        )
        .await;
    let error = ClusterRbac::create_binding(
        world.clients.rbac.as_ref(),
        NewBinding {
            cluster: "tap-dev",
            namespace: None,
            name: "lost-answer",
            role: "view",
            subjects: &[Subject::user("bob@example.com")],
        },
    )
    .await
    .expect_err("the binding does not exist yet when the client reads back");
    assert_eq!(error.system, System::Kubernetes);
    assert_eq!(error.kind, FailureKind::Unknown, "{error}");
    assert_eq!(
        world.requests_matching("POST", "clusterrolebindings").await,
        1
    );
}

#[tokio::test]
async fn k8s_connection_refused_is_a_clear_unavailable_error() {
    let world = world(DataSet::Demo).await;
    let kubeconfig = world.dir.path().join("kubeconfig");
    let text = std::fs::read_to_string(&kubeconfig).expect("read kubeconfig");
    let refused = refused_url().replace("http://", "https://");
    let live = format!("https://{}", world.sandbox.addr());
    std::fs::write(&kubeconfig, text.replace(&live, &refused)).expect("write kubeconfig");
    let clients = clients::build(&world.config, fast_options())
        .await
        .expect("build");
    let error = ClusterRbac::bindings(clients.rbac.as_ref(), "tap-dev")
        .await
        .expect_err("nothing listens there");
    assert_eq!(error.system, System::Kubernetes);
    assert_eq!(error.kind, FailureKind::Unavailable);
    assert!(error.message.contains("cannot reach"), "{error}");
    assert!(error.fix.contains("kubeconfig context"), "{error}");
}
