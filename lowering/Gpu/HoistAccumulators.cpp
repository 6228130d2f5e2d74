//===- HoistAccumulators.cpp - reductions accumulate in registers ---------===//
//
// A contraction lowered to loops on memrefs reads and writes its output
// element at every step of its reduction loops:
//
//   scf.for %k = 0 to 147 {
//     %a = memref.load %A[%i, %k]
//     %b = memref.load %B[%k, %j]
//     %c = memref.load %C[%i, %j]
//     memref.store (%c + %a * %b), %C[%i, %j]
//   }
//
// On a GPU each of those is a global memory access, and the kernel cannot
// keep %C[%i, %j] in a register itself: its buffers are plain pointers that
// might alias. This pass makes the element a loop-carried value where the
// buffers provably do not alias:
//
//   %c0 = memref.load %C[%i, %j]
//   %c = scf.for %k = 0 to 147 iter_args(%acc = %c0) {
//     ... yield (%acc + %a * %b)
//   }
//   memref.store %c, %C[%i, %j]
//
// Bottom-up, so that a nest of reduction loops (a convolution's channels
// and window) ends with the element read once and written once. The
// conditions: in the loop, exactly one load and one store of the element,
// at the same loop-invariant indices, and nothing else in the loop reads
// or writes memory the output may share: another buffer (a distinct
// argument or global), or a view of the arena whose bytes (a static
// memref.view) do not overlap the output's.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"
#include "lowering/Gpu/Buffers.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_HOISTACCUMULATORS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct HoistAccumulatorsPass
    : public kiln::impl::HoistAccumulatorsBase<HoistAccumulatorsPass> {
  using HoistAccumulatorsBase::HoistAccumulatorsBase;

  /// The one load and one store of the loop's accumulator, if it has one.
  std::optional<std::pair<memref::LoadOp, memref::StoreOp>>
  accumulator(scf::ForOp loop) {
    Block *body = loop.getBody();
    memref::StoreOp store;
    for (Operation &op : *body)
      if (auto s = dyn_cast<memref::StoreOp>(op)) {
        if (store)
          return std::nullopt; // two outputs: leave it
        store = s;
      }
    if (!store)
      return std::nullopt;
    auto invariant = [&](Value v) { return loop.isDefinedOutsideOfLoop(v); };
    if (!invariant(store.getMemRef()) ||
        !llvm::all_of(store.getIndices(), invariant))
      return std::nullopt;
    memref::LoadOp load;
    bool ok = true;
    loop->walk([&](Operation *op) {
      if (op == store || !ok)
        return;
      if (auto l = dyn_cast<memref::LoadOp>(op)) {
        if (l->getBlock() == body && l.getMemRef() == store.getMemRef() &&
            l.getIndices() == store.getIndices() && !load &&
            l->isBeforeInBlock(store)) {
          load = l;
          return;
        }
        ok = !kiln::mayOverlap(l.getMemRef(), store.getMemRef());
        return;
      }
      if (isa<memref::StoreOp>(op)) {
        ok = false;
        return;
      }
      if (isMemoryEffectFree(op) ||
          op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        return;
      ok = false; // an op with effects we do not know
    });
    if (!ok || !load)
      return std::nullopt;
    return std::make_pair(load, store);
  }

  void hoist(scf::ForOp loop, memref::LoadOp load, memref::StoreOp store) {
    IRRewriter b(loop);
    Location loc = load.getLoc();
    Value buffer = store.getMemRef();
    SmallVector<Value> indices(store.getIndices());
    Value init = memref::LoadOp::create(b, loc, buffer, indices);
    Value stored = store.getValueToStore();
    FailureOr<LoopLikeOpInterface> grown = loop.replaceWithAdditionalYields(
        b, ValueRange{init}, /*replaceInitOperandUsesInLoop=*/false,
        [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
          return SmallVector<Value>{stored};
        });
    auto newLoop = cast<scf::ForOp>(grown->getOperation());
    load.getResult().replaceAllUsesWith(newLoop.getRegionIterArgs().back());
    load.erase();
    store.erase();
    b.setInsertionPointAfter(newLoop);
    memref::StoreOp::create(b, loc, newLoop.getResults().back(), buffer,
                            indices);
  }

  void runOnOperation() override {
    // Innermost loops first: a hoisted pair lands in the loop around,
    // which may hoist it again. (A loop is replaced only when visited.)
    SmallVector<scf::ForOp> loops;
    getOperation().walk<WalkOrder::PostOrder>(
        [&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      if (auto pair = accumulator(loop))
        hoist(loop, pair->first, pair->second);
  }
};

} // namespace
