#!/usr/bin/env bash
# Cross-runtime CI job: the test suite on Node 22, Node 24 and Bun, and the Node
# quickstart against the built package. Needs only npm: the runtimes come from
# the npm packages that ship their binaries, pinned in .ci/xrt/tools/.
#
# Installs are cached under $LIONPRIDE_CI_CACHE (default ~/.cache/lionpride-ci),
# keyed by the lockfile / dependency set, so a re-run installs nothing.
# Prints one line per runtime: `node22: 540 passed, 0 failed (…)`.
# XRT_RUNTIMES="node22 bun" runs a subset (an entry label=path runs another node
# or bun binary, e.g. bun1.1=/opt/bun-1.1.0/bun); XRT_VERBOSE=1 lists every file
# and every Deno-only test.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "xrt: the pinned runtimes are the linux-x64 builds; this is $(uname -s)-$(uname -m)" >&2
  exit 2
fi
ROOT=$PWD
CACHE=${LIONPRIDE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lionpride-ci}
LOCK_HASH=$(cat .ci/xrt/tools/package.json .ci/xrt/tools/package-lock.json | sha256sum | cut -c1-12)
TOOLS=$CACHE/tools-$LOCK_HASH
if [[ ! -f $TOOLS/.installed ]]; then
  echo "xrt: installing pinned runtimes and esbuild into $TOOLS"
  rm -rf "$TOOLS" && mkdir -p "$TOOLS"
  cp .ci/xrt/tools/package.json .ci/xrt/tools/package-lock.json "$TOOLS/"
  (cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$TOOLS/.installed"
fi
NODE22=$TOOLS/node_modules/node22/bin/node
NODE24=$TOOLS/node_modules/node24/bin/node
BUN=$TOOLS/node_modules/bun/bin/bun
OUT=$(mktemp -d "${TMPDIR:-/tmp}/lionpride-xrt.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

XRT_TOOLS=$TOOLS "$NODE22" .ci/xrt/build.mjs "$ROOT" "$OUT" "$CACHE"

status=0
lines=()
for runtime in ${XRT_RUNTIMES:-node22 node24 bun}; do
  case $runtime in
    node22) cmd=("$NODE22" --expose-gc) ;;
    node24) cmd=("$NODE24" --expose-gc) ;;
    bun) cmd=("$BUN" run) ;;
    # Another binary, e.g. a minimum version: node22.0=/path/to/node, bun1.1=/path/to/bun.
    node*=*) cmd=("${runtime#*=}" --expose-gc); runtime=${runtime%%=*} ;;
    bun*=*) cmd=("${runtime#*=}" run); runtime=${runtime%%=*} ;;
    *) echo "xrt: unknown runtime $runtime" >&2; exit 2 ;;
  esac
  echo "xrt: $runtime $("${cmd[0]}" --version)"
  if line=$("$NODE22" .ci/xrt/run.mjs "$runtime" "$OUT" "${cmd[@]}"); then :; else status=1; fi
  echo "$line"
  lines+=("$(tail -1 <<<"$line")")
  # The package as a user installs it: examples/node_quickstart.mjs imports "@lionpride/core".
  if (cd "$OUT/pkg" && "${cmd[@]}" node_quickstart.mjs); then
    lines+=("$runtime quickstart: 1 passed, 0 failed")
  else
    lines+=("$runtime quickstart: 0 passed, 1 failed")
    status=1
  fi
done
echo
printf '%s\n' "${lines[@]}"
exit $status
