//===- ExpandDynamicReshapes.cpp - expand_shape with several dynamic dims -===//
//
// MLIR's expand-strided-metadata cannot lower a memref.expand_shape that
// splits one dim into several dynamic ones (a flat input read as
// [4, seq, seq]): it crashes building the strides. This pass rewrites such
// an expand_shape first into the reinterpret_cast it stands for: the
// source's base, offset and strides (extract_strided_metadata), each new dim
// strided by the product of the sizes after it in its group times the
// source dim's stride.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_EXPANDDYNAMICRESHAPES
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// Whether some group of `op` has more than one dynamic result dim.
bool splitsIntoDynamicDims(memref::ExpandShapeOp op) {
  MemRefType t = op.getResultType();
  for (const ReassociationIndices &group : op.getReassociationIndices())
    if (llvm::count_if(group, [&](int64_t d) { return t.isDynamicDim(d); }) >
        1)
      return true;
  return false;
}

struct ExpandDynamicReshapesPass
    : public kiln::impl::ExpandDynamicReshapesBase<ExpandDynamicReshapesPass> {
  void runOnOperation() override {
    SmallVector<memref::ExpandShapeOp> ops;
    getOperation().walk([&](memref::ExpandShapeOp op) {
      if (splitsIntoDynamicDims(op))
        ops.push_back(op);
    });
    for (memref::ExpandShapeOp op : ops) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      auto meta =
          memref::ExtractStridedMetadataOp::create(b, loc, op.getSrc());
      SmallVector<OpFoldResult> sizes = op.getMixedOutputShape();
      SmallVector<OpFoldResult> strides(sizes.size());
      for (auto [g, group] : llvm::enumerate(op.getReassociationIndices())) {
        Value stride = meta.getStrides()[g];
        for (int64_t d : llvm::reverse(group)) {
          strides[d] = stride;
          Value size = getValueOrCreateConstantIndexOp(b, loc, sizes[d]);
          stride = arith::MulIOp::create(b, loc, stride, size);
        }
      }
      // Where the result type fixes the offset or a stride, that value.
      auto [typeStrides, typeOffset] = op.getResultType().getStridesAndOffset();
      OpFoldResult offset = meta.getOffset();
      if (!ShapedType::isDynamic(typeOffset))
        offset = b.getIndexAttr(typeOffset);
      for (auto [i, s] : llvm::enumerate(typeStrides))
        if (!ShapedType::isDynamic(s))
          strides[i] = b.getIndexAttr(s);
      auto cast = memref::ReinterpretCastOp::create(
          b, loc, op.getResultType(), meta.getBaseBuffer(), offset, sizes,
          strides);
      op.getResult().replaceAllUsesWith(cast.getResult());
      op.erase();
    }
  }
};

} // namespace
