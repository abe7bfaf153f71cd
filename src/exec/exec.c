/* SPDX-License-Identifier: MIT */
#include "exec/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "cgroup/cgroup.h"
#include "exec/spawn.h"
#include "measure/markers.h"
#include "measure/proc.h"
#include "protect/protect.h"
#include "topo/topo.h"
#include "util/cpuset.h"
#include "util/macros.h"
#include "util/fileio.h"
#include "util/parse.h"

extern char **environ;

typedef enum SourceKind {
        SRC_SIGNAL,
        SRC_SAMPLE,
        SRC_PIDFD,
        SRC_STDOUT,
        SRC_STDERR,
        SRC_TIMER,
        SRC_PROTECT,
        SRC_PRESSURE,
} SourceKind;

typedef struct Job Job;
typedef struct Runner Runner;
typedef struct Source {
        SourceKind kind;
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
} StopReason;

struct Job {
        const PlanJob *pj;
        JobState state;
        Cgroup *cg;
        Assignment asg;
        bool has_asg;
        CgApplied applied;
        SpawnResult sp;
        int out_fd, err_fd, log_out, log_err, timer_fd;
        int press_fd;           /* v1 without PSI: memory pressure notifications (HIGH jobs) */
        uint64_t press_events;  /* how many came */
        Source s_pid, s_out, s_err, s_timer, s_press;
        uint64_t wall_deadline, cpu_check_at, grace_deadline; /* monotonic usec, 0 = none */
        StopReason stop;
        bool killed_by_us;
        bool announced_queued;
        uint64_t end_usec;
        FILE *samples;
        uint64_t pss_peak, pss_sum, rss_peak, mem_current, n_samples, pids_peak;
        int mem_fd, cpu_fd;       /* kept open for pread at every tick */
        uint64_t pss_at_mem, pss_at_usec; /* group memory and time at the last PSS read */
        ProcMem last_mem;
        size_t last_npids;
        char *scratch;
        char *log_prefix; /* "logs/003-crowded-rep0/sealer" without extension */
        char *cpus_text;
        char *samples_path; /* the CSV is created at the first sample: short jobs have none */
        MarkerEngine *mk;   /* phases and metrics, NULL when the job has none */
        LineSplitter ls_out, ls_err;
        uint64_t line_usec; /* arrival time of the chunk being split */
        Runner *R;
        const PlanRun *run;
        size_t run_index;
        size_t index; /* in the run's jobs (and R->prot) */
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
        int epfd, sigfd, samplefd, protfd;
        Source s_sig, s_sample, s_prot;
        /* The priority protector, for the run in progress (prot NULL when it is off). */
        ProtectConfig pcfg;
        ProtectJob *prot;
        size_t *prot_event; /* per job: index in result->events of its current freeze */
        ProtectAction *prot_actions;
        Job *jobs; /* the run in progress */
        size_t n_jobs;
        size_t n_events_dropped;
        bool prot_warned;
        uint64_t t0; /* monotonic start of the whole run */
        unsigned interrupts;
        size_t jobs_done, jobs_failed;
        char *scratch_base;
        int proc_fd;
        uint64_t last_write_usec, last_write_cost_usec;
        bool result_dirty;
        char *error;
};

static double since(const Runner *R, uint64_t t) {
        return t > R->t0 ? (double)(t - R->t0) / USEC_PER_SEC : 0.0;
}

_printf_(2, 3) static int set_error(Runner *R, const char *fmt, ...) {
        va_list ap;
        free(R->error);
        va_start(ap, fmt);
        if (vasprintf(&R->error, fmt, ap) < 0)
                R->error = NULL;
        va_end(ap);
        return -EINVAL;
}

static void emit(Runner *R, ExecEventKind kind, const PlanRun *run, size_t run_index, const ExecJobView *jv,
                 const char *message) {
        if (!R->o->observer)
                return;
        ExecEvent ev = {
                .kind = kind,
                .t_s = since(R, now_usec(CLOCK_MONOTONIC)),
                .run = run,
                .run_index = run_index,
                .n_runs = R->plan->n_runs,
                .job = jv,
                .jobs_done = R->jobs_done,
                .jobs_total = R->plan->n_jobs_total,
                .jobs_failed = R->jobs_failed,
                .message = message,
        };
        R->o->observer(&ev, R->o->userdata);
}

static void warn(Runner *R, const char *fmt, ...) _printf_(2, 3);
static void warn(Runner *R, const char *fmt, ...) {
        va_list ap;
        _cleanup_free_ char *m = NULL;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (!m)
                return;
        result_add_warning(R->result, m);
        emit(R, EXEC_EVENT_WARNING, NULL, 0, NULL, m);
}

static void job_view(Runner *R, const Job *j, const JobResult *res, ExecJobView *ret) {
        uint64_t now = j->end_usec ? j->end_usec : now_usec(CLOCK_MONOTONIC);
        *ret = (ExecJobView){
                .name = j->pj->name,
                .cpus = j->cpus_text,
                .memory_current = j->mem_current,
                .memory_max = j->pj->limits.memory_max,
                .elapsed_s = j->sp.start_usec && now > j->sp.start_usec
                                     ? (double)(now - j->sp.start_usec) / USEC_PER_SEC
                                     : 0,
                .result = res,
                .phase = marker_engine_current(j->mk),
        };
        if (R->prot && j->index < R->n_jobs && &R->jobs[j->index] == j) {
                const ProtectJob *p = &R->prot[j->index];
                uint64_t f = p->frozen_total_usec + (p->frozen && now > p->frozen_since ? now - p->frozen_since : 0);
                ret->frozen = p->frozen;
                ret->frozen_s = (double)f / USEC_PER_SEC;
        }
}

/* ---- small file helpers ---- */

/* "a#2" is a fine directory name, but keep file names shell-friendly. */
static char *sanitize(const char *s) {
        char *r = strdup(s);
        for (char *p = r; p && *p; p++)
                if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
                      *p == '-' || *p == '_' || *p == '.'))
                        *p = '_';
        return r;
}

static char **build_env(const Runner *R, const PlanRun *run, const Job *j) {
        static const char *const ours[] = {"TMPDIR",         "OMP_NUM_THREADS",  "MKL_NUM_THREADS",
                                            "OPENBLAS_NUM_THREADS", "CORUN_JOB", "CORUN_RUN_ID",
                                            "CORUN_SCENARIO", "CORUN_REPETITION", "CORUN_CPUS"};
        size_t n = 0, cap;
        for (char **e = environ; e && *e; e++)
                n++;
        size_t nuser = 0;
        for (char **e = j->pj->env; e && *e; e++)
                nuser++;
        cap = n + nuser + ELEMENTSOF(ours) + 1;
        char **env = calloc(cap, sizeof(char *));
        if (!env)
                return NULL;
        size_t k = 0;
        /* Inherit the runner's environment (as hyperfine does), minus what we set and
         * what the job overrides. */
        for (char **e = environ; e && *e; e++) {
                bool skip = false;
                size_t kl = strcspn(*e, "=");
                for (size_t i = 0; i < ELEMENTSOF(ours) && !skip; i++)
                        skip = strlen(ours[i]) == kl && strncmp(*e, ours[i], kl) == 0;
                for (char **u = j->pj->env; u && *u && !skip; u++)
                        skip = strcspn(*u, "=") == kl && strncmp(*e, *u, kl) == 0;
                if (!skip)
                        env[k++] = strdup(*e);
        }
        unsigned ncpu = cpuset_count(&j->asg.cpus);
        if (ncpu == 0)
                ncpu = 1;
        asprintf(&env[k++], "TMPDIR=%s", j->scratch ? j->scratch : "/tmp");
        asprintf(&env[k++], "OMP_NUM_THREADS=%u", ncpu);
        asprintf(&env[k++], "MKL_NUM_THREADS=%u", ncpu);
        asprintf(&env[k++], "OPENBLAS_NUM_THREADS=%u", ncpu);
        asprintf(&env[k++], "CORUN_JOB=%s", j->pj->name);
        asprintf(&env[k++], "CORUN_RUN_ID=%s", R->o->run_id);
        asprintf(&env[k++], "CORUN_SCENARIO=%s", run->scenario_name);
        asprintf(&env[k++], "CORUN_REPETITION=%u", run->repetition);
        asprintf(&env[k++], "CORUN_CPUS=%s", j->cpus_text ? j->cpus_text : "");
        for (char **u = j->pj->env; u && *u; u++)
                env[k++] = strdup(*u);
        env[k] = NULL;
        return env;
}

static void strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

/* ---- timers ---- */

static void job_arm_timer(Job *j) {
        uint64_t next = 0;
        uint64_t c[] = {j->wall_deadline, j->cpu_check_at, j->grace_deadline};
        for (size_t i = 0; i < ELEMENTSOF(c); i++)
                if (c[i] && (!next || c[i] < next))
                        next = c[i];
        struct itimerspec its = {0};
        if (next) {
                its.it_value.tv_sec = (time_t)(next / USEC_PER_SEC);
                its.it_value.tv_nsec = (long)(next % USEC_PER_SEC * NSEC_PER_USEC);
                if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
                        its.it_value.tv_nsec = 1;
        }
        (void)timerfd_settime(j->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static uint64_t job_cpu_usec(Job *j) {
        uint64_t u;
        if (j->cpu_fd >= 0 && cg_sample_read_cpu(j->cpu_fd, &u) >= 0)
                return u;
        /* No group accounting (none backend): the main process's own usage. */
        struct timespec ts;
        clockid_t cid;
        if (clock_getcpuclockid(j->sp.pid, &cid) == 0 && clock_gettime(cid, &ts) == 0)
                return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
        return 0;
}

/* CPU usage can grow at most as fast as the job has CPUs, so the next check is due
 * when the remaining budget could have been spent at full speed: exact enforcement
 * without polling. */
static void job_schedule_cpu_check(Job *j, uint64_t now) {
        uint64_t limit = j->pj->spec->cpu_timeout_usec;
        if (limit == USEC_INFINITY || j->stop != STOP_NONE) {
                j->cpu_check_at = 0;
                return;
        }
        uint64_t used = job_cpu_usec(j);
        unsigned ncpu = cpuset_count(&j->applied.cpus);
        if (ncpu == 0)
                ncpu = (unsigned)MAX(1L, sysconf(_SC_NPROCESSORS_ONLN));
        uint64_t remaining = used >= limit ? 0 : limit - used;
        uint64_t wait = remaining / ncpu;
        if (wait < 500)
                wait = remaining ? 500 : 0;
        j->cpu_check_at = now + wait;
}

static void job_signal(Job *j, int sig) {
        if (j->cg && cg_signal(j->cg, sig) >= 0)
                return;
        if (j->sp.pid > 0)
                (void)kill(-j->sp.pid, sig);
}

static void job_kill_now(Job *j) {
        j->killed_by_us = true;
        if (j->cg && cg_kill(j->cg) >= 0)
                return;
        if (j->sp.pid > 0) {
                (void)kill(-j->sp.pid, SIGKILL);
                (void)kill(j->sp.pid, SIGKILL);
        }
}

/* ---- the priority protector (docs/priorities.md): src/protect decides, this applies ---- */

#define PROTECT_MAX_EVENTS 20000

static void protect_record(Runner *R, Job *j, const ProtectAction *a, uint64_t now) {
        const ProtectJob *p = &R->prot[j->index];
        char detail[320], b1[32], b2[32];

        if (a->kind == PROTECT_THAW) {
                size_t e = R->prot_event[j->index];
                if (e < R->result->n_events)
                        R->result->events[e].duration_s = (double)a->duration_usec / USEC_PER_SEC;
                R->prot_event[j->index] = SIZE_MAX;
                R->result_dirty = true;
                return;
        }
        if (R->result->n_events >= PROTECT_MAX_EVENTS) {
                R->n_events_dropped++;
                return;
        }
        if (a->reason == PROTECT_REASON_STALL) {
                const ProtectJob *c = &R->prot[a->cause];
                const char *who = R->jobs[a->cause].pj->name;
                if (c->has_stall)
                        snprintf(detail, sizeof detail,
                                 "high-priority job '%s' stalled on memory %.0f%% of the time (threshold %.0f%%)",
                                 who, c->stall_share * 100, R->pcfg.threshold * 100);
                else
                        snprintf(detail, sizeof detail,
                                 "high-priority job '%s' hit its memory limits (%.0f new memory events)", who,
                                 c->rank);
        } else
                snprintf(detail, sizeof detail, "memory %s is %.0f%% above its high mark %s",
                         format_size(b1, sizeof b1, p->memory_current), a->overage * 100,
                         format_size(b2, sizeof b2, p->memory_high));
        EventResult *ev = result_add_event(R->result);
        if (!ev)
                return;
        ev->t_s = since(R, now);
        ev->job = strdup(j->pj->name);
        ev->action = strdup("freeze");
        ev->detail = strdup(detail);
        ev->run = (int)j->run_index;
        ev->duration_s = (double)a->duration_usec / USEC_PER_SEC;
        R->prot_event[j->index] = R->result->n_events - 1;
        R->result_dirty = true;
}

static void protect_apply(Runner *R, const ProtectAction *a, uint64_t now) {
        Job *j = &R->jobs[a->job];
        bool freeze = a->kind == PROTECT_FREEZE;
        int r = j->cg ? cg_freeze(j->cg, freeze) : -ENOENT;
        if (r < 0 && freeze) {
                protect_job_forget_freeze(&R->prot[a->job], now);
                R->prot[a->job].n_freezes--;
                if (!R->prot_warned)
                        warn(R, "job '%s': the priority protector cannot freeze it: %s", j->pj->name, strerror(-r));
                R->prot_warned = true;
                return;
        }
        if (r < 0) {
                /* A job left frozen would never finish: still frozen as far as the
                 * protector knows, due now, so the next tick tries again. */
                protect_job_thaw_failed(&R->prot[a->job], a->reason, now);
                warn(R, "job '%s': the priority protector cannot thaw it (trying again): %s", j->pj->name,
                     strerror(-r));
                return;
        }
        protect_record(R, j, a, now);
}

/* Before a job stops, exits or loses its group: thawed, and left alone from now on. */
static void protect_release(Job *j) {
        Runner *R = j->R;
        ProtectAction a;
        if (!R || !R->prot || j->index >= R->n_jobs)
                return;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        if (protect_job_release(&R->prot[j->index], j->index, now, &a)) {
                int r = j->cg ? cg_freeze(j->cg, false) : 0;
                if (r < 0 && j->cg)
                        r = cg_freeze(j->cg, false);
                if (r < 0)
                        warn(R, "job '%s': cannot thaw it: %s; it is killed frozen", j->pj->name, strerror(-r));
                protect_record(R, j, &a, now);
        }
        R->prot[j->index].running = false;
}

static void protect_arm(Runner *R, uint64_t now) {
        uint64_t next = now + R->o->spec->protector.interval_usec;
        next = MIN(next, protect_next_deadline(R->prot, R->n_jobs, now));
        next = MAX(next, now + 1);
        struct itimerspec its = {
                .it_value = {.tv_sec = (time_t)(next / USEC_PER_SEC), .tv_nsec = (long)(next % USEC_PER_SEC * 1000)}};
        timerfd_settime(R->protfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void protect_on_tick(Runner *R) {
        uint64_t exp;
        ssize_t _unused_ rd = read(R->protfd, &exp, sizeof exp);
        if (!R->prot)
                return;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        for (size_t i = 0; i < R->n_jobs; i++) {
                Job *j = &R->jobs[i];
                ProtectJob *p = &R->prot[i];
                p->running = j->state == JOB_RUNNING && j->stop == STOP_NONE && j->cg;
                if (!p->running)
                        continue;
                if (j->mem_fd >= 0)
                        (void)cg_sample_read_memory(j->cg, j->mem_fd, &p->memory_current);
                else
                        p->memory_current = j->mem_current; /* none backend: the sampled RSS */
                CgPressure cp;
                if (p->priority == PRIORITY_HIGH && cg_read_memory_pressure(j->cg, &cp) >= 0) {
                        p->has_stall = cp.has_stall;
                        p->stall_usec = cp.stall_usec;
                        p->pressure_count = cp.count + j->press_events;
                }
        }
        size_t k = protect_tick(&R->pcfg, R->prot, R->n_jobs, now, R->prot_actions);
        for (size_t i = 0; i < k; i++)
                protect_apply(R, &R->prot_actions[i], now);
        protect_arm(R, now);
}

/* On for a run when asked, or (auto) when a job has a priority class or a high mark
 * the kernel will not enforce (v1, none). */
static bool protect_wanted(const Runner *R, const PlanRun *run) {
        ProtectorMode m = R->o->spec->protector.mode;
        if (m != PROTECTOR_AUTO)
                return m == PROTECTOR_ON;
        for (size_t i = 0; i < run->n_jobs; i++) {
                const Limits *l = &run->jobs[i].limits;
                if (l->priority != PRIORITY_NORMAL)
                        return true;
                if (l->memory_high_set && l->memory_high != LIMIT_MAX && cg_manager_backend(R->cgm) != BACKEND_V2)
                        return true;
        }
        return false;
}

static int protect_begin(Runner *R, const PlanRun *run, Job *jobs) {
        R->jobs = jobs;
        R->n_jobs = run->n_jobs;
        if (!protect_wanted(R, run))
                return 0;
        R->prot = calloc(run->n_jobs, sizeof *R->prot);
        R->prot_event = malloc(run->n_jobs * sizeof *R->prot_event);
        R->prot_actions = calloc(2 * run->n_jobs, sizeof *R->prot_actions);
        if (!R->prot || !R->prot_event || !R->prot_actions)
                return -ENOMEM;
        for (size_t i = 0; i < run->n_jobs; i++) {
                R->prot[i].priority = run->jobs[i].limits.priority;
                R->prot[i].memory_high = UINT64_MAX;
                R->prot_event[i] = SIZE_MAX;
        }
        protect_config_from_spec(&R->o->spec->protector, true, &R->pcfg);
        protect_arm(R, now_usec(CLOCK_MONOTONIC));
        return 0;
}

static void protect_end(Runner *R) {
        struct itimerspec off = {0};
        if (R->protfd >= 0)
                timerfd_settime(R->protfd, 0, &off, NULL);
        free(R->prot);
        free(R->prot_event);
        free(R->prot_actions);
        R->prot = NULL;
        R->prot_event = NULL;
        R->prot_actions = NULL;
        R->jobs = NULL;
        R->n_jobs = 0;
}

static void job_begin_stop(Job *j, StopReason why, uint64_t now) {
        if (j->state != JOB_RUNNING || j->stop != STOP_NONE)
                return;
        protect_release(j);
        j->stop = why;
        j->cpu_check_at = 0;
        j->wall_deadline = 0;
        int sig = j->pj->spec->stop_signal > 0 ? j->pj->spec->stop_signal : SIGTERM;
        uint64_t grace = j->pj->spec->grace_usec;
        if (sig == SIGKILL || grace == 0) {
                job_kill_now(j);
                return;
        }
        job_signal(j, sig);
        /* A stopped job would never see SIGTERM. */
        job_signal(j, SIGCONT);
        j->grace_deadline = grace == USEC_INFINITY ? 0 : now + grace;
        job_arm_timer(j);
}

static void job_on_timer(Runner *R, Job *j) {
        uint64_t exp;
        ssize_t _unused_ n = read(j->timer_fd, &exp, sizeof exp);
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        if (j->state != JOB_RUNNING)
                return;
        if (j->grace_deadline && now >= j->grace_deadline) {
                j->grace_deadline = 0;
                job_kill_now(j);
        }
        if (j->wall_deadline && now >= j->wall_deadline)
                job_begin_stop(j, STOP_TIMEOUT, now);
        if (j->cpu_check_at && now >= j->cpu_check_at) {
                if (job_cpu_usec(j) >= j->pj->spec->cpu_timeout_usec)
                        job_begin_stop(j, STOP_CPU, now);
                else
                        job_schedule_cpu_check(j, now);
        }
        (void)R;
        job_arm_timer(j);
}

/* ---- output ---- */

static uint64_t job_cpu_usec(Job *j);

static uint64_t marker_cpu(void *userdata) {
        return job_cpu_usec(userdata);
}

/* Each whole line of stdout or stderr, as it arrives: phase boundaries and metrics. */
static void job_on_line(const char *line, size_t len, void *userdata) {
        Job *j = userdata;
        char change[160];
        if (marker_engine_feed(j->mk, line, len, j->line_usec, marker_cpu, j, change, sizeof change) > 0) {
                ExecJobView v;
                job_view(j->R, j, NULL, &v);
                emit(j->R, EXEC_EVENT_JOB_PHASE, j->run, j->run_index, &v, change);
        }
}

/* Returns true at EOF. */
static bool job_read_output(Runner *R, Job *j, bool is_err) {
        int *fd = is_err ? &j->err_fd : &j->out_fd;
        int log = is_err ? j->log_err : j->log_out;
        char buf[65536];
        (void)R;
        for (;;) {
                ssize_t n = read(*fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno != EAGAIN;
                if (n == 0) {
                        epoll_ctl(R->epfd, EPOLL_CTL_DEL, *fd, NULL);
                        closep(fd);
                        *fd = -1;
                        return true;
                }
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(log, buf + off, (size_t)(n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;
                        off += w;
                }
                if (j->mk) {
                        j->line_usec = now_usec(CLOCK_MONOTONIC);
                        (void)line_splitter_feed(is_err ? &j->ls_err : &j->ls_out, buf, (size_t)n, job_on_line, j);
                }
        }
}

/* After the group is empty every writer is gone; bounded in case a process escaped
 * (none backend). */
static void job_drain_output(Runner *R, Job *j) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + 200 * USEC_PER_MSEC;
        while ((j->out_fd >= 0 || j->err_fd >= 0) && now_usec(CLOCK_MONOTONIC) < until) {
                struct pollfd p[2] = {{.fd = j->out_fd, .events = POLLIN}, {.fd = j->err_fd, .events = POLLIN}};
                if (poll(p, 2, 50) < 0 && errno != EINTR)
                        break;
                if (j->out_fd >= 0 && p[0].revents)
                        job_read_output(R, j, false);
                if (j->err_fd >= 0 && p[1].revents)
                        job_read_output(R, j, true);
        }
        for (int *fd = &j->out_fd; fd; fd = fd == &j->out_fd ? &j->err_fd : NULL)
                if (*fd >= 0) {
                        epoll_ctl(R->epfd, EPOLL_CTL_DEL, *fd, NULL);
                        closep(fd);
                        *fd = -1;
                }
        if (j->mk) {
                /* A last line without its newline still counts. */
                j->line_usec = now_usec(CLOCK_MONOTONIC);
                line_splitter_flush(&j->ls_out, job_on_line, j);
                line_splitter_flush(&j->ls_err, job_on_line, j);
        }
}

/* ---- sampling ---- */

/* PSS needs the kernel to walk every page table entry of every process (smaps_rollup):
 * for 64 jobs of 50 MiB at 10 Hz that was half a core. PSS only moves when the group's
 * memory does (or, for shared pages, when a sharer comes or goes), so it is re-read when
 * the group's usage moved by more than PSS_REREAD_DELTA or after PSS_REREAD_USEC; the
 * cheap counters are read at every tick. */
#define PSS_REREAD_USEC (10 * USEC_PER_SEC)
static bool pss_due(const Job *j, uint64_t mem, uint64_t now) {
        if (j->mem_fd < 0 || j->n_samples == 0 || now - j->pss_at_usec >= PSS_REREAD_USEC)
                return true;
        uint64_t d = mem > j->pss_at_mem ? mem - j->pss_at_mem : j->pss_at_mem - mem;
        return d > MAX(UINT64_C(1) << 20, j->pss_at_mem / 50);
}

static void job_sample(Runner *R, Job *j, uint64_t now) {
        uint64_t mem = 0, cpu = 0;

        if (j->mem_fd >= 0)
                (void)cg_sample_read_memory(j->cg, j->mem_fd, &mem);
        if (j->cpu_fd >= 0)
                (void)cg_sample_read_cpu(j->cpu_fd, &cpu);
        if (pss_due(j, mem, now)) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                ProcMem pm = {0};
                if (!j->cg || cg_pids(j->cg, &pids, &n) < 0) {
                        free(pids);
                        pids = NULL;
                        if (proc_descendants(R->proc_fd, j->sp.pid, &pids, &n) < 0)
                                n = 0;
                        /* Descendants leave out the root: add the job's main process. */
                        pid_t *all = realloc(pids, (n + 1) * sizeof(pid_t));
                        if (all) {
                                all[n++] = j->sp.pid;
                                pids = all;
                        }
                }
                if (n > 0)
                        (void)proc_sample_pids(R->proc_fd, pids, n, &pm);
                j->last_mem = pm;
                j->last_npids = n;
                j->pss_at_mem = mem;
                j->pss_at_usec = now;
        }
        const ProcMem *m = &j->last_mem;
        j->mem_current = mem ? mem : m->rss;
        j->pss_peak = MAX(j->pss_peak, m->pss);
        j->rss_peak = MAX(j->rss_peak, m->rss);
        j->pss_sum += m->pss;
        j->pids_peak = MAX(j->pids_peak, (uint64_t)j->last_npids);
        j->n_samples++;
        if (!j->samples && j->samples_path) {
                j->samples = fopen(j->samples_path, "we");
                if (j->samples)
                        fputs("t_s,memory_current_bytes,pss_bytes,rss_bytes,cpu_usage_s,pids\n", j->samples);
                free(j->samples_path);
                j->samples_path = NULL;
        }
        if (j->samples)
                fprintf(j->samples, "%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%zu\n",
                        (double)(now - j->sp.start_usec) / USEC_PER_SEC, j->mem_current, m->pss, m->rss,
                        (double)cpu / USEC_PER_SEC, j->last_npids);
}

/* ---- job lifecycle ---- */

static void job_close(Runner *R, Job *j) {
        int *fds[] = {&j->out_fd, &j->err_fd, &j->timer_fd, &j->sp.pidfd, &j->mem_fd, &j->cpu_fd, &j->press_fd};
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (*fds[i] >= 0) {
                        epoll_ctl(R->epfd, EPOLL_CTL_DEL, *fds[i], NULL);
                        close(*fds[i]);
                        *fds[i] = -1;
                }
        if (j->log_out >= 0)
                close(j->log_out);
        if (j->log_err >= 0)
                close(j->log_err);
        j->log_out = j->log_err = -1;
        if (j->samples)
                fclose(j->samples);
        j->samples = NULL;
}

static char *dup_rel(const char *prefix, const char *ext) {
        char *s = NULL;
        if (asprintf(&s, "%s%s", prefix, ext) < 0)
                return NULL;
        return s;
}

static const char *request_text(const CpuRequest *c, char *buf, size_t n) {
        char set[256];
        switch (c->kind) {
        case CPUS_COUNT:
                snprintf(buf, n, "%u", c->count);
                break;
        case CPUS_LIST:
                cpuset_format(&c->set, set, sizeof set);
                snprintf(buf, n, "%s", set);
                break;
        case CPUS_SHARED:
                cpuset_format(&c->set, set, sizeof set);
                snprintf(buf, n, "shared:%s", set);
                break;
        case CPUS_ALL:
                snprintf(buf, n, "all");
                break;
        default:
                snprintf(buf, n, "1");
        }
        return buf;
}

/* result.json is rewritten after finished jobs, at most every RESULT_WRITE_MIN_USEC, and
 * never more often than RESULT_WRITE_COST_FACTOR times the last rewrite took:
 * serialising the whole result after each of thousands of short jobs cost more than
 * running them, and a result of thousands of jobs takes milliseconds to write, so the
 * rewrites stay under 1/RESULT_WRITE_COST_FACTOR of the runner's time however large the
 * result grows. A skipped rewrite happens at a later sample tick or at the run's end;
 * readers always see a complete file (rename). */
#define RESULT_WRITE_MIN_USEC (200 * USEC_PER_MSEC)
#define RESULT_WRITE_COST_FACTOR 20
static void flush_result(Runner *R, bool force) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        uint64_t gap = MAX(RESULT_WRITE_MIN_USEC, RESULT_WRITE_COST_FACTOR * R->last_write_cost_usec);
        if (!R->result_dirty || (!force && now - R->last_write_usec < gap))
                return;
        int r = result_write(R->result, R->o->results_dir);
        if (r < 0)
                warn(R, "cannot write %s/result.json: %s", R->o->results_dir, strerror(-r));
        uint64_t done = now_usec(CLOCK_MONOTONIC);
        R->last_write_cost_usec = done - now;
        R->last_write_usec = done;
        R->result_dirty = false;
}

/* Fills the JobResult of a finished (or never started) job and appends it to the run. */
static void job_finish(Runner *R, RunResult *rr, const PlanRun *run, size_t run_index, Job *j, int wait_status,
                       const struct rusage *ru) {
        JobResult res;
        CgStats st = {0};
        char buf[1024];

        job_result_init(&res);
        res.name = strdup(j->pj->name);
        res.base_name = strdup(j->pj->spec->name);
        res.command = strdup(j->pj->spec->command_text ? j->pj->spec->command_text : j->pj->argv[0]);
        res.priority = strdup(priority_to_string(j->pj->limits.priority));
        res.req_cpus = strdup(request_text(&j->pj->limits.cpus, buf, sizeof buf));
        res.req_memory_bytes = j->pj->limits.memory_max;
        res.applied_cpus = cpuset_to_string(&j->applied.cpus);
        res.applied_mems = cpuset_to_string(&j->applied.mems);
        res.applied_memory_bytes = j->applied.memory_max;
        res.applied_swap_bytes = j->applied.swap_max;
        res.applied_pids_max = j->applied.pids_max;
        res.memory_enforced = j->applied.memory_enforced;
        res.applied_memory_high_bytes = j->applied.memory_high;
        res.applied_memory_low_bytes = j->applied.memory_low;
        res.applied_cpu_weight = j->applied.cpu_weight ? j->applied.cpu_weight : LIMIT_MAX;
        if (R->prot) {
                const ProtectJob *p = &R->prot[j->index];
                res.memory_high_emulated = p->memory_high != UINT64_MAX;
                if (res.memory_high_emulated)
                        res.applied_memory_high_bytes = p->memory_high;
                res.frozen_s = (double)p->frozen_total_usec / USEC_PER_SEC;
                res.freezes = p->n_freezes;
        }
        if (j->cg)
                res.cgroup = strdup(cg_path(j->cg));
        if (j->log_prefix) {
                res.log_stdout = dup_rel(j->log_prefix, ".out");
                res.log_stderr = dup_rel(j->log_prefix, ".err");
        }
        res.started_s = since(R, j->sp.start_usec);

        if (j->sp.start_errno) {
                res.reason = REASON_FAILED_TO_START;
                res.start_errno = j->sp.start_errno;
                snprintf(buf, sizeof buf, "%s %s: %s", j->sp.start_stage ? j->sp.start_stage : "setup",
                         j->pj->argv[0], strerror(j->sp.start_errno));
                res.start_error = strdup(buf);
                res.ended_s = res.started_s;
        } else {
                if (j->cg)
                        (void)cg_read_stats(j->cg, &st);
                res.wall_s = (double)(j->end_usec - j->sp.start_usec) / USEC_PER_SEC;
                res.ended_s = since(R, j->end_usec);
                res.wait4_user_s = (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6;
                res.wait4_sys_s = (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
                if (st.cpu_usage_usec || st.cpu_user_usec) {
                        res.user_s = (double)st.cpu_user_usec / USEC_PER_SEC;
                        res.sys_s = (double)st.cpu_system_usec / USEC_PER_SEC;
                } else {
                        res.user_s = res.wait4_user_s;
                        res.sys_s = res.wait4_sys_s;
                }
                res.vol_ctxsw = (uint64_t)ru->ru_nvcsw;
                res.invol_ctxsw = (uint64_t)ru->ru_nivcsw;
                res.peak_bytes = st.memory_peak;
                res.rss_peak_bytes = MAX(j->rss_peak, (uint64_t)ru->ru_maxrss * 1024);
                res.pss_peak_bytes = j->pss_peak;
                res.pss_mean_bytes = j->n_samples ? j->pss_sum / j->n_samples : 0;
                res.ev_low = st.events_low;
                res.ev_high = st.events_high;
                res.ev_max = st.events_max;
                res.ev_oom = st.events_oom;
                res.ev_oom_kill = st.events_oom_kill;
                res.pids_peak = j->pids_peak;
                res.has_psi = st.has_psi;
                res.psi_cpu_some_s = (double)st.psi_cpu_some_usec / USEC_PER_SEC;
                res.psi_mem_some_s = (double)st.psi_mem_some_usec / USEC_PER_SEC;
                res.psi_mem_full_s = (double)st.psi_mem_full_usec / USEC_PER_SEC;
                res.psi_io_some_s = (double)st.psi_io_some_usec / USEC_PER_SEC;
                res.psi_io_full_s = (double)st.psi_io_full_usec / USEC_PER_SEC;
                if (WIFEXITED(wait_status)) {
                        res.exit_code = WEXITSTATUS(wait_status);
                        res.signal = 0;
                } else if (WIFSIGNALED(wait_status)) {
                        res.exit_code = -1;
                        res.signal = WTERMSIG(wait_status);
                }
                /* Classification: what corun did to the job wins over how it ended. */
                if (j->stop == STOP_TIMEOUT) {
                        res.reason = REASON_TIMEOUT;
                        res.limit = strdup("wall");
                } else if (j->stop == STOP_CPU) {
                        res.reason = REASON_CPU_TIMEOUT;
                        res.limit = strdup("cpu");
                } else if (j->stop == STOP_INTERRUPT) {
                        res.reason = REASON_INTERRUPTED;
                } else if (st.events_oom_kill > 0 && (res.signal == SIGKILL || res.exit_code != 0)) {
                        res.reason = REASON_OOM;
                } else if (res.signal) {
                        res.reason = REASON_KILLED;
                } else {
                        res.reason = REASON_EXIT;
                }
        }
        if (j->n_samples) {
                char *rel = NULL;
                _cleanup_free_ char *san = sanitize(j->pj->name);
                if (asprintf(&rel, "samples/%03zu-%s-rep%u-%s.csv", run_index, run->scenario_name, run->repetition,
                             san) >= 0)
                        res.samples_csv = rel;
        }

        if (j->mk && !j->sp.start_errno) {
                (void)marker_engine_finish(j->mk, j->sp.start_usec, j->end_usec, st.cpu_usage_usec, &res);
                uint64_t n_read = 0, n_bad = 0;
                const char *sample = NULL;
                marker_engine_timestamps(j->mk, &n_read, &n_bad, &sample);
                if (j->pj->spec->timestamp.regex && n_read == 0)
                        warn(R,
                             "job '%s': no line's timestamp could be read%s%s%s; its phases are timed by when "
                             "lines arrived",
                             j->pj->name, sample ? " (the format does not read '" : "", sample ?: "",
                             sample ? "')" : "");
        }

        bool failed = !(res.reason == REASON_EXIT && res.exit_code == 0);
        JobResult *slot = run_result_add_job(rr);
        if (slot)
                *slot = res;
        R->jobs_done++;
        if (failed)
                R->jobs_failed++;
        j->state = JOB_DONE;

        ExecJobView v;
        job_view(R, j, slot, &v);
        emit(R, EXEC_EVENT_JOB_END, run, run_index, &v, NULL);

        /* Remove the partition and the scratch dir, give the cores back. */
        job_close(R, j);
        if (j->cg) {
                int r = cg_destroy(j->cg);
                if (r < 0)
                        warn(R, "job '%s': could not remove its group: %s", j->pj->name, strerror(-r));
                j->cg = NULL;
        }
        if (j->scratch && !R->o->spec->keep) {
                int r = rm_rf(j->scratch);
                if (r < 0)
                        warn(R, "job '%s': could not remove scratch dir %s: %s", j->pj->name, j->scratch,
                             strerror(-r));
        }
        if (j->has_asg) {
                alloc_release(R->pool, &j->asg);
                assignment_done(&j->asg);
                j->has_asg = false;
        }
        R->result_dirty = true;
        flush_result(R, false);
}

static void job_on_exit(Runner *R, RunResult *rr, const PlanRun *run, size_t run_index, Job *j) {
        int status = 0;
        struct rusage ru = {0};
        pid_t p;

        do
                p = wait4(j->sp.pid, &status, WNOHANG, &ru);
        while (p < 0 && errno == EINTR);
        if (p == 0)
                return; /* spurious */
        j->end_usec = now_usec(CLOCK_MONOTONIC);
        protect_release(j);
        /* The main process is gone; whatever it left (daemons, children) goes too. */
        if (j->cg) {
                int populated = cg_is_populated(j->cg);
                if (populated != 0)
                        (void)cg_kill(j->cg);
        } else if (j->sp.pid > 0) {
                (void)kill(-j->sp.pid, SIGKILL);
        }
        job_drain_output(R, j);
        job_finish(R, rr, run, run_index, j, status, &ru);
}

static int epoll_add(Runner *R, int fd, Source *s, SourceKind kind, Job *j) {
        s->kind = kind;
        s->job = j;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        return RET_NERRNO(epoll_ctl(R->epfd, EPOLL_CTL_ADD, fd, &ev));
}

static int resolve_ids(const JobSpec *js, SpawnParams *sp, char **ret_error) {
        if (!js->user && !js->group)
                return 0;
        sp->set_ids = true;
        sp->uid = getuid();
        sp->gid = getgid();
        if (js->user) {
                unsigned n;
                struct passwd *pw = getpwnam(js->user);
                if (pw) {
                        sp->uid = pw->pw_uid;
                        sp->gid = pw->pw_gid;
                } else if (parse_unsigned(js->user, &n) == 0) {
                        sp->uid = n;
                } else {
                        asprintf(ret_error, "job '%s': no such user '%s'", js->name, js->user);
                        return -ENOENT;
                }
        }
        if (js->group) {
                unsigned n;
                struct group *gr = getgrnam(js->group);
                if (gr)
                        sp->gid = gr->gr_gid;
                else if (parse_unsigned(js->group, &n) == 0)
                        sp->gid = n;
                else {
                        asprintf(ret_error, "job '%s': no such group '%s'", js->name, js->group);
                        return -ENOENT;
                }
        }
        return 0;
}

/* Starts a job whose cores are assigned. A job that cannot be set up is finished as
 * failed-to-start; only runner-level failures return < 0. */
static int job_start(Runner *R, RunResult *rr, const PlanRun *run, size_t run_index, const char *scen_rel, Job *j) {
        const JobSpec *js = j->pj->spec;
        _cleanup_free_ char *san = sanitize(j->pj->name), *rel = NULL, *path = NULL, *err = NULL;
        int r, p[2];

        j->cpus_text = cpuset_to_string(&j->asg.cpus);
        j->R = R;
        j->run = run;
        j->run_index = run_index;
        if (js->n_phases || js->n_metrics) {
                _cleanup_free_ char *perr = NULL;
                r = marker_engine_new(js, &j->mk, &perr);
                if (r < 0)
                        return set_error(R, "%s", perr ? perr : "cannot compile the job's patterns");
        }

        /* Logs and samples. */
        if (asprintf(&j->log_prefix, "logs/%03zu-%s-rep%u/%s", run_index, run->scenario_name, run->repetition,
                     san) < 0)
                return -ENOMEM;
        if (asprintf(&path, "%s/%s.out", R->o->results_dir, j->log_prefix) < 0)
                return -ENOMEM;
        char *slash = strrchr(path, '/');
        *slash = '\0';
        r = mkdir_p(path, 0755);
        *slash = '/';
        if (r < 0)
                return set_error(R, "cannot create %s: %s", path, strerror(-r));
        j->log_out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        strcpy(path + strlen(path) - 4, ".err");
        j->log_err = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (j->log_out < 0 || j->log_err < 0)
                return set_error(R, "cannot create log %s: %m", path);
        free(path);
        path = NULL;
        if (asprintf(&j->samples_path, "%s/samples/%03zu-%s-rep%u-%s.csv", R->o->results_dir, run_index,
                     run->scenario_name, run->repetition, san) < 0)
                return -ENOMEM;

        /* Scratch TMPDIR, made once its group is (below). */
        if (asprintf(&j->scratch, "%s/%03zu-%s-rep%u-%s", R->scratch_base, run_index, run->scenario_name,
                     run->repetition, san) < 0)
                return -ENOMEM;
        /* Not journalled on its own: it lies inside the run's scratch base, which is, and
         * which `corun cleanup` removes whole. */

        /* The partition. */
        CgLimits lim;
        protect_job_limits(&j->pj->limits, &lim);
        lim.cpus = j->asg.cpus;
        lim.mems = j->asg.mems;
        if (asprintf(&rel, "%s/%s", scen_rel, j->pj->name) < 0)
                return -ENOMEM;
        r = cg_create(R->cgm, rel, NULL, &j->cg); /* limits once, below */
        if (r < 0)
                return set_error(R, "job '%s': cannot create its partition %s: %s", j->pj->name, rel, strerror(-r));
        r = cg_apply(j->cg, &lim, &j->applied);
        if (r < 0)
                return set_error(R, "job '%s': cannot apply its limits: %s", j->pj->name, strerror(-r));
        if (mkdir(j->scratch, 0777) < 0 && errno != EEXIST)
                return set_error(R, "cannot create scratch dir %s: %m", j->scratch);
        /* A HIGH job's memory pressure without PSI (v1 on kernels built or booted without
         * it): the kernel's "medium" notifications count like memory events. */
        if (R->prot && j->pj->limits.priority == PRIORITY_HIGH && !cg_manager_has_psi(R->cgm) &&
            cg_open_pressure_eventfd(j->cg, "medium", &j->press_fd) >= 0 &&
            epoll_add(R, j->press_fd, &j->s_press, SRC_PRESSURE, j) < 0) {
                close(j->press_fd);
                j->press_fd = -1;
        }
        /* A high mark the kernel did not take (v1 has no memory.high) is the protector's. */
        if (lim.memory_high != LIMIT_MAX && j->applied.memory_high == LIMIT_MAX) {
                if (R->prot)
                        R->prot[j->index].memory_high = lim.memory_high;
                else
                        warn(R, "job '%s': memory_high is not enforced: this backend has no memory.high and the "
                                "priority protector is off",
                             j->pj->name);
        }
        (void)cg_open_sample_fds(j->cg, &j->mem_fd, &j->cpu_fd);
        if (js->user || js->group)
                (void)chown(j->scratch, 0, 0);

        /* Output pipes: the read ends are ours and non-blocking. */
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        j->out_fd = p[0];
        _cleanup_close_ int out_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        j->err_fd = p[0];
        _cleanup_close_ int err_w = p[1];
        fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
        fcntl(j->err_fd, F_SETFL, O_NONBLOCK);

        char **envp = build_env(R, run, j);
        if (!envp)
                return -ENOMEM;
        SpawnParams sp = {
                .argv = j->pj->argv,
                .envp = envp,
                .cwd = js->cwd,
                .stdout_fd = out_w,
                .stderr_fd = err_w,
                .cgroup = j->cg,
        };
        r = resolve_ids(js, &sp, &err);
        if (r < 0) {
                strv_free(envp);
                return set_error(R, "%s", err);
        }
        if (sp.set_ids)
                (void)chown(j->scratch, sp.uid, sp.gid);

        r = spawn_job(&sp, &j->sp);
        strv_free(envp);
        if (r < 0)
                return set_error(R, "job '%s': cannot create a process: %s", j->pj->name, strerror(-r));
        closep(&out_w);
        out_w = -1;
        closep(&err_w);
        err_w = -1;

        j->state = JOB_RUNNING;
        ExecJobView v;
        job_view(R, j, NULL, &v);
        emit(R, EXEC_EVENT_JOB_START, run, run_index, &v, NULL);

        if (j->sp.start_errno) {
                j->end_usec = j->sp.start_usec;
                job_drain_output(R, j);
                job_finish(R, rr, run, run_index, j, 0, &(struct rusage){0});
                return 0;
        }

        j->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (j->timer_fd < 0)
                return -errno;
        if ((r = epoll_add(R, j->sp.pidfd, &j->s_pid, SRC_PIDFD, j)) < 0 ||
            (r = epoll_add(R, j->out_fd, &j->s_out, SRC_STDOUT, j)) < 0 ||
            (r = epoll_add(R, j->err_fd, &j->s_err, SRC_STDERR, j)) < 0 ||
            (r = epoll_add(R, j->timer_fd, &j->s_timer, SRC_TIMER, j)) < 0)
                return r;
        if (js->timeout_usec != USEC_INFINITY)
                j->wall_deadline = j->sp.start_usec + js->timeout_usec;
        job_schedule_cpu_check(j, j->sp.start_usec);
        job_arm_timer(j);
        return 0;
}

static unsigned request_cores(const CpuRequest *c) {
        switch (c->kind) {
        case CPUS_COUNT:
                return c->count;
        case CPUS_LIST:
                return cpuset_count(&c->set);
        case CPUS_SHARED:
        case CPUS_ALL:
                return 0;
        default:
                return 1;
        }
}

static void make_request(const Job *j, AllocRequest *req) {
        *req = (AllocRequest){
                .job = j->pj->name,
                .cpus = j->pj->limits.cpus,
                .memory_bytes = j->pj->limits.memory_max,
        };
        if (req->cpus.kind == CPUS_UNSET) {
                req->cpus.kind = CPUS_COUNT;
                req->cpus.count = 1;
        }
}

/* First fit in submission order; once a job at the head cannot start, later jobs may
 * only use cores beyond what it needs, so a large job is never starved by a stream of
 * small ones. */
static int start_ready(Runner *R, RunResult *rr, const PlanRun *run, size_t run_index, const char *scen_rel,
                       Job *jobs, size_t n) {
        bool blocked = false;
        unsigned reserved = 0;
        for (size_t i = 0; i < n; i++) {
                Job *j = &jobs[i];
                if (j->state != JOB_QUEUED)
                        continue;
                AllocRequest req;
                make_request(j, &req);
                unsigned need = request_cores(&req.cpus);
                if (blocked && need > 0 && alloc_pool_free_cores(R->pool) < reserved + need)
                        continue;
                _cleanup_free_ char *err = NULL;
                int r = alloc_take(R->pool, &req, &j->asg, &err);
                if (r == -EAGAIN) {
                        if (!j->announced_queued) {
                                j->announced_queued = true;
                                ExecJobView v;
                                job_view(R, j, NULL, &v);
                                emit(R, EXEC_EVENT_JOB_QUEUED, run, run_index, &v, NULL);
                        }
                        blocked = true;
                        reserved += need;
                        continue;
                }
                if (r < 0)
                        return set_error(R, "%s", err ? err : "cannot allocate cores");
                j->has_asg = true;
                r = job_start(R, rr, run, run_index, scen_rel, j);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* corun is a child subreaper: whatever a job orphans (daemons, double forks) is
 * reparented to us rather than to PID 1, which may never reap it. Reap those here;
 * a job's main process is left for its pidfd handler, which wants its rusage. */
static void reap_orphans(Job *jobs, size_t n) {
        for (;;) {
                siginfo_t si = {0};
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                        return;
                for (size_t i = 0; i < n; i++)
                        if (jobs[i].state == JOB_RUNNING && jobs[i].sp.pid == si.si_pid)
                                return;
                (void)waitpid(si.si_pid, NULL, WNOHANG);
        }
}

static void on_signal(Runner *R, Job *jobs, size_t n) {
        struct signalfd_siginfo si;
        while (read(R->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGCHLD) {
                        reap_orphans(jobs, n);
                        continue;
                }
                R->interrupts++;
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (R->interrupts == 1) {
                        emit(R, EXEC_EVENT_STOPPING, NULL, 0, NULL, strsignal((int)si.ssi_signo));
                        for (size_t i = 0; i < n; i++)
                                if (jobs[i].state == JOB_RUNNING)
                                        job_begin_stop(&jobs[i], STOP_INTERRUPT, now);
                } else {
                        for (size_t i = 0; i < n; i++)
                                if (jobs[i].state == JOB_RUNNING) {
                                        if (jobs[i].stop == STOP_NONE)
                                                jobs[i].stop = STOP_INTERRUPT;
                                        job_kill_now(&jobs[i]);
                                }
                }
        }
}

static int run_one(Runner *R, size_t run_index, const PlanRun *run) {
        RunResult *rr = result_add_run(R->result);
        if (!rr)
                return -ENOMEM;
        rr->scenario = strdup(run->scenario_name);
        rr->repetition = run->repetition;
        rr->solo = run->solo;
        rr->solo_for = run->solo && run->scenario && run->scenario->name ? strdup(run->scenario->name) : NULL;
        rr->replicas = run->replicas;
        rr->params = run->params ? strdup(run->params) : NULL;
        rr->started_s = since(R, now_usec(CLOCK_MONOTONIC));
        emit(R, EXEC_EVENT_RUN_START, run, run_index, NULL, run->label);

        /* allowed_cpus: this scenario's jobs are placed inside that set only. Runs are
         * sequential, so a pool of its own for the run is enough. */
        CorePool *global_pool = R->pool, *scen_pool = NULL;
        Topology *scen_topo = NULL; /* the pool borrows it */
        if (run->scenario && !cpuset_is_empty(&run->scenario->allowed_cpus)) {
                CpuSet allowed = run->scenario->allowed_cpus;
                Topology *t = NULL;
                cpuset_and(&allowed, alloc_pool_usable(global_pool));
                /* Runs are sequential: the machine's memory is all this run's to admit. */
                AllocOptions ao = {.numa = R->o->spec->numa, .memory_available = R->memory_available};
                if (cpuset_is_empty(&allowed) || topo_restrict(R->topo, &allowed, &t) < 0 ||
                    alloc_pool_new(t, &ao, &scen_pool) < 0) {
                        topo_free(t);
                        char want[256];
                        cpuset_format(&run->scenario->allowed_cpus, want, sizeof want);
                        return set_error(R, "scenario '%s': allowed_cpus %s has no CPU this runner may use",
                                         run->scenario_name, want);
                }
                scen_topo = t;
                R->pool = scen_pool;
        }

        /* The scenario level: the "slice" holding the scenario's shared limits. */
        _cleanup_free_ char *scen_rel = NULL;
        if (asprintf(&scen_rel, "%03zu-%s", run_index, run->scenario_name) < 0)
                return -ENOMEM;
        CgLimits slim;
        cg_limits_init(&slim);
        slim.cpus = *alloc_pool_usable(R->pool);
        if (run->scenario && run->scenario->memory_total != LIMIT_MAX && run->scenario->memory_total) {
                slim.memory_max = run->scenario->memory_total;
                slim.swap_max = 0;
        }
        Cgroup *scg = NULL;
        int r = cg_create(R->cgm, scen_rel, &slim, &scg);
        if (r < 0)
                return set_error(R, "scenario '%s': cannot create its partition: %s", run->scenario_name,
                                 strerror(-r));

        Job *jobs = calloc(run->n_jobs, sizeof(Job));
        if (!jobs) {
                cg_destroy(scg);
                return -ENOMEM;
        }
        for (size_t i = 0; i < run->n_jobs; i++) {
                jobs[i] = (Job){.pj = &run->jobs[i], .state = JOB_QUEUED};
                jobs[i].out_fd = jobs[i].err_fd = jobs[i].log_out = jobs[i].log_err = jobs[i].timer_fd = -1;
                jobs[i].mem_fd = jobs[i].cpu_fd = jobs[i].press_fd = -1;
                jobs[i].sp.pidfd = -1;
                jobs[i].index = i;
        }
        r = protect_begin(R, run, jobs);

        while (r >= 0) {
                if (R->interrupts == 0) {
                        r = start_ready(R, rr, run, run_index, scen_rel, jobs, run->n_jobs);
                        if (r < 0)
                                break;
                }
                size_t running = 0, queued = 0;
                for (size_t i = 0; i < run->n_jobs; i++) {
                        running += jobs[i].state == JOB_RUNNING;
                        queued += jobs[i].state == JOB_QUEUED;
                }
                if (running == 0 && (queued == 0 || R->interrupts > 0))
                        break;
                if (running == 0) {
                        r = set_error(R, "scenario '%s': %zu job(s) can never start (not enough free cores or "
                                         "memory)",
                                      run->scenario_name, queued);
                        break;
                }
                struct epoll_event evs[32];
                int n = epoll_wait(R->epfd, evs, ELEMENTSOF(evs), -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                for (int k = 0; k < n; k++) {
                        Source *s = evs[k].data.ptr;
                        Job *j = s->job;
                        switch (s->kind) {
                        case SRC_SIGNAL:
                                on_signal(R, jobs, run->n_jobs);
                                break;
                        case SRC_SAMPLE: {
                                uint64_t exp;
                                ssize_t _unused_ rd = read(R->samplefd, &exp, sizeof exp);
                                uint64_t now = now_usec(CLOCK_MONOTONIC);
                                flush_result(R, false);
                                ExecJobView views[64];
                                size_t nv = 0;
                                for (size_t i = 0; i < run->n_jobs; i++)
                                        if (jobs[i].state == JOB_RUNNING) {
                                                job_sample(R, &jobs[i], now);
                                                if (nv < ELEMENTSOF(views))
                                                        job_view(R, &jobs[i], NULL, &views[nv++]);
                                        }
                                if (R->o->observer) {
                                        ExecEvent ev = {.kind = EXEC_EVENT_HEARTBEAT,
                                                        .t_s = since(R, now),
                                                        .run = run,
                                                        .run_index = run_index,
                                                        .n_runs = R->plan->n_runs,
                                                        .running = views,
                                                        .n_running = nv,
                                                        .jobs_done = R->jobs_done,
                                                        .jobs_total = R->plan->n_jobs_total,
                                                        .jobs_failed = R->jobs_failed};
                                        R->o->observer(&ev, R->o->userdata);
                                }
                                break;
                        }
                        case SRC_PIDFD:
                                if (j->state == JOB_RUNNING)
                                        job_on_exit(R, rr, run, run_index, j);
                                reap_orphans(jobs, run->n_jobs);
                                break;
                        case SRC_STDOUT:
                        case SRC_STDERR:
                                if (j->state == JOB_RUNNING)
                                        job_read_output(R, j, s->kind == SRC_STDERR);
                                break;
                        case SRC_TIMER:
                                if (j->state == JOB_RUNNING)
                                        job_on_timer(R, j);
                                break;
                        case SRC_PROTECT:
                                protect_on_tick(R);
                                break;
                        case SRC_PRESSURE: {
                                uint64_t v;
                                if (read(j->press_fd, &v, sizeof v) == (ssize_t)sizeof v)
                                        j->press_events += v;
                                break;
                        }
                        }
                }
        }

        /* Every path out: no job outlives its run. */
        for (size_t i = 0; i < run->n_jobs; i++) {
                Job *j = &jobs[i];
                if (j->state == JOB_RUNNING) {
                        protect_release(j);
                        if (j->stop == STOP_NONE)
                                j->stop = STOP_INTERRUPT;
                        job_kill_now(j);
                        int status = 0;
                        struct rusage ru = {0};
                        while (wait4(j->sp.pid, &status, 0, &ru) < 0 && errno == EINTR)
                                ;
                        j->end_usec = now_usec(CLOCK_MONOTONIC);
                        job_drain_output(R, j);
                        job_finish(R, rr, run, run_index, j, status, &ru);
                }
                job_close(R, j);
                if (j->cg)
                        cg_destroy(j->cg);
                if (j->has_asg) {
                        alloc_release(R->pool, &j->asg);
                        assignment_done(&j->asg);
                }
                j->mk = marker_engine_free(j->mk);
                line_splitter_done(&j->ls_out);
                line_splitter_done(&j->ls_err);
                free(j->scratch);
                free(j->samples_path);
                free(j->log_prefix);
                free(j->cpus_text);
        }
        protect_end(R);
        if (R->n_events_dropped > 0) {
                warn(R, "the priority protector froze jobs %zu more times than the %d recorded as events",
                     R->n_events_dropped, PROTECT_MAX_EVENTS);
                R->n_events_dropped = 0;
        }
        free(jobs);
        if (scen_pool) {
                R->pool = global_pool;
                alloc_pool_free(scen_pool);
                topo_free(scen_topo);
        }
        int r2 = cg_destroy(scg);
        if (r2 < 0)
                warn(R, "scenario '%s': could not remove its group: %s", run->scenario_name, strerror(-r2));
        rr = &R->result->runs[R->result->n_runs - 1];
        rr->ended_s = since(R, now_usec(CLOCK_MONOTONIC));
        R->result_dirty = true;
        flush_result(R, true);
        return r < 0 ? r : 0;
}

static int setup(Runner *R, char **ret_error) {
        int r;
        const Spec *spec = R->o->spec;
        _cleanup_free_ char *why = NULL, *err = NULL;

        R->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
        r = journal_open(R->o->journal_dir, R->o->run_id, &R->journal);
        if (r < 0) {
                asprintf(ret_error, "cannot create the journal in %s: %s (corun needs root for partitions)",
                         R->o->journal_dir ? R->o->journal_dir : "/run/corun", strerror(-r));
                return r;
        }
        /* The scratch base is journalled with the run group's directories: one sync. */
        const char *tmpdir = getenv("TMPDIR");
        if (asprintf(&R->scratch_base, "%s/corun-%s", tmpdir && *tmpdir ? tmpdir : "/tmp", R->o->run_id) < 0)
                return -ENOMEM;
        r = journal_stage(R->journal, "dir", R->scratch_base);
        if (r < 0) {
                asprintf(ret_error, "cannot write the journal: %s", strerror(-r));
                return r;
        }
        CgroupManagerOptions co = {.backend = spec->backend, .run_id = R->o->run_id};
        r = cg_manager_new(&co, R->journal, &R->cgm, &why);
        if (r < 0) {
                asprintf(ret_error, "cannot set up partitions: %s%s%s", strerror(-r), why ? ": " : "",
                         why ? why : "");
                return r;
        }
        R->result->backend = strdup(backend_kind_to_string(cg_manager_backend(R->cgm)));
        R->result->host.cgroup_backend_detail = why ? strdup(why) : NULL;
        if (cg_manager_backend(R->cgm) == BACKEND_NONE)
                warn(R, "backend 'none': memory limits are NOT enforced by the kernel (only rlimits and CPU "
                        "affinity); %s",
                     why ? why : "");

        CpuSet cpus, mems;
        r = cg_manager_allowed(R->cgm, &cpus, &mems);
        if (r < 0) {
                asprintf(ret_error, "cannot read the CPUs this runner may use: %s", strerror(-r));
                return r;
        }
        if (R->o->topology)
                r = topo_load_arg(R->o->topology, &R->topo, &err);
        else
                r = topo_load_host(&cpus, &R->topo, &err);
        if (r < 0) {
                asprintf(ret_error, "cannot read the machine's topology: %s", err ? err : strerror(-r));
                return r;
        }
        uint64_t memlimit = cg_manager_memory_limit(R->cgm);
        AllocOptions ao = {
                .reserve_cores = spec->reserve_cores,
                .numa = spec->numa,
                .memory_available = MIN(memlimit, R->topo->memory_bytes ? R->topo->memory_bytes : UINT64_MAX),
        };
        R->memory_available = ao.memory_available;
        r = alloc_pool_new(R->topo, &ao, &R->pool);
        if (r < 0) {
                asprintf(ret_error, "cannot set up core allocation: %s", strerror(-r));
                return r;
        }
        /* Pattern errors are input errors: report them before anything starts. */
        for (size_t i = 0; i < spec->n_jobs; i++) {
                MarkerEngine *mk = NULL;
                _cleanup_free_ char *perr = NULL;
                r = marker_engine_new(&spec->jobs[i], &mk, &perr);
                marker_engine_free(mk);
                if (r < 0) {
                        *ret_error = TAKE_PTR(perr);
                        return r;
                }
        }
        /* Refuse infeasible requests before anything starts. */
        for (size_t i = 0; i < R->plan->n_runs; i++)
                for (size_t k = 0; k < R->plan->runs[i].n_jobs; k++) {
                        Job tmp = {.pj = &R->plan->runs[i].jobs[k]};
                        AllocRequest req;
                        _cleanup_free_ char *e = NULL;
                        make_request(&tmp, &req);
                        r = alloc_check(R->pool, &req, &e);
                        if (r < 0) {
                                *ret_error = TAKE_PTR(e);
                                if (!*ret_error)
                                        asprintf(ret_error, "job '%s' cannot be placed: %s", req.job, strerror(-r));
                                return r;
                        }
                }

        r = journal_flush(R->journal); /* nothing left to write unless backend none */
        if (r < 0 || mkdir(R->scratch_base, 0755) < 0) {
                asprintf(ret_error, "cannot create the scratch dir %s: %s", R->scratch_base,
                         strerror(r < 0 ? -r : errno));
                return r < 0 ? r : -errno;
        }

        R->epfd = epoll_create1(EPOLL_CLOEXEC);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        R->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        R->samplefd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        R->protfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (R->epfd < 0 || R->sigfd < 0 || R->samplefd < 0 || R->protfd < 0)
                return -errno;
        uint64_t iv = spec->sample_interval_usec ? spec->sample_interval_usec : 200 * USEC_PER_MSEC;
        struct itimerspec its = {
                .it_interval = {.tv_sec = (time_t)(iv / USEC_PER_SEC), .tv_nsec = (long)(iv % USEC_PER_SEC * 1000)},
                .it_value = {.tv_sec = (time_t)(iv / USEC_PER_SEC), .tv_nsec = (long)(iv % USEC_PER_SEC * 1000)},
        };
        timerfd_settime(R->samplefd, 0, &its, NULL);
        if ((r = epoll_add(R, R->sigfd, &R->s_sig, SRC_SIGNAL, NULL)) < 0 ||
            (r = epoll_add(R, R->samplefd, &R->s_sample, SRC_SAMPLE, NULL)) < 0 ||
            (r = epoll_add(R, R->protfd, &R->s_prot, SRC_PROTECT, NULL)) < 0)
                return r;
        _cleanup_free_ char *samples = NULL;
        if (asprintf(&samples, "%s/samples", R->o->results_dir) >= 0)
                (void)mkdir_p(samples, 0755);
        return 0;
}

static void teardown(Runner *R) {
        if (R->scratch_base && !R->o->spec->keep)
                (void)rm_rf(R->scratch_base);
        R->cgm = cg_manager_free(R->cgm);
        if (R->journal) {
                if (R->o->spec->keep)
                        R->journal = journal_free(R->journal); /* kept scratch stays listed for cleanup */
                else {
                        journal_close_clean(R->journal);
                        R->journal = NULL;
                }
        }
        R->pool = alloc_pool_free(R->pool);
        R->topo = topo_free(R->topo);
        if (R->epfd >= 0)
                close(R->epfd);
        if (R->sigfd >= 0)
                close(R->sigfd);
        if (R->samplefd >= 0)
                close(R->samplefd);
        if (R->protfd >= 0)
                close(R->protfd);
        if (R->proc_fd >= 0)
                close(R->proc_fd);
        free(R->scratch_base);
        /* Signals stay blocked until exit: a late SIGINT must not kill us while the
         * caller writes the final result. The CLI unblocks if it needs to. */
}

/* Hooks, with hyperfine's meanings: setup before the first run (of the whole plan, or
 * of a scenario), prepare before each run, conclude after each, cleanup after the
 * last. They run through /bin/sh -c outside any partition, their output appended to
 * logs/hooks.log; a failing setup or prepare stops the run (nothing measured would be
 * valid), a failing conclude or cleanup is a warning. */
static int run_hook(Runner *R, const char *which, const char *cmd, const PlanRun *run) {
        if (isempty(cmd))
                return 0;
        _cleanup_free_ char *log = NULL, *dir = NULL;
        if (asprintf(&dir, "%s/logs", R->o->results_dir) < 0 || asprintf(&log, "%s/hooks.log", dir) < 0)
                return -ENOMEM;
        (void)mkdir_p(dir, 0755);
        _cleanup_close_ int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return set_error(R, "cannot open %s: %m", log);
        dprintf(fd, "== %s%s%s: %s\n", which, run ? " " : "", run ? run->label : "", cmd);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (devnull >= 0)
                        dup2(devnull, STDIN_FILENO);
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                setenv("CORUN_RUN_ID", R->o->run_id, 1);
                setenv("CORUN_RESULTS", R->o->results_dir, 1);
                if (run) {
                        char rep[16];
                        snprintf(rep, sizeof rep, "%u", run->repetition);
                        setenv("CORUN_SCENARIO", run->scenario_name, 1);
                        setenv("CORUN_REPETITION", rep, 1);
                }
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        bool fatal = streq(which, "setup") || streq(which, "prepare");
        if (!fatal) {
                warn(R, "%s hook '%s' failed (status %d); see %s", which, cmd, st, log);
                return 0;
        }
        return set_error(R, "%s hook '%s' failed (%s %d); nothing more was started; its output is in %s", which,
                         cmd, WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                         log);
}

/* Is run i the first (or last) of its scenario in plan order? */
static bool scenario_edge(const Plan *plan, size_t i, bool first) {
        const ScenarioSpec *sc = plan->runs[i].scenario;
        if (!sc)
                return true;
        if (first) {
                for (size_t k = 0; k < i; k++)
                        if (plan->runs[k].scenario == sc)
                                return false;
        } else {
                for (size_t k = i + 1; k < plan->n_runs; k++)
                        if (plan->runs[k].scenario == sc)
                                return false;
        }
        return true;
}

static int run_with_hooks(Runner *R, size_t i) {
        const PlanRun *run = &R->plan->runs[i];
        const Hooks *sh = run->scenario ? &run->scenario->hooks : NULL;
        const Hooks *gh = &R->o->spec->hooks;
        int r;
        if (sh && scenario_edge(R->plan, i, true) && (r = run_hook(R, "setup", sh->setup, run)) < 0)
                return r;
        if ((r = run_hook(R, "prepare", gh->prepare, run)) < 0 ||
            (sh && (r = run_hook(R, "prepare", sh->prepare, run)) < 0))
                return r;
        r = run_one(R, i, run);
        if (r < 0)
                return r;
        if (sh)
                (void)run_hook(R, "conclude", sh->conclude, run);
        (void)run_hook(R, "conclude", gh->conclude, run);
        if (sh && scenario_edge(R->plan, i, false))
                (void)run_hook(R, "cleanup", sh->cleanup, run);
        return 0;
}

int exec_run(const ExecOptions *o, const Plan *plan, Result *result, char **ret_error) {
        Runner R = {.o = o, .plan = plan, .result = result, .epfd = -1, .sigfd = -1, .samplefd = -1, .protfd = -1, .proc_fd = -1};
        int r;

        R.t0 = now_usec(CLOCK_MONOTONIC);
        result->partial = true;
        r = setup(&R, ret_error);
        if (r < 0) {
                teardown(&R);
                return r;
        }
        (void)result_write(result, o->results_dir);
        r = run_hook(&R, "setup", o->spec->hooks.setup, NULL);
        for (size_t i = 0; r >= 0 && i < plan->n_runs && R.interrupts == 0; i++)
                r = run_with_hooks(&R, i);
        if (r >= 0)
                (void)run_hook(&R, "cleanup", o->spec->hooks.cleanup, NULL);
        teardown(&R);
        if (r < 0) {
                if (ret_error)
                        *ret_error = R.error ? TAKE_PTR(R.error) : strdup(strerror(-r));
                free(R.error);
                return r;
        }
        free(R.error);
        if (R.interrupts > 0) {
                result->interrupted = true;
                return -EINTR;
        }
        return 0;
}
