//===- MapToGpu.cpp - every loop nest of a function into a gpu.launch ------===//
//
// After bufferization the body of main_graph is a list of loop nests over
// views of the arena, the inputs, the outputs and the weights. On the GPU
// each nest becomes one launch:
//
//   scf.parallel (%i, %j) = (0, 0) to (64, 100) step (1, 1) { body }
//
// becomes (6,400 iterations, blocks of 256 threads)
//
//   gpu.launch blocks(%bx, ...) in (25, 1, 1) threads(%tx, ...) in (256, 1, 1)
//       module(@kiln_kernels) function(@k0_<node>) {
//     %n = %bx * 256 + %tx
//     %i = %n / 100, %j = %n % 100     (times the step, plus the lower bound)
//     body
//   }
//
// with a bound check where the blocks overshoot. Runs of other top-level
// ops that touch memory (sequential loops, stores) become one-thread
// launches, so that the host never reads or writes a buffer.
//
// Before that, views move up out of the way and neighbouring nests over the
// same iterations fuse (a fill and the reduction into it: one launch), and
// a scalar that only loops read is read by each of them, on the device.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"
#include "lowering/Gpu/Buffers.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_MAPTOGPU
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

constexpr StringLiteral kKernelModule = "kiln_kernels";

/// Views of buffers (and the globals'): addresses, which stay on the host.
bool isViewOp(Operation *op) {
  return isa<memref::ViewOp, memref::SubViewOp, memref::ReinterpretCastOp,
             memref::CastOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::GetGlobalOp, memref::AssumeAlignmentOp>(op);
}

/// Ops the host runs: address arithmetic and views. Everything else that
/// has an effect, or a region, runs on the device.
bool isHostOp(Operation *op) {
  if (isViewOp(op) || isa<func::ReturnOp>(op))
    return true;
  return op->getNumRegions() == 0 && isMemoryEffectFree(op);
}

/// Pure arithmetic (no views: addresses stay on the host).
bool isPureCompute(Operation *op) {
  return op->getNumRegions() == 0 && isMemoryEffectFree(op) && !isViewOp(op) &&
         llvm::none_of(op->getResultTypes(),
                       [](Type t) { return isa<MemRefType>(t); });
}

struct MapToGpuPass : public kiln::impl::MapToGpuBase<MapToGpuPass> {
  using MapToGpuBase::MapToGpuBase;

  int64_t kernels = 0;

  /// The next kernel's name: k<number>_<the node at `loc`>.
  FlatSymbolRefAttr kernelName(MLIRContext *ctx, Location loc) {
    std::string name = "k" + std::to_string(kernels++);
    std::string node = kiln::symbolNodeName(loc);
    if (!node.empty())
      name += "_" + node;
    return FlatSymbolRefAttr::get(ctx, name);
  }

  /// A launch of grid x block threads (x only; null: 1) whose kernel is
  /// named after `loc`'s node, with an empty body ending in gpu.terminator.
  gpu::LaunchOp launch(OpBuilder &b, Location loc, Value grid = nullptr,
                       Value block = nullptr) {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    grid = grid ? grid : one;
    block = block ? block : one;
    auto op = gpu::LaunchOp::create(
        b, loc, grid, one, one, block, one, one, /*dynamicSharedMemorySize=*/
        nullptr, /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
        /*workgroupAttributions=*/{}, /*privateAttributions=*/{},
        /*clusterSizeX=*/nullptr, nullptr, nullptr,
        FlatSymbolRefAttr::get(b.getContext(), kKernelModule),
        kernelName(b.getContext(), loc));
    OpBuilder inside = OpBuilder::atBlockEnd(&op.getBody().front());
    gpu::TerminatorOp::create(inside, loc);
    return op;
  }

  /// One thread per iteration of a top-level scf.parallel.
  LogicalResult mapParallel(scf::ParallelOp loop) {
    if (loop.getNumResults() != 0)
      return loop.emitError("a parallel loop with reductions cannot run on "
                            "the GPU yet");
    OpBuilder b(loop);
    Location loc = loop.getLoc();
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    SmallVector<Value> counts;
    Value total = one;
    for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(), loop.getStep())) {
      // ceil((ub - lb) / step), 0 when ub <= lb
      Value span = b.createOrFold<arith::MaxSIOp>(
          loc, b.createOrFold<arith::SubIOp>(loc, ub, lb), zero);
      counts.push_back(b.createOrFold<arith::CeilDivUIOp>(loc, span, step));
      total = b.createOrFold<arith::MulIOp>(loc, total, counts.back());
    }
    std::optional<int64_t> fixed = getConstantIntValue(total);
    if (fixed && *fixed == 0) {
      loop.erase();
      return success();
    }
    int64_t size = fixed ? std::min<int64_t>(threads, *fixed) : threads;
    Value block = arith::ConstantIndexOp::create(b, loc, size);
    Value grid = b.createOrFold<arith::CeilDivUIOp>(loc, total, block);
    if (!fixed) // an empty launch is an error: at least one block
      grid = b.createOrFold<arith::MaxUIOp>(loc, grid, one);
    gpu::LaunchOp op = launch(b, loc, grid, block);

    OpBuilder k = OpBuilder::atBlockBegin(&op.getBody().front());
    Value n = arith::AddIOp::create(
        k, loc,
        arith::MulIOp::create(k, loc, op.getBlockIds().x, op.getBlockSize().x),
        op.getThreadIds().x);
    if (!fixed || *fixed % size != 0) { // threads past the end return
      Value inRange =
          arith::CmpIOp::create(k, loc, arith::CmpIPredicate::ult, n, total);
      auto guard = scf::IfOp::create(k, loc, inRange, /*withElse=*/false);
      k.setInsertionPoint(guard.thenBlock()->getTerminator());
    }
    // The indices, innermost fastest: consecutive threads, consecutive
    // addresses.
    IRMapping map;
    Value rest = n;
    for (int64_t d = (int64_t)counts.size() - 1; d >= 0; --d) {
      Value idx = d == 0 ? rest : arith::RemUIOp::create(k, loc, rest, counts[d]);
      if (d > 0)
        rest = arith::DivUIOp::create(k, loc, rest, counts[d]);
      Value iv = arith::AddIOp::create(
          k, loc, loop.getLowerBound()[d],
          arith::MulIOp::create(k, loc, idx, loop.getStep()[d]));
      map.map(loop.getInductionVars()[d], iv);
    }
    for (Operation &inner : loop.getBody()->without_terminator())
      k.clone(inner, map);
    loop.erase();
    return success();
  }

  /// One thread for a run of ops that touch memory.
  LogicalResult mapSequential(ArrayRef<Operation *> ops) {
    llvm::SmallPtrSet<Operation *, 8> inGroup(ops.begin(), ops.end());
    Block *body = ops.front()->getBlock();
    for (Operation *op : ops)
      for (Operation *user : op->getUsers())
        if (!inGroup.contains(body->findAncestorOpInBlock(*user)))
          return op->emitError("a value computed on the GPU ('")
                 << op->getName() << "') is needed by the host";
    OpBuilder b(ops.front());
    gpu::LaunchOp op = launch(b, ops.front()->getLoc());
    Operation *end = op.getBody().front().getTerminator();
    for (Operation *inner : ops)
      inner->moveBefore(end);
    return success();
  }

  /// A top-level load whose value only loops use (Trilu's k, CumSum's
  /// axis, a zero point read from an input) is loaded by each of those
  /// loops instead, on the device, together with the arithmetic on it
  /// there: the host never reads a buffer. Only where nothing between the
  /// load and the loop may write the buffer it reads.
  void sinkScalarLoads(Block &body) {
    SmallVector<memref::LoadOp> loads;
    for (Operation &op : body)
      if (auto load = dyn_cast<memref::LoadOp>(op))
        loads.push_back(load);
    for (memref::LoadOp load : loads) {
      // The load and the pure ops on it that only loops (or each other)
      // use; the chain's other operands must be defined before the load's
      // first user, as they are at the top level above it.
      SmallVector<Operation *> chain{load};
      SetVector<Operation *> users;
      bool ok = true;
      for (size_t i = 0; i < chain.size() && ok; ++i)
        for (Operation *user : chain[i]->getUsers()) {
          Operation *top = body.findAncestorOpInBlock(*user);
          if (top != user && top->getNumRegions() > 0)
            users.insert(top); // used inside a loop
          else if (top == user && isPureCompute(user) &&
                   !llvm::is_contained(chain, user))
            chain.push_back(user);
          else if (!llvm::is_contained(chain, user))
            ok = false;
        }
      if (!ok || users.empty())
        continue;
      // Nothing from the load to the last loop using it, that loop
      // included, may write the buffer.
      Value buffer = load.getMemRef();
      Operation *last = users.front();
      for (Operation *user : users)
        if (last->isBeforeInBlock(user))
          last = user;
      for (Operation *op = load->getNextNode(); op && ok;
           op = op == last ? nullptr : op->getNextNode())
        if (!llvm::is_contained(chain, op) && kiln::mayAccess(op, buffer, /*writesOnly=*/true))
          ok = false;
      if (!ok)
        continue;
      llvm::sort(chain, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      for (Operation *loop : users) {
        OpBuilder b = OpBuilder::atBlockBegin(&loop->getRegion(0).front());
        IRMapping map;
        for (Operation *op : chain)
          b.clone(*op, map);
        for (Operation *op : chain)
          for (auto [from, to] :
               llvm::zip(op->getResults(), map.lookup(op)->getResults()))
            from.replaceUsesWithIf(to, [&](OpOperand &use) {
              return loop->isAncestor(use.getOwner());
            });
      }
      for (Operation *op : llvm::reverse(chain))
        if (op->use_empty())
          op->erase();
    }
  }

  /// Moves each host op (views, address arithmetic) up to just after the
  /// last op of the block it uses.
  void gatherHostOps(Block &body) {
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (!isHostOp(&op) || op.hasTrait<OpTrait::IsTerminator>())
        continue;
      Operation *after = nullptr;
      for (Value v : op.getOperands())
        if (Operation *def = v.getDefiningOp())
          if (def->getBlock() == &body && (!after || after->isBeforeInBlock(def)))
            after = def;
      if (after)
        op.moveAfter(after);
      else
        op.moveBefore(&body.front());
    }
  }

  /// The run's status, which main_graph returns, is in the device arena
  /// (kiln-plan-arena's status-in-arena): the host does not read it. It
  /// returns 0, and the function says where the status is, for the runtime
  /// to read after the run.
  void returnStatusFromDevice(func::FuncOp func) {
    func.walk([&](func::ReturnOp ret) {
      for (OpOperand &operand : ret->getOpOperands()) {
        auto load = operand.get().getDefiningOp<memref::LoadOp>();
        auto view =
            load ? load.getMemRef().getDefiningOp<memref::ViewOp>() : nullptr;
        std::optional<int64_t> offset =
            view ? getConstantIntValue(view.getByteShift()) : std::nullopt;
        if (!offset || !view->hasAttr(kiln::kStatusAttr))
          continue;
        OpBuilder b(ret);
        operand.set(arith::ConstantOp::create(
            b, ret.getLoc(), b.getZeroAttr(operand.get().getType())));
        if (load->use_empty())
          load->erase();
        func->setAttr(kiln::kGpuStatusOffsetAttr, b.getI64IntegerAttr(*offset));
      }
    });
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitError("a function body of several blocks cannot be mapped to "
                     "the GPU");
      return signalPassFailure();
    }
    // Refusals first, with the node that needs them.
    WalkResult refused = func.walk([&](Operation *op) {
      if (isa<func::CallOp, LLVM::CallOp>(op)) {
        op->emitError("calls into the Kiln runtime (run-time sequences, "
                      "optionals) are not available on the GPU");
        return WalkResult::interrupt();
      }
      if (isa<memref::AllocaOp, memref::AllocOp>(op) &&
          op->getParentOp() == func) {
        op->emitError("a buffer outside the arena cannot be used on the GPU "
                      "(its size is only known at run time)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (refused.wasInterrupted())
      return signalPassFailure();

    returnStatusFromDevice(func);
    sinkScalarLoads(func.getBody().front());
    // Views between loop nests would keep them apart: each moves up to
    // just after what it uses. Neighbouring nests over the same iterations
    // (a fill and the reduction into it) then become one: one launch.
    gatherHostOps(func.getBody().front());
    scf::naivelyFuseParallelOps(func.getBody(), kiln::mayOverlap);
    SmallVector<Operation *> top;
    for (Operation &op : func.getBody().front())
      top.push_back(&op);
    SmallVector<Operation *> run;
    auto flush = [&]() -> LogicalResult {
      if (run.empty())
        return success();
      LogicalResult r = mapSequential(run);
      run.clear();
      return r;
    };
    for (Operation *op : top) {
      if (op->hasTrait<OpTrait::IsTerminator>()) {
        if (failed(flush()))
          return signalPassFailure();
        continue;
      }
      // A kernel of its own already (kiln-gpu-tile-contractions): named
      // in order with the others.
      if (auto given = dyn_cast<gpu::LaunchOp>(op)) {
        if (failed(flush()))
          return signalPassFailure();
        given.setModuleAttr(
            FlatSymbolRefAttr::get(given.getContext(), kKernelModule));
        given.setFunctionAttr(kernelName(given.getContext(), given.getLoc()));
        continue;
      }
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        if (failed(flush()) || failed(mapParallel(loop)))
          return signalPassFailure();
        continue;
      }
      if (isHostOp(op)) {
        bool needed = llvm::any_of(op->getOperands(), [&](Value v) {
          return llvm::is_contained(run, v.getDefiningOp());
        });
        // Arithmetic on values the run computes is computed there too
        // (a 0-d linalg op: load, compute, store).
        if (needed && isPureCompute(op)) {
          run.push_back(op);
          continue;
        }
        // Any other host op between device ops ends the run only if one of
        // them needs it; otherwise it moves up out of the way.
        if (needed && failed(flush()))
          return signalPassFailure();
        if (!needed && !run.empty())
          op->moveBefore(run.front());
        continue;
      }
      run.push_back(op);
    }
  }
};

} // namespace
