/* SPDX-License-Identifier: MIT */
/* Property test: random take/release sequences on random machines (shapes, holes, core kinds,
 * reserve, NUMA modes, memory) checked against a plain model of what is held. Seeded; set
 * CORUN_TEST_SEED to replay a failure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc-test.h"
#include "util/parse.h"

#define GiB (UINT64_C(1) << 30)
#define MAX_ACTIVE 64

static uint64_t rng_state;
/* outcomes seen, so a run that never reaches a branch shows in the output */
static unsigned n_ok, n_again, n_nospc, n_inval, n_release;

static uint64_t rnd(void) {
        /* xorshift64*: fast and plenty for picking cases */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * UINT64_C(2685821657736338717);
}

static unsigned rnd_below(unsigned n) {
        return n == 0 ? 0 : (unsigned)(rnd() % n);
}

static bool chance(unsigned percent) {
        return rnd_below(100) < percent;
}

typedef struct Model {
        const Topology *t;
        CpuSet usable, excl;
        unsigned shared_ref[CPUSET_MAX];
        uint64_t committed, mem_avail;
        bool no_holes, l3_checks;
} Model;

static void model_blocked(const Model *m, CpuSet *ret) {
        *ret = m->excl;
        for (unsigned c = 0; c < CPUSET_MAX; c++)
                if (m->shared_ref[c])
                        cpuset_add(ret, c);
}

/* Free whole cores (core indexes), or free CPUs. */
static void model_free(const Model *m, bool by_core, CpuSet *ret) {
        CpuSet blocked;
        model_blocked(m, &blocked);
        if (!by_core) {
                *ret = m->usable;
                cpuset_andnot(ret, &blocked);
                return;
        }
        cpuset_zero(ret);
        for (size_t i = 0; i < m->t->n_cores; i++) {
                const CpuSet *pus = &m->t->cores[i].pus;
                if (cpuset_is_subset(pus, &m->usable) && !cpuset_intersects(pus, &blocked))
                        cpuset_add(ret, (unsigned)i);
        }
}

static unsigned free_in(const CpuSet *free_cores, const CpuSet *group_pus, const Topology *t) {
        unsigned n = 0;
        CPUSET_FOREACH(c, free_cores)
        if (cpuset_is_subset(&t->cores[c].pus, group_pus))
                n++;
        return n;
}

typedef struct Active {
        Assignment a;
        uint64_t mem;
} Active;

static AllocRequest random_request(const Model *m, char *name) {
        AllocRequest r = {.job = name};
        unsigned cap_cores = 0;
        for (size_t i = 0; i < m->t->n_cores; i++)
                if (cpuset_is_subset(&m->t->cores[i].pus, &m->usable))
                        cap_cores++;
        unsigned what = rnd_below(100);
        if (what < 75) {
                r.cpus.kind = CPUS_COUNT;
                r.cpus.smt = chance(80) ? SMT_TOGETHER : SMT_SEPARATE;
                unsigned cap = r.cpus.smt == SMT_TOGETHER ? cap_cores : cpuset_count(&m->usable);
                /* mostly small jobs, sometimes big ones, now and then too big */
                r.cpus.count = 1 + (chance(70) ? rnd_below(MAX(cap / 4, 1u)) : rnd_below(cap + 2));
        } else if (what < 95) {
                r.cpus.kind = chance(50) ? CPUS_LIST : CPUS_SHARED;
                CPUSET_FOREACH(c, &m->t->allowed)
                if (chance(15))
                        cpuset_add(&r.cpus.set, (unsigned)c);
                if (cpuset_is_empty(&r.cpus.set))
                        cpuset_add(&r.cpus.set, (unsigned)cpuset_first(&m->usable) & (CPUSET_MAX - 1));
                if (chance(10))
                        cpuset_add(&r.cpus.set, (unsigned)cpuset_last(&m->t->allowed) + 1);
        } else
                r.cpus.kind = CPUS_ALL;
        if (chance(40))
                r.memory_bytes = 1 + rnd() % (20 * GiB);
        return r;
}

/* The expected result code, in alloc's order: never fits, CPUs busy, memory busy. */
static int expected(const Model *m, const AllocRequest *r) {
        CpuSet blocked;
        model_blocked(m, &blocked);
        bool mem_on = r->memory_bytes != 0 && r->memory_bytes != UINT64_MAX && m->mem_avail != UINT64_MAX;
        int cpu_static = 0, cpu_busy = 0;
        if (r->cpus.kind == CPUS_COUNT) {
                bool by_core = r->cpus.smt == SMT_TOGETHER;
                CpuSet f, all = {0};
                model_free(m, by_core, &f);
                if (by_core)
                        for (size_t i = 0; i < m->t->n_cores; i++) {
                                if (cpuset_is_subset(&m->t->cores[i].pus, &m->usable))
                                        cpuset_add(&all, (unsigned)i);
                        }
                else
                        all = m->usable;
                if (r->cpus.count > cpuset_count(&all))
                        cpu_static = -ENOSPC;
                else if (r->cpus.count > cpuset_count(&f))
                        cpu_busy = -EAGAIN;
        } else {
                const CpuSet *want = r->cpus.kind == CPUS_ALL ? &m->usable : &r->cpus.set;
                if (r->cpus.kind == CPUS_ALL && cpuset_is_empty(&m->usable))
                        cpu_static = -ENOSPC;
                else if (!cpuset_is_subset(want, &m->usable))
                        cpu_static = -EINVAL;
                else if (cpuset_intersects(want, r->cpus.kind == CPUS_LIST ? &blocked : &m->excl))
                        cpu_busy = -EAGAIN;
        }
        if (cpu_static)
                return cpu_static;
        if (mem_on && r->memory_bytes > m->mem_avail)
                return -ENOSPC;
        if (cpu_busy)
                return cpu_busy;
        if (mem_on && m->committed + r->memory_bytes > m->mem_avail)
                return -EAGAIN;
        return 0;
}

static void check_placement(const Model *m, const AllocRequest *r, const Assignment *a, NumaMode numa) {
        const Topology *t = m->t;
        CpuSet blocked;
        model_blocked(m, &blocked);
        assert_true(cpuset_is_subset(&a->cpus, &m->usable));
        if (r->cpus.kind == CPUS_LIST || r->cpus.kind == CPUS_COUNT)
                assert_false(cpuset_intersects(&a->cpus, &blocked)); /* never given twice */
        else
                assert_false(cpuset_intersects(&a->cpus, &m->excl));

        CpuSet mems;
        if (numa == NUMA_INTERLEAVE)
                topo_all_mems(t, &mems);
        else
                topo_mems_of(t, &a->cpus, &mems);
        assert_true(cpuset_equal(&mems, &a->mems));

        if (r->cpus.kind != CPUS_COUNT)
                return;
        bool by_core = r->cpus.smt == SMT_TOGETHER;
        unsigned n = r->cpus.count;
        if (!by_core) {
                assert_int_equal(cpuset_count(&a->cpus), n);
                return;
        }
        assert_int_equal(n_cores_in(t, &a->cpus), n);
        assert_whole_cores(t, &a->cpus);

        /* fastest kind first */
        CpuSet f, got;
        model_free(m, true, &f);
        topo_cores_of(t, &a->cpus, &got);
        unsigned fast_free = 0, fast_got = 0;
        CPUSET_FOREACH(c, &f)
        fast_free += t->cores[c].kind == 0;
        CPUSET_FOREACH(c, &got)
        fast_got += t->cores[c].kind == 0;
        assert_int_equal(fast_got, MIN(n, fast_free));
        if (t->n_kinds > 1 || numa != NUMA_LOCAL)
                return;

        /* one NUMA node when one holds it, one L3 when one does */
        for (size_t i = 0; i < t->n_numa; i++)
                if (free_in(&f, &t->numa_nodes[i].pus, t) >= n)
                        assert_int_equal(cpuset_count(&a->mems), 1);
        if (!m->l3_checks)
                return;
        for (size_t i = 0; i < t->n_l3; i++)
                if (free_in(&f, &t->l3[i].pus, t) >= n) {
                        int l3 = t->cores[cpuset_first(&got)].l3;
                        CPUSET_FOREACH(c, &got)
                        assert_int_equal(t->cores[c].l3, l3);
                        break;
                }
}

static void model_take(Model *m, const Assignment *a) {
        if (a->exclusive)
                cpuset_or(&m->excl, &a->cpus);
        else
                CPUSET_FOREACH(c, &a->cpus)
        m->shared_ref[c]++;
        m->committed += a->memory_bytes;
}

static void model_release(Model *m, const Assignment *a) {
        if (a->exclusive)
                cpuset_andnot(&m->excl, &a->cpus);
        else
                CPUSET_FOREACH(c, &a->cpus)
        m->shared_ref[c]--;
        m->committed -= a->memory_bytes;
}

static unsigned model_free_cores(const Model *m) {
        CpuSet f;
        model_free(m, true, &f);
        return cpuset_count(&f);
}

static const char *const shapes[] = {
        "pack:1 core:2 pu:1",
        "pack:2 core:4 pu:2",
        "numa:4 l3:2 core:4 pu:2",
        "pack:2 numa:2 l3:4 core:8 pu:2",
        "pack:1 numa:4 l3:3 core:8 pu:2",
        "core:7 pu:1",
        "pack:3 l3:3 core:3 pu:3",
        "pack:1 l3:1 l2:4 core:4 pu:2",
};

static void run_machine(unsigned round, unsigned steps) {
        const char *shape = shapes[rnd_below(ELEMENTSOF(shapes))];
        _cleanup_topo_ Topology *full = load_synth(shape);
        _cleanup_topo_ Topology *t = NULL;
        bool holes = chance(40);
        if (holes) {
                CpuSet allowed = {0};
                CPUSET_FOREACH(c, &full->allowed)
                if (chance(75))
                        cpuset_add(&allowed, (unsigned)c);
                if (cpuset_is_empty(&allowed))
                        cpuset_add(&allowed, (unsigned)cpuset_first(&full->allowed));
                assert_int_equal(topo_restrict(full, &allowed, &t), 0);
        } else
                assert_int_equal(topo_restrict(full, &full->allowed, &t), 0);
        if (chance(30))
                for (size_t i = 0; i < t->n_cores; i++)
                        topo_set_core_khz(t, &t->cores[i].pus, chance(50) ? 3000000 : 5000000);

        AllocOptions o = {.reserve_cores = rnd_below(3),
                          .numa = (NumaMode)rnd_below(_NUMA_MAX),
                          .memory_available = chance(50) ? UINT64_MAX : 16 * GiB};
        _cleanup_pool_ CorePool *p = NULL;
        assert_int_equal(alloc_pool_new(t, &o, &p), 0);

        static Model m;
        m = (Model){.t = t, .usable = *alloc_pool_usable(p), .mem_avail = o.memory_available};
        m.l3_checks = !holes && !strstr(shape, "l2:");
        Active active[MAX_ACTIVE];
        size_t n_active = 0;

        for (unsigned s = 0; s < steps; s++) {
                if (n_active > 0 && (n_active == MAX_ACTIVE || chance(40))) {
                        size_t i = rnd_below((unsigned)n_active);
                        alloc_release(p, &active[i].a);
                        n_release++;
                        model_release(&m, &active[i].a);
                        assignment_done(&active[i].a);
                        active[i] = active[--n_active];
                } else {
                        char name[32];
                        snprintf(name, sizeof(name), "r%u.%u", round, s);
                        AllocRequest r = random_request(&m, name);
                        int want = expected(&m, &r);
                        Assignment a;
                        char *err = NULL;
                        int got = alloc_take(p, &r, &a, &err);
                        if (got != want)
                                print_error("%s on '%s' (holes %d, reserve %u, numa %d): kind %d count %u: "
                                            "got %d want %d (%s)\n",
                                            name, shape, holes, o.reserve_cores, (int)o.numa,
                                            (int)r.cpus.kind, r.cpus.count, got, want, err ?: "");
                        assert_int_equal(got, want);
                        n_ok += got == 0;
                        n_again += got == -EAGAIN;
                        n_nospc += got == -ENOSPC;
                        n_inval += got == -EINVAL;
                        if (got < 0) {
                                assert_non_null(err); /* every refusal says why */
                                free(err);
                        } else {
                                assert_null(err);
                                check_placement(&m, &r, &a, o.numa);
                                model_take(&m, &a);
                                active[n_active++] = (Active){.a = a, .mem = r.memory_bytes};
                        }
                }
                assert_int_equal(alloc_pool_free_cores(p), model_free_cores(&m));
                assert_true(alloc_pool_memory_committed(p) == m.committed);
        }
        while (n_active > 0) {
                alloc_release(p, &active[--n_active].a);
                assignment_done(&active[n_active].a);
        }
        assert_int_equal(alloc_pool_free_cores(p), alloc_pool_usable_cores(p));
        assert_true(alloc_pool_memory_committed(p) == 0);
}

static void test_random(void **state) {
        uint64_t seed = 0x5eed2024;
        const char *e = getenv("CORUN_TEST_SEED");
        if (e)
                assert_int_equal(parse_u64(e, &seed), 0);
        print_message("seed %" PRIu64 " (CORUN_TEST_SEED to replay)\n", seed);
        rng_state = seed ?: 1;
        for (unsigned round = 0; round < 60; round++)
                run_machine(round, 200);
        print_message("%u taken, %u released, refused: %u EAGAIN, %u ENOSPC, %u EINVAL\n", n_ok, n_release,
                      n_again, n_nospc, n_inval);
        /* the mix must reach every outcome, or the test proves little */
        assert_true(n_ok > 1000 && n_again > 100 && n_nospc > 50 && n_inval > 50);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_random),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
