"""Run every cross-client check against one tanzu-mcp binary and print `N passed, M failed`.

Usage: run.py BINARY --node-modules DIR --home DIR --logs DIR [--python PY]

Clients, all installed from the registries at pinned versions by `.ci/cross-clients`:
  - the Python MCP SDK (`python_sdk.py`): stdio, Streamable HTTP and legacy SSE, each with the
    initialize handshake and with the SDK's own negotiation (2026-07-28);
  - the MCP Inspector CLI: `tools/list --strict` and a `tools/call` on the three transports, and
    the bearer token over HTTP;
  - the MCP conformance suite against Streamable HTTP, with `conformance-baseline.yml`.
Plus the listen policy: a non-loopback bind without auth exits 2 naming the flags.

Every check prints `PASS name` or `FAIL name: why`; logs of each client run go to --logs.
Exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED_TOOLS = {
    "list_members", "get_user_access", "invite_user", "bind_role", "revoke_all_access",
    "provision_user", "change_role", "unbind_role", "list_clusters", "list_role_bindings",
    "audit_access",
}
# Inspector `--strict` exit code for error-severity schema problems.
INSPECTOR_STRICT_FAILURE = 6


class Tally:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def record(self, name: str, ok: bool, why: str = "") -> None:
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {why}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def http_server(binary: str, log: Path, extra: list[str] | None = None, env: dict[str, str] | None = None):
    """`serve --sandbox --transport http` on a free loopback port; stopped with SIGTERM."""
    port = free_port()
    with open(log, "wb") as errlog:
        server = subprocess.Popen(
            [binary, "serve", "--sandbox", "--transport", "http", "--listen", f"127.0.0.1:{port}", *(extra or [])],
            stdin=subprocess.DEVNULL,
            stdout=errlog,
            stderr=errlog,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"server exited with {server.returncode}; see {log}")
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"server not healthy after 60 s; see {log}")
                    time.sleep(0.1)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


class Ran:
    """What a client run left: exit code, stdout and stderr (the latter also in the log)."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def run_logged(
    command: list[str], log: Path, timeout: float, env: dict[str, str] | None = None, secret: str | None = None
) -> Ran:
    """Run a client; the command line and its stderr go to `log` (with `secret` masked)."""

    def masked(text: str) -> str:
        return text.replace(secret, "<secret>") if secret else text

    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, env=env)
        ran = Ran(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
    except subprocess.TimeoutExpired:
        ran = Ran(-1, "", f"timed out after {timeout:.0f} s")
    with open(log, "a") as written:
        written.write(masked("$ " + " ".join(command)) + "\n" + masked(ran.err))
    return ran


def python_sdk_run(tally: Tally, args: argparse.Namespace, name: str, *options: str) -> None:
    """One python_sdk.py run; its PASS/FAIL lines become checks here."""
    log = args.logs / f"{name.replace(' ', '-')}.log"
    command = [args.python, str(HERE / "python_sdk.py"), args.binary, *options]
    ran = run_logged(command, log, timeout=330)
    lines = ran.out.splitlines()
    for line in lines:
        if line.startswith("info "):
            print(line, flush=True)
        elif line.startswith(("PASS ", "FAIL ")):
            status, _, rest = line.partition(" ")
            check, _, why = rest.partition(": ")
            tally.record(check, status == "PASS", why)
    if ran.code != 0 and not any(line.startswith("FAIL ") for line in lines):
        tally.record(name, False, f"exit {ran.code}; see {log}")


def python_sdk(tally: Tally, args: argparse.Namespace) -> None:
    for transport in ("stdio", "http", "sse"):
        for mode in ("legacy", "auto"):
            python_sdk_run(
                tally, args, f"python-sdk {transport} {mode}", "--transport", transport, "--mode", mode
            )
    # SIGTERM while a call waits for the user. Only with the handshake: on 2026-07-28 a call that
    # needs input has already returned (input-required) and holds nothing on the server.
    for transport in ("http", "sse"):
        python_sdk_run(
            tally,
            args,
            f"python-sdk {transport} sigterm",
            *("--transport", transport, "--mode", "legacy", "--scenario", "sigterm"),
        )


def inspector_command(args: argparse.Namespace, target: list[str], *method: str) -> list[str]:
    bin_dir = args.node_modules / ".bin"
    return [str(bin_dir / "node"), str(bin_dir / "inspector"), "--cli", "--format", "json", "-q", *target, *method]


def inspector(tally: Tally, args: argparse.Namespace) -> None:
    env = {**os.environ, "HOME": str(args.home)}
    log = args.logs / "inspector.log"
    with http_server(args.binary, args.logs / "inspector-server.log") as base:
        targets = {
            "stdio": [args.binary, "serve", "--sandbox"],
            "http": [f"{base}/mcp"],
            "sse": [f"{base}/sse"],
        }
        for transport, target in targets.items():
            ran = run_logged(inspector_command(args, target, "--method", "tools/list", "--strict"), log, 120, env)
            code, out = ran.code, ran.out
            try:
                listed = json.loads(out)
                names = {tool["name"] for tool in listed["result"]["tools"]}
                # --strict exits 0 on warnings; portable schemas have none either.
                findings = sum(len(tool["findings"]) for tool in listed.get("schemaFindings", []))
            except (ValueError, KeyError, TypeError):
                names, findings = set(), -1
            why = f"exit {code}" + (" (schema portability errors)" if code == INSPECTOR_STRICT_FAILURE else "")
            tally.record(
                f"inspector {transport} tools/list --strict",
                code == 0 and names == EXPECTED_TOOLS and findings == 0,
                f"{why}, tools {sorted(names)}, {findings} schema finding(s); see {log}",
            )
            ran = run_logged(
                inspector_command(
                    args, target, "--method", "tools/call", "--tool-name", "list_members", "--tool-arg", "limit=2"
                ),
                log,
                120,
                env,
            )
            code, out = ran.code, ran.out
            try:
                members = json.loads(out)["result"]["structuredContent"]["members"]
            except (ValueError, KeyError, TypeError):
                members = []
            tally.record(
                f"inspector {transport} tools/call list_members",
                code == 0 and len(members) == 2,
                f"exit {code}, {len(members)} members; see {log}",
            )

    # The bearer token, checked by a client we did not write.
    secret = "cross-client-" + os.urandom(8).hex()
    server_env = {**os.environ, "TANZU_MCP_CROSS_CLIENT_TOKEN": secret}
    with http_server(
        args.binary,
        args.logs / "inspector-auth-server.log",
        ["--auth-token-env", "TANZU_MCP_CROSS_CLIENT_TOKEN"],
        server_env,
    ) as base:
        listing = ("--method", "tools/list")
        for transport in ("mcp", "sse"):
            # Without the token the Inspector sees the 401 challenge and wants to start OAuth.
            refused = run_logged(inspector_command(args, [f"{base}/{transport}"], *listing), log, 120, env)
            tally.record(
                f"inspector /{transport} without the bearer token is refused",
                refused.code != 0 and "auth" in (refused.out + refused.err).lower(),
                f"exit {refused.code}; see {log}",
            )
            header = ["--header", f"Authorization: Bearer {secret}"]
            ran = run_logged(inspector_command(args, [f"{base}/{transport}", *header], *listing), log, 120, env, secret)
            tally.record(
                f"inspector /{transport} with the bearer token",
                ran.code == 0 and '"tools"' in ran.out,
                f"exit {ran.code}; see {log}",
            )


def conformance(tally: Tally, args: argparse.Namespace) -> None:
    env = {**os.environ, "HOME": str(args.home)}
    log = args.logs / "conformance.log"
    results = args.logs / "conformance-results"
    with http_server(args.binary, args.logs / "conformance-server.log") as base:
        command = [
            str(args.node_modules / ".bin" / "node"),
            str(args.node_modules / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"),
            "server",
            "--url",
            f"{base}/mcp",
            "-o",
            str(results),
            "--expected-failures",
            str(HERE / "conformance-baseline.yml"),
        ]
        ran = run_logged(command, log, 600, env)
        code, out = ran.code, ran.out
    with open(log, "a") as written:
        written.write(out)
    passed = re.findall(r"^✓ ([\w-]+):", out, re.MULTILINE)
    failed = re.findall(r"^✗ ([\w-]+):", out, re.MULTILINE)
    print(f"info conformance scenarios passing: {' '.join(passed) or 'none'}", flush=True)
    print(f"info conformance scenarios failing: {' '.join(failed) or 'none'}", flush=True)
    tally.record(
        "conformance (generic scenarios pass, failures match the baseline)",
        code == 0 and bool(passed),
        f"exit {code}; see {log} (regressions and stale baseline entries are listed there)",
    )


def listen_policy(tally: Tally, args: argparse.Namespace) -> None:
    done = subprocess.run(
        [args.binary, "serve", "--sandbox", "--transport", "http", "--listen", "0.0.0.0:0"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    message = done.stderr.decode(errors="replace")
    tally.record(
        "non-loopback --listen without auth exits 2 naming the flags",
        done.returncode == 2 and "--auth-token-env" in message and "--insecure-no-auth" in message,
        f"exit {done.returncode}: {message.strip()[-300:]}",
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--node-modules", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--logs", type=Path, required=True)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    args.binary = str(Path(args.binary).resolve())
    args.logs.mkdir(parents=True, exist_ok=True)
    args.home.mkdir(parents=True, exist_ok=True)

    tally = Tally()
    for suite in (listen_policy, python_sdk, inspector, conformance):
        try:
            suite(tally, args)
        except Exception as error:  # one broken suite must not hide the others' results
            tally.record(suite.__name__, False, f"{type(error).__name__}: {error}")
    print(f"{tally.passed} passed, {tally.failed} failed", flush=True)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
