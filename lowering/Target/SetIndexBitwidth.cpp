//===- SetIndexBitwidth.cpp - the target's index width in the data layout -===//
//
// The conversions to the LLVM dialect read the width of `index` from the
// module's data layout (`dlti.dl_spec`); this pass writes it there once, so
// that every one of them agrees.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_SETINDEXBITWIDTH
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct SetIndexBitwidthPass
    : public kiln::impl::SetIndexBitwidthBase<SetIndexBitwidthPass> {
  using SetIndexBitwidthBase::SetIndexBitwidthBase;

  void runOnOperation() override {
    if (bitwidth != 32 && bitwidth != 64) {
      getOperation().emitError("index bitwidth must be 32 or 64, got ")
          << bitwidth;
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    ModuleOp module = getOperation();
    SmallVector<DataLayoutEntryInterface> entries;
    if (auto old = module->getAttrOfType<DataLayoutSpecAttr>(
            DLTIDialect::kDataLayoutAttrName))
      for (DataLayoutEntryInterface e : old.getEntries())
        if (!isa_and_nonnull<IndexType>(
                llvm::dyn_cast_if_present<Type>(e.getKey())))
          entries.push_back(e);
    entries.push_back(DataLayoutEntryAttr::get(
        IndexType::get(ctx), IntegerAttr::get(IntegerType::get(ctx, 64),
                                              bitwidth)));
    module->setAttr(DLTIDialect::kDataLayoutAttrName,
                    DataLayoutSpecAttr::get(ctx, entries));
  }
};

} // namespace
