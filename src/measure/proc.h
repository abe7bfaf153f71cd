/* SPDX-License-Identifier: MIT */
#pragma once

/* Readers of /proc for the samplers. Every function takes proc_fd, a directory fd of
 * the proc root (open("/proc", O_DIRECTORY|O_PATH|O_CLOEXEC) in the runner, a captured
 * tree in unit tests). They run at the sample rate for every pid of every job, so each
 * read is openat + read into a stack buffer + close: no stdio, no allocation (except
 * proc_descendants, whose result size is unknown).
 *
 * A pid that is gone (or a zombie, which has no memory map any more) gives -ESRCH, so
 * that callers can tell "vanished between listing and reading" from real errors. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/cpuset.h"

/* From smaps_rollup, in bytes. pss_anon/pss_file/pss_shmem are 0 on kernels before 5.9,
 * which do not split Pss. */
typedef struct ProcMem {
        uint64_t rss;
        uint64_t pss;
        uint64_t pss_anon;
        uint64_t pss_file;
        uint64_t pss_shmem;
        uint64_t swap;
        uint64_t swap_pss;
} ProcMem;

/* Reads /proc/<pid>/smaps_rollup. -ESRCH when the pid is gone or has no memory map,
 * -EBADMSG when Rss or Pss is missing or unparsable. */
int proc_read_smaps_rollup(int proc_fd, pid_t pid, ProcMem *ret);

/* Sums smaps_rollup over pids, skipping those that vanished. Returns the number of pids
 * that were counted (0 if all vanished; *ret_sum is then all zero), or a negative errno
 * for any other failure. */
int proc_sample_pids(int proc_fd, const pid_t *pids, size_t n, ProcMem *ret_sum);

/* Cpus_allowed_list and Mems_allowed_list of /proc/<pid>/status. Either output may be
 * NULL. */
int proc_read_status_cpus(int proc_fd, pid_t pid, CpuSet *ret_cpus, CpuSet *ret_mems);

/* Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (sysconf(_SC_CLK_TCK)).
 * Used with the pid to tell a process from a later one that reused its pid. */
int proc_read_stat_starttime(int proc_fd, pid_t pid, uint64_t *ret);

/* Voluntary and involuntary context switches of the whole process: the status file of
 * the process shows only its main thread, so this sums task/<tid>/status over the
 * threads that are alive. Switches of threads that have exited are not included (wait4's
 * rusage has them once the process is reaped). */
int proc_read_ctxsw(int proc_fd, pid_t pid, uint64_t *ret_voluntary, uint64_t *ret_involuntary);

/* All descendants of root (root itself not included), read from task/<tid>/children of
 * every thread, breadth first; each pid is listed and walked once. The result is sorted
 * ascending; *ret is malloc'ed (NULL when *n is 0). The kernel documents the children
 * lists as exact only while the tree is frozen: a process that forks or is reparented
 * during the walk can be missed. -ESRCH when root is gone, -EBADMSG when a children file
 * holds something that is not a pid (above PROC_DESCENDANTS_MAX, the kernel's
 * PID_MAX_LIMIT, included). */
#define PROC_DESCENDANTS_MAX (4 * 1024 * 1024)
int proc_descendants(int proc_fd, pid_t root, pid_t **ret, size_t *n);
