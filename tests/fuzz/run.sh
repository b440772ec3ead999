#!/usr/bin/env bash
# Run the libFuzzer targets of BUILD_DIR (configured with CC=clang -DAB_FUZZ=ON) for
# SECONDS each from the seed corpus (shipped problems, the bad-spec corpus, saved
# profiles, labels); prints each target's executions. New inputs go to a scratch directory; a
# crash leaves its reproducer in BUILD_DIR/fuzz-artifacts/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR SECONDS}
seconds=${2:?usage: tests/fuzz/run.sh BUILD_DIR SECONDS}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/fuzz-artifacts" "$scratch/fuzz_spec" "$scratch/fuzz_profile" "$scratch/fuzz_label"
run() { # target extra-flag seed-dirs...
  local target=$1 flag=$2; shift 2
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$target-" $flag "$scratch/$target" "$@" 2>"$scratch/$target.log" \
    || { tail -40 "$scratch/$target.log" >&2; echo "fuzz: $target failed" >&2; exit 1; }
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$target.log")
  echo "fuzz: $target: $execs executions in $seconds s, no failure"
}
run fuzz_spec -dict=tests/fuzz/spec.dict problems tests/data/bad_specs
run fuzz_profile -print_final_stats=1 tests/fuzz/seeds/profile tests/data/bad_specs/profiles
run fuzz_label -print_final_stats=1 tests/data/bad_specs/label_run/labels
