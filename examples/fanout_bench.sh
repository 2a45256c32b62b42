#!/usr/bin/env bash
# Fan-out of get_user_access: 50 TAP clusters (`--data large`) against one, with 100 ms of
# latency (DELAY_MS, default 100) injected on every Kubernetes call (sandbox control API).
# Usage: examples/fanout_bench.sh [tanzu-mcp binary...] (default target/debug/tanzu-mcp).
# Each binary runs `call get_user_access` RUNS times (default 5) per config; prints medians.
set -euo pipefail
bins=("${@:-target/debug/tanzu-mcp}")
runs=${RUNS:-5}
port=${PORT:-18121}
dir=$(mktemp -d)
trap 'kill "$sandbox" 2>/dev/null; rm -rf "$dir"' EXIT

"${bins[0]}" sandbox --data large --listen "127.0.0.1:$port" --write-config "$dir" >/dev/null 2>&1 &
sandbox=$!
for _ in $(seq 100); do [ -f "$dir/tanzu-mcp.toml" ] && break; sleep 0.1; done
sleep 0.5
# The one-cluster config: everything up to the second [[tap]] table.
awk '/^\[\[tap\]\]/ { n++ } n < 2' "$dir/tanzu-mcp.toml" > "$dir/one.toml"
curl -sf -X POST "http://127.0.0.1:$port/_sandbox/faults" -H 'Content-Type: application/json' \
  -d '{"path_prefix": "/k8s/", "status": 0, "delay_ms": '"${DELAY_MS:-100}"', "count": 1000000}' >/dev/null

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
time_call() { # binary config -> milliseconds of one call
  local start end
  start=$(date +%s%N)
  "$1" call --config "$2" get_user_access '{"email": "alice@example.com"}' >/dev/null 2>&1
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
for bin in "${bins[@]}"; do
  one=$(for _ in $(seq "$runs"); do time_call "$bin" "$dir/one.toml"; done | median)
  fifty=$(for _ in $(seq "$runs"); do time_call "$bin" "$dir/tanzu-mcp.toml"; done | median)
  awk -v b="$bin" -v o="$one" -v f="$fifty" \
    'BEGIN { printf "%s: 1 cluster %d ms, 50 clusters %d ms, ratio %.2f\n", b, o, f, f / o }'
done
