/* SPDX-License-Identifier: MIT */
#pragma once

/* exec: the only stage that touches the system. It consumes a Plan: for each PlanRun
 * it creates the scenario partition, starts the jobs (queued until their cores and
 * memory are free), watches them in one epoll loop (pidfd, signalfd, timerfd, output
 * pipes), enforces wall and CPU limits, samples memory, stops and removes everything,
 * and fills the Result, rewriting result.json after every finished job. */

#include <stdbool.h>
#include <stdint.h>

#include "plan/plan.h"
#include "result/result.h"
#include "spec/spec.h"

typedef enum ExecEventKind {
        EXEC_EVENT_RUN_START,   /* a PlanRun begins */
        EXEC_EVENT_JOB_QUEUED,  /* waiting for cores/memory */
        EXEC_EVENT_JOB_START,
        EXEC_EVENT_JOB_PHASE,   /* a phase started or ended */
        EXEC_EVENT_JOB_END,
        EXEC_EVENT_STOPPING,    /* first interrupt: stop signals sent */
        EXEC_EVENT_HEARTBEAT,   /* every sample tick while jobs run */
        EXEC_EVENT_WARNING,
} ExecEventKind;

typedef struct ExecJobView {
        const char *name;
        const char *cpus;        /* applied */
        uint64_t memory_current, memory_max;
        double elapsed_s;
        const char *phase;       /* current phase or NULL */
        const JobResult *result; /* for JOB_END */
        bool frozen;             /* frozen by the priority protector right now */
        double frozen_s;         /* time frozen so far */
        unsigned n_gpus;         /* GPUs assigned (their use below is the newest NVML sample period's) */
        double gpu_share;        /* SM share summed over them, in GPUs */
        uint64_t gpu_memory;     /* bytes on them */
        double gpu_cap;          /* its share of each GPU (0–1), 0: no share */
        uint64_t gpu_memory_max; /* its GPU memory limit per GPU, 0: none */
} ExecJobView;

typedef struct ExecEvent {
        ExecEventKind kind;
        double t_s;                   /* since the run started */
        const PlanRun *run;
        size_t run_index, n_runs;
        const ExecJobView *job;       /* JOB_* events */
        const ExecJobView *running;   /* HEARTBEAT: all running jobs */
        size_t n_running;
        size_t jobs_done, jobs_total, jobs_failed;
        const char *message;          /* WARNING, JOB_PHASE ("p2 started"); JOB_END of a failed job: the end of its stderr */
} ExecEvent;

typedef void (*ExecObserver)(const ExecEvent *ev, void *userdata);

typedef struct ExecOptions {
        const Spec *spec;
        const char *results_dir;  /* exists, absolute */
        const char *run_id;
        const char *journal_dir;  /* NULL = /run/corun */
        const char *topology;     /* NULL = this machine; else a --topology argument (tests) */
        uint64_t heartbeat_usec;  /* 0 = no heartbeat events */
        ExecObserver observer;
        void *userdata;
        bool show_output; /* the jobs' stdout and stderr also go to ours, as they come */
        /* Set when a job can never be placed (more CPUs or memory than the machine has for
         * jobs): the run was refused before anything started, the error says why in the
         * words of `corun plan`. */
        bool *ret_refused;
} ExecOptions;

/* Runs the whole plan. Returns 0 when every run completed (jobs may have failed: see
 * the result), -EINTR when interrupted (the result is valid and marked interrupted),
 * other negative errno when the runner could not work at all; *ret_error then says
 * why. The result is written to results_dir/result.json throughout, but for the end of
 * the last run: the caller writes the final result (finished_at, partial) itself, on
 * every return. */
int exec_run(const ExecOptions *o, const Plan *plan, Result *result, char **ret_error);

/* Runs the preflight canary (`--preflight CMD`) through /bin/sh -c, started the way hooks
 * are. 0 when it exited 0; -ECANCELED when it failed: *ret_status is its wait status and
 * *ret_output the start of its output (stdout and stderr together, malloc'ed); another
 * negative errno when it could not be run. */
int exec_preflight(const char *cmd, int *ret_status, char **ret_output);

/* Fills host metadata (CPU model, SMT, governor, turbo, kernel, memory, swap). */
int exec_host_info(HostInfo *ret);
