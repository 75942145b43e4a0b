//===- CommandLine.h - What the tools' --help shows -------------*- C++ -*-===//
//
// The tools link libLLVM, which registers hundreds of options of its own
// (every backend's); --help shows only the tool's categories.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_COMMON_COMMANDLINE_H
#define SINTER_TOOLS_COMMON_COMMANDLINE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/CommandLine.h"

namespace sinter::tools {

/// Hides every option outside `categories` (and LLVM's generic ones,
/// --help and --version) from --help. Unlike cl::HideUnrelatedOptions,
/// which makes them ReallyHidden, they stay listed by --help-hidden and
/// --help-list-hidden.
void hideUnrelatedOptions(
    llvm::ArrayRef<const llvm::cl::OptionCategory *> categories);

} // namespace sinter::tools

#endif // SINTER_TOOLS_COMMON_COMMANDLINE_H
