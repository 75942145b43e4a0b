#!/usr/bin/env bash
# Sets up, builds and runs every test: once in a release build and once under
# AddressSanitizer + UndefinedBehaviorSanitizer.
#   scripts/test.sh              both builds (what CI runs)
#   SINTER_SKIP_SANITIZE=1 ...   release build only (quicker, for development)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
source "$root/scripts/build-env.sh"

run_suite() {
  local build=$1
  shift
  sinter_configure "$build" "$@"
  cmake --build "$build"
  ctest --test-dir "$build" --output-on-failure -j2
}

run_suite "$root/build"
if [[ "${SINTER_SKIP_SANITIZE:-0}" != 1 ]]; then
  run_suite "$root/build-sanitize" -DSINTER_SANITIZE=ON
fi
