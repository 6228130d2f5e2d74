//===- DynamicResults.cpp - dynamic results at their bounds, their shapes -===//
//
// The second half of kiln-dynamic-entry, run once main_graph is linalg on
// tensors. Each result of dynamic shape becomes a flat tensor of its largest
// element count, the result written at its front:
//
//   return %y : tensor<?x8xf32>
//     ->  %flat = collapse_shape %y ; insert_slice %flat into
//         tensor.empty() : tensor<512xf32> [0] [%n * 8] [1]
//
// Where a dim has no bound (a symbolic dim without --max-dim), the result
// is flat of exactly its size, tensor<?xf32>; the caller sized its buffer
// from P_shapes.
//
// A result dim is a fixed size, one of the symbolic dims (its index
// argument), or computed from them (a convolution's output size, the sum of
// a concat's inputs, a flatten's product): that one is `tensor.dim` of the
// result, resolved through the reified result shapes of the ops that
// produce it into index arithmetic on the symbolic dims, and bounded at
// their maxima (lowering/Memory/Bounds.h). The computed dims are cloned into
// `main_graph_shapes(%d0, %d1, ...) -> (index, ...)`, which the entry points
// call to tell the caller the output shapes before and after a run.
//
//===----------------------------------------------------------------------===//
#include "lowering/Memory/Bounds.h"
#include "lowering/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_DYNAMICRESULTS
#define GEN_PASS_DEF_DYNAMICCHECKS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// Whether `value` is index arithmetic on the symbolic dims (kiln.dim
/// arguments) and constants alone, in the entry block; the ops it is
/// computed from go into `slice`.
bool fromDimsOnly(func::FuncOp func, Value value,
                  SetVector<Operation *> &slice) {
  Block &entry = func.getBody().front();
  SmallVector<Value> work{value};
  SetVector<Operation *> mine;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() != &entry ||
          !func.getArgAttr(arg.getArgNumber(), "kiln.dim"))
        return false;
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (mine.contains(def) || slice.contains(def))
      continue;
    bool indexOnly = llvm::all_of(def->getOperandTypes(),
                                  [](Type t) { return t.isIntOrIndex(); });
    if (def->getBlock() != &entry || def->getNumRegions() || !isPure(def) ||
        !indexOnly)
      return false;
    mine.insert(def);
    llvm::append_range(work, def->getOperands());
  }
  slice.insert(mine.begin(), mine.end());
  return true;
}

/// Whether loop-carried tensor `v` has the shape of the iteration argument
/// `iterArg`: it is the argument, or the argument updated in place
/// (tensor.insert, insert_slice into it, a linalg op writing it, or an
/// inner scf.for carrying it), as Kiln's lowerings build their loops.
bool keepsIterShape(Value v, Value iterArg, int depth = 0) {
  if (v == iterArg)
    return true;
  if (depth > 32)
    return false;
  Operation *def = v.getDefiningOp();
  if (auto insert = dyn_cast_or_null<tensor::InsertOp>(def))
    return keepsIterShape(insert.getDest(), iterArg, depth + 1);
  if (auto insert = dyn_cast_or_null<tensor::InsertSliceOp>(def))
    return keepsIterShape(insert.getDest(), iterArg, depth + 1);
  if (auto dps = dyn_cast_or_null<DestinationStyleOpInterface>(def))
    return keepsIterShape(dps.getDpsInits()[cast<OpResult>(v).getResultNumber()],
                          iterArg, depth + 1);
  if (auto loop = dyn_cast_or_null<scf::ForOp>(def)) {
    unsigned i = cast<OpResult>(v).getResultNumber();
    Value yielded = loop.getBody()->getTerminator()->getOperand(i);
    return keepsIterShape(loop.getInitArgs()[i], iterArg, depth + 1) &&
           keepsIterShape(yielded, loop.getRegionIterArgs()[i], depth + 1);
  }
  return false;
}

/// tensor.dim of an scf.for result that keeps its init's shape (above) is
/// the dim of the init.
struct DimOfShapeKeepingLoop : OpRewritePattern<tensor::DimOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::DimOp dim,
                                PatternRewriter &rewriter) const override {
    auto result = dyn_cast<OpResult>(dim.getSource());
    auto loop = result ? dyn_cast<scf::ForOp>(result.getOwner()) : nullptr;
    if (!loop)
      return failure();
    unsigned i = result.getResultNumber();
    Value yielded = loop.getBody()->getTerminator()->getOperand(i);
    if (!keepsIterShape(yielded, loop.getRegionIterArgs()[i]))
      return failure();
    rewriter.modifyOpInPlace(
        dim, [&] { dim.getSourceMutable().assign(loop.getInitArgs()[i]); });
    return success();
  }
};

/// Resolves `values` (tensor.dim of main_graph's tensors) into index
/// arithmetic on the symbolic dims where the ops' shapes allow.
void resolve(SmallVectorImpl<Value> &values, OpBuilder &b, Location loc) {
  // A holder keeps track of the values as the patterns replace them.
  MLIRContext *ctx = b.getContext();
  auto holder = UnrealizedConversionCastOp::create(
      b, loc, ValueRange(values).getTypes(), values);
  RewritePatternSet patterns(ctx);
  tensor::DimOp::getCanonicalizationPatterns(patterns, ctx);
  memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
  affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
  patterns.add<DimOfShapeKeepingLoop>(ctx);
  FrozenRewritePatternSet frozen(std::move(patterns));
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  // The dims the holder's values are computed from, until none is left
  // (each round resolves one more op of the chain back to the inputs).
  for (int round = 0; round < 256; ++round) {
    SetVector<Operation *> slice;
    BackwardSliceOptions options;
    options.omitBlockArguments = true;
    options.filter = [](Operation *op) {
      return op->getNumRegions() == 0 && llvm::all_of(op->getOperandTypes(),
             [](Type t) { return t.isIntOrIndex() || isa<ShapedType>(t); });
    };
    (void)getBackwardSlice(holder.getOperation(), &slice, options);
    SmallVector<Operation *> dimOps;
    for (Operation *op : slice)
      if (isa<tensor::DimOp>(op))
        dimOps.push_back(op);
    bool changed = false;
    if (dimOps.empty() ||
        failed(applyOpPatternsGreedily(dimOps, frozen, config, &changed)) ||
        !changed)
      break;
  }
  for (auto [i, operand] : llvm::enumerate(holder->getOperands()))
    values[i] = operand;
  holder->erase();
}

/// Clones the computations of `values` (index arithmetic on the symbolic
/// dims) into a function `name` of the dims returning them; fails naming
/// the first value that reads anything else.
LogicalResult buildShapesFunction(func::FuncOp func, ArrayRef<Value> values,
                                  ArrayRef<std::string> what, StringRef name) {
  MLIRContext *ctx = func.getContext();
  Block &entry = func.getBody().front();
  // Everything the values are computed from must be pure index arithmetic
  // in the entry block, on the symbolic dims and constants.
  SetVector<Operation *> slice;
  for (auto [value, name] : llvm::zip(values, what)) {
    auto bad = [&](Operation *op) {
      InFlightDiagnostic diag = func.emitError()
                                << name
                                << " depends on the values of the inputs, "
                                   "not only on their shapes; Kiln cannot "
                                   "size it yet";
      if (op)
        diag.attachNote(op->getLoc()) << "through this op";
      return diag;
    };
    SmallVector<Value> work{value};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        if (arg.getOwner() != &entry ||
            !func.getArgAttr(arg.getArgNumber(), "kiln.dim"))
          return bad(nullptr);
        continue;
      }
      Operation *def = v.getDefiningOp();
      if (slice.contains(def))
        continue;
      bool indexOnly = llvm::all_of(def->getOperandTypes(), [](Type t) {
        return t.isIntOrIndex();
      });
      if (def->getBlock() != &entry || def->getNumRegions() ||
          !isPure(def) || !indexOnly)
        return bad(def);
      slice.insert(def);
      llvm::append_range(work, def->getOperands());
    }
  }
  ModuleOp module = func->getParentOfType<ModuleOp>();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  SmallVector<Type> argTypes;
  SmallVector<BlockArgument> dimArgs;
  for (BlockArgument arg : func.getArguments())
    if (func.getArgAttr(arg.getArgNumber(), "kiln.dim")) {
      argTypes.push_back(arg.getType());
      dimArgs.push_back(arg);
    }
  SmallVector<Type> resultTypes(ValueRange(values).getTypes());
  if (auto old = module.lookupSymbol(name))
    old->erase();
  auto shapes = func::FuncOp::create(b, func.getLoc(), name,
                                     FunctionType::get(ctx, argTypes,
                                                       resultTypes));
  shapes->setAttr("kiln.shape_function", UnitAttr::get(ctx));
  Block *body = shapes.addEntryBlock();
  IRMapping map;
  for (auto [k, arg] : llvm::enumerate(dimArgs)) {
    map.map(arg, body->getArgument(k));
    shapes.setArgAttr(k, "kiln.dim", func.getArgAttr(arg.getArgNumber(),
                                                    "kiln.dim"));
  }
  b.setInsertionPointToStart(body);
  for (Operation &op : entry) // in block order: definitions first
    if (slice.contains(&op))
      b.clone(op, map);
  SmallVector<Value> results;
  for (Value v : values)
    results.push_back(map.lookupOrDefault(v));
  func::ReturnOp::create(b, func.getLoc(), results);
  return success();
}

/// The sizes the ops take to be equal, as the function
/// `main_graph_check(dims) -> i1` that the entry points call first.
LogicalResult buildCheckFunction(func::FuncOp func) {
  Block &entry = func.getBody().front();
  OpBuilder b(func.getContext());
  Location loc = func.getLoc();
  // Pairs of sizes the ops take to be equal: each operand's dim of a linalg
  // op and the first size seen for the same loop dim; a tensor.cast's
  // dynamic dim and the static size it becomes; a slice's source and its
  // sizes. And pairs in order: a slice's end and its whole's dim.
  SmallVector<Value> sizes;
  SmallVector<arith::CmpIPredicate> preds; // one per pair
  for (Operation &op : entry) {
    b.setInsertionPoint(&op);
    auto sizeOf = [&](Value v, int64_t d) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      if (!t.isDynamicDim(d))
        return arith::ConstantIndexOp::create(b, loc, t.getDimSize(d));
      return tensor::DimOp::create(b, loc, v, d);
    };
    auto equal = [&](Value x, Value y) {
      sizes.push_back(x);
      sizes.push_back(y);
      preds.push_back(arith::CmpIPredicate::eq);
    };
    // A slice (unit strides) lies within its whole: offset + size <= dim.
    auto within = [&](Value whole, ArrayRef<OpFoldResult> offsets,
                      ArrayRef<OpFoldResult> lengths,
                      ArrayRef<OpFoldResult> strides) {
      auto t = cast<RankedTensorType>(whole.getType());
      for (auto [d, offset, length, stride] :
           llvm::enumerate(offsets, lengths, strides)) {
        auto one = getConstantIntValue(stride);
        if (!one || *one != 1 ||
            (!t.isDynamicDim(d) && getConstantIntValue(offset) &&
             getConstantIntValue(length)))
          continue;
        sizes.push_back(b.createOrFold<arith::AddIOp>(
            loc, getValueOrCreateConstantIndexOp(b, loc, offset),
            getValueOrCreateConstantIndexOp(b, loc, length)));
        sizes.push_back(sizeOf(whole, d));
        preds.push_back(arith::CmpIPredicate::ule);
      }
    };
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(&op)) {
      within(insert.getDest(), insert.getMixedOffsets(),
             insert.getMixedSizes(), insert.getMixedStrides());
      // The source is as large as the slice it fills.
      auto src = insert.getSourceType();
      if (src.getRank() == (int64_t)insert.getMixedSizes().size())
        for (auto [d, length] : llvm::enumerate(insert.getMixedSizes()))
          if (src.isDynamicDim(d) || !getConstantIntValue(length))
            equal(sizeOf(insert.getSource(), d),
                  getValueOrCreateConstantIndexOp(b, loc, length));
      continue;
    }
    if (auto extract = dyn_cast<tensor::ExtractSliceOp>(&op)) {
      within(extract.getSource(), extract.getMixedOffsets(),
             extract.getMixedSizes(), extract.getMixedStrides());
      continue;
    }
    // A cast to a static size (inference found the dim to be that size).
    if (auto cast = dyn_cast<tensor::CastOp>(&op)) {
      auto from = dyn_cast<RankedTensorType>(cast.getSource().getType());
      auto to = dyn_cast<RankedTensorType>(cast.getType());
      if (!from || !to || from.getRank() != to.getRank())
        continue;
      for (int64_t d = 0; d < from.getRank(); ++d)
        if (from.isDynamicDim(d) && !to.isDynamicDim(d))
          equal(sizeOf(cast.getSource(), d), sizeOf(cast.getResult(), d));
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(&op);
    if (!linalgOp || !linalgOp.hasPureTensorSemantics())
      continue;
    DenseMap<unsigned, std::pair<Value, int64_t>> first;
    for (OpOperand &operand : op.getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type)
        continue;
      AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
      for (auto [i, e] : llvm::enumerate(map.getResults())) {
        auto d = dyn_cast<AffineDimExpr>(e);
        if (!d)
          continue;
        auto [it, inserted] =
            first.try_emplace(d.getPosition(), operand.get(), (int64_t)i);
        if (inserted)
          continue;
        auto [v0, i0] = it->second;
        if (!cast<RankedTensorType>(v0.getType()).isDynamicDim(i0) &&
            !type.isDynamicDim(i))
          continue; // both static: the verifier saw to it
        equal(sizeOf(v0, i0), sizeOf(operand.get(), i));
      }
    }
  }
  if (sizes.empty())
    return success();
  Operation *ret = entry.getTerminator();
  b.setInsertionPoint(ret);
  resolve(sizes, b, loc);
  // The conditions that the dims decide (a size read from the input values
  // is made consistent by its lowering, not checked here).
  Value ok;
  DenseSet<std::tuple<Value, Value, int>> seen;
  for (auto [k, pred] : llvm::enumerate(preds)) {
    Value x = sizes[2 * k], y = sizes[2 * k + 1];
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    bool holds = cx && cy &&
                 (pred == arith::CmpIPredicate::eq ? *cx == *cy : *cx <= *cy);
    if (x == y || holds || !seen.insert({x, y, (int)pred}).second)
      continue;
    SetVector<Operation *> slice;
    if (!fromDimsOnly(func, x, slice) || !fromDimsOnly(func, y, slice))
      continue;
    Value same = arith::CmpIOp::create(b, loc, pred, x, y);
    ok = ok ? arith::AndIOp::create(b, loc, ok, same).getResult() : same;
  }
  if (!ok)
    return success();
  return buildShapesFunction(func, ok, {"a shape check"}, "main_graph_check");
}

struct DynamicChecksPass
    : public kiln::impl::DynamicChecksBase<DynamicChecksPass> {
  void runOnOperation() override {
    auto func = getOperation().lookupSymbol<func::FuncOp>("main_graph");
    if (!func || func.isExternal() || !func->hasAttr("kiln.dims"))
      return;
    if (failed(buildCheckFunction(func)))
      signalPassFailure();
  }
};

struct DynamicResultsPass
    : public kiln::impl::DynamicResultsBase<DynamicResultsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>("main_graph");
    if (!func || func.isExternal() || !func->hasAttr("kiln.dims"))
      return;
    if (failed(run(func)))
      signalPassFailure();
  }

  LogicalResult run(func::FuncOp func);


  /// The output dims known only after a run, in order of output and dim.
  SmallVector<Value> valueDims;
  /// Those whose bound main_graph_shapes computes (kBoundByShapes).
  DenseSet<Value> boundByShapes;
};

LogicalResult DynamicResultsPass::run(func::FuncOp func) {
  MLIRContext *ctx = &getContext();
  auto resultDims = func->getAttrOfType<ArrayAttr>("kiln.result_dims");
  if (!resultDims || resultDims.size() != func.getNumResults())
    return func.emitError("kiln.dims needs kiln.result_dims, one per result");
  Block &entry = func.getBody().front();
  // The symbolic dims' index arguments, by number.
  SmallVector<Value> dims;
  for (BlockArgument arg : func.getArguments())
    if (auto k = func.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(),
                                                    "kiln.dim")) {
      if ((int64_t)dims.size() <= k.getInt())
        dims.resize(k.getInt() + 1);
      dims[k.getInt()] = arg;
    }
  // The dims the caller gives (the derived ones, computed from the input
  // values, come after them): an output dim that is a derived dim is
  // computed like one made of dims.
  int64_t numSymbolic = dims.size();
  if (auto derived = func->getAttrOfType<IntegerAttr>("kiln.derived_dims"))
    numSymbolic -= derived.getInt();
  auto resultName = [&](unsigned i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, "onnx.name");
    return "output '" + (name ? name.str() : std::to_string(i)) + "'";
  };

  Operation *ret = entry.getTerminator();
  OpBuilder b(ret);
  Location loc = ret->getLoc();
  // Every result's sizes; the computed ones as tensor.dim to resolve.
  SmallVector<SmallVector<OpFoldResult>> sizes(ret->getNumOperands());
  SmallVector<Value> computed;
  SmallVector<std::string> computedWhat;
  for (auto [i, v] : llvm::enumerate(ret->getOperands())) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || type.hasStaticShape())
      continue;
    auto entries = dyn_cast<DenseI64ArrayAttr>(resultDims[i]);
    if (!entries || entries.size() != type.getRank())
      return func.emitError("kiln.result_dims does not describe result ") << i;
    for (auto [d, e] : llvm::enumerate(entries.asArrayRef())) {
      if (e == kiln::kComputedDim) {
        Value dim = tensor::DimOp::create(b, loc, v, d);
        computed.push_back(dim);
        computedWhat.push_back(resultName(i) + " dim " + std::to_string(d));
        sizes[i].push_back(dim);
      } else if (e < 0 && -1 - e < (int64_t)dims.size() && dims[-1 - e]) {
        sizes[i].push_back(dims[-1 - e]);
      } else if (e >= 0) {
        sizes[i].push_back(b.getIndexAttr(e));
      } else {
        return func.emitError("kiln.result_dims: bad entry ")
               << e << " for dim " << d << " of result " << i;
      }
    }
  }

  // Resolve the computed dims into index arithmetic.
  if (!computed.empty()) {
    resolve(computed, b, loc);

    // Put them back into the sizes, in the same order; a dim that turns
    // out to be a symbolic dim or a constant is recorded as such.
    size_t next = 0;
    SmallVector<Value> left;
    SmallVector<std::string> leftWhat;
    SmallVector<Attribute> newDims;
    valueDims.clear();
    boundByShapes.clear();
    for (auto [i, v] : llvm::enumerate(ret->getOperands())) {
      auto entries = dyn_cast_or_null<DenseI64ArrayAttr>(resultDims[i]);
      if (!entries || sizes[i].empty()) {
        newDims.push_back(resultDims[i]);
        continue;
      }
      SmallVector<int64_t> updated(entries.asArrayRef());
      for (auto [d, e] : llvm::enumerate(updated)) {
        if (e != kiln::kComputedDim)
          continue;
        Value value = computed[next];
        auto k = isa<BlockArgument>(value)
                     ? func.getArgAttrOfType<IntegerAttr>(
                           cast<BlockArgument>(value).getArgNumber(),
                           "kiln.dim")
                     : IntegerAttr();
        if (auto c = getConstantIntValue(value)) {
          e = *c;
          sizes[i][d] = b.getIndexAttr(*c);
        } else if (k && k.getInt() < numSymbolic) {
          e = -1 - k.getInt();
          sizes[i][d] = value;
        } else if (SetVector<Operation *> slice; fromDimsOnly(func, value, slice)) {
          sizes[i][d] = value;
          left.push_back(value);
          leftWhat.push_back(computedWhat[next]);
        } else {
          // Known only once the model has run (a Reshape to a shape read
          // from an input): main_graph returns it, bounded like the rest:
          // by a constant, or, where a dim has no --max-dim, by a formula
          // of the dims that main_graph_shapes computes.
          e = kiln::kValueDim;
          sizes[i][d] = value;
          valueDims.push_back(value);
          if (!kiln::upperBound(value, func)) {
            IRMapping self;
            for (Value dim : dims)
              if (dim)
                self.map(dim, dim);
            if (Value bound = kiln::buildUpperBound(value, func, b, self)) {
              boundByShapes.insert(value);
              left.push_back(bound);
              leftWhat.push_back(computedWhat[next] + "'s bound");
            }
          }
        }
        ++next;
      }
      newDims.push_back(DenseI64ArrayAttr::get(ctx, updated));
    }
    func->setAttr("kiln.result_dims", ArrayAttr::get(ctx, newDims));
    if (!left.empty() &&
        failed(buildShapesFunction(func, left, leftWhat, "main_graph_shapes")))
      return failure();
  }

  // The value-dependent dims, bounded, as one more result (i64).
  SmallVector<int64_t> valueMax;
  for (Value v : valueDims) {
    if (boundByShapes.contains(v)) {
      valueMax.push_back(kiln::kBoundByShapes);
      continue;
    }
    auto bound = kiln::upperBound(v, func);
    if (!bound || *bound < 0)
      return func.emitError()
             << "an output dim depends on the values of the inputs and "
                "Kiln finds no bound for it";
    valueMax.push_back(*bound);
  }

  // Each dynamic result as a flat tensor at its largest size.
  SmallVector<int64_t> resultElems;
  for (auto [i, v] : llvm::enumerate(ret->getOperands())) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || type.hasStaticShape()) {
      resultElems.push_back(type ? type.getNumElements() : -1);
      continue;
    }
    int64_t maxElems = 1;
    bool unbounded = false; // a dim from a symbolic dim with no --max-dim
    Value count = arith::ConstantIndexOp::create(b, loc, 1);
    for (auto [d, size] : llvm::enumerate(sizes[i])) {
      std::optional<int64_t> bound = getConstantIntValue(size);
      Value value;
      if (bound) {
        value = arith::ConstantIndexOp::create(b, loc, *bound);
      } else {
        value = cast<Value>(size);
        bound = kiln::upperBound(value, func);
      }
      count = b.createOrFold<arith::MulIOp>(loc, count, value);
      if (!bound) {
        // The value-dependent dims have bounds (checked above); the others
        // are computed from the symbolic dims, and the caller sizes the
        // result from P_shapes.
        unbounded = true;
        continue;
      }
      if (*bound < 0)
        return func.emitError() << resultName(i) << " dim " << d
                                << ": Kiln finds no bound for its size";
      if (*bound && maxElems > (INT64_MAX >> 4) / *bound)
        return func.emitError() << resultName(i)
                                << ": its size at the dims' maxima overflows";
      maxElems *= *bound;
    }
    resultElems.push_back(unbounded ? -1 : maxElems);
    if (maxElems == 0) { // nothing to write
      ret->setOperand(i, tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{0},
                                                 type.getElementType()));
      continue;
    }
    Value flat = v;
    if (type.getRank() != 1) {
      SmallVector<ReassociationIndices> all(1);
      for (int64_t d = 0; d < type.getRank(); ++d)
        all[0].push_back(d);
      flat = tensor::CollapseShapeOp::create(b, loc, v, all);
    }
    if (unbounded) { // exactly its size
      ret->setOperand(i, flat);
      continue;
    }
    Value empty =
        tensor::EmptyOp::create(b, loc, {maxElems}, type.getElementType());
    Value out = tensor::InsertSliceOp::create(
        b, loc, flat, empty, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{count},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    ret->setOperand(i, out);
  }
  if (!valueDims.empty()) {
    SmallVector<Value> values;
    for (Value v : valueDims)
      values.push_back(
          arith::IndexCastOp::create(b, loc, b.getI64Type(), v));
    Value packed = tensor::FromElementsOp::create(
        b, loc,
        RankedTensorType::get({(int64_t)values.size()}, b.getI64Type()),
        values);
    ret->insertOperands(ret->getNumOperands(), packed);
    func->setAttr("kiln.value_dims_max", DenseI64ArrayAttr::get(ctx, valueMax));
  }
  func.setType(FunctionType::get(ctx, entry.getArgumentTypes(),
                                 ret->getOperandTypes()));
  func->setAttr("kiln.result_elems", DenseI64ArrayAttr::get(ctx, resultElems));
  return success();
}

} // namespace
