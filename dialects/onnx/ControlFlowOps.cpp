//===- ControlFlowOps.cpp - verifiers and shape rules of If, Loop, Scan ---===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

using namespace mlir;
using namespace kiln::onnx;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static YieldOp yieldOf(Region &r) {
  if (r.empty() || r.front().empty())
    return nullptr;
  return dyn_cast<YieldOp>(r.front().getTerminator());
}

/// Two types of one value on different paths: their common shape (dynamic
/// where the dims differ; unranked where the ranks do), or null when their
/// element types (or kinds) differ.
static Type mergeTypes(Type a, Type b) {
  if (a == b)
    return a;
  if (auto sa = dyn_cast<SeqType>(a), sb = dyn_cast<SeqType>(b); sa && sb) {
    Type e = mergeTypes(sa.getElementType(), sb.getElementType());
    return e ? SeqType::get(a.getContext(), cast<TensorType>(e)) : Type();
  }
  // An optional and a value of its kind: an optional (a Loop may carry an
  // optional sequence that its body replaces by a sequence).
  auto oa = dyn_cast<OptType>(a), ob = dyn_cast<OptType>(b);
  if (oa || ob) {
    Type e = mergeTypes(oa ? oa.getElementType() : a,
                        ob ? ob.getElementType() : b);
    return e ? OptType::get(a.getContext(), e) : Type();
  }
  auto sa = dyn_cast<ShapedType>(a), sb = dyn_cast<ShapedType>(b);
  if (!sa || !sb || sa.getElementType() != sb.getElementType())
    return nullptr;
  auto ra = dyn_cast<RankedTensorType>(a), rb = dyn_cast<RankedTensorType>(b);
  if (!ra || !rb || ra.getRank() != rb.getRank())
    return UnrankedTensorType::get(sa.getElementType());
  Shape dims;
  for (int64_t d = 0; d < ra.getRank(); ++d)
    dims.push_back(ra.getDimSize(d) == rb.getDimSize(d) ? ra.getDimSize(d)
                                                        : kDyn);
  return RankedTensorType::get(dims, sa.getElementType());
}

/// `t` with a dim of `size` inserted at `at` (null when unranked).
static Type withDim(Type t, int64_t at, int64_t size) {
  auto r = dyn_cast<RankedTensorType>(t);
  if (!r)
    return UnrankedTensorType::get(cast<ShapedType>(t).getElementType());
  Shape dims(r.getShape());
  dims.insert(dims.begin() + at, size);
  return RankedTensorType::get(dims, r.getElementType());
}

/// `t` without its dim `at`.
static Type withoutDim(Type t, int64_t at) {
  auto r = dyn_cast<RankedTensorType>(t);
  if (!r)
    return t;
  Shape dims(r.getShape());
  dims.erase(dims.begin() + at);
  return RankedTensorType::get(dims, r.getElementType());
}

static LogicalResult verifyBoolScalar(Operation *op, Value v, StringRef what) {
  if (!isBool(v))
    return op->emitOpError(what) << " must be a bool tensor";
  return verifyScalar(op, v, what);
}

//===----------------------------------------------------------------------===//
// If
//===----------------------------------------------------------------------===//

LogicalResult IfOp::verify() {
  if (failed(verifyBoolScalar(*this, getCond(), "cond")))
    return failure();
  YieldOp t = yieldOf(getThenBranch()), e = yieldOf(getElseBranch());
  if (!t || !e)
    return emitOpError("branches must end in onnx.Yield");
  if (t.getNumOperands() != getNumResults() ||
      e.getNumOperands() != getNumResults())
    return emitOpError("then_branch yields ")
           << t.getNumOperands() << " values and else_branch "
           << e.getNumOperands() << " for " << getNumResults() << " outputs";
  for (unsigned i = 0; i < getNumResults(); ++i)
    if (!mergeTypes(t.getOperand(i).getType(), e.getOperand(i).getType()))
      return emitOpError("output ")
             << i << " has type " << t.getOperand(i).getType()
             << " in then_branch but " << e.getOperand(i).getType()
             << " in else_branch";
  return success();
}

LogicalResult IfOp::inferShapes() {
  YieldOp t = yieldOf(getThenBranch()), e = yieldOf(getElseBranch());
  for (unsigned i = 0; i < getNumResults(); ++i)
    getResult(i).setType(
        mergeTypes(t.getOperand(i).getType(), e.getOperand(i).getType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Loop
//===----------------------------------------------------------------------===//

bool LoopOp::conditionPassesThrough() {
  YieldOp y = yieldOf(getBody());
  if (!y || y.getNumOperands() == 0)
    return false;
  Value c = y.getOperand(0);
  while (auto id = c.getDefiningOp<IdentityOp>())
    c = id.getX();
  return c == getBody().front().getArgument(1);
}

LogicalResult LoopOp::verify() {
  if (!isNone(getM())) {
    if (!elemOf(getM()).isInteger(64))
      return emitOpError("M must be an int64 scalar");
    if (failed(verifyScalar(*this, getM(), "M")))
      return failure();
  }
  if (!isNone(getCond()) &&
      failed(verifyBoolScalar(*this, getCond(), "cond")))
    return failure();
  unsigned numV = getVInitial().size();
  if (getNumResults() < numV)
    return emitOpError("has fewer outputs than loop-carried values");
  Block &body = getBody().front();
  if (body.getNumArguments() != 2 + numV)
    return emitOpError("body takes ")
           << body.getNumArguments() << " inputs; expected " << 2 + numV
           << " (iteration number, condition, loop-carried values)";
  YieldOp y = yieldOf(getBody());
  if (!y || y.getNumOperands() != 1 + getNumResults())
    return emitOpError("body must yield the condition, the ")
           << numV << " loop-carried values and " << getNumScanOutputs()
           << " scan outputs";
  if (!isBool(y.getOperand(0)))
    return emitOpError("body's first output (the condition) must be bool");
  for (unsigned i = 0; i < numV; ++i)
    if (!mergeTypes(getVInitial()[i].getType(), y.getOperand(1 + i).getType()))
      return emitOpError("loop-carried value ")
             << i << " enters as " << getVInitial()[i].getType()
             << " but the body yields " << y.getOperand(1 + i).getType();
  return success();
}

LogicalResult LoopOp::inferShapes() {
  YieldOp y = yieldOf(getBody());
  unsigned numV = getVInitial().size();
  // A carried value keeps its initial type where what the body yields fits
  // it (a shape the body's ops could not pin down); else the shapes merge.
  for (unsigned i = 0; i < numV; ++i) {
    Type init = getVInitial()[i].getType(), next = y.getOperand(1 + i).getType();
    auto a = dyn_cast<ShapedType>(init), b = dyn_cast<ShapedType>(next);
    bool fits = a && b && a.getElementType() == b.getElementType() &&
                (!b.hasRank() ||
                 (a.hasRank() &&
                  succeeded(verifyCompatibleShape(a.getShape(), b.getShape()))));
    getResult(i).setType(fits ? init : mergeTypes(init, next));
  }
  // Rows of the scan outputs: M where the loop cannot stop early.
  int64_t rows = kDyn;
  if (conditionPassesThrough()) {
    auto m = isNone(getM()) ? std::nullopt : getConstantInts(getM());
    auto c = isNone(getCond()) ? std::optional<SmallVector<int64_t>>(
                                     SmallVector<int64_t>{1})
                               : getConstantInts(getCond());
    if (m && c)
      rows = (*c)[0] ? std::max<int64_t>((*m)[0], 0) : 0;
  }
  for (unsigned i = numV; i < getNumResults(); ++i)
    getResult(i).setType(withDim(y.getOperand(1 + i).getType(), 0, rows));
  return success();
}

//===----------------------------------------------------------------------===//
// Scan
//===----------------------------------------------------------------------===//

/// Entry `i` of an optional axes attribute, normalized for `rank` (0 when
/// absent).
static int64_t axisAt(std::optional<ArrayRef<int64_t>> axes, unsigned i,
                      int64_t rank) {
  if (!axes || i >= axes->size())
    return 0;
  int64_t a = (*axes)[i];
  return a < 0 ? a + rank : a;
}

static int64_t rankOf(Value v) {
  auto r = ranked(v);
  return r ? r.getRank() : 0;
}

int64_t ScanOp::inputAxis(unsigned i) {
  return axisAt(getScanInputAxes(), i,
                rankOf(getInputs()[getNumState() + i]) - (getBatched() ? 1 : 0));
}
int64_t ScanOp::outputAxis(unsigned i) {
  Value y = yieldOf(getBody()).getOperand(getNumState() + i);
  return axisAt(getScanOutputAxes(), i, rankOf(y) + 1);
}
bool ScanOp::inputReversed(unsigned i) {
  auto d = getBatched() ? getDirections() : getScanInputDirections();
  return d && i < d->size() && (*d)[i] == 1;
}
bool ScanOp::outputReversed(unsigned i) {
  auto d = getScanOutputDirections();
  return d && i < d->size() && (*d)[i] == 1;
}

LogicalResult ScanOp::verify() {
  int64_t numScan = getNumScanInputs();
  if (numScan < 1 || numScan > (int64_t)getInputs().size())
    return emitOpError("num_scan_inputs must be between 1 and the number of "
                       "inputs");
  unsigned numState = getNumState();
  if (getNumResults() < numState)
    return emitOpError("has fewer outputs than state values");
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body takes ")
           << body.getNumArguments() << " inputs for " << getInputs().size()
           << " (state values, then one slice per scan input)";
  YieldOp y = yieldOf(getBody());
  if (!y || y.getNumOperands() != getNumResults())
    return emitOpError("body must yield the ")
           << numState << " state values, then one value per scan output";
  for (unsigned i = 0; i < numScan; ++i) {
    auto t = ranked(getInputs()[numState + i]);
    int64_t lead = getBatched() ? 1 : 0;
    if (t && (inputAxis(i) < 0 || inputAxis(i) >= t.getRank() - lead))
      return emitOpError("scan input ") << i << " has no axis " << inputAxis(i);
  }
  return success();
}

LogicalResult ScanOp::inferShapes() {
  YieldOp y = yieldOf(getBody());
  unsigned numState = getNumState();
  int64_t lead = getBatched() ? 1 : 0;
  for (unsigned i = 0; i < numState; ++i)
    getResult(i).setType(getInputs()[i].getType());
  // The scan length: the first scan input's dim along its axis.
  int64_t length = kDyn, batch = kDyn;
  if (auto t = ranked(getInputs()[numState])) {
    length = t.getDimSize(lead + inputAxis(0));
    if (lead)
      batch = t.getDimSize(0);
  }
  for (unsigned i = numState; i < getNumResults(); ++i) {
    unsigned k = i - numState;
    Type t = withDim(y.getOperand(i).getType(), outputAxis(k), length);
    if (lead)
      t = withDim(t, 0, batch);
    getResult(i).setType(t);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Body argument types (what the importer gives a subgraph's inputs)
//===----------------------------------------------------------------------===//

SmallVector<Type> kiln::onnx::loopBodyTypes(LoopOp op) {
  MLIRContext *ctx = op.getContext();
  SmallVector<Type> types{RankedTensorType::get({}, IntegerType::get(ctx, 64)),
                          RankedTensorType::get({}, IntegerType::get(ctx, 1))};
  // A carried sequence may gain elements of other shapes in the body:
  // inside it, its elements' shapes are not known.
  for (Value v : op.getVInitial()) {
    Type t = v.getType();
    if (auto seq = dyn_cast<SeqType>(t))
      t = SeqType::get(ctx, UnrankedTensorType::get(
                                seq.getElementType().getElementType()));
    types.push_back(t);
  }
  return types;
}

SmallVector<Type> kiln::onnx::scanBodyTypes(ScanOp op) {
  SmallVector<Type> types;
  unsigned numState = op.getNumState();
  int64_t lead = op.getBatched() ? 1 : 0;
  for (auto [i, v] : llvm::enumerate(op.getInputs())) {
    Type t = v.getType();
    if (lead)
      t = withoutDim(t, 0);
    if (i >= numState)
      t = withoutDim(t, op.inputAxis(i - numState));
    types.push_back(t);
  }
  return types;
}
