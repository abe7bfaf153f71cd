/* SPDX-License-Identifier: MIT */
#pragma once

/* A GPU's time slice: how long a context runs before the GPU switches to another that has
 * work, and how long the switch leaves the GPU idle (docs/gpu.md, "Kernels longer than a
 * time slice beside a busy job"). The shim needs both to take a busy neighbour's slices
 * out of its timings; NVML does not report them (the compute policy's timeslice is a
 * level, not a length), so `corun doctor --gpu-timeslice` measures them, and they are
 * kept per boot beside the journals (the compute policy does not outlive the driver).
 *
 * The measurement (gpu_timeslice_probe) is pure: it drives a callback that runs one kernel
 * of a given GPU time while another context keeps the GPU busy, and returns its timing.
 * A kernel that starts with its context's slice (the context had no work before it) and
 * needs w ns of GPU time is switched out floor(w / slice) times, each time for one other
 * slice and two switches: its timing minus w is a staircase in w whose first step is at
 * the slice and whose step height is slice + 2 switches. */

#include <stdint.h>

typedef struct GpuTimeslice {
        int64_t slice_ns;  /* 0: not known */
        int64_t switch_ns; /* idle per switch */
} GpuTimeslice;

/* Runs one kernel of work_ns of GPU time on the probed GPU, beside a context that keeps it
 * busy, and returns its timing (the elapsed time of events around it). Negative errno on
 * failure, which ends the probe. */
typedef int (*GpuTimesliceMeasure)(void *userdata, int64_t work_ns, int64_t *ret_wall_ns);

/* Slices searched for, between these. */
#define GPU_TIMESLICE_PROBE_MIN_NS INT64_C(100000)   /* 0.1 ms */
#define GPU_TIMESLICE_PROBE_MAX_NS INT64_C(40000000) /* 40 ms */

/* Finds the slice by bisection on the staircase's first step (to 1/4096 of the range) and
 * the switch from its height, and checks that the timings step as time slices do (the
 * step about a slice high, the second one twice the first); about a second of GPU time on
 * a 2 ms slice. -ENOMSG when no step shows below GPU_TIMESLICE_PROBE_MAX_NS (the GPU does
 * not time-slice these contexts: MPS, or the neighbour is not running), -ERANGE when even
 * the shortest kernel is cut, -EPROTO when the steps are not those of time slices. */
int gpu_timeslice_probe(GpuTimesliceMeasure measure, void *userdata, GpuTimeslice *ret);

/* The per-boot file of measured slices: path NULL = $CORUN_GPU_TIMESLICE_FILE, else
 * /run/corun/gpu-timeslice. Lines "<uuid> <slice_ns> <switch_ns>" after a header that
 * names the boot. load: -ENOENT when the file or the GPU is not in it, -ESTALE when it is
 * from another boot. store: replaces the GPU's line, keeps the others of this boot. */
int gpu_timeslice_load(const char *path, const char *uuid, GpuTimeslice *ret);
int gpu_timeslice_store(const char *path, const char *uuid, const GpuTimeslice *t);
/* The file load and store use (the argument, the environment or the default). */
const char *gpu_timeslice_path(const char *path);
