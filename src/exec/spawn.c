/* SPDX-License-Identifier: MIT */
#include "exec/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/macros.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

enum {
        STAGE_ATTACH,
        STAGE_SETSID,
        STAGE_STDIO,
        STAGE_CHDIR,
        STAGE_SETGROUPS,
        STAGE_SETGID,
        STAGE_SETUID,
        STAGE_SIGNALS,
        STAGE_EXEC,
};
static const char *const stage_names[] = {
        [STAGE_ATTACH] = "cgroup attach",  [STAGE_SETSID] = "setsid",
        [STAGE_STDIO] = "stdio",           [STAGE_CHDIR] = "chdir",
        [STAGE_SETGROUPS] = "setgroups",   [STAGE_SETGID] = "setgid",
        [STAGE_SETUID] = "setuid",         [STAGE_SIGNALS] = "signal setup",
        [STAGE_EXEC] = "execve",
};

/* The child after clone: only system calls, then exec. Failures go back through the
 * CLOEXEC error pipe as (stage, errno), so the parent reports failed-to-start with the
 * real errno instead of a shell-style exit 127. */
_Noreturn static void child(const SpawnParams *p, const CgAttach *attach, int err_fd) {
        int stage, r;
        sigset_t all;

        /* The runner blocks signals for its signalfd; the job must start with a clean
         * mask and default dispositions. */
        stage = STAGE_SIGNALS;
        sigemptyset(&all);
        if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
                goto fail;
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);

        stage = STAGE_ATTACH;
        if (attach && (r = cg_attach_self(attach)) < 0) {
                errno = -r;
                goto fail;
        }
        stage = STAGE_SETSID;
        if (setsid() < 0)
                goto fail;
        stage = STAGE_STDIO;
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(p->stdout_fd, STDOUT_FILENO) < 0 ||
            dup2(p->stderr_fd, STDERR_FILENO) < 0)
                goto fail;
        if (p->cwd) {
                stage = STAGE_CHDIR;
                if (chdir(p->cwd) < 0)
                        goto fail;
        }
        if (p->set_ids) {
                /* Supplementary groups first, while still privileged. */
                stage = STAGE_SETGROUPS;
                if (setgroups(0, NULL) < 0)
                        goto fail;
                stage = STAGE_SETGID;
                if (setresgid(p->gid, p->gid, p->gid) < 0)
                        goto fail;
                stage = STAGE_SETUID;
                if (setresuid(p->uid, p->uid, p->uid) < 0)
                        goto fail;
        }
        /* If the runner dies without cleaning up, the main process goes with it; the
         * journal catches whatever escaped. After setuid since that clears it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);

        stage = STAGE_EXEC;
        execvpe(p->argv[0], p->argv, p->envp);
fail:;
        int msg[2] = {stage, errno};
        ssize_t _unused_ w = write(err_fd, msg, sizeof msg);
        _exit(127);
}

int spawn_job(const SpawnParams *p, SpawnResult *ret) {
        _cleanup_close_ int err_r = -1, err_w = -1;
        int pipefd[2];
        CgAttach attach = {0};
        bool have_attach = false;
        int cgfd = -EOPNOTSUPP, r;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        err_r = pipefd[0];
        err_w = pipefd[1];

        if (p->cgroup)
                cgfd = cg_clone_fd(p->cgroup);

        SpawnResult res = {.pid = -1, .pidfd = -1};
        if (p->cgroup) {
                r = cg_prepare_attach(p->cgroup, cgfd >= 0, &attach);
                if (r < 0)
                        return r;
                have_attach = true;
        }

        int pidfd = -1;
        struct clone_args args = {
                .flags = CLONE_PIDFD | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0,
        };
        res.start_usec = now_usec(CLOCK_MONOTONIC);
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
                /* Pre-5.7 kernels: plain fork; the child joins its groups itself. */
                if (have_attach) {
                        cg_attach_done(&attach);
                        r = cg_prepare_attach(p->cgroup, false, &attach);
                        if (r < 0)
                                return r;
                }
                cgfd = -1;
                pid = fork();
                if (pid > 0)
                        pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
        }
        if (pid < 0) {
                r = -errno;
                if (have_attach)
                        cg_attach_done(&attach);
                return r;
        }
        if (pid == 0) {
                err_r = -1; /* not ours to close: the child only writes */
                child(p, have_attach ? &attach : NULL, err_w);
        }

        if (have_attach)
                cg_attach_done(&attach);
        res.pid = (pid_t)pid;
        res.cloned_into_cgroup = cgfd >= 0;
        if (p->cgroup)
                (void)cg_attach_pid(p->cgroup, res.pid);
        closep(&err_w);
        err_w = -1;

        /* Blocks until execve (the pipe closes on CLOEXEC) or a reported failure:
         * microseconds, and it keeps "started" honest. */
        int msg[2];
        ssize_t n;
        do
                n = read(err_r, msg, sizeof msg);
        while (n < 0 && errno == EINTR);
        /* The job's clock starts at its execve, not at clone3: what the child does before
         * (attaching to v1 hierarchies, identity, rlimits) is corun's cost, not the job's. */
        if (n == 0)
                res.start_usec = now_usec(CLOCK_MONOTONIC);
        if (n == (ssize_t)sizeof msg) {
                res.start_errno = msg[1] ? msg[1] : EIO;
                res.start_stage = (msg[0] >= 0 && (size_t)msg[0] < ELEMENTSOF(stage_names)) ? stage_names[msg[0]]
                                                                                          : "setup";
                (void)waitpid(res.pid, NULL, 0);
                if (pidfd >= 0)
                        close(pidfd);
                pidfd = -1;
        }
        res.pidfd = pidfd;
        *ret = res;
        return 0;
}
