/* SPDX-License-Identifier: MIT */
/* hooks.c: commands around the measured runs, with hyperfine's meanings: setup before
 * the first run (of the whole plan, or of a scenario), prepare before each run, conclude
 * after each, cleanup after the last; and the preflight canary before anything. All of
 * them start through shell_run: /bin/sh -c outside any partition, in corun's process
 * group (a Ctrl-C reaches them), with an environment built in the parent. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/error.h"
#include "util/fileio.h"

extern char **environ;

/* What a failed preflight shows of its output. */
#define PREFLIGHT_OUTPUT_MAX 8192

/* Runs /bin/sh -c CMD with stdin from /dev/null, stdout and stderr to out_fd, and waits
 * for it. 0 and *ret_status (its wait status), or a negative errno when no process
 * could be created. */
static int shell_run(const char *cmd, int out_fd, char **envp, int *ret_status) {
        char *argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                spawn_child_default_signals();
                int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (devnull >= 0)
                        dup2(devnull, STDIN_FILENO);
                dup2(out_fd, STDOUT_FILENO);
                dup2(out_fd, STDERR_FILENO);
                execve("/bin/sh", argv, envp);
                _exit(127);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_status = st;
        return 0;
}

int exec_preflight(const char *cmd, int *ret_status, char **ret_output) {
        _cleanup_close_ int fd = memfd_create("corun-preflight", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int st = 0;
        int r = shell_run(cmd, fd, environ, &st);
        if (r < 0)
                return r;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        _cleanup_free_ char *out = malloc(PREFLIGHT_OUTPUT_MAX);
        if (!out)
                return -ENOMEM;
        ssize_t n = pread(fd, out, PREFLIGHT_OUTPUT_MAX - 1, 0);
        out[n > 0 ? n : 0] = '\0';
        *ret_status = st;
        *ret_output = TAKE_PTR(out);
        return -ECANCELED;
}

/* Output appended to logs/hooks.log; a failing setup or prepare stops the run (nothing
 * measured would be valid), a failing conclude or cleanup is a warning. */
static int run_hook(Runner *R, const char *which, const char *cmd, const PlanRun *run) {
        if (isempty(cmd))
                return 0;
        _cleanup_free_ char *log = NULL, *dir = NULL;
        if (asprintf(&dir, "%s/logs", R->o->results_dir) < 0 || asprintf(&log, "%s/hooks.log", dir) < 0)
                return -ENOMEM;
        (void)mkdir_p(dir, 0755);
        _cleanup_close_ int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return error_setf(&R->error, -errno, "cannot open %s: %m", log);
        char **envp = NULL;
        int r = job_setup_hook_env(environ, R->o->run_id, R->o->results_dir, run, &envp);
        if (r < 0)
                return r;
        dprintf(fd, "== %s%s%s: %s\n", which, run ? " " : "", run ? run->label : "", cmd);
        int st = 0;
        r = shell_run(cmd, fd, envp, &st);
        job_setup_strv_free(envp);
        if (r < 0)
                return error_setf(&R->error, r, "%s hook '%s' could not be started: %s", which, cmd,
                                  strerror(-r));
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        bool fatal = streq(which, "setup") || streq(which, "prepare");
        if (!fatal) {
                exec_warn(R, "%s hook '%s' failed (status %d); see %s", which, cmd, st, log);
                return 0;
        }
        return error_setf(&R->error, -ECANCELED,
                          "%s hook '%s' failed (%s %d); nothing more was started; its output is in %s",
                          which, cmd, WIFEXITED(st) ? "exit" : "signal",
                          WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log);
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
        r = exec_run_one(R, i, run);
        if (r < 0)
                return r;
        if (sh)
                (void)run_hook(R, "conclude", sh->conclude, run);
        (void)run_hook(R, "conclude", gh->conclude, run);
        if (sh && scenario_edge(R->plan, i, false))
                (void)run_hook(R, "cleanup", sh->cleanup, run);
        return 0;
}

/* Every run of the plan between the plan's setup and cleanup hooks; stops at the first
 * interrupt or runner error. */
int hooks_run_plan(Runner *R) {
        int r = run_hook(R, "setup", R->o->spec->hooks.setup, NULL);
        for (size_t i = 0; r >= 0 && i < R->plan->n_runs && R->interrupts == 0; i++)
                r = run_with_hooks(R, i);
        if (r >= 0)
                (void)run_hook(R, "cleanup", R->o->spec->hooks.cleanup, NULL);
        return r;
}
