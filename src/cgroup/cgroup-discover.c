/* SPDX-License-Identifier: MIT */
/* Which cgroup hierarchies exist, where they are mounted and where the runner sits
 * in each. Parsed from /proc/self/cgroup and /proc/self/mountinfo (below fs_root, so
 * captured trees can be fed to the unit tests). */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "cgroup/cgroup-internal.h"
#include "util/error.h"

static const char *const controller_names[_CG_CONTROLLER_MAX] = {
        [CG_CPUSET] = "cpuset", [CG_CPU] = "cpu",         [CG_CPUACCT] = "cpuacct", [CG_MEMORY] = "memory",
        [CG_PIDS] = "pids",     [CG_FREEZER] = "freezer", [CG_UNIFIED] = "unified",
};

const char *cg_controller_to_string(CgController c) {
        return c >= 0 && c < _CG_CONTROLLER_MAX ? controller_names[c] : NULL;
}

CgController cg_controller_from_string(const char *s) {
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                if (s && streq(s, controller_names[c]))
                        return (CgController)c;
        return _CG_CONTROLLER_INVALID;
}

void cg_unescape_mount(char *s) {
        char *w = s;
        for (const char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = '\0';
}

/* Our controllers named in a comma list ("rw,cpu,cpuacct" or "cpu,cpuacct"). */
static unsigned controllers_in(const char *list) {
        unsigned mask = 0;
        _cleanup_free_ char *copy = strdup(list);
        if (!copy)
                return 0;
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                CgController c = cg_controller_from_string(t);
                if (c >= 0 && c != CG_UNIFIED)
                        mask |= 1u << c;
        }
        return mask;
}

typedef struct MountEntry {
        char *root, *mount, *fstype, *superopts;
} MountEntry;

/* Splits one mountinfo line in place: "36 25 0:31 / /sys/fs/cgroup/cpuset rw,... shared:14 -
 * cgroup cgroup rw,cpuset". */
static bool split_mountinfo(char *line, MountEntry *e) {
        char *f[6], *save = NULL, *t;
        size_t n = 0;
        for (t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
                f[n++] = t;
        if (n < 6)
                return false;
        /* Optional fields until the lone "-". */
        while (t && !streq(t, "-"))
                t = strtok_r(NULL, " ", &save);
        if (!t)
                return false;
        char *fstype = strtok_r(NULL, " ", &save), *source = strtok_r(NULL, " ", &save),
             *superopts = strtok_r(NULL, " ", &save);
        if (!fstype || !source || !superopts)
                return false;
        cg_unescape_mount(f[3]);
        cg_unescape_mount(f[4]);
        *e = (MountEntry){.root = f[3], .mount = f[4], .fstype = fstype, .superopts = superopts};
        return true;
}

/* The runner's path relative to a mount whose root is `root`: the kernel shows
 * /proc/self/cgroup paths from the hierarchy's (or namespace's) root, and a bind
 * mount of a subtree has that subtree as root. NULL when the group is not visible
 * through this mount. */
static char *relative_to_root(const char *root, const char *path) {
        if (streq(root, "/"))
                return strdup(streq(path, "/") ? "" : path);
        size_t rl = strlen(root);
        if (!strneq(path, root, rl) || (path[rl] != '\0' && path[rl] != '/'))
                return NULL;
        return strdup(path + rl);
}

static int add_hierarchy(CgDiscovery *d, unsigned mask, bool v2, const char *mountinfo, const char *path) {
        _cleanup_free_ char *copy = strdup(mountinfo);
        if (!copy)
                return -ENOMEM;
        for (char *line = copy, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                MountEntry e;
                if (!split_mountinfo(line, &e))
                        continue;
                if (v2 ? !streq(e.fstype, "cgroup2")
                       : !streq(e.fstype, "cgroup") || (controllers_in(e.superopts) & mask) != mask)
                        continue;
                _cleanup_free_ char *own = relative_to_root(e.root, path);
                if (!own)
                        continue;
                if (d->n >= CG_MAX_HIER)
                        return -E2BIG;
                CgHierarchy *h = &d->h[d->n];
                *h = (CgHierarchy){
                        .controllers = mask, .cgroup2 = v2, .mount = strdup(e.mount), .own = TAKE_PTR(own)};
                if (!h->mount)
                        return -ENOMEM;
                /* A trailing "/" on the own path would double up when joined. */
                size_t ol = strlen(h->own);
                if (ol > 0 && h->own[ol - 1] == '/')
                        h->own[ol - 1] = '\0';
                for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                        if (mask & (1u << c))
                                d->by_ctrl[c] = (int)d->n;
                d->n++;
                return 0;
        }
        return 0; /* not mounted where we can see it: the controller is just absent */
}

int cg_discovery_parse(const char *proc_cgroup, const char *mountinfo, CgDiscovery *d) {
        _cleanup_free_ char *copy = strdup(proc_cgroup);
        if (!copy)
                return -ENOMEM;
        d->n = 0;
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                d->by_ctrl[c] = -1;
        for (char *line = copy, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                /* "hierarchy-id:controller-list:path"; the path may itself hold ':'. */
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        return -EBADMSG;
                *c1 = *c2 = '\0';
                const char *ctrls = c1 + 1, *path = c2 + 1;
                if (*path != '/')
                        return -EBADMSG;
                int r;
                if (streq(line, "0") && *ctrls == '\0') {
                        if (d->by_ctrl[CG_UNIFIED] >= 0)
                                continue;
                        r = add_hierarchy(d, 1u << CG_UNIFIED, true, mountinfo, path);
                } else {
                        unsigned mask = controllers_in(ctrls);
                        if (mask == 0)
                                continue; /* name=systemd, devices, blkio, ...: not ours */
                        r = add_hierarchy(d, mask, false, mountinfo, path);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

void cg_discovery_done(CgDiscovery *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->h[i].mount);
                free(d->h[i].own);
        }
        d->n = 0;
}

/* For captured trees: the fs type mountinfo lists at /sys/fs/cgroup. */
static BackendKind kind_from_mountinfo(const char *mountinfo) {
        _cleanup_free_ char *copy = strdup(mountinfo);
        BackendKind k = BACKEND_NONE;
        if (!copy)
                return k;
        for (char *line = copy, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                MountEntry e;
                if (split_mountinfo(line, &e) && streq(e.mount, "/sys/fs/cgroup"))
                        k = streq(e.fstype, "cgroup2") ? BACKEND_V2
                            : streq(e.fstype, "tmpfs")
                                    ? BACKEND_V1
                                    : BACKEND_NONE; /* the last mount wins, as in the kernel */
        }
        return k;
}

int cg_discover(const char *fs_root, CgDiscovery *ret, char **ret_why) {
        bool real = isempty(fs_root) || streq(fs_root, "/");
        const char *root = real ? "" : fs_root;
        _cleanup_free_ char *pc = NULL, *mi = NULL;
        int r;

        CgDiscovery d = {.kind = BACKEND_NONE};
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                d.by_ctrl[c] = -1;
        if ((r = cg_read(root, "proc/self/cgroup", &pc)) < 0 ||
            (r = cg_read(root, "proc/self/mountinfo", &mi)) < 0) {
                return error_setf(ret_why, r, "cannot read %s/proc/self/cgroup or mountinfo: %s", root,
                                  strerror(-r));
        }
        if (real) {
                struct statfs sf;
                if (statfs("/sys/fs/cgroup", &sf) < 0)
                        d.kind = BACKEND_NONE;
                else if (sf.f_type == CGROUP2_SUPER_MAGIC)
                        d.kind = BACKEND_V2;
                else if (sf.f_type == TMPFS_MAGIC)
                        d.kind = BACKEND_V1;
                else
                        d.kind = BACKEND_NONE;
        } else
                d.kind = kind_from_mountinfo(mi);

        r = cg_discovery_parse(pc, mi, &d);
        if (r < 0) {
                cg_discovery_done(&d);
                return error_setf(ret_why, r, "cannot parse %s/proc/self/cgroup: %s", root, strerror(-r));
        }
        *ret = d;
        return 0;
}
