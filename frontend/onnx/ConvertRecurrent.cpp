//===- ConvertRecurrent.cpp - LSTM, GRU, RNN ------------------------------===//
//
// The recurrent layers, expanded at import into one scf.for over the time
// steps per direction, with sinter ops in the body (docs/control-flow.md).
// The input projection of every step is one sinter.linear before the loop
// (a GEMM of all time steps at once); the body holds the recurrent
// sinter.linear of the hidden state and the gates' elementwise ops, so both
// products run on the packed GEMM kernel and the loop stays a loop.
// Tested by test/lit/frontend/onnx/recurrent.onnxtext.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

#define SINTER_TRY(var, expr)                                                  \
  FailureOr<Value> var##OrFailure = (expr);                                    \
  if (failed(var##OrFailure))                                                  \
    return failure();                                                          \
  Value var = *var##OrFailure;

namespace sinter {
namespace {

enum class Cell { Lstm, Gru, Rnn };

/// One activation function of the `activations` attribute.
struct Activation {
  std::string name;
  float alpha = 0, beta = 0;
};

/// Builds the ops of one recurrent node.
class Recurrent {
public:
  Recurrent(OnnxNode &node, Cell cell)
      : node(node), b(node.builder()), cell(cell) {}
  LogicalResult convert();

private:
  template <typename OpTy, typename... Args>
  FailureOr<Value> make(Args &&...args) {
    FailureOr<OpTy> op = node.create<OpTy>(std::forward<Args>(args)...);
    if (failed(op))
      return failure();
    return op->getResult();
  }
  Value scalar(double value) {
    return scalarConstant(node, elementType, value);
  }
  FailureOr<Value> reshape(Value value, ArrayRef<OpFoldResult> sizes);
  FailureOr<Value> rows(Value value, int64_t d, int64_t start, int64_t end);
  FailureOr<Value> columns(Value value, int64_t start, int64_t end);
  FailureOr<Value> activate(const Activation &f, Value x);
  LogicalResult readActivations();
  FailureOr<Value> initialState(size_t input, int64_t d);
  FailureOr<SmallVector<Value>> direction(int64_t d, bool reverse, Value x);
  FailureOr<Value> step(int64_t d, Value xw, Value h, Value c, Value &cOut);

  OnnxNode &node;
  OpBuilder &b;
  Cell cell;
  Type elementType;
  int64_t gates = 1, hidden = 0, directions = 1, layout = 0;
  double clip = 0;
  bool inputForget = false, linearBeforeReset = false;
  SmallVector<Activation> activations;
  OpFoldResult seqSize, batchSize;
  /// Per direction: the recurrent weights (the GRU's split into the update
  /// and reset gates and the hidden gate), the recurrent bias the GRU keeps
  /// apart, the peepholes.
  struct Weights {
    Value r, rHidden, rBiasHidden, pInput, pOutput, pForget;
  };
  SmallVector<Weights> weights;
};

/// Every activation the ONNX recurrent ops accept, with the default alpha
/// and beta of the ONNX operator of the same name; whether it reads them.
struct ActivationInfo {
  StringRef name;
  int params; // 0: none, 1: alpha, 2: alpha and beta
  float alpha, beta;
};
constexpr ActivationInfo kActivations[] = {
    {"Relu", 0, 0, 0},          {"Tanh", 0, 0, 0},
    {"Sigmoid", 0, 0, 0},       {"Affine", 2, 1, 0},
    {"LeakyRelu", 1, 0.01f, 0}, {"ThresholdedRelu", 1, 1, 0},
    {"ScaledTanh", 2, 1, 1},    {"HardSigmoid", 2, 0.2f, 0.5f},
    {"Elu", 1, 1, 0},           {"Softsign", 0, 0, 0},
    {"Softplus", 0, 0, 0},
};

LogicalResult Recurrent::readActivations() {
  SmallVector<StringRef> defaults;
  if (cell == Cell::Lstm)
    defaults = {"Sigmoid", "Tanh", "Tanh"};
  else if (cell == Cell::Gru)
    defaults = {"Sigmoid", "Tanh"};
  else
    defaults = {"Tanh"};
  SmallVector<std::string> names;
  const onnx::AttributeProto *attr = node.attribute("activations");
  if (attr)
    names.assign(attr->strings().begin(), attr->strings().end());
  if (names.empty())
    for (int64_t d = 0; d < directions; ++d)
      for (StringRef name : defaults)
        names.push_back(name.str());
  if (names.size() == defaults.size() && directions == 2)
    names.append(SmallVector<std::string>(names)); // The same both ways.
  if (names.size() != defaults.size() * directions)
    return node.error() << "activations lists " << names.size()
                        << " functions; " << node.proto().op_type() << " with "
                        << directions << " direction(s) takes "
                        << defaults.size() * directions;
  SmallVector<float> alphas, betas;
  if (auto list = node.attribute("activation_alpha"))
    alphas.assign(list->floats().begin(), list->floats().end());
  if (auto list = node.attribute("activation_beta"))
    betas.assign(list->floats().begin(), list->floats().end());
  // Like ONNX Runtime, the alphas and betas are consumed in order by the
  // functions that take them.
  size_t nextAlpha = 0, nextBeta = 0;
  for (const std::string &name : names) {
    const ActivationInfo *info =
        llvm::find_if(kActivations, [&](const ActivationInfo &a) {
          return StringRef(name).equals_insensitive(a.name);
        });
    if (info == std::end(kActivations))
      return node.error() << "unsupported activation '" << name << "'";
    Activation f{info->name.str(), info->alpha, info->beta};
    if (info->params >= 1 && nextAlpha < alphas.size())
      f.alpha = alphas[nextAlpha++];
    if (info->params >= 2 && nextBeta < betas.size())
      f.beta = betas[nextBeta++];
    activations.push_back(f);
  }
  return success();
}

FailureOr<Value> Recurrent::activate(const Activation &f, Value x) {
  if (clip > 0) {
    FailureOr<ClipOp> clipped = node.create<ClipOp>(x, b.getF64FloatAttr(-clip),
                                                    b.getF64FloatAttr(clip));
    if (failed(clipped))
      return failure();
    x = clipped->getResult();
  }
  StringRef name = f.name;
  if (name == "Relu")
    return make<ReluOp>(x);
  if (name == "Tanh")
    return make<TanhOp>(x);
  if (name == "Sigmoid")
    return make<SigmoidOp>(x);
  if (name == "LeakyRelu")
    return make<LeakyReluOp>(x, b.getF32FloatAttr(f.alpha));
  if (name == "Affine" || name == "HardSigmoid") {
    SINTER_TRY(scaled, make<MulOp>(x, scalar(f.alpha)));
    SINTER_TRY(shifted, make<AddOp>(scaled, scalar(f.beta)));
    if (name == "Affine")
      return shifted;
    FailureOr<ClipOp> op = node.create<ClipOp>(shifted, b.getF64FloatAttr(0.0),
                                               b.getF64FloatAttr(1.0));
    if (failed(op))
      return failure();
    return op->getResult();
  }
  if (name == "ThresholdedRelu") {
    SINTER_TRY(above, make<GreaterOp>(x, scalar(f.alpha)));
    return make<WhereOp>(above, x, scalar(0));
  }
  if (name == "ScaledTanh") {
    SINTER_TRY(inner, make<MulOp>(x, scalar(f.beta)));
    SINTER_TRY(t, make<TanhOp>(inner));
    return make<MulOp>(t, scalar(f.alpha));
  }
  if (name == "Elu") {
    SINTER_TRY(e, make<ExpOp>(x));
    SINTER_TRY(em1, make<SubOp>(e, scalar(1)));
    SINTER_TRY(neg, make<MulOp>(em1, scalar(f.alpha)));
    SINTER_TRY(below, make<LessOp>(x, scalar(0)));
    return make<WhereOp>(below, neg, x);
  }
  if (name == "Softsign") {
    SINTER_TRY(a, make<AbsOp>(x));
    SINTER_TRY(den, make<AddOp>(a, scalar(1)));
    return make<DivOp>(x, den);
  }
  // Softplus.
  SINTER_TRY(e, make<ExpOp>(x));
  SINTER_TRY(ep1, make<AddOp>(e, scalar(1)));
  return make<LogOp>(ep1);
}

FailureOr<Value> Recurrent::reshape(Value value, ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  splitSizes(node, sizes, staticSizes, dynamicSizes);
  return make<ReshapeOp>(value, dynamicSizes, staticSizes);
}

/// value[d, start:end, ...] without its first dimension (W, R, B, P).
FailureOr<Value> Recurrent::rows(Value value, int64_t d, int64_t start,
                                 int64_t end) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> starts(type.getRank(), 0), steps(type.getRank(), 1);
  SmallVector<int64_t> ends(type.getShape());
  starts[0] = d;
  ends[0] = d + 1;
  starts[1] = start;
  ends[1] = end;
  SINTER_TRY(slice, make<SliceOp>(value, starts, ends, steps));
  SmallVector<OpFoldResult> sizes;
  sizes.push_back(b.getIndexAttr(end - start));
  for (int64_t size : type.getShape().drop_front(2))
    sizes.push_back(b.getIndexAttr(size));
  return reshape(slice, sizes);
}

/// value[:, start:end] of a [batch, n] gate tensor.
FailureOr<Value> Recurrent::columns(Value value, int64_t start, int64_t end) {
  return make<SliceOp>(
      value, ArrayRef<int64_t>{0, start},
      ArrayRef<int64_t>{std::numeric_limits<int64_t>::max(), end},
      ArrayRef<int64_t>{1, 1});
}

/// initial_h or initial_c of direction `d` as [batch, hidden], or zeros.
FailureOr<Value> Recurrent::initialState(size_t input, int64_t d) {
  if (!node.hasInput(input)) {
    SmallVector<int64_t> staticSizes;
    SmallVector<Value> dynamicSizes;
    splitSizes(node, {batchSize, b.getIndexAttr(hidden)}, staticSizes,
               dynamicSizes);
    return make<ExpandOp>(scalar(0), dynamicSizes, staticSizes);
  }
  Value state = node.input(input);
  auto type = cast<RankedTensorType>(state.getType());
  if (type.getRank() != 3 || type.getDimSize(layout ? 1 : 0) != directions ||
      type.getDimSize(2) != hidden)
    return node.error() << "input " << input << " must be a "
                        << (layout ? "[batch, directions, hidden]"
                                   : "[directions, batch, hidden]")
                        << " tensor, not " << type;
  if (layout) {
    SINTER_TRY(t, make<TransposeOp>(state, ArrayRef<int64_t>{1, 0, 2}));
    state = t;
  }
  SmallVector<int64_t> starts = {d, 0, 0}, ends = {d + 1, INT64_MAX, INT64_MAX},
                       steps = {1, 1, 1};
  SINTER_TRY(slice, make<SliceOp>(state, starts, ends, steps));
  return reshape(slice, {batchSize, b.getIndexAttr(hidden)});
}

LogicalResult Recurrent::convert() {
  StringRef op = node.proto().op_type();
  gates = cell == Cell::Lstm ? 4 : cell == Cell::Gru ? 3 : 1;
  layout = node.intAttr("layout", 0);
  if (layout != 0 && layout != 1)
    return node.error() << "unsupported layout " << layout
                        << " (0: sequence first, 1: batch first)";
  std::string dir = node.stringAttr("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    return node.error() << "unsupported direction '" << dir << "'";
  directions = dir == "bidirectional" ? 2 : 1;
  clip = node.floatAttr("clip", 0);
  if (node.attribute("clip") && clip <= 0)
    return node.error() << "clip must be positive, not " << clip;
  inputForget = node.intAttr("input_forget", 0) != 0;
  linearBeforeReset = node.intAttr("linear_before_reset", 0) != 0;

  Value x = node.input(0), w = node.input(1), r = node.input(2);
  RankedTensorType xType = node.inputType(0), wType = node.inputType(1),
                   rType = node.inputType(2);
  elementType = xType.getElementType();
  if (!isa<FloatType>(elementType))
    return node.error() << op << " takes float tensors, not " << xType;
  if (xType.getRank() != 3 || wType.getRank() != 3 || rType.getRank() != 3)
    return node.error() << "X, W and R of " << op << " must have rank 3";
  if (!wType.hasStaticShape() || !rType.hasStaticShape())
    return node.error() << "unsupported " << op
                        << ": W and R need static shapes";
  hidden = node.intAttr("hidden_size", rType.getDimSize(2));
  int64_t inputSize = wType.getDimSize(2);
  if (wType.getDimSize(0) != directions || rType.getDimSize(0) != directions ||
      wType.getDimSize(1) != gates * hidden ||
      rType.getDimSize(1) != gates * hidden || rType.getDimSize(2) != hidden ||
      (!xType.isDynamicDim(2) && xType.getDimSize(2) != inputSize))
    return node.error() << "the shapes of X " << xType << ", W " << wType
                        << " and R " << rType << " do not fit hidden_size "
                        << hidden << " and " << directions << " direction(s)";
  if (failed(readActivations()))
    return failure();
  if (cell != Cell::Lstm && node.attribute("input_forget"))
    return node.error() << "input_forget is an attribute of LSTM only";

  if (layout) {
    SINTER_TRY(t, make<TransposeOp>(x, ArrayRef<int64_t>{1, 0, 2}));
    x = t;
  }
  seqSize = node.dimSize(x, 0);
  batchSize = node.dimSize(x, 1);

  Value bias;
  if (node.hasInput(3)) {
    bias = node.input(3);
    RankedTensorType type = node.inputType(3);
    if (!type.hasStaticShape() || type.getRank() != 2 ||
        type.getDimSize(0) != directions ||
        type.getDimSize(1) != 2 * gates * hidden)
      return node.error() << "B must be a static [" << directions << ", "
                          << 2 * gates * hidden << "] tensor, not " << type;
  }
  if (RankedTensorType type = node.inputType(4);
      type && (!type.getElementType().isInteger(32) || type.getRank() != 1))
    return node.error() << "sequence_lens must be a 1-D int32 tensor, not "
                        << type;
  Value peepholes = cell == Cell::Lstm ? node.input(7) : Value();
  if (peepholes) {
    RankedTensorType type = node.inputType(7);
    if (!type.hasStaticShape() || type.getRank() != 2 ||
        type.getDimSize(0) != directions || type.getDimSize(1) != 3 * hidden)
      return node.error() << "P must be a static [" << directions << ", "
                          << 3 * hidden << "] tensor, not " << type;
  }

  SmallVector<Value> ys, hs, cs;
  for (int64_t d = 0; d < directions; ++d) {
    Weights &wd = weights.emplace_back();
    // The input projection of all time steps, biases included (but the
    // GRU's recurrent bias of the hidden gate, which the reset gate scales
    // when linear_before_reset is set).
    SINTER_TRY(wMatrix, rows(w, d, 0, gates * hidden));
    Value inputBias;
    if (bias) {
      SINTER_TRY(wb, rows(bias, d, 0, gates * hidden));
      SINTER_TRY(rb, rows(bias, d, gates * hidden, 2 * gates * hidden));
      if (cell == Cell::Gru && linearBeforeReset) {
        SINTER_TRY(rbZr, rows(bias, d, gates * hidden, (gates + 2) * hidden));
        SINTER_TRY(rbHidden,
                   rows(bias, d, (gates + 2) * hidden, 2 * gates * hidden));
        wd.rBiasHidden = rbHidden;
        // Only the update and reset parts of Rb join the input bias.
        SINTER_TRY(wbZr, rows(bias, d, 0, 2 * hidden));
        SINTER_TRY(wbH, rows(bias, d, 2 * hidden, 3 * hidden));
        SINTER_TRY(zr, make<AddOp>(wbZr, rbZr));
        SINTER_TRY(joined, make<ConcatOp>(ValueRange{zr, wbH}, int64_t(0)));
        inputBias = joined;
      } else {
        SINTER_TRY(sum, make<AddOp>(wb, rb));
        inputBias = sum;
      }
    }
    SINTER_TRY(xw, make<LinearOp>(x, wMatrix, inputBias,
                                  /*transpose_weight=*/true));
    if (cell == Cell::Gru) {
      SINTER_TRY(rZr, rows(r, d, 0, 2 * hidden));
      SINTER_TRY(rH, rows(r, d, 2 * hidden, 3 * hidden));
      wd.r = rZr;
      wd.rHidden = rH;
    } else {
      SINTER_TRY(rMatrix, rows(r, d, 0, gates * hidden));
      wd.r = rMatrix;
    }
    if (peepholes) {
      SINTER_TRY(pi, rows(peepholes, d, 0, hidden));
      SINTER_TRY(po, rows(peepholes, d, hidden, 2 * hidden));
      SINTER_TRY(pf, rows(peepholes, d, 2 * hidden, 3 * hidden));
      wd.pInput = pi;
      wd.pOutput = po;
      wd.pForget = pf;
    }
    bool reverse = dir == "reverse" || d == 1;
    FailureOr<SmallVector<Value>> results = direction(d, reverse, xw);
    if (failed(results))
      return failure();
    hs.push_back((*results)[0]);
    cs.push_back((*results)[1]);
    ys.push_back((*results)[2]);
  }

  // Y is [seq, directions, batch, hidden] (layout 1: [batch, seq,
  // directions, hidden]); Y_h and Y_c [directions, batch, hidden] (layout
  // 1: [batch, directions, hidden]).
  auto stack = [&](ArrayRef<Value> parts, int64_t axis) -> FailureOr<Value> {
    SmallVector<Value> expanded;
    for (Value part : parts) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t i = 0, e = cast<RankedTensorType>(part.getType()).getRank();
           i < e; ++i)
        sizes.push_back(node.dimSize(part, i));
      sizes.insert(sizes.begin() + axis, b.getIndexAttr(1));
      SINTER_TRY(reshaped, reshape(part, sizes));
      expanded.push_back(reshaped);
    }
    if (expanded.size() == 1)
      return expanded.front();
    return make<ConcatOp>(ValueRange(expanded), axis);
  };
  SINTER_TRY(y, stack(ys, 1));
  SINTER_TRY(yh, stack(hs, 0));
  SmallVector<Value> outputs = {y, yh};
  if (cell == Cell::Lstm) {
    SINTER_TRY(yc, stack(cs, 0));
    outputs.push_back(yc);
  }
  for (auto [i, value] : llvm::enumerate(outputs)) {
    if (layout) {
      SmallVector<int64_t> perm = i == 0 ? SmallVector<int64_t>{2, 0, 1, 3}
                                         : SmallVector<int64_t>{1, 0, 2};
      SINTER_TRY(t, make<TransposeOp>(value, perm));
      value = t;
    }
    node.setOutput(i, value);
  }
  return success();
}

/// One time step of the cell: the new hidden state (and in `cOut` the new
/// cell state of an LSTM) from the step's input projection `xw` [batch,
/// gates * hidden] and the previous states.
FailureOr<Value> Recurrent::step(int64_t d, Value xw, Value h, Value c,
                                 Value &cOut) {
  const Weights &wd = weights[d];
  ArrayRef<Activation> fs = ArrayRef(activations)
                                .slice(d * (activations.size() / directions),
                                       activations.size() / directions);
  SINTER_TRY(hr, make<LinearOp>(h, wd.r, Value(), /*transpose_weight=*/true));
  if (cell == Cell::Rnn) {
    SINTER_TRY(sum, make<AddOp>(xw, hr));
    return activate(fs[0], sum);
  }
  if (cell == Cell::Gru) {
    // Gates z, r, h in this order.
    SINTER_TRY(xz, columns(xw, 0, hidden));
    SINTER_TRY(xr, columns(xw, hidden, 2 * hidden));
    SINTER_TRY(xh, columns(xw, 2 * hidden, 3 * hidden));
    SINTER_TRY(hz, columns(hr, 0, hidden));
    SINTER_TRY(hrr, columns(hr, hidden, 2 * hidden));
    SINTER_TRY(zIn, make<AddOp>(xz, hz));
    SINTER_TRY(z, activate(fs[0], zIn));
    SINTER_TRY(rIn, make<AddOp>(xr, hrr));
    SINTER_TRY(rg, activate(fs[0], rIn));
    Value hh;
    if (linearBeforeReset) {
      SINTER_TRY(prod, make<LinearOp>(h, wd.rHidden, wd.rBiasHidden,
                                      /*transpose_weight=*/true));
      SINTER_TRY(scaled, make<MulOp>(rg, prod));
      hh = scaled;
    } else {
      SINTER_TRY(rh, make<MulOp>(rg, h));
      SINTER_TRY(prod, make<LinearOp>(rh, wd.rHidden, Value(),
                                      /*transpose_weight=*/true));
      hh = prod;
    }
    SINTER_TRY(hIn, make<AddOp>(xh, hh));
    SINTER_TRY(candidate, activate(fs[1], hIn));
    // (1 - z) * candidate + z * h = candidate + z * (h - candidate)
    SINTER_TRY(diff, make<SubOp>(h, candidate));
    SINTER_TRY(kept, make<MulOp>(z, diff));
    return make<AddOp>(candidate, kept);
  }
  // LSTM: gates i, o, f, c in this order; peepholes i, o, f.
  SINTER_TRY(gatesIn, make<AddOp>(xw, hr));
  SINTER_TRY(gi, columns(gatesIn, 0, hidden));
  SINTER_TRY(go, columns(gatesIn, hidden, 2 * hidden));
  SINTER_TRY(gf, columns(gatesIn, 2 * hidden, 3 * hidden));
  SINTER_TRY(gc, columns(gatesIn, 3 * hidden, 4 * hidden));
  auto peep = [&](Value gate, Value p, Value state) -> FailureOr<Value> {
    if (!p)
      return gate;
    SINTER_TRY(prod, make<MulOp>(p, state));
    return make<AddOp>(gate, prod);
  };
  SINTER_TRY(iIn, peep(gi, wd.pInput, c));
  SINTER_TRY(ig, activate(fs[0], iIn));
  Value fg;
  if (inputForget) {
    SINTER_TRY(oneMinus, make<SubOp>(scalar(1), ig));
    fg = oneMinus;
  } else {
    SINTER_TRY(fIn, peep(gf, wd.pForget, c));
    SINTER_TRY(f, activate(fs[0], fIn));
    fg = f;
  }
  SINTER_TRY(candidate, activate(fs[1], gc));
  SINTER_TRY(keep, make<MulOp>(fg, c));
  SINTER_TRY(add, make<MulOp>(ig, candidate));
  SINTER_TRY(cNew, make<AddOp>(keep, add));
  cOut = cNew;
  SINTER_TRY(oIn, peep(go, wd.pOutput, cNew));
  SINTER_TRY(og, activate(fs[0], oIn));
  SINTER_TRY(hc, activate(fs[2], cNew));
  return make<MulOp>(og, hc);
}

/// The loop of direction `d` over the time steps; gives the last hidden
/// state, the last cell state (LSTM) and Y [seq, batch, hidden].
FailureOr<SmallVector<Value>> Recurrent::direction(int64_t d, bool reverse,
                                                   Value xw) {
  Location loc = node.loc();
  SINTER_TRY(h0, initialState(5, d));
  Value c0 = h0;
  if (cell == Cell::Lstm) {
    SINTER_TRY(c, initialState(6, d));
    c0 = c;
  }
  // sequence_lens: a batch entry whose sequence has ended keeps its states
  // and gets zeros in Y. In reverse, the steps past its end come first and
  // change nothing, so that it runs from its own last step back.
  Value lengths = node.input(4);
  if (lengths) {
    std::optional<Known> known = node.knownInts(4);
    std::optional<int64_t> seq = getConstantIntValue(seqSize);
    if (known && seq && llvm::all_of(*known, [&](OpFoldResult l) {
          return getConstantIntValue(l) == seq;
        }))
      lengths = Value();
  }
  auto yType = RankedTensorType::get(
      {getConstantIntValue(seqSize).value_or(ShapedType::kDynamic),
       getConstantIntValue(batchSize).value_or(ShapedType::kDynamic), hidden},
      elementType);
  SmallVector<Value> yDynamic;
  for (OpFoldResult size : {seqSize, batchSize})
    if (!getConstantIntValue(size))
      yDynamic.push_back(node.indexValue(size));
  Value yInit = tensor::EmptyOp::create(b, loc, yType, yDynamic);
  Value steps = node.indexValue(seqSize);
  auto forOp = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0), steps,
      arith::ConstantIndexOp::create(b, loc, 1), ValueRange{h0, c0, yInit});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  Value t = forOp.getInductionVar();
  if (reverse)
    t = arith::SubIOp::create(
        b, loc,
        arith::SubIOp::create(b, loc, steps,
                              arith::ConstantIndexOp::create(b, loc, 1)),
        t);
  Value h = forOp.getRegionIterArgs()[0], c = forOp.getRegionIterArgs()[1],
        y = forOp.getRegionIterArgs()[2];
  auto xwType = cast<RankedTensorType>(xw.getType());
  auto stepType = RankedTensorType::get(
      {xwType.getDimSize(1), xwType.getDimSize(2)}, elementType);
  Value xt = tensor::ExtractSliceOp::create(
      b, loc, stepType, xw,
      ArrayRef<OpFoldResult>{t, b.getIndexAttr(0), b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), batchSize,
                             b.getIndexAttr(xwType.getDimSize(2))},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                             b.getIndexAttr(1)});
  Value cNew = c;
  SINTER_TRY(hNew, step(d, xt, h, c, cNew));
  Value yt = hNew;
  if (lengths) {
    // live[b] = t < sequence_lens[b], as a [batch, 1] mask.
    auto lengthType = cast<RankedTensorType>(lengths.getType());
    Value tInt =
        arith::IndexCastOp::create(b, loc, lengthType.getElementType(), t);
    Value tTensor = tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({}, lengthType.getElementType()), tInt);
    SINTER_TRY(live, make<GreaterOp>(lengths, tTensor));
    SINTER_TRY(mask, reshape(live, {batchSize, b.getIndexAttr(1)}));
    SINTER_TRY(hKept, make<WhereOp>(mask, hNew, h));
    SINTER_TRY(yMasked, make<WhereOp>(mask, hNew, scalar(0)));
    hNew = hKept;
    yt = yMasked;
    if (cell == Cell::Lstm) {
      SINTER_TRY(cKept, make<WhereOp>(mask, cNew, c));
      cNew = cKept;
    }
  }
  Value yNext = tensor::InsertSliceOp::create(
      b, loc, yt, y,
      ArrayRef<OpFoldResult>{t, b.getIndexAttr(0), b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), batchSize,
                             b.getIndexAttr(hidden)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                             b.getIndexAttr(1)});
  scf::YieldOp::create(b, loc, ValueRange{hNew, cNew, yNext});
  return SmallVector<Value>(forOp.getResults());
}

LogicalResult convertLstm(OnnxNode &node) {
  return Recurrent(node, Cell::Lstm).convert();
}
LogicalResult convertGru(OnnxNode &node) {
  return Recurrent(node, Cell::Gru).convert();
}
LogicalResult convertRnn(OnnxNode &node) {
  return Recurrent(node, Cell::Rnn).convert();
}

} // namespace

ArrayRef<OnnxConverterEntry> recurrentConverters() {
  // Opset 14 added the layout attribute; 7 reads the same otherwise.
  static const OnnxConverterEntry entries[] = {
      SINTER_ONNX_OP_SINCE("LSTM", 7, convertLstm),
      SINTER_ONNX_OP_SINCE("GRU", 7, convertGru),
      SINTER_ONNX_OP_SINCE("RNN", 7, convertRnn),
  };
  return entries;
}

} // namespace sinter
