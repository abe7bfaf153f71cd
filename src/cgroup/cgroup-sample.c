/* SPDX-License-Identifier: MIT */
/* The sampler's fast path: two files per job kept open and re-read with pread(2) at
 * every tick, instead of a path walk and open per file (which, for 64 jobs at 10 Hz,
 * cost more CPU than everything else the runner does). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/parse.h"

static int open_in(const char *dir, const char *file) {
        char p[4096];
        if (!dir || snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p)
                return -ENOENT;
        return RET_NERRNO(open(p, O_RDONLY | O_CLOEXEC));
}

/* The hierarchy whose group holds the job's memory files: v1's memory hierarchy, or on
 * v2 the unified one, which carries every controller (discovery maps no v1 controller
 * there). Not the controller-less cgroup2 of a v1 hybrid host. */
static int memory_hier(const Cgroup *g) {
        int mi = cg_hier(g->m, CG_MEMORY);
        return mi >= 0 || g->m->ops->kind != BACKEND_V2 ? mi : cg_hier(g->m, CG_UNIFIED);
}

int cg_open_sample_fds(const Cgroup *g, int *ret_mem_fd, int *ret_cpu_fd) {
        int mi = memory_hier(g), ui = cg_hier(g->m, CG_UNIFIED);
        *ret_mem_fd = *ret_cpu_fd = -1;
        if (mi >= 0)
                *ret_mem_fd = open_in(g->path[mi], g->m->d.h[mi].cgroup2 ? "memory.current" : "memory.usage_in_bytes");
        /* cgroup2's cpu.stat exists without any controller; cpuacct is the v1 fallback. */
        if (ui >= 0)
                *ret_cpu_fd = open_in(g->path[ui], "cpu.stat");
        if (*ret_cpu_fd < 0)
                *ret_cpu_fd = open_in(cg_group_path(g, CG_CPUACCT), "cpuacct.usage");
        if (*ret_mem_fd < 0)
                *ret_mem_fd = -1;
        if (*ret_cpu_fd < 0)
                *ret_cpu_fd = -1;
        return 0;
}

static ssize_t pread_text(int fd, char *buf, size_t n) {
        ssize_t k = pread(fd, buf, n - 1, 0);
        if (k < 0)
                return negative_errno();
        buf[k] = '\0';
        return k;
}

int cg_sample_read_memory(Cgroup *g, int fd, uint64_t *ret) {
        char buf[64];
        ssize_t k = pread_text(fd, buf, sizeof buf);
        if (k < 0)
                return (int)k;
        int r = parse_u64(buf, ret);
        /* Where the kernel keeps no peak (v2 before 5.19), the samples are the peak. */
        if (r >= 0 && g)
                g->peak_sampled = MAX(g->peak_sampled, *ret);
        return r;
}

int cg_sample_read_cpu(int fd, uint64_t *ret_usec) {
        char buf[512];
        ssize_t k = pread_text(fd, buf, sizeof buf);
        if (k < 0)
                return (int)k;
        if (strncmp(buf, "usage_usec ", 11) == 0) {
                buf[strcspn(buf, "\n")] = '\0';
                return parse_u64(buf + 11, ret_usec);
        }
        uint64_t ns;
        int r = parse_u64(buf, &ns); /* cpuacct.usage: nanoseconds */
        if (r < 0)
                return r;
        *ret_usec = ns / 1000;
        return 0;
}

int cg_read_memory_pressure(const Cgroup *g, CgPressure *ret) {
        int mi = memory_hier(g), ui = cg_hier(g->m, CG_UNIFIED);
        uint64_t v;

        *ret = (CgPressure){0};
        /* PSI lives in the cgroup2 group: v2's own, or v1 hybrid's unified one. */
        if (g->m->has_psi && ui >= 0)
                ret->has_stall = cg_read_psi_total(g->path[ui], "memory.pressure", "some", &ret->stall_usec) >= 0;
        if (mi < 0)
                return ret->has_stall ? 0 : -EOPNOTSUPP;
        if (g->m->d.h[mi].cgroup2) {
                if (cg_read_keyed(g->path[mi], "memory.events", "high", &v) >= 0)
                        ret->count += v;
                if (cg_read_keyed(g->path[mi], "memory.events", "max", &v) >= 0)
                        ret->count += v;
        } else if (cg_read_u64(g->path[mi], "memory.failcnt", &v) >= 0)
                ret->count = v;
        return 0;
}

int cg_open_pressure_eventfd(const Cgroup *g, const char *level, int *ret_fd) {
        int mi = cg_hier(g->m, CG_MEMORY);
        char buf[64];

        *ret_fd = -1;
        if (mi < 0 || g->m->d.h[mi].cgroup2)
                return -EOPNOTSUPP; /* v2 has PSI triggers instead */
        _cleanup_close_ int level_fd = open_in(g->path[mi], "memory.pressure_level");
        if (level_fd < 0)
                return level_fd;
        char p[4096];
        if (snprintf(p, sizeof p, "%s/cgroup.event_control", g->path[mi]) >= (int)sizeof p)
                return -ENAMETOOLONG;
        _cleanup_close_ int ctl_fd = open(p, O_WRONLY | O_CLOEXEC);
        if (ctl_fd < 0)
                return negative_errno();
        _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (efd < 0)
                return negative_errno();
        /* "<event fd> <pressure_level fd> <level>": the kernel keeps its own references,
         * so only the eventfd has to stay open. */
        int n = snprintf(buf, sizeof buf, "%d %d %s", efd, level_fd, level);
        if (n < 0 || n >= (int)sizeof buf)
                return -EINVAL;
        if (write(ctl_fd, buf, (size_t)n) != n)
                return negative_errno();
        *ret_fd = TAKE_FD(efd);
        return 0;
}
