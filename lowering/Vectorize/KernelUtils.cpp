//===- KernelUtils.cpp - small builders shared by the CPU kernels ---------===//
#include "lowering/Vectorize/KernelUtils.h"
#include "lowering/Vectorize/Epilogue.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
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
  SmallVector<Value> index;
  for (AffineExpr e : src.map.getResults()) {
    if (isa<AffineConstantExpr>(e))
      index.push_back(cidx(b, loc, 0));
    else
      index.push_back(cast<AffineDimExpr>(e).getPosition() == 0 ? n : c);
  }
  return vector::BroadcastOp::create(
      b, loc, vecType, tensor::ExtractOp::create(b, loc, src.value, index));
}
