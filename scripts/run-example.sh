#!/usr/bin/env bash
# Sets up, builds sinter and runs its main job on models shipped in the
# repository:
#   1. a GPT-2 block written by hand in the sinter dialect, canonicalized;
#   2. a real PyTorch export (test/models/gpt-tiny): checked, compiled to an
#      object file for this CPU, and run through the same pipeline under
#      MLIR's JIT against its reference outputs.
# (The deployable artifact and sinter-run replace step 2's JIT run next.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
source "$root/scripts/build-env.sh"

sinter_configure "$root/build"
cmake --build "$root/build" --target sinter-opt sinterc
bin="$root/build/bin"
model="$root/test/models/gpt-tiny"
out="$root/build/example"
mkdir -p "$out"

echo "== sinter-opt -canonicalize examples/models/gpt-block.mlir"
"$bin/sinter-opt" -canonicalize --mlir-elide-resource-strings-if-larger=64 \
  "$root/examples/models/gpt-block.mlir"

echo "== sinterc --check test/models/gpt-tiny/model.onnx"
"$bin/sinterc" --check "$model/model.onnx"

echo "== sinterc test/models/gpt-tiny/model.onnx --emit=obj -o build/example/gpt-tiny.o"
time "$bin/sinterc" "$model/model.onnx" --emit=obj -o "$out/gpt-tiny.o"
ls -l "$out/gpt-tiny.o"

echo "== run under the JIT and compare with the reference outputs"
/usr/bin/python3 "$root/test/e2e/run_model.py" --bin "$bin" --model "$model"
