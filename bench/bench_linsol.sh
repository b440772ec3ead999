#!/bin/sh
# Issue 8 benchmark driver: dense LU against matrix-free GMRES, one Newton step and one
# continuation step, at N = 16 ... 4096 nodes (docs/benchmarks.md, "Linear solvers").
# Times: bench_linsol time (both paths interleaved in one process, medians). Memory: every
# configuration in a process of its own (peak RSS), minus the baseline process that only
# holds the discretisation, the state and its linearisation.
#   usage: bench/bench_linsol.sh [BUILD_DIR] [OUT_DIR]     (defaults build, output/bench_linsol)
set -eu
BUILD=${1:-build}
OUT=${2:-output/bench_linsol}
BIN=$BUILD/bench/bench_linsol
NS=${NS:-"16 32 64 128 256 512 1024 2048 4096"}
CASES=${CASES:-"a b"}
MEM_NS=${MEM_NS:-"128 256 512 1024 2048 4096"}
mkdir -p "$OUT"
: > "$OUT/time.txt"
: > "$OUT/mem.txt"

reps_for() { # 5 repeats where fast, 3 up to 2048, 1 at 4096 (a dense continuation step there exceeds a minute)
    if [ "$1" -le 256 ]; then echo 5; elif [ "$1" -le 2048 ]; then echo 3; else echo 1; fi
}

for c in $CASES; do
    for n in $NS; do
        spectrum=0
        [ "$c" = a ] && [ "$n" -ge 128 ] && spectrum=1 # the eigen-analysis, for context, on case a
        start=$(date +%s)
        "$BIN" time "$c" "$n" "$(reps_for "$n")" "$OUT/state-$c-$n.bin" "$spectrum" >> "$OUT/time.txt"
        echo "case $c N $n: $(( $(date +%s) - start )) s" >&2
    done
done

for n in $MEM_NS; do
    for what in base newton-dense newton-gmres cont-dense cont-gmres; do
        "$BIN" mem a "$n" "$what" "$OUT/state-a-$n.bin" >> "$OUT/mem.txt"
    done
    echo "memory N $n done" >&2
done
cat "$OUT/time.txt" "$OUT/mem.txt"
