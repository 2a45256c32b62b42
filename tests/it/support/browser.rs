//! A real browser for tests: headless Chromium (Debian's `chromium`), driven over the DevTools
//! protocol through a minimal WebSocket client written here (text frames only, which is all
//! DevTools sends). The test navigates, types and clicks as a person would; the page itself
//! needs no JavaScript, the test's scripting is only the person's hands.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const STEP: Duration = Duration::from_secs(30);

/// The Chromium binary, if this machine has one.
pub fn chromium_path() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
}

/// A headless Chromium with a fresh profile, killed on drop.
pub struct Chromium {
    _child: Child,
    _profile: tempfile::TempDir,
    port: u16,
}

impl Chromium {
    /// Start it; `None` (with a note on stderr) when Chromium is not installed, unless
    /// `TANZU_MCP_REQUIRE_CHROMIUM` is set (CI installs it and sets it, so the browser tests
    /// cannot pass there by skipping).
    pub async fn start() -> Option<Chromium> {
        let Some(binary) = chromium_path() else {
            assert!(
                std::env::var_os("TANZU_MCP_REQUIRE_CHROMIUM").is_none(),
                "TANZU_MCP_REQUIRE_CHROMIUM is set but no Chromium was found"
            );
            eprintln!("SKIPPED: no Chromium here (apt-get install -y chromium)");
            return None;
        };
        let profile = tempfile::tempdir().expect("profile dir");
        let child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=900,1000",
                // A name that resolves to loopback, as a DNS-rebinding attacker's would.
                "--host-resolver-rules=MAP rebind.test 127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromium");
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = tokio::time::Instant::now() + STEP;
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Some(port) = text.lines().next().and_then(|l| l.parse().ok())
            {
                break port;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromium did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        Some(Chromium {
            _child: child,
            _profile: profile,
            port,
        })
    }

    /// A DevTools session on the browser's first tab.
    pub async fn tab(&self) -> Tab {
        let list: Value = reqwest::get(format!("http://127.0.0.1:{}/json/list", self.port))
            .await
            .expect("DevTools /json/list")
            .json()
            .await
            .expect("DevTools target list");
        let ws = list
            .as_array()
            .and_then(|targets| targets.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        let mut tab = Tab::connect(&ws).await;
        tab.send("Page.enable", json!({})).await;
        tab
    }
}

/// One DevTools WebSocket session.
pub struct Tab {
    stream: TcpStream,
    next_id: u64,
    events: Vec<Value>,
}

impl Tab {
    async fn connect(ws_url: &str) -> Tab {
        let rest = ws_url.strip_prefix("ws://").expect("ws:// URL");
        let (authority, path) = rest.split_at(rest.find('/').expect("a path"));
        let mut stream = TcpStream::connect(authority)
            .await
            .expect("connect DevTools");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(stream.read_u8().await.expect("handshake answer"));
        }
        assert!(
            String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"),
            "websocket upgrade"
        );
        Tab {
            stream,
            next_id: 1,
            events: Vec::new(),
        }
    }

    async fn write_text(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask: [u8; 4] = rand::random();
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream
            .write_all(&frame)
            .await
            .expect("websocket write");
    }

    async fn read_message(&mut self) -> Value {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.stream
                .read_exact(&mut head)
                .await
                .expect("websocket read");
            let fin = head[0] & 0x80 != 0;
            let opcode = head[0] & 0x0f;
            let len = match head[1] & 0x7f {
                126 => self.stream.read_u16().await.unwrap() as usize,
                127 => self.stream.read_u64().await.unwrap() as usize,
                n => n as usize,
            };
            let mut payload = vec![0u8; len];
            self.stream.read_exact(&mut payload).await.unwrap();
            if opcode == 0x8 {
                panic!("DevTools closed the connection");
            }
            if opcode == 0x1 || opcode == 0x0 {
                message.extend_from_slice(&payload);
                if fin {
                    return serde_json::from_slice(&message).expect("DevTools JSON");
                }
            }
        }
    }

    /// Send a command and return its result (events meanwhile are kept for `wait_event`).
    pub async fn send(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let text = json!({ "id": id, "method": method, "params": params }).to_string();
        self.write_text(&text).await;
        tokio::time::timeout(STEP, async {
            loop {
                let message = self.read_message().await;
                if message["id"] == id {
                    if let Some(error) = message.get("error") {
                        panic!("{method}: {error}");
                    }
                    return message["result"].clone();
                }
                self.events.push(message);
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{method} did not answer"))
    }

    async fn wait_event(&mut self, method: &str) -> Value {
        if let Some(at) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(at);
        }
        tokio::time::timeout(STEP, async {
            loop {
                let message = self.read_message().await;
                if message["method"] == method {
                    return message;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {method} event"))
    }

    /// Send these headers with every request of this tab (the HTTP transport's bearer token).
    pub async fn set_headers(&mut self, headers: Value) {
        self.send("Network.enable", json!({})).await;
        self.send("Network.setExtraHTTPHeaders", json!({ "headers": headers }))
            .await;
    }

    /// Go to `url` and wait until it loaded.
    pub async fn goto(&mut self, url: &str) {
        self.events.clear();
        self.send("Page.navigate", json!({ "url": url })).await;
        self.wait_event("Page.loadEventFired").await;
    }

    /// Evaluate `expression` in the page and return its value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .send(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Run `expression` (which submits a form or navigates) and wait for the next page.
    pub async fn eval_and_wait(&mut self, expression: &str) {
        self.events.clear();
        self.eval(expression).await;
        self.wait_event("Page.loadEventFired").await;
    }

    /// The visible text of the page.
    pub async fn text(&mut self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Type `text` into the field `selector` as keystrokes, as a person would.
    pub async fn type_into(&mut self, selector: &str, text: &str) {
        self.eval(&format!(
            "document.querySelector({}).focus()",
            serde_json::to_string(selector).unwrap()
        ))
        .await;
        self.send("Input.insertText", json!({ "text": text })).await;
    }

    /// Click the element `selector` and wait for the page it leads to.
    pub async fn click_and_wait(&mut self, selector: &str) {
        self.eval_and_wait(&format!(
            "document.querySelector({}).click()",
            serde_json::to_string(selector).unwrap()
        ))
        .await;
    }

    /// A PNG of the page as shown.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        let shot = self
            .send(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true }),
            )
            .await;
        STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 PNG")
    }
}
