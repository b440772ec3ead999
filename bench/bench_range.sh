#!/bin/sh
# Parameter-range benchmark of issue 7: `attnbif solve` (state + spectrum, nodes: auto) on the
# issue's hard cases; prints the markdown table of docs/benchmarks.md, "Parameter range (issue 7)".
#
#   bench/bench_range.sh BUILD_DIR [WORK_DIR]      e.g. bench/bench_range.sh build
#
# Needs /usr/bin/time (GNU time) and jq. Each case is solved once; a case that took under
# RANGE_REPEAT_BELOW seconds (default 20) is solved twice more and the median wall time is
# reported. Peak memory is the largest maximum resident set size of the runs (GNU time %M).
# kappa given as "k1*F" is F times kappa_1 of the uniform state, read from a uniform solve.
# RANGE_CASES=PATTERN runs only the cases whose label matches the whole of PATTERN (grep -Ex).
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2
    exit 2
fi
BIN=$1/attnbif
WORK=${2:-$(mktemp -d /tmp/bench_range.XXXXXX)}
REPEAT_BELOW=${RANGE_REPEAT_BELOW:-20}
[ -x "$BIN" ] || { echo "$0: $BIN is not an executable (build first)" >&2; exit 2; }
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "$0: needs GNU time as /usr/bin/time" >&2; exit 2; }
mkdir -p "$WORK"

# label | model | d | beta | kappa (number or k1*F) | state | extra discretization keys | newton tol | nodes
# (empty tol: the default 1e-11; empty nodes: auto)
CASES='usa-d64-b4|USA|64|4|0.00433|uniform||
sa-d64-b0|SA|64|0|0.003125|cluster||
sa-d3-b50|SA|3|50|0.01|cluster||
sa-d2-b300|SA|2|300|0.001|cluster||
sa-d2-b1000|SA|2|1000|k1*0.5|cluster||
sa-d2-b1000-n256|SA|2|1000|k1*0.5|cluster|||256
usa-d3-b4|USA|3|4|0.005|cluster||
usa-d3-b4-tol8|USA|3|4|0.005|cluster||1.0e-8
usa-d3-b4-n512|USA|3|4|0.005|cluster|||512
usa-d3-b4-n768|USA|3|4|0.005|cluster|||768
sa-d3-b4-k1e-3|SA|3|4|0.001|cluster||
sa-d3-b4-k1e-3-tol8|SA|3|4|0.001|cluster||1.0e-8
sa-d3-b4-k1e-4|SA|3|4|0.0001|cluster|, nodes_max: 2048|
sa-d3-b4-k1e-4-tol8|SA|3|4|0.0001|cluster|, nodes_max: 2048|1.0e-8
sa-d3-b4-k1e-4-n512|SA|3|4|0.0001|cluster|||512
sa-d3-b4-k1e-4-n768|SA|3|4|0.0001|cluster|||768
sa-d16-b8|SA|16|8|0.003|cluster||
sa-d16-b8-tol8|SA|16|8|0.003|cluster||1.0e-8
sa-d64-b8|SA|64|8|0.005|cluster||
sa-d64-b8-tol8|SA|64|8|0.005|cluster||1.0e-8
uni-d512-b8-half|SA|512|8|k1*0.5|uniform||
uni-d512-b8-twice|SA|512|8|k1*2|uniform||
uni-d4096-b8-half|SA|4096|8|k1*0.5|uniform||
uni-d4096-b8-twice|SA|4096|8|k1*2|uniform||'

# write_spec FILE MODEL D BETA KAPPA STATE DISC_EXTRA TOL NODES
write_spec() {
    {
        echo "name: bench-range"
        echo "model: $2"
        echo "d: $3"
        echo "beta: $4"
        echo "kappa: $5"
        echo "discretization: {nodes: $9$7}"
        echo "state: {type: $6}"
        [ -z "$8" ] || echo "newton: {tol: $8}"
    } > "$1"
}

median3() { printf '%s\n%s\n%s\n' "$1" "$2" "$3" | sort -g | sed -n 2p; }

echo "| case | model | d | beta | kappa | kappa/kappa_1 | newton tol | exit | nodes | refinements | kernel | spectral tail | rotation residual | newton residual | n_unstable | r | wall [s] | runs | peak RSS [MB] |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
echo "$CASES" | while IFS='|' read -r label model d beta kappa state extra tol nodes; do
    [ -n "$label" ] || continue
    if [ -n "${RANGE_CASES:-}" ] && ! echo "$label" | grep -Eqx "$RANGE_CASES"; then continue; fi
    dir=$WORK/$label
    mkdir -p "$dir"
    # kappa_1 from a cheap uniform solve (the analytic value is in summary.json)
    write_spec "$dir/k1.yaml" "$model" "$d" "$beta" 1.0 uniform "" "" 16
    "$BIN" solve "$dir/k1.yaml" -o "$dir/k1" -q > /dev/null 2>&1 || { echo "$0: $label: uniform solve failed" >&2; continue; }
    k1=$(jq -r '.kappa_l[0].kappa' "$dir/k1/summary.json")
    case $kappa in
        k1\**) kappa=$(echo "$k1 ${kappa#k1\*}" | awk '{printf "%.6g", $1 * $2}') ;;
    esac
    ratio=$(echo "$kappa $k1" | awk '{printf "%.3g", $1 / $2}')
    write_spec "$dir/spec.yaml" "$model" "$d" "$beta" "$kappa" "$state" "$extra" "$tol" "${nodes:-auto}"
    times="" mem=0 runs=0 rc=0
    while :; do
        rc=0
        /usr/bin/time -f '%e %M' -o "$dir/time" "$BIN" solve "$dir/spec.yaml" -o "$dir/out" -q \
            > /dev/null 2> "$dir/stderr" || rc=$?
        set -- $(tail -n 1 "$dir/time")
        times="$times $1"
        [ "$2" -gt "$mem" ] && mem=$2
        runs=$((runs + 1))
        [ "$rc" -eq 0 ] || break
        if [ "$runs" -eq 1 ] && awk "BEGIN{exit !($1 >= $REPEAT_BELOW)}"; then break; fi
        [ "$runs" -lt 3 ] || break
    done
    set -- $times
    if [ "$runs" -eq 3 ]; then wall=$(median3 "$1" "$2" "$3"); else wall=$1; fi
    memmb=$(echo "$mem" | awk '{printf "%.0f", $1 / 1024}')
    tolshow=${tol:-1e-11}
    if [ "$rc" -ne 0 ]; then
        msg=$(grep -v '^ ' "$dir/stderr" | tail -n 1 | cut -c1-160 | sed 's/|/\\|/g')
        echo "| $label | $model | $d | $beta | $kappa | $ratio | $tolshow | $rc | - | - | - | - | - | - | - | $msg | $wall | $runs | $memmb |"
        continue
    fi
    jq -r --arg lab "$label" --arg ratio "$ratio" --arg tol "$tolshow" --arg wall "$wall" --arg runs "$runs" \
        --arg mem "$memmb" --arg model "$model" --arg d "$d" --arg beta "$beta" --arg kappa "$kappa" '
        def e: if . == null then "-" else (. * 1e3 | round / 1e3 | tostring) end;
        def g: if . == null then "-" elif . == 0 then "0" else
            ((. | fabs | log10 | floor) as $x | (. / pow(10; $x) * 10 | round / 10 | tostring) + "e" + ($x | tostring)) end;
        "| \($lab) | \($model) | \($d) | \($beta) | \($kappa) | \($ratio) | \($tol) | 0 | \(.resolution.nodes) | \(.resolution.refinements) | \(.resolution.kernel) | \(.resolution.spectral_tail | g) | \(.resolution.rotation_residual | g) | \(.newton.residual | g) (\(.newton.tolerance | g)) | \(.n_unstable) | \(.observables.r | tostring) | \($wall) | \($runs) | \($mem) |"
        ' "$dir/out/summary.json"
done
echo
echo "work directory: $WORK; load: $(uptime | sed 's/.*load average/load average/')"
