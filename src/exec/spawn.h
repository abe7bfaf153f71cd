/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "util/time-util.h"

/* How to start one job's main process. Everything is resolved in the parent (user
 * names, paths, environment) so that the child only makes system calls. */
typedef struct SpawnParams {
        char **argv;       /* argv[0] searched in the job's PATH (envp's, else
                            * /usr/local/bin:/usr/bin:/bin), never the runner's */
        char **envp;
        const char *cwd;   /* NULL = inherit */
        int stdout_fd, stderr_fd; /* the pipes' write ends */
        bool set_ids;
        uid_t uid;
        gid_t gid;
        Cgroup *cgroup;    /* may be NULL (tests) */
} SpawnParams;

typedef struct SpawnResult {
        pid_t pid;
        int pidfd;
        uint64_t start_usec; /* CLOCK_MONOTONIC right before the process was created */
        bool cloned_into_cgroup;
        int start_errno;     /* 0, or why it did not start (then pid is reaped already) */
        const char *start_stage; /* "execve", "chdir", "setuid", "cgroup attach", ... */
} SpawnResult;

/* Creates the process already inside its partition (clone3 with CLONE_INTO_CGROUP where
 * a cgroup2 hierarchy holds the group, then the child joins the v1 hierarchies before
 * exec), and waits until exec succeeded or failed. The child shares the runner's memory
 * until its exec (CLONE_VM|CLONE_VFORK, as posix_spawn does) where the architecture allows.
 * Returns 0 with *ret filled (also for a failed start: ret->start_errno says why),
 * negative errno when no process could be created. */
int spawn_job(const SpawnParams *p, SpawnResult *ret);

/* execvp's search for `name` in the PATH of `envp` (default /usr/local/bin:/usr/bin:/bin),
 * relative directories taken from `cwd` (NULL: ours). A name with a '/' is returned as is.
 * *ret_path malloc'ed. -ENOENT, -EACCES (found, not executable), -ENOMEM. */
int spawn_find_program(const char *name, char *const *envp, const char *cwd, char **ret_path);

/* In a forked child of the runner (a hook, an engine command): the signal mask and
 * SIGPIPE back to their defaults (the runner blocks its signals for its signalfd and
 * ignores SIGPIPE), before exec. */
void spawn_child_default_signals(void);
