/* SPDX-License-Identifier: MIT */
/* report.html's "GPU use over time": per run, each GPU job's SM share (from NVML for the
 * job's own processes) and its memory on the GPU against the GPU's size, from the
 * samples/<...>.gpu.csv series the runner writes (docs/gpu.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/html-internal.h"
#include "util/fileio.h"
#include "util/macros.h"
#include "util/parse.h"

#define GPU_SAMPLES_MAX (64u << 20)
#define MAX_POINTS 700

typedef struct GpuPoint {
        double t_s, share;
        uint64_t memory;
} GpuPoint;

typedef struct GpuSeries {
        GpuPoint *p;
        size_t n;
} GpuSeries;

/* t_s,gpu,sm_share,memory_bytes; rows of one time (one per GPU of the job) are summed. */
static int read_series(const char *dir, const char *rel, GpuSeries *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        *ret = (GpuSeries){0};
        if (!rel || !*rel || rel[0] == '/' || strstr(rel, ".."))
                return -EINVAL;
        if (asprintf(&path, "%s/%s", dir, rel) < 0)
                return -ENOMEM;
        int r = read_full_file(path, GPU_SAMPLES_MAX, &text, NULL);
        if (r < 0)
                return r;
        size_t cap = 0;
        for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line, '\n')) {
                line++;
                double t, share;
                unsigned gpu;
                uint64_t mem;
                if (sscanf(line, "%lf,%u,%lf,%" SCNu64, &t, &gpu, &share, &mem) != 4)
                        continue;
                if (ret->n > 0 && ret->p[ret->n - 1].t_s == t) {
                        ret->p[ret->n - 1].share += share;
                        ret->p[ret->n - 1].memory += mem;
                        continue;
                }
                if (ret->n == cap) {
                        cap = cap ? 2 * cap : 256;
                        GpuPoint *g = realloc(ret->p, cap * sizeof *g);
                        if (!g)
                                return -ENOMEM;
                        ret->p = g;
                }
                ret->p[ret->n++] = (GpuPoint){t, share, mem};
        }
        return 0;
}

static void chart(FILE *f, const RunResult *run, const GpuSeries *s, double t0, double span, bool memory,
                  double vtop) {
        const double top = 8, h = 140;
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
                memory ? "memory on the GPU (the top line: the GPU's size)" : "SM share of the GPU");
        fputs("</g>\n", f);
        if (memory) {
                uint64_t size = 0;
                for (size_t j = 0; j < run->n_jobs; j++)
                        for (size_t g = 0; g < run->jobs[j].n_gpus; g++)
                                size = MAX(size, run->jobs[j].gpus[g].memory_total_bytes);
                double y = top + h - (double)size / vtop * h;
                fprintf(f, "<line class=\"limit\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"><title>GPU size %s</title></line>\n",
                        LABEL_W, y, LABEL_W + PLOT_W, y, format_size(b, sizeof b, size));
        }
        for (size_t j = 0; j < run->n_jobs; j++) {
                const JobResult *job = &run->jobs[j];
                if (s[j].n == 0)
                        continue;
                fprintf(f, "<polyline class=\"series\" stroke=\"%s\" points=\"", html_job_color(job));
                size_t stride = s[j].n / MAX_POINTS + 1;
                for (size_t k = 0; k < s[j].n; k += stride) {
                        double t = job->started_s - t0 + s[j].p[k].t_s;
                        double v = memory ? (double)s[j].p[k].memory : s[j].p[k].share;
                        fprintf(f, "%.1f,%.1f ", LABEL_W + MIN(MAX(t / span, 0.0), 1.0) * PLOT_W,
                                top + h - MIN(v / vtop, 1.0) * h);
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
                        fprintf(f, " (GPU %u%s, SM %.1f%% mean)</span>", job->gpus[0].index,
                                job->n_gpus > 1 ? " and more" : "", 100 * mean);
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
