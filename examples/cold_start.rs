//! Drives one MCP server process over stdio the way a client starts it, for cold-start
//! benchmarks under hyperfine: spawn, `initialize`, `notifications/initialized`, `tools/list`,
//! and each `--call NAME JSON` as one `tools/call`, in order; exits as soon as the last answer
//! arrived, killing the server. Every server (the floor, `tanzu-mcp serve`, server-everything)
//! is driven by this same binary, so its own cost is the same in each measurement.
//!
//! In a call's JSON, the string `"$TOKEN"` stands for the `confirmation_token` of the previous
//! call's result (a two-step `revoke_all_access` under `serve --confirm token`). With
//! `--timings`, the milliseconds of each step go to stderr as `step<TAB>ms` lines.
//!
//! Usage: `cold_start [--timings] [--call NAME JSON]... -- PROGRAM ARGS...`
//! Exit status 0 only if every answer came back as a result and no call was `isError`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args
        .iter()
        .position(|a| a == "--")
        .unwrap_or_else(|| usage());
    let (options, program) = (&args[..split], &args[split + 1..]);
    let mut timings = false;
    let mut calls: Vec<(String, String)> = Vec::new();
    let mut rest = options;
    while let Some((flag, tail)) = rest.split_first() {
        match (flag.as_str(), tail) {
            ("--timings", _) => {
                timings = true;
                rest = tail;
            }
            ("--call", [name, arguments, tail @ ..]) => {
                calls.push((name.clone(), arguments.clone()));
                rest = tail;
            }
            _ => usage(),
        }
    }
    let Some((command, rest)) = program.split_first() else {
        usage()
    };
    let started = Instant::now();
    let mut last = started;
    let mut step = |name: &str| {
        if timings {
            eprintln!("{name}\t{:.2}", last.elapsed().as_secs_f64() * 1000.0);
        }
        last = Instant::now();
    };
    let mut child = Command::new(command)
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot start {command}: {e}")));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));

    let mut send = |message: Value| {
        writeln!(stdin, "{message}").unwrap_or_else(|e| fail(&format!("write: {e}")));
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "cold_start", "version": "0"}
        }}),
    );
    answer(&mut stdout, 1);
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    answer(&mut stdout, 2);
    step("start+initialize+tools/list");
    let mut token = String::new();
    for (id, (name, arguments)) in (3..).zip(&calls) {
        let arguments: Value =
            serde_json::from_str(&arguments.replace("$TOKEN", &token)).unwrap_or_else(|_| usage());
        send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}));
        let result = answer(&mut stdout, id);
        if result.get("isError") == Some(&Value::Bool(true)) {
            fail(&format!("the tool call failed: {result}"));
        }
        token = result
            .pointer("/structuredContent/confirmation_token")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        step(name);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Read lines until the answer to `id`; skip notifications and server requests.
fn answer(stdout: &mut impl BufRead, id: u64) -> Value {
    let mut line = String::new();
    loop {
        line.clear();
        match stdout.read_line(&mut line) {
            Ok(0) | Err(_) => fail(&format!("the server closed stdout before answering {id}")),
            Ok(_) => {}
        }
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if message.get("id").and_then(Value::as_u64) != Some(id) || message.get("method").is_some()
        {
            continue;
        }
        match message.get("result") {
            Some(result) => return result.clone(),
            None => fail(&format!("request {id} failed: {line}")),
        }
    }
}

fn usage() -> ! {
    fail("usage: cold_start [--timings] [--call NAME JSON]... -- PROGRAM ARGS...")
}

fn fail(message: &str) -> ! {
    eprintln!("cold_start: {message}");
    std::process::exit(1)
}
