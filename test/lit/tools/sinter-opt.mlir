// RUN: sinter-opt --show-dialects | FileCheck %s --check-prefix=DIALECTS
// RUN: sinter-opt --help | FileCheck %s --check-prefix=HELP

// Tests that sinter-opt registers the sinter dialect beside the upstream
// dialects it lowers through, and offers the plugin options.

// DIALECTS: Available Dialects:
// DIALECTS-SAME: linalg
// DIALECTS-SAME: sinter
// DIALECTS-SAME: tensor

// HELP: --load-dialect-plugin
// HELP: --load-pass-plugin
