/* SPDX-License-Identifier: MIT */
#pragma once

/* GPUs (DESIGN §11): discovery through NVML and the CUDA driver, both loaded with dlopen
 * only (corun builds and runs without them), and the per-job NVML sampler the runner's
 * event loop drives. Devices are matched between NVML and CUDA by UUID, never by index.
 *
 * This header is the contract between discovery/sampling (src/gpu/) and the parts that
 * use it (spec, alloc, exec, result, report). Pure parts (GpuShareAccum) have no system
 * calls and are unit-tested. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alloc/alloc.h"
#include "gpu/clocks.h"
#include "gpu/timeslice.h"
#include "spec/spec.h"
#include "util/macros.h"

#define GPU_UUID_MAX 96
#define GPU_NAME_MAX 96

typedef struct GpuDevice {
        unsigned nvml_index;     /* NVML's index (what nvidia-smi shows) */
        char uuid[GPU_UUID_MAX]; /* "GPU-xxxxxxxx-...", or "MIG-..." */
        char name[GPU_NAME_MAX];
        char pci_bus_id[32];         /* "00000000:3B:00.0" */
        uint64_t memory_total;       /* bytes */
        int numa_node;               /* -1 unknown */
        int mig_mode;                /* 1 on, 0 off, -1 unknown / not supported */
        bool process_util_supported; /* nvmlDeviceGetProcessUtilization works on it */
        unsigned sm_count;           /* from the CUDA driver; 0 unknown */
        unsigned sm_clock_max_mhz;   /* the highest SM clock (NVML); 0 unknown */
        GpuTimeslice timeslice;      /* measured this boot (gpu/timeslice.h); slice_ns 0: not known */
} GpuDevice;

typedef struct GpuHost {
        GpuDevice *devices; /* sorted by PCI bus id (== CUDA_DEVICE_ORDER=PCI_BUS_ID order) */
        size_t n_devices;
        char driver_version[32]; /* "" when unknown */
        int cuda_driver_version; /* cuDriverGetVersion, 0 unknown */
        bool mps_running;        /* an nvidia-cuda-mps-control daemon is reachable */
        char *why_none;          /* n_devices == 0: why ("libnvidia-ml.so.1 not found: ..."); malloc'ed */
        unsigned nvml_count;     /* devices NVML counts (more than n_devices when some do not answer) */
} GpuHost;

/* Discovers the GPUs of this machine. Never fails because there are none: returns 0 with
 * n_devices == 0 and why_none set. Negative errno only on allocation failure. */
int gpu_host_discover(GpuHost **ret);
GpuHost *gpu_host_free(GpuHost *h);
/* Might this machine have NVIDIA GPUs? The driver's control device exists, or the
 * simulated GPU is in use (CORUN_GPU_SIM_STATE: docs/gpu-sim.md). One stat(): what `run`
 * asks before it pays for dlopen'ing NVML (a failed dlopen costs ~0.3 ms). */
bool gpu_host_maybe(void);
DEFINE_TRIVIAL_CLEANUP_FUNC(GpuHost *, gpu_host_free);

/* Looks a device up by UUID (exact) or NVML index; NULL when there is none. */
const GpuDevice *gpu_host_by_uuid(const GpuHost *h, const char *uuid);
const GpuDevice *gpu_host_by_index(const GpuHost *h, unsigned nvml_index);

/* Pure. A job's gpus: against the machine's GPUs. A list (NVML indexes, UUIDs or unique
 * UUID prefixes) gives *ret_mask with bit i for h->devices[i]; a count is only checked
 * (the allocator picks, *ret_mask 0); none/any/unset give 0. Errors start with the
 * request's position ("file:line:col: " or "--gpus: "): -ENOSPC when the machine has too few
 * GPUs (or none, with h->why_none), -EINVAL for a GPU it does not have. Only the first
 * GPU_REQUEST_MAX GPUs of a machine can be assigned. */
int gpu_request_resolve(const GpuRequest *g, const GpuHost *h, const char *job, uint64_t *ret_mask,
                        char **ret_error);
/* Pure. The jobs of one run (reqs[i] with its GpuRequest g[i], GPU lists resolved into
 * gpu_mask) against n_gpus GPUs: an error at the first job whose share does not fit
 * beside the others' (alloc_gpu_shares_fit), -ENOSPC. 0 when they fit. */
int gpu_shares_check(const AllocRequest *reqs, const GpuRequest *const *g, size_t n, unsigned n_gpus,
                     char **ret_error);
/* Pure. CUDA_VISIBLE_DEVICES's value for these GPUs: their UUIDs, comma-separated, in PCI
 * order ("" for an empty mask). */
int gpu_visible_devices(const GpuHost *h, uint64_t mask, char **ret);

/* Pure: the time-weighted SM share of one job on one GPU from NVML per-process samples.
 * Each sample (pid, timestamp in µs, SM util in percent) is counted once by its timestamp
 * (repeats ignored); only pids the caller says belong to the job are counted; the job's
 * share at one timestamp is the sum over its pids (a fork counts twice), capped at 100 %. */
typedef struct GpuShareAccum {
        uint64_t last_ts_usec;  /* newest sample timestamp already counted */
        uint64_t first_ts_usec; /* first window start; 0 before the first sample */
        double weighted_sum;    /* Σ share × Δt (share as a fraction 0–1) */
        double covered_usec;    /* Σ Δt */
        double peak;            /* highest share in one sample period, 0–1 */
        uint64_t memory_peak_bytes;
        uint64_t memory_last_bytes;
        unsigned samples;    /* distinct sample timestamps counted */
        double last_share;   /* share in the newest counted sample period, 0–1 */
        pid_t pids_seen[16]; /* pids of the job that used the GPU (first 16) */
        unsigned n_pids_seen;
        double period_weighted, period_covered; /* the sums at the last gpu_share_accum_period */
        /* The GPU's SM clock at each poll while the job ran (gpu_share_accum_clock). */
        unsigned clock_last_mhz;               /* at the newest poll; 0 unknown */
        uint64_t clock_last_events;            /* NVML's clock event reasons then (gpu/clocks.h) */
        unsigned clock_min_mhz, clock_max_mhz; /* over the polls with the GPU busy */
        double clock_sum_mhz;
        unsigned clock_polls;    /* polls counted in min, max and the sum */
        uint64_t clock_events;   /* every reason seen at those polls */
        bool clock_events_known; /* NVML said why at least once */
} GpuShareAccum;

typedef struct GpuProcSample {
        pid_t pid;
        uint64_t timestamp_usec;
        unsigned sm_util; /* percent of the GPU's SMs, 0–100 */
} GpuProcSample;

/* The live sampler: one per run, owned by the runner's loop. gpu_sampler_poll reads every
 * GPU's process samples newer than the last call (nvmlDeviceGetProcessUtilization with
 * lastSeenTimeStamp) and running-process memory, and feeds each job's GpuShareAccum for
 * the pids the job's cgroup holds. NVML_ERROR_NOT_FOUND means "no new sample", never zero.
 * A GPU that falls off (NVML error) is reported once through *ret_warning and skipped. */
typedef struct GpuSampler GpuSampler;

/* Pure. Feeds one GPU's process samples (any order, repeats allowed) into a job's
 * accumulator: only samples whose pid is in job_pids and whose timestamp is newer than
 * a->last_ts_usec count; Δt of a sample is the time since the previous counted timestamp
 * on this GPU (sample_period_usec for the first). Records the pids seen.
 * Pass every sample of the GPU, not only the job's: the other processes' stamps are what
 * says that time passed while the job was idle (NVML gives no sample for an idle pid).
 * Stamps within half a period of each other are one sample period. A sample stands for
 * at most one period: a longer gap (no busy process on the GPU, so no sample at all)
 * counts as covered time with share 0. */
void gpu_share_accum_add(GpuShareAccum *a, const GpuProcSample *samples, size_t n_samples,
                         const pid_t *job_pids, size_t n_job_pids, uint64_t sample_period_usec);
/* Time-weighted mean share 0–1 (0 when nothing was covered). */
double gpu_share_accum_mean(const GpuShareAccum *a);
/* The time-weighted share over what was counted since the last call (the runner's control
 * period), NAN when no new sample was. */
double gpu_share_accum_period(GpuShareAccum *a);
/* Pure. The GPU's SM clock (MHz; 0 when NVML did not say) and NVML's clock event reasons
 * (events_known false when it did not say) at one poll during the job; on_gpu: the job had
 * a process on the GPU then (gpu_share_accum_memory's answer). Only polls at which the job
 * was on the GPU and the GPU was busy (gpu_idle not set, or not known) count in the
 * clock's min, mean and max and in the reasons seen (gpu_idle never): an idle GPU's clock
 * says nothing about how fast work ran, and the time before the job's process opened the
 * GPU is not the job's. The newest poll is kept whatever it was, for the series. */
void gpu_share_accum_clock(GpuShareAccum *a, unsigned mhz, uint64_t events, bool events_known, bool on_gpu);
/* The mean SM clock over the busy polls, 0 when none was counted. */
double gpu_share_accum_clock_mean(const GpuShareAccum *a);
/* Pure. The job's memory on the GPU now: Σ used bytes of its pids; updates last/peak.
 * Returns whether one of its pids has a process on the GPU. */
bool gpu_share_accum_memory(GpuShareAccum *a, const pid_t *procs_pids, const uint64_t *procs_bytes,
                            size_t n_procs, const pid_t *job_pids, size_t n_job_pids);

/* The sampler. Jobs are registered per GPU (by UUID) with an accumulator the caller owns
 * (it lives in the job, and must stay valid until gpu_sampler_remove_job). At each poll the
 * sampler asks pids_of for the job's current pids (its cgroup's procs): it returns 0 and a
 * malloc'ed array (the sampler frees it; NULL with *ret_n 0 for none), or negative errno
 * (the job is skipped in that round). The sampler also keeps counting pids it was given
 * before, so a process that exited between two polls still has its last samples counted.
 * A job on several GPUs is registered once per GPU, with one accumulator each. */
typedef int (*GpuPidsFn)(void *userdata, uint64_t job_key, pid_t **ret_pids, size_t *ret_n);

int gpu_sampler_new(const GpuHost *h, GpuSampler **ret);
GpuSampler *gpu_sampler_free(GpuSampler *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(GpuSampler *, gpu_sampler_free);
/* Registers a job on the GPU with this UUID (-ENOENT when there is none). The accumulator
 * starts after the GPU's newest sample at this moment (its last_ts_usec is set to it):
 * sample periods that ended before the job was registered are not the job's. */
int gpu_sampler_add_job(GpuSampler *s, uint64_t job_key, const char *uuid, GpuShareAccum *accum);
/* Removes every registration of the job (all its GPUs). */
void gpu_sampler_remove_job(GpuSampler *s, uint64_t job_key);
/* One round over all GPUs with registered jobs. Returns 0, or negative errno; a GPU that
 * fails is reported once in *ret_warning (malloc'ed, NULL when none) and skipped after. */
int gpu_sampler_poll(GpuSampler *s, GpuPidsFn pids_of, void *userdata, char **ret_warning);
/* NVML's sample period of the device (µs) as seen so far; the poll interval to use. */
uint64_t gpu_sampler_period_usec(const GpuSampler *s);
