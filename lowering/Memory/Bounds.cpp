//===- Bounds.cpp - upper bounds of dynamic sizes -------------------------===//
#include "lowering/Memory/Bounds.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

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

namespace {

/// Bounds as numbers: the symbolic dims at their maxima (or `unboundedAs`).
struct Numbers {
  using T = int64_t;
  func::FuncOp func;
  int64_t unboundedAs;

  std::optional<T> constant(int64_t c) { return c; }
  std::optional<T> dim(BlockArgument arg) {
    auto max = func->getAttrOfType<DenseI64ArrayAttr>("kiln.dim_max");
    auto k = func.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(), "kiln.dim");
    if (!max || !k || k.getInt() >= (int64_t)max.size())
      return std::nullopt;
    if (max[k.getInt()] <= 0) // no --max-dim
      return unboundedAs > 0 ? std::optional<T>(unboundedAs) : std::nullopt;
    return max[k.getInt()];
  }
  // Products and sums that overflow have no bound.
  std::optional<T> mul(T a, T b) {
    T r;
    return llvm::MulOverflow(a, b, r) ? std::nullopt : std::optional<T>(r);
  }
  std::optional<T> add(T a, T b) {
    T r;
    return llvm::AddOverflow(a, b, r) ? std::nullopt : std::optional<T>(r);
  }
  std::optional<T> minus(T a, int64_t c) { // max(a - c, 0)
    T r;
    return llvm::SubOverflow(a, c, r) ? std::nullopt
                                      : std::optional<T>(std::max<T>(r, 0));
  }
  T max(T a, T b) { return std::max(a, b); }
  T min(T a, T b) { return std::min(a, b); }
  T ceilDiv(T a, int64_t c) { return llvm::divideCeil(a, c); }
  std::optional<T> apply(affine::AffineApplyOp op, ArrayRef<T> operands) {
    Builder b(op.getContext());
    SmallVector<Attribute> attrs;
    for (T o : operands) {
      // (constantFold wraps on overflow: keep the operands small enough)
      if (o > (int64_t(1) << 31))
        return std::nullopt;
      attrs.push_back(b.getIndexAttr(o));
    }
    SmallVector<Attribute> folded;
    if (failed(op.getAffineMap().constantFold(attrs, folded)) ||
        folded.size() != 1)
      return std::nullopt;
    return cast<IntegerAttr>(folded[0]).getInt();
  }
};

/// Bounds as index arithmetic on the symbolic dims, built with `b` (the
/// dims through `dims`): a bound at run time where a dim has none.
struct Values {
  using T = Value;
  func::FuncOp func;
  OpBuilder &b;
  IRMapping &dims;
  Location loc;

  std::optional<T> constant(int64_t c) {
    return T(arith::ConstantIndexOp::create(b, loc, c));
  }
  std::optional<T> dim(BlockArgument arg) {
    if (!func.getArgAttr(arg.getArgNumber(), "kiln.dim"))
      return std::nullopt;
    if (Value v = dims.lookupOrNull(arg))
      return v;
    return std::nullopt;
  }
  std::optional<T> mul(T x, T y) {
    return b.createOrFold<arith::MulIOp>(loc, x, y);
  }
  std::optional<T> add(T x, T y) {
    return b.createOrFold<arith::AddIOp>(loc, x, y);
  }
  std::optional<T> minus(T x, int64_t c) {
    Value d = b.createOrFold<arith::SubIOp>(
        loc, x, arith::ConstantIndexOp::create(b, loc, c));
    return max(d, arith::ConstantIndexOp::create(b, loc, 0));
  }
  T max(T x, T y) { return b.createOrFold<arith::MaxSIOp>(loc, x, y); }
  T min(T x, T y) { return b.createOrFold<arith::MinSIOp>(loc, x, y); }
  T ceilDiv(T x, int64_t c) {
    return b.createOrFold<arith::CeilDivSIOp>(
        loc, x, arith::ConstantIndexOp::create(b, loc, c));
  }
  std::optional<T> apply(affine::AffineApplyOp op, ArrayRef<T> operands) {
    return T(affine::AffineApplyOp::create(b, loc, op.getAffineMap(),
                                           operands));
  }
};

/// Upper bounds in a domain D (Numbers or Values). Sizes are never
/// negative and all of these grow with their operands, so a size's bound is
/// its value at its operands' bounds; min(x, c) is at most c whatever x is
/// (lowerings clamp run-time sizes that way).
template <typename D> struct BoundOf {
  using T = typename D::T;
  D &dom;

  std::optional<T> of(Value v, int depth = 0) {
    if (depth > 64)
      return std::nullopt;
    auto ub = [&](Value x) { return of(x, depth + 1); };
    func::FuncOp func = dom.func;
    if (auto c = getConstantIntValue(v))
      return dom.constant(*c);
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() != &func.getBody().front())
        return std::nullopt;
      return dom.dim(arg);
    }
    Operation *def = v.getDefiningOp();
    if (!def)
      return std::nullopt;
    auto both = [&]() -> std::optional<std::pair<T, T>> {
      auto a = ub(def->getOperand(0)), b = ub(def->getOperand(1));
      if (!a || !b)
        return std::nullopt;
      return std::make_pair(*a, *b);
    };
    if (isa<arith::MulIOp>(def)) {
      auto ab = both();
      return ab ? dom.mul(ab->first, ab->second) : std::nullopt;
    }
    if (isa<arith::AddIOp>(def)) {
      auto ab = both();
      return ab ? dom.add(ab->first, ab->second) : std::nullopt;
    }
    if (isa<arith::RemUIOp, arith::RemSIOp>(def)) {
      // x % c < c (sizes are not negative).
      auto c = getConstantIntValue(def->getOperand(1));
      if (!c || *c <= 0)
        return std::nullopt;
      auto bound = dom.constant(*c - 1);
      auto a = ub(def->getOperand(0));
      return a && bound ? dom.min(*a, *bound) : bound;
    }
    if (isa<arith::SubIOp>(def)) {
      // x - c for a constant c (sizes less a fixed start); x - y for a y
      // that is a size (never negative) is at most x.
      auto a = ub(def->getOperand(0));
      if (!a)
        return std::nullopt;
      if (auto c = getConstantIntValue(def->getOperand(1)))
        return dom.minus(*a, *c);
      if (isSize(def->getOperand(1), func))
        return a;
      return std::nullopt;
    }
    if (auto select = dyn_cast<arith::SelectOp>(def)) {
      auto a = ub(select.getTrueValue()), b = ub(select.getFalseValue());
      if (!a || !b)
        return std::nullopt;
      return dom.max(*a, *b);
    }
    if (isa<arith::MinSIOp, arith::MinUIOp>(def)) {
      // min(x, c) <= c whatever x is.
      auto a = ub(def->getOperand(0)), b = ub(def->getOperand(1));
      if (a && b)
        return dom.min(*a, *b);
      return a ? a : b;
    }
    if (isa<arith::MaxSIOp, arith::MaxUIOp>(def)) {
      auto ab = both();
      return ab ? std::optional<T>(dom.max(ab->first, ab->second))
                : std::nullopt;
    }
    if (isa<arith::DivUIOp, arith::DivSIOp, arith::CeilDivSIOp,
            arith::CeilDivUIOp, arith::FloorDivSIOp>(def)) {
      auto a = ub(def->getOperand(0));
      auto c = getConstantIntValue(def->getOperand(1));
      // x / y for a size y: at most x (a size of 0 divides nothing).
      if (a && !c && isSize(def->getOperand(1), func))
        return a;
      if (!a || !c || *c <= 0)
        return std::nullopt;
      return dom.ceilDiv(*a, *c);
    }
    if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
            arith::ExtUIOp>(def))
      return ub(def->getOperand(0));
    if (auto apply = dyn_cast<affine::AffineApplyOp>(def)) {
      // At the operands' bounds (dims, then symbols): sizes grow with the
      // sizes they are computed from.
      SmallVector<T> operands;
      for (Value o : apply.getMapOperands()) {
        auto bound = ub(o);
        if (!bound)
          return std::nullopt;
        operands.push_back(*bound);
      }
      return dom.apply(apply, operands);
    }
    if (isa<memref::DimOp, tensor::DimOp>(def)) {
      auto d = getConstantIntValue(def->getOperand(1));
      return d ? dim(def->getOperand(0), *d, depth + 1) : std::nullopt;
    }
    return std::nullopt;
  }

  /// Dim `d` of the tensor, buffer or view `src`.
  std::optional<T> dim(Value src, int64_t d, int depth = 0) {
    auto t = cast<ShapedType>(src.getType());
    if (!t.isDynamicDim(d))
      return dom.constant(t.getDimSize(d));
    Operation *s = src.getDefiningOp();
    if (!s || depth > 64)
      return std::nullopt;
    auto ub = [&](OpFoldResult size) -> std::optional<T> {
      if (auto c = getConstantIntValue(size))
        return dom.constant(*c);
      return of(cast<Value>(size), depth + 1);
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
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(s))
      return ub(expand.getMixedOutputShape()[d]);
    // A slice's dim d: its d-th size that a rank-reducing slice keeps.
    auto sliceDim = [&](ArrayRef<OpFoldResult> sizes,
                        const llvm::SmallBitVector &dropped)
        -> std::optional<T> {
      int64_t kept = -1;
      for (size_t i = 0; i < sizes.size(); ++i)
        if (!dropped.test(i) && ++kept == d)
          return ub(sizes[i]);
      return std::nullopt;
    };
    // A collapsed dim: the product of its group's dims.
    auto collapsedDim = [&](Value source, ArrayRef<ReassociationIndices> groups)
        -> std::optional<T> {
      auto n = dom.constant(1);
      for (int64_t i : groups[d]) {
        auto part = dim(source, i, depth + 1);
        if (!part || !n)
          return std::nullopt;
        n = dom.mul(*n, *part);
      }
      return n;
    };
    if (auto sub = dyn_cast<memref::SubViewOp>(s))
      return sliceDim(sub.getMixedSizes(), sub.getDroppedDims());
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(s))
      return sliceDim(slice.getMixedSizes(), slice.getDroppedDims());
    if (auto collapse = dyn_cast<memref::CollapseShapeOp>(s))
      return collapsedDim(collapse.getSrc(),
                          collapse.getReassociationIndices());
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(s))
      return collapsedDim(collapse.getSrc(),
                          collapse.getReassociationIndices());
    if (auto cast = dyn_cast<memref::CastOp>(s))
      return dim(cast.getSource(), d, depth + 1);
    if (auto cast = dyn_cast<tensor::CastOp>(s))
      return dim(cast.getSource(), d, depth + 1);
    // A destination-style op's result has its init's shape.
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(s)) {
      auto r = dyn_cast<OpResult>(src);
      if (r && dps.getNumDpsInits() > r.getResultNumber())
        return dim(dps.getDpsInits()[r.getResultNumber()], d, depth + 1);
    }
    return std::nullopt;
  }
};

} // namespace

std::optional<int64_t> kiln::upperBound(Value v, func::FuncOp func, int depth,
                                        int64_t unboundedAs) {
  Numbers numbers{func, unboundedAs};
  return BoundOf<Numbers>{numbers}.of(v, depth);
}

std::optional<int64_t> kiln::dimBound(Value src, int64_t d, func::FuncOp func,
                                      int depth, int64_t unboundedAs) {
  Numbers numbers{func, unboundedAs};
  return BoundOf<Numbers>{numbers}.dim(src, d, depth);
}

Value kiln::buildUpperBound(Value v, func::FuncOp func, OpBuilder &b,
                            IRMapping &dims) {
  Values values{func, b, dims, v.getLoc()};
  return BoundOf<Values>{values}.of(v).value_or(Value());
}

Value kiln::buildDimBound(Value src, int64_t d, func::FuncOp func,
                          OpBuilder &b, IRMapping &dims) {
  Values values{func, b, dims, src.getLoc()};
  return BoundOf<Values>{values}.dim(src, d).value_or(Value());
}

std::optional<int64_t> kiln::elementsBound(Value src, func::FuncOp func,
                                           int64_t *unbounded,
                                           int64_t unboundedAs) {
  auto t = cast<ShapedType>(src.getType());
  int64_t elems = 1;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    auto b = dimBound(src, d, func, 0, unboundedAs);
    if (!b || *b < 0) {
      if (unbounded)
        *unbounded = d;
      return std::nullopt;
    }
    if (llvm::MulOverflow(elems, *b, elems)) {
      if (unbounded)
        *unbounded = d;
      return std::nullopt;
    }
  }
  return elems;
}
