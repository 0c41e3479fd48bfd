#!/usr/bin/env bash
# Two builds of etl side by side on one corpus: alternating runs (the machine's drift hits both
# alike), after an untimed warm-up of each; prints each build's sorted wall times and median.
# Usage: scripts/bench-ab.sh CORPUS CHECKOUT_A CHECKOUT_B [RUNS]   (each checkout built: dist/cli.js)
# e.g.   git worktree add /tmp/before <commit> && (cd /tmp/before && npm ci && npm run build)
#        scripts/bench-ab.sh $BENCH_DATA/ct20k /tmp/before . 15
set -euo pipefail
corpus=$1 a=$2 b=$3 runs=${4:-9}
args=(-k path -k SeriesInstanceUID -k SliceLocation -k CTDIvol -k PatientID -k StudyDate -k Modality -k ImageType -q)
times=$(mktemp)
trap 'rm -f "$times"' EXIT
for build in "$a" "$b"; do node "$build/dist/cli.js" extract "$corpus" "${args[@]}" > /dev/null || true; done
for _ in $(seq "$runs"); do
  for build in "$a" "$b"; do
    /usr/bin/time -f "$build %e %U %S" node "$build/dist/cli.js" extract "$corpus" "${args[@]}" > /dev/null 2>> "$times" || true
  done
done
for build in "$a" "$b"; do
  grep "^$build " "$times" | awk '{print $2, $3 + $4}' | sort -n |
    awk -v b="$build" '{w[NR] = $1; c[NR] = $2} END {printf "%s: median wall %.2f s, cpu %.2f s; walls", b, w[int((NR + 1) / 2)], c[int((NR + 1) / 2)]; for (i = 1; i <= NR; i++) printf " %.2f", w[i]; print ""}'
done
