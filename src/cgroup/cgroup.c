/* SPDX-License-Identifier: MIT */
/* The backend-independent half: choosing the backend, the corun/<run-id>/... directory
 * tree in every hierarchy (journalled before each mkdir), and dispatch through
 * CgroupBackendOps. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/error.h"
#include "util/fault.h"
#include "util/parse.h"

void cg_limits_init(CgLimits *l) {
        *l = (CgLimits){
                .memory_max = LIMIT_MAX,
                .memory_high = LIMIT_MAX,
                .memory_low = 0,
                .memory_min = 0,
                .swap_max = 0,
                .pids_max = LIMIT_MAX,
        };
}

static bool relpath_ok(const char *rel) {
        if (isempty(rel) || strlen(rel) > 1024)
                return false;
        for (const char *p = rel;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (!cg_name_is_valid(p, n))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
        }
}

int cg_journal_mkdir(CgroupManager *m, const char *path) {
        if (m->journal) {
                int r = journal_add(m->journal, "cgroup", path);
                if (r < 0)
                        return r;
        }
        return RET_NERRNO(mkdir(path, 0755));
}

static bool hier_used(const CgroupManager *m, size_t i) {
        return m->ops->uses_dirs && (m->d.h[i].controllers & m->ops->controllers & ~m->controllers_skipped);
}

typedef struct PathArray {
        char *p[CG_MAX_HIER];
} PathArray;

static void path_array_done(PathArray *a) {
        for (size_t i = 0; i < CG_MAX_HIER; i++)
                free(a->p[i]);
}

/* The corun/ and corun/<run-id> levels in the used hierarchies that are (or are not)
 * cgroup2, journalled with one sync. corun/ is shared by every run below the same
 * group and is journalled only by the run that makes it (a cleanup removes it only
 * when empty anyway); corun/<run-id> is ours. */
static int create_run_groups_in(CgroupManager *m, bool cgroup2) {
        _cleanup_(path_array_done) PathArray top_paths = {{0}};
        char **tops = top_paths.p;
        const char *batch[2 * CG_MAX_HIER];
        bool journalled_top[CG_MAX_HIER] = {0};
        size_t nb = 0;
        int r;

        for (size_t i = 0; i < m->d.n; i++) {
                if (!hier_used(m, i) || m->d.h[i].cgroup2 != cgroup2)
                        continue;
                if (asprintf(&tops[i], "%s/corun", m->own_path[i]) < 0) {
                        tops[i] = NULL;
                        return -ENOMEM;
                }
                if (asprintf(&m->run_path[i], "%s/%s", tops[i], m->run_id) < 0) {
                        m->run_path[i] = NULL;
                        return -ENOMEM;
                }
                if (access(tops[i], F_OK) < 0) {
                        batch[nb++] = tops[i];
                        journalled_top[i] = true;
                }
                batch[nb++] = m->run_path[i];
        }
        if (nb > 0 && m->journal && (r = journal_add_many(m->journal, "cgroup", batch, nb)) < 0)
                goto fail;

        for (size_t i = 0; i < m->d.n; i++) {
                if (!tops[i])
                        continue;
                /* Another run may remove an empty corun/ between our two mkdirs. */
                for (int attempt = 0;; attempt++) {
                        r = 0;
                        if (access(tops[i], F_OK) < 0) {
                                /* Journalled above, unless another run removed it since. */
                                r = journalled_top[i] ? RET_NERRNO(mkdir(tops[i], 0755))
                                                      : cg_journal_mkdir(m, tops[i]);
                                journalled_top[i] = true;
                                /* EEXIST: another run made it a moment ago and may not have
                                 * initialised it yet (on v1 an empty cpuset.cpus, and then
                                 * our cpus under it fail with EACCES): we do it too, the
                                 * same values either way. */
                                if (r >= 0 || r == -EEXIST)
                                        r = m->ops->init_dir ? m->ops->init_dir(m, i, tops[i]) : 0;
                        } else if (m->ops->init_dir)
                                /* Left half-made by a runner killed right after mkdir. */
                                r = m->ops->init_dir(m, i, tops[i]);
                        if (r < 0)
                                goto fail;
                        r = RET_NERRNO(mkdir(m->run_path[i], 0755));
                        if (r == -ENOENT && attempt < 3)
                                continue;
                        if (r < 0) {
                                free(m->run_path[i]);
                                m->run_path[i] = NULL;
                                goto fail;
                        }
                        break;
                }
                if (m->ops->init_dir && (r = m->ops->init_dir(m, i, m->run_path[i])) < 0)
                        goto fail;
        }
        return 0;
fail:
        /* Paths not made yet are forgotten, so that teardown touches only ours. */
        for (size_t i = 0; i < m->d.n; i++)
                if (tops[i] && m->run_path[i] && access(m->run_path[i], F_OK) < 0) {
                        free(m->run_path[i]);
                        m->run_path[i] = NULL;
                }
        return r;
}

static int create_run_groups(CgroupManager *m) {
        /* cgroup2 first: what its group offers decides which v1 hierarchies are needed. */
        int r = create_run_groups_in(m, true);
        if (r < 0)
                return r;
        if (m->ops->covered_by_cgroup2)
                m->controllers_skipped = m->ops->covered_by_cgroup2(m) & m->ops->controllers;
        return create_run_groups_in(m, false);
}

/* The usual case, groups whose processes are gone, costs one rmdir per hierarchy: the
 * kernel refuses (EBUSY) to remove a group that holds a process or a child group, so a
 * removal that succeeds proves it empty. The v1 directories go first: a process that left
 * the cgroup2 group for another is still in a v1 one, which then stays for the careful way
 * together with the cgroup2 group. Each path removed is freed and set to NULL; with
 * with_parent, its parent directory is tried too (corun/ goes when we were the last run in
 * it; EBUSY means another run still uses it). False at the first refusal: what is left
 * takes the careful way (populated check, kill, rmdir of the tree). */
static bool rmdir_empty_groups(const CgroupManager *m, char **paths, bool with_parent) {
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = m->d.n; i-- > 0;) {
                        if (!paths[i] || m->d.h[i].cgroup2 != (pass == 1))
                                continue;
                        if (rmdir(paths[i]) < 0 && errno != ENOENT)
                                return false;
                        char *slash = with_parent ? strrchr(paths[i], '/') : NULL;
                        if (slash && slash != paths[i]) {
                                *slash = '\0';
                                (void)rmdir(paths[i]);
                        }
                        free(paths[i]);
                        paths[i] = NULL;
                }
        return true;
}

static void remove_run_groups(CgroupManager *m) {
        if (rmdir_empty_groups(m, m->run_path, true))
                return;
        const char *paths[CG_MAX_HIER];
        size_t n = 0;
        for (size_t i = 0; i < m->d.n; i++)
                if (m->run_path[i])
                        paths[n++] = m->run_path[i];
        (void)cg_kill_paths(paths, n, CG_KILL_TIMEOUT_USEC, NULL);
        for (size_t i = m->d.n; i-- > 0;) {
                if (!m->run_path[i])
                        continue;
                (void)cg_rmdir_tree(m->run_path[i]);
                char *slash = strrchr(m->run_path[i], '/');
                *slash = '\0';
                (void)rmdir(m->run_path[i]);
                *slash = '/';
        }
}

static int fallback_none(CgroupManager *m, const char *reason, char **ret_why) {
        m->ops = &cg_none_ops;
        /* reason may be *ret_why itself: error_setf formats before it frees. */
        return error_setf(ret_why, 0,
                          "%s; using backend 'none': MEMORY LIMITS ARE NOT ENFORCED (only CPU affinity and "
                          "rlimits), jobs are tracked by session and can escape it",
                          reason);
}

static char *describe_v1(const CgroupManager *m) {
        _cleanup_free_ char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);
        if (!f)
                return NULL;
        fputs("cgroup v1 hybrid:", f);
        for (int c = 0; c < CG_UNIFIED; c++)
                if (cg_hier(m, (CgController)c) >= 0)
                        fprintf(f, " %s", cg_controller_to_string((CgController)c));
        int mi = cg_hier(m, CG_MEMORY), ui = cg_hier(m, CG_UNIFIED);
        if (mi >= 0)
                fprintf(f, "; groups below memory:%s", *m->d.h[mi].own ? m->d.h[mi].own : "/");
        if (mi >= 0 && !cg_exists(m->own_path[mi], "memory.memsw.limit_in_bytes"))
                fputs("; no memory.memsw (boot with swapaccount=1): swap is not limited per job", f);
        if (ui >= 0)
                fprintf(f, "; unified cgroup2 at %s for clone3, cgroup.kill%s", m->d.h[ui].mount,
                        m->has_psi ? " and PSI" : "");
        else
                fputs("; no cgroup2 mount: jobs join their groups before exec, kill via freezer", f);
        /* A skipped controller mounted with a needed one (cpu,cpuacct) is still used. */
        bool any = false;
        for (int c = 0; c < CG_UNIFIED; c++)
                if (m->controllers_skipped & (1u << c) && m->d.by_ctrl[c] >= 0 &&
                    cg_hier(m, (CgController)c) < 0) {
                        fprintf(f, "%s %s",
                                any ? "" : "; not used:", cg_controller_to_string((CgController)c));
                        any = true;
                }
        if (any)
                fputs(" (the unified group gives CPU time, kill and freeze)", f);
        fclose(f);
        return TAKE_PTR(list);
}

static void replace_why(char **why, char *s) {
        free(*why);
        *why = s;
}

static bool fallback_ok(int r) {
        return r == -EPERM || r == -EACCES || r == -EROFS || r == -EOPNOTSUPP || r == -EBUSY;
}

int cg_manager_choose(const CgroupManagerOptions *o, CgroupManager **ret, char **ret_why) {
        _cleanup_free_ char *why = NULL;
        int r;

        CgroupManager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                m->d.by_ctrl[c] = -1;
        m->run_id = strdup(o->run_id);
        m->fs_root = strdup(isempty(o->fs_root) || streq(o->fs_root, "/") ? "" : o->fs_root);
        if (!m->run_id || !m->fs_root) {
                cg_manager_free(m);
                return -ENOMEM;
        }

        /* Discovery also serves the none backend (memory limit, cpuset for admission),
         * so a failure only matters when a cgroup backend is wanted. */
        r = cg_discover(m->fs_root, &m->d, &why);
        if (r >= 0)
                for (size_t i = 0; i < m->d.n; i++)
                        if (asprintf(&m->own_path[i], "%s%s%s", m->fs_root, m->d.h[i].mount, m->d.h[i].own) <
                            0) {
                                cg_manager_free(m);
                                return -ENOMEM;
                        }

        const CgroupBackendOps *ops = NULL;
        if (o->backend == BACKEND_NONE) {
                fallback_none(m, "backend 'none' was asked for", &why);
        } else if (r < 0) {
                if (o->backend != BACKEND_AUTO)
                        goto fail;
                fallback_none(m, why ? why : "cannot find the cgroup hierarchies", &why);
        } else if (m->d.kind == BACKEND_V2 && o->backend == BACKEND_V1) {
                replace_why(&why,
                            strdup("--backend v1 was asked for but this host has only the unified cgroup "
                                   "v2 hierarchy; use --backend v2 or auto"));
                r = -EOPNOTSUPP;
                goto fail;
        } else if (m->d.kind == BACKEND_V1 && o->backend == BACKEND_V2) {
                /* A hybrid host's cgroup2 mount has no controllers to limit with. */
                replace_why(&why,
                            strdup("--backend v2 was asked for but this host is cgroup v1 (hybrid); use "
                                   "--backend v1 or auto"));
                r = -EOPNOTSUPP;
                goto fail;
        } else if (m->d.kind == BACKEND_V2 || m->d.kind == BACKEND_V1) {
                ops = m->d.kind == BACKEND_V2 ? &cg_v2_ops : &cg_v1_ops;
        } else {
                replace_why(&why, strdup("no cgroup file system is mounted at /sys/fs/cgroup"));
                if (o->backend != BACKEND_AUTO) {
                        r = -EOPNOTSUPP;
                        goto fail;
                }
                fallback_none(m, why, &why);
        }
        if (ops) {
                m->ops = ops;
                replace_why(&why, NULL);
                r = m->ops->check(m, &why);
                if (r < 0) {
                        if (o->backend != BACKEND_AUTO || !fallback_ok(r))
                                goto fail;
                        _cleanup_free_ char *reason = TAKE_PTR(why);
                        fallback_none(m, reason ? reason : "cgroups are not usable here", &why);
                }
        }
        *ret = m;
        if (ret_why)
                *ret_why = TAKE_PTR(why);
        return 0;
fail:
        cg_manager_free(m);
        if (ret_why)
                *ret_why = TAKE_PTR(why);
        return r;
}

/* A user manager delegates what user@.service was given: cpu memory pids by default,
 * not cpuset, so CPUs are pinned by affinity (which a job can undo). Said once. */
static void user_scope_warning(CgroupManager *m) {
        int ui = cg_hier(m, CG_UNIFIED);
        unsigned have = ui >= 0 ? cg_v2_controllers_in(m->own_path[ui], "cgroup.controllers") : 0;
        unsigned missing = CG_V2_WANTED & ~have;
        if (!missing)
                return;
        _cleanup_free_ char *off = cg_v2_mask_to_string(missing), *on = cg_v2_mask_to_string(have);
        (void)error_setf(&m->warning, 0,
                         "systemd's user manager delegates only %s to %s, not %s%s; to delegate them, "
                         "add " CG_SYSTEMD_USER_DROPIN,
                         on && *on ? on : "nothing", m->scope, off ? off : "?",
                         missing & 1u ? ": CPUs are pinned with affinity instead, which a job can undo"
                                      : "");
}

const char *cg_manager_warning(const CgroupManager *m) {
        return m->warning;
}

const char *cg_manager_scope(const CgroupManager *m) {
        return m->scope;
}

int cg_manager_new(const CgroupManagerOptions *o, Journal *j, CgroupManager **ret, char **ret_why) {
        _cleanup_free_ char *why = NULL;
        CgroupManager *m = NULL;
        int r;

        if (!o || !ret || isempty(o->run_id) || !cg_name_is_valid(o->run_id, strlen(o->run_id)))
                return -EINVAL;
        /* A systemd host: first a scope of our own, then everything as in a delegated
         * group (DESIGN §13). A failure leaves the runner where it was; the reason
         * joins the one the backend gives. */
        _cleanup_free_ char *scope = NULL, *scope_err = NULL;
        bool scope_user = false;
        if ((o->backend == BACKEND_AUTO || o->backend == BACKEND_V2) &&
            (isempty(o->fs_root) || streq(o->fs_root, "/")) && cg_systemd_scope_wanted(NULL) > 0 &&
            cg_systemd_start_scope(o->run_id, o->slice, j, &scope, &scope_user, &scope_err) < 0 &&
            !scope_err)
                scope_err = strdup("cannot ask systemd for a scope");
        r = cg_manager_choose(o, &m, &why);
        if (r < 0)
                goto fail;
        m->journal = j;
        m->scope = TAKE_PTR(scope);
        m->scope_user = scope_user;
        if (scope_err && m->ops->kind == BACKEND_NONE) {
                _cleanup_free_ char *old = TAKE_PTR(why);
                (void)error_setf(&why, 0, "systemd gave corun no scope of its own (%s); %s", scope_err,
                                 old ? old : "");
        }
        if (m->ops->uses_dirs) {
                r = create_run_groups(m);
                if (r < 0) {
                        (void)error_setf(&why, r, "cannot create corun/%s in the cgroup hierarchies: %s",
                                         m->run_id, strerror(-r));
                        goto fail;
                }
                int ui = cg_hier(m, CG_UNIFIED);
                uint64_t t;
                m->has_psi = ui >= 0 && cg_read_psi_total(m->run_path[ui], "cpu.pressure", "some", &t) >= 0;
                if (m->ops->setup_run) {
                        replace_why(&why, NULL);
                        if ((r = m->ops->setup_run(m, &why)) < 0)
                                goto fail;
                }
                if (!why)
                        why = describe_v1(m);
                if (m->scope_user)
                        user_scope_warning(m);
        }
        *ret = m;
        if (ret_why)
                *ret_why = TAKE_PTR(why);
        return 0;
fail:
        if (scope_err && m) {
                _cleanup_free_ char *old = TAKE_PTR(why);
                (void)error_setf(&why, 0, "systemd gave corun no scope of its own (%s); %s", scope_err,
                                 old ? old : "");
        }
        cg_manager_free(m);
        if (ret_why)
                *ret_why = TAKE_PTR(why);
        return r;
}

CgroupManager *cg_manager_free(CgroupManager *m) {
        if (!m)
                return NULL;
        /* A runner that could not leave its leaf in the run group must not kill it. */
        if (m->ops && m->ops->uses_dirs && (!m->ops->teardown_run || m->ops->teardown_run(m) >= 0))
                remove_run_groups(m);
        free(m->runner_leaf);
        free(m->scope);
        free(m->warning);
        for (size_t i = 0; i < CG_MAX_HIER; i++) {
                free(m->own_path[i]);
                free(m->run_path[i]);
        }
        cg_discovery_done(&m->d);
        free(m->fs_root);
        free(m->run_id);
        free(m);
        return NULL;
}

BackendKind cg_manager_backend(const CgroupManager *m) {
        return m->ops->kind;
}

int cg_manager_allowed(const CgroupManager *m, CpuSet *ret_cpus, CpuSet *ret_mems) {
        return m->ops->allowed(m, ret_cpus, ret_mems);
}

uint64_t cg_manager_memory_limit(const CgroupManager *m) {
        return m->ops->memory_limit(m);
}

bool cg_manager_has_psi(const CgroupManager *m) {
        return m->has_psi;
}

static Cgroup *cgroup_free(Cgroup *g) {
        if (!g)
                return NULL;
        for (size_t i = 0; i < CG_MAX_HIER; i++)
                free(g->path[i]);
        closep(&g->unified_fd);
        free(g->rel);
        free(g->display);
        free(g);
        return NULL;
}

int cg_create(CgroupManager *m, const char *relpath, const CgLimits *l, Cgroup **ret) {
        int r;
        if (!relpath_ok(relpath))
                return -EINVAL;
        if ((r = fault_point("group create")) < 0)
                return r;
        Cgroup *g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->m = m;
        g->unified_fd = -1;
        g->leader = -1;
        cg_limits_init(&g->limits);
        g->rel = strdup(relpath);
        if (!g->rel || asprintf(&g->display, "corun/%s/%s", m->run_id, relpath) < 0) {
                cgroup_free(g);
                return -ENOMEM;
        }
        /* Every directory of the group is journalled with one write and one sync, then
         * made: the journal names each before it exists. */
        const char *batch[CG_MAX_HIER];
        size_t nb = 0;
        for (size_t i = 0; m->ops->uses_dirs && i < m->d.n; i++) {
                if (!m->run_path[i])
                        continue;
                if (asprintf(&g->path[i], "%s/%s", m->run_path[i], relpath) < 0) {
                        g->path[i] = NULL;
                        r = -ENOMEM;
                        goto fail;
                }
                batch[nb++] = g->path[i];
        }
        if (nb > 0 && m->journal && (r = journal_add_many(m->journal, "cgroup", batch, nb)) < 0) {
                /* Nothing was made: nothing to remove. */
                for (size_t i = 0; i < m->d.n; i++) {
                        free(g->path[i]);
                        g->path[i] = NULL;
                }
                goto fail;
        }
        for (size_t i = 0; m->ops->uses_dirs && i < m->d.n; i++) {
                if (!g->path[i])
                        continue;
                r = RET_NERRNO(mkdir(g->path[i], 0755));
                if (r >= 0 && m->ops->init_dir)
                        r = m->ops->init_dir(m, i, g->path[i]);
                if (r < 0) {
                        /* Not ours to remove when it was there already; the ones after
                         * it were never made. */
                        if (r != -EEXIST)
                                (void)rmdir(g->path[i]);
                        for (size_t k = i; k < m->d.n; k++) {
                                free(g->path[k]);
                                g->path[k] = NULL;
                        }
                        goto fail;
                }
        }
        const char *u = cg_group_path(g, CG_UNIFIED);
        if (u) {
                g->unified_fd = open(u, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (g->unified_fd < 0) {
                        r = -errno;
                        goto fail;
                }
        }
        if (l) {
                CgApplied a;
                r = cg_apply(g, l, &a);
                if (r < 0)
                        goto fail;
        }
        *ret = g;
        return 0;
fail:
        for (size_t i = m->d.n; i-- > 0;)
                if (g->path[i])
                        (void)rmdir(g->path[i]);
        cgroup_free(g);
        return r;
}

int cg_apply(Cgroup *g, const CgLimits *l, CgApplied *ret_applied) {
        CgApplied a = {0};
        int r = g->m->ops->apply(g, l, &a);
        if (r < 0)
                return r;
        g->limits = *l;
        if (ret_applied)
                *ret_applied = a;
        return 0;
}

int cg_clone_fd(const Cgroup *g) {
        return g->unified_fd >= 0 ? g->unified_fd : -EOPNOTSUPP;
}

int cg_prepare_attach(const Cgroup *g, bool cloned_into, CgAttach *ret) {
        *ret = (CgAttach){0};
        for (size_t i = 0; i < ELEMENTSOF(ret->fds); i++)
                ret->fds[i] = -1;
        int r = g->m->ops->prepare_attach(g, cloned_into, ret);
        if (r < 0)
                cg_attach_done(ret);
        return r;
}

int cg_attach_self(const CgAttach *a) {
        /* Runs between fork and exec: write(2), sched_setaffinity(2), setrlimit(2) only. */
        for (size_t i = 0; i < a->n_fds; i++) {
                ssize_t k;
                do
                        k = write(a->fds[i], "0", 1);
                while (k < 0 && errno == EINTR);
                if (k < 0)
                        return -errno;
        }
        if (a->set_affinity) {
                cpu_set_t s;
                CPU_ZERO(&s);
                for (unsigned c = 0; c < CPUSET_MAX && c < CPU_SETSIZE; c++)
                        if (cpuset_has(&a->cpus, c))
                                CPU_SET(c, &s);
                if (sched_setaffinity(0, sizeof s, &s) < 0)
                        return -errno;
        }
        if (a->rlimit_as) {
                struct rlimit rl = {.rlim_cur = a->rlimit_as == LIMIT_MAX ? RLIM_INFINITY : a->rlimit_as,
                                    .rlim_max = a->rlimit_as == LIMIT_MAX ? RLIM_INFINITY : a->rlimit_as};
                if (setrlimit(RLIMIT_AS, &rl) < 0)
                        return -errno;
        }
        if (a->rlimit_nproc) {
                struct rlimit rl = {
                        .rlim_cur = a->rlimit_nproc == LIMIT_MAX ? RLIM_INFINITY : a->rlimit_nproc,
                        .rlim_max = a->rlimit_nproc == LIMIT_MAX ? RLIM_INFINITY : a->rlimit_nproc};
                if (setrlimit(RLIMIT_NPROC, &rl) < 0)
                        return -errno;
        }
        return 0;
}

void cg_attach_done(CgAttach *a) {
        for (size_t i = 0; i < a->n_fds && i < ELEMENTSOF(a->fds); i++)
                closep(&a->fds[i]);
        a->n_fds = 0;
}

int cg_attach_pid(Cgroup *g, pid_t pid) {
        return g->m->ops->attach_pid ? g->m->ops->attach_pid(g, pid) : 0;
}

int cg_read_stats(Cgroup *g, CgStats *ret) {
        *ret = (CgStats){0};
        return g->m->ops->read_stats(g, ret);
}

int cg_pids(Cgroup *g, pid_t **ret, size_t *ret_n) {
        return g->m->ops->pids(g, ret, ret_n);
}

int cg_is_populated(Cgroup *g) {
        return g->m->ops->is_populated(g);
}

int cg_is_populated_fast(Cgroup *g) {
        const char *u = g->m->ops->uses_dirs ? cg_group_path(g, CG_UNIFIED) : NULL;
        uint64_t p;
        int r = u ? cg_read_keyed(u, "cgroup.events", "populated", &p) : -ENOENT;
        if (r == -ENOENT && u)
                return 0; /* gone: nothing in it */
        return r < 0 ? cg_is_populated(g) : p != 0;
}

int cg_kill(Cgroup *g) {
        return g->m->ops->kill(g);
}

int cg_signal(Cgroup *g, int sig) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cg_pids(g, &pids, &n), sent = 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) == 0)
                        sent++;
        return sent;
}

int cg_freeze(Cgroup *g, bool frozen) {
        return g->m->ops->freeze(g, frozen);
}

int cg_destroy(Cgroup *g) {
        int r = 0;
        if (!g)
                return 0;
        (void)fault_point("group removal");
        if (g->m->ops->uses_dirs) {
                closep(&g->unified_fd);
                g->unified_fd = -1;
                if (rmdir_empty_groups(g->m, g->path, false)) {
                        cgroup_free(g);
                        return 0;
                }
                int p = cg_is_populated(g);
                if (p != 0)
                        r = cg_kill(g);
                closep(&g->unified_fd);
                g->unified_fd = -1;
                for (size_t i = g->m->d.n; i-- > 0;) {
                        if (!g->path[i])
                                continue;
                        int k = cg_rmdir_tree(g->path[i]);
                        if (k < 0 && r >= 0)
                                r = k;
                }
        } else if (cg_is_populated(g) > 0)
                r = cg_kill(g);
        cgroup_free(g);
        return r;
}

const char *cg_path(const Cgroup *g) {
        return g->display;
}
