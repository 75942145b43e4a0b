//===- ConvertRecurrent.cpp - LSTM, GRU, RNN ------------------------------===//

#include "frontend/onnx/ConverterUtils.h"

using namespace mlir;

namespace sinter {

ArrayRef<OnnxConverterEntry> recurrentConverters() { return {}; }

} // namespace sinter
