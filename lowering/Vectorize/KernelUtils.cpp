//===- KernelUtils.cpp - small builders shared by the CPU kernels ---------===//
#include "lowering/Vectorize/KernelUtils.h"
#include "lowering/Vectorize/Epilogue.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

Value kiln::cidx(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value kiln::affineOf(OpBuilder &b, Location loc, AffineExpr e,
                     ValueRange dims) {
  return affine::AffineApplyOp::create(
      b, loc, AffineMap::get(dims.size(), 0, e, b.getContext()), dims);
}

Value kiln::forRange(
    OpBuilder &b, Location loc, int64_t lo, int64_t hi, int64_t step,
    Value init, function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  if (hi <= lo)
    return init;
  return scf::ForOp::create(
             b, loc, cidx(b, loc, lo), cidx(b, loc, hi), cidx(b, loc, step),
             ValueRange{init},
             [&](OpBuilder &lb, Location l, Value iv, ValueRange args) {
               scf::YieldOp::create(lb, l, body(lb, l, iv, args[0]));
             })
      .getResult(0);
}

SmallVector<Value> kiln::forRanges(
    OpBuilder &b, Location loc, int64_t lo, int64_t hi, int64_t step,
    ValueRange inits,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
        body) {
  if (hi <= lo)
    return llvm::to_vector(inits);
  auto loop = scf::ForOp::create(
      b, loc, cidx(b, loc, lo), cidx(b, loc, hi), cidx(b, loc, step), inits,
      [&](OpBuilder &lb, Location l, Value iv, ValueRange args) {
        scf::YieldOp::create(lb, l, body(lb, l, iv, args));
      });
  return llvm::to_vector_of<Value>(loop.getResults());
}

SmallVector<Value> kiln::broadcastIndices(OpBuilder &b, Location loc,
                                          AffineMap map, ArrayRef<Value> dims) {
  SmallVector<Value> index;
  for (AffineExpr e : map.getResults())
    index.push_back(isa<AffineConstantExpr>(e)
                        ? cidx(b, loc, 0)
                        : dims[cast<AffineDimExpr>(e).getPosition()]);
  return index;
}

std::optional<kiln::PaddedSource>
kiln::paddedSource(Value x, function_ref<bool(Value)> isPadValue) {
  auto pad = x.getDefiningOp<tensor::PadOp>();
  if (!pad)
    return std::nullopt;
  Value pv = pad.getConstantPaddingValue();
  auto low = getConstantIntValues(pad.getMixedLowPad());
  auto high = getConstantIntValues(pad.getMixedHighPad());
  auto st = cast<RankedTensorType>(pad.getSource().getType());
  if (!pv || !isPadValue(pv) || !low || !high || !st.hasStaticShape() ||
      st.getRank() != 4 || (*low)[0] != 0 || (*low)[1] != 0 ||
      (*high)[0] != 0 || (*high)[1] != 0 ||
      llvm::any_of(*low, [](int64_t p) { return p < 0; }) ||
      llvm::any_of(*high, [](int64_t p) { return p < 0; }))
    return std::nullopt;
  return PaddedSource{pad.getSource(), (*low)[2], (*low)[3], st.getDimSize(2),
                      st.getDimSize(3)};
}

std::pair<Value, Value> kiln::clampRow(OpBuilder &b, Location loc, Value row,
                                       int64_t rows) {
  Value c0 = cidx(b, loc, 0), last = cidx(b, loc, rows - 1);
  Value valid = arith::AndIOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, row, c0),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, row, last));
  Value clamped = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, row, c0), last);
  return {clamped, valid};
}

kiln::ChannelInit kiln::classifyChannelInit(Value init) {
  ChannelInit src;
  src.value = init;
  if (Value splat = splatInitValue(init)) {
    src.kind = ChannelInit::Constant;
    src.value = splat;
    return src;
  }
  linalg::GenericOp generic = broadcastCopy(init);
  if (!generic)
    return src;
  AffineMap map = generic.getIndexingMapsArray()[0];
  for (AffineExpr e : map.getResults()) {
    if (auto c = dyn_cast<AffineConstantExpr>(e); c && c.getValue() == 0)
      continue;
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d || d.getPosition() > 1)
      return src;
  }
  src.kind = ChannelInit::PerChannel;
  src.value = generic.getDpsInputs()[0];
  src.map = map;
  return src;
}

Value kiln::channelStart(OpBuilder &b, Location loc, const ChannelInit &src,
                         Value n, Value c, VectorType vecType) {
  if (src.kind == ChannelInit::Constant)
    return vector::BroadcastOp::create(b, loc, vecType, src.value);
  if (src.kind != ChannelInit::PerChannel)
    return Value();
  SmallVector<Value> index = broadcastIndices(b, loc, src.map, {n, c});
  return vector::BroadcastOp::create(
      b, loc, vecType, tensor::ExtractOp::create(b, loc, src.value, index));
}
