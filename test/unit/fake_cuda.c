/*===- fake_cuda.c - a CUDA driver without a GPU, for Kiln's tests ---------===
 *
 * libkiln_fake_cuda.so stands in for libcuda.so.1 (KILN_CUDA_DRIVER=...)
 * so that GPU models run on machines with no GPU:
 *
 * - A model compiled with `kiln compile --gpu-emulate` carries, in place
 *   of PTX, an image of host functions, one per kernel
 *   (lowering/Gpu/GpuEmulate.cpp). cuModuleLoadDataEx takes that image
 *   and cuLaunchKernel runs every thread of the grid, one after the other.
 *   Anything else (real PTX) is refused with CUDA_ERROR_INVALID_IMAGE.
 * - "Device memory" is host memory from this library, filled with 0xff
 *   bytes (NaN as floats) when allocated, so that a kernel reading what no
 *   one wrote shows. cuPointerGetAttribute knows it as device memory.
 * - KILN_FAKE_CUDA selects a failure instead: "no-device" (cuInit says
 *   CUDA_ERROR_NO_DEVICE), "sm_75" (an older GPU than any Kiln targets),
 *   "launch-fails" (every launch returns CUDA_ERROR_LAUNCH_FAILED).
 *
 * Only the functions the Kiln runtime loads (runtime/src/gpu.c) are here.
 *===----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_driver.h"

typedef void (*kernel_entry)(void **params, const uint32_t *ids);
typedef struct {
  const char *name;
  kernel_entry entry;
} emu_kernel; /* what cuModuleGetFunction returns */
typedef struct {
  char magic[8]; /* "KILNEMU1" */
  int64_t count;
  emu_kernel kernels[];
} emu_image;

static int initialized;

static int mode(const char *what) {
  const char *m = getenv("KILN_FAKE_CUDA");
  return m && strcmp(m, what) == 0;
}

/* The allocations, to tell device pointers from host ones. */
enum { MAX_ALLOCS = 4096 };
static struct {
  char *base;
  size_t size;
} allocs[MAX_ALLOCS];
static int num_allocs;

CUresult cuInit(unsigned flags) {
  (void)flags;
  if (mode("no-device"))
    return CUDA_ERROR_NO_DEVICE;
  initialized = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  if (!initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *dev, int ordinal) {
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_VALUE;
  *dev = 0;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
  (void)dev;
  if (len > 0) {
    strncpy(name, "Kiln fake GPU", (size_t)len);
    name[len - 1] = '\0';
  }
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attr, CUdevice dev) {
  (void)dev;
  int old = mode("sm_75");
  if (attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    *value = old ? 7 : 9;
  else if (attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    *value = old ? 5 : 0;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(void **ctx, CUdevice dev) {
  (void)dev;
  *ctx = (void *)&initialized;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(void *ctx) {
  return ctx == (void *)&initialized ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n,
                            int *options, void **values) {
  static const char msg[] =
      "the fake CUDA driver runs --gpu-emulate images only, not PTX";
  const emu_image *img = (const emu_image *)image;
  unsigned i;
  if (!image || memcmp(img->magic, "KILNEMU1", 8) != 0) {
    char *log = NULL;
    size_t size = 0;
    for (i = 0; i < n; ++i) {
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        log = (char *)values[i];
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        size = (size_t)(uintptr_t)values[i];
    }
    if (log && size > 0) {
      strncpy(log, msg, size);
      log[size - 1] = '\0';
    }
    return CUDA_ERROR_INVALID_IMAGE;
  }
  *module = (void *)img;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(void **fn, void *module, const char *name) {
  const emu_image *img = (const emu_image *)module;
  int64_t i;
  for (i = 0; i < img->count; ++i)
    if (strcmp(img->kernels[i].name, name) == 0) {
      *fn = (void *)&img->kernels[i];
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t size) {
  size_t rounded = (size + 255) / 256 * 256;
  char *p;
  if (num_allocs == MAX_ALLOCS)
    return CUDA_ERROR_OUT_OF_MEMORY;
  p = aligned_alloc(256, rounded ? rounded : 256);
  if (!p)
    return CUDA_ERROR_OUT_OF_MEMORY;
  memset(p, 0xff, rounded);
  allocs[num_allocs].base = p;
  allocs[num_allocs].size = size;
  ++num_allocs;
  *ptr = (CUdeviceptr)(uintptr_t)p;
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
  memcpy((void *)(uintptr_t)dst, src, n);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n,
                              void *stream) {
  (void)stream;
  return cuMemcpyHtoD_v2(dst, src, n);
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n,
                              void *stream) {
  (void)stream;
  memcpy(dst, (const void *)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}

CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = (void *)&num_allocs;
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        void *stream, void **params, void **extra) {
  kernel_entry entry = ((const emu_kernel *)fn)->entry;
  uint32_t ids[12];
  unsigned x, y, z, tx, ty, tz;
  (void)stream;
  (void)extra;
  if (mode("launch-fails"))
    return CUDA_ERROR_LAUNCH_FAILED;
  if (shared != 0 || bx * by * bz > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  /* tid, ntid, ctaid, nctaid; each x, y, z */
  ids[3] = bx, ids[4] = by, ids[5] = bz;
  ids[9] = gx, ids[10] = gy, ids[11] = gz;
  for (z = 0; z < gz; ++z)
    for (y = 0; y < gy; ++y)
      for (x = 0; x < gx; ++x)
        for (tz = 0; tz < bz; ++tz)
          for (ty = 0; ty < by; ++ty)
            for (tx = 0; tx < bx; ++tx) {
              ids[0] = tx, ids[1] = ty, ids[2] = tz;
              ids[6] = x, ids[7] = y, ids[8] = z;
              entry(params, ids);
            }
  return CUDA_SUCCESS;
}

CUresult cuPointerGetAttribute(void *data, int attr, CUdeviceptr ptr) {
  const char *p = (const char *)(uintptr_t)ptr;
  int i;
  if (attr != CU_POINTER_ATTRIBUTE_MEMORY_TYPE)
    return CUDA_ERROR_INVALID_VALUE;
  for (i = 0; i < num_allocs; ++i)
    if (p >= allocs[i].base && p < allocs[i].base + allocs[i].size) {
      *(unsigned *)data = CU_MEMORYTYPE_DEVICE;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}

static const struct {
  CUresult code;
  const char *name, *text;
} errors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED",
     "initialization error"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE",
     "device kernel image is invalid"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED",
     "unspecified launch failure"},
};

/* The table's entry for `r`, or -1. */
static int find_error(CUresult r) {
  int i;
  for (i = 0; i < (int)(sizeof errors / sizeof errors[0]); ++i)
    if (errors[i].code == r)
      return i;
  return -1;
}

CUresult cuGetErrorName(CUresult r, const char **name) {
  int i = find_error(r);
  if (i < 0)
    return CUDA_ERROR_INVALID_VALUE;
  *name = errors[i].name;
  return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult r, const char **text) {
  int i = find_error(r);
  if (i < 0)
    return CUDA_ERROR_INVALID_VALUE;
  *text = errors[i].text;
  return CUDA_SUCCESS;
}
