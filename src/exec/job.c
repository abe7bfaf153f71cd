/* SPDX-License-Identifier: MIT */
/* job.c: one job's life in the runner. The queue's glue (which queued jobs start now,
 * decided by alloc), the start (setup computed by job-setup, partition, logs, pipes,
 * spawn, registration with the loop), the exit (reap, kill leftovers, drain, record),
 * and the one place a job's resources are closed and freed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/cpuset.h"
#include "util/error.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/parse.h"

extern char **environ;

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, job_setup_strv_free);

void job_init(Job *j, const PlanJob *pj, size_t index) {
        *j = (Job){.pj = pj, .state = JOB_QUEUED, .index = index};
        j->out_fd = j->err_fd = j->log_out = j->log_err = j->timer_fd = -1;
        j->mem_fd = j->cpu_fd = j->press_fd = -1;
        j->sp.pidfd = -1;
}

/* Closes every fd the job holds (unregistering it from the loop) and its samples file. */
void job_close(Runner *R, Job *j) {
        int *fds[] = {&j->out_fd, &j->err_fd, &j->timer_fd, &j->sp.pidfd,
                      &j->mem_fd, &j->cpu_fd, &j->press_fd};
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                loop_del(R, fds[i]);
        closep(&j->log_out);
        closep(&j->log_err);
        j->log_out = j->log_err = -1;
        if (j->samples)
                fclose(j->samples);
        j->samples = NULL;
}

/* Everything the job still holds, on every path out of its run. */
void job_free(Runner *R, Job *j) {
        job_close(R, j);
        if (j->cg)
                cg_destroy(j->cg);
        j->cg = NULL;
        if (j->has_asg) {
                alloc_release(R->pool, &j->asg);
                assignment_done(&j->asg);
                j->has_asg = false;
        }
        j->mk = marker_engine_free(j->mk);
        exec_gpu_job_free(R, j);
        exec_gpu_limit_free(R, j);
        free(j->err_tail);
        j->err_tail = NULL;
        line_splitter_done(&j->ls_out);
        line_splitter_done(&j->ls_err);
        job_setup_done(&j->setup);
        free(j->container);
        j->container = NULL;
        free(j->container_monitor_pidfile);
        j->container_monitor_pidfile = NULL;
        j->cprep = NULL;
}

/* Appends the job's result to the run, tells the observer, removes its partition and
 * scratch dir and gives its cores back. */
void job_finish(Runner *R, Job *j, int wait_status, const struct rusage *ru) {
        JobResult res;
        exec_gpu_job_ended(R, j);
        job_container_end(R, j, wait_status);
        record_job(R, j, wait_status, ru, &res);
        bool failed = !(res.reason == REASON_EXIT && res.exit_code == 0);
        if (res.escaped)
                exec_warn(R, "job '%s' ESCAPED its partition: %s%s", j->pj->name,
                          res.n_escaped_pids ? "processes outside its groups were killed" :
                                               "its CPU time (wait4) exceeds its group's",
                          res.n_escaped_pids ? " (escaped_pids in result.json)" : "; its limits did not hold");
        if (res.leftovers_killed > 0)
                exec_warn(R, "job '%s': %" PRIu64 " process%s it left running (daemons, children) %s killed at its end",
                          j->pj->name, res.leftovers_killed, res.leftovers_killed == 1 ? "" : "es",
                          res.leftovers_killed == 1 ? "was" : "were");
        if (res.forks_refused > 0)
                /* Refused forks change what a job did without ending it: say so (issue 14
                 * item 6); the count is in result.json as forks_refused. */
                exec_warn(R, "job '%s': its pids limit refused %" PRIu64 " fork%s (pids.events max)",
                          j->pj->name, res.forks_refused, res.forks_refused == 1 ? "" : "s");
        JobResult *slot = run_result_add_job(R->rr);
        if (slot)
                *slot = res;
        else
                job_result_done(&res);
        R->jobs_done++;
        R->sharers_changed++;
        if (failed)
                R->jobs_failed++;
        j->state = JOB_DONE;

        ExecJobView v;
        job_view(R, j, slot, &v);
        /* A failed job's last stderr lines go with its end (the display shows them). */
        char tail[EXEC_STDERR_TAIL + 1];
        size_t n = j->err_tail ? MIN(j->err_tail_len, (size_t)EXEC_STDERR_TAIL) : 0;
        for (size_t i = 0; i < n; i++)
                tail[i] = j->err_tail[(j->err_tail_len - n + i) % EXEC_STDERR_TAIL];
        tail[n] = '\0';
        exec_emit(R, EXEC_EVENT_JOB_END, j->run, j->run_index, &v, failed && n > 0 ? tail : NULL);

        job_close(R, j);
        if (j->cg) {
                int r = cg_destroy(j->cg);
                if (r < 0)
                        exec_warn(R, "job '%s': could not remove its group: %s", j->pj->name, strerror(-r));
                j->cg = NULL;
        }
        if (j->setup.scratch && !R->o->spec->keep) {
                (void)fault_point("scratch removal");
                /* Most jobs leave their scratch dir empty: one rmdir (which removes no
                 * symlink and nothing that is not an empty directory), else the walk. */
                int r = rmdir(j->setup.scratch) == 0 || errno == ENOENT ? 0 : rm_rf(j->setup.scratch);
                if (r < 0)
                        exec_warn(R, "job '%s': could not remove scratch dir %s: %s", j->pj->name,
                                  j->setup.scratch, strerror(-r));
        }
        /* Its cores back, and what only a running job needs (its environment, paths,
         * patterns, line buffers) goes now, not at the run's end: kept for every finished
         * job, it made the runner's memory grow by kilobytes per job of a long queue. */
        job_free(R, j);
        R->result_dirty = true;
        record_flush(R, false);
}

void job_on_exit(Runner *R, Job *j) {
        int status = 0;
        struct rusage ru = {0};
        pid_t p;

        do
                p = wait4(j->sp.pid, &status, WNOHANG, &ru);
        while (p < 0 && errno == EINTR);
        if (p == 0)
                return; /* spurious */
        j->end_usec = now_usec(CLOCK_MONOTONIC);
        protector_release(j);
        /* The main process is gone; whatever it left (daemons, children) goes too. (A
         * process that left the job's cgroup2 group is killed when the group is removed.) */
        if (j->cg) {
                int populated = cg_is_populated_fast(j->cg);
                if (populated != 0) {
                        /* Counted before the kill: daemons and children the job left running
                         * are reported (leftovers_killed), not only removed. */
                        _cleanup_free_ pid_t *pids = NULL;
                        size_t n = 0;
                        if (cg_pids(j->cg, &pids, &n) >= 0)
                                j->leftovers_killed = (unsigned)(n - job_container_monitor_pids(j, pids, n));
                        (void)cg_kill(j->cg);
                }
        } else if (j->sp.pid > 0) {
                (void)kill(-j->sp.pid, SIGKILL);
        }
        /* What the job left outside every running job's groups (it moved there and its
         * parent died, so it is ours now): killed and recorded as escaped. */
        (void)escape_sweep(R, j);
        output_drain(R, j);
        job_finish(R, j, status, &ru);
}

/* A job still running when its run ends (interrupt, runner error): killed, reaped and
 * recorded as interrupted. */
void job_stop_and_reap(Runner *R, Job *j) {
        if (j->state != JOB_RUNNING)
                return;
        protector_release(j);
        if (j->stop == STOP_NONE)
                j->stop = STOP_INTERRUPT;
        deadline_kill_now(j);
        int status = 0;
        struct rusage ru = {0};
        while (wait4(j->sp.pid, &status, 0, &ru) < 0 && errno == EINTR)
                ;
        j->end_usec = now_usec(CLOCK_MONOTONIC);
        output_drain(R, j);
        job_finish(R, j, status, &ru);
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
                } else
                        return error_setf(ret_error, -ENOENT, "job '%s': no such user '%s'", js->name,
                                          js->user);
        }
        if (js->group) {
                unsigned n;
                struct group *gr = getgrnam(js->group);
                if (gr)
                        sp->gid = gr->gr_gid;
                else if (parse_unsigned(js->group, &n) == 0)
                        sp->gid = n;
                else
                        return error_setf(ret_error, -ENOENT, "job '%s': no such group '%s'", js->name,
                                          js->group);
        }
        return 0;
}

/* Its log files, its partition with its limits, its scratch dir. */
static int job_create(Runner *R, Job *j, CgLimits *lim) {
        const JobSetup *s = &j->setup;
        int r;
        protect_job_limits(&j->pj->limits, lim);
        lim->cpus = j->asg.cpus;
        lim->mems = j->asg.mems;
        lim->no_address_space_limit = j->asg.gpus != 0 || j->pj->limits.gpus.kind == GPUS_ANY;
        r = cg_create(R->cgm, s->cgroup_rel, NULL, &j->cg); /* limits once, below */
        if (r < 0)
                return error_setf(&R->error, r, "job '%s': cannot create its partition %s: %s", j->pj->name,
                                  s->cgroup_rel, strerror(-r));
        r = cg_apply(j->cg, lim, &j->applied);
        if (r < 0)
                return error_setf(&R->error, r, "job '%s': cannot apply its limits: %s", j->pj->name,
                                  strerror(-r));
        if ((r = fault_point("scratch create")) < 0)
                return error_setf(&R->error, r, "cannot create scratch dir %s: %s", s->scratch, strerror(-r));
        if (mkdir(s->scratch, 0777) < 0 && errno != EEXIST)
                return error_setf(&R->error, -errno, "cannot create scratch dir %s: %m", s->scratch);
        return 0;
}

/* Starts a job whose cores are assigned. A job that cannot be set up is finished as
 * failed-to-start; only runner-level failures return < 0. */
static int job_start(Runner *R, Job *j) {
        const JobSpec *js = j->pj->spec;
        _cleanup_free_ char *err = NULL;
        int r, p[2];

        j->R = R;
        j->run = R->run;
        j->run_index = R->run_index;
        _cleanup_free_ char *gpu_visible = NULL;
        r = exec_gpu_visible(R, j, &gpu_visible);
        if (r < 0)
                return r;
        const char *gpu_region = NULL, *gpu_shim = NULL;
        unsigned mps_pct = 0;
        r = exec_gpu_limit_prepare(R, j, &gpu_region, &gpu_shim, &mps_pct);
        if (r < 0)
                return r;
        JobSetupInput in = {
                .gpu_visible = gpu_visible,
                .gpu_region = gpu_region,
                .gpu_shim = gpu_shim,
                .gpu_mps_percentage = mps_pct,
                .run_id = R->o->run_id,
                .results_dir = R->o->results_dir,
                .scratch_base = R->scratch_base,
                .run_index = R->run_index,
                .run = R->run,
                .pj = j->pj,
                .cpus = &j->asg.cpus,
                .inherit = environ,
        };
        r = job_setup_build(&in, &j->setup);
        if (r < 0)
                return error_setf(&R->error, r, "job '%s': cannot compute its environment and paths: %s",
                                  j->pj->name, strerror(-r));
        if (js->n_phases || js->n_metrics) {
                _cleanup_free_ char *perr = NULL;
                r = marker_engine_new(js, &j->mk, &perr);
                if (r < 0)
                        return error_setf(&R->error, r, "%s", perr ?: "cannot compile the job's patterns");
        }

        CgLimits lim;
        r = job_create(R, j, &lim);
        if (r < 0)
                return r;
        protector_job_started(R, j, &lim);

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

        /* A job in an image: the engine's client runs the command there (job-container.c). */
        _cleanup_(job_setup_strv_freep) char **engine_argv = NULL;
        if (js->container.image && (r = job_container_argv(R, j, &lim, &engine_argv)) < 0)
                return r;

        SpawnParams sp = {
                .argv = engine_argv ?: j->pj->argv,
                .envp = j->setup.envp,
                /* In an image, the client's cwd is the scratch dir: conmon writes files
                 * there (an "oom" file after an OOM kill), which would litter corun's cwd. */
                .cwd = engine_argv && j->setup.scratch ? j->setup.scratch : js->cwd,
                .stdout_fd = out_w,
                .stderr_fd = err_w,
                .cgroup = j->cg,
        };
        /* In an image, user: and group: are the container's (--user): the client runs as us. */
        r = engine_argv ? 0 : resolve_ids(js, &sp, &err);
        if (r < 0)
                return error_setf(&R->error, r, "%s", err);
        /* The job's TMPDIR is its own when it runs as another user. */
        if (sp.set_ids && chown(j->setup.scratch, sp.uid, sp.gid) < 0)
                exec_warn(R, "job '%s': cannot give its scratch dir %s to uid %u: %m", j->pj->name,
                          j->setup.scratch, (unsigned)sp.uid);

        r = exec_gpu_limit_create(R, j, sp.set_ids ? sp.uid : (uid_t)-1, sp.set_ids ? sp.gid : (gid_t)-1);
        if (r < 0)
                return r;
        /* The GPU sampler counts from here: NVML's sample periods before are not the job's. */
        exec_gpu_job_started(R, j);
        r = spawn_job(&sp, &j->sp);
        if (r < 0)
                return error_setf(&R->error, r, "job '%s': cannot create a process: %s", j->pj->name,
                                  strerror(-r));
        closep(&out_w);
        out_w = -1;
        closep(&err_w);
        err_w = -1;

        j->state = JOB_RUNNING;
        R->sharers_changed++; /* see sample.c: the others' PSS may move */
        ExecJobView v;
        job_view(R, j, NULL, &v);
        exec_emit(R, EXEC_EVENT_JOB_START, j->run, j->run_index, &v, NULL);

        if (j->sp.start_errno) {
                j->end_usec = j->sp.start_usec;
                output_drain(R, j);
                job_finish(R, j, 0, &(struct rusage){0});
                return 0;
        }

        j->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (j->timer_fd < 0)
                return -errno;
        if ((r = loop_add(R, j->sp.pidfd, &j->s_pid, loop_on_pidfd, j)) < 0 ||
            (r = loop_add(R, j->out_fd, &j->s_out, output_on_stdout, j)) < 0 ||
            (r = loop_add(R, j->err_fd, &j->s_err, output_on_stderr, j)) < 0 ||
            (r = loop_add(R, j->timer_fd, &j->s_timer, deadline_on_timer, j)) < 0)
                return r;
        if (js->timeout_usec != USEC_INFINITY)
                j->wall_deadline = j->sp.start_usec + js->timeout_usec;
        deadline_schedule_cpu_check(j, j->sp.start_usec);
        deadline_arm(j);
        return 0;
}

/* Starts what the queue rule (alloc_admit) admits now, in submission order, and
 * announces the jobs that wait. A job that fails to start gives its cores back at once,
 * so the queue is asked again until nothing more starts. */
int job_start_ready(Runner *R) {
        for (;;) {
                size_t failed = 0;
                _cleanup_free_ char *err = NULL;
                int k = alloc_admit(R->pool, R->reqs, R->waiting, R->n_jobs, R->admitted, &failed, &err);
                if (k < 0)
                        return error_setf(&R->error, k, "%s", err ?: "cannot allocate cores");
                bool freed = false;
                for (size_t i = 0; i < R->n_jobs; i++) {
                        Job *j = &R->jobs[i];
                        if (j->state != JOB_QUEUED)
                                continue;
                        if (R->waiting[i]) {
                                if (!j->announced_queued) {
                                        j->announced_queued = true;
                                        ExecJobView v;
                                        job_view(R, j, NULL, &v);
                                        exec_emit(R, EXEC_EVENT_JOB_QUEUED, R->run, R->run_index, &v, NULL);
                                }
                                continue;
                        }
                        j->asg = R->admitted[i];
                        R->admitted[i] = (Assignment){0};
                        j->has_asg = true;
                        int r = job_start(R, j);
                        if (r < 0)
                                return r;
                        freed = freed || j->state == JOB_DONE;
                }
                if (k == 0 || !freed)
                        return 0;
        }
}
