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
#include "lowering/Memory/Bounds.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

#include <cmath>

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_OUTLINEPARALLEL
#include "lowering/Passes.h.inc"
} // namespace kiln

std::string kiln::symbolNodeName(Location loc) {
  std::string name;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l)) {
      name = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  std::string out;
  for (char c : name) {
    bool ok = llvm::isAlnum(c);
    if (ok || (!out.empty() && out.back() != '_'))
      out.push_back(ok ? c : '_');
  }
  while (!out.empty() && out.back() == '_')
    out.pop_back();
  return out.substr(0, 64);
}

namespace {

constexpr StringLiteral kTaskAttr = "kiln.parallel_task";

/// The most `ub - lb` can be when `ub` is an affine.apply or affine.min of
/// `lb` alone with a result `lb + c` (a tile: [k0, min(k0 + kc, K))).
std::optional<int64_t> spanFrom(Value lb, Value ub) {
  AffineMap map;
  ValueRange operands;
  if (auto apply = ub.getDefiningOp<affine::AffineApplyOp>()) {
    map = apply.getAffineMap();
    operands = apply.getMapOperands();
  } else if (auto min = ub.getDefiningOp<affine::AffineMinOp>()) {
    map = min.getAffineMap();
    operands = min.getMapOperands();
  } else {
    return std::nullopt;
  }
  if (operands.size() != 1 || operands[0] != lb || map.getNumSymbols() != 0)
    return std::nullopt;
  std::optional<int64_t> best;
  for (AffineExpr e : map.getResults()) {
    auto c = dyn_cast<AffineConstantExpr>(
        simplifyAffineExpr(e - getAffineDimExpr(0, e.getContext()), 1, 0));
    if (c && (!best || c.getValue() < *best))
      best = c.getValue();
  }
  return best;
}

std::optional<int64_t> tripCount(Value lb, Value ub, Value step) {
  auto l = getConstantIntValue(lb), u = getConstantIntValue(ub),
       s = getConstantIntValue(step);
  if (!s || *s <= 0)
    return std::nullopt;
  if (!l || !u) {
    std::optional<int64_t> span = spanFrom(lb, ub);
    if (!span)
      return std::nullopt;
    return *span > 0 ? (*span + *s - 1) / *s : 0;
  }
  return *u > *l ? (*u - *l + *s - 1) / *s : 0;
}

/// The size a symbolic dim without a bound counts as when estimating a
/// loop's work (a sequence length of the order of the zoo's).
constexpr int64_t kNominalDim = 128;

/// Trip counts of every dimension of a loop (nullopt if one is not static;
/// with `func`, a dynamic upper bound counts at its bound, as
/// lowering/Memory/Bounds.h evaluates it).
std::optional<SmallVector<int64_t>> tripCounts(Operation *op,
                                               func::FuncOp func = nullptr) {
  SmallVector<int64_t> trips;
  auto add = [&](Value lb, Value ub, Value step) {
    auto t = tripCount(lb, ub, step);
    if (!t && func) {
      auto l = getConstantIntValue(lb), s = getConstantIntValue(step);
      auto u = kiln::upperBound(ub, func, 0, kNominalDim);
      if (l && s && u && *s > 0)
        t = *u > *l ? (*u - *l + *s - 1) / *s : 0;
    }
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

/// Operations the loop runs, in scalar operations: each nested op counts once
/// per iteration of the loops around it (loops with unknown trip counts count
/// once), an op on vectors once per lane, like the scalar loops LLVM will
/// vectorize (a kernel's panel copy of 32-lane reads is as much work as the
/// scalar copy of as many elements).
double estimateWork(scf::ParallelOp loop, ArrayRef<int64_t> trips,
                    func::FuncOp atBounds = nullptr) {
  double work = 0;
  loop.getBody()->walk([&](Operation *op) {
    double times = 1;
    for (Operation *p = op->getParentOp(); p != loop; p = p->getParentOp())
      if (auto t = tripCounts(p, atBounds))
        for (int64_t n : *t)
          times *= static_cast<double>(n);
    int64_t lanes = 1;
    for (Type t : llvm::concat<Type>(SmallVector<Type>(op->getResultTypes()),
                                     SmallVector<Type>(op->getOperandTypes())))
      if (auto v = dyn_cast<VectorType>(t))
        lanes = std::max<int64_t>(lanes, v.getNumElements());
    work += times * static_cast<double>(lanes);
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

//===----------------------------------------------------------------------===//
// Which captured buffers may be marked noalias
//===----------------------------------------------------------------------===//

/// The bytes a buffer can reach: a range of a root buffer (a function
/// argument: an input, an output or the arena; or a global constant).
/// Views of the arena have the range the arena plan gave them; any other
/// view reaches all of its root.
struct Extent {
  Value root;
  int64_t begin = 0, end = std::numeric_limits<int64_t>::max();
  /// A buffer of a run-time arena plan (its view of the arena): distinct
  /// ones that one loop uses are alive together, which the plan keeps
  /// apart whatever their offsets.
  Operation *slot = nullptr;
};

/// Whether `v` is the arena argument of a function whose buffers are
/// placed at run time (kiln-plan-arena, kiln.arena_dynamic).
bool isRunTimeArena(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  auto func = arg ? dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp())
                  : nullptr;
  return func && func.getArgAttr(arg.getArgNumber(), "kiln.arena") &&
         func->hasAttr("kiln.arena_dynamic");
}

int64_t byteSize(MemRefType t) {
  Type elem = t.getElementType();
  int64_t bits = elem.isIndex() ? 64 : elem.getIntOrFloatBitWidth();
  return t.getNumElements() * std::max<int64_t>(bits / 8, 1);
}

std::optional<Extent> extentOf(Value v) {
  std::optional<Extent> viewRange;
  while (true) {
    if (auto view = v.getDefiningOp<memref::ViewOp>()) {
      auto offset = getConstantIntValue(view.getByteShift());
      if (isRunTimeArena(view.getSource())) {
        if (!viewRange)
          viewRange = Extent{Value(), 0, std::numeric_limits<int64_t>::max(),
                             view};
        v = view.getSource();
        continue;
      }
      if (!offset)
        return std::nullopt;
      int64_t bytes = 0;
      if (view.getSizes().empty()) {
        bytes = byteSize(view.getType());
      } else {
        // A dynamic view of the arena: the room the plan gave it, its size
        // at the bounds of the symbolic dims.
        auto func = view->getParentOfType<func::FuncOp>();
        auto elems =
            func ? kiln::elementsBound(view.getResult(), func) : std::nullopt;
        if (!elems)
          return std::nullopt;
        bytes = *elems *
                byteSize(MemRefType::get({1}, view.getType().getElementType()));
      }
      if (!viewRange)
        viewRange = Extent{Value(), *offset, *offset + bytes};
      v = view.getSource();
      continue;
    }
    if (auto viewLike = v.getDefiningOp<ViewLikeOpInterface>()) {
      v = viewLike.getViewSource();
      continue;
    }
    break;
  }
  bool isRoot = v.getDefiningOp<memref::GetGlobalOp>() ||
                (isa<BlockArgument>(v) &&
                 isa<FunctionOpInterface>(
                     cast<BlockArgument>(v).getOwner()->getParentOp()));
  if (!isRoot)
    return std::nullopt;
  Extent e = viewRange.value_or(Extent{});
  e.root = v;
  return e;
}

bool disjoint(const Extent &a, const Extent &b) {
  return a.root != b.root || (a.slot && b.slot && a.slot != b.slot) ||
         a.end <= b.begin || b.end <= a.begin;
}

/// The values defined outside `region` that its operations may write
/// (through views created inside it); nullopt if an op's effects are unknown.
std::optional<llvm::DenseSet<Value>> writtenFromOutside(Region &region) {
  llvm::DenseSet<Value> written;
  WalkResult r = region.walk([&](Operation *op) {
    if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::advance();
    auto iface = dyn_cast<MemoryEffectOpInterface>(op);
    if (!iface)
      return WalkResult::interrupt();
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (auto &e : effects) {
      if (!isa<MemoryEffects::Write>(e.getEffect()))
        continue;
      Value v = e.getValue();
      if (!v)
        return WalkResult::interrupt();
      while (region.isAncestor(v.getParentRegion())) {
        auto viewLike = v.getDefiningOp<ViewLikeOpInterface>();
        if (!viewLike)
          break;
        v = viewLike.getViewSource();
      }
      written.insert(v);
    }
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return std::nullopt;
  return written;
}

/// For each capture, whether it can be a `noalias` argument of the task: it
/// reaches bytes no other capture reaches, at least where either is
/// written. Distinct function arguments are distinct buffers (the ABI says
/// inputs, outputs and the arena do not overlap).
SmallVector<bool> noAliasCaptures(ArrayRef<Value> captures, Region &body) {
  SmallVector<bool> result(captures.size(), false);
  auto written = writtenFromOutside(body);
  if (!written)
    return result;
  SmallVector<std::optional<Extent>> extents;
  for (Value v : captures)
    extents.push_back(isa<MemRefType>(v.getType()) ? extentOf(v)
                                                   : std::nullopt);
  for (size_t i = 0; i < captures.size(); ++i) {
    if (!extents[i])
      continue;
    bool ok = true;
    for (size_t j = 0; j < captures.size() && ok; ++j) {
      if (j == i || !isa<MemRefType>(captures[j].getType()))
        continue;
      if (!written->contains(captures[i]) && !written->contains(captures[j]))
        continue;
      ok = extents[j] && disjoint(*extents[i], *extents[j]);
    }
    result[i] = ok;
  }
  return result;
}

/// A new private task function `<func>_<node>_par` of `argTypes` (begin,
/// end and the captures), after `func`.
func::FuncOp createTask(func::FuncOp func, Location loc,
                        ArrayRef<Type> argTypes, SymbolTable &symbols) {
  OpBuilder mb(func.getContext());
  mb.setInsertionPointAfter(func);
  std::string node = kiln::symbolNodeName(loc);
  auto task = func::FuncOp::create(
      mb, loc, func.getName().str() + (node.empty() ? "" : "_" + node) + "_par",
      FunctionType::get(func.getContext(), argTypes, {}));
  task.setPrivate();
  symbols.insert(task);
  return task;
}

/// The task's body: a loop over [begin, end) of the linearized `lead`
/// leading dims of `loop` (delinearized with `tripOf`, innermost leading dim
/// fastest), the other dims an scf.parallel inside, then the return.
/// `map` holds the captures and constants already.
void buildTaskBody(OpBuilder &b, Location loc, scf::ParallelOp loop,
                   unsigned lead, Value begin, Value end, IRMapping &map,
                   function_ref<Value(OpBuilder &, Location, unsigned)> tripOf) {
  unsigned rank = loop.getNumLoops();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  scf::ForOp::create(
      b, loc, begin, end, one, ValueRange{},
      [&](OpBuilder &lb, Location l, Value linear, ValueRange) {
        for (int d = static_cast<int>(lead) - 1; d >= 0; --d) {
          Value pos = linear;
          if (d > 0) {
            Value n = tripOf(lb, l, d);
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
                // (a local copy: the induction vars may come as a
                // temporary, which a range-for would not keep alive)
                SmallVector<Value> olds(loop.getInductionVars());
                for (auto [old, iv] :
                     llvm::zip(ArrayRef<Value>(olds).drop_front(lead), ivs))
                  map.map(old, iv);
                cloneBody(pb);
              });
        }
        scf::YieldOp::create(lb, l);
      });
  func::ReturnOp::create(b, loc);
}

/// The dispatch declaration of `task` (the iteration count, then the
/// captures of `captureTypes`), which kiln-lower-parallel-dispatch defines.
func::FuncOp createDispatch(func::FuncOp task, Location loc,
                            TypeRange captureTypes, SymbolTable &symbols) {
  MLIRContext *ctx = task.getContext();
  SmallVector<Type> dispatchArgs{IndexType::get(ctx)};
  llvm::append_range(dispatchArgs, captureTypes);
  OpBuilder mb(ctx);
  mb.setInsertionPointAfter(task);
  auto dispatch = func::FuncOp::create(
      mb, loc, (task.getName() + "_dispatch").str(),
      FunctionType::get(ctx, dispatchArgs, {}));
  dispatch.setPrivate();
  dispatch->setAttr(kTaskAttr, FlatSymbolRefAttr::get(task.getNameAttr()));
  symbols.insert(dispatch);
  return dispatch;
}

struct OutlineParallelPass
    : public kiln::impl::OutlineParallelBase<OutlineParallelPass> {
  using OutlineParallelBase::OutlineParallelBase;

  /// Outlines `loop` of `func`; leaves it alone (returns false) when it is
  /// too small or cannot cross a function boundary.
  bool outline(scf::ParallelOp loop, func::FuncOp func, SymbolTable &symbols) {
    auto trips = tripCounts(loop);
    if (!trips)
      return outlineDynamic(loop, func, symbols);
    if (loop.getNumReductions() != 0 ||
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

    func::FuncOp task = createTask(func, loc, taskArgs, symbols);
    for (auto [i, noAlias] :
         llvm::enumerate(noAliasCaptures(captures, loop.getRegion())))
      if (noAlias)
        task.setArgAttr(2 + i, LLVM::LLVMDialect::getNoAliasAttrName(),
                        UnitAttr::get(ctx));
    Block *entry = task.addEntryBlock();

    OpBuilder b = OpBuilder::atBlockBegin(entry);
    IRMapping map;
    for (Value c : constants)
      map.map(c, b.clone(*c.getDefiningOp())->getResult(0));
    for (auto [v, arg] : llvm::zip(captures, entry->getArguments().drop_front(2)))
      map.map(v, arg);
    buildTaskBody(b, loc, loop, lead, entry->getArgument(0),
                  entry->getArgument(1), map,
                  [&](OpBuilder &lb, Location l, unsigned d) -> Value {
                    return arith::ConstantIndexOp::create(lb, l, (*trips)[d]);
                  });
    auto dispatch =
        createDispatch(task, loc, ValueRange(captures).getTypes(), symbols);

    OpBuilder cb(loop);
    SmallVector<Value> operands{arith::ConstantIndexOp::create(cb, loc, total)};
    operands.append(captures);
    func::CallOp::create(cb, loc, dispatch, operands);
    loop.erase();
    return true;
  }

  /// A loop with dynamic bounds: outlined like a static one when it would
  /// be big enough at the bounds (--max-dim, else kNominalDim). Its trip
  /// counts are computed before the call and passed in, and each captured
  /// buffer of dynamic shape crosses as its base pointer, offset, sizes and
  /// strides, rebuilt inside (noalias where the arena plan keeps it apart).
  bool outlineDynamic(scf::ParallelOp loop, func::FuncOp func,
                      SymbolTable &symbols) {
    // Only loops of the function's body: the block loops of dynamic-shape
    // matmuls (kiln-tile-dynamic-rows) run small copies many times.
    if (!func->hasAttr("kiln.dim_max") || loop.getNumReductions() != 0 ||
        loop->getParentOp() != func)
      return false;
    unsigned rank = loop.getNumLoops();
    SmallVector<int64_t> maxTrips;
    for (auto [lb, ub, st] : llvm::zip(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep())) {
      auto l = getConstantIntValue(lb), s = getConstantIntValue(st);
      auto u = kiln::upperBound(ub, func, 0, kNominalDim);
      if (!l || !s || !u || *s <= 0)
        return false;
      maxTrips.push_back(*u > *l ? (*u - *l + *s - 1) / *s : 0);
    }
    // Inner loops of dynamic bounds count at their bounds too (the
    // reductions of a Softmax over a sequence).
    if (estimateWork(loop, maxTrips, func) < static_cast<double>(minWork))
      return false;
    unsigned lead = 0;
    int64_t total = 1;
    while (lead < rank && total < minChunks)
      total *= maxTrips[lead++];
    if (total < 2)
      return false;

    MLIRContext *ctx = &getContext();
    Location loc = loop.getLoc();
    Type index = IndexType::get(ctx);
    OpBuilder cb(loop);
    // Trip counts of the leading dims, at run time.
    SmallVector<Value> leadTrips;
    Value count = arith::ConstantIndexOp::create(cb, loc, 1);
    for (unsigned d = 0; d < lead; ++d) {
      Value span = cb.createOrFold<arith::SubIOp>(loc, loop.getUpperBound()[d],
                                                  loop.getLowerBound()[d]);
      Value t = cb.createOrFold<arith::CeilDivSIOp>(loc, span,
                                                    loop.getStep()[d]);
      t = cb.createOrFold<arith::MaxSIOp>(
          loc, t, arith::ConstantIndexOp::create(cb, loc, 0));
      leadTrips.push_back(t);
      count = cb.createOrFold<arith::MulIOp>(loc, count, t);
    }

    llvm::SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (unsigned d = 0; d < rank; ++d) {
      used.insert(loop.getLowerBound()[d]);
      used.insert(loop.getStep()[d]);
      if (d >= lead)
        used.insert(loop.getUpperBound()[d]);
    }
    // What crosses: constants are cloned; scalars and static buffers pass
    // as they are; a dynamic buffer as base, offset, sizes, strides.
    SmallVector<Value> constants, values, memrefs, passed;
    struct Rebuilt {
      Value original;
      unsigned first, count; // its pieces among `passed`
    };
    SmallVector<Rebuilt> rebuilt;
    for (Value v : used) {
      if (matchPattern(v, m_Constant())) {
        constants.push_back(v);
        continue;
      }
      if (isPassable(v.getType())) {
        values.push_back(v);
        continue;
      }
      auto mt = dyn_cast<MemRefType>(v.getType());
      if (!mt || !isPassable(MemRefType::get({}, mt.getElementType())))
        return false;
      memrefs.push_back(v);
    }
    for (Value t : leadTrips)
      if (!matchPattern(t, m_Constant()))
        values.push_back(t);
    passed.append(values.begin(), values.end());
    for (Value m : memrefs) {
      auto meta = memref::ExtractStridedMetadataOp::create(cb, loc, m);
      Rebuilt r{m, (unsigned)passed.size(), 0};
      passed.push_back(meta.getBaseBuffer());
      passed.push_back(meta.getOffset());
      llvm::append_range(passed, meta.getSizes());
      llvm::append_range(passed, meta.getStrides());
      r.count = passed.size() - r.first;
      rebuilt.push_back(r);
    }

    SmallVector<Type> taskArgs{index, index};
    for (Value v : passed)
      taskArgs.push_back(v.getType());
    func::FuncOp task = createTask(func, loc, taskArgs, symbols);
    // noalias: scalars need none; static buffers and the bases of dynamic
    // ones where the original buffer reaches bytes no other one does.
    SmallVector<Value> buffers(values.begin(), values.end());
    buffers.append(memrefs.begin(), memrefs.end());
    SmallVector<bool> noAlias = noAliasCaptures(buffers, loop.getRegion());
    for (auto [i, v] : llvm::enumerate(values))
      if (noAlias[i] && isa<MemRefType>(v.getType()))
        task.setArgAttr(2 + i, LLVM::LLVMDialect::getNoAliasAttrName(),
                        UnitAttr::get(ctx));
    for (auto [i, r] : llvm::enumerate(rebuilt))
      if (noAlias[values.size() + i])
        task.setArgAttr(2 + r.first, LLVM::LLVMDialect::getNoAliasAttrName(),
                        UnitAttr::get(ctx));
    Block *entry = task.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    IRMapping map;
    for (Value c : constants)
      map.map(c, b.clone(*c.getDefiningOp())->getResult(0));
    auto args = entry->getArguments().drop_front(2);
    for (auto [i, v] : llvm::enumerate(values))
      map.map(v, args[i]);
    for (Rebuilt &r : rebuilt) {
      auto mt = cast<MemRefType>(r.original.getType());
      int64_t n = mt.getRank();
      auto pieces = args.slice(r.first, r.count);
      SmallVector<int64_t> dyn(n, ShapedType::kDynamic);
      auto strided = MemRefType::get(
          mt.getShape(), mt.getElementType(),
          StridedLayoutAttr::get(ctx, ShapedType::kDynamic, dyn),
          mt.getMemorySpace());
      SmallVector<OpFoldResult> sizes, strides;
      for (int64_t d = 0; d < n; ++d) {
        sizes.push_back(mt.isDynamicDim(d) ? OpFoldResult(pieces[2 + d])
                                           : b.getIndexAttr(mt.getDimSize(d)));
        strides.push_back(pieces[2 + n + d]);
      }
      Value view = memref::ReinterpretCastOp::create(
          b, loc, strided, pieces[0], OpFoldResult(pieces[1]), sizes, strides);
      map.map(r.original, memref::CastOp::create(b, loc, mt, view));
    }
    auto trip = [&](unsigned d) -> Value {
      Value t = leadTrips[d];
      return matchPattern(t, m_Constant()) ? b.clone(*t.getDefiningOp())->getResult(0)
                                           : map.lookup(t);
    };
    SmallVector<Value> tripsInside;
    for (unsigned d = 0; d < lead; ++d)
      tripsInside.push_back(trip(d));
    buildTaskBody(b, loc, loop, lead, entry->getArgument(0),
                  entry->getArgument(1), map,
                  [&](OpBuilder &, Location, unsigned d) {
                    return tripsInside[d];
                  });
    auto dispatch =
        createDispatch(task, loc, ValueRange(passed).getTypes(), symbols);

    // The work is known at run time only: below minWork (a short
    // sequence), the task runs on this thread without waking the pool.
    SmallVector<int64_t> oneLead(maxTrips);
    for (unsigned d = 0; d < lead; ++d)
      oneLead[d] = 1;
    double perIteration = std::max(estimateWork(loop, oneLead), 1.0);
    int64_t enough = static_cast<int64_t>(
        std::ceil(static_cast<double>(minWork) / perIteration));
    Value small = arith::CmpIOp::create(
        cb, loc, arith::CmpIPredicate::slt, count,
        arith::ConstantIndexOp::create(cb, loc, enough));
    scf::IfOp::create(
        cb, loc, small,
        [&](OpBuilder &tb, Location l) {
          SmallVector<Value> direct{arith::ConstantIndexOp::create(tb, l, 0),
                                    count};
          direct.append(passed);
          func::CallOp::create(tb, l, task, direct);
          scf::YieldOp::create(tb, l);
        },
        [&](OpBuilder &eb, Location l) {
          SmallVector<Value> operands{count};
          operands.append(passed);
          func::CallOp::create(eb, l, dispatch, operands);
          scf::YieldOp::create(eb, l);
        });
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
