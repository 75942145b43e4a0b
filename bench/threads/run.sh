#!/usr/bin/env bash
# Builds and runs bench/threads/fork_join.c: the cost of one parallel region
# under libomp and under a plain pthread pool, 1 and 2 threads, 5 runs each
# (medians go in bench/NOTES.md).
set -euo pipefail
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
clang-22 -O2 -fopenmp -std=c11 "$(dirname "$0")/fork_join.c" -o "$out/fork_join" -lpthread
for threads in 1 2; do
  for run in 1 2 3 4 5; do
    "$out/fork_join" "$threads"
  done
done
