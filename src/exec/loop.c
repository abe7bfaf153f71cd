/* SPDX-License-Identifier: MIT */
/* loop.c: the runner's one event loop. epoll over the signalfd, the sample timer, the
 * protector's timer and, per running job, its pidfd, output pipes, deadline timer and
 * pressure eventfd; each source carries its own handler. Also: signals (interrupts,
 * SIGCHLD), reaping what jobs orphan, the sample tick and its heartbeat. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/error.h"

int loop_add(Runner *R, int fd, Source *s, SourceHandler handler, Job *j) {
        s->handler = handler;
        s->job = j;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        return RET_NERRNO(epoll_ctl(R->epfd, EPOLL_CTL_ADD, fd, &ev));
}

/* Unregisters and closes *fd (when open) and sets it to -1. */
void loop_del(Runner *R, int *fd) {
        if (*fd < 0)
                return;
        epoll_ctl(R->epfd, EPOLL_CTL_DEL, *fd, NULL);
        close(*fd);
        *fd = -1;
}

/* corun is a child subreaper: whatever a job orphans (daemons, double forks) is
 * reparented to us rather than to PID 1, which may never reap it. Reap those here;
 * a job's main process is left for its pidfd handler, which wants its rusage. */
static void reap_orphans(Runner *R) {
        for (;;) {
                siginfo_t si = {0};
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                        return;
                for (size_t i = 0; i < R->n_jobs; i++)
                        if (R->jobs[i].state == JOB_RUNNING && R->jobs[i].sp.pid == si.si_pid)
                                return;
                (void)waitpid(si.si_pid, NULL, WNOHANG);
        }
}

/* A job's main process exited; then whatever else exited meanwhile. Orphans that
 * exited before it are reaped first: a zombie is not a process the job left running (a
 * container engine's monitor, reparented to us, exits just before its client). */
void loop_on_pidfd(Runner *R, Job *j) {
        reap_orphans(R);
        if (j->state == JOB_RUNNING)
                job_on_exit(R, j);
        reap_orphans(R);
}

/* The first interrupt stops every job gracefully (stop signal, grace, kill); the second
 * kills them at once. */
void loop_on_signal(Runner *R, Job *unused) {
        struct signalfd_siginfo si;
        while (read(R->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGCHLD) {
                        reap_orphans(R);
                        continue;
                }
                R->interrupts++;
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (R->interrupts == 1) {
                        exec_emit(R, EXEC_EVENT_STOPPING, NULL, 0, NULL, strsignal((int)si.ssi_signo));
                        for (size_t i = 0; i < R->n_jobs; i++)
                                if (R->jobs[i].state == JOB_RUNNING)
                                        deadline_begin_stop(&R->jobs[i], STOP_INTERRUPT, now);
                } else {
                        for (size_t i = 0; i < R->n_jobs; i++)
                                if (R->jobs[i].state == JOB_RUNNING) {
                                        if (R->jobs[i].stop == STOP_NONE)
                                                R->jobs[i].stop = STOP_INTERRUPT;
                                        deadline_kill_now(&R->jobs[i]);
                                }
                }
        }
}

/* The sample tick: a pending result rewrite, one sample per running job, the heartbeat. */
void loop_on_sample(Runner *R, Job *unused) {
        uint64_t exp;
        ssize_t _unused_ rd = read(R->samplefd, &exp, sizeof exp);
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        record_flush(R, false);
        exec_gpu_poll(R, now);
        ExecJobView views[EXEC_HEARTBEAT_VIEWS_MAX];
        size_t nv = 0;
        for (size_t i = 0; i < R->n_jobs; i++)
                if (R->jobs[i].state == JOB_RUNNING) {
                        sample_job(R, &R->jobs[i], now);
                        if (nv < ELEMENTSOF(views))
                                job_view(R, &R->jobs[i], NULL, &views[nv++]);
                }
        if (!R->o->observer)
                return;
        ExecEvent ev = {.kind = EXEC_EVENT_HEARTBEAT,
                        .t_s = exec_since(R, now),
                        .run = R->run,
                        .run_index = R->run_index,
                        .n_runs = R->plan->n_runs,
                        .running = views,
                        .n_running = nv,
                        .jobs_done = R->jobs_done,
                        .jobs_total = R->plan->n_jobs_total,
                        .jobs_failed = R->jobs_failed};
        R->o->observer(&ev, R->o->userdata);
}

/* Until every job of the run is done (or, after an interrupt, every running one):
 * start what the queue admits, wait, dispatch. */
int loop_run(Runner *R) {
        for (;;) {
                int r;
                if (R->interrupts == 0 && (r = job_start_ready(R)) < 0)
                        return r;
                size_t running = 0, queued = 0;
                for (size_t i = 0; i < R->n_jobs; i++) {
                        running += R->jobs[i].state == JOB_RUNNING;
                        queued += R->jobs[i].state == JOB_QUEUED;
                }
                if (running == 0 && (queued == 0 || R->interrupts > 0))
                        return 0;
                if (running == 0)
                        return error_setf(
                                &R->error, -ENOSPC,
                                "scenario '%s': %zu job(s) can never start (not enough free cores or "
                                "memory)",
                                R->run->scenario_name, queued);
                struct epoll_event evs[EXEC_EPOLL_BATCH];
                int n = epoll_wait(R->epfd, evs, ELEMENTSOF(evs), -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int k = 0; k < n; k++) {
                        Source *s = evs[k].data.ptr;
                        s->handler(R, s->job);
                }
        }
}
