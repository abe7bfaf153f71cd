/* SPDX-License-Identifier: MIT */
#include "stats/stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macros.h"

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static bool all_finite(const double *x, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!isfinite(x[i]))
                        return false;
        return true;
}

static double median_sorted(const double *v, size_t n) {
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Sorted copy of x, after the checks every entry point shares. */
static int sorted_copy(const double *x, size_t n, double **ret) {
        if (n == 0 || !x || !all_finite(x, n))
                return -EINVAL;
        double *v = malloc(n * sizeof(double));
        if (!v)
                return -ENOMEM;
        memcpy(v, x, n * sizeof(double));
        qsort(v, n, sizeof(double), cmp_double);
        *ret = v;
        return 0;
}

/* Scaled MAD of sorted data v with median med; reuses dev as scratch space. */
static double mad_of(const double *v, size_t n, double med, double *dev) {
        for (size_t i = 0; i < n; i++)
                dev[i] = fabs(v[i] - med);
        qsort(dev, n, sizeof(double), cmp_double);
        return median_sorted(dev, n) * STATS_MAD_SCALE;
}

static int median_or_mad(const double *x, size_t n, bool mad, double *ret) {
        _cleanup_free_ double *v = NULL;
        int r = sorted_copy(x, n, &v);
        if (r < 0)
                return r;
        /* In place is fine for the MAD: the median has been read before v is overwritten. */
        *ret = mad ? mad_of(v, n, median_sorted(v, n), v) : median_sorted(v, n);
        return 0;
}

int stats_median(const double *x, size_t n, double *ret) {
        return median_or_mad(x, n, false, ret);
}

int stats_mad(const double *x, size_t n, double *ret) {
        return median_or_mad(x, n, true, ret);
}

double stats_mean(const double *x, size_t n) {
        double sum = 0;
        if (n == 0)
                return NAN;
        for (size_t i = 0; i < n; i++)
                sum += x[i];
        return sum / (double)n;
}

double stats_stddev(const double *x, size_t n) {
        double mean = stats_mean(x, n), ss = 0;
        if (n < 2)
                return NAN;
        /* Two passes: the one-pass sum of squares cancels badly for long runs whose
         * times differ only in the last digits. */
        for (size_t i = 0; i < n; i++)
                ss += (x[i] - mean) * (x[i] - mean);
        return sqrt(ss / (double)(n - 1));
}

int stats_summarize(const double *x, size_t n, Summary *ret) {
        _cleanup_free_ double *v = NULL, *dev = NULL;
        Summary s = {.n = n};
        int r;

        r = sorted_copy(x, n, &v);
        if (r < 0)
                return r;
        dev = malloc(n * sizeof(double));
        if (!dev)
                return -ENOMEM;

        s.min = v[0];
        s.max = v[n - 1];
        s.mean = stats_mean(x, n);
        s.median = median_sorted(v, n);
        s.mad = mad_of(v, n, s.median, dev);
        s.stddev = stats_stddev(x, n);
        if (n >= 2) {
                double half = stats_t_quantile(0.975, (double)(n - 1)) * s.stddev / sqrt((double)n);
                s.ci95_low = s.mean - half;
                s.ci95_high = s.mean + half;
                s.cv = s.mean != 0 ? s.stddev / fabs(s.mean) : NAN;
        } else
                s.ci95_low = s.ci95_high = s.cv = NAN;

        for (size_t i = 0; i < n; i++)
                if (fabs(v[i] - s.median) > STATS_OUTLIER_MADS * s.mad)
                        s.n_outliers++;

        *ret = s;
        return 0;
}

/* One step of the modified Lentz method: folds the coefficient aa into c and d, returns
 * the factor for the running product. */
static double lentz_step(double aa, double *c, double *d) {
        const double tiny = 1e-300;
        *d = 1 + aa * *d;
        if (fabs(*d) < tiny)
                *d = tiny;
        *c = 1 + aa / *c;
        if (fabs(*c) < tiny)
                *c = tiny;
        *d = 1 / *d;
        return *d * *c;
}

/* Continued fraction for I_x(a, b), modified Lentz's method (Numerical Recipes,
 * "betacf"); converges quickly for x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x) {
        double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap, h;

        if (fabs(d) < 1e-300)
                d = 1e-300;
        d = 1 / d;
        h = d;
        for (int m = 1; m <= 1000; m++) {
                double m2 = 2.0 * m, del;

                h *= lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
                del = lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
                h *= del;
                if (fabs(del - 1) < 1e-16)
                        break;
        }
        return h;
}

double stats_incbeta(double a, double b, double x) {
        if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1))
                return NAN;
        if (x == 0 || x == 1)
                return x;
        double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
        if (x < (a + 1) / (a + b + 2))
                return exp(lbt) * betacf(a, b, x) / a;
        return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

/* P(|T| >= |t|), computed directly rather than as 1 - cdf so that small p-values keep
 * their digits. */
static double t_two_sided(double t, double df) {
        if (isinf(t))
                return 0;
        return stats_incbeta(df / 2, 0.5, df / (df + t * t));
}

double stats_t_cdf(double t, double df) {
        if (isnan(t) || !(df > 0))
                return NAN;
        double tail = t_two_sided(t, df) / 2;
        return t > 0 ? 1 - tail : tail;
}

double stats_t_quantile(double p, double df) {
        if (!(p > 0 && p < 1) || !(df > 0))
                return NAN;
        if (p < 0.5)
                return -stats_t_quantile(1 - p, df);
        if (p == 0.5)
                return 0;

        /* Bisection on the upper tail, which falls monotonically in t; ~100 steps reach
         * the resolution of a double, fast enough for a handful of calls per report. */
        double q = 2 * (1 - p), lo = 0, hi = 1;
        while (t_two_sided(hi, df) > q && hi < 1e300)
                hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
                double mid = (lo + hi) / 2;
                if (t_two_sided(mid, df) > q)
                        lo = mid;
                else
                        hi = mid;
        }
        return (lo + hi) / 2;
}

int stats_welch(const double *a, size_t na, const double *b, size_t nb, WelchTest *ret) {
        WelchTest w;

        if (na < 2 || nb < 2 || !a || !b || !all_finite(a, na) || !all_finite(b, nb))
                return -EINVAL;

        w.mean_a = stats_mean(a, na);
        w.mean_b = stats_mean(b, nb);
        double sa = stats_stddev(a, na), sb = stats_stddev(b, nb);
        double va = sa * sa / (double)na, vb = sb * sb / (double)nb, diff = w.mean_b - w.mean_a;

        if (va + vb == 0) {
                w.df = (double)(na + nb - 2);
                w.t = diff == 0 ? 0 : copysign(INFINITY, diff);
                w.p = diff == 0 ? 1 : 0;
        } else {
                /* Welch-Satterthwaite */
                w.t = diff / sqrt(va + vb);
                w.df = (va + vb) * (va + vb) / (va * va / (double)(na - 1) + vb * vb / (double)(nb - 1));
                w.p = t_two_sided(w.t, w.df);
        }
        *ret = w;
        return 0;
}

static const char *const verdict_kind_table[_VERDICT_MAX] = {
        [VERDICT_SLOWER] = "slower",
        [VERDICT_FASTER] = "faster",
        [VERDICT_NOT_SIGNIFICANT] = "not-significant",
        [VERDICT_TOO_FEW] = "too-few",
};

const char *verdict_kind_to_string(VerdictKind k) {
        return k >= 0 && k < _VERDICT_MAX ? verdict_kind_table[k] : NULL;
}

VerdictKind verdict_kind_from_string(const char *s) {
        for (int k = 0; s && k < _VERDICT_MAX; k++)
                if (streq(verdict_kind_table[k], s))
                        return (VerdictKind)k;
        return _VERDICT_INVALID;
}

int stats_verdict(const double *a, size_t na, const double *b, size_t nb, double alpha, Verdict *ret) {
        Verdict v = {0};
        int r;

        if (na == 0 || nb == 0 || !all_finite(a, na) || !all_finite(b, nb))
                return -EINVAL;
        double ma = stats_mean(a, na), mb = stats_mean(b, nb);
        if (!(ma > 0) || !(mb > 0))
                return -EINVAL;

        v.ratio = mb / ma;
        if (na < 2 || nb < 2) {
                v.kind = VERDICT_TOO_FEW;
                *ret = v;
                return 0;
        }
        r = stats_welch(a, na, b, nb, &v.test);
        if (r < 0)
                return r;
        if (!(v.test.p < alpha))
                v.kind = VERDICT_NOT_SIGNIFICANT;
        else if (mb > ma)
                v.kind = VERDICT_SLOWER;
        else {
                v.kind = VERDICT_FASTER;
                v.ratio = ma / mb;
        }
        *ret = v;
        return 0;
}

const char *stats_verdict_format(const Verdict *v, char *buf, size_t n) {
        switch (v->kind) {
        case VERDICT_SLOWER:
        case VERDICT_FASTER:
                snprintf(buf, n, "%.2fx %s", v->ratio, verdict_kind_to_string(v->kind));
                break;
        case VERDICT_NOT_SIGNIFICANT:
                snprintf(buf, n, "not significant");
                break;
        default:
                snprintf(buf, n, "too few runs to compare");
                break;
        }
        return buf;
}

unsigned stats_check(const Summary *s) {
        unsigned w = 0;
        if (s->n < STATS_MIN_REPEAT)
                w |= STATS_WARN_FEW;
        if (isfinite(s->cv) && s->cv > STATS_MAX_CV)
                w |= STATS_WARN_SPREAD;
        if (s->n_outliers > 0)
                w |= STATS_WARN_OUTLIERS;
        return w;
}

const char *stats_warning_format(StatsWarning w, const Summary *s, char *buf, size_t n) {
        switch (w) {
        case STATS_WARN_FEW:
                snprintf(buf, n,
                         "only %zu repetition%s: too few to judge the spread; use repeat: %d or more", s->n,
                         s->n == 1 ? "" : "s", STATS_MIN_REPEAT);
                break;
        case STATS_WARN_SPREAD:
                snprintf(buf, n,
                         "wide spread (coefficient of variation %.1f %%, above %.0f %%): something else may "
                         "be using the machine; stop other work, fix the CPU frequency or add repetitions",
                         s->cv * 100, STATS_MAX_CV * 100);
                break;
        case STATS_WARN_OUTLIERS:
                snprintf(buf, n,
                         "%zu of %zu values are outliers (more than %.0f MADs from the median): a run may "
                         "have been disturbed; look at it or repeat",
                         s->n_outliers, s->n, STATS_OUTLIER_MADS);
                break;
        default:
                snprintf(buf, n, "unknown warning");
                break;
        }
        return buf;
}
