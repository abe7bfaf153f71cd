/* SPDX-License-Identifier: MIT */
/* Interference metrics against hand-computed values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "stats/interference.h"
#include "util/macros.h"

#define S(...)                                                                                              \
        ((Samples){(const double[]){__VA_ARGS__}, sizeof((const double[]){__VA_ARGS__}) / sizeof(double)})
#define NONE ((Samples){NULL, 0})

static void assert_close(double a, double b) {
        if (!(fabs(a - b) <= 1e-12))
                fail_msg("%.17g != %.17g", a, b);
}

static void test_two_jobs(void **state) {
        /* A: median 2.1 shared over 1.0 solo -> 2.1; B: 3 / 2 -> 1.5.
         * STP = 1/2.1 + 1/1.5 = 1.142857..., ANTT = (2.1 + 1.5) / 2 = 1.8 */
        const InterferencePhaseInput phases[] = {
                {"p2", S(1.0, 1.2, 1.1), S(0.5, 0.5)}, /* 1.1 / 0.5 = 2.2 */
                {"p3", S(1.0), NONE},                  /* no solo data */
                {"p4", S(1.0), S(0.0)},                /* zero-length solo phase */
        };
        const InterferenceJobInput in[] = {
                {.name = "a",
                 .shared = S(2.0, 2.2, 2.1),
                 .solo = S(1.0, 1.1, 0.9),
                 .phases = phases,
                 .n_phases = 3},
                {.name = "b", .shared = S(3.0, 3.0, 3.0, 3.0), .solo = S(2.0, 2.0)},
        };
        Interference *res = NULL;

        assert_int_equal(interference_compute(in, 2, &res), 0);
        assert_int_equal(res->n_jobs, 2);
        assert_string_equal(res->jobs[0].name, "a");
        assert_close(res->jobs[0].t_shared, 2.1);
        assert_close(res->jobs[0].t_solo, 1.0);
        assert_close(res->jobs[0].slowdown, 2.1);
        assert_close(res->jobs[1].slowdown, 1.5);
        assert_close(res->stp, 1 / 2.1 + 1 / 1.5);
        assert_close(res->antt, 1.8);
        assert_close(res->max_slowdown, 2.1);
        assert_int_equal(res->max_job, 0);

        assert_int_equal(res->jobs[0].n_phases, 3);
        assert_string_equal(res->jobs[0].phases[0].name, "p2");
        assert_close(res->jobs[0].phases[0].slowdown, 2.2);
        assert_close(res->jobs[0].phases[0].t_solo, 0.5);
        assert_true(isnan(res->jobs[0].phases[1].slowdown));
        assert_true(isnan(res->jobs[0].phases[1].t_solo));
        assert_true(isnan(res->jobs[0].phases[2].slowdown));
        assert_int_equal(res->jobs[1].n_phases, 0);
        assert_null(res->jobs[1].phases);
        assert_null(interference_free(res));
}

static void test_speedup_and_max(void **state) {
        /* a job can run faster shared (slowdown < 1, e.g. a shared cache warmed by a
         * sibling); the max is the worst one */
        const InterferenceJobInput in[] = {
                {.name = "x", .shared = S(0.8), .solo = S(1.0)},
                {.name = "y", .shared = S(4.0), .solo = S(1.0)},
                {.name = "z", .shared = S(2.0), .solo = S(1.0)},
        };
        Interference *res = NULL;
        assert_int_equal(interference_compute(in, 3, &res), 0);
        assert_close(res->stp, 1.25 + 0.25 + 0.5);
        assert_close(res->antt, (0.8 + 4 + 2) / 3);
        assert_close(res->max_slowdown, 4);
        assert_int_equal(res->max_job, 1);
        interference_free(res);
}

static void test_missing_baseline(void **state) {
        const InterferenceJobInput in[] = {
                {.name = "a", .shared = S(2.0), .solo = S(1.0)},
                {.name = "b", .shared = S(2.0), .solo = NONE},
        };
        Interference *res = NULL;
        assert_int_equal(interference_compute(in, 2, &res), 0);
        assert_close(res->jobs[0].slowdown, 2);
        assert_true(isnan(res->jobs[1].slowdown));
        /* a subset would pass for the whole workload: no system metrics */
        assert_true(isnan(res->stp) && isnan(res->antt) && isnan(res->max_slowdown));
        interference_free(res);
}

static void test_slowdown_and_errors(void **state) {
        Samples sh = S(3.0, 1.0, 2.0, 100.0), so = S(1.0, 1.0, 1.0);
        double v;
        assert_int_equal(interference_slowdown(&sh, &so, &v), 0);
        assert_close(v, 2.5); /* medians: robust to the 100 */

        Samples bad = S(1.0, NAN);
        assert_int_equal(interference_slowdown(&bad, &so, &v), -EINVAL);

        const InterferenceJobInput in[] = {{.name = "a", .shared = S(1.0), .solo = S(INFINITY)}};
        Interference *res = NULL;
        assert_int_equal(interference_compute(in, 1, &res), -EINVAL);
        assert_null(res);
        assert_int_equal(interference_compute(in, 0, &res), -EINVAL);
        assert_null(interference_free(NULL));
}

static void test_pair_phases(void **state) {
        /* Shared runs saw load, compute, load (again: counts once) and write; the solo
         * runs saw compute, load and verify. */
        const NamedSamples shared[] = {
                {"load", S(1.0, 3.0)},
                {"compute", S(4.0, 6.0, 5.0)},
                {"load", S(100.0)},
                {"write", S(1.0)},
        };
        const NamedSamples solo[] = {
                {"compute", S(2.0, 2.5)},
                {"load", S(0.5)},
                {"verify", S(1.0)},
        };
        InterferencePhaseInput *in = NULL;
        size_t n = 0;

        assert_int_equal(interference_pair_phases(shared, 4, solo, 3, &in, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(in[0].name, "load");
        assert_int_equal(in[0].shared.n, 2);
        assert_int_equal(in[0].solo.n, 1);
        assert_string_equal(in[1].name, "compute");
        assert_string_equal(in[2].name, "write");
        assert_int_equal(in[2].solo.n, 0);
        assert_string_equal(in[3].name, "verify");
        assert_int_equal(in[3].shared.n, 0);

        /* Per phase: median shared / median solo.
         *   load    median(1, 3) = 2   / 0.5               = 4
         *   compute median(4,6,5) = 5  / median(2, 2.5) = 2.25 -> 2.2222...
         *   write, verify: one side missing -> NAN */
        const InterferenceJobInput job = {
                .name = "j", .shared = S(10.0), .solo = S(4.0), .phases = in, .n_phases = n};
        Interference *res = NULL;
        assert_int_equal(interference_compute(&job, 1, &res), 0);
        assert_close(res->jobs[0].slowdown, 2.5);
        assert_int_equal(res->jobs[0].n_phases, 4);
        assert_close(res->jobs[0].phases[0].t_shared, 2.0);
        assert_close(res->jobs[0].phases[0].slowdown, 4.0);
        assert_close(res->jobs[0].phases[1].t_solo, 2.25);
        assert_close(res->jobs[0].phases[1].slowdown, 5.0 / 2.25);
        assert_true(isnan(res->jobs[0].phases[2].slowdown));
        assert_close(res->jobs[0].phases[2].t_shared, 1.0);
        assert_true(isnan(res->jobs[0].phases[3].slowdown));
        assert_true(isnan(res->jobs[0].phases[3].t_shared));
        assert_close(res->jobs[0].phases[3].t_solo, 1.0);
        /* Phases do not enter the system metrics. */
        assert_close(res->stp, 0.4);
        assert_close(res->antt, 2.5);
        interference_free(res);
        free(in);

        /* No phases at all; a NULL name is a programming error reported as -EINVAL. */
        in = (InterferencePhaseInput *)1;
        assert_int_equal(interference_pair_phases(NULL, 0, NULL, 0, &in, &n), 0);
        assert_null(in);
        assert_int_equal(n, 0);
        const NamedSamples bad[] = {{NULL, S(1.0)}};
        assert_int_equal(interference_pair_phases(shared, 1, bad, 1, &in, &n), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_two_jobs),
                cmocka_unit_test(test_speedup_and_max),
                cmocka_unit_test(test_missing_baseline),
                cmocka_unit_test(test_slowdown_and_errors),
                cmocka_unit_test(test_pair_phases),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
