#!/usr/bin/env bash
# Copyright 2026 the @lionpride/core authors. MIT license.
#
# W6, memory: peak RSS of mapping 1,000,000 items (`async (x) => x`,
# concurrency 64) with alcall, p-map and the hand-written floor, each in its
# own process under `/usr/bin/time -v`, against a baseline process that only
# allocates the input and output arrays. Prints, per variant, the median peak
# RSS over the repeats and (peak - baseline) / 1e6 as bytes per item.
#
# Usage: bash bench/alcall_rss.sh [repeats]   (default 5; runs are interleaved)
# Needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install -y time).

set -euo pipefail
cd "$(dirname "$0")/.."

TIME=/usr/bin/time
ITEMS=1000000
REPEATS=${1:-5}
VARIANTS=(baseline alcall pmap floor)

if [[ ! -x $TIME ]]; then
  echo "alcall_rss.sh: $TIME not found (GNU time; apt-get install -y time)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Peak RSS in KiB of one run of one variant.
peak_kib() {
  local out="$tmp/time.txt"
  if ! "$TIME" -v -o "$out" deno run --quiet --config bench/deno.json bench/alcall_rss.ts "$1"; then
    echo "alcall_rss.sh: variant $1 failed" >&2
    exit 1
  fi
  awk -F': ' '/Maximum resident set size/ { print $2 }' "$out"
}

# Warm-up (module graph, npm and transpile caches), not measured.
for v in "${VARIANTS[@]}"; do peak_kib "$v" >/dev/null; done

for ((r = 0; r < REPEATS; r++)); do
  for v in "${VARIANTS[@]}"; do
    peak_kib "$v" >>"$tmp/$v.kib"
  done
done

median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "W6: peak RSS, $ITEMS items, concurrency 64, $REPEATS runs each (deno $(deno --version | awk 'NR == 1 { print $2 }'))"
base=$(median "$tmp/baseline.kib")
printf '%-9s %12s %21s %14s %20s\n' variant "peak MB" "(min..max)" "B/item" "(min..max)"
for v in "${VARIANTS[@]}"; do
  sort -n "$tmp/$v.kib" | awk -v name="$v" -v med="$(median "$tmp/$v.kib")" -v base="$base" -v n="$ITEMS" '
    { a[NR] = $1 }
    END {
      mb = 1024 / 1e6
      printf "%-9s %12.1f %9.1f..%-9.1f %14.1f %8.1f..%-9.1f\n", name, med * mb, a[1] * mb, a[NR] * mb,
        (med - base) * 1024 / n, (a[1] - base) * 1024 / n, (a[NR] - base) * 1024 / n
    }'
done
