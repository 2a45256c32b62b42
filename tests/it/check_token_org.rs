//! `check` reads which org the API token belongs to (`POST .../api-tokens/details`, issue 10):
//! it shows it, uses it when `csp.org_id` is left out, and refuses a configured org that is not
//! the token's with the fix.

use crate::api_shapes::{assert_same_shape, fixture};
use crate::support::common::{ORG_ID, http, start_sandbox};
use serde_json::json;
use tanzu_mcp::access::ports::Directory;
use tanzu_mcp::clients::{self, check, check::CheckStatus};
use tanzu_mcp::config::Config;
use tanzu_mcp::sandbox::DataSet;

fn without_org_id(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("org_id"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn check_shows_the_tokens_org_and_takes_it_when_org_id_is_left_out() {
    let (sandbox, _base) = start_sandbox(DataSet::Demo).await;
    let dir = tempfile::tempdir().expect("dir");
    let toml = sandbox.write_config(dir.path()).expect("write");
    let text = std::fs::read_to_string(&toml).expect("read");
    assert!(text.contains("org_id"), "{text}");
    std::fs::write(&toml, without_org_id(&text)).expect("write");

    let report = check::run_path(Some(&toml)).await;
    assert!(report.ok(), "{report}");
    let org = report
        .lines
        .iter()
        .find(|l| l.name == "API token org")
        .expect("the token's org is a check");
    assert!(
        org.detail.contains(ORG_ID) && org.detail.contains("used as csp.org_id"),
        "{report}"
    );

    // The clients work without csp.org_id too: they take the token's org.
    let config = Config::load(Some(&toml)).expect("loads without org_id");
    assert_eq!(config.csp.org_id, None);
    let built = clients::build(&config, clients::ClientOptions::default())
        .await
        .expect("build");
    let csp: &dyn Directory = built.csp.as_ref();
    assert!(
        csp.find_member("alice@example.com")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_csp_org_id_that_is_not_the_tokens_org_is_refused_with_the_fix() {
    let (sandbox, _base) = start_sandbox(DataSet::Demo).await;
    let dir = tempfile::tempdir().expect("dir");
    let toml = sandbox.write_config(dir.path()).expect("write");
    let text = std::fs::read_to_string(&toml).expect("read");
    std::fs::write(
        &toml,
        text.replace(ORG_ID, "11111111-2222-3333-4444-555555555555"),
    )
    .expect("write");
    let report = check::run_path(Some(&toml)).await;
    assert_eq!(report.exit_code(), 2);
    let failed = report.first_failure().expect("a failed line");
    assert_eq!(failed.name, "API token org", "{report}");
    assert!(
        failed.detail.contains(ORG_ID)
            && failed
                .detail
                .contains("11111111-2222-3333-4444-555555555555")
            && failed
                .detail
                .contains(&format!("csp.org_id = \"{ORG_ID}\"")),
        "{report}"
    );
    let skipped: Vec<&str> = report
        .lines
        .iter()
        .filter(|l| l.status == CheckStatus::Skipped)
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(skipped, ["CSP org", "TMC"]);
}

#[tokio::test]
async fn the_sandbox_answers_token_details_in_the_fixtures_shape() {
    let (sandbox, base) = start_sandbox(DataSet::Demo).await;
    let url = format!("{base}/csp/gateway/am/api/auth/api-tokens/details");
    let answer = http()
        .post(&url)
        .json(&json!({ "tokenValue": sandbox.api_token() }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_same_shape(
        &body,
        &fixture("csp/api-tokens.details.json"),
        "details",
        true,
    );
    assert_eq!(body["orgId"], ORG_ID);
    let wrong = http()
        .post(&url)
        .json(&json!({ "tokenValue": "nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
}
