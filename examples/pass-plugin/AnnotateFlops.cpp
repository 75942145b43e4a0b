//===- AnnotateFlops.cpp - Count the FLOPs of sinter ops ------------------===//
//
// A small real pass written against sinter's C++ API, built out of tree and
// loaded as a plugin. It shows the pieces a pass author needs: the ODS pass
// declaration, matching sinter ops by class, reading their types, and
// attaching results as attributes.
//
//===----------------------------------------------------------------------===//

#include "Passes.h"

#include "ir/SinterOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <optional>

namespace flops_plugin {
#define GEN_PASS_DEF_ANNOTATEFLOPS
#include "Passes.h.inc"
} // namespace flops_plugin

using namespace mlir;

namespace {

/// Product of `shape`, or nullopt if a size is dynamic or it overflows.
std::optional<int64_t> product(ArrayRef<int64_t> shape) {
  int64_t result = 1;
  for (int64_t size : shape)
    if (ShapedType::isDynamic(size) ||
        __builtin_mul_overflow(result, size, &result))
      return std::nullopt;
  return result;
}

/// 2 x (number of multiply-adds), i.e. 2 * |result| * K for a contraction.
std::optional<int64_t> contractionFlops(Value result, int64_t k) {
  std::optional<int64_t> outputs =
      product(cast<ShapedType>(result.getType()).getShape());
  int64_t flops;
  if (!outputs || ShapedType::isDynamic(k) ||
      __builtin_mul_overflow(*outputs, 2 * k, &flops))
    return std::nullopt;
  return flops;
}

std::optional<int64_t> countFlops(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<int64_t>>(op)
      .Case([](sinter::MatmulOp matmul) {
        return contractionFlops(matmul.getResult(),
                                matmul.getLhs().getType().getShape().back());
      })
      .Case([](sinter::LinearOp linear) {
        return contractionFlops(linear.getResult(),
                                linear.getInput().getType().getShape().back());
      })
      .Case([](sinter::ConvOp conv) -> std::optional<int64_t> {
        // Each output element sums C/group x kernel-window products.
        std::optional<int64_t> window =
            product(conv.getWeight().getType().getShape().drop_front());
        if (!window)
          return std::nullopt;
        return contractionFlops(conv.getResult(), *window);
      })
      .Case([](sinter::AttentionOp attention) -> std::optional<int64_t> {
        // Q x K^T over the head size, then P x V over the key positions.
        ArrayRef<int64_t> q = attention.getQuery().getType().getShape();
        ArrayRef<int64_t> v = attention.getValue().getType().getShape();
        std::optional<int64_t> scores = product({q[0], q[1], q[2], v[2]});
        int64_t flops;
        if (!scores || ShapedType::isDynamic(q[3]) ||
            ShapedType::isDynamic(v[3]) ||
            __builtin_mul_overflow(*scores, 2 * (q[3] + v[3]), &flops))
          return std::nullopt;
        return flops;
      })
      .Default([](Operation *) { return std::nullopt; });
}

struct AnnotateFlopsPass
    : flops_plugin::impl::AnnotateFlopsBase<AnnotateFlopsPass> {
  using AnnotateFlopsBase::AnnotateFlopsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Builder builder(&getContext());
    int64_t total = 0, unknown = 0;
    func.walk([&](Operation *op) {
      if (!isa<sinter::MatmulOp, sinter::LinearOp, sinter::ConvOp,
               sinter::AttentionOp>(op))
        return;
      std::optional<int64_t> flops = countFlops(op);
      if (!flops) {
        ++unknown;
        return;
      }
      op->setAttr("sinter.flops", builder.getI64IntegerAttr(*flops));
      if (emitRemarks)
        op->emitRemark() << *flops << " FLOPs";
      total += *flops;
    });
    func->setAttr("sinter.total_flops", builder.getI64IntegerAttr(total));
    if (unknown)
      func->setAttr("sinter.unknown_flops_ops",
                    builder.getI64IntegerAttr(unknown));
  }
};

} // namespace
