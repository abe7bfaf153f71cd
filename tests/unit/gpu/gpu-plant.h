/* SPDX-License-Identifier: MIT */
#pragma once

/* A discrete-time model of one time-sliced GPU shared by limited jobs, for the share
 * controller's tests (shared/research/gpu-limiter.md §6.1). Each tenant is one process
 * running the shim's launch path on the real bucket arithmetic of region.h (a
 * GpuRegionGpu per tenant): it launches kernels while its tokens and its in-flight bound
 * allow, charged an estimated cost that is off by a factor and noisy. The GPU serves the
 * tenants with queued work round-robin in slices with a context-switch cost, preempting at
 * slice ends (as tests/gpu-sim does). "NVML" turns each tenant's busy time per sample
 * period (1/6 s) into integer percent, published in order with a latency that is sometimes
 * one period longer; the "runner" polls at the sample period, builds each job's
 * time-weighted share of the periods that arrived (NAN when none did, an idle period as
 * 0, as gpu_share_accum does), and calls gpu_limiter_step.
 *
 * The CPU side advances in 100 µs steps; the GPU is exact inside a step. Ground truth is
 * each tenant's busy time in 1 ms bins. Deterministic: one seeded generator. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/limiter.h"
#include "gpu/region.h"

#define PLANT_TENANTS 4
#define PLANT_BIN_NS INT64_C(1000000)
#define PLANT_PERIOD_NS INT64_C(166666667) /* NVML sample period and control period */

typedef struct PlantTenantSpec {
        double share;         /* cap or guarantee, (0, 1]; 0: this slot unused */
        bool work_conserving; /* mode share */
        double kernel_ms;     /* kernel duration on a 188-SM GPU */
        double est_factor;    /* estimated cost / real duration (0: 1) */
        double est_ms;        /* > 0: every launch is estimated at this, whatever it really takes */
        double demand;        /* 0 or ≥ 1: launches asynchronously, always backlogged; below 1:
                               * one kernel, wait for it, think, so it wants this share alone */
        double demand_after;  /* the demand from step_s on (0: unchanged) */
        double step_s;
        double start_s, stop_s;   /* runs in [start_s, stop_s) (stop_s 0: to the end) */
        double pause_s, resume_s; /* launches nothing in [pause_s, resume_s) */
} PlantTenantSpec;

typedef struct PlantSpec {
        double seconds;
        unsigned sm_count;    /* 0: 188; kernels take kernel_ms · 188 / sm_count */
        double depth_ms;      /* bucket depth, 0: 50 ms */
        double est_noise;     /* relative standard deviation of one launch's estimate */
        double kernel_jitter; /* relative spread (uniform ±) of one kernel's duration */
        double nvml_noise_pp; /* uniform ± integer percent added to every sample */
        double nvml_late;     /* probability that a period is published one period late */
        uint64_t seed;
        PlantTenantSpec t[PLANT_TENANTS];
} PlantSpec;

#define PLANT_PERIODS_MAX 1024

typedef struct PlantTenantResult {
        double *bin_ns;                     /* busy ns per 1 ms bin */
        double *cum_ns;                     /* busy ns before each bin (n_bins + 1) */
        double rate[PLANT_PERIODS_MAX];     /* the rate written at each control step */
        double measured[PLANT_PERIODS_MAX]; /* what the runner passed (NAN: no sample) */
        double lent[PLANT_PERIODS_MAX];
        double scale[PLANT_PERIODS_MAX];
        GpuLimitTenant final;
        uint64_t launches;
} PlantTenantResult;

typedef struct PlantResult {
        size_t n_tenants;
        size_t n_bins;
        size_t n_steps;                      /* control steps taken */
        double step_at_s[PLANT_PERIODS_MAX]; /* when each control step ran */
        double depth_ns;
        double inflight_max_ns;
        PlantTenantResult t[PLANT_TENANTS];
} PlantResult;

/* Runs the model; returns 0 or -ENOMEM. Free with plant_result_done. */
int plant_run(const PlantSpec *spec, PlantResult *ret);
void plant_result_done(PlantResult *r);

/* Tenant i's share of the GPU in [from_s, to_s) from the ground truth. */
double plant_share(const PlantResult *r, size_t i, double from_s, double to_s);
/* The largest and smallest share of tenant i over windows of win_s seconds starting in
 * [from_s, to_s − win_s], in 10 ms steps. */
void plant_share_range(const PlantResult *r, size_t i, double from_s, double to_s, double win_s,
                       double *ret_min, double *ret_max);
