/* SPDX-License-Identifier: MIT */
/* Slurm's own commands, run as a user would: sbatch to submit, squeue to follow, sacct
 * (or scontrol, on clusters without accounting) for the final state, scancel to stop.
 * Their command-line interface is Slurm's stable API; linking libslurm is not. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurm/slurm.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/macros.h"

extern char **environ;

int slurm_command(char *const argv[], char **ret_out, bool quiet) {
        int fds[2] = {-1, -1};
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int rfd = fds[0];
        _cleanup_close_ int wfd = fds[1];
        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        /* dup2 clears O_CLOEXEC on the child's stdout; every other fd stays closed. */
        r = posix_spawn_file_actions_adddup2(&fa, wfd, STDOUT_FILENO);
        if (r == 0 && quiet)
                r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        if (r == 0)
                r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        closep(&wfd);
        wfd = -1;
        _cleanup_free_ char *out = NULL;
        size_t len;
        int rr = read_full_fd(rfd, 1u << 20, &out, &len);
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (rr < 0)
                return rr;
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int slurm_submit(const char *script, const char *partition, const char *account, const char *results_dir,
                 char **ret_job_id, char **ret_error) {
        _cleanup_free_ char *p = NULL, *a = NULL, *o = NULL, *e = NULL, *out = NULL;
        if ((partition && asprintf(&p, "--partition=%s", partition) < 0) ||
            (account && asprintf(&a, "--account=%s", account) < 0) ||
            asprintf(&o, "--output=%s/slurm-%%j.out", results_dir) < 0 ||
            asprintf(&e, "--export=ALL,CORUN_RESULTS=%s", results_dir) < 0)
                return -ENOMEM;
        char *argv[8];
        size_t n = 0;
        argv[n++] = (char *)"sbatch";
        argv[n++] = (char *)"--parsable";
        argv[n++] = o;
        argv[n++] = e;
        if (p)
                argv[n++] = p;
        if (a)
                argv[n++] = a;
        argv[n++] = (char *)script;
        argv[n] = NULL;
        int r = slurm_command(argv, &out, false);
        if (r < 0)
                return error_setf(ret_error, r, "cannot run sbatch: %s (is Slurm installed and in PATH?)",
                                  strerror(-r));
        if (r != 0)
                return error_setf(ret_error, -EIO, "sbatch refused the job (exit %d); its message is above",
                                  r);
        /* --parsable prints "jobid" or "jobid;cluster". */
        out[strcspn(out, ";\n")] = '\0';
        if (isempty(out))
                return error_setf(ret_error, -EIO, "sbatch printed no job id");
        *ret_job_id = TAKE_PTR(out);
        return 0;
}

int slurm_poll(const char *job_id, bool *ret_active, char **ret_state) {
        _cleanup_free_ char *out = NULL;
        /* %T state, %N nodes; array tasks show as one line each (and one for the rest). */
        char *argv[] = {(char *)"squeue", (char *)"-h",    (char *)"-j", (char *)job_id,
                        (char *)"-o",     (char *)"%T %N", NULL};
        int r = slurm_command(argv, &out, true);
        if (r < 0)
                return r;
        /* squeue fails when the controller cannot be reached (a restart, a busy moment)
         * and when it has purged the job (MinJobAge after the end): the caller retries
         * and decides. A job it knows that has ended prints nothing. */
        if (r != 0)
                return -EAGAIN;
        out[strcspn(out, "\n")] = '\0';
        size_t len = strlen(out);
        while (len && out[len - 1] == ' ')
                out[--len] = '\0';
        *ret_active = !isempty(out);
        if (ret_state)
                *ret_state = *ret_active ? TAKE_PTR(out) : NULL;
        return 0;
}

char *slurm_final_state(const char *job_id) {
        _cleanup_free_ char *out = NULL;
        char *sacct[] = {(char *)"sacct", (char *)"-n", (char *)"-X",    (char *)"-P", (char *)"-j",
                         (char *)job_id,  (char *)"-o", (char *)"State", NULL};
        if (slurm_command(sacct, &out, true) == 0 && !isempty(out)) {
                out[strcspn(out, " \n")] = '\0';
                return TAKE_PTR(out);
        }
        free(out);
        out = NULL;
        /* No accounting: the controller still knows the job for MinJobAge seconds. */
        char *sc[] = {(char *)"scontrol", (char *)"-o", (char *)"show", (char *)"job", (char *)job_id, NULL};
        if (slurm_command(sc, &out, true) != 0 || !out)
                return NULL;
        char *s = strstr(out, "JobState=");
        if (!s)
                return NULL;
        s += strlen("JobState=");
        s[strcspn(s, " \n")] = '\0';
        return strdup(s);
}

int slurm_cancel(const char *job_id) {
        char *argv[] = {(char *)"scancel", (char *)job_id, NULL};
        int r = slurm_command(argv, NULL, false);
        return r < 0 ? r : r == 0 ? 0 : -EIO;
}
