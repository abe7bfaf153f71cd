/* SPDX-License-Identifier: MIT */
/* What `corun doctor` reports about partitions: the backend auto would choose and what
 * it would find, without creating or writing anything. Features the backend finds in
 * its own run group at run time are looked for here in an existing group, or judged by
 * the kernel version where no group can be looked at (a runner at the root). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/error.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static bool kernel_at_least(unsigned major, unsigned minor) {
        struct utsname u;
        unsigned a = 0, b = 0;
        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) != 2)
                return false;
        return a > major || (a == major && b >= minor);
}

/* A group below the root to look for per-group files in (the root lacks most): own
 * itself, or one of its children. NULL when there is none. */
static char *group_to_inspect(const char *own) {
        if (!cg_v2_is_root(own))
                return strdup(own);
        _cleanup_(closedirp) DIR *d = opendir(own);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        char *p = NULL;
                        if (asprintf(&p, "%s/%s", own, de->d_name) < 0)
                                return NULL;
                        if (cg_exists(p, "memory.max"))
                                return p;
                        free(p);
                }
        return NULL;
}

static int feature(const char *dir, const char *file, int by_version) {
        return dir ? cg_exists(dir, file) : by_version;
}

static void probe_v2(const CgroupManager *m, CgProbe *p) {
        const char *own = cg_own(m, CG_UNIFIED);
        if (!own)
                return;
        unsigned avail = cg_v2_controllers_in(own, "cgroup.controllers") & CG_V2_WANTED;
        p->available = cg_v2_mask_to_string(avail);
        p->missing = cg_v2_mask_to_string(CG_V2_WANTED & ~avail);
        _cleanup_free_ char *ctl = NULL;
        p->writable = asprintf(&ctl, "%s/cgroup.subtree_control", own) >= 0 && access(own, W_OK) == 0 &&
                      access(ctl, W_OK) == 0;
        p->at_root = cg_v2_is_root(own);
        int n = p->at_root ? 0 : cg_v2_other_procs(own, NULL);
        p->other_procs = n > 0 ? (unsigned)n : 0;
        p->delegated = cg_has_delegate_mark(own);
        p->unified = true;
        _cleanup_free_ char *g = group_to_inspect(own);
        p->psi = access("/proc/pressure/cpu", R_OK) == 0 && cg_exists(g ? g : own, "cpu.pressure");
        p->memory_peak = feature(g, "memory.peak", kernel_at_least(5, 19));
        p->events_local = feature(g, "memory.events.local", kernel_at_least(5, 2));
        p->cgroup_kill = feature(g, "cgroup.kill", kernel_at_least(5, 14));
        /* Swap accounting is a build and boot option: no version tells. */
        p->swap_per_group = feature(g, "memory.swap.max", -1);
}

static void probe_v1(const CgroupManager *m, CgProbe *p) {
        static const CgController used[] = {CG_CPUSET, CG_CPU, CG_CPUACCT, CG_MEMORY, CG_PIDS, CG_FREEZER};
        char on[128] = "", off[128] = "";
        p->writable = true;
        for (size_t k = 0; k < ELEMENTSOF(used); k++) {
                const char *dir = cg_own(m, used[k]);
                char *list = dir ? on : off;
                if (*list)
                        strcat(list, " ");
                strcat(list, cg_controller_to_string(used[k]));
                if (dir && access(dir, W_OK) < 0)
                        p->writable = false;
        }
        p->available = strdup(on);
        p->missing = strdup(off);
        const char *mem = cg_own(m, CG_MEMORY), *u = cg_own(m, CG_UNIFIED);
        p->delegated = mem && cg_has_delegate_mark(mem);
        p->unified = u != NULL;
        _cleanup_free_ char *g = u ? group_to_inspect(u) : NULL;
        p->psi = u && access("/proc/pressure/cpu", R_OK) == 0 && cg_exists(g ? g : u, "cpu.pressure");
        p->memory_peak = mem ? cg_exists(mem, "memory.max_usage_in_bytes") : 0;
        p->events_local = 0;
        p->cgroup_kill = u ? feature(g, "cgroup.kill", kernel_at_least(5, 14)) : 0;
        p->swap_per_group = mem ? cg_exists(mem, "memory.memsw.limit_in_bytes") : 0;
}

int cg_probe(const char *fs_root, CgProbe *ret) {
        CgroupManagerOptions o = {.backend = BACKEND_AUTO, .fs_root = fs_root, .run_id = "probe"};
        CgroupManager *m = NULL;
        CgProbe p = {.mounted = BACKEND_NONE,
                     .memory_peak = -1,
                     .events_local = -1,
                     .cgroup_kill = -1,
                     .swap_per_group = -1};
        _cleanup_free_ char *why = NULL;

        int r = cg_manager_choose(&o, &m, &why);
        if (r < 0)
                return r;
        p.mounted = m->d.kind;
        p.backend = m->ops->kind;
        p.systemd = access("/run/systemd/system", F_OK) == 0;
        const char *own = cg_own(m, m->d.kind == BACKEND_V2 ? CG_UNIFIED : CG_MEMORY);
        p.own = own ? strdup(own) : NULL;
        if (m->d.kind == BACKEND_V2)
                probe_v2(m, &p);
        else if (m->d.kind == BACKEND_V1)
                probe_v1(m, &p);
        if (p.backend == BACKEND_V2 || p.backend == BACKEND_V1)
                (void)error_setf(&p.why, 0, "cgroup %s, groups below %s",
                                 p.backend == BACKEND_V2 ? "v2" : "v1 (hybrid)", own ? own : "?");
        else
                p.why = TAKE_PTR(why);
        cg_manager_free(m);
        if (!p.available)
                p.available = strdup("");
        if (!p.missing)
                p.missing = strdup("");
        if (!p.available || !p.missing || (!p.why && !(p.why = strdup("")))) {
                cg_probe_done(&p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

void cg_probe_done(CgProbe *p) {
        free(p->why);
        free(p->own);
        free(p->available);
        free(p->missing);
        *p = (CgProbe){0};
}
