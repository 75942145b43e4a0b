//===- CommandLine.cpp - What the tools' --help shows ---------------------===//

#include "tools/common/CommandLine.h"

#include "llvm/ADT/STLExtras.h"

namespace cl = llvm::cl;

namespace sinter::tools {

void hideUnrelatedOptions(
    llvm::ArrayRef<const cl::OptionCategory *> categories) {
  for (auto &entry : cl::getRegisteredOptions()) {
    cl::Option *option = entry.second;
    bool related = llvm::any_of(option->Categories, [&](auto *category) {
      // --help, --version: LLVM does not export their category.
      return category->getName() == "Generic Options" ||
             llvm::is_contained(categories, category);
    });
    if (!related && option->getOptionHiddenFlag() == cl::NotHidden)
      option->setHiddenFlag(cl::Hidden);
  }
}

} // namespace sinter::tools
