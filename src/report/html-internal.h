/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the two halves of report.html: the document (html.c: page structure, CSS,
 * tables) and the charts (html-charts.c: inline SVG). Not for other modules. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/slowdown.h"
#include "result/result.h"

/* Bound on what a (possibly huge) result makes us draw. */
#define MAX_CHART_RUNS 100

/* The charts' geometry: job labels on the left, the plot to the right of them. */
#define SVG_W 1000
#define LABEL_W 170
#define PLOT_W (SVG_W - LABEL_W - 20)

#define HTML_JOB_COLORS 20
extern const char *const html_job_colors[HTML_JOB_COLORS];
extern const char *const html_phase_colors[6];

/* Every string that came from the result goes through here: job names and commands
 * are the user's and may hold markup. */
void html_esc(FILE *f, const char *s);
/* A duration in seconds as "3.214s" (or "–" when unknown). */
const char *html_dur(char *buf, size_t n, double s);
/* 1, 2 or 5 × 10^k so that range has about target ticks. */
double html_nice_step(double range, unsigned target);
/* A job keeps its colour in every chart and run, and no two jobs of the report share one
 * (up to HTML_JOB_COLORS job names): picked by its name's place among all names. */
const char *html_job_color(const JobResult *j);
bool html_job_failed(const JobResult *j);
/* "scenario [solo job] [r=N] [params] rep i/n", escaped. */
void html_run_label(FILE *f, const RunResult *run, size_t n_reps);

/* ---- the charts (html-charts.c) ---- */
/* The timeline of run index `run` of r: one lane per job, phases, markers, freezes. */
void html_timeline_chart(FILE *f, const Result *r, size_t run, double scale);
/* A sweep's headline: per scenario (and matrix values) with two numbers of copies or
 * more and solo baselines, ANTT, STP and the max slowdown against the number of copies,
 * and every instance's slowdown (min … max) as the spread. Nothing without a sweep. */
void html_sweep_chart(FILE *f, const Slowdowns *d);
/* Every repetition's wall time per job and configuration, a dot each, and the median: the
 * distribution that one timeline per repetition hides. Nothing without repetitions. */
void html_strip_chart(FILE *f, const JobSeries *s, size_t n);
/* A run's time from its first start to its last end (s): timelines share the largest. */
double html_run_span(const RunResult *run);
/* Memory over time of one run from its jobs' samples CSVs below dir, with an <h3>
 * label; nothing when no job has samples. */
void html_memory_chart(FILE *f, const char *dir, const RunResult *run, size_t n_reps);
/* "GPU use over time" (html-gpu.c): a section when any job had GPUs, else nothing. */
void html_gpu_section(FILE *f, const Result *r, const char *dir, size_t n_reps);
/* The slowdown bars (one per job with a baseline) and their legend, or a line saying
 * there is no baseline. Returns 0 or -ENOMEM. */
int html_slowdown_chart(FILE *f, const Slowdowns *d);
