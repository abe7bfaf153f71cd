/* SPDX-License-Identifier: MIT */
/* The queue rule (alloc_admit) that `run` and `plan` share: first fit in submission
 * order, and no job overtakes a blocked one on the cores it needs. */
#include <stdio.h>
#include <stdlib.h>

#include "alloc-test.h"

#define N_MAX 8

typedef struct Queue {
        AllocRequest reqs[N_MAX];
        bool waiting[N_MAX];
        Assignment a[N_MAX];
        size_t n;
} Queue;

static void queue_add(Queue *q, AllocRequest r) {
        q->reqs[q->n] = r;
        q->waiting[q->n] = true;
        q->n++;
}

static int admit(CorePool *p, Queue *q) {
        size_t failed = SIZE_MAX;
        char *err = NULL;
        int k = alloc_admit(p, q->reqs, q->waiting, q->n, q->a, &failed, &err);
        if (k < 0)
                print_error("alloc_admit: %d at %zu: %s\n", k, failed, err ?: "");
        free(err);
        return k;
}

static void release(CorePool *p, Queue *q, size_t i) {
        assert_false(q->waiting[i]);
        alloc_release(p, &q->a[i]);
        assignment_done(&q->a[i]);
}

/* The example: a (1 core), b (2), c (1) on 2 cores. Plain first fit would start c
 * at once beside a; the rule holds c behind b, and b starts as soon as a ends. */
static void test_blocked_head_holds_later_jobs(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:2 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        Queue q = {0};
        queue_add(&q, req_count("a", 1));
        queue_add(&q, req_count("b", 2));
        queue_add(&q, req_count("c", 1));

        assert_int_equal(admit(p, &q), 1);
        assert_false(q.waiting[0]);
        assert_set(q.a[0].cpus, "0");
        assert_true(q.waiting[1]);
        assert_true(q.waiting[2]); /* one core is free, but b needs it */
        assert_int_equal(alloc_pool_free_cores(p), 1);

        release(p, &q, 0);
        assert_int_equal(admit(p, &q), 1);
        assert_set(q.a[1].cpus, "0-1");
        assert_true(q.waiting[2]);

        release(p, &q, 1);
        assert_int_equal(admit(p, &q), 1);
        assert_set(q.a[2].cpus, "0");
        release(p, &q, 2);
        assert_int_equal(admit(p, &q), 0);
}

/* Later jobs may use cores beyond what the blocked ones need. */
static void test_cores_beyond_the_blocked(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:4 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        Queue q = {0};
        queue_add(&q, req_count("a", 2));   /* 0-1 */
        queue_add(&q, req_count("big", 3)); /* blocked: 2 free, needs 3 */
        queue_add(&q, req_count("s1", 1));  /* 2 free < 3 + 1: held */
        assert_int_equal(admit(p, &q), 1);
        assert_true(q.waiting[1]);
        assert_true(q.waiting[2]);

        /* On 8 cores the same queue leaves room: 6 free >= 3 + 1. */
        _cleanup_topo_ Topology *t8 = load_synth("pack:1 core:8 pu:1");
        _cleanup_pool_ CorePool *p8 = pool_with(t8, 0, NUMA_LOCAL, UINT64_MAX);
        Queue q8 = {0};
        queue_add(&q8, req_count("a", 2));
        queue_add(&q8, req_count("b", 5));   /* 0-1 taken: 6 free, fits: 2-6 */
        queue_add(&q8, req_count("big", 3)); /* 1 free: blocked, reserves 3 */
        queue_add(&q8, req_count("s1", 1));  /* 1 free < 3 + 1: held */
        assert_int_equal(admit(p8, &q8), 2);
        assert_set(q8.a[1].cpus, "2-6");
        assert_true(q8.waiting[2]);
        assert_true(q8.waiting[3]);
        release(p8, &q8, 1); /* 6 free >= 3 + 1: big, then s1 */
        assert_int_equal(admit(p8, &q8), 2);
        assert_false(q8.waiting[2]);
        assert_false(q8.waiting[3]);
        for (size_t i = 0; i < q8.n; i++)
                if (i != 1)
                        release(p8, &q8, i);
        for (size_t i = 0; i < q.n; i++)
                if (!q.waiting[i])
                        release(p, &q, i);
}

/* Shared and all-CPU requests hold no whole cores: they are never held back by the
 * reservation, only by their own CPUs being busy. */
static void test_shared_not_held(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:2 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        Queue q = {0};
        queue_add(&q, req_count("a", 1));
        queue_add(&q, req_count("big", 2));
        queue_add(&q, req_list("sh", CPUS_SHARED, "1"));
        assert_int_equal(admit(p, &q), 2);
        assert_true(q.waiting[1]);
        assert_false(q.waiting[2]);
        assert_set(q.a[2].cpus, "1");
        release(p, &q, 0);
        assert_int_equal(admit(p, &q), 0); /* big still waits for the shared job's CPU */
        release(p, &q, 2);
        assert_int_equal(admit(p, &q), 1);
        release(p, &q, 1);
}

/* Memory admission blocks like cores do: the blocked job's cores are reserved. */
static void test_memory_blocks(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:4 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_C(1) << 30);
        Queue q = {0};
        AllocRequest a = req_count("a", 1), b = req_count("b", 1), c = req_count("c", 3);
        a.memory_bytes = UINT64_C(800) << 20;
        b.memory_bytes = UINT64_C(800) << 20; /* waits for a's memory */
        queue_add(&q, a);
        queue_add(&q, b);
        queue_add(&q, c); /* 3 free < 1 + 3: held behind b */
        assert_int_equal(admit(p, &q), 1);
        assert_true(q.waiting[1]);
        assert_true(q.waiting[2]);
        release(p, &q, 0);
        assert_int_equal(admit(p, &q), 2);
        release(p, &q, 1);
        release(p, &q, 2);
}

/* A request that can never fit stops admission with its index and the reason. */
static void test_never_fits(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:2 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        Queue q = {0};
        queue_add(&q, req_count("a", 1));
        queue_add(&q, req_count("huge", 8));
        size_t failed = SIZE_MAX;
        char *err = NULL;
        assert_int_equal(alloc_admit(p, q.reqs, q.waiting, q.n, q.a, &failed, &err), -ENOSPC);
        assert_int_equal(failed, 1);
        assert_string_equal(err,
                            "job 'huge' asks for 8 cores but only 2 are usable (0-1, 0 reserved); at most 2 "
                            "would fit");
        free(err);
        assert_false(q.waiting[0]); /* admitted before the failure: stays admitted */
        release(p, &q, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_blocked_head_holds_later_jobs),
                cmocka_unit_test(test_cores_beyond_the_blocked),
                cmocka_unit_test(test_shared_not_held),
                cmocka_unit_test(test_memory_blocks),
                cmocka_unit_test(test_never_fits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
