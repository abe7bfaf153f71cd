/* SPDX-License-Identifier: MIT */
#pragma once

/* Interference metrics of jobs that ran together against their solo baselines
 * (Eyerman & Eeckhout, "System-level performance metrics for multiprogram workloads",
 * IEEE Micro 2008; docs/experiments.md):
 *   slowdown_i = T_shared,i / T_solo,i   (medians over the repetitions)
 *   STP        = Σ_i T_solo,i / T_shared,i   (system throughput, higher is better)
 *   ANTT       = (1/n) Σ_i slowdown_i        (average normalised turnaround, lower is better)
 * Pure; inputs are plain arrays of times in any one unit (the caller picks wall or CPU
 * time and the job instances that finished). */

#include <stddef.h>

typedef struct Samples {
        const double *v;
        size_t n;
} Samples;

/* One phase's times over the repetitions (a phase's time in one repetition: the total
 * of its finished occurrences; the caller leaves out repetitions that did not finish it). */
typedef struct NamedSamples {
        const char *name;
        Samples s;
} NamedSamples;

typedef struct InterferencePhaseInput {
        const char *name;
        Samples shared, solo;
} InterferencePhaseInput;

typedef struct InterferenceJobInput {
        const char *name;
        Samples shared, solo; /* whole-job times over the repetitions */
        const InterferencePhaseInput *phases;
        size_t n_phases;
} InterferenceJobInput;

typedef struct InterferencePhase {
        const char *name; /* borrowed from the input */
        double t_shared, t_solo, slowdown;
} InterferencePhase;

/* A value is NAN when it cannot be computed: no samples on one side, or a solo median
 * that is not positive. */
typedef struct InterferenceJob {
        const char *name; /* borrowed from the input */
        double t_shared, t_solo;
        double slowdown;
        InterferencePhase *phases;
        size_t n_phases;
} InterferenceJob;

typedef struct Interference {
        InterferenceJob *jobs;
        size_t n_jobs;
        /* Over all jobs; NAN unless every job has a slowdown (a subset would make
         * STP look like a smaller workload's). */
        double stp, antt, max_slowdown;
        size_t max_job; /* index of the job with max_slowdown; meaningless when NAN */
} Interference;

/* slowdown = median(shared) / median(solo); NAN as above; -EINVAL for a sample that
 * is not finite, -ENOMEM. */
int interference_slowdown(const Samples *shared, const Samples *solo, double *ret);

/* Pairs the phases of a job's shared runs with those of its solo runs by name: one
 * input per name, in the order of the shared side, then the names only the solo side has
 * (no shared samples: their slowdown is NAN, as is that of a name the solo side lacks).
 * A name given twice on one side counts once (its first entry). Names are borrowed.
 * *ret is NULL when there is no phase. -EINVAL for a NULL name, -ENOMEM. */
int interference_pair_phases(const NamedSamples *shared, size_t n_shared, const NamedSamples *solo,
                             size_t n_solo, InterferencePhaseInput **ret, size_t *ret_n);

/* -EINVAL when n == 0 or a sample is not finite, -ENOMEM. *ret written on success. */
int interference_compute(const InterferenceJobInput *jobs, size_t n, Interference **ret);
Interference *interference_free(Interference *i);
