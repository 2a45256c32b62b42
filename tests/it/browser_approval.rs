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
use serde_json::{Value, json};
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
        tab.type_into("#email", ALICE).await;
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
