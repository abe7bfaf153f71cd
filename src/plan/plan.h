/* SPDX-License-Identifier: MIT */
#pragma once

/* Plan: expands a Spec into concrete runs (scenarios × replicas × matrix × repetitions,
 * plus solo baselines), in the order they will execute. Pure. docs/experiments.md
 * describes the expansion, the order and the substitution rules. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"

/* Upper bound on job instances (Σ over runs of n_jobs) a plan may hold: a typo such as
 * `replicas: [1000]` with a 1000-value matrix must fail before it allocates gigabytes
 * (a PlanJob with its strings is about 0.5 KiB). */
#define PLAN_MAX_JOB_INSTANCES UINT64_C(100000)

typedef struct PlanJob {
        char *name;          /* "sealer", "sealer#2" (replica k of N, k from 1) */
        const JobSpec *spec; /* borrowed from the Spec */
        char **argv;         /* spec->argv with ${param} substituted; NULL-terminated */
        char **env;          /* spec->env with substitution; NULL-terminated, never NULL */
        Limits limits;       /* job limits with scenario overrides applied */
        unsigned replica;    /* 1..N */
} PlanJob;

typedef struct PlanRun {
        /* Borrowed. For a solo baseline: the scenario the baseline was made for (its
         * partition overrides apply); each scenario with solo: has baselines of its own. */
        const ScenarioSpec *scenario;
        char *scenario_name; /* group name: scenario, or "solo" for baselines */
        char *label;         /* "crowded r=4 rep 2/3" for display */
        unsigned repetition; /* 0-based */
        bool solo;           /* a solo baseline: exactly one job */
        bool warmup;         /* a warm-up run (warmup:): recorded, never in statistics; repetition counts warm-ups */
        unsigned replicas;   /* the sweep value (1 if none) */
        char *params;        /* "k=v,k=v" for matrix runs, NULL otherwise */
        PlanJob *jobs;
        size_t n_jobs;
} PlanRun;

typedef struct Plan {
        PlanRun *runs;
        size_t n_runs;
        size_t n_jobs_total;
        unsigned repeat; /* repetitions per configuration (Spec.repeat, at least 1) */
} Plan;

/* Fails with -EINVAL and *ret_error for things only visible after expansion
 * (an undefined ${param}, a job name referenced by a scenario that does not exist,
 * a plan larger than PLAN_MAX_JOB_INSTANCES), -ENOMEM on allocation failure (then
 * *ret_error stays NULL). *ret_error is malloc'ed: the caller frees it. *ret is written
 * only on success. */
int plan_build(const Spec *s, Plan **ret, char **ret_error);
Plan *plan_free(Plan *p);
