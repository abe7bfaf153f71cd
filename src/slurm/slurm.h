/* SPDX-License-Identifier: MIT */
#pragma once

/* slurm: hand a plan to Slurm (DESIGN §12, docs/slurm.md). corun grows no scheduler of
 * its own: it writes an sbatch script (export.c), runs one job of a plan inside a Slurm
 * step (step.c), submits and follows a job with sbatch/squeue/scancel (submit.c), and
 * merges what the steps wrote into one result.json (collect.c). The library never
 * prints; the CLI (cli/export.c, cli/collect.c, cli/slurm-run.c) does.
 *
 * Layout of a Slurm results directory (the script creates it, collect reads it):
 *   slurm.json            manifest: mode, spec file, Slurm job id (written by the script)
 *   node/                 --mode node: the result directory of `corun run` in the allocation
 *   node.status           its exit status
 *   runs/rR/jJ/           --mode steps|array: one result directory per job J of run R
 *   runs/rR/jJ.status     the srun (steps) or corun (array) exit status of that job
 *   runs/rR/jJ.log        what srun and the step printed
 *   result.json           written by `corun collect`: all of it, "executor": "slurm" */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/plan.h"
#include "result/result.h"
#include "spec/spec.h"
#include "util/cpuset.h"

typedef enum SlurmMode {
        SLURM_MODE_NODE,  /* one exclusive node running `corun run FILE` */
        SLURM_MODE_STEPS, /* one `srun --exact` step per job, runs one after another */
        SLURM_MODE_ARRAY, /* one array task per run (runs of one job only) */
        _SLURM_MODE_MAX,
        _SLURM_MODE_INVALID = -1,
} SlurmMode;
const char *slurm_mode_to_string(SlurmMode m);
SlurmMode slurm_mode_from_string(const char *s);

typedef struct SlurmExportOptions {
        SlurmMode mode;
        const char *spec_file;   /* absolute path of the scenario file */
        const char *corun_path;  /* absolute path of the corun binary the script runs */
        const char *workdir;     /* #SBATCH --chdir (absolute), NULL = none */
        const char *partition;   /* NULL = the cluster's default */
        const char *account;     /* NULL = none */
        unsigned array_parallel; /* array: the %P cap; 0 = 4 */
} SlurmExportOptions;

/* Writes the sbatch script for plan to f. Fields Slurm cannot express and that corun
 * inside the step cannot keep either are named in *ret_warnings (NULL-terminated,
 * malloc'ed; NULL when none); the same text is in the script as comments. Fails with
 * -EINVAL and *ret_error when the mode cannot run this plan (array with runs that need
 * jobs side by side). Pure apart from writing to f. */
int slurm_export(const Spec *spec, const Plan *plan, const SlurmExportOptions *o, FILE *f,
                 char ***ret_warnings, char **ret_error);

/* Reads and parses a scenario file and expands its plan (what every Slurm command and
 * step starts from). On error *ret_error says why (with file:line:col). */
int slurm_load_plan(const char *spec_file, Spec **ret_spec, Plan **ret_plan, char **ret_error);

/* Upper bound of the plan's duration: Σ over runs of the longest job timeout plus grace.
 * USEC_INFINITY when a job has no timeout. Pure. */
uint64_t slurm_plan_duration_usec(const Plan *plan);
/* "D-HH:MM:SS" for --time, with the margin added (10 % + 5 min). */
void slurm_format_time(uint64_t usec, char *buf, size_t n);

/* Inside a Slurm step? Read from the environment (SLURM_JOB_ID, SLURM_STEP_ID,
 * SLURMD_NODENAME) and /proc/self/status (Cpus_allowed_list, Mems_allowed_list). */
typedef struct SlurmStepInfo {
        bool inside;
        char job_id[32], step_id[32], node[256];
        CpuSet cpus, mems; /* what this process may use */
} SlurmStepInfo;
int slurm_step_detect(SlurmStepInfo *ret);
/* One sentence for the log and the result's warnings: "inside Slurm job 12 step 0 on
 * node1: only CPUs 1 (Cpus_allowed) are used". NULL when not inside Slurm or on OOM. */
char *slurm_step_describe(const SlurmStepInfo *s);
/* Adds that sentence to r->warnings when inside a Slurm step (the generic place for host
 * notes until HostInfo has Slurm fields; docs/slurm.md). 0 or -ENOMEM. */
int slurm_result_note(Result *r);

/* A plan narrowed to run `run` (and, when job >= 0, only that job of it), sharing the
 * strings and specs of `plan`: free it with slurm_subplan_free, not plan_free. */
int slurm_subplan(const Plan *plan, size_t run, long job, Plan **ret, char **ret_error);
Plan *slurm_subplan_free(Plan *p);
/* Writes dir/slurm-step.json: the step's ids, node, Cpus_allowed and its start time on
 * the wall clock (collect lines up the steps' clocks with it). */
int slurm_step_write_info(const char *dir, const SlurmStepInfo *s, uint64_t t0_realtime_usec);

/* Writes a jansson json_t (void * keeps jansson out of this header) to dir/name
 * atomically, indented. */
int slurm_json_write(const char *dir, const char *name, void *json);

/* dir/slurm.json, the manifest the script also writes when it starts: written by the
 * submitter too, so that a job cancelled before it ran can still be collected. */
int slurm_write_manifest(const char *dir, SlurmMode mode, const char *spec_file, const char *job_id,
                         const char *corun);

/* Merges a Slurm results directory into dir/result.json ("executor": "slurm"). Jobs
 * whose step left no result are failed-to-start with a "slurm" failure, not an exit.
 * slurm_state: the Slurm job's final state when known (from the submitter), else NULL. */
int slurm_collect(const char *dir, const char *slurm_state, char **ret_error);

/* Every job exited 0 (the exit status of run, run --slurm and collect). */
bool slurm_result_all_ok(const Result *r);

/* Runs a Slurm command (argv[0] looked up in PATH), returns its exit status (>= 0) and,
 * when ret_out is not NULL, its stdout (at most 1 MiB). Negative errno when it could
 * not run. stderr is passed through, or dropped with quiet (a poll that may fail). */
int slurm_command(char *const argv[], char **ret_out, bool quiet);
/* sbatch --parsable: the job id ("123", cluster suffix removed). */
int slurm_submit(const char *script, const char *partition, const char *account, const char *results_dir,
                 char **ret_job_id, char **ret_error);
/* squeue for the job (array tasks included): *ret_active false once it left the queue;
 * *ret_state e.g. "RUNNING node1" (malloc'ed, may be NULL). -EAGAIN when squeue failed
 * (controller unreachable, or the job long gone): ask again. */
int slurm_poll(const char *job_id, bool *ret_active, char **ret_state);
/* The finished job's state from sacct, or scontrol when there is no accounting:
 * "COMPLETED", "FAILED", "CANCELLED", ... NULL when neither knows it. */
char *slurm_final_state(const char *job_id);
int slurm_cancel(const char *job_id);
