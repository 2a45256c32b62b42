//! Drives one MCP server process over stdio the way a client starts it, for cold-start
//! benchmarks under hyperfine: spawn, `initialize`, `notifications/initialized`, `tools/list`,
//! and (with `--call NAME JSON`) one `tools/call`; exits as soon as the last answer arrived,
//! killing the server. Every server (the floor, `tanzu-mcp serve`, server-everything) is driven
//! by this same binary, so its own cost is the same in each measurement.
//!
//! Usage: `cold_start [--call NAME JSON] -- PROGRAM ARGS...`
//! Exit status 0 only if every answer came back as a result (not an error).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args
        .iter()
        .position(|a| a == "--")
        .unwrap_or_else(|| usage());
    let (options, program) = (&args[..split], &args[split + 1..]);
    let call = match options {
        [] => None,
        [flag, name, arguments] if flag == "--call" => {
            let arguments: Value = serde_json::from_str(arguments).unwrap_or_else(|_| usage());
            Some((name.clone(), arguments))
        }
        _ => usage(),
    };
    let Some((command, rest)) = program.split_first() else {
        usage()
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
    if let Some((name, arguments)) = call {
        send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}));
        let result = answer(&mut stdout, 3);
        if result.get("isError") == Some(&Value::Bool(true)) {
            fail(&format!("the tool call failed: {result}"));
        }
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
    fail("usage: cold_start [--call NAME JSON] -- PROGRAM ARGS...")
}

fn fail(message: &str) -> ! {
    eprintln!("cold_start: {message}");
    std::process::exit(1)
}
