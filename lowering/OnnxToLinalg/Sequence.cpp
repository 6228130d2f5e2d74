//===- Sequence.cpp - sequences and optionals -----------------------------===//
//
// At compile time: where a sequence's elements are known values
// (resolveSequence), SequenceAt is the element, SequenceLength a constant,
// ConcatFromSequence a Concat of the elements (each unsqueezed when
// stacking). A SplitToSequence piece is an extract_slice of the split
// input. The sequence ops themselves have no users left then and are erased
// as dead.
//
// At run time: a sequence that is a graph input or output, that a Loop
// carries or an If chooses, is a handle to a kiln_sequence of the runtime
// (runtime/src/sequence.c), and its ops are calls: kiln_seq_insert copies a
// tensor in (any strides), kiln_seq_at gives an element's bytes, viewed as a
// tensor of the element's shape without a copy. The calls take the run
// (kiln_run_begin at the function's entry; kiln-sequence-outputs ends it).
// Until the pass's end the handles are !llvm.ptr values cast to and from
// the onnx types; then every !onnx.seq (and optional sequence) becomes
// !llvm.ptr, and an optional tensor, which only a graph input can be, its
// tensor (a NULL buffer when it holds nothing).
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AttrTypeSubElements.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

/// The tensor of element `e` (a slice of a static split input, squeezed as
/// SplitToSequence says); null when its shape is not static.
Value materialize(OpBuilder &b, Location loc, const kop::SeqElement &e) {
  if (e.value)
    return e.value;
  kop::SplitToSequenceOp split = e.split;
  auto pieces = kop::splitPieces(split);
  auto in = dyn_cast<RankedTensorType>(split.getInput().getType());
  if (!pieces || !in || !in.hasStaticShape())
    return Value();
  int64_t rank = in.getRank();
  int64_t axis = *kop::normalizeAxis(split.getAxis(), rank);
  SmallVector<int64_t> offsets(rank, 0), sizes(in.getShape()),
      strides(rank, 1);
  offsets[axis] = pieces->first[e.index];
  sizes[axis] = pieces->second[e.index];
  auto type = cast<RankedTensorType>(kop::seqElementType(e));
  return tensor::ExtractSliceOp::create(b, loc, type, split.getInput(),
                                        indexAttrs(b, offsets),
                                        indexAttrs(b, sizes),
                                        indexAttrs(b, strides));
}

std::optional<int64_t> position(Value v, int64_t n) {
  auto c = kop::getConstantInts(v);
  if (!c || c->size() != 1 || (*c)[0] < -n || (*c)[0] >= n)
    return std::nullopt;
  return (*c)[0] < 0 ? (*c)[0] + n : (*c)[0];
}

constexpr StringLiteral kUnresolved =
    "a sequence whose elements are not known when compiling (positions "
    "must be constants; sequences may not be graph inputs or outputs or "
    "be carried by a Loop)";

struct SequenceAtPattern : OpRewritePattern<kop::SequenceAtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::SequenceAtOp op,
                                PatternRewriter &rewriter) const override {
    auto elems = kop::resolveSequence(op.getInputSequence());
    if (!elems)
      return rewriter.notifyMatchFailure(op, kUnresolved);
    auto at = position(op.getPosition(), elems->size());
    if (!at)
      return rewriter.notifyMatchFailure(op, "position not a constant");
    Value v = materialize(rewriter, op.getLoc(), (*elems)[*at]);
    if (!v)
      return rewriter.notifyMatchFailure(op, "a piece of dynamic shape");
    if (v.getType() != op.getType())
      v = tensor::CastOp::create(rewriter, op.getLoc(), op.getType(), v);
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct SequenceLengthPattern : OpRewritePattern<kop::SequenceLengthOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::SequenceLengthOp op,
                                PatternRewriter &rewriter) const override {
    auto elems = kop::resolveSequence(op.getInputSequence());
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!elems || !type)
      return rewriter.notifyMatchFailure(op, kUnresolved);
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, type, DenseElementsAttr::get(type, (int64_t)elems->size()));
    return success();
  }
};

struct ConcatFromSequencePattern
    : OpRewritePattern<kop::ConcatFromSequenceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::ConcatFromSequenceOp op,
                                PatternRewriter &rewriter) const override {
    auto elems = kop::resolveSequence(op.getInputSequence());
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!elems || elems->empty() || !type || !type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, kUnresolved);
    Location loc = op.getLoc();
    int64_t axis = *kop::normalizeAxis(op.getAxis(), type.getRank());
    SmallVector<Value> parts;
    for (const kop::SeqElement &e : *elems) {
      Value v = materialize(rewriter, loc, e);
      auto t = v ? dyn_cast<RankedTensorType>(v.getType()) : nullptr;
      if (!t || !t.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "an element of dynamic shape");
      if (op.getNewAxis()) {
        SmallVector<int64_t> shape(t.getShape());
        shape.insert(shape.begin() + axis, 1);
        v = makeOnnx<kop::UnsqueezeOp>(
            rewriter, loc, RankedTensorType::get(shape, t.getElementType()),
            {v, noValue(rewriter, loc)},
            {rewriter.getNamedAttr("axes",
                                   rewriter.getDenseI64ArrayAttr({axis}))});
      }
      parts.push_back(v);
    }
    rewriter.replaceOp(op, makeOnnx<kop::ConcatOp>(
                               rewriter, loc, type, parts,
                               {rewriter.getNamedAttr(
                                   "axis", rewriter.getI64IntegerAttr(axis))}));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Run-time sequences
//===----------------------------------------------------------------------===//

constexpr StringLiteral kStagingAttr = "kiln.staging";
constexpr int64_t kMaxRank = 8;

Type ptrType(MLIRContext *ctx) { return LLVM::LLVMPointerType::get(ctx); }

/// Declares the runtime function `name` in the module of `from` (once).
func::FuncOp runtimeFunc(OpBuilder &b, Operation *from, StringRef name,
                         TypeRange args, TypeRange results) {
  auto module = from->getParentOfType<ModuleOp>();
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(module.getBody());
  auto f = func::FuncOp::create(b, module.getLoc(), name,
                                b.getFunctionType(args, results));
  f.setPrivate();
  return f;
}

Value call(OpBuilder &b, Location loc, Operation *from, StringRef name,
           ValueRange args, TypeRange results) {
  func::FuncOp f = runtimeFunc(b, from, name, args.getTypes(), results);
  auto c = func::CallOp::create(b, loc, f, args);
  return results.empty() ? Value() : c.getResult(0);
}

/// The run of the function around `op` (created at its entry once).
Value runOf(OpBuilder &b, Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  Block &entry = func.getBody().front();
  for (Operation &o : entry)
    if (auto c = dyn_cast<func::CallOp>(o); c && c.getCallee() == kiln::kRunBegin)
      return c.getResult(0);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(&entry);
  return call(b, func.getLoc(), op, kiln::kRunBegin, {}, {ptrType(b.getContext())});
}

/// Eight int64 slots at the function's entry for the dims a call passes.
Value stagingOf(OpBuilder &b, Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  Block &entry = func.getBody().front();
  for (Operation &o : entry)
    if (o.hasAttr(kStagingAttr))
      return o.getResult(0);
  Value run = runOf(b, op);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointAfterValue(run);
  auto alloca = memref::AllocaOp::create(
      b, func.getLoc(), MemRefType::get({2 * kMaxRank}, b.getI64Type()));
  alloca->setAttr(kStagingAttr, b.getUnitAttr());
  return alloca;
}

Value i64Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIntOp::create(b, loc, v, 64);
}
Value i32Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIntOp::create(b, loc, v, 32);
}

/// The address a memref's buffer starts at, as int64.
Value addressOf(OpBuilder &b, Location loc, Value memref) {
  Value p = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), p);
}

/// `v` (a sequence or optional, or a cast of a handle) as the handle.
Value handleOf(OpBuilder &b, Location loc, Value v) {
  if (auto cast = v.getDefiningOp<UnrealizedConversionCastOp>();
      cast && cast->getNumOperands() == 1 &&
      isa<LLVM::LLVMPointerType>(cast->getOperand(0).getType()))
    return cast->getOperand(0);
  return UnrealizedConversionCastOp::create(b, loc, ptrType(b.getContext()), v)
      .getResult(0);
}
Value fromHandle(OpBuilder &b, Location loc, Value h, Type t) {
  return UnrealizedConversionCastOp::create(b, loc, t, h).getResult(0);
}

/// Element `pos` of a tensor of one integer as int64.
Value positionOf(OpBuilder &b, Location loc, Value pos) {
  Value p = extractElement(b, loc, pos);
  if (p.getType() != b.getI64Type())
    p = arith::ExtSIOp::create(b, loc, b.getI64Type(), p);
  return p;
}

/// Whether `seq` must exist at run time: its elements are not known here,
/// or something other than the compile-time sequence ops uses it.
bool needsRuntime(Value seq) {
  if (!kop::resolveSequence(seq))
    return true;
  return llvm::any_of(seq.getUsers(), [](Operation *user) {
    return !isa<kop::SequenceAtOp, kop::SequenceLengthOp,
                kop::ConcatFromSequenceOp, kop::SequenceInsertOp,
                kop::SequenceEraseOp>(user);
  });
}

/// `seq` with the tensor `t` inserted (at `pos`, a tensor, or the end).
Value insertAtRunTime(PatternRewriter &b, Location loc, Operation *op,
                      Value seq, Value t, Value pos) {
  auto type = cast<RankedTensorType>(t.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  auto layout = StridedLayoutAttr::get(
      ctx, ShapedType::kDynamic, SmallVector<int64_t>(rank, ShapedType::kDynamic));
  auto memType = MemRefType::get(type.getShape(), type.getElementType(), layout);
  Value m = bufferization::ToBufferOp::create(b, loc, memType, t,
                                              /*read_only=*/true);
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, m);
  Value staging = stagingOf(b, op);
  for (int64_t d = 0; d < rank; ++d) {
    Value size = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                            meta.getSizes()[d]);
    Value stride = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                              meta.getStrides()[d]);
    memref::StoreOp::create(b, loc, size, staging,
                            ValueRange{arith::ConstantIndexOp::create(b, loc, d)});
    memref::StoreOp::create(
        b, loc, stride, staging,
        ValueRange{arith::ConstantIndexOp::create(b, loc, rank + d)});
  }
  Value offset = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                            meta.getOffset());
  bool hasPos = pos && !isNone(pos);
  Value args[] = {runOf(b, op),
                  handleOf(b, loc, seq),
                  hasPos ? positionOf(b, loc, pos) : i64Const(b, loc, 0),
                  i32Const(b, loc, hasPos),
                  i32Const(b, loc, kop::getOnnxDataType(type.getElementType())),
                  i32Const(b, loc, rank),
                  addressOf(b, loc, staging),
                  addressOf(b, loc, m),
                  offset};
  return call(b, loc, op, "kiln_seq_insert", args, {ptrType(ctx)});
}

Value emptyAtRunTime(PatternRewriter &b, Location loc, Operation *op,
                     Type elem, bool none) {
  Value args[] = {runOf(b, op), i32Const(b, loc, kop::getOnnxDataType(elem)),
                  i32Const(b, loc, none)};
  return call(b, loc, op, "kiln_seq_empty", args, {ptrType(b.getContext())});
}

Type seqElemType(Type seq) {
  return cast<kop::SeqType>(seq).getElementType().getElementType();
}

/// A sequence producer that must exist at run time (needsRuntime) becomes
/// the handle `build` makes.
template <typename OpTy>
struct SequenceProducerRuntime : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!needsRuntime(op.getResult()))
      return rewriter.notifyMatchFailure(op, "known at compile time");
    Value h = build(op, rewriter);
    if (!h)
      return rewriter.notifyMatchFailure(op, "an element of unknown rank");
    rewriter.replaceOp(op, fromHandle(rewriter, op.getLoc(), h, op.getType()));
    return success();
  }
  /// The handle, or null where a tensor's rank is unknown.
  virtual Value build(OpTy op, PatternRewriter &rewriter) const = 0;
};

struct SequenceEmptyRuntime : SequenceProducerRuntime<kop::SequenceEmptyOp> {
  using SequenceProducerRuntime::SequenceProducerRuntime;
  Value build(kop::SequenceEmptyOp op,
              PatternRewriter &rewriter) const override {
    return emptyAtRunTime(rewriter, op.getLoc(), op, seqElemType(op.getType()),
                          false);
  }
};

struct SequenceConstructRuntime
    : SequenceProducerRuntime<kop::SequenceConstructOp> {
  using SequenceProducerRuntime::SequenceProducerRuntime;
  Value build(kop::SequenceConstructOp op,
              PatternRewriter &rewriter) const override {
    for (Value v : op.getInputs())
      if (!isa<RankedTensorType>(v.getType()))
        return Value();
    Location loc = op.getLoc();
    Value h = emptyAtRunTime(rewriter, loc, op, seqElemType(op.getType()),
                             false);
    for (Value v : op.getInputs())
      h = insertAtRunTime(rewriter, loc, op,
                          fromHandle(rewriter, loc, h, op.getType()), v,
                          Value());
    return h;
  }
};

struct SequenceInsertRuntime : SequenceProducerRuntime<kop::SequenceInsertOp> {
  using SequenceProducerRuntime::SequenceProducerRuntime;
  Value build(kop::SequenceInsertOp op,
              PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getTensor().getType()))
      return Value();
    return insertAtRunTime(rewriter, op.getLoc(), op, op.getInputSequence(),
                           op.getTensor(), op.getPosition());
  }
};

struct SequenceEraseRuntime : SequenceProducerRuntime<kop::SequenceEraseOp> {
  using SequenceProducerRuntime::SequenceProducerRuntime;
  Value build(kop::SequenceEraseOp op,
              PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool hasPos = !isNone(op.getPosition());
    Value args[] = {runOf(rewriter, op),
                    handleOf(rewriter, loc, op.getInputSequence()),
                    hasPos ? positionOf(rewriter, loc, op.getPosition())
                           : i64Const(rewriter, loc, 0),
                    i32Const(rewriter, loc, hasPos)};
    return call(rewriter, loc, op, "kiln_seq_erase", args,
                {ptrType(rewriter.getContext())});
  }
};

struct SequenceAtRuntime : OpRewritePattern<kop::SequenceAtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::SequenceAtOp op,
                                PatternRewriter &rewriter) const override {
    if (kop::resolveSequence(op.getInputSequence()))
      return rewriter.notifyMatchFailure(op, "known at compile time");
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type || type.getRank() > kMaxRank)
      return rewriter.notifyMatchFailure(op, "an element of unknown rank");
    Location loc = op.getLoc();
    int64_t rank = type.getRank();
    Value staging = stagingOf(rewriter, op);
    for (int64_t d = 0; d < rank; ++d)
      memref::StoreOp::create(
          rewriter, loc,
          i64Const(rewriter, loc,
                   type.isDynamicDim(d) ? -1 : type.getDimSize(d)),
          staging, ValueRange{arith::ConstantIndexOp::create(rewriter, loc, d)});
    Value args[] = {
        runOf(rewriter, op), handleOf(rewriter, loc, op.getInputSequence()),
        positionOf(rewriter, loc, op.getPosition()),
        i32Const(rewriter, loc, kop::getOnnxDataType(type.getElementType())),
        i32Const(rewriter, loc, rank), addressOf(rewriter, loc, staging)};
    // The data as bytes of a static size (the entry points' bare-pointer
    // convention takes static memrefs only); the view has the element's.
    auto bytesType = MemRefType::get({std::numeric_limits<int32_t>::max()},
                                     rewriter.getI8Type());
    Value bytes = call(rewriter, loc, op, "kiln_seq_at", args, {bytesType});
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d)
      if (type.isDynamicDim(d)) {
        Value v = memref::LoadOp::create(
            rewriter, loc, staging,
            ValueRange{arith::ConstantIndexOp::create(rewriter, loc, d)});
        sizes.push_back(arith::IndexCastOp::create(
            rewriter, loc, rewriter.getIndexType(), v));
      }
    auto viewType = MemRefType::get(type.getShape(), type.getElementType());
    Value view = memref::ViewOp::create(
        rewriter, loc, viewType, bytes,
        arith::ConstantIndexOp::create(rewriter, loc, 0), sizes);
    rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
        op, type, view, /*restrict=*/true, /*writable=*/false);
    return success();
  }
};

struct SequenceLengthRuntime : OpRewritePattern<kop::SequenceLengthOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::SequenceLengthOp op,
                                PatternRewriter &rewriter) const override {
    if (kop::resolveSequence(op.getInputSequence()))
      return rewriter.notifyMatchFailure(op, "known at compile time");
    Location loc = op.getLoc();
    Value args[] = {runOf(rewriter, op),
                    handleOf(rewriter, loc, op.getInputSequence())};
    Value n = call(rewriter, loc, op, "kiln_seq_length", args,
                   {rewriter.getI64Type()});
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(
        op, RankedTensorType::get({}, rewriter.getI64Type()), ValueRange{n});
    return success();
  }
};

/// A sequence or optional passed on unchanged: Identity, and Optional of a
/// sequence (an optional sequence with a value is that sequence).
template <typename OpTy>
struct PassHandle : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value in = op->getOperand(0);
    if (!isa<kop::SeqType, kop::OptType>(in.getType()) ||
        (isa<kop::OptionalOp>(op) && !isa<kop::SeqType>(in.getType())))
      return rewriter.notifyMatchFailure(op, "not a run-time handle");
    Location loc = op.getLoc();
    rewriter.replaceOp(op, fromHandle(rewriter, loc, handleOf(rewriter, loc, in),
                                      op->getResult(0).getType()));
    return success();
  }
};

/// An empty optional sequence.
struct EmptyOptionalRuntime : OpRewritePattern<kop::OptionalOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::OptionalOp op,
                                PatternRewriter &rewriter) const override {
    auto seq = dyn_cast<kop::SeqType>(
        cast<kop::OptType>(op.getOutput().getType()).getElementType());
    if (!isNone(op.getInput()) || !seq)
      return rewriter.notifyMatchFailure(op, "not an empty optional sequence");
    Value h = emptyAtRunTime(rewriter, op.getLoc(), op,
                             seq.getElementType().getElementType(), true);
    rewriter.replaceOp(op, fromHandle(rewriter, op.getLoc(), h, op.getOutput().getType()));
    return success();
  }
};

/// Whether an optional tensor `v` holds a value: its buffer is not NULL.
Value tensorPresent(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(
      cast<kop::OptType>(v.getType()).getElementType());
  Value t = UnrealizedConversionCastOp::create(b, loc, type, v).getResult(0);
  Value m = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), t,
      /*read_only=*/true);
  Value p = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, m);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, p,
                               arith::ConstantIndexOp::create(b, loc, 0));
}

/// An optional tensor is a graph input's buffer (NULL when none): nothing
/// else can make one at run time.
bool isOptionalTensorInput(Value v) {
  auto opt = dyn_cast<kop::OptType>(v.getType());
  auto t = opt ? dyn_cast<RankedTensorType>(opt.getElementType()) : nullptr;
  auto arg = dyn_cast<BlockArgument>(v);
  return t && t.hasStaticShape() && arg &&
         isa<func::FuncOp>(arg.getOwner()->getParentOp());
}

struct OptionalHasElementRuntime
    : OpRewritePattern<kop::OptionalHasElementOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::OptionalHasElementOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value in = op.getInput();
    Value has;
    if (isOptionalTensorInput(in)) {
      has = tensorPresent(rewriter, loc, in);
    } else if (auto opt = dyn_cast<kop::OptType>(in.getType());
               opt && isa<kop::SeqType>(opt.getElementType())) {
      Value args[] = {runOf(rewriter, op), handleOf(rewriter, loc, in)};
      Value r = call(rewriter, loc, op, "kiln_seq_has_value", args,
                     {rewriter.getI32Type()});
      has = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ne, r,
                                  i32Const(rewriter, loc, 0));
    } else {
      return rewriter.notifyMatchFailure(op, "no run-time optional");
    }
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(
        op, RankedTensorType::get({}, rewriter.getI1Type()), ValueRange{has});
    return success();
  }
};

struct OptionalGetElementRuntime
    : OpRewritePattern<kop::OptionalGetElementOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::OptionalGetElementOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value in = op.getInput();
    if (isOptionalTensorInput(in)) {
      // No value: the run fails (KILN_ERROR_OUT_OF_RANGE) and goes on with
      // zeros rather than read through a NULL buffer.
      auto type = cast<RankedTensorType>(op.getType());
      Value present = tensorPresent(rewriter, loc, in);
      Value absent = arith::XOrIOp::create(
          rewriter, loc, present,
          arith::ConstantIntOp::create(rewriter, loc, 1, 1));
      auto branch = scf::IfOp::create(rewriter, loc, absent, false);
      {
        OpBuilder::InsertionGuard g(rewriter);
        rewriter.setInsertionPointToStart(branch.thenBlock());
        Value args[] = {runOf(rewriter, op),
                        i32Const(rewriter, loc, 10 /*KILN_ERROR_OUT_OF_RANGE*/)};
        call(rewriter, loc, op, "kiln_run_fail", args, {});
      }
      Value t =
          UnrealizedConversionCastOp::create(rewriter, loc, type, in).getResult(0);
      Value zeros = arith::ConstantOp::create(
          rewriter, loc, type, cast<TypedAttr>(rewriter.getZeroAttr(type)));
      rewriter.replaceOpWithNewOp<arith::SelectOp>(op, present, t, zeros);
      return success();
    }
    auto opt = dyn_cast<kop::OptType>(in.getType());
    if (!opt || !isa<kop::SeqType>(opt.getElementType()))
      return rewriter.notifyMatchFailure(op, "no run-time optional");
    Value args[] = {runOf(rewriter, op), handleOf(rewriter, loc, in)};
    Value h = call(rewriter, loc, op, "kiln_seq_value", args,
                   {ptrType(getContext())});
    rewriter.replaceOp(op, fromHandle(rewriter, loc, h, op.getType()));
    return success();
  }
};

/// SequenceMap as an scf.for over the first sequence's positions: the body
/// runs on SequenceAt of each sequence input and appends each output with
/// SequenceInsert (both lowered by the patterns above).
struct SequenceMapPattern : OpRewritePattern<kop::SequenceMapOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(kop::SequenceMapOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto i64Scalar = RankedTensorType::get({}, rewriter.getI64Type());
    Value length = makeOnnx<kop::SequenceLengthOp>(
        rewriter, loc, i64Scalar, {op.getInputSequence()}, {});
    Value n = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                         extractElement(rewriter, loc, length));
    SmallVector<Value> inits;
    for (Type t : op.getResultTypes())
      inits.push_back(makeOnnx<kop::SequenceEmptyOp>(
          rewriter, loc, t, {},
          {rewriter.getNamedAttr(
              "dtype", rewriter.getI64IntegerAttr(
                           kop::getOnnxDataType(seqElemType(t))))}));
    Block &body = op.getBody().front();
    auto yield = cast<kop::YieldOp>(body.getTerminator());
    auto loop = scf::ForOp::create(
        rewriter, loc, arith::ConstantIndexOp::create(rewriter, loc, 0), n,
        arith::ConstantIndexOp::create(rewriter, loc, 1), inits);
    rewriter.setInsertionPointToStart(loop.getBody());
    Value i = tensor::FromElementsOp::create(
        rewriter, loc, i64Scalar,
        ValueRange{arith::IndexCastOp::create(rewriter, loc,
                                              rewriter.getI64Type(),
                                              loop.getInductionVar())});
    SmallVector<Value> args;
    for (auto [v, arg] : llvm::zip(op->getOperands(), body.getArguments()))
      args.push_back(isa<kop::SeqType>(v.getType())
                         ? makeOnnx<kop::SequenceAtOp>(rewriter, loc,
                                                       arg.getType(), {v, i}, {})
                         : v);
    SmallVector<Value> outs;
    for (Value v : yield.getOperands()) {
      auto a = dyn_cast<BlockArgument>(v);
      outs.push_back(a && a.getOwner() == &body ? args[a.getArgNumber()] : v);
    }
    Block *dest = loop.getBody();
    rewriter.inlineBlockBefore(&body, dest, dest->end(), args);
    rewriter.eraseOp(yield);
    rewriter.setInsertionPointToEnd(dest);
    SmallVector<Value> next;
    for (auto [acc, v] : llvm::zip(loop.getRegionIterArgs(), outs))
      next.push_back(makeOnnx<kop::SequenceInsertOp>(
          rewriter, loc, acc.getType(), {acc, v, noValue(rewriter, loc)}, {}));
    scf::YieldOp::create(rewriter, loc, next);
    rewriter.replaceOp(op, loop.getResults());
    return success();
  }
};

} // namespace

void kiln::populateSequencePatterns(RewritePatternSet &patterns) {
  patterns.add<SequenceAtPattern, SequenceLengthPattern,
               ConcatFromSequencePattern>(patterns.getContext());
  patterns.add<SequenceEmptyRuntime, SequenceConstructRuntime,
               SequenceInsertRuntime, SequenceEraseRuntime, SequenceAtRuntime,
               SequenceLengthRuntime, PassHandle<kop::IdentityOp>,
               PassHandle<kop::OptionalOp>, EmptyOptionalRuntime,
               OptionalHasElementRuntime, OptionalGetElementRuntime,
               SequenceMapPattern>(patterns.getContext());
}

void kiln::lowerSequenceTypes(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  // For kiln-sequence-outputs: which results are sequences (optional or
  // not), their place among the outputs, and where the outputs start.
  module.walk([&](func::FuncOp f) {
    bool any = false;
    for (auto [i, t] : llvm::enumerate(f.getResultTypes())) {
      if (!kop::isSeqOrOpt(t))
        continue;
      any = true;
      f.setResultAttr(i, "kiln.sequence",
                      StringAttr::get(ctx, isa<kop::OptType>(t) ? "optional"
                                                                : "sequence"));
      f.setResultAttr(i, "kiln.output_index",
                      IntegerAttr::get(IntegerType::get(ctx, 64), i));
    }
    bool hasRun = !f.isExternal() &&
                  llvm::any_of(f.getBody().front(), [](Operation &o) {
                    auto c = dyn_cast<func::CallOp>(o);
                    return c && c.getCallee() == kiln::kRunBegin;
                  });
    if (any || hasRun)
      f->setAttr("kiln.num_inputs",
                 IntegerAttr::get(IntegerType::get(ctx, 64),
                                  f.getNumArguments()));
  });
  AttrTypeReplacer handles;
  handles.addReplacement([&](kop::SeqType) -> std::optional<Type> {
    return ptrType(ctx);
  });
  handles.addReplacement([&](kop::OptType t) -> std::optional<Type> {
    if (isa<kop::SeqType>(t.getElementType()))
      return ptrType(ctx);
    return t.getElementType();
  });
  handles.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true,
                                       /*replaceLocs=*/false,
                                       /*replaceTypes=*/true);
  module.walk([](UnrealizedConversionCastOp cast) {
    if (cast->getNumOperands() == 1 && cast->getNumResults() == 1 &&
        cast->getOperand(0).getType() == cast->getResult(0).getType()) {
      cast->getResult(0).replaceAllUsesWith(cast->getOperand(0));
      cast->erase();
    }
  });
}
