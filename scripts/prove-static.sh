#!/usr/bin/env bash
# Proves that a scaffolded module builds as a static binary that runs in an
# empty root (only the binary: no libc, no /etc, no /tmp, read-only) against
# the embedded local platform, as its scratch image would run it.
#
# Scaffolds a module (`sekoia-automation new-module`, this checkout as its
# dependency), builds it with a static glibc (`+crt-static`; the Dockerfile
# uses musl, a target this machine cannot download), then, as root:
# `chroot` into a directory holding only the binary, as user 65534, with the
# configuration in environment variables (docs/protocol.md §1), and runs its action
# and its trigger against `sekoia-automation local-platform` on 127.0.0.1
# (chroot keeps the network namespace). Prints the binary's size.
#
# Usage: scripts/prove-static.sh [WORK_DIR]   (root needed for chroot)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

work=${1:-$(mktemp -d /tmp/prove-static.XXXXXX)}
mkdir -p "$work"
target_dir=${PROVE_STATIC_TARGET_DIR:-$repo/target/prove-static}
max_bytes=$((4 * 1024 * 1024))
host=$(rustc -vV | sed -n 's/^host: //p')

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'prove-static: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "chroot needs root"

step "the sekoia-automation command"
cargo build --quiet --features cli --bin sekoia-automation
cli=$repo/target/debug/sekoia-automation

step "scaffold a module"
module=$work/module
rm -rf "$module"
"$cli" new-module "$module" --name "Static proof" --description "Proves the scratch image" \
  --sekoia-automation-path "$repo" >/dev/null
echo "$module"

step "static release build ($host, +crt-static)"
# getrandom (UUIDv4 request ids) reaches the getrandom(2) system call
# through glibc's dynamic symbol table, which a static glibc binary lacks:
# it would fall back to /dev/urandom, absent from this empty root (a
# container has /dev; musl, the Dockerfile's target, links getrandom
# directly). The cfg makes the glibc build call it directly too.
(cd "$module" && RUSTFLAGS="-C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" \
  CARGO_TARGET_DIR="$target_dir" \
  cargo build --quiet --release --offline --target "$host")
binary=$target_dir/$host/release/static-proof
linkage=$(ldd "$binary" 2>&1 || true)
echo "ldd: $(printf '%s' "$linkage" | tr -d '\t')"
case "$linkage" in
  *"not a dynamic executable"* | *"statically linked"*) ;;
  *) fail "the binary is dynamically linked" ;;
esac
size=$(stat -c %s "$binary")
echo "size: $size bytes (stripped by the release profile), limit $max_bytes"
[ "$size" -le "$max_bytes" ] || fail "the binary is larger than 4 MiB"

step "an empty root holding only the binary"
root=$work/root
rm -rf "$root"
mkdir -p "$root"
cp "$binary" "$root/module"
chmod 0755 "$root/module"
listing=$(cd "$root" && find . -mindepth 1)
echo "$listing"
[ "$listing" = "./module" ] || fail "the root holds more than the binary"

# Runs the binary in the empty root as user 65534: `run_in_root VAR=VALUE...
# -- ARGS...`, with only those variables (and PATH, for the tools that enter
# the root); read-only when a private mount namespace is available.
run_in_root() {
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  if unshare --mount true 2>/dev/null; then
    env -i PATH="$PATH" "${vars[@]}" unshare --mount sh -c '
      root=$1; shift
      mount --bind "$root" "$root" && mount -o remount,bind,ro "$root" "$root" &&
      exec chroot --userspec=65534:65534 "$root" "$@"' sh "$root" "$@"
  else
    echo "(no mount namespace here: the root is not remounted read-only)"
    env -i PATH="$PATH" "${vars[@]}" chroot --userspec=65534:65534 "$root" "$@"
  fi
}

# Starts the local platform; sets platform_pid, url_callback, token.
start_platform() {
  local log=$1; shift
  "$cli" local-platform --secrets '{"api_key": "the-key"}' --timeout 60 "$@" >"$log" &
  platform_pid=$!
  for _ in $(seq 1 100); do
    [ -s "$log" ] && break
    sleep 0.05
  done
  local first
  first=$(head -n 1 "$log")
  url_callback=$(printf '%s' "$first" | sed -n 's/.*"url_callback":"\([^"]*\)".*/\1/p')
  token=$(printf '%s' "$first" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [ -n "$url_callback" ] && [ -n "$token" ] || fail "the local platform did not start: $first"
}

step "the action, in the empty root"
start_platform "$work/action.log" --until-finished
run_in_root TOKEN="$token" URL_CALLBACK="$url_callback" \
  MODULE_CONFIGURATION='{"base_url": "https://service"}' \
  ARGUMENTS='{"name": "scratch", "excitement": 1}' \
  -- /module greet || fail "the action failed in the empty root"
wait "$platform_pid" || fail "the platform saw no finished report"
grep '"status":"finished"' "$work/action.log"
grep -q '"results":{"message":"Hello scratch!"}' "$work/action.log" || fail "unexpected results"
grep -q '"need_secrets":true' "$work/action.log" || fail "the embedded manifest's secrets were not asked for"

step "the trigger, in the empty root"
start_platform "$work/trigger.log" --until-events 2
run_in_root TOKEN="$token" URL_CALLBACK="$url_callback" \
  MODULE_CONFIGURATION='{"base_url": "https://service"}' \
  TRIGGER_CONFIGURATION='{"interval_seconds": 0.01, "max_ticks": 2}' \
  LIVENESS_PORT=0 METRICS_PORT=0 \
  -- /module ticker || fail "the trigger failed in the empty root"
wait "$platform_pid" || fail "the platform did not receive 2 events"
grep '"event"' "$work/trigger.log"

step "prove-static: ok ($size bytes, only /module in the root)"
