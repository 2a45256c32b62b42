//! The control API over HTTP: injected faults (status, Retry-After, delay, method and path
//! matching), statistics, and what reset restores.

use crate::support::common;
use crate::support::common::{ORG_ID, control, get_json, http, start_sandbox, token_for};
use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

async fn stats(base: &str) -> Value {
    http()
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_armed_fault_fails_the_next_matching_requests_then_stops() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, _) = control(
        &base,
        "faults",
        &json!({"method": "GET", "path_prefix": "/v1alpha1/", "status": 503, "count": 2,
                "retry_after_secs": 1, "delay_ms": 0}),
    )
    .await;
    assert_eq!(status, 201);

    let url = format!("{base}/v1alpha1/clusters");
    for _ in 0..2 {
        let response = http().get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["code"].is_number() && body["message"].is_string(),
            "TMC-shaped: {body}"
        );
    }
    assert_eq!(get_json(&url, &token).await.0, 200, "the fault is used up");
    assert_eq!(stats(&base).await["faults_served"], 2);
}

#[tokio::test]
async fn faults_match_method_and_path_prefix_only() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    control(
        &base,
        "faults",
        &json!({"method": "PATCH", "path_prefix": "/v1alpha1/clusters:iam/", "status": 429, "count": 1}),
    )
    .await;
    // A GET of the same path and a PATCH elsewhere pass.
    let (status, _) = get_json(
        &format!("{base}/v1alpha1/clusters:iam/dev-cluster-1"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let delta = json!({"bindingDeltaList": [{"op": "ADD", "role": "workspace.view",
                        "subject": {"name": "auditors", "kind": "GROUP"}}]});
    let (status, _) = common::send_json(
        reqwest::Method::PATCH,
        &format!("{base}/v1alpha1/workspaces:iam/team-a"),
        &token,
        &delta,
    )
    .await;
    assert_eq!(status, 200);
    let cluster_delta = json!({"bindingDeltaList": [{"op": "ADD", "role": "cluster.view",
                                "subject": {"name": "auditors", "kind": "GROUP"}}]});
    let (status, _) = common::send_json(
        reqwest::Method::PATCH,
        &format!("{base}/v1alpha1/clusters:iam/dev-cluster-1"),
        &token,
        &cluster_delta,
    )
    .await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn faults_speak_the_format_of_the_system_they_hit() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    control(
        &base,
        "faults",
        &json!({"path_prefix": "/k8s/", "status": 500}),
    )
    .await;
    let (status, body) = get_json(
        &format!("{base}/k8s/tap-dev/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
        sandbox.k8s_token(),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["code"], 500);

    control(
        &base,
        "faults",
        &json!({"path_prefix": "/csp/", "status": 502}),
    )
    .await;
    let (status, body) = get_json(
        &format!("{base}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users"),
        &token,
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(body["statusCode"], 502);
}

#[tokio::test]
async fn a_token_exchange_can_fail_too() {
    let (sandbox, base) = start_sandbox(DataSet::Empty).await;
    control(
        &base,
        "faults",
        &json!({"method": "POST", "path_prefix": "/csp/gateway/am/api/auth/", "status": 503}),
    )
    .await;
    let response = http()
        .post(format!(
            "{base}/csp/gateway/am/api/auth/api-tokens/authorize"
        ))
        .form(&[("api_token", sandbox.api_token())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        stats(&base).await["token_exchanges"],
        0,
        "a failed exchange is not counted"
    );
    token_for(&sandbox).await;
    assert_eq!(stats(&base).await["token_exchanges"], 1);
}

#[tokio::test]
async fn status_zero_only_delays_and_then_serves() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    control(
        &base,
        "faults",
        &json!({"path_prefix": "/v1alpha1/workspaces", "status": 0, "delay_ms": 20, "count": 1}),
    )
    .await;
    let (status, body) = get_json(
        &format!("{base}/v1alpha1/workspaces?includeTotalCount=true"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["totalCount"], "3");
    assert_eq!(stats(&base).await["faults_served"], 1);
}

#[tokio::test]
async fn the_control_api_is_never_faulted_and_faults_can_be_disarmed() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    control(
        &base,
        "faults",
        &json!({"path_prefix": "/", "status": 500, "count": 100}),
    )
    .await;
    assert!(stats(&base).await.is_object(), "stats stays reachable");
    let disarm = http()
        .delete(format!("{base}/_sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(disarm.status(), 204);
    assert_eq!(
        get_json(&format!("{base}/v1alpha1/clusters"), &token)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn reset_disarms_faults_and_restores_bindings() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let crb = format!(
        "{base}/k8s/tap-prod/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/legacy-admins"
    );
    let deleted = http()
        .delete(&crb)
        .bearer_auth(sandbox.k8s_token())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    control(
        &base,
        "faults",
        &json!({"path_prefix": "/v1alpha1/", "status": 503, "count": 5}),
    )
    .await;

    let (status, _) = control(&base, "reset", &json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(get_json(&crb, sandbox.k8s_token()).await.0, 200);
    assert_eq!(
        get_json(&format!("{base}/v1alpha1/clusters"), &token)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn stats_count_requests_per_route() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    for page in 0..3 {
        let url = format!(
            "{base}/csp/gateway/am/api/v2/orgs/{ORG_ID}/users?pageStart={}&pageLimit=100",
            page * 100 + 1
        );
        assert_eq!(get_json(&url, &token).await.0, 200);
    }
    get_json(
        &format!("{base}/v1alpha1/clusters:iam/dev-cluster-1"),
        &token,
    )
    .await;
    get_json(&format!("{base}/nowhere"), &token).await;
    let stats = stats(&base).await;
    let requests = &stats["requests"];
    assert_eq!(
        requests["GET /csp/gateway/am/api/v2/orgs/{org_id}/users"], 3,
        "{stats}"
    );
    assert_eq!(requests["GET /v1alpha1/clusters:iam/{name}"], 1);
    assert_eq!(
        requests["POST /csp/gateway/am/api/auth/api-tokens/authorize"],
        1
    );
    assert_eq!(requests["GET (unmatched)"], 1);
    assert_eq!(stats["token_exchanges"], 1);
}

#[tokio::test]
async fn bad_control_requests_are_400_and_unknown_invitees_404() {
    let (_sandbox, base) = start_sandbox(DataSet::Demo).await;
    assert_eq!(
        control(&base, "faults", &json!({"status": 777})).await.0,
        400
    );
    assert_eq!(
        control(&base, "faults", &json!({"path_prefix": "/"}))
            .await
            .0,
        400
    );
    assert_eq!(
        control(&base, "invitations/accept", &json!({})).await.0,
        400
    );
    let (status, body) = control(
        &base,
        "invitations/accept",
        &json!({"email": "nobody@example.com"}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nobody@example.com")
    );
}

#[tokio::test]
async fn unknown_paths_answer_in_each_systems_format() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let token = token_for(&sandbox).await;
    let (status, body) = get_json(
        &format!("{base}/k8s/tap-dev/apis/apps/v1/deployments"),
        &token,
    )
    .await;
    assert_eq!((status, body["kind"].clone()), (404, json!("Status")));
    let (status, body) = get_json(&format!("{base}/csp/gateway/am/api/nothing"), &token).await;
    assert_eq!((status, body["statusCode"].clone()), (404, json!(404)));
    let (status, body) = get_json(&format!("{base}/v1alpha1/nothing/here"), &token).await;
    assert_eq!((status, body["code"].clone()), (404, json!(5)));
}
