/* SPDX-License-Identifier: MIT */
/* The live GPU sampler: each poll reads every GPU's process samples newer than the last
 * poll (nvmlDeviceGetProcessUtilization with lastSeenTimeStamp) and its processes'
 * memory, and feeds each registered job's accumulator for that job's own pids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu-dl.h"
#include "gpu/gpu.h"
#include "util/error.h"
#include "util/macros.h"

#define DEFAULT_PERIOD_USEC UINT64_C(166667)
/* A pid of a job stays counted for this many polls after it left the job's pid list: its
 * last period's sample comes one period after it ran. Dropping it then keeps a reused pid
 * from being counted for the wrong job. */
#define KNOWN_POLLS 4
#define KNOWN_MAX 4096

typedef struct Known {
        pid_t pid;
        uint64_t poll; /* the last poll that listed it */
} Known;

typedef struct SamplerJob {
        uint64_t key;
        size_t dev;
        GpuShareAccum *accum;
        Known *known;
        size_t n_known;
} SamplerJob;

typedef struct SamplerDev {
        char uuid[GPU_UUID_MAX];
        unsigned nvml_index;
        NvmlDevice handle;
        bool have_handle;
        bool failed;        /* an NVML error: warned once, skipped since */
        bool no_util;       /* process utilisation not supported: warned once, memory only */
        bool baseline;      /* last_seen starts after what NVML held before the first job */
        bool no_clock;      /* NVML gives no SM clock here: not asked again */
        bool no_events;     /* ... no clock event reasons */
        uint64_t last_seen; /* newest sample timestamp read, µs */
        uint64_t period;    /* smallest gap seen between two sample periods, µs; 0 unknown */
        NvmlProcessUtilizationSample *raw;
        unsigned raw_cap;
        GpuProcSample *samples;
        size_t n_samples;
        void *procs; /* NvmlProcessInfo or NvmlProcessInfoV1 */
        unsigned procs_cap;
        pid_t *proc_pids;
        uint64_t *proc_bytes;
        size_t n_procs;
} SamplerDev;

struct GpuSampler {
        const GpuNvml *nvml;
        SamplerDev *devs;
        size_t n_devs;
        SamplerJob *jobs;
        size_t n_jobs;
        uint64_t polls;
};

GpuSampler *gpu_sampler_free(GpuSampler *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_devs; i++) {
                SamplerDev *d = &s->devs[i];
                free(d->raw);
                free(d->samples);
                free(d->procs);
                free(d->proc_pids);
                free(d->proc_bytes);
        }
        for (size_t i = 0; i < s->n_jobs; i++)
                free(s->jobs[i].known);
        free(s->devs);
        free(s->jobs);
        free(s);
        return NULL;
}

int gpu_sampler_new(const GpuHost *h, GpuSampler **ret) {
        _cleanup_(gpu_sampler_freep) GpuSampler *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->nvml = gpu_nvml(NULL);
        if (!s->nvml || h->n_devices == 0)
                return -ENODEV;
        s->devs = calloc(h->n_devices, sizeof *s->devs);
        if (!s->devs)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_devices; i++) {
                snprintf(s->devs[i].uuid, sizeof s->devs[i].uuid, "%s", h->devices[i].uuid);
                s->devs[i].nvml_index = h->devices[i].nvml_index;
                s->devs[i].no_util = !h->devices[i].process_util_supported;
        }
        s->n_devs = h->n_devices;
        *ret = TAKE_PTR(s);
        return 0;
}

static int read_grow(const GpuSampler *s, SamplerDev *d, bool util, unsigned *ret_n);

/* The newest sample stamp on the device now, without taking the samples from the jobs
 * already registered there (0 when there is none, or on any error: poll reports those). */
static uint64_t newest_sample(GpuSampler *s, SamplerDev *d) {
        unsigned n = 0;
        uint64_t newest = d->last_seen;
        if (d->failed || d->no_util)
                return newest;
        if (!d->have_handle && s->nvml->device_get_handle_by_uuid(d->uuid, &d->handle) != NVML_SUCCESS)
                return newest;
        d->have_handle = true;
        if (read_grow(s, d, true, &n) != NVML_SUCCESS)
                return newest;
        for (unsigned i = 0; i < MIN(n, d->raw_cap); i++)
                newest = MAX(newest, (uint64_t)d->raw[i].timestamp);
        return newest;
}

int gpu_sampler_add_job(GpuSampler *s, uint64_t job_key, const char *uuid, GpuShareAccum *accum) {
        size_t dev = 0;
        while (dev < s->n_devs && strcasecmp(s->devs[dev].uuid, uuid) != 0)
                dev++;
        if (dev == s->n_devs)
                return -ENOENT;
        SamplerJob *jobs = reallocarray(s->jobs, s->n_jobs + 1, sizeof *jobs);
        if (!jobs)
                return -ENOMEM;
        s->jobs = jobs;
        SamplerDev *d = &s->devs[dev];
        /* Sample periods that ended before the job was registered are not the job's. */
        uint64_t newest = newest_sample(s, d);
        if (!d->baseline) {
                /* Nobody was measured on it yet: what NVML holds from before is nobody's. */
                d->baseline = true;
                d->last_seen = newest;
        }
        if (newest > accum->last_ts_usec) {
                accum->last_ts_usec = newest;
                if (accum->first_ts_usec == 0)
                        accum->first_ts_usec = newest;
        }
        s->jobs[s->n_jobs++] = (SamplerJob){.key = job_key, .dev = dev, .accum = accum};
        return 0;
}

void gpu_sampler_remove_job(GpuSampler *s, uint64_t job_key) {
        size_t k = 0;
        for (size_t i = 0; i < s->n_jobs; i++) {
                if (s->jobs[i].key == job_key) {
                        free(s->jobs[i].known);
                        continue;
                }
                s->jobs[k++] = s->jobs[i];
        }
        s->n_jobs = k;
}

uint64_t gpu_sampler_period_usec(const GpuSampler *s) {
        uint64_t p = 0;
        for (size_t i = 0; s && i < s->n_devs; i++)
                if (s->devs[i].period > 0 && (p == 0 || s->devs[i].period < p))
                        p = s->devs[i].period;
        return p > 0 ? p : DEFAULT_PERIOD_USEC;
}

/* A device that fails is reported once, in one message per poll for all of them. */
static void dev_fail(const GpuSampler *s, SamplerDev *d, const char *what, int r, char **warning) {
        _cleanup_free_ char *prev = *warning ? TAKE_PTR(*warning) : NULL;
        d->failed = true;
        (void)error_setf(warning, 0, "%s%sGPU %u (%s): %s: %s; its jobs are not measured on it from now on",
                         prev ? prev : "", prev ? "; " : "", d->nvml_index, d->uuid, what,
                         gpu_nvml_strerror(s->nvml, r));
}

static void dev_note(SamplerDev *d, const char *text, char **warning) {
        _cleanup_free_ char *prev = *warning ? TAKE_PTR(*warning) : NULL;
        (void)error_setf(warning, 0, "%s%sGPU %u (%s): %s", prev ? prev : "", prev ? "; " : "",
                         d->nvml_index, d->uuid, text);
}

/* Calls an NVML "fill this array" function, growing the array while NVML asks for more.
 * Returns NVML's answer. */
static int read_grow(const GpuSampler *s, SamplerDev *d, bool util, unsigned *ret_n) {
        for (int attempt = 0; attempt < 4; attempt++) {
                unsigned n = util ? d->raw_cap : d->procs_cap;
                int r = util ? s->nvml->device_get_process_utilization(d->handle, d->raw, &n, d->last_seen)
                             : s->nvml->device_get_compute_running_processes(d->handle, &n, d->procs);
                if (r != NVML_ERROR_INSUFFICIENT_SIZE) {
                        *ret_n = n;
                        return r;
                }
                unsigned cap = MAX(n + 16, (util ? d->raw_cap : d->procs_cap) * 2);
                if (cap > 65536)
                        return r;
                if (util) {
                        void *p = reallocarray(d->raw, cap, sizeof *d->raw);
                        if (!p)
                                return r;
                        d->raw = p;
                        d->raw_cap = cap;
                } else {
                        void *p = reallocarray(d->procs, cap, s->nvml->process_info_size);
                        if (!p)
                                return r;
                        d->procs = p;
                        d->procs_cap = cap;
                }
        }
        return NVML_ERROR_INSUFFICIENT_SIZE;
}

/* The smallest gap between two successive sample stamps: NVML's sample period. */
static void learn_period(SamplerDev *d, uint64_t prev_last) {
        uint64_t prev = prev_last;
        for (uint64_t t;; prev = t) {
                t = 0;
                for (size_t i = 0; i < d->n_samples; i++)
                        if (d->samples[i].timestamp_usec > prev &&
                            (t == 0 || d->samples[i].timestamp_usec < t))
                                t = d->samples[i].timestamp_usec;
                if (t == 0)
                        break;
                /* Stamps of one period may differ a little; periods are at least 10 ms. */
                if (prev > 0 && t - prev >= 10000 && (d->period == 0 || t - prev < d->period))
                        d->period = t - prev;
        }
}

static int read_samples(GpuSampler *s, SamplerDev *d, char **warning) {
        unsigned n = 0;
        d->n_samples = 0;
        if (d->no_util)
                return 0;
        int r = read_grow(s, d, true, &n);
        if (r == NVML_ERROR_NOT_FOUND)
                n = 0; /* no new sample: nothing happened, not "zero" */
        else if (r == NVML_ERROR_NOT_SUPPORTED || r == NVML_ERROR_NO_PERMISSION) {
                d->no_util = true;
                dev_note(d, "NVML gives no per-process utilisation here: its jobs' SM share is not measured",
                         warning);
                return 0;
        } else if (r != NVML_SUCCESS) {
                dev_fail(s, d, "nvmlDeviceGetProcessUtilization", r, warning);
                return -EIO;
        }
        n = MIN(n, d->raw_cap);
        if (n > 0) {
                GpuProcSample *p = reallocarray(d->samples, n, sizeof *p);
                if (!p)
                        return -ENOMEM;
                d->samples = p;
        }
        uint64_t prev_last = d->last_seen;
        for (unsigned i = 0; i < n; i++) {
                d->samples[i] = (GpuProcSample){.pid = (pid_t)d->raw[i].pid,
                                                .timestamp_usec = d->raw[i].timestamp,
                                                .sm_util = d->raw[i].sm_util};
                d->last_seen = MAX(d->last_seen, d->raw[i].timestamp);
        }
        d->n_samples = n;
        learn_period(d, prev_last);
        return 0;
}

static int read_memory(GpuSampler *s, SamplerDev *d, char **warning) {
        unsigned n = 0;
        d->n_procs = 0;
        if (!s->nvml->device_get_compute_running_processes)
                return 0;
        int r = read_grow(s, d, false, &n);
        if (r == NVML_ERROR_GPU_IS_LOST) {
                dev_fail(s, d, "nvmlDeviceGetComputeRunningProcesses", r, warning);
                return -EIO;
        }
        if (r != NVML_SUCCESS)
                return 0; /* memory unknown this round */
        n = MIN(n, d->procs_cap);
        if (n == 0)
                return 0;
        pid_t *pids = reallocarray(d->proc_pids, n, sizeof *pids);
        if (pids)
                d->proc_pids = pids;
        uint64_t *bytes = reallocarray(d->proc_bytes, n, sizeof *bytes);
        if (bytes)
                d->proc_bytes = bytes;
        if (!pids || !bytes)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                const char *p = (const char *)d->procs + (size_t)i * s->nvml->process_info_size;
                /* Both layouts start with pid and used_gpu_memory. */
                const NvmlProcessInfoV1 *info = (const NvmlProcessInfoV1 *)p;
                d->proc_pids[i] = (pid_t)info->pid;
                /* NVML_VALUE_NOT_AVAILABLE (all ones) when it cannot tell, e.g. in containers. */
                d->proc_bytes[i] = info->used_gpu_memory == ~0ULL ? 0 : info->used_gpu_memory;
        }
        d->n_procs = n;
        return 0;
}

/* The SM clock and why it is below the highest now: 0 and not known when NVML cannot
 * tell (asked again next poll, unless it does not support the question on this GPU). */
static void read_clocks(const GpuSampler *s, SamplerDev *d, unsigned *ret_mhz, uint64_t *ret_events,
                        bool *ret_known) {
        unsigned mhz = 0;
        unsigned long long events = 0;
        *ret_mhz = 0;
        *ret_events = 0;
        *ret_known = false;
        if (!d->no_clock && s->nvml->device_get_clock_info) {
                int r = s->nvml->device_get_clock_info(d->handle, NVML_CLOCK_SM, &mhz);
                if (r == NVML_SUCCESS)
                        *ret_mhz = mhz;
                else if (r == NVML_ERROR_NOT_SUPPORTED)
                        d->no_clock = true;
        }
        if (!d->no_events && s->nvml->device_get_clock_event_reasons) {
                int r = s->nvml->device_get_clock_event_reasons(d->handle, &events);
                if (r == NVML_SUCCESS) {
                        *ret_events = events;
                        *ret_known = true;
                } else if (r == NVML_ERROR_NOT_SUPPORTED)
                        d->no_events = true;
        }
}

/* The job's pids: those listed now, and those listed in the last few polls. */
static int job_pids(GpuSampler *s, SamplerJob *j, GpuPidsFn pids_of, void *userdata, pid_t **ret,
                    size_t *ret_n) {
        _cleanup_free_ pid_t *now = NULL;
        size_t n_now = 0;
        int r = pids_of(userdata, j->key, &now, &n_now);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_now; i++) {
                size_t k = 0;
                while (k < j->n_known && j->known[k].pid != now[i])
                        k++;
                if (k == j->n_known) {
                        if (j->n_known >= KNOWN_MAX)
                                continue;
                        Known *p = reallocarray(j->known, j->n_known + 1, sizeof *p);
                        if (!p)
                                return -ENOMEM;
                        j->known = p;
                        j->known[j->n_known++].pid = now[i];
                }
                j->known[k].poll = s->polls;
        }
        size_t k = 0;
        for (size_t i = 0; i < j->n_known; i++)
                if (s->polls - j->known[i].poll <= KNOWN_POLLS)
                        j->known[k++] = j->known[i];
        j->n_known = k;
        pid_t *pids = calloc(MAX(k, (size_t)1), sizeof *pids);
        if (!pids)
                return -ENOMEM;
        for (size_t i = 0; i < k; i++)
                pids[i] = j->known[i].pid;
        *ret = pids;
        *ret_n = k;
        return 0;
}

int gpu_sampler_poll(GpuSampler *s, GpuPidsFn pids_of, void *userdata, char **ret_warning) {
        _cleanup_free_ char *warning = NULL;
        int r = 0;

        s->polls++;
        for (size_t di = 0; di < s->n_devs; di++) {
                SamplerDev *d = &s->devs[di];
                bool used = false;
                for (size_t i = 0; i < s->n_jobs && !used; i++)
                        used = s->jobs[i].dev == di;
                if (!used || d->failed)
                        continue;
                if (!d->have_handle) {
                        int e = s->nvml->device_get_handle_by_uuid(d->uuid, &d->handle);
                        if (e != NVML_SUCCESS) {
                                dev_fail(s, d, "nvmlDeviceGetHandleByUUID", e, &warning);
                                continue;
                        }
                        d->have_handle = true;
                }
                int e = read_samples(s, d, &warning);
                if (e == -ENOMEM)
                        r = e;
                if (e < 0)
                        continue;
                e = read_memory(s, d, &warning);
                if (e == -ENOMEM)
                        r = e;
                if (e < 0)
                        continue;
                unsigned mhz;
                uint64_t events;
                bool events_known;
                read_clocks(s, d, &mhz, &events, &events_known);
                for (size_t i = 0; i < s->n_jobs; i++) {
                        SamplerJob *j = &s->jobs[i];
                        _cleanup_free_ pid_t *pids = NULL;
                        size_t n = 0;
                        if (j->dev != di)
                                continue;
                        e = job_pids(s, j, pids_of, userdata, &pids, &n);
                        if (e == -ENOMEM)
                                r = e;
                        if (e < 0)
                                continue;
                        gpu_share_accum_add(j->accum, d->samples, d->n_samples, pids, n,
                                            d->period > 0 ? d->period : DEFAULT_PERIOD_USEC);
                        bool on = gpu_share_accum_memory(j->accum, d->proc_pids, d->proc_bytes, d->n_procs,
                                                         pids, n);
                        gpu_share_accum_clock(j->accum, mhz, events, events_known, on);
                }
        }
        if (ret_warning)
                *ret_warning = TAKE_PTR(warning);
        return r;
}
