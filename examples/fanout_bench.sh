#!/usr/bin/env bash
# Fan-out: 50 TAP clusters (`--data large`) against one, with DELAY_MS (default 100) of latency
# injected on every backend call matching PREFIX (default "/k8s/": the Kubernetes API servers;
# "/" for every CSP, TMC and Kubernetes call) through the sandbox's control API.
# Usage: examples/fanout_bench.sh [tanzu-mcp binary...] (default target/debug/tanzu-mcp).
# Needs the cold_start driver (DRIVER, default beside the first binary: cargo build --example
# cold_start). For each binary and config, RUNS times (default 5), medians of:
#   get_user_access (first)    the tool call alone, the session's first (start excluded; the
#                              clients, the token exchange and every TLS handshake included)
#   get_user_access (warm)     the same call again in the same session (clients and
#                              connections warm)
#   revoke (plan)              revoke_all_access of alice, keep_membership, --confirm token
#   revoke (confirm)           the same call with the token: re-plan, 51 removals, verify
#   process                    `tanzu-mcp call get_user_access` as a whole process
# The sandbox is reset before every revoke, so each one has the same 52 bindings to remove.
set -euo pipefail
bins=("${@:-target/debug/tanzu-mcp}")
runs=${RUNS:-5}
port=${PORT:-18121}
delay=${DELAY_MS:-100}
prefix=${PREFIX:-/k8s/}
driver=${DRIVER:-$(dirname "${bins[0]}")/examples/cold_start}
dir=$(mktemp -d)
trap 'kill "$sandbox" 2>/dev/null; rm -rf "$dir"' EXIT
control="http://127.0.0.1:$port/_sandbox"

"${bins[0]}" sandbox --data large --listen "127.0.0.1:$port" --write-config "$dir" >/dev/null 2>&1 &
sandbox=$!
for _ in $(seq 100); do [ -f "$dir/tanzu-mcp.toml" ] && break; sleep 0.1; done
sleep 0.5
# The one-cluster config: everything up to the second [[tap]] table.
awk '/^\[\[tap\]\]/ { n++ } n < 2' "$dir/tanzu-mcp.toml" > "$dir/one.toml"

arm() {
  curl -sf -X POST "$control/reset" >/dev/null
  curl -sf -X DELETE "$control/faults" >/dev/null
  curl -sf -X POST "$control/faults" -H 'Content-Type: application/json' \
    -d '{"path_prefix": "'"$prefix"'", "status": 0, "delay_ms": '"$delay"', "count": 1000000}' >/dev/null
}
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.0f", a[int((NR + 1) / 2)] }'; }
alice='{"email": "alice@example.com"}'
revoke='{"email": "alice@example.com", "keep_membership": true}'
confirmed='{"email": "alice@example.com", "keep_membership": true, "confirm": "$TOKEN"}'
served() { # binary config -> "first warm plan confirm" milliseconds of one session
  arm
  "$driver" --timings --call get_user_access "$alice" --call get_user_access "$alice" \
    --call revoke_all_access "$revoke" --call revoke_all_access "$confirmed" \
    -- "$1" serve --config "$2" --confirm token 2>&1 >/dev/null |
    awk -F'\t' '/^get_user_access/ { a[++m] = $2 } /^revoke_all_access/ { r[++n] = $2 }
      END { print a[1], a[2], r[1], r[2] }'
}
process() { # binary config -> milliseconds of one `call get_user_access` process
  local start end
  arm
  start=$(date +%s%N)
  "$1" call --config "$2" get_user_access "$alice" >/dev/null 2>&1
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
printf '%-32s %-24s %8s %8s %6s\n' binary measure 1 50 ratio
for bin in "${bins[@]}"; do
  for config in one tanzu-mcp; do
    for _ in $(seq "$runs"); do served "$bin" "$dir/$config.toml"; done > "$dir/served.$config"
    for _ in $(seq "$runs"); do process "$bin" "$dir/$config.toml"; done > "$dir/process.$config"
  done
  for column in 1 2 3 4 process; do
    case $column in
      1) name="get_user_access (first)" ;; 2) name="get_user_access (warm)" ;;
      3) name="revoke (plan)" ;; 4) name="revoke (confirm)" ;; *) name=process ;;
    esac
    if [ "$column" = process ]; then
      one=$(median < "$dir/process.one"); fifty=$(median < "$dir/process.tanzu-mcp")
    else
      one=$(awk -v c="$column" '{ print $c }' "$dir/served.one" | median)
      fifty=$(awk -v c="$column" '{ print $c }' "$dir/served.tanzu-mcp" | median)
    fi
    awk -v b="$bin" -v m="$name" -v o="$one" -v f="$fifty" \
      'BEGIN { printf "%-32s %-24s %8d %8d %6.2f\n", b, m, o, f, f / o }'
  done
done
curl -sf "$control/stats" > "$dir/stats.json" && echo "sandbox stats: $(head -c 300 "$dir/stats.json")"
