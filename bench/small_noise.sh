#!/bin/sh
# Small-noise law of the 1-cluster state (issue 7, docs/small-noise.md): (1 - r)/kappa against
# kappa/kappa_1 from `attnbif solve` (cluster guess, nodes: auto), and its extrapolation to
# kappa -> 0 against the coefficient c of 1 - r ~ c kappa.
#
#   bench/small_noise.sh BUILD_DIR [WORK_DIR]
#
# NODES_MAX (default 1024, the default of discretization.nodes_max) caps the node count; a
# state that needs more is refused by attnbif (exit 3) and the row says so.
# SMALL_NOISE_CASES=PATTERN keeps only the cases whose label matches (grep -E);
# SMALL_NOISE_RATIOS overrides the list of kappa/kappa_1. Needs jq and GNU time.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [WORK_DIR]" >&2
    exit 2
fi
BIN=$1/attnbif
WORK=${2:-$(mktemp -d /tmp/small_noise.XXXXXX)}
NODES_MAX=${NODES_MAX:-1024}
RATIOS=${SMALL_NOISE_RATIOS:-"1e-1 3e-2 1e-2 3e-3 1e-3"}
[ -x "$BIN" ] || { echo "$0: $BIN is not an executable (build first)" >&2; exit 2; }
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "$0: needs GNU time as /usr/bin/time" >&2; exit 2; }
mkdir -p "$WORK"

# label | model | d | beta
CASES='sa-d3-b4|SA|3|4
sa-d8-b1|SA|8|1
sa-d3-b20|SA|3|20
usa-d3-b4|USA|3|4'

# write_spec FILE MODEL D BETA KAPPA STATE NODES
write_spec() {
    {
        echo "name: small-noise"
        echo "model: $2"
        echo "d: $3"
        echo "beta: $4"
        echo "kappa: $5"
        echo "discretization: {nodes: $7}"
        echo "state: {type: $6}"
    } > "$1"
}

echo "| case | kappa/kappa_1 | kappa | exit | nodes | r | (1 - r)/kappa | wall [s] |"
echo "|---|---|---|---|---|---|---|---|"
echo "$CASES" | while IFS='|' read -r label model d beta; do
    [ -n "$label" ] || continue
    if [ -n "${SMALL_NOISE_CASES:-}" ] && ! echo "$label" | grep -Eq "$SMALL_NOISE_CASES"; then continue; fi
    mkdir -p "$WORK/$label"
    write_spec "$WORK/$label/k1.yaml" "$model" "$d" "$beta" 1.0 uniform 16
    "$BIN" solve "$WORK/$label/k1.yaml" -o "$WORK/$label/k1" -q > /dev/null 2>&1 ||
        { echo "$0: $label: uniform solve failed" >&2; continue; }
    k1=$(jq -r '.kappa_l[0].kappa' "$WORK/$label/k1/summary.json")
    for q in $RATIOS; do
        dir=$WORK/$label/$q
        mkdir -p "$dir"
        kappa=$(echo "$k1 $q" | awk '{printf "%.6g", $1 * $2}')
        write_spec "$dir/spec.yaml" "$model" "$d" "$beta" "$kappa" cluster "auto, nodes_max: $NODES_MAX"
        rc=0
        /usr/bin/time -f '%e' -o "$dir/time" "$BIN" solve "$dir/spec.yaml" -o "$dir/out" -q \
            > /dev/null 2> "$dir/stderr" || rc=$?
        wall=$(tail -n 1 "$dir/time")
        if [ "$rc" -ne 0 ]; then
            msg=$(grep -v '^ ' "$dir/stderr" | grep -v '^Command exited' | tail -n 1 | cut -c1-200)
            echo "| $label | $q | $kappa | $rc | - | $msg | - | $wall |"
            continue
        fi
        jq -r --arg lab "$label" --arg q "$q" --arg kappa "$kappa" --arg wall "$wall" '
            .observables.r as $r |
            "| \($lab) | \($q) | \($kappa) | 0 | \(.resolution.nodes) | \($r | tostring) | \((1 - $r) / ($kappa | tonumber) * 1e9 | round / 1e9 | tostring) | \($wall) |"
            ' "$dir/out/summary.json"
    done
done
echo
echo "nodes_max $NODES_MAX; work directory: $WORK; load: $(uptime | sed 's/.*load average/load average/')"
