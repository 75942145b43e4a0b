#!/usr/bin/env bash
# Sets up, builds sinter and runs its main job on a model shipped in the
# repository, a small GPT exported from PyTorch (test/models/gpt-tiny):
#   1. sinterc --check: the model's operators, all supported;
#   2. sinterc -o: compile it into a deployable artifact for this CPU
#      (gpt.so + gpt.h + gpt.weights), with its memory figures;
#   3. sinter-run: run the artifact on the model's reference input, compare
#      with PyTorch's outputs (atol 1e-5, rtol 1e-4) and time 20 runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
source "$root/scripts/build-env.sh"

sinter_configure "$root/build"
cmake --build "$root/build" --target sinterc sinter-run
bin="$root/build/bin"
model="$root/test/models/gpt-tiny"
out="$root/build/example"

echo "== sinterc --check test/models/gpt-tiny/model.onnx"
"$bin/sinterc" --check "$model/model.onnx"

echo "== sinterc test/models/gpt-tiny/model.onnx -o build/example/gpt --stats"
time "$bin/sinterc" "$model/model.onnx" -o "$out/gpt" --stats
ls -l "$out"

echo "== sinter-run build/example/gpt.so --data test/models/gpt-tiny/test_data_set_0"
"$bin/sinter-run" "$out/gpt.so" --data "$model/test_data_set_0" --runs 20
