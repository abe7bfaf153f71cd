/* SPDX-License-Identifier: MIT */
/* The protector's decisions on hand-made readings: which job is frozen, for how long,
 * why, and when it is thawed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "protect/protect.h"
#include "util/macros.h"

#define MIB (UINT64_C(1) << 20)
#define MS USEC_PER_MSEC

static ProtectConfig cfg(bool emulate) {
        ProtectorSpec s = {.threshold = 0.10, .quantum_usec = 2000 * MS, .max_share = 0.80, .interval_usec = 100 * MS};
        ProtectConfig c;
        protect_config_from_spec(&s, emulate, &c);
        return c;
}

static ProtectJob job(Priority p, uint64_t current, uint64_t high) {
        return (ProtectJob){.priority = p, .running = true, .memory_current = current, .memory_high = high};
}

static void test_high_mark_emulation(void **state) {
        ProtectConfig c = cfg(true);
        ProtectJob jobs[4] = {
                job(PRIORITY_HIGH, 300 * MIB, 200 * MIB),  /* never frozen */
                job(PRIORITY_LOW, 205 * MIB, 200 * MIB),    /* 2.5 % above: 40 % of 100 ms */
                job(PRIORITY_NORMAL, 260 * MIB, 200 * MIB), /* 5 % or more above: 80 % (max_share) */
                job(PRIORITY_LOW, 100 * MIB, 200 * MIB),   /* below: left alone */
        };
        ProtectAction a[8];
        size_t n = protect_tick(&c, jobs, 4, 1000 * MS, a);
        assert_int_equal(n, 2);
        assert_int_equal(a[0].kind, PROTECT_FREEZE);
        assert_int_equal(a[0].job, 1);
        assert_int_equal(a[0].reason, PROTECT_REASON_HIGH_MARK);
        assert_int_equal(a[0].duration_usec, 40 * MS);
        assert_float_equal(a[0].overage, 0.025, 1e-9);
        assert_int_equal(a[1].job, 2);
        assert_int_equal(a[1].duration_usec, 80 * MS);
        assert_true(jobs[1].frozen && jobs[2].frozen);
        assert_false(jobs[0].frozen || jobs[3].frozen);
        assert_int_equal(protect_next_deadline(jobs, 4, 1000 * MS), 1040 * MS);
        /* Thawed at its deadline; 40 ms frozen needs 10 ms running before the next. */
        n = protect_tick(&c, jobs, 4, 1040 * MS, a);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].kind, PROTECT_THAW);
        assert_int_equal(a[0].job, 1);
        assert_int_equal(a[0].duration_usec, 40 * MS);
        assert_int_equal(jobs[1].not_before, 1050 * MS);
        assert_int_equal(protect_next_deadline(jobs, 4, 1040 * MS), 1050 * MS);
        n = protect_tick(&c, jobs, 4, 1080 * MS, a);
        assert_int_equal(n, 2); /* job 2 thawed, job 1 frozen again */
        assert_int_equal(a[0].kind, PROTECT_THAW);
        assert_int_equal(a[0].job, 2);
        assert_int_equal(jobs[2].not_before, 1100 * MS);
        assert_int_equal(a[1].kind, PROTECT_FREEZE);
        assert_int_equal(a[1].job, 1);
        /* Just above the mark: under 10 ms is not worth freezing. */
        ProtectJob j1 = job(PRIORITY_LOW, 200 * MIB + 256 * 1024, 200 * MIB);
        assert_int_equal(protect_tick(&c, &j1, 1, 0, a), 0);

        /* Without emulation (v2: the kernel enforces memory.high) nobody is frozen. */
        ProtectConfig c2 = cfg(false);
        ProtectJob j2[2] = {job(PRIORITY_LOW, 260 * MIB, 200 * MIB), job(PRIORITY_NORMAL, 260 * MIB, 200 * MIB)};
        assert_int_equal(protect_tick(&c2, j2, 2, 0, a), 0);
        (void)state;
}

static void test_thaw_and_max_share(void **state) {
        /* A HIGH job stalling all along: the LOW job is frozen whole quanta, at most
         * 80 % of the time. */
        ProtectConfig c = cfg(false);
        ProtectJob jobs[2] = {job(PRIORITY_HIGH, 0, UINT64_MAX), job(PRIORITY_LOW, 0, UINT64_MAX)};
        ProtectJob *j = &jobs[1];
        ProtectAction a[4];
        jobs[0].has_stall = true;

#define TICK(t) (jobs[0].stall_usec = (t) / 2, protect_tick(&c, jobs, 2, (t), a))
        assert_int_equal(TICK(0), 0);
        assert_int_equal(TICK(100 * MS), 1);
        assert_int_equal(a[0].duration_usec, 2000 * MS);
        /* Still frozen before the deadline. */
        assert_int_equal(TICK(2000 * MS), 0);
        /* Thawed at 2.1 s; frozen 80 % at most: 2 s frozen needs 0.5 s running first. */
        assert_int_equal(TICK(2100 * MS), 1);
        assert_int_equal(a[0].kind, PROTECT_THAW);
        assert_int_equal(a[0].duration_usec, 2000 * MS);
        assert_int_equal(j->not_before, 2600 * MS);
        assert_int_equal(TICK(2500 * MS), 0);
        assert_int_equal(TICK(2600 * MS), 1);
        assert_int_equal(a[0].kind, PROTECT_FREEZE);
        assert_int_equal(j->n_freezes, 2);
        assert_int_equal(j->frozen_total_usec, 2000 * MS);
#undef TICK

        /* The job ends while frozen: released with the time it was frozen. */
        assert_true(protect_job_release(j, 1, 3100 * MS, &a[0]));
        assert_int_equal(a[0].kind, PROTECT_THAW);
        assert_int_equal(a[0].duration_usec, 500 * MS);
        assert_false(j->frozen);
        assert_false(protect_job_release(j, 1, 3200 * MS, &a[0]));
        (void)state;
}

static void test_stall_with_psi(void **state) {
        ProtectConfig c = cfg(false);
        ProtectJob jobs[3] = {job(PRIORITY_LOW, 0, UINT64_MAX), job(PRIORITY_HIGH, 0, UINT64_MAX),
                              job(PRIORITY_NORMAL, 0, UINT64_MAX)};
        ProtectAction a[8];
        for (size_t i = 0; i < 3; i++)
                jobs[i].has_stall = true;

        /* First look: nothing to compare with. */
        assert_int_equal(protect_tick(&c, jobs, 3, 0, a), 0);
        /* 5 ms stalled in 100 ms: below the 10 % threshold. */
        jobs[1].stall_usec = 5 * MS;
        assert_int_equal(protect_tick(&c, jobs, 3, 100 * MS, a), 0);
        assert_float_equal(jobs[1].stall_share, 0.05, 1e-9);
        /* 30 ms in the next 100 ms: the LOW job is frozen a quantum, the NORMAL one is not;
         * a stalling LOW or NORMAL job does not count. */
        jobs[1].stall_usec = 35 * MS;
        jobs[0].stall_usec = 90 * MS;
        size_t n = protect_tick(&c, jobs, 3, 200 * MS, a);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].job, 0);
        assert_int_equal(a[0].reason, PROTECT_REASON_STALL);
        assert_int_equal(a[0].cause, 1);
        assert_int_equal(a[0].duration_usec, 2000 * MS);
        assert_true(jobs[1].stalled);

        /* A wake-up 5 ms later (a thaw deadline elsewhere) keeps the verdict and the
         * reading window. */
        assert_int_equal(protect_tick(&c, jobs, 3, 205 * MS, a), 0);
        assert_true(jobs[1].stalled);
        assert_int_equal(jobs[1].last_tick, 200 * MS);
        (void)state;
}

static void test_stall_without_psi(void **state) {
        ProtectConfig c = cfg(false);
        ProtectJob jobs[2] = {job(PRIORITY_HIGH, 0, UINT64_MAX), job(PRIORITY_LOW, 0, UINT64_MAX)};
        ProtectAction a[4];

        jobs[0].pressure_count = 7;
        assert_int_equal(protect_tick(&c, jobs, 2, 0, a), 0);
        assert_int_equal(protect_tick(&c, jobs, 2, 100 * MS, a), 0); /* no rise */
        jobs[0].pressure_count = 9;                                     /* memory.events max/high or failcnt rose */
        assert_int_equal(protect_tick(&c, jobs, 2, 200 * MS, a), 1);
        assert_int_equal(a[0].job, 1);
        assert_int_equal(a[0].reason, PROTECT_REASON_STALL);
        (void)state;
}

static void test_not_running(void **state) {
        ProtectConfig c = cfg(true);
        ProtectJob j = job(PRIORITY_LOW, 300 * MIB, 200 * MIB);
        ProtectAction a[2];
        assert_int_equal(protect_tick(&c, &j, 1, 0, a), 1);
        j.running = false;
        protect_job_forget_freeze(&j, 700 * MS);
        assert_false(j.frozen);
        assert_int_equal(j.frozen_total_usec, 700 * MS);
        assert_int_equal(protect_tick(&c, &j, 1, 800 * MS, a), 0);
        assert_int_equal(protect_next_deadline(&j, 1, 800 * MS), UINT64_MAX);
        (void)state;
}


static void test_static_limits(void **state) {
        Limits given = {0};
        CgLimits l;

        /* HIGH: mark lifted, memory.low = its limit, weight 400. */
        cg_limits_init(&l);
        l.memory_max = 512 * MIB;
        l.memory_high = 200 * MIB;
        given.memory_high_set = true;
        protect_static_limits(PRIORITY_HIGH, &given, &l);
        assert_int_equal(l.memory_high, LIMIT_MAX);
        assert_int_equal(l.memory_low, 512 * MIB);
        assert_int_equal(l.cpu_weight, PROTECT_WEIGHT_HIGH);

        /* HIGH with its own memory_min and cpu_weight: those stay. */
        cg_limits_init(&l);
        l.memory_max = 512 * MIB;
        l.memory_min = 64 * MIB;
        l.cpu_weight = 150;
        given = (Limits){.memory_min_set = true, .cpu_weight = 150};
        protect_static_limits(PRIORITY_HIGH, &given, &l);
        assert_int_equal(l.memory_low, 0);
        assert_int_equal(l.memory_min, 64 * MIB);
        assert_int_equal(l.cpu_weight, 150);

        /* LOW: 3/4 of its limit as the mark unless set; weight 25. */
        cg_limits_init(&l);
        l.memory_max = 400 * MIB;
        given = (Limits){0};
        protect_static_limits(PRIORITY_LOW, &given, &l);
        assert_int_equal(l.memory_high, 300 * MIB);
        assert_int_equal(l.cpu_weight, PROTECT_WEIGHT_LOW);
        cg_limits_init(&l);
        l.memory_high = 200 * MIB;
        given = (Limits){.memory_high_set = true};
        protect_static_limits(PRIORITY_LOW, &given, &l);
        assert_int_equal(l.memory_high, 200 * MIB);
        /* Without a limit there is nothing to take 3/4 of. */
        cg_limits_init(&l);
        given = (Limits){0};
        protect_static_limits(PRIORITY_LOW, &given, &l);
        assert_int_equal(l.memory_high, LIMIT_MAX);

        /* NORMAL: untouched. */
        cg_limits_init(&l);
        l.memory_high = 200 * MIB;
        protect_static_limits(PRIORITY_NORMAL, &given, &l);
        assert_int_equal(l.memory_high, 200 * MIB);
        assert_int_equal(l.cpu_weight, 0);
        (void)state;
}


static void test_cause_ends_and_failed_thaw(void **state) {
        ProtectConfig c = cfg(false);
        ProtectJob jobs[2] = {job(PRIORITY_HIGH, 0, UINT64_MAX), job(PRIORITY_LOW, 0, UINT64_MAX)};
        ProtectAction a[4];
        jobs[0].has_stall = true;
        assert_int_equal(protect_tick(&c, jobs, 2, 0, a), 0);
        jobs[0].stall_usec = 50 * MS;
        assert_int_equal(protect_tick(&c, jobs, 2, 100 * MS, a), 1);
        assert_int_equal(a[0].reason, PROTECT_REASON_STALL);
        assert_int_equal(jobs[1].frozen_cause, 0);

        /* The thaw did not take: still frozen, due at once, its reason kept. */
        assert_int_equal(protect_tick(&c, jobs, 2, 2100 * MS, a), 1);
        assert_int_equal(a[0].kind, PROTECT_THAW);
        protect_job_thaw_failed(&jobs[1], a[0].reason, 2100 * MS);
        assert_true(jobs[1].frozen);
        assert_int_equal(jobs[1].frozen_for, PROTECT_REASON_STALL);
        assert_int_equal(jobs[1].frozen_total_usec, 0);
        assert_int_equal(protect_next_deadline(jobs, 2, 2100 * MS), 2100 * MS);

        /* The HIGH job ends: the LOW job is thawed at the next look, not at the end of
         * another quantum. */
        jobs[0].running = false;
        assert_int_equal(protect_tick(&c, jobs, 2, 2150 * MS, a), 1);
        assert_int_equal(a[0].kind, PROTECT_THAW);
        assert_int_equal(a[0].job, 1);
        assert_int_equal(a[0].duration_usec, 2050 * MS);
        assert_false(jobs[1].frozen);

        /* Frozen again for a stall, then the HIGH job goes away mid-quantum. */
        jobs[0] = job(PRIORITY_HIGH, 0, UINT64_MAX);
        jobs[0].has_stall = true;
        jobs[1].not_before = 0;
        assert_int_equal(protect_tick(&c, jobs, 2, 3000 * MS, a), 0);
        jobs[0].stall_usec = 50 * MS;
        assert_int_equal(protect_tick(&c, jobs, 2, 3100 * MS, a), 1);
        jobs[0].running = false;
        assert_int_equal(protect_tick(&c, jobs, 2, 3200 * MS, a), 1);
        assert_int_equal(a[0].kind, PROTECT_THAW);
        assert_int_equal(a[0].duration_usec, 100 * MS);
        (void)state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_high_mark_emulation), cmocka_unit_test(test_thaw_and_max_share),
                cmocka_unit_test(test_stall_with_psi),      cmocka_unit_test(test_stall_without_psi),
                cmocka_unit_test(test_not_running),        cmocka_unit_test(test_static_limits),
                cmocka_unit_test(test_cause_ends_and_failed_thaw),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
