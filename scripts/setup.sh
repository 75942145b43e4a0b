#!/usr/bin/env bash
# Installs every Debian package that sinter's build, tests, benchmarks and docs need.
# Idempotent: when everything is already present it only checks and returns in a second.
#   scripts/setup.sh           what the build and tests need
#   scripts/setup.sh --bench   also the peers of bench/ (torchvision, Node.js for ONNX Runtime,
#                              which bench/models/run.py installs from npm)
set -euo pipefail

packages=(
  # MLIR/LLVM 22: headers, CMake packages, libMLIR.so, lit/FileCheck/not, clang and lld.
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
  # clang's libFuzzer and sanitizer runtimes: the fuzz targets (test/fuzz/).
  libclang-rt-22-dev
  # LLVM's OpenMP runtime: the threads of compiled models (libomp.so.5).
  libomp-22-dev
  # Build tooling.
  cmake ninja-build ccache g++
  # ONNX 1.12 C++ classes and its protobuf; the ONNX backend node tests.
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  # Non-MLIR helpers and ahead-of-time microkernel generators.
  libabsl-dev libhalide14-0-dev
  # Unit tests and microbenchmarks.
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # Test and benchmark scripts (Debian's own interpreter: /usr/bin/python3);
  # PyTorch is the reference of the convolution and recurrent-layer tests
  # (test/e2e/conv_numerics.py, control_flow_models.py).
  python3 python3-numpy python3-onnx python3-torch
  # A real browser for the test of sinterc --report (headless).
  chromium
)
if [[ "${1:-}" == --bench ]]; then
  # torchvision for the CNNs of bench/vision.
  packages+=(python3-torchvision)
  # A Node.js from elsewhere (with its own npm) serves as well as Debian's.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for fully configured packages.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
