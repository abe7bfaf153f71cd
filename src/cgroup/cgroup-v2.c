/* SPDX-License-Identifier: MIT */
/* cgroup v2 (the unified hierarchy, with controllers): every limit, statistic and stop
 * in one directory per group. Jobs start in their group with clone3(CLONE_INTO_CGROUP),
 * stop with cgroup.kill.
 *
 * The rule that shapes this file is "no internal processes": below the root, a group
 * that enables controllers for its children (cgroup.subtree_control) may hold no
 * process itself. The runner starts in its own group, so before enabling controllers
 * there it moves into a leaf of its run, <own>/corun/<run-id>/runner, and moves back
 * at the end, so that the run group can go. At the root the rule does not apply and
 * the runner stays where it is. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/error.h"

#define RUNNER_LEAF "runner"
/* A user's systemd-run asks their user manager (--user); root's, the system manager. */
static const char *delegate_hint(void) {
        return geteuid() == 0 ? "start corun in a delegated group of its own: systemd-run --scope -p "
                                "Delegate=yes corun …"
                              : "start corun in a delegated group of its own: systemd-run --user --scope -p "
                                "Delegate=yes "
                                "corun …";
}

static const char *v2_own(const CgroupManager *m) {
        return cg_own(m, CG_UNIFIED);
}

/* Read-only: everything that would make setup_run fail is found here, so that auto can
 * still fall back to 'none' with the reason. */
static int v2_check(CgroupManager *m, char **ret_why) {
        const char *own = v2_own(m);
        if (!own) {
                return error_setf(ret_why, -EOPNOTSUPP,
                                  "the runner's cgroup2 group is not visible below /sys/fs/cgroup");
        }
        struct statvfs sv;
        if (statvfs(own, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
                return error_setf(ret_why, -EROFS, "the cgroup2 file system at %s is mounted read-only",
                                  m->d.h[m->d.by_ctrl[CG_UNIFIED]].mount);
        }
        _cleanup_free_ char *ctl = NULL;
        if (asprintf(&ctl, "%s/cgroup.subtree_control", own) < 0)
                return -ENOMEM;
        if (access(own, W_OK) < 0 || access(ctl, W_OK) < 0) {
                int r = errno == ENOENT ? -EACCES : -errno;
                return error_setf(ret_why, r, "cannot create groups below %s (%s, uid %u); %s", own,
                                  strerror(-r), (unsigned)geteuid(), delegate_hint());
        }
        unsigned avail = cg_v2_controllers_in(own, "cgroup.controllers");
        if (!(avail & CG_V2_MEMORY_BIT)) {
                _cleanup_free_ char *have = cg_v2_mask_to_string(avail);
                return error_setf(ret_why, -EOPNOTSUPP,
                                  "the memory controller is not available in %s (it has: %s); %s", own,
                                  have && *have ? have : "none", delegate_hint());
        }
        if (!cg_v2_is_root(own)) {
                pid_t first = 0;
                int n = cg_v2_other_procs(own, &first);
                if (n > 0)
                        return error_setf(ret_why, -EBUSY,
                                          "%s holds %d other process(es) (pid %d, ...): cgroup v2 lets a "
                                          "group below the root enable controllers for its children only "
                                          "while it holds no processes; %s",
                                          own, n, (int)first, delegate_hint());
        }
        return 0;
}

/* Enables the wanted controllers that dir's children do not have yet; returns those it
 * enabled. One write each: one refused controller must not keep the others off. */
static unsigned enable_controllers(const char *dir, unsigned want) {
        unsigned have = cg_v2_controllers_in(dir, "cgroup.subtree_control"), added = 0;
        for (unsigned b = 0; b < CG_V2_N; b++) {
                char buf[16];
                if (!(want & (1u << b)) || (have & (1u << b)))
                        continue;
                snprintf(buf, sizeof buf, "+%s", cg_v2_controller_name(b));
                if (cg_write(dir, "cgroup.subtree_control", buf) >= 0)
                        added |= 1u << b;
        }
        return added;
}

static int disable_controllers(const char *dir, unsigned mask) {
        int r = 0;
        /* In list order: io before memory, which io's writeback accounting keeps on. */
        for (unsigned b = 0; b < CG_V2_N; b++) {
                char buf[16];
                if (!(mask & (1u << b)))
                        continue;
                snprintf(buf, sizeof buf, "-%s", cg_v2_controller_name(b));
                int k = cg_write(dir, "cgroup.subtree_control", buf);
                if (k < 0 && r >= 0)
                        r = k;
        }
        return r;
}

/* What the kernel offers is the same in every group below one that enables memory, so
 * corun/ (made before the run group, shared by runs) stands for all of them. A file
 * counts when it can be read (memory.peak) or written (cgroup.kill), not merely when it
 * exists: a kernel before 5.19/5.14 lacks it, and one that is there but refuses (as
 * under the read-only bind mount tests/vm/old-kernel.sh puts over it) is no more use.
 * The kill itself tries cgroup.kill in every group anyway (cg_kill_paths); this decides
 * where the peak comes from and what the backend detail says. */
static bool peak_usable(const char *dir) {
        uint64_t v;
        return cg_read_u64(dir, "memory.peak", &v) >= 0;
}

static bool kill_usable(const char *dir) {
        _cleanup_free_ char *p = NULL;
        return asprintf(&p, "%s/cgroup.kill", dir) >= 0 && access(p, W_OK) == 0;
}

static char *describe(const CgroupManager *m, const char *top, unsigned missing) {
        _cleanup_free_ char *on = cg_v2_mask_to_string(m->v2_controllers),
                            *off = cg_v2_mask_to_string(missing);
        const char *own = m->d.h[m->d.by_ctrl[CG_UNIFIED]].own;
        char *s = NULL;
        if (asprintf(&s, "cgroup v2: groups below %s%s; controllers %s%s%s%s; %s; %s; %s",
                     *own ? own : "/ (the root)",
                     m->runner_leaf ? ", the runner in corun/<run-id>/" RUNNER_LEAF : "", on ? on : "?",
                     missing ? " (not available: " : "", missing && off ? off : "", missing ? ")" : "",
                     m->v2_has_peak ? "peak memory from memory.peak"
                                    : "no memory.peak before Linux 5.19: the peak is the highest sampled "
                                      "memory.current",
                     kill_usable(top)
                             ? "stop with cgroup.kill"
                             : "no cgroup.kill before Linux 5.14: stop by freezing and killing every pid",
                     m->has_psi ? "PSI" : "no PSI (boot with psi=1)") < 0)
                return NULL;
        return s;
}

static int v2_setup_run(CgroupManager *m, char **ret_why) {
        int ui = cg_hier(m, CG_UNIFIED);
        if (ui < 0)
                return -EOPNOTSUPP;
        const char *own = m->own_path[ui], *run = m->run_path[ui];
        _cleanup_free_ char *top = strdup(run);
        if (!top)
                return -ENOMEM;
        *strrchr(top, '/') = '\0';
        int r;

        if (!cg_v2_is_root(own)) {
                if (asprintf(&m->runner_leaf, "%s/" RUNNER_LEAF, run) < 0)
                        return -ENOMEM;
                if ((r = cg_journal_mkdir(m, m->runner_leaf)) < 0 ||
                    (r = cg_write(m->runner_leaf, "cgroup.procs", "0")) < 0) {
                        (void)error_setf(ret_why, r, "cannot move the runner into %s: %s", m->runner_leaf,
                                         strerror(-r));
                        (void)rmdir(m->runner_leaf);
                        free(m->runner_leaf);
                        m->runner_leaf = NULL;
                        return r;
                }
        }
        unsigned want = cg_v2_controllers_in(own, "cgroup.controllers") & CG_V2_WANTED;
        m->v2_enabled_own = enable_controllers(own, want);
        m->v2_enabled_top = enable_controllers(top, want);
        (void)enable_controllers(run, want);
        m->v2_controllers = cg_v2_controllers_in(run, "cgroup.subtree_control");
        if (!(m->v2_controllers & CG_V2_MEMORY_BIT)) {
                return error_setf(ret_why, -EPERM, "cannot enable the memory controller below %s; %s", own,
                                  delegate_hint());
        }
        m->v2_has_peak = peak_usable(top);
        *ret_why = describe(m, top, CG_V2_WANTED & ~m->v2_controllers);
        return 0;
}

static int v2_teardown_run(CgroupManager *m) {
        int ui = cg_hier(m, CG_UNIFIED);
        if (ui < 0 || !m->runner_leaf)
                return 0;
        const char *own = m->own_path[ui], *run = m->run_path[ui];
        _cleanup_free_ char *top = strdup(run);
        if (!top)
                return -ENOMEM;
        *strrchr(top, '/') = '\0';
        /* Back to where it came from, which takes the controllers off again there. */
        (void)cg_remove_children(run, RUNNER_LEAF);
        (void)disable_controllers(run, CG_V2_WANTED & cg_v2_controllers_in(run, "cgroup.subtree_control"));
        (void)disable_controllers(top, m->v2_enabled_top);
        (void)disable_controllers(own, m->v2_enabled_own);
        int r = cg_write(own, "cgroup.procs", "0");
        if (r < 0)
                return r;
        free(m->runner_leaf);
        m->runner_leaf = NULL;
        return 0;
}

/* Groups made below the run group: their parent hands the controllers on. The run
 * group and corun/ are set up by setup_run (the runner may still be in own/). */
static int v2_init_dir(CgroupManager *m, size_t hi, const char *path) {
        const char *run = m->run_path[hi];
        size_t rl = strlen(run);
        if (!strneq(path, run, rl) || path[rl] != '/')
                return 0;
        _cleanup_free_ char *parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = '\0';
        (void)enable_controllers(parent, m->v2_controllers);
        return 0;
}

static int write_max(const char *dir, const char *file, uint64_t v) {
        return v == LIMIT_MAX ? cg_write(dir, file, "max") : cg_write_u64(dir, file, v);
}

static int read_cpuset(const char *dir, const char *file, CpuSet *ret) {
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, file, &s);
        return r < 0 ? r : cpuset_parse(s, ret, NULL);
}

static int apply_cpuset(const char *p, const CgLimits *l, CgApplied *a) {
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        const CpuSet *want[] = {&l->cpus, &l->mems};
        CpuSet *got[] = {&a->cpus, &a->mems};
        int r;

        if (!cg_exists(p, "cpuset.cpus")) {
                /* No cpuset controller here: the child pins itself (prepare_attach). */
                if ((r = cg_runner_affinity(&a->cpus, &a->mems)) < 0)
                        return r;
                if (!cpuset_is_empty(&l->cpus))
                        cpuset_and(&a->cpus, &l->cpus);
                return cpuset_is_empty(&a->cpus) ? -EINVAL : 0;
        }
        for (size_t k = 0; k < ELEMENTSOF(files); k++) {
                _cleanup_free_ char *eff = NULL, *t = NULL;
                if (!cpuset_is_empty(want[k])) {
                        if (!(t = cpuset_to_string(want[k])))
                                return -ENOMEM;
                        if ((r = cg_write(p, files[k], t)) < 0)
                                return r;
                }
                if (asprintf(&eff, "%s.effective", files[k]) < 0)
                        return -ENOMEM;
                if ((r = read_cpuset(p, eff, got[k])) < 0)
                        return r;
        }
        return 0;
}

static int apply_memory(const Cgroup *g, const char *p, const CgLimits *l, CgApplied *a) {
        int r;
        if (!cg_exists(p, "memory.max"))
                return 0;
        if ((r = cg_write_u64(p, "memory.min", l->memory_min)) < 0 ||
            (r = cg_write_u64(p, "memory.low", l->memory_low)) < 0 ||
            (r = write_max(p, "memory.high", l->memory_high)) < 0 ||
            (r = write_max(p, "memory.max", l->memory_max)) < 0)
                return r;
        /* No memory.swap.max without swap accounting (CONFIG_MEMCG_SWAP, swapaccount=0). */
        if (cg_exists(p, "memory.swap.max")) {
                if ((r = write_max(p, "memory.swap.max", l->swap_max)) < 0 ||
                    (r = cg_read_u64(p, "memory.swap.max", &a->swap_max)) < 0)
                        return r;
                a->swap_enforced = true;
        }
        /* An OOM kill in a job takes the whole job (not one process of it, leaving the
         * rest to limp on). Not at the scenario level: there it would take every job. */
        if (strchr(g->rel, '/') && cg_exists(p, "memory.oom.group") &&
            (r = cg_write(p, "memory.oom.group", "1")) < 0)
                return r;
        if ((r = cg_read_u64(p, "memory.max", &a->memory_max)) < 0 ||
            (r = cg_read_u64(p, "memory.high", &a->memory_high)) < 0 ||
            (r = cg_read_u64(p, "memory.low", &a->memory_low)) < 0)
                return r;
        a->memory_enforced = true;
        return 0;
}

static int v2_apply(Cgroup *g, const CgLimits *l, CgApplied *a) {
        const char *p = cg_group_path(g, CG_UNIFIED);
        int r;

        *a = (CgApplied){.memory_max = LIMIT_MAX,
                         .memory_high = LIMIT_MAX,
                         .swap_max = LIMIT_MAX,
                         .pids_max = LIMIT_MAX};
        if (!p)
                return -EOPNOTSUPP;
        if ((r = apply_cpuset(p, l, a)) < 0 || (r = apply_memory(g, p, l, a)) < 0)
                return r;
        if (cg_exists(p, "pids.max") && ((r = write_max(p, "pids.max", l->pids_max)) < 0 ||
                                         (r = cg_read_u64(p, "pids.max", &a->pids_max)) < 0))
                return r;
        if (cg_exists(p, "cpu.weight")) {
                if (l->cpu_weight && (r = cg_write_u64(p, "cpu.weight", l->cpu_weight)) < 0)
                        return r;
                if (l->cpu_max_pct) {
                        /* A 100 ms period; the quota in µs, pct of one CPU. */
                        char buf[64];
                        snprintf(buf, sizeof buf, "%llu 100000",
                                 (unsigned long long)MAX(l->cpu_max_pct * 1000, UINT64_C(1000)));
                        if ((r = cg_write(p, "cpu.max", buf)) < 0)
                                return r;
                }
                (void)cg_read_u64(p, "cpu.weight", &a->cpu_weight);
        }
        return 0;
}

static int v2_prepare_attach(const Cgroup *g, bool cloned_into, CgAttach *ret) {
        const char *p = cg_group_path(g, CG_UNIFIED);
        if (!p)
                return -EOPNOTSUPP;
        if (!cg_exists(p, "cpuset.cpus") && !cpuset_is_empty(&g->limits.cpus)) {
                ret->set_affinity = true;
                ret->cpus = g->limits.cpus;
        }
        if (cloned_into)
                return 0;
        _cleanup_free_ char *procs = NULL;
        if (asprintf(&procs, "%s/cgroup.procs", p) < 0)
                return -ENOMEM;
        int fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ret->fds[ret->n_fds++] = fd;
        return 0;
}

static int v2_read_stats(Cgroup *g, CgStats *s) {
        const char *p = cg_group_path(g, CG_UNIFIED);
        if (!p)
                return -EOPNOTSUPP;
        cg_read_unified_stats(p, g->m->has_psi, s);
        (void)cg_read_u64(p, "memory.current", &s->memory_current);
        (void)cg_read_u64(p, "memory.swap.current", &s->swap_current);
        /* Before 5.19 there is no memory.peak: the peak is the highest memory.current
         * read for the group, here and at each of the runner's samples (which must raise
         * peak_sampled as they read it), and misses spikes between samples. A group whose
         * memory.peak cannot be read falls back to the same. */
        g->peak_sampled = MAX(g->peak_sampled, s->memory_current);
        if (!g->m->v2_has_peak || cg_read_u64(p, "memory.peak", &s->memory_peak) < 0)
                s->memory_peak = g->peak_sampled;
        /* memory.events counts what happened in the subtree too, .local (5.2+) the
         * job's own group: the job's figures even when it made groups of its own. */
        const char *ev = cg_exists(p, "memory.events.local") ? "memory.events.local" : "memory.events";
        (void)cg_read_keyed(p, ev, "low", &s->events_low);
        (void)cg_read_keyed(p, ev, "high", &s->events_high);
        (void)cg_read_keyed(p, ev, "max", &s->events_max);
        (void)cg_read_keyed(p, ev, "oom", &s->events_oom);
        (void)cg_read_keyed(p, ev, "oom_kill", &s->events_oom_kill);
        (void)cg_read_u64(p, "pids.current", &s->pids_current);
        (void)cg_read_keyed(p, "pids.events", "max", &s->pids_events_max);
        return 0;
}

static int v2_freeze(Cgroup *g, bool frozen) {
        const char *p = cg_group_path(g, CG_UNIFIED);
        return p ? cg_write(p, "cgroup.freeze", frozen ? "1" : "0") : -EOPNOTSUPP;
}

static int v2_allowed(const CgroupManager *m, CpuSet *ret_cpus, CpuSet *ret_mems) {
        CpuSet cpus, mems, c, mm;
        int r = cg_runner_affinity(&cpus, &mems);
        if (r < 0)
                return r;
        const char *own = v2_own(m);
        /* The cpuset files exist where the parent enabled cpuset; the affinity mask
         * already reflects them, this only catches a narrower cpuset.mems. */
        if (own && read_cpuset(own, "cpuset.cpus.effective", &c) >= 0 &&
            read_cpuset(own, "cpuset.mems.effective", &mm) >= 0) {
                cpuset_and(&cpus, &c);
                cpuset_and(&mems, &mm);
        }
        *ret_cpus = cpus;
        *ret_mems = mems;
        return 0;
}

const CgroupBackendOps cg_v2_ops = {
        .kind = BACKEND_V2,
        .uses_dirs = true,
        .controllers = 1u << CG_UNIFIED,
        .check = v2_check,
        .init_dir = v2_init_dir,
        .apply = v2_apply,
        .prepare_attach = v2_prepare_attach,
        .read_stats = v2_read_stats,
        .pids = cg_dirs_pids,
        .is_populated = cg_dirs_is_populated,
        .kill = cg_dirs_kill,
        .freeze = v2_freeze,
        .allowed = v2_allowed,
        .memory_limit = cg_own_memory_limit,
        .setup_run = v2_setup_run,
        .teardown_run = v2_teardown_run,
};
