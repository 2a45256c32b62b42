#!/usr/bin/env bash
# Build the MCPB bundle for Claude Desktop from a built binary:
#   packaging/mcpb/pack.sh PATH/TO/tanzu-mcp OUT.mcpb
# Installs @anthropic-ai/mcpb (pinned) into .ci/.cache/mcpb, validates the manifest, stages
# manifest.json + server/tanzu-mcp, packs, and prints the bundle's SHA-256 (server.json's
# fileSha256 for a release). The bundle holds one platform's binary: pack once per platform.
set -euo pipefail
MCPB_VERSION=2.1.2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="${1:?usage: pack.sh PATH/TO/tanzu-mcp OUT.mcpb}"
out="${2:?usage: pack.sh PATH/TO/tanzu-mcp OUT.mcpb}"
cache="$root/.ci/.cache/mcpb"
mkdir -p "$cache/home"
export HOME="$cache/home"
if [[ ! -x "$cache/node_modules/.bin/mcpb" ]] ||
   ! grep -q "\"version\": \"$MCPB_VERSION\"" "$cache/node_modules/@anthropic-ai/mcpb/package.json"; then
    (cd "$cache" && npm install --no-audit --no-fund --loglevel=error "@anthropic-ai/mcpb@$MCPB_VERSION" >/dev/null)
fi
mcpb="$cache/node_modules/.bin/mcpb"
"$mcpb" validate "$root/packaging/mcpb/manifest.json"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/server"
cp "$root/packaging/mcpb/manifest.json" "$stage/"
cp "$binary" "$stage/server/tanzu-mcp"
chmod 755 "$stage/server/tanzu-mcp"
"$mcpb" pack "$stage" "$out" >/dev/null
sha256sum "$out"
