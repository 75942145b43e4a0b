# lit configuration of sinter's FileCheck tests. The test tree mirrors the
# source tree: ir/ for the dialect, tools/ for the drivers.
import os
import subprocess

import lit.formats

config.name = "sinter"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py", "README.md"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.sinter_obj_root, "test", "lit")

# sinter's tools first, then FileCheck and not from LLVM 22.
config.environment["PATH"] = os.pathsep.join(
    [config.sinter_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(("%sinter_src_root", config.sinter_src_root))
config.substitutions.append(("%sinter_obj_root", config.sinter_obj_root))
config.substitutions.append(("%sinter_lib_dir", config.sinter_lib_dir))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%cmake_generator", config.cmake_generator))
config.substitutions.append(("%cmake_cxx_compiler", config.cmake_cxx_compiler))
config.substitutions.append(("%cmake_build_type", config.cmake_build_type))

# The shared model set lies beside the checkout on development machines and
# in CI; tests that read it say REQUIRES: shared-models.
shared_models = os.path.join(os.path.dirname(config.sinter_src_root), "shared", "models")
if os.path.isdir(shared_models):
    config.available_features.add("shared-models")
    config.substitutions.append(("%shared_models", shared_models))

if config.sinter_sanitize:
    config.available_features.add("sanitizer")

# Tests that mount a small tmpfs (a full or read-only disk) do it in a mount
# namespace of their own (unshare -rm), which some machines refuse.
try:
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=4k none /mnt"],
        capture_output=True, timeout=20)
    if probe.returncode == 0:
        config.available_features.add("mount-namespaces")
except (OSError, subprocess.SubprocessError):
    pass
if config.sinter_build_examples:
    config.available_features.add("examples")
