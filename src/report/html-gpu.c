/* SPDX-License-Identifier: MIT */
/* report.html's "GPU use over time": per run, each GPU job's SM share (from NVML for the
 * job's own processes) and its memory on the GPU against the GPU's size, from the
 * samples/<...>.gpu.csv series the runner writes (docs/gpu.md); beside them, dashed in the
 * job's colour, its cap or share target and its GPU memory limit. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/gpu-limit.h"
#include "report/html-internal.h"
#include "result/samples.h"
#include "util/macros.h"
#include "util/parse.h"

#define MAX_POINTS 700

typedef struct GpuPoint {
        double t_s, share;
        uint64_t memory;
        double target;         /* the share the limiter aimed at; NAN: none */
        uint64_t memory_limit; /* 0: none */
} GpuPoint;

typedef struct GpuSeries {
        GpuPoint *p;
        size_t n;
} GpuSeries;

/* NAN + x is x: a GPU without a share adds nothing to the job's target. */
static double add_target(double a, double b) {
        return isnan(a) ? b : isnan(b) ? a : a + b;
}

/* The job's samples/<...>.gpu.csv with the rows of one time (one per GPU of the job)
 * summed: shares in GPUs, as the legend's mean. */
static int read_series(const char *dir, const char *rel, GpuSeries *ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ GpuSampleRow *rows = NULL;
        size_t n = 0;
        *ret = (GpuSeries){0};
        if (!rel || !*rel || rel[0] == '/' || strstr(rel, ".."))
                return -EINVAL;
        if (asprintf(&path, "%s/%s", dir, rel) < 0)
                return -ENOMEM;
        int r = gpu_samples_read(path, &rows, &n);
        if (r < 0)
                return r;
        ret->p = calloc(MAX(n, 1u), sizeof *ret->p);
        if (!ret->p)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const GpuSampleRow *x = &rows[i];
                uint64_t limit = x->memory_limit_bytes == UINT64_MAX ? 0 : x->memory_limit_bytes;
                GpuPoint *last = ret->n ? &ret->p[ret->n - 1] : NULL;
                if (last && last->t_s == x->t_s) {
                        last->share += x->sm_share;
                        last->memory += x->memory_bytes;
                        last->target = add_target(last->target, x->share_target);
                        last->memory_limit += limit;
                        continue;
                }
                ret->p[ret->n++] = (GpuPoint){x->t_s, x->sm_share, x->memory_bytes, x->share_target, limit};
        }
        return 0;
}

/* What the limits were when the series does not say (a file of corun before GPU limits):
 * the requested shares and the memory limits, flat over the job's time. */
static void limits_of(const JobResult *job, double *ret_share, uint64_t *ret_memory) {
        double share = NAN;
        uint64_t memory = 0;
        for (size_t g = 0; g < job->n_gpus; g++)
                if (job->gpus[g].limited) {
                        if (job->gpus[g].share_requested > 0)
                                share = add_target(share, job->gpus[g].share_requested);
                        memory += job->gpus[g].memory_limit_bytes;
                }
        *ret_share = share;
        *ret_memory = memory;
}

typedef struct Frame {
        double top, h, t0, span, vtop;
} Frame;

static double x_of(const Frame *fr, double t) {
        return LABEL_W + MIN(MAX((t - fr->t0) / fr->span, 0.0), 1.0) * PLOT_W;
}
static double y_of(const Frame *fr, double v) {
        return fr->top + fr->h - MIN(MAX(v / fr->vtop, 0.0), 1.0) * fr->h;
}

static double limit_value(const GpuPoint *p, bool memory) {
        return memory ? (p->memory_limit ? (double)p->memory_limit : NAN) : p->target;
}

/* A job's cap (or share target) or memory limit: a dashed step line in the job's colour,
 * broken where there is none, with a label at its end ("cap 30%"). */
static void limit_line(FILE *f, const Frame *fr, const JobResult *job, const GpuSeries *s, bool memory) {
        char label[48] = "", b[FORMAT_SIZE_MAX];
        double flat_share;
        uint64_t flat_memory;
        limits_of(job, &flat_share, &flat_memory);
        /* The line is summed over the job's GPUs, as its share is; the label is one GPU's. */
        size_t n_limited = 0;
        for (size_t g = 0; g < job->n_gpus; g++)
                n_limited += job->gpus[g].limited;
        const JobGpuResult *sg = report_gpu_share_of(job);
        if (memory) {
                if (!flat_memory)
                        return;
                snprintf(label, sizeof label, "limit %s",
                         format_size(b, sizeof b, flat_memory / MAX(n_limited, (size_t)1)));
        } else if (!sg || !report_gpu_share_label(sg, label, sizeof label))
                return;
        if (n_limited > 1)
                snprintf(label + strlen(label), sizeof label - strlen(label), " ×%zu GPUs", n_limited);
        bool from_series = false;
        for (size_t k = 0; k < s->n && !from_series; k++)
                from_series = isfinite(limit_value(&s->p[k], memory));
        fprintf(f, "<path class=\"cap\" stroke=\"%s\" d=\"", html_job_color(job));
        double x = 0, y = 0;
        if (from_series) {
                bool pen = false;
                size_t stride = s->n / MAX_POINTS + 1;
                for (size_t k = 0; k < s->n; k += stride) {
                        double v = limit_value(&s->p[k], memory);
                        double xk = x_of(fr, job->started_s + s->p[k].t_s);
                        if (!isfinite(v)) {
                                pen = false;
                                continue;
                        }
                        double yk = y_of(fr, v);
                        if (pen)
                                fprintf(f, "H%.1f V%.1f ", xk, yk);
                        else
                                fprintf(f, "M%.1f %.1f ", xk, yk);
                        pen = true;
                        x = xk, y = yk;
                }
                double xe = x_of(fr, job->ended_s);
                if (pen && xe > x)
                        fprintf(f, "H%.1f", x = xe);
        } else {
                y = y_of(fr, memory ? (double)flat_memory : flat_share);
                x = x_of(fr, job->ended_s);
                fprintf(f, "M%.1f %.1f H%.1f", x_of(fr, job->started_s), y, x);
        }
        fputs("\"><title>", f);
        html_esc(f, job->name);
        fprintf(f, ": %s</title></path>\n", label);
        fprintf(f,
                "<text class=\"caplabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" style=\"fill:%s\">%s</text>\n",
                x, MAX(y - 3, fr->top + 9), html_job_color(job), label);
}

static void chart(FILE *f, const RunResult *run, const GpuSeries *s, double t0, double span, bool memory,
                  double vtop) {
        const Frame fr = {.top = 8, .h = 140, .t0 = t0, .span = span, .vtop = vtop};
        const double top = fr.top, h = fr.h;
        char b[32];
        fprintf(f,
                "<svg class=\"gpuchart\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n<g class=\"axis\">",
                SVG_W, h + top + 24, SVG_W, h + top + 24);
        double vstep = html_nice_step(vtop, 4);
        for (double v = 0; v <= vtop * 1.0001; v += vstep) {
                if (memory)
                        format_size(b, sizeof b, (uint64_t)v);
                else
                        snprintf(b, sizeof b, "%.0f%%", 100 * v);
                fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LABEL_W - 6,
                        top + h - v / vtop * h + 4, b);
        }
        fprintf(f, "<text x=\"%d\" y=\"%.1f\">%s</text>", LABEL_W, top + h + 18,
                memory ? "memory on the GPU (the top line: the GPU's size; dashed: a job's limit)"
                       : "SM share of the GPU (dashed: a job's cap or share target)");
        fputs("</g>\n", f);
        if (memory) {
                uint64_t size = 0;
                for (size_t j = 0; j < run->n_jobs; j++)
                        for (size_t g = 0; g < run->jobs[j].n_gpus; g++)
                                size = MAX(size, run->jobs[j].gpus[g].memory_total_bytes);
                double y = top + h - (double)size / vtop * h;
                fprintf(f,
                        "<line class=\"limit\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"><title>GPU size "
                        "%s</title></line>\n",
                        LABEL_W, y, LABEL_W + PLOT_W, y, format_size(b, sizeof b, size));
        }
        for (size_t j = 0; j < run->n_jobs; j++) {
                const JobResult *job = &run->jobs[j];
                if (s[j].n == 0)
                        continue;
                limit_line(f, &fr, job, &s[j], memory);
                fprintf(f, "<polyline class=\"series\" stroke=\"%s\" points=\"", html_job_color(job));
                size_t stride = s[j].n / MAX_POINTS + 1;
                for (size_t k = 0; k < s[j].n; k += stride) {
                        double v = memory ? (double)s[j].p[k].memory : s[j].p[k].share;
                        fprintf(f, "%.1f,%.1f ", x_of(&fr, job->started_s + s[j].p[k].t_s), y_of(&fr, v));
                }
                fputs("\"><title>", f);
                html_esc(f, job->name);
                fputs("</title></polyline>\n", f);
        }
        fputs("</svg>\n", f);
}

static void run_chart(FILE *f, const char *dir, const RunResult *run, size_t n_reps) {
        GpuSeries *s = calloc(run->n_jobs, sizeof *s);
        if (!s)
                return;
        double t0 = 0, t1 = 0, mem_top = 0;
        bool first = true;
        size_t n_series = 0;
        for (size_t j = 0; j < run->n_jobs; j++) {
                const JobResult *job = &run->jobs[j];
                if (!job->n_gpus || read_series(dir, job->gpu_samples_csv, &s[j]) < 0 || s[j].n == 0)
                        continue;
                n_series++;
                if (first || job->started_s < t0)
                        t0 = job->started_s;
                if (first || job->ended_s > t1)
                        t1 = job->ended_s;
                first = false;
                for (size_t g = 0; g < job->n_gpus; g++)
                        mem_top = MAX(mem_top, (double)job->gpus[g].memory_total_bytes);
        }
        if (n_series > 0) {
                fputs("<h3>", f);
                html_run_label(f, run, n_reps);
                fputs("</h3>\n", f);
                double span = t1 > t0 ? t1 - t0 : 1;
                chart(f, run, s, t0, span, false, 1.0);
                chart(f, run, s, t0, span, true, mem_top > 0 ? mem_top * 1.05 : 1);
                fputs("<div class=\"legend\">", f);
                for (size_t j = 0; j < run->n_jobs; j++) {
                        const JobResult *job = &run->jobs[j];
                        if (!job->n_gpus)
                                continue;
                        double mean = 0;
                        for (size_t g = 0; g < job->n_gpus; g++)
                                mean += job->gpus[g].sm_share_mean;
                        fprintf(f, "<span><i style=\"background:%s\"></i>", html_job_color(job));
                        html_esc(f, job->name);
                        fprintf(f, " (GPU %u%s, SM %.1f%% mean", job->gpus[0].index,
                                job->n_gpus > 1 ? " and more" : "", 100 * mean);
                        char label[48];
                        const JobGpuResult *sg = report_gpu_share_of(job);
                        if (sg && report_gpu_share_label(sg, label, sizeof label))
                                fprintf(f, ", %s", label);
                        fputs(")</span>", f);
                }
                fputs("</div>\n", f);
        }
        for (size_t j = 0; j < run->n_jobs; j++)
                free(s[j].p);
        free(s);
}

void html_gpu_section(FILE *f, const Result *r, const char *dir, size_t n_reps) {
        bool any = false;
        for (size_t i = 0; i < r->n_runs && !any; i++)
                for (size_t j = 0; j < r->runs[i].n_jobs && !any; j++)
                        any = r->runs[i].jobs[j].n_gpus > 0;
        if (!any)
                return;
        fputs("<section id=\"gpu\">\n<h2>GPU use over time</h2>\n<p class=\"meta\">Each GPU job's share of "
              "its GPU's time (NVML's per-process SM utilisation, for the job's own processes only, never a "
              "sum over tenants) and its memory on the GPU, per NVML sample period.</p>\n",
              f);
        if (!dir)
                fputs("<p class=\"muted\">No results directory: samples not read.</p>\n", f);
        for (size_t i = 0; dir && i < r->n_runs && i < MAX_CHART_RUNS; i++)
                run_chart(f, dir, &r->runs[i], n_reps);
        fputs("</section>\n", f);
}
