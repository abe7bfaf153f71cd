/* SPDX-License-Identifier: MIT */
/* No cgroups (not root, read-only cgroupfs, or asked for): CPU affinity and rlimits
 * applied in the child before exec, jobs tracked by their session (exec makes every
 * job a session leader). Memory is NOT enforced: RLIMIT_AS caps address space, which
 * is not memory use, and RLIMIT_NPROC counts all processes of the user. A process that
 * calls setsid() itself leaves our view; the journal cannot help there either. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/parse.h"
#include "util/time-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static int none_check(CgroupManager *m, char **ret_why) {
        return 0;
}

static int none_apply(Cgroup *g, const CgLimits *l, CgApplied *a) {
        CpuSet cpus, mems;
        int r = cg_runner_affinity(&cpus, &mems);
        if (r < 0)
                return r;
        if (!cpuset_is_empty(&l->cpus))
                cpuset_and(&cpus, &l->cpus);
        if (cpuset_is_empty(&cpus))
                return -EINVAL; /* asked for CPUs this runner may not use */
        /* "Applied" is what a partition enforces per job: none of the limits here. */
        *a = (CgApplied){.cpus = cpus,
                         .mems = mems,
                         .memory_max = LIMIT_MAX,
                         .memory_high = LIMIT_MAX,
                         .swap_max = LIMIT_MAX,
                         .pids_max = LIMIT_MAX};
        return 0;
}

static int none_prepare_attach(const Cgroup *g, bool cloned_into, CgAttach *ret) {
        const CgLimits *l = &g->limits;
        if (!cpuset_is_empty(&l->cpus)) {
                ret->set_affinity = true;
                ret->cpus = l->cpus;
        }
        ret->rlimit_as = l->memory_max == LIMIT_MAX || l->no_address_space_limit ? 0 : l->memory_max;
        ret->rlimit_nproc = l->pids_max == LIMIT_MAX ? 0 : l->pids_max;
        return 0;
}

static int none_attach_pid(Cgroup *g, pid_t pid) {
        g->leader = pid;
        return 0;
}

/* Live (not zombie) processes in the job's session or process group. */
static int session_pids(pid_t leader, pid_t **ret, size_t *ret_n, uint64_t *ret_rss_pages) {
        pid_t *pids = NULL;
        size_t n = 0, cap = 0;
        uint64_t rss = 0;

        *ret = NULL;
        *ret_n = 0;
        if (leader <= 0)
                return 0;
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                unsigned pid;
                if (parse_unsigned(de->d_name, &pid) < 0 || pid == 0)
                        continue;
                char path[64], buf[1024];
                snprintf(path, sizeof path, "/proc/%u/stat", pid);
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                if (!f || !fgets(buf, sizeof buf, f))
                        continue;
                /* comm may hold spaces and parentheses: fields restart after the last ')'. */
                char *p = strrchr(buf, ')'), state;
                int ppid, pgrp, sid;
                if (!p || sscanf(p + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4)
                        continue;
                if (state == 'Z' || state == 'X' || (sid != leader && pgrp != leader))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        pid_t *np = realloc(pids, cap * sizeof(pid_t));
                        if (!np) {
                                free(pids);
                                return -ENOMEM;
                        }
                        pids = np;
                }
                pids[n++] = (pid_t)pid;
                if (ret_rss_pages) {
                        unsigned long long size, res;
                        snprintf(path, sizeof path, "/proc/%u/statm", pid);
                        _cleanup_fclose_ FILE *m = fopen(path, "re");
                        if (m && fscanf(m, "%llu %llu", &size, &res) == 2)
                                rss += res;
                }
        }
        *ret = pids;
        *ret_n = n;
        if (ret_rss_pages)
                *ret_rss_pages = rss;
        return 0;
}

static int none_pids(Cgroup *g, pid_t **ret, size_t *ret_n) {
        return session_pids(g->leader, ret, ret_n, NULL);
}

static int none_read_stats(Cgroup *g, CgStats *s) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;
        uint64_t pages = 0;
        int r = session_pids(g->leader, &pids, &n, &pages);
        if (r < 0)
                return r;
        /* Only what /proc shows of live processes: RSS, no peak, no events. */
        s->pids_current = n;
        s->memory_current = pages * (uint64_t)sysconf(_SC_PAGESIZE);
        return 0;
}

static int none_is_populated(Cgroup *g) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;
        int r = none_pids(g, &pids, &n);
        return r < 0 ? r : n > 0;
}

static int none_kill(Cgroup *g) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + CG_KILL_TIMEOUT_USEC, pause = 1000;
        if (g->leader <= 0)
                return 0;
        for (;;) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n;
                (void)kill(-g->leader, SIGKILL);
                int r = none_pids(g, &pids, &n);
                if (r < 0)
                        return r;
                if (n == 0)
                        return 0;
                for (size_t i = 0; i < n; i++)
                        (void)kill(pids[i], SIGKILL);
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -EBUSY;
                cg_sleep_usec(pause);
                pause = MIN(pause * 2, 20 * USEC_PER_MSEC);
        }
}

static int none_freeze(Cgroup *g, bool frozen) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;
        int r = none_pids(g, &pids, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                (void)kill(pids[i], frozen ? SIGSTOP : SIGCONT);
        return 0;
}

static int none_allowed(const CgroupManager *m, CpuSet *ret_cpus, CpuSet *ret_mems) {
        return cg_runner_affinity(ret_cpus, ret_mems);
}

const CgroupBackendOps cg_none_ops = {
        .kind = BACKEND_NONE,
        .uses_dirs = false,
        .check = none_check,
        .apply = none_apply,
        .prepare_attach = none_prepare_attach,
        .attach_pid = none_attach_pid,
        .read_stats = none_read_stats,
        .pids = none_pids,
        .is_populated = none_is_populated,
        .kill = none_kill,
        .freeze = none_freeze,
        .allowed = none_allowed,
        .memory_limit = cg_own_memory_limit,
};
