/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/gpu-limit.h"
#include "report/slowdown.h"
#include "report/summary.h"
#include "stats/stats.h"
#include "util/cpuset.h"
#include "util/macros.h"
#include "util/parse.h"

typedef enum Column {
        COL_SCENARIO,
        COL_REP,
        COL_JOB,
        COL_REASON,
        COL_EXIT,
        COL_WALL,
        COL_CPU,
        COL_CPU_PCT,
        COL_MEMORY,
        COL_PSS,
        _COL_MAX,
} Column;

static const struct {
        const char *title;
        bool right; /* numbers align right */
} columns[_COL_MAX] = {
        [COL_SCENARIO] = {"scenario", false},
        [COL_REP] = {"rep", true},
        [COL_JOB] = {"job", false},
        [COL_REASON] = {"reason", false},
        [COL_EXIT] = {"exit", true},
        [COL_WALL] = {"wall", true},
        [COL_CPU] = {"cpu", true},
        [COL_CPU_PCT] = {"cpu%", true},
        [COL_MEMORY] = {"memory peak / limit", true},
        [COL_PSS] = {"pss peak", true},
};

typedef struct Row {
        char *cell[_COL_MAX];
        bool failed;
} Row;

typedef struct Table {
        Row *rows;
        size_t n_rows;
} Table;

static void table_done(Table *t) {
        for (size_t i = 0; i < t->n_rows; i++)
                for (size_t c = 0; c < _COL_MAX; c++)
                        free(t->rows[i].cell[c]);
        free(t->rows);
}

static bool job_ok(const JobResult *j) {
        return j->reason == REASON_EXIT && j->exit_code == 0;
}

static int cellf(Row *row, Column c, const char *fmt, ...) _printf_(3, 4);
static int cellf(Row *row, Column c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int k = vasprintf(&row->cell[c], fmt, ap);
        va_end(ap);
        if (k < 0) {
                row->cell[c] = NULL;
                return -ENOMEM;
        }
        return 0;
}

static const char *reason_text(const JobResult *j) {
        if (j->reason == REASON_CPU_TIMEOUT ||
            (j->reason == REASON_TIMEOUT && j->limit && streq(j->limit, "cpu")))
                return "timeout (cpu)";
        return job_reason_to_string(j->reason) ?: "?";
}

static int exit_cell(Row *row, const JobResult *j) {
        if (j->signal > 0) {
                const char *abbrev = sigabbrev_np(j->signal);
                return abbrev ? cellf(row, COL_EXIT, "SIG%s", abbrev)
                              : cellf(row, COL_EXIT, "signal %d", j->signal);
        }
        if (j->exit_code >= 0)
                return cellf(row, COL_EXIT, "%d", j->exit_code);
        return cellf(row, COL_EXIT, "-");
}

/* CPU use as a share of the cores the job was given, so 100% means "kept every one of its
 * cores busy" whatever their number; "-" when the applied set is unknown. */
static int cpu_pct_cell(Row *row, const JobResult *j) {
        CpuSet cpus;
        unsigned n = 0;
        if (j->applied_cpus && cpuset_parse(j->applied_cpus, &cpus, NULL) >= 0)
                n = cpuset_count(&cpus);
        if (n == 0 || !(j->wall_s > 0))
                return cellf(row, COL_CPU_PCT, "-");
        /* A job of a few milliseconds can show more CPU than wall × cores: its group's CPU
         * time counts from the moment the child joined it (before exec), its wall time from
         * exec, and the accounting has its own granularity. Never more than every core
         * busy: "~100%" says it was capped (docs/report.md). */
        double pct = (j->user_s + j->sys_s) / (j->wall_s * n) * 100;
        if (pct > 100.5)
                return cellf(row, COL_CPU_PCT, "~100%%");
        return cellf(row, COL_CPU_PCT, "%.0f%%", pct);
}

static uint64_t usec_of(double s) {
        return s > 0 ? (uint64_t)(s * USEC_PER_SEC + 0.5) : 0;
}

static int memory_cell(Row *row, const JobResult *j) {
        char peak[FORMAT_SIZE_MAX], limit[FORMAT_SIZE_MAX];
        /* Without a memory cgroup (backend none) the best peak there is is the RSS. */
        uint64_t p = j->peak_bytes ?: j->rss_peak_bytes;
        uint64_t l = j->applied_memory_bytes;
        if (p == 0)
                return l == LIMIT_MAX
                               ? cellf(row, COL_MEMORY, "-")
                               : cellf(row, COL_MEMORY, "- / %s", format_size(limit, sizeof limit, l));
        format_size(peak, sizeof peak, p);
        if (l == LIMIT_MAX)
                return cellf(row, COL_MEMORY, "%s", peak);
        return cellf(row, COL_MEMORY, "%s / %s", peak, format_size(limit, sizeof limit, l));
}

/* Sweeps give runs with the same scenario and repetition: the replica count and the matrix
 * values tell them apart. */
/* "crowded ×4 [size=1G]"; a baseline says what it was made for: "solo for protected". */
static int scenario_cell(Row *row, const RunResult *run) {
        char reps[16] = "";
        const char *params = run->params;
        if (run->replicas > 1)
                snprintf(reps, sizeof reps, " \u00d7%u", run->replicas);
        if (run->solo)
                return cellf(row, COL_SCENARIO, "solo%s%s%s%s%s%s", run->solo_for ? " for " : "", run->solo_for ?: "",
                             reps, params ? " [" : "", params ?: "", params ? "]" : "");
        return cellf(row, COL_SCENARIO, "%s%s%s%s%s", run->scenario ?: "?", reps, params ? " [" : "", params ?: "",
                     params ? "]" : "");
}

static int job_row(Row *row, const RunResult *run, const JobResult *j) {
        char wall[FORMAT_DURATION_MAX] = "-", cpu[FORMAT_DURATION_MAX] = "-", pss[FORMAT_SIZE_MAX] = "-";
        bool started = j->reason != REASON_FAILED_TO_START;
        int k = 0;

        if (started) {
                format_duration(wall, sizeof wall, usec_of(j->wall_s));
                format_duration(cpu, sizeof cpu, usec_of(j->user_s + j->sys_s));
        }
        if (j->pss_peak_bytes)
                format_size(pss, sizeof pss, j->pss_peak_bytes);
        row->failed = !job_ok(j);
        k = k ?: scenario_cell(row, run);
        k = k ?: (run->warmup ? cellf(row, COL_REP, "warmup %u", run->repetition + 1)
                              : cellf(row, COL_REP, "%u", run->repetition + 1));
        k = k ?: cellf(row, COL_JOB, "%s", j->name ?: "?");
        k = k ?: cellf(row, COL_REASON, "%s", reason_text(j));
        k = k ?: exit_cell(row, j);
        k = k ?: cellf(row, COL_WALL, "%s", wall);
        k = k ?: cellf(row, COL_CPU, "%s", cpu);
        k = k ?: cpu_pct_cell(row, j);
        k = k ?: (started ? memory_cell(row, j) : cellf(row, COL_MEMORY, "-"));
        k = k ?: cellf(row, COL_PSS, "%s", pss);
        return k;
}

/* Terminal columns of a UTF-8 string (every code point one column: "×"). */
static size_t text_width(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

/* What a person calls the run: its scenario, or "solo for S" for a baseline. */
static const char *run_name(const RunResult *run, char *buf, size_t n) {
        if (run->solo && run->solo_for)
                snprintf(buf, n, "solo for %s", run->solo_for);
        else
                snprintf(buf, n, "%s", run->scenario ?: "?");
        return buf;
}

/* "a#2" before "a#10": names compared with their numbers as numbers. */
static int job_name_cmp(const void *x, const void *y) {
        const char *a = (*(const JobResult *const *)x)->name ?: "", *b = (*(const JobResult *const *)y)->name ?: "";
        return strverscmp(a, b);
}

static int table_build(const Result *r, Table *t) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_runs; i++)
                n += r->runs[i].n_jobs;
        *t = (Table){.rows = calloc(n ? n : 1, sizeof *t->rows)};
        if (!t->rows)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_runs; i++) {
                /* by run, then by job name (copies in number order), not in finishing order */
                size_t nj = r->runs[i].n_jobs;
                _cleanup_free_ const JobResult **order = calloc(nj ? nj : 1, sizeof *order);
                if (!order)
                        return -ENOMEM;
                for (size_t k = 0; k < nj; k++)
                        order[k] = &r->runs[i].jobs[k];
                qsort(order, nj, sizeof *order, job_name_cmp);
                for (size_t k = 0; k < nj; k++) {
                        int e = job_row(&t->rows[t->n_rows++], &r->runs[i], order[k]);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}

/* Failures by kind, in a fixed order so the line reads the same run after run. */
typedef enum Failure {
        FAIL_EXIT,
        FAIL_TIMEOUT,
        FAIL_OOM,
        FAIL_GPU_OOM,
        FAIL_KILLED,
        FAIL_START,
        FAIL_INTERRUPTED,
        _FAIL_MAX,
} Failure;

static const char *const failure_names[_FAIL_MAX] = {
        [FAIL_EXIT] = "nonzero exit", [FAIL_TIMEOUT] = "timeout",       [FAIL_OOM] = "oom",
        [FAIL_GPU_OOM] = "gpu-oom",   [FAIL_KILLED] = "killed",         [FAIL_START] = "failed-to-start",
        [FAIL_INTERRUPTED] = "interrupted",
};

static Failure failure_of(const JobResult *j) {
        switch (j->reason) {
        case REASON_TIMEOUT:
        case REASON_CPU_TIMEOUT:
                return FAIL_TIMEOUT;
        case REASON_OOM:
                return FAIL_OOM;
        case REASON_GPU_OOM:
                return FAIL_GPU_OOM;
        case REASON_KILLED:
                return FAIL_KILLED;
        case REASON_FAILED_TO_START:
                return FAIL_START;
        case REASON_INTERRUPTED:
                return FAIL_INTERRUPTED;
        default:
                return FAIL_EXIT;
        }
}

static void print_tally(const Result *r, FILE *f) {
        size_t total = 0, failed = 0, by[_FAIL_MAX] = {0};
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_jobs; k++) {
                        const JobResult *j = &r->runs[i].jobs[k];
                        total++;
                        if (!job_ok(j)) {
                                failed++;
                                by[failure_of(j)]++;
                        }
                }
        fprintf(f, "%zu job%s: %zu ok, %zu failed", total, total == 1 ? "" : "s", total - failed, failed);
        const char *sep = " (";
        for (size_t c = 0; c < _FAIL_MAX; c++)
                if (by[c]) {
                        fprintf(f, "%s%s: %zu", sep, failure_names[c], by[c]);
                        sep = ", ";
                }
        fputs(failed ? ")\n" : "\n", f);
}

/* Lists every job that never started with why: the one failure the table cannot explain. */
static void print_start_failures(const Result *r, FILE *f, const char *prefix) {
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_jobs; k++) {
                        const JobResult *j = &r->runs[i].jobs[k];
                        if (j->reason == REASON_FAILED_TO_START)
                                fprintf(f, "%s%s: failed to start: %s\n", prefix, j->name ?: "?",
                                        j->start_error ?: "no details");
                }
}

static int finish(FILE *f) {
        return ferror(f) ? -EIO : 0;
}

static void pad(FILE *f, size_t n) {
        fprintf(f, "%*s", (int)n, "");
}

/* Phases and metrics, one line per job that has any, after the main table. */
static void print_phases(const Result *r, FILE *f, bool markdown) {
        bool any = false;
        char rn[256];
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_jobs; k++) {
                        const JobResult *j = &r->runs[i].jobs[k];
                        if (j->n_phases == 0 && j->n_metrics == 0)
                                continue;
                        if (!any)
                                fputs(markdown ? "\n### Phases and metrics\n\n" : "\nphases and metrics:\n",
                                      f);
                        any = true;
                        fprintf(f,
                                markdown ? "- `%s` rep %u, **%s**:" : "  %s rep %u %s:",
                                run_name(&r->runs[i], rn, sizeof rn), r->runs[i].repetition + 1, j->name);
                        for (size_t p = 0; p < j->n_phases; p++) {
                                char w[FORMAT_DURATION_MAX], c[FORMAT_DURATION_MAX];
                                const PhaseResult *ph = &j->phases[p];
                                fprintf(f, " %s %s", ph->name,
                                        format_duration(w, sizeof w, usec_of(ph->wall_s)));
                                if (ph->cpu_s >= 0)
                                        fprintf(f, " (cpu %s)",
                                                format_duration(c, sizeof c, usec_of(ph->cpu_s)));
                                if (ph->unfinished)
                                        fputs(" unfinished", f);
                                fputc(p + 1 < j->n_phases || j->n_metrics ? ',' : ' ', f);
                        }
                        for (size_t m = 0; m < j->n_metrics; m++) {
                                const MetricResult *mr = &j->metrics[m];
                                if (isfinite(mr->value))
                                        fprintf(f, " %s=%g%s%s", mr->name, mr->value, mr->unit ? " " : "",
                                                mr->unit ? mr->unit : "");
                                else
                                        fprintf(f, " %s=-", mr->name);
                                fputs(m + 1 < j->n_metrics ? "," : "", f);
                        }
                        fputc('\n', f);
                }
}

/* The priority protector's work, one line per job it froze (docs/priorities.md). */
static void print_frozen(const Result *r, FILE *f, bool markdown) {
        bool any = false;
        char rn[256];
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_jobs; k++) {
                        const JobResult *j = &r->runs[i].jobs[k];
                        char w[FORMAT_DURATION_MAX];
                        if (j->freezes == 0)
                                continue;
                        if (!any)
                                fputs(markdown ? "\n### Frozen by the priority protector\n\n"
                                               : "\nfrozen by the priority protector:\n",
                                      f);
                        any = true;
                        fprintf(f, markdown ? "- `%s` rep %u, **%s** (%s): %s in %u freezes%s\n"
                                            : "  %s rep %u %s (%s): %s in %u freezes%s\n",
                                run_name(&r->runs[i], rn, sizeof rn), r->runs[i].repetition + 1, j->name, j->priority ?: "normal",
                                format_duration(w, sizeof w, usec_of(j->frozen_s)), j->freezes,
                                j->memory_high_emulated ? ", memory_high emulated" : "");
                }
}

static void md_cell(FILE *f, const char *s);

/* Each GPU job's use of each of its GPUs, measured from NVML for its own pids (docs/gpu.md). */
static void print_gpus(const Result *r, FILE *f, bool markdown) {
        bool any = false;
        char rn[256];
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_jobs; k++) {
                        const JobResult *j = &r->runs[i].jobs[k];
                        for (size_t g = 0; g < j->n_gpus; g++) {
                                const JobGpuResult *x = &j->gpus[g];
                                char mem[FORMAT_SIZE_MAX], total[FORMAT_SIZE_MAX], share[160], lim[96];
                                if (!any)
                                        fputs(markdown ? "\n### GPU use\n\n| run | job | GPU | SM share (mean) | "
                                                         "peak | memory peak | samples |\n"
                                                         "|---|---|---|---:|---:|---:|---:|\n"
                                                       : "\nGPU use (SM share of the whole GPU, from NVML for "
                                                         "each job's own processes):\n",
                                              f);
                                any = true;
                                format_size(mem, sizeof mem, x->memory_peak_bytes);
                                format_size(total, sizeof total, x->memory_total_bytes);
                                /* A limited job's limits beside what was measured: "29.8% mean
                                 * (cap 30% by shim)", "7.90 GiB of 80.0 GiB (limit 8.00 GiB)". */
                                report_gpu_share_text(x, share, sizeof share);
                                report_gpu_memory_text(x, lim, sizeof lim);
                                fprintf(f,
                                        markdown ? "| %s rep %u | %s | %u%s | %.1f %%%s%s%s | %.1f %% | %s of %s%s%s%s | %u |\n"
                                                 : "  %s rep %u %s: GPU %u%s SM %.1f%% mean%s%s%s, %.1f%% peak, memory "
                                                   "%s of %s%s%s%s, %u samples\n",
                                        run_name(&r->runs[i], rn, sizeof rn), r->runs[i].repetition + 1, j->name, x->index,
                                        x->shared ? " (shared)" : "", 100 * x->sm_share_mean, *share ? " (" : "", share,
                                        *share ? ")" : "", 100 * x->sm_share_peak, mem, total, *lim ? " (" : "", lim,
                                        *lim ? ")" : "", x->samples);
                        }
                }
}

static void ratio(FILE *f, double v, const char *suffix) {
        if (isfinite(v))
                fprintf(f, "%.2f%s", v, suffix);
        else
                fputs("-", f);
}

static void md_duration(FILE *f, double s) {
        char b[FORMAT_DURATION_MAX];
        fputs(isfinite(s) && s >= 0 ? format_duration(b, sizeof b, usec_of(s)) : "-", f);
}

/* Markdown: the slowdown of every job and phase with a baseline and the system metrics
 * per configuration (docs/experiments.md). Nothing without solo baselines. */
static void md_interference(FILE *f, const Slowdowns *d) {
        fputs("\n## Slowdown against solo\n\nMedians over the repetitions that exited 0; slowdown = "
              "shared / solo.\n\n| run | job | shared | solo | slowdown |\n|---|---|---:|---:|---:|\n",
              f);
        for (size_t c = 0; c < d->n_configs; c++)
                for (size_t j = 0; j < d->configs[c].metrics->n_jobs; j++) {
                        const InterferenceJob *m = &d->configs[c].metrics->jobs[j];
                        if (!d->configs[c].solo[j])
                                continue;
                        fputs("| ", f);
                        md_cell(f, d->configs[c].config);
                        fputs(" | ", f);
                        md_cell(f, m->name);
                        fputs(" | ", f);
                        md_duration(f, m->t_shared);
                        fputs(" | ", f);
                        md_duration(f, m->t_solo);
                        fputs(" | ", f);
                        ratio(f, m->slowdown, "x");
                        fputs(" |\n", f);
                }
        fputs("\n| run | jobs | STP | ANTT | max slowdown |\n|---|---:|---:|---:|---:|\n", f);
        static const RowStyle md = {"| ", " | ", " |\n", md_cell, "x", "-"};
        for (size_t c = 0; c < d->n_configs; c++)
                report_system_row(f, &md, &d->configs[c]);
        if (d->n_phase_rows == 0)
                return;
        fputs("\n### Per phase\n\n| run | job | phase | shared | solo | slowdown |\n"
              "|---|---|---|---:|---:|---:|\n",
              f);
        for (size_t c = 0; c < d->n_configs; c++)
                for (size_t j = 0; j < d->configs[c].metrics->n_jobs; j++) {
                        const InterferenceJob *m = &d->configs[c].metrics->jobs[j];
                        for (size_t p = 0; p < m->n_phases && d->configs[c].solo[j]; p++) {
                                fputs("| ", f);
                                md_cell(f, d->configs[c].config);
                                fputs(" | ", f);
                                md_cell(f, m->name);
                                fputs(" | ", f);
                                md_cell(f, m->phases[p].name);
                                fputs(" | ", f);
                                md_duration(f, m->phases[p].t_shared);
                                fputs(" | ", f);
                                md_duration(f, m->phases[p].t_solo);
                                fputs(" | ", f);
                                ratio(f, m->phases[p].slowdown, "x");
                                fputs(" |\n", f);
                        }
                }
}

/* Terminal: one line per configuration; the per-job figures are in summary.md. */
static void text_interference(FILE *f, const Slowdowns *d) {
        fputs("\nslowdown against solo (medians; ANTT = mean slowdown, STP = solo jobs' worth of work):\n",
              f);
        for (size_t c = 0; c < d->n_configs; c++) {
                const SlowdownConfig *sc = &d->configs[c];
                const Interference *m = sc->metrics;
                fprintf(f, "  %s:", sc->config);
                if (m->n_jobs == 1) {
                        fputc(' ', f);
                        ratio(f, m->jobs[0].slowdown, "x");
                        fputc('\n', f);
                        continue;
                }
                fputs(" ANTT ", f);
                ratio(f, m->antt, "");
                fputs(", STP ", f);
                ratio(f, m->stp, "");
                fputs(", max ", f);
                ratio(f, m->max_slowdown, "x");
                if (isfinite(m->max_slowdown))
                        fprintf(f, " (%s)", m->jobs[m->max_job].name);
                fputc('\n', f);
        }
}

/* hyperfine's statistics, for jobs run more than once (warm-ups left out): per job and
 * configuration mean ± σ, median, min … max; and, where a configuration has several jobs,
 * how much faster the fastest ran than each other one (ratio of means, σ propagated). */
static int print_statistics(const Result *r, FILE *f, bool markdown) {
        JobSeries *s = NULL;
        size_t n = 0;
        int k = report_job_series(r, &s, &n);
        if (k < 0)
                return k;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
                Summary m;
                if (s[i].n < 2 || stats_summarize(s[i].wall, s[i].n, &m) < 0)
                        continue;
                char a[FORMAT_DURATION_MAX], b[FORMAT_DURATION_MAX], c[FORMAT_DURATION_MAX],
                        d[FORMAT_DURATION_MAX], e[FORMAT_DURATION_MAX];
                if (!any)
                        fputs(markdown ? "\n### Repetitions\n\n| run | job | mean ± σ | median | min … max | n |\n"
                                         "|---|---|---:|---:|---:|---:|\n"
                                       : "\nrepetitions (wall time; warm-ups and failed runs left out):\n",
                              f);
                any = true;
                format_duration(a, sizeof a, usec_of(m.mean));
                format_duration(b, sizeof b, usec_of(m.stddev));
                format_duration(c, sizeof c, usec_of(m.median));
                format_duration(d, sizeof d, usec_of(m.min));
                format_duration(e, sizeof e, usec_of(m.max));
                if (markdown) {
                        fputs("| ", f);
                        md_cell(f, s[i].config);
                        fputs(" | ", f);
                        md_cell(f, s[i].job);
                        fprintf(f, " | %s ± %s | %s | %s … %s | %zu |\n", a, b, c, d, e, m.n);
                } else
                        fprintf(f, "  %s %s: %s ± %s (mean ± σ), median %s, %s … %s, n=%zu\n", s[i].config,
                                s[i].job, a, b, c, d, e, m.n);
        }
        /* Relative speed inside each configuration with several jobs. */
        for (size_t i = 0; any && i < n; i++) {
                if (s[i].n < 2 || (i > 0 && streq(s[i - 1].config, s[i].config)))
                        continue; /* one block per configuration, from its first series */
                size_t fastest = i, last = i;
                for (size_t j = i; j < n && streq(s[j].config, s[i].config); j++) {
                        last = j;
                        if (s[j].n >= 2 && stats_mean(s[j].wall, s[j].n) < stats_mean(s[fastest].wall, s[fastest].n))
                                fastest = j;
                }
                if (last == i)
                        continue;
                double mf = stats_mean(s[fastest].wall, s[fastest].n),
                       sf = stats_stddev(s[fastest].wall, s[fastest].n);
                fprintf(f, markdown ? "\nIn `%s`, `%s` ran\n\n" : "\n  in %s, %s ran\n", s[i].config, s[fastest].job);
                for (size_t j = i; j <= last; j++) {
                        if (j == fastest || s[j].n < 2)
                                continue;
                        double mj = stats_mean(s[j].wall, s[j].n), sj = stats_stddev(s[j].wall, s[j].n);
                        double ratio = mj / mf;
                        double err = ratio * sqrt((sf / mf) * (sf / mf) + (sj / mj) * (sj / mj));
                        fprintf(f, markdown ? "- %.2f ± %.2f times faster than `%s`\n"
                                            : "    %.2f ± %.2f times faster than %s\n",
                                ratio, err, s[j].job);
                }
        }
        report_job_series_free(s, n);
        return 0;
}

/* Scenarios side by side: the median time of each job in each configuration that runs
 * it (baselines left out), when at least two configurations share a job: what
 * `baseline` vs `protected` is about. The first configuration is the reference. */
static int print_side_by_side(const Result *r, FILE *f, bool markdown) {
        JobSeries *s = NULL;
        size_t n = 0;
        SideBySide sb;
        int k = report_job_series(r, &s, &n);
        if (k >= 0)
                k = report_side_by_side(s, n, &sb);
        if (k < 0 || sb.n_configs == 0) {
                report_job_series_free(s, n);
                return k;
        }
        if (markdown) {
                fputs("\n### Scenarios side by side\n\nMedian wall time of each job in each scenario (its ratio to the "
                      "first).\n\n| job |",
                      f);
                for (size_t c = 0; c < sb.n_configs; c++) {
                        fputc(' ', f);
                        md_cell(f, sb.configs[c]);
                        fputs(" |", f);
                }
                fputs("\n|---|", f);
                for (size_t c = 0; c < sb.n_configs; c++)
                        fputs("---:|", f);
                fputc('\n', f);
        } else
                fputs("\nscenarios side by side (median wall time, ratio to the first):\n", f);
        for (size_t row = 0; row < sb.n_jobs; row++) {
                fputs(markdown ? "| " : "  ", f);
                if (markdown)
                        md_cell(f, sb.jobs[row]);
                else
                        fprintf(f, "%-12s", sb.jobs[row]);
                double ref = NAN;
                for (size_t c = 0; c < sb.n_configs; c++) {
                        double med = sb.median[row * sb.n_configs + c];
                        char d[FORMAT_DURATION_MAX] = "-", rt[32] = "";
                        if (isfinite(med)) {
                                format_duration(d, sizeof d, usec_of(med));
                                if (isfinite(ref) && ref > 0)
                                        snprintf(rt, sizeof rt, " (%.2fx)", med / ref);
                                else
                                        ref = med;
                        }
                        if (markdown)
                                fprintf(f, " | %s%s", d, rt);
                        else
                                fprintf(f, "  %s: %s%s", sb.configs[c], d, rt);
                }
                fputs(markdown ? " |\n" : "\n", f);
        }
        report_side_by_side_done(&sb);
        report_job_series_free(s, n);
        return 0;
}

/* Builds the metrics and prints them when there is any baseline. */
static int print_interference(const Result *r, FILE *f, bool markdown) {
        JobSeries *s = NULL;
        Slowdowns *d = NULL;
        size_t n = 0;
        int k = report_job_series(r, &s, &n);
        if (k >= 0)
                k = report_slowdowns(s, n, &d);
        if (k >= 0 && d->n_with_baseline > 0)
                (markdown ? md_interference : text_interference)(f, d);
        slowdowns_free(d);
        report_job_series_free(s, n);
        return k;
}

int report_summary_table(const Result *r, FILE *f, bool color) {
        _cleanup_(table_done) Table t = {0};
        size_t width[_COL_MAX];
        int k = table_build(r, &t);
        if (k < 0)
                return k;

        for (size_t c = 0; c < _COL_MAX; c++) {
                width[c] = text_width(columns[c].title);
                for (size_t i = 0; i < t.n_rows; i++)
                        width[c] = MAX(width[c], text_width(t.rows[i].cell[c]));
        }
        /* Row -1 is the header. Padding is written by hand rather than with %-*s so that
         * colour escapes never count towards a column's width. */
        for (ssize_t i = -1; i < (ssize_t)t.n_rows; i++) {
                const Row *row = i >= 0 ? &t.rows[i] : NULL;
                for (size_t c = 0; c < _COL_MAX; c++) {
                        const char *s = row ? row->cell[c] : columns[c].title;
                        size_t fill = width[c] - text_width(s);
                        bool red = color && row && row->failed && c == COL_REASON;
                        if (c > 0)
                                fputs("  ", f);
                        if (columns[c].right)
                                pad(f, fill);
                        fprintf(f, "%s%s%s", red ? "\033[31m" : "", s, red ? "\033[0m" : "");
                        if (!columns[c].right && c + 1 < _COL_MAX)
                                pad(f, fill);
                }
                fputc('\n', f);
        }
        print_phases(r, f, false);
        print_frozen(r, f, false);
        print_gpus(r, f, false);
        k = print_statistics(r, f, false);
        if (k >= 0)
                k = print_side_by_side(r, f, false);
        if (k < 0)
                return k;
        k = print_interference(r, f, false);
        if (k < 0)
                return k;
        fputc('\n', f);
        print_tally(r, f);
        print_start_failures(r, f, "  ");
        if (r->partial)
                fprintf(f, "partial result%s: not every job ran\n", r->interrupted ? " (interrupted)" : "");
        return finish(f);
}

/* Markdown table cells: a '|' would end the cell and a newline the row. */
static void md_cell(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '|')
                        fputs("\\|", f);
                else if (*s == '\n' || *s == '\r')
                        fputc(' ', f);
                else
                        fputc(*s, f);
        }
}

/* A code span whose fence is longer than any run of backticks inside (CommonMark). */
static void md_code(FILE *f, const char *s) {
        size_t run = 0, longest = 0;
        for (const char *p = s; *p; p++) {
                run = *p == '`' ? run + 1 : 0;
                longest = MAX(longest, run);
        }
        for (size_t i = 0; i <= longest; i++)
                fputc('`', f);
        fputs(longest ? " " : "", f);
        md_cell(f, s);
        fputs(longest ? " " : "", f);
        for (size_t i = 0; i <= longest; i++)
                fputc('`', f);
}

static void md_item(FILE *f, const char *label, const char *value) {
        if (!value)
                return;
        fprintf(f, "- %s: ", label);
        md_cell(f, value);
        fputc('\n', f);
}

static void md_host(const Result *r, FILE *f) {
        const HostInfo *h = &r->host;
        char mem[FORMAT_SIZE_MAX];

        md_item(f, "run id", r->run_id);
        md_item(f, "started", r->started_at);
        md_item(f, "finished", r->finished_at);
        md_item(f, "host", h->hostname);
        md_item(f, "cpu", h->cpu_model);
        if (h->n_cpus_online)
                fprintf(f, "- cpus: %u online, %u allowed (%s)\n", h->n_cpus_online, h->n_cpus_allowed,
                        h->allowed_cpus ?: "?");
        md_item(f, "smt", h->smt);
        md_item(f, "governor", h->governor);
        md_item(f, "turbo", h->turbo);
        if (h->memory_total_bytes)
                fprintf(f, "- memory: %s, swap %s\n", format_size(mem, sizeof mem, h->memory_total_bytes),
                        h->swap_on ? "on" : "off");
        md_item(f, "kernel", h->kernel);
        for (size_t i = 0; i < h->n_gpus; i++) {
                const HostGpu *g = &h->gpus[i];
                fprintf(f, "- gpu %u: ", g->index);
                md_cell(f, g->name ?: "?");
                fprintf(f, ", %s, %s, PCI %s", format_size(mem, sizeof mem, g->memory_bytes), g->uuid ?: "?",
                        g->pci_bus_id ?: "?");
                if (g->numa_node >= 0)
                        fprintf(f, ", NUMA node %d", g->numa_node);
                fputc('\n', f);
        }
        md_item(f, "gpu driver", h->gpu_driver);
        if (r->backend) {
                fprintf(f, "- cgroup backend: %s", r->backend);
                if (h->cgroup_backend_detail) {
                        fputs(" (", f);
                        md_cell(f, h->cgroup_backend_detail);
                        fputc(')', f);
                }
                fputc('\n', f);
        }
        md_item(f, "corun", r->corun_version);
        md_item(f, "scenario file", r->spec_file);
        if (r->command_line) {
                fputs("- command: ", f);
                md_code(f, r->command_line);
                fputc('\n', f);
        }
}

int report_summary_markdown(const Result *r, FILE *f) {
        _cleanup_(table_done) Table t = {0};
        int k = table_build(r, &t);
        if (k < 0)
                return k;

        fputs("# corun: ", f);
        md_cell(f, r->name ?: "results");
        fputs("\n\n", f);
        if (r->partial)
                fprintf(f, "**Partial result%s: not every job ran.**\n\n",
                        r->interrupted ? " (interrupted)" : "");
        md_host(r, f);
        fputc('\n', f);

        for (size_t c = 0; c < _COL_MAX; c++)
                fprintf(f, "| %s ", columns[c].title);
        fputs("|\n", f);
        for (size_t c = 0; c < _COL_MAX; c++)
                fputs(columns[c].right ? "|---:" : "|---", f);
        fputs("|\n", f);
        for (size_t i = 0; i < t.n_rows; i++) {
                for (size_t c = 0; c < _COL_MAX; c++) {
                        fputs("| ", f);
                        bool bold = t.rows[i].failed && c == COL_REASON;
                        fputs(bold ? "**" : "", f);
                        md_cell(f, t.rows[i].cell[c]);
                        fputs(bold ? "** " : " ", f);
                }
                fputs("|\n", f);
        }
        print_phases(r, f, true);
        print_frozen(r, f, true);
        print_gpus(r, f, true);
        k = print_statistics(r, f, true);
        if (k >= 0)
                k = print_side_by_side(r, f, true);
        if (k < 0)
                return k;
        fputc('\n', f);
        print_tally(r, f);
        k = print_interference(r, f, true);
        if (k < 0)
                return k;

        bool any = false;
        for (size_t i = 0; i < r->n_runs && !any; i++)
                for (size_t j = 0; j < r->runs[i].n_jobs && !any; j++)
                        any = r->runs[i].jobs[j].reason == REASON_FAILED_TO_START;
        if (any) {
                fputs("\n## Failed to start\n\n", f);
                print_start_failures(r, f, "- ");
        }
        if (r->warnings && r->warnings[0]) {
                fputs("\n## Warnings\n\n", f);
                for (char **w = r->warnings; *w; w++) {
                        fputs("- ", f);
                        md_cell(f, *w);
                        fputc('\n', f);
                }
        }
        return finish(f);
}
