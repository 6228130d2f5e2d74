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
//===----------------------------------------------------------------------===//
#include "lowering/Memory/Bounds.h"
#include "lowering/Memory/BufferUses.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SmallBitVector.h"

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
};

int64_t byteSize(MemRefType t) {
  Type elem = t.getElementType();
  int64_t bits = elem.isIndex() ? 64 : elem.getIntOrFloatBitWidth();
  int64_t bytes = bits <= 8 ? 1 : bits / 8;
  return t.getNumElements() * bytes;
}

/// Replaces `alloc`, nested in scf.forall loops of static bounds (inside
/// `block`), by a view of a buffer with one slot per iteration of those
/// loops, allocated in `block`; one nested in sequential loops and branches
/// only moves to `block`. Fails on any other nesting.
LogicalResult hoistTaskBuffer(memref::AllocOp alloc, Block &block,
                              int64_t alignment) {
  MemRefType t = alloc.getType();
  if (!t.hasStaticShape() || !t.getLayout().isIdentity())
    return failure();
  SmallVector<scf::ForallOp> loops; // innermost first
  // Upper bounds of the loops, innermost first: static, or a run-time bound
  // (the blocks of a dynamic-shape matmul) taken at the --max-dim bounds.
  SmallVector<SmallVector<int64_t>> uppers;
  auto func = dyn_cast<func::FuncOp>(block.getParentOp());
  for (Operation *p = alloc->getParentOp(); p && p != block.getParentOp();
       p = p->getParentOp()) {
    if (auto forall = dyn_cast<scf::ForallOp>(p)) {
      for (ArrayRef<int64_t> bounds :
           {forall.getStaticLowerBound(), forall.getStaticStep()})
        if (llvm::any_of(bounds, ShapedType::isDynamic))
          return failure();
      SmallVector<int64_t> ub(forall.getStaticUpperBound());
      for (auto [d, u] : llvm::enumerate(ub)) {
        if (!ShapedType::isDynamic(u))
          continue;
        OpBuilder ob(forall);
        auto bound =
            func ? kiln::upperBound(
                       getValueOrCreateConstantIndexOp(
                           ob, forall.getLoc(), forall.getMixedUpperBound()[d]),
                       func)
                 : std::nullopt;
        if (!bound)
          return failure();
        u = *bound;
      }
      uppers.push_back(ub);
      loops.push_back(forall);
    } else if (!isa<scf::ForOp, scf::IfOp>(p)) {
      return failure();
    }
  }
  Operation *top = block.findAncestorOpInBlock(*alloc);
  if (!top)
    return failure();
  if (loops.empty()) {
    // Only sequential loops and branches around it (a row block of a
    // dynamic-row matmul): one buffer, reused by every iteration, live
    // across the whole op in the block; unless the buffer (or a view of it)
    // is yielded, and so carried from one iteration to the next.
    SmallVector<Value> work{alloc.getResult()};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (isa<scf::YieldOp>(user))
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
  // The iteration's slot: its ivs, row-major, outermost loop first.
  MLIRContext *ctx = alloc.getContext();
  int64_t slots = 1;
  AffineExpr index = getAffineConstantExpr(0, ctx);
  SmallVector<Value> ivs;
  for (auto [forall, upper] : llvm::zip(llvm::reverse(loops),
                                         llvm::reverse(uppers)))
    for (auto [iv, lb, ub, step] :
         llvm::zip(forall.getInductionVars(), forall.getStaticLowerBound(),
                   upper, forall.getStaticStep())) {
      int64_t trips = ub > lb ? llvm::divideCeil(ub - lb, step) : 0;
      AffineExpr d = getAffineDimExpr(ivs.size(), ctx);
      index = index * trips + (d - lb).floorDiv(step);
      slots *= std::max<int64_t>(trips, 1);
      ivs.push_back(iv);
    }
  OpBuilder b(alloc);
  Location loc = alloc.getLoc();
  Value offset = affine::AffineApplyOp::create(
      b, loc,
      AffineMap::get(ivs.size(), 0,
                     simplifyAffineExpr(index * slot, ivs.size(), 0)),
      ivs);
  OpBuilder outer(top);
  auto all = memref::AllocOp::create(
      outer, loc,
      MemRefType::get({slots * slot}, IntegerType::get(ctx, 8)));
  all.setAlignmentAttr(alloc.getAlignmentAttr());
  Value view = memref::ViewOp::create(b, loc, t, all, offset, ValueRange{});
  for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
    if (isa<memref::DeallocOp>(user))
      user->erase();
  alloc.replaceAllUsesWith(view);
  alloc.erase();
  return success();
}

struct PlanArenaPass : public kiln::impl::PlanArenaBase<PlanArenaPass> {
  using PlanArenaBase::PlanArenaBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // main_graph_shapes (kiln-dynamic-results) is index arithmetic only.
    if (func.isExternal() || func->hasAttr("kiln.shape_function"))
      return;
    Block &block = func.getBody().front();
    if (!func.getBody().hasOneBlock()) {
      func.emitError("arena planning needs a single-block function");
      return signalPassFailure();
    }
    SmallVector<memref::AllocOp> nested;
    func.walk([&](memref::AllocOp alloc) {
      if (alloc->getBlock() != &block)
        nested.push_back(alloc);
    });
    for (memref::AllocOp alloc : nested)
      if (failed(hoistTaskBuffer(alloc, block, alignment))) {
        alloc.emitError("cannot place this allocation in the arena (dynamic "
                        "shape, layout, or nested in other than parallel "
                        "loops of static bounds)");
        return signalPassFailure();
      }

    DenseMap<Operation *, int64_t> position;
    int64_t i = 0;
    for (Operation &op : block)
      position[&op] = i++;

    SmallVector<Buffer> buffers;
    WalkResult walk = func.walk([&](memref::AllocOp alloc) {
      MemRefType t = alloc.getType();
      if (!t.getLayout().isIdentity() || alloc->getBlock() != &block) {
        alloc.emitError("cannot place this allocation in the arena (layout "
                        "or nested)");
        return WalkResult::interrupt();
      }
      // A dynamic shape takes the room of its largest (at the --max-dim
      // bounds of the function's symbolic dims).
      int64_t bytes = byteSize(t);
      if (!t.hasStaticShape()) {
        int64_t unbounded = 0;
        auto elems = kiln::elementsBound(alloc.getResult(), func, &unbounded);
        if (!elems) {
          alloc.emitError("cannot place this allocation in the arena: dim ")
              << unbounded
              << " has no upper bound from the symbolic dims' maxima";
          return WalkResult::interrupt();
        }
        bytes = *elems * byteSize(MemRefType::get({1}, t.getElementType()));
      }
      Buffer b;
      b.alloc = alloc;
      b.size = llvm::alignTo(std::max<int64_t>(bytes, 1), alignment);
      b.begin = position[alloc];
      b.end = kiln::lastUse(alloc.getResult(), block, position);
      buffers.push_back(b);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    // First fit, largest first, among buffers already placed whose
    // lifetimes overlap.
    SmallVector<Buffer *> order;
    for (Buffer &b : buffers)
      order.push_back(&b);
    llvm::stable_sort(order, [](Buffer *a, Buffer *b) { return a->size > b->size; });
    int64_t arenaSize = 0;
    SmallVector<Buffer *> placed;
    for (Buffer *b : order) {
      SmallVector<std::pair<int64_t, int64_t>> busy;
      for (Buffer *p : placed)
        if (p->begin <= b->end && b->begin <= p->end)
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

    MLIRContext *ctx = &getContext();
    auto arenaType = MemRefType::get({std::max<int64_t>(arenaSize, 1)},
                                     IntegerType::get(ctx, 8));
    unsigned argIndex = func.getNumArguments();
    if (failed(func.insertArgument(argIndex, arenaType,
                                   DictionaryAttr::get(ctx), func.getLoc())))
      return signalPassFailure();
    func.setArgAttr(argIndex, "kiln.arena", UnitAttr::get(ctx));
    Value arena = func.getArgument(argIndex);

    OpBuilder b(ctx);
    for (Buffer &buf : buffers) {
      b.setInsertionPoint(buf.alloc);
      Location loc = buf.alloc.getLoc();
      Value offset = arith::ConstantIndexOp::create(b, loc, buf.offset);
      Value view = memref::ViewOp::create(b, loc, buf.alloc.getType(), arena,
                                          offset, buf.alloc.getDynamicSizes());
      for (Operation *user : llvm::make_early_inc_range(buf.alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      buf.alloc.replaceAllUsesWith(view);
      buf.alloc.erase();
    }
    func->setAttr("kiln.arena_size",
                  IntegerAttr::get(IntegerType::get(ctx, 64), arenaSize));
    func->setAttr("kiln.arena_align",
                  IntegerAttr::get(IntegerType::get(ctx, 64), alignment));
  }
};

} // namespace
