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

#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_HOISTACCUMULATORS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// Where a buffer lives: its root (a function argument or a global), and,
/// for a static view of the arena, the byte range of that view.
struct Extent {
  Value root;
  std::optional<std::pair<int64_t, int64_t>> bytes; // [begin, end)
};

Extent extentOf(Value v) {
  Extent e;
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<memref::ViewOp>(def)) {
      // The first (outermost) static view of the root bounds the bytes
      // every view inside it can reach.
      auto type = view.getType();
      std::optional<int64_t> shift =
          getConstantIntValue(view.getByteShift());
      if (shift && type.hasStaticShape() && view.getSizes().empty() &&
          type.getElementType().isIntOrFloat()) {
        int64_t bits = type.getElementType().getIntOrFloatBitWidth();
        int64_t size = type.getNumElements() * ((bits + 7) / 8);
        e.bytes = std::make_pair(*shift, *shift + size);
      } else {
        e.bytes.reset();
      }
      v = view.getSource();
      continue;
    }
    if (auto like = dyn_cast<ViewLikeOpInterface>(def)) {
      v = like.getViewSource();
      continue;
    }
    if (auto g = dyn_cast<memref::GetGlobalOp>(def)) {
      e.root = g;
      return e;
    }
    break;
  }
  e.root = v;
  return e;
}

bool mayAlias(Value a, Value b) {
  Extent x = extentOf(a), y = extentOf(b);
  if (auto gx = x.root.getDefiningOp<memref::GetGlobalOp>())
    if (auto gy = y.root.getDefiningOp<memref::GetGlobalOp>())
      return gx.getName() == gy.getName();
  if (x.root != y.root)
    return !(isa<BlockArgument>(x.root) && isa<BlockArgument>(y.root)) &&
           !(isa<BlockArgument>(x.root) &&
             y.root.getDefiningOp<memref::GetGlobalOp>()) &&
           !(isa<BlockArgument>(y.root) &&
             x.root.getDefiningOp<memref::GetGlobalOp>());
  if (x.bytes && y.bytes)
    return x.bytes->first < y.bytes->second &&
           y.bytes->first < x.bytes->second;
  return true;
}

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
        ok = !mayAlias(l.getMemRef(), store.getMemRef());
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
