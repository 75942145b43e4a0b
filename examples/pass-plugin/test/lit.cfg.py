import os

import lit.formats

config.name = "sinter-flops-plugin"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.plugin_dir, "test")
config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.environment.get("PATH", "")]
)
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.substitutions.append(("%sinter_opt", config.sinter_opt))
config.substitutions.append(
    ("%flops_plugin", os.path.join(config.plugin_dir, "SinterFlopsPlugin.so"))
)
