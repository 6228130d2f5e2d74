//===- PlanArena.cpp - static memory plan into one arena ------------------===//
//
// After bufferization every intermediate is a memref.alloc of static shape.
// This pass gives each one a byte offset in a single arena so that buffers
// whose lifetimes overlap never share bytes, then replaces the allocations by
// views of a new trailing function argument. Lifetimes are measured in the
// order of the entry block's operations: a buffer is live from its alloc to
// the last operation that uses it or any view of it (uses nested in loops
// count at the loop). Offsets are chosen first-fit, largest buffer first.
//
// A buffer allocated inside a parallel loop (scf.forall: a kernel's
// task-private scratch) gets one slot per iteration of the loops around it:
// it becomes a view, at the iteration's slot, of one buffer allocated just
// before the outermost loop and live for that loop only. Sequential loops
// around it (scf.for) reuse their iteration's slot.
//
// A buffer whose size has no bound (it grows with a symbolic dim that has no
// --max-dim) makes the plan a run-time one. The placement above is made with
// the unbounded dims at a reference size; it orders each pair of buffers
// that are alive at the same time. At run time, in that order, a buffer's
// offset is the largest end of the buffers below it that it overlaps in
// time, so the pairs stay apart whatever the actual sizes. The offsets are
// computed from the dims at the function's entry, and the same arithmetic,
// cloned into `main_graph_arena(dims) -> index`, gives the caller the
// arena's size.
//
//===----------------------------------------------------------------------===//
#include "lowering/Memory/Bounds.h"
#include "lowering/Memory/BufferUses.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_PLANARENA
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct Buffer {
  memref::AllocOp alloc;
  int64_t size = 0;  // bytes, rounded up to the alignment
  int64_t begin = 0; // position of the alloc in the block
  int64_t end = 0;   // position of the last use
  int64_t offset = -1;
  bool runTime = false; // no bound: size is at the reference dims

  bool overlapsInTime(const Buffer &other) const {
    return begin <= other.end && other.begin <= end;
  }

  /// Replaces the allocation by a view of `arena` at `offset`.
  void replaceBy(OpBuilder &b, Value arena, Value offset) {
    Value view = memref::ViewOp::create(b, alloc.getLoc(), alloc.getType(),
                                        arena, offset, alloc.getDynamicSizes());
    if (Attribute status = alloc->getAttr(kiln::kStatusAttr))
      view.getDefiningOp()->setAttr(kiln::kStatusAttr, status); // on the GPU
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    alloc.replaceAllUsesWith(view);
    alloc.erase();
  }
};

int64_t byteSize(MemRefType t) {
  Type elem = t.getElementType();
  int64_t bits = elem.isIndex() ? 64 : elem.getIntOrFloatBitWidth();
  int64_t bytes = bits <= 8 ? 1 : bits / 8;
  return t.getNumElements() * bytes;
}

/// Replaces `alloc`, nested in scf.forall loops of static bounds (inside
/// `block`), by a view of a buffer with one slot per iteration of those
/// loops, allocated in `block`; one nested in sequential loops (scf.for,
/// scf.while: If, Loop, Scan bodies) and branches only moves to `block`. Fails on any other nesting.
LogicalResult hoistTaskBuffer(memref::AllocOp alloc, Block &block,
                              int64_t alignment) {
  MemRefType t = alloc.getType();
  if (!t.hasStaticShape() || !t.getLayout().isIdentity())
    return failure();
  Operation *top = block.findAncestorOpInBlock(*alloc);
  if (!top)
    return failure();
  SmallVector<scf::ForallOp> loops; // innermost first
  // Upper bounds of the loops, innermost first: static, or a run-time bound
  // (the blocks of a dynamic-shape matmul) taken at the --max-dim bounds;
  // with no bound, the run-time value (defined before the loop nest), and
  // the buffer gets a dynamic size.
  SmallVector<SmallVector<OpFoldResult>> uppers;
  auto func = dyn_cast<func::FuncOp>(block.getParentOp());
  OpBuilder outer(top);
  for (Operation *p = alloc->getParentOp(); p && p != block.getParentOp();
       p = p->getParentOp()) {
    if (auto forall = dyn_cast<scf::ForallOp>(p)) {
      for (ArrayRef<int64_t> bounds :
           {forall.getStaticLowerBound(), forall.getStaticStep()})
        if (llvm::any_of(bounds, ShapedType::isDynamic))
          return failure();
      SmallVector<OpFoldResult> ub(forall.getMixedUpperBound());
      for (OpFoldResult &u : ub) {
        auto v = dyn_cast<Value>(u);
        if (!v)
          continue;
        if (auto bound = func ? kiln::upperBound(v, func) : std::nullopt) {
          u = outer.getIndexAttr(*bound);
          continue;
        }
        bool before = isa<BlockArgument>(v)
                          ? cast<BlockArgument>(v).getOwner() == &block
                          : v.getDefiningOp()->getBlock() == &block &&
                                v.getDefiningOp()->isBeforeInBlock(top);
        if (!before)
          return failure();
      }
      uppers.push_back(ub);
      loops.push_back(forall);
    } else if (!isa<scf::ForOp, scf::WhileOp, scf::IfOp>(p)) {
      return failure();
    }
  }
  if (loops.empty()) {
    // Only sequential loops and branches around it (a row block of a
    // dynamic-row matmul): one buffer, reused by every iteration, live
    // across the whole op in the block; unless the buffer (or a view of it)
    // is yielded, and so carried from one iteration to the next.
    SmallVector<Value> work{alloc.getResult()};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (isa<scf::YieldOp, scf::ConditionOp>(user))
          return failure();
        if (auto view = dyn_cast<ViewLikeOpInterface>(user))
          if (view.getViewSource() == v)
            work.push_back(user->getResult(0));
      }
    }
    alloc->moveBefore(top);
    return success();
  }
  int64_t slot = llvm::alignTo(std::max<int64_t>(byteSize(t), 1), alignment);
  // The iteration's slot: its ivs, row-major, outermost loop first. A
  // run-time trip count enters the index as a symbol.
  MLIRContext *ctx = alloc.getContext();
  Location loc = alloc.getLoc();
  AffineExpr index = getAffineConstantExpr(0, ctx);
  AffineExpr slots = getAffineConstantExpr(1, ctx);
  SmallVector<Value> ivs, trips;
  for (auto [forall, upper] : llvm::zip(llvm::reverse(loops),
                                         llvm::reverse(uppers)))
    for (auto [iv, lb, ub, step] :
         llvm::zip(forall.getInductionVars(), forall.getStaticLowerBound(),
                   upper, forall.getStaticStep())) {
      AffineExpr count;
      if (auto u = getConstantIntValue(ub)) {
        count = getAffineConstantExpr(
            std::max<int64_t>(*u > lb ? llvm::divideCeil(*u - lb, step) : 0,
                              1),
            ctx);
      } else {
        // max(ceil((ub - lb) / step), 1), before the loop nest.
        AffineExpr s = getAffineSymbolExpr(0, ctx);
        Value n = affine::AffineApplyOp::create(
            outer, loc, AffineMap::get(0, 1, (s - lb).ceilDiv(step)),
            ValueRange{cast<Value>(ub)});
        n = arith::MaxSIOp::create(
            outer, loc, n, arith::ConstantIndexOp::create(outer, loc, 1));
        count = getAffineSymbolExpr(trips.size(), ctx);
        trips.push_back(n);
      }
      AffineExpr d = getAffineDimExpr(ivs.size(), ctx);
      index = index * count + (d - lb).floorDiv(step);
      slots = slots * count;
      ivs.push_back(iv);
    }
  OpBuilder b(alloc);
  SmallVector<Value> operands(ivs);
  llvm::append_range(operands, trips);
  Value offset = affine::AffineApplyOp::create(
      b, loc,
      AffineMap::get(ivs.size(), trips.size(),
                     simplifyAffineExpr(index * slot, ivs.size(),
                                        trips.size())),
      operands);
  memref::AllocOp all;
  auto bytes = IntegerType::get(ctx, 8);
  if (auto c = dyn_cast<AffineConstantExpr>(slots)) {
    all = memref::AllocOp::create(outer, loc,
                                  MemRefType::get({c.getValue() * slot}, bytes));
  } else {
    Value size = affine::AffineApplyOp::create(
        outer, loc, AffineMap::get(0, trips.size(), slots * slot), trips);
    all = memref::AllocOp::create(
        outer, loc, MemRefType::get({ShapedType::kDynamic}, bytes),
        ValueRange{size});
  }
  all.setAlignmentAttr(alloc.getAlignmentAttr());
  Value view = memref::ViewOp::create(b, loc, t, all, offset, ValueRange{});
  for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
    if (isa<memref::DeallocOp>(user))
      user->erase();
  alloc.replaceAllUsesWith(view);
  alloc.erase();
  return success();
}

/// Appends the arena argument to `func`: `size` bytes (or dynamic).
FailureOr<Value> addArena(func::FuncOp func, int64_t size) {
  MLIRContext *ctx = func.getContext();
  auto type = MemRefType::get({size}, IntegerType::get(ctx, 8));
  unsigned i = func.getNumArguments();
  if (failed(func.insertArgument(i, type, DictionaryAttr::get(ctx),
                                 func.getLoc())))
    return failure();
  func.setArgAttr(i, "kiln.arena", UnitAttr::get(ctx));
  return func.getArgument(i);
}

/// The size the unbounded dims take for the reference placement.
constexpr int64_t kReferenceDim = 64;

struct PlanArenaPass : public kiln::impl::PlanArenaBase<PlanArenaPass> {
  using PlanArenaBase::PlanArenaBase;

  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs(getOperation().getOps<func::FuncOp>());
    for (func::FuncOp func : funcs)
      if (failed(plan(func)))
        return signalPassFailure();
  }

  LogicalResult plan(func::FuncOp func);
  /// The run-time plan: offsets from the dims at the entry, the arena an
  /// argument of dynamic size, and main_graph_arena for its size.
  LogicalResult planAtRunTime(func::FuncOp func, MutableArrayRef<Buffer> buffers);
  /// Emits the run-time offsets of the buffers in `order` and returns the
  /// arena's size; `sizes` are their aligned byte sizes.
  Value emitOffsets(OpBuilder &b, ArrayRef<Buffer *> order,
                    ArrayRef<Value> sizes, SmallVectorImpl<Value> &offsets);
};

LogicalResult PlanArenaPass::plan(func::FuncOp func) {
  // main_graph_shapes (kiln-dynamic-results) is index arithmetic only.
  if (func.isExternal() || func->hasAttr("kiln.shape_function"))
    return success();
  Block &block = func.getBody().front();
  if (!func.getBody().hasOneBlock())
    return func.emitError("arena planning needs a single-block function");
  if (statusInArena)
    for (auto slot :
         llvm::make_early_inc_range(block.getOps<memref::AllocaOp>()))
      if (slot->hasAttr(kiln::kStatusAttr)) {
        OpBuilder b(slot);
        auto alloc = memref::AllocOp::create(b, slot.getLoc(), slot.getType());
        alloc->setAttr(kiln::kStatusAttr, slot->getAttr(kiln::kStatusAttr));
        slot.replaceAllUsesWith(alloc.getResult());
        slot.erase();
      }
  SmallVector<memref::AllocOp> nested;
  func.walk([&](memref::AllocOp alloc) {
    if (alloc->getBlock() != &block)
      nested.push_back(alloc);
  });
  for (memref::AllocOp alloc : nested)
    if (failed(hoistTaskBuffer(alloc, block, alignment)))
      return alloc.emitError(
          "cannot place this allocation in the arena (dynamic "
          "shape, layout, or nested in other than parallel "
          "loops of static bounds)");

  DenseMap<Operation *, int64_t> position;
  int64_t i = 0;
  for (Operation &op : block)
    position[&op] = i++;

  SmallVector<Buffer> buffers;
  bool runTime = false;
  WalkResult walk = func.walk([&](memref::AllocOp alloc) {
    MemRefType t = alloc.getType();
    if (!t.getLayout().isIdentity() || alloc->getBlock() != &block) {
      alloc.emitError("cannot place this allocation in the arena (layout "
                      "or nested)");
      return WalkResult::interrupt();
    }
    // A dynamic shape takes the room of its largest (at the --max-dim
    // bounds of the function's symbolic dims), or, with no bound, of its
    // size at the reference dims (a run-time plan).
    // Sizes past 2^62 bytes (an element count that overflows, a buffer no
    // machine has) are refused before any arithmetic wraps.
    if (t.hasStaticShape()) {
      uint64_t count = 1;
      bool overflow = false;
      for (int64_t d : t.getShape()) {
        overflow |= d != 0 && count > UINT64_MAX / (uint64_t)d;
        count *= (uint64_t)d;
      }
      if (!llvm::is_contained(t.getShape(), 0) &&
          (overflow || count > (uint64_t(1) << 62) /
                                  std::max<int64_t>(byteSize(MemRefType::get(
                                                        {1}, t.getElementType())),
                                                    1))) {
        alloc.emitError("a buffer of ")
            << t << " is too large (more than 2^62 bytes)";
        return WalkResult::interrupt();
      }
    }
    int64_t bytes = t.hasStaticShape() ? byteSize(t) : 0;
    Buffer b;
    if (!t.hasStaticShape()) {
      int64_t unbounded = 0;
      auto elems = kiln::elementsBound(alloc.getResult(), func, &unbounded);
      if (!elems) {
        elems = kiln::elementsBound(alloc.getResult(), func, nullptr,
                                    kReferenceDim);
        b.runTime = true;
        runTime = true;
      }
      if (!elems) {
        alloc.emitError("cannot place this allocation in the arena: dim ")
            << unbounded
            << " has no upper bound from the symbolic dims' maxima";
        return WalkResult::interrupt();
      }
      bytes = *elems * byteSize(MemRefType::get({1}, t.getElementType()));
    }
    b.alloc = alloc;
    b.size = llvm::alignTo(std::max<int64_t>(bytes, 1), alignment);
    b.begin = position[alloc];
    b.end = kiln::lastUse(alloc.getResult(), block, position);
    buffers.push_back(b);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  // First fit, largest first, among buffers already placed whose
  // lifetimes overlap.
  SmallVector<Buffer *> order;
  for (Buffer &b : buffers)
    order.push_back(&b);
  llvm::stable_sort(order,
                    [](Buffer *a, Buffer *b) { return a->size > b->size; });
  int64_t arenaSize = 0;
  SmallVector<Buffer *> placed;
  for (Buffer *b : order) {
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (Buffer *p : placed)
      if (p->overlapsInTime(*b))
        busy.push_back({p->offset, p->offset + p->size});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + b->size <= lo)
        break;
      offset = std::max(offset, hi);
    }
    b->offset = offset;
    arenaSize = std::max(arenaSize, offset + b->size);
    placed.push_back(b);
  }
  if (runTime)
    return planAtRunTime(func, buffers);

  MLIRContext *ctx = &getContext();
  FailureOr<Value> arena = addArena(func, std::max<int64_t>(arenaSize, 1));
  if (failed(arena))
    return failure();

  OpBuilder b(ctx);
  for (Buffer &buf : buffers) {
    b.setInsertionPoint(buf.alloc);
    Value offset =
        arith::ConstantIndexOp::create(b, buf.alloc.getLoc(), buf.offset);
    buf.replaceBy(b, *arena, offset);
  }
  func->setAttr("kiln.arena_size",
                IntegerAttr::get(IntegerType::get(ctx, 64), arenaSize));
  func->setAttr("kiln.arena_align",
                IntegerAttr::get(IntegerType::get(ctx, 64), alignment));
  return success();
}

Value PlanArenaPass::emitOffsets(OpBuilder &b, ArrayRef<Buffer *> order,
                                 ArrayRef<Value> sizes,
                                 SmallVectorImpl<Value> &offsets) {
  // `order` is by reference offset: every buffer below one that overlaps
  // it in time comes before it.
  Location loc = b.getUnknownLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value total = zero;
  offsets.assign(order.size(), Value());
  auto below = [&](size_t j, size_t i) {
    return order[j]->overlapsInTime(*order[i]) &&
           order[j]->offset < order[i]->offset;
  };
  for (auto [i, buf] : llvm::enumerate(order)) {
    // The buffers right below it: one below another that is below it too
    // ends before that one starts, so it adds nothing to the maximum.
    SmallVector<size_t> under;
    for (size_t j = 0; j < i; ++j)
      if (below(j, i))
        under.push_back(j);
    Value offset = zero;
    for (size_t j : under) {
      if (llvm::any_of(under, [&](size_t k) { return k != j && below(j, k); }))
        continue;
      offset = b.createOrFold<arith::MaxUIOp>(
          loc, offset, b.createOrFold<arith::AddIOp>(loc, offsets[j], sizes[j]));
    }
    offsets[i] = offset;
    total = b.createOrFold<arith::MaxUIOp>(
        loc, total, b.createOrFold<arith::AddIOp>(loc, offset, sizes[i]));
  }
  return total;
}

LogicalResult PlanArenaPass::planAtRunTime(func::FuncOp func,
                                           MutableArrayRef<Buffer> buffers) {
  MLIRContext *ctx = &getContext();
  Block &block = func.getBody().front();
  SmallVector<Buffer *> order;
  for (Buffer &b : buffers)
    order.push_back(&b);
  llvm::stable_sort(order,
                    [](Buffer *a, Buffer *b) { return a->offset < b->offset; });

  // Each buffer's aligned byte size, from the dims (or its bound).
  auto sizesAt = [&](OpBuilder &b, IRMapping &map,
                     SmallVectorImpl<Value> &sizes) -> LogicalResult {
    Location loc = func.getLoc();
    for (Buffer *buf : order) {
      if (!buf->runTime) {
        sizes.push_back(arith::ConstantIndexOp::create(b, loc, buf->size));
        continue;
      }
      MemRefType t = buf->alloc.getType();
      Value n = arith::ConstantIndexOp::create(
          b, loc, byteSize(MemRefType::get({1}, t.getElementType())));
      for (int64_t d = 0; d < t.getRank(); ++d) {
        // Its size from the dims; or, where it depends on the values of
        // the inputs, a bound of it from the dims.
        Value dim = kiln::buildDimBound(buf->alloc.getResult(), d, func, b, map);
        if (!dim)
          return buf->alloc.emitError(
              "cannot place this allocation in the arena: dim ")
                 << d
                 << " depends on the values of the inputs, and Kiln finds "
                    "no bound for it";
        n = b.createOrFold<arith::MulIOp>(loc, n, dim);
      }
      // Rounded up to the alignment, and at least one unit of it.
      Value a = arith::ConstantIndexOp::create(b, loc, alignment);
      Value up = b.createOrFold<arith::MulIOp>(
          loc, b.createOrFold<arith::CeilDivUIOp>(loc, n, a), a);
      sizes.push_back(b.createOrFold<arith::MaxUIOp>(loc, up, a));
    }
    return success();
  };

  // The largest dim (a power of two) at which no size overflows: the sizes
  // grow with the dims, so at any dims up to it each buffer's size, and the
  // arena's (at most their sum), are at most their values there. The entry
  // points refuse larger dims.
  int64_t limit = int64_t(1) << std::min(indexBits - 2, 40u);
  int64_t room = (int64_t(1) << (indexBits - 2)) - 1;
  for (; limit > 0; limit /= 2) {
    int64_t total = 0;
    bool fits = llvm::all_of(buffers, [&](Buffer &buf) {
      MemRefType t = buf.alloc.getType();
      auto elems = t.hasStaticShape()
                       ? std::optional<int64_t>(t.getNumElements())
                       : kiln::elementsBound(buf.alloc.getResult(), func,
                                             nullptr, limit);
      int64_t bytes;
      return elems &&
             !llvm::MulOverflow(
                 *elems, byteSize(MemRefType::get({1}, t.getElementType())),
                 bytes) &&
             !llvm::AddOverflow(total, bytes + alignment, total) &&
             total <= room;
    });
    if (fits)
      break;
  }
  if (limit == 0)
    return func.emitError("the arena's size overflows at any size of the "
                          "symbolic dims");

  // The offsets, at main_graph's entry.
  OpBuilder b = OpBuilder::atBlockBegin(&block);
  IRMapping self;
  SmallVector<BlockArgument> dimArgs;
  for (BlockArgument arg : func.getArguments())
    if (func.getArgAttr(arg.getArgNumber(), "kiln.dim")) {
      self.map(arg, arg);
      dimArgs.push_back(arg);
    }
  SmallVector<Value> sizes, offsets;
  if (failed(sizesAt(b, self, sizes)))
    return failure();
  emitOffsets(b, order, sizes, offsets);

  // The arena's size for the caller: the same arithmetic, on the dims
  // alone.
  auto module = func->getParentOfType<ModuleOp>();
  std::string name = (func.getName() + "_arena").str();
  if (Operation *old = module.lookupSymbol(name))
    old->erase();
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  SmallVector<Type> argTypes(dimArgs.size(), IndexType::get(ctx));
  auto sizeFn = func::FuncOp::create(
      mb, func.getLoc(), name,
      FunctionType::get(ctx, argTypes, {IndexType::get(ctx)}));
  sizeFn->setAttr("kiln.shape_function", UnitAttr::get(ctx));
  Block *body = sizeFn.addEntryBlock();
  IRMapping there;
  for (auto [k, arg] : llvm::enumerate(dimArgs)) {
    there.map(arg, body->getArgument(k));
    sizeFn.setArgAttr(k, "kiln.dim", func.getArgAttr(arg.getArgNumber(),
                                                     "kiln.dim"));
  }
  OpBuilder fb = OpBuilder::atBlockBegin(body);
  SmallVector<Value> fnSizes, fnOffsets;
  if (failed(sizesAt(fb, there, fnSizes)))
    return failure();
  Value total = emitOffsets(fb, order, fnSizes, fnOffsets);
  func::ReturnOp::create(fb, func.getLoc(), total);

  FailureOr<Value> arena = addArena(func, ShapedType::kDynamic);
  if (failed(arena))
    return failure();
  for (auto [buf, offset] : llvm::zip(order, offsets)) {
    b.setInsertionPoint(buf->alloc);
    buf->replaceBy(b, *arena, offset);
  }

  func->setAttr("kiln.arena_size", IntegerAttr::get(IntegerType::get(ctx, 64), 0));
  func->setAttr("kiln.arena_dynamic", UnitAttr::get(ctx));
  func->setAttr("kiln.dim_limit",
                IntegerAttr::get(IntegerType::get(ctx, 64), limit));
  func->setAttr("kiln.arena_align",
                IntegerAttr::get(IntegerType::get(ctx, 64), alignment));
  return success();
}

} // namespace
