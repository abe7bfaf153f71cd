/* SPDX-License-Identifier: MIT */
#pragma once

/* `corun compare A B...`: per job and run configuration, the wall times of B (and C...)
 * against A's with Welch's t-test (docs/report.md). Also the grouping of a result's job
 * instances into series over the repetitions, which the HTML report shares. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result/result.h"
#include "stats/stats.h"

/* One phase's times over the instances that exited 0 and finished it. */
typedef struct PhaseSeries {
        const char *name; /* borrowed from the Result */
        double *wall;
        size_t n;
} PhaseSeries;

/* The instances of one job in one run configuration over the repetitions. A
 * configuration is the scenario with its sweep values: "crowded r=4 size=1G"; solo
 * baselines are "solo" (plus their matrix values), "solo (crowded)" when the result has
 * baselines made for several scenarios. */
typedef struct JobSeries {
        char *config;
        const char *scenario;  /* borrowed from the Result */
        const char *job;       /* borrowed: "sealer#2" */
        const char *base_name; /* borrowed: "sealer" */
        const char *params;    /* borrowed, may be NULL */
        bool solo;
        const char *solo_for; /* borrowed: a baseline's scenario (result.json solo_for), may be NULL */
        unsigned replicas;    /* the sweep value of its run (1 if none) */
        double *wall;         /* wall_s of the instances that exited 0 (the only meaningful times) */
        size_t n;
        size_t n_failed;     /* instances left out: another reason or a non-zero exit */
        PhaseSeries *phases; /* in order of first appearance */
        size_t n_phases;
} JobSeries;

/* A job instance's time in phase `name`: the total of its entries (a phase seen twice
 * has two). False when the job has no such phase or one entry never ended. */
bool report_phase_time(const JobResult *j, const char *name, double *ret);

/* In order of first appearance. Returns 0 or -ENOMEM. */
int report_job_series(const Result *r, JobSeries **ret, size_t *ret_n);
void report_job_series_free(JobSeries *s, size_t n);
/* The solo series of s's job (same base name and matrix values): the one made for s's
 * scenario, else the first one (a scenario without baselines of its own, or a result
 * older than solo_for), or NULL. */
const JobSeries *report_job_series_solo(const JobSeries *all, size_t n, const JobSeries *s);

/* Scenarios side by side: each job's median wall time in each configuration that runs it
 * (baselines left out), when at least two configurations share a job. Borrowed strings
 * point into the series. */
#define SIDE_BY_SIDE_MAX 16
typedef struct SideBySide {
        const char *configs[SIDE_BY_SIDE_MAX];
        size_t n_configs;
        const char **jobs; /* rows, in order of first appearance */
        double *median;    /* [row * n_configs + config], NAN where the job did not run */
        size_t n_jobs;
} SideBySide;
/* 0 with ret->n_configs < 2 when there is nothing to put side by side; -ENOMEM. */
int report_side_by_side(const JobSeries *s, size_t n, SideBySide *ret);
void report_side_by_side_done(SideBySide *sb);

typedef struct CompareCell {
        bool present; /* the job exists in that result with at least one good time */
        Summary s;    /* valid when present */
        Verdict v;    /* against the reference; valid when present and the row has one */
        bool has_verdict;
        double ratio; /* mean / the reference's mean; valid with a verdict */
} CompareCell;

typedef struct CompareRow {
        char *config;
        char *job;
        CompareCell *cells; /* one per result; cells[0] is the reference */
} CompareRow;

typedef struct Comparison {
        size_t n_results;
        CompareRow *rows;
        size_t n_rows;
        /* Per result (index 0 unused): the geometric mean over the rows with a verdict
         * of mean(result)/mean(reference); NAN when no row has one. */
        double *geomean;
        size_t *geomean_n;
        /* NULL-terminated host differences against the reference:
         * "B: kernel differs: 'Linux 6.1' vs 'Linux 6.18'". */
        char **warnings;
} Comparison;

/* results[0] is the reference; labels name the results in warnings (their paths).
 * Returns 0, -EINVAL for n < 2, -ENOMEM. */
int report_compare(const Result *const *results, const char *const *labels, size_t n, Comparison **ret);
Comparison *comparison_free(Comparison *c);

/* "1.42x slower", "1.10x faster", "not significant", "1.42x slower (n too small)". */
const char *report_compare_verdict(const CompareCell *c, char *buf, size_t n);
#define REPORT_VERDICT_MAX 64

/* The pyperf-style table; labels head the columns. 0 or -ENOMEM / -EIO. */
int report_compare_table(const Comparison *c, const char *const *labels, FILE *f);
/* The same as one JSON object (docs/report.md). 0 or -ENOMEM / -EIO. */
int report_compare_json(const Comparison *c, const char *const *labels, FILE *f);
