/* SPDX-License-Identifier: MIT */
/* Topology-aware core pool. The machine's cache/NUMA/package groups become a laminar tree
 * (every group inside exactly one bigger one); a request for N units (whole cores, or logical
 * CPUs with smt: separate) goes to the lowest group in that tree that has N free units,
 * best fit among equals. See docs/allocation.md for the policy and its reasons. */
#include "alloc/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/macros.h"
#include "util/parse.h"

typedef struct AllocNode {
        CpuSet pus;      /* usable PUs of the group */
        CpuSet cores;    /* core indexes */
        CpuSet bare_pus; /* units not inside any child group */
        CpuSet bare_cores;
        int parent; /* -1 for the root */
        int first_child, next_sibling;
        unsigned height; /* 1 + the highest child; 1 when it has no child group */
        bool multi_numa; /* covers CPUs of more than one NUMA node */
        int first_pu;    /* lowest CPU number: the order of last resort */
} AllocNode;

struct CorePool {
        const Topology *t;
        AllocOptions o;
        CpuSet usable, usable_cores;
        CpuSet reserved_pus;
        unsigned n_reserved;
        CpuSet busy;   /* PUs held by exclusive jobs */
        CpuSet shared; /* PUs with shared_ref > 0 */
        uint32_t shared_ref[CPUSET_MAX];
        uint64_t committed;
        uint64_t gpu_all;  /* bits of the pool's GPUs */
        uint64_t gpu_busy; /* held by exclusive jobs */
        uint32_t gpu_shared_ref[ALLOC_GPUS_MAX];
        uint32_t gpu_share_sum[ALLOC_GPUS_MAX]; /* Σ share_ppm of the jobs on the GPU */
        int gpu_numa[ALLOC_GPUS_MAX];
        AllocNode *nodes; /* nodes[0] is the root: every usable PU */
        size_t n_nodes;
        unsigned *free;                /* scratch: free units per node during one take */
        CpuSet *kind_pus, *kind_cores; /* [k]: usable units of kind k */
        CpuSet *numa_pus, *numa_cores; /* [i]: usable units of Topology.numa_nodes[i] */
};

/* One placement: the units a job may get and what has been taken so far. */
typedef struct Place {
        CorePool *p;
        bool by_core; /* units are core indexes (SMT together) or CPU numbers */
        CpuSet units; /* free units allowed for this job */
        CpuSet taken;
} Place;

#define BARE (-2) /* the pseudo child holding a node's bare units */

static unsigned and_count(const CpuSet *a, const CpuSet *b) {
        unsigned n = 0;
        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                n += (unsigned)__builtin_popcountll(a->bits[i] & b->bits[i]);
        return n;
}

static void cores_to_pus(const CorePool *p, const CpuSet *cores, CpuSet *ret) {
        cpuset_zero(ret);
        CPUSET_FOREACH(c, cores)
        cpuset_or(ret, &p->t->cores[c].pus);
}

static void assignment_init(Assignment *a) {
        *a = (Assignment){0};
}

void assignment_done(Assignment *a) {
        if (!a)
                return;
        free(a->note);
        assignment_init(a);
}

/* ---- the group tree ---- */

static const TopoGroup *candidate_group(const Topology *t, size_t i) {
        /* listing order decides which of several identical groups stays: the broader name */
        if (i < t->n_packages)
                return &t->packages[i];
        i -= t->n_packages;
        if (i < t->n_numa)
                return &t->numa_nodes[i];
        i -= t->n_numa;
        if (i < t->n_l3)
                return &t->l3[i];
        i -= t->n_l3;
        return i < t->n_l2 ? &t->l2[i] : NULL;
}

static void node_fill(CorePool *p, AllocNode *n, const CpuSet *pus, int parent) {
        *n = (AllocNode){.pus = *pus, .parent = parent, .first_child = -1, .next_sibling = -1, .height = 1};
        topo_cores_of(p->t, pus, &n->cores);
        n->bare_pus = n->pus;
        n->bare_cores = n->cores;
        n->first_pu = cpuset_first(pus);
        CpuSet mems;
        topo_mems_of(p->t, pus, &mems);
        n->multi_numa = cpuset_count(&mems) > 1;
}

static int build_tree(CorePool *p) {
        const Topology *t = p->t;
        size_t n_cand = t->n_packages + t->n_numa + t->n_l3 + t->n_l2;
        p->nodes = calloc(n_cand + 1, sizeof(AllocNode));
        p->free = calloc(n_cand + 1, sizeof(unsigned));
        _cleanup_free_ size_t *order = calloc(n_cand + 1, sizeof(size_t));
        _cleanup_free_ unsigned *size = calloc(n_cand + 1, sizeof(unsigned));
        if (!p->nodes || !p->free || !order || !size)
                return -ENOMEM;
        node_fill(p, &p->nodes[0], &p->usable, -1);
        p->n_nodes = 1;

        /* Biggest first (stable), so that a group's parent is already in the tree. */
        for (size_t i = 0; i < n_cand; i++) {
                CpuSet s = candidate_group(t, i)->pus;
                cpuset_and(&s, &p->usable);
                size[i] = cpuset_count(&s);
                size_t j = i;
                for (; j > 0 && size[order[j - 1]] < size[i]; j--)
                        order[j] = order[j - 1];
                order[j] = i;
        }
        for (size_t k = 0; k < n_cand; k++) {
                CpuSet s = candidate_group(t, order[k])->pus;
                cpuset_and(&s, &p->usable);
                CpuSet cores;
                topo_cores_of(t, &s, &cores);
                /* a single core is a unit already, not a group */
                if (cpuset_count(&cores) < 2)
                        continue;
                int parent = -1;
                bool keep = true;
                for (size_t j = 0; j < p->n_nodes && keep; j++) {
                        const AllocNode *x = &p->nodes[j];
                        if (!cpuset_intersects(&x->pus, &s))
                                continue;
                        if (cpuset_equal(&x->pus, &s) || !cpuset_is_subset(&s, &x->pus))
                                keep = false; /* a duplicate, or not nested (never seen on real machines) */
                        else if (parent < 0 || cpuset_count(&x->pus) < cpuset_count(&p->nodes[parent].pus))
                                parent = (int)j;
                }
                if (!keep)
                        continue;
                node_fill(p, &p->nodes[p->n_nodes++], &s, parent);
        }
        /* Children were added after their parents: one backwards pass gives heights, bare
         * units and sibling lists sorted by CPU number (nodes were added biggest first). */
        for (size_t j = p->n_nodes; j-- > 1;) {
                AllocNode *n = &p->nodes[j], *par = &p->nodes[n->parent];
                par->height = MAX(par->height, n->height + 1);
                cpuset_andnot(&par->bare_pus, &n->pus);
                cpuset_andnot(&par->bare_cores, &n->cores);
                int *link = &par->first_child;
                while (*link >= 0 && p->nodes[*link].first_pu < n->first_pu)
                        link = &p->nodes[*link].next_sibling;
                n->next_sibling = *link;
                *link = (int)j;
        }
        return 0;
}

/* ---- placement ---- */

static const CpuSet *node_units(const Place *pl, int i) {
        return pl->by_core ? &pl->p->nodes[i].cores : &pl->p->nodes[i].pus;
}

static const CpuSet *bare_units(const Place *pl, int i) {
        return pl->by_core ? &pl->p->nodes[i].bare_cores : &pl->p->nodes[i].bare_pus;
}

static void count_free(Place *pl) {
        for (size_t i = 0; i < pl->p->n_nodes; i++)
                pl->p->free[i] = and_count(node_units(pl, (int)i), &pl->units);
}

/* Is a a better home than b for a job that both can hold? Fewest free units (best fit: keeps
 * large groups whole for large jobs); among equals the one whose enclosing groups have more
 * free units (spreads jobs over NUMA nodes and packages); then the lower CPU numbers. */
static bool better(const CorePool *p, int a, int b) {
        if (b < 0)
                return true;
        if (p->free[a] != p->free[b])
                return p->free[a] < p->free[b];
        for (int pa = p->nodes[a].parent, pb = p->nodes[b].parent; pa >= 0 && pb >= 0 && pa != pb;
             pa = p->nodes[pa].parent, pb = p->nodes[pb].parent)
                if (p->free[pa] != p->free[pb])
                        return p->free[pa] > p->free[pb];
        return p->nodes[a].first_pu < p->nodes[b].first_pu;
}

static bool is_below(const CorePool *p, int i, int ancestor) {
        for (i = p->nodes[i].parent; i >= 0; i = p->nodes[i].parent)
                if (i == ancestor)
                        return true;
        return false;
}

/* Takes n of the free units in `from`: the shortest run of consecutive numbers that holds n
 * (contiguous ids, without breaking a longer run), else the lowest ones. */
static void take_run(Place *pl, const CpuSet *from, unsigned n) {
        CpuSet avail = *from;
        cpuset_and(&avail, &pl->units);
        int best = -1;
        unsigned best_len = 0;
        for (int u = cpuset_first(&avail); u >= 0;) {
                int start = u, last = u;
                unsigned len = 1;
                for (u = cpuset_next(&avail, u); u == last + 1; u = cpuset_next(&avail, u)) {
                        last = u;
                        len++;
                }
                if (len >= n && (best < 0 || len < best_len)) {
                        best = start;
                        best_len = len;
                }
        }
        unsigned got = 0;
        for (int u = best >= 0 ? best : cpuset_first(&avail); u >= 0 && got < n;
             u = cpuset_next(&avail, u)) {
                cpuset_add(&pl->taken, (unsigned)u);
                got++;
        }
}

static unsigned child_free(const Place *pl, int node, int c) {
        return c == BARE ? and_count(bare_units(pl, node), &pl->units) : pl->p->free[c];
}

static void place(Place *pl, int node, unsigned n);

static void take_child(Place *pl, int node, int c, unsigned n) {
        if (c == BARE)
                take_run(pl, bare_units(pl, node), n);
        else
                place(pl, c, n);
}

/* Where a job that fits in both goes: inside one NUMA node if possible (even where holes in
 * the cpuset left a NUMA node without groups of its own), then the lowest group. */
static bool lower(const CorePool *p, int a, int b) {
        const AllocNode *x = &p->nodes[a], *y = &p->nodes[b];
        if (x->multi_numa != y->multi_numa)
                return !x->multi_numa;
        if (x->height != y->height)
                return x->height < y->height;
        return better(p, a, b);
}

/* n units inside `node`, which has at least n free. */
static void place(Place *pl, int node, unsigned n) {
        CorePool *p = pl->p;
        /* The lowest group below that holds the whole job. */
        int best = -1;
        for (size_t j = 1; j < p->n_nodes; j++)
                if (p->free[j] >= n && is_below(p, (int)j, node) && (best < 0 || lower(p, (int)j, best)))
                        best = (int)j;
        if (best >= 0) {
                place(pl, best, n);
                return;
        }
        /* None does: span as few children as possible. Whole children, largest first, until
         * the rest fits in one; the rest goes to the best fit among those left. */
        CpuSet used = {0}; /* children already taken, by first CPU number */
        unsigned bare_free = child_free(pl, node, BARE);
        bool bare_used = false;
        while (n > 0) {
                int fit = -1, largest = -1;
                unsigned fit_free = 0, largest_free = 0;
                for (int c = p->nodes[node].first_child;; c = p->nodes[c].next_sibling) {
                        int id = c >= 0 ? c : BARE;
                        bool done =
                                id == BARE ? bare_used : cpuset_has(&used, (unsigned)p->nodes[id].first_pu);
                        unsigned f = id == BARE ? bare_free : p->free[id];
                        if (!done && f > 0) {
                                if (f >= n &&
                                    (fit == -1 || f < fit_free ||
                                     (f == fit_free && id != BARE && fit != BARE && better(p, id, fit)))) {
                                        fit = id;
                                        fit_free = f;
                                }
                                if (f > largest_free) {
                                        largest = id;
                                        largest_free = f;
                                }
                        }
                        if (c < 0)
                                break;
                }
                if (fit != -1) {
                        take_child(pl, node, fit, n);
                        return;
                }
                if (largest == -1)
                        return; /* cannot happen: the caller counted n free units */
                take_child(pl, node, largest, largest_free);
                n -= largest_free;
                if (largest == BARE)
                        bare_used = true;
                else
                        cpuset_add(&used, (unsigned)p->nodes[largest].first_pu);
        }
}

/* ---- requests ---- */

static unsigned capacity(const CorePool *p, bool by_core) {
        return cpuset_count(by_core ? &p->usable_cores : &p->usable);
}

static void free_units(const CorePool *p, bool by_core, CpuSet *ret) {
        CpuSet blocked = p->busy;
        cpuset_or(&blocked, &p->shared);
        if (!by_core) {
                *ret = p->usable;
                cpuset_andnot(ret, &blocked);
                return;
        }
        cpuset_zero(ret);
        CPUSET_FOREACH(c, &p->usable_cores)
        if (!cpuset_intersects(&p->t->cores[c].pus, &blocked))
                cpuset_add(ret, (unsigned)c);
}

static const char *units_name(bool by_core, unsigned n) {
        if (by_core)
                return n == 1 ? "core" : "cores";
        return n == 1 ? "CPU" : "CPUs";
}

static const char *cpus_word(const CpuSet *s) {
        return cpuset_count(s) == 1 ? "CPU" : "CPUs";
}

/* What can never fit, whatever runs: the same answer for take() and check(). */
static int check_static(const CorePool *p, const AllocRequest *req, char **ret_error) {
        const char *job = req->job ?: "?";
        const CpuRequest *c = &req->cpus;
        if (c->kind == CPUS_COUNT || c->kind == CPUS_UNSET) {
                bool by_core = c->smt != SMT_SEPARATE;
                unsigned n = c->kind == CPUS_UNSET ? 1 : c->count, cap = capacity(p, by_core);
                if (n == 0)
                        return error_setf(ret_error, -EINVAL, "job '%s' asks for 0 %s; at least 1 is needed",
                                          job, units_name(by_core, 0));
                if (cap == 0)
                        return error_setf(
                                ret_error, -ENOSPC,
                                "job '%s' asks for %u %s but none is usable (%u of %zu cores reserved)", job,
                                n, units_name(by_core, n), p->n_reserved, p->t->n_cores);
                _cleanup_free_ char *usable = n > cap ? cpuset_to_string(&p->usable) : NULL;
                if (n > cap && !usable)
                        return -ENOMEM;
                if (n > cap)
                        return error_setf(
                                ret_error, -ENOSPC,
                                "job '%s' asks for %u %s but only %u %s usable (%s, %u reserved); at "
                                "most %u "
                                "would fit",
                                job, n, units_name(by_core, n), cap, cap == 1 ? "is" : "are", usable,
                                p->n_reserved, cap);
        } else if (c->kind == CPUS_LIST || c->kind == CPUS_SHARED) {
                if (cpuset_is_empty(&c->set))
                        return error_setf(ret_error, -EINVAL, "job '%s' asks for an empty CPU list", job);
                if (!cpuset_is_subset(&c->set, &p->usable)) {
                        CpuSet bad = c->set, res = c->set;
                        cpuset_andnot(&bad, &p->usable);
                        cpuset_and(&res, &p->reserved_pus);
                        _cleanup_free_ char *want = cpuset_to_string(&c->set), *b = cpuset_to_string(&bad),
                                            *r = cpuset_to_string(&res),
                                            *usable = cpuset_to_string(&p->usable);
                        if (!want || !b || !r || !usable)
                                return -ENOMEM;
                        return error_setf(
                                ret_error, -EINVAL,
                                "job '%s' asks for %s %s but %s %s not usable%s%s%s; usable are %s", job,
                                cpus_word(&c->set), want, b, cpuset_count(&bad) == 1 ? "is" : "are",
                                *r ? " (" : "", r, *r ? " reserved for the system)" : "",
                                *usable ? usable : "none");
                }
        } else if (c->kind == CPUS_ALL) {
                if (cpuset_is_empty(&p->usable))
                        return error_setf(
                                ret_error, -ENOSPC,
                                "job '%s' asks for all CPUs but none is usable (%u of %zu cores reserved)",
                                job, p->n_reserved, p->t->n_cores);
        } else
                return error_setf(ret_error, -EINVAL, "job '%s': invalid CPU request", job);

        unsigned n_gpus = (unsigned)__builtin_popcountll(p->gpu_all);
        if (req->gpu_mask & ~p->gpu_all)
                return error_setf(ret_error, -EINVAL, "job '%s' asks for a GPU this machine does not have", job);
        if (req->gpu_count > 0 && n_gpus == 0)
                return error_setf(ret_error, -ENOSPC, "job '%s' asks for %u GPU%s but there is none", job,
                                  req->gpu_count, req->gpu_count == 1 ? "" : "s");
        if (req->gpu_count > n_gpus)
                return error_setf(ret_error, -ENOSPC,
                                  "job '%s' asks for %u GPUs but this machine has %u; at most %u would fit", job,
                                  req->gpu_count, n_gpus, n_gpus);

        uint64_t mem = req->memory_bytes;
        if (mem != 0 && mem != UINT64_MAX && p->o.memory_available != UINT64_MAX &&
            mem > p->o.memory_available) {
                char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX];
                return error_setf(
                        ret_error, -ENOSPC,
                        "job '%s' needs %s of memory but only %s are available to jobs; at most %s "
                        "would fit",
                        job, format_size(a, sizeof(a), mem),
                        format_size(b, sizeof(b), p->o.memory_available), b);
        }
        return 0;
}

int alloc_check(const CorePool *p, const AllocRequest *req, char **ret_error) {
        return check_static(p, req, ret_error);
}

static int check_memory_now(const CorePool *p, const AllocRequest *req, uint64_t *ret_commit,
                            char **ret_error) {
        uint64_t mem = req->memory_bytes;
        *ret_commit = 0;
        if (mem == 0 || mem == UINT64_MAX || p->o.memory_available == UINT64_MAX)
                return 0;
        uint64_t left = p->o.memory_available - MIN(p->committed, p->o.memory_available);
        if (mem > left) {
                char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX], c[FORMAT_SIZE_MAX];
                return error_setf(
                        ret_error, -EAGAIN, "job '%s' needs %s of memory; %s of %s is uncommitted now",
                        req->job ?: "?", format_size(a, sizeof(a), mem), format_size(b, sizeof(b), left),
                        format_size(c, sizeof(c), p->o.memory_available));
        }
        *ret_commit = mem;
        return 0;
}

static const char *kind_name(const CorePool *p, unsigned kind, char *buf, size_t n) {
        if (p->t->n_kinds == 2)
                snprintf(buf, n, "%s", kind == 0 ? "P" : "E");
        else
                snprintf(buf, n, "kind %u", kind);
        return buf;
}

static int append_note(char **note, const char *fmt, ...) _printf_(2, 3);
static int append_note(char **note, const char *fmt, ...) {
        _cleanup_free_ char *add = NULL, *old = *note;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&add, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(note, "%s%s%s", old ?: "", old ? "; " : "", add) < 0) {
                *note = TAKE_PTR(old);
                return -ENOMEM;
        }
        return 0;
}

static uint64_t kind_khz(const CorePool *p, unsigned kind) {
        uint64_t khz = 0;
        for (size_t i = 0; i < p->t->n_cores; i++)
                if (p->t->cores[i].kind == kind)
                        khz = MAX(khz, p->t->cores[i].max_khz);
        return khz;
}

/* Why a job landed where it did, when that is not obvious: core kinds on hybrid machines,
 * a job spread over NUMA nodes. */
static int make_notes(const CorePool *p, const CpuSet *pus, unsigned n, bool by_core, char **note) {
        const Topology *t = p->t;
        int r;
        if (t->n_kinds > 1 && by_core) {
                CpuSet cores;
                topo_cores_of(t, pus, &cores);
                unsigned slow = 0, worst = 0;
                CPUSET_FOREACH(c, &cores)
                if (t->cores[c].kind > 0) {
                        slow++;
                        worst = MAX(worst, t->cores[c].kind);
                }
                char k0[16], kw[16], mhz0[32] = "", mhzw[32] = "";
                uint64_t f0 = kind_khz(p, 0), fw = kind_khz(p, worst);
                if (f0)
                        snprintf(mhz0, sizeof(mhz0), ", %" PRIu64 " MHz", f0 / 1000);
                if (fw)
                        snprintf(mhzw, sizeof(mhzw), ", %" PRIu64 " MHz", fw / 1000);
                if (slow == 0)
                        r = append_note(note, "fastest cores (%s%s) preferred",
                                        kind_name(p, 0, k0, sizeof(k0)), mhz0);
                else
                        r = append_note(
                                note,
                                "%u of %u cores are slower (%s%s): not enough of the fastest (%s) free",
                                slow, n, kind_name(p, worst, kw, sizeof(kw)), mhzw,
                                kind_name(p, 0, k0, sizeof(k0)));
                if (r < 0)
                        return r;
        }
        if (t->n_numa > 1 && p->o.numa != NUMA_SPREAD) {
                CpuSet mems;
                topo_mems_of(t, pus, &mems);
                if (cpuset_count(&mems) > 1) {
                        _cleanup_free_ char *m = cpuset_to_string(&mems);
                        if (!m)
                                return -ENOMEM;
                        r = append_note(note, "spans NUMA nodes %s: no single node had %u free %s", m, n,
                                        units_name(by_core, n));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* NUMA_SPREAD: n units dealt round-robin over the NUMA nodes that have free units, each
 * share placed inside its node by the usual rules. */
static void place_spread(Place *pl, unsigned n) {
        CorePool *p = pl->p;
        size_t n_numa = p->t->n_numa;
        unsigned share[n_numa], avail[n_numa];
        for (size_t i = 0; i < n_numa; i++) {
                share[i] = 0;
                avail[i] = and_count(pl->by_core ? &p->numa_cores[i] : &p->numa_pus[i], &pl->units);
        }
        for (unsigned left = n; left > 0;)
                for (size_t i = 0; i < n_numa && left > 0; i++)
                        if (share[i] < avail[i]) {
                                share[i]++;
                                left--;
                        }
        CpuSet all = pl->units;
        for (size_t i = 0; i < n_numa; i++) {
                if (share[i] == 0)
                        continue;
                pl->units = all;
                cpuset_and(&pl->units, pl->by_core ? &p->numa_cores[i] : &p->numa_pus[i]);
                count_free(pl);
                place(pl, 0, share[i]);
        }
        pl->units = all;
}

/* ---- GPUs ---- */

static uint64_t gpus_usable_now(const CorePool *p, bool shared, uint32_t share_ppm) {
        uint64_t u = p->gpu_all & ~p->gpu_busy;
        for (unsigned i = 0; i < ALLOC_GPUS_MAX; i++)
                if ((!shared && p->gpu_shared_ref[i] > 0) ||
                    (uint64_t)p->gpu_share_sum[i] + share_ppm > GPU_SHARE_WHOLE)
                        u &= ~(UINT64_C(1) << i);
        return u;
}

/* The GPUs a request gets now: its list, or the first free ones in PCI order (a shared
 * request first takes GPUs other shared jobs already use: tenants of one GPU stay
 * together, the other GPUs stay free for exclusive jobs). 0 with -EAGAIN when busy. */
static int pick_gpus(const CorePool *p, const AllocRequest *req, uint64_t *ret, char **ret_error) {
        *ret = 0;
        if (req->gpu_count == 0 && req->gpu_mask == 0)
                return 0;
        uint64_t usable = gpus_usable_now(p, req->gpu_shared, req->gpu_share_ppm);
        if (req->gpu_mask) {
                if ((req->gpu_mask & usable) != req->gpu_mask)
                        return error_setf(ret_error, -EAGAIN, "job '%s' waits for its GPU%s, in use by other jobs",
                                          req->job ?: "?", __builtin_popcountll(req->gpu_mask) > 1 ? "s" : "");
                *ret = req->gpu_mask;
                return 0;
        }
        uint64_t got = 0;
        unsigned n = 0;
        for (int pass = req->gpu_shared ? 0 : 1; pass < 2 && n < req->gpu_count; pass++)
                for (unsigned i = 0; i < ALLOC_GPUS_MAX && n < req->gpu_count; i++) {
                        uint64_t bit = UINT64_C(1) << i;
                        if (!(usable & bit) || (got & bit) || (pass == 0 && p->gpu_shared_ref[i] == 0))
                                continue;
                        got |= bit;
                        n++;
                }
        if (n < req->gpu_count && req->gpu_share_ppm > 0 && req->gpu_shared)
                return error_setf(ret_error, -EAGAIN,
                                  "job '%s' waits for %u GPU%s with %g %% of %s time left (the shares on one GPU add "
                                  "up to at most 100 %%)",
                                  req->job ?: "?", req->gpu_count, req->gpu_count == 1 ? "" : "s",
                                  req->gpu_share_ppm / 1e4, req->gpu_count == 1 ? "its" : "their");
        if (n < req->gpu_count)
                return error_setf(ret_error, -EAGAIN, "job '%s' asks for %u GPU%s; %u %s free now", req->job ?: "?",
                                  req->gpu_count, req->gpu_count == 1 ? "" : "s", n, n == 1 ? "is" : "are");
        *ret = got;
        return 0;
}

bool alloc_gpus_available(const CorePool *p, const AllocRequest *req) {
        uint64_t g;
        return pick_gpus(p, req, &g, NULL) >= 0;
}

unsigned alloc_pool_free_gpus(const CorePool *p) {
        return (unsigned)__builtin_popcountll(gpus_usable_now(p, false, 0));
}

/* The usable units of the NUMA node of the job's first GPU with a known node, when the
 * machine has several nodes and numa is local: a GPU job's cores come from its GPU's node
 * when they fit there. */
static bool gpu_node_units(const CorePool *p, uint64_t gpus, bool by_core, CpuSet *ret) {
        if (!gpus || p->t->n_numa < 2 || p->o.numa != NUMA_LOCAL)
                return false;
        int node = -1;
        for (unsigned i = 0; i < ALLOC_GPUS_MAX && node < 0; i++)
                if (gpus & (UINT64_C(1) << i))
                        node = p->gpu_numa[i];
        for (size_t i = 0; node >= 0 && i < p->t->n_numa; i++)
                if (p->t->numa_nodes[i].os_index == (unsigned)node) {
                        *ret = by_core ? p->numa_cores[i] : p->numa_pus[i];
                        return true;
                }
        return false;
}

static int take_count(CorePool *p, const AllocRequest *req, uint64_t gpus, CpuSet *ret_pus, char **ret_note,
                      char **ret_error) {
        bool by_core = req->cpus.smt != SMT_SEPARATE;
        unsigned n = req->cpus.kind == CPUS_UNSET ? 1 : req->cpus.count;
        Place pl = {.p = p, .by_core = by_core};
        CpuSet all_free, near;
        free_units(p, by_core, &all_free);
        if (gpu_node_units(p, gpus, by_core, &near)) {
                cpuset_and(&near, &all_free);
                if (cpuset_count(&near) >= n)
                        all_free = near;
        }
        unsigned n_free = cpuset_count(&all_free);
        if (n_free < n && !ret_error)
                return -EAGAIN; /* the queue asks often; spare it the message */
        if (n_free < n) {
                CpuSet pus = all_free;
                if (by_core)
                        cores_to_pus(p, &all_free, &pus);
                _cleanup_free_ char *f = cpuset_to_string(&pus);
                if (!f)
                        return -ENOMEM;
                return error_setf(ret_error, -EAGAIN, "job '%s' asks for %u %s; %u of %u %s free now%s%s%s",
                                  req->job ?: "?", n, units_name(by_core, n), n_free, capacity(p, by_core),
                                  n_free == 1 ? "is" : "are", *f ? " (" : "", f, *f ? ")" : "");
        }
        /* Every free core of the fastest kind before any of the next: a job is as slow as its
         * slowest thread, so it gets as few slow cores as possible. */
        for (unsigned k = 0, left = n; k < p->t->n_kinds && left > 0; k++) {
                pl.units = all_free;
                cpuset_and(&pl.units, by_core ? &p->kind_cores[k] : &p->kind_pus[k]);
                unsigned m = MIN(left, cpuset_count(&pl.units));
                if (m == 0)
                        continue;
                if (p->o.numa == NUMA_SPREAD && p->t->n_numa > 1)
                        place_spread(&pl, m);
                else {
                        count_free(&pl);
                        place(&pl, 0, m);
                }
                left -= m;
        }
        /* place() takes exactly n when n are free; anything else is a bug in it */
        if (cpuset_count(&pl.taken) != n)
                return error_setf(ret_error, -EIO, "job '%s': internal allocation error", req->job ?: "?");
        if (by_core)
                cores_to_pus(p, &pl.taken, ret_pus);
        else
                *ret_pus = pl.taken;
        return make_notes(p, ret_pus, n, by_core, ret_note);
}

int alloc_take(CorePool *p, const AllocRequest *req, Assignment *ret, char **ret_error) {
        int r = check_static(p, req, ret_error);
        if (r < 0)
                return r;
        const char *job = req->job ?: "?";
        CpuSet blocked = p->busy;
        cpuset_or(&blocked, &p->shared);
        CpuSet cpus;
        _cleanup_free_ char *note = NULL;
        bool exclusive = true;
        uint64_t gpus;
        r = pick_gpus(p, req, &gpus, ret_error);
        if (r < 0)
                return r;

        switch (req->cpus.kind) {
        case CPUS_UNSET:
        case CPUS_COUNT:
                r = take_count(p, req, gpus, &cpus, &note, ret_error);
                if (r < 0)
                        return r;
                break;
        case CPUS_LIST:
        case CPUS_SHARED:
        case CPUS_ALL: {
                exclusive = req->cpus.kind == CPUS_LIST;
                cpus = req->cpus.kind == CPUS_ALL ? p->usable : req->cpus.set;
                /* Shared sets share with each other, never with exclusive jobs. */
                CpuSet clash = cpus;
                cpuset_and(&clash, exclusive ? &blocked : &p->busy);
                if (!cpuset_is_empty(&clash)) {
                        _cleanup_free_ char *want = cpuset_to_string(&cpus),
                                            *busy = cpuset_to_string(&clash);
                        if (!want || !busy)
                                return -ENOMEM;
                        return error_setf(
                                ret_error, -EAGAIN, "job '%s' asks for %s %s but %s %s in use by other jobs",
                                job, cpus_word(&cpus), want, busy, cpuset_count(&clash) == 1 ? "is" : "are");
                }
                break;
        }
        default:
                return error_setf(ret_error, -EINVAL, "job '%s': invalid CPU request", job);
        }

        uint64_t commit;
        r = check_memory_now(p, req, &commit, ret_error);
        if (r < 0)
                return r;

        Assignment a = {.cpus = cpus,
                        .exclusive = exclusive,
                        .memory_bytes = commit,
                        .gpus = gpus,
                        .gpus_shared = req->gpu_shared};
        if (p->o.numa == NUMA_INTERLEAVE)
                topo_all_mems(p->t, &a.mems);
        else
                topo_mems_of(p->t, &cpus, &a.mems);

        if (exclusive)
                cpuset_or(&p->busy, &cpus);
        else
                CPUSET_FOREACH(c, &cpus) {
                        p->shared_ref[c]++;
                        cpuset_add(&p->shared, (unsigned)c);
                }
        p->committed += commit;
        if (!req->gpu_shared)
                p->gpu_busy |= gpus;
        for (unsigned i = 0; i < ALLOC_GPUS_MAX; i++)
                if (gpus & (UINT64_C(1) << i)) {
                        if (req->gpu_shared)
                                p->gpu_shared_ref[i]++;
                        p->gpu_share_sum[i] += req->gpu_share_ppm;
                }
        a.gpu_share_ppm = req->gpu_share_ppm;
        a.note = TAKE_PTR(note);
        *ret = a;
        return 0;
}

void alloc_release(CorePool *p, const Assignment *a) {
        if (a->exclusive)
                cpuset_andnot(&p->busy, &a->cpus);
        else
                CPUSET_FOREACH(c, &a->cpus) {
                        if (p->shared_ref[c] > 0)
                                p->shared_ref[c]--;
                        if (p->shared_ref[c] == 0)
                                cpuset_del(&p->shared, (unsigned)c);
                }
        p->committed -= MIN(p->committed, a->memory_bytes);
        if (!a->gpus_shared)
                p->gpu_busy &= ~a->gpus;
        for (unsigned i = 0; i < ALLOC_GPUS_MAX; i++) {
                if (!(a->gpus & (UINT64_C(1) << i)))
                        continue;
                if (a->gpus_shared && p->gpu_shared_ref[i] > 0)
                        p->gpu_shared_ref[i]--;
                p->gpu_share_sum[i] -= MIN(p->gpu_share_sum[i], a->gpu_share_ppm);
        }
}

void alloc_request_init(AllocRequest *ret, const char *job, const Limits *l) {
        *ret = (AllocRequest){.job = job, .cpus = l->cpus, .memory_bytes = l->memory_max};
        if (l->gpus.kind == GPUS_COUNT || l->gpus.kind == GPUS_LIST) {
                ret->gpu_count = l->gpus.count;
                ret->gpu_shared = l->gpus.shared;
                /* share: 100 in cap mode is no cap (measured, never slowed): an uncapped
                 * co-tenant, outside the sum. As a guarantee (mode share) it is the whole GPU. */
                ret->gpu_share_ppm = l->gpus.share_ppm >= GPU_SHARE_WHOLE && l->gpus.mode == GPU_MODE_CAP
                                             ? 0
                                             : l->gpus.share_ppm;
        }
        if (ret->cpus.kind == CPUS_UNSET) {
                ret->cpus.kind = CPUS_COUNT;
                ret->cpus.count = 1;
        }
}

/* ---- the pool ---- */

CorePool *alloc_pool_free(CorePool *p) {
        if (!p)
                return NULL;
        free(p->nodes);
        free(p->free);
        free(p->kind_pus);
        free(p->kind_cores);
        free(p->numa_pus);
        free(p->numa_cores);
        free(p);
        return NULL;
}

int alloc_pool_new(const Topology *t, const AllocOptions *o, CorePool **ret) {
        if (!t || t->n_cores == 0)
                return -EINVAL;
        _cleanup_(alloc_pool_freep) CorePool *p = calloc(1, sizeof(CorePool));
        if (!p)
                return -ENOMEM;
        p->t = t;
        p->o = o ? *o : (AllocOptions){.numa = NUMA_LOCAL, .memory_available = UINT64_MAX};

        /* The system keeps the highest-numbered cores (the last package), as Slurm's core
         * specialization does: job sets then start at CPU 0 and stay contiguous, explicit lists
         * written for the whole machine ("0-45") stay valid, and on hybrid Intel parts the
         * reserved cores are E cores, the ones jobs want least. */
        p->usable = t->allowed;
        for (size_t i = t->n_cores; i-- > 0 && p->n_reserved < p->o.reserve_cores;) {
                cpuset_or(&p->reserved_pus, &t->cores[i].pus);
                p->n_reserved++;
        }
        cpuset_andnot(&p->usable, &p->reserved_pus);
        topo_cores_of(t, &p->usable, &p->usable_cores);

        unsigned n_kinds = MAX(t->n_kinds, 1u);
        p->kind_pus = calloc(n_kinds, sizeof(CpuSet));
        p->kind_cores = calloc(n_kinds, sizeof(CpuSet));
        p->numa_pus = calloc(MAX(t->n_numa, (size_t)1), sizeof(CpuSet));
        p->numa_cores = calloc(MAX(t->n_numa, (size_t)1), sizeof(CpuSet));
        if (!p->kind_pus || !p->kind_cores || !p->numa_pus || !p->numa_cores)
                return -ENOMEM;
        CPUSET_FOREACH(c, &p->usable_cores) {
                unsigned k = MIN(t->cores[c].kind, n_kinds - 1);
                cpuset_add(&p->kind_cores[k], (unsigned)c);
                cpuset_or(&p->kind_pus[k], &t->cores[c].pus);
        }
        for (size_t i = 0; i < t->n_numa; i++) {
                p->numa_pus[i] = t->numa_nodes[i].pus;
                cpuset_and(&p->numa_pus[i], &p->usable);
                topo_cores_of(t, &p->numa_pus[i], &p->numa_cores[i]);
        }
        for (unsigned i = 0; i < MIN(p->o.n_gpus, (unsigned)ALLOC_GPUS_MAX); i++) {
                p->gpu_all |= UINT64_C(1) << i;
                p->gpu_numa[i] = p->o.gpu_numa ? p->o.gpu_numa[i] : -1;
        }
        p->o.gpu_numa = NULL; /* copied: the caller's array need not outlive the pool */
        int r = build_tree(p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

const CpuSet *alloc_pool_usable(const CorePool *p) {
        return &p->usable;
}

unsigned alloc_pool_free_cores(const CorePool *p) {
        CpuSet f;
        free_units(p, true, &f);
        return cpuset_count(&f);
}

unsigned alloc_pool_usable_cores(const CorePool *p) {
        return cpuset_count(&p->usable_cores);
}

unsigned alloc_pool_reserved_cores(const CorePool *p) {
        return p->n_reserved;
}

uint64_t alloc_pool_memory_committed(const CorePool *p) {
        return p->committed;
}
