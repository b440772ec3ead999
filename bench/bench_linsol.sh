#!/bin/sh
# Issue 8 benchmark driver: dense LU against matrix-free GMRES, one Newton step and one
# continuation step, at N = 16 ... 4096 nodes (docs/benchmarks.md, "Linear solvers").
# Times: bench_linsol time (both paths interleaved in one process, medians). Memory: every
# configuration in a process of its own (peak RSS), minus the baseline process that only
# holds the discretisation, the state and its linearisation. Branches: bench_linsol branch
# (GMRES mat-vecs per step along a branch through its fold). About 20 minutes in all on
# the project machine, most of it at 4096 nodes (NS, CASES, MEM_NS, BRANCH_NS, HARD_NS
# choose a subset; a variable set to " " skips its part).
#   usage: bench/bench_linsol.sh [BUILD_DIR] [OUT_DIR]     (defaults build, output/bench_linsol)
set -eu
BUILD=${1:-build}
OUT=${2:-output/bench_linsol}
BIN=$BUILD/bench/bench_linsol
NS=${NS:-"16 32 64 128 256 512 1024 2048 4096"}
CASES=${CASES:-"a b"}
MEM_NS=${MEM_NS:-"128 256 512 1024 2048 4096"}
BRANCH_NS=${BRANCH_NS:-"128 512"}
HARD_NS=${HARD_NS:-"1024"}
mkdir -p "$OUT"
# APPEND=1 keeps earlier results (to resume with other NS / CASES)
if [ "${APPEND:-0}" != 1 ]; then : > "$OUT/time.txt"; : > "$OUT/mem.txt"; : > "$OUT/branch.txt"; fi

reps_for() { # 5 repeats where fast, 3 up to 2048, 1 at 4096 (a dense continuation step there exceeds a minute)
    if [ "$1" -le 256 ]; then echo 5; elif [ "$1" -le 2048 ]; then echo 3; else echo 1; fi
}

for c in $CASES; do
    for n in $NS; do
        spectrum=0
        # the eigen-analysis, for context, on case a up to 1024 nodes (73 s there on this
        # machine, growing like N^3: 2048 and 4096 would take most of the budget)
        [ "$c" = a ] && [ "$n" -ge 128 ] && [ "$n" -le 1024 ] && spectrum=1
        start=$(date +%s)
        "$BIN" time "$c" "$n" "$(reps_for "$n")" "$OUT/state-$c-$n.bin" "$spectrum" >> "$OUT/time.txt"
        echo "case $c N $n: $(( $(date +%s) - start )) s" >&2
    done
done

# the sharpest states of the parameter-range benchmark (1024 nodes there), one repeat
for c in c d; do
    for n in $HARD_NS; do
        "$BIN" time "$c" "$n" 1 "$OUT/state-$c-$n.bin" 0 >> "$OUT/time.txt"
    done
done

for c in a b; do
    for n in $BRANCH_NS; do
        "$BIN" branch "$c" "$n" 60 >> "$OUT/branch.txt"
    done
done

for n in $MEM_NS; do
    for what in base newton-dense newton-gmres cont-dense cont-gmres; do
        "$BIN" mem a "$n" "$what" "$OUT/state-a-$n.bin" >> "$OUT/mem.txt"
    done
    echo "memory N $n done" >&2
done
cat "$OUT/time.txt" "$OUT/branch.txt" "$OUT/mem.txt"
