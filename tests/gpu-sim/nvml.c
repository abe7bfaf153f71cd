/* SPDX-License-Identifier: MIT */
/* The fake NVML (libnvidia-ml.so.1) over the simulated GPU (sim.h): device queries, and
 * per-process utilisation samples and memory the way NVML gives them (one sample per
 * busy process per sample period, CPU timestamps in µs, NVML_ERROR_NOT_FOUND when there
 * is nothing newer than lastSeenTimeStamp). NVML indices follow the configured device
 * order, which by default is not PCI order. A device marked lost (gpu-sim-ctl fall-off)
 * answers NVML_ERROR_GPU_IS_LOST. Own minimal types with NVML's ABI. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum {
        NVML_SUCCESS = 0,
        NVML_ERROR_UNINITIALIZED = 1,
        NVML_ERROR_INVALID_ARGUMENT = 2,
        NVML_ERROR_NOT_SUPPORTED = 3,
        NVML_ERROR_NOT_FOUND = 6,
        NVML_ERROR_INSUFFICIENT_SIZE = 7,
        NVML_ERROR_DRIVER_NOT_LOADED = 9,
        NVML_ERROR_GPU_IS_LOST = 15,
        NVML_ERROR_UNKNOWN = 999,
};

typedef struct Handle {
        unsigned magic;
        unsigned index;
} Handle;
#define HANDLE_MAGIC 0x4e564d4cu

typedef struct nvmlMemory_t {
        unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct nvmlMemory_v2_t {
        unsigned int version;
        unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

typedef struct nvmlPciInfo_t {
        char busIdLegacy[16];
        unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
        char busId[32];
} nvmlPciInfo_t;

typedef struct nvmlProcessUtilizationSample_t {
        unsigned int pid;
        unsigned long long timeStamp;
        unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

typedef struct nvmlProcessInfo_v1_t {
        unsigned int pid;
        unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct nvmlProcessInfo_t {
        unsigned int pid;
        unsigned long long usedGpuMemory;
        unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

typedef struct nvmlUtilization_t {
        unsigned int gpu, memory;
} nvmlUtilization_t;

static SimState *S;
static int init_count;
static Handle handles[SIM_MAX_DEVICES];

/* How many sample periods NVML keeps for lastSeenTimeStamp = 0 (the driver's buffer). */
#define HISTORY 20

EXPORT nvmlReturn_t nvmlInit_v2(void) {
        if (!S) {
                S = sim_get();
                if (!S) {
                        fprintf(stderr, "gpu-sim: libnvidia-ml: %s\n", sim_why());
                        return NVML_ERROR_DRIVER_NOT_LOADED;
                }
                for (unsigned i = 0; i < SIM_MAX_DEVICES; i++)
                        handles[i] = (Handle){.magic = HANDLE_MAGIC, .index = i};
        }
        init_count++;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlInit(void) {
        return nvmlInit_v2();
}

EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
        return nvmlInit_v2();
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        init_count--;
        return NVML_SUCCESS;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t r) {
        switch (r) {
        case NVML_SUCCESS:
                return "Success";
        case NVML_ERROR_UNINITIALIZED:
                return "Uninitialized";
        case NVML_ERROR_INVALID_ARGUMENT:
                return "Invalid Argument";
        case NVML_ERROR_NOT_SUPPORTED:
                return "Not Supported";
        case NVML_ERROR_NOT_FOUND:
                return "Not Found";
        case NVML_ERROR_INSUFFICIENT_SIZE:
                return "Insufficient Size";
        case NVML_ERROR_DRIVER_NOT_LOADED:
                return "Driver Not Loaded";
        case NVML_ERROR_GPU_IS_LOST:
                return "GPU is lost";
        default:
                return "Unknown Error";
        }
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *buf, unsigned int len) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        if (!buf)
                return NVML_ERROR_INVALID_ARGUMENT;
        if (strlen(S->driver_version) + 1 > len)
                return NVML_ERROR_INSUFFICIENT_SIZE;
        snprintf(buf, len, "%s", S->driver_version);
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        if (!v)
                return NVML_ERROR_INVALID_ARGUMENT;
        *v = S->cuda_version;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        if (!n)
                return NVML_ERROR_INVALID_ARGUMENT;
        *n = S->n_devices;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *n) {
        return nvmlDeviceGetCount_v2(n);
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, Handle **h) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        if (!h || i >= S->n_devices)
                return NVML_ERROR_INVALID_ARGUMENT;
        *h = &handles[i];
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int i, Handle **h) {
        return nvmlDeviceGetHandleByIndex_v2(i, h);
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, Handle **h) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        if (!uuid || !h)
                return NVML_ERROR_INVALID_ARGUMENT;
        for (unsigned i = 0; i < S->n_devices; i++)
                if (strcasecmp(S->dev[i].uuid, uuid) == 0) {
                        *h = &handles[i];
                        return S->dev[i].lost ? NVML_ERROR_GPU_IS_LOST : NVML_SUCCESS;
                }
        return NVML_ERROR_NOT_FOUND;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, Handle **h) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        if (!bus_id || !h)
                return NVML_ERROR_INVALID_ARGUMENT;
        for (unsigned i = 0; i < S->n_devices; i++)
                if (strcasecmp(S->dev[i].bus_id, bus_id) == 0 ||
                    strcasecmp(S->dev[i].bus_id + 4, bus_id) == 0) {
                        *h = &handles[i];
                        return NVML_SUCCESS;
                }
        return NVML_ERROR_NOT_FOUND;
}

/* The device behind a handle, or an error for a bad or lost one, or for a NULL out. */
static nvmlReturn_t device(const Handle *h, SimDevice **ret, const void *out) {
        if (init_count == 0)
                return NVML_ERROR_UNINITIALIZED;
        if (!h || h->magic != HANDLE_MAGIC || h->index >= S->n_devices || !out)
                return NVML_ERROR_INVALID_ARGUMENT;
        SimDevice *d = &S->dev[h->index];
        if (__atomic_load_n(&d->lost, __ATOMIC_RELAXED))
                return NVML_ERROR_GPU_IS_LOST;
        *ret = d;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetIndex(const Handle *h, unsigned int *index) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, index);
        if (r)
                return r;
        *index = h->index;
        return NVML_SUCCESS;
}

static nvmlReturn_t copy_string(const char *s, char *buf, unsigned int len) {
        if (!buf)
                return NVML_ERROR_INVALID_ARGUMENT;
        if (strlen(s) + 1 > len)
                return NVML_ERROR_INSUFFICIENT_SIZE;
        memcpy(buf, s, strlen(s) + 1);
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(const Handle *h, char *buf, unsigned int len) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, buf);
        return r ? r : copy_string(d->uuid, buf, len);
}

EXPORT nvmlReturn_t nvmlDeviceGetName(const Handle *h, char *buf, unsigned int len) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, buf);
        return r ? r : copy_string(d->name, buf, len);
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(const Handle *h, nvmlMemory_t *m) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, m);
        if (r)
                return r;
        sim_lock(S);
        uint64_t used = sim_mem_used(S, d);
        sim_unlock(S);
        m->total = d->mem_total;
        m->used = used;
        m->free = used < d->mem_total ? d->mem_total - used : 0;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(const Handle *h, nvmlMemory_v2_t *m) {
        nvmlMemory_t v1;
        if (!m)
                return NVML_ERROR_INVALID_ARGUMENT;
        nvmlReturn_t r = nvmlDeviceGetMemoryInfo(h, &v1);
        if (r)
                return r;
        m->total = v1.total;
        m->reserved = 0;
        m->free = v1.free;
        m->used = v1.used;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(const Handle *h, nvmlPciInfo_t *p) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, p);
        if (r)
                return r;
        memset(p, 0, sizeof *p);
        snprintf(p->busIdLegacy, sizeof p->busIdLegacy, "0000:%02X:00.0", d->bus);
        snprintf(p->busId, sizeof p->busId, "%s", d->bus_id);
        p->bus = d->bus;
        p->pciDeviceId = 0x233010de;
        return NVML_SUCCESS;
}

/* Clocks (docs/gpu-sim.md): reported only, the simulation does not run slower for them. */
#define NVML_CLOCK_SM 1
#define NVML_EVENT_GPU_IDLE 0x1ULL

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(const Handle *h, unsigned int type, unsigned int *mhz) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, mhz);
        if (r)
                return r;
        if (type != NVML_CLOCK_SM || d->clock_max_mhz == 0)
                return NVML_ERROR_NOT_SUPPORTED;
        *mhz = d->clock_max_mhz;
        return NVML_SUCCESS;
}

/* The device's clock and why now: busy at its set clock, idle at the idle one. */
static nvmlReturn_t clock_now(const Handle *h, unsigned *ret_mhz, unsigned long long *ret_events,
                              const void *out) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, out);
        if (r)
                return r;
        if (d->clock_max_mhz == 0)
                return NVML_ERROR_NOT_SUPPORTED;
        uint64_t now = sim_now_ns();
        sim_lock(S);
        sim_advance(S, d, now);
        bool busy = sim_busy_now(d, now);
        unsigned mhz = d->clock_mhz ? d->clock_mhz : d->clock_max_mhz;
        unsigned long long events = d->clock_events;
        sim_unlock(S);
        *ret_mhz = busy ? mhz : SIM_CLOCK_IDLE_MHZ;
        *ret_events = busy ? events : events | NVML_EVENT_GPU_IDLE;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(const Handle *h, unsigned int type, unsigned int *mhz) {
        unsigned long long events;
        if (type != NVML_CLOCK_SM && mhz)
                return NVML_ERROR_NOT_SUPPORTED;
        return clock_now(h, mhz, &events, mhz);
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(const Handle *h, unsigned long long *reasons) {
        unsigned mhz;
        return clock_now(h, &mhz, reasons, reasons);
}

/* The older name (NVML before r535); the same answer. */
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(const Handle *h, unsigned long long *reasons) {
        return nvmlDeviceGetCurrentClocksEventReasons(h, reasons);
}

EXPORT nvmlReturn_t nvmlDeviceGetNumaNodeId(const Handle *h, unsigned int *node) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, node);
        if (r)
                return r;
        if (d->numa_node < 0)
                return NVML_ERROR_NOT_SUPPORTED;
        *node = (unsigned)d->numa_node;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(const Handle *h, unsigned int *current, unsigned int *pending) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, current);
        if (r)
                return r;
        if (!pending)
                return NVML_ERROR_INVALID_ARGUMENT;
        if (d->mig_mode < 0)
                return NVML_ERROR_NOT_SUPPORTED;
        *current = *pending = (unsigned)d->mig_mode;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(const Handle *h, nvmlUtilization_t *u) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, u);
        if (r)
                return r;
        SimSample smp[SIM_PERIOD_PIDS];
        uint64_t now = sim_now_ns();
        sim_lock(S);
        sim_advance(S, d, now);
        /* The last complete period: the sum over its processes. */
        unsigned n = sim_samples(S, d, now, 0, 1, smp, SIM_PERIOD_PIDS), sum = 0;
        sim_unlock(S);
        for (unsigned i = 0; i < n && i < SIM_PERIOD_PIDS; i++)
                sum += smp[i].sm_util;
        u->gpu = sum > 100 ? 100 : sum;
        u->memory = 0;
        return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetProcessUtilization(const Handle *h, nvmlProcessUtilizationSample_t *out,
                                                    unsigned int *count, unsigned long long last_seen) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, count);
        if (r)
                return r;
        if (!d->process_util)
                return NVML_ERROR_NOT_SUPPORTED;
        SimSample smp[HISTORY * SIM_PERIOD_PIDS];
        uint64_t now = sim_now_ns();
        sim_lock(S);
        sim_advance(S, d, now);
        unsigned n = sim_samples(S, d, now, last_seen, HISTORY, smp, HISTORY * SIM_PERIOD_PIDS);
        sim_unlock(S);
        if (n == 0)
                return NVML_ERROR_NOT_FOUND;
        if (!out || *count < n) {
                *count = n;
                return NVML_ERROR_INSUFFICIENT_SIZE;
        }
        for (unsigned i = 0; i < n; i++)
                out[i] = (nvmlProcessUtilizationSample_t){
                        .pid = (unsigned)smp[i].pid, .timeStamp = smp[i].ts_usec, .smUtil = smp[i].sm_util};
        *count = n;
        return NVML_SUCCESS;
}

/* The processes with a context on the device and their memory (allocations plus the
 * context's own). */
static nvmlReturn_t running(const Handle *h, unsigned int *count, void *infos, size_t stride, bool v1) {
        SimDevice *d;
        nvmlReturn_t r = device(h, &d, count);
        if (r)
                return r;
        unsigned n = 0;
        sim_lock(S);
        sim_reap(d);
        for (int i = 0; i < SIM_MAX_CTX; i++) {
                const SimCtx *c = &d->ctx[i];
                if (c->pid == 0 || !c->has_context)
                        continue;
                if (infos && n < *count) {
                        unsigned long long mem = c->mem_used + S->ctx_mem;
                        char *slot = (char *)infos + n * stride;
                        if (v1)
                                *(nvmlProcessInfo_v1_t *)slot = (nvmlProcessInfo_v1_t){
                                        .pid = (unsigned)c->pid, .usedGpuMemory = mem};
                        else
                                *(nvmlProcessInfo_t *)slot = (nvmlProcessInfo_t){.pid = (unsigned)c->pid,
                                                                                 .usedGpuMemory = mem,
                                                                                 .gpuInstanceId = ~0u,
                                                                                 .computeInstanceId = ~0u};
                }
                n++;
        }
        sim_unlock(S);
        bool fits = n <= *count && (infos || n == 0);
        *count = n;
        return fits ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_SIZE;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(const Handle *h, unsigned int *count,
                                                            nvmlProcessInfo_t *infos) {
        return running(h, count, infos, sizeof *infos, false);
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(const Handle *h, unsigned int *count,
                                                            nvmlProcessInfo_t *infos) {
        return running(h, count, infos, sizeof *infos, false);
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(const Handle *h, unsigned int *count,
                                                         nvmlProcessInfo_v1_t *infos) {
        return running(h, count, infos, sizeof *infos, true);
}
