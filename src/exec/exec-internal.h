/* SPDX-License-Identifier: MIT */
#pragma once

/* The types exec/'s files share, and the functions they call across files. Nothing
 * outside src/exec includes this. Who owns what:
 *   exec.c       exec_run, the runner's setup and teardown, one PlanRun start to end,
 *                the observer channel (emit, warn, job_view)
 *   loop.c       the epoll loop: one handler per event source, signals, reaping, heartbeat
 *   job.c        the queue's glue to alloc_admit, a job's start, exit, close and free
 *   job-setup.c  pure: a job's environment, paths and names, computed once (job-setup.h)
 *   deadline.c   wall and CPU limits: the per-job timer, stop, grace, kill
 *   output.c     the output pipes: logs, line splitting, phase markers
 *   sample.c     periodic memory/CPU sampling, the PSS policy, samples/<run>-<job>.csv
 *   protector.c  glue between the loop and the priority protector (src/protect)
 *   record.c     a finished job's JobResult, result.json rewrites
 *   hooks.c      setup/prepare/conclude/cleanup hooks and the preflight canary
 *   gpu.c        GPUs: discovery, requests, CUDA_VISIBLE_DEVICES, the NVML sampler */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "alloc/alloc.h"
#include "cgroup/cgroup.h"
#include "exec/container.h"
#include "exec/exec.h"
#include "exec/job-setup.h"
#include "exec/spawn.h"
#include "gpu/gpu.h"
#include "gpu/limiter.h"
#include "measure/markers.h"
#include "measure/proc.h"
#include "protect/protect.h"
#include "topo/topo.h"
#include "util/macros.h"

/* The loop's numbers. */
#define EXEC_EPOLL_BATCH 32                                     /* events taken per epoll_wait */
#define EXEC_HEARTBEAT_VIEWS_MAX 64                             /* running jobs shown per heartbeat */
#define EXEC_SAMPLE_INTERVAL_DEFAULT_USEC (200 * USEC_PER_MSEC) /* when the spec sets none */
#define EXEC_OUTPUT_CHUNK 65536                                 /* bytes read from a pipe at once */
#define EXEC_STDERR_TAIL 1024 /* the end of a job's stderr kept to show under a failure */
#define EXEC_DRAIN_MAX_USEC (200 * USEC_PER_MSEC)               /* output left after the group emptied */
#define EXEC_DRAIN_POLL_MSEC 50
#define EXEC_CPU_CHECK_MIN_USEC 500   /* CPU-limit checks never closer than this */
#define EXEC_PROTECT_MAX_EVENTS 20000 /* freezes recorded in result.json */

typedef struct Job Job;
typedef struct Runner Runner;

/* What epoll hands back: the handler of the source that is ready, and its job (NULL
 * for the runner's own sources). */
typedef void (*SourceHandler)(Runner *R, Job *j);
typedef struct Source {
        SourceHandler handler;
        Job *job;
} Source;

typedef enum JobState {
        JOB_QUEUED,
        JOB_RUNNING,
        JOB_DONE,
} JobState;

typedef enum StopReason {
        STOP_NONE,
        STOP_TIMEOUT,
        STOP_CPU,
        STOP_INTERRUPT,
        STOP_GPU_OOM, /* its GPU memory stayed above its limit (gpu-limit.c) */
} StopReason;

typedef struct JobGpuLimit JobGpuLimit;

struct Job {
        const PlanJob *pj;
        JobState state;
        Cgroup *cg;
        Assignment asg;
        bool has_asg;
        CgApplied applied;
        SpawnResult sp;
        int out_fd, err_fd, timer_fd;
        /* The log files are made when the job first writes to the stream (-1 until
         * then): a job that writes nothing has no file and no path in its result. */
        int log_out, log_err;
        bool log_out_tried, log_err_tried;
        bool log_out_failed, log_err_failed; /* a write failed: the log ends there */
        bool log_truncated;                  /* either: in the result as log_truncated */
        char *err_tail;                      /* the last bytes of its stderr (a ring, made at the first) */
        size_t err_tail_len;                 /* bytes ever written into it */
        int press_fd;          /* v1 without PSI: memory pressure notifications (HIGH jobs) */
        uint64_t press_events; /* how many came */
        Source s_pid, s_out, s_err, s_timer, s_press;
        uint64_t wall_deadline, cpu_check_at, grace_deadline; /* monotonic usec, 0 = none */
        StopReason stop;
        bool killed_by_us;
        bool escaped;            /* a process got out of the job's groups (escape.c) */
        unsigned leftovers_killed; /* processes still in its group when its main process exited */
        pid_t escaped_pids[16];  /* the first of them */
        unsigned n_escaped_pids;
        bool announced_queued;
        uint64_t end_usec;
        FILE *samples;
        uint64_t pss_peak, pss_sum, rss_peak, mem_current, n_samples, pids_peak;
        int mem_fd, cpu_fd;               /* kept open for pread at every tick */
        bool sample_fds_opened;           /* opened at the first read (sample_open_fds) */
        uint64_t pss_at_mem, pss_at_usec; /* group memory and time at the last PSS read */
        uint64_t pss_every;               /* re-read PSS after this long (grows while it holds) */
        uint64_t pss_sharers;             /* R->sharers_changed when PSS was last read */
        uint64_t last_cpu, last_memory;   /* at the last tick */
        uint64_t mem_at_usec;             /* when the group's memory was last read */
        ProcMem last_mem;
        size_t last_npids;
        JobSetup setup;      /* environment, paths, names: computed once when it starts */
        bool samples_opened; /* the CSV is created at the first sample: short jobs have none */
        MarkerEngine *mk;    /* phases and metrics, NULL when the job has none */
        LineSplitter ls_out, ls_err;
        uint64_t line_usec; /* arrival time of the chunk being split */
        /* A job in an image (container.h): its container's name (journalled before it
         * starts) and what the pre-run check found for it; NULL for other jobs. */
        char *container;
        char *container_monitor_pidfile; /* podman: conmon's pid (next to its scratch dir) */
        const ContainerJobPrep *cprep;
        Runner *R;
        const PlanRun *run;
        size_t run_index;
        size_t index; /* in the run's jobs (and R->prot) */
        /* GPUs (gpu.c): one accumulator per assigned GPU, in PCI order */
        uint64_t gpu_key; /* the sampler's name for the job; 0: not registered */
        GpuShareAccum *gpu_acc;
        unsigned n_gpu_acc;
        char *gpu_samples_rel; /* samples/<...>.gpu.csv */
        FILE *gpu_samples;
        bool gpu_samples_failed;
        JobGpuLimit *gpu_limit; /* gpu-limit.c: its region and controller state; NULL: no GPU limit */
};

struct Runner {
        const ExecOptions *o;
        const Plan *plan;
        Result *result;
        CgroupManager *cgm;
        Journal *journal;
        Topology *topo;
        CorePool *pool;
        uint64_t memory_available; /* what jobs may commit in total (admission) */
        uint64_t sharers_changed;  /* counts job starts and ends: PSS sharers came or went */
        int epfd, sigfd, samplefd, protfd;
        Source s_sig, s_sample, s_prot;
        /* The priority protector, for the run in progress (prot NULL when it is off). */
        ProtectConfig pcfg;
        ProtectJob *prot;
        size_t *prot_event; /* per job: index in result->events of its current freeze */
        ProtectAction *prot_actions;
        /* The run in progress. */
        const PlanRun *run;
        size_t run_index;
        RunResult *rr;
        const char *scen_rel; /* its group, relative to the run's */
        Job *jobs;
        size_t n_jobs;
        /* The queue, in alloc_admit's terms: per job its request, whether it still waits,
         * and where an admission puts its assignment. */
        AllocRequest *reqs;
        bool *waiting;
        Assignment *admitted;
        size_t n_events_dropped;
        bool prot_warned;
        uint64_t t0; /* monotonic start of the whole run */
        unsigned interrupts;
        size_t jobs_done, jobs_failed;
        char *scratch_base;
        char *log_dir_made; /* the last log directory made (one per run), so it is made once */
        int proc_fd;
        uint64_t last_write_usec, last_write_cost_usec;
        ResultWriteCache *write_cache; /* finished jobs' text for the rewrites (NULL: none) */
        ContainerPrep *containers;     /* engines, images, volumes of the jobs in images (NULL: none) */
        bool container_left;           /* a container could not be removed: the journal stays */
        bool result_dirty;
        char *error;
        GpuHost *gpus;           /* this machine's GPUs (none: n_devices 0) */
        int *gpu_numa;           /* per GPU position: its NUMA node (AllocOptions) */
        GpuSampler *gpu_sampler; /* NULL unless the plan has GPU jobs */
        uint64_t gpu_keys;
        bool gpu_poll_warned;
        uint64_t gpu_clock_warned; /* bit i: GPU i's lowered clocks were warned about */
        bool gpu_timeslice_warned; /* told that a GPU's time slice was not measured */
        char *gpu_region_dir; /* /dev/shm/corun-<run-id>, made (and journalled) for the first limited job */
        char *gpu_shim;       /* libcorun-cuda.so's path, when a job needs it */
        GpuLimitAttribution gpu_attribution[ALLOC_GPUS_MAX]; /* per GPU position: NVML's samples per process? */
};

/* exec.c */
double exec_since(const Runner *R, uint64_t t);
void exec_emit(Runner *R, ExecEventKind kind, const PlanRun *run, size_t run_index, const ExecJobView *jv,
               const char *message);
void exec_warn(Runner *R, const char *fmt, ...) _printf_(2, 3);
/* escape.c: the job's main process signalled through its pidfd (it may have left its
 * groups); and the sweep of corun's children that belong to no running job (killed,
 * recorded on j when given). Returns how many were killed. */
void escape_signal_main(Job *j, int sig);
unsigned escape_sweep(Runner *R, Job *j);
/* Counts a result or log file that could not be written (the run then exits 3). */
void exec_write_failed(Runner *R);
void job_view(Runner *R, const Job *j, const JobResult *res, ExecJobView *ret);
int exec_run_one(Runner *R, size_t run_index, const PlanRun *run);

/* loop.c */
int loop_add(Runner *R, int fd, Source *s, SourceHandler handler, Job *j);
void loop_del(Runner *R, int *fd);
void loop_on_signal(Runner *R, Job *unused);
void loop_on_pidfd(Runner *R, Job *j);
void loop_on_sample(Runner *R, Job *unused);
int loop_run(Runner *R);

/* job.c */
int job_start_ready(Runner *R);
void job_init(Job *j, const PlanJob *pj, size_t index);
void job_on_exit(Runner *R, Job *j);
void job_finish(Runner *R, Job *j, int wait_status, const struct rusage *ru);
void job_close(Runner *R, Job *j);
void job_free(Runner *R, Job *j);
void job_stop_and_reap(Runner *R, Job *j);

/* deadline.c */
void deadline_arm(Job *j);
uint64_t deadline_job_cpu_usec(Job *j);
void deadline_schedule_cpu_check(Job *j, uint64_t now);
void deadline_begin_stop(Job *j, StopReason why, uint64_t now);
void deadline_kill_now(Job *j);
void deadline_on_timer(Runner *R, Job *j);

/* output.c */
void output_on_stdout(Runner *R, Job *j);
void output_on_stderr(Runner *R, Job *j);
void output_drain(Runner *R, Job *j);

/* sample.c */
void sample_open_fds(Job *j);
void sample_job(Runner *R, Job *j, uint64_t now);

/* protector.c */
int protector_begin(Runner *R, const PlanRun *run);
void protector_end(Runner *R);
void protector_release(Job *j);
void protector_on_tick(Runner *R, Job *unused);
void protector_on_pressure(Runner *R, Job *j);
void protector_job_started(Runner *R, Job *j, const CgLimits *lim);

/* record.c */
void record_job(Runner *R, Job *j, int wait_status, const struct rusage *ru, JobResult *ret);
void record_flush(Runner *R, bool force);

/* hooks.c */
int hooks_run_plan(Runner *R);

/* gpu.c */
int exec_gpu_setup(Runner *R, AllocOptions *ao, char **ret_error);
void exec_gpu_teardown(Runner *R);
/* The job's allocation request with its GPU list resolved (errors name the gpus: value). */
int exec_request_init(Runner *R, const PlanJob *pj, AllocRequest *ret, char **ret_error);
/* The GPU shares of the run's jobs fit on the machine's GPUs side by side (issue 16: more
 * than 100 % on one GPU is refused before anything starts). */
int exec_gpu_shares_check(Runner *R, const PlanRun *run, char **ret_error);
/* CUDA_VISIBLE_DEVICES for the job: its UUIDs, "" for none, NULL to leave it alone. */
int exec_gpu_visible(Runner *R, const Job *j, char **ret);
void exec_gpu_job_started(Runner *R, Job *j);
void exec_gpu_poll(Runner *R, uint64_t now);
void exec_gpu_job_ended(Runner *R, Job *j);
void exec_gpu_record(Runner *R, const Job *j, JobResult *res);
void exec_gpu_job_free(Runner *R, Job *j);
/* gpu-limit.c: GPU shares and memory limits */
int exec_gpu_limit_check(Runner *R, char **ret_error);
int exec_gpu_limit_prepare(Runner *R, Job *j, const char **ret_region, const char **ret_shim,
                           unsigned *ret_mps_pct);
int exec_gpu_limit_create(Runner *R, Job *j, uid_t uid, gid_t gid);
void exec_gpu_limit_tick(Runner *R, uint64_t now);
void exec_gpu_limit_columns(const Runner *R, const Job *j, unsigned i, unsigned k, char *buf, size_t size);
void exec_gpu_limit_record(const Job *j, unsigned k, JobGpuResult *x);
void exec_gpu_limit_free(Runner *R, Job *j);
/* At a job's end: whether its shims corrected timings with a slice not measured on that GPU. */
void exec_gpu_limit_ended(Runner *R, Job *j);
void exec_gpu_limit_teardown(Runner *R);
/* job-container.c: a job in an image. Its engine command line (journalled under its
 * container's name) in place of its command; after its end, its container removed
 * unless the engine did so itself; its image and engine into its result. */
int job_container_argv(Runner *R, Job *j, const CgLimits *lim, char ***ret);
void job_container_end(Runner *R, Job *j, int wait_status);
void job_container_record(const Runner *R, const Job *j, JobResult *res);
/* How many of pids are the engine's monitor of the job's container (podman's conmon)
 * or run below it (the container's processes): not processes the job left running. */
size_t job_container_monitor_pids(const Job *j, const pid_t *pids, size_t n);
/* Before anything starts: the engines, images and volumes (refused with file:line:col),
 * and a warning for a command that runs `docker run` itself. */
int job_container_prepare(Runner *R, char **ret_error);
