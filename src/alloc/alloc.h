/* SPDX-License-Identifier: MIT */
#pragma once

/* Core / NUMA allocation: pure functions over a Topology. No system calls. The pool
 * is the CorePool idea made topology-aware: take() hands out a core set that fits the
 * request, release() gives it back; admit() is the queue rule `run` and `plan` share. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "topo/topo.h"
#include "util/macros.h"

typedef struct AllocOptions {
        unsigned reserve_cores; /* whole cores kept for the system (taken from the end) */
        NumaMode numa;
        uint64_t memory_available; /* bytes jobs may commit in total; UINT64_MAX = no check */
        /* GPUs (docs/gpu.md): n_gpus of them, position i in PCI order (GpuHost.devices), on
         * NUMA node gpu_numa[i] (-1 unknown; NULL: all unknown). At most ALLOC_GPUS_MAX. */
        unsigned n_gpus;
        const int *gpu_numa;
} AllocOptions;

#define ALLOC_GPUS_MAX 64

typedef struct AllocRequest {
        const char *job;       /* name, for messages */
        CpuRequest cpus;       /* CPUS_UNSET is treated as 1 core */
        uint64_t memory_bytes; /* committed while running; UINT64_MAX/0 = not admitted */
        unsigned gpu_count;    /* GPUs wanted (0: none); with gpu_mask, its bit count */
        uint64_t gpu_mask;     /* exactly these GPU positions (0: the pool picks gpu_count) */
        bool gpu_shared;       /* other shared jobs may use the same GPUs */
        uint32_t gpu_share_ppm; /* its share of each GPU (10^6 = 100 %), 0: none; the shares on one
                                 * GPU never add up to more than 100 % (a job waits instead) */
} AllocRequest;

/* The request for a planned job: its CPU request (CPUS_UNSET = 1 whole core), its
 * memory limit as the memory it commits, and its GPU count (a GPU list is resolved by
 * the caller into gpu_mask: gpu_request_resolve). The one mapping `run` and `plan` share. */
void alloc_request_init(AllocRequest *ret, const char *job, const Limits *l);

typedef struct Assignment {
        CpuSet cpus;
        CpuSet mems;    /* NUMA node os indexes */
        bool exclusive; /* false for shared/all */
        uint64_t gpus;  /* GPU positions (bit i: GpuHost.devices[i]); 0: none */
        bool gpus_shared;
        uint32_t gpu_share_ppm; /* as requested: what alloc_release gives back */
        uint64_t memory_bytes;
        char *note; /* e.g. "fastest cores (P) preferred", may be NULL; malloc'ed */
} Assignment;
void assignment_done(Assignment *a);

typedef struct CorePool CorePool;

/* The pool borrows `t`: it must outlive the pool. o == NULL: no reserve, NUMA_LOCAL, no
 * memory admission. Reserving every core is allowed; every take then explains why. */
int alloc_pool_new(const Topology *t, const AllocOptions *o, CorePool **ret);
CorePool *alloc_pool_free(CorePool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(CorePool *, alloc_pool_free);
/* The CPUs jobs may use (allowed minus reserved). */
const CpuSet *alloc_pool_usable(const CorePool *p);

/* 0 and *ret on success; -EAGAIN when it would fit later (cores/memory busy); -ENOSPC when
 * it can never fit (more cores or memory than the pool has), -EINVAL when it is invalid
 * (0 cores, CPUs outside the usable set). *ret_error (when given) says why and what would fit
 * ("job 'big' asks for 8 cores but only 2 are usable (0-1, 0 reserved); at most 2 would
 * fit"), also for -EAGAIN. Deterministic: the same pool state and request give the same
 * assignment. The policy is described in docs/allocation.md. */
int alloc_take(CorePool *p, const AllocRequest *req, Assignment *ret, char **ret_error);
/* Checks feasibility on an empty pool without taking anything. */
int alloc_check(const CorePool *p, const AllocRequest *req, char **ret_error);
void alloc_release(CorePool *p, const Assignment *a);
/* Whole usable cores with no CPU held by any job (exclusive or shared) right now: what the
 * exec queue compares with the head job's size so that large jobs are not starved. */
unsigned alloc_pool_free_cores(const CorePool *p);
/* Whole cores jobs may use (usable, i.e. allowed minus reserved) and cores reserved. */
unsigned alloc_pool_usable_cores(const CorePool *p);
unsigned alloc_pool_reserved_cores(const CorePool *p);
/* Pure. Could every request with a GPU share (gpu_share_ppm > 0) hold its GPUs at once,
 * the shares on each of n_gpus GPUs adding up to at most 100 %? Returns 1 when they fit,
 * 0 with *ret_bad the index of the first request that does not (and *ret_room the most
 * share any GPU it could use had left), negative errno. What `run` and `plan` refuse
 * before anything starts (issue 16: shares over 100 % on one GPU are an error, not a
 * queue). */
int alloc_gpu_shares_fit(const AllocRequest *reqs, size_t n, unsigned n_gpus, size_t *ret_bad,
                         uint32_t *ret_room);
/* GPUs no job holds right now (exclusive or shared). */
unsigned alloc_pool_free_gpus(const CorePool *p);
/* Could the request's GPUs be taken now (true when it asks for none)? */
bool alloc_gpus_available(const CorePool *p, const AllocRequest *req);
/* Bytes committed by running jobs (sum of Assignment.memory_bytes). */
uint64_t alloc_pool_memory_committed(const CorePool *p);

/* The queue rule, one for `corun run` and `corun plan` (docs/allocation.md). Goes through
 * the waiting jobs (waiting[i]) in submission order and admits each one that fits now,
 * taking its assignment from the pool: waiting[i] becomes false and ret[i] holds the
 * assignment. Once a waiting job does not fit (-EAGAIN from alloc_take), later jobs may
 * only use whole cores beyond those the waiting jobs ahead of them need (a shared or
 * all-CPU request needs none), so a large job is never starved by a stream of small ones.
 * Returns how many jobs it admitted; a negative errno when a request is invalid or can
 * never fit (*ret_failed is its index, *ret_error why; the jobs admitted before it stay
 * admitted). Pure and deterministic, like alloc_take. */
int alloc_admit(CorePool *p, const AllocRequest *reqs, bool *waiting, size_t n, Assignment *ret, size_t *ret_failed,
                char **ret_error);
