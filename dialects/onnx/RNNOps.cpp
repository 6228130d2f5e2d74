//===- RNNOps.cpp - LSTM, GRU and RNN ops ---------------------------------===//
//
// Verifiers, shape inference and the attribute rules (shared with the
// lowering through ShapeHelpers.h) of the ops in OnnxRNNOps.td.
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace kiln::onnx;
using llvm::ArrayRef;
using llvm::SmallVector;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {

// Operand positions shared by the three ops (LSTM adds initial_c and P).
enum { kX, kW, kR, kB, kSequenceLens, kInitialH, kInitialC, kP };

using Kind = RecurrentActivation::Kind;

struct ActivationInfo {
  StringRef name;
  Kind kind;
  bool hasAlpha, hasBeta;
  float alpha, beta; // defaults: those of the ONNX operator of that name
};

const ActivationInfo kActivations[] = {
    {"Relu", Kind::Relu, false, false, 0, 0},
    {"Tanh", Kind::Tanh, false, false, 0, 0},
    {"Sigmoid", Kind::Sigmoid, false, false, 0, 0},
    {"Affine", Kind::Affine, true, true, 1.0f, 0.0f},
    {"LeakyRelu", Kind::LeakyRelu, true, false, 0.01f, 0},
    {"ThresholdedRelu", Kind::ThresholdedRelu, true, false, 1.0f, 0},
    {"ScaledTanh", Kind::ScaledTanh, true, true, 1.0f, 1.0f},
    {"HardSigmoid", Kind::HardSigmoid, true, true, 0.2f, 0.5f},
    {"Elu", Kind::Elu, true, false, 1.0f, 0},
    {"Softsign", Kind::Softsign, false, false, 0, 0},
    {"Softplus", Kind::Softplus, false, false, 0, 0},
};

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + (d == kDyn ? std::string("?") : std::to_string(d));
  return s + "]";
}

/// `v`, when ranked, must have `want`'s rank and agree with it where both
/// dimensions are known.
std::optional<std::string> checkShape(Value v, StringRef name,
                                      ArrayRef<int64_t> want) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return std::nullopt;
  bool ok = t.getRank() == (int64_t)want.size();
  for (int64_t i = 0; ok && i < t.getRank(); ++i)
    ok = want[i] == kDyn || t.isDynamicDim(i) || t.getDimSize(i) == want[i];
  if (ok)
    return std::nullopt;
  return (name + " has shape " + shapeString(t.getShape()) + ", expected " +
          shapeString(want))
      .str();
}

/// Dimension `i` of `v` when it is ranked with rank `rank`, else dynamic.
int64_t dimOf(Value v, int64_t rank, int64_t i) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == rank ? t.getDimSize(i) : kDyn;
}

/// `a` and `b` agree unless one is unknown; the known one.
std::optional<int64_t> merge(int64_t a, int64_t b) {
  if (a == kDyn)
    return b;
  if (b == kDyn || a == b)
    return a;
  return std::nullopt;
}

} // namespace

std::optional<std::string> kiln::onnx::resolveRecurrent(Operation *op,
                                                        RecurrentParams &p) {
  int64_t perDirection;
  if (isa<LSTMOp>(op)) {
    p.gates = 4;
    perDirection = 3;
  } else if (isa<GRUOp>(op)) {
    p.gates = 3;
    perDirection = 2;
  } else {
    p.gates = 1;
    perDirection = 1;
  }

  auto strAttr = [&](StringRef name, StringRef dflt) {
    auto a = op->getAttrOfType<StringAttr>(name);
    return a ? a.getValue() : dflt;
  };
  auto intAttr = [&](StringRef name, int64_t dflt) {
    auto a = op->getAttrOfType<IntegerAttr>(name);
    return a ? a.getInt() : dflt;
  };

  StringRef direction = strAttr("direction", "forward");
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    return "unknown direction '" + direction.str() +
           "' (expected forward, reverse or bidirectional)";
  p.numDirections = direction == "bidirectional" ? 2 : 1;
  p.reverse = direction == "reverse";
  int64_t layout = intAttr("layout", 0);
  if (layout != 0 && layout != 1)
    return "layout must be 0 or 1, got " + std::to_string(layout);
  p.batchFirst = layout == 1;

  // Activations: the defaults, or the names given (one list per direction;
  // a single list serves both directions). Alphas and betas are consumed in
  // order by the functions that take them.
  SmallVector<StringRef> names;
  if (auto list = op->getAttrOfType<ArrayAttr>("activations")) {
    for (Attribute a : list) {
      auto s = dyn_cast<StringAttr>(a);
      if (!s)
        return std::string("activations must be strings");
      names.push_back(s.getValue());
    }
    if ((int64_t)names.size() == perDirection && p.numDirections == 2)
      names.append(SmallVector<StringRef>(names));
    if ((int64_t)names.size() != perDirection * p.numDirections)
      return "expects " + std::to_string(perDirection * p.numDirections) +
             " activations, got " + std::to_string(list.size());
  } else {
    static const StringRef lstm[] = {"Sigmoid", "Tanh", "Tanh"};
    static const StringRef gru[] = {"Sigmoid", "Tanh"};
    static const StringRef rnn[] = {"Tanh"};
    ArrayRef<StringRef> dflt = p.gates == 4   ? ArrayRef<StringRef>(lstm)
                               : p.gates == 3 ? ArrayRef<StringRef>(gru)
                                              : ArrayRef<StringRef>(rnn);
    for (int64_t d = 0; d < p.numDirections; ++d)
      names.append(dflt.begin(), dflt.end());
  }
  auto floats = [&](StringRef name) {
    SmallVector<float> v;
    if (auto a = op->getAttrOfType<DenseF32ArrayAttr>(name))
      v.assign(a.asArrayRef().begin(), a.asArrayRef().end());
    return v;
  };
  SmallVector<float> alphas = floats("activation_alpha"),
                     betas = floats("activation_beta");
  size_t nextAlpha = 0, nextBeta = 0;
  p.activations.clear();
  for (StringRef name : names) {
    const ActivationInfo *info = llvm::find_if(
        kActivations, [&](auto &a) { return a.name.equals_insensitive(name); });
    if (info == std::end(kActivations))
      return "unknown activation '" + name.str() + "'";
    RecurrentActivation act{info->kind, info->alpha, info->beta};
    if (info->hasAlpha && nextAlpha < alphas.size())
      act.alpha = alphas[nextAlpha++];
    if (info->hasBeta && nextBeta < betas.size())
      act.beta = betas[nextBeta++];
    p.activations.push_back(act);
  }

  if (auto clip = op->getAttrOfType<FloatAttr>("clip"))
    if (!(clip.getValueAsDouble() > 0))
      return std::string("clip must be positive");

  // Dimensions: X gives seq, batch and input; R (or W, or hidden_size) the
  // hidden size.
  Value x = op->getOperand(kX), w = op->getOperand(kW), r = op->getOperand(kR);
  if (!isa<FloatType>(cast<ShapedType>(x.getType()).getElementType()))
    return std::string("X must be a floating-point tensor");
  for (int i : {kW, kR, kB, kInitialH, kInitialC, kP}) {
    if (i >= (int)op->getNumOperands())
      break;
    Value v = op->getOperand(i);
    if (!isa<NoneType>(v.getType()) &&
        cast<ShapedType>(v.getType()).getElementType() !=
            cast<ShapedType>(x.getType()).getElementType())
      return std::string(
          "X, W, R, B, the initial states and P must have one element type");
  }
  if (auto err = checkShape(x, "X", {kDyn, kDyn, kDyn}))
    return err;
  p.seq = dimOf(x, 3, p.batchFirst ? 1 : 0);
  p.batch = dimOf(x, 3, p.batchFirst ? 0 : 1);
  p.input = dimOf(x, 3, 2);
  p.hidden = kDyn;
  if (auto hs = op->getAttrOfType<IntegerAttr>("hidden_size")) {
    if (hs.getInt() <= 0)
      return "hidden_size must be positive, got " + std::to_string(hs.getInt());
    p.hidden = hs.getInt();
  }
  auto hidden = merge(p.hidden, dimOf(r, 3, 2));
  int64_t wRows = dimOf(w, 3, 1);
  if (hidden && *hidden == kDyn && wRows != kDyn && wRows % p.gates == 0)
    hidden = wRows / p.gates;
  if (!hidden)
    return "hidden_size " + std::to_string(p.hidden) + " differs from R's " +
           "last dimension " + std::to_string(dimOf(r, 3, 2));
  p.hidden = *hidden;
  int64_t d = p.numDirections, h = p.hidden;
  int64_t gh = h == kDyn ? kDyn : p.gates * h;
  if (auto input = merge(p.input, dimOf(w, 3, 2)))
    p.input = *input;
  if (auto err = checkShape(w, "W", {d, gh, p.input}))
    return err;
  if (auto err = checkShape(r, "R", {d, gh, h}))
    return err;
  if (auto err =
          checkShape(op->getOperand(kB), "B", {d, gh == kDyn ? kDyn : 2 * gh}))
    return err;
  Value lens = op->getOperand(kSequenceLens);
  if (auto err = checkShape(lens, "sequence_lens", {p.batch}))
    return err;
  if (!isa<NoneType>(lens.getType()) &&
      !cast<ShapedType>(lens.getType()).getElementType().isInteger(32))
    return std::string("sequence_lens must be an int32 tensor");
  Shape state = p.batchFirst ? Shape{p.batch, d, h} : Shape{d, p.batch, h};
  if (auto err = checkShape(op->getOperand(kInitialH), "initial_h", state))
    return err;
  if (p.gates == 4) {
    if (auto err = checkShape(op->getOperand(kInitialC), "initial_c", state))
      return err;
    if (auto err =
            checkShape(op->getOperand(kP), "P", {d, h == kDyn ? kDyn : 3 * h}))
      return err;
  }
  return std::nullopt;
}

static LogicalResult verifyRecurrent(Operation *op) {
  RecurrentParams p;
  if (auto err = resolveRecurrent(op, p))
    return op->emitOpError(*err);
  return success();
}

/// Y is seq x directions x batch x hidden (layout 1: batch x seq x
/// directions x hidden); the final states directions x batch x hidden
/// (layout 1: batch x directions x hidden).
static LogicalResult inferRecurrent(Operation *op) {
  RecurrentParams p;
  if (auto err = resolveRecurrent(op, p))
    return op->emitOpError(*err);
  Type elem = cast<ShapedType>(op->getOperand(kX).getType()).getElementType();
  int64_t d = p.numDirections;
  Shape y = p.batchFirst ? Shape{p.batch, p.seq, d, p.hidden}
                         : Shape{p.seq, d, p.batch, p.hidden};
  Shape state =
      p.batchFirst ? Shape{p.batch, d, p.hidden} : Shape{d, p.batch, p.hidden};
  op->getResult(0).setType(RankedTensorType::get(y, elem));
  for (Value res : op->getResults().drop_front())
    res.setType(RankedTensorType::get(state, elem));
  return success();
}

LogicalResult LSTMOp::verify() { return verifyRecurrent(*this); }
LogicalResult LSTMOp::inferShapes() { return inferRecurrent(*this); }
LogicalResult GRUOp::verify() { return verifyRecurrent(*this); }
LogicalResult GRUOp::inferShapes() { return inferRecurrent(*this); }
LogicalResult RNNOp::verify() { return verifyRecurrent(*this); }
LogicalResult RNNOp::inferShapes() { return inferRecurrent(*this); }
