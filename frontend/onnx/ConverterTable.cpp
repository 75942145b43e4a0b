//===- ConverterTable.cpp - Lookup of ONNX operator converters ------------===//
//
// Gathers the families' lists into one map keyed by (domain, name) at first
// use. An operator listed twice is an internal error, reported when the map
// is built (and checked by test/unit/OnnxConverterTableTest.cpp).
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterTable.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"

#include <string>
#include <utility>

using namespace mlir;

namespace sinter {
namespace {

using OpKey = std::pair<StringRef, StringRef>;

const DenseMap<OpKey, const OnnxConverterEntry *> &converterMap() {
  static const DenseMap<OpKey, const OnnxConverterEntry *> map = [] {
    DenseMap<OpKey, const OnnxConverterEntry *> entries;
    for (const OnnxConverterEntry *entry : allOnnxConverters()) {
      OpKey key{entry->support.domain, entry->support.name};
      if (!entries.try_emplace(key, entry).second)
        llvm::report_fatal_error(llvm::Twine("ONNX operator ") + key.second +
                                 " (domain '" + key.first +
                                 "') has two converters");
    }
    return entries;
  }();
  return map;
}

} // namespace

std::vector<const OnnxConverterEntry *> allOnnxConverters() {
  std::vector<const OnnxConverterEntry *> all;
  for (ArrayRef<OnnxConverterEntry> family :
       {elementwiseConverters(), contractionsConverters(),
        reductionsConverters(), shapesConverters(), dataMovementConverters(),
        constantsConverters(), quantizationConverters(),
        comMicrosoftConverters(), controlFlowConverters(),
        recurrentConverters(), resizePadConverters(), visionConverters(),
        normalizationConverters(), activationsConverters(), mathConverters(),
        reductionFormsConverters(), generatorsConverters()})
    for (const OnnxConverterEntry &entry : family)
      all.push_back(&entry);
  return all;
}

ArrayRef<OnnxOpSupport> supportedOnnxOps() {
  // Sorted by domain, then name: `sinterc --list-ops` prints it as it is.
  static const std::vector<OnnxOpSupport> ops = [] {
    std::vector<OnnxOpSupport> list;
    for (const auto &entry : converterMap())
      list.push_back(entry.second->support);
    llvm::sort(list, [](const OnnxOpSupport &a, const OnnxOpSupport &b) {
      return OpKey(a.domain, a.name) < OpKey(b.domain, b.name);
    });
    return list;
  }();
  return ops;
}

const OnnxConverterEntry *findOnnxConverter(StringRef domain, StringRef name,
                                            int64_t opset) {
  const auto &map = converterMap();
  auto it = map.find(OpKey(domain, name));
  if (it == map.end() || opset < it->second->support.minOpset ||
      opset > it->second->support.maxOpset)
    return nullptr;
  return it->second;
}

} // namespace sinter
