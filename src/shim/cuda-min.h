/* SPDX-License-Identifier: MIT */
#pragma once

/* The few CUDA driver and NVML types the shim needs, with the drivers' ABI (research
 * note §7, checked against CUDA 13.0's cuda.h and nvml.h), so that corun builds without
 * a CUDA toolkit. */
#include <stddef.h>
#include <stdint.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef unsigned long long CUmemGenericAllocationHandle;
typedef struct CUctx_st *CUcontext;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;
typedef struct CUmemPoolHandle_st *CUmemoryPool;
typedef struct CUuuid {
        unsigned char bytes[16];
} CUuuid;

enum {
        CUDA_SUCCESS = 0,
        CUDA_ERROR_INVALID_VALUE = 1,
        CUDA_ERROR_OUT_OF_MEMORY = 2,
        CUDA_ERROR_NOT_INITIALIZED = 3,
        CUDA_ERROR_NOT_READY = 600,
};

enum {
        CU_STREAM_CAPTURE_STATUS_NONE = 0,
        CU_EVENT_DEFAULT = 0,
        CU_MEM_LOCATION_TYPE_DEVICE = 1,
        CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT = 5,
};

/* cuLaunchKernelEx's configuration (cuda.h 12.0+); the attributes are never read. */
typedef struct CUlaunchConfig {
        unsigned gridDimX, gridDimY, gridDimZ;
        unsigned blockDimX, blockDimY, blockDimZ;
        unsigned sharedMemBytes;
        CUstream hStream;
        void *attrs;
        unsigned numAttrs;
} CUlaunchConfig;

/* CUmemAllocationProp up to its location, the only part read. */
typedef struct CUmemAllocationPropHead {
        int type;
        int requestedHandleTypes;
        int location_type;
        int location_id;
} CUmemAllocationPropHead;

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlMemory_t {
        unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct nvmlMemory_v2_t {
        unsigned version;
        unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;
#define NVML_SUCCESS 0
