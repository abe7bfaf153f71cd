/* SPDX-License-Identifier: MIT */
/* A job's `gpus:` against the machine's GPUs, before anything starts (pure: GpuHost is
 * plain data here). NVML indexes and UUIDs become positions in GpuHost.devices (PCI bus
 * order), so that every later step names a GPU one way only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpu/gpu.h"
#include "util/error.h"
#include "util/macros.h"

/* "GPU 0 (GPU-1a2b...), GPU 1 (...)": what a user may pick from, for messages. */
static char *host_list(const GpuHost *h) {
        size_t n = MIN(h->n_devices, (size_t)GPU_REQUEST_MAX);
        char *s = calloc(1, n * (GPU_UUID_MAX + 24) + 1);
        if (!s)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += (size_t)sprintf(s + k, "%s%u (%s)", i ? ", " : "", h->devices[i].nvml_index,
                                     h->devices[i].uuid);
        return s;
}

/* One list entry: its position in h->devices, or -1. A UUID may be shortened to any
 * prefix that names one GPU only, as nvidia-smi -i accepts. */
static int find_entry(const GpuHost *h, const char *e, size_t len, bool *ret_ambiguous) {
        size_t n = MIN(h->n_devices, (size_t)GPU_REQUEST_MAX);
        *ret_ambiguous = false;
        if (len > 0 && e[0] >= '0' && e[0] <= '9') {
                unsigned idx = (unsigned)strtoul(e, NULL, 10);
                for (size_t i = 0; i < n; i++)
                        if (h->devices[i].nvml_index == idx)
                                return (int)i;
                return -1;
        }
        int found = -1;
        for (size_t i = 0; i < n; i++) {
                const char *u = h->devices[i].uuid;
                if (strlen(u) < len || strncasecmp(u, e, len) != 0)
                        continue;
                if (strlen(u) == len)
                        return (int)i;
                if (found >= 0)
                        *ret_ambiguous = true;
                found = (int)i;
        }
        return *ret_ambiguous ? -1 : found;
}

int gpu_request_resolve(const GpuRequest *g, const GpuHost *h, const char *job, uint64_t *ret_mask,
                        char **ret_error) {
        char where[SPEC_POS_MAX];
        spec_pos_format(&g->pos, where, sizeof where);
        size_t n = h ? MIN(h->n_devices, (size_t)GPU_REQUEST_MAX) : 0;
        *ret_mask = 0;
        if (g->kind != GPUS_COUNT && g->kind != GPUS_LIST)
                return 0;
        unsigned want = g->count;
        if (n == 0)
                return error_setf(ret_error, -ENOSPC, "%sjob '%s' asks for %u GPU%s but this machine has none: %s",
                                  where, job, want, want == 1 ? "" : "s",
                                  h && h->why_none ? h->why_none : "no NVIDIA GPU found");
        _cleanup_free_ char *list = host_list(h);
        if (!list)
                return -ENOMEM;
        if (g->kind == GPUS_COUNT) {
                if (want > n)
                        return error_setf(ret_error, -ENOSPC,
                                          "%sjob '%s' asks for %u GPUs but this machine has %zu: %s; at most %zu "
                                          "would fit",
                                          where, job, want, n, list, n);
                return 0;
        }
        uint64_t mask = 0;
        for (const char *p = g->list ?: ""; *p;) {
                size_t len = strcspn(p, ",");
                bool ambiguous;
                int i = find_entry(h, p, len, &ambiguous);
                if (i < 0)
                        return error_setf(ret_error, -EINVAL, "%sjob '%s' asks for GPU %.*s but %s; the GPUs are %s",
                                          where, job, (int)len, p,
                                          ambiguous ? "that UUID prefix names more than one"
                                                    : "this machine has no such GPU",
                                          list);
                if (mask & (UINT64_C(1) << i))
                        return error_setf(ret_error, -EINVAL, "%sjob '%s' names GPU %u (%s) twice", where, job,
                                          h->devices[i].nvml_index, h->devices[i].uuid);
                mask |= UINT64_C(1) << i;
                p += len + (p[len] == ',');
        }
        *ret_mask = mask;
        return 0;
}

int gpu_visible_devices(const GpuHost *h, uint64_t mask, char **ret) {
        size_t n = h ? MIN(h->n_devices, (size_t)GPU_REQUEST_MAX) : 0;
        char *s = calloc(1, n * (GPU_UUID_MAX + 1) + 1);
        if (!s)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (mask & (UINT64_C(1) << i))
                        k += (size_t)sprintf(s + k, "%s%s", k ? "," : "", h->devices[i].uuid);
        *ret = s;
        return 0;
}

int gpu_shares_check(const AllocRequest *reqs, const GpuRequest *const *g, size_t n, unsigned n_gpus,
                     char **ret_error) {
        size_t bad = 0;
        uint32_t room = 0;
        int r = alloc_gpu_shares_fit(reqs, n, n_gpus, &bad, &room);
        if (r != 0)
                return r < 0 ? r : 0;
        const GpuRequest *b = g[bad];
        char where[SPEC_POS_MAX];
        spec_pos_format(b->share_pos.line || b->share_pos.flag ? &b->share_pos : &b->pos, where, sizeof where);
        /* Name the others: which shares the user has to lower. */
        char others[512] = "";
        size_t k = 0;
        for (size_t i = 0; i < n && k + 64 < sizeof others; i++)
                if (i != bad && reqs[i].gpu_share_ppm > 0)
                        k += (size_t)snprintf(others + k, sizeof others - k, "%s%s %g %%", k ? ", " : "",
                                              reqs[i].job ?: "?", reqs[i].gpu_share_ppm / 1e4);
        char asks[96];
        if (reqs[bad].gpu_shared)
                snprintf(asks, sizeof asks, "%g %% of %s", reqs[bad].gpu_share_ppm / 1e4,
                         reqs[bad].gpu_count > 1 ? "each of its" : "a");
        else
                snprintf(asks, sizeof asks, "%s (shared: false, capped at %g %%)",
                         reqs[bad].gpu_count > 1 ? "GPUs of its own" : "a GPU of its own",
                         reqs[bad].gpu_share_ppm / 1e4);
        return error_setf(ret_error, -ENOSPC,
                          "%sjob '%s' asks for %s%s, but %s leave%s at most %g %% on any of this "
                          "machine's %u GPU%s; the shares on one GPU add up to at most 100 %% (lower them, or "
                          "run the jobs in separate scenarios)",
                          where, reqs[bad].job ?: "?", asks,
                          reqs[bad].gpu_shared && reqs[bad].gpu_count > 1 ? " GPUs" :
                          reqs[bad].gpu_shared ? " GPU" : "",
                          *others ? others : "the jobs beside it", *others ? "" : "s", room / 1e4, n_gpus,
                          n_gpus == 1 ? "" : "s");
}
