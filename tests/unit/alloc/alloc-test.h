/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers shared by the topology and allocation tests (cmocka). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc/alloc.h"
#include "topo/topo.h"
#include "util/macros.h"

static inline Topology *load_synth(const char *desc) {
        Topology *t = NULL;
        char *err = NULL;
        int r = topo_load_synthetic(desc, &t, &err);
        if (r < 0)
                print_error("topo_load_synthetic(%s): %d %s\n", desc, r, err ?: "");
        assert_int_equal(r, 0);
        free(err);
        return t;
}

static inline CpuSet set_of(const char *list) {
        CpuSet s;
        assert_int_equal(cpuset_parse(list, &s, NULL), 0);
        return s;
}

/* Compares a CpuSet with a list literal, printing both on failure. */
#define assert_set(set, list)                                                                               \
        do {                                                                                                \
                char _b[1024];                                                                              \
                cpuset_format(&(set), _b, sizeof(_b));                                                      \
                assert_string_equal(_b, (list));                                                            \
        } while (0)

static inline AllocRequest req_count(const char *job, unsigned n) {
        return (AllocRequest){.job = job, .cpus = {.kind = CPUS_COUNT, .count = n}};
}

static inline AllocRequest req_list(const char *job, CpuRequestKind kind, const char *list) {
        return (AllocRequest){.job = job, .cpus = {.kind = kind, .set = set_of(list)}};
}

static inline CorePool *pool_with(const Topology *t, unsigned reserve, NumaMode numa, uint64_t mem) {
        CorePool *p = NULL;
        AllocOptions o = {.reserve_cores = reserve, .numa = numa, .memory_available = mem};
        assert_int_equal(alloc_pool_new(t, &o, &p), 0);
        return p;
}

/* Takes and expects success; returns the assignment (caller releases / assignment_done). */
static inline Assignment take_ok(CorePool *p, AllocRequest r) {
        Assignment a;
        char *err = NULL;
        int k = alloc_take(p, &r, &a, &err);
        if (k < 0)
                print_error("alloc_take(%s): %d %s\n", r.job, k, err ?: "");
        assert_int_equal(k, 0);
        free(err);
        return a;
}

/* Takes and expects exactly these CPUs and (unless NULL) memory nodes. */
static inline Assignment take_at(CorePool *p, AllocRequest r, const char *cpus, const char *mems) {
        Assignment a = take_ok(p, r);
        assert_set(a.cpus, cpus);
        if (mems)
                assert_set(a.mems, mems);
        return a;
}

/* Takes and expects failure `code` with exactly `text` as the message. */
static inline void take_fails(CorePool *p, AllocRequest r, int code, const char *text) {
        Assignment a;
        char *err = NULL;
        assert_int_equal(alloc_take(p, &r, &a, &err), code);
        assert_non_null(err);
        assert_string_equal(err, text);
        free(err);
}

/* Every core that has a CPU in the set has all of its CPUs in it. */
static inline void assert_whole_cores(const Topology *t, const CpuSet *cpus) {
        for (size_t i = 0; i < t->n_cores; i++)
                if (cpuset_intersects(&t->cores[i].pus, cpus))
                        assert_true(cpuset_is_subset(&t->cores[i].pus, cpus));
}

static inline unsigned n_cores_in(const Topology *t, const CpuSet *cpus) {
        CpuSet c;
        topo_cores_of(t, cpus, &c);
        return cpuset_count(&c);
}

#define _cleanup_topo_ _cleanup_(topo_freep)
#define _cleanup_pool_ _cleanup_(alloc_pool_freep)
