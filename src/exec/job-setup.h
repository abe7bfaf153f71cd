/* SPDX-License-Identifier: MIT */
#pragma once

/* What a job gets besides its partition, computed once, before anything is created:
 * its environment, its log, samples and scratch paths, its group's name. Pure: no
 * system call, no global state (the inherited environment is an argument), so `run`
 * and `plan --json` compute the same values and unit tests check them on literals.
 * Every function returns 0 or a negative errno (-ENOMEM); on failure nothing is
 * returned and nothing leaks. */

#include <stddef.h>

#include "plan/plan.h"
#include "util/cpuset.h"

typedef struct JobSetupInput {
        const char *run_id;
        const char *results_dir;  /* absolute; NULL: only the relative paths are filled */
        const char *scratch_base; /* the run's scratch dir; NULL: no scratch path, TMPDIR=/tmp */
        size_t run_index;         /* in the plan */
        const PlanRun *run;
        const PlanJob *pj;
        const CpuSet *cpus;   /* assigned; NULL or empty counts as 1 CPU */
        char *const *inherit; /* the runner's environment (environ); NULL = none */
        /* CUDA_VISIBLE_DEVICES: the job's GPU UUIDs, "" for no GPU (also set with
         * CUDA_DEVICE_ORDER=PCI_BUS_ID); NULL leaves both as inherited. */
        const char *gpu_visible;
        /* GPU limits (docs/gpu.md): the job's limit region (CORUN_GPU_REGION) and the shim
         * put last in LD_PRELOAD (after the job's own or the inherited LD_PRELOAD); MPS's
         * active-thread percentage (CUDA_MPS_ACTIVE_THREAD_PERCENTAGE), 0 for none. */
        const char *gpu_region;
        const char *gpu_shim;
        unsigned gpu_mps_percentage;
} JobSetupInput;

typedef struct JobSetup {
        char *file_name;      /* the job's name made file-safe: "a#2" -> "a_2" */
        char *log_prefix;     /* "logs/003-crowded-rep0/a_2", relative to the results dir */
        char *log_stdout_rel; /* log_prefix + ".out" */
        char *log_stderr_rel; /* log_prefix + ".err" */
        char *samples_rel;    /* "samples/003-crowded-rep0-a_2.csv" */
        char *log_dir;        /* absolute (NULL without results_dir) */
        char *log_stdout;     /* absolute (NULL without results_dir) */
        char *log_stderr;     /* absolute (NULL without results_dir) */
        char *samples_path;   /* absolute (NULL without results_dir) */
        char *scratch;        /* scratch_base/003-crowded-rep0-a_2 (NULL without scratch_base) */
        char *cgroup_rel;     /* "003-crowded/a#2", below the run's group */
        char *cpus_text;      /* the assigned CPUs, "0-1" */
        unsigned n_threads;   /* OMP/MKL/OPENBLAS_NUM_THREADS: the CPU count, at least 1 */
        char **envp;          /* NULL-terminated; also holds the job's own PATH when env: sets one */
        /* A job in an image: what is set inside the container, corun's variables and the
         * job's env: alone (the host's PATH or HOME mean nothing there), TMPDIR=/tmp
         * (its scratch dir is mounted there). NULL for other jobs. */
        char **container_env;
} JobSetup;

int job_setup_build(const JobSetupInput *in, JobSetup *ret);
void job_setup_done(JobSetup *s);

/* The scenario's group below the run's: "003-crowded". */
int job_setup_run_group(size_t run_index, const PlanRun *run, char **ret);

/* The run's scratch base: "$TMPDIR/corun-<run-id>" (tmpdir NULL or empty: /tmp). */
int job_setup_scratch_base(const char *tmpdir, const char *run_id, char **ret);

/* The environment of a hook or the preflight: `inherit` plus CORUN_RUN_ID, CORUN_RESULTS and,
 * for a hook of a run, CORUN_SCENARIO and CORUN_REPETITION. run_id/results_dir may be NULL. */
int job_setup_hook_env(char *const *inherit, const char *run_id, const char *results_dir, const PlanRun *run,
                       char ***ret);

/* `inherit` minus every variable `set` names, then `set` in order; when `set` names a
 * variable twice, the later one wins (the job's env: over corun's own variables). */
int job_setup_env_merge(char *const *inherit, char *const *set, char ***ret);

/* Frees a NULL-terminated string vector (envp); returns NULL. */
char **job_setup_strv_free(char **v);
