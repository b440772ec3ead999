#!/usr/bin/env bash
# One-step set-up for attnbif on Debian 12: installs the missing Debian packages, configures,
# builds, then runs the default problem (`run`), the test suite (`test`), or the test suite
# under AddressSanitizer + UndefinedBehaviorSanitizer (`sanitize`).
set -euo pipefail
cd "$(dirname "$0")"

usage() { echo "usage: ./quickstart.sh run|test|sanitize" >&2; exit 2; }
[ $# -eq 1 ] || usage

packages=(build-essential cmake pkg-config liblapacke-dev libblas-dev libarpack2-dev libgsl-dev libyaml-dev libfftw3-dev librsvg2-bin)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "quickstart: installing ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "quickstart: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

build() { # build DIR [cmake options...]; $AB_CMAKE_OPTIONS adds more (CI: -DAB_WERROR=ON)
  local dir=$1; shift
  # shellcheck disable=SC2086 # word splitting of AB_CMAKE_OPTIONS is intended
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" ${AB_CMAKE_OPTIONS:-} >&2
  cmake --build "$dir" -j"$(nproc)" >&2
}

install_missing
case "$1" in
  run)
    build build
    ./build/attnbif run problems/default.yaml
    ;;
  test)
    build build
    # the tests are independent (each writes under its own temporary directory): one per core
    ctest --test-dir build --output-on-failure -j"$(nproc)"
    ;;
  sanitize)
    build build-sanitize -DAB_SANITIZE=ON
    # Two long tests whose time goes to code the other tests already run under the
    # sanitizers are left out here (docs/testing.md): the independent sphere reference's dense
    # LUs, and a 40-step run whose re-discretisation test_regrid covers.
    ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)" -E 'test_ref_sphere|test_small_noise_run|test_sphere_multiple'
    ;;
  *) usage ;;
esac
