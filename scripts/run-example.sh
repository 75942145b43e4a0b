#!/usr/bin/env bash
# Sets up, builds sinter and runs its main job on the example model shipped in
# examples/models/: parse and verify a GPT block written in the sinter
# dialect, canonicalize it, and print the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
source "$root/scripts/build-env.sh"

sinter_configure "$root/build"
cmake --build "$root/build" --target sinter-opt
model="$root/examples/models/gpt-block.mlir"
echo "== sinter-opt -canonicalize $model"
"$root/build/bin/sinter-opt" -canonicalize --mlir-elide-resource-strings-if-larger=64 "$model"
