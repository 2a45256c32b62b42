//! The real binary against a sandbox that fails on purpose: each read the tools make, under
//! 500, 502, 503, 429 with Retry-After, a slow answer and an expired token, either succeeds
//! after retries or says which system failed; and `revoke_all_access` interrupted by a failing
//! write to any system, then run again once it recovers, converges (checked in the sandbox).

use serde_json::{Value, json};
use tanzu_mcp::sandbox::DataSet;

use crate::support::common;
use crate::support::mcp::{Protocol, TestClient, approve, connect, text};

const ALICE: &str = "alice@example.com";
const CSP: &str = "/csp/gateway/am/api/";
const TMC: &str = "/v1alpha1/";
const K8S: &str = "/k8s/";

/// The faults of the matrix, as `POST /_sandbox/faults` bodies for `method` on `prefix`.
fn faults(method: &str, prefix: &str) -> Vec<(&'static str, Value)> {
    let fault = |status: u16, retry_after: u64, delay_ms: u64| {
        json!({"method": method, "path_prefix": prefix, "status": status, "count": 1,
               "retry_after_secs": retry_after, "delay_ms": delay_ms})
    };
    vec![
        ("500", fault(500, 0, 0)),
        ("502", fault(502, 0, 0)),
        ("503", fault(503, 0, 0)),
        ("429 Retry-After 1", fault(429, 1, 0)),
        ("slow answer", fault(0, 0, 300)),
    ]
}

async fn faults_served(base: &str) -> u64 {
    let stats: Value = common::http()
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["faults_served"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_read_survives_each_fault_or_names_the_system_that_failed() {
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (_dir, toml) = common::write_config(&sandbox);
    let server = connect(&toml, &[], TestClient::new(None), Protocol::Handshake).await;
    let reads = [
        ("list_members", json!({"limit": 5}), CSP),
        ("get_user_access", json!({"email": ALICE}), CSP),
        ("get_user_access", json!({"email": ALICE}), TMC),
        ("get_user_access", json!({"email": ALICE}), K8S),
    ];
    let mut tried = 0;
    for (tool, args, prefix) in &reads {
        let mut cases = faults("GET", prefix);
        cases.push(("expired token", Value::Null));
        for (kind, fault) in cases {
            if fault.is_null() {
                let (status, _) = common::control(&base, "tokens/expire", &json!({})).await;
                assert!((200..300).contains(&status));
            } else {
                let (status, _) = common::control(&base, "faults", &fault).await;
                assert!((200..300).contains(&status), "{fault}");
            }
            let result = server.call(tool, args.clone()).await;
            tried += 1;
            if result.is_error == Some(true) {
                let message = text(&result);
                assert!(
                    ["CSP", "TMC", "Kubernetes"]
                        .iter()
                        .any(|s| message.contains(s)),
                    "{tool} under {kind} on {prefix}: the error names no system: {message}"
                );
            }
            if !fault.is_null() {
                // A call may not reach the faulty prefix (cached reads): clear what is left.
                common::http()
                    .delete(format!("{base}/_sandbox/faults"))
                    .send()
                    .await
                    .unwrap();
            }
            assert_ne!(
                result.is_error,
                Some(true),
                "{tool} under {kind} on {prefix} failed: {}",
                text(&result)
            );
        }
    }
    assert_eq!(tried, reads.len() * 6);
    assert!(faults_served(&base).await > 0, "the faults were served");
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interrupted_revoke_run_again_converges() {
    let steps: [(&str, &[&str]); 3] = [
        (TMC, &["POST", "PATCH", "PUT"]),
        (K8S, &["PUT", "PATCH", "DELETE"]),
        (CSP, &["DELETE", "PATCH"]),
    ];
    for (prefix, methods) in steps {
        let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
        let (_dir, toml) = common::write_config(&sandbox);
        let server = connect(
            &toml,
            &[],
            TestClient::new(Some(approve(ALICE))),
            Protocol::Handshake,
        )
        .await;
        for method in methods {
            let fault =
                json!({"method": method, "path_prefix": prefix, "status": 503, "count": 1000});
            let (status, _) = common::control(&base, "faults", &fault).await;
            assert!((200..300).contains(&status));
        }
        let first = server
            .call("revoke_all_access", json!({"email": ALICE}))
            .await;
        let first = first.structured_content.unwrap_or(Value::Null);
        assert_ne!(
            first["status"], "done",
            "writes to {prefix} fail: {first:#}"
        );
        common::http()
            .delete(format!("{base}/_sandbox/faults"))
            .send()
            .await
            .unwrap();
        let again = server
            .ok("revoke_all_access", json!({"email": ALICE}))
            .await;
        assert_eq!(
            again["status"], "done",
            "after {prefix} recovered: {again:#}"
        );
        let access = server.ok("get_user_access", json!({"email": ALICE})).await;
        assert!(access["membership"].is_null(), "{access:#}");
        assert_eq!(access["tmc"], json!([]), "{access:#}");
        assert_eq!(access["tap"], json!([]), "{access:#}");
        server.close().await;
    }
}
