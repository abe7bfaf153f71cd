/* SPDX-License-Identifier: MIT */
#pragma once

/* NVML and the CUDA driver API as corun reaches them: loaded with dlopen (never linked,
 * so corun builds and runs without them), with our own minimal types that have the
 * libraries' ABI (no CUDA or NVML header at build time). Each library is loaded and
 * initialised once per process and stays loaded (libcuda does not survive dlclose). */

#include <stddef.h>
#include <stdint.h>

/* ---- NVML ---- */

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15

typedef struct NvmlDevice_ *NvmlDevice;

typedef struct NvmlMemory {
        unsigned long long total, free, used;
} NvmlMemory;

typedef struct NvmlPciInfo {
        char bus_id_legacy[16];
        unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
        char bus_id[32];
} NvmlPciInfo;

typedef struct NvmlProcessUtilizationSample {
        unsigned pid;
        unsigned long long timestamp; /* µs, CPU clock */
        unsigned sm_util, mem_util, enc_util, dec_util;
} NvmlProcessUtilizationSample;

/* nvmlProcessInfo_t of the _v2/_v3 entry points; NvmlProcessInfoV1 of the unversioned one. */
typedef struct NvmlProcessInfo {
        unsigned pid;
        unsigned long long used_gpu_memory;
        unsigned gpu_instance_id, compute_instance_id;
} NvmlProcessInfo;

typedef struct NvmlProcessInfoV1 {
        unsigned pid;
        unsigned long long used_gpu_memory;
} NvmlProcessInfoV1;

typedef struct GpuNvml {
        int (*init)(void);
        const char *(*error_string)(int r);
        int (*system_get_driver_version)(char *buf, unsigned len);
        int (*device_get_count)(unsigned *n);
        int (*device_get_handle_by_index)(unsigned i, NvmlDevice *ret);
        int (*device_get_handle_by_uuid)(const char *uuid, NvmlDevice *ret);
        int (*device_get_uuid)(NvmlDevice d, char *buf, unsigned len);
        int (*device_get_name)(NvmlDevice d, char *buf, unsigned len);
        int (*device_get_memory_info)(NvmlDevice d, NvmlMemory *ret);
        int (*device_get_pci_info)(NvmlDevice d, NvmlPciInfo *ret);
        /* Optional (NULL when this NVML lacks them). */
        int (*device_get_mig_mode)(NvmlDevice d, unsigned *current, unsigned *pending);
        int (*device_get_numa_node_id)(NvmlDevice d, unsigned *node);
        int (*device_get_process_utilization)(NvmlDevice d, NvmlProcessUtilizationSample *samples,
                                              unsigned *count, unsigned long long last_seen);
        /* _v3 or _v2 (NvmlProcessInfo), else the unversioned one (NvmlProcessInfoV1). */
        int (*device_get_compute_running_processes)(NvmlDevice d, unsigned *count, void *infos);
        size_t process_info_size;
        /* Clocks (type NVML_CLOCK_SM), the highest the GPU may run, and why it runs below
         * that now (nvmlDeviceGetCurrentClocksEventReasons, or its older name
         * nvmlDeviceGetCurrentClocksThrottleReasons: NVML_CLOCK_EVENT_* bits). */
        int (*device_get_clock_info)(NvmlDevice d, unsigned type, unsigned *mhz);
        int (*device_get_max_clock_info)(NvmlDevice d, unsigned type, unsigned *mhz);
        int (*device_get_clock_event_reasons)(NvmlDevice d, unsigned long long *reasons);
} GpuNvml;

#define NVML_CLOCK_SM 1

/* The loaded and initialised NVML, or NULL with *ret_why (malloc'ed; may be NULL when
 * out of memory) saying why ("libnvidia-ml.so.1 not found: ..."). */
const GpuNvml *gpu_nvml(char **ret_why);
/* "Not Found" etc., also without NVML. */
const char *gpu_nvml_strerror(const GpuNvml *n, int r);

/* ---- CUDA driver API ---- */

#define CUDA_SUCCESS 0
#define CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT 16

typedef int CuDevice;
typedef struct CuContext_ *CuContext;
typedef struct CuModule_ *CuModule;
typedef struct CuFunction_ *CuFunction;
typedef struct CuStream_ *CuStream;
typedef struct CuEvent_ *CuEvent;
typedef unsigned long long CuDevicePtr;

typedef struct GpuCuda {
        int (*driver_get_version)(int *v);
        int (*device_get_count)(int *n);
        int (*device_get)(CuDevice *ret, int ordinal);
        int (*device_get_name)(char *buf, int len, CuDevice d);
        int (*device_get_uuid)(unsigned char uuid[16], CuDevice d);
        int (*device_get_attribute)(int *v, int attr, CuDevice d);
        int (*primary_ctx_retain)(CuContext *ret, CuDevice d);
        int (*primary_ctx_release)(CuDevice d);
        int (*ctx_set_current)(CuContext c);
        int (*ctx_synchronize)(void);
        int (*module_load_data)(CuModule *ret, const void *image);
        int (*module_get_function)(CuFunction *ret, CuModule m, const char *name);
        int (*launch_kernel)(CuFunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                             unsigned bz, unsigned shared_mem, CuStream s, void **params, void **extra);
        int (*event_create)(CuEvent *ret, unsigned flags);
        int (*event_record)(CuEvent e, CuStream s);
        int (*event_synchronize)(CuEvent e);
        int (*event_destroy)(CuEvent e);
        int (*event_elapsed_time)(float *ms, CuEvent start, CuEvent end);
        int (*mem_alloc)(CuDevicePtr *ret, size_t bytes);
        int (*mem_free)(CuDevicePtr p);
        int (*get_error_string)(int r, const char **ret);
} GpuCuda;

/* The loaded CUDA driver after cuInit(0), or NULL with *ret_why (malloc'ed) saying why.
 * cuInit honours CUDA_VISIBLE_DEVICES of this process. */
const GpuCuda *gpu_cuda(char **ret_why);
/* "out of memory" etc., or "CUDA error N". buf is used when the driver has no text. */
const char *gpu_cuda_strerror(const GpuCuda *c, int r, char *buf, size_t n);

/* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" from the 16 bytes of a CUDA UUID. */
void gpu_uuid_format(const unsigned char uuid[16], char *buf, size_t n);
