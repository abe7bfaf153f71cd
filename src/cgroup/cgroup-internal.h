/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared between cgroup.c, the backends and journal.c; also what the unit tests reach
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
} CgroupBackendOps;

extern const CgroupBackendOps cg_v1_ops;
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
};

struct Cgroup {
        CgroupManager *m;
        char *rel;               /* "scenario/job" */
        char *display;           /* "corun/<run-id>/scenario/job" */
        char *path[CG_MAX_HIER]; /* absolute, same index as m->d.h; NULL where unused */
        int unified_fd;          /* O_DIRECTORY fd for clone3, -1 without cgroup2 */
        pid_t leader;            /* none backend: the job's session/process group */
        CgLimits limits;         /* last applied (none backend enforces at attach) */
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

/* Run ids and group names: a safe alphabet, no leading dot (cgroup.c). */
bool cg_name_is_valid(const char *s, size_t n);

/* Shared by the directory backends (cgroup.c). */
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
/* PSI "total=" of the "some"/"full" line of a *.pressure file. */
int cg_read_psi_total(const char *dir, const char *name, const char *line, uint64_t *ret);

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
uint64_t cg_now_usec(void);
void cg_sleep_usec(uint64_t usec);

#define CG_KILL_TIMEOUT_USEC (5 * USEC_PER_SEC)

/* v1 memory: the kernel shows "no limit" as PAGE_COUNTER_MAX pages, a huge number
 * that depends on the page size; anything this large means unlimited. */
#define CG_V1_UNLIMITED_FLOOR (UINT64_C(1) << 62)
/* v1 memory: true when memory.memsw.limit_in_bytes must be written before
 * memory.limit_in_bytes, because the kernel keeps limit <= memsw at every step. */
bool cg_v1_memsw_first(uint64_t cur_limit, uint64_t new_memsw);
/* cgroup2 cpu.weight (1..10000, default 100) <-> v1 cpu.shares (2..262144, default 1024). */
uint64_t cg_weight_to_shares(uint64_t weight);
uint64_t cg_shares_to_weight(uint64_t shares);

/* ---- journal helpers (journal.c) ---- */
/* Field 22 of /proc/<pid>/stat (start time in clock ticks since boot). */
int proc_start_time(pid_t pid, uint64_t *ret);
/* Whether a journal of run `run_id` may name this path (so a tampered journal cannot
 * make cleanup kill or delete anything else). Both kinds: absolute, no "." or ".."
 * or empty component, no newline. "cgroup": holds the components "corun/<run-id>"
 * (or ends in "corun", the shared parent) and, when it exists, lies in a cgroup file
 * system. "dir": holds a component "corun-<run-id>" (or "corun-<run-id>-*", or
 * "corun/<run-id>"), lies in no cgroup file system and no existing component of it
 * is a symlink. */
bool journal_path_is_valid(const char *kind, const char *path, const char *run_id);
/* rm -rf that never follows a symlink and never leaves the file system of path. */
int rm_rf_careful(const char *path);
