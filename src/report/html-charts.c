/* SPDX-License-Identifier: MIT */
/* report.html, the charts: inline SVG for the timeline of each run, memory over time
 * (from the jobs' samples CSVs) and the slowdown bars. The document around them is
 * html.c. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html-internal.h"
#include "stats/stats.h"
#include "result/samples.h"
#include "stats/interference.h"
#include "util/macros.h"
#include "util/parse.h"

/* At most this many points per memory series (a bound on the page, not the data). */
#define MAX_POINTS 400

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
        double step = html_nice_step(span, 8);
        fputs("<g class=\"axis\">", f);
        for (double t = 0; t <= span * 1.0001; t += step) {
                double x = LABEL_W + t / span * PLOT_W;
                char b[32];
                fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, top,
                        x, top + height);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", x, top + height + 14,
                        t == 0 ? "start" : "middle", t == 0 ? "0 s" : html_dur(b, sizeof b, t));
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
                fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"4\"><title>",
                        ev->action && streq(ev->action, "freeze") ? "freeze" : "event",
                        LABEL_W + (ev->t_s - t0) / span * PLOT_W, y + 19, MAX(w / span * PLOT_W, 1.0));
                html_esc(f, ev->action ? ev->action : "event");
                fprintf(f, " %s: ", html_dur(b, sizeof b, w));
                html_esc(f, ev->detail ? ev->detail : "");
                fputs("</title></rect>", f);
        }
}

static void lane(FILE *f, const Result *r, size_t run, const JobResult *j, double t0, double span,
                 double y) {
        double x0 = LABEL_W + (j->started_s - t0) / span * PLOT_W;
        double x1 = LABEL_W + (j->ended_s - t0) / span * PLOT_W;
        double w = MAX(x1 - x0, 1.0);
        char b[32];
        const char *reason = job_reason_to_string(j->reason) ?: "unknown";
        fputs("<g class=\"lane\">", f);
        fprintf(f, "<text x=\"8\" y=\"%.1f\">", y + 14);
        html_esc(f, j->name);
        fputs("</text>", f);
        fprintf(f,
                "<rect class=\"bar reason-%s%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" "
                "rx=\"3\" "
                "fill=\"%s\"><title>",
                reason, html_job_failed(j) ? " failed" : "", x0, y, w, html_job_color(j));
        html_esc(f, j->name);
        fprintf(f, ": %s, %s", html_dur(b, sizeof b, j->wall_s), reason);
        if (j->reason == REASON_EXIT)
                fprintf(f, " %d", j->exit_code);
        fputs("\n", f);
        html_esc(f, j->command);
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
                        html_phase_colors[p % ELEMENTSOF(html_phase_colors)]);
                html_esc(f, ph->name);
                fprintf(f, ": %s%s</title></rect>", html_dur(b, sizeof b, pw),
                        ph->unfinished ? " (unfinished)" : "");
        }
        const char *marker = j->reason == REASON_OOM                                          ? "oom"
                             : j->reason == REASON_GPU_OOM                                    ? "gpu-oom"
                             : j->reason == REASON_TIMEOUT || j->reason == REASON_CPU_TIMEOUT ? "timeout"
                                                                                              : NULL;
        if (marker)
                fprintf(f,
                        "<path class=\"marker %s\" d=\"M%.1f %.1f l-6 -7 h12 z\"><title>%s</title></path>",
                        marker, x0 + w, y + 6, marker);
        lane_events(f, r, run, j, t0, span, y);
        fputs("</g>\n", f);
}

double html_run_span(const RunResult *run) {
        double t0, t1;
        run_span(run, &t0, &t1);
        return t1 - t0;
}

void html_timeline_chart(FILE *f, const Result *r, size_t i, double scale) {
        const RunResult *run = &r->runs[i];
        double t0, t1;
        run_span(run, &t0, &t1);
        /* one scale for every timeline of the report: a longer run looks longer */
        double span = MAX(t1 - t0, scale), h = 10 + run->n_jobs * 26.0;
        fprintf(f,
                "<svg class=\"gantt\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n",
                SVG_W, h + 24, SVG_W, h + 24);
        time_axis(f, span, h, 4);
        for (size_t j = 0; j < run->n_jobs; j++)
                lane(f, r, i, &run->jobs[j], t0, span, 10 + j * 26.0);
        fputs("</svg>\n", f);
}

/* ---- memory over time ---- */

typedef struct Series {
        SampleRow *rows;
        size_t n;
} Series;

/* A job's samples CSV (result/samples.h), its path from result.json kept inside the
 * results directory. */
static int read_job_samples(const char *dir, const char *rel, SampleRow **ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL;
        if (!rel || !*rel || rel[0] == '/' || strstr(rel, ".."))
                return -EINVAL;
        if (asprintf(&path, "%s/%s", dir, rel) < 0)
                return -ENOMEM;
        return samples_read(path, ret, ret_n);
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
        html_esc(f, job);
        fprintf(f, " %s %s</title></line>\n", what, format_size(b, sizeof b, bytes));
}

void html_memory_chart(FILE *f, const char *dir, const RunResult *run, size_t n_reps) {
        Series *pts = calloc(run->n_jobs, sizeof *pts);
        if (!pts)
                return;
        double t0, t1, vmax = 0;
        run_span(run, &t0, &t1);
        size_t n_series = 0;
        for (size_t j = 0; j < run->n_jobs; j++) {
                const JobResult *job = &run->jobs[j];
                if (job->samples_csv)
                        (void)read_job_samples(dir, job->samples_csv, &pts[j].rows, &pts[j].n);
                /* a job too short for a sample still has its line, from 0 to its peak */
                n_series += pts[j].n > 0 || job->peak_bytes > 0;
                for (size_t k = 0; k < pts[j].n; k++)
                        vmax = MAX(vmax, (double)pts[j].rows[k].memory_current_bytes);
                if (job->applied_memory_bytes != UINT64_MAX)
                        vmax = MAX(vmax, (double)job->applied_memory_bytes);
                if (job->applied_memory_high_bytes != UINT64_MAX)
                        vmax = MAX(vmax, (double)job->applied_memory_high_bytes);
                vmax = MAX(vmax, (double)job->peak_bytes);
        }
        if (n_series == 0)
                goto out;
        const double top = 8, h = 180;
        /* round binary ticks (64, 128, 192, 256 MiB), the top one at the frame's top */
        double vstep = 1024;
        while (vstep * 4 < vmax)
                vstep *= 2;
        double span = t1 - t0, vtop = MAX(ceil(vmax * 1.02 / vstep), 1.0) * vstep;
        char b[32];
        /* nothing to show (a CPU-only run): folded, with one line saying so */
        bool flat = vmax < 1024 * 1024;
        if (flat) {
                fputs("<details class=\"flat\"><summary>", f);
                html_run_label(f, run, n_reps);
                fputs(": no job used as much as 1 MiB; the chart is folded</summary>\n", f);
        }
        fputs("<h3>", f);
        html_run_label(f, run, n_reps);
        fputs("</h3>\n", f);
        fprintf(f,
                "<svg class=\"memchart\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n",
                SVG_W, h + top + 24, SVG_W, h + top + 24);
        time_axis(f, span, h, top);
        fputs("<g class=\"axis\">", f);
        for (double v = 0; v <= vtop * 1.0001; v += vstep)
                fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LABEL_W - 6,
                        top + h - v / vtop * h + 4, format_size(b, sizeof b, (uint64_t)v));
        fputs("</g>\n", f);
        for (size_t j = 0; j < run->n_jobs; j++) {
                const JobResult *job = &run->jobs[j];
                const char *color = html_job_color(job);
                mark_line(f, "limit", NULL, job->name, "limit", job->applied_memory_bytes, top, h, vtop);
                mark_line(f, "highmark", color, job->name,
                          job->memory_high_emulated ? "high mark (emulated)" : "high mark",
                          job->applied_memory_high_bytes, top, h, vtop);
                if (pts[j].n == 0 && job->peak_bytes == 0)
                        continue;
                fprintf(f, "<polyline class=\"series\" stroke=\"%s\" points=\"", color);
                /* From 0 at the job's start to its last sample at its end (its peak when it had
                 * none: a job OOM-killed after 84 ms still has its line). Long runs have thousands
                 * of samples; every stride-th is enough for 700 px. */
                double xs = LABEL_W + MIN(MAX(job->started_s - t0, 0.0) / span, 1.0) * PLOT_W;
                double xe = LABEL_W + MIN(MAX(job->ended_s - t0, 0.0) / span, 1.0) * PLOT_W;
                fprintf(f, "%.1f,%.1f ", xs, top + h);
                size_t stride = pts[j].n / MAX_POINTS + 1;
                for (size_t k = 0; k < pts[j].n; k += stride) {
                        double t = job->started_s - t0 + pts[j].rows[k].t_s;
                        fprintf(f, "%.1f,%.1f ", LABEL_W + MIN(t / span, 1.0) * PLOT_W,
                                top + h - (double)pts[j].rows[k].memory_current_bytes / vtop * h);
                }
                uint64_t last = pts[j].n ? pts[j].rows[pts[j].n - 1].memory_current_bytes : job->peak_bytes;
                fprintf(f, "%.1f,%.1f ", xe, top + h - (double)last / vtop * h);
                fputs("\"><title>", f);
                html_esc(f, job->name);
                fprintf(f, " peak %s</title></polyline>\n", format_size(b, sizeof b, job->peak_bytes));
        }
        fputs("</svg>\n<div class=\"legend\">", f);
        for (size_t j = 0; j < run->n_jobs; j++) {
                fprintf(f, "<span><i style=\"background:%s\"></i>", html_job_color(&run->jobs[j]));
                html_esc(f, run->jobs[j].name);
                fprintf(f, " (peak %s)</span>", format_size(b, sizeof b, run->jobs[j].peak_bytes));
        }
        fputs("<span><i style=\"background:#d62728\"></i>limit</span></div>\n", f);
        if (flat)
                fputs("</details>\n", f);
out:
        for (size_t j = 0; j < run->n_jobs; j++)
                free(pts[j].rows);
        free(pts);
}

int html_slowdown_chart(FILE *f, const Slowdowns *d) {
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
        if (n_bars == 0) {
                fputs("<p class=\"muted\">No job has a solo baseline.</p>\n", f);
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
        for (double v = 0; v <= vtop + 1e-9; v += html_nice_step(vtop, 5))
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
                                        html_job_colors[color[c] % ELEMENTSOF(html_job_colors)]);
                                html_esc(f, m->name);
                                fputs(" in ", f);
                                html_esc(f, sc->config);
                                fprintf(f,
                                        ": %.2f×</title></rect><text x=\"%.1f\" y=\"%.1f\" "
                                        "text-anchor=\"middle\">%.2f</text>",
                                        m->slowdown, x + bar_w / 2, top + h - bh - 4, m->slowdown);
                                fprintf(f,
                                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                                        "transform=\"rotate(-35 %.1f %.1f)\">",
                                        x + bar_w / 2, top + h + 14, x + bar_w / 2, top + h + 14);
                                html_esc(f, m->name);
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
                        html_job_colors[color[c] % ELEMENTSOF(html_job_colors)]);
                html_esc(f, d->configs[c].config);
                fputs("</span>", f);
        }
        fputs("<span>- - - 1.0 = solo</span></div>\n", f);
        return 0;
}

/* ---- repetitions: a strip plot ---- */

void html_strip_chart(FILE *f, const JobSeries *s, size_t n) {
        size_t rows = 0;
        double top = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i].n < 2)
                        continue;
                rows++;
                for (size_t k = 0; k < s[i].n; k++)
                        top = MAX(top, s[i].wall[k]);
        }
        if (rows == 0 || !(top > 0))
                return;
        double h = 10 + rows * 22.0;
        char b[32];
        fprintf(f,
                "<svg class=\"strip\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n",
                SVG_W, h + 24, SVG_W, h + 24);
        time_axis(f, top * 1.05, h, 4);
        size_t row = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i].n < 2)
                        continue;
                double y = 10 + row++ * 22.0;
                JobResult probe = {.name = (char *)s[i].job};
                fprintf(f, "<text x=\"8\" y=\"%.1f\">", y + 12);
                html_esc(f, s[i].config);
                fputs(": ", f);
                html_esc(f, s[i].job);
                fputs("</text>", f);
                double med = NAN;
                (void)stats_median(s[i].wall, s[i].n, &med);
                for (size_t k = 0; k < s[i].n; k++)
                        fprintf(f,
                                "<circle class=\"rep\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%s</title>"
                                "</circle>",
                                LABEL_W + s[i].wall[k] / (top * 1.05) * PLOT_W, y + 8, html_job_color(&probe),
                                html_dur(b, sizeof b, s[i].wall[k]));
                if (isfinite(med))
                        fprintf(f,
                                "<line class=\"median\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\">"
                                "<title>median %s</title></line>",
                                LABEL_W + med / (top * 1.05) * PLOT_W, y, LABEL_W + med / (top * 1.05) * PLOT_W, y + 16,
                                html_dur(b, sizeof b, med));
                fputc('\n', f);
        }
        fputs("</svg>\n", f);
}

/* ---- a sweep's headline chart ---- */

typedef struct SweepPoint {
        unsigned copies;
        double antt, stp, max, lo, hi; /* lo..hi: every instance's time over its solo median */
} SweepPoint;

static int point_cmp(const void *a, const void *b) {
        unsigned x = ((const SweepPoint *)a)->copies, y = ((const SweepPoint *)b)->copies;
        return x < y ? -1 : x > y;
}

static void sweep_one(FILE *f, const SweepPoint *p, size_t n, const char *scenario, const char *params) {
        double top = 1.0;
        for (size_t i = 0; i < n; i++) {
                if (isfinite(p[i].hi))
                        top = MAX(top, p[i].hi);
                if (isfinite(p[i].stp))
                        top = MAX(top, p[i].stp);
        }
        top *= 1.1;
        const double ptop = 8, h = 200;
        double xw = (double)PLOT_W / (double)n;
        fputs("<h3>", f);
        html_esc(f, scenario);
        if (params) {
                fputc(' ', f);
                html_esc(f, params);
        }
        fputs(": slowdown against the number of copies</h3>\n", f);
        fprintf(f,
                "<svg class=\"sweep\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n<g class=\"axis\">",
                SVG_W, h + ptop + 24, SVG_W, h + ptop + 24);
        double vstep = html_nice_step(top, 4);
        for (double v = 0; v <= top * 1.0001; v += vstep)
                fprintf(f,
                        "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>",
                        LABEL_W, ptop + h - v / top * h, LABEL_W + PLOT_W, ptop + h - v / top * h, LABEL_W - 6,
                        ptop + h - v / top * h + 4, v);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">\u00d7%u</text>",
                        LABEL_W + (i + 0.5) * xw, ptop + h + 16, p[i].copies);
        fputs("</g>\n", f);
        /* the spread: every instance's slowdown, min … max, per number of copies */
        for (size_t i = 0; i < n; i++)
                if (isfinite(p[i].lo) && isfinite(p[i].hi))
                        fprintf(f,
                                "<line class=\"spread\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\">"
                                "<title>\u00d7%u: every instance %.2fx \u2026 %.2fx</title></line>\n",
                                LABEL_W + (i + 0.5) * xw, ptop + h - p[i].lo / top * h, LABEL_W + (i + 0.5) * xw,
                                ptop + h - p[i].hi / top * h, p[i].copies, p[i].lo, p[i].hi);
        const struct {
                const char *name, *cls;
                size_t off;
        } lines[] = {{"ANTT (mean slowdown)", "antt", offsetof(SweepPoint, antt)},
                     {"max slowdown", "maxs", offsetof(SweepPoint, max)},
                     {"STP (solo jobs' worth of work)", "stp", offsetof(SweepPoint, stp)}};
        for (size_t l = 0; l < ELEMENTSOF(lines); l++) {
                fprintf(f, "<polyline class=\"sw %s\" points=\"", lines[l].cls);
                for (size_t i = 0; i < n; i++) {
                        double v = *(const double *)((const char *)&p[i] + lines[l].off);
                        if (isfinite(v))
                                fprintf(f, "%.1f,%.1f ", LABEL_W + (i + 0.5) * xw, ptop + h - v / top * h);
                }
                fprintf(f, "\"><title>%s</title></polyline>\n", lines[l].name);
        }
        fputs("</svg>\n<div class=\"legend\"><span><i style=\"background:#4e79a7\"></i>ANTT (mean slowdown)</span>"
              "<span><i style=\"background:#e15759\"></i>max slowdown</span><span><i style=\"background:#59a14f\">"
              "</i>STP (solo jobs' worth of work)</span><span><i style=\"background:#9aa4b1\"></i>every instance, "
              "min \u2026 max</span></div>\n",
              f);
}

void html_sweep_chart(FILE *f, const Slowdowns *d) {
        SweepPoint *p = calloc(d->n_configs ? d->n_configs : 1, sizeof *p);
        bool *done = calloc(d->n_configs ? d->n_configs : 1, sizeof *done);
        if (!p || !done)
                goto out;
        for (size_t c = 0; c < d->n_configs; c++) {
                const SlowdownConfig *g = &d->configs[c];
                if (done[c] || g->metrics->n_jobs == 0)
                        continue;
                const JobSeries *first = g->series[0];
                size_t n = 0;
                for (size_t o = c; o < d->n_configs; o++) {
                        const SlowdownConfig *x = &d->configs[o];
                        const JobSeries *xs = x->metrics->n_jobs ? x->series[0] : NULL;
                        if (done[o] || !xs || !streq(xs->scenario ?: "", first->scenario ?: "") ||
                            !streq(xs->params ?: "", first->params ?: ""))
                                continue;
                        done[o] = true;
                        SweepPoint *q = &p[n++];
                        *q = (SweepPoint){.copies = xs->replicas, .antt = x->metrics->antt, .stp = x->metrics->stp,
                                          .max = x->metrics->max_slowdown, .lo = NAN, .hi = NAN};
                        for (size_t j = 0; j < x->metrics->n_jobs; j++) {
                                double solo;
                                if (!x->solo[j] || x->solo[j]->n == 0 ||
                                    stats_median(x->solo[j]->wall, x->solo[j]->n, &solo) < 0 || !(solo > 0))
                                        continue;
                                for (size_t k = 0; k < x->series[j]->n; k++) {
                                        double v = x->series[j]->wall[k] / solo;
                                        q->lo = isfinite(q->lo) ? MIN(q->lo, v) : v;
                                        q->hi = isfinite(q->hi) ? MAX(q->hi, v) : v;
                                }
                        }
                }
                /* a sweep: two numbers of copies at least, with baselines */
                bool any = false;
                for (size_t i = 0; i < n; i++)
                        any |= isfinite(p[i].antt);
                if (n < 2 || !any)
                        continue;
                qsort(p, n, sizeof *p, point_cmp);
                sweep_one(f, p, n, first->scenario ?: "?", first->params);
        }
out:
        free(p);
        free(done);
}
