/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/csv.h"
#include "gpu/clocks.h"
#include "report/slowdown.h"
#include "util/macros.h"

static const char *const fixed_columns[] = {
        "scenario",  "repetition", "solo",           "replicas",     "params", "job",
        "base_name", "reason",     "exit_code",      "signal",       "wall_s", "user_s",
        "sys_s",     "peak_bytes", "pss_peak_bytes", "memory_limit", "cpus",   "slowdown",
        "priority",  "frozen_s",   "gpus",           "gpu_sm_share", "gpu_memory_peak_bytes",
        "warmup",    "solo_for",   "gpu_share_requested", "gpu_share_applied", "gpu_mechanism",
        "gpu_throttled_s", "gpu_memory_limit_bytes", "gpu_sm_clock_mhz", "gpu_clock_events",
};

static void put_str(FILE *f, const char *s) {
        if (!s)
                return;
        if (!strpbrk(s, ",\"\r\n")) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

static void put_double(FILE *f, double v) {
        if (isfinite(v))
                fprintf(f, "%.6f", v);
}

/* UINT64_MAX is "no limit" / unknown in the model: an empty field. */
static void put_u64(FILE *f, uint64_t v) {
        if (v != UINT64_MAX)
                fprintf(f, "%" PRIu64, v);
}

/* The phase names in order of first appearance (borrowed from r). */
static int phase_names(const Result *r, const char ***ret, size_t *ret_n) {
        const char **names = NULL;
        size_t n = 0;
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t j = 0; j < r->runs[i].n_jobs; j++) {
                        const JobResult *job = &r->runs[i].jobs[j];
                        for (size_t p = 0; p < job->n_phases; p++) {
                                const char *name = job->phases[p].name;
                                bool seen = !name;
                                for (size_t q = 0; q < n && !seen; q++)
                                        seen = streq(names[q], name);
                                if (seen)
                                        continue;
                                const char **g = realloc(names, (n + 1) * sizeof *g);
                                if (!g) {
                                        free(names);
                                        return -ENOMEM;
                                }
                                names = g;
                                names[n++] = name;
                        }
                }
        *ret = names;
        *ret_n = n;
        return 0;
}

/* The next field of a row: the separator, then the value. */
static void col_str(FILE *f, const char *s) {
        fputc(',', f);
        put_str(f, s);
}
static void col_double(FILE *f, double v) {
        fputc(',', f);
        put_double(f, v);
}
static void col_u64(FILE *f, uint64_t v) {
        fputc(',', f);
        put_u64(f, v);
}

static bool job_ok(const JobResult *j) {
        return j->reason == REASON_EXIT && j->exit_code == 0 && isfinite(j->wall_s);
}

/* This instance's time over the median solo time of its job (the whole job, or one
 * phase): empty for baselines, failed instances and jobs without a baseline. */
static void col_slowdown(FILE *f, const JobSeries *s, size_t n, const RunResult *run, const JobResult *j,
                         const char *phase) {
        double t = NAN, solo;
        fputc(',', f);
        if (run->solo || !job_ok(j))
                return;
        if (!phase)
                t = j->wall_s;
        else if (!report_phase_time(j, phase, &t))
                return;
        if (report_solo_median(s, n, run, j, phase, &solo))
                put_double(f, t / solo);
}

/* GPU limits, summed over the job's GPUs as gpu_sm_share is (in GPUs); every field empty
 * for a job without limits, the share fields for one with only a memory limit. */
static void put_gpu_limits(FILE *f, const JobResult *j) {
        double requested = 0, applied = 0, throttled = 0;
        uint64_t memory = 0;
        const char *mechanism = NULL;
        bool limited = false;
        for (size_t g = 0; g < j->n_gpus; g++) {
                const JobGpuResult *x = &j->gpus[g];
                if (!x->limited)
                        continue;
                limited = true;
                if (x->share_requested > 0) {
                        requested += x->share_requested;
                        applied += x->share_applied;
                        mechanism = mechanism ?: x->mechanism;
                }
                throttled += x->throttled_s;
                memory += x->memory_limit_bytes;
        }
        if (!limited) {
                fputs(",,,,,", f);
                return;
        }
        if (requested > 0) {
                col_double(f, requested);
                col_double(f, applied);
        } else
                fputs(",,", f);
        col_str(f, mechanism);
        col_double(f, throttled);
        fputc(',', f);
        if (memory)
                put_u64(f, memory);
}

/* The job's GPUs' SM clock while it ran (mean over the polls of all of them; empty when
 * NVML gave none) and the clock event reasons seen ("sw_power_cap|hw_slowdown"). */
static void put_gpu_clocks(FILE *f, const JobResult *j) {
        double sum = 0;
        unsigned polls = 0;
        uint64_t events = 0;
        for (size_t g = 0; g < j->n_gpus; g++) {
                sum += j->gpus[g].sm_clock_mean_mhz * j->gpus[g].clock_polls;
                polls += j->gpus[g].clock_polls;
                events |= j->gpus[g].clock_events;
        }
        fputc(',', f);
        if (polls)
                put_double(f, sum / polls);
        char names[512];
        col_str(f, gpu_clock_event_list(events, '|', names, sizeof names));
}

static void put_row(FILE *f, const RunResult *run, const JobResult *j, const char **phases, size_t n_phases,
                    const JobSeries *s, size_t n_series) {
        put_str(f, run->scenario);
        fprintf(f, ",%u,%s,%u", run->repetition, run->solo ? "true" : "false", run->replicas);
        col_str(f, run->params);
        col_str(f, j->name);
        col_str(f, j->base_name);
        col_str(f, job_reason_to_string(j->reason));
        fputc(',', f);
        if (j->exit_code >= 0)
                fprintf(f, "%d", j->exit_code);
        fputc(',', f);
        if (j->signal > 0)
                fprintf(f, "%d", j->signal);
        col_double(f, j->wall_s);
        col_double(f, j->user_s);
        col_double(f, j->sys_s);
        col_u64(f, j->peak_bytes);
        col_u64(f, j->pss_peak_bytes);
        col_u64(f, j->applied_memory_bytes);
        col_str(f, j->applied_cpus);
        col_slowdown(f, s, n_series, run, j, NULL);
        col_str(f, j->priority);
        col_double(f, j->frozen_s);
        /* GPUs: NVML indexes ("0;2"), the SM share summed over them (in GPUs: 0.25 is a
         * quarter of one GPU) and their memory peaks summed; empty for jobs without GPUs. */
        fputc(',', f);
        double share = 0;
        uint64_t mem = 0;
        for (size_t g = 0; g < j->n_gpus; g++) {
                fprintf(f, "%s%u", g ? ";" : "", j->gpus[g].index);
                share += j->gpus[g].sm_share_mean;
                mem += j->gpus[g].memory_peak_bytes;
        }
        if (j->n_gpus) {
                col_double(f, share);
                col_u64(f, mem);
        } else
                fputs(",,", f);
        fputs(run->warmup ? ",true" : ",false", f);
        col_str(f, run->solo ? run->solo_for : NULL);
        put_gpu_limits(f, j);
        put_gpu_clocks(f, j);
        for (size_t p = 0; p < n_phases; p++) {
                double t;
                fputc(',', f);
                /* A phase that never ended has no wall time worth a number. */
                if (report_phase_time(j, phases[p], &t))
                        put_double(f, t);
        }
        for (size_t p = 0; p < n_phases; p++)
                col_slowdown(f, s, n_series, run, j, phases[p]);
        fputc('\n', f);
}

int report_csv(const Result *r, FILE *f) {
        _cleanup_free_ const char **phases = NULL;
        JobSeries *s = NULL;
        size_t n_phases = 0, n_series = 0;
        int k = phase_names(r, &phases, &n_phases);
        if (k >= 0)
                k = report_job_series(r, &s, &n_series);
        if (k < 0)
                return k;
        for (size_t i = 0; i < ELEMENTSOF(fixed_columns); i++)
                fprintf(f, "%s%s", i > 0 ? "," : "", fixed_columns[i]);
        /* phase:NAME for every phase, then slowdown:NAME for every phase. */
        for (size_t p = 0; p < 2 * n_phases && k >= 0; p++) {
                _cleanup_free_ char *col = NULL;
                if (asprintf(&col, "%s:%s", p < n_phases ? "phase" : "slowdown", phases[p % n_phases]) < 0) {
                        k = -ENOMEM;
                        break;
                }
                col_str(f, col);
        }
        fputc('\n', f);
        for (size_t i = 0; i < r->n_runs && k >= 0; i++)
                for (size_t j = 0; j < r->runs[i].n_jobs; j++)
                        put_row(f, &r->runs[i], &r->runs[i].jobs[j], phases, n_phases, s, n_series);
        report_job_series_free(s, n_series);
        if (k < 0)
                return k;
        return ferror(f) ? -EIO : 0;
}
