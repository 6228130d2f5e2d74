//===- TileContractions.cpp - contractions as shared-memory tiled kernels -===//
//
// A contraction on the GPU as one thread per output element reads each
// input element from global memory once per output it contributes to:
// a 1x1 convolution of 256 channels reads every input element 256 times.
// This pass gives each linalg contraction on memrefs (matmuls, and the
// convolutions, which the GPU lowering already turned into matmuls of an
// im2col buffer) its own kernel, in the classic GEMM shape:
//
//   C[batch, m, n] (+)= sum over k of g(A[batch, m, k], B[batch, n, k])
//
// where m, n and k each stand for a group of loop dimensions (the parallel
// dims only A uses, those only B uses, and the reductions), flattened. One
// block of 16 x 16 threads computes a 64 x 64 tile of C, each thread a
// 4 x 4 register tile (rows ty + 16 i, columns tx + 16 j: consecutive
// threads, consecutive columns):
//
//   gpu.launch blocks(ceil(N/64), ceil(M/64), batch) threads(16, 16, 1)
//       workgroup(As : memref<16x64xA>, Bs : memref<16x64xB>) {
//     acc[4][4] = C's elements, or what the fill or broadcast before wrote
//     scf.for k0 = 0 to K step 16 {
//       As[kk][mm] = A(m0 + mm, k0 + kk)   (4 elements each, coalesced)
//       Bs[kk][nn] = B(n0 + nn, k0 + kk)
//       gpu.barrier
//       scf.for kk = 0 to 16 { acc[i][j] += g(As[kk][ty+16i], Bs[kk][tx+16j]) }
//       gpu.barrier
//     }
//     C(m, n) = acc[i][j]      (rows and columns in range)
//   }
//
// Each element of A and B is read from global memory once per block
// instead of once per thread. The payload is the op's own: `g` is its
// region but for the accumulation (an addf or addi of the output), so
// MatMulInteger's zero points and casts come along. A fill of the output
// just before the contraction, or a broadcast into it (a convolution's
// bias), becomes the accumulators' initial value: one kernel less.
//
// Only static shapes, an output indexed by every parallel dim once, two
// inputs that do not share memory with the output, at least 16 rows and
// 16 columns (not matrix-vector products, not row sums), and a grid within
// CUDA's limits; other contractions stay loops (kiln-map-to-gpu).
//
//===----------------------------------------------------------------------===//
#include "lowering/Gpu/Buffers.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_GPUTILECONTRACTIONS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

// The block: 16 x 16 threads, each with a 4 x 4 register tile (64 x 64 per
// block), or 2 x 2 (32 x 32) where 64 x 64 tiles would make fewer than
// kMinBlocks blocks (a GPU has up to 132 SMs to fill); 16 steps of k per
// shared-memory tile.
constexpr int64_t kThreads = 16;
constexpr int64_t kTileK = 16;
constexpr int64_t kMaxGridYZ = 65535;
constexpr int64_t kMinExtent = 16;
constexpr int64_t kMinBlocks = 128;

/// A contraction, its loop dims in groups (each outer to inner) and the
/// parts of its payload.
struct Contraction {
  linalg::LinalgOp op;
  SmallVector<int64_t> ranges;
  SmallVector<unsigned> batch, m, n, k;
  unsigned a = 0, b = 1; // the inputs that give the rows and the columns
  Operation *combine;    // the accumulation: out + g(a, b)
  int64_t regs = 4;      // each thread's rows and columns
  /// Per input: the copy that gathers it (an im2col), whose source the
  /// kernel reads instead; null if none.
  linalg::GenericOp gather[2];

  int64_t tile() const { return kThreads * regs; }
};

int64_t extent(const Contraction &c, ArrayRef<unsigned> dims) {
  int64_t size = 1;
  for (unsigned d : dims)
    size *= c.ranges[d];
  return size;
}

/// The copy that writes input `i` of `op` just for it, if there is one: a
/// linalg.generic earlier in the block whose payload passes its one input
/// through to its output (`i`'s whole buffer, identity map), the buffer used
/// by no one else, and nothing in between writing where the copy reads: a
/// transpose before a MatMul (attention's K^T), a gather of windows. The
/// kernel reads the elements from the source itself, one kernel less.
linalg::GenericOp gatherInto(linalg::LinalgOp op, unsigned i) {
  Value buffer = op.getDpsInputs()[i];
  linalg::GenericOp copy;
  for (Operation *user : buffer.getUsers()) {
    if (user == op.getOperation())
      continue;
    auto g = dyn_cast<linalg::GenericOp>(user);
    if (copy || !g || g->getBlock() != op->getBlock() ||
        !g->isBeforeInBlock(op))
      return nullptr;
    copy = g;
  }
  if (!copy || copy.getNumDpsInputs() != 1 || copy.getNumDpsInits() != 1 ||
      copy.getDpsInits()[0] != buffer ||
      copy.getNumLoops() != copy.getNumParallelLoops() ||
      !copy.getIndexingMapsArray()[1].isIdentity() ||
      !copy.getBody()->getOps<linalg::IndexOp>().empty())
    return nullptr;
  auto yield = cast<linalg::YieldOp>(copy.getBody()->getTerminator());
  if (yield.getOperand(0) != copy.getBody()->getArgument(0))
    return nullptr;
  Value source = copy.getDpsInputs()[0];
  if (!isa<MemRefType>(source.getType()) || kiln::mayOverlap(source, buffer))
    return nullptr;
  for (Operation *between = copy->getNextNode(); between != op.getOperation();
       between = between->getNextNode()) {
    if (isMemoryEffectFree(between))
      continue;
    auto effects = dyn_cast<MemoryEffectOpInterface>(between);
    if (!effects && !between->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return nullptr;
    bool touches = false;
    between->walk([&](Operation *inner) {
      auto e = dyn_cast<MemoryEffectOpInterface>(inner);
      if (!e)
        return;
      SmallVector<MemoryEffects::EffectInstance> list;
      e.getEffects(list);
      for (auto &effect : list) {
        Value v = effect.getValue();
        bool write = isa<MemoryEffects::Write>(effect.getEffect());
        if (!v ? write
               : (write && kiln::mayOverlap(v, source)) ||
                     kiln::mayOverlap(v, buffer))
          touches = true;
      }
    });
    if (touches)
      return nullptr;
  }
  return copy;
}

std::optional<Contraction> match(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0)
    return std::nullopt;
  Contraction c;
  c.op = op;
  c.ranges = op.getStaticLoopRanges();
  if (llvm::any_of(c.ranges, ShapedType::isDynamic))
    return std::nullopt;
  for (OpOperand *in : op.getDpsInputOperands())
    if (!isa<MemRefType>(in->get().getType()) ||
        kiln::mayOverlap(in->get(), op.getDpsInits()[0]))
      return std::nullopt;

  // The output: every parallel dim once, no reduction dim.
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  AffineMap out = maps[2];
  if (!out.isProjectedPermutation() ||
      out.getNumResults() != op.getNumParallelLoops())
    return std::nullopt;
  for (AffineExpr e : out.getResults())
    if (iterators[cast<AffineDimExpr>(e).getPosition()] !=
        utils::IteratorType::parallel)
      return std::nullopt;

  // The payload: yield(out + g(a, b)), out used by the sum alone, and no
  // linalg.index.
  Block *body = op.getBlock();
  Value outArg = body->getArgument(2);
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *sum = yield.getOperand(0).getDefiningOp();
  if (!sum || sum->getBlock() != body ||
      !isa<arith::AddFOp, arith::AddIOp>(sum) || !outArg.hasOneUse() ||
      !llvm::is_contained(sum->getOperands(), outArg))
    return std::nullopt;
  if (!body->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  c.combine = sum;

  for (unsigned d = 0; d < c.ranges.size(); ++d) {
    if (iterators[d] == utils::IteratorType::reduction) {
      c.k.push_back(d);
      continue;
    }
    bool inA = maps[0].isFunctionOfDim(d), inB = maps[1].isFunctionOfDim(d);
    if (inA && !inB)
      c.m.push_back(d);
    else if (inB && !inA)
      c.n.push_back(d);
    else
      c.batch.push_back(d);
  }
  // Columns are what consecutive threads write: the output's innermost
  // dim among them where it can be.
  unsigned last = cast<AffineDimExpr>(out.getResults().back()).getPosition();
  if (llvm::is_contained(c.m, last)) {
    std::swap(c.m, c.n);
    std::swap(c.a, c.b);
  }
  // Rows and columns enough for the tile to pay: a matrix-vector product
  // or a row sum is better off as one thread per output, each reading
  // along k, coalesced across threads.
  if (extent(c, c.m) < kMinExtent || extent(c, c.n) < kMinExtent)
    return std::nullopt;
  auto blocks = [&](int64_t tile) {
    return llvm::divideCeil(extent(c, c.m), tile) *
           llvm::divideCeil(extent(c, c.n), tile) * extent(c, c.batch);
  };
  if (blocks(c.tile()) < kMinBlocks)
    c.regs = 2;
  if (llvm::divideCeil(extent(c, c.m), c.tile()) > kMaxGridYZ ||
      extent(c, c.batch) > kMaxGridYZ ||
      llvm::divideCeil(extent(c, c.n), c.tile()) > INT32_MAX)
    return std::nullopt;
  for (unsigned i = 0; i < 2; ++i)
    c.gather[i] = gatherInto(op, i);
  return c;
}

/// What the output holds before the contraction, where a fill or a
/// broadcast (a convolution's bias) just before writes all of it: a scalar,
/// or an element of `source` at `map` of the output's indices. The sums
/// then start there, and that op goes.
struct Init {
  Value scalar;
  Value source;
  AffineMap map;
};

/// The fill or broadcast of `init` just before `op` (only ops without
/// effects between), erased; an empty Init if there is none.
Init takeInit(Operation *op, Value init) {
  Operation *prev = op->getPrevNode();
  while (prev && prev->getNumRegions() == 0 && isMemoryEffectFree(prev))
    prev = prev->getPrevNode();
  auto fill = dyn_cast_or_null<linalg::LinalgOp>(prev);
  if (!fill || fill.getNumDpsInits() != 1 || fill.getDpsInits()[0] != init ||
      fill.getNumReductionLoops() != 0 ||
      !fill.getIndexingMapsArray().back().isPermutation())
    return {};
  Init result;
  if (auto named = dyn_cast<linalg::FillOp>(prev)) {
    result.scalar = named.getInputs()[0];
  } else if (fill.getNumDpsInputs() == 0) {
    Value yielded = fill.getBlock()->getTerminator()->getOperand(0);
    if (yielded.getParentBlock() == fill.getBlock())
      return {}; // computed per element
    result.scalar = yielded;
  } else if (fill.getNumDpsInputs() == 1 &&
             fill.getIndexingMapsArray().back().isIdentity() &&
             fill.getBlock()->getTerminator()->getOperand(0) ==
                 fill.getBlock()->getArgument(0) &&
             isa<MemRefType>(fill.getDpsInputs()[0].getType()) &&
             !kiln::mayOverlap(fill.getDpsInputs()[0], init)) {
    result.source = fill.getDpsInputs()[0];
    result.map = fill.getIndexingMapsArray()[0];
  }
  if (result.scalar && (!result.scalar.getType().isIntOrFloat() ||
                        (result.scalar.getDefiningOp() &&
                         !result.scalar.getDefiningOp()->isBeforeInBlock(op))))
    return {};
  if (!result.scalar && !result.source)
    return {};
  prev->erase();
  return result;
}

struct Builder {
  OpBuilder &b;
  Location loc;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) {
    return b.createOrFold<arith::AddIOp>(loc, x, y);
  }
  Value mul(Value x, int64_t y) {
    return b.createOrFold<arith::MulIOp>(loc, x, index(y));
  }
  Value less(Value x, int64_t bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x,
                                 index(bound));
  }
  Value both(Value x, Value y) {
    if (!x)
      return y;
    return y ? arith::AndIOp::create(b, loc, x, y) : x;
  }
  Value zero(Type t) {
    return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
  }
  /// `flat`'s indices in `dims` (the last fastest), into `values`.
  void delinearize(const Contraction &c, Value flat, ArrayRef<unsigned> dims,
                   SmallVectorImpl<Value> &values) {
    SmallVector<unsigned> used; // dims of one iteration are 0
    for (unsigned d : dims) {
      if (c.ranges[d] == 1)
        values[d] = index(0);
      else
        used.push_back(d);
    }
    dims = used;
    for (int64_t i = (int64_t)dims.size() - 1; i >= 0; --i) {
      int64_t r = c.ranges[dims[i]];
      if (i == 0) {
        values[dims[i]] = flat;
        break;
      }
      values[dims[i]] = b.createOrFold<arith::RemUIOp>(loc, flat, index(r));
      flat = b.createOrFold<arith::DivUIOp>(loc, flat, index(r));
    }
  }
  /// The indices of an operand at the loop dims' `values`.
  SmallVector<Value> indices(AffineMap map, ArrayRef<Value> values) {
    SmallVector<Value> result;
    for (AffineExpr e : map.getResults()) {
      if (auto d = dyn_cast<AffineDimExpr>(e))
        result.push_back(values[d.getPosition()]);
      else if (auto k = dyn_cast<AffineConstantExpr>(e))
        result.push_back(index(k.getValue()));
      else
        result.push_back(affine::AffineApplyOp::create(
            b, loc, AffineMap::get(map.getNumDims(), 0, e), values));
    }
    return result;
  }
};

struct GpuTileContractionsPass
    : public kiln::impl::GpuTileContractionsBase<GpuTileContractionsPass> {
  using GpuTileContractionsBase::GpuTileContractionsBase;

  /// Whether the operand's innermost index follows a reduction dim: then
  /// consecutive threads load consecutive k.
  static bool kFastest(const Contraction &c, AffineMap map) {
    if (map.getNumResults() == 0)
      return false; // a scalar
    AffineExpr last = map.getResults().back();
    return llvm::any_of(c.k,
                        [&](unsigned d) { return last.isFunctionOfDim(d); });
  }

  /// Threads of the block load one tile of an operand into `tile`
  /// ([kk][row]): rows `rows` (of `size` in all) from `base`, and k from
  /// `k0`.
  void loadTile(Builder &g, const Contraction &c, unsigned operand, Value tile,
                ArrayRef<unsigned> rows, Value base, Value k0, Value thread,
                SmallVector<Value> dims) {
    OpBuilder &b = g.b;
    linalg::LinalgOp op = c.op;
    Value source = op.getDpsInputs()[operand];
    AffineMap map = op.getIndexingMapsArray()[operand];
    linalg::GenericOp gather = c.gather[operand];
    bool byK = kFastest(c, map);
    int64_t size = extent(c, rows), depth = extent(c, c.k);
    int64_t perThread = c.tile() * kTileK / (kThreads * kThreads);
    for (int64_t r = 0; r < perThread; ++r) {
      Value e = g.add(thread, g.index(r * kThreads * kThreads));
      int64_t fast = byK ? kTileK : c.tile();
      Value f = b.createOrFold<arith::RemUIOp>(g.loc, e, g.index(fast));
      Value s = b.createOrFold<arith::DivUIOp>(g.loc, e, g.index(fast));
      Value kk = byK ? f : s, rr = byK ? s : f;
      Value row = g.add(base, rr), k = g.add(k0, kk);
      Value inRange;
      if (size % c.tile() != 0)
        inRange = g.both(inRange, g.less(row, size));
      if (depth % kTileK != 0)
        inRange = g.both(inRange, g.less(k, depth));
      OpBuilder::InsertionGuard guard(b);
      if (inRange) {
        auto check = scf::IfOp::create(b, g.loc, inRange, false);
        b.setInsertionPoint(check.thenBlock()->getTerminator());
      }
      g.delinearize(c, row, rows, dims);
      g.delinearize(c, k, c.k, dims);
      SmallVector<Value> at = g.indices(map, dims);
      if (gather) // the gathered element, from where the copy reads it
        at = g.indices(gather.getIndexingMapsArray()[0], at);
      Value v = memref::LoadOp::create(
          b, g.loc, gather ? gather.getDpsInputs()[0] : source, at);
      memref::StoreOp::create(b, g.loc, v, tile, ValueRange{kk, rr});
    }
  }

  void tile(Contraction &c, int &count) {
    linalg::LinalgOp op = c.op;
    Location loc = op.getLoc();
    Value init = op.getDpsInits()[0];
    Type accType = getElementTypeOrSelf(init.getType());
    OpBuilder b(op);
    Builder g{b, loc};
    Init start = takeInit(op, init);

    int64_t rowsM = extent(c, c.m), colsN = extent(c, c.n);
    int64_t depth = extent(c, c.k), batches = extent(c, c.batch);
    Value one = g.index(1);
    auto launch = gpu::LaunchOp::create(
        b, loc, g.index(llvm::divideCeil(colsN, c.tile())),
        g.index(llvm::divideCeil(rowsM, c.tile())), g.index(batches),
        g.index(kThreads), g.index(kThreads), one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, /*workgroupAttributions=*/{},
        /*privateAttributions=*/{}, /*clusterSizeX=*/nullptr, nullptr, nullptr,
        FlatSymbolRefAttr::get(b.getContext(), "kiln_kernels"),
        FlatSymbolRefAttr::get(b.getContext(),
                               "tiled" + std::to_string(count++)));
    auto workgroup = gpu::AddressSpaceAttr::get(
        b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
    auto tileOf = [&](unsigned operand) {
      Type elem = getElementTypeOrSelf(op.getDpsInputs()[operand].getType());
      return launch.addWorkgroupAttribution(
          MemRefType::get({kTileK, c.tile()}, elem, MemRefLayoutAttrInterface(),
                          workgroup),
          loc);
    };
    Value tileA = tileOf(c.a), tileB = tileOf(c.b);

    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y;
    Value thread = g.add(g.mul(ty, kThreads), tx);
    Value m0 = g.mul(launch.getBlockIds().y, c.tile());
    Value n0 = g.mul(launch.getBlockIds().x, c.tile());
    SmallVector<Value> dims(c.ranges.size(), g.index(0));
    g.delinearize(c, launch.getBlockIds().z, c.batch, dims);

    // This thread's rows and columns of C, and whether each is in range.
    SmallVector<Value> rows, cols, rowOk, colOk;
    for (int64_t i = 0; i < c.regs; ++i) {
      rows.push_back(g.add(m0, g.add(ty, g.index(kThreads * i))));
      cols.push_back(g.add(n0, g.add(tx, g.index(kThreads * i))));
      rowOk.push_back(rowsM % c.tile() ? g.less(rows.back(), rowsM) : Value());
      colOk.push_back(colsN % c.tile() ? g.less(cols.back(), colsN) : Value());
    }
    AffineMap outMap = op.getIndexingMapsArray()[2];
    auto outIndices = [&](int64_t i, int64_t j) {
      SmallVector<Value> at(dims);
      g.delinearize(c, rows[i], c.m, at);
      g.delinearize(c, cols[j], c.n, at);
      return g.indices(outMap, at);
    };

    // The sums start at the fill's value, the broadcast's elements or C's
    // (0 out of range).
    auto startAt = [&](int64_t i, int64_t j) -> Value {
      SmallVector<Value> at = outIndices(i, j);
      if (!start.source)
        return memref::LoadOp::create(b, loc, init, at);
      return memref::LoadOp::create(b, loc, start.source,
                                    g.indices(start.map, at));
    };
    SmallVector<Value> accs;
    for (int64_t i = 0; i < c.regs; ++i)
      for (int64_t j = 0; j < c.regs; ++j) {
        if (start.scalar) {
          accs.push_back(start.scalar);
          continue;
        }
        Value ok = g.both(rowOk[i], colOk[j]);
        if (!ok) {
          accs.push_back(startAt(i, j));
          continue;
        }
        auto check = scf::IfOp::create(b, loc, TypeRange{accType}, ok, true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(check.thenBlock());
          scf::YieldOp::create(b, loc, ValueRange{startAt(i, j)});
          b.setInsertionPointToStart(check.elseBlock());
          scf::YieldOp::create(b, loc, ValueRange{g.zero(accType)});
        }
        accs.push_back(check.getResult(0));
      }

    // The k tiles.
    auto outer = scf::ForOp::create(b, loc, g.index(0), g.index(depth),
                                    g.index(kTileK), accs);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(outer.getBody());
      Value k0 = outer.getInductionVar();
      loadTile(g, c, c.a, tileA, c.m, m0, k0, thread, dims);
      loadTile(g, c, c.b, tileB, c.n, n0, k0, thread, dims);
      gpu::BarrierOp::create(b, loc);
      Value steps = g.index(kTileK);
      if (depth % kTileK != 0)
        steps = arith::MinUIOp::create(
            b, loc, steps, arith::SubIOp::create(b, loc, g.index(depth), k0));
      auto inner = scf::ForOp::create(b, loc, g.index(0), steps, g.index(1),
                                      outer.getRegionIterArgs());
      {
        OpBuilder::InsertionGuard guard2(b);
        b.setInsertionPointToStart(inner.getBody());
        Value kk = inner.getInductionVar();
        SmallVector<Value> as, bs;
        for (int64_t i = 0; i < c.regs; ++i) {
          as.push_back(memref::LoadOp::create(
              b, loc, tileA, ValueRange{kk, g.add(ty, g.index(kThreads * i))}));
          bs.push_back(memref::LoadOp::create(
              b, loc, tileB, ValueRange{kk, g.add(tx, g.index(kThreads * i))}));
        }
        Block *payload = op.getBlock();
        SmallVector<Value> next;
        for (int64_t i = 0; i < c.regs; ++i)
          for (int64_t j = 0; j < c.regs; ++j) {
            IRMapping map;
            map.map(payload->getArgument(c.a), as[i]);
            map.map(payload->getArgument(c.b), bs[j]);
            map.map(payload->getArgument(2),
                    inner.getRegionIterArgs()[i * c.regs + j]);
            for (Operation &inner : payload->without_terminator())
              b.clone(inner, map);
            next.push_back(map.lookup(c.combine->getResult(0)));
          }
        scf::YieldOp::create(b, loc, next);
      }
      gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, inner.getResults());
    }

    // C's elements in range.
    for (int64_t i = 0; i < c.regs; ++i)
      for (int64_t j = 0; j < c.regs; ++j) {
        OpBuilder::InsertionGuard guard(b);
        if (Value ok = g.both(rowOk[i], colOk[j])) {
          auto check = scf::IfOp::create(b, loc, ok, false);
          b.setInsertionPoint(check.thenBlock()->getTerminator());
        }
        memref::StoreOp::create(b, loc, outer.getResult(i * c.regs + j), init,
                                outIndices(i, j));
      }
    op->erase();
    for (linalg::GenericOp gather : c.gather)
      if (gather)
        gather->erase();
  }

  void runOnOperation() override {
    // Top-level ops only: a launch inside a loop (a recurrence's steps)
    // would be the host looping on device values.
    std::vector<Contraction> found;
    for (Operation &op : getOperation().getBody().getOps())
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
        if (auto c = match(linalgOp))
          found.push_back(*c);
    int count = 0;
    for (Contraction &c : found)
      tile(c, count);
  }
};

} // namespace
