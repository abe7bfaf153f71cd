/* SPDX-License-Identifier: MIT */
/* GPUs in the pure allocator (docs/gpu.md): exclusive by default, shared when asked,
 * cores from the GPU's NUMA node when they fit there, jobs wait for a free GPU, and the
 * queue lets CPU-only jobs pass a job that waits for a GPU. */
#include <stdio.h>
#include <stdlib.h>

#include "alloc-test.h"

static const int numa_2[] = {0, 1}; /* GPU 0 on node 0, GPU 1 on node 1 */

static CorePool *gpu_pool(const Topology *t, unsigned n_gpus, const int *numa) {
        CorePool *p = NULL;
        AllocOptions o = {.numa = NUMA_LOCAL, .memory_available = UINT64_MAX, .n_gpus = n_gpus, .gpu_numa = numa};
        assert_int_equal(alloc_pool_new(t, &o, &p), 0);
        return p;
}

static AllocRequest req_gpus(const char *job, unsigned cores, unsigned gpus, bool shared) {
        AllocRequest r = req_count(job, cores);
        r.gpu_count = gpus;
        r.gpu_shared = shared;
        return r;
}

static void test_exclusive(void **state) {
        _cleanup_topo_ Topology *t = load_synth("numa:2 core:4 pu:1");
        _cleanup_pool_ CorePool *p = gpu_pool(t, 2, numa_2);
        Assignment a = take_ok(p, req_gpus("a", 1, 1, false));
        assert_int_equal(a.gpus, 1);
        assert_false(a.gpus_shared);
        Assignment b = take_ok(p, req_gpus("b", 1, 1, false));
        assert_int_equal(b.gpus, 2);
        /* the GPU's node: GPU 1 is on node 1 (CPUs 4-7) */
        assert_set(b.cpus, "4");
        assert_set(b.mems, "1");
        take_fails(p, req_gpus("c", 1, 1, false), -EAGAIN, "job 'c' asks for 1 GPU; 0 are free now");
        assert_int_equal(alloc_pool_free_gpus(p), 0);
        alloc_release(p, &a);
        assignment_done(&a);
        assert_int_equal(alloc_pool_free_gpus(p), 1);
        Assignment c = take_ok(p, req_gpus("c", 1, 1, false));
        assert_int_equal(c.gpus, 1);
        assert_set(c.cpus, "0");
        alloc_release(p, &b);
        alloc_release(p, &c);
        assignment_done(&b);
        assignment_done(&c);
        /* two GPUs at once, and a CPU-only job beside them */
        Assignment d = take_ok(p, req_gpus("d", 2, 2, false));
        assert_int_equal(d.gpus, 3);
        Assignment e = take_ok(p, req_count("e", 1));
        assert_int_equal(e.gpus, 0);
        assignment_done(&d);
        assignment_done(&e);
}

static void test_cores_near_gpu_when_they_fit(void **state) {
        _cleanup_topo_ Topology *t = load_synth("numa:2 core:4 pu:1");
        _cleanup_pool_ CorePool *p = gpu_pool(t, 2, numa_2);
        /* node 1 full of CPU-only work: a job on GPU 1 gets cores elsewhere rather than wait */
        AllocRequest fill = {.job = "fill", .cpus = {.kind = CPUS_LIST, .set = set_of("4-6")}};
        Assignment f = take_ok(p, fill);
        AllocRequest on1 = req_gpus("g", 2, 1, false);
        on1.gpu_mask = 2;
        Assignment g = take_ok(p, on1);
        assert_int_equal(g.gpus, 2);
        assert_set(g.cpus, "0-1");
        assignment_done(&f);
        assignment_done(&g);
}

static void test_shared(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:8 pu:1");
        _cleanup_pool_ CorePool *p = gpu_pool(t, 2, NULL);
        /* shared tenants stay together on the first GPU */
        Assignment a = take_ok(p, req_gpus("a", 1, 1, true));
        Assignment b = take_ok(p, req_gpus("b", 1, 1, true));
        Assignment c = take_ok(p, req_gpus("c", 1, 1, true));
        assert_int_equal(a.gpus, 1);
        assert_int_equal(b.gpus, 1);
        assert_int_equal(c.gpus, 1);
        assert_true(a.gpus_shared);
        /* an exclusive job gets the other GPU, and cannot have the shared one */
        AllocRequest x0 = req_gpus("x0", 1, 1, false);
        x0.gpu_mask = 1;
        take_fails(p, x0, -EAGAIN, "job 'x0' waits for its GPU, in use by other jobs");
        Assignment x = take_ok(p, req_gpus("x", 1, 1, false));
        assert_int_equal(x.gpus, 2);
        /* a shared job cannot use an exclusive job's GPU */
        AllocRequest s1 = req_gpus("s1", 1, 1, true);
        s1.gpu_mask = 2;
        take_fails(p, s1, -EAGAIN, "job 's1' waits for its GPU, in use by other jobs");
        alloc_release(p, &a);
        alloc_release(p, &b);
        alloc_release(p, &c);
        /* no tenant left: the GPU is free for an exclusive job again */
        Assignment y = take_ok(p, x0);
        assert_int_equal(y.gpus, 1);
        assignment_done(&a);
        assignment_done(&b);
        assignment_done(&c);
        assignment_done(&x);
        assignment_done(&y);
}

static void test_never_fits(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:2 pu:1");
        _cleanup_pool_ CorePool *none = gpu_pool(t, 0, NULL);
        char *err = NULL;
        AllocRequest r = req_gpus("g", 1, 1, false);
        assert_int_equal(alloc_check(none, &r, &err), -ENOSPC);
        assert_string_equal(err, "job 'g' asks for 1 GPU but there is none");
        free(err);
        err = NULL;
        _cleanup_pool_ CorePool *two = gpu_pool(t, 2, NULL);
        r.gpu_count = 3;
        assert_int_equal(alloc_check(two, &r, &err), -ENOSPC);
        assert_string_equal(err, "job 'g' asks for 3 GPUs but this machine has 2; at most 2 would fit");
        free(err);
        err = NULL;
        r.gpu_count = 1;
        r.gpu_mask = 4;
        assert_int_equal(alloc_check(two, &r, &err), -EINVAL);
        free(err);
}

/* Four 1-GPU jobs on two GPUs: two run, two wait, none shares; a CPU-only job behind
 * them is not held back by the jobs that wait for a GPU. */
/* Shares (issue 16): tenants of one GPU never add up to more than 100 %; a job whose
 * share does not fit waits or takes another GPU; releasing gives the share back. */
static void test_shares(void **state) {
        _cleanup_topo_ Topology *t = load_synth("numa:1 core:8 pu:1");
        _cleanup_pool_ CorePool *p = gpu_pool(t, 2, NULL);
        AllocRequest ra = req_gpus("a", 1, 1, true), rb = req_gpus("b", 1, 1, true), rc = req_gpus("c", 1, 1, true);
        ra.gpu_share_ppm = 600000;
        rb.gpu_share_ppm = 400000;
        rc.gpu_share_ppm = 300000;
        Assignment a = take_ok(p, ra);
        Assignment b = take_ok(p, rb);
        assert_int_equal(a.gpus, 1);
        assert_int_equal(b.gpus, 1); /* 60 + 40: together on GPU 0 */
        Assignment c = take_ok(p, rc);
        assert_int_equal(c.gpus, 2); /* GPU 0 is full: the next GPU */
        AllocRequest rd = rc;
        rd.job = "d";
        rd.gpu_share_ppm = 800000;
        take_fails(p, rd, -EAGAIN,
                   "job 'd' waits for 1 GPU with 80 % of its time left (the shares on one GPU add up to at most 100 %)");
        alloc_release(p, &b);
        assignment_done(&b);
        /* 40 % back on GPU 0; d's 80 % still fits nowhere, a 40 % fits on GPU 0 */
        take_fails(p, rd, -EAGAIN,
                   "job 'd' waits for 1 GPU with 80 % of its time left (the shares on one GPU add up to at most 100 %)");
        Assignment e = take_ok(p, rb);
        assert_int_equal(e.gpus, 1);
        /* an explicit list waits for room on its GPU */
        AllocRequest rf = rc;
        rf.job = "f";
        rf.gpu_mask = 1;
        take_fails(p, rf, -EAGAIN, "job 'f' waits for its GPU, in use by other jobs");
        assignment_done(&a);
        assignment_done(&c);
        assignment_done(&e);
}

/* What run and plan refuse before anything starts: shares that cannot all hold their
 * GPUs at once. */
static void test_shares_fit(void **state) {
        AllocRequest r[4] = {req_gpus("a", 1, 1, true), req_gpus("b", 1, 1, true), req_gpus("c", 1, 1, true),
                             req_count("cpu", 1)};
        r[0].gpu_share_ppm = 200000;
        r[1].gpu_share_ppm = 300000;
        r[2].gpu_share_ppm = 400000;
        size_t bad = 99;
        uint32_t room = 0;
        assert_int_equal(alloc_gpu_shares_fit(r, 4, 1, &bad, &room), 1); /* 20 + 30 + 40 */
        r[2].gpu_share_ppm = 600000;
        assert_int_equal(alloc_gpu_shares_fit(r, 4, 1, &bad, &room), 0); /* 110 % */
        assert_int_equal(bad, 0);                                          /* the smallest is placed last */
        assert_int_equal(room, 100000);
        assert_int_equal(alloc_gpu_shares_fit(r, 4, 2, &bad, &room), 1); /* two GPUs hold them */
        /* first-fit decreasing: 60, 50, 50, 40 on two GPUs */
        AllocRequest q[4] = {req_gpus("a", 1, 1, true), req_gpus("b", 1, 1, true), req_gpus("c", 1, 1, true),
                             req_gpus("d", 1, 1, true)};
        q[0].gpu_share_ppm = 500000;
        q[1].gpu_share_ppm = 400000;
        q[2].gpu_share_ppm = 600000;
        q[3].gpu_share_ppm = 500000;
        assert_int_equal(alloc_gpu_shares_fit(q, 4, 2, &bad, &room), 1);
        /* lists first: two jobs on GPU 0 at 70 + 40 */
        q[0].gpu_mask = 1;
        q[0].gpu_share_ppm = 700000;
        q[1].gpu_mask = 1;
        assert_int_equal(alloc_gpu_shares_fit(q, 2, 2, &bad, &room), 0);
        assert_int_equal(bad, 1);
        assert_int_equal(room, 300000);
        /* a capped job on a GPU of its own fills it */
        AllocRequest x[2] = {req_gpus("own", 1, 1, false), req_gpus("b", 1, 1, true)};
        x[0].gpu_share_ppm = 100000;
        x[1].gpu_share_ppm = 100000;
        assert_int_equal(alloc_gpu_shares_fit(x, 2, 1, &bad, &room), 0);
        assert_int_equal(alloc_gpu_shares_fit(x, 2, 2, &bad, &room), 1);
        /* first-fit decreasing would refuse this; it fits as {50, 30, 20} and {40, 40, 20} */
        AllocRequest y[6];
        const uint32_t sh[6] = {500000, 400000, 400000, 300000, 200000, 200000};
        for (size_t i = 0; i < 6; i++) {
                y[i] = req_gpus("y", 1, 1, true);
                y[i].gpu_share_ppm = sh[i];
        }
        assert_int_equal(alloc_gpu_shares_fit(y, 6, 2, &bad, &room), 1);
        y[5].gpu_share_ppm = 210000; /* 210 % in all on two GPUs: no */
        assert_int_equal(alloc_gpu_shares_fit(y, 6, 2, &bad, &room), 0);
        /* a job on a GPU of its own is placed by what it needs (the whole GPU), first */
        AllocRequest z[3] = {req_gpus("a", 1, 1, true), req_gpus("b", 1, 1, true), req_gpus("own", 1, 1, false)};
        z[0].gpu_share_ppm = 600000;
        z[1].gpu_share_ppm = 400000;
        z[2].gpu_share_ppm = 100000;
        assert_int_equal(alloc_gpu_shares_fit(z, 3, 2, &bad, &room), 1);
        /* two GPUs each for a job: 60 % on both, then 40 % on both fits, 50 % does not */
        AllocRequest w[2] = {req_gpus("two", 1, 2, true), req_gpus("more", 1, 2, true)};
        w[0].gpu_share_ppm = 600000;
        w[1].gpu_share_ppm = 400000;
        assert_int_equal(alloc_gpu_shares_fit(w, 2, 2, &bad, &room), 1);
        w[1].gpu_share_ppm = 500000;
        assert_int_equal(alloc_gpu_shares_fit(w, 2, 2, &bad, &room), 0);
        assert_int_equal(bad, 1);
        assert_int_equal(room, 400000);
        /* share 100 alone is fine */
        x[1].gpu_share_ppm = GPU_SHARE_WHOLE;
        assert_int_equal(alloc_gpu_shares_fit(&x[1], 1, 1, &bad, &room), 1);
}

static void test_queue(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:8 pu:1");
        _cleanup_pool_ CorePool *p = gpu_pool(t, 2, NULL);
        AllocRequest reqs[5] = {req_gpus("g1", 1, 1, false), req_gpus("g2", 1, 1, false),
                                req_gpus("g3", 1, 1, false), req_gpus("g4", 1, 1, false), req_count("cpu", 2)};
        bool waiting[5] = {true, true, true, true, true};
        Assignment a[5] = {0};
        size_t failed;
        assert_int_equal(alloc_admit(p, reqs, waiting, 5, a, &failed, NULL), 3);
        assert_false(waiting[0]);
        assert_false(waiting[1]);
        assert_true(waiting[2]);
        assert_true(waiting[3]);
        assert_false(waiting[4]);
        assert_int_equal(a[0].gpus | a[1].gpus, 3);
        assert_int_equal(a[0].gpus & a[1].gpus, 0);
        alloc_release(p, &a[1]);
        assert_int_equal(alloc_admit(p, reqs, waiting, 5, a, &failed, NULL), 1);
        assert_false(waiting[2]);
        assert_true(waiting[3]);
        assert_int_equal(a[2].gpus, a[1].gpus);
        for (int i = 0; i < 5; i++)
                if (!waiting[i])
                        assignment_done(&a[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exclusive), cmocka_unit_test(test_cores_near_gpu_when_they_fit),
                cmocka_unit_test(test_shared),    cmocka_unit_test(test_never_fits),
                cmocka_unit_test(test_queue),     cmocka_unit_test(test_shares),
                cmocka_unit_test(test_shares_fit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
