/* SPDX-License-Identifier: MIT */
#pragma once

/* Core / NUMA allocation: pure functions over a Topology. No system calls. The pool
 * is the CorePool idea made topology-aware: take() hands out a core set that fits the
 * request, release() gives it back; the queue in exec asks take() in submission order. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "topo/topo.h"

typedef struct AllocOptions {
        unsigned reserve_cores; /* whole cores kept for the system (taken from the end) */
        NumaMode numa;
        uint64_t memory_available; /* bytes jobs may commit in total; UINT64_MAX = no check */
} AllocOptions;

typedef struct AllocRequest {
        const char *job;        /* name, for messages */
        CpuRequest cpus;        /* CPUS_UNSET is treated as 1 core */
        uint64_t memory_bytes;  /* committed while running; UINT64_MAX/0 = not admitted */
} AllocRequest;

typedef struct Assignment {
        CpuSet cpus;
        CpuSet mems;            /* NUMA node os indexes */
        bool exclusive;         /* false for shared/all */
        uint64_t memory_bytes;
        char *note;             /* e.g. "fastest cores (P) preferred", may be NULL; malloc'ed */
} Assignment;
void assignment_done(Assignment *a);

typedef struct CorePool CorePool;

int alloc_pool_new(const Topology *t, const AllocOptions *o, CorePool **ret);
CorePool *alloc_pool_free(CorePool *p);
/* The CPUs jobs may use (allowed minus reserved). */
const CpuSet *alloc_pool_usable(const CorePool *p);

/* 0 and *ret on success; -EAGAIN when it would fit later (cores/memory busy);
 * -ENOSPC / -EINVAL when it can never fit, with *ret_error saying what would fit
 * ("job 'x' asks for 8 cores but only 2 are allowed (0-1)"). */
int alloc_take(CorePool *p, const AllocRequest *req, Assignment *ret, char **ret_error);
/* Checks feasibility on an empty pool without taking anything. */
int alloc_check(const CorePool *p, const AllocRequest *req, char **ret_error);
void alloc_release(CorePool *p, const Assignment *a);
/* A dry pool (everything free) – for "large job at the head reserves its cores": true
 * when the request could be satisfied once `a` is released. */
unsigned alloc_pool_free_cores(const CorePool *p);
