//===- OnnxConverterTableTest.cpp - The ONNX converter table --------------===//
//
// The families list their converters in any order; these tests check what
// the lookup relies on instead: every entry is found, no operator is listed
// twice, and the list `sinterc --list-ops` prints is sorted and stable.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterTable.h"

#include "llvm/ADT/DenseSet.h"

#include "gtest/gtest.h"

#include <string>
#include <utility>

namespace {

using sinter::OnnxConverterEntry;
using sinter::OnnxOpSupport;

std::string describe(const OnnxOpSupport &op) {
  return (op.domain.empty() ? std::string("ai.onnx") : op.domain.str()) +
         "::" + op.name.str();
}

TEST(OnnxConverterTable, EveryEntryIsFoundInItsOpsets) {
  for (const OnnxConverterEntry *entry : sinter::allOnnxConverters()) {
    const OnnxOpSupport &op = entry->support;
    SCOPED_TRACE(describe(op));
    ASSERT_LE(op.minOpset, op.maxOpset);
    EXPECT_EQ(sinter::findOnnxConverter(op.domain, op.name, op.minOpset),
              entry);
    EXPECT_EQ(sinter::findOnnxConverter(op.domain, op.name, op.maxOpset),
              entry);
    EXPECT_EQ(sinter::findOnnxConverter(op.domain, op.name, op.minOpset - 1),
              nullptr);
    EXPECT_EQ(sinter::findOnnxConverter(op.domain, op.name, op.maxOpset + 1),
              nullptr);
  }
}

TEST(OnnxConverterTable, UnknownOperatorsAreNotFound) {
  EXPECT_EQ(sinter::findOnnxConverter("", "NoSuchOp", 17), nullptr);
  // Names are per domain: MatMulNBits is com.microsoft's only.
  EXPECT_EQ(sinter::findOnnxConverter("", "MatMulNBits", 1), nullptr);
  EXPECT_EQ(sinter::findOnnxConverter("com.microsoft", "MatMul", 17),
            nullptr);
}

TEST(OnnxConverterTable, NoOperatorIsListedTwice) {
  llvm::DenseSet<std::pair<llvm::StringRef, llvm::StringRef>> seen;
  for (const OnnxConverterEntry *entry : sinter::allOnnxConverters())
    EXPECT_TRUE(
        seen.insert({entry->support.domain, entry->support.name}).second)
        << describe(entry->support) << " is listed twice";
}

TEST(OnnxConverterTable, SupportedListIsSortedAndComplete) {
  llvm::ArrayRef<OnnxOpSupport> ops = sinter::supportedOnnxOps();
  EXPECT_EQ(ops.size(), sinter::allOnnxConverters().size());
  for (size_t i = 1; i < ops.size(); ++i)
    EXPECT_LT(std::make_pair(ops[i - 1].domain, ops[i - 1].name),
              std::make_pair(ops[i].domain, ops[i].name))
        << describe(ops[i - 1]) << " before " << describe(ops[i]);
  // The same list (not a rebuilt one) on every call.
  EXPECT_EQ(sinter::supportedOnnxOps().data(), ops.data());
}

} // namespace
