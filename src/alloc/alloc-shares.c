/* SPDX-License-Identifier: MIT */
/* GPU shares (docs/gpu.md, "Admission"): could every job of a run with a share hold its
 * GPUs at once, the shares on each GPU adding up to at most 100 %? Pure: what `run` and
 * `plan` refuse before anything starts. Split from alloc.c (the pool), which it does not
 * touch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "util/macros.h"

/* ---- GPU shares: could all of them run at once? ---- */

static uint64_t share_need(const AllocRequest *q) {
        return q->gpu_shared ? q->gpu_share_ppm : GPU_SHARE_WHOLE;
}

static int need_desc_cmp(const void *a, const void *b, void *userdata) {
        const AllocRequest *r = userdata;
        uint64_t x = share_need(&r[*(const size_t *)a]), y = share_need(&r[*(const size_t *)b]);
        return x < y ? 1 : x > y ? -1 : 0;
}

typedef struct ShareSearch {
        const AllocRequest *reqs;
        const size_t *order;
        size_t m;
        unsigned n_gpus;
        uint64_t sum[ALLOC_GPUS_MAX];
        unsigned long nodes; /* bound on the search: beyond it, the answer is "does not fit" */
        size_t deepest;      /* the first job no placement found room for */
} ShareSearch;

#define SHARE_SEARCH_NODES 200000ul

/* Places order[x..] (each on gpu_count distinct GPUs with room), job x's GPUs picked in
 * increasing index from `from`, `left` of them still to pick. Exact, bounded: packing is
 * NP-hard, but runs hold a handful of shared jobs. GPUs with the same load are
 * interchangeable: only the first of them is tried at each step. */
static bool share_place(ShareSearch *S, size_t x, unsigned from, unsigned left) {
        if (x == S->m)
                return true;
        if (++S->nodes > SHARE_SEARCH_NODES)
                return false;
        const AllocRequest *q = &S->reqs[S->order[x]];
        if (left == 0)
                return share_place(S, x + 1, 0, x + 1 < S->m ? S->reqs[S->order[x + 1]].gpu_count : 0);
        S->deepest = MAX(S->deepest, x);
        uint64_t need = share_need(q);
        for (unsigned i = from; i < S->n_gpus; i++) {
                if (S->sum[i] + need > GPU_SHARE_WHOLE)
                        continue;
                bool seen = false;
                for (unsigned k = from; k < i && !seen; k++)
                        seen = S->sum[k] == S->sum[i];
                if (seen)
                        continue;
                S->sum[i] += need;
                bool ok = share_place(S, x, i + 1, left - 1);
                S->sum[i] -= need;
                if (ok)
                        return true;
        }
        return false;
}

int alloc_gpu_shares_fit(const AllocRequest *reqs, size_t n, unsigned n_gpus, size_t *ret_bad,
                         uint32_t *ret_room) {
        ShareSearch S = {.reqs = reqs, .n_gpus = MIN(n_gpus, (unsigned)ALLOC_GPUS_MAX)};
        _cleanup_free_ size_t *order = calloc(MAX(n, (size_t)1), sizeof(size_t));
        if (!order)
                return -ENOMEM;
        /* Jobs with a share only: the others wait for a GPU like any job. A job with a
         * share on a GPU of its own (shared: false) fills that GPU. Lists are placed first
         * (they have no choice), then counts, largest need first. */
        for (size_t k = 0; k < n; k++) {
                const AllocRequest *q = &reqs[k];
                if (q->gpu_share_ppm == 0)
                        continue;
                if (!q->gpu_mask) {
                        if (q->gpu_count > 0)
                                order[S.m++] = k;
                        continue;
                }
                for (unsigned i = 0; i < S.n_gpus; i++)
                        if (q->gpu_mask & (UINT64_C(1) << i)) {
                                if (S.sum[i] + share_need(q) > GPU_SHARE_WHOLE) {
                                        *ret_bad = k;
                                        *ret_room = (uint32_t)(GPU_SHARE_WHOLE - MIN(S.sum[i], (uint64_t)GPU_SHARE_WHOLE));
                                        return 0;
                                }
                                S.sum[i] += share_need(q);
                        }
        }
        qsort_r(order, S.m, sizeof *order, need_desc_cmp, (void *)reqs);
        S.order = order;
        uint64_t base[ALLOC_GPUS_MAX];
        memcpy(base, S.sum, sizeof base);
        if (share_place(&S, 0, 0, S.m ? reqs[order[0]].gpu_count : 0))
                return 1;
        /* Name the job the search could not get past, and the most room it could have had
         * beside the jobs placed before it (first fit, in the same order). */
        size_t bad = MIN(S.deepest, S.m - 1);
        memcpy(S.sum, base, sizeof base);
        for (size_t x = 0; x < bad; x++) {
                const AllocRequest *q = &reqs[order[x]];
                for (unsigned i = 0, got = 0; i < S.n_gpus && got < q->gpu_count; i++)
                        if (S.sum[i] + share_need(q) <= GPU_SHARE_WHOLE) {
                                S.sum[i] += share_need(q);
                                got++;
                        }
        }
        uint64_t room = 0;
        for (unsigned i = 0; i < S.n_gpus; i++)
                room = MAX(room, GPU_SHARE_WHOLE - MIN(S.sum[i], (uint64_t)GPU_SHARE_WHOLE));
        *ret_bad = order[bad];
        *ret_room = (uint32_t)room;
        return 0;
}
