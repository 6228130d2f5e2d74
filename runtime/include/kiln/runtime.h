/*===- kiln/runtime.h - the Kiln runtime ABI -------------------------------===
 *
 * What a compiled model exports and what the thin C runtime provides.
 *
 * Every compiled model defines, with its symbol prefix P (kiln --name):
 *
 *   int32_t P_run(const void *const *inputs, void *const *outputs, void *arena);
 *   extern const kiln_model_info P_info;
 *
 * `inputs` and `outputs` hold one pointer per graph input / output, in graph
 * order, each to a dense row-major buffer of the declared type and shape.
 * `arena` is scratch memory of at least P_info.arena_size bytes aligned to
 * P_info.arena_align; NULL selects the model's own static arena (not safe to
 * use from two threads at once; bare-metal models have none, and NULL is
 * KILN_ERROR_INVALID_ARGUMENT there). Input, output and arena buffers must not
 * overlap one another (the compiled code relies on it). P_run performs no heap allocation and
 * returns KILN_OK or an error code; it never aborts. (Indices a model reads
 * at run time are clamped into range, and one that was out of range makes
 * P_run return KILN_ERROR_OUT_OF_RANGE.)
 *
 * A dynamic model (compiled with a symbolic dimension left symbolic; its
 * P_info.num_dims > 0) defines instead of P_run:
 *
 *   int32_t P_run_dynamic(const void *const *inputs,
 *                         const int64_t *const *input_shapes,
 *                         void *const *outputs, int64_t *const *output_shapes,
 *                         void *arena);
 *   int32_t P_shapes(const int64_t *const *input_shapes,
 *                    int64_t *const *output_shapes, uint64_t *arena_size);
 *
 * `input_shapes` holds one array of `rank` dims per input: the actual shape.
 * P_shapes checks them (every fixed dim as declared, each symbolic dim the
 * same wherever it appears and within its max) and writes each output's
 * shape and the arena size those inputs need; P_run_dynamic checks them the
 * same way, runs, and writes the output shapes. Either returns
 * KILN_ERROR_SHAPE_MISMATCH for shapes the model does not accept. NULL
 * `output_shapes` (or a NULL entry) or `arena_size` is not written.
 *
 * Where sizes inside the model come from input *values* (Expand to a shape
 * that is an input, Tile by run-time repeats, Range, ConstantOfShape, ...;
 * P_info.shapes_need_inputs is 1), the shapes and the arena size need the
 * inputs too:
 *
 *   int32_t P_shapes_of(const void *const *inputs,
 *                       const int64_t *const *input_shapes,
 *                       int64_t *const *output_shapes, uint64_t *arena_size);
 *
 * (defined for every dynamic model; P_shapes of such a model returns
 * KILN_ERROR_NEEDS_INPUTS). Values that give no valid size (a negative
 * dim, shapes that do not broadcast) are KILN_ERROR_SHAPE_MISMATCH.
 *
 * Shared libraries and executables built by `kiln compile` also define the
 * unprefixed symbol `kiln_model` (same type as P_info), so a program can
 * dlopen a model it has never seen and discover its signature.
 *
 * GPU models (kiln compile --target=nvptx64-nvidia-cuda; P_info.device is
 * KILN_DEVICE_CUDA) have the same P_run. The first call loads the CUDA
 * driver (libcuda.so.1, opened at run time: nothing links against CUDA;
 * KILN_CUDA_DRIVER names another file), uses the primary context of GPU 0
 * (CUDA_VISIBLE_DEVICES chooses it), compiles the embedded PTX for it and
 * uploads the weights, once. Each input and output pointer may be host or
 * device memory (told apart by the driver): host inputs are copied to the
 * device before the run and host outputs back after it, and P_run returns
 * when the outputs are written. `arena` is device memory of
 * P_info.arena_size bytes (cuMemAlloc's alignment suffices), or NULL for
 * the model's own, allocated on the device at the first call; it also
 * holds the copies of host inputs and outputs. Without a driver or a GPU,
 * or when the driver fails, P_run returns KILN_ERROR_DEVICE and
 * kiln_device_error() says why. Calls from several threads run one after
 * the other (one stream per model).
 *===----------------------------------------------------------------------===*/
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: kiln_model_info gained the symbolic dimensions and the dynamic entry
 * points (fields after `run`); static models are unchanged otherwise.
 * 3: an output dim may be KILN_DIM_COMPUTED.
 * 4: P_shapes_of and shapes_need_inputs (sizes from input values).
 * 5: kiln_tensor_info.kind: graph inputs and outputs may be sequences of
 *    tensors or optionals (see kiln_sequence).
 * 6: kiln_model_info.device: a model may run on an NVIDIA GPU. */
#define KILN_ABI_VERSION 6

/* An output shape entry for a dim computed from the symbolic dims (a
 * convolution's output size, a concat's sum, a flatten's product): P_shapes
 * and P_run_dynamic write its value. For a dim that depends on the input
 * values (a Reshape to a shape given as an input), P_shapes writes its
 * bound and P_run_dynamic its value after the run; such a model is dynamic
 * (run NULL) even with no symbolic dim. Input dims are never computed. */
#define KILN_DIM_COMPUTED (-INT64_MAX - 1)

typedef enum kiln_status {
  KILN_OK = 0,
  KILN_ERROR_INVALID_ARGUMENT = 1, /* a NULL buffer pointer */
  KILN_ERROR_ARENA_ALIGNMENT = 2,  /* arena not aligned to arena_align */
  KILN_ERROR_IO = 3,               /* a file could not be read or written */
  KILN_ERROR_FORMAT = 4,           /* a tensor file is malformed */
  KILN_ERROR_TYPE_MISMATCH = 5,    /* tensor element type differs */
  KILN_ERROR_SHAPE_MISMATCH = 6,   /* tensor shape differs */
  KILN_ERROR_OUT_OF_MEMORY = 7,    /* runtime helpers only, never P_run */
  KILN_ERROR_UNSUPPORTED = 8,      /* e.g. a data type the runtime lacks */
  KILN_ERROR_NEEDS_INPUTS = 9,     /* P_shapes of a model whose sizes depend
                                      on input values: call P_shapes_of */
  KILN_ERROR_OUT_OF_RANGE = 10,    /* an index read at run time (Gather,
                                      ScatterND, ...) or a sequence position
                                      out of range, or the value of an empty
                                      optional read */
  KILN_ERROR_DEVICE = 11,          /* a GPU model could not run: no CUDA
                                      driver, no GPU, or the driver failed
                                      (kiln_device_error() says which) */
} kiln_status;

/* Where a model runs (kiln_model_info.device). */
enum {
  KILN_DEVICE_CPU = 0,
  KILN_DEVICE_CUDA = 1 /* an NVIDIA GPU, through the CUDA driver */
};

/* The last device error, in one line ("" if none): what KILN_ERROR_DEVICE
 * was about (the CUDA driver missing, no GPU, a kernel launch failing, with
 * the driver's own error name). Per process; not cleared by a success. */
const char *kiln_device_error(void);

/* ONNX TensorProto.DataType codes used for element types. */
enum {
  KILN_FLOAT = 1, KILN_UINT8 = 2, KILN_INT8 = 3, KILN_UINT16 = 4,
  KILN_INT16 = 5, KILN_INT32 = 6, KILN_INT64 = 7, KILN_STRING = 8,
  KILN_BOOL = 9, KILN_FLOAT16 = 10, KILN_DOUBLE = 11, KILN_UINT32 = 12,
  KILN_UINT64 = 13, KILN_BFLOAT16 = 16
};

/* The one table of element types: X(code, bytes per element, name), for
 * every type with a fixed element size. The runtime, the code generator and
 * the header writer all read it (kiln_elem_size, kiln_elem_type_name). */
#define KILN_FOR_EACH_ELEM_TYPE(X)                                             \
  X(KILN_FLOAT, 4, "float32")                                                  \
  X(KILN_UINT8, 1, "uint8")                                                    \
  X(KILN_INT8, 1, "int8")                                                      \
  X(KILN_UINT16, 2, "uint16")                                                  \
  X(KILN_INT16, 2, "int16")                                                    \
  X(KILN_INT32, 4, "int32")                                                    \
  X(KILN_INT64, 8, "int64")                                                    \
  X(KILN_BOOL, 1, "bool")                                                      \
  X(KILN_FLOAT16, 2, "float16")                                                \
  X(KILN_DOUBLE, 8, "float64")                                                 \
  X(KILN_UINT32, 4, "uint32")                                                  \
  X(KILN_UINT64, 8, "uint64")                                                  \
  X(KILN_BFLOAT16, 2, "bfloat16")

typedef struct kiln_tensor_info {
  const char *name;      /* the ONNX graph input/output name */
  int32_t elem_type;     /* ONNX TensorProto.DataType code */
  int32_t rank;
  const int64_t *shape;  /* rank entries; -1 - k: symbolic dimension k;
                            KILN_DIM_COMPUTED: see P_shapes */
  uint64_t byte_size;    /* product of shape times element size; with
                            symbolic dims, the largest it can be at their
                            maxima (0: unbounded) */
  /* ABI 5 */
  int32_t kind;          /* KILN_KIND_*; for a sequence or optional the
                            fields above describe its element (rank -1:
                            not declared; byte_size 0) */
} kiln_tensor_info;

/* What a graph input or output is (kiln_tensor_info.kind), and so what its
 * pointer in P_run's `inputs`/`outputs` points to:
 *   KILN_KIND_TENSOR             a dense buffer (as above);
 *   KILN_KIND_SEQUENCE           a kiln_sequence;
 *   KILN_KIND_OPTIONAL_TENSOR    (inputs only) a dense buffer, or NULL for
 *                                an optional with no value;
 *   KILN_KIND_OPTIONAL_SEQUENCE  a kiln_sequence whose `none` says whether
 *                                it holds a value (an input may be NULL).
 * A model with sequences or optionals among its values allocates their
 * elements on the heap during P_run (freed before it returns, except the
 * output sequences, which the caller frees with kiln_sequence_free). */
enum {
  KILN_KIND_TENSOR = 0,
  KILN_KIND_SEQUENCE = 1,
  KILN_KIND_OPTIONAL_TENSOR = 2,
  KILN_KIND_OPTIONAL_SEQUENCE = 3
};

/* A symbolic dimension of a dynamic model. */
typedef struct kiln_dim_info {
  const char *name;      /* the ONNX dim_param */
  int64_t max;           /* the largest value accepted; 0: no bound */
} kiln_dim_info;

typedef int32_t (*kiln_run_fn)(const void *const *inputs,
                               void *const *outputs, void *arena);
typedef int32_t (*kiln_run_dynamic_fn)(const void *const *inputs,
                                       const int64_t *const *input_shapes,
                                       void *const *outputs,
                                       int64_t *const *output_shapes,
                                       void *arena);
typedef int32_t (*kiln_shapes_fn)(const int64_t *const *input_shapes,
                                  int64_t *const *output_shapes,
                                  uint64_t *arena_size);
typedef int32_t (*kiln_shapes_of_fn)(const void *const *inputs,
                                     const int64_t *const *input_shapes,
                                     int64_t *const *output_shapes,
                                     uint64_t *arena_size);

typedef struct kiln_model_info {
  uint32_t abi_version;  /* KILN_ABI_VERSION */
  const char *name;      /* the symbol prefix */
  int32_t num_inputs;
  int32_t num_outputs;
  const kiln_tensor_info *inputs;
  const kiln_tensor_info *outputs;
  uint64_t arena_size;   /* with symbolic dims: at their maxima (0: unbounded) */
  uint64_t arena_align;
  kiln_run_fn run;       /* P_run; NULL for a dynamic model */
  /* ABI 2 */
  int32_t num_dims;      /* symbolic dimensions; 0 for a static model */
  const kiln_dim_info *dims;
  kiln_run_dynamic_fn run_dynamic; /* P_run_dynamic; NULL when static */
  kiln_shapes_fn shapes;           /* P_shapes; NULL when static */
  /* ABI 4 */
  kiln_shapes_of_fn shapes_of;     /* P_shapes_of; NULL when static */
  int32_t shapes_need_inputs;      /* 1: sizes depend on input values, so
                                      P_shapes cannot tell them: use
                                      shapes_of */
  /* ABI 6 */
  int32_t device;                  /* KILN_DEVICE_*: see "GPU models" */
} kiln_model_info;

/* A short English description of a status code. */
const char *kiln_status_string(int32_t status);

/* Bytes per element of an ONNX data type; 0 if the runtime does not know it. */
size_t kiln_elem_size(int32_t elem_type);

/* A dense tensor owned by the runtime helpers below (not used by P_run). */
typedef struct kiln_tensor {
  int32_t elem_type;
  int32_t rank;
  int64_t shape[8];
  void *data;            /* malloc'd, dense row-major */
  uint64_t byte_size;
} kiln_tensor;

/* Reads an ONNX TensorProto (.pb) or NumPy (.npy) file, chosen by content.
 * On failure returns an error code and writes a one-line message (no
 * trailing newline) into `err` (at most err_size bytes). */
int32_t kiln_tensor_read_file(const char *path, kiln_tensor *out, char *err,
                              size_t err_size);
/* Writes a tensor as an ONNX TensorProto with raw_data, named `name`. */
int32_t kiln_tensor_write_pb(const char *path, const kiln_tensor *t,
                             const char *name, char *err, size_t err_size);
/* Writes a tensor as a NumPy .npy (version 1.0, little endian, C order). */
int32_t kiln_tensor_write_npy(const char *path, const kiln_tensor *t,
                              char *err, size_t err_size);
/* Checks a tensor against a declared input; message names the input. A
 * symbolic dim of the input accepts any size here (the model's P_shapes
 * checks that they agree). */
int32_t kiln_tensor_check(const kiln_tensor *t, const kiln_tensor_info *info,
                          char *err, size_t err_size);
void kiln_tensor_free(kiln_tensor *t);

/* An ONNX sequence of tensors (or an optional sequence), as P_run reads an
 * input and writes an output. An output sequence must be zeroed or hold
 * what an earlier P_run wrote: P_run frees that and writes the new value;
 * the caller frees the last with kiln_sequence_free. Each item owns its
 * `data` (malloc'd, dense row-major). */
typedef struct kiln_sequence {
  int32_t elem_type;     /* of every element (ONNX TensorProto.DataType) */
  int32_t none;          /* 1: an optional holding no value (length 0) */
  int64_t length;
  kiln_tensor *items;    /* `length` tensors */
} kiln_sequence;

/* Frees the items and zeroes the sequence (NULL is fine). */
void kiln_sequence_free(kiln_sequence *s);

/* Reads an ONNX SequenceProto, or an OptionalProto holding a sequence or
 * nothing (then `none` is 1), from a .pb file. Tensors are read as
 * kiln_tensor_read_file reads them. */
int32_t kiln_sequence_read_pb(const char *path, kiln_sequence *out, char *err,
                              size_t err_size);
/* Reads an ONNX OptionalProto holding a tensor or nothing: `*present` says
 * which (a plain TensorProto file is read as a present value). */
int32_t kiln_optional_read_pb(const char *path, kiln_tensor *out,
                              int32_t *present, char *err, size_t err_size);
/* Writes a sequence as an ONNX SequenceProto named `name`; with
 * `optional`, as an OptionalProto holding it (or nothing, when `none`). */
int32_t kiln_sequence_write_pb(const char *path, const kiln_sequence *s,
                               const char *name, int32_t optional, char *err,
                               size_t err_size);
/* Checks a sequence against a declared input of a sequence kind: element
 * type, and each element's rank and fixed dims where declared. */
int32_t kiln_sequence_check(const kiln_sequence *s,
                            const kiln_tensor_info *info, char *err,
                            size_t err_size);

/* Called by compiled code with sequences or optionals among its values (one
 * `kiln_run` per P_run call: heap memory and the first error of the run).
 * Sequences are values: an operation returns a new sequence that shares
 * the unchanged elements. None of these fails hard: on an error (a bad
 * position, an element of another type or shape, no memory) the run
 * records the first status, the call returns something harmless (an empty
 * sequence, zeroed data of the expected size) and kiln_run_end returns the
 * status. `dims` points to int64 arrays as described per function. */
typedef struct kiln_run kiln_run;
kiln_run *kiln_run_begin(void);
int32_t kiln_run_end(kiln_run *run);
void kiln_run_fail(kiln_run *run, int32_t status);
const kiln_sequence *kiln_seq_empty(kiln_run *run, int32_t elem_type,
                                    int32_t none);
int64_t kiln_seq_length(kiln_run *run, const kiln_sequence *seq);
int32_t kiln_seq_has_value(kiln_run *run, const kiln_sequence *seq);
/* The sequence an optional holds (KILN_ERROR_OUT_OF_RANGE when none). */
const kiln_sequence *kiln_seq_value(kiln_run *run, const kiln_sequence *seq);
/* `seq` with a copy of a strided tensor inserted at `pos` (the end when
 * !has_pos; negative counts from the end). `dims`: rank sizes then rank
 * strides, in elements; the data starts `offset` elements after `data`. */
const kiln_sequence *kiln_seq_insert(kiln_run *run, const kiln_sequence *seq,
                                     int64_t pos, int32_t has_pos,
                                     int32_t elem_type, int32_t rank,
                                     int64_t dims, int64_t data,
                                     int64_t offset);
const kiln_sequence *kiln_seq_erase(kiln_run *run, const kiln_sequence *seq,
                                    int64_t pos, int32_t has_pos);
/* Element `pos`: checks its type and rank, and its dims against `dims`
 * (rank entries, -1 where any size is fine), writes its actual dims there
 * and returns its data (never written through; the compiled code sees it as
 * a memref of bytes that it views with those dims). */
const void *kiln_seq_at(kiln_run *run, const kiln_sequence *seq, int64_t pos,
                        int32_t elem_type, int32_t rank, int64_t dims);
/* Copies `seq` into the caller's output `out` (freeing what it held);
 * `optional`: an optional output (else a none is KILN_ERROR_OUT_OF_RANGE). */
void kiln_seq_export(kiln_run *run, kiln_sequence *out,
                     const kiln_sequence *seq, int32_t optional);

/* Allocates a zeroed arena of the model's size and alignment (free with
 * kiln_arena_free); for callers that do not supply their own memory. */
void *kiln_arena_alloc(const kiln_model_info *model);
void kiln_arena_free(void *arena);

/* Threads for the parallel loops of compiled models (process-wide, default
 * 1: everything runs on the calling thread). Creates or joins the worker
 * threads, so call it outside P_run; returns the count now in effect (at most
 * KILN_MAX_THREADS; 1 where the runtime was built without threads). */
#define KILN_MAX_THREADS 64
int kiln_set_num_threads(int n);
int kiln_get_num_threads(void);

/* Called by compiled code: runs task(ctx, begin, end) over [0, n) in chunks
 * on the pool's threads and returns when all n iterations are done. */
typedef void (*kiln_task_fn)(void *ctx, int64_t begin, int64_t end);
void kiln_parallel_for(kiln_task_fn task, void *ctx, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H */
