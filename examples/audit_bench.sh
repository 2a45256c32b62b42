#!/usr/bin/env bash
# audit_access against one get_user_access on `--data large` (10,000 members, 50 TAP clusters)
# with DELAY_MS (default 100) injected on every backend call (CSP, TMC and Kubernetes).
# Prints wall time, requests per system (from /_sandbox/stats) and peak RSS of each call.
# Usage: [DATA=demo] examples/audit_bench.sh [tanzu-mcp binary] (default target/debug/tanzu-mcp).
set -euo pipefail
bin=${1:-target/debug/tanzu-mcp}
port=${PORT:-18131}
dir=$(mktemp -d)
trap 'kill "$sandbox" 2>/dev/null; rm -rf "$dir"' EXIT
"$bin" sandbox --data "${DATA:-large}" --listen "127.0.0.1:$port" --write-config "$dir" >/dev/null 2>&1 &
sandbox=$!
for _ in $(seq 100); do [ -f "$dir/tanzu-mcp.toml" ] && break; sleep 0.1; done
sleep 0.5
curl -sf -X POST "http://127.0.0.1:$port/_sandbox/faults" -H 'Content-Type: application/json' \
  -d '{"path_prefix": "/", "status": 0, "delay_ms": '"${DELAY_MS:-100}"', "count": 100000000}' >/dev/null
stats() { curl -sf "http://127.0.0.1:$port/_sandbox/stats"; }
run() { # tool args -> "ms rss_kb" and the requests it made per route prefix
  local before after start end
  before=$(stats)
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$dir/rss" "$bin" call --config "$dir/tanzu-mcp.toml" "$1" "$2" >"$dir/out" 2>/dev/null
  end=$(date +%s%N)
  after=$(stats)
  echo "$1: $(((end - start) / 1000000)) ms, peak RSS $(cat "$dir/rss") kB"
  python3 - "$before" "$after" <<'PY'
import json, sys
b, a = (json.loads(x)["requests"] for x in sys.argv[1:3])
per = {}
for route, n in a.items():
    d = n - b.get(route, 0)
    if d:
        system = "Kubernetes" if "/k8s/" in route else ("TMC" if "/v1alpha1/" in route else ("control" if "/_sandbox/" in route else "CSP"))
        per[system] = per.get(system, 0) + d
print("  requests:", json.dumps(per, sort_keys=True))
PY
}
run get_user_access '{"email": "alice@example.com"}'
run audit_access '{}'
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  summary:", json.dumps(r.get("summary", r)))' "$dir/out" 2>/dev/null || head -c 300 "$dir/out"
