#!/usr/bin/env bash
# Sets up, builds and runs the tests: every test but the slow ones in a
# release build, then the memory-safety subset (lit, unit, fuzz and the
# sanitize-labelled end-to-end tests) under AddressSanitizer +
# UndefinedBehaviorSanitizer. docs/building.md lists the labels.
#   scripts/test.sh              both builds (what CI runs)
#   SINTER_SKIP_SANITIZE=1 ...   release build only (quicker, for development)
#   SINTER_TEST_LABELS=REGEX ... release build: only the tests whose labels
#                                match (ctest -L), e.g. 'unit|lit'
#   SINTER_FUZZ_BUILD=1 ...      also the libFuzzer build (clang) and its
#                                short fuzzing runs (test/fuzz/README.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$SECONDS
"$root/scripts/setup.sh"
source "$root/scripts/build-env.sh"

# run_suite BUILD_DIR "CTEST_SELECTION..." [CMAKE_ARGS...]
run_suite() {
  local build=$1 selection=$2
  shift 2
  local t0=$SECONDS
  sinter_configure "$build" "$@"
  cmake --build "$build"
  echo "test.sh: $(basename "$build") built in $((SECONDS - t0)) s"
  # shellcheck disable=SC2086 # the selection is several ctest arguments
  ctest --test-dir "$build" --output-on-failure -j2 $selection
  echo "test.sh: $(basename "$build") built and tested in $((SECONDS - t0)) s"
}

if [[ -n "${SINTER_TEST_LABELS:-}" ]]; then
  run_suite "$root/build" "-L ${SINTER_TEST_LABELS}"
else
  run_suite "$root/build" "-LE slow"
fi
if [[ "${SINTER_SKIP_SANITIZE:-0}" != 1 ]]; then
  run_suite "$root/build-sanitize" "-L ^(unit|lit|fuzz|sanitize)$" \
    -DSINTER_SANITIZE=ON
fi
if [[ "${SINTER_FUZZ_BUILD:-0}" == 1 ]]; then
  run_suite "$root/build-fuzz" "-L ^fuzz$" -DSINTER_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DSINTER_WERROR=OFF -DSINTER_BUILD_EXAMPLES=OFF
fi
echo "test.sh: total $((SECONDS - start)) s"
