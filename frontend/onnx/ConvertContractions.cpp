//===- ConvertContractions.cpp - MatMul, Gemm, Einsum ---------------------===//
//
// Contractions: MatMul, Gemm and Einsum (Conv is in ConvertVision.cpp).
// Tested by test/lit/frontend/onnx/contractions.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Decomposition.h"

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

/// An Einsum operand while it is being contracted: its value and one label
/// per dimension. Labels are the equation's letters; the dimensions an
/// ellipsis stands for get labels of their own (chars from 128 up, which no
/// letter uses), right-aligned across the operands as broadcasting aligns
/// them.
struct EinsumTerm {
  Value value;
  std::string labels;
};

constexpr unsigned char kFirstEllipsisLabel = 128;

/// Einsum in every form: each operand first loses its repeated labels
/// (diagonals, masked and summed) and the labels no other operand and not
/// the output has (summed); then the operands are contracted left to right,
/// each pair as one batched matrix product over the labels grouped into
/// batch, rows, contraction and columns; last, a transpose gives the
/// output's order.
class EinsumConverter {
public:
  explicit EinsumConverter(OnnxNode &node) : node(node), d(node) {}

  LogicalResult convert() {
    std::string equation = node.stringAttr("equation", "");
    equation.erase(llvm::remove_if(equation, ::isspace), equation.end());
    this->equation = equation;
    if (failed(parse(equation)))
      return failure();
    for (EinsumTerm &term : terms) {
      if (failed(takeDiagonals(term)))
        return failure();
      sumLabelsNotNeeded(term, /*after=*/&term);
    }
    EinsumTerm result = terms.front();
    for (size_t i = 1; i < terms.size() && d.ok(); ++i) {
      FailureOr<EinsumTerm> product = contract(result, terms[i], &terms[i]);
      if (failed(product))
        return failure();
      result = *product;
    }
    result.value = permuted(result.value, result.labels, output);
    return d.finish(result.value);
  }

private:
  InFlightDiagnostic error() {
    return node.error() << "Einsum equation '" << equation << "': ";
  }

  /// The terms' labels, with "..." expanded, and the output's.
  LogicalResult parse(const std::string &equation) {
    size_t arrow = equation.find("->");
    std::string inputs = equation.substr(0, arrow);
    SmallVector<std::string> spelled;
    for (size_t start = 0;;) {
      size_t comma = inputs.find(',', start);
      spelled.push_back(inputs.substr(start, comma - start));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    if (spelled.size() != node.numInputs())
      return error() << "it names " << spelled.size() << " operands, the node has "
                     << node.numInputs() << " inputs";
    // How many dimensions each operand's ellipsis stands for.
    int64_t ellipsisRank = 0;
    SmallVector<int64_t> ellipsisRanks;
    for (auto [i, term] : llvm::enumerate(spelled)) {
      RankedTensorType type = node.inputType(i);
      if (!type)
        return error() << "operand " << i << " is missing";
      size_t dots = term.find("...");
      if (dots != std::string::npos &&
          term.find("...", dots + 3) != std::string::npos)
        return error() << "operand " << i << " has two ellipses";
      int64_t letters = term.size() - (dots == std::string::npos ? 0 : 3);
      int64_t rest = type.getRank() - letters;
      if (rest < 0 || (dots == std::string::npos && rest != 0))
        return error() << "operand " << i << " ('" << term << "') has rank "
                       << type.getRank();
      ellipsisRanks.push_back(rest);
      ellipsisRank = std::max(ellipsisRank, rest);
    }
    std::string ellipsis;
    for (int64_t k = 0; k < ellipsisRank; ++k)
      ellipsis += static_cast<char>(kFirstEllipsisLabel + k);
    auto expand = [&](const std::string &term, int64_t rest,
                      std::string &labels) -> LogicalResult {
      for (size_t k = 0; k < term.size(); ++k) {
        if (term.compare(k, 3, "...") == 0) {
          labels += ellipsis.substr(ellipsis.size() - rest);
          k += 2;
        } else if (llvm::isAlpha(term[k])) {
          labels += term[k];
        } else {
          return error() << "'" << term[k] << "' is not a letter";
        }
      }
      return success();
    };
    llvm::StringMap<int> counts;
    for (auto [i, term] : llvm::enumerate(spelled)) {
      EinsumTerm &parsed = terms.emplace_back();
      parsed.value = node.input(i);
      if (failed(expand(term, ellipsisRanks[i], parsed.labels)))
        return failure();
      for (auto [k, c] : llvm::enumerate(parsed.labels)) {
        ++counts[std::string(1, c)];
        // Where a dynamic size is read (the first operand that has it
        // other than 1, since ellipsis dimensions broadcast).
        auto &source = labelSources[static_cast<unsigned char>(c)];
        if (!source.first ||
            cast<RankedTensorType>(source.first.getType())
                    .getDimSize(source.second) == 1)
          source = {parsed.value, static_cast<int64_t>(k)};
      }
    }
    if (arrow != std::string::npos) {
      std::string spelledOut = equation.substr(arrow + 2);
      if (spelledOut.find("...") == std::string::npos)
        ellipsis.clear(); // Summed over.
      if (failed(expand(spelledOut, ellipsis.size(), output)))
        return failure();
    } else {
      // Implicit output: the ellipsis, then the letters used once, sorted.
      output = ellipsis;
      std::string once;
      for (auto &entry : counts)
        if (entry.getValue() == 1 && llvm::isAlpha(entry.getKey()[0]))
          once += entry.getKey()[0];
      llvm::sort(once);
      output += once;
    }
    for (size_t k = 0; k < output.size(); ++k) {
      if (output.find(output[k], k + 1) != std::string::npos)
        return error() << "the output repeats '" << output[k] << "'";
      if (!counts.count(std::string(1, output[k])))
        return error() << "the output's '" << output[k]
                       << "' is in no operand";
    }
    return success();
  }

  /// Whether `label` is needed after `term`: by the output or by an operand
  /// after it.
  bool neededAfter(char label, const EinsumTerm *term) {
    if (output.find(label) != std::string::npos)
      return true;
    for (const EinsumTerm *t = term + 1; t < terms.end(); ++t)
      if (t->labels.find(label) != std::string::npos)
        return true;
    return false;
  }

  /// x[..i..i..] -> x[..i..]: keeps the elements whose two positions agree
  /// (a mask from two iotas) and sums over the second.
  LogicalResult takeDiagonals(EinsumTerm &term) {
    for (size_t p = 0; p < term.labels.size(); ++p) {
      size_t q;
      while ((q = term.labels.find(term.labels[p], p + 1)) !=
             std::string::npos) {
        auto type = cast<RankedTensorType>(term.value.getType());
        int64_t size = type.getDimSize(p);
        if (ShapedType::isDynamic(size) || size != type.getDimSize(q) ||
            size * size > kMaxImportedElements)
          return error() << "unsupported diagonal over dimensions " << p
                         << " and " << q << " of " << type
                         << " (static, equal sizes only)";
        int64_t rank = type.getRank();
        Value mask = d.op<EqualOp>(positionsAlong(node, rank, p, size),
                                   positionsAlong(node, rank, q, size));
        Value kept = d.op<WhereOp>(mask, term.value, d.scalar(0));
        term.value = d.op<ReduceSumOp>(kept, ArrayRef<int64_t>{int64_t(q)},
                                       false);
        term.labels.erase(q, 1);
        if (!d.ok())
          return failure();
      }
    }
    return success();
  }

  /// Sums `term` over the labels that `other` (if any) does not share and
  /// that nothing after `after` needs.
  void sumLabelsNotNeeded(EinsumTerm &term, const EinsumTerm *after,
                          const EinsumTerm *other = nullptr) {
    SmallVector<int64_t> axes;
    std::string kept;
    for (auto [k, label] : llvm::enumerate(term.labels)) {
      bool shared = other && other->labels.find(label) != std::string::npos;
      bool elsewhere = false;
      if (!other)
        for (const EinsumTerm &t : terms)
          elsewhere |= &t != &term && t.labels.find(label) != std::string::npos;
      if (!shared && !elsewhere && !neededAfter(label, after))
        axes.push_back(k);
      else
        kept += label;
    }
    if (axes.empty())
      return;
    term.value = d.op<ReduceSumOp>(term.value, axes, false);
    term.labels = kept;
  }

  Value permuted(Value value, StringRef have, StringRef want) {
    if (!value)
      return {};
    SmallVector<int64_t> perm;
    for (char c : want)
      perm.push_back(have.find(c));
    if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
      return value;
    return d.op<TransposeOp>(value, perm);
  }

  /// `value` reshaped to `shape`, whose dynamic sizes are those of the
  /// labels at the same positions of `labels` (0 for a grouped dimension,
  /// which is static).
  Value reshaped(Value value, ArrayRef<int64_t> shape, StringRef labels) {
    if (!value)
      return {};
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getShape() == shape)
      return value;
    SmallVector<Value> dynamic;
    for (auto [k, size] : llvm::enumerate(shape))
      if (ShapedType::isDynamic(size)) {
        auto [source, dim] = labelSources[static_cast<unsigned char>(labels[k])];
        dynamic.push_back(cast<Value>(node.dimSize(source, dim)));
      }
    return d.op<ReshapeOp>(value, dynamic, shape);
  }

  /// a x b over their shared labels: batch (needed later), contracted
  /// (not), rows (a's own) and columns (b's own).
  FailureOr<EinsumTerm> contract(EinsumTerm a, EinsumTerm b,
                                 const EinsumTerm *bTerm) {
    sumLabelsNotNeeded(a, bTerm, &b);
    sumLabelsNotNeeded(b, bTerm, &a);
    std::string batch, rows, columns, inner;
    for (char c : a.labels) {
      bool shared = b.labels.find(c) != std::string::npos;
      (shared ? (neededAfter(c, bTerm) ? batch : inner) : rows) += c;
    }
    for (char c : b.labels)
      if (a.labels.find(c) == std::string::npos)
        columns += c;
    Value lhs = permuted(a.value, a.labels, batch + rows + inner);
    Value rhs = permuted(b.value, b.labels, batch + inner + columns);
    if (!lhs || !rhs)
      return failure();
    std::string labels = batch + rows + columns;
    if (inner.empty()) {
      // Nothing contracted: a broadcast product, [batch, rows, 1...] times
      // [batch, 1..., columns].
      auto withOnes = [&](Value value, size_t at, size_t count,
                          StringRef have) {
        auto type = cast<RankedTensorType>(value.getType());
        SmallVector<int64_t> shape(type.getShape());
        shape.insert(shape.begin() + at, count, 1);
        std::string shapeLabels = have.str();
        shapeLabels.insert(at, count, '\0');
        return reshaped(value, shape, shapeLabels);
      };
      Value value = d.op<MulOp>(
          withOnes(lhs, batch.size() + rows.size(), columns.size(),
                   batch + rows),
          withOnes(rhs, batch.size(), rows.size(), batch + columns));
      if (!value)
        return failure();
      return EinsumTerm{value, labels};
    }
    // Rows, contraction and columns each become one dimension: one label
    // keeps its size, none is 1, several multiply (static sizes only).
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    bool dynamicGroup = false;
    auto group = [&](RankedTensorType type, size_t from,
                     const std::string &labels, std::string &groupLabels) {
      groupLabels += labels.size() == 1 ? labels[0] : '\0';
      if (labels.size() == 1)
        return type.getDimSize(from);
      int64_t product = 1;
      for (size_t k = from; k < from + labels.size(); ++k) {
        dynamicGroup |= type.isDynamicDim(k);
        product *= type.isDynamicDim(k) ? 1 : type.getDimSize(k);
      }
      return product;
    };
    size_t nb = batch.size();
    SmallVector<int64_t> lhsShape(lhsType.getShape().take_front(nb));
    SmallVector<int64_t> rhsShape(rhsType.getShape().take_front(nb));
    std::string lhsLabels = batch, rhsLabels = batch;
    int64_t m = group(lhsType, nb, rows, lhsLabels);
    int64_t k = group(lhsType, nb + rows.size(), inner, lhsLabels);
    rhsLabels += lhsLabels.back();
    int64_t n = group(rhsType, nb + inner.size(), columns, rhsLabels);
    if (dynamicGroup)
      return error() << "unsupported: dimensions of dynamic size grouped "
                        "into one matrix dimension";
    lhsShape.append({m, k});
    rhsShape.append({k, n});
    // Batch dimensions broadcast as MatMul's do (ellipses of size 1).
    Value product = d.op<MatmulOp>(reshaped(lhs, lhsShape, lhsLabels),
                                   reshaped(rhs, rhsShape, rhsLabels));
    if (!product)
      return failure();
    auto productType = cast<RankedTensorType>(product.getType());
    SmallVector<int64_t> shape(productType.getShape().take_front(nb));
    llvm::append_range(shape, lhsType.getShape().slice(nb, rows.size()));
    llvm::append_range(
        shape, rhsType.getShape().slice(nb + inner.size(), columns.size()));
    Value value = reshaped(product, shape, labels);
    if (!value)
      return failure();
    return EinsumTerm{value, labels};
  }

  OnnxNode &node;
  Decomposition d;
  std::string equation, output;
  SmallVector<EinsumTerm> terms;
  /// Per label, an operand and dimension that hold its size.
  std::pair<Value, int64_t> labelSources[256] = {};
};

LogicalResult convertEinsum(OnnxNode &node) {
  if (node.numInputs() == 0)
    return node.error() << "Einsum needs at least one input";
  return EinsumConverter(node).convert();
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
