/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/compare.h"
#include "report/csv.h"
#include "report/html.h"
#include "report/slowdown.h"
#include "report/summary.h"
#include "stats/interference.h"
#include "util/cpuset.h"
#include "util/macros.h"
#include "util/parse.h"

/* Bounds on what a (possibly huge or hostile) results directory makes us draw and read. */
#define MAX_CHART_RUNS 100
#define MAX_POINTS 400
#define SAMPLES_MAX_BYTES (64u << 20)

#define SVG_W 1000
#define LABEL_W 170
#define PLOT_W (SVG_W - LABEL_W - 20)

static const char *const job_colors[] = {"#4e79a7", "#59a14f", "#b07aa1", "#76b7b2",
                                         "#9c755f", "#edc948", "#ff9da7", "#bab0ac"};
static const char *const phase_colors[] = {"#a0cbe8", "#8cd17d", "#d4a6c8", "#86bcb6", "#f1ce63", "#d7b5a6"};

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
        "svg .marker.oom{fill:#d62728}svg .marker.timeout{fill:#ff7f0e}\n"
        "svg .freeze{fill:#6a3d9a}svg .event{fill:#555}\n"
        "svg .limit{stroke:#d62728;stroke-dasharray:6 4;stroke-width:1.5}\n"
        "svg .highmark{stroke-dasharray:2 3;stroke-width:1.5}\n"
        "svg .series{fill:none;stroke-width:1.8}svg .one{stroke:#1d2530;stroke-dasharray:4 3}\n"
        "svg.pbar{border:0;border-radius:0;margin:0;display:inline-block;vertical-align:middle;"
        "background:#eef1f5}\n"
        ".legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;color:#3b4756;margin:2px 0 10px}\n"
        ".legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;"
        "vertical-align:-1px}\n";

/* Every string that came from the result goes through here: job names and commands
 * are the user's and may hold markup. */
static void esc(FILE *f, const char *s) {
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

static const char *dur(char *buf, size_t n, double s) {
        if (!isfinite(s) || s < 0)
                return "–";
        return format_duration(buf, n, (uint64_t)llround(s * 1e6));
}

static const char *size_or_dash(char *buf, size_t n, uint64_t v) {
        return v == UINT64_MAX ? "–" : format_size(buf, n, v);
}

/* 1, 2 or 5 × 10^k so that range has about target ticks. */
static double nice_step(double range, unsigned target) {
        if (!(range > 0))
                return 1;
        double raw = range / target, p = pow(10, floor(log10(raw))), m = raw / p;
        return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* A job keeps its colour in every chart and run: picked by its base name, not its lane. */
static const char *job_color(const JobResult *j) {
        unsigned h = 5381;
        for (const char *c = j->base_name ?: j->name ?: ""; *c; c++)
                h = h * 33 + (unsigned char)*c;
        return job_colors[h % ELEMENTSOF(job_colors)];
}

static bool job_failed(const JobResult *j) {
        return j->reason != REASON_EXIT || j->exit_code != 0;
}

static void run_label(FILE *f, const RunResult *run, size_t n_reps) {
        esc(f, run->scenario);
        if (run->solo && run->n_jobs == 1) {
                fputc(' ', f);
                esc(f, run->jobs[0].base_name ?: run->jobs[0].name);
        }
        if (run->replicas > 1)
                fprintf(f, " r=%u", run->replicas);
        if (run->params) {
                fputc(' ', f);
                esc(f, run->params);
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
                esc(f, r->name);
        }
        fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>corun report", css);
        if (r->name) {
                fputs(": ", f);
                esc(f, r->name);
        }
        fputs("</h1>\n<p class=\"meta\">", f);
        esc(f, r->started_at ?: "unknown start");
        fputs(" · host ", f);
        esc(f, r->host.hostname ?: "?");
        fputs(" · ", f);
        esc(f, r->host.cpu_model ?: "unknown CPU");
        fprintf(f, " (%u CPUs) · ", r->host.n_cpus_online);
        esc(f, r->host.kernel ?: "unknown kernel");
        fputs(" · backend ", f);
        esc(f, r->backend ?: "?");
        fputs(" · corun ", f);
        esc(f, r->corun_version ?: "?");
        fputs("</p>\n", f);
        if (r->command_line) {
                fputs("<p class=\"meta\"><code>", f);
                esc(f, r->command_line);
                fputs("</code></p>\n", f);
        }
        if (r->partial)
                fputs("<p class=\"warn\">This run did not finish (partial result): only the finished jobs "
                      "are "
                      "shown.</p>\n",
                      f);
        for (char **w = r->warnings; w && *w; w++) {
                fputs("<p class=\"warn\">", f);
                esc(f, *w);
                fputs("</p>\n", f);
        }
}

static void card(FILE *f, const char *cls, const char *value, const char *what) {
        fprintf(f, "<div class=\"card %s\"><b>", cls);
        esc(f, value);
        fprintf(f, "</b>%s</div>\n", what);
}

static void overview_counts(FILE *f, const Result *r) {
        size_t n_jobs = 0, n_failed = 0, by_reason[_REASON_MAX] = {};
        size_t n_nonzero = 0;
        for (size_t i = 0; i < r->n_runs; i++)
                for (size_t j = 0; j < r->runs[i].n_jobs; j++) {
                        const JobResult *job = &r->runs[i].jobs[j];
                        n_jobs++;
                        if (!job_failed(job))
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
        esc(f, config);
        fputs("</td><td>", f);
        esc(f, job);
        if (phase) {
                fputs("</td><td>", f);
                esc(f, phase);
        }
        fprintf(f, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num%s\">",
                dur(a, sizeof a, shared), dur(b, sizeof b, solo), isfinite(slowdown) && slowdown >= 1.1 ? " bad" : "");
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
        static const RowStyle html = {"<tr><td>", "</td><td class=\"num\">", "</td></tr>\n", esc, "×", "–"};
        for (size_t c = 0; c < d->n_configs; c++)
                report_system_row(f, &html, &d->configs[c]);
        fputs("</table>\n<p class=\"meta\">slowdown = median shared wall / median solo wall over the "
              "repetitions that exited 0; STP = Σ solo/shared (n = no interference); ANTT = mean "
              "slowdown (1 = none).</p>\n",
              f);
}

/* ---- timeline ---- */

static void run_span(const RunResult *run, double *t0, double *t1) {
        *t0 = run->started_s;
        *t1 = run->ended_s;
        for (size_t j = 0; j < run->n_jobs; j++) {
                *t0 = MIN(*t0, run->jobs[j].started_s);
                *t1 = MAX(*t1, run->jobs[j].ended_s);
        }
        if (!(*t1 > *t0))
                *t1 = *t0 + 1;
}

static void time_axis(FILE *f, double span, double height, double top) {
        double step = nice_step(span, 8);
        fputs("<g class=\"axis\">", f);
        for (double t = 0; t <= span * 1.0001; t += step) {
                double x = LABEL_W + t / span * PLOT_W;
                char b[32];
                fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, top,
                        x, top + height);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x,
                        top + height + 14, dur(b, sizeof b, t));
        }
        fputs("</g>\n", f);
}

/* The priority protector's freezes of this job in this run, as marks under its bar. */
static void lane_events(FILE *f, const Result *r, size_t run, const JobResult *j, double t0, double span,
                        double y) {
        char b[32];
        for (size_t e = 0; e < r->n_events; e++) {
                const EventResult *ev = &r->events[e];
                if (ev->run != (int)run || !ev->job || !streq(ev->job, j->name) || !isfinite(ev->t_s))
                        continue;
                double w = isfinite(ev->duration_s) && ev->duration_s > 0 ? ev->duration_s : 0;
                fprintf(f,
                        "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"4\"><title>",
                        ev->action && streq(ev->action, "freeze") ? "freeze" : "event",
                        LABEL_W + (ev->t_s - t0) / span * PLOT_W, y + 19, MAX(w / span * PLOT_W, 1.0));
                esc(f, ev->action ? ev->action : "event");
                fprintf(f, " %s: ", dur(b, sizeof b, w));
                esc(f, ev->detail ? ev->detail : "");
                fputs("</title></rect>", f);
        }
}

static void lane(FILE *f, const Result *r, size_t run, const JobResult *j, double t0, double span, double y) {
        double x0 = LABEL_W + (j->started_s - t0) / span * PLOT_W;
        double x1 = LABEL_W + (j->ended_s - t0) / span * PLOT_W;
        double w = MAX(x1 - x0, 1.0);
        char b[32];
        const char *reason = job_reason_to_string(j->reason) ?: "unknown";
        fputs("<g class=\"lane\">", f);
        fprintf(f, "<text x=\"8\" y=\"%.1f\">", y + 14);
        esc(f, j->name);
        fputs("</text>", f);
        fprintf(f,
                "<rect class=\"bar reason-%s%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" "
                "rx=\"3\" "
                "fill=\"%s\"><title>",
                reason, job_failed(j) ? " failed" : "", x0, y, w, job_color(j));
        esc(f, j->name);
        fprintf(f, ": %s, %s", dur(b, sizeof b, j->wall_s), reason);
        if (j->reason == REASON_EXIT)
                fprintf(f, " %d", j->exit_code);
        fputs("\n", f);
        esc(f, j->command);
        fputs("</title></rect>", f);
        for (size_t p = 0; p < j->n_phases; p++) {
                const PhaseResult *ph = &j->phases[p];
                double ps = j->started_s + ph->start_s - t0;
                double pw = ph->unfinished ? j->ended_s - j->started_s - ph->start_s : ph->wall_s;
                if (!isfinite(ps) || !isfinite(pw) || pw < 0)
                        continue;
                fprintf(f,
                        "<rect class=\"phase\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" "
                        "fill=\"%s\">"
                        "<title>",
                        LABEL_W + ps / span * PLOT_W, y + 4, MAX(pw / span * PLOT_W, 1.0),
                        phase_colors[p % ELEMENTSOF(phase_colors)]);
                esc(f, ph->name);
                fprintf(f, ": %s%s</title></rect>", dur(b, sizeof b, pw),
                        ph->unfinished ? " (unfinished)" : "");
        }
        const char *marker = j->reason == REASON_OOM                                          ? "oom"
                             : j->reason == REASON_TIMEOUT || j->reason == REASON_CPU_TIMEOUT ? "timeout"
                                                                                              : NULL;
        if (marker)
                fprintf(f,
                        "<path class=\"marker %s\" d=\"M%.1f %.1f l-6 -7 h12 z\"><title>%s</title></path>",
                        marker, x0 + w, y + 6, marker);
        lane_events(f, r, run, j, t0, span, y);
        fputs("</g>\n", f);
}

static void timelines(FILE *f, const Result *r, size_t n_reps) {
        fputs("<section id=\"timeline\">\n<h2>Timeline</h2>\n<p class=\"meta\">One lane per job from its "
              "start "
              "to its end; inner segments are phases; <span style=\"color:#d62728\">▼</span> out of memory, "
              "<span style=\"color:#ff7f0e\">▼</span> timeout; <span style=\"color:#6a3d9a\">▬</span> under a "
              "lane: frozen by the priority protector. Hover for details.</p>\n",
              f);
        for (size_t i = 0; i < r->n_runs && i < MAX_CHART_RUNS; i++) {
                const RunResult *run = &r->runs[i];
                double t0, t1;
                run_span(run, &t0, &t1);
                double span = t1 - t0, h = 10 + run->n_jobs * 26.0;
                fputs("<h3>", f);
                run_label(f, run, n_reps);
                fputs("</h3>\n", f);
                fprintf(f,
                        "<svg class=\"gantt\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                        "xmlns=\"http://www.w3.org/2000/svg\">\n",
                        SVG_W, h + 24, SVG_W, h + 24);
                time_axis(f, span, h, 4);
                for (size_t j = 0; j < run->n_jobs; j++)
                        lane(f, r, i, &run->jobs[j], t0, span, 10 + j * 26.0);
                fputs("</svg>\n", f);
        }
        if (r->n_runs > MAX_CHART_RUNS)
                fprintf(f, "<p class=\"muted\">%zu more runs not drawn (results.csv has them all).</p>\n",
                        r->n_runs - MAX_CHART_RUNS);
        fputs("</section>\n", f);
}

/* ---- memory over time ---- */

typedef struct Points {
        double *t;
        double *v;
        size_t n;
} Points;

static void points_done(Points *p) {
        free(p->t);
        free(p->v);
        *p = (Points){};
}

/* A sample path from result.json must stay inside the results directory. */
static bool safe_relative(const char *p) {
        return p && *p && p[0] != '/' && !strstr(p, "..");
}

static int column_index(char *header, const char *name) {
        int i = 0;
        for (char *save = NULL, *c = strtok_r(header, ",\n", &save); c;
             c = strtok_r(NULL, ",\n", &save), i++)
                if (streq(c, name))
                        return i;
        return -1;
}

/* Reads t_s and memory_current_bytes of a samples CSV; bad lines are skipped (a sampler
 * killed mid-line leaves a torn last line). */
static int read_samples(const char *dir, const char *rel, Points *ret) {
        _cleanup_free_ char *path = NULL;
        if (!safe_relative(rel))
                return -EINVAL;
        if (asprintf(&path, "%s/%s", dir, rel) < 0)
                return -ENOMEM;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_fclose_ FILE *f = fdopen(fd, "re");
        if (!f) {
                close(fd);
                return -errno;
        }
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, total = 0;
        ssize_t len = getline(&line, &cap, f);
        if (len < 0)
                return -ENODATA;
        /* column_index() cuts its argument up: one copy per look-up. */
        _cleanup_free_ char *copy = strdup(line);
        if (!copy)
                return -ENOMEM;
        int ct = column_index(line, "t_s"), cm = column_index(copy, "memory_current_bytes");
        if (ct < 0 || cm < 0)
                return -EBADMSG;
        Points p = {};
        size_t alloc = 0;
        while ((len = getline(&line, &cap, f)) > 0) {
                total += (size_t)len;
                if (total > SAMPLES_MAX_BYTES)
                        break;
                double t = NAN, v = NAN;
                int i = 0;
                for (char *save = NULL, *c = strtok_r(line, ",\n", &save); c;
                     c = strtok_r(NULL, ",\n", &save), i++)
                        if (i == ct)
                                (void)parse_double(c, &t);
                        else if (i == cm) {
                                uint64_t u;
                                if (parse_u64(c, &u) >= 0)
                                        v = (double)u;
                        }
                if (!isfinite(t) || !isfinite(v))
                        continue;
                if (p.n == alloc) {
                        alloc = alloc ? alloc * 2 : 256;
                        double *nt = realloc(p.t, alloc * sizeof *nt);
                        if (nt)
                                p.t = nt;
                        double *nv = realloc(p.v, alloc * sizeof *nv);
                        if (nv)
                                p.v = nv;
                        if (!nt || !nv) {
                                points_done(&p);
                                return -ENOMEM;
                        }
                }
                p.t[p.n] = t;
                p.v[p.n++] = v;
        }
        *ret = p;
        return 0;
}


/* A horizontal line across a memory chart at `bytes` (none for UINT64_MAX): the job's
 * limit, or its high mark in its own colour. */
static void mark_line(FILE *f, const char *cls, const char *color, const char *job, const char *what,
                      uint64_t bytes, double top, double h, double vtop) {
        char b[32];
        if (bytes == UINT64_MAX)
                return;
        double y = top + h - (double)bytes / vtop * h;
        fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"", cls, LABEL_W, y,
                LABEL_W + PLOT_W, y);
        if (color)
                fprintf(f, " stroke=\"%s\"", color);
        fputs("><title>", f);
        esc(f, job);
        fprintf(f, " %s %s</title></line>\n", what, format_size(b, sizeof b, bytes));
}

static void memory_chart(FILE *f, const char *dir, const RunResult *run, size_t n_reps) {
        Points *pts = calloc(run->n_jobs, sizeof *pts);
        if (!pts)
                return;
        double t0, t1, vmax = 0;
        run_span(run, &t0, &t1);
        size_t n_series = 0;
        for (size_t j = 0; j < run->n_jobs; j++) {
                const JobResult *job = &run->jobs[j];
                if (!job->samples_csv || read_samples(dir, job->samples_csv, &pts[j]) < 0)
                        continue;
                n_series += pts[j].n > 0;
                for (size_t k = 0; k < pts[j].n; k++)
                        vmax = MAX(vmax, pts[j].v[k]);
                if (job->applied_memory_bytes != UINT64_MAX)
                        vmax = MAX(vmax, (double)job->applied_memory_bytes);
                if (job->applied_memory_high_bytes != UINT64_MAX)
                        vmax = MAX(vmax, (double)job->applied_memory_high_bytes);
                vmax = MAX(vmax, (double)job->peak_bytes);
        }
        if (n_series == 0)
                goto out;
        const double top = 8, h = 180;
        double span = t1 - t0, vtop = vmax * 1.08;
        char b[32];
        fputs("<h3>", f);
        run_label(f, run, n_reps);
        fputs("</h3>\n", f);
        fprintf(f,
                "<svg class=\"memchart\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n",
                SVG_W, h + top + 24, SVG_W, h + top + 24);
        time_axis(f, span, h, top);
        fputs("<g class=\"axis\">", f);
        double vstep = nice_step(vtop, 4);
        for (double v = 0; v <= vtop; v += vstep)
                fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LABEL_W - 6,
                        top + h - v / vtop * h + 4, format_size(b, sizeof b, (uint64_t)v));
        fputs("</g>\n", f);
        for (size_t j = 0; j < run->n_jobs; j++) {
                const JobResult *job = &run->jobs[j];
                const char *color = job_color(job);
                mark_line(f, "limit", NULL, job->name, "limit", job->applied_memory_bytes, top, h, vtop);
                mark_line(f, "highmark", color, job->name,
                          job->memory_high_emulated ? "high mark (emulated)" : "high mark",
                          job->applied_memory_high_bytes, top, h, vtop);
                if (pts[j].n == 0)
                        continue;
                fprintf(f, "<polyline class=\"series\" stroke=\"%s\" points=\"", color);
                /* Long runs have thousands of samples; every stride-th is enough for 700 px. */
                size_t stride = pts[j].n / MAX_POINTS + 1;
                for (size_t k = 0; k < pts[j].n; k += stride) {
                        double t = job->started_s - t0 + pts[j].t[k];
                        fprintf(f, "%.1f,%.1f ", LABEL_W + MIN(t / span, 1.0) * PLOT_W,
                                top + h - pts[j].v[k] / vtop * h);
                }
                fputs("\"><title>", f);
                esc(f, job->name);
                fprintf(f, " peak %s</title></polyline>\n", format_size(b, sizeof b, job->peak_bytes));
        }
        fputs("</svg>\n<div class=\"legend\">", f);
        for (size_t j = 0; j < run->n_jobs; j++) {
                fprintf(f, "<span><i style=\"background:%s\"></i>", job_color(&run->jobs[j]));
                esc(f, run->jobs[j].name);
                fprintf(f, " (peak %s)</span>", format_size(b, sizeof b, run->jobs[j].peak_bytes));
        }
        fputs("<span><i style=\"background:#d62728\"></i>limit</span></div>\n", f);
out:
        for (size_t j = 0; j < run->n_jobs; j++)
                points_done(&pts[j]);
        free(pts);
}

static void memory_section(FILE *f, const Result *r, const char *dir, size_t n_reps) {
        fputs("<section id=\"memory\">\n<h2>Memory over time</h2>\n<p class=\"meta\">The cgroup's memory "
              "usage (memory.current) per job as sampled during the run; dashed red: the job's limit; "
              "dotted in the job's colour: its high mark (memory_high).</p>\n",
              f);
        if (!dir)
                fputs("<p class=\"muted\">No results directory: samples not read.</p>\n", f);
        for (size_t i = 0; dir && i < r->n_runs && i < MAX_CHART_RUNS; i++)
                memory_chart(f, dir, &r->runs[i], n_reps);
        fputs("</section>\n", f);
}

/* ---- slowdown bars ---- */

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
                                                w, phase_colors[p % ELEMENTSOF(phase_colors)], one, one);
                                }
                                fputs("</td></tr>\n", f);
                        }
                }
        fputs("</table>\n<p class=\"meta\">A phase's time in one run is the total of its occurrences; "
              "runs that did not finish the phase are left out.</p>\n",
              f);
}

static int slowdown_section(FILE *f, const Slowdowns *d) {
        /* Bars in the order of the configurations; groups: the jobs of one configuration. */
        size_t n_bars = 0;
        double vmax = 1.0;
        for (size_t c = 0; c < d->n_configs; c++)
                for (size_t j = 0; j < d->configs[c].metrics->n_jobs; j++) {
                        double v = d->configs[c].metrics->jobs[j].slowdown;
                        if (isfinite(v)) {
                                n_bars++;
                                vmax = MAX(vmax, v);
                        }
                }
        fputs("<section id=\"slowdown\">\n<h2>Slowdown against solo</h2>\n", f);
        if (n_bars == 0) {
                fputs("<p class=\"muted\">No job has a solo baseline.</p>\n", f);
                phase_table(f, d);
                fputs("</section>\n", f);
                return 0;
        }
        const double top = 10, h = 200, bar_w = 26;
        double vtop = ceil(vmax * 1.15 * 4) / 4;
        double width = LABEL_W + 40 + n_bars * (bar_w + 6) + n_bars * 12.0;
        width = MAX(width, 500);
        fprintf(f,
                "<svg class=\"bars\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n",
                width, h + top + 60, width, h + top + 60);
        fputs("<g class=\"axis\">", f);
        for (double v = 0; v <= vtop + 1e-9; v += nice_step(vtop, 5))
                fprintf(f,
                        "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/><text x=\"%d\" "
                        "y=\"%.1f\" text-anchor=\"end\">%.2g×</text>",
                        LABEL_W - 40, top + h - v / vtop * h, width - 10, top + h - v / vtop * h,
                        LABEL_W - 44, top + h - v / vtop * h + 4, v);
        fputs("</g>\n", f);
        /* A configuration gets one colour for all its bars (in order, those with any bar). */
        _cleanup_free_ size_t *color = calloc(d->n_configs, sizeof *color);
        _cleanup_free_ const char **bases = calloc(n_bars, sizeof *bases);
        size_t n_colored = 0, n_bases = 0;
        if (!color || !bases)
                return -ENOMEM;
        for (size_t c = 0; c < d->n_configs; c++) {
                bool any = false;
                for (size_t j = 0; j < d->configs[c].metrics->n_jobs; j++) {
                        const char *base = d->configs[c].series[j]->base_name;
                        if (!isfinite(d->configs[c].metrics->jobs[j].slowdown))
                                continue;
                        any = true;
                        size_t b = 0;
                        while (b < n_bases && !streq(bases[b], base))
                                b++;
                        if (b == n_bases)
                                bases[n_bases++] = base;
                }
                color[c] = any ? n_colored++ : SIZE_MAX;
        }
        /* Groups: the jobs (by their name in the file); in a group, one bar per
         * configuration and copy, coloured by configuration. */
        double x = LABEL_W - 30;
        for (size_t b = 0; b < n_bases; b++) {
                for (size_t c = 0; c < d->n_configs; c++) {
                        const SlowdownConfig *sc = &d->configs[c];
                        for (size_t j = 0; j < sc->metrics->n_jobs; j++) {
                                const InterferenceJob *m = &sc->metrics->jobs[j];
                                if (!isfinite(m->slowdown) || !streq(sc->series[j]->base_name, bases[b]))
                                        continue;
                                double bh = m->slowdown / vtop * h;
                                fprintf(f,
                                        "<g class=\"group\"><rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
                                        "width=\"%.0f\" height=\"%.1f\" fill=\"%s\"><title>",
                                        x, top + h - bh, bar_w, bh,
                                        job_colors[color[c] % ELEMENTSOF(job_colors)]);
                                esc(f, m->name);
                                fputs(" in ", f);
                                esc(f, sc->config);
                                fprintf(f,
                                        ": %.2f×</title></rect><text x=\"%.1f\" y=\"%.1f\" "
                                        "text-anchor=\"middle\">%.2f</text>",
                                        m->slowdown, x + bar_w / 2, top + h - bh - 4, m->slowdown);
                                fprintf(f,
                                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                                        "transform=\"rotate(-35 %.1f %.1f)\">",
                                        x + bar_w / 2, top + h + 14, x + bar_w / 2, top + h + 14);
                                esc(f, m->name);
                                fputs("</text></g>\n", f);
                                x += bar_w + 6;
                        }
                }
                x += 12; /* the gap between two jobs' groups */
        }
        double y1 = top + h - 1.0 / vtop * h;
        fprintf(f,
                "<line class=\"one\" x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"><title>1.0 = solo speed"
                "</title></line>\n</svg>\n<div class=\"legend\">",
                LABEL_W - 40, y1, width - 10, y1);
        for (size_t c = 0; c < d->n_configs; c++) {
                if (color[c] == SIZE_MAX)
                        continue;
                fprintf(f, "<span><i style=\"background:%s\"></i>",
                        job_colors[color[c] % ELEMENTSOF(job_colors)]);
                esc(f, d->configs[c].config);
                fputs("</span>", f);
        }
        fputs("<span>- - - 1.0 = solo</span></div>\n", f);
        phase_table(f, d);
        fputs("</section>\n", f);
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
                        run_label(f, run, n_reps);
                        fputs("</td><td>", f);
                        esc(f, job->name);
                        fprintf(f, "</td><td class=\"%s\">", job_failed(job) ? "bad" : "");
                        esc(f, job_reason_to_string(job->reason) ?: "?");
                        if (job->reason == REASON_EXIT && job->exit_code != 0)
                                fprintf(f, " %d", job->exit_code);
                        fputs("</td><td>", f);
                        esc(f, job->applied_cpus ?: "–");
                        if (ncpu)
                                fprintf(f, " (%u)", ncpu);
                        fprintf(f, "</td><td class=\"num\">%s</td><td class=\"num\">",
                                dur(a, sizeof a, job->wall_s));
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
                                size_or_dash(b, sizeof b, job->peak_bytes),
                                limited ? format_size(c, sizeof c, job->applied_memory_bytes) : "none");
                        if (isfinite(share))
                                fprintf(f, " (%.0f %%)", share);
                        fprintf(f, "</td><td class=\"num\">%s</td></tr>\n",
                                size_or_dash(d, sizeof d, job->pss_peak_bytes));
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
        header(f, r);
        fputs("<section id=\"overview\">\n<h2>Overview</h2>\n", f);
        overview_counts(f, r);
        overview_interference(f, d);
        fputs("</section>\n", f);
        timelines(f, r, n_reps);
        memory_section(f, r, dir, n_reps);
        k = slowdown_section(f, d);
        if (k >= 0) {
                allocation_section(f, r, n_reps);
                fputs("<p class=\"meta\">Also in this directory: result.json (everything), results.csv (one "
                      "row per job run), summary.md.</p>\n</main>\n</body>\n</html>\n",
                      f);
        }
        slowdowns_free(d);
        report_job_series_free(s, n);
        if (k >= 0 && ferror(f))
                k = -EIO;
        return k;
}

/* ---- writing the files ---- */

typedef int (*WriteFn)(const Result *r, const char *dir, FILE *f);

static int write_html(const Result *r, const char *dir, FILE *f) {
        return report_html(r, dir, f);
}
static int write_md(const Result *r, const char *dir _unused_, FILE *f) {
        return report_summary_markdown(r, f);
}
static int write_csv(const Result *r, const char *dir _unused_, FILE *f) {
        return report_csv(r, f);
}

/* Temporary file beside the target, then rename: a reader never sees half a report. No
 * fsync: these files are derived from result.json (which is synced) and `corun report
 * DIR` makes them again; syncing three files cost about 0.8 ms of every run here. */
static int write_atomic(const Result *r, const char *dir, const char *name, WriteFn fn, char **ret_error) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0 || asprintf(&tmp, "%s/.%s.XXXXXX", dir, name) < 0)
                return -ENOMEM;
        int fd = mkostemp(tmp, O_CLOEXEC);
        int k = fd < 0 ? -errno : 0;
        FILE *f = NULL;
        if (k >= 0) {
                (void)fchmod(fd, 0644);
                f = fdopen(fd, "we");
                if (!f) {
                        k = -errno;
                        close(fd);
                }
        }
        if (k >= 0) {
                k = fn(r, dir, f);
                if (fflush(f) == EOF && k >= 0)
                        k = -errno;
                if (fclose(f) == EOF && k >= 0)
                        k = -errno;
                if (k >= 0 && rename(tmp, path) < 0)
                        k = -errno;
                if (k < 0)
                        (void)unlink(tmp);
        }
        if (k < 0 && ret_error)
                (void)asprintf(ret_error, "cannot write %s: %s", path, strerror(-k));
        return k;
}

int report_write_all(const char *dir, char **ret_error) {
        Result *r = NULL;
        int k = result_read(dir, &r, ret_error);
        if (k < 0)
                return k;
        static const struct {
                const char *name;
                WriteFn fn;
        } files[] = {
                {"report.html", write_html},
                {"summary.md", write_md},
                {"results.csv", write_csv},
        };
        for (size_t i = 0; i < ELEMENTSOF(files) && k >= 0; i++)
                k = write_atomic(r, dir, files[i].name, files[i].fn, ret_error);
        result_free(r);
        return k;
}
