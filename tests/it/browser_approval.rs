//! Browser approval in a real browser: the server (`--confirm auto`, a client that cannot
//! elicit) opens a one-time page through `--approval-browser`, a script that hands the URL to
//! the test; headless Chromium, driven over DevTools, reads the plan, types the email and
//! clicks. Every check of what changed reads the sandbox, not the server's answer; the page's
//! address and token are looked for in every tool result, the server's log and the audit file.
//!
//! Skipped (with a note) where Chromium is not installed: `apt-get install -y chromium`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rmcp::model::CallToolResult;
use serde_json::json;
use tanzu_mcp::sandbox::{DataSet, Sandbox};

use crate::support::browser::{Chromium, Tab};
use crate::support::mcp::{Connected, Protocol, SandboxView, TestClient, audit_lines, connect};
use crate::support::{common, mcp};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const TAP: [&str; 3] = ["tap-dev", "tap-staging", "tap-prod"];

/// A sandbox, a server whose pages open through a recording script, and a browser.
struct Rig {
    _sandbox: Sandbox,
    dir: tempfile::TempDir,
    view: SandboxView,
    audit: PathBuf,
    urls: PathBuf,
    server: Connected,
    tab: Tab,
    _chromium: Chromium,
    /// Every tool result's text, for the secrecy check.
    seen: Vec<String>,
}

async fn rig(extra: &[&str]) -> Option<Rig> {
    let chromium = Chromium::start().await?;
    let tab = chromium.tab().await;
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let audit = dir.path().join("audit.jsonl");
    let urls = dir.path().join("urls");
    let opener = dir.path().join("open-in-chromium.sh");
    // The person's "browser": hands the URL (its last argument) to the test's Chromium.
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nfor last; do :; done\nprintf '%s\\n' \"$last\" >> '{}'\n",
            urls.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut args = vec![
        "--audit-log",
        audit.to_str().unwrap(),
        "--approval-browser",
        opener.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    // Default `--confirm auto`, and a client without elicitation: the browser it is.
    let server = connect(&toml, &args, TestClient::new(None), Protocol::Handshake).await;
    Some(Rig {
        _sandbox: sandbox,
        dir,
        view,
        audit,
        urls,
        server,
        tab,
        _chromium: chromium,
        seen: Vec::new(),
    })
}

impl Rig {
    fn config_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where alice holds access now, as the sandbox sees it.
    async fn alice(&self) -> Vec<String> {
        let mut traces = self.view.traces_of(ALICE, self.config_dir(), &TAP).await;
        traces.sort();
        traces
    }

    async fn revoke(&mut self) -> CallToolResult {
        let result = self
            .server
            .call("revoke_all_access", json!({ "email": ALICE }))
            .await;
        self.seen.push(serde_json::to_string(&result).unwrap());
        result
    }

    fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(&self.urls)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    async fn page(&self, n: usize) -> String {
        opened_page(&self.urls, n).await
    }

    /// Open `url`, type `email`, press `button` ("approve" or "decline"); the answer's text.
    async fn answer(&mut self, url: &str, email: &str, button: &str) -> String {
        self.tab.goto(url).await;
        self.tab.type_into("#email", email).await;
        self.tab
            .click_and_wait(&format!("button[value={button}]"))
            .await;
        self.tab.text().await
    }

    /// The page's address and its form token never reached the model, a log or the audit.
    async fn assert_secrets_kept(&mut self, secrets: &[String]) {
        let log = self.server.server_log();
        let audit = std::fs::read_to_string(&self.audit).unwrap_or_default();
        for secret in secrets {
            let id = secret.rsplit('/').next().unwrap();
            for (place, text) in [("server log", &log), ("audit log", &audit)]
                .into_iter()
                .chain(self.seen.iter().map(|s| ("a tool result", s)))
            {
                assert!(
                    !text.contains(id),
                    "the page secret appeared in {place}: {text}"
                );
            }
        }
    }
}

fn status(result: &CallToolResult) -> String {
    result.structured_content.as_ref().expect("structured")["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The form's hidden token, as the page holds it.
async fn form_token(tab: &mut Tab) -> String {
    tab.eval("document.querySelector('input[name=token]').value")
        .await
        .as_str()
        .expect("the page has a token")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approving_in_the_browser_runs_exactly_the_plan_shown_once() {
    let Some(mut rig) = rig(&[]).await else {
        return;
    };
    let before = rig.alice().await;
    assert!(before.len() > 3, "alice has access in the demo: {before:?}");

    // The call waits while the person approves in the browser.
    let (server, tab, urls) = (&rig.server, &mut rig.tab, rig.urls.clone());
    let call = server.call("revoke_all_access", json!({ "email": ALICE }));
    let person = async {
        let url = opened_page(&urls, 1).await;
        tab.goto(&url).await;
        let shown = tab.text().await;
        let token = form_token(tab).await;
        if std::env::var_os("UPDATE_DOCS").is_some() {
            tab.type_into("#email", ALICE).await;
            let png = tab.screenshot().await;
            let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/approval-page.png");
            std::fs::write(docs, png).unwrap();
            tab.goto(&url).await;
        }
        let scripts = tab.eval("document.scripts.length").await;
        assert_eq!(scripts, json!(0), "the page has no JavaScript");
        tab.type_into("#email", ALICE).await;
        // The person takes their time: the waiting call reports progress meanwhile.
        tokio::time::sleep(Duration::from_millis(5500)).await;
        tab.click_and_wait("button[value=approve]").await;
        let answer = tab.text().await;
        (url, token, shown, answer)
    };
    let (result, (url, token, shown, answer)) = tokio::join!(call, person);
    rig.seen.push(serde_json::to_string(&result).unwrap());

    assert!(
        shown.contains(ALICE) && shown.contains("app-editors") && shown.contains("needs a human"),
        "the page shows the plan, the target and why: {shown}"
    );
    for cluster in TAP {
        assert!(
            shown.contains(cluster),
            "every action's system is shown: {shown}"
        );
    }
    assert!(answer.contains("Approved"), "{answer}");
    assert_eq!(status(&result), "done", "{}", mcp::text(&result));
    let progress = rig.server.handler.progress.lock().unwrap().clone();
    let waiting = progress
        .iter()
        .position(|p| {
            p.message
                .as_deref()
                .is_some_and(|m| m.contains("waiting for approval in the browser"))
        })
        .unwrap_or_else(|| panic!("progress while waiting: {progress:?}"));
    // Below 1, so the actions' progress (1, 2, ...) still increases after it.
    let waited = |p: &&rmcp::model::ProgressNotificationParam| {
        p.message
            .as_deref()
            .is_some_and(|m| m.starts_with("waiting"))
    };
    assert!(progress.iter().filter(waited).all(|p| p.progress < 1.0));
    assert!(
        progress
            .iter()
            .filter(|p| !waited(p))
            .all(|p| p.progress >= 1.0)
            && progress.len() > waiting + 1,
        "{progress:?}"
    );
    for note in &progress {
        rig.seen.push(format!("{note:?}"));
    }
    let planned = result.structured_content.as_ref().unwrap()["plan"]["actions"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        rig.alice().await.is_empty(),
        "exactly the plan ran: alice is gone"
    );
    // Bob keeps the bindings he shared with alice.
    for cluster in TAP {
        assert_eq!(
            mcp::binding_subjects(rig.config_dir(), cluster, None, "app-editors").await,
            Some(vec![BOB.to_string()])
        );
    }

    // Replayed: the address again, and the same post again from the page's own origin.
    rig.tab.goto(&url).await;
    assert!(rig.tab.text().await.contains("no longer valid"));
    rig.tab
        .eval_and_wait(&format!(
            "(() => {{ const f = document.createElement('form'); f.method = 'post'; f.action = {action};
               for (const [k, v] of [['token', {token}], ['email', {email}], ['decision', 'approve']]) {{
                 const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }}
               document.body.appendChild(f); f.submit(); }})()",
            action = json!(url),
            token = json!(token),
            email = json!(ALICE),
        ))
        .await;
    assert!(
        rig.tab.text().await.contains("no longer valid"),
        "a replayed post is refused"
    );

    // Audit: who approved, through what, when; then one record per action.
    let lines = audit_lines(&rig.audit);
    let approval = lines
        .iter()
        .find(|l| l["approval"] == "approved")
        .expect("an approval record");
    assert_eq!(approval["approved_via"], "browser page on 127.0.0.1");
    assert_eq!(approval["client"], "tanzu-mcp-tests 1");
    assert!(approval["time"].as_str().is_some_and(|t| t.contains('T')));
    assert_eq!(
        lines.iter().filter(|l| l.get("outcome").is_some()).count(),
        planned
    );
    rig.assert_secrets_kept(&[url, token]).await;
}

/// The `n`th page opened (1-based), once the opener has been called that often.
async fn opened_page(urls: &Path, n: usize) -> String {
    for _ in 0..300 {
        let opened = std::fs::read_to_string(urls).unwrap_or_default();
        if let Some(url) = opened.lines().nth(n - 1) {
            return url.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page {n} was never opened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_foreign_host_or_origin_a_post_without_token_a_wrong_email_and_decline_change_nothing() {
    let Some(mut rig) = rig(&["--approval-wait", "1"]).await else {
        return;
    };
    let before = rig.alice().await;

    // Nobody answered within the wait: pending, and nothing the model reads holds the page.
    let pending = rig.revoke().await;
    assert_eq!(
        status(&pending),
        "approval_pending",
        "{}",
        mcp::text(&pending)
    );
    assert_ne!(pending.is_error, Some(true));
    assert!(mcp::text(&pending).contains("requested in the person's browser"));
    let url = rig.page(1).await;
    rig.tab.goto(&url).await;
    let token = form_token(&mut rig.tab).await;

    // A foreign page posting the right email and even the right token.
    let foreign = format!(
        "data:text/html,<form method=post action='{url}'><input name=token value='{token}'>\
         <input name=email value='{ALICE}'><button name=decision value=approve>go</button></form>"
    );
    rig.tab.goto(&foreign).await;
    rig.tab.click_and_wait("button").await;
    assert!(rig.tab.text().await.contains("foreign origin"));

    // A rebinding name that resolves to 127.0.0.1 gets nothing, not even the form.
    let rebound = url.replace("127.0.0.1", "rebind.test");
    rig.tab.goto(&rebound).await;
    let text = rig.tab.text().await;
    assert!(
        text.contains("Host is not allowed") && !text.contains(ALICE),
        "{text}"
    );

    // The page's own form without its token.
    rig.tab.goto(&url).await;
    rig.tab
        .eval("document.querySelector('input[name=token]').remove()")
        .await;
    rig.tab.type_into("#email", ALICE).await;
    rig.tab.click_and_wait("button[value=approve]").await;
    assert!(
        rig.tab
            .text()
            .await
            .contains("did not carry its page's token")
    );

    // Still waiting on the same page: no second page was opened, nothing ran.
    let still = rig.revoke().await;
    assert_eq!(status(&still), "approval_pending");
    assert_eq!(rig.opened().len(), 1, "the open page is not opened again");
    assert_eq!(rig.alice().await, before);

    // The wrong email spends the page and refuses the call.
    let answer = rig.answer(&url, BOB, "approve").await;
    assert!(answer.contains("did not match"), "{answer}");
    let refused = rig.revoke().await;
    assert_eq!(status(&refused), "cancelled", "{}", mcp::text(&refused));
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(rig.alice().await, before);

    // Decline on a new page.
    let pending = rig.revoke().await;
    assert_eq!(status(&pending), "approval_pending");
    let second = rig.page(2).await;
    assert_ne!(second, url, "a new page at a new address");
    let answer = rig.answer(&second, "", "decline").await;
    assert!(answer.contains("Declined"), "{answer}");
    let declined = rig.revoke().await;
    assert_eq!(status(&declined), "cancelled");
    assert_eq!(rig.alice().await, before, "nothing changed at any point");

    let lines = audit_lines(&rig.audit);
    let answers: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["approval"].as_str())
        .collect();
    assert_eq!(answers, ["refused", "declined"], "{lines:#?}");
    assert!(
        lines.iter().all(|l| l.get("outcome").is_none()),
        "no action ran"
    );
    rig.assert_secrets_kept(&[url, second, token]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_plan_that_changed_after_the_page_opened_is_not_run_and_gets_a_new_page() {
    let Some(mut rig) = rig(&["--approval-wait", "1"]).await else {
        return;
    };
    let pending = rig.revoke().await;
    assert_eq!(status(&pending), "approval_pending");
    let first = rig.page(1).await;

    // While the page is open, someone grants alice more.
    mcp::kubectl_grant(rig.config_dir(), "tap-staging", "late-grant", ALICE).await;
    let before = rig.alice().await;
    rig.tab.goto(&first).await;
    assert!(!rig.tab.text().await.contains("late-grant"));
    let answer = rig.answer(&first, ALICE, "approve").await;
    assert!(answer.contains("Approved"), "{answer}");

    // The approved plan is not the plan now: it does not run, and a new page shows the new one.
    let changed = rig.revoke().await;
    assert_eq!(
        status(&changed),
        "approval_pending",
        "{}",
        mcp::text(&changed)
    );
    assert!(mcp::text(&changed).contains("the plan changed"));
    assert_eq!(rig.alice().await, before, "the old plan did not run");
    let second = rig.page(2).await;
    assert_ne!(second, first);
    rig.tab.goto(&second).await;
    let shown = rig.tab.text().await;
    assert!(
        shown.contains("late-grant") && shown.contains("The plan changed"),
        "{shown}"
    );

    let answer = rig.answer(&second, ALICE, "approve").await;
    assert!(answer.contains("Approved"), "{answer}");
    let done = rig.revoke().await;
    assert_eq!(status(&done), "done", "{}", mcp::text(&done));
    assert!(
        rig.alice().await.is_empty(),
        "the new plan ran, late grant included"
    );
    rig.assert_secrets_kept(&[first, second]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_page_changes_nothing_and_a_new_call_gets_a_new_page() {
    let Some(mut rig) = rig(&["--approval-wait", "1", "--confirm-ttl", "2"]).await else {
        return;
    };
    let before = rig.alice().await;
    let pending = rig.revoke().await;
    assert_eq!(status(&pending), "approval_pending");
    let url = rig.page(1).await;
    rig.tab.goto(&url).await;
    rig.tab.type_into("#email", ALICE).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    rig.tab.click_and_wait("button[value=approve]").await;
    assert!(rig.tab.text().await.contains("no longer valid"));

    let again = rig.revoke().await;
    assert_eq!(status(&again), "approval_pending");
    assert_eq!(rig.opened().len(), 2, "a new page for the new call");
    assert_eq!(rig.alice().await, before);
    assert!(
        audit_lines(&rig.audit).is_empty(),
        "nothing approved, nothing ran"
    );
    rig.assert_secrets_kept(&[url]).await;
}

/// A client that shows URLs to its user (URL-mode elicitation) and has no forms: it passes each
/// address to the test, which is the person here.
#[derive(Clone)]
struct UrlClient {
    urls: tokio::sync::mpsc::UnboundedSender<String>,
}

impl rmcp::ClientHandler for UrlClient {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        let mut capabilities = rmcp::model::ClientCapabilities::default();
        capabilities.elicitation = Some(
            rmcp::model::ElicitationCapability::new()
                .with_url(rmcp::model::UrlElicitationCapability::new()),
        );
        rmcp::model::ClientConfig::new(
            capabilities,
            rmcp::model::Implementation::new("url-client", "1"),
        )
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<rmcp::service::RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
        let ElicitRequestParams::UrlElicitationParams { url, .. } = request else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let _ = self.urls.send(url);
        Ok(ElicitResult::new(ElicitationAction::Accept))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_http_the_client_shows_the_page_and_the_listener_serves_it_behind_the_bearer() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let mut tab = chromium.tab().await;
    let (sandbox, base) = common::start_sandbox(DataSet::Demo).await;
    let (dir, toml) = common::write_config(&sandbox);
    let view = SandboxView::new(&base, sandbox.api_token(), sandbox.org_id()).await;
    let audit = dir.path().join("audit.jsonl");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bearer = "browser-approval-test-bearer";
    let log = crate::support::server_log::ServerLog::new("tanzu-mcp serve --transport http");
    // No --approval-browser and no display: only the client can put the page before the person.
    let _server = tokio::process::Command::new(env!("CARGO_BIN_EXE_tanzu-mcp"))
        .args(["serve", "--transport", "http", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--config")
        .arg(&toml)
        .args(["--auth-token-env", "BROWSER_TEST_BEARER", "--audit-log"])
        .arg(&audit)
        .env("BROWSER_TEST_BEARER", bearer)
        .env("TANZU_MCP_LOG", "debug")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log.stdio())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tanzu-mcp serve --transport http");
    let mcp_url = format!("http://127.0.0.1:{port}/mcp");
    for _ in 0..300 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (urls, mut shown_urls) = tokio::sync::mpsc::unbounded_channel();
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(mcp_url).auth_header(bearer),
    );
    let client = UrlClient { urls }
        .serve(transport)
        .await
        .expect("MCP initialize over HTTP");

    let call = client.call_tool(
        rmcp::model::CallToolRequestParams::new("revoke_all_access")
            .with_arguments(json!({ "email": ALICE }).as_object().unwrap().clone()),
    );
    let person = async {
        let url = shown_urls.recv().await.expect("the client was shown a URL");
        assert!(
            url.starts_with(&format!("http://127.0.0.1:{port}/approve/")),
            "the page is on the same listener: {url}"
        );
        // Without the bearer the page shows nothing.
        tab.goto(&url).await;
        let unauthorized = tab.text().await;
        assert!(!unauthorized.contains(ALICE), "{unauthorized}");
        tab.set_headers(json!({ "Authorization": format!("Bearer {bearer}") }))
            .await;
        tab.goto(&url).await;
        tab.type_into("#email", ALICE).await;
        tab.click_and_wait("button[value=approve]").await;
        (url, tab.text().await)
    };
    let (result, (url, answer)) = tokio::join!(call, person);
    let result = result.expect("tools/call");
    assert!(answer.contains("Approved"), "{answer}");
    let out = result.structured_content.clone().expect("structured");
    assert_eq!(out["status"], "done", "{out:#}");
    assert!(
        view.traces_of(ALICE, dir.path(), &TAP).await.is_empty(),
        "the plan ran"
    );
    let lines = audit_lines(&audit);
    let approval = lines
        .iter()
        .find(|l| l["approval"] == "approved")
        .expect("an approval record");
    assert_eq!(
        approval["approved_via"],
        "browser page on the HTTP listener (bearer token)"
    );
    assert_eq!(approval["client"], "url-client 1");
    assert_eq!(
        approval["credential"], "BROWSER_TEST_BEARER",
        "the approval names the credential's label (never the secret)"
    );
    let id = url.rsplit('/').next().unwrap();
    let result_text = serde_json::to_string(&result).unwrap();
    for (place, text) in [
        ("the tool result", result_text),
        ("the server log", log.text()),
        ("the audit log", std::fs::read_to_string(&audit).unwrap()),
    ] {
        assert!(!text.contains(id), "the page secret appeared in {place}");
    }
    let _ = client.cancel().await;
}
