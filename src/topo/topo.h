/* SPDX-License-Identifier: MIT */
#pragma once

/* A plain, read-only topology: built from hwloc (the real machine, a synthetic
 * description, or an XML export), restricted to the CPUs the runner may use. */

#include <stddef.h>
#include <stdint.h>

#include "util/cpuset.h"
#include "util/macros.h"

typedef struct TopoPU {
        unsigned os_index; /* logical CPU id as the kernel numbers it */
        unsigned core;     /* index into Topology.cores */
        int l2, l3;        /* group indexes, -1 when the machine has none */
        unsigned numa;     /* index into Topology.numa_nodes */
        unsigned package;
        uint64_t max_khz; /* 0 when unknown */
} TopoPU;

typedef struct TopoCore {
        unsigned index;
        unsigned os_index; /* hwloc's core os_index, for display */
        CpuSet pus;        /* its logical CPUs (SMT siblings), restricted to allowed */
        int l2, l3;
        unsigned numa, package;
        uint64_t max_khz;
        unsigned kind; /* 0 = fastest class (P), higher = slower (E) */
} TopoCore;

typedef struct TopoGroup {
        CpuSet pus;
        unsigned os_index;     /* for NUMA nodes: the node number used in cpuset.mems; for caches and
                                * packages hwloc's logical index on the unrestricted machine */
        uint64_t memory_bytes; /* NUMA nodes: local memory (0 when unknown); others 0 */
} TopoGroup;

typedef struct Topology {
        TopoPU *pus;
        size_t n_pus;
        TopoCore *cores;
        size_t n_cores;
        TopoGroup *l2, *l3, *numa_nodes, *packages;
        size_t n_l2, n_l3, n_numa, n_packages;
        CpuSet allowed;        /* all PUs above */
        unsigned n_kinds;      /* core kinds (1 on a homogeneous machine; TopoCore.kind < n_kinds) */
        uint64_t memory_bytes; /* sum over the NUMA nodes above */
        char *description;     /* "1 package, 2 cores, 2 PUs, 1 NUMA node" */
        char *source;          /* "this machine", "synthetic: ...", "xml: path" */
} Topology;

/* One PU of a machine to build a Topology from (topo_build). Keys are any numbers that are
 * unique per group on the machine; they need not be dense. */
typedef struct TopoPUDesc {
        unsigned os_index;
        long core;                  /* key of its core; -1: the PU is a core of its own */
        unsigned core_os_index;     /* shown to users */
        long l2, l3;                /* cache keys, -1 = none; kept as TopoGroup.os_index */
        unsigned numa;              /* NUMA node number (cpuset.mems) */
        uint64_t numa_memory_bytes; /* that node's memory; the first PU seen of a node decides */
        long package;               /* -1 = none (one package) */
        uint64_t max_khz;           /* 0 = unknown */
        int perf_rank;              /* higher = faster core kind (hwloc's cpukind efficiency); -1 unknown */
} TopoPUDesc;

/* Builds a Topology from a flat PU list, keeping only PUs in `allowed` (NULL = all), in the
 * given order (hwloc's logical order: cores and groups are numbered by first appearance).
 * Core kinds come from perf_rank when it tells kinds apart, else from max_khz (within 10 % is
 * one kind, so "favoured" turbo cores are not a kind of their own). -EINVAL when nothing is
 * left or a PU number is >= CPUSET_MAX, -ENOMEM. */
int topo_build(const TopoPUDesc *pus, size_t n_pus, const CpuSet *allowed, const char *source,
               Topology **ret);

/* The real machine, restricted to `allowed` (empty = this process's affinity). The PU list
 * discovered by hwloc is kept per boot in TOPO_CACHE_DIR/TOPO_CACHE_FILE (written by root;
 * bypassed when CORUN_TOPOLOGY_CACHE=0 or any HWLOC_* variable is set). */
int topo_load_host(const CpuSet *allowed, Topology **ret, char **ret_error);
/* A hwloc synthetic string ("pack:2 numa:2 l3:2 core:8 pu:2"). Synthetic machines carry no
 * frequencies; corun accepts a suffix for them (tests and `plan --topology` on P/E machines):
 * "core:6 pu:1; mhz 0-1=5000 2-5=3000" — CPU list = maximum MHz, as many as needed. */
int topo_load_synthetic(const char *desc, Topology **ret, char **ret_error);
int topo_load_xml(const char *path, Topology **ret, char **ret_error);
/* --topology argument: XML if it names an existing file ending in .xml, else synthetic. */
int topo_load_arg(const char *arg, Topology **ret, char **ret_error);
/* Returns a copy restricted to `allowed` (holes allowed). */
int topo_restrict(const Topology *t, const CpuSet *allowed, Topology **ret);
Topology *topo_free(Topology *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Topology *, topo_free);

/* Test and dry-run hook: sets the maximum frequency of the PUs in `pus` (and of their cores:
 * a core's is its fastest PU's) and recomputes the core kinds from frequencies. */
void topo_set_core_khz(Topology *t, const CpuSet *pus, uint64_t khz);

/* The NUMA node numbers (os indexes, for cpuset.mems) holding any CPU of `cpus`. */
void topo_mems_of(const Topology *t, const CpuSet *cpus, CpuSet *ret_mems);
/* All NUMA node numbers of the topology. */
void topo_all_mems(const Topology *t, CpuSet *ret_mems);
/* Bitmap of the core indexes (Topology.cores[]) that have a CPU in `cpus`. */
void topo_cores_of(const Topology *t, const CpuSet *cpus, CpuSet *ret_cores);
/* The PU index in Topology.pus of a logical CPU, -1 when it is not in the topology. */
int topo_pu_index(const Topology *t, unsigned os_index);

/* The per-boot cache of the machine's PU list (topo-cache.c). The key names the boot and
 * the online CPUs; a cache with another key is stale (-ESTALE). */
#define TOPO_CACHE_DIR "/run/corun"
#define TOPO_CACHE_FILE "topology.cache"
int topo_cache_key(char **ret);
int topo_cache_format(const TopoPUDesc *d, size_t n, const char *key, char **ret);
int topo_cache_parse(const char *text, const char *key, TopoPUDesc **ret, size_t *ret_n);
int topo_cache_read(const char *dir, const char *key, TopoPUDesc **ret, size_t *ret_n);
int topo_cache_write(const char *dir, const char *key, const TopoPUDesc *d, size_t n);
