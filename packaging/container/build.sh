#!/usr/bin/env bash
# Builds the tanzu-mcp container image from a binary already built on this machine, with no base
# image to pull: the root holds the binary, the shared libraries `ldd` names (glibc's loader and
# libc, libm, libgcc_s) and the system CA bundle, and Containerfile.prebuilt copies it onto
# scratch. For a registry release, ../../Containerfile builds a static musl binary instead.
#
#   packaging/container/build.sh [BINARY] [TAG]    (defaults: target/release/tanzu-mcp, tanzu-mcp:local)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="${1:-target/release/tanzu-mcp}"
tag="${2:-tanzu-mcp:local}"
[ -x "$binary" ] || { echo "build.sh: no binary at $binary (cargo build --release --locked first)" >&2; exit 2; }
command -v podman >/dev/null || { echo "build.sh: podman is not installed (apt-get install podman runc)" >&2; exit 2; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
install -m 0755 "$binary" "$root/tanzu-mcp"
# Every absolute path ldd prints (libraries and the ELF interpreter), at the same path in the image.
for lib in $(ldd "$binary" | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$bundle" ] || { echo "build.sh: no CA bundle at $bundle (apt-get install ca-certificates)" >&2; exit 2; }
mkdir -p "$root/etc/ssl/certs" && cp -L "$bundle" "$root$bundle"
# The sandbox (and kube exec plugins) write temporary files; scratch has no /tmp of its own.
mkdir -m 1777 "$root/tmp"

podman build --quiet -t "$tag" -f "$here/Containerfile.prebuilt" "$root"
echo "build.sh: built $tag from $binary" >&2
