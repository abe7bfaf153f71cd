/* SPDX-License-Identifier: MIT */
/* What the directory backends (v1, v2) share: kill, populated and pid lists over a
 * group's directories in every hierarchy; and the runner's own view (its affinity and
 * memory nodes, the memory limit it lives under), which the none backend uses too. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup-internal.h"

static size_t group_paths(const Cgroup *g, const char **paths) {
        size_t n = 0;
        for (size_t i = 0; i < g->m->d.n; i++)
                if (g->path[i])
                        paths[n++] = g->path[i];
        return n;
}

int cg_dirs_kill(Cgroup *g) {
        const char *paths[CG_MAX_HIER];
        size_t n = group_paths(g, paths);
        return cg_kill_paths(paths, n, CG_KILL_TIMEOUT_USEC, NULL);
}

int cg_dirs_is_populated(Cgroup *g) {
        /* The hierarchy types are known: no statfs per path (cg_path_populated). The
         * cgroup2 group first: one read answers for a running job. A process could
         * still have left it (moved itself), hence the v1 groups after it. */
        const CgroupManager *m = g->m;
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < m->d.n; i++) {
                        if (!g->path[i] || m->d.h[i].cgroup2 != (pass == 0))
                                continue;
                        int r;
                        if (m->d.h[i].cgroup2) {
                                uint64_t p;
                                r = cg_read_keyed(g->path[i], "cgroup.events", "populated", &p);
                                r = r == -ENOENT ? 0 : r < 0 ? r : p != 0;
                        } else {
                                _cleanup_free_ pid_t *pids = NULL;
                                size_t n = 0;
                                r = cg_read_pids_tree(g->path[i], &pids, &n);
                                r = r < 0 ? r : n > 0;
                        }
                        if (r != 0)
                                return r;
                }
        return 0;
}

int cg_dirs_pids(Cgroup *g, pid_t **ret, size_t *ret_n) {
        const char *p = cg_group_path(g, CG_UNIFIED);
        if (!p)
                p = cg_group_path(g, CG_MEMORY);
        for (size_t i = 0; !p && i < g->m->d.n; i++)
                p = g->path[i];
        pid_t *pids = NULL;
        size_t n = 0;
        if (p) {
                int r = cg_read_pids_tree(p, &pids, &n);
                if (r < 0) {
                        free(pids);
                        return r;
                }
        }
        *ret = pids;
        *ret_n = n;
        return 0;
}

int cg_runner_affinity(CpuSet *ret_cpus, CpuSet *ret_mems) {
        cpu_set_t s;
        if (sched_getaffinity(0, sizeof s, &s) < 0)
                return -errno;
        CpuSet c = {0}, mems = {0};
        for (unsigned i = 0; i < CPU_SETSIZE && i < CPUSET_MAX; i++)
                if (CPU_ISSET(i, &s))
                        cpuset_add(&c, i);
        if (cpuset_from_proc_status("Mems_allowed_list", &mems) < 0)
                cpuset_zero(&mems);
        if (cpuset_is_empty(&mems))
                cpuset_add(&mems, 0);
        *ret_cpus = c;
        *ret_mems = mems;
        return 0;
}

uint64_t cg_own_memory_limit(const CgroupManager *m) {
        int i = m->d.by_ctrl[CG_MEMORY];
        const char *file = "memory.limit_in_bytes";
        if (i < 0) {
                /* Pure cgroup2: memory.max, where the memory controller is enabled. */
                i = m->d.by_ctrl[CG_UNIFIED];
                file = "memory.max";
        }
        if (i < 0 || !m->own_path[i])
                return LIMIT_MAX;
        uint64_t best = LIMIT_MAX;
        _cleanup_free_ char *p = strdup(m->own_path[i]);
        if (!p)
                return LIMIT_MAX;
        size_t floor = strlen(m->fs_root) + strlen(m->d.h[i].mount);
        for (;;) {
                uint64_t v;
                if (cg_read_u64(p, file, &v) >= 0 && v < CG_V1_UNLIMITED_FLOOR)
                        best = MIN(best, v);
                char *slash = strrchr(p, '/');
                if (!slash || (size_t)(slash - p) < floor)
                        break;
                *slash = '\0';
        }
        return best;
}
