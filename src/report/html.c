/* SPDX-License-Identifier: MIT */
/* report.html, the document: page structure, CSS, the overview, the tables, and the
 * sections the charts (html-charts.c) are drawn in. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html-internal.h"
#include "report/html.h"
#include "report/slowdown.h"
#include "stats/interference.h"
#include "util/cpuset.h"
#include "util/macros.h"
#include "util/parse.h"

const char *const html_job_colors[HTML_JOB_COLORS] = {
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac",
        "#1f77b4", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#c5b0d5", "#ffbb78", "#2ca02c",
};

/* Every job name of the report, sorted (copies in number order): a job's colour is its
 * place in this list, so it keeps its colour in every chart and no two jobs of a chart
 * share one (up to HTML_JOB_COLORS names in the whole report). */
static const char **color_names;
static size_t n_color_names;

static int name_cmp(const void *a, const void *b) {
        return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

static void colors_init(const Result *r) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_runs; i++)
                n += r->runs[i].n_jobs;
        free(color_names);
        n_color_names = 0;
        color_names = calloc(n ? n : 1, sizeof *color_names);
        if (!color_names)
                return;
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t k = 0; k < r->runs[i].n_jobs; k++) {
                        const char *name = r->runs[i].jobs[k].name ?: "";
                        bool seen = false;
                        for (size_t c = 0; c < n_color_names && !seen; c++)
                                seen = streq(color_names[c], name);
                        if (!seen)
                                color_names[n_color_names++] = name;
                }
        qsort(color_names, n_color_names, sizeof *color_names, name_cmp);
}

static void colors_done(void) {
        free(color_names);
        color_names = NULL;
        n_color_names = 0;
}
const char *const html_phase_colors[6] = {"#a0cbe8", "#8cd17d", "#d4a6c8", "#86bcb6", "#f1ce63", "#d7b5a6"};

static const char css[] =
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2530;"
        "background:#f5f6f8}\n"
        "main{max-width:1060px;margin:0 auto;padding:16px 24px 48px}\n"
        "h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid "
        "#dfe3e8;padding-bottom:4px}h3{font-size:14px;margin:14px 0 4px;color:#3b4756}\n"
        ".meta{color:#5b6675;font-size:13px;margin:0}\n"
        ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}\n"
        ".card{background:#fff;border:1px solid #dfe3e8;border-radius:6px;padding:8px "
        "14px;min-width:110px}\n"
        ".card b{display:block;font-size:22px}.card.bad b{color:#c0392b}.card.good b{color:#2e7d32}\n"
        "table{border-collapse:collapse;background:#fff;border:1px solid #dfe3e8;margin:6px "
        "0;font-size:13px}\n"
        "th,td{padding:4px 10px;border-bottom:1px solid #eef0f3;text-align:left}\n"
        "th{background:#eef1f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
        ".warn{background:#fff4e5;border:1px solid #f0c27b;border-radius:6px;padding:6px 12px;margin:8px "
        "0}\n"
        ".bad{color:#c0392b}.muted{color:#7a8594}\n"
        "svg{background:#fff;border:1px solid #dfe3e8;border-radius:6px;display:block;margin:4px 0 10px}\n"
        "svg text{font:12px system-ui,sans-serif;fill:#1d2530}svg .axis text{fill:#5b6675;font-size:11px}\n"
        "svg .grid{stroke:#eef0f3}svg .bar{stroke:#1d2530;stroke-opacity:.25}\n"
        "svg .bar.failed{fill:#c9ced6}svg .phase{stroke:#fff;stroke-width:.5}\n"
        "svg .marker.oom,svg .marker.gpu-oom{fill:#d62728}svg .marker.timeout{fill:#ff7f0e}\n"
        "svg .freeze{fill:#6a3d9a}svg .event{fill:#555}\n"
        "svg .limit{stroke:#d62728;stroke-dasharray:6 4;stroke-width:1.5}\n"
        "svg .highmark{stroke-dasharray:2 3;stroke-width:1.5}\n"
        "svg .cap{fill:none;stroke-dasharray:6 4;stroke-width:1.5}svg text.caplabel{font-size:11px}\n"
        "svg .sw{fill:none;stroke-width:2}svg .antt{stroke:#4e79a7}svg .maxs{stroke:#e15759}"
        "svg .stp{stroke:#59a14f;stroke-dasharray:5 3}svg .spread{stroke:#9aa4b1;stroke-width:6;"
        "stroke-linecap:round;stroke-opacity:.6}\n"
        "svg .median{stroke:#1d2530;stroke-width:2}svg .rep{fill-opacity:.75}\n"
        "svg .series{fill:none;stroke-width:1.8}svg .one{stroke:#1d2530;stroke-dasharray:4 3}\n"
        "svg.pbar{border:0;border-radius:0;margin:0;display:inline-block;vertical-align:middle;"
        "background:#eef1f5}\n"
        "table.side-by-side span.bar{display:inline-block;height:10px;background:#4e79a7;"
        "vertical-align:middle;margin-right:4px}\n"
        ".legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;color:#3b4756;margin:2px 0 10px}\n"
        ".legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;"
        "vertical-align:-1px}\n";

void html_esc(FILE *f, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\'':
                        fputs("&#39;", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

const char *html_dur(char *buf, size_t n, double s) {
        if (!isfinite(s) || s < 0)
                return "–";
        return format_duration(buf, n, (uint64_t)llround(s * 1e6));
}

static const char *html_size(char *buf, size_t n, uint64_t v) {
        return v == UINT64_MAX ? "–" : format_size(buf, n, v);
}

double html_nice_step(double range, unsigned target) {
        if (!(range > 0))
                return 1;
        double raw = range / target, p = pow(10, floor(log10(raw))), m = raw / p;
        return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

const char *html_job_color(const JobResult *j) {
        const char *name = j->name ?: "";
        for (size_t c = 0; c < n_color_names; c++)
                if (streq(color_names[c], name))
                        return html_job_colors[c % HTML_JOB_COLORS];
        unsigned h = 5381; /* not in the list (out of memory): by a hash of the name */
        for (const char *c = name; *c; c++)
                h = h * 33 + (unsigned char)*c;
        return html_job_colors[h % HTML_JOB_COLORS];
}

bool html_job_failed(const JobResult *j) {
        return j->reason != REASON_EXIT || j->exit_code != 0;
}

void html_run_label(FILE *f, const RunResult *run, size_t n_reps) {
        html_esc(f, run->scenario);
        if (run->solo && run->solo_for) {
                fputs(" for ", f);
                html_esc(f, run->solo_for);
                fputc(':', f);
        }
        if (run->solo && run->n_jobs == 1) {
                fputc(' ', f);
                html_esc(f, run->jobs[0].base_name ?: run->jobs[0].name);
        }
        if (run->replicas > 1)
                fprintf(f, " r=%u", run->replicas);
        if (run->params) {
                fputc(' ', f);
                html_esc(f, run->params);
        }
        fprintf(f, " rep %u/%zu", run->repetition + 1, n_reps);
}

static size_t n_repetitions(const Result *r) {
        unsigned m = 0;
        for (size_t i = 0; i < r->n_runs; i++)
                m = MAX(m, r->runs[i].repetition + 1);
        return m;
}

/* ---- header and overview ---- */

static void header(FILE *f, const Result *r) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>corun "
              "report",
              f);
        if (r->name) {
                fputs(": ", f);
                html_esc(f, r->name);
        }
        fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>corun report", css);
        if (r->name) {
                fputs(": ", f);
                html_esc(f, r->name);
        }
        fputs("</h1>\n<p class=\"meta\">", f);
        html_esc(f, r->started_at ?: "unknown start");
        fputs(" · host ", f);
        html_esc(f, r->host.hostname ?: "?");
        fputs(" · ", f);
        html_esc(f, r->host.cpu_model ?: "unknown CPU");
        fprintf(f, " (%u CPUs) · ", r->host.n_cpus_online);
        html_esc(f, r->host.kernel ?: "unknown kernel");
        fputs(" · backend ", f);
        html_esc(f, r->backend ?: "?");
        fputs(" · corun ", f);
        html_esc(f, r->corun_version ?: "?");
        fputs("</p>\n", f);
        if (r->command_line) {
                fputs("<p class=\"meta\"><code>", f);
                html_esc(f, r->command_line);
                fputs("</code></p>\n", f);
        }
        if (r->partial)
                fputs("<p class=\"warn\">This run did not finish (partial result): only the finished jobs "
                      "are "
                      "shown.</p>\n",
                      f);
        for (char **w = r->warnings; w && *w; w++) {
                fputs("<p class=\"warn\">", f);
                html_esc(f, *w);
                fputs("</p>\n", f);
        }
}

static void card(FILE *f, const char *cls, const char *value, const char *what) {
        fprintf(f, "<div class=\"card %s\"><b>", cls);
        html_esc(f, value);
        fprintf(f, "</b>%s</div>\n", what);
}

static void overview_counts(FILE *f, const Result *r) {
        size_t n_jobs = 0, n_failed = 0, by_reason[_REASON_MAX] = {};
        size_t n_nonzero = 0, n_escaped = 0;
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t j = 0; j < r->runs[i].n_jobs; j++) {
                        const JobResult *job = &r->runs[i].jobs[j];
                        n_jobs++;
                        n_escaped += job->escaped;
                        if (!html_job_failed(job))
                                continue;
                        n_failed++;
                        if (job->reason == REASON_EXIT)
                                n_nonzero++;
                        else if (job->reason >= 0 && job->reason < _REASON_MAX)
                                by_reason[job->reason]++;
                }
        char b[32];
        fputs("<div class=\"cards\">\n", f);
        snprintf(b, sizeof b, "%zu", r->n_runs);
        card(f, "", b, "runs");
        snprintf(b, sizeof b, "%zu", n_jobs);
        card(f, "", b, "jobs");
        snprintf(b, sizeof b, "%zu", n_jobs - n_failed);
        card(f, "good", b, "ok");
        snprintf(b, sizeof b, "%zu", n_failed);
        card(f, n_failed ? "bad" : "", b, "failed");
        if (n_nonzero) {
                snprintf(b, sizeof b, "%zu", n_nonzero);
                card(f, "bad", b, "non-zero exit");
        }
        if (n_escaped) {
                /* A job that got out of its groups: its limits and figures did not hold. */
                snprintf(b, sizeof b, "%zu", n_escaped);
                card(f, "bad", b, "escaped their partition");
        }
        for (int i = 0; i < _REASON_MAX; i++)
                if (by_reason[i]) {
                        char what[64];
                        snprintf(b, sizeof b, "%zu", by_reason[i]);
                        snprintf(what, sizeof what, "%s", job_reason_to_string(i));
                        card(f, "bad", b, what);
                }
        fputs("</div>\n", f);
}

static void fmt_ratio(FILE *f, double v, const char *suffix) {
        if (isfinite(v))
                fprintf(f, "%.2f%s", v, suffix);
        else
                fputs("–", f);
}

/* A slowdown table row up to the slowdown cell, left open: run, job, [phase,] shared,
 * solo, slowdown (marked bad from 1.1x). */
static void slowdown_row(FILE *f, const char *config, const char *job, const char *phase, double shared,
                         double solo, double slowdown) {
        char a[32], b[32];
        fputs("<tr><td>", f);
        html_esc(f, config);
        fputs("</td><td>", f);
        html_esc(f, job);
        if (phase) {
                fputs("</td><td>", f);
                html_esc(f, phase);
        }
        fprintf(f, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num%s\">",
                html_dur(a, sizeof a, shared), html_dur(b, sizeof b, solo),
                isfinite(slowdown) && slowdown >= 1.1 ? " bad" : "");
        fmt_ratio(f, slowdown, "×");
}

/* Slowdown per job and STP/ANTT/max slowdown per shared configuration, when the result
 * holds solo baselines. */
static void overview_interference(FILE *f, const Slowdowns *d) {
        if (d->n_with_baseline == 0) {
                fputs("<p class=\"muted\">No solo baselines in this result: run with <code>--solo</code> "
                      "(or <code>solo: true</code>) to see slowdowns.</p>\n",
                      f);
                return;
        }
        fputs("<table class=\"slowdown\">\n<tr><th>run</th><th>job</th><th>median wall shared</th>"
              "<th>median wall solo</th><th>slowdown</th></tr>\n",
              f);
        for (size_t c = 0; c < d->n_configs; c++) {
                const SlowdownConfig *sc = &d->configs[c];
                for (size_t j = 0; j < sc->metrics->n_jobs; j++) {
                        const InterferenceJob *m = &sc->metrics->jobs[j];
                        if (!sc->solo[j])
                                continue;
                        slowdown_row(f, sc->config, m->name, NULL, m->t_shared, m->t_solo, m->slowdown);
                        fputs("</td></tr>\n", f);
                }
        }
        fputs("</table>\n", f);

        /* One line per shared configuration: the system-level metrics over its jobs. */
        fputs("<table class=\"system\">\n<tr><th>run</th><th>jobs</th><th>STP</th><th>ANTT</th>"
              "<th>max slowdown</th></tr>\n",
              f);
        static const RowStyle html = {"<tr><td>", "</td><td class=\"num\">", "</td></tr>\n", html_esc, "×",
                                      "–"};
        for (size_t c = 0; c < d->n_configs; c++)
                report_system_row(f, &html, &d->configs[c]);
        fputs("</table>\n<p class=\"meta\">slowdown = median shared wall / median solo wall over the "
              "repetitions that exited 0; STP = Σ solo/shared (n = no interference); ANTT = mean "
              "slowdown (1 = none).</p>\n",
              f);
}

static void timeline_section(FILE *f, const Result *r, size_t n_reps) {
        fputs("<section id=\"timeline\">\n<h2>Timeline</h2>\n<p class=\"meta\">One lane per job from its "
              "start "
              "to its end; inner segments are phases; <span style=\"color:#d62728\">▼</span> out of memory "
              "(or over its GPU memory limit: gpu-oom), "
              "<span style=\"color:#ff7f0e\">▼</span> timeout; <span style=\"color:#6a3d9a\">▬</span> under "
              "a "
              "lane: frozen by the priority protector. Hover for details.</p>\n",
              f);
        double scale = 0;
        for (size_t i = 0; i < r->n_runs && i < MAX_CHART_RUNS; i++)
                scale = MAX(scale, html_run_span(&r->runs[i]));
        /* With repetitions the distribution says more (strip plot below): the timelines of
         * every run stay one click away. */
        if (n_reps > 1)
                fprintf(f, "<details><summary>The timelines of all %zu runs (one time scale)</summary>\n",
                        MIN(r->n_runs, (size_t)MAX_CHART_RUNS));
        for (size_t i = 0; i < r->n_runs && i < MAX_CHART_RUNS; i++) {
                fputs("<h3>", f);
                html_run_label(f, &r->runs[i], n_reps);
                fputs("</h3>\n", f);
                html_timeline_chart(f, r, i, scale);
        }
        if (n_reps > 1)
                fputs("</details>\n", f);
        if (r->n_runs > MAX_CHART_RUNS)
                fprintf(f, "<p class=\"muted\">%zu more runs not drawn (results.csv has them all).</p>\n",
                        r->n_runs - MAX_CHART_RUNS);
        fputs("</section>\n", f);
}

static void memory_section(FILE *f, const Result *r, const char *dir, size_t n_reps) {
        fputs("<section id=\"memory\">\n<h2>Memory over time</h2>\n<p class=\"meta\">The cgroup's memory "
              "usage (memory.current) per job as sampled during the run; dashed red: the job's limit; "
              "dotted in the job's colour: its high mark (memory_high).</p>\n",
              f);
        if (!dir)
                fputs("<p class=\"muted\">No results directory: samples not read.</p>\n", f);
        for (size_t i = 0; dir && i < r->n_runs && i < MAX_CHART_RUNS; i++)
                html_memory_chart(f, dir, &r->runs[i], n_reps);
        fputs("</section>\n", f);
}

/* ---- slowdown tables ---- */

/* Per phase: the same ratio over each phase's time, with a bar drawn in the cell. */
static void phase_table(FILE *f, const Slowdowns *d) {
        if (d->n_phase_rows == 0)
                return;
        double vmax = 1.0;
        for (size_t c = 0; c < d->n_configs; c++)
                for (size_t j = 0; j < d->configs[c].metrics->n_jobs; j++) {
                        const InterferenceJob *m = &d->configs[c].metrics->jobs[j];
                        for (size_t p = 0; p < m->n_phases; p++)
                                if (isfinite(m->phases[p].slowdown))
                                        vmax = MAX(vmax, m->phases[p].slowdown);
                }
        fputs("<h3>Per phase</h3>\n<table class=\"phase-slowdown\">\n<tr><th>run</th><th>job</th>"
              "<th>phase</th><th>median shared</th><th>median solo</th><th>slowdown</th><th></th></tr>\n",
              f);
        for (size_t c = 0; c < d->n_configs; c++)
                for (size_t j = 0; j < d->configs[c].metrics->n_jobs; j++) {
                        const InterferenceJob *m = &d->configs[c].metrics->jobs[j];
                        for (size_t p = 0; p < m->n_phases; p++) {
                                const InterferencePhase *ph = &m->phases[p];
                                if (!d->configs[c].solo[j])
                                        continue;
                                slowdown_row(f, d->configs[c].config, m->name, ph->name, ph->t_shared,
                                             ph->t_solo, ph->slowdown);
                                fputs("</td><td>", f);
                                /* 160 px = the largest slowdown; the tick marks 1.0. */
                                if (isfinite(ph->slowdown)) {
                                        double w = ph->slowdown / vmax * 160, one = 1.0 / vmax * 160;
                                        fprintf(f,
                                                "<svg class=\"pbar\" width=\"164\" height=\"14\" "
                                                "viewBox=\"0 0 164 14\" "
                                                "xmlns=\"http://www.w3.org/2000/svg\">"
                                                "<rect class=\"bar\" x=\"0\" y=\"2\" width=\"%.1f\" "
                                                "height=\"10\" fill=\"%s\"/><line class=\"one\" x1=\"%.1f\" "
                                                "y1=\"0\" x2=\"%.1f\" y2=\"14\"/></svg>",
                                                w, html_phase_colors[p % ELEMENTSOF(html_phase_colors)], one,
                                                one);
                                }
                                fputs("</td></tr>\n", f);
                        }
                }
        fputs("</table>\n<p class=\"meta\">A phase's time in one run is the total of its occurrences; "
              "runs that did not finish the phase are left out.</p>\n",
              f);
}

static int slowdown_section(FILE *f, const Slowdowns *d) {
        fputs("<section id=\"slowdown\">\n<h2>Slowdown against solo</h2>\n", f);
        int k = html_slowdown_chart(f, d);
        if (k < 0)
                return k;
        phase_table(f, d);
        fputs("</section>\n", f);
        return 0;
}

/* Each job's median time in each scenario that runs it, with its ratio to the first
 * scenario and a bar: the answer to "what did protected change for HIGH?". */
static int side_by_side_section(FILE *f, const JobSeries *s, size_t n) {
        SideBySide sb;
        int k = report_side_by_side(s, n, &sb);
        if (k < 0 || sb.n_configs == 0)
                return k;
        double top = 0;
        for (size_t i = 0; i < sb.n_jobs * sb.n_configs; i++)
                if (isfinite(sb.median[i]))
                        top = MAX(top, sb.median[i]);
        fputs("<section id=\"side-by-side\">\n<h2>Scenarios side by side</h2>\n<p class=\"meta\">Median wall time "
              "of each job in each scenario; the ratio is to the first scenario (below 1: faster).</p>\n"
              "<table class=\"side-by-side\">\n<tr><th>job</th>",
              f);
        for (size_t c = 0; c < sb.n_configs; c++) {
                fputs("<th>", f);
                html_esc(f, sb.configs[c]);
                fputs("</th>", f);
        }
        fputs("</tr>\n", f);
        for (size_t row = 0; row < sb.n_jobs; row++) {
                fputs("<tr><td>", f);
                html_esc(f, sb.jobs[row]);
                fputs("</td>", f);
                double ref = NAN;
                for (size_t c = 0; c < sb.n_configs; c++) {
                        double med = sb.median[row * sb.n_configs + c];
                        char d[32];
                        fputs("<td class=\"num\">", f);
                        if (isfinite(med)) {
                                fprintf(f, "<span class=\"bar\" style=\"width:%.0fpx\"></span> %s",
                                        top > 0 ? med / top * 120 : 0, html_dur(d, sizeof d, med));
                                if (isfinite(ref) && ref > 0)
                                        fprintf(f, " (%.2fx)", med / ref);
                                else
                                        ref = med;
                        } else
                                fputs("–", f);
                        fputs("</td>", f);
                }
                fputs("</tr>\n", f);
        }
        fputs("</table>\n</section>\n", f);
        report_side_by_side_done(&sb);
        return 0;
}

/* ---- allocated vs used ---- */

static void allocation_section(FILE *f, const Result *r, size_t n_reps) {
        fputs("<section id=\"allocation\">\n<h2>Allocated and used</h2>\n<table "
              "class=\"alloc\">\n<tr><th>run"
              "</th><th>job</th><th>reason</th><th>CPUs</th><th class=\"num\">wall</th><th "
              "class=\"num\">CPU %"
              "</th><th class=\"num\">memory peak / limit</th><th class=\"num\">PSS peak</th></tr>\n",
              f);
        for (size_t i = 0; i < r->n_runs; i++) {
                const RunResult *run = &r->runs[i];
                for (size_t j = 0; j < run->n_jobs; j++) {
                        const JobResult *job = &run->jobs[j];
                        CpuSet cs;
                        unsigned ncpu = 0;
                        if (job->applied_cpus && cpuset_parse(job->applied_cpus, &cs, NULL) >= 0)
                                ncpu = cpuset_count(&cs);
                        char a[32], b[32], c[32], d[32];
                        fputs("<tr><td>", f);
                        html_run_label(f, run, n_reps);
                        fputs("</td><td>", f);
                        html_esc(f, job->name);
                        fprintf(f, "</td><td class=\"%s\">", html_job_failed(job) ? "bad" : "");
                        html_esc(f, job_reason_to_string(job->reason) ?: "?");
                        if (job->reason == REASON_EXIT && job->exit_code != 0)
                                fprintf(f, " %d", job->exit_code);
                        if (job->escaped)
                                fputs(" <span class=\"bad\" title=\"a process got out of the job's groups: "
                                      "its limits and figures did not hold\">ESCAPED</span>",
                                      f);
                        fputs("</td><td>", f);
                        html_esc(f, job->applied_cpus ?: "–");
                        if (ncpu)
                                fprintf(f, " (%u)", ncpu);
                        fprintf(f, "</td><td class=\"num\">%s</td><td class=\"num\">",
                                html_dur(a, sizeof a, job->wall_s));
                        /* CPU % of what was allocated: 100 % = every allotted CPU busy all along. */
                        if (ncpu && job->wall_s > 0)
                                fprintf(f, "%.0f %%", (job->user_s + job->sys_s) / job->wall_s / ncpu * 100);
                        else
                                fputs("–", f);
                        /* Peak as a share of the limit: how close the job came to an OOM kill. */
                        bool limited =
                                job->applied_memory_bytes != UINT64_MAX && job->applied_memory_bytes > 0;
                        double share =
                                limited && job->peak_bytes != UINT64_MAX
                                        ? (double)job->peak_bytes / (double)job->applied_memory_bytes * 100
                                        : NAN;
                        fprintf(f, "</td><td class=\"num%s\">%s / %s", share >= 90 ? " bad" : "",
                                html_size(b, sizeof b, job->peak_bytes),
                                limited ? format_size(c, sizeof c, job->applied_memory_bytes) : "none");
                        if (isfinite(share))
                                fprintf(f, " (%.0f %%)", share);
                        fprintf(f, "</td><td class=\"num\">%s</td></tr>\n",
                                html_size(d, sizeof d, job->pss_peak_bytes));
                }
        }
        fputs("</table>\n<p class=\"meta\">CPU % = (user + system CPU time) / wall time / allotted "
              "CPUs; memory: the group's peak against its limit, in % of the limit (red from 90 %).</p>\n"
              "</section>\n",
              f);
}

int report_html(const Result *r, const char *dir, FILE *f) {
        JobSeries *s = NULL;
        Slowdowns *d = NULL;
        size_t n = 0;
        int k = report_job_series(r, &s, &n);
        if (k < 0)
                return k;
        k = report_slowdowns(s, n, &d);
        if (k < 0) {
                report_job_series_free(s, n);
                return k;
        }
        size_t n_reps = n_repetitions(r);
        colors_init(r);
        header(f, r);
        fputs("<section id=\"overview\">\n<h2>Overview</h2>\n", f);
        overview_counts(f, r);
        overview_interference(f, d);
        fputs("</section>\n", f);
        {
                /* only when there is a sweep: the section is written to a buffer first */
                char *buf = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&buf, &len);
                if (m) {
                        html_sweep_chart(m, d);
                        fclose(m);
                        if (len > 0)
                                fprintf(f, "<section id=\"sweep\">\n<h2>Sweep</h2>\n<p class=\"meta\">How "
                                           "interference grows with the number of copies: each point is a run "
                                           "configuration's median over its repetitions.</p>\n%s</section>\n",
                                        buf);
                        free(buf);
                }
        }
        if (n_reps > 1) {
                fputs("<section id=\"repetitions\">\n<h2>Repetitions</h2>\n<p class=\"meta\">Each repetition's wall "
                      "time (a dot; warm-ups and failed runs left out) and the median (a line), per job and "
                      "configuration.</p>\n",
                      f);
                html_strip_chart(f, s, n);
                fputs("</section>\n", f);
        }
        timeline_section(f, r, n_reps);
        memory_section(f, r, dir, n_reps);
        html_gpu_section(f, r, dir, n_reps);
        k = side_by_side_section(f, s, n);
        if (k >= 0)
                k = slowdown_section(f, d);
        if (k >= 0) {
                allocation_section(f, r, n_reps);
                fputs("<p class=\"meta\">Also in this directory: result.json (everything), results.csv (one "
                      "row per job run), summary.md.</p>\n</main>\n</body>\n</html>\n",
                      f);
        }
        colors_done();
        slowdowns_free(d);
        report_job_series_free(s, n);
        if (k >= 0 && ferror(f))
                k = -EIO;
        return k;
}
