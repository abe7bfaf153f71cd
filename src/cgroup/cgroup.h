/* SPDX-License-Identifier: MIT */
#pragma once

/* One interface over the partition backends (v2, v1 hybrid, none). Callers never
 * branch on the backend: they create groups, apply limits, start processes into them,
 * read statistics, kill and remove. Backends live one per file (cgroup-v1.c,
 * cgroup-v2.c, cgroup-none.c) behind CgroupBackendOps. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cleanup.h" /* for the users of the journal and its cleanup, which come with it */
#include "cgroup/journal.h"
#include "spec/spec.h"
#include "util/cpuset.h"

/* Limits resolved to numbers (no inheritance left). LIMIT_MAX = no limit. */
typedef struct CgLimits {
        CpuSet cpus; /* empty = inherit */
        CpuSet mems; /* empty = inherit */
        uint64_t memory_max;
        uint64_t memory_high;
        uint64_t memory_low;
        uint64_t memory_min;
        uint64_t swap_max; /* 0 = swap off */
        uint64_t pids_max;
        uint64_t cpu_weight;  /* 0 = leave */
        uint64_t cpu_max_pct; /* 0 = leave */
        /* The job uses GPUs: the none backend must not turn memory_max into RLIMIT_AS
         * (CUDA reserves far more address space than it uses; cuInit fails under it). */
        bool no_address_space_limit;
} CgLimits;
void cg_limits_init(CgLimits *l); /* everything unlimited/inherited, swap 0 */

/* What the kernel actually shows after writing (read back), for "applied". */
typedef struct CgApplied {
        CpuSet cpus, mems;
        uint64_t memory_max, memory_high, memory_low, swap_max, pids_max, cpu_weight;
        bool memory_enforced; /* false on the none backend */
        bool swap_enforced;   /* v1 without memsw cannot turn swap off per group */
} CgApplied;

typedef struct CgStats {
        uint64_t cpu_user_usec, cpu_system_usec, cpu_usage_usec;
        uint64_t memory_current, memory_peak; /* bytes; peak = 0 when unknown */
        uint64_t swap_current;
        uint64_t events_low, events_high, events_max, events_oom, events_oom_kill;
        uint64_t pids_current, pids_events_max; /* fork refusals */
        /* PSI "total=" counters in usec; has_psi false where unavailable. */
        bool has_psi;
        uint64_t psi_cpu_some_usec, psi_mem_some_usec, psi_mem_full_usec, psi_io_some_usec, psi_io_full_usec;
        uint64_t nr_throttled, throttled_usec;
} CgStats;

typedef struct CgroupManager CgroupManager;
typedef struct Cgroup Cgroup;

typedef struct CgroupManagerOptions {
        BackendKind backend; /* BACKEND_AUTO: detect */
        const char *fs_root; /* NULL = "/"; a captured tree for tests */
        const char *run_id;  /* the corun/<run-id> level */
        const char *slice;   /* systemd hosts: the slice of corun's scope (NULL: the default) */
} CgroupManagerOptions;

/* Detects the backend, locates the runner's own cgroup in each hierarchy (from
 * /proc/self/cgroup) and creates corun/<run-id> below it (journalled first).
 * ret_why (optional) gets a malloc'ed sentence explaining the choice. */
int cg_manager_new(const CgroupManagerOptions *o, Journal *j, CgroupManager **ret, char **ret_why);
/* Kills and removes everything below corun/<run-id>, then the run group, and corun/
 * when it is empty. Destroy every Cgroup first: they point into the manager. */
CgroupManager *cg_manager_free(CgroupManager *m);
BackendKind cg_manager_backend(const CgroupManager *m);
/* 1 when corun asks systemd for a scope of its own (cgroup-systemd.c): cgroup2 only,
 * systemd is PID 1, and the runner sits in a systemd unit that is not delegated (a
 * login session, a plain service). 0 in containers, Slurm steps, delegated scopes,
 * busybox VMs. */
int cg_systemd_scope_wanted(char **ret_why);
/* What `corun run` will get from systemd here (corun doctor). */
typedef struct CgSystemd {
        bool systemd;              /* PID 1 is systemd */
        bool wanted;               /* corun run asks it for a scope (cg_systemd_scope_wanted) */
        bool user;                 /* from the user manager (not root) */
        bool reachable;            /* the manager's bus answers */
        bool memory;               /* the scope will have the memory controller */
        char *why;                 /* why a scope is wanted or not ("<own> is systemd's, ...") */
        char *unreachable;         /* !reachable: why */
        char *available, *missing; /* wanted: the controllers the scope will have / lack */
} CgSystemd;
/* 1 when a scope is wanted (the fields after wanted filled), 0 when not. */
int cg_systemd_probe(CgSystemd *ret);
void cg_systemd_done(CgSystemd *s);
/* The systemd drop-in that makes user managers delegate every controller corun uses. */
#define CG_SYSTEMD_USER_DROPIN                                                                              \
        "/etc/systemd/system/user@.service.d/delegate.conf with \"[Service]\" and "                         \
        "\"Delegate=cpu cpuset io memory pids\", then systemctl daemon-reload and a new login"
/* One warning for the user about the partitions (a user manager that does not delegate
 * cpuset: affinity instead), or NULL. */
const char *cg_manager_warning(const CgroupManager *m);
/* The systemd scope the manager asked for (corun-<run-id>.scope), or NULL. */
const char *cg_manager_scope(const CgroupManager *m);
/* CPUs and memory nodes the runner may use (its cpuset / affinity). */
int cg_manager_allowed(const CgroupManager *m, CpuSet *ret_cpus, CpuSet *ret_mems);
/* Total memory limit the runner lives under (LIMIT_MAX if none) — for admission. */
uint64_t cg_manager_memory_limit(const CgroupManager *m);
bool cg_manager_has_psi(const CgroupManager *m);

/* Creates a group at `relpath` ("scenario" or "scenario/job") below the run group,
 * journalling each directory first, and applies limits. Parent groups must exist. */
int cg_create(CgroupManager *m, const char *relpath, const CgLimits *l, Cgroup **ret);
int cg_apply(Cgroup *g, const CgLimits *l, CgApplied *ret_applied);
/* For clone3(CLONE_INTO_CGROUP): an O_PATH/O_DIRECTORY fd of the group in a cgroup2
 * hierarchy, or -EOPNOTSUPP. Borrowed. */
int cg_clone_fd(const Cgroup *g);
/* Called in the forked child before exec (async-signal-safe: only write(2) on fds
 * opened by cg_prepare_attach). Moves the calling process into every hierarchy the
 * clone3 did not cover, and for the none backend applies affinity and rlimits. */
typedef struct CgAttach {
        int fds[8];
        size_t n_fds;
        bool set_affinity;
        CpuSet cpus;
        uint64_t rlimit_as, rlimit_nproc;
} CgAttach;
int cg_prepare_attach(const Cgroup *g, bool cloned_into, CgAttach *ret);
int cg_attach_self(const CgAttach *a); /* async-signal-safe */
void cg_attach_done(CgAttach *a);      /* closes fds in the parent */
int cg_attach_pid(Cgroup *g, pid_t pid);

int cg_read_stats(Cgroup *g, CgStats *ret);
/* All pids in the group (and its children). *ret malloc'ed. */
int cg_pids(Cgroup *g, pid_t **ret, size_t *ret_n);
int cg_is_populated(Cgroup *g); /* 1, 0, or negative errno */
/* The same from the group's cgroup2 directory alone where it has one (one file instead
 * of one per hierarchy): a process that moved itself out of the cgroup2 group but stays
 * in a v1 one is missed here, and found by cg_destroy (whose rmdir the kernel refuses). */
int cg_is_populated_fast(Cgroup *g);
/* SIGKILL everything in the group and wait (bounded) until it is empty. */
int cg_kill(Cgroup *g);
/* Sends sig to every process in the group (for the graceful stop signal). */
int cg_signal(Cgroup *g, int sig);
int cg_freeze(Cgroup *g, bool frozen);
/* Removes the group (must be empty; kills first if not). Frees g, also on error (the
 * journal still lists what could not be removed). */
int cg_destroy(Cgroup *g);
const char *cg_path(const Cgroup *g); /* "corun/<run-id>/<relpath>" for messages */

/* ---- what `corun doctor` reports (cgroup-probe.c) ---- */
/* The backend `--backend auto` would choose here and what it would find, learnt
 * without creating or changing anything. Tri-state features: 1 yes, 0 no, -1 unknown
 * (nothing to look at without creating a group, and the kernel version says nothing). */
typedef struct CgProbe {
        BackendKind mounted;  /* /sys/fs/cgroup: V2 (cgroup2), V1 (v1 hierarchies), NONE */
        BackendKind backend;  /* what auto chooses */
        char *why;            /* why (for none: why cgroups cannot be used here) */
        char *own;            /* the runner's group (unified on v2, memory on v1); NULL unknown */
        char *available;      /* the controllers corun uses that are there, space separated */
        char *missing;        /* those that are not ("" when none) */
        bool writable;        /* groups can be made below own */
        bool at_root;         /* v2: own is the root (no-internal-processes does not apply) */
        unsigned other_procs; /* v2: processes beside the caller in own (they block controllers) */
        bool systemd;         /* PID 1 is systemd */
        bool delegated;       /* own carries systemd's delegation mark (xattr trusted/user.delegate) */
        bool unified;         /* a cgroup2 hierarchy to clone3 into (v2, or v1's unified mount) */
        bool psi;             /* pressure stall information per group */
        int memory_peak;      /* v2 memory.peak (5.19+); v1 memory.max_usage_in_bytes */
        int events_local;     /* v2 memory.events.local (5.2+) */
        int cgroup_kill;      /* cgroup.kill (5.14+) */
        int swap_per_group;   /* v2 memory.swap.max; v1 memory.memsw.* (swapaccount=1) */
} CgProbe;
/* fs_root as in CgroupManagerOptions (NULL = "/"). */
int cg_probe(const char *fs_root, CgProbe *ret);
void cg_probe_done(CgProbe *p);

/* ---- the sampler's fast path (cgroup-sample.c) ---- */
/* Opens the group's memory usage file and CPU usage file for repeated pread; either fd
 * is -1 where the backend has none (none backend). The caller closes them. */
int cg_open_sample_fds(const Cgroup *g, int *ret_mem_fd, int *ret_cpu_fd);
/* memory.current (v1: memory.usage_in_bytes) from the fd; also raises g's sampled peak. */
int cg_sample_read_memory(Cgroup *g, int fd, uint64_t *ret_bytes);
int cg_sample_read_cpu(int fd, uint64_t *ret_usec);

/* What the priority protector watches of a job: its memory stall (PSI "some" total, in
 * the cgroup2 group, where PSI is on) and a count that rises when it hits its memory
 * marks (v2 memory.events high + max; v1 memory.failcnt). */
typedef struct CgPressure {
        bool has_stall;
        uint64_t stall_usec;
        uint64_t count;
} CgPressure;
int cg_read_memory_pressure(const Cgroup *g, CgPressure *ret);
/* v1 without PSI: an eventfd the kernel signals at each memory pressure notification of
 * `level` ("low", "medium" or "critical") for the group (memory.pressure_level through
 * cgroup.event_control). -EOPNOTSUPP on cgroup2. The caller owns and closes the fd. */
int cg_open_pressure_eventfd(const Cgroup *g, const char *level, int *ret_fd);
