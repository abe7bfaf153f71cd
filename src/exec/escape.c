/* SPDX-License-Identifier: MIT */
/* escape.c: processes that get out of a job's groups. A root job can write its pids into
 * any group, the root's included; then signalling the job's groups reaches nothing. corun
 * still knows two things: the job's main process (its pidfd) and, as the child subreaper,
 * every process whose parent died (they are reparented to corun, never to PID 1). So a
 * stop or kill also goes to the main process through its pidfd, and at a job's end every
 * child of corun that is neither a running job's main process nor inside a running job's
 * group is killed and recorded as escaped from the job that just ended. A main process
 * that left its groups is seen by its CPU time: wait4 counts it, the group does not. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/fileio.h"

void escape_signal_main(Job *j, int sig) {
        if (j->sp.pidfd >= 0 && syscall(SYS_pidfd_send_signal, j->sp.pidfd, sig, NULL, 0) == 0)
                return;
        if (j->sp.pid > 0 && j->state == JOB_RUNNING)
                (void)kill(j->sp.pid, sig);
}

/* Whether pid's cgroup2 group (or, without one, any v1 group) lies inside one of the
 * running jobs' groups: an orphan of a job that is still running, not an escapee. */
static bool in_running_job(Runner *R, pid_t pid) {
        char path[64], *text = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
        if (read_full_file(path, 1u << 16, &text, &len) < 0)
                return false;
        bool inside = false;
        for (size_t i = 0; i < R->n_jobs && !inside; i++) {
                const Job *o = &R->jobs[i];
                /* "corun/<run-id>/<relpath>": the tail of the group's path in every hierarchy. */
                const char *rel = o->state == JOB_RUNNING && o->cg ? cg_path(o->cg) : NULL;
                if (!rel)
                        continue;
                /* Lines are "id:controllers:/path"; a job's group path ends in its relpath. */
                for (char *line = text; line && *line && !inside;) {
                        char *nl = strchr(line, '\n');
                        if (nl)
                                *nl = '\0';
                        char *p = strstr(line, rel);
                        if (p && (p[strlen(rel)] == '\0' || p[strlen(rel)] == '/') && p > line && p[-1] == '/')
                                inside = true;
                        if (nl)
                                *nl = '\n';
                        line = nl ? nl + 1 : NULL;
                }
        }
        free(text);
        return inside;
}

static bool is_running_main(Runner *R, pid_t pid) {
        for (size_t i = 0; i < R->n_jobs; i++)
                if (R->jobs[i].state == JOB_RUNNING && R->jobs[i].sp.pid == pid)
                        return true;
        return false;
}

unsigned escape_sweep(Runner *R, Job *j) {
        unsigned found = 0;
        /* Killing one can reparent its own children to us: a few rounds. */
        for (int round = 0; round < 8; round++) {
                char path[64], *text = NULL;
                size_t len = 0;
                snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
                if (read_full_file(path, 1u << 20, &text, &len) < 0)
                        return found;
                unsigned this_round = 0;
                for (char *s = text, *end; *s; s = end) {
                        long v = strtol(s, &end, 10);
                        if (end == s)
                                break;
                        pid_t pid = (pid_t)v;
                        if (pid <= 0 || is_running_main(R, pid) || in_running_job(R, pid))
                                continue;
                        /* A zombie waiting to be reaped is not alive: leave it to the reaper. */
                        char st[64], *stat = NULL;
                        size_t sl = 0;
                        snprintf(st, sizeof st, "/proc/%d/stat", (int)pid);
                        bool zombie = true;
                        if (read_full_file(st, 4096, &stat, &sl) >= 0) {
                                const char *rp = strrchr(stat, ')');
                                zombie = rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
                        }
                        free(stat);
                        if (zombie)
                                continue;
                        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
                        if (pfd >= 0) {
                                (void)syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
                                close(pfd);
                        }
                        this_round++;
                        if (j && j->n_escaped_pids < ELEMENTSOF(j->escaped_pids))
                                j->escaped_pids[j->n_escaped_pids++] = pid;
                        if (j)
                                j->escaped = true;
                }
                free(text);
                found += this_round;
                if (this_round == 0)
                        break;
                /* Let the kills land and the killed be reaped before looking again. */
                (void)usleep(1000);
        }
        return found;
}
