/* SPDX-License-Identifier: MIT */
#pragma once

/* The simulated GPU (docs/gpu-sim.md): the state that the fake libcuda.so.1 and the fake
 * libnvidia-ml.so.1 share with every process that uses them. It lives in one file mapped
 * MAP_SHARED (path in CORUN_GPU_SIM_STATE), so separate processes contend for the same
 * simulated devices the way tenants of a real GPU do.
 *
 * The model, per device: processes (contexts) submit kernels, i.e. amounts of GPU time;
 * the device runs one context at a time, round-robin in time slices (like the default
 * time-sliced compute mode), each context's kernels in submission order. Nothing runs in
 * the background: whoever takes the lock first advances the simulation to "now" (a
 * discrete-event simulation replayed lazily), which is exact because every arrival
 * advances the simulation before it enqueues. The busy time of each pid is recorded per
 * NVML sample period; the fake NVML turns those records into per-process utilisation
 * samples, and tests read the same records as ground truth.
 *
 * Test code only: never installed, never linked into corun. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SIM_MAX_DEVICES 8
#define SIM_MAX_CTX 64      /* processes on one device at once */
#define SIM_PERIODS 1024    /* sample periods kept per device (~170 s at 1/6 s) */
#define SIM_PERIOD_PIDS 32  /* distinct busy pids recorded in one period */
#define SIM_KERNELS_MAX 512 /* CORUN_GPU_SIM_KERNELS text */

#define SIM_SEGS 128/* runs of one context kept, for event completion times */

/* The context ran without a break from `at` (CLOCK_MONOTONIC ns), executing its work from
 * done_lo to done_hi: a point of its work between them completed at at + (x − done_lo). */
typedef struct SimSeg {
        uint64_t done_lo, done_hi, at;
} SimSeg;

typedef struct SimCtx {
        int32_t pid;           /* 0: free slot */
        uint32_t has_context;  /* a context exists: NVML lists it as a compute process */
        uint64_t mem_used;     /* bytes from cuMemAlloc */
        uint64_t submitted_ns; /* GPU time submitted, cumulative */
        uint64_t done_ns;      /* GPU time executed, cumulative */
        uint32_t seg_next;     /* ring index of the next run */
        uint32_t pad0;
        SimSeg seg[SIM_SEGS];
} SimCtx;

typedef struct SimPeriod {
        uint64_t k_plus1; /* period index + 1; 0 (or another index): no record */
        uint32_t n;
        int32_t pid[SIM_PERIOD_PIDS];
        uint64_t busy_ns[SIM_PERIOD_PIDS];
} SimPeriod;

typedef struct SimDevice {
        char uuid[96]; /* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
        uint8_t uuid_bytes[16];
        char name[96];
        char bus_id[32]; /* NVML form: "00000000:3B:00.0" */
        unsigned bus;
        unsigned sm_count;
        int numa_node;
        int mig_mode;          /* 0, 1; -1: not supported */
        uint32_t process_util; /* nvmlDeviceGetProcessUtilization supported; SIM_PUTIL_WHOLE: each period's
                                * samples go to one process (the H200's NVML with time-sliced contexts) */
        uint32_t lost;         /* fell off the bus: NVML and CUDA calls fail */
        uint64_t mem_total;
        /* Clocks as NVML reports them (nothing runs slower for them): clock_max_mhz is the
         * highest SM clock, 0 when NVML "does not support" clocks here; a busy device runs at
         * clock_mhz (0: the highest) for the reasons in clock_events (NVML's bits), an idle
         * one at SIM_CLOCK_IDLE_MHZ with gpu_idle. gpu-sim-ctl clock sets the two. */
        uint32_t clock_max_mhz, clock_mhz;
        uint64_t clock_events;

        /* The scheduler. */
        int32_t cur;          /* slot running now, -1 none */
        uint64_t slice_left;  /* ns left in the current slice */
        uint64_t switch_left; /* ns of context switch still to spend */
        uint64_t sim_ns;      /* simulated up to (CLOCK_MONOTONIC ns) */
        SimCtx ctx[SIM_MAX_CTX];

        SimPeriod periods[SIM_PERIODS];
} SimDevice;

#define SIM_PUTIL_WHOLE 2
#define SIM_CLOCK_IDLE_MHZ 345
/* A GPU lowers its clocks to idle only after it ran nothing for a while (about this long). */
#define SIM_CLOCK_IDLE_AFTER_NS UINT64_C(100000000)

/* Is work queued on the device, or did it run some within SIM_CLOCK_IDLE_AFTER_NS of
 * `now` (after sim_advance to now)? What its clocks follow. */
bool sim_busy_now(const SimDevice *d, uint64_t now);

typedef struct SimState {
        uint64_t magic;
        uint32_t version;
        uint32_t n_devices;
        pthread_mutex_t lock;       /* robust, process-shared */
        int64_t realtime_offset_ns; /* CLOCK_REALTIME − CLOCK_MONOTONIC at creation */
        uint64_t epoch_ns;          /* CLOCK_MONOTONIC at creation: periods start here */
        uint64_t period_ns;         /* NVML sample period */
        uint64_t slice_ns;          /* time slice */
        uint64_t switch_ns;         /* context switch cost */
        uint64_t ctx_mem;           /* bytes a context takes */
        uint64_t default_kernel_ns; /* kernels not named in the table */
        char driver_version[32];
        int cuda_version;
        char kernels[SIM_KERNELS_MAX]; /* "name=duration;..." */
        SimDevice dev[SIM_MAX_DEVICES];
} SimState;

/* One NVML process sample. */
typedef struct SimSample {
        int32_t pid;
        uint64_t ts_usec; /* CLOCK_REALTIME µs of the period's end */
        unsigned sm_util; /* percent */
} SimSample;

/* The state of this process (mapped on first use from CORUN_GPU_SIM_STATE, created and
 * configured from the CORUN_GPU_SIM_* variables by whoever comes first), or NULL with
 * sim_why() saying why. */
SimState *sim_get(void);
const char *sim_why(void);

void sim_lock(SimState *s);
void sim_unlock(SimState *s);
uint64_t sim_now_ns(void);

/* Runs device d's schedule up to now (ns, CLOCK_MONOTONIC). Lock held. */
void sim_advance(SimState *s, SimDevice *d, uint64_t now);
/* The slot of pid on d, creating it when create (NULL when full or absent). Slots of dead
 * processes are freed first. Lock held. */
SimCtx *sim_ctx(SimDevice *d, pid_t pid, bool create);
/* Frees the slots of processes that no longer exist. Lock held. */
void sim_reap(SimDevice *d);
/* When c will have executed `target` ns of work if nothing else arrives (ns). Lock held. */
uint64_t sim_project(const SimState *s, const SimDevice *d, const SimCtx *c, uint64_t target);
/* When c's work reached `target` (CLOCK_MONOTONIC ns), from its recent runs; 0 when not
 * yet or too long ago to know. Lock held, d advanced. */
uint64_t sim_done_at(const SimCtx *c, uint64_t target);
/* When c, whose work was all done at t, could first process an event recorded at t: t,
 * unless another context of d was running then; then the start of c's next run after t
 * (the stream is served only while its context holds the GPU), or t when c has not run
 * since. Lock held, d advanced. */
uint64_t sim_resident_after(const SimState *s, const SimDevice *d, const SimCtx *c, uint64_t t);
/* Bytes in use on d (allocations and contexts). Lock held. */
uint64_t sim_mem_used(const SimState *s, const SimDevice *d);

/* NVML samples of d newer than last_seen_usec (CLOCK_REALTIME µs) from complete periods,
 * at most the last `history` periods. Writes up to cap into out (out may be NULL) and
 * returns how many there are. Lock held, d advanced. */
unsigned sim_samples(const SimState *s, const SimDevice *d, uint64_t now, uint64_t last_seen_usec,
                     unsigned history, SimSample *out, unsigned cap);
/* Ground truth: ns pid ran on d in the complete periods whose end lies in (from_usec,
 * to_usec] (CLOCK_REALTIME µs, the NVML timestamps). Lock held, d advanced. */
uint64_t sim_busy_ns(const SimState *s, const SimDevice *d, pid_t pid, uint64_t from_usec, uint64_t to_usec);
/* The NVML timestamp (µs) of period k's end, and the period holding a monotonic time. */
uint64_t sim_period_ts_usec(const SimState *s, uint64_t k);

/* Duration (ns) of a kernel by name from CORUN_GPU_SIM_KERNELS, or the default. */
uint64_t sim_kernel_ns(const SimState *s, const char *name);
/* Parses "250us", "1ms", "1.5s", "300ns", "2" (ms). Returns 0 or -1. */
int sim_parse_duration_ns(const char *text, uint64_t *ret);
