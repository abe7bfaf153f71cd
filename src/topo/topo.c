/* SPDX-License-Identifier: MIT */
/* The plain Topology: built from a flat PU list so that the hwloc loader, topo_restrict() and
 * tests share one code path, and everything downstream (alloc, plan) reads plain arrays. */
#include "topo/topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macros.h"

/* Dense numbering of group keys in order of first appearance. Machines have at most a few
 * hundred groups per kind and PUs of one group come in a row, hence the `last` fast path. */
typedef struct KeyMap {
        long *keys;
        size_t n;
        size_t last;
} KeyMap;

static int keymap_index(KeyMap *m, long key, bool *ret_new) {
        *ret_new = false;
        if (m->n > 0 && m->keys[m->last] == key)
                return (int)m->last;
        for (size_t i = 0; i < m->n; i++)
                if (m->keys[i] == key) {
                        m->last = i;
                        return (int)i;
                }
        /* capacity is n_pus: there cannot be more groups than PUs */
        m->keys[m->n] = key;
        m->last = m->n++;
        *ret_new = true;
        return (int)m->last;
}

Topology *topo_free(Topology *t) {
        if (!t)
                return NULL;
        free(t->pus);
        free(t->cores);
        free(t->l2);
        free(t->l3);
        free(t->numa_nodes);
        free(t->packages);
        free(t->description);
        free(t->source);
        free(t);
        return NULL;
}

static int cmp_u64_desc(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_int_desc(const void *a, const void *b) {
        int x = *(const int *)a, y = *(const int *)b;
        return x < y ? 1 : x > y ? -1 : 0;
}

/* Kinds by frequency: sorted distinct maxima, a new kind starts below 90 % of the current
 * kind's fastest core. Intel's "favoured cores" run a few percent above their siblings and
 * must not become a kind of their own; E cores run 20-40 % lower. Unknown (0) counts as the
 * fastest kind: no information is no reason to avoid a core. */
static int kinds_from_khz(Topology *t) {
        _cleanup_free_ uint64_t *f = calloc(t->n_cores, sizeof(uint64_t));
        if (!f)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < t->n_cores; i++)
                if (t->cores[i].max_khz > 0)
                        f[n++] = t->cores[i].max_khz;
        qsort(f, n, sizeof(uint64_t), cmp_u64_desc);
        t->n_kinds = 1;
        for (size_t i = 0; i < t->n_cores; i++) {
                TopoCore *c = &t->cores[i];
                unsigned kind = 0;
                uint64_t top = n > 0 ? f[0] : 0;
                for (size_t j = 0; c->max_khz > 0 && j < n && f[j] >= c->max_khz; j++)
                        if (f[j] * 10 < top * 9) {
                                top = f[j];
                                kind++;
                        }
                c->kind = kind;
                t->n_kinds = MAX(t->n_kinds, kind + 1);
        }
        return 0;
}

/* Kinds by hwloc's efficiency rank (higher = faster): used when it tells cores apart, which is
 * the case on hybrid Intel machines even where cpufreq is not exposed (VMs). */
static int kinds_from_rank(Topology *t, const int *core_rank, bool *ret_used) {
        *ret_used = false;
        _cleanup_free_ int *r = calloc(t->n_cores, sizeof(int));
        if (!r)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_cores; i++) {
                if (core_rank[i] < 0)
                        return 0;
                r[i] = core_rank[i];
        }
        qsort(r, t->n_cores, sizeof(int), cmp_int_desc);
        if (t->n_cores == 0 || r[0] == r[t->n_cores - 1])
                return 0;
        t->n_kinds = 1;
        for (size_t i = 0; i < t->n_cores; i++) {
                unsigned kind = 0;
                for (size_t j = 1; j < t->n_cores && r[j] >= core_rank[i]; j++)
                        if (r[j] != r[j - 1])
                                kind++;
                t->cores[i].kind = kind;
                t->n_kinds = MAX(t->n_kinds, kind + 1);
        }
        *ret_used = true;
        return 0;
}

static const char *plural(size_t n) {
        return n == 1 ? "" : "s";
}

static int describe(Topology *t) {
        char kinds[64] = "", l3[64] = "";
        if (t->n_l3 > 0)
                snprintf(l3, sizeof(l3), ", %zu L3 cache%s", t->n_l3, plural(t->n_l3));
        if (t->n_kinds > 1)
                snprintf(kinds, sizeof(kinds), ", %u core kinds", t->n_kinds);
        free(t->description);
        if (asprintf(&t->description, "%zu package%s, %zu core%s, %zu PU%s, %zu NUMA node%s%s%s",
                     t->n_packages, plural(t->n_packages), t->n_cores, plural(t->n_cores), t->n_pus,
                     plural(t->n_pus), t->n_numa, plural(t->n_numa), l3, kinds) < 0) {
                t->description = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int group_add(TopoGroup *groups, size_t *n, KeyMap *m, long key, unsigned os_index, unsigned cpu,
                     uint64_t memory_bytes) {
        bool is_new;
        int i = keymap_index(m, key, &is_new);
        if (is_new) {
                groups[i] = (TopoGroup){.os_index = os_index, .memory_bytes = memory_bytes};
                *n = m->n;
        }
        cpuset_add(&groups[i].pus, cpu);
        return i;
}

int topo_build(const TopoPUDesc *descs, size_t n_descs, const CpuSet *allowed, const char *source,
               Topology **ret) {
        _cleanup_(topo_freep) Topology *t = calloc(1, sizeof(Topology));
        if (!t)
                return -ENOMEM;
        size_t cap = MAX(n_descs, (size_t)1);
        t->pus = calloc(cap, sizeof(TopoPU));
        t->cores = calloc(cap, sizeof(TopoCore));
        t->l2 = calloc(cap, sizeof(TopoGroup));
        t->l3 = calloc(cap, sizeof(TopoGroup));
        t->numa_nodes = calloc(cap, sizeof(TopoGroup));
        t->packages = calloc(cap, sizeof(TopoGroup));
        t->source = strdup(source ?: "");
        _cleanup_free_ long *k_core = calloc(cap, sizeof(long)), *k_l2 = calloc(cap, sizeof(long)),
                            *k_l3 = calloc(cap, sizeof(long)), *k_numa = calloc(cap, sizeof(long)),
                            *k_pkg = calloc(cap, sizeof(long));
        _cleanup_free_ int *core_rank = calloc(cap, sizeof(int));
        if (!t->pus || !t->cores || !t->l2 || !t->l3 || !t->numa_nodes || !t->packages || !t->source ||
            !k_core || !k_l2 || !k_l3 || !k_numa || !k_pkg || !core_rank)
                return -ENOMEM;
        KeyMap m_core = {k_core, 0, 0}, m_l2 = {k_l2, 0, 0}, m_l3 = {k_l3, 0, 0}, m_numa = {k_numa, 0, 0},
               m_pkg = {k_pkg, 0, 0};

        for (size_t i = 0; i < n_descs; i++) {
                const TopoPUDesc *d = &descs[i];
                if (allowed && !cpuset_has(allowed, d->os_index))
                        continue;
                if (d->os_index >= CPUSET_MAX)
                        return -ERANGE;
                if (cpuset_has(&t->allowed, d->os_index))
                        return -EINVAL; /* the same CPU twice */
                cpuset_add(&t->allowed, d->os_index);

                TopoPU *pu = &t->pus[t->n_pus++];
                pu->os_index = d->os_index;
                pu->max_khz = d->max_khz;
                pu->l2 = d->l2 < 0
                                 ? -1
                                 : group_add(t->l2, &t->n_l2, &m_l2, d->l2, (unsigned)d->l2, d->os_index, 0);
                pu->l3 = d->l3 < 0
                                 ? -1
                                 : group_add(t->l3, &t->n_l3, &m_l3, d->l3, (unsigned)d->l3, d->os_index, 0);
                pu->numa = (unsigned)group_add(t->numa_nodes, &t->n_numa, &m_numa, d->numa, d->numa,
                                               d->os_index, d->numa_memory_bytes);
                pu->package = (unsigned)group_add(t->packages, &t->n_packages, &m_pkg, d->package,
                                                  d->package < 0 ? 0 : (unsigned)d->package, d->os_index, 0);

                bool is_new;
                /* a PU without a core is a core of its own: give it a key no real core has */
                long ck = d->core >= 0 ? d->core : -1 - (long)d->os_index;
                int ci = keymap_index(&m_core, ck, &is_new);
                TopoCore *c = &t->cores[ci];
                if (is_new) {
                        *c = (TopoCore){.index = (unsigned)ci,
                                        .os_index = d->core >= 0 ? d->core_os_index : d->os_index,
                                        .l2 = pu->l2,
                                        .l3 = pu->l3,
                                        .numa = pu->numa,
                                        .package = pu->package};
                        core_rank[ci] = d->perf_rank;
                        t->n_cores = m_core.n;
                }
                cpuset_add(&c->pus, d->os_index);
                c->max_khz = MAX(c->max_khz, d->max_khz);
                core_rank[ci] = MAX(core_rank[ci], d->perf_rank);
                pu->core = (unsigned)ci;
        }
        if (t->n_pus == 0)
                return -EINVAL;

        for (size_t i = 0; i < t->n_numa; i++)
                t->memory_bytes += t->numa_nodes[i].memory_bytes;

        bool by_rank;
        int r = kinds_from_rank(t, core_rank, &by_rank);
        if (r >= 0 && !by_rank)
                r = kinds_from_khz(t);
        if (r < 0)
                return r;
        r = describe(t);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int topo_restrict(const Topology *t, const CpuSet *allowed, Topology **ret) {
        _cleanup_free_ TopoPUDesc *d = calloc(MAX(t->n_pus, (size_t)1), sizeof(TopoPUDesc));
        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_pus; i++) {
                const TopoPU *p = &t->pus[i];
                const TopoCore *c = &t->cores[p->core];
                d[i] = (TopoPUDesc){
                        .os_index = p->os_index,
                        .core = p->core,
                        .core_os_index = c->os_index,
                        .l2 = p->l2 < 0 ? -1 : (long)t->l2[p->l2].os_index,
                        .l3 = p->l3 < 0 ? -1 : (long)t->l3[p->l3].os_index,
                        .numa = t->numa_nodes[p->numa].os_index,
                        .numa_memory_bytes = t->numa_nodes[p->numa].memory_bytes,
                        .package = t->packages[p->package].os_index,
                        .max_khz = p->max_khz,
                        /* keeps the kinds even when they came from hwloc's ranking, not from
                         * frequencies */
                        .perf_rank = (int)(t->n_kinds - 1 - c->kind),
                };
        }
        _cleanup_free_ char *list = cpuset_to_string(allowed);
        _cleanup_free_ char *source = NULL;
        if (!list || asprintf(&source, "%s, restricted to %s", t->source ?: "", list) < 0)
                return -ENOMEM;
        return topo_build(d, t->n_pus, allowed, source, ret);
}

void topo_set_core_khz(Topology *t, const CpuSet *pus, uint64_t khz) {
        for (size_t i = 0; i < t->n_pus; i++)
                if (cpuset_has(pus, t->pus[i].os_index))
                        t->pus[i].max_khz = khz;
        for (size_t i = 0; i < t->n_cores; i++)
                t->cores[i].max_khz = 0;
        for (size_t i = 0; i < t->n_pus; i++) {
                TopoCore *c = &t->cores[t->pus[i].core];
                c->max_khz = MAX(c->max_khz, t->pus[i].max_khz);
        }
        /* Out of memory here leaves the old kinds: a worse placement, never a wrong one. */
        if (kinds_from_khz(t) >= 0)
                (void)describe(t);
}

int topo_pu_index(const Topology *t, unsigned os_index) {
        for (size_t i = 0; i < t->n_pus; i++)
                if (t->pus[i].os_index == os_index)
                        return (int)i;
        return -1;
}

void topo_mems_of(const Topology *t, const CpuSet *cpus, CpuSet *ret_mems) {
        cpuset_zero(ret_mems);
        for (size_t i = 0; i < t->n_numa; i++)
                if (cpuset_intersects(&t->numa_nodes[i].pus, cpus))
                        cpuset_add(ret_mems, t->numa_nodes[i].os_index);
}

void topo_all_mems(const Topology *t, CpuSet *ret_mems) {
        cpuset_zero(ret_mems);
        for (size_t i = 0; i < t->n_numa; i++)
                cpuset_add(ret_mems, t->numa_nodes[i].os_index);
}

void topo_cores_of(const Topology *t, const CpuSet *cpus, CpuSet *ret_cores) {
        cpuset_zero(ret_cores);
        for (size_t i = 0; i < t->n_pus; i++)
                if (cpuset_has(cpus, t->pus[i].os_index))
                        cpuset_add(ret_cores, t->pus[i].core);
}
