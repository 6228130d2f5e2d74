//===- TextOps.cpp - verifiers and shape rules of the text ops ------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace kiln::onnx;

SmallVector<SmallVector<int64_t>> TfIdfVectorizerOp::grams() {
  ArrayRef<int64_t> pool = *getPoolInt64s();
  ArrayRef<int64_t> starts = getNgramCounts();
  SmallVector<SmallVector<int64_t>> out;
  // Level i (n = i + 1) runs from starts[i] to the next level's start.
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t n = (int64_t)i + 1;
    int64_t end = i + 1 < starts.size() ? starts[i + 1] : (int64_t)pool.size();
    for (int64_t at = starts[i]; at + n <= end; at += n)
      out.emplace_back(pool.begin() + at, pool.begin() + at + n);
  }
  return out;
}

LogicalResult TfIdfVectorizerOp::verify() {
  if (!llvm::is_contained({"TF", "IDF", "TFIDF"}, getMode()))
    return emitOpError("unknown mode '") << getMode() << "'";
  if (getPoolStrings() || !getPoolInt64s())
    return emitOpError("supports integer pools (pool_int64s) only");
  if (!isa<IntegerType>(elemOf(getX())) || isBool(getX()))
    return emitOpError("X must hold integer tokens");
  if (auto x = ranked(getX()); x && x.getRank() != 1 && x.getRank() != 2)
    return emitOpError("X must be [N] or [B, N]");
  if (getMinGramLength() < 1 || getMaxGramLength() < getMinGramLength() ||
      getMaxSkipCount() < 0)
    return emitOpError("needs 1 <= min_gram_length <= max_gram_length and "
                       "max_skip_count >= 0");
  ArrayRef<int64_t> starts = getNgramCounts();
  int64_t poolSize = getPoolInt64s()->size();
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t end = i + 1 < starts.size() ? starts[i + 1] : poolSize;
    if (starts[i] < 0 || starts[i] > end || end > poolSize ||
        (end - starts[i]) % (int64_t)(i + 1) != 0)
      return emitOpError("ngram_counts must be ascending offsets into the "
                         "pool, each level a whole number of n-grams");
  }
  size_t numGrams = grams().size();
  if (getNgramIndexes().size() != numGrams)
    return emitOpError("ngram_indexes has ")
           << getNgramIndexes().size() << " entries for " << numGrams
           << " pool n-grams";
  if (getWeights() && getWeights()->size() != numGrams)
    return emitOpError("weights has ")
           << getWeights()->size() << " entries for " << numGrams
           << " pool n-grams";
  for (int64_t i : getNgramIndexes())
    if (i < 0)
      return emitOpError("ngram_indexes must not be negative");
  return success();
}

LogicalResult TfIdfVectorizerOp::inferShapes() {
  int64_t size = 0;
  for (int64_t i : getNgramIndexes())
    size = std::max(size, i + 1);
  Type f32 = Float32Type::get(getContext());
  auto x = ranked(getX());
  if (!x)
    return setUnranked(*this, f32);
  if (x.getRank() == 1)
    setResult(*this, {size}, f32);
  else
    setResult(*this, {x.getDimSize(0), size}, f32);
  return success();
}
