/* SPDX-License-Identifier: MIT */
/* Allocation on synthetic machines: exact core sets, the policy's choices, the error texts. */
#include <stdio.h>
#include <stdlib.h>

#include "alloc-test.h"

#define GiB (UINT64_C(1) << 30)

static void test_two_cores(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:2 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        assert_int_equal(alloc_pool_usable_cores(p), 2);
        assert_int_equal(alloc_pool_free_cores(p), 2);

        Assignment a = take_at(p, req_count("a", 1), "0", "0");
        assert_true(a.exclusive);
        assert_null(a.note);
        AllocRequest unset = {.job = "b", .cpus = {.kind = CPUS_UNSET}};
        Assignment b = take_at(p, unset, "1", NULL);
        assert_int_equal(alloc_pool_free_cores(p), 0);

        take_fails(p, req_count("c", 1), -EAGAIN, "job 'c' asks for 1 core; 0 of 2 are free now");
        take_fails(
                p, req_count("big", 8), -ENOSPC,
                "job 'big' asks for 8 cores but only 2 are usable (0-1, 0 reserved); at most 2 would fit");
        take_fails(p, req_count("zero", 0), -EINVAL, "job 'zero' asks for 0 cores; at least 1 is needed");

        alloc_release(p, &a);
        assert_int_equal(alloc_pool_free_cores(p), 1);
        Assignment c = take_at(p, req_count("c", 1), "0", NULL);
        alloc_release(p, &b);
        alloc_release(p, &c);
        assert_int_equal(alloc_pool_free_cores(p), 2);
}

static void test_reserve(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:2 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 1, NUMA_LOCAL, UINT64_MAX);
        assert_set(*alloc_pool_usable(p), "0");
        assert_int_equal(alloc_pool_reserved_cores(p), 1);
        take_fails(p, req_count("big", 2), -ENOSPC,
                   "job 'big' asks for 2 cores but only 1 is usable (0, 1 reserved); at most 1 would fit");
        char *err = NULL;
        AllocRequest r = req_count("big", 2);
        assert_int_equal(alloc_check(p, &r, &err), -ENOSPC);
        free(err);

        _cleanup_pool_ CorePool *all = pool_with(t, 5, NUMA_LOCAL, UINT64_MAX);
        assert_int_equal(alloc_pool_reserved_cores(all), 2);
        take_fails(all, req_count("x", 1), -ENOSPC,
                   "job 'x' asks for 1 core but none is usable (2 of 2 cores reserved)");

        /* two sockets: the reserved core is the last of the last package */
        _cleanup_topo_ Topology *t2 = load_synth("pack:2 core:4 pu:2");
        _cleanup_pool_ CorePool *p2 = pool_with(t2, 1, NUMA_LOCAL, UINT64_MAX);
        assert_set(*alloc_pool_usable(p2), "0-13");
        assert_int_equal(alloc_pool_free_cores(p2), 7);
}

static void test_smt_two_sockets(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:2 core:4 pu:2");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);

        Assignment a = take_ok(p, req_count("a", 2));
        assert_set(a.cpus, "0-3"); /* siblings together, first package */
        /* package 0 has 2 cores left: a 4-core job takes package 1 whole */
        Assignment b = take_at(p, req_count("b", 4), "8-15", NULL);
        /* best fit: the package with 2 free cores, not a fresh one */
        Assignment c = take_at(p, req_count("c", 1), "4-5", NULL);
        take_fails(p, req_count("d", 2), -EAGAIN, "job 'd' asks for 2 cores; 1 of 8 is free now (6-7)");
        for (Assignment *x = &a; x; x = x == &a ? &b : x == &b ? &c : NULL) {
                assert_whole_cores(t, &x->cpus);
                alloc_release(p, x);
        }

        /* smt: separate counts logical CPUs, contiguous numbers */
        AllocRequest sep = req_count("s", 3);
        sep.cpus.smt = SMT_SEPARATE;
        Assignment s = take_at(p, sep, "0-2", NULL);
        assignment_done(&s);
        /* a whole-core job avoids cores with a busy sibling */
        Assignment w = take_at(p, req_count("w", 1), "4-5", NULL);
        assignment_done(&w);
        /* a one-CPU job fills the half-used core rather than opening a pair */
        sep.cpus.count = 1;
        Assignment s2 = take_at(p, sep, "3", NULL);
        assignment_done(&s2);
        sep.cpus.count = 20;
        take_fails(
                p, sep, -ENOSPC,
                "job 's' asks for 20 CPUs but only 16 are usable (0-15, 0 reserved); at most 16 would fit");
}

static void test_explicit_lists(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:2 core:4 pu:2");
        _cleanup_pool_ CorePool *p = pool_with(t, 1, NUMA_LOCAL, UINT64_MAX);

        Assignment a = take_at(p, req_list("a", CPUS_LIST, "0-3"), "0-3", "0");
        assert_true(a.exclusive);
        take_fails(p, req_list("x", CPUS_LIST, "2-5"), -EAGAIN,
                   "job 'x' asks for CPUs 2-5 but 2-3 are in use by other jobs");
        take_fails(p, req_list("y", CPUS_LIST, "12-15"), -EINVAL,
                   "job 'y' asks for CPUs 12-15 but 14-15 are not usable (14-15 reserved for the system); "
                   "usable are "
                   "0-13");
        take_fails(p, req_list("z", CPUS_LIST, "14-17"), -EINVAL,
                   "job 'z' asks for CPUs 14-17 but 14-17 are not usable (14-15 reserved for the system); "
                   "usable are "
                   "0-13");
        take_fails(p, req_list("w", CPUS_LIST, "16"), -EINVAL,
                   "job 'w' asks for CPU 16 but 16 is not usable; usable are 0-13");
        take_fails(p, req_list("e", CPUS_LIST, ""), -EINVAL, "job 'e' asks for an empty CPU list");
        /* count jobs go around an explicit set: package 0's two free cores are the best fit */
        Assignment c = take_at(p, req_count("c", 2), "4-7", NULL);
        Assignment d = take_at(p, req_count("d", 2), "8-11", NULL);

        char *err = NULL;
        AllocRequest busy = req_list("x", CPUS_LIST, "2-5");
        assert_int_equal(alloc_check(p, &busy, &err), 0); /* would fit on an empty pool */
        assert_null(err);
        AllocRequest outside = req_list("y", CPUS_LIST, "12-15");
        assert_int_equal(alloc_check(p, &outside, &err), -EINVAL);
        free(err);
        alloc_release(p, &a);
        alloc_release(p, &c);
        alloc_release(p, &d);
        assert_int_equal(alloc_pool_free_cores(p), 7);
}

static void test_shared(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:2 core:4 pu:2");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);

        Assignment s1 = take_ok(p, req_list("s1", CPUS_SHARED, "0-1"));
        Assignment s2 = take_ok(p, req_list("s2", CPUS_SHARED, "0-1"));
        assert_false(s1.exclusive);
        assert_set(s2.cpus, "0-1");
        assert_int_equal(alloc_pool_free_cores(p), 7);
        /* an exclusive job never lands on a shared set */
        Assignment e = take_at(p, req_count("e", 1), "2-3", NULL);
        take_fails(p, req_list("l", CPUS_LIST, "1-2"), -EAGAIN,
                   "job 'l' asks for CPUs 1-2 but 1-2 are in use by other jobs");
        take_fails(p, req_list("s3", CPUS_SHARED, "2-5"), -EAGAIN,
                   "job 's3' asks for CPUs 2-5 but 2-3 are in use by other jobs");
        /* shared sets may overlap each other */
        Assignment s4 = take_ok(p, req_list("s4", CPUS_SHARED, "1,4-5"));
        AllocRequest all = {.job = "all", .cpus = {.kind = CPUS_ALL}};
        take_fails(p, all, -EAGAIN, "job 'all' asks for CPUs 0-15 but 2-3 are in use by other jobs");

        alloc_release(p, &s1);
        assert_int_equal(alloc_pool_free_cores(p), 5); /* still held by s2 and s4 */
        alloc_release(p, &s2);
        alloc_release(p, &s4);
        assert_int_equal(alloc_pool_free_cores(p), 7);
        alloc_release(p, &e);

        Assignment a = take_at(p, all, "0-15", NULL);
        assert_false(a.exclusive);
        take_fails(p, req_count("one", 1), -EAGAIN, "job 'one' asks for 1 core; 0 of 8 are free now");
        Assignment again = take_ok(p, req_list("s", CPUS_SHARED, "3"));
        alloc_release(p, &again);
        alloc_release(p, &a);
        assert_int_equal(alloc_pool_free_cores(p), 8);
}

static void test_numa_l3(void **state) {
        /* 4 NUMA nodes of 8 cores, 2 L3 of 4 cores each */
        _cleanup_topo_ Topology *t = load_synth("numa:4 l3:2 core:4 pu:2");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);

        Assignment a = take_at(p, req_count("a", 4), "0-7", "0");
        /* an equal fit in every L3: the one on the emptiest NUMA node (spread) */
        Assignment b = take_at(p, req_count("b", 4), "16-23", "1");
        Assignment c = take_at(p, req_count("c", 2), "32-35", "2");
        /* no L3 holds 8: the NUMA node with the fewest free cores that does */
        Assignment d = take_at(p, req_count("d", 8), "48-63", "3");
        assert_null(d.note);
        /* the L3s left with 4 free tie; nodes 0 and 1 have 4 free cores each, node 2 has 6 */
        Assignment e = take_at(p, req_count("e", 3), "40-45", "2");
        /* best fit: the L3 with 2 free cores (on node 2), not a whole one */
        Assignment f = take_at(p, req_count("f", 2), "36-39", NULL);
        Assignment *all[] = {&a, &b, &c, &d, &e, &f};
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                assert_whole_cores(t, &all[i]->cpus);
                for (size_t j = 0; j < i; j++)
                        assert_false(cpuset_intersects(&all[i]->cpus, &all[j]->cpus));
                alloc_release(p, all[i]);
        }

        /* 12 cores fit in no node: one node whole plus one L3 of the next */
        Assignment g = take_at(p, req_count("g", 12), "0-23", "0-1");
        assert_string_equal(g.note, "spans NUMA nodes 0-1: no single node had 12 free cores");
        assignment_done(&g);
        assert_null(g.note);
}

static void test_numa_modes(void **state) {
        _cleanup_topo_ Topology *t = load_synth("numa:4 l3:2 core:4 pu:2");
        _cleanup_pool_ CorePool *il = pool_with(t, 0, NUMA_INTERLEAVE, UINT64_MAX);
        Assignment a = take_at(il, req_count("a", 2), "0-3", "0-3");
        assignment_done(&a);

        _cleanup_pool_ CorePool *sp = pool_with(t, 0, NUMA_SPREAD, UINT64_MAX);
        Assignment b = take_at(sp, req_count("b", 8), "0-3,16-19,32-35,48-51", "0-3");
        assert_null(b.note);
        Assignment c = take_at(sp, req_count("c", 3), "4-5,20-21,36-37", "0-2");
        assignment_done(&c);
}

static void test_holes(void **state) {
        _cleanup_topo_ Topology *full = load_synth("pack:2 core:4 pu:2");
        _cleanup_topo_ Topology *t = NULL;
        CpuSet allowed = set_of("0-2,5,8-15");
        assert_int_equal(topo_restrict(full, &allowed, &t), 0);
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        assert_int_equal(alloc_pool_usable_cores(p), 7);

        Assignment a = take_at(p, req_count("a", 1), "0-1", NULL);
        assignment_done(&a);
        /* the two half cores of package 0 are cores too */
        Assignment b = take_at(p, req_count("b", 2), "2,5", NULL);
        assignment_done(&b);
        Assignment c = take_at(p, req_count("c", 3), "8-13", NULL);
        assignment_done(&c);
        take_fails(p, req_list("hole", CPUS_LIST, "3"), -EINVAL,
                   "job 'hole' asks for CPU 3 but 3 is not usable; usable are 0-2,5,8-15");
        take_fails(p, req_count("x", 2), -EAGAIN, "job 'x' asks for 2 cores; 1 of 7 is free now (14-15)");
        take_fails(p, req_count("big", 8), -ENOSPC,
                   "job 'big' asks for 8 cores but only 7 are usable (0-2,5,8-15, 0 reserved); at most 7 "
                   "would fit");
}

/* Holes can leave a package whose NUMA nodes and L3s are single cores: it is then a group as
 * low as a whole NUMA node, and must still lose to one. */
static void test_holes_numa(void **state) {
        _cleanup_topo_ Topology *full = load_synth("pack:2 numa:2 l3:2 core:2 pu:1");
        _cleanup_topo_ Topology *t = NULL;
        CpuSet allowed = set_of("0-7,8,10,12,14");
        assert_int_equal(topo_restrict(full, &allowed, &t), 0);
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        Assignment a = take_at(p, req_count("a", 3), "0-2", "0");
        assert_null(a.note);
        Assignment b = take_at(p, req_count("b", 4), "4-7", "1");
        assignment_done(&b);
        /* now only the split package holds 4 */
        Assignment c = take_at(p, req_count("c", 4), "8,10,12,14", "2-3");
        assert_string_equal(c.note, "spans NUMA nodes 2-3: no single node had 4 free cores");
        assignment_done(&c);
}

static void test_hybrid(void **state) {
        /* E cores first in numbering, so "lowest free" and "fastest" disagree */
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:8 pu:1; mhz 0-3=3000 4-7=5000");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);

        Assignment a = take_at(p, req_count("a", 2), "4-5", NULL);
        assert_string_equal(a.note, "fastest cores (P, 5000 MHz) preferred");
        /* only 2 P cores left: both, plus one E core */
        Assignment b = take_at(p, req_count("b", 3), "0,6-7", NULL);
        assert_string_equal(b.note,
                            "1 of 3 cores are slower (E, 3000 MHz): not enough of the fastest (P) free");
        Assignment c = take_at(p, req_count("c", 2), "1-2", NULL);
        assert_string_equal(c.note,
                            "2 of 2 cores are slower (E, 3000 MHz): not enough of the fastest (P) free");
        alloc_release(p, &a);
        Assignment d = take_at(p, req_count("d", 1), "4", NULL);
        assignment_done(&a);
        assignment_done(&b);
        assignment_done(&c);
        assignment_done(&d);
}

static void test_memory(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:4 pu:1");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, 4 * GiB);

        AllocRequest r = req_count("m1", 1);
        r.memory_bytes = 3 * GiB;
        Assignment a = take_ok(p, r);
        assert_true(a.memory_bytes == 3 * GiB);
        assert_true(alloc_pool_memory_committed(p) == 3 * GiB);

        r.job = "m2";
        r.memory_bytes = 2 * GiB;
        take_fails(p, r, -EAGAIN,
                   "job 'm2' needs 2.00 GiB of memory; 1.00 GiB of 4.00 GiB is uncommitted now");
        assert_int_equal(alloc_pool_free_cores(p), 3); /* nothing taken on failure */
        char *err = NULL;
        assert_int_equal(alloc_check(p, &r, &err), 0);

        r.job = "huge";
        r.memory_bytes = 5 * GiB;
        take_fails(p, r, -ENOSPC,
                   "job 'huge' needs 5.00 GiB of memory but only 4.00 GiB are available to jobs; at most "
                   "4.00 GiB "
                   "would fit");
        assert_int_equal(alloc_check(p, &r, &err), -ENOSPC);
        assert_string_equal(
                err, "job 'huge' needs 5.00 GiB of memory but only 4.00 GiB are available to jobs; at most "
                     "4.00 GiB would fit");
        free(err);

        /* 0 and "max" are not admitted */
        r.memory_bytes = 0;
        Assignment z = take_ok(p, r);
        assert_true(z.memory_bytes == 0);
        r.memory_bytes = UINT64_MAX;
        Assignment m = take_ok(p, r);
        assert_true(m.memory_bytes == 0);

        alloc_release(p, &a);
        assert_true(alloc_pool_memory_committed(p) == 0);
        r.memory_bytes = 2 * GiB;
        Assignment b = take_ok(p, r);
        assert_true(alloc_pool_memory_committed(p) == 2 * GiB);
        alloc_release(p, &b);
        alloc_release(p, &z);
        alloc_release(p, &m);
        assert_true(alloc_pool_memory_committed(p) == 0);
        assert_int_equal(alloc_pool_free_cores(p), 4);
}

/* Takes `n` jobs of the sizes given and checks they are disjoint whole cores. */
static void take_layout(const Topology *t, CorePool *p, const unsigned *sizes, size_t n, Assignment *ret) {
        for (size_t i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "j%zu", i);
                ret[i] = take_ok(p, req_count(name, sizes[i]));
                assert_int_equal(n_cores_in(t, &ret[i].cpus), sizes[i]);
                assert_whole_cores(t, &ret[i].cpus);
                for (size_t j = 0; j < i; j++)
                        assert_false(cpuset_intersects(&ret[i].cpus, &ret[j].cpus));
        }
}

static void release_layout(CorePool *p, Assignment *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                alloc_release(p, &a[i]);
                assignment_done(&a[i]);
        }
        assert_int_equal(alloc_pool_free_cores(p), alloc_pool_usable_cores(p));
}

/* The 96-core splits users run today, on a two-socket box (one NUMA node and L3 each). */
static void test_96_two_sockets(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:2 numa:1 l3:1 core:48 pu:2");
        assert_int_equal(t->n_cores, 96);
        assert_int_equal(t->n_numa, 2);
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        Assignment a[4];

        take_layout(t, p, (unsigned[]){46, 50}, 2, a);
        assert_set(a[0].cpus, "0-91");
        assert_set(a[0].mems, "0");
        assert_set(a[1].cpus, "92-191");
        assert_set(a[1].mems, "0-1");
        assert_string_equal(a[1].note, "spans NUMA nodes 0-1: no single node had 50 free cores");
        release_layout(p, a, 2);

        /* the other order: the 46-core job must not be split when a socket holds it */
        take_layout(t, p, (unsigned[]){50, 46}, 2, a);
        assert_set(a[0].cpus, "0-99");
        assert_set(a[1].cpus, "100-191");
        assert_set(a[1].mems, "1");
        release_layout(p, a, 2);

        take_layout(t, p, (unsigned[]){30, 30, 30}, 3, a);
        assert_set(a[0].cpus, "0-59");
        assert_set(a[1].cpus, "96-155");
        assert_set(a[2].cpus, "60-95,156-179");
        assert_set(a[2].mems, "0-1");
        release_layout(p, a, 3);

        take_layout(t, p, (unsigned[]){23, 23, 23, 23}, 4, a);
        assert_set(a[0].cpus, "0-45");
        assert_set(a[1].cpus, "46-91");
        assert_set(a[2].cpus, "96-141");
        assert_set(a[3].cpus, "142-187");
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(cpuset_count(&a[i].mems), 1);
        release_layout(p, a, 4);
}

/* The same splits on a one-socket 96-core part with 4 NUMA nodes of 3 L3s (8 cores each). */
static void test_96_numa4(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 numa:4 l3:3 core:8 pu:2");
        _cleanup_pool_ CorePool *p = pool_with(t, 0, NUMA_LOCAL, UINT64_MAX);
        Assignment a[4];

        take_layout(t, p, (unsigned[]){23, 23, 23, 23}, 4, a);
        CpuSet seen = {0};
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(cpuset_count(&a[i].mems), 1);
                assert_false(cpuset_intersects(&seen, &a[i].mems));
                cpuset_or(&seen, &a[i].mems);
        }
        assert_set(a[0].cpus, "0-45");
        release_layout(p, a, 4);

        /* 46 cores: two whole nodes' worth, never three */
        take_layout(t, p, (unsigned[]){46, 50}, 2, a);
        assert_set(a[0].cpus, "0-91");
        assert_set(a[0].mems, "0-1");
        assert_set(a[1].mems, "1-3");
        release_layout(p, a, 2);

        /* 8 cores fit one L3 exactly: every job keeps its own cache */
        take_layout(t, p, (unsigned[]){8, 8, 8}, 3, a);
        for (size_t i = 0; i < 3; i++) {
                CpuSet c;
                topo_cores_of(t, &a[i].cpus, &c);
                int l3 = t->cores[cpuset_first(&c)].l3;
                CPUSET_FOREACH(k, &c)
                assert_int_equal(t->cores[k].l3, l3);
        }
        release_layout(p, a, 3);
}

static void test_deterministic(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:2 numa:2 l3:4 core:8 pu:2");
        _cleanup_pool_ CorePool *p1 = pool_with(t, 1, NUMA_LOCAL, UINT64_MAX);
        _cleanup_pool_ CorePool *p2 = pool_with(t, 1, NUMA_LOCAL, UINT64_MAX);
        for (unsigned n = 1; n <= 12; n++) {
                Assignment a = take_ok(p1, req_count("a", n)), b = take_ok(p2, req_count("a", n));
                assert_true(cpuset_equal(&a.cpus, &b.cpus));
                assert_true(cpuset_equal(&a.mems, &b.mems));
                assignment_done(&a);
                assignment_done(&b);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_two_cores),       cmocka_unit_test(test_reserve),
                cmocka_unit_test(test_smt_two_sockets), cmocka_unit_test(test_explicit_lists),
                cmocka_unit_test(test_shared),          cmocka_unit_test(test_numa_l3),
                cmocka_unit_test(test_numa_modes),      cmocka_unit_test(test_holes),
                cmocka_unit_test(test_holes_numa),      cmocka_unit_test(test_hybrid),
                cmocka_unit_test(test_memory),          cmocka_unit_test(test_96_two_sockets),
                cmocka_unit_test(test_96_numa4),        cmocka_unit_test(test_deterministic),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
