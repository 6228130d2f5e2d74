/*===- kiln_internal.h - helpers shared by the runtime sources -------------===
 *
 * Not part of the ABI: used by the runtime's own sources (status.c,
 * tensor_io.c, sequence_io.c, arena.c, main.c, gpu.c), and kiln_gpu_model
 * by the code the compiler generates for GPU models.
 *===----------------------------------------------------------------------===*/
#ifndef KILN_INTERNAL_H
#define KILN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kiln/runtime.h"

#define KILN_MAX_RANK 8

#ifdef __cplusplus
extern "C" {
#endif

/* A GPU model as compiler/driver/Codegen.cpp writes it (the two must agree
 * field for field). P_run calls kiln_gpu_run with it. */
typedef struct kiln_gpu_model {
  const char *ptx;                 /* NUL-terminated PTX text */
  int32_t num_kernels;
  const char *const *kernel_names; /* kiln_gpu_launch's `kernel` indexes it */
  const void *weights;             /* uploaded once, at the first run */
  uint64_t weights_size;
  uint64_t graph_arena_size;       /* the graph's part of the device arena */
  const kiln_model_info *info;
  /* The host code: launches the kernels on device pointers (inputs,
   * outputs, arena, weights) through kiln_gpu_launch(state, ...). */
  void (*graph)(void *const *inputs, void *const *outputs, void *arena,
                void *weights, void *state);
  void **state;                    /* zero until the first run loads it */
  int32_t sm;                      /* the SM compiled for (80: sm_80) */
  int64_t status_offset;           /* the run's status (an int32_t) in the
                                    * graph's arena; -1: none */
} kiln_gpu_model;

int32_t kiln_gpu_run(const kiln_gpu_model *m, const void *const *inputs,
                     void *const *outputs, void *arena);
/* One kernel launch (the generated graph's calls): `params` is
 * cuLaunchKernel's array of pointers to the arguments. A failure ends the
 * run: kiln_gpu_run returns it, and later launches do nothing. */
void kiln_gpu_launch(void *state, int32_t kernel, int64_t grid_x,
                     int64_t grid_y, int64_t grid_z, int64_t block_x,
                     int64_t block_y, int64_t block_z, int32_t shared_bytes,
                     void **params);

/* Sets what kiln_device_error() returns (printf-style). */
void kiln_set_device_error(const char *fmt, ...);

/* A readable name for an ONNX data type ("float32", "int64", "bool", ...);
 * "type<N>" for codes it does not know (in a static buffer, not reentrant). */
const char *kiln_elem_type_name(int32_t elem_type);

/* Formats "float32[1,3,224,224]" into buf (always NUL-terminated). */
void kiln_format_type(char *buf, size_t size, int32_t elem_type, int32_t rank,
                      const int64_t *shape);

/* snprintf into err if err is non-NULL and err_size > 0; returns `code`. */
int32_t kiln_set_error(char *err, size_t err_size, int32_t code,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Product of shape times element size with overflow checks; returns 0 and
 * sets *bytes on success, -1 on a negative dim or overflow. */
int kiln_shape_bytes(int32_t rank, const int64_t *shape, size_t elem_size,
                     uint64_t *bytes);

/* Output formats for kiln_tensor_write_tmp. */
enum { KILN_FORMAT_PB = 0, KILN_FORMAT_NPY = 1 };

/* Writes `t` in `format` into a new temporary file in the directory of
 * `path` (named like path.tmp.<pid>.<n>) and stores its name in tmp_path.
 * Nothing is left behind on failure. The caller renames the file over `path`
 * (or unlinks it); kiln_tensor_write_pb/_npy do exactly that. */
int32_t kiln_tensor_write_tmp(const char *path, int format,
                              const kiln_tensor *t, const char *name,
                              char *tmp_path, size_t tmp_size, char *err,
                              size_t err_size);

/* The same for a sequence written as kiln_sequence_write_pb writes it. */
int32_t kiln_sequence_write_tmp(const char *path, const kiln_sequence *s,
                                const char *name, int32_t optional,
                                char *tmp_path, size_t tmp_size, char *err,
                                size_t err_size);

/* --- shared by tensor_io.c and sequence_io.c ----------------------------- */

/* Reads all of `path` into a malloc'd buffer (*out; free it). */
int32_t kiln_read_whole_file(const char *path, uint8_t **out, size_t *out_len,
                             char *err, size_t err_size);

/* Parses the TensorProto in (*bufp)[0, len) into `out` (zeroed by the
 * caller). `path` names it in messages. On success the tensor may adopt the
 * buffer (raw_data moved to its front): then *bufp is set to NULL; else the
 * caller still owns and frees *bufp. On failure `out` may hold data to free
 * with kiln_tensor_free. */
int32_t kiln_tensor_parse_pb(const char *path, uint8_t **bufp, size_t len,
                             kiln_tensor *out, char *err, size_t err_size);

/* Protobuf wire format. The readers return 0, or -1 when the value is
 * truncated or malformed; kiln_pb_read_len also checks that the payload
 * fits before `end`. */
int kiln_pb_read_varint(const uint8_t *b, size_t end, size_t *pos,
                        uint64_t *v);
int kiln_pb_read_len(const uint8_t *b, size_t end, size_t *pos, size_t *len);
int kiln_pb_skip_field(const uint8_t *b, size_t end, size_t *pos,
                       unsigned wire_type, uint64_t field);
size_t kiln_pb_put_varint(uint8_t *p, uint64_t v); /* at most 10 bytes */
size_t kiln_pb_varint_size(uint64_t v);

/* Writes `t` as a TensorProto (dims, data_type, name unless NULL, raw_data);
 * returns 0, or -1 on a write error. kiln_tensor_pb_size is the number of
 * bytes it writes. */
int kiln_tensor_write_pb_body(FILE *f, const kiln_tensor *t, const char *name);
uint64_t kiln_tensor_pb_size(const kiln_tensor *t, const char *name);

/* The checks kiln_tensor_write_tmp makes before writing `t` (rank, type,
 * byte_size against the shape, data); `path` names it in messages. */
int32_t kiln_tensor_check_writable(const char *path, int format,
                                   const kiln_tensor *t, char *err,
                                   size_t err_size);

/* Creates a new temporary file beside `path` (named in tmp_path), writes it
 * with body(f, ctx) (0 on success) and closes it; nothing is left behind on
 * failure. kiln_rename_tmp then moves it over `path` (unlinking it if that
 * fails). */
typedef int (*kiln_write_body_fn)(FILE *f, const void *ctx);
int32_t kiln_write_tmp_file(const char *path, kiln_write_body_fn body,
                            const void *ctx, char *tmp_path, size_t tmp_size,
                            char *err, size_t err_size);
int32_t kiln_rename_tmp(const char *tmp_path, const char *path, char *err,
                        size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* KILN_INTERNAL_H */
