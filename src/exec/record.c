/* SPDX-License-Identifier: MIT */
/* record.c: a finished job's JobResult (requested vs applied partition, times, memory,
 * events, pressure, phases, metrics, the termination reason), and result.json rewrites
 * paced so that they never dominate the runner's time. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exec/exec-internal.h"
#include "util/cpuset.h"

static const char *request_text(const CpuRequest *c, char *buf, size_t n) {
        char set[256];
        switch (c->kind) {
        case CPUS_COUNT:
                snprintf(buf, n, "%u", c->count);
                break;
        case CPUS_LIST:
                cpuset_format(&c->set, set, sizeof set);
                snprintf(buf, n, "%s", set);
                break;
        case CPUS_SHARED:
                cpuset_format(&c->set, set, sizeof set);
                snprintf(buf, n, "shared:%s", set);
                break;
        case CPUS_ALL:
                snprintf(buf, n, "all");
                break;
        default:
                snprintf(buf, n, "1");
        }
        return buf;
}

/* result.json is rewritten after finished jobs, at most every RESULT_WRITE_MIN_USEC, and
 * never more often than RESULT_WRITE_COST_FACTOR times the last rewrite took:
 * serialising the whole result after each of thousands of short jobs cost more than
 * running them, and a result of thousands of jobs takes milliseconds to write, so the
 * rewrites stay under 1/RESULT_WRITE_COST_FACTOR of the runner's time however large the
 * result grows. A skipped rewrite happens at a later sample tick or at the run's end;
 * readers always see a complete file (rename). Each rewrite serialises only the jobs
 * finished since the last one (result_write_cached keeps the text of the others). */
#define RESULT_WRITE_MIN_USEC (200 * USEC_PER_MSEC)
#define RESULT_WRITE_COST_FACTOR 20
void record_flush(Runner *R, bool force) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        uint64_t gap = MAX(RESULT_WRITE_MIN_USEC, RESULT_WRITE_COST_FACTOR * R->last_write_cost_usec);
        if (!R->result_dirty || (!force && now - R->last_write_usec < gap))
                return;
        int r = result_write_cached(R->result, R->o->results_dir, R->write_cache);
        if (r < 0) {
                exec_warn(R, "cannot write %s/result.json: %s", R->o->results_dir, strerror(-r));
                exec_write_failed(R);
        }
        uint64_t done = now_usec(CLOCK_MONOTONIC);
        R->last_write_cost_usec = done - now;
        R->last_write_usec = done;
        R->result_dirty = false;
}

/* The JobResult of a finished (or never started) job: what was asked and applied, how it
 * ended and why, what it used, its phases and metrics. */
void record_job(Runner *R, Job *j, int wait_status, const struct rusage *ru, JobResult *ret) {
        JobResult res;
        CgStats st = {0};
        bool have_stats = false;
        char buf[1024];

        job_result_init(&res);
        res.name = strdup(j->pj->name);
        res.base_name = strdup(j->pj->spec->name);
        res.command = strdup(j->pj->spec->command_text ? j->pj->spec->command_text : j->pj->argv[0]);
        res.priority = strdup(priority_to_string(j->pj->limits.priority));
        res.req_cpus = strdup(request_text(&j->pj->limits.cpus, buf, sizeof buf));
        res.req_memory_bytes = j->pj->limits.memory_max;
        exec_gpu_record(R, j, &res);
        res.applied_cpus = cpuset_to_string(&j->applied.cpus);
        res.applied_mems = cpuset_to_string(&j->applied.mems);
        res.applied_memory_bytes = j->applied.memory_max;
        res.applied_swap_bytes = j->applied.swap_max;
        res.applied_pids_max = j->applied.pids_max;
        res.memory_enforced = j->applied.memory_enforced;
        res.applied_memory_high_bytes = j->applied.memory_high;
        res.applied_memory_low_bytes = j->applied.memory_low;
        res.applied_cpu_weight = j->applied.cpu_weight ? j->applied.cpu_weight : LIMIT_MAX;
        if (R->prot) {
                const ProtectJob *p = &R->prot[j->index];
                res.memory_high_emulated = p->memory_high != UINT64_MAX;
                if (res.memory_high_emulated)
                        res.applied_memory_high_bytes = p->memory_high;
                res.frozen_s = (double)p->frozen_total_usec / USEC_PER_SEC;
                res.freezes = p->n_freezes;
        }
        if (j->cg)
                res.cgroup = strdup(cg_path(j->cg));
        /* Only the logs that exist: a stream the job never wrote to has none (null). */
        if (j->setup.log_prefix && j->log_out >= 0)
                res.log_stdout = strdup(j->setup.log_stdout_rel);
        if (j->setup.log_prefix && j->log_err >= 0)
                res.log_stderr = strdup(j->setup.log_stderr_rel);
        res.started_s = exec_since(R, j->sp.start_usec);

        if (j->sp.start_errno) {
                res.reason = REASON_FAILED_TO_START;
                res.start_errno = j->sp.start_errno;
                /* What the failed stage worked on: the working directory for chdir (a
                 * missing cwd: is not the program's fault), else the program. */
                const char *stage = j->sp.start_stage ? j->sp.start_stage : "setup";
                bool on_cwd = streq(stage, "chdir") && j->pj->spec->cwd;
                snprintf(buf, sizeof buf, "%s %s: %s%s", stage, on_cwd ? j->pj->spec->cwd : j->pj->argv[0],
                         strerror(j->sp.start_errno), on_cwd ? " (the job's cwd)" : "");
                res.start_error = strdup(buf);
                res.ended_s = res.started_s;
        } else {
                have_stats = j->cg && cg_read_stats(j->cg, &st) >= 0;
                res.wall_s = (double)(j->end_usec - j->sp.start_usec) / USEC_PER_SEC;
                res.ended_s = exec_since(R, j->end_usec);
                res.wait4_user_s = (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6;
                res.wait4_sys_s = (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
                if (st.cpu_usage_usec || st.cpu_user_usec) {
                        res.user_s = (double)st.cpu_user_usec / USEC_PER_SEC;
                        res.sys_s = (double)st.cpu_system_usec / USEC_PER_SEC;
                } else {
                        res.user_s = res.wait4_user_s;
                        res.sys_s = res.wait4_sys_s;
                }
                res.vol_ctxsw = (uint64_t)ru->ru_nvcsw;
                res.invol_ctxsw = (uint64_t)ru->ru_nivcsw;
                res.peak_bytes = st.memory_peak;
                res.rss_peak_bytes = MAX(j->rss_peak, (uint64_t)ru->ru_maxrss * 1024);
                res.pss_peak_bytes = j->pss_peak;
                res.pss_mean_bytes = j->n_samples ? j->pss_sum / j->n_samples : 0;
                res.ev_low = st.events_low;
                res.ev_high = st.events_high;
                res.ev_max = st.events_max;
                res.ev_oom = st.events_oom;
                res.ev_oom_kill = st.events_oom_kill;
                res.pids_peak = j->pids_peak;
                res.forks_refused = st.pids_events_max;
                res.has_psi = st.has_psi;
                res.psi_cpu_some_s = (double)st.psi_cpu_some_usec / USEC_PER_SEC;
                res.psi_mem_some_s = (double)st.psi_mem_some_usec / USEC_PER_SEC;
                res.psi_mem_full_s = (double)st.psi_mem_full_usec / USEC_PER_SEC;
                res.psi_io_some_s = (double)st.psi_io_some_usec / USEC_PER_SEC;
                res.psi_io_full_s = (double)st.psi_io_full_usec / USEC_PER_SEC;
                if (WIFEXITED(wait_status)) {
                        res.exit_code = WEXITSTATUS(wait_status);
                        res.signal = 0;
                } else if (WIFSIGNALED(wait_status)) {
                        res.exit_code = -1;
                        res.signal = WTERMSIG(wait_status);
                }
                /* Classification: what corun did to the job wins over how it ended. */
                if (j->stop == STOP_TIMEOUT) {
                        res.reason = REASON_TIMEOUT;
                        res.limit = strdup("wall");
                } else if (j->stop == STOP_CPU) {
                        res.reason = REASON_CPU_TIMEOUT;
                        res.limit = strdup("cpu");
                } else if (j->stop == STOP_INTERRUPT) {
                        res.reason = REASON_INTERRUPTED;
                } else if (j->stop == STOP_GPU_OOM) {
                        res.reason = REASON_GPU_OOM;
                        res.limit = strdup("gpu-memory");
                } else if (st.events_oom_kill > 0 && (res.signal == SIGKILL || res.exit_code != 0)) {
                        res.reason = REASON_OOM;
                } else if (res.signal) {
                        res.reason = REASON_KILLED;
                } else {
                        res.reason = REASON_EXIT;
                }
        }
        res.log_truncated = j->log_truncated;
        /* Escaped: processes found outside every group at the job's end (escape.c), or the
         * main process's CPU time (wait4: it and the children it waited for) above the
         * group's by more than scheduler accounting can explain (10 ms and 2 %): it
         * ran outside the group. */
        res.escaped = j->escaped;
        res.leftovers_killed = j->leftovers_killed;
        for (unsigned i = 0; i < j->n_escaped_pids; i++)
                res.escaped_pids[res.n_escaped_pids++] = j->escaped_pids[i];
        if (!j->sp.start_errno && have_stats) {
                double group_s = (double)st.cpu_usage_usec / USEC_PER_SEC;
                double wait4_s = res.wait4_user_s + res.wait4_sys_s;
                if (wait4_s > group_s * 1.02 + 0.010)
                        res.escaped = true;
        }
        if (j->n_samples && j->setup.samples_rel)
                res.samples_csv = strdup(j->setup.samples_rel);

        if (j->mk && !j->sp.start_errno) {
                (void)marker_engine_finish(j->mk, j->sp.start_usec, j->end_usec, st.cpu_usage_usec, &res);
                uint64_t n_read = 0, n_bad = 0;
                const char *sample = NULL;
                marker_engine_timestamps(j->mk, &n_read, &n_bad, &sample);
                if (j->pj->spec->timestamp.regex && n_read == 0)
                        exec_warn(
                                R,
                                "job '%s': no line's timestamp could be read%s%s%s; its phases are timed by "
                                "when lines arrived",
                                j->pj->name, sample ? " (the format does not read '" : "", sample ?: "",
                                sample ? "')" : "");
        }
        job_container_record(R, j, &res);
        *ret = res;
}
