/* SPDX-License-Identifier: MIT */
/* cgroup v1 (hybrid hosts): limits in the cpuset, cpu, memory and pids hierarchies,
 * accounting in cpuacct and memory, stopping through the freezer. When a cgroup2
 * hierarchy is mounted beside them (/sys/fs/cgroup/unified) it is used too: clone3
 * straight into the job's group, cgroup.kill, cgroup.freeze, cpu.stat and PSI; with
 * cgroup.kill there, cpuacct and freezer get no groups at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/error.h"
#include "util/parse.h"

#define V1_CONTROLLERS                                                                                      \
        ((1u << CG_CPUSET) | (1u << CG_CPU) | (1u << CG_CPUACCT) | (1u << CG_MEMORY) | (1u << CG_PIDS) |    \
         (1u << CG_FREEZER) | (1u << CG_UNIFIED))

static int v1_check(CgroupManager *m, char **ret_why) {
        if (cg_own(m, CG_MEMORY) == NULL || cg_own(m, CG_CPUSET) == NULL) {
                return error_setf(ret_why, -EOPNOTSUPP, "cgroup v1 without a mounted %s hierarchy",
                                  cg_own(m, CG_MEMORY) ? "cpuset" : "memory");
        }
        if (geteuid() != 0) {
                return error_setf(ret_why, -EPERM, "cgroups need root (running as uid %u)",
                                  (unsigned)geteuid());
        }
        for (size_t i = 0; i < m->d.n; i++) {
                if (!(m->d.h[i].controllers & V1_CONTROLLERS))
                        continue;
                struct statvfs sv;
                if (statvfs(m->own_path[i], &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
                        return error_setf(ret_why, -EROFS,
                                          "the cgroup file system at %s is mounted read-only",
                                          m->d.h[i].mount);
                }
                if (access(m->own_path[i], W_OK) < 0) {
                        int r = -errno;
                        return error_setf(ret_why, r == -ENOENT ? -EACCES : r, "cannot write below %s: %s",
                                          m->own_path[i], strerror(-r));
                }
        }
        return 0;
}

/* A new v1 cpuset group has empty cpus and mems and refuses tasks until both are set;
 * give it its parent's. (Written without looking first: a group made with the parent's
 * cgroup.clone_children on already has them, and writing them again changes nothing.) */
static int v1_init_dir(CgroupManager *m, size_t hi, const char *path) {
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        if (!(m->d.h[hi].controllers & (1u << CG_CPUSET)))
                return 0;
        _cleanup_free_ char *parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = '\0';
        for (size_t k = 0; k < ELEMENTSOF(files); k++) {
                _cleanup_free_ char *up = NULL;
                int r;
                if ((r = cg_read(parent, files[k], &up)) < 0)
                        return r;
                up[strcspn(up, "\n")] = '\0';
                if ((r = cg_write(path, files[k], up)) < 0)
                        return r;
        }
        return 0;
}

static int write_cpuset(const char *dir, const char *file, const CpuSet *s) {
        if (cpuset_is_empty(s))
                return 0;
        _cleanup_free_ char *t = cpuset_to_string(s);
        if (!t)
                return -ENOMEM;
        return cg_write(dir, file, t);
}

static int read_cpuset(const char *dir, const char *eff, const char *plain, CpuSet *ret) {
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, eff, &s);
        if (r == -ENOENT)
                r = cg_read(dir, plain, &s);
        if (r < 0)
                return r;
        return cpuset_parse(s, ret, NULL);
}

static uint64_t v1_bytes(uint64_t v) {
        return v >= CG_V1_UNLIMITED_FLOOR ? LIMIT_MAX : v;
}

static int write_limit(const char *dir, const char *file, uint64_t v) {
        /* v1 memory files take -1 for "no limit". */
        return v == LIMIT_MAX ? cg_write(dir, file, "-1") : cg_write_u64(dir, file, v);
}

static int v1_apply_memory(const char *dir, const CgLimits *l, CgApplied *a) {
        bool memsw = cg_exists(dir, "memory.memsw.limit_in_bytes");
        uint64_t cur, new_memsw = LIMIT_MAX;
        int r;

        if (l->memory_max != LIMIT_MAX && l->swap_max != LIMIT_MAX)
                new_memsw =
                        l->memory_max > LIMIT_MAX - l->swap_max ? LIMIT_MAX : l->memory_max + l->swap_max;
        if ((r = cg_read_u64(dir, "memory.limit_in_bytes", &cur)) < 0)
                return r;
        cur = v1_bytes(cur);
        if (memsw && cg_v1_memsw_first(cur, new_memsw)) {
                if ((r = write_limit(dir, "memory.memsw.limit_in_bytes", new_memsw)) < 0 ||
                    (r = write_limit(dir, "memory.limit_in_bytes", l->memory_max)) < 0)
                        return r;
        } else {
                if ((r = write_limit(dir, "memory.limit_in_bytes", l->memory_max)) < 0)
                        return r;
                if (memsw && (r = write_limit(dir, "memory.memsw.limit_in_bytes", new_memsw)) < 0)
                        return r;
        }
        /* The closest v1 has to memory.low: under global pressure, groups above their
         * soft limit are reclaimed first. */
        if (l->memory_low && (r = write_limit(dir, "memory.soft_limit_in_bytes", l->memory_low)) < 0)
                return r;
        /* Without memsw (or without a limit) swap cannot be capped; swappiness 0 at
         * least keeps the group's anonymous memory in RAM while there is any. */
        if (l->swap_max == 0)
                (void)cg_write(dir, "memory.swappiness", "0");

        uint64_t v;
        if ((r = cg_read_u64(dir, "memory.limit_in_bytes", &v)) < 0)
                return r;
        a->memory_max = v1_bytes(v);
        a->memory_enforced = true;
        a->memory_high = LIMIT_MAX; /* no memory.high on v1: the protector emulates it */
        a->memory_low =
                cg_read_u64(dir, "memory.soft_limit_in_bytes", &v) >= 0 && v1_bytes(v) != LIMIT_MAX ? v : 0;
        a->swap_enforced = memsw;
        a->swap_max = LIMIT_MAX;
        if (memsw && cg_read_u64(dir, "memory.memsw.limit_in_bytes", &v) >= 0 && v1_bytes(v) != LIMIT_MAX &&
            a->memory_max != LIMIT_MAX)
                a->swap_max = v - a->memory_max;
        return 0;
}

static int v1_apply(Cgroup *g, const CgLimits *l, CgApplied *a) {
        const char *p;
        int r;

        *a = (CgApplied){.memory_max = LIMIT_MAX,
                         .memory_high = LIMIT_MAX,
                         .swap_max = LIMIT_MAX,
                         .pids_max = LIMIT_MAX};
        if ((p = cg_group_path(g, CG_CPUSET))) {
                if ((r = write_cpuset(p, "cpuset.cpus", &l->cpus)) < 0 ||
                    (r = write_cpuset(p, "cpuset.mems", &l->mems)) < 0)
                        return r;
                if ((r = read_cpuset(p, "cpuset.effective_cpus", "cpuset.cpus", &a->cpus)) < 0 ||
                    (r = read_cpuset(p, "cpuset.effective_mems", "cpuset.mems", &a->mems)) < 0)
                        return r;
        }
        if ((p = cg_group_path(g, CG_MEMORY)) && (r = v1_apply_memory(p, l, a)) < 0)
                return r;
        if ((p = cg_group_path(g, CG_PIDS))) {
                r = l->pids_max == LIMIT_MAX ? cg_write(p, "pids.max", "max")
                                             : cg_write_u64(p, "pids.max", l->pids_max);
                if (r < 0 || (r = cg_read_u64(p, "pids.max", &a->pids_max)) < 0)
                        return r;
        }
        if ((p = cg_group_path(g, CG_CPU))) {
                uint64_t shares;
                if (l->cpu_weight &&
                    (r = cg_write_u64(p, "cpu.shares", cg_weight_to_shares(l->cpu_weight))) < 0)
                        return r;
                if (l->cpu_max_pct) {
                        /* cpu.max "<pct*1000> 100000": a 100 ms period, quota in us. */
                        if ((r = cg_write(p, "cpu.cfs_period_us", "100000")) < 0 ||
                            (r = cg_write_u64(p, "cpu.cfs_quota_us",
                                              MAX(l->cpu_max_pct * 1000, UINT64_C(1000)))) < 0)
                                return r;
                }
                if (cg_read_u64(p, "cpu.shares", &shares) >= 0)
                        a->cpu_weight = cg_shares_to_weight(shares);
        }
        return 0;
}

static int v1_prepare_attach(const Cgroup *g, bool cloned_into, CgAttach *ret) {
        for (size_t i = 0; i < g->m->d.n; i++) {
                if (!g->path[i] || (cloned_into && g->m->d.h[i].cgroup2))
                        continue;
                if (ret->n_fds >= ELEMENTSOF(ret->fds))
                        return -E2BIG;
                /* The child writes "0" between fork and exec, when it has one thread:
                 * moving that thread moves the whole process. A v1 `tasks` write of the
                 * caller itself skips the global cgroup_threadgroup_rwsem, whose write
                 * side waits for an RCU grace period whenever it was idle (5-10 ms per
                 * job here, the runner waiting for the exec); `cgroup.procs` always
                 * takes it. cgroup2 has no such file for domain groups: cgroup.procs. */
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", g->path[i], g->m->d.h[i].cgroup2 ? "cgroup.procs" : "tasks") < 0)
                        return -ENOMEM;
                int fd = open(p, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                ret->fds[ret->n_fds++] = fd;
        }
        return 0;
}

static int v1_read_stats(Cgroup *g, CgStats *s) {
        const char *p;
        uint64_t v;

        if ((p = cg_group_path(g, CG_UNIFIED))) {
                /* cgroup2 keeps cpu.stat's usage lines even without the cpu controller. */
                cg_read_unified_stats(p, g->m->has_psi, s);
        } else if ((p = cg_group_path(g, CG_CPUACCT))) {
                if (cg_read_u64(p, "cpuacct.usage_user", &v) >= 0)
                        s->cpu_user_usec = v / NSEC_PER_USEC;
                if (cg_read_u64(p, "cpuacct.usage_sys", &v) >= 0)
                        s->cpu_system_usec = v / NSEC_PER_USEC;
                if (cg_read_u64(p, "cpuacct.usage", &v) >= 0)
                        s->cpu_usage_usec = v / NSEC_PER_USEC;
        }
        if ((p = cg_group_path(g, CG_CPU))) {
                uint64_t ns = 0;
                const CgKey k[] = {{"nr_throttled", &s->nr_throttled}, {"throttled_time", &ns}};
                (void)cg_read_keys(p, "cpu.stat", k, ELEMENTSOF(k));
                s->throttled_usec = ns / NSEC_PER_USEC;
        }
        if ((p = cg_group_path(g, CG_MEMORY))) {
                (void)cg_read_u64(p, "memory.usage_in_bytes", &s->memory_current);
                (void)cg_read_u64(p, "memory.max_usage_in_bytes", &s->memory_peak);
                if (cg_read_u64(p, "memory.memsw.usage_in_bytes", &v) >= 0 && v >= s->memory_current)
                        s->swap_current = v - s->memory_current;
                /* v1 has no memory.events: failcnt counts hits of the limit ("max"). The
                 * kernel charges memsw before memory, so with swap off (memsw == limit)
                 * the hits land in memory.memsw.failcnt: a failed charge counts in one
                 * of the two, hence the sum. The oom_kill line of oom_control counts
                 * kills; every kill follows an OOM, so oom = oom_kill is a lower bound
                 * (OOMs that freed memory without a kill are not counted on v1). */
                (void)cg_read_u64(p, "memory.failcnt", &s->events_max);
                if (cg_read_u64(p, "memory.memsw.failcnt", &v) >= 0)
                        s->events_max += v;
                (void)cg_read_keyed(p, "memory.oom_control", "oom_kill", &s->events_oom_kill);
                s->events_oom = s->events_oom_kill;
        }
        if ((p = cg_group_path(g, CG_PIDS))) {
                (void)cg_read_u64(p, "pids.current", &s->pids_current);
                (void)cg_read_keyed(p, "pids.events", "max", &s->pids_events_max);
        }
        return 0;
}

static int v1_freeze(Cgroup *g, bool frozen) {
        const char *p = cg_group_path(g, CG_UNIFIED);
        int r = -EOPNOTSUPP;
        /* cgroup.freeze (5.2+) where the unified group has it, else the v1 freezer (kept
         * for exactly that case: see v1_covered_by_cgroup2). */
        if (p && (r = cg_write(p, "cgroup.freeze", frozen ? "1" : "0")) >= 0)
                return r;
        if ((p = cg_group_path(g, CG_FREEZER)))
                return cg_write(p, "freezer.state", frozen ? "FROZEN" : "THAWED");
        return r;
}

/* cpuacct gives CPU time, which the unified group's cpu.stat has too (its usage lines
 * need no controller); the freezer serves killing and cg_freeze, which cgroup.kill
 * and cgroup.freeze do in the unified group. Both are then one mkdir, one attach
 * write, one populated check and one rmdir per job for nothing. Only when cgroup.kill
 * is there: without it a kill freezes the v1 groups so nothing forks meanwhile. */
static unsigned v1_covered_by_cgroup2(const CgroupManager *m) {
        int ui = cg_hier(m, CG_UNIFIED);
        if (ui < 0)
                return 0;
        /* Usable, not merely there: a file that refuses (a read-only bind mount over
         * it, as tests/vm/old-kernel.sh makes) counts as absent. */
        const char *p = m->run_path[ui];
        uint64_t usec;
        _cleanup_free_ char *kill = NULL, *freeze = NULL;
        if (asprintf(&kill, "%s/cgroup.kill", p) < 0 || asprintf(&freeze, "%s/cgroup.freeze", p) < 0)
                return 0;
        if (cg_read_keyed(p, "cpu.stat", "usage_usec", &usec) < 0 || access(kill, W_OK) < 0 ||
            access(freeze, W_OK) < 0)
                return 0;
        return (1u << CG_CPUACCT) | (1u << CG_FREEZER);
}

static int v1_allowed(const CgroupManager *m, CpuSet *ret_cpus, CpuSet *ret_mems) {
        CpuSet cpus, mems, c, mm;
        int r = cg_runner_affinity(&cpus, &mems);
        if (r < 0)
                return r;
        const char *p = cg_own(m, CG_CPUSET);
        if (p && read_cpuset(p, "cpuset.effective_cpus", "cpuset.cpus", &c) >= 0 &&
            read_cpuset(p, "cpuset.effective_mems", "cpuset.mems", &mm) >= 0) {
                cpuset_and(&cpus, &c);
                cpuset_and(&mems, &mm);
        }
        *ret_cpus = cpus;
        *ret_mems = mems;
        return 0;
}

const CgroupBackendOps cg_v1_ops = {
        .kind = BACKEND_V1,
        .uses_dirs = true,
        .controllers = V1_CONTROLLERS,
        .check = v1_check,
        .init_dir = v1_init_dir,
        .apply = v1_apply,
        .prepare_attach = v1_prepare_attach,
        .read_stats = v1_read_stats,
        .pids = cg_dirs_pids,
        .is_populated = cg_dirs_is_populated,
        .kill = cg_dirs_kill,
        .freeze = v1_freeze,
        .allowed = v1_allowed,
        .memory_limit = cg_own_memory_limit,
        .covered_by_cgroup2 = v1_covered_by_cgroup2,
};
