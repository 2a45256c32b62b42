"""Drive tanzu-mcp with the official Python MCP SDK (mcp 2.3.0), a client nobody here wrote.

Usage: python_sdk.py BINARY --transport stdio|http|sse --mode legacy|auto [--scenario sigterm]

Starts `BINARY serve --sandbox` (over stdio, or over HTTP on a free loopback port), then checks
what an assistant relies on:
  - tools/list offers the five tools;
  - list_members answers with structured content and a cursor;
  - revoke_all_access asks the user (elicitation with one string field), the answer typed back
    runs the plan, and progress arrives while it runs;
  - a client that cannot ask gets `confirmation_required` and nothing changes (fail closed).

`--scenario sigterm` (HTTP and SSE) instead sends SIGTERM to the server while revoke_all_access
waits for the user's answer: the server must refuse new sessions, let that call finish, then exit 0.

`--mode legacy` uses the initialize handshake (live elicitation mid-call, protocol 2025-11-25);
`--mode auto` lets the SDK negotiate (2026-07-28 where the server offers it: elicitation comes
back as an input-required result and the SDK retries the call).

Prints one `PASS name` or `FAIL name: why` line per check; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
from mcp import Client, StdioServerParameters, stdio_client
from mcp.client.sse import sse_client

EXPECTED_TOOLS = {
    "list_members", "get_user_access", "invite_user", "bind_role", "revoke_all_access",
    "provision_user", "change_role", "unbind_role", "list_clusters", "list_role_bindings",
    "audit_access",
}
TARGET = "alice@example.com"
UNASKED_TARGET = "bob@example.com"
CALL_TIMEOUT_SECONDS = 60.0


class Checks:
    def __init__(self, label: str) -> None:
        self.label = label
        self.failed = 0

    def record(self, name: str, ok: bool, why: str = "") -> None:
        if ok:
            print(f"PASS {self.label} {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {self.label} {name}: {why}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(base: str, server: subprocess.Popen[bytes], deadline_seconds: float = 60.0) -> None:
    """Poll /healthz until the server answers (it starts an in-process sandbox first)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited early with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not become healthy in time")


@asynccontextmanager
async def http_server(binary: str, errlog):
    """One `serve --sandbox --transport http` process for the whole run, stopped with SIGTERM."""
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--sandbox", "--transport", "http", "--listen", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=errlog,
        stderr=errlog,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_healthy, base, server)
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            raise RuntimeError("server did not stop within 20 s of SIGTERM")


def client_for(transport: str, binary: str, base: str | None, errlog, mode: str, **callbacks: Any) -> Client:
    if transport == "stdio":
        parameters = StdioServerParameters(command=binary, args=["serve", "--sandbox"], env=dict(os.environ))
        server: Any = stdio_client(parameters, errlog=errlog)
    elif transport == "http":
        server = f"{base}/mcp"
    else:
        server = sse_client(f"{base}/sse")
    return Client(server, mode=mode, read_timeout_seconds=CALL_TIMEOUT_SECONDS, **callbacks)


async def run(binary: str, transport: str, mode: str, checks: Checks, errlog) -> None:
    seen_schemas: list[dict[str, Any]] = []
    progress: list[tuple[float, float | None, str | None]] = []

    async def type_the_email_back(_context, params: types.ElicitRequestParams) -> types.ElicitResult:
        schema = params.requested_schema
        seen_schemas.append(schema if isinstance(schema, dict) else schema.model_dump(by_alias=True))
        fields = seen_schemas[-1].get("properties", {})
        (field,) = fields.keys()
        return types.ElicitResult(action="accept", content={field: TARGET})

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with (http_server(binary, errlog) if transport != "stdio" else _no_server()) as (base, _server):
        async with client_for(transport, binary, base, errlog, mode, elicitation_callback=type_the_email_back) as client:
            print(f"info {checks.label}: negotiated protocol {client.protocol_version}", flush=True)
            tools = await client.list_tools()
            names = {tool.name for tool in tools.tools}
            checks.record("tools/list", names == EXPECTED_TOOLS, f"got {sorted(names)}")

            members = await client.call_tool("list_members", {"limit": 5})
            content = members.structured_content or {}
            checks.record(
                "list_members",
                not members.is_error
                and len(content.get("members", [])) == 5
                and content.get("next_cursor") is not None,
                f"is_error={members.is_error} structured={str(content)[:300]}",
            )

            revoke = await client.call_tool(
                "revoke_all_access", {"email": TARGET}, progress_callback=on_progress
            )
            outcome = revoke.structured_content or {}
            checks.record(
                "revoke_all_access elicitation",
                not revoke.is_error and outcome.get("status") == "done",
                f"status={outcome.get('status')} message={outcome.get('message')}",
            )
            one_string_field = bool(seen_schemas) and all(
                len(s.get("properties", {})) == 1
                and next(iter(s["properties"].values())).get("type") == "string"
                for s in seen_schemas
            )
            checks.record("elicitation schema has one string field", one_string_field, f"{seen_schemas}")
            checks.record("progress during revoke", len(progress) > 0, "no progress notification arrived")

            after = await client.call_tool("get_user_access", {"email": TARGET})
            access = after.structured_content or {}
            checks.record(
                "alice has no access left",
                access.get("membership") is None and not access.get("tmc") and not access.get("tap"),
                str(access)[:300],
            )

        # Same server (for HTTP) or a fresh one (stdio): a client without elicitation.
        async with client_for(transport, binary, base, errlog, mode) as unasking:
            refused = await unasking.call_tool("revoke_all_access", {"email": UNASKED_TARGET})
            outcome = refused.structured_content or {}
            checks.record(
                "fail closed without elicitation",
                outcome.get("status") == "confirmation_required",
                f"status={outcome.get('status')} is_error={refused.is_error}",
            )
            still = await unasking.call_tool("get_user_access", {"email": UNASKED_TARGET})
            checks.record(
                "bob keeps his access",
                (still.structured_content or {}).get("membership") is not None,
                str(still.structured_content)[:300],
            )


@asynccontextmanager
async def _no_server():
    yield None, None


def new_session_refused(base: str) -> bool:
    """Whether the server refuses a new session, which is how it shows it is draining."""
    request = urllib.request.Request(
        f"{base}/mcp",
        data=b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
        b'"capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}',
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5):
            return False
    except urllib.error.HTTPError as error:
        return error.code == 503
    except OSError:
        return False


async def sigterm_during_call(binary: str, transport: str, mode: str, checks: Checks, errlog) -> None:
    async with http_server(binary, errlog) as (base, server):
        draining: list[bool] = []

        async def answer_after_sigterm(_context, params: types.ElicitRequestParams) -> types.ElicitResult:
            server.send_signal(signal.SIGTERM)
            for _ in range(100):  # the signal is handled asynchronously; wait until it shows
                if await asyncio.to_thread(new_session_refused, base):
                    draining.append(True)
                    break
                await asyncio.sleep(0.05)
            schema = params.requested_schema
            fields = (schema if isinstance(schema, dict) else schema.model_dump(by_alias=True)).get("properties", {})
            (field,) = fields.keys()
            return types.ElicitResult(action="accept", content={field: TARGET})

        call_finished = False
        try:
            async with client_for(
                transport, binary, base, errlog, mode, elicitation_callback=answer_after_sigterm
            ) as client:
                # The SDK validates structured results against the tool's output schema; list the
                # tools now, since the session closes as soon as the running call has finished.
                await client.list_tools()
                revoke = await client.call_tool("revoke_all_access", {"email": TARGET})
                outcome = revoke.structured_content or {}
                checks.record("new sessions refused after SIGTERM", bool(draining), "never saw 503 for a new session")
                checks.record(
                    "call running at SIGTERM finishes",
                    not revoke.is_error and outcome.get("status") == "done",
                    f"status={outcome.get('status')} message={outcome.get('message')}",
                )
                call_finished = True
        except BaseException:
            # Closing a client whose server has just gone away may raise; that is not a failure
            # once the call has finished.
            if not call_finished:
                raise
        code = await asyncio.to_thread(server.wait, 30)
        checks.record("server exits 0 after draining", code == 0, f"exit status {code}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--transport", choices=["stdio", "http", "sse"], required=True)
    parser.add_argument("--mode", choices=["legacy", "auto"], default="legacy")
    parser.add_argument("--scenario", choices=["tools", "sigterm"], default="tools")
    args = parser.parse_args()
    scenario = run if args.scenario == "tools" else sigterm_during_call
    checks = Checks(f"python-sdk {args.transport} {args.mode}" + (" sigterm" if args.scenario == "sigterm" else ""))
    with tempfile.NamedTemporaryFile("w+b", prefix="tanzu-mcp-server-", suffix=".log", delete=False) as errlog:
        try:
            asyncio.run(asyncio.wait_for(scenario(args.binary, args.transport, args.mode, checks, errlog), 300))
        except BaseException as error:  # report any crash as a failed check, with its cause
            checks.record("run", False, "".join(traceback.format_exception_only(error)).strip())
            traceback.print_exc()
        if checks.failed:
            errlog.seek(0)
            tail = errlog.read().decode(errors="replace").splitlines()[-30:]
            print(f"--- last server log lines ({errlog.name}):", *tail, sep="\n", file=sys.stderr)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
