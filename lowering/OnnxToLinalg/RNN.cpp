//===- RNN.cpp - LSTM, GRU and RNN to linalg and scf ----------------------===//
//
// Each direction is lowered on its own, time-major (layout 1 is transposed
// in and out):
//
//   XW = X * W^T + bias        one linalg.matmul over all seq x batch rows,
//                              with every bias that can be added up front;
//                              constant W and R are transposed at compile
//                              time
//   scf.for t = 0 .. seq       H (and C) carried as tensors, with Y and the
//                              gate buffers, so that every step bufferizes
//                              in place and allocates nothing
//     G  = H * R^T             a linalg.matmul into a carried buffer
//     H, C, Y[t] = gates(XW[t], G, ...)   one elementwise generic on column
//                              slices of XW[t] and G (GRU with the reset
//                              before the linear map: two products and two
//                              generics)
//
// A reverse direction runs forward over X reversed in time, and its Y is
// reversed back. With sequence_lens, entry b is reversed over its first
// lens[b] steps only, and the gate generic keeps H and C and writes zeros to
// Y once t >= lens[b]; a final state whose length is 0 is zero, as in ONNX
// Runtime. `clip` bounds every gate's input to its activation (not Ct's
// before h, as ONNX Runtime does too).
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"


using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

using utils::IteratorType;
using Act = kop::RecurrentActivation;

Value indexConst(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}

/// The ONNX recurrent activation `a` applied to the scalar `x`.
Value activate(OpBuilder &b, Location l, const Act &a, Value x) {
  auto c = [&](double v) { return cst(b, l, x, v); };
  auto geZero = [&]() {
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, x, c(0));
  };
  switch (a.kind) {
  case Act::Relu:
    return arith::MaximumFOp::create(b, l, x, c(0));
  case Act::Tanh:
    return math::TanhOp::create(b, l, x);
  case Act::Sigmoid: {
    Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
    return arith::DivFOp::create(b, l, c(1), addV(b, l, c(1), e));
  }
  case Act::Affine:
    return addV(b, l, mulV(b, l, c(a.alpha), x), c(a.beta));
  case Act::LeakyRelu:
    return arith::SelectOp::create(b, l, geZero(), x,
                                   mulV(b, l, c(a.alpha), x));
  case Act::ThresholdedRelu: {
    Value ge =
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, x, c(a.alpha));
    return arith::SelectOp::create(b, l, ge, x, c(0));
  }
  case Act::ScaledTanh:
    return mulV(b, l, c(a.alpha),
                math::TanhOp::create(b, l, mulV(b, l, c(a.beta), x)));
  case Act::HardSigmoid:
    return minV(
        b, l, c(1),
        maxV(b, l, c(0), addV(b, l, mulV(b, l, c(a.alpha), x), c(a.beta))));
  case Act::Elu: {
    Value em1 = subV(b, l, math::ExpOp::create(b, l, x), c(1));
    return arith::SelectOp::create(b, l, geZero(), x,
                                   mulV(b, l, c(a.alpha), em1));
  }
  case Act::Softsign:
    return divV(b, l, x, addV(b, l, c(1), math::AbsFOp::create(b, l, x)));
  case Act::Softplus: {
    // log(1 + exp(x)), finite for large x.
    Value big =
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, c(20));
    Value sp = math::Log1pOp::create(b, l, math::ExpOp::create(b, l, x));
    return arith::SelectOp::create(b, l, big, x, sp);
  }
  }
  llvm_unreachable("unknown activation");
}

using MultiBodyFn =
    llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// An all-parallel linalg.generic over the shape of `outs` (identity maps)
/// reading `ins` through `inMaps`; `body` gets the input then the output
/// scalars and returns one value per output.
SmallVector<Value> parallelGeneric(OpBuilder &b, Location loc, ValueRange ins,
                                   ArrayRef<AffineMap> inMaps, ValueRange outs,
                                   MultiBodyFn body) {
  int64_t rank = cast<RankedTensorType>(outs[0].getType()).getRank();
  SmallVector<AffineMap> maps(inMaps);
  maps.append(outs.size(), b.getMultiDimIdentityMap(rank));
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange(outs), ins, outs, maps,
      SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args));
      });
  return SmallVector<Value>(op.getResults());
}

using Sizes = ArrayRef<OpFoldResult>;

/// The ranked type of `sizes` (dynamic where a size is a value).
RankedTensorType typeOf(Sizes sizes, Type elem) {
  SmallVector<int64_t> shape;
  for (OpFoldResult s : sizes)
    shape.push_back(getConstantIntValue(s).value_or(ShapedType::kDynamic));
  return RankedTensorType::get(shape, elem);
}

/// The slice `sizes` at `offsets` (unit strides) of `v`, as a tensor of
/// `kept` (`sizes` without the unit dims the slice drops).
Value slice(OpBuilder &b, Location loc, Value v, Sizes offsets, Sizes sizes,
            Sizes kept) {
  Type elem = cast<RankedTensorType>(v.getType()).getElementType();
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, typeOf(kept, elem), v, offsets,
                                        sizes, strides);
}
/// `v` inserted into `into` as the slice `sizes` at `offsets`.
Value insert(OpBuilder &b, Location loc, Value v, Value into, Sizes offsets,
             Sizes sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::InsertSliceOp::create(b, loc, v, into, offsets, sizes,
                                       strides);
}

/// The static forms of both.
Value slice(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> offsets,
            ArrayRef<int64_t> sizes, ArrayRef<int64_t> kept) {
  MLIRContext *ctx = b.getContext();
  return slice(b, loc, v, getAsIndexOpFoldResult(ctx, offsets),
               getAsIndexOpFoldResult(ctx, sizes),
               getAsIndexOpFoldResult(ctx, kept));
}
Value insert(OpBuilder &b, Location loc, Value v, Value into,
             ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
  MLIRContext *ctx = b.getContext();
  return insert(b, loc, v, into, getAsIndexOpFoldResult(ctx, offsets),
                getAsIndexOpFoldResult(ctx, sizes));
}

Value transpose(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> perm) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(t.getDimSize(p));
  auto outType = RankedTensorType::get(shape, t.getElementType());
  Value init =
      emptyTensor(b, loc, outType, dimsOf(b, loc, outType, v, perm));
  return linalg::TransposeOp::create(b, loc, v, init, perm).getResult()[0];
}

/// a * b accumulated into `init`. In a loop, kiln-tile-contractions
/// vectorizes it when it needs no padding and leaves it as loops otherwise.
Value matmul(OpBuilder &b, Location loc, Value a, Value bm, Value init) {
  return linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                  ValueRange{a, bm}, ValueRange{init})
      .getResult(0);
}

/// all[d] (rows x cols of a directions x rows x cols tensor) transposed to
/// cols x rows. Constant weights are transposed now, at compile time, into a
/// new constant; anything else by a linalg.transpose.
Value transposedWeights(OpBuilder &b, Location loc, Value all, int64_t d,
                        int64_t rows, OpFoldResult cols) {
  auto type = cast<RankedTensorType>(all.getType());
  Type elem = type.getElementType();
  bool splat;
  std::optional<ArrayRef<char>> bytes = constantBytes(all, splat);
  size_t width = elem.getIntOrFloatBitWidth() / 8;
  if (bytes && type.hasStaticShape()) {
    int64_t c = type.getDimSize(2);
    if (splat && bytes->size() == width)
      return arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::getFromRawBuffer(
              RankedTensorType::get({c, rows}, elem), *bytes));
    if (bytes->size() == (size_t)type.getNumElements() * width)
      return transposedConstant(b, loc, bytes->data() + d * rows * c * width,
                                elem, rows, c);
  }
  Value w = slice(b, loc, all, {b.getIndexAttr(d), b.getIndexAttr(0),
                                b.getIndexAttr(0)},
                  {b.getIndexAttr(1), b.getIndexAttr(rows), cols},
                  {b.getIndexAttr(rows), cols});
  return transpose(b, loc, w, {1, 0});
}

/// The lowering of one LSTM, GRU or RNN op.
class RecurrentLowering {
public:
  RecurrentLowering(Operation *op, PatternRewriter &rewriter,
                    const kop::RecurrentParams &p)
      : op(op), b(rewriter), loc(op->getLoc()), p(p) {
    elem = cast<ShapedType>(op->getOperand(0).getType()).getElementType();
    if (auto c = op->getAttrOfType<FloatAttr>("clip"))
      clip = c.getValueAsDouble();
    if (auto gru = dyn_cast<kop::GRUOp>(op))
      linearBeforeReset = gru.getLinearBeforeReset() != 0;
    if (auto lstm = dyn_cast<kop::LSTMOp>(op))
      inputForget = lstm.getInputForget() != 0;
    H = p.hidden;
    GH = p.gates * H;
  }

  LogicalResult run();

private:
  Value operand(unsigned i) {
    Value v = i < op->getNumOperands() ? op->getOperand(i) : Value();
    return v && !isa<NoneType>(v.getType()) ? v : Value();
  }
  OpFoldResult ix(int64_t v) { return b.getIndexAttr(v); }
  RankedTensorType tensorType(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elem);
  }
  /// A tensor.empty of `sizes`.
  Value empty(OpBuilder &ib, Location l, Sizes sizes) {
    return tensor::EmptyOp::create(ib, l, sizes, elem);
  }
  Value zeros(Sizes sizes) {
    return linalg::FillOp::create(b, loc, scalarConstant(b, loc, elem, 0),
                                  empty(b, loc, sizes))
        .getResult(0);
  }
  /// x clipped to [-clip, clip] when the op has `clip`.
  Value clipped(OpBuilder &nb, Location l, Value x) {
    if (!clip)
      return x;
    return minV(nb, l, cst(nb, l, x, *clip),
                maxV(nb, l, cst(nb, l, x, -*clip), x));
  }
  /// Columns [gate * H, (gate + 1) * H) of a batch x (gates * H) tensor.
  Value gate(OpBuilder &nb, Location l, Value v, int64_t gate) {
    return slice(nb, l, v, {ix(0), ix(gate * H)}, {N, ix(H)}, {N, ix(H)});
  }
  AffineMap rowMap() {
    return AffineMap::get(2, 0, {getAffineDimExpr(0, b.getContext())},
                          b.getContext());
  }
  AffineMap colMap() {
    return AffineMap::get(2, 0, {getAffineDimExpr(1, b.getContext())},
                          b.getContext());
  }

  /// x[t', b, :] with t' = lens[b] - 1 - t for t < lens[b] (lens[b] = seq
  /// without sequence_lens) and t' = t beyond; its own inverse.
  Value reverseInTime(Value x);
  /// One direction: returns Y (seq x batch x hidden, or null when unused),
  /// the final H and (LSTM) the final C.
  void direction(int64_t d, bool reverse, Value xTimeMajor, Value &y, Value &hT,
                 Value &cT);
  /// The mask "t < lens[b]" of step t inside a gate body, or null.
  Value active(OpBuilder &nb, Location l, Value lenScalar, Value tI32) {
    return arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, tI32,
                                 lenScalar);
  }

  Operation *op;
  PatternRewriter &b;
  Location loc;
  const kop::RecurrentParams &p;
  Type elem;
  std::optional<double> clip;
  bool linearBeforeReset = false, inputForget = false;
  int64_t H, GH;
  OpFoldResult S, N, I; // seq, batch and input size (values where dynamic)
  Value lens;           // sequence_lens, or null
};

Value RecurrentLowering::reverseInTime(Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  MLIRContext *ctx = b.getContext();
  if (lens) {
    ins.push_back(lens);
    maps.push_back(AffineMap::get(3, 0, {getAffineDimExpr(1, ctx)}, ctx));
  }
  Value init = emptyTensor(b, loc, type, dimsOf(b, loc, type, x));
  Value seq = getValueOrCreateConstantIndexOp(b, loc, S);
  return parallelGeneric(
      b, loc, ins, maps, init,
      [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        Value t = linalg::IndexOp::create(nb, l, 0);
        Value bi = linalg::IndexOp::create(nb, l, 1);
        Value f = linalg::IndexOp::create(nb, l, 2);
        Value len = seq;
        if (lens) {
          // Clamped to [0, seq]: out-of-range lengths read no further.
          Value given =
              arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
          len = arith::MinSIOp::create(
              nb, l, len,
              arith::MaxSIOp::create(nb, l, given, indexConst(nb, l, 0)));
        }
        Value inside =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, t, len);
        Value mirrored = arith::SubIOp::create(
            nb, l, arith::SubIOp::create(nb, l, len, indexConst(nb, l, 1)), t);
        Value src = arith::SelectOp::create(nb, l, inside, mirrored, t);
        return {tensor::ExtractOp::create(nb, l, x, ValueRange{src, bi, f})};
      })[0];
}

void RecurrentLowering::direction(int64_t d, bool reverse, Value xTimeMajor,
                                  Value &yOut, Value &hT, Value &cT) {
  bool isLSTM = p.gates == 4, isGRU = p.gates == 3;
  int64_t perDir = isLSTM ? 3 : isGRU ? 2 : 1;
  ArrayRef<Act> acts = ArrayRef<Act>(p.activations).slice(d * perDir, perDir);
  bool needY = !op->getResult(0).use_empty();

  // Weights, transposed so that the contractions walk them row by row.
  Value wT = transposedWeights(b, loc, operand(1), d, GH, I);
  Value rT = transposedWeights(b, loc, operand(2), d, GH, ix(H));

  // The biases added to X * W^T: Wb + Rb, except GRU's Rbh with
  // linear_before_reset, which is added inside the reset product.
  Value bias, rbh;
  if (Value bAll = operand(3)) {
    Value wb = slice(b, loc, bAll, {d, 0}, {1, GH}, {GH});
    Value rb = slice(b, loc, bAll, {d, GH}, {1, GH}, {GH});
    bias = buildElementwise(b, loc, ValueRange{wb, rb}, tensorType({GH}),
                            [](OpBuilder &nb, Location l, ValueRange a) {
                              return addV(nb, l, a[0], a[1]);
                            });
    if (isGRU && linearBeforeReset) {
      Value wbh = slice(b, loc, bAll, {d, 2 * H}, {1, H}, {H});
      bias = insert(b, loc, wbh, bias, ArrayRef<int64_t>{2 * H},
                    ArrayRef<int64_t>{H});
      rbh = slice(b, loc, bAll, {d, GH + 2 * H}, {1, H}, {H});
    }
  }

  // XW = X * W^T + bias for every step at once.
  Value x = reverse ? reverseInTime(xTimeMajor) : xTimeMajor;
  SmallVector<ReassociationIndices> steps{{0, 1}, {2}};
  x = tensor::CollapseShapeOp::create(b, loc, x, steps);
  OpFoldResult rows = tensor::getMixedSize(b, loc, x, 0);
  Value xwInit = bias ? parallelGeneric(b, loc, bias, {colMap()},
                                        empty(b, loc, {rows, ix(GH)}),
                                        [](OpBuilder &, Location,
                                           ValueRange a) -> SmallVector<Value> {
                                          return {a[0]};
                                        })[0]
                      : zeros({rows, ix(GH)});
  Value xw = matmul(b, loc, x, wT, xwInit);
  SmallVector<OpFoldResult> xwSizes{S, N, ix(GH)};
  xw = tensor::ExpandShapeOp::create(b, loc, typeOf(xwSizes, elem), xw, steps,
                                     xwSizes);

  // Initial states. A given one is copied into a buffer of its own: the
  // loop updates the state in place, and the operand may be a graph input,
  // which the model must not write.
  auto state = [&](Value init) -> Value {
    if (!init)
      return zeros({N, ix(H)});
    Value s = p.batchFirst
                  ? slice(b, loc, init, {ix(0), ix(d), ix(0)},
                          {N, ix(1), ix(H)}, {N, ix(H)})
                  : slice(b, loc, init, {ix(d), ix(0), ix(0)},
                          {ix(1), N, ix(H)}, {N, ix(H)});
    return bufferization::AllocTensorOp::create(b, loc, cast<RankedTensorType>(s.getType()),
                                                ValueRange{}, s);
  };
  Value h0 = state(operand(5));
  Value c0 = isLSTM ? state(operand(6)) : Value();
  SmallVector<Value> peeps; // i, o, f
  if (Value pAll = isLSTM ? operand(7) : Value())
    for (int64_t k = 0; k < 3; ++k)
      peeps.push_back(slice(b, loc, pAll, {d, k * H}, {1, H}, {H}));
  bool peep = !peeps.empty();

  // Loop-carried: H, [C], [Y], then the scratch buffers of the step. The
  // buffers start as bufferization.alloc_tensor, not tensor.empty: empties
  // of one type fold into one value, and one-shot bufferization then hands
  // the same buffer to every iter_arg it starts.
  auto buffer = [&](Sizes sizes) -> Value {
    SmallVector<Value> dyn;
    for (OpFoldResult s : sizes)
      if (auto v = dyn_cast<Value>(s))
        dyn.push_back(v);
    return bufferization::AllocTensorOp::create(b, loc, typeOf(sizes, elem),
                                                dyn);
  };
  SmallVector<Value> inits{h0};
  if (isLSTM)
    inits.push_back(c0);
  if (needY)
    inits.push_back(buffer({S, N, ix(H)}));
  unsigned scratchBegin = inits.size();
  bool twoStep = isGRU && !linearBeforeReset;
  if (twoStep) {
    // H * Rz^T; H * Rr^T, then r (.) H over it; (r (.) H) * Rh^T. Each is
    // a chain of in-place ops on its own carried buffer.
    for (int i = 0; i < 3; ++i)
      inits.push_back(buffer({N, ix(H)}));
  } else {
    inits.push_back(buffer({N, ix(GH)}));
  }
  SmallVector<Value> rTgates; // Rz^T, Rr^T, Rh^T
  if (twoStep)
    for (int64_t k = 0; k < 3; ++k)
      rTgates.push_back(
          slice(b, loc, rT, {0, k * H}, {H, H}, {H, H}));

  MLIRContext *ctx = b.getContext();
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
  Value zero = scalarConstant(b, loc, elem, 0);
  auto loop = scf::ForOp::create(
      b, loc, indexConst(b, loc, 0), getValueOrCreateConstantIndexOp(b, loc, S),
      indexConst(b, loc, 1), inits,
      [&](OpBuilder &lb, Location l, Value t, ValueRange iter) {
        unsigned next = 0;
        Value h = iter[next++];
        Value c = isLSTM ? iter[next++] : Value();
        Value y = needY ? iter[next++] : Value();
        SmallVector<Value> scratch(iter.drop_front(scratchBegin));

        SmallVector<OpFoldResult> rowOffsets{t, lb.getIndexAttr(0),
                                             lb.getIndexAttr(0)};
        SmallVector<OpFoldResult> unit(3, lb.getIndexAttr(1));
        Value xwT = slice(lb, l, xw, rowOffsets, {ix(1), N, ix(GH)},
                          {N, ix(GH)});
        SmallVector<OpFoldResult> ySizes{ix(1), N, ix(H)};
        Value tI32 = arith::IndexCastOp::create(lb, l, lb.getI32Type(), t);
        auto fill = [&](Value buf) {
          return linalg::FillOp::create(lb, l, zero, buf).getResult(0);
        };

        // Common tail of every gate body: with sequence_lens, keep the
        // state and write zeros to Y past the entry's length.
        auto finish = [&](OpBuilder &nb, Location bl, Value len,
                          ArrayRef<Value> newState, ArrayRef<Value> oldState) {
          SmallVector<Value> out;
          Value on = lens ? active(nb, bl, len, tI32) : Value();
          for (auto [n, o] : llvm::zip(newState, oldState))
            out.push_back(on ? (Value)arith::SelectOp::create(nb, bl, on, n, o)
                             : n);
          if (needY)
            out.push_back(
                on ? (Value)arith::SelectOp::create(nb, bl, on, newState[0],
                                                    cst(nb, bl, newState[0], 0))
                   : newState[0]);
          return out;
        };

        // Each gate generic writes fresh tensors that are then
        // materialized in the loop-carried buffers (or inserted into Y):
        // eliminate-empty-tensors turns them into in-place writes. (Outs
        // whose values the body does not read would be replaced by
        // tensor.empty by the elementwise-fusion cleanups anyway.)
        auto fresh = [&]() {
          return empty(lb, l, {N, ix(H)});
        };
        auto into = [&](Value v, Value dest) -> Value {
          return bufferization::MaterializeInDestinationOp::create(lb, l, v,
                                                                   dest)
              .getResult();
        };
        SmallVector<Value> ins;
        SmallVector<AffineMap> maps;
        auto addIn = [&](Value v, AffineMap m) {
          ins.push_back(v);
          maps.push_back(m);
          return (int64_t)ins.size() - 1;
        };
        SmallVector<Value> outs{fresh()};
        if (isLSTM)
          outs.push_back(fresh());
        if (needY)
          outs.push_back(fresh());
        SmallVector<Value> results, newScratch(scratch);

        if (!twoStep) {
          Value g = matmul(lb, l, h, rT, fill(scratch[0]));
          newScratch[0] = g;
          for (int64_t k = 0; k < p.gates; ++k)
            addIn(gate(lb, l, xwT, k), id2);
          for (int64_t k = 0; k < p.gates; ++k)
            addIn(gate(lb, l, g, k), id2);
          int64_t peepAt = ins.size();
          for (Value pk : peeps)
            addIn(pk, colMap());
          int64_t rbhAt = rbh ? addIn(rbh, colMap()) : -1;
          int64_t lenAt = lens ? addIn(lens, rowMap()) : -1;
          int64_t hAt = addIn(h, id2);
          int64_t cAt = isLSTM ? addIn(c, id2) : -1;
          int64_t G = p.gates;
          results = parallelGeneric(
              lb, l, ins, maps, outs,
              [&](OpBuilder &nb, Location bl, ValueRange a) {
                auto pre = [&](int64_t k) {
                  return addV(nb, bl, a[k], a[G + k]);
                };
                auto f = [&](const Act &act, Value v) {
                  return activate(nb, bl, act, clipped(nb, bl, v));
                };
                Value len = lens ? a[lenAt] : Value();
                Value hOld = a[hAt];
                if (isLSTM) {
                  // Gates i, o, f, c; peepholes i, o, f.
                  Value cOld = a[cAt];
                  auto withPeep = [&](Value v, int64_t k, Value cell) {
                    return peep ? addV(nb, bl, v,
                                       mulV(nb, bl, a[peepAt + k], cell))
                                : v;
                  };
                  Value i = f(acts[0], withPeep(pre(0), 0, cOld));
                  Value fg = inputForget
                                 ? subV(nb, bl, cst(nb, bl, i, 1), i)
                                 : f(acts[0], withPeep(pre(2), 2, cOld));
                  Value cc = f(acts[1], pre(3));
                  Value cNew =
                      addV(nb, bl, mulV(nb, bl, fg, cOld), mulV(nb, bl, i, cc));
                  Value o = f(acts[0], withPeep(pre(1), 1, cNew));
                  Value hNew = mulV(nb, bl, o, activate(nb, bl, acts[2], cNew));
                  return finish(nb, bl, len, {hNew, cNew}, {hOld, cOld});
                }
                if (isGRU) {
                  // linear_before_reset: h = g(xh + r (.) (H*Rh^T + Rbh)).
                  Value z = f(acts[0], pre(0));
                  Value rr = f(acts[0], pre(1));
                  Value hr = a[G + 2];
                  if (rbh)
                    hr = addV(nb, bl, hr, a[rbhAt]);
                  Value hh =
                      f(acts[1], addV(nb, bl, a[2], mulV(nb, bl, rr, hr)));
                  Value hNew =
                      addV(nb, bl,
                           mulV(nb, bl, subV(nb, bl, cst(nb, bl, z, 1), z), hh),
                           mulV(nb, bl, z, hOld));
                  return finish(nb, bl, len, {hNew}, {hOld});
                }
                Value hNew = f(acts[0], pre(0));
                return finish(nb, bl, len, {hNew}, {hOld});
              });
        } else {
          // GRU, reset before the linear map: H * Rz^T and H * Rr^T, r (.) H
          // written over the latter (read as the generic's output operand,
          // so that it stays in place), then (r (.) H) * Rh^T.
          Value gz = matmul(lb, l, h, rTgates[0], fill(scratch[0]));
          Value gr = matmul(lb, l, h, rTgates[1], fill(scratch[1]));
          Value rh = parallelGeneric(
              lb, l, ValueRange{gate(lb, l, xwT, 1), h}, {id2, id2},
              ValueRange{gr},
              [&](OpBuilder &nb, Location bl,
                  ValueRange a) -> SmallVector<Value> {
                Value rr = activate(nb, bl, acts[0],
                                    clipped(nb, bl, addV(nb, bl, a[0], a[2])));
                return {mulV(nb, bl, rr, a[1])};
              })[0];
          Value gh = matmul(lb, l, rh, rTgates[2], fill(scratch[2]));
          newScratch = {gz, rh, gh};
          int64_t zxAt = addIn(gate(lb, l, xwT, 0), id2);
          int64_t zhAt = addIn(gz, id2);
          int64_t xhAt = addIn(gate(lb, l, xwT, 2), id2);
          int64_t ghAt = addIn(gh, id2);
          int64_t lenAt = lens ? addIn(lens, rowMap()) : -1;
          int64_t hAt = addIn(h, id2);
          results = parallelGeneric(
              lb, l, ins, maps, outs,
              [&](OpBuilder &nb, Location bl, ValueRange a) {
                Value hOld = a[hAt];
                Value z =
                    activate(nb, bl, acts[0],
                             clipped(nb, bl, addV(nb, bl, a[zxAt], a[zhAt])));
                Value hh =
                    activate(nb, bl, acts[1],
                             clipped(nb, bl, addV(nb, bl, a[xhAt], a[ghAt])));
                Value hNew =
                    addV(nb, bl,
                         mulV(nb, bl, subV(nb, bl, cst(nb, bl, z, 1), z), hh),
                         mulV(nb, bl, z, hOld));
                return finish(nb, bl, lens ? a[lenAt] : Value(), {hNew},
                              {hOld});
              });
        }

        SmallVector<Value> yields{into(results[0], h)};
        if (isLSTM)
          yields.push_back(into(results[1], c));
        if (needY)
          yields.push_back(tensor::InsertSliceOp::create(
              lb, l, results.back(), y, rowOffsets, ySizes, unit));
        yields.append(newScratch);
        scf::YieldOp::create(lb, l, yields);
      });

  unsigned next = 0;
  hT = loop.getResult(next++);
  cT = isLSTM ? loop.getResult(next++) : Value();
  yOut = needY ? loop.getResult(next++) : Value();
  if (yOut && reverse)
    yOut = reverseInTime(yOut);

  // A final state of an entry with no steps is zero.
  if (lens) {
    auto zeroEmpty = [&](Value s) {
      return parallelGeneric(
          b, loc, ValueRange{s, lens},
          {AffineMap::getMultiDimIdentityMap(2, ctx), rowMap()},
          empty(b, loc, {N, ix(H)}),
          [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
            Value pos = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sgt,
                                              a[1], cst(nb, l, a[1], 0));
            return {
                arith::SelectOp::create(nb, l, pos, a[0], cst(nb, l, a[0], 0))};
          })[0];
    };
    hT = zeroEmpty(hT);
    if (cT)
      cT = zeroEmpty(cT);
  }
}

LogicalResult RecurrentLowering::run() {
  lens = operand(4);
  Value x = operand(0);
  S = tensor::getMixedSize(b, loc, x, p.batchFirst ? 1 : 0);
  N = tensor::getMixedSize(b, loc, x, p.batchFirst ? 0 : 1);
  I = tensor::getMixedSize(b, loc, x, 2);
  Value xTimeMajor = p.batchFirst ? transpose(b, loc, x, {1, 0, 2}) : x;
  int64_t D = p.numDirections;

  OpFoldResult dirs = ix(D), hidden = ix(H);
  SmallVector<Value> results{
      p.batchFirst ? empty(b, loc, {N, S, dirs, hidden})
                   : empty(b, loc, {S, dirs, N, hidden})};
  for (size_t i = 1; i < op->getNumResults(); ++i)
    results.push_back(p.batchFirst ? empty(b, loc, {N, dirs, hidden})
                                   : empty(b, loc, {dirs, N, hidden}));
  for (int64_t d = 0; d < D; ++d) {
    Value y, hT, cT;
    direction(d, p.reverse || d == 1, xTimeMajor, y, hT, cT);
    if (y) {
      if (p.batchFirst)
        results[0] = insert(b, loc, transpose(b, loc, y, {1, 0, 2}), results[0],
                            {ix(0), ix(0), ix(d), ix(0)}, {N, S, ix(1), hidden});
      else
        results[0] = insert(b, loc, y, results[0], {ix(0), ix(d), ix(0), ix(0)},
                            {S, ix(1), N, hidden});
    }
    SmallVector<Value> finals{hT};
    if (cT)
      finals.push_back(cT);
    for (auto [i, s] : llvm::enumerate(finals)) {
      Value &res = results[i + 1];
      res = p.batchFirst ? insert(b, loc, s, res, {ix(0), ix(d), ix(0)},
                                  {N, ix(1), hidden})
                         : insert(b, loc, s, res, {ix(d), ix(0), ix(0)},
                                  {ix(1), N, hidden});
    }
  }
  b.replaceOp(op, results);
  return success();
}

template <typename OpTy> struct RecurrentPattern : OnnxPattern<OpTy> {
  using OnnxPattern<OpTy>::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(OpTy op, PatternRewriter &rewriter) const override {
    kop::RecurrentParams p;
    if (auto err = kop::resolveRecurrent(op, p))
      return rewriter.notifyMatchFailure(op, *err);
    if (ShapedType::isDynamic(p.hidden))
      return rewriter.notifyMatchFailure(
          op, "the hidden size must be known: give hidden_size or R of "
              "static shape");
    return RecurrentLowering(op, rewriter, p).run();
  }
};

} // namespace

void kiln::populateRNNPatterns(RewritePatternSet &patterns) {
  patterns.add<RecurrentPattern<kop::LSTMOp>, RecurrentPattern<kop::GRUOp>,
               RecurrentPattern<kop::RNNOp>>(patterns.getContext());
}
