/* SPDX-License-Identifier: MIT */
/* Starting one job's main process, posix_spawn style: the child shares the runner's memory
 * (CLONE_VM) and the runner sleeps until it has exec'd or died (CLONE_VFORK), so no page
 * table is copied and nothing of the runner is torn down again at exec. The child runs on
 * a stack of its own, makes system calls only (no malloc, no stdio, no locks: the runner's
 * heap is its heap) and reports a failure by writing (stage, errno) into a shared record
 * before _exit; the runner reads it when it wakes up. */
#include "exec/spawn.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/macros.h"
#include "util/fault.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* spawn.h promises the job's own PATH; this is the default when its environment has none
 * (the same as systemd's default for services). */
#define SPAWN_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
/* The child's stack: its frames (cg_attach_self's cpu_set_t, the /bin/sh argv for a script
 * without #!) and nothing else. */
#define SPAWN_STACK_SIZE (64u * 1024u)

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

/* Everything the child reads, prepared by the parent, plus the record it writes. It lies in
 * a MAP_SHARED page, so the record reaches the parent also where the child is a copy
 * (architectures without the CLONE_VM trampoline below). */
typedef struct ChildArgs {
        const SpawnParams *p;
        const CgAttach *attach;
        const char *path; /* the executable found in the job's PATH; NULL: path_errno */
        int path_errno;
        int devnull;
        size_t argc;
        volatile int failed, stage, err;
} ChildArgs;

/* ---- PATH search (parent side) ---- */

static const char *env_path(char *const *envp) {
        for (size_t i = 0; envp && envp[i]; i++)
                if (strneq(envp[i], "PATH=", 5))
                        return envp[i] + 5;
        return SPAWN_DEFAULT_PATH;
}

/* 0 when `cand` (relative names against `cwd`, where the child will be) is an executable
 * regular file; else the errno execve would most likely give. */
static int check_candidate(const char *cand, const char *cwd) {
        _cleanup_free_ char *abs = NULL;
        const char *check = cand;
        if (cand[0] != '/' && cwd) {
                if (asprintf(&abs, "%s/%s", cwd, cand) < 0)
                        return -ENOMEM;
                check = abs;
        }
        struct stat st;
        if (stat(check, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        if (access(check, X_OK) < 0)
                return -errno;
        return 0;
}

int spawn_find_program(const char *name, char *const *envp, const char *cwd, char **ret_path) {
        if (isempty(name))
                return -ENOENT;
        /* `corun` in a job is this very corun (`corun stress ...` in the examples), wherever
         * it was started from: ./build/corun before `make install` has no corun in PATH,
         * and an installed older one must not stand in for the one measuring. */
        if (streq(name, "corun")) {
                char self[PATH_MAX];
                ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
                if (n > 0) {
                        self[n] = '\0';
                        char *c = strdup(self);
                        if (!c)
                                return -ENOMEM;
                        *ret_path = c;
                        return 0;
                }
        }
        if (strchr(name, '/')) {
                char *c = strdup(name);
                if (!c)
                        return -ENOMEM;
                *ret_path = c;
                return 0;
        }
        /* execvp's rules: an empty element is the current directory; EACCES is remembered
         * and the search goes on; the first executable wins. */
        const char *path = env_path(envp);
        int seen = -ENOENT;
        for (const char *p = path;; p++) {
                const char *end = strchrnul(p, ':');
                size_t dl = (size_t)(end - p);
                _cleanup_free_ char *cand = NULL;
                if (asprintf(&cand, "%.*s%s%s", (int)dl, p, dl ? "/" : "", name) < 0)
                        return -ENOMEM;
                int r = check_candidate(cand, cwd);
                if (r == 0) {
                        *ret_path = TAKE_PTR(cand);
                        return 0;
                }
                if (r == -ENOMEM)
                        return r;
                if (r == -EACCES)
                        seen = r;
                if (!*end)
                        break;
                p = end;
        }
        return seen;
}

/* ---- the child ---- */

_Noreturn static void child_fail(ChildArgs *a, int stage, int err) {
        a->stage = stage;
        a->err = err ? err : EIO;
        a->failed = 1;
        _exit(127);
}

static int child_main(void *arg) {
        ChildArgs *a = arg;
        const SpawnParams *p = a->p;
        int r;

        /* The runner ignores SIGPIPE and blocked everything before the clone (a handler
         * running here would run on the runner's memory): default dispositions first, then
         * the clean mask the job must start with. */
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void)sigaction(s, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                child_fail(a, STAGE_SIGNALS, errno);

        if (a->attach && (r = cg_attach_self(a->attach)) < 0)
                child_fail(a, STAGE_ATTACH, -r);
        if (setsid() < 0)
                child_fail(a, STAGE_SETSID, errno);
        if (dup2(a->devnull, STDIN_FILENO) < 0 || dup2(p->stdout_fd, STDOUT_FILENO) < 0 ||
            dup2(p->stderr_fd, STDERR_FILENO) < 0)
                child_fail(a, STAGE_STDIO, errno);
        if (p->cwd && chdir(p->cwd) < 0)
                child_fail(a, STAGE_CHDIR, errno);
        if (p->set_ids) {
                /* Supplementary groups first, while still privileged. */
                if (setgroups(0, NULL) < 0)
                        child_fail(a, STAGE_SETGROUPS, errno);
                if (setresgid(p->gid, p->gid, p->gid) < 0)
                        child_fail(a, STAGE_SETGID, errno);
                if (setresuid(p->uid, p->uid, p->uid) < 0)
                        child_fail(a, STAGE_SETUID, errno);
        }
        /* If the runner dies without cleaning up, the main process goes with it; the
         * journal catches whatever escaped. After setuid since that clears it. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);

        if (!a->path)
                child_fail(a, STAGE_EXEC, a->path_errno);
        execve(a->path, p->argv, p->envp);
        if (errno == ENOEXEC) {
                /* A script without #!: what execvp does, /bin/sh reads it. The argv lives on
                 * this stack, sized for it by the parent. */
                const char *sh[a->argc + 2];
                sh[0] = "/bin/sh";
                sh[1] = a->path;
                for (size_t i = 1; i <= a->argc; i++)
                        sh[i + 1] = p->argv[i];
                execve(sh[0], (char *const *)sh, p->envp);
                errno = ENOEXEC;
        }
        child_fail(a, STAGE_EXEC, errno);
}

/* ---- clone ---- */

/* -DSPAWN_NO_TRAMPOLINE builds the portable path on x86_64 too, to test it. */
#if defined(__x86_64__) && !defined(SPAWN_NO_TRAMPOLINE)
/* long spawn_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg):
 * clone3 whose child calls fn(arg) on the stack in args and exits with its result, the
 * way glibc's internal __clone3 does (a C caller cannot return into its own frame on a
 * new stack). Returns the pid, or -errno. */
#define HAVE_SPAWN_CLONE3 1
long spawn_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);
__asm__(".pushsection .text\n" /* and back: the compiler tracks its own section */
        ".globl spawn_clone3\n"
        ".hidden spawn_clone3\n"
        ".type spawn_clone3,@function\n"
        ".p2align 4\n"
        "spawn_clone3:\n"
        "        endbr64\n"
        "        mov %rcx, %r8\n"  /* arg: r8 survives the syscall, rcx does not */
        "        mov $435, %eax\n" /* __NR_clone3 */
        "        syscall\n"
        "        test %rax, %rax\n"
        "        jz 1f\n"
        "        ret\n"
        "1:      xor %ebp, %ebp\n" /* the child: outermost frame, aligned stack */
        "        and $-16, %rsp\n"
        "        mov %r8, %rdi\n"
        "        call *%rdx\n"
        "        mov %eax, %edi\n"
        "        mov $60, %eax\n" /* __NR_exit */
        "        syscall\n"
        "        hlt\n"
        ".size spawn_clone3, .-spawn_clone3\n"
        ".popsection\n");
#endif

/* The clone itself. Returns the pid or -errno. */
static long do_clone(ChildArgs *a, void *stack, size_t stack_size, int cgfd, int *pidfd) {
        struct clone_args args = {
                .flags = CLONE_PIDFD | CLONE_VFORK | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t)(uintptr_t)pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0,
        };
#ifdef HAVE_SPAWN_CLONE3
        args.flags |= CLONE_VM;
        args.stack = (uint64_t)(uintptr_t)stack;
        args.stack_size = stack_size;
        return spawn_clone3(&args, sizeof args, child_main, a);
#else
        /* No trampoline for this architecture: a copy of our memory, as fork gives, still
         * with CLONE_VFORK so that we wake up at its exec. */
        (void)stack;
        (void)stack_size;
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0)
                _exit(child_main(a));
        return pid < 0 ? -errno : pid;
#endif
}

int spawn_job(const SpawnParams *p, SpawnResult *ret) {
        (void)fault_point("spawn");
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int devnull = -1;
        CgAttach attach = {0};
        bool have_attach = false;
        int cgfd = -EOPNOTSUPP, pidfd = -1, r;

        size_t argc = 0;
        while (p->argv[argc])
                argc++;
        int path_errno = -spawn_find_program(p->argv[0], p->envp, p->cwd, &path);
        if (path_errno == ENOMEM)
                return -ENOMEM;
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0)
                return -errno;

        /* One shared mapping: the record at its start, the child's stack above it. Kept
         * for the runner's life: spawns are one at a time (the runner waits for the vfork
         * child), and unmapping it at every job cost more than the job's exec. */
        static void *mem_cache;
        static size_t mem_cache_size;
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t size = (sizeof(ChildArgs) + SPAWN_STACK_SIZE + (argc + 2) * sizeof(char *) + page - 1) & ~(page - 1);
        if (size > mem_cache_size) {
                void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_STACK, -1, 0);
                if (m == MAP_FAILED)
                        return -errno;
                if (mem_cache)
                        munmap(mem_cache, mem_cache_size);
                mem_cache = m;
                mem_cache_size = size;
        }
        void *mem = mem_cache;
        size = mem_cache_size;
        ChildArgs *a = mem;
        *a = (ChildArgs){.p = p, .path = path, .path_errno = path_errno, .devnull = devnull, .argc = argc};
        void *stack = (char *)mem + ((sizeof(ChildArgs) + 63) & ~(size_t)63);
        size_t stack_size = size - (size_t)((char *)stack - (char *)mem);

        if (p->cgroup)
                cgfd = cg_clone_fd(p->cgroup);
        if (p->cgroup) {
                r = cg_prepare_attach(p->cgroup, cgfd >= 0, &attach);
                if (r < 0)
                        goto out;
                have_attach = true;
                a->attach = &attach;
        }

        /* No handler of ours may run in a child that shares our memory. */
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, &old);

        SpawnResult res = {.pid = -1, .pidfd = -1};
        res.start_usec = now_usec(CLOCK_MONOTONIC);
        long pid = do_clone(a, stack, stack_size, cgfd, &pidfd);
        if (pid == -ENOSYS || pid == -E2BIG) {
                /* Pre-5.7 kernels: glibc's clone() (no CLONE_INTO_CGROUP); the child joins
                 * its groups itself. */
                if (have_attach) {
                        cg_attach_done(&attach);
                        r = cg_prepare_attach(p->cgroup, false, &attach);
                        if (r < 0) {
                                have_attach = false;
                                sigprocmask(SIG_SETMASK, &old, NULL);
                                goto out;
                        }
                }
                cgfd = -1;
                pidfd = -1;
                pid = clone(child_main, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
                if (pid < 0)
                        pid = -errno;
                else
                        pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid < 0) {
                r = (int)pid;
                goto out;
        }

        /* We run again: the child has exec'd or exited. The job's clock starts at its
         * execve, not at the clone: what the child did before (attaching to v1
         * hierarchies, identity) is corun's cost, not the job's. */
        res.pid = (pid_t)pid;
        res.cloned_into_cgroup = cgfd >= 0;
        if (!a->failed) {
                res.start_usec = now_usec(CLOCK_MONOTONIC);
                if (p->cgroup)
                        (void)cg_attach_pid(p->cgroup, res.pid);
        } else {
                res.start_errno = a->err;
                res.start_stage = (a->stage >= 0 && (size_t)a->stage < ELEMENTSOF(stage_names))
                                          ? stage_names[a->stage]
                                          : "setup";
                (void)waitpid(res.pid, NULL, 0);
                if (pidfd >= 0)
                        close(pidfd);
                pidfd = -1;
        }
        res.pidfd = pidfd;
        *ret = res;
        r = 0;
out:
        if (have_attach)
                cg_attach_done(&attach);
        return r;
}

void spawn_child_default_signals(void) {
        sigset_t none;
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)signal(SIGPIPE, SIG_DFL);
}
