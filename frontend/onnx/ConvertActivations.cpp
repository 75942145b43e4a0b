//===- ConvertActivations.cpp - Activation functions ----------------------===//
//
// The activation functions of CNNs and older exporters, decomposed into
// elementwise sinter ops at import, so that they fuse with their neighbours
// like any other elementwise chain. The forms are the stable ones: Softplus
// as max(x, 0) + log(1 + exp(-|x|)), never log(1 + exp(x)), which overflows
// for large x; Mish through that Softplus. Tested by
// test/lit/frontend/onnx/activations.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Decomposition.h"

using namespace mlir;

namespace sinter {
namespace {

/// ONNX's PRelu broadcasts the slope to X (one direction only).
LogicalResult convertPRelu(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  Value negative = d.op<LessOp>(x, d.scalar(0));
  Value scaled = d.op<MulOp>(x, node.input(1));
  Value result = d.op<WhereOp>(negative, scaled, x);
  if (result && result.getType() != x.getType())
    return node.error() << "the slope " << node.input(1).getType()
                        << " of PRelu does not broadcast to X " << x.getType();
  return d.finish(result);
}

/// alpha * (exp(x) - 1) where x < 0 (ELU's negative side), or null.
Value eluNegative(Decomposition &d, Value x, double alpha) {
  Value expm1 = d.op<SubOp>(d.op<ExpOp>(x), d.scalar(1));
  return alpha == 1.0 ? expm1 : d.op<MulOp>(expm1, d.scalar(alpha));
}

LogicalResult convertElu(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  double alpha = node.floatAttr("alpha", 1.0f);
  return d.finish(
      d.op<WhereOp>(d.op<LessOp>(x, d.scalar(0)), eluNegative(d, x, alpha), x));
}

LogicalResult convertSelu(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  double alpha = node.floatAttr("alpha", 1.67326319217681884765625f);
  double gamma = node.floatAttr("gamma", 1.05070102214813232421875f);
  Value elu = d.op<WhereOp>(d.op<LessEqualOp>(x, d.scalar(0)),
                            eluNegative(d, x, alpha), x);
  return d.finish(d.op<MulOp>(elu, d.scalar(gamma)));
}

/// max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
LogicalResult convertCelu(OnnxNode &node) {
  double alpha = node.floatAttr("alpha", 1.0f);
  if (alpha == 0.0)
    return node.error() << "unsupported alpha 0 of Celu: it divides by alpha";
  Decomposition d(node);
  Value x = node.input(0);
  Value negative = eluNegative(d, d.op<MulOp>(x, d.scalar(1.0 / alpha)), alpha);
  return d.finish(
      d.op<AddOp>(d.op<ReluOp>(x), d.op<MinOp>(negative, d.scalar(0))));
}

/// clip(alpha * x + beta, 0, 1).
Value hardSigmoid(Decomposition &d, Value x, double alpha, double beta) {
  Value linear = d.op<AddOp>(d.op<MulOp>(x, d.scalar(alpha)), d.scalar(beta));
  if (!d.ok())
    return {};
  OpBuilder b(linear.getContext());
  return d.op<ClipOp>(linear, b.getF64FloatAttr(0.0), b.getF64FloatAttr(1.0));
}

LogicalResult convertHardSigmoid(OnnxNode &node) {
  Decomposition d(node);
  return d.finish(hardSigmoid(d, node.input(0), node.floatAttr("alpha", 0.2f),
                              node.floatAttr("beta", 0.5f)));
}

LogicalResult convertHardSwish(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  return d.finish(d.op<MulOp>(x, hardSigmoid(d, x, 1.0 / 6.0, 0.5)));
}

/// max(x, 0) + log(1 + exp(-|x|)): exact, and no exp of a positive value.
Value softplus(Decomposition &d, Value x) {
  Value tail = d.op<LogOp>(
      d.op<AddOp>(d.scalar(1), d.op<ExpOp>(d.op<NegOp>(d.op<AbsOp>(x)))));
  return d.op<AddOp>(d.op<ReluOp>(x), tail);
}

LogicalResult convertSoftplus(OnnxNode &node) {
  Decomposition d(node);
  return d.finish(softplus(d, node.input(0)));
}

LogicalResult convertSoftsign(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  return d.finish(d.op<DivOp>(x, d.op<AddOp>(d.scalar(1), d.op<AbsOp>(x))));
}

LogicalResult convertMish(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  return d.finish(d.op<MulOp>(x, d.op<TanhOp>(softplus(d, x))));
}

LogicalResult convertSign(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  Value zero = d.scalar(0);
  Value negative = d.op<WhereOp>(d.op<LessOp>(x, zero), d.scalar(-1), zero);
  return d.finish(
      d.op<WhereOp>(d.op<GreaterOp>(x, zero), d.scalar(1), negative));
}

/// x + bias below -lambd, x - bias above lambd, 0 between.
LogicalResult convertShrink(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  double bias = node.floatAttr("bias", 0.0f);
  double lambd = node.floatAttr("lambd", 0.5f);
  Value above = d.op<WhereOp>(d.op<GreaterOp>(x, d.scalar(lambd)),
                              d.op<SubOp>(x, d.scalar(bias)), d.scalar(0));
  return d.finish(d.op<WhereOp>(d.op<LessOp>(x, d.scalar(-lambd)),
                                d.op<AddOp>(x, d.scalar(bias)), above));
}

LogicalResult convertThresholdedRelu(OnnxNode &node) {
  Decomposition d(node);
  Value x = node.input(0);
  return d.finish(
      d.op<WhereOp>(d.op<GreaterOp>(x, d.scalar(node.floatAttr("alpha", 1.0f))),
                    x, d.scalar(0)));
}

} // namespace

ArrayRef<OnnxConverterEntry> activationsConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("Celu", convertCelu),
      SINTER_ONNX_OP("Elu", convertElu),
      SINTER_ONNX_OP("HardSigmoid", convertHardSigmoid),
      SINTER_ONNX_OP_SINCE("HardSwish", 14, convertHardSwish),
      SINTER_ONNX_OP_SINCE("Mish", 18, convertMish),
      SINTER_ONNX_OP("PRelu", convertPRelu),
      SINTER_ONNX_OP("Selu", convertSelu),
      SINTER_ONNX_OP("Shrink", convertShrink),
      SINTER_ONNX_OP("Sign", convertSign),
      SINTER_ONNX_OP("Softplus", convertSoftplus),
      SINTER_ONNX_OP("Softsign", convertSoftsign),
      SINTER_ONNX_OP("ThresholdedRelu", convertThresholdedRelu),
  };
  return entries;
}

} // namespace sinter
