#!/bin/sh
# Small-noise law of the 1-cluster state (issue 7, docs/small-noise.md): (1 - r)/kappa against
# kappa/kappa_1 from `attnbif solve` (cluster guess, nodes: auto), and its extrapolation to
# kappa -> 0 against the coefficient c of 1 - r ~ c kappa.
#
#   bench/small_noise.sh BUILD_DIR [WORK_DIR]
#
# NODES_MAX (default 1024, the default of discretization.nodes_max) caps the node count; a
# state that needs more is refused by attnbif (exit 3) and the row says so.
# SMALL_NOISE_CASES=PATTERN keeps only the cases whose label matches the whole of PATTERN (grep -Ex);
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
    if [ -n "${SMALL_NOISE_CASES:-}" ] && ! echo "$label" | grep -Eqx "$SMALL_NOISE_CASES"; then continue; fi
    mkdir -p "$WORK/$label"
    rm -f "$WORK/$label/points.md"
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
            msg=$(grep -v '^ ' "$dir/stderr" | grep -v '^Command exited' | tail -n 1 | cut -c1-200 | sed 's/|/\\|/g')
            echo "| $label | $q | $kappa | $rc | - | $msg | - | $wall |"
            continue
        fi
        jq -r --arg lab "$label" --arg q "$q" --arg kappa "$kappa" --arg wall "$wall" '
            .observables.r as $r |
            "| \($lab) | \($q) | \($kappa) | 0 | \(.resolution.nodes) | \($r | tostring) | \((1 - $r) / ($kappa | tonumber) * 1e9 | round / 1e9 | tostring) | \($wall) |"
            ' "$dir/out/summary.json" | tee -a "$WORK/$label/points.md"
    done
done
# Extrapolation to kappa -> 0 of y = (1 - r)/kappa = c + c1 kappa + c2 kappa^2 + ...: the
# polynomial through the three (or two) smallest kappa that were solved, evaluated at 0.
echo
echo "| case | points | c, linear through the 2 smallest kappa | c, quadratic through the 3 smallest | slope c1 (quadratic fit) |"
echo "|---|---|---|---|---|"
echo "$CASES" | while IFS='|' read -r label model d beta; do
    [ -f "$WORK/$label/points.md" ] || continue
    awk -F'|' -v lab="$label" 'BEGIN { n = 0 }
        { k[n] = $4 + 0; y[n] = $8 + 0; n++ }
        END {
            # points are in decreasing kappa: the smallest are the last ones
            if (n < 2) { printf "| %s | %d | - | - | - |\n", lab, n; exit }
            a = n - 2; b = n - 1
            lin = (y[b] * k[a] - y[a] * k[b]) / (k[a] - k[b])
            if (n < 3) { printf "| %s | %d | %.6f | - | - |\n", lab, n, lin; exit }
            a = n - 3; b = n - 2; c = n - 1
            # Lagrange basis at 0
            la = k[b] * k[c] / ((k[a] - k[b]) * (k[a] - k[c]))
            lb = k[a] * k[c] / ((k[b] - k[a]) * (k[b] - k[c]))
            lc = k[a] * k[b] / ((k[c] - k[a]) * (k[c] - k[b]))
            q = la * y[a] + lb * y[b] + lc * y[c]
            # derivative at 0 of the same quadratic
            da = -(k[b] + k[c]) / ((k[a] - k[b]) * (k[a] - k[c]))
            db = -(k[a] + k[c]) / ((k[b] - k[a]) * (k[b] - k[c]))
            dc = -(k[a] + k[b]) / ((k[c] - k[a]) * (k[c] - k[b]))
            printf "| %s | %d | %.6f | %.8f | %.4g |\n", lab, n, lin, q, da * y[a] + db * y[b] + dc * y[c]
        }' "$WORK/$label/points.md"
done
echo
echo "nodes_max $NODES_MAX; work directory: $WORK; load: $(uptime | sed 's/.*load average/load average/')"
