//===- OnnxTextOps.td - text featurization ops -------------*- tablegen -*-===//
//
// Included from OnnxOps.td. Verifiers and shape rules are in TextOps.cpp,
// the lowerings in OnnxToLinalg/Text.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ONNX_TEXT_OPS_TD
#define KILN_ONNX_TEXT_OPS_TD

def Onnx_TfIdfVectorizerOp : Onnx_Op<"TfIdfVectorizer"> {
  let summary = "counts n-grams of a pool in token sequences";
  let description = [{
    ONNX `TfIdfVectorizer` (opset 9) on integer tokens: X is [N] or [B, N];
    Y ([max(ngram_indexes) + 1] or [B, that]) holds, at ngram_indexes[g],
    how often n-gram g of the pool (`pool_int64s`, grouped by length from
    the offsets `ngram_counts`) occurs with min_gram_length <= n <=
    max_gram_length, counting its tokens up to `max_skip_count` apart (each
    gap size separately; unigrams once). `mode` TF gives the counts, IDF
    the gram's weight where it occurs, TFIDF count times weight (`weights`,
    ones without). String pools are not supported.
  }];
  let arguments = (ins AnyTensor:$X,
                   I64Attr:$max_gram_length, I64Attr:$min_gram_length,
                   I64Attr:$max_skip_count, StrAttr:$mode,
                   DenseI64ArrayAttr:$ngram_counts,
                   DenseI64ArrayAttr:$ngram_indexes,
                   OptionalAttr<DenseI64ArrayAttr>:$pool_int64s,
                   OptionalAttr<ArrayAttr>:$pool_strings,
                   OptionalAttr<DenseF32ArrayAttr>:$weights);
  let results = (outs AnyTensor:$Y);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    /// Pool n-gram g: its tokens, from the pool and the length offsets
    /// (checked by the verifier).
    llvm::SmallVector<llvm::SmallVector<int64_t>> grams();
  }];
}

#endif // KILN_ONNX_TEXT_OPS_TD
