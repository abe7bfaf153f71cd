/* SPDX-License-Identifier: MIT */
/* output.c: a job's stdout and stderr pipes. Whatever arrives is appended to its log file
 * and, when the job has phases or metrics, split into lines for the marker engine; the
 * pipes are drained once the job's group is empty. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "util/fileio.h"
#include "util/macros.h"

static uint64_t marker_cpu(void *userdata) {
        return deadline_job_cpu_usec(userdata);
}

/* Each whole line of stdout or stderr, as it arrives: phase boundaries and metrics. */
static void job_on_line(const char *line, size_t len, void *userdata) {
        Job *j = userdata;
        char change[160];
        if (marker_engine_feed(j->mk, line, len, j->line_usec, marker_cpu, j, change, sizeof change) > 0) {
                ExecJobView v;
                job_view(j->R, j, NULL, &v);
                exec_emit(j->R, EXEC_EVENT_JOB_PHASE, j->run, j->run_index, &v, change);
        }
}

/* The log file of one stream, made at the job's first write to it: most short jobs
 * write nothing, and two files (and their directory) per job were a good part of a
 * short job's cost. A log that cannot be made is warned about once; the output is
 * still read (and fed to the markers) so that the job never blocks on a full pipe. */
static int job_log_fd(Runner *R, Job *j, bool is_err) {
        int *log = is_err ? &j->log_err : &j->log_out;
        bool *tried = is_err ? &j->log_err_tried : &j->log_out_tried;
        const char *path = is_err ? j->setup.log_stderr : j->setup.log_stdout;
        if (*log >= 0 || *tried || !path || !j->setup.log_dir)
                return *log;
        *tried = true;
        if (!R->log_dir_made || !streq(R->log_dir_made, j->setup.log_dir)) {
                int r = mkdir_p(j->setup.log_dir, 0755);
                if (r < 0) {
                        exec_warn(R, "cannot create %s: %s", j->setup.log_dir, strerror(-r));
                        return -1;
                }
                free(R->log_dir_made);
                R->log_dir_made = strdup(j->setup.log_dir); /* NULL: made again next time */
        }
        *log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (*log < 0) {
                exec_warn(R, "job '%s': cannot create log %s: %m", j->pj->name, path);
                j->log_truncated = true;
                exec_write_failed(R);
        }
        return *log;
}

/* Reads until the pipe is empty for now (or closed: then it is closed here too). */
static void job_read_output(Runner *R, Job *j, bool is_err) {
        int *fd = is_err ? &j->err_fd : &j->out_fd;
        char buf[EXEC_OUTPUT_CHUNK];
        for (;;) {
                ssize_t n = read(*fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return;
                if (n == 0) {
                        loop_del(R, fd);
                        return;
                }
                if (is_err && (j->err_tail || (j->err_tail = malloc(EXEC_STDERR_TAIL))))
                        for (ssize_t i = MAX((ssize_t)0, n - (ssize_t)EXEC_STDERR_TAIL); i < n; i++)
                                j->err_tail[j->err_tail_len++ % EXEC_STDERR_TAIL] = buf[i];
                /* A full disk must not stop the job's output from being read. */
                int log = job_log_fd(R, j, is_err);
                bool *failed = is_err ? &j->log_err_failed : &j->log_out_failed;
                if (log >= 0 && !*failed) {
                        int w = write_all(log, buf, (size_t)n);
                        if (w < 0) {
                                /* A full disk: the log ends here, said once, and the job is
                                 * marked (issue 14 item 2); the output is still read. */
                                off_t at = lseek(log, 0, SEEK_CUR);
                                exec_warn(R, "job '%s': log %s cut at %lld bytes: %s", j->pj->name,
                                          is_err ? j->setup.log_stderr : j->setup.log_stdout,
                                          (long long)(at < 0 ? 0 : at), strerror(-w));
                                *failed = true;
                                j->log_truncated = true;
                                exec_write_failed(R);
                        }
                }
                /* --show-output: hyperfine's meaning, the output as the job wrote it */
                if (R->o->show_output)
                        (void)write_all(is_err ? STDERR_FILENO : STDOUT_FILENO, buf, (size_t)n);
                if (j->mk) {
                        j->line_usec = now_usec(CLOCK_MONOTONIC);
                        (void)line_splitter_feed(is_err ? &j->ls_err : &j->ls_out, buf, (size_t)n,
                                                 job_on_line, j);
                }
        }
}

void output_on_stdout(Runner *R, Job *j) {
        if (j->state == JOB_RUNNING)
                job_read_output(R, j, false);
}

void output_on_stderr(Runner *R, Job *j) {
        if (j->state == JOB_RUNNING)
                job_read_output(R, j, true);
}

/* After the group is empty every writer is gone; bounded in case a process escaped
 * (none backend). */
void output_drain(Runner *R, Job *j) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + EXEC_DRAIN_MAX_USEC;
        while ((j->out_fd >= 0 || j->err_fd >= 0) && now_usec(CLOCK_MONOTONIC) < until) {
                struct pollfd p[2] = {{.fd = j->out_fd, .events = POLLIN},
                                      {.fd = j->err_fd, .events = POLLIN}};
                if (poll(p, 2, EXEC_DRAIN_POLL_MSEC) < 0 && errno != EINTR)
                        break;
                if (j->out_fd >= 0 && p[0].revents)
                        job_read_output(R, j, false);
                if (j->err_fd >= 0 && p[1].revents)
                        job_read_output(R, j, true);
        }
        loop_del(R, &j->out_fd);
        loop_del(R, &j->err_fd);
        if (j->mk) {
                /* A last line without its newline still counts. */
                j->line_usec = now_usec(CLOCK_MONOTONIC);
                line_splitter_flush(&j->ls_out, job_on_line, j);
                line_splitter_flush(&j->ls_err, job_on_line, j);
        }
}
