/* SPDX-License-Identifier: MIT */
#pragma once

/* The result model (docs/result-schema.md) and result.json writer (result-write.c) and
 * reader (result-read.c, with json-reader.h), both on jansson.
 * Field names are fixed by DESIGN §9; add fields, never rename. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESULT_SCHEMA_VERSION 1

typedef enum JobReason {
        REASON_EXIT,
        REASON_TIMEOUT,
        REASON_CPU_TIMEOUT, /* written as "timeout" with "limit": "cpu" */
        REASON_OOM,
        REASON_GPU_OOM, /* "gpu-oom": the job's GPU memory stayed above its gpus: memory: limit */
        REASON_KILLED,
        REASON_FAILED_TO_START,
        REASON_INTERRUPTED,
        _REASON_MAX,
        _REASON_INVALID = -1,
} JobReason;
const char *job_reason_to_string(JobReason r);
JobReason job_reason_from_string(const char *s);

typedef struct PhaseResult {
        char *name;
        double start_s; /* since job start */
        double wall_s;
        double cpu_s; /* < 0 when unknown */
        bool unfinished;
} PhaseResult;

typedef struct MetricResult {
        char *name;
        double value; /* aggregated (last/max/...) */
        double *all;  /* for METRIC_ALL, else NULL */
        size_t n_all;
        char *unit; /* captured unit text, may be NULL */
} MetricResult;

typedef struct EventResult {
        double t_s; /* since corun started (the clock of runs[].started_s) */
        char *job;
        char *action; /* "freeze" (priority protector), ... */
        char *detail;
        int run;           /* index into runs[]; -1 = run-wide */
        double duration_s; /* how long the action lasted (a freeze); 0 = instant */
} EventResult;

/* A job's use of one GPU (docs/gpu.md), measured from NVML for the job's own pids. */
typedef struct JobGpuResult {
        char *uuid;
        unsigned index; /* NVML's */
        char *name;
        bool shared;          /* assigned as a shared GPU */
        double sm_share_mean; /* time-weighted, fraction 0–1 of the whole GPU, over the job's time on it */
        double sm_share_peak; /* highest share in one NVML sample period */
        uint64_t memory_peak_bytes;
        uint64_t memory_total_bytes; /* the GPU's size */
        unsigned samples;            /* NVML sample periods with the job's pids in them */
        int64_t pids[16];            /* the job's pids NVML saw on the GPU (first 16) */
        unsigned n_pids;

        /* Limits (docs/gpu.md "Caps, shares and memory limits"): set when the job had a GPU
         * share or a GPU memory limit (limited true); strings malloc'ed. */
        bool limited;
        double share_requested;       /* fraction 0–1 of the GPU's time; 0: no share asked */
        double share_applied;         /* what the mechanism enforced, mean over the job's time: the cap, or
                                       * the guarantee plus what was lent (mode share); MPS: its percentage */
        char *share_mode;             /* "cap" | "share"; NULL without a share */
        char *mechanism;              /* "shim" | "mps"; NULL without a share */
        char *semantics;              /* "time-share" (shim) | "sm-partition" (mps) */
        double throttled_s;           /* wall seconds the job's processes waited for their share */
        uint64_t launches[9];         /* launches the shim saw per entry point, GPU_ENTRY_NAMES order
                                       * (region.h); the last is "captured" (not charged) */
        bool launches_seen;           /* the shim reported (launches[] valid) */
        uint64_t memory_limit_bytes;  /* 0: none */
        uint64_t memory_refused;      /* allocations refused with CUDA_ERROR_OUT_OF_MEMORY */
        bool uncontrollable;          /* the share could not be held (kernels longer than the window) */
        bool open_loop;               /* "feedback": "estimates": NVML's samples were not per process on the
                                       * GPU (whole samples, limiter.h), so the shim's estimates alone set
                                       * the rate; false: "nvml" corrected them */
        /* Cost estimates the shim took from timings with a busy neighbour's time slices
         * taken out (kernels longer than a slice; docs/gpu.md). */
        uint64_t sliced_estimates;

        /* The GPU's SM clock at the samples taken while the job ran and the GPU was busy
         * (docs/gpu.md, "Clocks"); clock_polls 0: NVML gave no clock. */
        unsigned clock_polls;
        unsigned sm_clock_min_mhz, sm_clock_max_mhz;
        double sm_clock_mean_mhz;
        uint64_t clock_events;   /* NVML's reasons for a lower clock seen then (gpu/clocks.h) */
        bool clock_events_known; /* false: NVML did not say (events null) */
} JobGpuResult;
/* A job that ran in a container image (docs/containers.md). */
typedef struct ContainerResult {
        char *engine;         /* "podman" | "docker" */
        char *engine_version; /* podman's; docker's daemon's */
        char *image;          /* as the job named it */
        char *image_id;       /* the engine's image id */
        char *digest;         /* the manifest digest, NULL for an image built locally without one */
        char *name;           /* the container's name */
} ContainerResult;
void container_result_free(ContainerResult *c);

typedef struct JobResult {
        char *name;      /* "sealer", or "sealer#2" for replicas */
        char *base_name; /* the JobSpec name */
        char *command;
        JobReason reason;
        int exit_code;             /* -1 when killed by a signal or not started */
        int signal;                /* 0 = none */
        int start_errno;           /* failed-to-start: the errno of exec/setup, else 0 */
        char *start_error;         /* failed-to-start: what failed ("execve /nope") */
        char *limit;               /* for timeout: "wall" | "cpu" */
        double started_s, ended_s; /* since run start, monotonic */
        double wall_s, user_s, sys_s;
        double wait4_user_s, wait4_sys_s; /* the main process tree as wait4 saw it */
        uint64_t peak_bytes, pss_peak_bytes, pss_mean_bytes, rss_peak_bytes;
        uint64_t ev_low, ev_high, ev_max, ev_oom, ev_oom_kill;
        uint64_t vol_ctxsw, invol_ctxsw;
        bool has_psi;
        double psi_cpu_some_s, psi_mem_some_s, psi_mem_full_s, psi_io_some_s, psi_io_full_s;
        uint64_t pids_peak;
        uint64_t forks_refused;
        bool log_truncated; /* a write to the job's log failed: the log ends early */
        /* A process got out of the job's groups: seen outside them at the job's end (its
         * pids), or wait4's CPU time above the group's by more than the accounting slack. */
        bool escaped;
        uint64_t leftovers_killed; /* processes left in the group after the main one exited, killed */
        int64_t escaped_pids[16];
        unsigned n_escaped_pids; /* fork/clone calls the pids limit refused (pids.events max) */
        /* requested vs applied partition */
        char *req_cpus;            /* as asked: "2", "0-3", "shared:0-1" */
        uint64_t req_memory_bytes; /* UINT64_MAX = none */
        char *applied_cpus, *applied_mems;
        uint64_t applied_memory_bytes, applied_swap_bytes, applied_pids_max;
        bool memory_enforced;
        /* what the priority class and the limits came to (docs/priorities.md) */
        uint64_t applied_memory_high_bytes, applied_memory_low_bytes, applied_cpu_weight; /* UINT64_MAX = max/unset */
        bool memory_high_emulated; /* v1: the protector enforces memory_high */
        double frozen_s;           /* time frozen by the protector */
        unsigned freezes;
        char *priority;
        PhaseResult *phases;
        size_t n_phases;
        MetricResult *metrics;
        size_t n_metrics;
        char *log_stdout, *log_stderr, *samples_csv; /* relative to the results dir */
        char *req_gpus;        /* as asked: "1", "shared:1", "0,2", "any"; NULL = none */
        JobGpuResult *gpus;    /* assigned GPUs, in PCI order */
        size_t n_gpus;
        char *gpu_samples_csv; /* samples/<...>.gpu.csv, relative; NULL without GPUs */
        char *cgroup;                                /* path used */
        ContainerResult *container;                  /* NULL: not in an image */
} JobResult;

typedef struct RunResult {
        char *scenario;
        unsigned repetition;
        bool warmup; /* a warm-up run: recorded, never in statistics (repetition counts warm-ups) */
        bool solo;
        char *solo_for;    /* a solo baseline: the scenario it was made for (its partition), else NULL */
        unsigned replicas; /* the sweep value this run belongs to (1 if none) */
        char *params;      /* matrix values "k=v,k=v" or NULL */
        JobResult *jobs;
        size_t n_jobs;
        double started_s, ended_s;
} RunResult;

typedef struct HostGpu {
        unsigned index; /* NVML's */
        char *uuid, *name, *pci_bus_id;
        uint64_t memory_bytes;
        int numa_node; /* -1 unknown */
        unsigned sm_count;
        unsigned sm_clock_max_mhz; /* the highest SM clock (NVML); 0 unknown */
        /* The GPU's time slice and switch, measured this boot (corun doctor --gpu-timeslice);
         * 0: not measured. */
        uint64_t timeslice_ns, timeslice_switch_ns;
} HostGpu;

typedef struct HostInfo {
        char *hostname, *kernel, *cpu_model, *governor, *turbo, *smt;
        unsigned n_cpus_online, n_cpus_allowed;
        char *allowed_cpus;
        uint64_t memory_total_bytes;
        bool swap_on;
        char *cgroup_backend_detail;
        HostGpu *gpus; /* PCI order */
        size_t n_gpus;
        char *gpu_driver;     /* NVIDIA driver version; NULL without GPUs */
        int cuda_driver;      /* cuDriverGetVersion (12040 = 12.4); 0 unknown */
        char *gpus_why_none;  /* no GPU: why (no driver, ...) */
} HostInfo;

typedef struct Result {
        int schema;
        char *corun_version;
        bool partial;
        bool interrupted;
        /* Not in result.json: result files and logs this run could not write (a full disk);
         * `corun run` exits 3 when it is not 0. */
        unsigned write_errors;
        char *started_at;  /* RFC 3339 UTC */
        char *finished_at; /* NULL while partial */
        char *name;
        char *run_id;
        char *spec_file;
        char *command_line;
        char *backend; /* "v2" | "v1" | "none" */
        HostInfo host;
        RunResult *runs;
        size_t n_runs;
        EventResult *events;
        size_t n_events;
        char **warnings; /* NULL-terminated */
} Result;

Result *result_new(void);
Result *result_free(Result *r);
/* Appends (copying nothing: takes the arrays by growth); returns the new element. */
RunResult *result_add_run(Result *r);
JobResult *run_result_add_job(RunResult *run);
void job_result_init(JobResult *j);
int result_add_warning(Result *r, const char *msg);
/* Frees what a JobResult owns and re-initialises it (job_result_init); NULL-safe. For a
 * JobResult filled outside a RunResult that could not be appended. */
void job_result_done(JobResult *j);
/* More growth helpers, same contract: NULL on OOM, pointers into the array move.
 * A new phase has cpu_s = -1 (unknown); a new metric and event are zeroed. */
PhaseResult *job_result_add_phase(JobResult *j);
MetricResult *job_result_add_metric(JobResult *j);
EventResult *result_add_event(Result *r);
JobGpuResult *job_result_add_gpu(JobResult *j);
HostGpu *host_info_add_gpu(HostInfo *h);
size_t result_n_warnings(const Result *r);

/* Serialise to dir/result.json atomically (temp file, fsync, rename). */
int result_write(const Result *r, const char *dir);
int result_write_fd(const Result *r, int fd); /* the whole document as one JSON tree */
/* Rewrites during a run: result_write's bytes, with the text of each job serialised
 * once and kept in the cache (jobs may be appended between writes, never changed or
 * removed). A NULL cache is result_write. */
typedef struct ResultWriteCache ResultWriteCache;
ResultWriteCache *result_write_cache_new(void);
ResultWriteCache *result_write_cache_free(ResultWriteCache *c);
int result_write_cached(const Result *r, const char *dir, ResultWriteCache *c);
/* Reads a result.json (or a directory holding one); unknown fields are ignored and
 * missing ones defaulted, so older and newer files both load. On error
 * *ret_error gets a message. */
int result_read(const char *path, Result **ret, char **ret_error);
