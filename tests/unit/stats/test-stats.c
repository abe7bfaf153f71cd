/* SPDX-License-Identifier: MIT */
/* Reference values: hand-computed where the arithmetic is short; otherwise computed
 * with mpmath 1.3 at 30 digits from the textbook formulas (Student t quantiles by
 * root-finding on mpmath.betainc, Welch's t, df and p from their definitions), an
 * implementation independent of the one under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "stats/stats.h"
#include "util/macros.h"

#define assert_close(a, b, tol)                                                                             \
        do {                                                                                                \
                double _a = (a), _b = (b);                                                                  \
                if (!(fabs(_a - _b) <= (tol)))                                                              \
                        fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, _a, _b, (double)(tol));   \
        } while (0)

static void test_median_mad_mean_sd(void **state) {
        /* The Wikipedia "standard deviation" example: mean 5, population sd 2. */
        const double x[] = {9, 2, 5, 4, 7, 4, 5, 4};
        double v;

        assert_int_equal(stats_median(x, 8, &v), 0);
        assert_close(v, 4.5, 0);
        assert_close(stats_mean(x, 8), 5, 0);
        assert_close(stats_stddev(x, 8), sqrt(32.0 / 7.0), 1e-15);
        /* |x - 4.5| = 4.5 2.5 .5 .5 2.5 .5 .5 .5 -> median 0.5 */
        assert_int_equal(stats_mad(x, 8, &v), 0);
        assert_close(v, 0.5 * STATS_MAD_SCALE, 1e-15);

        const double odd[] = {3, 1, 2};
        assert_int_equal(stats_median(odd, 3, &v), 0);
        assert_close(v, 2, 0);
        assert_true(isnan(stats_stddev(odd, 1)));
        assert_true(isnan(stats_mean(odd, 0)));

        /* the input is not reordered */
        assert_close(x[0], 9, 0);
        assert_close(odd[0], 3, 0);

        const double bad[] = {1, NAN};
        assert_int_equal(stats_median(bad, 2, &v), -EINVAL);
        assert_int_equal(stats_median(x, 0, &v), -EINVAL);
        assert_int_equal(stats_mad(bad, 2, &v), -EINVAL);
}

static void test_summary(void **state) {
        const double x[] = {9, 2, 5, 4, 7, 4, 5, 4};
        Summary s;

        assert_int_equal(stats_summarize(x, 8, &s), 0);
        assert_int_equal(s.n, 8);
        assert_close(s.min, 2, 0);
        assert_close(s.max, 9, 0);
        assert_close(s.median, 4.5, 0);
        assert_close(s.mean, 5, 0);
        assert_close(s.stddev, 2.13808993529939507747642784704, 1e-14);
        /* t(0.975, 7) = 2.36462425159278534; half width = t·s/√8 (mpmath) */
        assert_close(s.ci95_low, 5 - 1.78748791823621089503389921112, 1e-12);
        assert_close(s.ci95_high, 5 + 1.78748791823621089503389921112, 1e-12);
        assert_close(s.cv, 2.13808993529939507747642784704 / 5, 1e-14);
        /* 3 MADs = 2.22: 2 (2.5 away) and 9 (4.5 away) are outliers, 7 (2.5 away) too */
        assert_int_equal(s.n_outliers, 3);

        const double one[] = {1.5};
        assert_int_equal(stats_summarize(one, 1, &s), 0);
        assert_close(s.median, 1.5, 0);
        assert_close(s.mad, 0, 0);
        assert_true(isnan(s.stddev));
        assert_true(isnan(s.ci95_low) && isnan(s.ci95_high) && isnan(s.cv));
        assert_int_equal(s.n_outliers, 0);

        const double inf[] = {1, INFINITY};
        assert_int_equal(stats_summarize(inf, 2, &s), -EINVAL);
        assert_int_equal(stats_summarize(one, 0, &s), -EINVAL);
}

static void test_outliers(void **state) {
        /* median 10.025, |dev| sorted .025 .025 .075 .075 .125 19.975: MAD .075·1.4826
         * = 0.111, three of them 0.334: only 30 is out */
        const double x[] = {10, 10.1, 9.9, 10.05, 9.95, 30};
        Summary s;
        assert_int_equal(stats_summarize(x, 6, &s), 0);
        assert_close(s.median, 10.025, 1e-12);
        assert_close(s.mad, 0.075 * STATS_MAD_SCALE, 1e-12);
        assert_int_equal(s.n_outliers, 1);

        /* MAD 0: anything off the median is an outlier */
        const double flat[] = {1, 1, 1, 1, 1.5};
        assert_int_equal(stats_summarize(flat, 5, &s), 0);
        assert_int_equal(s.n_outliers, 1);
}

static void test_distributions(void **state) {
        /* I_x(a, b) for integers = P(Binomial(a+b-1, x) >= a): I_.5(2, 3) = 11/16 */
        assert_close(stats_incbeta(2, 3, 0.5), 11.0 / 16.0, 1e-14);
        /* I_x(1, 1) = x; I_x(a, 1) = x^a */
        assert_close(stats_incbeta(1, 1, 0.3), 0.3, 1e-14);
        assert_close(stats_incbeta(3, 1, 0.9), 0.729, 1e-14);
        assert_close(stats_incbeta(2, 2, 0), 0, 0);
        assert_close(stats_incbeta(2, 2, 1), 1, 0);
        assert_true(isnan(stats_incbeta(0, 1, 0.5)));
        assert_true(isnan(stats_incbeta(1, 1, 1.5)));

        /* closed forms: df 1 is Cauchy, F(1) = 3/4; df 2: F(t) = 1/2 + t / (2·√(2 + t²)) */
        assert_close(stats_t_cdf(0, 5), 0.5, 1e-15);
        assert_close(stats_t_cdf(1, 1), 0.75, 1e-14);
        assert_close(stats_t_cdf(-1, 1), 0.25, 1e-14);
        assert_close(stats_t_cdf(2, 2), 0.5 + 2 / (2 * sqrt(6)), 1e-14);
        assert_close(stats_t_cdf(INFINITY, 3), 1, 0);
        /* non-integer df, as Welch produces (mpmath) */
        assert_close(stats_t_cdf(2.5, 3.7), 0.964088988544086611985128206008, 1e-12);

        /* t(0.975, df): the usual table (mpmath, 30 digits) */
        static const struct {
                double df, t;
        } q[] = {
                {1, 12.7062047361747046460216799789},   {2, 4.30265272974946385232094389262},
                {4, 2.77644510519779435780310484675},   {7, 2.36462425159278534168090147378},
                {9, 2.26215716279820554260776963794},   {30, 2.04227245630123830995804223203},
                {100, 1.98397151852355228659518486799},
        };
        for (size_t i = 0; i < ELEMENTSOF(q); i++) {
                assert_close(stats_t_quantile(0.975, q[i].df), q[i].t, 1e-9 * q[i].t);
                assert_close(stats_t_quantile(0.025, q[i].df), -q[i].t, 1e-9 * q[i].t);
        }
        /* large df tends to the normal quantile 1.959963984540054 */
        assert_close(stats_t_quantile(0.975, 1e7), 1.959963984540054, 1e-6);
        assert_close(stats_t_quantile(0.5, 3), 0, 0);
        assert_true(isnan(stats_t_quantile(1, 3)));
        assert_true(isnan(stats_t_quantile(0.9, 0)));
}

static void test_welch(void **state) {
        /* Wikipedia, "Welch's t-test", example 1 (t = -2.46, df = 24.99, p = 0.021 there,
         * computed as A1 - A2); full precision from mpmath. */
        const double a1[] = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
                             21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
        const double a2[] = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
                             24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
        WelchTest w;

        assert_int_equal(stats_welch(a1, 15, a2, 15, &w), 0);
        assert_close(w.t, 2.45535639828600448657527554273, 1e-12);
        assert_close(w.df, 24.9885292902314143941505701393, 1e-10);
        assert_close(w.p, 0.0213780014628670599154349018672, 1e-12);
        assert_close(w.mean_a, 20.82, 1e-12);

        /* unequal sizes and variances (mpmath) */
        const double a[] = {10.2, 10.5, 9.9, 10.1, 10.4}, b[] = {11.0, 11.6, 10.9, 11.3};
        assert_int_equal(stats_welch(a, 5, b, 4, &w), 0);
        assert_close(w.t, 5.13659569993740299156426378471, 1e-11);
        assert_close(w.df, 5.50179246197074171478982588991, 1e-10);
        assert_close(w.p, 0.00277000303779841396285805639219, 1e-12);
        /* swapping the samples flips t only */
        WelchTest w2;
        assert_int_equal(stats_welch(b, 4, a, 5, &w2), 0);
        assert_close(w2.t, -w.t, 1e-12);
        assert_close(w2.p, w.p, 1e-15);

        /* no variance at all */
        const double c1[] = {2, 2, 2}, c2[] = {3, 3};
        assert_int_equal(stats_welch(c1, 3, c2, 2, &w), 0);
        assert_true(isinf(w.t) && w.t > 0);
        assert_close(w.p, 0, 0);
        assert_close(w.df, 3, 0);
        assert_int_equal(stats_welch(c1, 3, c1, 2, &w), 0);
        assert_close(w.t, 0, 0);
        assert_close(w.p, 1, 0);

        assert_int_equal(stats_welch(a, 1, b, 4, &w), -EINVAL);
        const double nan2[] = {1, NAN};
        assert_int_equal(stats_welch(a, 5, nan2, 2, &w), -EINVAL);
}

static const char *verdict(const double *a, size_t na, const double *b, size_t nb, char *buf) {
        Verdict v;
        assert_int_equal(stats_verdict(a, na, b, nb, STATS_ALPHA, &v), 0);
        return stats_verdict_format(&v, buf, STATS_VERDICT_MAX);
}

static void test_verdict(void **state) {
        const double a[] = {1.00, 1.01, 0.99, 1.00};
        double slow[4], fast[4];
        char buf[STATS_VERDICT_MAX];
        Verdict v;

        for (size_t i = 0; i < 4; i++) {
                slow[i] = a[i] * 1.42;
                fast[i] = a[i] / 1.10;
        }
        assert_string_equal(verdict(a, 4, slow, 4, buf), "1.42x slower");
        assert_string_equal(verdict(a, 4, fast, 4, buf), "1.10x faster");
        assert_string_equal(verdict(slow, 4, a, 4, buf), "1.42x faster");

        /* 5 % apart but noisy: Welch p = 0.748 */
        const double n1[] = {1.0, 1.3, 0.8, 1.1}, n2[] = {1.2, 0.9, 1.35, 0.95};
        assert_int_equal(stats_verdict(n1, 4, n2, 4, STATS_ALPHA, &v), 0);
        assert_int_equal(v.kind, VERDICT_NOT_SIGNIFICANT);
        assert_true(v.test.p > 0.74 && v.test.p < 0.75);
        assert_close(v.ratio, 4.4 / 4.2, 1e-12);
        assert_string_equal(stats_verdict_format(&v, buf, sizeof buf), "not significant");

        assert_int_equal(stats_verdict(a, 1, slow, 4, STATS_ALPHA, &v), 0);
        assert_int_equal(v.kind, VERDICT_TOO_FEW);
        assert_string_equal(stats_verdict_format(&v, buf, sizeof buf), "too few runs to compare");

        const double zero[] = {0, 0};
        assert_int_equal(stats_verdict(zero, 2, a, 4, STATS_ALPHA, &v), -EINVAL);
        assert_int_equal(stats_verdict(a, 0, a, 4, STATS_ALPHA, &v), -EINVAL);

        assert_string_equal(verdict_kind_to_string(VERDICT_NOT_SIGNIFICANT), "not-significant");
        assert_int_equal(verdict_kind_from_string("faster"), VERDICT_FASTER);
        assert_int_equal(verdict_kind_from_string("bogus"), _VERDICT_INVALID);
        assert_null(verdict_kind_to_string(_VERDICT_MAX));
}

static void test_warnings(void **state) {
        char buf[STATS_WARNING_MAX];
        Summary s;

        const double two[] = {1.0, 1.01};
        assert_int_equal(stats_summarize(two, 2, &s), 0);
        assert_int_equal(stats_check(&s), STATS_WARN_FEW);
        assert_string_equal(stats_warning_format(STATS_WARN_FEW, &s, buf, sizeof buf),
                            "only 2 repetitions: too few to judge the spread; use repeat: 3 or more");

        /* mean 1, sd 0.2: CV 20 % */
        const double wide[] = {0.8, 1.0, 1.2};
        assert_int_equal(stats_summarize(wide, 3, &s), 0);
        assert_int_equal(stats_check(&s), STATS_WARN_SPREAD);
        assert_non_null(strstr(stats_warning_format(STATS_WARN_SPREAD, &s, buf, sizeof buf),
                               "coefficient of variation 20.0 %, above 10 %"));

        const double calm[] = {1.0, 1.01, 0.99, 1.0, 1.02};
        assert_int_equal(stats_summarize(calm, 5, &s), 0);
        assert_int_equal(stats_check(&s), 0);

        /* median 1.01, MAD 0.01·1.4826: 1.1 is 0.09 away, further than 3 MADs (CV 3.6 %) */
        const double spike[] = {1.0, 1.01, 0.99, 1.0, 1.02, 1.01, 1.1};
        assert_int_equal(stats_summarize(spike, 7, &s), 0);
        assert_int_equal(stats_check(&s), STATS_WARN_OUTLIERS);
        assert_non_null(
                strstr(stats_warning_format(STATS_WARN_OUTLIERS, &s, buf, sizeof buf), "1 of 7 values"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_median_mad_mean_sd),
                cmocka_unit_test(test_summary),
                cmocka_unit_test(test_outliers),
                cmocka_unit_test(test_distributions),
                cmocka_unit_test(test_welch),
                cmocka_unit_test(test_verdict),
                cmocka_unit_test(test_warnings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
