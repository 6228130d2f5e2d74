/*===- cuda_driver.h - the part of the CUDA driver API Kiln uses -----------===
 *
 * Declared by hand (no CUDA headers or toolkit are needed to build Kiln):
 * the types and constants of the driver's stable C ABI that the runtime
 * (gpu.c, which loads libcuda.so.1 with dlopen) and the tests' fake driver
 * (test/unit/fake_cuda.c) share.
 *===----------------------------------------------------------------------===*/
#ifndef KILN_CUDA_DRIVER_H
#define KILN_CUDA_DRIVER_H

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;
typedef void *CUstream;
typedef unsigned long long CUdeviceptr;

enum {
  /* CUresult */
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_LAUNCH_FAILED = 719,
  /* cuStreamCreate flags */
  CU_STREAM_NON_BLOCKING = 1,
  /* CUpointer_attribute and CUmemorytype */
  CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2,
  CU_MEMORYTYPE_DEVICE = 2,
  CU_MEMORYTYPE_UNIFIED = 4,
  /* CUjit_option */
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
  /* CUdevice_attribute */
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76
};

#endif /* KILN_CUDA_DRIVER_H */
