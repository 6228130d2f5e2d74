//===- DynamicEntry.cpp - symbolic dims as arguments, buffers at maxima ---===//
//
// `main_graph` of a model with symbolic dims (`kiln.dims`, `kiln.dim_max`)
// takes tensors of dynamic shape, which the bare-pointer entry convention
// cannot pass. This pass gives it instead one `index` argument per symbolic
// dim (appended, marked `kiln.dim`) and turns every dynamic input into a
// flat tensor sized for the maxima (of dynamic size when a dim has no
// bound, `kiln.dim_max` 0):
//
//   %x: tensor<?x8xf32>  ->  %flat: tensor<512xf32>, %s: index
//   %x = expand_shape (extract_slice %flat[0][%s * 8][1]) to [%s, 8]
//
// The element counts are products of the dims and the fixed sizes, so the
// caller's dense buffers are read as they are. The results wait for
// kiln-dynamic-results, after the lowering, where their sizes are known as
// index arithmetic.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_DYNAMICENTRY
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct DynamicEntryPass
    : public kiln::impl::DynamicEntryBase<DynamicEntryPass> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs(getOperation().getOps<func::FuncOp>());
    for (func::FuncOp func : funcs)
      if (failed(runOnFunc(func)))
        return signalPassFailure();
  }

  LogicalResult runOnFunc(func::FuncOp func) {
    auto names = func->getAttrOfType<ArrayAttr>("kiln.dims");
    auto maxima = func->getAttrOfType<DenseI64ArrayAttr>("kiln.dim_max");
    if (!names || func.isExternal())
      return success();
    if (!maxima || maxima.size() != names.size())
      return func.emitError("kiln.dims needs kiln.dim_max");
    MLIRContext *ctx = &getContext();
    Block &entry = func.getBody().front();
    unsigned numInputs = func.getNumArguments();
    // Sizes computed at run time from a symbolic dim (Range(0, n, 1) with n
    // from a shape) get their bound, while the dims still trace back to the
    // inputs: the lowering clamps them to it (kiln.max_size); a dim with no
    // bound leaves them unclamped (kiln.size_from_dim).
    SmallVector<std::pair<kiln::onnx::RangeOp, int64_t>> fromDim;
    func.walk([&](kiln::onnx::RangeOp range) {
      auto type = dyn_cast<RankedTensorType>(range.getType());
      if (!type || type.hasStaticShape())
        return;
      auto origin = kiln::onnx::traceShapeEntry(range.getLimit(), 0);
      auto start = kiln::onnx::getConstantInts(range.getStart());
      auto delta = kiln::onnx::getConstantInts(range.getDelta());
      auto arg = origin ? dyn_cast<BlockArgument>(origin->first)
                        : BlockArgument();
      if (!arg || arg.getOwner() != &entry || !start || !delta ||
          start->size() != 1 || delta->size() != 1 || (*delta)[0] <= 0)
        return;
      auto params =
          func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "onnx.dim_params");
      if (!params || origin->second >= (int64_t)params.size())
        return;
      int64_t k = -1;
      for (auto [i, n] : llvm::enumerate(names))
        if (n == params[origin->second])
          k = i;
      if (k < 0)
        return;
      if (maxima[k] <= 0) { // no bound: the limit is the dim (below)
        range->setAttr("kiln.size_from_dim", UnitAttr::get(ctx));
        fromDim.push_back({range, k});
        return;
      }
      int64_t bound = std::max<int64_t>(
          llvm::divideCeil(maxima[k] - (*start)[0], (*delta)[0]), 0);
      range->setAttr("kiln.max_size",
                     IntegerAttr::get(IntegerType::get(ctx, 64), bound));
    });
    // One index argument per symbolic dim.
    SmallVector<Value> dims;
    for (auto [k, name] : llvm::enumerate(names)) {
      unsigned at = func.getNumArguments();
      if (failed(func.insertArgument(at, IndexType::get(ctx),
                                     DictionaryAttr::get(ctx), func.getLoc())))
        return failure();
      func.setArgAttr(at, "kiln.dim", IntegerAttr::get(IntegerType::get(ctx, 64), k));
      dims.push_back(func.getArgument(at));
    }
    // Dims whose sizes come from input values, computed by main_graph_dims.
    auto derived = kiln::deriveDims(func, numInputs, dims);
    if (failed(derived))
      return failure();
    func::FuncOp dimsFn = *derived;
    names = func->getAttrOfType<ArrayAttr>("kiln.dims");
    maxima = func->getAttrOfType<DenseI64ArrayAttr>("kiln.dim_max");
    OpBuilder b = OpBuilder::atBlockBegin(&entry);
    Location loc = func.getLoc();
    // A Range whose limit is a dim with no bound reads it from the dim's
    // argument (a size the run-time arena plan can compute from the dims),
    // not from the shape tensor it was traced through.
    for (auto [range, k] : fromDim) {
      auto limitType = dyn_cast<RankedTensorType>(range.getLimit().getType());
      if (!limitType || !limitType.hasStaticShape() ||
          limitType.getNumElements() != 1 ||
          !limitType.getElementType().isSignlessInteger())
        continue;
      Value limit = arith::IndexCastOp::create(
          b, loc, limitType.getElementType(), dims[k]);
      range.getLimitMutable().assign(
          tensor::FromElementsOp::create(b, loc, limitType, limit));
    }
    // Which symbolic dim each dynamic dim of an input is, from its names
    // (onnx.dim_params).
    auto symbolOf = [&](StringRef name) -> int64_t {
      for (auto [k, n] : llvm::enumerate(names))
        if (cast<StringAttr>(n).getValue() == name)
          return k;
      return -1;
    };
    // The dims' values and the flat size, from one entry per dim (>= 0: a
    // fixed size, else -1 - k).
    auto shapeOf = [&](ArrayRef<int64_t> entries, SmallVector<OpFoldResult> &sizes,
                       int64_t &maxElems, bool &unbounded) -> Value {
      Value count = arith::ConstantIndexOp::create(b, loc, 1);
      maxElems = 1;
      unbounded = false;
      for (int64_t e : entries) {
        Value v = e >= 0 ? b.createOrFold<arith::ConstantIndexOp>(loc, e)
                         : dims[-1 - e];
        sizes.push_back(e >= 0 ? OpFoldResult(b.getIndexAttr(e))
                               : OpFoldResult(v));
        count = b.createOrFold<arith::MulIOp>(loc, count, v);
        // A dim without a bound (0) leaves the flat size dynamic.
        if (e < 0 && maxima[-1 - e] <= 0)
          unbounded = true;
        else
          maxElems *= e >= 0 ? e : maxima[-1 - e];
      }
      return count;
    };
    auto allDims = [](int64_t rank) {
      SmallVector<ReassociationIndices> r(1);
      for (int64_t i = 0; i < rank; ++i)
        r[0].push_back(i);
      return r;
    };
    for (unsigned i = 0; i < numInputs; ++i) {
      BlockArgument arg = func.getArgument(i);
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || type.hasStaticShape())
        continue;
      auto params = func.getArgAttrOfType<ArrayAttr>(i, "onnx.dim_params");
      SmallVector<int64_t> entries;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        int64_t k = -1;
        if (type.isDynamicDim(d) && params && d < (int64_t)params.size())
          k = symbolOf(cast<StringAttr>(params[d]).getValue());
        if (type.isDynamicDim(d) && k < 0) {
          return func.emitError("input ") << i << " dim " << d
                                          << " is dynamic without a symbolic dim";
        }
        entries.push_back(type.isDynamicDim(d) ? -1 - k : type.getDimSize(d));
      }
      SmallVector<OpFoldResult> sizes;
      int64_t maxElems;
      bool unbounded;
      Value count = shapeOf(entries, sizes, maxElems, unbounded);
      if (unbounded)
        maxElems = ShapedType::kDynamic;
      auto flatType = RankedTensorType::get({maxElems}, type.getElementType());
      arg.setType(flatType);
      if (maxElems == 0) {
        // No elements whatever the dims (a fixed 0): nothing to read.
        SmallVector<Value> dynSizes;
        for (auto [d, size] : llvm::enumerate(sizes))
          if (type.isDynamicDim(d))
            dynSizes.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
        Value none = tensor::EmptyOp::create(b, loc, type, dynSizes);
        arg.replaceAllUsesWith(none);
        continue;
      }
      Value part = tensor::ExtractSliceOp::create(
          b, loc, arg, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{count},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      Value shaped = tensor::ExpandShapeOp::create(b, loc, type, part,
                                                   allDims(type.getRank()),
                                                   sizes);
      arg.replaceUsesWithIf(shaped, [&](OpOperand &use) {
        return use.getOwner() != part.getDefiningOp();
      });
    }
    Operation *ret = entry.getTerminator();
    func.setType(FunctionType::get(ctx, entry.getArgumentTypes(),
                                   ret->getOperandTypes()));
    // main_graph_dims takes the inputs as main_graph now does (it reads
    // only static ones, which keep their type).
    if (dimsFn) {
      Block &body = dimsFn.getBody().front();
      for (unsigned i = 0; i < numInputs; ++i)
        body.getArgument(i).setType(func.getArgument(i).getType());
      dimsFn.setType(FunctionType::get(ctx, body.getArgumentTypes(),
                                       dimsFn.getResultTypes()));
    }
    return success();
  }
};

} // namespace
