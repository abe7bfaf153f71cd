/* SPDX-License-Identifier: MIT */
#pragma once

/* The GPU limit region (DESIGN §11, docs/gpu.md "Caps and memory limits"): the contract
 * between the runner, which creates one region per job that has a GPU share or a GPU
 * memory limit, and the shim libcorun-cuda.so, which every process of that job loads
 * (LD_PRELOAD) and which maps the region named by CORUN_GPU_REGION.
 *
 * One file per job (/dev/shm/corun-<run>-<job>.gpu, mode 0600, owned by the job's user),
 * created, journalled and removed by the runner. Fixed size, no pointers, no locks: every
 * shared field is a lock-free atomic, so a process killed with SIGKILL at any instruction
 * leaves nothing held. Per-process state (pointer → size maps, cost estimates, events)
 * stays in the process; the region holds only what the job's processes share and what the
 * runner reads or writes.
 *
 * Who writes what:
 *   runner, at creation:       header, gpu[i].uuid/memory_limit/depth_ns/inflight_max_ns/
 *                              mode/timeslice, gpu[i].tokens_ns = depth, refill_ns = now
 *   runner, every control period: gpu[i].rate_ppm (the controller's refill rate)
 *   shim, every launch:        tokens_ns, refill_ns (lazy refill), counters
 *   shim, allocations:         memory_used, proc[k]
 *   shim, first CUDA call:     claims a proc slot (CAS on pid 0 → getpid())
 *   either:                    a proc slot of a dead process is released by whoever sees it
 *                              dead (CAS pid → -1, bytes moved out of memory_used, pid → 0)
 *   runner, every sample tick: gpu[i].memory_untracked (NVML's bytes for the job − memory_used)
 *   runner, every control period: gpu[i].others_busy_ppm
 *
 * GPU index i is the i-th UUID of the job's CUDA_VISIBLE_DEVICES (PCI order); the shim
 * finds a device's entry by its UUID, never by its CUDA ordinal, since a process may
 * narrow CUDA_VISIBLE_DEVICES itself. Tokens are GPU time in nanoseconds. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define GPU_REGION_ENV "CORUN_GPU_REGION"
#define GPU_REGION_MAGIC UINT64_C(0x5550476e75726f63) /* "corunGPU" */
#define GPU_REGION_VERSION 3u
#define GPU_REGION_GPUS 8    /* GPUs of one job */
#define GPU_REGION_PROCS 128 /* processes of one job that used CUDA at once */

/* rate_ppm: GPU-ns of tokens per 10^6 wall-ns (1 000 000 = the whole GPU). UNLIMITED:
 * the shim does not charge (share 100, or only a memory limit) but still counts. */
#define GPU_RATE_ONE UINT64_C(1000000)
#define GPU_RATE_UNLIMITED UINT64_MAX

/* Launch entry points the shim counts (result.json "launches" per entry point). */
typedef enum GpuEntry {
        GPU_ENTRY_LAUNCH,            /* cuLaunchKernel */
        GPU_ENTRY_LAUNCH_PTSZ,       /* cuLaunchKernel_ptsz */
        GPU_ENTRY_LAUNCH_EX,         /* cuLaunchKernelEx */
        GPU_ENTRY_LAUNCH_EX_PTSZ,    /* cuLaunchKernelEx_ptsz */
        GPU_ENTRY_COOPERATIVE,       /* cuLaunchCooperativeKernel */
        GPU_ENTRY_COOPERATIVE_PTSZ,  /* cuLaunchCooperativeKernel_ptsz */
        GPU_ENTRY_GRAPH,             /* cuGraphLaunch */
        GPU_ENTRY_GRAPH_PTSZ,        /* cuGraphLaunch_ptsz */
        GPU_ENTRY_CAPTURED,          /* any launch made while its stream was capturing (not charged) */
        _GPU_ENTRY_MAX,
} GpuEntry;

/* Names as result.json and docs spell them, indexed by GpuEntry. */
#define GPU_ENTRY_NAMES                                                                            \
        {"cuLaunchKernel",           "cuLaunchKernel_ptsz", "cuLaunchKernelEx",                    \
         "cuLaunchKernelEx_ptsz",    "cuLaunchCooperativeKernel", "cuLaunchCooperativeKernel_ptsz", \
         "cuGraphLaunch",            "cuGraphLaunch_ptsz",  "captured"}

typedef struct GpuRegionGpu {
        /* Set by the runner at creation, read-only after. */
        char uuid[96];           /* "GPU-..." : which GPU this entry is */
        uint64_t memory_limit;   /* bytes the job may allocate on it; 0 = no limit */
        int64_t depth_ns;        /* bucket depth (GPU ns), 50–100 ms */
        int64_t inflight_max_ns; /* most estimated GPU work in flight per process before it waits */
        uint32_t share_ppm;      /* the requested share (cap or guarantee), 10^6 = 100 % */
        uint32_t pad0;
        /* The GPU's time slice and switch as measured this boot (gpu/timeslice.h, `corun
         * doctor --gpu-timeslice`); 0: not measured, the shim takes GPU_TIMESLICE_NS and
         * GPU_TIMESLICE_SWITCH_NS. */
        int64_t timeslice_ns;
        int64_t timeslice_switch_ns;

        /* The controller (runner) → the shim. */
        _Atomic uint64_t rate_ppm; /* refill rate; GPU_RATE_UNLIMITED: no charging */

        /* The bucket, shared by all processes of the job. May go negative (a debt the next
         * launches wait off). */
        _Atomic int64_t tokens_ns;
        _Atomic uint64_t refill_ns; /* CLOCK_MONOTONIC ns up to which tokens were refilled */

        /* Counters, cumulative, written by the shim, read by the runner. */
        _Atomic uint64_t charged_ns;   /* estimated GPU time charged to the bucket; never
                                          decreases (a refused launch's refund is in tokens only) */
        _Atomic uint64_t measured_ns;  /* GPU time the shim measured with events (0 if none) */
        _Atomic uint64_t throttled_ns; /* wall time the job's processes waited (tokens or in flight) */
        _Atomic uint64_t waits;        /* how many times a launch waited: the job is backlogged */
        _Atomic uint64_t launches[_GPU_ENTRY_MAX];

        /* Memory: bytes allocated through the checked entry points, whole job. */
        _Atomic uint64_t memory_used;
        _Atomic uint64_t memory_peak;
        _Atomic uint64_t memory_refused; /* allocations refused with CUDA_ERROR_OUT_OF_MEMORY */

        /* What the launches the shim timed (measured_ns) had been charged: measured_ns /
         * sampled_ns is the estimator's bias, which the controller may divide out. The
         * shim times a sample of launches (docs/gpu.md), so measured_ns alone is not the
         * job's GPU time. */
        _Atomic uint64_t sampled_ns;

        /* The runner → the shim: bytes the job holds on this GPU that the shim did not
         * allocate (its CUDA contexts, libraries' own allocations), as NVML measures them
         * for the job's pids minus memory_used, refreshed every sample tick. Allocation
         * checks and cuMemGetInfo count them against the limit too, so a framework that
         * fills what cuMemGetInfo reports stays under the limit NVML sees. */
        _Atomic uint64_t memory_untracked;
        /* The runner → the shim (limiter.h, GpuLimitAttribution.others_busy; 0 while only
         * limited tenants use the GPU): how likely another context has work queued while
         * this job's kernels run (10^6 = always: an uncapped job that never idles). A
         * kernel longer than a time slice then runs in slices between the others', and
         * its timing holds theirs too: the shim takes them out (gpu_timeslice_own_ns). */
        _Atomic uint32_t others_busy_ppm;
        uint32_t pad1;
        /* The shim → the runner: cost estimates it took from timings with a busy
         * neighbour's slices taken out (gpu_timeslice_own_ns), cumulative. */
        _Atomic uint64_t sliced_estimates;
} GpuRegionGpu;

/* How long a context runs before the GPU switches to another that has work, and the
 * switch itself, as measured on an NVIDIA H200 (driver 580; bench/gpu-timeslice.py,
 * docs/performance.md): 2.09 ms slices, 153 us idle per switch. */
#define GPU_TIMESLICE_NS INT64_C(2090000)
#define GPU_TIMESLICE_SWITCH_NS INT64_C(153000)

/* The GPU time of a kernel whose timing (its events' elapsed time) was `wall_ns` while one
 * other context had work queued throughout: the GPU then ran it in slices of `slice_ns`,
 * and each time it was switched out the other ran a slice, with a switch before and after
 * (away = slice + 2 switches). A kernel of m·slice or more is switched out about m times
 * (its first slice may have begun before it did: m or m−1 times), so the number of
 * switches is wall / (slice + away), rounded. Pure; 1 at least. */
static inline int64_t gpu_timeslice_own_ns(int64_t wall_ns, int64_t slice_ns, int64_t switch_ns) {
        int64_t away = slice_ns + 2 * switch_ns;
        if (wall_ns <= slice_ns || slice_ns <= 0)
                return wall_ns > 0 ? wall_ns : 1;
        int64_t m = (wall_ns + (slice_ns + away) / 2) / (slice_ns + away);
        int64_t own = wall_ns - m * away;
        return own > 0 ? own : 1;
}

/* GpuRegionProc.pid while one reaper moves a dead process's bytes out (never claimed). */
#define GPU_REGION_REAPING (-1)

typedef struct GpuRegionProc {
        _Atomic int32_t pid; /* 0: free; GPU_REGION_REAPING: being released */
        uint32_t pad0;
        _Atomic uint64_t memory_bytes[GPU_REGION_GPUS]; /* what this process holds of memory_used */
} GpuRegionProc;

typedef struct GpuRegion {
        uint64_t magic;   /* GPU_REGION_MAGIC, written last by the runner */
        uint32_t version; /* GPU_REGION_VERSION */
        uint32_t size;    /* sizeof(GpuRegion) */
        uint32_t n_gpus;  /* entries of gpu[] in use */
        /* The shims → the runner: look-ups (cuGetProcAddress) of entry points the shim
         * wraps that the driver answered with an address the shim does not know (not the
         * exported symbol's): calls through them pass the shim by, uncounted. */
        _Atomic uint32_t unmapped_lookups;
        _Atomic uint64_t procs_claimed; /* slots ever claimed (diagnostics) */
        GpuRegionGpu gpu[GPU_REGION_GPUS];
        GpuRegionProc proc[GPU_REGION_PROCS];
} GpuRegion;

/* ---- The bucket arithmetic, shared by the shim and the controller's plant model. Pure:
 * `now` is CLOCK_MONOTONIC ns passed in. ---- */

/* Refill lazily up to now: tokens += rate · (now − refill_ns), capped at depth. One CAS on
 * refill_ns decides which process adds the tokens of an interval, so none is counted
 * twice. */
static inline void gpu_bucket_refill(GpuRegionGpu *g, uint64_t now) {
        uint64_t rate = atomic_load_explicit(&g->rate_ppm, memory_order_relaxed);
        uint64_t last = atomic_load_explicit(&g->refill_ns, memory_order_relaxed);
        if (rate == GPU_RATE_UNLIMITED || now <= last)
                return;
        if (!atomic_compare_exchange_strong_explicit(&g->refill_ns, &last, now, memory_order_relaxed,
                                                     memory_order_relaxed))
                return; /* another process refilled this interval */
        uint64_t dt = now - last;
        /* dt · rate / 10^6, or "a lot" (the cap below takes it to depth) where the product
         * would overflow: the controller may write rates far above 10^6 (up to ~10^8 when
         * its learnt scale is high), so no fixed bound on dt is safe. */
        uint64_t add_u = rate && dt > UINT64_MAX / rate ? (uint64_t)INT64_MAX : dt * rate / GPU_RATE_ONE;
        int64_t add = (int64_t)(add_u > (uint64_t)INT64_MAX / 4 ? (uint64_t)INT64_MAX / 4 : add_u);
        int64_t before = atomic_fetch_add_explicit(&g->tokens_ns, add, memory_order_relaxed);
        if (before + add > g->depth_ns) {
                /* Cap at depth: take back the excess (never below what was there before). */
                int64_t excess = before + add - (before > g->depth_ns ? before : g->depth_ns);
                atomic_fetch_sub_explicit(&g->tokens_ns, excess, memory_order_relaxed);
        }
}

/* Charges cost_ns and returns the balance after it: negative means the caller owes and
 * must wait gpu_bucket_wait_ns() before the launch (or before its next one). charged_ns
 * only ever grows (the runner takes its differences): a launch that failed gets its
 * tokens back (gpu_bucket_refund) but stays in charged_ns. */
static inline int64_t gpu_bucket_charge(GpuRegionGpu *g, int64_t cost_ns) {
        atomic_fetch_add_explicit(&g->charged_ns, (uint64_t)cost_ns, memory_order_relaxed);
        return atomic_fetch_sub_explicit(&g->tokens_ns, cost_ns, memory_order_relaxed) - cost_ns;
}

/* A charged launch the driver refused: its tokens go back; charged_ns keeps it. */
static inline void gpu_bucket_refund(GpuRegionGpu *g, int64_t cost_ns) {
        atomic_fetch_add_explicit(&g->tokens_ns, cost_ns, memory_order_relaxed);
}

/* How long (wall ns) until a balance of `balance` (< 0) is paid off at the current rate;
 * 0 when balance >= 0. Rate 0 (a job held at zero): 10 ms, then ask again. */
static inline uint64_t gpu_bucket_wait_ns(const GpuRegionGpu *g, int64_t balance) {
        if (balance >= 0)
                return 0;
        uint64_t rate = atomic_load_explicit(&g->rate_ppm, memory_order_relaxed);
        if (rate == GPU_RATE_UNLIMITED)
                return 0;
        if (rate == 0)
                return 10000000;
        uint64_t owed = (uint64_t)-balance;
        return owed > UINT64_MAX / GPU_RATE_ONE ? UINT64_MAX : owed * GPU_RATE_ONE / rate;
}

/* Releases the slot of a process known to be dead. Two reapers may both see pid dead:
 * the slot is first claimed for reaping (CAS pid → GPU_REGION_REAPING), so exactly one
 * moves its bytes out of memory_used, and only then is the slot freed (pid 0). A
 * claimer takes only pid 0, so a second reaper can never touch the bytes of a process
 * that claimed the slot after the first reaper freed it. Lock-free; false when another
 * reaper (or the owner) got there first. */
static inline bool gpu_region_release_proc(GpuRegion *r, GpuRegionProc *p, int32_t pid) {
        if (!atomic_compare_exchange_strong_explicit(&p->pid, &pid, GPU_REGION_REAPING, memory_order_acquire,
                                                     memory_order_relaxed))
                return false;
        for (unsigned i = 0; i < GPU_REGION_GPUS; i++) {
                uint64_t b = atomic_exchange_explicit(&p->memory_bytes[i], 0, memory_order_relaxed);
                if (b)
                        atomic_fetch_sub_explicit(&r->gpu[i].memory_used, b, memory_order_relaxed);
        }
        atomic_store_explicit(&p->pid, 0, memory_order_release);
        return true;
}

/* ---- The region file (src/gpu/region.c: system calls; the runner and test tools). ---- */

#include <sys/types.h>

typedef struct GpuRegionGpuSpec {
        const char *uuid;
        uint64_t memory_limit;   /* bytes, 0 none */
        uint32_t share_ppm;      /* 10^6 = 100 % */
        uint64_t rate_ppm;       /* initial refill rate (the feed-forward share), or GPU_RATE_UNLIMITED */
        int64_t depth_ns;        /* bucket depth; the bucket starts full */
        int64_t inflight_max_ns; /* 0: the shim's default (2 × depth) */
        int64_t timeslice_ns, timeslice_switch_ns; /* measured this boot; 0: not */
} GpuRegionGpuSpec;

/* Creates the region file at path (O_CREAT|O_EXCL, mode 0600; owned by uid:gid when uid
 * is not (uid_t)-1), sized and filled from the specs, magic written last, and maps it
 * (MAP_SHARED). Negative errno. */
int gpu_region_create(const char *path, uid_t uid, gid_t gid, const GpuRegionGpuSpec *gpus, unsigned n_gpus,
                      GpuRegion **ret);
/* Maps an existing region read-write, checking magic, version and size (-EPROTO). */
int gpu_region_map(const char *path, GpuRegion **ret);
void gpu_region_unmap(GpuRegion *r);
/* Releases the slots of processes that no longer exist (kill(pid, 0) == ESRCH), moving
 * their bytes out of memory_used. Returns how many slots it released. */
unsigned gpu_region_reap(GpuRegion *r);
