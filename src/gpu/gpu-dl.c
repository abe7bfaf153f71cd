/* SPDX-License-Identifier: MIT */
/* Loading NVML and the CUDA driver with dlopen, once per process. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "gpu/gpu-dl.h"
#include "util/error.h"
#include "util/macros.h"

/* The struct layouts must match the libraries' (nvml.h of r550, cuda.h of 12.x/13.0). */
_Static_assert(sizeof(NvmlPciInfo) == 68, "nvmlPciInfo_t");
_Static_assert(sizeof(NvmlProcessUtilizationSample) == 32, "nvmlProcessUtilizationSample_t");
_Static_assert(sizeof(NvmlProcessInfo) == 24, "nvmlProcessInfo_t");
_Static_assert(sizeof(NvmlProcessInfoV1) == 16, "nvmlProcessInfo_v1_t");

typedef struct Loaded {
        bool tried;
        bool ok;
        char *why; /* when !ok */
} Loaded;

static GpuNvml nvml;
static Loaded nvml_state;
static GpuCuda cuda;
static Loaded cuda_state;

static void *sym(void *dl, const char *name, const char *fallback) {
        void *p = dlsym(dl, name);
        return p || !fallback ? p : dlsym(dl, fallback);
}

static const void *result(const Loaded *l, const void *table, char **ret_why) {
        if (l->ok)
                return table;
        if (ret_why)
                *ret_why = l->why ? strdup(l->why) : NULL;
        return NULL;
}

const char *gpu_nvml_strerror(const GpuNvml *n, int r) {
        const char *s = n && n->error_string ? n->error_string(r) : NULL;
        return s ? s : "unknown NVML error";
}

/* Why a driver library did not load: "not found" when it is not there at all (the usual
 * case, no driver), else the loader's own words (a broken or mismatched install). */
static void why_not_loaded(char **why, const char *lib) {
        const char *e = dlerror();
        if (!e || strstr(e, "No such file"))
                (void)error_setf(why, -ENOENT, "%s not found (no NVIDIA driver on this machine)", lib);
        else
                (void)error_setf(why, -ENOENT, "%s cannot be loaded: %s", lib, e);
}

static void load_nvml(void) {
        nvml_state.tried = true;
        /* RTLD_NODELETE: handles stay valid for the process's life. */
        void *dl = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!dl) {
                why_not_loaded(&nvml_state.why, "libnvidia-ml.so.1");
                return;
        }
        GpuNvml n = {
                .init = sym(dl, "nvmlInit_v2", "nvmlInit"),
                .error_string = sym(dl, "nvmlErrorString", NULL),
                .system_get_driver_version = sym(dl, "nvmlSystemGetDriverVersion", NULL),
                .device_get_count = sym(dl, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"),
                .device_get_handle_by_index =
                        sym(dl, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"),
                .device_get_handle_by_uuid = sym(dl, "nvmlDeviceGetHandleByUUID", NULL),
                .device_get_uuid = sym(dl, "nvmlDeviceGetUUID", NULL),
                .device_get_name = sym(dl, "nvmlDeviceGetName", NULL),
                .device_get_memory_info = sym(dl, "nvmlDeviceGetMemoryInfo", NULL),
                .device_get_pci_info = sym(dl, "nvmlDeviceGetPciInfo_v3", NULL),
                .device_get_mig_mode = sym(dl, "nvmlDeviceGetMigMode", NULL),
                .device_get_numa_node_id = sym(dl, "nvmlDeviceGetNumaNodeId", NULL),
                .device_get_process_utilization = sym(dl, "nvmlDeviceGetProcessUtilization", NULL),
                .device_get_compute_running_processes = sym(dl, "nvmlDeviceGetComputeRunningProcesses_v3",
                                                            "nvmlDeviceGetComputeRunningProcesses_v2"),
                .process_info_size = sizeof(NvmlProcessInfo),
                .device_get_clock_info = sym(dl, "nvmlDeviceGetClockInfo", NULL),
                .device_get_max_clock_info = sym(dl, "nvmlDeviceGetMaxClockInfo", NULL),
                .device_get_clock_event_reasons = sym(dl, "nvmlDeviceGetCurrentClocksEventReasons",
                                                      "nvmlDeviceGetCurrentClocksThrottleReasons"),
        };
        if (!n.device_get_compute_running_processes) {
                n.device_get_compute_running_processes =
                        sym(dl, "nvmlDeviceGetComputeRunningProcesses", NULL);
                n.process_info_size = sizeof(NvmlProcessInfoV1);
        }
        const char *missing = !n.init                         ? "nvmlInit_v2"
                              : !n.device_get_count           ? "nvmlDeviceGetCount_v2"
                              : !n.device_get_handle_by_index ? "nvmlDeviceGetHandleByIndex_v2"
                              : !n.device_get_handle_by_uuid  ? "nvmlDeviceGetHandleByUUID"
                              : !n.device_get_uuid            ? "nvmlDeviceGetUUID"
                              : !n.device_get_name            ? "nvmlDeviceGetName"
                              : !n.device_get_memory_info     ? "nvmlDeviceGetMemoryInfo"
                              : !n.device_get_pci_info        ? "nvmlDeviceGetPciInfo_v3"
                                                              : NULL;
        if (missing) {
                (void)error_setf(&nvml_state.why, -ENOSYS, "libnvidia-ml.so.1 has no %s (NVML too old)",
                                 missing);
                return;
        }
        int r = n.init();
        if (r != NVML_SUCCESS) {
                (void)error_setf(&nvml_state.why, -EIO, "NVML did not start: %s", gpu_nvml_strerror(&n, r));
                return;
        }
        nvml = n;
        nvml_state.ok = true;
}

const GpuNvml *gpu_nvml(char **ret_why) {
        if (!nvml_state.tried)
                load_nvml();
        return result(&nvml_state, &nvml, ret_why);
}

const char *gpu_cuda_strerror(const GpuCuda *c, int r, char *buf, size_t n) {
        const char *s = NULL;
        if (c && c->get_error_string && c->get_error_string(r, &s) == CUDA_SUCCESS && s)
                return s;
        snprintf(buf, n, "CUDA error %d", r);
        return buf;
}

static void load_cuda(void) {
        cuda_state.tried = true;
        void *dl = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!dl) {
                why_not_loaded(&cuda_state.why, "libcuda.so.1");
                return;
        }
        int (*init)(unsigned) = sym(dl, "cuInit", NULL);
        GpuCuda c = {
                .driver_get_version = sym(dl, "cuDriverGetVersion", NULL),
                .device_get_count = sym(dl, "cuDeviceGetCount", NULL),
                .device_get = sym(dl, "cuDeviceGet", NULL),
                .device_get_name = sym(dl, "cuDeviceGetName", NULL),
                .device_get_uuid = sym(dl, "cuDeviceGetUuid_v2", "cuDeviceGetUuid"),
                .device_get_attribute = sym(dl, "cuDeviceGetAttribute", NULL),
                .primary_ctx_retain = sym(dl, "cuDevicePrimaryCtxRetain", NULL),
                .primary_ctx_release = sym(dl, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"),
                .ctx_set_current = sym(dl, "cuCtxSetCurrent", NULL),
                .ctx_synchronize = sym(dl, "cuCtxSynchronize", NULL),
                .module_load_data = sym(dl, "cuModuleLoadData", NULL),
                .module_get_function = sym(dl, "cuModuleGetFunction", NULL),
                .launch_kernel = sym(dl, "cuLaunchKernel", NULL),
                .event_create = sym(dl, "cuEventCreate", NULL),
                .event_record = sym(dl, "cuEventRecord", NULL),
                .event_synchronize = sym(dl, "cuEventSynchronize", NULL),
                .event_destroy = sym(dl, "cuEventDestroy_v2", "cuEventDestroy"),
                .event_elapsed_time = sym(dl, "cuEventElapsedTime_v2", "cuEventElapsedTime"),
                .mem_alloc = sym(dl, "cuMemAlloc_v2", NULL),
                .mem_free = sym(dl, "cuMemFree_v2", NULL),
                .get_error_string = sym(dl, "cuGetErrorString", NULL),
        };
        void *const need[] = {(void *)init,
                              c.driver_get_version,
                              c.device_get_count,
                              c.device_get,
                              c.device_get_name,
                              c.device_get_uuid,
                              c.device_get_attribute,
                              c.primary_ctx_retain,
                              c.primary_ctx_release,
                              c.ctx_set_current,
                              c.ctx_synchronize,
                              c.module_load_data,
                              c.module_get_function,
                              c.launch_kernel,
                              c.event_create,
                              c.event_record,
                              c.event_synchronize,
                              c.event_destroy,
                              c.mem_alloc,
                              c.mem_free};
        for (size_t i = 0; i < ELEMENTSOF(need); i++)
                if (!need[i]) {
                        (void)error_setf(
                                &cuda_state.why, -ENOSYS,
                                "libcuda.so.1 lacks a driver API entry point corun uses (driver too old)");
                        return;
                }
        int r = init(0);
        if (r != CUDA_SUCCESS) {
                char buf[32];
                (void)error_setf(&cuda_state.why, -EIO, "cuInit failed: %s%s",
                                 gpu_cuda_strerror(&c, r, buf, sizeof buf),
                                 r == 100 ? " (no device visible: check CUDA_VISIBLE_DEVICES)" : "");
                return;
        }
        cuda = c;
        cuda_state.ok = true;
}

const GpuCuda *gpu_cuda(char **ret_why) {
        if (!cuda_state.tried)
                load_cuda();
        return result(&cuda_state, &cuda, ret_why);
}

void gpu_uuid_format(const unsigned char u[16], char *buf, size_t n) {
        snprintf(buf, n, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                 u[15]);
}
