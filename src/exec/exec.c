/* SPDX-License-Identifier: MIT */
/* exec.c: exec_run, the runner's setup (journal, partitions backend, topology, core pool,
 * epoll and its fixed sources) and teardown, one PlanRun from its partition to its last
 * job, and the observer channel (events, warnings). The rest of exec/ is listed in
 * exec-internal.h. */
#include "exec/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/cpuset.h"
#include "util/error.h"
#include "util/fault.h"
#include "util/fileio.h"

double exec_since(const Runner *R, uint64_t t) {
        return t > R->t0 ? (double)(t - R->t0) / USEC_PER_SEC : 0.0;
}

void exec_emit(Runner *R, ExecEventKind kind, const PlanRun *run, size_t run_index, const ExecJobView *jv,
               const char *message) {
        if (!R->o->observer)
                return;
        ExecEvent ev = {
                .kind = kind,
                .t_s = exec_since(R, now_usec(CLOCK_MONOTONIC)),
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

void exec_write_failed(Runner *R) {
        if (R->result)
                R->result->write_errors++;
}

void exec_warn(Runner *R, const char *fmt, ...) {
        va_list ap;
        _cleanup_free_ char *m = NULL;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (!m)
                return;
        result_add_warning(R->result, m);
        exec_emit(R, EXEC_EVENT_WARNING, NULL, 0, NULL, m);
}

void job_view(Runner *R, const Job *j, const JobResult *res, ExecJobView *ret) {
        uint64_t now = j->end_usec ? j->end_usec : now_usec(CLOCK_MONOTONIC);
        *ret = (ExecJobView){
                .name = j->pj->name,
                .cpus = j->setup.cpus_text,
                .memory_current = j->mem_current,
                .memory_max = j->pj->limits.memory_max,
                .elapsed_s = j->sp.start_usec && now > j->sp.start_usec
                                     ? (double)(now - j->sp.start_usec) / USEC_PER_SEC
                                     : 0,
                .result = res,
                .phase = marker_engine_current(j->mk),
        };
        ret->n_gpus = j->has_asg ? (unsigned)__builtin_popcountll(j->asg.gpus) : 0;
        ret->gpu_cap = j->pj->limits.gpus.share_ppm / (double)GPU_SHARE_WHOLE;
        ret->gpu_memory_max = j->pj->limits.gpus.memory_limit;
        for (unsigned g = 0; g < j->n_gpu_acc; g++) {
                ret->gpu_share += j->gpu_acc[g].last_share;
                ret->gpu_memory += j->gpu_acc[g].memory_last_bytes;
        }
        if (R->prot && j->index < R->n_jobs && &R->jobs[j->index] == j) {
                const ProtectJob *p = &R->prot[j->index];
                uint64_t f = p->frozen_total_usec +
                             (p->frozen && now > p->frozen_since ? now - p->frozen_since : 0);
                ret->frozen = p->frozen;
                ret->frozen_s = (double)f / USEC_PER_SEC;
        }
}

/* allowed_cpus: this scenario's jobs are placed inside that set only. Runs are
 * sequential, so a pool of its own for the run is enough. */
static int run_pool(Runner *R, const PlanRun *run, CorePool **ret_pool, Topology **ret_topo) {
        *ret_pool = NULL;
        *ret_topo = NULL;
        if (!run->scenario || cpuset_is_empty(&run->scenario->allowed_cpus))
                return 0;
        CpuSet allowed = run->scenario->allowed_cpus;
        Topology *t = NULL;
        CorePool *pool = NULL;
        cpuset_and(&allowed, alloc_pool_usable(R->pool));
        /* Runs are sequential: the machine's memory is all this run's to admit. */
        AllocOptions ao = {.numa = R->o->spec->numa,
                           .memory_available = R->memory_available,
                           .n_gpus = R->gpus ? (unsigned)MIN(R->gpus->n_devices, (size_t)ALLOC_GPUS_MAX) : 0,
                           .gpu_numa = R->gpu_numa};
        int r = cpuset_is_empty(&allowed) ? -ENOENT : topo_restrict(R->topo, &allowed, &t);
        if (r >= 0)
                r = alloc_pool_new(t, &ao, &pool);
        if (r < 0) {
                topo_free(t);
                char want[256];
                cpuset_format(&run->scenario->allowed_cpus, want, sizeof want);
                return error_setf(&R->error, r,
                                  "scenario '%s': allowed_cpus %s has no CPU this runner may use",
                                  run->scenario_name, want);
        }
        *ret_pool = pool;
        *ret_topo = t;
        return 0;
}

/* Admitted jobs that never started (a runner error stopped the run first) give their
 * cores back. */
static void run_queue_free(Runner *R, const Job *jobs, size_t n) {
        for (size_t i = 0; jobs && R->waiting && i < n; i++)
                if (!R->waiting[i] && jobs[i].state == JOB_QUEUED) {
                        alloc_release(R->pool, &R->admitted[i]);
                        assignment_done(&R->admitted[i]);
                }
        free(R->reqs);
        free(R->waiting);
        free(R->admitted);
        R->reqs = NULL;
        R->waiting = NULL;
        R->admitted = NULL;
}

int exec_run_one(Runner *R, size_t run_index, const PlanRun *run) {
        RunResult *rr = result_add_run(R->result);
        if (!rr)
                return -ENOMEM;
        rr->scenario = strdup(run->scenario_name);
        rr->repetition = run->repetition;
        rr->solo = run->solo;
        rr->warmup = run->warmup;
        rr->solo_for =
                run->solo && run->scenario && run->scenario->name ? strdup(run->scenario->name) : NULL;
        rr->replicas = run->replicas;
        rr->params = run->params ? strdup(run->params) : NULL;
        rr->started_s = exec_since(R, now_usec(CLOCK_MONOTONIC));
        exec_emit(R, EXEC_EVENT_RUN_START, run, run_index, NULL, run->label);

        CorePool *global_pool = R->pool, *scen_pool = NULL;
        Topology *scen_topo = NULL; /* the pool borrows it */
        int r = run_pool(R, run, &scen_pool, &scen_topo);
        if (r < 0)
                return r;
        if (scen_pool)
                R->pool = scen_pool;

        /* The scenario level: the "slice" holding the scenario's shared limits. */
        _cleanup_free_ char *scen_rel = NULL;
        Cgroup *scg = NULL;
        Job *jobs = NULL;
        r = job_setup_run_group(run_index, run, &scen_rel);
        if (r >= 0) {
                CgLimits slim;
                cg_limits_init(&slim);
                slim.cpus = *alloc_pool_usable(R->pool);
                if (run->scenario && run->scenario->memory_total != LIMIT_MAX &&
                    run->scenario->memory_total) {
                        slim.memory_max = run->scenario->memory_total;
                        slim.swap_max = 0;
                }
                r = cg_create(R->cgm, scen_rel, &slim, &scg);
                if (r < 0)
                        (void)error_setf(&R->error, r, "scenario '%s': cannot create its partition: %s",
                                         run->scenario_name, strerror(-r));
        }
        size_t n = MAX(run->n_jobs, (size_t)1);
        if (r >= 0 &&
            (!(jobs = calloc(n, sizeof(Job))) || !(R->reqs = calloc(n, sizeof(AllocRequest))) ||
             !(R->waiting = calloc(n, sizeof(bool))) || !(R->admitted = calloc(n, sizeof(Assignment)))))
                r = -ENOMEM;
        if (r < 0) {
                if (scg)
                        cg_destroy(scg);
                run_queue_free(R, NULL, 0);
                free(jobs);
                if (scen_pool) {
                        R->pool = global_pool;
                        alloc_pool_free(scen_pool);
                        topo_free(scen_topo);
                }
                return r;
        }
        for (size_t i = 0; i < run->n_jobs; i++) {
                job_init(&jobs[i], &run->jobs[i], i);
                /* checked at setup: it resolves the same way now */
                (void)exec_request_init(R, &run->jobs[i], &R->reqs[i], NULL);
                R->waiting[i] = true;
        }
        R->run = run;
        R->run_index = run_index;
        R->rr = rr;
        R->scen_rel = scen_rel;
        R->jobs = jobs;
        R->n_jobs = run->n_jobs;

        r = protector_begin(R, run);
        if (r >= 0)
                r = loop_run(R);

        /* Every path out: no job outlives its run. */
        for (size_t i = 0; i < run->n_jobs; i++) {
                job_stop_and_reap(R, &jobs[i]);
                job_free(R, &jobs[i]);
        }
        /* Nothing any job left (reparented to us, outside every group) outlives the run. */
        unsigned left = escape_sweep(R, NULL);
        if (left > 0)
                exec_warn(R, "%u process%s the run's jobs left outside their groups %s killed", left,
                          left == 1 ? "" : "es", left == 1 ? "was" : "were");
        protector_end(R);
        if (R->n_events_dropped > 0) {
                exec_warn(R,
                          "the priority protector froze jobs %zu more times than the %d recorded as events",
                          R->n_events_dropped, EXEC_PROTECT_MAX_EVENTS);
                R->n_events_dropped = 0;
        }
        run_queue_free(R, jobs, run->n_jobs);
        free(jobs);
        R->jobs = NULL;
        R->n_jobs = 0;
        R->run = NULL;
        R->rr = NULL;
        R->scen_rel = NULL;
        if (scen_pool) {
                R->pool = global_pool;
                alloc_pool_free(scen_pool);
                topo_free(scen_topo);
        }
        int r2 = cg_destroy(scg);
        if (r2 < 0)
                exec_warn(R, "scenario '%s': could not remove its group: %s", run->scenario_name,
                          strerror(-r2));
        rr = &R->result->runs[R->result->n_runs - 1];
        rr->ended_s = exec_since(R, now_usec(CLOCK_MONOTONIC));
        R->result_dirty = true;
        /* After the last run the caller writes the final result at once (exec.h). */
        if (R->run_index + 1 < R->plan->n_runs)
                record_flush(R, true);
        return r < 0 ? r : 0;
}

static int setup(Runner *R, char **ret_error) {
        int r;
        const Spec *spec = R->o->spec;
        _cleanup_free_ char *why = NULL, *err = NULL;

        R->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
        r = journal_open(R->o->journal_dir, R->o->run_id, &R->journal);
        if (r < 0)
                return error_setf(ret_error, r, "cannot create the journal in %s: %s%s",
                                  R->o->journal_dir ? R->o->journal_dir : journal_dir_default(),
                                  strerror(-r),
                                  r == -EACCES || r == -EPERM ? " (corun needs root for partitions)" : "");
        /* The scratch base is journalled with the run group's directories: one write. */
        r = job_setup_scratch_base(getenv("TMPDIR"), R->o->run_id, &R->scratch_base);
        if (r < 0)
                return r;
        r = journal_stage(R->journal, "dir", R->scratch_base);
        /* The results directory, for the temporary file a kill -9 between naming a result
         * file and renaming it may leave (cleanup removes it; nothing else there). */
        if (r >= 0 && R->o->results_dir && R->o->results_dir[0] == '/')
                r = journal_stage(R->journal, "results", R->o->results_dir);
        if (r < 0)
                return error_setf(ret_error, r, "cannot write the journal: %s", strerror(-r));
        CgroupManagerOptions co = {.backend = spec->backend, .run_id = R->o->run_id, .slice = spec->slice};
        r = cg_manager_new(&co, R->journal, &R->cgm, &why);
        if (r < 0)
                return error_setf(ret_error, r, "cannot set up partitions: %s%s%s", strerror(-r),
                                  why ? ": " : "", why ? why : "");
        R->result->backend = strdup(backend_kind_to_string(cg_manager_backend(R->cgm)));
        R->result->host.cgroup_backend_detail = why ? strdup(why) : NULL;
        if (cg_manager_backend(R->cgm) == BACKEND_NONE)
                exec_warn(
                        R,
                        "backend 'none': memory limits are NOT enforced by the kernel (only rlimits and CPU "
                        "affinity); %s",
                        why ? why : "");
        if (cg_manager_warning(R->cgm))
                exec_warn(R, "%s", cg_manager_warning(R->cgm));

        CpuSet cpus, mems;
        r = cg_manager_allowed(R->cgm, &cpus, &mems);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read the CPUs this runner may use: %s",
                                  strerror(-r));
        if (R->o->topology)
                r = topo_load_arg(R->o->topology, &R->topo, &err);
        else
                r = topo_load_host(&cpus, &R->topo, &err);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read the machine's topology: %s",
                                  err ? err : strerror(-r));
        uint64_t memlimit = cg_manager_memory_limit(R->cgm);
        AllocOptions ao = {
                .reserve_cores = spec->reserve_cores,
                .numa = spec->numa,
                .memory_available =
                        MIN(memlimit, R->topo->memory_bytes ? R->topo->memory_bytes : UINT64_MAX),
        };
        R->memory_available = ao.memory_available;
        r = exec_gpu_setup(R, &ao, ret_error);
        if (r < 0)
                return r;
        r = alloc_pool_new(R->topo, &ao, &R->pool);
        if (r < 0)
                return error_setf(ret_error, r, "cannot set up core allocation: %s", strerror(-r));
        /* Pattern errors are input errors: report them before anything starts. */
        for (size_t i = 0; i < spec->n_jobs; i++) {
                MarkerEngine *mk = NULL;
                _cleanup_free_ char *perr = NULL;
                r = marker_engine_new(&spec->jobs[i], &mk, &perr);
                marker_engine_free(mk);
                if (r < 0) {
                        if (!perr)
                                return error_setf(ret_error, r, "job '%s': cannot compile its patterns",
                                                  spec->jobs[i].name);
                        free(*ret_error);
                        *ret_error = TAKE_PTR(perr);
                        return r;
                }
        }
        /* Refuse infeasible requests before anything starts. */
        for (size_t i = 0; i < R->plan->n_runs; i++) {
                r = exec_gpu_shares_check(R, &R->plan->runs[i], ret_error);
                if (r < 0) {
                        if (R->o->ret_refused)
                                *R->o->ret_refused = true;
                        return r;
                }
                for (size_t k = 0; k < R->plan->runs[i].n_jobs; k++) {
                        const PlanJob *pj = &R->plan->runs[i].jobs[k];
                        AllocRequest req;
                        _cleanup_free_ char *e = NULL;
                        r = exec_request_init(R, pj, &req, &e);
                        if (r >= 0)
                                r = alloc_check(R->pool, &req, &e);
                        if (r < 0 && R->o->ret_refused)
                                *R->o->ret_refused = true;
                        if (r < 0) {
                                if (e) {
                                        free(*ret_error);
                                        *ret_error = TAKE_PTR(e);
                                        return r;
                                }
                                return error_setf(ret_error, r, "job '%s' cannot be placed: %s", req.job,
                                                  strerror(-r));
                        }
                }
        }

        /* GPU limits: the shim is there, MPS answers where a job asks for it. */
        r = exec_gpu_limit_check(R, ret_error);
        if (r < 0) {
                if (R->o->ret_refused)
                        *R->o->ret_refused = true;
                return r;
        }

        /* Jobs in images: engine, image and volumes before anything starts (bad input:
         * refused, exit 2). */
        r = job_container_prepare(R, ret_error);
        if (r < 0)
                return r;

        r = journal_flush(R->journal); /* nothing left to write unless backend none */
        if (r >= 0)
                r = fault_point("scratch create");
        if (r < 0 || mkdir(R->scratch_base, 0755) < 0) {
                r = r < 0 ? r : -errno;
                return error_setf(ret_error, r, "cannot create the scratch dir %s: %s", R->scratch_base,
                                  strerror(-r));
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
        uint64_t iv =
                spec->sample_interval_usec ? spec->sample_interval_usec : EXEC_SAMPLE_INTERVAL_DEFAULT_USEC;
        struct itimerspec its = {
                .it_interval = {.tv_sec = (time_t)(iv / USEC_PER_SEC),
                                .tv_nsec = (long)(iv % USEC_PER_SEC * NSEC_PER_USEC)},
                .it_value = {.tv_sec = (time_t)(iv / USEC_PER_SEC),
                             .tv_nsec = (long)(iv % USEC_PER_SEC * NSEC_PER_USEC)},
        };
        timerfd_settime(R->samplefd, 0, &its, NULL);
        if ((r = loop_add(R, R->sigfd, &R->s_sig, loop_on_signal, NULL)) < 0 ||
            (r = loop_add(R, R->samplefd, &R->s_sample, loop_on_sample, NULL)) < 0 ||
            (r = loop_add(R, R->protfd, &R->s_prot, protector_on_tick, NULL)) < 0)
                return r;
        _cleanup_free_ char *samples = NULL;
        if (asprintf(&samples, "%s/samples", R->o->results_dir) >= 0)
                (void)mkdir_p(samples, 0755);
        return 0;
}

static void teardown(Runner *R) {
        (void)fault_point("teardown");
        if (R->scratch_base && !R->o->spec->keep)
                (void)rm_rf(R->scratch_base);
        R->cgm = cg_manager_free(R->cgm);
        R->containers = container_prep_free(R->containers);
        if (R->journal) {
                if (R->o->spec->keep || R->container_left)
                        /* Kept scratch, or a container the engine would not remove, stays
                         * listed for `corun cleanup`. */
                        R->journal = journal_free(R->journal);
                else {
                        journal_close_clean(R->journal);
                        R->journal = NULL;
                }
        }
        R->pool = alloc_pool_free(R->pool);
        R->topo = topo_free(R->topo);
        exec_gpu_teardown(R);
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
        free(R->log_dir_made);
        R->write_cache = result_write_cache_free(R->write_cache);
        /* Signals stay blocked until exit: a late SIGINT must not kill us while the
         * caller writes the final result. The CLI unblocks if it needs to. */
}

/* The plan, run by run, between the plan's setup and cleanup hooks (hooks.c). */
int exec_run(const ExecOptions *o, const Plan *plan, Result *result, char **ret_error) {
        Runner R = {.o = o,
                    .plan = plan,
                    .result = result,
                    .epfd = -1,
                    .sigfd = -1,
                    .samplefd = -1,
                    .protfd = -1,
                    .proc_fd = -1};
        int r;

        R.t0 = now_usec(CLOCK_MONOTONIC);
        R.write_cache = result_write_cache_new(); /* NULL: every rewrite serialises all */
        result->partial = true;
        r = setup(&R, ret_error);
        if (r < 0) {
                teardown(&R);
                return r;
        }
        /* The first result.json, before any job: whoever watches the run sees it started.
         * It counts as a rewrite, so a job ending within RESULT_WRITE_MIN_USEC of it is
         * written at the next tick (or by the caller's final write), not at once. */
        int w = result_write(result, o->results_dir);
        if (w < 0) {
                exec_warn(&R, "cannot write %s/result.json: %s", o->results_dir, strerror(-w));
                exec_write_failed(&R);
        }
        R.last_write_usec = now_usec(CLOCK_MONOTONIC);
        r = hooks_run_plan(&R);
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
