/*===- gpu.c - running a GPU model through the CUDA driver -----------------===
 *
 * A model compiled for nvptx64-nvidia-cuda carries its kernels as PTX text
 * and a host function (the `graph`) that launches them in order through
 * kiln_gpu_launch. This file is everything else: it opens the CUDA driver
 * with dlopen (nothing is linked against CUDA, and a machine without it
 * gets KILN_ERROR_DEVICE and one line from kiln_device_error()), loads the
 * PTX once (the driver compiles it for the GPU it finds), uploads the
 * weights once, and for each run copies host inputs in and host outputs
 * out around the graph, all on one stream.
 *
 * The device arena: the graph's own part (graph_arena_size bytes), then
 * one slot per input and per output, each at a multiple of the model's
 * arena_align (compiler/driver/Codegen.cpp, gpuArenaSize, lays it out the
 * same way). A slot is used only when that input or output is host memory.
 *
 * The driver API is declared by hand (cuda_driver.h, shared with the
 * tests' fake driver): the few types and constants of its stable ABI used.
 *===----------------------------------------------------------------------===*/
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KILN_RUNTIME_SERIAL
#include <pthread.h>
#endif

#include "cuda_driver.h"
#include "kiln_internal.h"

/* The driver functions used, each with the symbol it is loaded from. */
#define KILN_CUDA_FUNCTIONS(X)                                                 \
  X(Init, "cuInit", (unsigned))                                                \
  X(DeviceGetCount, "cuDeviceGetCount", (int *))                               \
  X(DeviceGet, "cuDeviceGet", (CUdevice *, int))                               \
  X(DeviceGetName, "cuDeviceGetName", (char *, int, CUdevice))                 \
  X(DeviceGetAttribute, "cuDeviceGetAttribute", (int *, int, CUdevice))        \
  X(PrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *, CUdevice))     \
  X(CtxSetCurrent, "cuCtxSetCurrent", (CUcontext))                             \
  X(ModuleLoadDataEx, "cuModuleLoadDataEx",                                    \
    (CUmodule *, const void *, unsigned, int *, void **))                      \
  X(ModuleGetFunction, "cuModuleGetFunction",                                  \
    (CUfunction *, CUmodule, const char *))                                    \
  X(MemAlloc, "cuMemAlloc_v2", (CUdeviceptr *, size_t))                        \
  X(MemcpyHtoD, "cuMemcpyHtoD_v2", (CUdeviceptr, const void *, size_t))        \
  X(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                   \
    (CUdeviceptr, const void *, size_t, CUstream))                             \
  X(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2",                                   \
    (void *, CUdeviceptr, size_t, CUstream))                                   \
  X(StreamCreate, "cuStreamCreate", (CUstream *, unsigned))                    \
  X(StreamSynchronize, "cuStreamSynchronize", (CUstream))                      \
  X(LaunchKernel, "cuLaunchKernel",                                            \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,   \
     unsigned, CUstream, void **, void **))                                    \
  X(PointerGetAttribute, "cuPointerGetAttribute", (void *, int, CUdeviceptr))  \
  X(GetErrorName, "cuGetErrorName", (CUresult, const char **))                 \
  X(GetErrorString, "cuGetErrorString", (CUresult, const char **))

static struct {
#define KILN_CUDA_FIELD(field, symbol, params) CUresult(*field) params;
  KILN_CUDA_FUNCTIONS(KILN_CUDA_FIELD)
#undef KILN_CUDA_FIELD
  int tried;      /* the driver was looked for (once per process) */
  int32_t status; /* KILN_OK if it loaded and found a GPU */
  char error[512];
  CUcontext ctx;
  CUdevice device;
  int sm;         /* the GPU's compute capability, as 10 * major + minor */
  char name[128];
} cuda;

/* The state of one loaded model; *model->state points to it. */
typedef struct gpu_state {
  int32_t load_status; /* KILN_OK once loaded */
  char load_error[512];
  CUmodule module;
  CUstream stream;
  CUdeviceptr weights;
  CUdeviceptr arena;   /* the model's own arena (a NULL arena argument) */
  CUfunction *kernels;
  const kiln_gpu_model *model;
  int32_t status;      /* of the run in progress: its first failure */
  int32_t last_kernel; /* the last kernel launched, for error messages */
#ifndef KILN_RUNTIME_SERIAL
  pthread_mutex_t run_lock; /* one run at a time: one stream, one status */
#endif
} gpu_state;

#ifndef KILN_RUNTIME_SERIAL
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

/* "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected" */
static const char *cu_error(CUresult r) {
  static char buf[256];
  const char *name = NULL, *text = NULL;
  if (cuda.GetErrorName)
    cuda.GetErrorName(r, &name);
  if (cuda.GetErrorString)
    cuda.GetErrorString(r, &text);
  if (name && text)
    snprintf(buf, sizeof buf, "%s: %s", name, text);
  else
    snprintf(buf, sizeof buf, "CUDA error %d", (int)r);
  return buf;
}

/* Records a device error (the message is also kept in `keep` if given) and
 * returns KILN_ERROR_DEVICE. */
static int32_t device_error(char *keep, size_t keep_size, const char *fmt,
                            ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kiln_set_device_error("%s", msg);
  if (keep && keep_size)
    snprintf(keep, keep_size, "%s", msg);
  return KILN_ERROR_DEVICE;
}

/* Opens the driver and finds GPU 0; with load_lock held. */
static int32_t load_driver(void) {
  const char *path = getenv("KILN_CUDA_DRIVER");
  void *lib;
  int count = 0, major = 0, minor = 0;
  CUresult r;
  if (cuda.tried)
    return cuda.status;
  cuda.tried = 1;
  if (!path || !*path)
    path = "libcuda.so.1";
  lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return cuda.status = device_error(
               cuda.error, sizeof cuda.error,
               "cannot load the CUDA driver (%s): %s; is the NVIDIA driver "
               "installed?",
               path, dlerror());
#define KILN_CUDA_LOAD(field, symbol, params)                                  \
  *(void **)(&cuda.field) = dlsym(lib, symbol);                                \
  if (!cuda.field)                                                             \
    return cuda.status = device_error(cuda.error, sizeof cuda.error,           \
                                      "the CUDA driver (%s) has no %s: it is " \
                                      "too old",                               \
                                      path, symbol);
  KILN_CUDA_FUNCTIONS(KILN_CUDA_LOAD)
#undef KILN_CUDA_LOAD
  if ((r = cuda.Init(0)) != CUDA_SUCCESS)
    return cuda.status = device_error(cuda.error, sizeof cuda.error,
                                      "no usable NVIDIA GPU (cuInit: %s)",
                                      cu_error(r));
  if ((r = cuda.DeviceGetCount(&count)) != CUDA_SUCCESS || count < 1)
    return cuda.status =
               device_error(cuda.error, sizeof cuda.error,
                            "no NVIDIA GPU found (cuDeviceGetCount: %s)",
                            r ? cu_error(r) : "0 devices");
  if ((r = cuda.DeviceGet(&cuda.device, 0)) != CUDA_SUCCESS ||
      (r = cuda.DeviceGetName(cuda.name, sizeof cuda.name, cuda.device)) !=
          CUDA_SUCCESS ||
      (r = cuda.DeviceGetAttribute(
           &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
           cuda.device)) != CUDA_SUCCESS ||
      (r = cuda.DeviceGetAttribute(
           &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
           cuda.device)) != CUDA_SUCCESS ||
      (r = cuda.PrimaryCtxRetain(&cuda.ctx, cuda.device)) != CUDA_SUCCESS)
    return cuda.status = device_error(cuda.error, sizeof cuda.error,
                                      "cannot use GPU 0: %s", cu_error(r));
  cuda.name[sizeof cuda.name - 1] = '\0';
  cuda.sm = 10 * major + minor;
  return cuda.status = KILN_OK;
}

/* Loads the model on the GPU: PTX, kernels, weights, its own arena; with
 * load_lock held and the driver loaded. */
static int32_t load_model(const kiln_gpu_model *m, gpu_state *s) {
  const kiln_model_info *info = m->info;
  char log[4096] = "";
  int opts[2] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *vals[2] = {log, (void *)(uintptr_t)sizeof log};
  int32_t i;
  CUresult r;
  s->model = m;
  if (cuda.sm < m->sm)
    return device_error(s->load_error, sizeof s->load_error,
                        "GPU 0 (%s) has compute capability %d.%d; model '%s' "
                        "was compiled for sm_%d and newer",
                        cuda.name, cuda.sm / 10, cuda.sm % 10, info->name,
                        (int)m->sm);
  if ((r = cuda.CtxSetCurrent(cuda.ctx)) != CUDA_SUCCESS)
    return device_error(s->load_error, sizeof s->load_error,
                        "cannot use GPU 0: %s", cu_error(r));
  if ((r = cuda.ModuleLoadDataEx(&s->module, m->ptx, 2, opts, vals)) !=
      CUDA_SUCCESS) {
    log[sizeof log - 1] = '\0';
    return device_error(s->load_error, sizeof s->load_error,
                        "the CUDA driver cannot load model '%s' on GPU 0 "
                        "(%s): %s%s%s",
                        info->name, cuda.name, cu_error(r), *log ? ": " : "",
                        log);
  }
  s->kernels = calloc(m->num_kernels > 0 ? (size_t)m->num_kernels : 1,
                      sizeof *s->kernels);
  if (!s->kernels)
    return device_error(s->load_error, sizeof s->load_error,
                        "out of host memory loading model '%s'", info->name);
  for (i = 0; i < m->num_kernels; ++i)
    if ((r = cuda.ModuleGetFunction(&s->kernels[i], s->module,
                                    m->kernel_names[i])) != CUDA_SUCCESS)
      return device_error(s->load_error, sizeof s->load_error,
                          "model '%s' has no kernel %s on the GPU: %s",
                          info->name, m->kernel_names[i], cu_error(r));
  if ((r = cuda.StreamCreate(&s->stream, CU_STREAM_NON_BLOCKING)) !=
      CUDA_SUCCESS)
    return device_error(s->load_error, sizeof s->load_error,
                        "cannot create a CUDA stream: %s", cu_error(r));
  if (m->weights_size > 0 &&
      ((r = cuda.MemAlloc(&s->weights, m->weights_size)) != CUDA_SUCCESS ||
       (r = cuda.MemcpyHtoD(s->weights, m->weights, m->weights_size)) !=
           CUDA_SUCCESS))
    return device_error(s->load_error, sizeof s->load_error,
                        "cannot upload the %llu bytes of weights of model "
                        "'%s': %s",
                        (unsigned long long)m->weights_size, info->name,
                        cu_error(r));
  if (info->arena_size > 0 &&
      (r = cuda.MemAlloc(&s->arena, info->arena_size)) != CUDA_SUCCESS)
    return device_error(s->load_error, sizeof s->load_error,
                        "cannot allocate the %llu-byte device arena of model "
                        "'%s': %s",
                        (unsigned long long)info->arena_size, info->name,
                        cu_error(r));
  return KILN_OK;
}

/* The model's state, loading it (and the driver) at the first call. */
static int32_t get_state(const kiln_gpu_model *m, gpu_state **out) {
  gpu_state *s;
  int32_t rc;
#ifndef KILN_RUNTIME_SERIAL
  pthread_mutex_lock(&load_lock);
#endif
  s = (gpu_state *)*m->state;
  if (!s) {
    rc = load_driver();
    if (rc != KILN_OK) {
      kiln_set_device_error("%s", cuda.error);
    } else if (!(s = calloc(1, sizeof *s))) {
      rc = device_error(NULL, 0, "out of host memory loading model '%s'",
                        m->info->name);
    } else {
#ifndef KILN_RUNTIME_SERIAL
      pthread_mutex_init(&s->run_lock, NULL);
#endif
      s->load_status = load_model(m, s);
      *m->state = s;
    }
  }
  if (s) {
    rc = s->load_status;
    if (rc != KILN_OK)
      kiln_set_device_error("%s", s->load_error);
  }
#ifndef KILN_RUNTIME_SERIAL
  pthread_mutex_unlock(&load_lock);
#endif
  *out = s;
  return rc;
}

/* Whether `p` is memory a kernel can read: device or managed memory. */
static int is_device_memory(const void *p) {
  unsigned int type = 0;
  if (cuda.PointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                               (CUdeviceptr)(uintptr_t)p) != CUDA_SUCCESS)
    return 0; /* host memory the driver does not know */
  return type == CU_MEMORYTYPE_DEVICE || type == CU_MEMORYTYPE_UNIFIED;
}

static uint64_t align_up(uint64_t n, uint64_t align) {
  return align > 1 ? (n + align - 1) / align * align : n;
}

/* One run of a loaded model (kiln_gpu_run holds its run_lock). */
static int32_t run_loaded(const kiln_gpu_model *m, gpu_state *s,
                          const void *const *inputs, void *const *outputs,
                          void *arena, void **din, void **dout) {
  const kiln_model_info *info = m->info;
  int32_t n_in = info->num_inputs, n_out = info->num_outputs, i;
  uint64_t align = info->arena_align, off;
  int32_t run_status = KILN_OK;
  CUdeviceptr base;
  CUresult r;
  if ((r = cuda.CtxSetCurrent(cuda.ctx)) != CUDA_SUCCESS)
    return device_error(NULL, 0, "cannot use GPU 0: %s", cu_error(r));
  base = arena ? (CUdeviceptr)(uintptr_t)arena : s->arena;
  s->status = KILN_OK;
  s->last_kernel = -1;
  off = align_up(m->graph_arena_size, align);
  for (i = 0; i < n_in; ++i) {
    uint64_t bytes = info->inputs[i].byte_size;
    if (!inputs[i] || is_device_memory(inputs[i])) {
      din[i] = (void *)inputs[i];
    } else {
      din[i] = (void *)(uintptr_t)(base + off);
      if (bytes > 0 && (r = cuda.MemcpyHtoDAsync(base + off, inputs[i], bytes,
                                                 s->stream)) != CUDA_SUCCESS)
        return device_error(NULL, 0, "cannot copy input '%s' to the GPU: %s",
                            info->inputs[i].name, cu_error(r));
    }
    off += align_up(bytes, align);
  }
  for (i = 0; i < n_out; ++i) {
    dout[i] = is_device_memory(outputs[i]) ? outputs[i]
                                           : (void *)(uintptr_t)(base + off);
    off += align_up(info->outputs[i].byte_size, align);
  }
  m->graph(din, dout, (void *)(uintptr_t)base, (void *)(uintptr_t)s->weights,
           s);
  if (s->status != KILN_OK) {
    cuda.StreamSynchronize(s->stream);
    return s->status;
  }
  /* The checks made on the device (indices out of range) leave their
   * status in the arena. */
  if (m->status_offset >= 0 &&
      (r = cuda.MemcpyDtoHAsync(&run_status,
                                base + (uint64_t)m->status_offset,
                                sizeof run_status, s->stream)) != CUDA_SUCCESS)
    return device_error(NULL, 0, "cannot copy the status from the GPU: %s",
                        cu_error(r));
  for (i = 0; i < n_out; ++i) {
    uint64_t bytes = info->outputs[i].byte_size;
    if (dout[i] != outputs[i] && bytes > 0 &&
        (r = cuda.MemcpyDtoHAsync(outputs[i], (CUdeviceptr)(uintptr_t)dout[i],
                                  bytes, s->stream)) != CUDA_SUCCESS)
      return device_error(NULL, 0, "cannot copy output '%s' from the GPU: %s",
                          info->outputs[i].name, cu_error(r));
  }
  if ((r = cuda.StreamSynchronize(s->stream)) != CUDA_SUCCESS)
    return device_error(
        NULL, 0, "model '%s' failed on the GPU: %s (last kernel: %s)",
        info->name, cu_error(r),
        s->last_kernel >= 0 ? m->kernel_names[s->last_kernel] : "none");
  return run_status;
}

/* Checks the arguments, loads the model at the first call, and runs it;
 * concurrent calls for one model run one after the other. */
int32_t kiln_gpu_run(const kiln_gpu_model *m, const void *const *inputs,
                     void *const *outputs, void *arena) {
  const kiln_model_info *info = m->info;
  int32_t n_in = info->num_inputs, n_out = info->num_outputs, i, rc;
  uint64_t align = info->arena_align;
  gpu_state *s;
  void *din[n_in > 0 ? n_in : 1];
  void *dout[n_out > 0 ? n_out : 1];
  if ((n_in > 0 && !inputs) || (n_out > 0 && !outputs))
    return KILN_ERROR_INVALID_ARGUMENT;
  for (i = 0; i < n_in; ++i) /* NULL: an optional input with no value */
    if (!inputs[i] && info->inputs[i].kind != KILN_KIND_OPTIONAL_TENSOR)
      return KILN_ERROR_INVALID_ARGUMENT;
  for (i = 0; i < n_out; ++i)
    if (!outputs[i])
      return KILN_ERROR_INVALID_ARGUMENT;
  if (arena && align > 1 && (uintptr_t)arena % align != 0)
    return KILN_ERROR_ARENA_ALIGNMENT;
  if ((rc = get_state(m, &s)) != KILN_OK)
    return rc;
#ifndef KILN_RUNTIME_SERIAL
  pthread_mutex_lock(&s->run_lock);
#endif
  rc = run_loaded(m, s, inputs, outputs, arena, din, dout);
#ifndef KILN_RUNTIME_SERIAL
  pthread_mutex_unlock(&s->run_lock);
#endif
  return rc;
}

void kiln_gpu_launch(void *state, int32_t kernel, int64_t grid_x,
                     int64_t grid_y, int64_t grid_z, int64_t block_x,
                     int64_t block_y, int64_t block_z, int32_t shared_bytes,
                     void **params) {
  gpu_state *s = (gpu_state *)state;
  const kiln_gpu_model *m = s->model;
  CUresult r;
  if (s->status != KILN_OK)
    return; /* an earlier launch failed: the run is over */
  if (grid_x <= 0 || grid_y <= 0 || grid_z <= 0 || block_x <= 0 ||
      block_y <= 0 || block_z <= 0)
    return; /* no threads: nothing to do */
  if (kernel < 0 || kernel >= m->num_kernels || grid_x > INT_MAX ||
      grid_y > 65535 || grid_z > 65535 || block_x * block_y * block_z > 1024) {
    s->status = device_error(NULL, 0,
                             "kernel %d of model '%s' has a launch the GPU "
                             "cannot take (%lld x %lld x %lld blocks of "
                             "%lld x %lld x %lld)",
                             (int)kernel, m->info->name, (long long)grid_x,
                             (long long)grid_y, (long long)grid_z,
                             (long long)block_x, (long long)block_y,
                             (long long)block_z);
    return;
  }
  s->last_kernel = kernel;
  r = cuda.LaunchKernel(s->kernels[kernel], (unsigned)grid_x, (unsigned)grid_y,
                        (unsigned)grid_z, (unsigned)block_x, (unsigned)block_y,
                        (unsigned)block_z, (unsigned)shared_bytes, s->stream,
                        params, NULL);
  if (r != CUDA_SUCCESS)
    s->status = device_error(NULL, 0, "launching kernel %s of model '%s': %s",
                             m->kernel_names[kernel], m->info->name,
                             cu_error(r));
}
