//===- ConvertComMicrosoft.cpp - com.microsoft operators ------------------===//
//
// ONNX Runtime's contrib operators (domain com.microsoft): MatMulNBits.
// Tested by test/lit/frontend/onnx/com-microsoft.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace sinter {
namespace {

/// The bytes of a constant input (uint8 tensors of MatMulNBits).
std::optional<std::vector<uint8_t>> constantBytes(Value value) {
  auto constant = value ? value.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant)
    return std::nullopt;
  auto type = cast<RankedTensorType>(constant.getType());
  Attribute attr = constant.getValue();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    const AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    return std::vector<uint8_t>(data.begin(), data.end());
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  std::vector<uint8_t> bytes;
  for (const APInt &v : dense.getValues<APInt>())
    bytes.push_back(uint8_t(v.getZExtValue()));
  if (int64_t(bytes.size()) != type.getNumElements())
    return std::nullopt;
  return bytes;
}

/// ONNX Runtime's MatMulNBits (com.microsoft): A [..., K] times a weight of
/// N x K unsigned `bits`-bit integers stored in blocks along k, with a
/// scale and a zero point per (n, block); becomes sinter.linear of a
/// sinter.dequantize, which code generation runs as the quantized kernel.
LogicalResult convertMatMulNBits(OnnxNode &node) {
  if (node.numInputs() < 3 || node.numInputs() > 6 || !node.hasInput(1) ||
      !node.hasInput(2))
    return node.error() << "MatMulNBits takes A, B, scales and optionally "
                           "zero_points, g_idx and bias (3 to 6 inputs), got "
                        << node.numInputs();
  if (node.hasInput(4))
    return node.error() << "g_idx (act-order) is not supported";
  int64_t k = node.intAttr("K", -1), n = node.intAttr("N", -1),
          bits = node.intAttr("bits", 4),
          block = node.intAttr("block_size", -1);
  if (bits != 4 && bits != 8)
    return node.error() << "bits=" << bits << " is not supported (4 and 8 are)";
  if (k < 1 || n < 1 || block < 16 || !llvm::isPowerOf2_64(block))
    return node.error() << "needs K >= 1, N >= 1 and a block_size that is a "
                           "power of 2 >= 16, got K="
                        << k << " N=" << n << " block_size=" << block;
  const int64_t blocks = (k + block - 1) / block, blobBytes = block * bits / 8;
  RankedTensorType a = node.inputType(0), b = node.inputType(1),
                   scales = node.inputType(2);
  if (a.getRank() < 1 ||
      (!ShapedType::isDynamic(a.getShape().back()) && a.getShape().back() != k))
    return node.error() << "A must end in K = " << k << ", got " << a;
  if (b.getShape() != ArrayRef<int64_t>{n, blocks, blobBytes} ||
      !b.getElementType().isUnsignedInteger(8))
    return node.error() << "B must be uint8 [N, blocks, block_size * bits / 8]"
                        << " = [" << n << ", " << blocks << ", " << blobBytes
                        << "], got " << b;
  if (scales.getNumElements() != n * blocks)
    return node.error() << "scales must hold N x blocks = " << n * blocks
                        << " elements, got " << scales;
  std::optional<std::vector<uint8_t>> packed = constantBytes(node.input(1));
  if (!packed)
    return node.error() << "B must be a constant (an initializer)";
  // Unpack to one value per byte, element 2i in the low nibble; the
  // padding past K in the last block is dropped.
  auto unpack = [&](const std::vector<uint8_t> &bytes, int64_t rows,
                    int64_t perRow, int64_t stride) {
    std::vector<uint8_t> values(rows * perRow);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < perRow; ++i) {
        uint8_t byte = bytes[r * stride + (bits == 8 ? i : i / 2)];
        values[r * perRow + i] =
            bits == 8 ? byte : uint8_t(i % 2 ? byte >> 4 : byte & 15);
      }
    return values;
  };
  MLIRContext *context = node.context();
  Type intType = IntegerType::get(context, bits, IntegerType::Unsigned);
  auto bytesAttr = [&](ArrayRef<int64_t> shape, const std::vector<uint8_t> &v) {
    return DenseElementsAttr::getFromRawBuffer(
        RankedTensorType::get(shape, intType),
        ArrayRef<char>(reinterpret_cast<const char *>(v.data()), v.size()));
  };
  Value q = node.constant(
      bytesAttr({n, k}, unpack(*packed, n, k, blocks * blobBytes)));
  Value zeroPoint;
  if (node.hasInput(3)) {
    RankedTensorType zpType = node.inputType(3);
    if (!zpType.getElementType().isUnsignedInteger(8))
      return node.error() << "zero points of type " << zpType.getElementType()
                          << " are not supported (packed uint8 are)";
    int64_t perRow = bits == 8 ? blocks : (blocks + 1) / 2;
    std::optional<std::vector<uint8_t>> zp = constantBytes(node.input(3));
    if (!zp || int64_t(zp->size()) != n * perRow)
      return node.error() << "zero_points must be a constant of N x " << perRow
                          << " bytes";
    zeroPoint =
        node.constant(bytesAttr({n, blocks}, unpack(*zp, n, blocks, perRow)));
  } else {
    zeroPoint = node.constant(
        DenseElementsAttr::get(RankedTensorType::get({n, blocks}, intType),
                               APInt(bits, uint64_t(1) << (bits - 1))));
  }
  // The scales as [N, blocks]: a constant is given the new shape in place
  // (code generation packs the weight only from constants).
  auto scaleType = RankedTensorType::get({n, blocks}, scales.getElementType());
  Value scale;
  if (auto constant = node.input(2).getDefiningOp<ConstantOp>()) {
    Attribute attr = constant.getValue();
    if (auto dense = dyn_cast<DenseElementsAttr>(attr))
      scale = node.constant(dense.reshape(scaleType));
    else if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      scale = ConstantOp::create(
          node.builder(), node.loc(),
          DenseResourceElementsAttr::get(scaleType, resource.getRawHandle()));
  }
  if (!scale) {
    FailureOr<ReshapeOp> reshaped = node.create<ReshapeOp>(
        node.input(2), ValueRange{}, ArrayRef<int64_t>{n, blocks});
    if (failed(reshaped))
      return failure();
    scale = reshaped->getResult();
  }
  FailureOr<DequantizeOp> weight = node.createTyped<DequantizeOp>(
      RankedTensorType::get({n, k}, a.getElementType()), q, scale, zeroPoint,
      int64_t(1), block);
  if (failed(weight))
    return failure();
  FailureOr<LinearOp> op =
      node.create<LinearOp>(node.input(0), weight->getResult(), node.input(5),
                            /*transpose_weight=*/true);
  return failed(op) ? failure() : finish(node, op->getResult());
}

} // namespace

ArrayRef<OnnxConverterEntry> comMicrosoftConverters() {
  static const OnnxConverterEntry entries[] = {
      {{"com.microsoft", "MatMulNBits", 1, 1}, convertMatMulNBits},
  };
  return entries;
}

} // namespace sinter
