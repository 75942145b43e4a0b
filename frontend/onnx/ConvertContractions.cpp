//===- ConvertContractions.cpp - MatMul, Gemm, Einsum ---------------------===//
//
// Contractions: MatMul, Gemm and Einsum (Conv is in ConvertVision.cpp).
// Tested by test/lit/frontend/onnx/contractions.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

using namespace mlir;

namespace sinter {
namespace {

LogicalResult convertMatMul(OnnxNode &node) {
  FailureOr<MatmulOp> op = node.create<MatmulOp>(node.input(0), node.input(1));
  return failed(op) ? failure() : finish(node, op->getResult());
}

LogicalResult convertGemm(OnnxNode &node) {
  Value a = node.input(0), b = node.input(1);
  if (node.inputType(0).getRank() != 2 || node.inputType(1).getRank() != 2)
    return node.error() << "Gemm expects 2-D A and B, got " << a.getType()
                        << " and " << b.getType();
  if (node.intAttr("transA", 0)) {
    FailureOr<TransposeOp> t =
        node.create<TransposeOp>(a, ArrayRef<int64_t>{1, 0});
    if (failed(t))
      return failure();
    a = t->getResult();
  }
  bool transB = node.intAttr("transB", 0) != 0;
  float alpha = node.floatAttr("alpha", 1.0f),
        beta = node.floatAttr("beta", 1.0f);
  Value c = node.input(2);
  Type elementType = getElementTypeOrSelf(a.getType());
  // The common case, y = x W^T + b, is one sinter.linear.
  int64_t n = cast<RankedTensorType>(b.getType()).getDimSize(transB ? 0 : 1);
  auto cType = c ? cast<RankedTensorType>(c.getType()) : nullptr;
  bool biasFits = c && beta == 1.0f && alpha == 1.0f && cType.getRank() == 1 &&
                  cType.getDimSize(0) == n && !ShapedType::isDynamic(n);
  FailureOr<LinearOp> linear =
      node.create<LinearOp>(a, b, biasFits ? c : Value(), transB);
  if (failed(linear))
    return failure();
  Value result = linear->getResult();
  if (alpha != 1.0f) {
    FailureOr<MulOp> scaled =
        node.create<MulOp>(result, scalarConstant(node, elementType, alpha));
    if (failed(scaled))
      return failure();
    result = scaled->getResult();
  }
  if (c && !biasFits && beta != 0.0f) {
    if (beta != 1.0f) {
      FailureOr<MulOp> scaled =
          node.create<MulOp>(c, scalarConstant(node, elementType, beta));
      if (failed(scaled))
        return failure();
      c = scaled->getResult();
    }
    FailureOr<AddOp> sum = node.create<AddOp>(result, c);
    if (failed(sum))
      return failure();
    result = sum->getResult();
  }
  return finish(node, result);
}

/// Einsum in the forms that are one (batched) matrix product: every letter
/// is a batch letter (both inputs and the output), or appears in one input
/// and the output (at most one such letter per input), or is contracted
/// (both inputs, not the output; exactly one).
LogicalResult convertEinsum(OnnxNode &node) {
  std::string equation = node.stringAttr("equation", "");
  equation.erase(llvm::remove_if(equation, ::isspace), equation.end());
  auto unsupported = [&]() {
    return node.error() << "unsupported Einsum equation '" << equation
                        << "': sinter supports the matrix-product forms like "
                           "'bij,bjk->bik' and 'bhqd,bhkd->bhqk'";
  };
  size_t arrow = equation.find("->"), comma = equation.find(',');
  if (node.numInputs() != 2 || arrow == std::string::npos ||
      comma == std::string::npos || comma > arrow ||
      equation.find("...") != std::string::npos)
    return unsupported();
  std::string lhs = equation.substr(0, comma),
              rhs = equation.substr(comma + 1, arrow - comma - 1),
              out = equation.substr(arrow + 2);
  Value a = node.input(0), b = node.input(1);
  if (lhs.size() != static_cast<size_t>(node.inputType(0).getRank()) ||
      rhs.size() != static_cast<size_t>(node.inputType(1).getRank()))
    return node.error() << "Einsum equation '" << equation
                        << "' does not match the input ranks";
  std::string batch, m, n, k;
  for (char c : lhs) {
    bool inRhs = rhs.find(c) != std::string::npos,
         inOut = out.find(c) != std::string::npos;
    if (inRhs && inOut)
      batch += c;
    else if (inRhs)
      k += c;
    else if (inOut)
      m += c;
    else
      return unsupported();
  }
  for (char c : rhs)
    if (lhs.find(c) == std::string::npos) {
      if (out.find(c) == std::string::npos)
        return unsupported();
      n += c;
    }
  if (k.size() != 1 || m.size() != 1 || n.size() != 1 ||
      out.size() != batch.size() + 2)
    return unsupported();
  // Transpose each input to [batch..., m, k] and [batch..., k, n].
  auto permuted = [&](Value value, const std::string &have,
                      const std::string &want) -> FailureOr<Value> {
    SmallVector<int64_t> perm;
    for (char c : want)
      perm.push_back(have.find(c));
    if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
      return value;
    FailureOr<TransposeOp> t = node.create<TransposeOp>(value, perm);
    if (failed(t))
      return failure();
    return t->getResult();
  };
  FailureOr<Value> lhsValue = permuted(a, lhs, batch + m + k);
  FailureOr<Value> rhsValue = permuted(b, rhs, batch + k + n);
  if (failed(lhsValue) || failed(rhsValue))
    return failure();
  FailureOr<MatmulOp> product = node.create<MatmulOp>(*lhsValue, *rhsValue);
  if (failed(product))
    return failure();
  FailureOr<Value> result = permuted(product->getResult(), batch + m + n, out);
  return failed(result) ? failure() : finish(node, *result);
}

} // namespace

ArrayRef<OnnxConverterEntry> contractionsConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("Einsum", convertEinsum),
      SINTER_ONNX_OP("Gemm", convertGemm),
      SINTER_ONNX_OP("MatMul", convertMatMul),
  };
  return entries;
}

} // namespace sinter
