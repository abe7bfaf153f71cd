/* SPDX-License-Identifier: MIT */
/* region-ctl: makes and reads GPU limit regions (src/gpu/region.h) the way the runner
 * does, for the shim's tests and benchmark:
 *   region-ctl create PATH UUID LIMIT_BYTES RATE_PPM|unlimited DEPTH_MS[/INFLIGHT_MS] [UUID ...]
 *                                  one region, one GPU per group of four (mode 0600); the
 *                                  in-flight bound defaults to 2 × depth
 *   region-ctl show PATH           the counters as JSON
 *   region-ctl rate PATH GPU RATE_PPM|unlimited
 *   region-ctl untracked PATH GPU BYTES
 *                                  memory_untracked, as the runner writes it
 *   region-ctl reap PATH           releases dead processes' slots; prints how many */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/region.h"

static int usage(void) {
        fprintf(stderr, "usage: region-ctl create PATH UUID LIMIT RATE|unlimited DEPTH_MS[/INFLIGHT_MS] [UUID ...] | show PATH | "
                        "rate PATH GPU RATE|unlimited | untracked PATH GPU BYTES | reap PATH\n");
        return 2;
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        if (strcmp(s, "unlimited") == 0) {
                *ret = GPU_RATE_UNLIMITED;
                return 0;
        }
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || *end || *s == '-')
                return -1;
        *ret = v;
        return 0;
}

static void show(const GpuRegion *r) {
        static const char *const names[] = GPU_ENTRY_NAMES;
        printf("{\"procs_claimed\": %" PRIu64 ", \"unmapped_lookups\": %u, \"procs\": [",
               atomic_load(&r->procs_claimed), atomic_load(&r->unmapped_lookups));
        bool first = true;
        for (unsigned k = 0; k < GPU_REGION_PROCS; k++) {
                int32_t pid = atomic_load(&r->proc[k].pid);
                if (pid) {
                        uint64_t bytes = 0;
                        for (unsigned i = 0; i < GPU_REGION_GPUS; i++)
                                bytes += atomic_load(&r->proc[k].memory_bytes[i]);
                        printf("%s{\"pid\": %d, \"bytes\": %" PRIu64 "}", first ? "" : ", ", pid, bytes);
                        first = false;
                }
        }
        printf("], \"gpus\": [");
        for (unsigned i = 0; i < r->n_gpus; i++) {
                const GpuRegionGpu *g = &r->gpu[i];
                printf("%s{\"uuid\": \"%s\", \"rate_ppm\": %" PRIu64 ", \"tokens_ns\": %" PRId64
                       ", \"charged_ns\": %" PRIu64 ", \"measured_ns\": %" PRIu64 ", \"sampled_ns\": %" PRIu64
                       ", \"throttled_ns\": %" PRIu64 ", \"waits\": %" PRIu64 ", \"memory_limit\": %" PRIu64
                       ", \"memory_used\": %" PRIu64 ", \"memory_peak\": %" PRIu64 ", \"memory_refused\": %" PRIu64
                       ", \"memory_untracked\": %" PRIu64 ", \"launches\": {",
                       i ? ", " : "", g->uuid, atomic_load(&g->rate_ppm), atomic_load(&g->tokens_ns),
                       atomic_load(&g->charged_ns), atomic_load(&g->measured_ns), atomic_load(&g->sampled_ns),
                       atomic_load(&g->throttled_ns), atomic_load(&g->waits), g->memory_limit,
                       atomic_load(&g->memory_used), atomic_load(&g->memory_peak), atomic_load(&g->memory_refused),
                       atomic_load(&g->memory_untracked));
                for (int e = 0; e < _GPU_ENTRY_MAX; e++)
                        printf("%s\"%s\": %" PRIu64, e ? ", " : "", names[e], atomic_load(&g->launches[e]));
                printf("}}");
        }
        printf("]}\n");
}

static int create(int argc, char **argv) {
        GpuRegionGpuSpec specs[GPU_REGION_GPUS];
        unsigned n = 0;
        for (int a = 3; a + 3 < argc + 0 && n < GPU_REGION_GPUS; a += 4, n++) {
                uint64_t limit, rate, depth_ms, inflight_ms = 0;
                char depth[32];
                snprintf(depth, sizeof depth, "%s", argv[a + 3]);
                char *slash = strchr(depth, '/');
                if (slash)
                        *slash++ = '\0';
                if (parse_u64(argv[a + 1], &limit) < 0 || parse_u64(argv[a + 2], &rate) < 0 ||
                    parse_u64(depth, &depth_ms) < 0 || (slash && parse_u64(slash, &inflight_ms) < 0))
                        return usage();
                specs[n] = (GpuRegionGpuSpec){.uuid = argv[a],
                                              .memory_limit = limit,
                                              .share_ppm = rate == GPU_RATE_UNLIMITED ? 1000000 : (uint32_t)rate,
                                              .rate_ppm = rate,
                                              .depth_ns = (int64_t)depth_ms * 1000000,
                                              .inflight_max_ns = (int64_t)inflight_ms * 1000000};
        }
        if (n == 0 || (argc - 3) % 4 != 0)
                return usage();
        GpuRegion *r;
        int e = gpu_region_create(argv[2], (uid_t)-1, (gid_t)-1, specs, n, &r);
        if (e < 0) {
                fprintf(stderr, "region-ctl: cannot create %s: %s\n", argv[2], strerror(-e));
                return 1;
        }
        gpu_region_unmap(r);
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 3)
                return usage();
        if (strcmp(argv[1], "create") == 0)
                return create(argc, argv);
        GpuRegion *r;
        int e = gpu_region_map(argv[2], &r);
        if (e < 0) {
                fprintf(stderr, "region-ctl: cannot map %s: %s\n", argv[2], strerror(-e));
                return 1;
        }
        int ret = 0;
        uint64_t gpu, rate;
        if (strcmp(argv[1], "show") == 0 && argc == 3)
                show(r);
        else if (strcmp(argv[1], "reap") == 0 && argc == 3)
                printf("%u\n", gpu_region_reap(r));
        else if (strcmp(argv[1], "rate") == 0 && argc == 5 && parse_u64(argv[3], &gpu) == 0 &&
                 parse_u64(argv[4], &rate) == 0 && gpu < r->n_gpus)
                atomic_store(&r->gpu[gpu].rate_ppm, rate);
        else if (strcmp(argv[1], "untracked") == 0 && argc == 5 && parse_u64(argv[3], &gpu) == 0 &&
                 parse_u64(argv[4], &rate) == 0 && gpu < r->n_gpus && rate != GPU_RATE_UNLIMITED)
                atomic_store(&r->gpu[gpu].memory_untracked, rate);
        else
                ret = usage();
        gpu_region_unmap(r);
        return ret;
}
