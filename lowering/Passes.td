//===- Passes.td - Kiln lowering passes -------------------------*- tablegen -*-===//
#ifndef KILN_LOWERING_PASSES_TD
#define KILN_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertOnnxToLinalg : Pass<"convert-onnx-to-linalg", "::mlir::ModuleOp"> {
  let summary = "lower onnx ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Rewrites every onnx op into upstream dialects on tensors: elementwise ops
    and broadcasting become `linalg.generic`, MatMul/Gemm/Conv become
    `linalg.generic` contractions with the contiguous dimension innermost,
    reshapes become `tensor.collapse_shape`/`expand_shape`, slices become
    `tensor.extract_slice`. Requires static shapes; an op that cannot be
    lowered is reported with its ONNX node name.
  }];
  let options = [
    Option<"convAsMatmul", "conv-as-matmul", "bool", "true",
           "lower single-image, single-group f32 Conv as im2col + linalg.matmul">,
    Option<"winogradMinTiles", "winograd-min-tiles", "int64_t", "0",
           "lower 3x3 stride-1 f32 Conv with constant weights and at least "
           "this many 4x4 output tiles as Winograd F(4x4, 3x3) (0: never)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
    "::mlir::scf::SCFDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::func::FuncDialect"
  ];
}

def DynamicEntry : Pass<"kiln-dynamic-entry", "::mlir::ModuleOp"> {
  let summary = "symbolic dims as index arguments; dynamic inputs as flat buffers sized for the maxima";
  let description = [{
    For a `main_graph` with `kiln.dims` (names) and `kiln.dim_max`: appends
    one `index` argument per symbolic dim (`kiln.dim = k`), and makes each
    dynamic input a flat tensor of its maximum element count, read as its
    dims through extract_slice and expand_shape. The bare-pointer entry
    convention then passes every input as a pointer; kiln-dynamic-results
    does the results once they are lowered.

    A result dim whose size comes from input values (Expand to a shape that
    is an input, Tile, ConstantOfShape, Range, OneHot, Pad with run-time
    operands) becomes a derived dim: one more index argument (`kiln.dim`
    after the symbolic dims, no bound; `kiln.dim_args` on the op names it),
    computed before the run by `main_graph_dims(inputs..., dims...) ->
    (i1 valid, index...)`.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::func::FuncDialect"];
}

def DynamicResults : Pass<"kiln-dynamic-results", "::mlir::ModuleOp"> {
  let summary = "dynamic results of main_graph as flat buffers at their bounds, and the function computing their shapes";
  let description = [{
    After the lowering to linalg, for a `main_graph` with symbolic dims
    (kiln-dynamic-entry's index arguments) and `kiln.result_dims` (per
    result, each dim's size, -1 - k for symbolic dim k, or INT64_MIN for a
    dim computed from them): resolves each computed dim to index arithmetic
    on the symbolic dims (through the ops' reified result shapes), bounds it
    at the dims' maxima, and makes each dynamic result a flat tensor of its
    largest element count, written at its front. The computed dims become
    the results of a new function `main_graph_shapes(dims...)`, so that the
    caller learns the output shapes without running the model; a dim that
    depends on the input values, or that has no bound, is an error naming
    the output. Records `kiln.result_elems` (each result's largest element
    count) on main_graph. Where a dim has no bound the result stays flat of
    exactly its size, and a value-dependent dim's bound may be a formula of
    the dims (computed by main_graph_shapes in its place).
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def DynamicChecks : Pass<"kiln-dynamic-checks", "::mlir::ModuleOp"> {
  let summary = "the shape conditions of main_graph as a function of its symbolic dims";
  let description = [{
    Right after the lowering to linalg (before canonicalization folds the
    casts away), for a `main_graph` with symbolic dims: the sizes the ops
    take to be equal (each operand dim of a linalg op and the size of its
    loop dim, a tensor.cast's dynamic dim and the static size it becomes:
    two symbolic dims meeting in a broadcast, a matmul's inner dims, a dim
    meeting a fixed size) are resolved to index arithmetic on the symbolic
    dims (as kiln-dynamic-results does), and those the dims decide become
    `main_graph_check(dims...) -> i1`, which the entry points call before
    running: shapes the model cannot take are refused, not run. Sizes read
    from the input values are left to their lowerings.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def TileDynamicRows : Pass<"kiln-tile-dynamic-rows", "::mlir::func::FuncOp"> {
  let summary = "static blocks for matmuls with dynamic dims";
  let description = [{
    A linalg.matmul on tensors (f32) with dynamic M, N or K becomes loops
    over blocks of `rows` x `cols` (and `depth` along K), each block of A,
    B and C zero-padded to that static size where the dims run out: every
    matmul left has a static shape for kiln-tile-contractions. Static dims
    are one whole block. Dynamic rows run as an even number of whole blocks
    and blocks of `tail-rows` for the rest, in one parallel loop that
    alternates the two kinds (so that threads taking contiguous shares of
    it get about as many rows each).
  }];
  let options = [
    Option<"rows", "rows", "int64_t", "32", "rows per block">,
    Option<"cols", "cols", "int64_t", "64", "columns per block">,
    Option<"depth", "depth", "int64_t", "64", "K per block">,
    Option<"tailRows", "tail-rows", "int64_t", "8",
           "rows per block for the rows left after the whole blocks">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ExpandDynamicReshapes : Pass<"kiln-expand-dynamic-reshapes", "::mlir::func::FuncOp"> {
  let summary = "memref.expand_shape into several dynamic dims as reinterpret_cast";
  let description = [{
    expand-strided-metadata cannot lower an expand_shape that splits a dim
    into more than one dynamic dim; this pass turns each such op into the
    memref.reinterpret_cast of its source's base with the strides the
    split implies, before that pass runs.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def PlanArena : Pass<"kiln-plan-arena", "::mlir::ModuleOp"> {
  let summary = "place every allocation in one arena argument";
  let description = [{
    Runs after bufferization, on each function. Each `memref.alloc` in the
    function's entry block gets a byte offset, chosen by liveness (first-fit,
    largest first) so that buffers alive at the same time never overlap, and
    becomes a `memref.view` into a new trailing function argument
    `memref<SIZExi8>` (the arena). Deallocations of planned buffers are
    removed. The arena size is recorded in the `kiln.arena_size` attribute.
    A buffer of dynamic size takes the room of its size at the bounds of the
    symbolic dims (`kiln.dim_max`).

    ```mlir
    %0 = memref.alloc() : memref<4xf32>
    // becomes
    %0 = memref.view %arena[%c64][] : memref<128xi8> to memref<4xf32>
    ```

    Where a size has no bound (a symbolic dim without --max-dim), the plan
    is made at run time: the buffers are placed as above at a reference
    size of the unbounded dims, and at run time each buffer's offset is the
    largest end of the buffers placed below it that it overlaps in time
    (so no two such buffers share bytes, whatever the sizes). The arena is
    then `memref<?xi8>` (`kiln.arena_dynamic`), and a new function
    `main_graph_arena(dims) -> index` gives its size for the caller.
    `kiln.dim_limit` is the largest dim for which no size overflows.

    An allocation inside `scf.forall` loops of static bounds (a kernel's
    task-private scratch) first becomes a view, at its iteration's slot, of
    one buffer with a slot per iteration, allocated before the loop nest.

    With `status-in-arena` (the GPU, whose kernels cannot reach host
    memory) the run's status slot (`memref.alloca` marked `kiln.status`)
    is placed in the arena too, live for the whole run; its view keeps the
    mark.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "64",
           "byte alignment of every buffer and of the arena">,
    Option<"statusInArena", "status-in-arena", "bool", "false",
           "place the run's status slot (kiln.status) in the arena">,
    Option<"indexBits", "index-bits", "unsigned", "64",
           "bits of the target's index: a run-time plan's sizes must fit">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::affine::AffineDialect"];
}

def LowerCopies : Pass<"kiln-lower-copies", "::mlir::func::FuncOp"> {
  let summary = "turn memref.copy into linalg.copy";
  let description = [{
    `memref.copy` between buffers with non-identity layouts (slices of the
    arena written by tensor.pad or insert_slice) would lower to a call into
    MLIR's C runner library, which compiled models do not link. As
    `linalg.copy` it becomes plain loops like every other linalg op.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TileContractions : Pass<"kiln-tile-contractions", "::mlir::func::FuncOp"> {
  let summary = "tile and vectorize f32 linalg.matmul into register-blocked FMA kernels";
  let description = [{
    Runs on tensors, before bufferization. Each static f32 `linalg.matmul`
    is padded so that M and N are multiples of the register tile (mr x nr),
    tiled for the caches (up to mc x nc x kc, sizes that divide the problem
    so every tile stays static; the mc x nc tiles form an `scf.forall`, the
    unit of work for threads, shrunk until there are `min-tiles` of them),
    tiled again to mr x nr x 1, and the
    innermost op is vectorized. The vector.contract is lowered to outer
    products (vector.fma) and the mr x nr accumulator is hoisted out of the
    reduction loop so it lives in registers. Matmuls this cannot handle are
    left as they are (they become plain loops).

    The target description (targets/) chooses the tiles. For AVX2 (16 ymm
    registers) a 6x16 tile keeps 12 accumulators, two B vectors and a
    broadcast in registers; measured on a 512^3 matmul it is about 15%
    faster than 4x16 and twice as fast as 8x16 (which spills) or 2x32. When mr does not divide M but 4 does, a 4-row
    tile is used instead of padding (ResNet's 64-channel layers). Inside a
    loop (an RNN's time steps), where padding would allocate at every
    iteration, fewer than mr rows form the row tile, and a product that still
    needs padding is left as it is.
  }];
  let options = [
    Option<"mr", "mr", "int64_t", "6", "register tile rows">,
    Option<"nr", "nr", "int64_t", "16", "register tile columns (a multiple of the vector width)">,
    Option<"mc", "mc", "int64_t", "64", "cache tile rows (upper bound)">,
    Option<"nc", "nc", "int64_t", "256", "cache tile columns (upper bound)">,
    Option<"kc", "kc", "int64_t", "256", "cache tile depth (upper bound)">,
    Option<"minTiles", "min-tiles", "int64_t", "4",
           "cache tiles wanted for the threads to share (shrinks mc, nc)">,
    Option<"vectorWidth", "vector-width", "int64_t", "8",
           "f32 lanes of the target's vectors (depthwise convolutions)">,
    Option<"prefetchWeights", "prefetch-weights", "bool", "false",
           "prefetch the next panel of a constant B (weights streamed from "
           "DRAM) while the row tiles compute on the current one">,
    Option<"allowPadding", "allow-padding", "bool", "true",
           "pad M and N to the register tile (false: shrink the tile to "
           "divisors instead, for targets short of memory with a scalar FPU)">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ReassociateReductions
    : Pass<"kiln-reassociate-reductions", "::mlir::func::FuncOp"> {
  let summary = "let float reductions of linalg ops be reordered (vectorized)";
  let description = [{
    Marks the float additions and multiplications that accumulate into a
    reduction's output in a `linalg.generic` body (sums of Softmax,
    LayerNorm, ReduceSum/Mean, GlobalAveragePool, the generic convolution
    windows) with `fastmath<reassoc>`, so that LLVM may keep several partial
    sums and vectorize the loop; without it a float sum is one serial chain.
    The order of summation changes (results differ in the last bits); it
    does not depend on the thread count.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ApproximateMath : Pass<"kiln-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "f32 exp, log, tanh, erf, ... as polynomials (vectorizable)";
  let description = [{
    Rewrites f32 `math.exp`, `expm1`, `exp2`, `log`, `log1p`, `log2`, `tanh`
    and `erf` (scalars or vectors) into the upstream polynomial / rational
    approximations made of arith ops, so that loops computing them vectorize
    instead of calling libm once per element. f64 is left to libm.

    With `all-functions` (targets without libm) every f32 function upstream
    can approximate is rewritten as well (`sin`, `cos`, `atan`, `atan2`,
    `asin`, `acos`, `cbrt`, `erfc`, `rsqrt`), and `floor` and `trunc`
    become integer conversions and selects, which need no FPU rounding
    instruction.
  }];
  let options = [
    Option<"allFunctions", "all-functions", "bool", "false",
           "approximate every f32 function that has an inline form (no libm)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def FuseElementwise : Pass<"kiln-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "fuse elementwise linalg ops (never moving reshapes across pads)";
  let description = [{
    The patterns of upstream `linalg-fuse-elementwise-ops` (producer into
    consumer when the consumer is its only user, reshapes folded by
    expansion, splat constants and fills folded into generics), except that
    no reshape is moved across a `tensor.pad`: the padded input of a grouped
    convolution stays the padding of its producer's result, so the producer
    can write straight into the padded buffer (`kiln-decompose-pads`).
  }];
  let options = [
    Option<"elementwiseOnly", "elementwise-only", "bool", "false",
           "only fuse all-parallel generics into each other, fold no "
           "reshapes (before the kernels, so that their consumers form "
           "one epilogue)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect"];
}

def DecomposePads : Pass<"kiln-decompose-pads", "::mlir::func::FuncOp"> {
  let summary = "padded tensors as border fills plus an interior insert";
  let description = [{
    Runs on tensors, before bufferization. A static `tensor.pad` with a
    constant value becomes a `tensor.empty` of the padded shape whose border
    slabs are filled (each element once), and a `tensor.insert_slice` of the
    source into the interior. The empty tensor and the border fills are
    placed before the source's producer, so that `eliminate-empty-tensors`
    makes the producer write into the padded buffer: no copy of the source,
    and no fill of the interior that is overwritten anyway.

    ```mlir
    %p = tensor.pad %x low[0, 1] high[0, 1] { tensor.yield %zero }
    // becomes
    %e = tensor.empty() : tensor<2x6xf32>
    %l = linalg.fill ins(%zero) outs(extract_slice %e[0, 0] [2, 1])
    ...  (the right border likewise)
    %p = tensor.insert_slice %x into %b[0, 1] [2, 4] [1, 1]
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UnshareInits : Pass<"kiln-unshare-inits", "::mlir::func::FuncOp"> {
  let summary = "give every destination-style op its own empty or zero init";
  let description = [{
    Runs on tensors, just before bufferization. CSE merges identical
    `tensor.empty` ops and `linalg.fill` of a constant into `tensor.empty`,
    so one zero tensor ends up as the init of several matmuls; bufferization
    would then keep one zero buffer alive for the whole function and copy it
    before each use. Each use after the first gets its own clone instead, so
    every product is computed in place in a buffer that lives only as long
    as its value.

    ```mlir
    %z = linalg.fill ins(%zero) outs(%e) ; used by two matmuls
    // becomes one fill (and one tensor.empty) per matmul
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def DistinctResults : Pass<"kiln-distinct-results", "::mlir::func::FuncOp"> {
  let summary = "give every returned tensor its own value";
  let description = [{
    Each graph output is written into its own caller buffer. When a function
    returns one value twice (two graph outputs naming one tensor, or values
    CSE merged), every repeat becomes a `linalg.copy` into a fresh tensor, so
    bufferization gives each result its own buffer.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SequenceOutputs : Pass<"kiln-sequence-outputs", "::mlir::ModuleOp"> {
  let summary = "sequence outputs to the caller's kiln_sequence, and the run's status";
  let description = [{
    Runs after buffer-results-to-out-params, on a function that uses the
    runtime's sequences (a `kiln_run_begin` call, or results marked
    `kiln.sequence`). Each such result (a handle, !llvm.ptr) becomes an
    argument in the outputs' place (inputs, then outputs in order): the
    caller's kiln_sequence, which `kiln_seq_export` fills before the
    function returns. The function then returns the run's status
    (`kiln_run_end`, i32), which the entry point passes on. A function with a
    status slot (an i32 alloca marked `kiln.status`, where run-time checks
    such as indices out of range record an error) returns it too: the run's
    error first, else the slot's.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def WriteOutputsInPlace : Pass<"kiln-write-outputs-in-place", "::mlir::func::FuncOp"> {
  let summary = "compute returned tensors in the caller's output buffers";
  let description = [{
    Runs after bufferization (and buffer-results-to-out-params). A
    `memref.copy` of an entry-block allocation (seen through reshapes) into
    an output argument, where the allocation is used by nothing after the
    copy and the argument by nothing else, becomes writes into the output:
    the allocation is replaced by a reshape of the argument and the copy is
    erased.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def OutlineParallel : Pass<"kiln-outline-parallel", "::mlir::ModuleOp"> {
  let summary = "outline big scf.parallel loop nests into tasks for the thread pool";
  let description = [{
    Runs on memrefs, after linalg became (parallel) loops. Every outermost
    `scf.parallel` with static bounds, no reductions and at least `min-work`
    estimated operations (body operations times trip counts) becomes a task:

    * the leading dimensions, enough of them for `min-chunks` iterations (or
      all), are linearized into one range [0, n);
    * the body moves into a new private function `@<func>_<node>_par(%begin,
      %end, captures...)` (named after the ONNX node in the loop's location,
      so that profiles name it) that loops over [begin, end), delinearizes,
      and runs the rest of the nest (remaining dimensions stay an
      scf.parallel);
    * the loop is replaced by `func.call @<task>_dispatch(n, captures...)`,
      a declaration tagged `kiln.parallel_task = @<task>` that
      `kiln-lower-parallel-dispatch` defines once everything is LLVM.

    Constants used in the body are cloned into the task. A loop whose captured
    values are not all scalars or memrefs of static shape, strides and offset
    (those pass as bare pointers) is left alone and stays serial.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "50000",
           "estimated operations (body ops x trip counts) below which a loop stays serial">,
    Option<"minChunks", "min-chunks", "int64_t", "64",
           "iterations wanted in the linearized range before it stops taking dimensions">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerParallelDispatch : Pass<"kiln-lower-parallel-dispatch", "::mlir::ModuleOp"> {
  let summary = "define the dispatch functions of outlined tasks (LLVM dialect)";
  let description = [{
    Runs on the LLVM dialect, after `kiln-outline-parallel` and the
    conversion to LLVM. Each declaration tagged `kiln.parallel_task = @task`
    (arguments: iteration count, then the task's captures) gets a body that
    packs the captures into a stack struct and calls the runtime's
    `kiln_parallel_for(@task_entry, ctx, n)`; `@task_entry(ctx, begin, end)`
    unpacks them and calls `@task(begin, end, captures...)`. Dispatch, entry
    and task get internal linkage. The module also gets a weak serial
    `kiln_parallel_for` (runs the whole range on the calling thread), so an
    object links without the runtime; the runtime's pool overrides it.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def PointerArgs : Pass<"kiln-pointer-args", "::mlir::ModuleOp"> {
  let summary = "pass flat buffers of dynamic size as bare pointers";
  let description = [{
    Each `memref<?xT>` argument of a public function (the flat inputs,
    outputs and arena of a model whose dims have no bound) becomes an
    `!llvm.ptr`, and the memref is rebuilt from it at the entry (offset 0,
    stride 1, size 0): the bare-pointer calling convention takes static
    shapes only. Fails if the code reads such an argument's size. A static
    memref with no elements (memref<3x0x5xT>), which that convention also
    refuses, is passed the same way with its static sizes and strides.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def SetIndexBitwidth : Pass<"kiln-set-index-bitwidth", "::mlir::ModuleOp"> {
  let summary = "record the target's index width in the module's data layout";
  let description = [{
    Sets `dlti.dl_spec = #dlti.dl_spec<index = N : i64>` on the module, so
    every conversion to the LLVM dialect lowers `index` to the target's
    pointer width (i32 on armv7 and Cortex-M: no 64-bit division helpers, no
    register pairs for loop counters).
  }];
  let options = [
    Option<"bitwidth", "bitwidth", "unsigned", "64", "bits of an index">,
  ];
  let dependentDialects = ["::mlir::DLTIDialect"];
}

def ConvertVectorToLLVM : Pass<"kiln-convert-vector-to-llvm", "::mlir::ModuleOp"> {
  let summary = "vector ops to the LLVM dialect, index as wide as the data layout";
  let description = [{
    The upstream vector lowerings and vector-to-LLVM patterns (as in
    `convert-vector-to-llvm`), with the LLVM type converter built from the
    module's data layout, so that `index` becomes i32 on 32-bit targets like
    in every other conversion (upstream's pass always uses i64).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CheckInlineMath : Pass<"kiln-check-inline-math", "::mlir::ModuleOp"> {
  let summary = "refuse math that would need libm on a target without it";
  let description = [{
    Runs after `kiln-approximate-math{all-functions}` and `math-expand-ops`,
    before the math dialect is lowered. Every math op left is one that
    would become a C library call (`expf`, `fmod`, any f64 function) except
    those the FPU does itself (`sqrt`, `absf`, `fma`, `copysign` and the
    integer bit counts). Each one is an error naming the op and its ONNX
    node, for targets (bare metal) that have no libm to call.
  }];
  let options = [
    Option<"targetName", "target", "std::string", "\"this target\"",
           "the target named in the error">,
    Option<"doublePrecision", "double-precision", "bool", "false",
           "the FPU does sqrt, absf, fma and copysign on f64 too (GPUs)">,
  ];
}

def GpuTileContractions : Pass<"kiln-gpu-tile-contractions",
                                "::mlir::func::FuncOp"> {
  let summary = "linalg contractions on memrefs as shared-memory tiled GPU "
                "kernels";
  let description = [{
    For the GPU, before linalg becomes loops: each contraction (two inputs,
    a payload `out + g(a, b)`, static shapes, an output indexed by every
    parallel dim) becomes a `gpu.launch` of 16 x 16 threads per 64 x 64
    tile of the output, each thread with a 4 x 4 tile of accumulators.
    The loop dims group into batch (grid z), rows (the parallel dims only
    one input uses; grid y), columns (those only the other uses; grid x)
    and k (the reductions), each group flattened; where 64 x 64 tiles
    would make fewer than 128 blocks, 32 x 32 (2 x 2 per thread). Per step
    of 16 in k the block loads both inputs' tiles into workgroup memory
    (coalesced: the fastest-varying thread follows the operand's innermost
    index), waits at a `gpu.barrier`, and accumulates from there. A fill
    or a broadcast (a bias) of the output just before becomes the
    accumulators' initial value. An input written just for the contraction
    by an elementwise op (a transpose, a ReLU, a copy), whole or as the
    interior of a padded buffer whose border strips are filled with one
    constant, is computed by the kernel as it loads, and that op, the
    fills and the buffer go. Runs before the arena plan (allocations are
    distinct buffers then). The kernel is named `tiled<N>` here;
    `kiln-map-to-gpu` names it after its node.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect"];
}

def MapToGpu : Pass<"kiln-map-to-gpu", "::mlir::func::FuncOp"> {
  let summary = "run every loop nest of a function on the GPU (gpu.launch)";
  let description = [{
    For the NVPTX target, after bufferization and the arena plan, with the
    linalg ops already parallel loops. Every top-level `scf.parallel`
    becomes a `gpu.launch` of one thread per iteration: the iterations are
    numbered in one dimension (blocks of `threads` threads), each thread
    recovers its indices from its number and runs the body, and threads past
    the end return. Every other run of top-level ops that reads or writes
    memory (a sequential loop nest, a store) becomes a launch of one thread,
    so that no memory is touched by the host. Address computations
    (constants, views of the arena, weights) stay on the host and reach the
    kernels as arguments. Each launch names its kernel after its ONNX node
    and puts it in the one `gpu.module` @kiln_kernels, for
    `gpu-kernel-outlining`.

    First, views move up to just after what they use, so that loop nests
    apart only by views become neighbours, and neighbouring nests over the
    same iterations fuse (upstream's naivelyFuseParallelOps, with the
    buffers' overlap known from the arena plan): one launch for a fill and
    the reduction into it. A scalar loaded at the top level that only loops
    use is loaded in each of them instead, where nothing between writes
    its buffer.

    Refused, naming the node: a call (the run-time sequence functions live
    in the host runtime), host memory (`memref.alloca` outside a loop), a
    value computed on the device that the host needs.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "256",
           "threads per block of a parallel loop's launch">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuMathIntrinsics : Pass<"kiln-gpu-math-intrinsics"> {
  let summary = "the math an NVIDIA GPU does itself, as LLVM intrinsics";
  let description = [{
    In a gpu.module, before `convert-gpu-to-nvvm`: f32 and f64 `math.sqrt`,
    `absf`, `fma` and `copysign` become `llvm.call_intrinsic` of
    `llvm.sqrt`, `llvm.fabs`, `llvm.fma` and `llvm.copysign`, which the
    NVPTX backend selects as single instructions. `convert-gpu-to-nvvm`
    would make them calls into libdevice, which comes with the CUDA toolkit
    and which Kiln does not need.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def GpuContract : Pass<"kiln-gpu-contract"> {
  let summary = "the kernels' products and sums may fuse into FMAs";
  let description = [{
    In a gpu.module, before `convert-gpu-to-nvvm`: every `arith.mulf`,
    `addf` and `subf` gets the `contract` fast-math flag, so that the NVPTX
    backend makes a product feeding a sum one `fma.rn` (one rounding, one
    instruction), as nvcc does by default (-fmad=true).
  }];
}

def HoistAccumulators : Pass<"kiln-hoist-accumulators", "::mlir::func::FuncOp"> {
  let summary = "reduction loops on memrefs accumulate in a loop-carried "
                "value, not in memory";
  let description = [{
    For the GPU, before `kiln-map-to-gpu`: an `scf.for` whose body loads
    and stores one output element at loop-invariant indices (a contraction
    lowered to loops) carries that element as an iter_arg instead, loaded
    once before the loop and stored once after it; innermost loops first,
    so that a convolution's nest of reduction loops reads and writes each
    output element once. Only where nothing else in the loop may touch the
    output's memory: other buffers (distinct arguments, globals) and views
    of the arena at static byte ranges that do not overlap.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

def GpuHost : Pass<"kiln-gpu-host", "::mlir::ModuleOp"> {
  let summary = "a GPU model's host code: launches as runtime calls, "
                "weights as one blob";
  let description = [{
    After `gpu-module-to-binary`, on the module whose main_graph launches
    the kernels of one gpu.binary. Every constant global main_graph uses
    goes into one byte blob (`@kiln_gpu_weights`, each at a multiple of
    `alignment`), which the runtime uploads to the device once; each
    `memref.get_global` becomes a view of a new main_graph argument (the
    device copy). Each `gpu.launch_func` becomes a call
    `kiln_gpu_launch(ctx, kernel, grid xyz, block xyz, shared bytes,
    params)`, `ctx` being a second new argument (the runtime's state) and
    `params` the cuLaunchKernel array of pointers to one 8-byte word per
    kernel argument (a memref's aligned pointer: the kernels take bare
    pointers). The PTX, the kernel names in index order and the blob's size
    become module attributes (`kiln.gpu_ptx`, `kiln.gpu_kernels`,
    `kiln.gpu_weights_size`) for the entry point. main_graph then takes:
    inputs, outputs, arena, weights, ctx.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "256",
           "byte alignment of each weight in the blob">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def GpuEmulate : Pass<"kiln-gpu-emulate", "::mlir::ModuleOp"> {
  let summary = "a GPU model's kernels as host functions, for the tests' "
                "fake CUDA driver";
  let description = [{
    In place of `gpu-module-to-binary`, for `kiln compile --gpu-emulate`:
    each kernel of gpu.module @kiln_kernels (in the LLVM dialect, after
    `convert-gpu-to-nvvm`) becomes a host function `kiln_emu_<kernel>` that
    reads its thread and block ids and sizes from one more argument, plus
    an `_entry` that unpacks cuLaunchKernel's parameter array; the image
    `@kiln_gpu_emu_image` ("KILNEMU2", count, {name, entry, flags}) is what
    the fake driver loads in place of PTX. The gpu.module becomes an empty
    gpu.binary and the module gets `kiln.gpu_emulated`. A barrier becomes
    a call through the ids block (the driver then runs the block's threads
    as fibers), and workgroup memory a host global (blocks run one after
    the other). Kernels with other NVVM ops (shuffles) are refused.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

#endif // KILN_LOWERING_PASSES_TD
