/* SPDX-License-Identifier: MIT */
#pragma once

/* Built-in workloads for `corun stress`, so that the demo, the examples and the
 * integration tests need nothing outside the project. They print only progress markers,
 * and only to the FILE * they are given (NULL: none); each marker is flushed at once so
 * that a phase pattern sees it when it happens, even through a pipe. Markers have the
 * form "stress <tool>: phase <name> start|end". */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu/timeslice.h"

/* One unit of --work: a million iterations of the burn loop. */
#define STRESS_WORK_UNIT UINT64_C(1000000)
#define STRESS_THREADS_MAX 1024

typedef struct StressCpu {
        uint64_t work;          /* units in total, split over the threads; 0: burn for duration_usec */
        uint64_t duration_usec; /* wall time when work is 0; USEC_INFINITY: until killed */
        unsigned threads;       /* 1..STRESS_THREADS_MAX */
} StressCpu;

typedef struct StressCpuResult {
        uint64_t work; /* units done (the same as asked in work mode) */
        double wall_s, cpu_s;
} StressCpuResult;

/* Burns CPU on `threads` threads (the calling one included). Markers: phase burn. */
int stress_cpu(const StressCpu *o, FILE *out, StressCpuResult *ret);

typedef struct StressMem {
        uint64_t size;      /* bytes to allocate, > 0 */
        uint64_t rate;      /* bytes touched per second; 0: as fast as possible */
        uint64_t hold_usec; /* after the first touch; USEC_INFINITY: until killed */
        uint64_t chunk;     /* bytes touched between two rate checks; 0: 1 MiB */
        uint64_t passes;    /* passes that write every page again after the hold */
} StressMem;

typedef struct StressMemResult {
        uint64_t size;
        uint64_t touched; /* distinct bytes touched: size rounded up to whole pages */
        uint64_t passes;
        double wall_s;
} StressMemResult;

/* Allocates anonymous memory, touches every page at the rate asked, holds it, then
 * rewrites it `passes` times. Markers: phase alloc, hold, retouch (always all three, so
 * that patterns do not depend on the options). -ENOMEM when the mapping is refused. */
int stress_mem(const StressMem *o, FILE *out, StressMemResult *ret);

/* Sleeps usec (USEC_INFINITY: until killed), restarting after signals. Markers: phase
 * sleep. */
int stress_sleep(uint64_t usec, FILE *out);

typedef struct StressOutputResult {
        uint64_t bytes, lines, markers;
} StressOutputResult;

/* Writes exactly `bytes` bytes of 64-byte numbered text lines to out, with a line
 * "marker <n>" (n = 1, 2, ...) after every marker_every lines (0: no markers). The last
 * line is cut short to end at `bytes`, always with '\n'; a marker that would not fit
 * whole is replaced by filler, so every marker printed is complete. out is not flushed
 * per line: this measures how fast a reader keeps up. */
int stress_output(uint64_t bytes, uint64_t marker_every, FILE *out, StressOutputResult *ret);

typedef struct StressGpu {
        uint64_t kernel_ns;     /* one kernel's busy time, > 0 */
        uint64_t kernels;       /* --work: this many kernels; 0: run for duration_usec */
        uint64_t duration_usec; /* wall time when kernels is 0 */
        double duty;            /* (0, 1]: the fraction of the GPU's time to ask for */
        uint64_t mem_bytes;     /* device memory to hold during the run (0: none) */
        unsigned device;        /* CUDA ordinal among the visible devices */
} StressGpu;

typedef struct StressGpuResult {
        uint64_t kernels; /* kernels run to completion */
        double wall_s;
        double kernels_per_s;
        char uuid[96]; /* the device used */
        char name[96];
} StressGpuResult;

/* Loads a PTX busy-loop kernel through the CUDA driver (dlopen'ed; no toolkit needed) and
 * launches it back to back, two in flight, or paced so that kernels take `duty` of the
 * GPU's time. Markers: phase kernels. Negative errno and *ret_error (malloc'ed) saying
 * what failed: no driver, no device, a driver call. */
int stress_gpu(const StressGpu *o, FILE *out, StressGpuResult *ret, char **ret_error);

/* Measures the time slice of the GPU with this UUID (gpu/timeslice.h) with the same busy
 * kernel, while another context keeps the GPU busy (the caller starts it: `corun stress
 * gpu` on the same GPU); about a second. Negative errno and *ret_error: no driver, no such
 * GPU, a driver call, nothing cut (-ENOMSG), everything cut (-ERANGE), cuts that are not
 * time slices (-EPROTO). */
int stress_gpu_timeslice(const char *uuid, GpuTimeslice *ret, char **ret_error);

/* The burn loop: iters dependent multiply-adds that the compiler cannot shorten.
 * Returns the final value (feed it back in as the next seed). */
uint64_t stress_burn(uint64_t seed, uint64_t iters);

/* CLOCK_MONOTONIC in microseconds. */
/* Sleeps until CLOCK_MONOTONIC reaches usec (UINT64_MAX: forever), restarting after
 * signals. */
int stress_sleep_until(uint64_t usec);
/* Prints "stress <tool>: phase <phase> start|end" and flushes. out may be NULL. */
void stress_marker(FILE *out, const char *tool, const char *phase, bool start);
