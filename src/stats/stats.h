/* SPDX-License-Identifier: MIT */
#pragma once

/* Descriptive statistics, confidence intervals and Welch's t-test over repeated
 * measurements (docs/experiments.md, "Statistics"). Pure; every input is a plain array
 * of finite doubles, never modified. */

#include <stdbool.h>
#include <stddef.h>

/* The MAD is scaled by this so that it estimates the standard deviation of normally
 * distributed data (1 / Φ⁻¹(3/4)); the raw MAD is mad / STATS_MAD_SCALE. */
#define STATS_MAD_SCALE 1.482602218505602
/* A value further than this many (scaled) MADs from the median is an outlier. */
#define STATS_OUTLIER_MADS 3.0
#define STATS_ALPHA 0.05

typedef struct Summary {
        size_t n;
        double min, max;
        double mean;
        double median;
        double stddev;              /* sample (n - 1); NAN when n < 2 */
        double mad;                 /* median absolute deviation × STATS_MAD_SCALE */
        double ci95_low, ci95_high; /* mean ± t(0.975, n-1)·s/√n; NAN when n < 2 */
        double cv;                  /* stddev / mean; NAN when n < 2 or mean == 0 */
        size_t n_outliers;          /* |x - median| > STATS_OUTLIER_MADS × mad */
} Summary;

/* -EINVAL when n == 0 or a value is not finite, -ENOMEM. *ret written only on success. */
int stats_summarize(const double *x, size_t n, Summary *ret);

/* Single statistics; same errors. The median of an even count is the mean of the two
 * middle values. */
int stats_median(const double *x, size_t n, double *ret);
int stats_mad(const double *x, size_t n, double *ret); /* scaled, see STATS_MAD_SCALE */
double stats_mean(const double *x, size_t n);          /* NAN when n == 0 */
double stats_stddev(const double *x, size_t n);        /* sample; NAN when n < 2 */

/* Distributions. stats_incbeta: the regularised incomplete beta function I_x(a, b)
 * for a, b > 0, 0 <= x <= 1 (NAN outside). stats_t_cdf: P(T <= t) for Student's t with
 * df > 0 degrees of freedom (df need not be an integer, as in Welch's test).
 * stats_t_quantile: the t with stats_t_cdf(t, df) == p, 0 < p < 1. */
double stats_incbeta(double a, double b, double x);
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);

/* Welch's unequal-variance t-test of mean(b) against mean(a). t > 0 when b's mean is
 * larger; p is two-sided. Needs n >= 2 in both samples (-EINVAL otherwise). When both
 * samples have zero variance: t = 0, p = 1 if the means are equal, else t = ±inf,
 * p = 0 (the difference is exact). */
typedef struct WelchTest {
        double t, df, p;
        double mean_a, mean_b;
} WelchTest;
int stats_welch(const double *a, size_t na, const double *b, size_t nb, WelchTest *ret);

/* The verdict on "b compared with a" for times (lower is better). */
typedef enum VerdictKind {
        VERDICT_SLOWER,
        VERDICT_FASTER,
        VERDICT_NOT_SIGNIFICANT,
        VERDICT_TOO_FEW, /* fewer than 2 values on one side: no test possible */
        _VERDICT_MAX,
        _VERDICT_INVALID = -1,
} VerdictKind;
const char *verdict_kind_to_string(VerdictKind k); /* "slower", "faster", "not-significant", "too-few" */
VerdictKind verdict_kind_from_string(const char *s);

typedef struct Verdict {
        VerdictKind kind;
        /* slower: mean(b)/mean(a); faster: mean(a)/mean(b) (both >= 1); otherwise
         * mean(b)/mean(a), for display next to "not significant". */
        double ratio;
        WelchTest test; /* valid unless kind == VERDICT_TOO_FEW */
} Verdict;
/* Significant means p < alpha (use STATS_ALPHA). -EINVAL for a non-finite value or a
 * mean that is not positive (times are). */
int stats_verdict(const double *a, size_t na, const double *b, size_t nb, double alpha, Verdict *ret);
/* "1.42x slower", "1.10x faster", "not significant", "too few runs to compare";
 * returns buf. */
const char *stats_verdict_format(const Verdict *v, char *buf, size_t n);
#define STATS_VERDICT_MAX 48

/* Reasons to distrust a summary, as bit flags. */
typedef enum StatsWarning {
        STATS_WARN_FEW = 1 << 0,      /* n < STATS_MIN_REPEAT */
        STATS_WARN_SPREAD = 1 << 1,   /* cv > STATS_MAX_CV */
        STATS_WARN_OUTLIERS = 1 << 2, /* at least one outlier */
} StatsWarning;
#define STATS_MIN_REPEAT 3
#define STATS_MAX_CV 0.10
unsigned stats_check(const Summary *s);
/* One sentence for one warning flag, with the numbers of s: what is wrong and what to
 * do. Returns buf. */
const char *stats_warning_format(StatsWarning w, const Summary *s, char *buf, size_t n);
#define STATS_WARNING_MAX 256
