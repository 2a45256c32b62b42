#!/usr/bin/env bash
# Runs the image that build.sh made, on its own sandbox over Streamable HTTP, and drives it as a
# client would: a request without the bearer secret is refused, initialize opens a session, and
# get_user_access answers for alice. Exits non-zero on any difference.
#
#   packaging/container/smoke.sh [TAG]    (default tanzu-mcp:local)
set -euo pipefail
tag="${1:-tanzu-mcp:local}"
name="tanzu-mcp-smoke-$$"
port="${SMOKE_PORT:-18080}"
export TANZU_MCP_BEARER="smoke-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# runc, not crun: this machine's cgroup v1 hierarchy is one crun refuses. The container may not
# raise its limits above the host's, so they are set to values at or below them.
podman --runtime runc run -d --name "$name" \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    -p "127.0.0.1:$port:8080" \
    -e TANZU_MCP_BEARER -e TANZU_MCP_SANDBOX=1 -e TANZU_MCP_ALLOWED_HOSTS="127.0.0.1:$port" \
    "$tag" >/dev/null
trap 'podman logs "$name" >/tmp/tanzu-mcp-smoke.log 2>&1 || true; podman rm -f "$name" >/dev/null 2>&1 || true' EXIT

url="http://127.0.0.1:$port/mcp"
post() { # post SESSION BODY -> the response, headers included
    local session_header=()
    [ -n "$1" ] && session_header=(-H "mcp-session-id: $1")
    curl -s -m 20 -D - -X POST "$url" -H "Authorization: Bearer $TANZU_MCP_BEARER" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -H 'MCP-Protocol-Version: 2025-06-18' "${session_header[@]}" -d "$2"
}
fail() { echo "container smoke: $*" >&2; exit 1; }

for _ in $(seq 50); do curl -s -o /dev/null "$url" && break; sleep 0.2; done

status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url" -H 'Content-Type: application/json' -d '{}')
[ "$status" = 401 ] || fail "a request without the bearer secret got $status, not 401"

init=$(post "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}}')
session=$(printf '%s' "$init" | tr -d '\r' | sed -n 's/^mcp-session-id: //Ip')
[ -n "$session" ] || fail "initialize opened no session: $init"
printf '%s' "$init" | grep -q '"serverInfo":{"name":"tanzu-mcp"' || fail "initialize: $init"
post "$session" '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null

access=$(post "$session" '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_user_access","arguments":{"email":"alice@example.com"}}}')
printf '%s' "$access" | grep -q '"isError":false' || fail "get_user_access failed: $access"
printf '%s' "$access" | grep -q '"status":"ACTIVE"' || fail "alice is not shown as an ACTIVE member: $access"
echo "container smoke: $tag refused an unauthenticated request and answered get_user_access over HTTP"
