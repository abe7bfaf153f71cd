/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared between cgroup.c, the backends and cleanup.c; also what the unit tests reach
 * (discovery parsers, write-order rules). Not for other modules: they use cgroup.h. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "util/macros.h"

/* The controllers corun drives, plus the controller-less cgroup2 hierarchy. */
typedef enum CgController {
        CG_CPUSET,
        CG_CPU,
        CG_CPUACCT,
        CG_MEMORY,
        CG_PIDS,
        CG_FREEZER,
        CG_UNIFIED,
        _CG_CONTROLLER_MAX,
        _CG_CONTROLLER_INVALID = -1,
} CgController;
const char *cg_controller_to_string(CgController c);
CgController cg_controller_from_string(const char *s);

/* Enough for every v1 hierarchy we use plus the unified one (and CgAttach.fds[8]). */
#define CG_MAX_HIER 8

/* One mounted hierarchy. Several controllers may share one (cpu,cpuacct). */
typedef struct CgHierarchy {
        unsigned controllers; /* bitmask of 1u << CgController */
        bool cgroup2;
        char *mount; /* mount point as mountinfo shows it: /sys/fs/cgroup/memory */
        char *own;   /* the runner's group below the mount: "" at its root, else "/a/b" */
} CgHierarchy;

typedef struct CgDiscovery {
        BackendKind kind; /* from the statfs magic: V1 (tmpfs), V2 (cgroup2), NONE */
        CgHierarchy h[CG_MAX_HIER];
        size_t n;
        int by_ctrl[_CG_CONTROLLER_MAX]; /* index into h, -1 when absent */
} CgDiscovery;

/* Pure: builds the hierarchy list from the text of /proc/self/cgroup and
 * /proc/self/mountinfo. kind is left as given. */
int cg_discovery_parse(const char *proc_cgroup, const char *mountinfo, CgDiscovery *d);
/* Reads <fs_root>/proc/self/{cgroup,mountinfo}. With fs_root NULL or "/" the mode
 * comes from statfs(/sys/fs/cgroup); with a captured tree from the fs type
 * mountinfo lists at /sys/fs/cgroup (statfs of a fixture would say nothing). */
int cg_discover(const char *fs_root, CgDiscovery *ret, char **ret_why);
void cg_discovery_done(CgDiscovery *d);
/* The mount point with \040-style escapes undone, in place. */
void cg_unescape_mount(char *s);

typedef struct CgroupBackendOps {
        BackendKind kind;
        bool uses_dirs; /* groups are directories in the hierarchies (not for none) */
        /* Which hierarchies of the discovery the backend creates groups in. */
        unsigned controllers;
        /* Checks the backend can work here; may fill *ret_why. */
        int (*check)(CgroupManager *m, char **ret_why);
        /* Just after mkdir of each level in hierarchy hi (v1 cpuset: copy cpus/mems
         * from the parent, which a new v1 cpuset group does not inherit). */
        int (*init_dir)(CgroupManager *m, size_t hi, const char *path);
        int (*apply)(Cgroup *g, const CgLimits *l, CgApplied *ret);
        int (*prepare_attach)(const Cgroup *g, bool cloned_into, CgAttach *ret);
        int (*attach_pid)(Cgroup *g, pid_t pid);
        int (*read_stats)(Cgroup *g, CgStats *ret);
        int (*pids)(Cgroup *g, pid_t **ret, size_t *ret_n);
        int (*is_populated)(Cgroup *g);
        int (*kill)(Cgroup *g);
        int (*freeze)(Cgroup *g, bool frozen);
        int (*allowed)(const CgroupManager *m, CpuSet *ret_cpus, CpuSet *ret_mems);
        uint64_t (*memory_limit)(const CgroupManager *m);
        /* Optional. After corun/<run-id> exists: whatever the backend needs before groups
         * can be made below it (v2: the runner moves into a leaf, controllers are enabled
         * down the path). Fills *ret_why with the sentence describing the backend. */
        int (*setup_run)(CgroupManager *m, char **ret_why);
        /* Optional. Before corun/<run-id> is killed and removed: undoes setup_run. < 0
         * when the runner could not leave the run group, which must then not be killed. */
        int (*teardown_run)(CgroupManager *m);
        /* Optional. Called once the run group exists in the cgroup2 hierarchies and
         * before the others get theirs: the controllers (bits of 1u << CgController)
         * whose hierarchies the run can do without because the cgroup2 group already
         * gives what corun takes from them (v1: cpuacct and freezer next to a unified
         * group with cpu.stat, cgroup.kill and cgroup.freeze). Hierarchies serving
         * only such controllers get no groups. */
        unsigned (*covered_by_cgroup2)(const CgroupManager *m);
} CgroupBackendOps;

extern const CgroupBackendOps cg_v1_ops;
extern const CgroupBackendOps cg_v2_ops;
extern const CgroupBackendOps cg_none_ops;

struct CgroupManager {
        const CgroupBackendOps *ops;
        CgDiscovery d;
        char *fs_root; /* "" for the real root */
        char *run_id;
        Journal *journal; /* borrowed; NULL: nothing journalled (tests) */
        /* Per hierarchy of d (same index): absolute paths, NULL where unused. */
        char *own_path[CG_MAX_HIER]; /* <fs_root><mount><own> */
        char *run_path[CG_MAX_HIER]; /* own_path/corun/<run-id> */
        bool has_psi;
        /* v2 (cgroup-v2.c): the leaf the runner moved into so that its own group may
         * enable controllers (NULL at the root, where processes and controllers mix),
         * the controllers enabled below the run group (bits of cg_v2_controller_name),
         * and those setup_run newly enabled in own/ and corun/, for teardown to undo. */
        char *runner_leaf;
        unsigned v2_controllers, v2_enabled_own, v2_enabled_top;
        bool v2_has_peak; /* memory.peak (5.19+); else the peak is the sampled maximum */
        /* cgroup-systemd.c: the transient scope systemd made for this run (NULL: none),
         * whether the user manager made it, and the warning about controllers it does
         * not delegate (NULL: none). */
        char *scope;
        bool scope_user;
        char *warning;
        /* Controllers of ops->controllers this run makes no groups for (from
         * ops->covered_by_cgroup2); their hierarchies have no run_path. */
        unsigned controllers_skipped;
};

struct Cgroup {
        CgroupManager *m;
        char *rel;               /* "scenario/job" */
        char *display;           /* "corun/<run-id>/scenario/job" */
        char *path[CG_MAX_HIER]; /* absolute, same index as m->d.h; NULL where unused */
        int unified_fd;          /* O_DIRECTORY fd for clone3, -1 without cgroup2 */
        pid_t leader;            /* none backend: the job's session/process group */
        CgLimits limits;         /* last applied (none backend enforces at attach) */
        uint64_t peak_sampled;   /* v2 without memory.peak: highest memory.current read */
};

/* Index of the hierarchy serving controller c in which the manager creates groups,
 * or -1. */
static inline int cg_hier(const CgroupManager *m, CgController c) {
        int i = m->d.by_ctrl[c];
        return i >= 0 && m->run_path[i] ? i : -1;
}
/* The runner's own group for controller c (also known on the none backend). */
static inline const char *cg_own(const CgroupManager *m, CgController c) {
        int i = m->d.by_ctrl[c];
        return i >= 0 ? m->own_path[i] : NULL;
}
static inline const char *cg_group_path(const Cgroup *g, CgController c) {
        int i = cg_hier(g->m, c);
        return i >= 0 ? g->path[i] : NULL;
}

/* The first half of cg_manager_new: discovery, the backend for o->backend, its check
 * (auto falls back to none where cgroups cannot be used). Creates nothing; the
 * manager has no run groups (cg_probe). */
int cg_manager_choose(const CgroupManagerOptions *o, CgroupManager **ret, char **ret_why);

/* Run ids and group names: the journal's safe alphabet, no leading dot. */
static inline bool cg_name_is_valid(const char *s, size_t n) {
        return journal_name_is_valid(s, n);
}
/* Journals path, then mkdir(path, 0755) (cgroup.c). */
int cg_journal_mkdir(CgroupManager *m, const char *path);

/* Shared by the directory backends (cgroup-dirs.c). */
int cg_dirs_kill(Cgroup *g);
int cg_dirs_is_populated(Cgroup *g);
/* Recursive cgroup.procs of the unified group, else of the memory group. */
int cg_dirs_pids(Cgroup *g, pid_t **ret, size_t *ret_n);
/* sched_getaffinity and Mems_allowed_list of the runner (the none backend's view, and
 * what the cpuset view is intersected with). */
int cg_runner_affinity(CpuSet *ret_cpus, CpuSet *ret_mems);
/* The smallest memory limit from the runner's memory group up to the root. */
uint64_t cg_own_memory_limit(const CgroupManager *m);

/* ---- file helpers (cgroup-fs.c) ---- */
/* Reads dir/name into a malloc'ed NUL-terminated string (bounded). */
int cg_read(const char *dir, const char *name, char **ret);
int cg_read_u64(const char *dir, const char *name, uint64_t *ret);
/* "key value" lines (memory.stat, cpu.stat, pids.events, memory.oom_control). */
int cg_read_keyed(const char *dir, const char *name, const char *key, uint64_t *ret);
int cg_write(const char *dir, const char *name, const char *value);
int cg_write_u64(const char *dir, const char *name, uint64_t v);
bool cg_exists(const char *dir, const char *name);
/* Several "key value" lines of one file with one read: each key found sets *ret (with
 * psi_total, the "total=" field of a *.pressure line). Returns how many were found,
 * or a negative errno when the file cannot be read; keys not found are left alone. */
typedef struct CgKey {
        const char *key;
        uint64_t *ret;
        bool psi_total;
} CgKey;
int cg_read_keys(const char *dir, const char *name, const CgKey *keys, size_t n);
/* PSI "total=" of the "some"/"full" line of a *.pressure file. */
int cg_read_psi_total(const char *dir, const char *name, const char *line, uint64_t *ret);
/* From a cgroup2 group: the usage lines of cpu.stat (present without the cpu
 * controller) and, with psi, the PSI totals; has_psi says whether all were readable. */
void cg_read_unified_stats(const char *dir, bool psi, CgStats *s);
/* Kills and removes every child group of dir except the one named keep (NULL: none). */
int cg_remove_children(const char *dir, const char *keep);

/* Appends the pids of dir/cgroup.procs and of every group below it to *pids
 * (without duplicates). A vanished directory counts as empty. */
int cg_read_pids_tree(const char *dir, pid_t **pids, size_t *n);
/* 1 when a group (or a group below it) holds a process, 0 when not. Uses
 * cgroup.events on cgroup2, the procs lists on v1. */
int cg_path_populated(const char *dir);
/* Kills everything in the given groups (any mix of cgroup2 and v1 directories of one
 * job or run) and waits until they are empty, at most timeout_usec: cgroup.kill on
 * cgroup2; on v1 freeze (where a freezer group is among them), SIGKILL every pid,
 * thaw, again. *ret_killed (optional) counts distinct pids seen. -EBUSY if they did
 * not empty in time. */
int cg_kill_paths(const char *const *paths, size_t n, uint64_t timeout_usec, unsigned *ret_killed);
/* rmdir of a group and of every group below it, deepest first; retries EBUSY while a
 * dying task still pins it (bounded). ENOENT is success. */
int cg_rmdir_tree(const char *path);
bool cg_path_is_cgroupfs(const char *path, bool *ret_cgroup2);
void cg_sleep_usec(uint64_t usec);

#define CG_KILL_TIMEOUT_USEC (5 * USEC_PER_SEC)

/* v1 memory: the kernel shows "no limit" as PAGE_COUNTER_MAX pages, a huge number
 * that depends on the page size; anything this large means unlimited. */
#define CG_V1_UNLIMITED_FLOOR (UINT64_C(1) << 62)
/* v1 memory: true when memory.memsw.limit_in_bytes must be written before
 * memory.limit_in_bytes, because the kernel keeps limit <= memsw at every step. */
bool cg_v1_memsw_first(uint64_t cur_limit, uint64_t new_memsw);

/* ---- cgroup v2 controller lists (cgroup-fs.c; used by cgroup-v2.c and cgroup-probe.c) ---- */
/* The controllers the v2 backend enables, as bits 0..CG_V2_N-1. */
#define CG_V2_N 5
#define CG_V2_MEMORY_BIT (1u << 3)
#define CG_V2_WANTED ((1u << CG_V2_N) - 1)
const char *cg_v2_controller_name(unsigned bit); /* bit index: "cpuset", "cpu", "io", "memory", "pids" */
/* The wanted controllers named in a space-separated list file (cgroup.controllers,
 * cgroup.subtree_control); 0 when it cannot be read. */
unsigned cg_v2_controllers_in(const char *dir, const char *file);
/* "cpuset cpu" for a mask (malloc'ed). */
char *cg_v2_mask_to_string(unsigned mask);
/* The root of the hierarchy, where processes and enabled controllers may mix; it has
 * no cgroup.type (a cgroup namespace's root does, and obeys the rule). */
bool cg_v2_is_root(const char *dir);
/* Processes in dir/cgroup.procs other than the caller; *ret_first (optional) gets one. */
int cg_v2_other_procs(const char *dir, pid_t *ret_first);

/* cgroup2 cpu.weight (1..10000, default 100) <-> v1 cpu.shares (2..262144, default 1024). */
uint64_t cg_weight_to_shares(uint64_t weight);
uint64_t cg_shares_to_weight(uint64_t shares);

/* ---- systemd hosts (cgroup-systemd.c) ---- */
/* "corun-<run-id>.scope", escaped for a unit name. */
char *cg_systemd_scope_name(const char *run_id);
/* The journal's "scope" entry: "/system/<unit>" or "/user-<uid>/<unit>". */
int cg_systemd_journal_entry(bool user, const char *unit, char **ret);
/* StartTransientUnit of corun-<run-id>.scope (Delegate=yes, our pid) in the system
 * manager (root; slice default system.slice) or the user manager, journalled first;
 * returns once the job is done. */
int cg_systemd_start_scope(const char *run_id, const char *slice, Journal *j, char **ret_unit,
                           bool *ret_user, char **ret_why);
/* StopUnit of a journalled scope; -ENOENT when systemd no longer knows it. */
int cg_systemd_stop_scope(const char *journal_entry, char **ret_why);
/* The controllers (CG_V2 bits) user@<euid>.service hands to the user manager; *ret_dir
 * (optional) its group. */
unsigned cg_systemd_user_delegated(char **ret_dir);
/* dir carries systemd's delegation mark (xattr trusted.delegate or user.delegate). */
bool cg_has_delegate_mark(const char *dir);
