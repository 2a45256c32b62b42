//! Drives one MCP server process over stdio the way a client starts it, for cold-start
//! benchmarks under hyperfine: spawn, `initialize`, `notifications/initialized`, `tools/list`,
//! and each `--call NAME JSON` as one `tools/call`, in order; exits as soon as the last answer
//! arrived, killing the server. Every server (the floor, `tanzu-mcp serve`, server-everything)
//! is driven by this same binary, so its own cost is the same in each measurement.
//!
//! In a call's JSON, the string `"$TOKEN"` stands for the `confirmation_token` of the previous
//! call's result (a two-step `revoke_all_access` under `serve --confirm token`), and `"$CURSOR"`
//! for its `next_cursor` (walking `list_members` page by page). With
//! `--timings`, the milliseconds of each step go to stderr as `step<TAB>ms` lines.
//!
//! Standard library only, and no JSON parser (answers are matched as text), so the driver's
//! own cost stays near nothing and it builds in seconds: `rustc -O --edition 2024
//! examples/cold_start.rs` gives the same program as the cargo example.
//!
//! Usage: `cold_start [--timings] [--call NAME JSON]... -- PROGRAM ARGS...`
//! Exit status 0 only if every answer came back as a result and no call was `isError`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

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

    let mut send = |message: String| {
        writeln!(stdin, "{message}").unwrap_or_else(|e| fail(&format!("write: {e}")));
    };
    send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"cold_start","version":"0"}}}"#.into());
    answer(&mut stdout, 1);
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into());
    send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#.into());
    answer(&mut stdout, 2);
    step("start+initialize+tools/list");
    let (mut token, mut cursor) = (String::new(), String::new());
    for (id, (name, arguments)) in (3..).zip(&calls) {
        let arguments = arguments
            .replace("$TOKEN", &token)
            .replace("$CURSOR", &cursor);
        send(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{arguments}}}}}"#
        ));
        let result = answer(&mut stdout, id);
        if result.contains(r#""isError":true"#) {
            fail(&format!("the tool call failed: {result}"));
        }
        token = string_field(&result, "confirmation_token");
        cursor = string_field(&result, "next_cursor");
        step(name);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Read lines until the answer to `id` (a line with that id and no `method`: not a request
/// of the server's); its text is returned, an error answer ends the run.
fn answer(stdout: &mut impl BufRead, id: u64) -> String {
    let wanted = [format!(r#""id":{id},"#), format!(r#""id":{id}}}"#)];
    let mut line = String::new();
    loop {
        line.clear();
        match stdout.read_line(&mut line) {
            Ok(0) | Err(_) => fail(&format!("the server closed stdout before answering {id}")),
            Ok(_) => {}
        }
        let compact: String = line.split_whitespace().collect();
        if !wanted.iter().any(|w| compact.contains(w.as_str())) || compact.contains(r#""method":"#)
        {
            continue;
        }
        if !compact.contains(r#""result":"#) {
            fail(&format!("request {id} failed: {line}"));
        }
        return line;
    }
}

/// The first `"name":"value"` of `text` (unescaped, so the structured content, not the JSON
/// quoted inside a text block); empty when there is none.
fn string_field(text: &str, name: &str) -> String {
    let key = format!(r#""{name}":""#);
    text.find(&key)
        .map(|start| &text[start + key.len()..])
        .and_then(|rest| rest.find('"').map(|end| rest[..end].to_string()))
        .unwrap_or_default()
}

fn usage() -> ! {
    fail("usage: cold_start [--timings] [--call NAME JSON]... -- PROGRAM ARGS...")
}

fn fail(message: &str) -> ! {
    eprintln!("cold_start: {message}");
    std::process::exit(1)
}
