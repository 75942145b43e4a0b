//===- ConvertResizePad.cpp - Resampling, padding, block moves ------------===//
//
// Resize and Upsample (sinter.resize), Pad (sinter.pad), DepthToSpace and
// SpaceToDepth (reshape, transpose, reshape), GatherND and ScatterND (one
// Gather / ScatterElements of a flattened table). Scales, sizes, roi and
// pads must be known at import: they fix the output shape and the
// resampling tables. The constant of a constant Pad is read at run time.
// Tested by test/lit/frontend/onnx/resize-pad.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;

namespace sinter {
namespace {

/// The elements of a constant float input, or an error naming `what` with
/// the "unsupported dynamic value" prefix that --freeze-input answers.
FailureOr<SmallVector<double>> constantFloats(OnnxNode &node, size_t i,
                                              StringRef what) {
  DenseElementsAttr attr;
  if (!matchPattern(node.input(i), m_Constant(&attr)) ||
      !isa<FloatType>(attr.getElementType()))
    return node.error() << "unsupported dynamic value: " << what << " (input "
                        << i << ", '" << node.proto().input(i)
                        << "') must be a float constant known when the model "
                           "is imported";
  SmallVector<double> values;
  for (const APFloat &value : attr.getValues<APFloat>())
    values.push_back(value.convertToDouble());
  return values;
}

/// Whether input `i` is present and holds at least one element (exporters
/// pass empty tensors for the unused one of scales and sizes).
bool hasElements(OnnxNode &node, size_t i) {
  if (!node.hasInput(i))
    return false;
  RankedTensorType type = node.inputType(i);
  return !type.hasStaticShape() || type.getNumElements() != 0;
}

/// `values` (given for `axes`) spread over every dimension of `rank`; the
/// others get `fill`.
template <typename T>
FailureOr<SmallVector<T>>
spreadOverAxes(OnnxNode &node, ArrayRef<T> values,
               std::optional<SmallVector<int64_t>> axes, int64_t rank, T fill,
               StringRef what) {
  int64_t count = axes ? axes->size() : rank;
  if (static_cast<int64_t>(values.size()) != count)
    return node.error() << "expected " << count << " " << what << ", not "
                        << values.size();
  if (!axes)
    return SmallVector<T>(values);
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(node, *axes, rank);
  if (failed(normalized))
    return failure();
  SmallVector<T> result(rank, fill);
  for (auto [axis, value] : llvm::zip_equal(*normalized, values))
    result[axis] = value;
  return result;
}

//===----------------------------------------------------------------------===//
// Resize and Upsample
//===----------------------------------------------------------------------===//

/// One resampling request, in Resize's terms: what Resize (every opset) and
/// Upsample (opsets 7 to 9, the same as Resize-10 with `asymmetric`
/// coordinates and `floor` rounding) both build and hand to
/// `emitResize`. Exactly one of `scales` and `sizes` is set; both cover
/// every dimension.
struct ResizeRequest {
  std::string mode = "nearest";
  std::string coordinates = "half_pixel";
  std::string nearestMode = "round_prefer_floor";
  double cubicA = -0.75;
  bool excludeOutside = false;
  double extrapolation = 0;
  std::string aspectPolicy = "stretch";
  std::optional<SmallVector<double>> scales;
  std::optional<SmallVector<int64_t>> sizes;
  SmallVector<double> roi; ///< Starts then ends; empty unless cropping.
  /// The axes that `sizes` decides the common scale over
  /// (keep_aspect_ratio_policy); every axis when empty.
  SmallVector<int64_t> policyAxes;
};

/// Resamples `input` as `request` says and sets output 0: computes the
/// output sizes (floor(size * scale), or `sizes`), and the scales from the
/// sizes where sizes are given.
LogicalResult emitResize(OnnxNode &node, Value input,
                         const ResizeRequest &request) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  bool crop = request.coordinates == "tf_crop_and_resize";
  if (crop && static_cast<int64_t>(request.roi.size()) != 2 * rank)
    return node.error() << "tf_crop_and_resize needs a roi of " << 2 * rank
                        << " values, not " << request.roi.size();
  SmallVector<double> scales(rank, 1.0);
  SmallVector<int64_t> sizes(rank, ShapedType::kDynamic);
  auto needStatic = [&](int64_t d) -> LogicalResult {
    if (!type.isDynamicDim(d))
      return success();
    return node.error() << "unsupported Resize of dimension " << d << " of "
                        << type << ": its size is not known at import";
  };
  if (request.sizes) {
    if (request.aspectPolicy != "stretch") {
      // One scale for the policy's axes: the smallest or largest ratio.
      std::optional<double> common;
      for (int64_t d = 0; d < rank; ++d) {
        if (!request.policyAxes.empty() &&
            !llvm::is_contained(request.policyAxes, d))
          continue;
        if (failed(needStatic(d)))
          return failure();
        double ratio = static_cast<double>((*request.sizes)[d]) /
                       static_cast<double>(type.getDimSize(d));
        if (!common)
          common = ratio;
        else
          common = request.aspectPolicy == "not_larger"
                       ? std::min(*common, ratio)
                       : std::max(*common, ratio);
      }
      for (int64_t d = 0; d < rank; ++d) {
        if (!request.policyAxes.empty() &&
            !llvm::is_contained(request.policyAxes, d)) {
          sizes[d] = (*request.sizes)[d];
          continue;
        }
        double size = std::floor(*common * type.getDimSize(d) + 0.5);
        if (!(size >= 0 && size <= static_cast<double>(kMaxTensorElements)))
          return node.error() << "keep_aspect_ratio_policy gives an output "
                                 "size out of range";
        scales[d] = *common;
        sizes[d] = static_cast<int64_t>(size);
      }
    } else {
      for (int64_t d = 0; d < rank; ++d) {
        int64_t size = (*request.sizes)[d];
        if (type.isDynamicDim(d) && ShapedType::isDynamic(size))
          continue;
        if (failed(needStatic(d)))
          return failure();
        if (size < 0 || size > kMaxTensorElements)
          return node.error() << "size " << size << " of dimension " << d
                              << " is out of range";
        sizes[d] = size;
        scales[d] = static_cast<double>(size) / type.getDimSize(d);
      }
    }
  } else {
    for (int64_t d = 0; d < rank; ++d) {
      double scale = (*request.scales)[d];
      if (!(scale > 0))
        return node.error() << "scale " << scale << " of dimension " << d
                            << " is not positive";
      scales[d] = scale;
      double extent = crop ? request.roi[d + rank] - request.roi[d] : 1.0;
      if (type.isDynamicDim(d) && scale == 1 && !crop)
        continue;
      if (failed(needStatic(d)))
        return failure();
      double size = std::floor(type.getDimSize(d) * extent * scale);
      if (!(size >= 0 && size <= static_cast<double>(kMaxTensorElements)))
        return node.error() << "scale " << scale << " of dimension " << d
                            << " gives an output size out of range";
      sizes[d] = static_cast<int64_t>(size);
    }
  }
  for (int64_t d = 0; d < rank; ++d)
    if (sizes[d] > kMaxTensorElements)
      return node.error() << "output size " << sizes[d] << " of dimension " << d
                          << " is out of range";
  OpBuilder &b = node.builder();
  FailureOr<ResizeOp> resize = node.create<ResizeOp>(
      input, b.getStringAttr(request.mode),
      b.getStringAttr(request.coordinates),
      b.getStringAttr(request.nearestMode), b.getF64FloatAttr(request.cubicA),
      request.excludeOutside ? b.getUnitAttr() : UnitAttr(),
      b.getF64FloatAttr(request.extrapolation), b.getDenseF64ArrayAttr(scales),
      b.getDenseF64ArrayAttr(crop ? ArrayRef<double>(request.roi)
                                  : ArrayRef<double>()),
      b.getDenseI64ArrayAttr(sizes));
  return failed(resize) ? failure() : finish(node, resize->getResult());
}

/// Resize-10 and Upsample: nearest or linear on asymmetric coordinates,
/// nearest rounding down.
FailureOr<ResizeRequest> oldResizeRequest(OnnxNode &node) {
  ResizeRequest request;
  request.mode = node.stringAttr("mode", "nearest");
  if (request.mode == "bilinear")
    request.mode = "linear";
  if (request.mode != "nearest" && request.mode != "linear")
    return node.error() << "unsupported mode '" << request.mode << "'";
  request.coordinates = "asymmetric";
  request.nearestMode = "floor";
  return request;
}

LogicalResult convertResize(OnnxNode &node) {
  int64_t rank = node.inputType(0).getRank();
  if (node.opset() < 11) {
    FailureOr<ResizeRequest> request = oldResizeRequest(node);
    if (failed(request))
      return failure();
    FailureOr<SmallVector<double>> scales =
        constantFloats(node, 1, "the scales of Resize");
    if (failed(scales))
      return failure();
    request->scales = *scales;
    return emitResize(node, node.input(0), *request);
  }
  ResizeRequest request;
  request.mode = node.stringAttr("mode", "nearest");
  request.coordinates =
      node.stringAttr("coordinate_transformation_mode", "half_pixel");
  request.nearestMode = node.stringAttr("nearest_mode", "round_prefer_floor");
  request.cubicA = node.floatAttr("cubic_coeff_a", -0.75f);
  request.excludeOutside = node.intAttr("exclude_outside", 0) != 0;
  request.extrapolation = node.floatAttr("extrapolation_value", 0.0f);
  if (request.mode != "nearest" && request.mode != "linear" &&
      request.mode != "cubic")
    return node.error() << "unsupported mode '" << request.mode << "'";
  // The coordinate modes each opset defines.
  bool opset18 = node.opset() >= 18;
  if (request.coordinates == "tf_half_pixel_for_nn" && opset18)
    return node.error() << "coordinate_transformation_mode "
                           "'tf_half_pixel_for_nn' was removed in opset 18";
  if (request.coordinates == "half_pixel_symmetric" && node.opset() < 19)
    return node.error() << "coordinate_transformation_mode "
                           "'half_pixel_symmetric' needs opset 19";
  if (!llvm::is_contained({"half_pixel", "half_pixel_symmetric",
                           "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_half_pixel_for_nn", "tf_crop_and_resize"},
                          request.coordinates))
    return node.error() << "unsupported coordinate_transformation_mode '"
                        << request.coordinates << "'";
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
          request.nearestMode))
    return node.error() << "unsupported nearest_mode '" << request.nearestMode
                        << "'";
  std::optional<SmallVector<int64_t>> axes;
  if (opset18) {
    axes = node.intsAttr("axes");
    request.aspectPolicy =
        node.stringAttr("keep_aspect_ratio_policy", "stretch");
    if (!llvm::is_contained({"stretch", "not_larger", "not_smaller"},
                            request.aspectPolicy))
      return node.error() << "unsupported keep_aspect_ratio_policy '"
                          << request.aspectPolicy << "'";
  }
  if (request.coordinates == "tf_crop_and_resize") {
    FailureOr<SmallVector<double>> roi =
        constantFloats(node, 1, "the roi of Resize");
    if (failed(roi))
      return failure();
    // roi holds the starts of the axes, then their ends.
    size_t half = roi->size() / 2;
    FailureOr<SmallVector<double>> starts =
        spreadOverAxes<double>(node, ArrayRef<double>(*roi).take_front(half),
                               axes, rank, 0.0, "roi starts");
    FailureOr<SmallVector<double>> ends =
        spreadOverAxes<double>(node, ArrayRef<double>(*roi).drop_front(half),
                               axes, rank, 1.0, "roi ends");
    if (failed(starts) || failed(ends))
      return failure();
    request.roi = *starts;
    request.roi.append(*ends);
  }
  if (hasElements(node, 2)) {
    FailureOr<SmallVector<double>> scales =
        constantFloats(node, 2, "the scales of Resize");
    if (failed(scales))
      return failure();
    FailureOr<SmallVector<double>> spread =
        spreadOverAxes<double>(node, *scales, axes, rank, 1.0, "scales");
    if (failed(spread))
      return failure();
    request.scales = *spread;
  } else if (hasElements(node, 3)) {
    FailureOr<SmallVector<int64_t>> sizes =
        node.constantInts(3, "the sizes of Resize");
    if (failed(sizes))
      return failure();
    RankedTensorType type = node.inputType(0);
    SmallVector<int64_t> kept(type.getShape());
    FailureOr<SmallVector<int64_t>> spread =
        spreadOverAxes<int64_t>(node, *sizes, axes, rank, 0, "sizes");
    if (failed(spread))
      return failure();
    if (axes) {
      FailureOr<SmallVector<int64_t>> normalized =
          normalizeAxes(node, *axes, rank);
      if (failed(normalized))
        return failure();
      for (int64_t d = 0; d < rank; ++d)
        if (!llvm::is_contained(*normalized, d))
          (*spread)[d] = kept[d];
      request.policyAxes = *normalized;
    }
    request.sizes = *spread;
  } else {
    return node.error() << "Resize needs scales or sizes";
  }
  // Antialiasing changes only downsampling by linear or cubic filters.
  if (opset18 && node.intAttr("antialias", 0) != 0 &&
      request.mode != "nearest") {
    bool downsamples = false;
    RankedTensorType type = node.inputType(0);
    for (int64_t d = 0; d < rank; ++d)
      downsamples |= request.scales
                         ? (*request.scales)[d] < 1
                         : type.isDynamicDim(d) ||
                               (*request.sizes)[d] < type.getDimSize(d);
    if (downsamples)
      return node.error() << "unsupported antialias = 1 on a downsampling "
                          << request.mode << " Resize";
  }
  return emitResize(node, node.input(0), request);
}

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

LogicalResult convertPad(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  int64_t rank = type.getRank();
  std::string mode = node.stringAttr("mode", "constant");
  if (mode == "wrap" && node.opset() < 19)
    return node.error() << "Pad mode 'wrap' needs opset 19";
  if (!llvm::is_contained({"constant", "reflect", "edge", "wrap"}, mode))
    return node.error() << "unsupported Pad mode '" << mode << "'";
  SmallVector<int64_t> pads;
  Value value;
  if (node.opset() < 11) {
    // Pad-2: pads and value are attributes.
    std::optional<SmallVector<int64_t>> attr = node.intsAttr("pads");
    if (!attr)
      return node.error() << "Pad needs the pads attribute";
    pads = *attr;
    value = scalarConstant(node, type.getElementType(),
                           node.floatAttr("value", 0.0f));
  } else {
    FailureOr<SmallVector<int64_t>> constant =
        node.constantInts(1, "the pads of Pad");
    if (failed(constant))
      return failure();
    pads = *constant;
    if (node.hasInput(2)) {
      value = node.input(2);
      RankedTensorType valueType = node.inputType(2);
      if (valueType.getRank() == 1 && valueType.getDimSize(0) == 1) {
        FailureOr<ReshapeOp> scalar =
            node.create<ReshapeOp>(value, ValueRange(), ArrayRef<int64_t>());
        if (failed(scalar))
          return failure();
        value = scalar->getResult();
      }
    } else {
      value = scalarConstant(node, type.getElementType(), 0);
    }
    if (node.opset() >= 18 && node.hasInput(3)) {
      FailureOr<SmallVector<int64_t>> axes =
          node.constantInts(3, "the axes of Pad");
      if (failed(axes))
        return failure();
      size_t count = axes->size();
      if (pads.size() != 2 * count)
        return node.error()
               << "Pad has " << pads.size() << " pads for " << count << " axes";
      FailureOr<SmallVector<int64_t>> begins = spreadOverAxes<int64_t>(
          node, ArrayRef<int64_t>(pads).take_front(count), *axes, rank, 0,
          "pads");
      FailureOr<SmallVector<int64_t>> ends = spreadOverAxes<int64_t>(
          node, ArrayRef<int64_t>(pads).drop_front(count), *axes, rank, 0,
          "pads");
      if (failed(begins) || failed(ends))
        return failure();
      pads = *begins;
      pads.append(*ends);
    }
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return node.error() << "Pad has " << pads.size() << " pads for rank "
                        << rank;
  for (int64_t pad : pads)
    if (pad > kMaxTensorElements || pad < -kMaxTensorElements)
      return node.error() << "pad " << pad << " is out of range";
  if (llvm::all_of(pads, [](int64_t pad) { return pad == 0; }))
    return finish(node, node.input(0));
  FailureOr<PadOp> op = node.create<PadOp>(node.input(0), value, mode, pads);
  return failed(op) ? failure() : finish(node, op->getResult());
}

//===----------------------------------------------------------------------===//
// DepthToSpace and SpaceToDepth
//===----------------------------------------------------------------------===//

/// reshape(input, split) -> transpose(perm) -> reshape(merged): the block
/// moves of DepthToSpace and SpaceToDepth.
LogicalResult reshapeTransposeReshape(OnnxNode &node, ArrayRef<int64_t> split,
                                      ArrayRef<int64_t> perm,
                                      ArrayRef<int64_t> merged) {
  auto reshape = [&](Value value, ArrayRef<int64_t> sizes) -> FailureOr<Value> {
    SmallVector<Value> dynamic;
    // Only the batch may be dynamic: it is carried over from the input.
    if (ShapedType::isDynamic(sizes[0]))
      dynamic.push_back(node.indexValue(node.dimSize(node.input(0), 0)));
    FailureOr<ReshapeOp> op = node.create<ReshapeOp>(value, dynamic, sizes);
    if (failed(op))
      return failure();
    return op->getResult();
  };
  FailureOr<Value> spread = reshape(node.input(0), split);
  if (failed(spread))
    return failure();
  FailureOr<TransposeOp> moved = node.create<TransposeOp>(*spread, perm);
  if (failed(moved))
    return failure();
  FailureOr<Value> result = reshape(moved->getResult(), merged);
  return failed(result) ? failure() : finish(node, *result);
}

/// The blocksize and the input's N, C, H, W; C, H and W must be static.
FailureOr<std::array<int64_t, 5>> blockDims(OnnxNode &node) {
  RankedTensorType type = node.inputType(0);
  if (type.getRank() != 4)
    return node.error() << node.proto().op_type() << " needs a 4-d input, not "
                        << type;
  int64_t block = node.intAttr("blocksize", 0);
  if (block <= 0 || block > (int64_t{1} << 20))
    return node.error() << "blocksize " << block << " is out of range";
  for (int64_t d = 1; d < 4; ++d)
    if (type.isDynamicDim(d))
      return node.error() << "unsupported " << node.proto().op_type() << " of "
                          << type << ": dimension " << d << " is dynamic";
  ArrayRef<int64_t> s = type.getShape();
  return std::array<int64_t, 5>{block, s[0], s[1], s[2], s[3]};
}

LogicalResult convertDepthToSpace(OnnxNode &node) {
  FailureOr<std::array<int64_t, 5>> dims = blockDims(node);
  if (failed(dims))
    return failure();
  auto [b, n, c, h, w] = *dims;
  if (c % (b * b) != 0)
    return node.error() << "channels " << c << " are not a multiple of "
                        << b * b;
  std::string mode = node.stringAttr("mode", "DCR");
  SmallVector<int64_t> merged = {n, c / (b * b), h * b, w * b};
  if (mode == "DCR")
    return reshapeTransposeReshape(node, {n, b, b, c / (b * b), h, w},
                                   {0, 3, 4, 1, 5, 2}, merged);
  if (mode == "CRD")
    return reshapeTransposeReshape(node, {n, c / (b * b), b, b, h, w},
                                   {0, 1, 4, 2, 5, 3}, merged);
  return node.error() << "unsupported DepthToSpace mode '" << mode << "'";
}

LogicalResult convertSpaceToDepth(OnnxNode &node) {
  FailureOr<std::array<int64_t, 5>> dims = blockDims(node);
  if (failed(dims))
    return failure();
  auto [b, n, c, h, w] = *dims;
  if (h % b != 0 || w % b != 0)
    return node.error() << "spatial sizes " << h << "x" << w
                        << " are not multiples of blocksize " << b;
  return reshapeTransposeReshape(node, {n, c, h / b, b, w / b, b},
                                 {0, 3, 5, 1, 2, 4},
                                 {n, c * b * b, h / b, w / b});
}

//===----------------------------------------------------------------------===//
// GatherND
//===----------------------------------------------------------------------===//

/// The index tuples of `indices` (the last dimension) as linear indices
/// into `data` flattened over its first `batch + m` dimensions, counting
/// the batch position of each tuple; negative entries wrap.
FailureOr<Value> linearIndices(OnnxNode &node, RankedTensorType data,
                               Value indicesValue, int64_t batch) {
  auto indices = cast<RankedTensorType>(indicesValue.getType());
  int64_t q = indices.getRank(), m = indices.getDimSize(q - 1);
  Type indexType = indices.getElementType();
  auto scalar = [&](int64_t v) { return scalarConstant(node, indexType, v); };
  // linear = sum_k wrap(idx[..., k]) * stride_k over the indexed dims.
  SmallVector<int64_t> tupleShape(indices.getShape().drop_back());
  Value linear;
  int64_t stride = 1;
  for (int64_t k = m - 1; k >= 0; --k) {
    SmallVector<int64_t> starts(q, 0), ends(indices.getShape()), steps(q, 1);
    starts[q - 1] = k;
    ends[q - 1] = k + 1;
    FailureOr<SliceOp> slice =
        node.create<SliceOp>(indicesValue, starts, ends, steps);
    if (failed(slice))
      return failure();
    FailureOr<ReshapeOp> component =
        node.create<ReshapeOp>(slice->getResult(), ValueRange(), tupleShape);
    if (failed(component))
      return failure();
    int64_t size = data.getDimSize(batch + k);
    Value value = component->getResult();
    FailureOr<LessOp> negative = node.create<LessOp>(value, scalar(0));
    FailureOr<AddOp> wrapped = node.create<AddOp>(value, scalar(size));
    if (failed(negative) || failed(wrapped))
      return failure();
    FailureOr<WhereOp> index = node.create<WhereOp>(
        negative->getResult(), wrapped->getResult(), value);
    if (failed(index))
      return failure();
    FailureOr<MulOp> scaled =
        node.create<MulOp>(index->getResult(), scalar(stride));
    if (failed(scaled))
      return failure();
    if (linear) {
      FailureOr<AddOp> sum = node.create<AddOp>(linear, scaled->getResult());
      if (failed(sum))
        return failure();
      linear = sum->getResult();
    } else {
      linear = scaled->getResult();
    }
    stride *= size;
  }
  // The batch position of each tuple, times the size of one batch's table.
  int64_t batches = 1;
  for (int64_t d = 0; d < batch; ++d)
    batches *= data.getDimSize(d);
  if (batch > 0) {
    SmallVector<int64_t> offsetShape(tupleShape.size(), 1);
    for (int64_t d = 0; d < batch; ++d)
      offsetShape[d] = data.getDimSize(d);
    SmallVector<APInt> offsets;
    unsigned width = indexType.getIntOrFloatBitWidth();
    for (int64_t i = 0; i < batches; ++i)
      offsets.push_back(APInt(width, i * stride, /*isSigned=*/true));
    Value offset = node.constant(DenseElementsAttr::get(
        RankedTensorType::get(offsetShape, indexType), offsets));
    FailureOr<AddOp> sum = node.create<AddOp>(linear, offset);
    if (failed(sum))
      return failure();
    linear = sum->getResult();
  }
  return linear;
}

/// GatherND as one Gather of a flattened table: the batch dimensions and
/// the indexed ones of data become one, each index tuple (and its batch
/// position) a linear index into it. Shapes must be static.
/// The length of the index tuples of GatherND and ScatterND, checked
/// against `data` after `batch` batch dimensions; shapes must be static.
FailureOr<int64_t> tupleLength(OnnxNode &node, RankedTensorType data,
                               RankedTensorType indices, int64_t batch) {
  int64_t q = indices.getRank(), r = data.getRank();
  if (!data.hasStaticShape() || !indices.hasStaticShape())
    return node.error() << "unsupported " << node.proto().op_type()
                        << " on dynamic shapes " << data << " and " << indices;
  if (q < 1 || batch < 0 || batch >= std::min(q, r))
    return node.error() << "batch_dims " << batch << " is out of range for "
                        << data << " and " << indices;
  int64_t m = indices.getDimSize(q - 1);
  if (m < 1 || batch + m > r)
    return node.error() << "index tuples of " << m << " entries do not fit "
                        << data << " after " << batch << " batch dimensions";
  for (int64_t d = 0; d < batch; ++d)
    if (data.getDimSize(d) != indices.getDimSize(d))
      return node.error() << "batch dimension " << d << " differs: " << data
                          << " and " << indices;
  return m;
}

LogicalResult convertGatherND(OnnxNode &node) {
  RankedTensorType data = node.inputType(0), indices = node.inputType(1);
  int64_t batch = node.intAttr("batch_dims", 0);
  FailureOr<int64_t> length = tupleLength(node, data, indices, batch);
  if (failed(length))
    return failure();
  int64_t m = *length;
  FailureOr<Value> linear = linearIndices(node, data, node.input(1), batch);
  if (failed(linear))
    return failure();
  int64_t rows = 1;
  for (int64_t d = 0; d < batch + m; ++d)
    rows *= data.getDimSize(d);
  SmallVector<int64_t> table = {rows};
  table.append(data.getShape().begin() + batch + m, data.getShape().end());
  FailureOr<ReshapeOp> flat =
      node.create<ReshapeOp>(node.input(0), ValueRange(), table);
  if (failed(flat))
    return failure();
  FailureOr<GatherOp> gather =
      node.create<GatherOp>(flat->getResult(), *linear, int64_t{0});
  return failed(gather) ? failure() : finish(node, gather->getResult());
}

/// ScatterND as one ScatterElements on a flattened table: each index tuple
/// names a row, and the update's row is written there (later ones win).
LogicalResult convertScatterND(OnnxNode &node) {
  std::string reduction = node.stringAttr("reduction", "none");
  if (reduction != "none")
    return node.error() << "unsupported ScatterND reduction '" << reduction
                        << "'";
  RankedTensorType data = node.inputType(0), indices = node.inputType(1),
                   updates = node.inputType(2);
  FailureOr<int64_t> length = tupleLength(node, data, indices, 0);
  if (failed(length))
    return failure();
  ArrayRef<int64_t> rest = data.getShape().drop_front(*length);
  SmallVector<int64_t> expected(indices.getShape().drop_back());
  expected.append(rest.begin(), rest.end());
  if (updates.getShape() != ArrayRef<int64_t>(expected))
    return node.error() << "updates " << updates << " do not have the shape "
                        << RankedTensorType::get(expected,
                                                 updates.getElementType());
  FailureOr<Value> linear = linearIndices(node, data, node.input(1), 0);
  if (failed(linear))
    return failure();
  int64_t rows = 1, count = 1;
  for (int64_t size : data.getShape().take_front(*length))
    rows *= size;
  for (int64_t size : indices.getShape().drop_back())
    count *= size;
  SmallVector<int64_t> tableShape = {rows}, updateShape = {count},
                       spread = {count};
  tableShape.append(rest.begin(), rest.end());
  updateShape.append(rest.begin(), rest.end());
  spread.append(rest.size(), 1);
  auto reshape = [&](Value value, ArrayRef<int64_t> shape) {
    return node.create<ReshapeOp>(value, ValueRange(), shape);
  };
  FailureOr<ReshapeOp> table = reshape(node.input(0), tableShape);
  FailureOr<ReshapeOp> flatUpdates = reshape(node.input(2), updateShape);
  FailureOr<ReshapeOp> rowIndices = reshape(*linear, spread);
  if (failed(table) || failed(flatUpdates) || failed(rowIndices))
    return failure();
  FailureOr<ExpandOp> elementIndices =
      node.create<ExpandOp>(rowIndices->getResult(), ValueRange(), updateShape);
  if (failed(elementIndices))
    return failure();
  FailureOr<ScatterElementsOp> scatter = node.create<ScatterElementsOp>(
      table->getResult(), elementIndices->getResult(), flatUpdates->getResult(),
      int64_t{0});
  if (failed(scatter))
    return failure();
  FailureOr<ReshapeOp> result = reshape(scatter->getResult(), data.getShape());
  return failed(result) ? failure() : finish(node, result->getResult());
}

/// Upsample (opsets 7 to 9; removed from ONNX at 10, so never upgraded) as a
/// Resize: scales as an attribute before opset 9, as an input from 9 on.
LogicalResult convertUpsample(OnnxNode &node) {
  FailureOr<ResizeRequest> request = oldResizeRequest(node);
  if (failed(request))
    return failure();
  int64_t rank = node.inputType(0).getRank();
  if (node.opset() < 9) {
    const onnx::AttributeProto *scales = node.attribute("scales");
    if (!scales)
      return node.error() << "Upsample needs the scales attribute";
    request->scales =
        SmallVector<double>(scales->floats().begin(), scales->floats().end());
  } else {
    FailureOr<SmallVector<double>> scales =
        constantFloats(node, 1, "the scales of Upsample");
    if (failed(scales))
      return failure();
    request->scales = *scales;
  }
  if (static_cast<int64_t>(request->scales->size()) != rank)
    return node.error() << "Upsample has " << request->scales->size()
                        << " scales for rank " << rank;
  return emitResize(node, node.input(0), *request);
}

} // namespace

ArrayRef<OnnxConverterEntry> resizePadConverters() {
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP("DepthToSpace", convertDepthToSpace),
      SINTER_ONNX_OP("GatherND", convertGatherND),
      SINTER_ONNX_OP("Pad", convertPad),
      SINTER_ONNX_OP("Resize", convertResize),
      OnnxConverterEntry{{"", "Upsample", 7, 9}, convertUpsample},
      SINTER_ONNX_OP("ScatterND", convertScatterND),
      SINTER_ONNX_OP("SpaceToDepth", convertSpaceToDepth),
  };
  return entries;
}

} // namespace sinter
