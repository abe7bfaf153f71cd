/* SPDX-License-Identifier: MIT */
/* The GPU limit region's file (region.h): created by the runner, mapped by the shim and
 * the test tools, and its dead processes' slots reaped. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "gpu/region.h"
#include "util/macros.h"

/* 2 × depth: the in-flight bound the research note (§5.4) suggests, one bucket's worth
 * queued behind one bucket's worth running. */
static int64_t inflight_default(int64_t depth_ns) {
        return depth_ns > 0 ? 2 * depth_ns : 200000000;
}

int gpu_region_create(const char *path, uid_t uid, gid_t gid, const GpuRegionGpuSpec *gpus, unsigned n_gpus,
                      GpuRegion **ret) {
        if (!path || !ret || n_gpus > GPU_REGION_GPUS || (n_gpus > 0 && !gpus))
                return -EINVAL;
        for (unsigned i = 0; i < n_gpus; i++)
                if (!gpus[i].uuid || strlen(gpus[i].uuid) >= sizeof(((GpuRegionGpu *)0)->uuid) ||
                    gpus[i].depth_ns < 0 || gpus[i].inflight_max_ns < 0)
                        return -EINVAL;

        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        int r = 0;
        /* The umask may have taken bits away, never added any: 0600 exactly, whatever it is. */
        if (fchmod(fd, 0600) < 0 || (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) ||
            ftruncate(fd, sizeof(GpuRegion)) < 0)
                r = negative_errno();
        GpuRegion *g = MAP_FAILED;
        if (r == 0) {
                g = mmap(NULL, sizeof(GpuRegion), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                if (g == MAP_FAILED)
                        r = negative_errno();
        }
        if (r < 0) {
                unlink(path);
                return r;
        }
        /* ftruncate gave zeros: only what is not zero is written. */
        g->version = GPU_REGION_VERSION;
        g->size = sizeof(GpuRegion);
        g->n_gpus = n_gpus;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
        for (unsigned i = 0; i < n_gpus; i++) {
                GpuRegionGpu *x = &g->gpu[i];
                snprintf(x->uuid, sizeof x->uuid, "%s", gpus[i].uuid);
                x->memory_limit = gpus[i].memory_limit;
                x->depth_ns = gpus[i].depth_ns;
                x->inflight_max_ns = gpus[i].inflight_max_ns ? gpus[i].inflight_max_ns
                                                             : inflight_default(gpus[i].depth_ns);
                x->share_ppm = gpus[i].share_ppm;
                x->timeslice_ns = gpus[i].timeslice_ns > 0 ? gpus[i].timeslice_ns : 0;
                x->timeslice_switch_ns = x->timeslice_ns ? MAX(gpus[i].timeslice_switch_ns, 0) : 0;
                atomic_store(&x->rate_ppm, gpus[i].rate_ppm);
                atomic_store(&x->tokens_ns, gpus[i].depth_ns);
                atomic_store(&x->refill_ns, now);
        }
        /* The magic last: a shim that maps a half-written region sees no magic and passes
         * everything through. */
        atomic_thread_fence(memory_order_release);
        __atomic_store_n(&g->magic, GPU_REGION_MAGIC, __ATOMIC_RELEASE);
        *ret = g;
        return 0;
}

int gpu_region_map(const char *path, GpuRegion **ret) {
        if (!path || !ret)
                return -EINVAL;
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != sizeof(GpuRegion))
                return -EPROTO;
        GpuRegion *g = mmap(NULL, sizeof(GpuRegion), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (g == MAP_FAILED)
                return negative_errno();
        if (__atomic_load_n(&g->magic, __ATOMIC_ACQUIRE) != GPU_REGION_MAGIC || g->version != GPU_REGION_VERSION ||
            g->size != sizeof(GpuRegion) || g->n_gpus > GPU_REGION_GPUS) {
                munmap(g, sizeof(GpuRegion));
                return -EPROTO;
        }
        *ret = g;
        return 0;
}

void gpu_region_unmap(GpuRegion *r) {
        if (r)
                munmap(r, sizeof(GpuRegion));
}

unsigned gpu_region_reap(GpuRegion *r) {
        unsigned n = 0;
        for (unsigned k = 0; k < GPU_REGION_PROCS; k++) {
                GpuRegionProc *p = &r->proc[k];
                int32_t pid = atomic_load_explicit(&p->pid, memory_order_acquire);
                if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH && gpu_region_release_proc(r, p, pid))
                        n++;
        }
        return n;
}
