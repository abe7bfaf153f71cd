/* SPDX-License-Identifier: MIT */
#pragma once

/* The interference metrics of a result (docs/experiments.md, "Interference metrics"),
 * computed once from its job series for report.html, summary.md and results.csv: per
 * shared run configuration, each job's slowdown against its solo baseline, per phase
 * too, and STP, ANTT and the max slowdown. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report/compare.h"
#include "stats/interference.h"

typedef struct SlowdownConfig {
        const char *config;       /* borrowed from the series: "crowded r=4" */
        const JobSeries **series; /* its jobs: file order, copies by number */
        const JobSeries **solo;   /* each one's baseline, or NULL */
        Interference *metrics;    /* metrics->jobs[i] belongs to series[i] */
} SlowdownConfig;

typedef struct Slowdowns {
        SlowdownConfig *configs; /* every configuration that is not a solo baseline */
        size_t n_configs;
        size_t n_with_baseline; /* jobs (over all configurations) that have a baseline */
        size_t n_phase_rows;    /* phases (over all of them) with a slowdown */
} Slowdowns;

/* s: the result's series (report_job_series), which must outlive the answer. Times are
 * the wall times of the instances that exited 0. Returns 0 or -ENOMEM. */
int report_slowdowns(const JobSeries *s, size_t n, Slowdowns **ret);
Slowdowns *slowdowns_free(Slowdowns *d);

/* The median solo time of job j of run `run` (all its instances that exited 0), and of
 * its phase `phase` when not NULL; false without a baseline or with one of length 0. */
bool report_solo_median(const JobSeries *s, size_t n, const RunResult *run, const JobResult *j,
                        const char *phase, double *ret);

/* How one output format writes a table row: what opens it, what goes between cells
 * (before a number), what closes it, how text is escaped, the "times" sign and what
 * stands for a missing number. summary.md and report.html share the row writers below. */
typedef struct RowStyle {
        const char *open, *sep_num, *close;
        void (*text)(FILE *f, const char *s);
        const char *times, *none;
} RowStyle;
/* "run | jobs | STP | ANTT | max slowdown (job)" of one configuration. */
void report_system_row(FILE *f, const RowStyle *st, const SlowdownConfig *c);
