/* SPDX-License-Identifier: MIT */
/* The queue rule (alloc_admit): which waiting jobs start now. exec calls it whenever
 * cores or memory may have come free; `corun plan` calls it to simulate a run, so both
 * place every job the same way. */
#include <errno.h>

#include "alloc/alloc.h"
#include "util/cpuset.h"

/* Whole cores a request holds exclusively; shared and all-CPU requests hold none. */
static unsigned request_cores(const CpuRequest *c) {
        switch (c->kind) {
        case CPUS_COUNT:
                return c->count;
        case CPUS_LIST:
                return cpuset_count(&c->set);
        case CPUS_SHARED:
        case CPUS_ALL:
                return 0;
        default:
                return 1;
        }
}

int alloc_admit(CorePool *p, const AllocRequest *reqs, bool *waiting, size_t n, Assignment *ret,
                size_t *ret_failed, char **ret_error) {
        bool blocked = false, gpu_blocked = false;
        unsigned reserved = 0;     /* cores the blocked jobs ahead need */
        unsigned gpu_reserved = 0; /* exclusive GPUs the jobs ahead that wait for GPUs need */
        int admitted = 0;
        /* Counted once and again only after an admission: a queue of thousands asks for it
         * per waiting job otherwise, which made `corun plan` quadratic in a costly way. */
        unsigned free_cores = alloc_pool_free_cores(p);
        for (size_t i = 0; i < n; i++) {
                if (!waiting[i])
                        continue;
                unsigned need = request_cores(&reqs[i].cpus);
                if (blocked && need > 0 && free_cores < reserved + need)
                        continue;
                /* A job waiting for a GPU holds back later GPU jobs the same way, and no
                 * cores: CPU-only jobs behind it go on. */
                unsigned gneed = reqs[i].gpu_shared ? 0 : reqs[i].gpu_count;
                if (gpu_blocked && gneed > 0 && alloc_pool_free_gpus(p) < gpu_reserved + gneed)
                        continue;
                if (!alloc_gpus_available(p, &reqs[i])) {
                        gpu_blocked = true;
                        gpu_reserved += gneed;
                        continue;
                }
                int r = alloc_take(p, &reqs[i], &ret[i], NULL);
                if (r == -EAGAIN) {
                        blocked = true;
                        reserved += need;
                        continue;
                }
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = i;
                        /* Again for the message (deterministic: it fails the same way); not
                         * asked for above, since most waiting jobs fail with -EAGAIN. */
                        Assignment a;
                        if (ret_error && alloc_take(p, &reqs[i], &a, ret_error) >= 0) {
                                alloc_release(p, &a);
                                assignment_done(&a);
                        }
                        return r;
                }
                waiting[i] = false;
                admitted++;
                free_cores = alloc_pool_free_cores(p);
        }
        return admitted;
}
