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
#include "lowering/Memory/Fills.h"
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

/// Whether an op between a producer and its contraction may write
/// `sources` or touch `buffer` (ops in `skip`, the producer's own, aside).
bool interferes(Operation *from, Operation *to, ArrayRef<Value> sources,
                Value buffer, const llvm::SmallPtrSetImpl<Operation *> &skip) {
  for (Operation *op = from; op != to; op = op->getNextNode())
    if (!skip.contains(op) &&
        (kiln::mayAccess(op, buffer, /*writesOnly=*/false) ||
         llvm::any_of(sources, [&](Value source) {
           return kiln::mayAccess(op, source, /*writesOnly=*/true);
         })))
      return true;
  return false;
}

/// An elementwise op that writes an input of the contraction just for it,
/// which the kernel then computes itself as it loads: a transpose before a
/// MatMul (attention's K^T), or the interior of a padded buffer (a
/// convolution's input: the pad's border strips filled with one constant,
/// the interior written by a ReLU or a copy). One kernel, or a few, less
/// and no padded buffer to write and read.
struct Producer {
  /// A linalg.generic (identity output map, one output) or a memref.copy.
  Operation *writer = nullptr;
  Value root; // the buffer the contraction's input views
  /// The input as viewed by the contraction: an expand_shape of root (its
  /// reassociation), or root itself (empty).
  SmallVector<ReassociationIndices> expand;
  SmallVector<int64_t> offsets, sizes; // the writer's box in root
  Value pad;                           // outside the box; null if none
  SmallVector<Operation *> ops;        // to erase with the contraction:
  SmallVector<Operation *> views;      // writers and fills, then views

  bool padded() const { return static_cast<bool>(pad); }
  /// What the writer reads.
  SmallVector<Value> sources() const {
    if (auto copy = dyn_cast<memref::CopyOp>(writer))
      return {copy.getSource()};
    return cast<linalg::GenericOp>(writer).getDpsInputs();
  }
};

/// The Producer of input `i` of `op`, if there is one: every user of its
/// buffer is the contraction, fills of border strips (one constant), or
/// the writer of the rest, all earlier in the block, covering the buffer
/// exactly; the writer's inputs share no memory with the buffer or the
/// output, and nothing in between writes them.
std::optional<Producer> producerOf(linalg::LinalgOp op, unsigned i) {
  Producer p;
  Value input = op.getDpsInputs()[i];
  p.root = input;
  Operation *expand = nullptr;
  if (auto e = input.getDefiningOp<memref::ExpandShapeOp>()) {
    if (!e.getResult().hasOneUse())
      return std::nullopt;
    p.root = e.getSrc();
    p.expand = e.getReassociationIndices();
    expand = e;
  }
  auto rootType = dyn_cast<MemRefType>(p.root.getType());
  if (!rootType || !rootType.hasStaticShape() ||
      !rootType.getLayout().isIdentity())
    return std::nullopt;
  Block *block = op->getBlock();
  auto before = [&](Operation *o) {
    return o->getBlock() == block && o->isBeforeInBlock(op);
  };
  // The pieces: (box, writer or fill value).
  int64_t covered = 0;
  SmallVector<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>> boxes;
  // Whether `user` writes all of `buffer` (root's box at offsets, sizes),
  // with a constant or as the one writer.
  auto writerOf = [&](Operation *user, Value buffer, ArrayRef<int64_t> offsets,
                      ArrayRef<int64_t> sizes) -> bool {
    if (!before(user))
      return false;
    if (auto copy = dyn_cast<memref::CopyOp>(user)) {
      if (copy.getTarget() != buffer)
        return false;
    } else {
      auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
      if (!linalgOp || linalgOp.getNumDpsInits() != 1 ||
          linalgOp.getDpsInits()[0] != buffer ||
          llvm::is_contained(linalgOp.getDpsInputs(), buffer))
        return false;
    }
    // The writer's sources share no memory with the buffer or the output.
    auto apart = [&](ValueRange sources) {
      return llvm::all_of(sources, [&](Value in) {
        return isa<MemRefType>(in.getType()) && !kiln::mayOverlap(in, p.root) &&
               !kiln::mayOverlap(in, op.getDpsInits()[0]);
      });
    };
    auto take = [&](Operation *writer) {
      if (p.writer)
        return false;
      p.writer = writer;
      p.offsets.assign(offsets.begin(), offsets.end());
      p.sizes.assign(sizes.begin(), sizes.end());
      p.ops.push_back(writer);
      return true;
    };
    boxes.push_back(
        {SmallVector<int64_t>(offsets), SmallVector<int64_t>(sizes)});
    int64_t volume = 1;
    for (int64_t s : sizes)
      volume *= s;
    covered += volume;
    // The writer of the interior (or of all of it).
    Value value = kiln::filledValue(user);
    if (!value) {
      if (auto copy = dyn_cast<memref::CopyOp>(user))
        return apart(copy.getSource()) && take(copy);
      auto g = dyn_cast<linalg::GenericOp>(user);
      if (!g || g.getNumDpsInputs() == 0 || // computed per element
          g.getNumDpsInits() != 1 || g.getNumResults() != 0 ||
          g.getNumLoops() != g.getNumParallelLoops() ||
          !g.getIndexingMapsArray().back().isIdentity() ||
          !g.getBody()->getOps<linalg::IndexOp>().empty() ||
          !g.getRegionOutputArgs()[0].use_empty() || !apart(g.getDpsInputs()))
        return false;
      return take(g);
    }
    // A border strip: the same constant as the others.
    Attribute constant;
    if (!matchPattern(value, m_Constant(&constant)))
      return false;
    if (p.pad) {
      Attribute known;
      if (!matchPattern(p.pad, m_Constant(&known)) || known != constant)
        return false;
    } else {
      p.pad = value;
    }
    p.ops.push_back(user);
    return true;
  };
  SmallVector<int64_t> zeros(rootType.getRank(), 0);
  for (Operation *user : p.root.getUsers()) {
    if (user == expand || user == op.getOperation())
      continue;
    if (auto sub = dyn_cast<memref::SubViewOp>(user)) {
      if (ShapedType::isDynamicShape(sub.getStaticOffsets()) ||
          ShapedType::isDynamicShape(sub.getStaticSizes()) ||
          llvm::any_of(sub.getStaticStrides(),
                       [](int64_t s) { return s != 1; }) ||
          sub.getType().getRank() != rootType.getRank() ||
          !sub.getResult().hasOneUse() ||
          !writerOf(*sub.getResult().getUsers().begin(), sub.getResult(),
                    sub.getStaticOffsets(), sub.getStaticSizes()))
        return std::nullopt;
      p.views.push_back(sub);
      continue;
    }
    // The whole buffer written by one op.
    if (!writerOf(user, p.root, zeros, rootType.getShape()))
      return std::nullopt;
  }
  if (!p.writer || covered != rootType.getNumElements())
    return std::nullopt;
  // The boxes are disjoint, so they cover the buffer exactly.
  for (size_t a = 0; a < boxes.size(); ++a)
    for (size_t b = a + 1; b < boxes.size(); ++b) {
      bool apart = false;
      for (int64_t d = 0; d < rootType.getRank(); ++d)
        apart |= boxes[a].first[d] + boxes[a].second[d] <= boxes[b].first[d] ||
                 boxes[b].first[d] + boxes[b].second[d] <= boxes[a].first[d];
      if (!apart)
        return std::nullopt;
    }
  if (llvm::equal(p.sizes, rootType.getShape()))
    p.pad = nullptr; // the writer writes it all
  llvm::SmallPtrSet<Operation *, 8> own(p.ops.begin(), p.ops.end());
  if (interferes(p.writer->getNextNode(), op, p.sources(), p.root, own))
    return std::nullopt;
  if (expand)
    p.views.push_back(expand);
  return p;
}

/// A contraction, its loop dims in groups (each outer to inner) and the
/// parts of its payload.
struct Contraction {
  linalg::LinalgOp op;
  SmallVector<int64_t> ranges;
  SmallVector<unsigned> batch, m, n, k;
  unsigned a = 0, b = 1; // the inputs that give the rows and the columns
  Operation *combine;    // the accumulation: out + g(a, b)
  int64_t regs = 4;      // each thread's rows and columns
  /// Per input: the op that writes it just for the contraction, which the
  /// kernel computes itself instead.
  std::optional<Producer> producer[2];

  int64_t tile() const { return kThreads * regs; }
};

int64_t extent(const Contraction &c, ArrayRef<unsigned> dims) {
  int64_t size = 1;
  for (unsigned d : dims)
    size *= c.ranges[d];
  return size;
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
    c.producer[i] = producerOf(op, i);
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
  if (Value value = kiln::filledValue(prev)) {
    result.scalar = value;
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

  /// The element at `at` of a Producer's output: the pad value outside the
  /// writer's box, inside it the writer's payload on its inputs' elements.
  Value produce(Builder &g, const Producer &p, ArrayRef<Value> at) {
    OpBuilder &b = g.b;
    // The index in the root buffer: each group of the expand_shape
    // linearized.
    SmallVector<Value> rootAt;
    if (p.expand.empty()) {
      rootAt.assign(at.begin(), at.end());
    } else {
      auto type = cast<MemRefType>(
          p.views.back()->getResult(0).getType()); // the expand_shape
      for (const ReassociationIndices &group : p.expand) {
        Value v = at[group.front()];
        for (int64_t d : ArrayRef<int64_t>(group).drop_front())
          v = g.add(g.mul(v, type.getDimSize(d)), at[d]);
        rootAt.push_back(v);
      }
    }
    Type elem = getElementTypeOrSelf(p.root.getType());
    auto compute = [&](ArrayRef<Value> local) -> Value {
      if (auto copy = dyn_cast<memref::CopyOp>(p.writer))
        return memref::LoadOp::create(b, g.loc, copy.getSource(), local);
      auto w = cast<linalg::GenericOp>(p.writer);
      IRMapping map;
      for (OpOperand *in : w.getDpsInputOperands()) {
        SmallVector<Value> idx = g.indices(w.getMatchingIndexingMap(in), local);
        map.map(w.getMatchingBlockArgument(in),
                memref::LoadOp::create(b, g.loc, in->get(), idx).getResult());
      }
      for (Operation &o : w.getBody()->without_terminator())
        b.clone(o, map);
      return map.lookupOrDefault(w.getBody()->getTerminator()->getOperand(0));
    };
    if (!p.padded())
      return compute(rootAt);
    auto type = cast<MemRefType>(p.root.getType());
    Value inside;
    SmallVector<Value> local;
    for (auto [d, v] : llvm::enumerate(rootAt)) {
      int64_t lo = p.offsets[d], hi = lo + p.sizes[d];
      if (lo > 0)
        inside = g.both(inside, arith::CmpIOp::create(b, g.loc,
                                                      arith::CmpIPredicate::uge,
                                                      v, g.index(lo)));
      if (hi < type.getDimSize(d))
        inside = g.both(inside, g.less(v, hi));
      local.push_back(lo ? b.createOrFold<arith::SubIOp>(g.loc, v, g.index(lo))
                         : v);
    }
    if (!inside)
      return compute(local);
    auto check = scf::IfOp::create(b, g.loc, TypeRange{elem}, inside, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(check.thenBlock());
    scf::YieldOp::create(b, g.loc, ValueRange{compute(local)});
    b.setInsertionPointToStart(check.elseBlock());
    scf::YieldOp::create(b, g.loc, ValueRange{p.pad});
    return check.getResult(0);
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
    const std::optional<Producer> &producer = c.producer[operand];
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
      Value v = producer ? produce(g, *producer, at)
                         : memref::LoadOp::create(b, g.loc, source, at);
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
    for (std::optional<Producer> &producer : c.producer) {
      if (!producer)
        continue;
      for (auto *list : {&producer->ops, &producer->views})
        for (Operation *o : *list)
          o->erase();
      // Before the arena plan: a buffer no one uses any more takes no room.
      if (auto alloc = producer->root.getDefiningOp<memref::AllocOp>())
        if (alloc->use_empty())
          alloc->erase();
    }
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
