/* SPDX-License-Identifier: MIT */
#pragma once

/* The GPU share controller (DESIGN §11, shared/research/gpu-limiter.md §5.4–5.6): pure, no
 * system calls; the runner calls it once per control period per GPU with every limited
 * job on that GPU, and writes each job's rate into its region (region.h, rate_ppm).
 *
 * Units are fractions of one GPU's time (0–1), independent of the GPU's SM count.
 * Per tenant: feed-forward rate = share (scaled by how many tokens the job's shim charges
 * per GPU-ns it really uses, learnt from the measurement), plus a PI correction on the
 * measured share with anti-windup (the integrator is frozen while the job is not
 * backlogged, while the rate is at a clamp, and when no new measurement arrived; the
 * integral term is bounded to ±10 pp). mode share: the share idle tenants leave is lent
 * to backlogged ones (water-filling, 2 % headroom) and taken back within one period. */

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct GpuLimitTenant {
        /* Configuration (the caller sets these once). */
        double share;          /* cap (mode cap) or guarantee (mode share), (0, 1]; 1: not limited, measured only */
        bool work_conserving;  /* mode share */

        /* Inputs for the period (the caller fills them before each step). */
        double measured;       /* the job's own measured share of the GPU in the period (NVML, its pids only,
                                * time-weighted), 0–1; NAN when no new sample arrived */
        double charged;        /* tokens the job's shim charged in the period / period length (0–∞) */
        bool backlogged;       /* the job waited for tokens or for work in flight in the period */
        bool active;           /* the job launched anything in the period */

        /* Output: the refill rate to write, tokens (GPU-ns) per wall-ns; INFINITY: do not charge. */
        double rate;

        /* State, zero-initialised by the caller, kept between steps. */
        double integral;       /* Σ e·dt (fraction·s), bounded */
        double scale;          /* tokens charged per measured GPU-ns (charged_sum / measured_sum, rising
                                * at most 5 % a period); 0 before the first estimate */
        double charged_sum;    /* Σ charged·dt and Σ measured·dt, decaying with τ = 1 s, over the */
        double measured_sum;   /* periods the job ran or waited in: their ratio is the scale */
        double error_avg;      /* the error averaged over ~2 s (EWMA), for the flag below */
        double error_since_s;  /* how long |error_avg| > 5 pp while backlogged */
        double lent;           /* extra share lent to this tenant in the last period (mode share) */
        bool started;
        bool uncontrollable;   /* |error_avg| > 5 pp for 3 windows while backlogged: kernels too long */
        bool open_loop;        /* NVML's samples are not per-process on this GPU (gpu_limiter_attribution):
                                * the rate is share × scale with no correction from the measurement */
} GpuLimitTenant;

/* Whether NVML's per-process samples split a GPU's time between the processes that share it.
 * On an NVIDIA H200 (driver 580) they do not while contexts time-slice: each sample period's
 * whole utilisation goes to one process and the others get nothing (per 200 ms tick:
 * 0.99 / 0 / 0, the winner changing from tick to tick, not in proportion to the time each
 * got), so a per-process share measured over seconds is noise of tens of points, and a
 * controller correcting on it drives caps of 10 % to 3 % and 23 % (measured on the H200).
 * Alone on a GPU the samples are right. Per GPU, zero-initialised, kept for the run. */
typedef struct GpuLimitAttribution {
        unsigned whole; /* periods with at least two tenants running: one got a sample, the others none */
        unsigned split; /* periods with at least two tenants running that several got samples in */
        bool whole_samples; /* decided (it stays): the samples are the GPU's, not the processes' */
        /* While every process on the GPU is a limited tenant, the samples still add up to
         * what they ran together: one scale for all of them, from Σ charged over Σ measured
         * (decaying sums, τ = 2 s). 0: none yet (the shim's estimates at face value). */
        double charged_sum, measured_sum, scale;
        /* While anything else shares the GPU (an unlimited tenant, a job without a limit):
         * how likely it has work queued while the limited tenants run, 0–1 (an EWMA over
         * τ = 0.2 s): the GPU's busy time (the samples add up right per period, whole or
         * not) less what the limited tenants charged, over the time they left. Kept from
         * the first period, on any GPU. The runner hands it to their shims (region.h,
         * others_busy_ppm), which take the others' slices out of the timings of kernels
         * longer than a slice. 0 otherwise. */
        double others_busy;
} GpuLimitAttribution;

/* Called before each gpu_limiter_step of dt_s with the same tenants (their measured,
 * charged, active and backlogged filled in); others: a job without a limit runs on the
 * GPU too, others_measured: the measured shares of such jobs in the period, summed (0
 * when none was sampled). Counts the period, and once the GPU is seen to give whole samples (5 such
 * periods, a tenant's first one left out, and at least 4 times as many as split ones)
 * marks every tenant open_loop and takes its measurement away (NAN: no sample), so the
 * step runs feed-forward: share × the common scale above, or × 1 (the shim's estimates at
 * face value) while an unlimited tenant or another job shares the GPU. Returns
 * whole_samples. */
bool gpu_limiter_attribution(GpuLimitAttribution *a, GpuLimitTenant *t, size_t n, bool others, double others_measured,
                             double dt_s);

/* One control period of dt_s seconds for the n tenants of one GPU: reads the inputs,
 * updates the state and writes each tenant's rate. */
void gpu_limiter_step(GpuLimitTenant *t, size_t n, double dt_s);

/* Admission (shares on one GPU add up to at most 100 %) is the allocator's:
 * alloc_gpu_shares_fit (alloc.h), shared by run and plan. */
