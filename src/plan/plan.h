/* SPDX-License-Identifier: MIT */
#pragma once

/* Plan: expands a Spec into concrete runs (scenarios × replicas × matrix × repetitions,
 * plus solo baselines), in the order they will execute. Pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"

typedef struct PlanJob {
        char *name;          /* "sealer", "sealer#2" (replica k of N, k from 1) */
        const JobSpec *spec; /* borrowed from the Spec */
        char **argv;         /* spec->argv with ${param} substituted; NULL-terminated */
        char **env;          /* spec->env with substitution */
        Limits limits;       /* job limits with scenario overrides applied */
        unsigned replica;    /* 1..N */
} PlanJob;

typedef struct PlanRun {
        const ScenarioSpec *scenario; /* borrowed */
        char *scenario_name;          /* group name: scenario, or "solo" for baselines */
        char *label;                  /* "crowded r=4 rep 2" for display */
        unsigned repetition;          /* 0-based */
        bool solo;                    /* a solo baseline: exactly one job */
        unsigned replicas;            /* the sweep value (1 if none) */
        char *params;                 /* "k=v,k=v" for matrix runs, NULL otherwise */
        PlanJob *jobs;
        size_t n_jobs;
} PlanRun;

typedef struct Plan {
        PlanRun *runs;
        size_t n_runs;
        size_t n_jobs_total;
} Plan;

/* Fails with -EINVAL and *ret_error for things only visible after expansion
 * (an undefined ${param}, a job name referenced by a scenario that does not exist). */
int plan_build(const Spec *s, Plan **ret, char **ret_error);
Plan *plan_free(Plan *p);
