//===- OutlineParallel.cpp - scf.parallel nests into thread-pool tasks ----===//
//
// A big outermost scf.parallel
//
//   scf.parallel (%i, %j) = (0, 0) to (64, 56) step (1, 1) { BODY }
//
// becomes a call of a dispatch function and a task that runs a range of the
// linearized leading dimensions:
//
//   func.call @f_par0_dispatch(%c64, %captures...)
//   func.func private @f_par0(%begin: index, %end: index, %captures...) {
//     scf.for %l = %begin to %end step 1 {
//       %i = %l               // delinearized leading dimensions
//       scf.parallel (%j) = (0) to (56) step (1) { BODY }
//     }
//   }
//   func.func private @f_par0_dispatch(index, ...) attributes
//       {kiln.parallel_task = @f_par0}
//
// kiln-lower-parallel-dispatch defines the dispatch function once the module
// is in the LLVM dialect (it needs pointers to pack the captures).
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_OUTLINEPARALLEL
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

constexpr StringLiteral kTaskAttr = "kiln.parallel_task";

std::optional<int64_t> tripCount(Value lb, Value ub, Value step) {
  auto l = getConstantIntValue(lb), u = getConstantIntValue(ub),
       s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return *u > *l ? (*u - *l + *s - 1) / *s : 0;
}

/// Trip counts of every dimension of a loop (nullopt if one is not static).
std::optional<SmallVector<int64_t>> tripCounts(Operation *op) {
  SmallVector<int64_t> trips;
  auto add = [&](Value lb, Value ub, Value step) {
    auto t = tripCount(lb, ub, step);
    if (t)
      trips.push_back(*t);
    return t.has_value();
  };
  if (auto p = dyn_cast<scf::ParallelOp>(op)) {
    for (auto [lb, ub, st] :
         llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep()))
      if (!add(lb, ub, st))
        return std::nullopt;
  } else if (auto f = dyn_cast<scf::ForOp>(op)) {
    if (!add(f.getLowerBound(), f.getUpperBound(), f.getStep()))
      return std::nullopt;
  }
  return trips;
}

/// Operations the loop runs: each nested op counts once per iteration of the
/// loops around it (loops with unknown trip counts count once).
double estimateWork(scf::ParallelOp loop, ArrayRef<int64_t> trips) {
  double work = 0;
  loop.getBody()->walk([&](Operation *op) {
    double times = 1;
    for (Operation *p = op->getParentOp(); p != loop; p = p->getParentOp())
      if (auto t = tripCounts(p))
        for (int64_t n : *t)
          times *= static_cast<double>(n);
    work += times;
  });
  for (int64_t n : trips)
    work *= static_cast<double>(n);
  return work;
}

/// Types that cross the task boundary as one scalar or one bare pointer.
bool isPassable(Type t) {
  if (isa<IndexType, IntegerType, FloatType, VectorType>(t))
    return true;
  auto m = dyn_cast<MemRefType>(t);
  if (!m || !m.hasStaticShape())
    return false;
  int64_t offset;
  SmallVector<int64_t> strides;
  if (failed(m.getStridesAndOffset(strides, offset)))
    return false;
  return !ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

struct OutlineParallelPass
    : public kiln::impl::OutlineParallelBase<OutlineParallelPass> {
  using OutlineParallelBase::OutlineParallelBase;

  /// Outlines `loop` of `func`; leaves it alone (returns false) when it is
  /// too small or cannot cross a function boundary.
  bool outline(scf::ParallelOp loop, func::FuncOp func, SymbolTable &symbols) {
    auto trips = tripCounts(loop);
    if (!trips || loop.getNumReductions() != 0 ||
        estimateWork(loop, *trips) < static_cast<double>(minWork))
      return false;
    unsigned rank = trips->size(), lead = 0;
    int64_t total = 1;
    while (lead < rank && total < minChunks)
      total *= (*trips)[lead++];
    if (total < 2)
      return false;

    // Values the task needs: those its body uses and the loop bounds (the
    // leading dimensions' to delinearize, the others' to stay a loop).
    // Constants are cloned, not passed.
    llvm::SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (unsigned d = 0; d < rank; ++d) {
      used.insert(loop.getLowerBound()[d]);
      used.insert(loop.getStep()[d]);
      if (d >= lead)
        used.insert(loop.getUpperBound()[d]);
    }
    SmallVector<Value> constants, captures;
    for (Value v : used) {
      if (matchPattern(v, m_Constant()))
        constants.push_back(v);
      else if (isPassable(v.getType()))
        captures.push_back(v);
      else
        return false;
    }

    MLIRContext *ctx = &getContext();
    Location loc = loop.getLoc();
    Type index = IndexType::get(ctx);
    SmallVector<Type> taskArgs{index, index};
    for (Value v : captures)
      taskArgs.push_back(v.getType());

    OpBuilder mb(ctx);
    mb.setInsertionPointAfter(func);
    auto task = func::FuncOp::create(
        mb, loc, (func.getName() + "_par").str(),
        FunctionType::get(ctx, taskArgs, {}));
    task.setPrivate();
    symbols.insert(task);
    Block *entry = task.addEntryBlock();

    OpBuilder b = OpBuilder::atBlockBegin(entry);
    IRMapping map;
    for (Value c : constants)
      map.map(c, b.clone(*c.getDefiningOp())->getResult(0));
    for (auto [v, arg] : llvm::zip(captures, entry->getArguments().drop_front(2)))
      map.map(v, arg);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    scf::ForOp::create(
        b, loc, entry->getArgument(0), entry->getArgument(1), one, ValueRange{},
        [&](OpBuilder &lb, Location l, Value linear, ValueRange) {
          // Delinearize, innermost leading dimension fastest.
          for (int d = static_cast<int>(lead) - 1; d >= 0; --d) {
            Value pos = linear;
            if (d > 0) {
              Value n = arith::ConstantIndexOp::create(lb, l, (*trips)[d]);
              pos = lb.createOrFold<arith::RemUIOp>(l, linear, n);
              linear = lb.createOrFold<arith::DivUIOp>(l, linear, n);
            }
            Value iv = lb.createOrFold<arith::AddIOp>(
                l, map.lookupOrDefault(loop.getLowerBound()[d]),
                lb.createOrFold<arith::MulIOp>(
                    l, pos, map.lookupOrDefault(loop.getStep()[d])));
            map.map(loop.getInductionVars()[d], iv);
          }
          auto cloneBody = [&](OpBuilder &cb) {
            for (Operation &op : loop.getBody()->without_terminator())
              cb.clone(op, map);
          };
          if (lead == rank) {
            cloneBody(lb);
          } else {
            auto rest = [&](ValueRange vs) {
              SmallVector<Value> out;
              for (Value v : vs.drop_front(lead))
                out.push_back(map.lookupOrDefault(v));
              return out;
            };
            scf::ParallelOp::create(
                lb, l, rest(loop.getLowerBound()), rest(loop.getUpperBound()),
                rest(loop.getStep()),
                [&](OpBuilder &pb, Location, ValueRange ivs) {
                  for (auto [old, iv] :
                       llvm::zip(ValueRange(loop.getInductionVars())
                                     .drop_front(lead),
                                 ivs))
                    map.map(old, iv);
                  cloneBody(pb);
                });
          }
          scf::YieldOp::create(lb, l);
        });
    func::ReturnOp::create(b, loc);

    // The dispatch declaration and the call that replaces the loop.
    SmallVector<Type> dispatchArgs{index};
    for (Value v : captures)
      dispatchArgs.push_back(v.getType());
    mb.setInsertionPointAfter(task);
    auto dispatch = func::FuncOp::create(
        mb, loc, (task.getName() + "_dispatch").str(),
        FunctionType::get(ctx, dispatchArgs, {}));
    dispatch.setPrivate();
    dispatch->setAttr(kTaskAttr, FlatSymbolRefAttr::get(task.getNameAttr()));
    symbols.insert(dispatch);

    OpBuilder cb(loop);
    SmallVector<Value> operands{arith::ConstantIndexOp::create(cb, loc, total)};
    operands.append(captures);
    func::CallOp::create(cb, loc, dispatch, operands);
    loop.erase();
    return true;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isDeclaration())
        continue;
      SmallVector<scf::ParallelOp> loops;
      func.walk([&](scf::ParallelOp p) {
        if (!p->getParentOfType<scf::ParallelOp>())
          loops.push_back(p);
      });
      for (scf::ParallelOp loop : loops)
        outline(loop, func, symbols);
    }
  }
};

} // namespace
