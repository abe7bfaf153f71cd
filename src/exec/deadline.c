/* SPDX-License-Identifier: MIT */
/* deadline.c: a job's wall and CPU limits and how it is stopped. One timerfd per job
 * holds the earliest of its wall deadline, its next CPU check and the end of its stop
 * grace; stopping sends the stop signal (and SIGCONT), waits the grace, then kills the
 * whole group. */
#include <errno.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/cpuset.h"

void deadline_arm(Job *j) {
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

uint64_t deadline_job_cpu_usec(Job *j) {
        uint64_t u;
        sample_open_fds(j);
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
void deadline_schedule_cpu_check(Job *j, uint64_t now) {
        uint64_t limit = j->pj->spec->cpu_timeout_usec;
        if (limit == USEC_INFINITY || j->stop != STOP_NONE) {
                j->cpu_check_at = 0;
                return;
        }
        uint64_t used = deadline_job_cpu_usec(j);
        unsigned ncpu = cpuset_count(&j->applied.cpus);
        if (ncpu == 0)
                ncpu = (unsigned)MAX(1L, sysconf(_SC_NPROCESSORS_ONLN));
        uint64_t remaining = used >= limit ? 0 : limit - used;
        uint64_t wait = remaining / ncpu;
        if (wait < EXEC_CPU_CHECK_MIN_USEC)
                wait = remaining ? EXEC_CPU_CHECK_MIN_USEC : 0;
        j->cpu_check_at = now + wait;
}

/* Through the group and, always, to the main process by its pidfd: a job that moved
 * itself out of its groups still gets the signal (escape.c). */
static void job_signal(Job *j, int sig) {
        if (!(j->cg && cg_signal(j->cg, sig) >= 0) && j->sp.pid > 0)
                (void)kill(-j->sp.pid, sig);
        escape_signal_main(j, sig);
}

void deadline_kill_now(Job *j) {
        j->killed_by_us = true;
        if (!(j->cg && cg_kill(j->cg) >= 0) && j->sp.pid > 0)
                (void)kill(-j->sp.pid, SIGKILL);
        escape_signal_main(j, SIGKILL);
}

void deadline_begin_stop(Job *j, StopReason why, uint64_t now) {
        if (j->state != JOB_RUNNING || j->stop != STOP_NONE)
                return;
        protector_release(j);
        j->stop = why;
        j->cpu_check_at = 0;
        j->wall_deadline = 0;
        int sig = j->pj->spec->stop_signal > 0 ? j->pj->spec->stop_signal : SIGTERM;
        uint64_t grace = j->pj->spec->grace_usec;
        if (sig == SIGKILL || grace == 0) {
                deadline_kill_now(j);
                return;
        }
        job_signal(j, sig);
        /* A stopped job would never see SIGTERM. */
        job_signal(j, SIGCONT);
        j->grace_deadline = grace == USEC_INFINITY ? 0 : now + grace;
        deadline_arm(j);
}

void deadline_on_timer(Runner *R, Job *j) {
        uint64_t exp;
        ssize_t _unused_ n = read(j->timer_fd, &exp, sizeof exp);
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        if (j->state != JOB_RUNNING)
                return;
        if (j->grace_deadline && now >= j->grace_deadline) {
                j->grace_deadline = 0;
                deadline_kill_now(j);
        }
        if (j->wall_deadline && now >= j->wall_deadline)
                deadline_begin_stop(j, STOP_TIMEOUT, now);
        if (j->cpu_check_at && now >= j->cpu_check_at) {
                if (deadline_job_cpu_usec(j) >= j->pj->spec->cpu_timeout_usec)
                        deadline_begin_stop(j, STOP_CPU, now);
                else
                        deadline_schedule_cpu_check(j, now);
        }
        deadline_arm(j);
}
