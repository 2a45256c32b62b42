#!/usr/bin/env bash
# Whole-process benchmarks of `tanzu-mcp` against public tools (hyperfine, /usr/bin/time) and
# the sandbox's own counters. One section per argument (default: all of them):
#   cold      spawn -> initialize -> tools/list answered: the floor binary, `serve --config` on
#             the demo data, server-everything (node, and through `npx -y` when EVERYTHING_NPX=1);
#             then the same with one get_user_access (the first call's setup included)
#   pages     list_members through the tool on --data large, LIMIT (100) a page, every page by
#             its cursor: milliseconds per page, last against first
#   rss       idle and peak resident memory of `serve` over stdio and over Streamable HTTP
#   requests  backend requests per tool call on --data large, from /_sandbox/stats
#   size      the binary's size
# Usage: examples/process_bench.sh [section...]; BIN (target/release/tanzu-mcp), EX (the folder
# holding the cold_start and floor examples: target/release/examples), RUNS (hyperfine runs, 30),
# EVERYTHING_SKIP=1 (leave server-everything out: no npm).
set -euo pipefail
bin=${BIN:-target/release/tanzu-mcp}
ex=${EX:-$(dirname "$bin")/examples}
runs=${RUNS:-30}
everything=${EVERYTHING:-@modelcontextprotocol/server-everything@2026.8.31}
sections=("${@:-size cold pages rss requests}")
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

sandbox() { # data port -> writes $dir/<data>/tanzu-mcp.toml
  "$bin" sandbox --data "$1" --listen "127.0.0.1:$2" --write-config "$dir/$1" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -f "$dir/$1/tanzu-mcp.toml" ] && break; sleep 0.1; done
  sleep 0.3
}
sandbox demo 18151
sandbox large 18152
demo=$dir/demo/tanzu-mcp.toml
large=$dir/large/tanzu-mcp.toml
alice='{"email": "alice@example.com"}'
# Backend requests the large sandbox has served (its control API not counted).
count() { curl -sf http://127.0.0.1:18152/_sandbox/stats |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(sum(v for k,v in r.items() if "/_sandbox/" not in k))'; }

for section in ${sections[*]}; do
  case $section in
  size)
    echo "== size"
    ls -l "$bin" | awk '{ printf "%s: %.1f MB\n", $NF, $5 / 1e6 }'
    ;;
  cold)
    echo "== cold start (hyperfine, $runs runs)"
    servers=("$ex/cold_start -- $ex/floor" "$ex/cold_start -- $bin serve --config $demo")
    if [ "${EVERYTHING_SKIP:-0}" != 1 ] && command -v npx >/dev/null; then
      # Fetch once outside the measurement; then node runs the installed copy.
      (cd "$dir" && npm install --silent "$everything" >/dev/null 2>&1) &&
        servers+=("$ex/cold_start -- $dir/node_modules/.bin/mcp-server-everything")
      [ "${EVERYTHING_NPX:-0}" = 1 ] && servers+=("$ex/cold_start -- npx -y $everything")
    fi
    hyperfine -N -w 3 -r "$runs" --export-json "$dir/cold.json" "${servers[@]}" >/dev/null
    python3 - "$dir/cold.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
floor = rows[0]["median"]
for r in rows:
    cpu = (r["user"] + r["system"]) * 1000
    print(f'{r["median"]*1000:9.2f} ms median (mean {r["mean"]*1000:.2f}, σ {(r["stddev"] or 0)*1000:.2f}, min {r["min"]*1000:.2f})'
          f'  {r["median"]/floor:7.2f}x floor  cpu {cpu:.2f} ms  {r["command"].split(" -- ", 1)[1]}')
if len(rows) > 2:
    print(f'server-everything / tanzu-mcp: {rows[2]["median"]/rows[1]["median"]:.1f}x median, {rows[2]["min"]/rows[1]["min"]:.1f}x min')
print(f'tanzu-mcp / floor: {rows[1]["median"]/rows[0]["median"]:.2f}x median, {rows[1]["min"]/rows[0]["min"]:.2f}x min')
PY
    echo "-- with one get_user_access (demo data), per step, medians of $runs"
    for _ in $(seq "$runs"); do
      "$ex/cold_start" --timings --call get_user_access "$alice" -- "$bin" serve --config "$demo" 2>&1 >/dev/null
    done | awk -F'\t' '{ v[$1] = v[$1] " " $2 } END { for (k in v) print k ":" v[k] }' |
      while IFS=: read -r step values; do
        echo "$step: $(tr ' ' '\n' <<<"$values" | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }') ms"
      done
    ;;
  pages)
    limit=${LIMIT:-100}
    pages=$(((10000 + 3 + limit - 1) / limit))
    args=(--timings --call list_members '{"limit": '"$limit"'}')
    for _ in $(seq 2 "$pages"); do args+=(--call list_members '{"limit": '"$limit"', "cursor": "$CURSOR"}'); done
    echo "== list_members on --data large, $pages pages of $limit"
    before=$(count)
    "$ex/cold_start" "${args[@]}" -- "$bin" serve --config "$large" 2>&1 >/dev/null |
      awk -F'\t' '/^list_members/ { n++; t[n] = $2 }
        END { m = 0; for (i = 1; i <= n; i++) { if (t[i] > m) m = t[i]; s += t[i] }
              printf "pages %d, first %.2f ms, last %.2f ms, slowest %.2f ms, mean %.2f ms, slowest/first %.2f, last/first %.2f\n",
                n, t[1], t[n], m, s / n, m / t[1], t[n] / t[1]
              for (i = 1; i <= n; i += int(n / 10)) printf "  page %d: %.2f ms\n", i, t[i] }'
    echo "backend requests for the whole walk: $(($(count) - before))"
    ;;
  rss)
    echo "== resident memory (kB)"
    coproc SRV { exec /usr/bin/time -v "$bin" serve --config "$large" 2>"$dir/time.stdio"; }
    srv=$SRV_PID
    echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"rss","version":"0"}}}' >&"${SRV[1]}"
    read -r _ <&"${SRV[0]}"
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&"${SRV[1]}"
    echo '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' >&"${SRV[1]}"
    read -r _ <&"${SRV[0]}"
    child=$(pgrep -P "$srv" | head -1)
    idle=$(awk '/VmRSS/ { print $2 }' "/proc/$child/status")
    for id in 3 4 5; do
      echo '{"jsonrpc":"2.0","id":'$id',"method":"tools/call","params":{"name":"get_user_access","arguments":'"$alice"'}}' >&"${SRV[1]}"
      read -r _ <&"${SRV[0]}"
    done
    eval "exec ${SRV[1]}>&-"
    wait "$srv" || true
    echo "stdio, --data large: idle after tools/list $idle, peak after 3 get_user_access (50 clusters) $(awk '/Maximum resident/ { print $NF }' "$dir/time.stdio")"
    /usr/bin/time -v "$bin" serve --config "$large" --transport http --listen 127.0.0.1:18153 2>"$dir/time.http" &
    srv=$!
    sleep 1
    child=$(pgrep -P "$srv" | head -1)
    idle=$(awk '/VmRSS/ { print $2 }' "/proc/$child/status")
    # One session, three get_user_access calls, over plain curl (Streamable HTTP).
    url=http://127.0.0.1:18153/mcp
    post() { curl -s -D "$dir/headers" -H 'Content-Type: application/json' \
      -H 'Accept: application/json, text/event-stream' ${session:+-H "Mcp-Session-Id: $session"} -d "$1" "$url" >/dev/null; }
    session=
    post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"rss","version":"0"}}}'
    session=$(awk -F': ' 'tolower($1) == "mcp-session-id" { print $2 }' "$dir/headers" | tr -d '\r')
    post '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    for id in 2 3 4; do
      post '{"jsonrpc":"2.0","id":'$id',"method":"tools/call","params":{"name":"get_user_access","arguments":'"$alice"'}}'
    done
    kill -INT "$child"; wait "$srv" || true
    echo "http, --data large: idle $idle, peak after 3 get_user_access $(awk '/Maximum resident/ { print $NF }' "$dir/time.http")"
    ;;
  requests)
    echo "== backend requests per call (--data large, from /_sandbox/stats)"
    for call in "get_user_access|$alice" "list_members|{}" "list_members|{\"query\": \"alice\"}" \
      "get_user_access|{\"email\": \"nobody@example.com\"}" \
      "revoke_all_access|{\"email\": \"alice@example.com\", \"keep_membership\": true}"; do
      tool=${call%%|*}; args=${call#*|}
      curl -sf -X POST http://127.0.0.1:18152/_sandbox/reset >/dev/null
      before=$(count)
      "$ex/cold_start" --call "$tool" "$args" -- "$bin" serve --config "$large" --confirm token >/dev/null 2>&1 || true
      echo "$tool $args: $(($(count) - before))"
    done
    ;;
  esac
done
