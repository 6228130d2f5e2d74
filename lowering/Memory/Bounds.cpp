//===- Bounds.cpp - upper bounds of dynamic sizes -------------------------===//
#include "lowering/Memory/Bounds.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;

std::optional<int64_t> kiln::dimBound(Value src, int64_t d, func::FuncOp func,
                                      int depth) {
  auto t = cast<ShapedType>(src.getType());
  if (!t.isDynamicDim(d))
    return t.getDimSize(d);
  Operation *s = src.getDefiningOp();
  if (!s || depth > 64)
    return std::nullopt;
  auto ub = [&](OpFoldResult size) -> std::optional<int64_t> {
    if (auto c = getConstantIntValue(size))
      return *c;
    return upperBound(cast<Value>(size), func, depth + 1);
  };
  int64_t dyn = t.getDynamicDimIndex(d);
  if (auto alloc = dyn_cast<memref::AllocOp>(s))
    return ub(alloc.getDynamicSizes()[dyn]);
  if (auto view = dyn_cast<memref::ViewOp>(s))
    return ub(view.getSizes()[dyn]);
  if (auto empty = dyn_cast<tensor::EmptyOp>(s))
    return ub(empty.getDynamicSizes()[dyn]);
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(s))
    return ub(expand.getMixedOutputShape()[d]);
  // A slice's dim d: its d-th size that a rank-reducing slice keeps.
  auto sliceDim = [&](ArrayRef<OpFoldResult> sizes,
                      const llvm::SmallBitVector &dropped)
      -> std::optional<int64_t> {
    int64_t kept = -1;
    for (size_t i = 0; i < sizes.size(); ++i)
      if (!dropped.test(i) && ++kept == d)
        return ub(sizes[i]);
    return std::nullopt;
  };
  // A collapsed dim: the product of its group's dims.
  auto collapsedDim = [&](Value source, ArrayRef<ReassociationIndices> groups)
      -> std::optional<int64_t> {
    int64_t n = 1;
    for (int64_t i : groups[d]) {
      auto b = dimBound(source, i, func, depth + 1);
      if (!b)
        return std::nullopt;
      n *= *b;
    }
    return n;
  };
  if (auto sub = dyn_cast<memref::SubViewOp>(s))
    return sliceDim(sub.getMixedSizes(), sub.getDroppedDims());
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(s))
    return collapsedDim(collapse.getSrc(), collapse.getReassociationIndices());
  if (auto cast = dyn_cast<memref::CastOp>(s))
    return dimBound(cast.getSource(), d, func, depth + 1);
  if (auto cast = dyn_cast<tensor::CastOp>(s))
    return dimBound(cast.getSource(), d, func, depth + 1);
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(s))
    return ub(expand.getMixedOutputShape()[d]);
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(s))
    return sliceDim(slice.getMixedSizes(), slice.getDroppedDims());
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(s))
    return collapsedDim(collapse.getSrc(), collapse.getReassociationIndices());
  // A destination-style op's result has its init's shape.
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(s)) {
    auto r = dyn_cast<OpResult>(src);
    if (r && dps.getNumDpsInits() > r.getResultNumber())
      return dimBound(dps.getDpsInits()[r.getResultNumber()], d, func,
                      depth + 1);
  }
  return std::nullopt;
}

/// Whether `v` is a size (never negative): a symbolic dim, a dim of a
/// tensor or buffer, a non-negative constant, or sums, products and
/// quotients of sizes.
static bool isSize(Value v, func::FuncOp func, int depth = 0) {
  if (depth > 16)
    return false;
  if (auto c = getConstantIntValue(v))
    return *c >= 0;
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getOwner() == &func.getBody().front() &&
           func.getArgAttr(arg.getArgNumber(), "kiln.dim");
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (isa<tensor::DimOp, memref::DimOp>(def))
    return true;
  if (isa<arith::AddIOp, arith::MulIOp, arith::DivUIOp, arith::DivSIOp,
          arith::CeilDivSIOp, arith::CeilDivUIOp, arith::MaxSIOp,
          arith::MinSIOp>(def))
    return llvm::all_of(def->getOperands(), [&](Value o) {
      return isSize(o, func, depth + 1);
    });
  return false;
}

std::optional<int64_t> kiln::upperBound(Value v, func::FuncOp func,
                                        int depth) {
  if (depth > 64)
    return std::nullopt;
  auto ub = [&](Value x) { return upperBound(x, func, depth + 1); };
  if (auto c = getConstantIntValue(v))
    return *c;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    auto max = func->getAttrOfType<DenseI64ArrayAttr>("kiln.dim_max");
    if (arg.getOwner() != &func.getBody().front() || !max)
      return std::nullopt;
    auto k = func.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(), "kiln.dim");
    if (!k || k.getInt() >= (int64_t)max.size())
      return std::nullopt;
    return max[k.getInt()];
  }
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  auto both = [&](auto f) -> std::optional<int64_t> {
    auto a = ub(def->getOperand(0)), b = ub(def->getOperand(1));
    if (!a || !b)
      return std::nullopt;
    return f(*a, *b);
  };
  if (isa<arith::MulIOp>(def))
    return both([](int64_t a, int64_t b) { return a * b; });
  if (isa<arith::AddIOp>(def))
    return both([](int64_t a, int64_t b) { return a + b; });
  if (isa<arith::RemUIOp, arith::RemSIOp>(def)) {
    // x % c < c (sizes are not negative).
    auto c = getConstantIntValue(def->getOperand(1));
    auto a = ub(def->getOperand(0));
    if (!c || *c <= 0)
      return std::nullopt;
    return a ? std::min(*a, *c - 1) : *c - 1;
  }
  if (isa<arith::SubIOp>(def)) {
    // x - c for a constant c (sizes less a fixed start); x - y for a y that
    // is a size (never negative) is at most x.
    auto a = ub(def->getOperand(0));
    if (!a)
      return std::nullopt;
    if (auto c = getConstantIntValue(def->getOperand(1)))
      return std::max<int64_t>(*a - *c, 0);
    if (isSize(def->getOperand(1), func))
      return *a;
    return std::nullopt;
  }
  if (auto select = dyn_cast<arith::SelectOp>(def)) {
    auto a = ub(select.getTrueValue()), b = ub(select.getFalseValue());
    if (!a || !b)
      return std::nullopt;
    return std::max(*a, *b);
  }
  if (isa<arith::MinSIOp, arith::MinUIOp>(def)) {
    // min(x, c) <= c whatever x is.
    auto a = ub(def->getOperand(0)), b = ub(def->getOperand(1));
    if (a && b)
      return std::min(*a, *b);
    return a ? a : b;
  }
  if (isa<arith::MaxSIOp, arith::MaxUIOp>(def))
    return both([](int64_t a, int64_t b) { return std::max(a, b); });
  if (isa<arith::DivUIOp, arith::DivSIOp, arith::CeilDivSIOp,
          arith::CeilDivUIOp, arith::FloorDivSIOp>(def)) {
    auto a = ub(def->getOperand(0));
    auto c = getConstantIntValue(def->getOperand(1));
    // x / y for a size y: at most x (a size of 0 divides nothing).
    if (a && !c && isSize(def->getOperand(1), func))
      return *a;
    if (!a || !c || *c <= 0)
      return std::nullopt;
    return llvm::divideCeil(*a, *c);
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::ExtUIOp>(def))
    return ub(def->getOperand(0));
  if (auto apply = dyn_cast<affine::AffineApplyOp>(def)) {
    // Evaluated at the operands' bounds (dims, then symbols): sizes grow
    // with the sizes they are computed from.
    Builder b(apply.getContext());
    SmallVector<Attribute> operands;
    for (Value o : apply.getMapOperands()) {
      auto bound = ub(o);
      if (!bound)
        return std::nullopt;
      operands.push_back(b.getIndexAttr(*bound));
    }
    SmallVector<Attribute> folded;
    if (failed(apply.getAffineMap().constantFold(operands, folded)) ||
        folded.size() != 1)
      return std::nullopt;
    return cast<IntegerAttr>(folded[0]).getInt();
  }
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    auto d = getConstantIntValue(dim.getIndex());
    return d ? dimBound(dim.getSource(), *d, func, depth + 1) : std::nullopt;
  }
  if (auto dim = dyn_cast<tensor::DimOp>(def)) {
    auto d = getConstantIntValue(dim.getIndex());
    return d ? dimBound(dim.getSource(), *d, func, depth + 1) : std::nullopt;
  }
  return std::nullopt;
}


std::optional<int64_t> kiln::elementsBound(Value src, func::FuncOp func,
                                           int64_t *unbounded) {
  auto t = cast<ShapedType>(src.getType());
  int64_t elems = 1;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    auto b = dimBound(src, d, func);
    if (!b || *b < 0) {
      if (unbounded)
        *unbounded = d;
      return std::nullopt;
    }
    elems *= *b;
  }
  return elems;
}
