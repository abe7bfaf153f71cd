/* SPDX-License-Identifier: MIT */
#pragma once

/* A plain, read-only topology: built from hwloc (the real machine, a synthetic
 * description, or an XML export), restricted to the CPUs the runner may use. */

#include <stddef.h>
#include <stdint.h>

#include "util/cpuset.h"

typedef struct TopoPU {
        unsigned os_index;  /* logical CPU id as the kernel numbers it */
        unsigned core;      /* index into Topology.cores */
        int l2, l3;         /* group indexes, -1 when the machine has none */
        unsigned numa;      /* index into Topology.numa_nodes */
        unsigned package;
        uint64_t max_khz;   /* 0 when unknown */
} TopoPU;

typedef struct TopoCore {
        unsigned index;
        unsigned os_index;  /* hwloc's core os_index, for display */
        CpuSet pus;         /* its logical CPUs (SMT siblings), restricted to allowed */
        int l2, l3;
        unsigned numa, package;
        uint64_t max_khz;
        unsigned kind;      /* 0 = fastest class (P), higher = slower (E) */
} TopoCore;

typedef struct TopoGroup {
        CpuSet pus;
        unsigned os_index;  /* for NUMA nodes: the node number used in cpuset.mems */
} TopoGroup;

typedef struct Topology {
        TopoPU *pus;
        size_t n_pus;
        TopoCore *cores;
        size_t n_cores;
        TopoGroup *l2, *l3, *numa_nodes, *packages;
        size_t n_l2, n_l3, n_numa, n_packages;
        CpuSet allowed;     /* all PUs above */
        uint64_t memory_bytes;
        char *description;  /* "1 package, 2 cores, 2 PUs, 1 NUMA node" */
        char *source;       /* "this machine", "synthetic: ...", "xml: path" */
} Topology;

/* The real machine, restricted to `allowed` (empty = this process's affinity). */
int topo_load_host(const CpuSet *allowed, Topology **ret, char **ret_error);
/* A hwloc synthetic string ("pack:2 numa:2 l3:2 core:8 pu:2") or an XML file path. */
int topo_load_synthetic(const char *desc, Topology **ret, char **ret_error);
int topo_load_xml(const char *path, Topology **ret, char **ret_error);
/* --topology argument: XML if it names an existing file ending in .xml, else synthetic. */
int topo_load_arg(const char *arg, Topology **ret, char **ret_error);
/* Returns a copy restricted to `allowed` (holes allowed). */
int topo_restrict(const Topology *t, const CpuSet *allowed, Topology **ret);
Topology *topo_free(Topology *t);
