/* SPDX-License-Identifier: MIT */
/* hwloc -> TopoPUDesc list -> topo_build(). hwloc is only used here: the rest of corun sees
 * plain data. */
#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo/topo.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/macros.h"
#include "util/parse.h"

static void hwloc_topology_destroyp(hwloc_topology_t *t) {
        if (*t)
                hwloc_topology_destroy(*t);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(hwloc_bitmap_t, hwloc_bitmap_free);

/* cpufreq's cpuinfo_max_freq (kHz), for hosts where hwloc's cpukinds carry no frequency.
 * Read relative to a directory fd so a captured tree can stand in for /sys. */
static uint64_t sysfs_max_khz(int cpu_dirfd, unsigned cpu) {
        char path[64], buf[32];
        snprintf(path, sizeof(path), "cpu%u/cpufreq/cpuinfo_max_freq", cpu);
        _cleanup_close_ int fd = openat(cpu_dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        uint64_t khz;
        return parse_u64(buf, &khz) < 0 ? 0 : khz;
}

static long obj_key(hwloc_topology_t h, hwloc_obj_type_t type, hwloc_obj_t pu) {
        hwloc_obj_t o = hwloc_get_ancestor_obj_by_type(h, type, pu);
        return o ? (long)o->logical_index : -1;
}

/* Frequencies and ranks from hwloc's CPU kinds: "FrequencyMaxMHz" where the OS exposes it
 * (Linux cpufreq, XML exports), the efficiency rank on hybrid machines. */
static int apply_cpukinds(hwloc_topology_t h, TopoPUDesc *d, size_t n) {
        int nr = hwloc_cpukinds_get_nr(h, 0);
        _cleanup_(hwloc_bitmap_freep) hwloc_bitmap_t set = hwloc_bitmap_alloc();
        if (!set)
                return -ENOMEM;
        for (int k = 0; k < nr; k++) {
                int eff = -1;
                unsigned n_infos = 0;
                struct hwloc_info_s *infos = NULL;
                if (hwloc_cpukinds_get_info(h, (unsigned)k, set, &eff, &n_infos, &infos, 0) < 0)
                        continue;
                uint64_t mhz = 0;
                for (unsigned i = 0; i < n_infos; i++)
                        if (streq(infos[i].name, "FrequencyMaxMHz") && parse_u64(infos[i].value, &mhz) < 0)
                                mhz = 0;
                for (size_t i = 0; i < n; i++)
                        if (hwloc_bitmap_isset(set, d[i].os_index)) {
                                d[i].perf_rank = eff;
                                if (mhz > 0 && mhz < UINT64_MAX / 1000)
                                        d[i].max_khz = mhz * 1000;
                        }
        }
        return 0;
}

/* hwloc's PUs as a flat list (*ret malloc'ed), frequencies from cpufreq where hwloc has
 * none and a sysfs dir is given. */
static int collect_pus(hwloc_topology_t h, int sysfs_cpu_dirfd, const char *source, TopoPUDesc **ret,
                       size_t *ret_n, char **ret_error) {
        int n_pus = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU);
        int n_numa = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
        if (n_pus <= 0)
                return error_setf(ret_error, -EINVAL, "%s: the topology has no CPUs", source);
        _cleanup_free_ TopoPUDesc *d = calloc((size_t)n_pus, sizeof(TopoPUDesc));
        if (!d)
                return -ENOMEM;
        size_t n = 0;
        for (hwloc_obj_t pu = NULL; (pu = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PU, pu));) {
                if (pu->os_index >= CPUSET_MAX)
                        return error_setf(ret_error, -ERANGE,
                                          "%s: CPU %u is beyond the %d CPUs corun supports", source,
                                          pu->os_index, CPUSET_MAX);
                hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, pu);
                TopoPUDesc *p = &d[n++];
                *p = (TopoPUDesc){
                        .os_index = pu->os_index,
                        .core = core ? (long)core->logical_index : -1,
                        .core_os_index = core ? core->os_index : pu->os_index,
                        .l2 = obj_key(h, HWLOC_OBJ_L2CACHE, pu),
                        .l3 = obj_key(h, HWLOC_OBJ_L3CACHE, pu),
                        .package = obj_key(h, HWLOC_OBJ_PACKAGE, pu),
                        .perf_rank = -1,
                };
                /* NUMA nodes hang off the tree as memory children, so they are not ancestors.
                 * Where several nodes cover a PU (DRAM + HBM/CXL), the first one is its node. */
                for (int i = 0; i < n_numa; i++) {
                        hwloc_obj_t node = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)i);
                        if (node && hwloc_bitmap_isset(node->cpuset, pu->os_index)) {
                                p->numa = node->os_index;
                                p->numa_memory_bytes = node->attr ? node->attr->numanode.local_memory : 0;
                                break;
                        }
                }
        }
        int r = apply_cpukinds(h, d, n);
        if (r < 0)
                return r;
        if (sysfs_cpu_dirfd >= 0)
                for (size_t i = 0; i < n; i++)
                        if (d[i].max_khz == 0)
                                d[i].max_khz = sysfs_max_khz(sysfs_cpu_dirfd, d[i].os_index);
        *ret = TAKE_PTR(d);
        *ret_n = n;
        return 0;
}

static int build(const TopoPUDesc *d, size_t n, const CpuSet *allowed, const char *source, Topology **ret,
                 char **ret_error) {
        int r = topo_build(d, n, allowed, source, ret);
        if (r == -EINVAL && allowed) {
                _cleanup_free_ char *list = cpuset_to_string(allowed);
                error_setf(ret_error, r, "%s: none of the allowed CPUs (%s) exist in the topology", source,
                           list ?: "?");
        }
        return r;
}

static int from_hwloc(hwloc_topology_t h, const char *source, Topology **ret, char **ret_error) {
        _cleanup_free_ TopoPUDesc *d = NULL;
        size_t n;
        int r = collect_pus(h, -1, source, &d, &n, ret_error);
        return r < 0 ? r : build(d, n, NULL, source, ret, ret_error);
}

/* The whole machine, disallowed CPUs and nodes included (the cache serves runners in
 * any cpuset; `allowed` restricts it afterwards). */
static int discover_host(TopoPUDesc **ret, size_t *ret_n, char **ret_error) {
        _cleanup_(hwloc_topology_destroyp) hwloc_topology_t h = NULL;
        if (hwloc_topology_init(&h) < 0)
                return -ENOMEM;
        (void)hwloc_topology_set_flags(h, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
        if (hwloc_topology_load(h) < 0) {
                int r = negative_errno();
                return error_setf(ret_error, r, "cannot read this machine's topology (hwloc): %s",
                                  strerror(-r));
        }
        _cleanup_close_ int dirfd = open("/sys/devices/system/cpu", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return collect_pus(h, dirfd, "this machine", ret, ret_n, ret_error);
}

/* The cache is bypassed when hwloc is pointed elsewhere (HWLOC_XMLFILE, HWLOC_FSROOT, ...)
 * or CORUN_TOPOLOGY_CACHE=0. */
static bool cache_wanted(void) {
        const char *e = getenv("CORUN_TOPOLOGY_CACHE");
        if (e && streq(e, "0"))
                return false;
        for (char **v = environ; v && *v; v++)
                if (strneq(*v, "HWLOC_", 6))
                        return false;
        return true;
}

/* Memory nodes this process may not allocate from (a cpuset's mems) are not the nodes of
 * its jobs: their PUs are given the first allowed node, as memory will come from there. */
static void restrict_numa(TopoPUDesc *d, size_t n) {
        _cleanup_free_ char *status = NULL;
        size_t len;
        if (read_full_file("/proc/self/status", 1u << 20, &status, &len) < 0)
                return;
        const char *m = strstr(status, "\nMems_allowed_list:");
        if (!m)
                return;
        m += strlen("\nMems_allowed_list:");
        m += strspn(m, " \t");
        _cleanup_free_ char *list = strndup(m, strcspn(m, "\n"));
        CpuSet mems;
        if (!list || cpuset_parse(list, &mems, NULL) < 0 || cpuset_is_empty(&mems))
                return;
        unsigned first = (unsigned)cpuset_first(&mems);
        uint64_t first_mem = 0;
        for (size_t i = 0; i < n; i++)
                if (d[i].numa == first && !first_mem)
                        first_mem = d[i].numa_memory_bytes;
        for (size_t i = 0; i < n; i++)
                if (!cpuset_has(&mems, d[i].numa)) {
                        d[i].numa = first;
                        d[i].numa_memory_bytes = first_mem;
                }
}

int topo_load_host(const CpuSet *allowed, Topology **ret, char **ret_error) {
        CpuSet mask = {0};
        if (allowed && !cpuset_is_empty(allowed))
                mask = *allowed;
        else {
                /* The affinity mask is what Slurm steps, taskset and `docker --cpuset-cpus`
                 * leave us (always inside the cpuset's CPUs). */
                cpu_set_t cs;
                if (sched_getaffinity(0, sizeof(cs), &cs) < 0) {
                        int r = negative_errno();
                        return error_setf(ret_error, r, "cannot read this process's CPU affinity: %s",
                                          strerror(-r));
                }
                for (unsigned c = 0; c < CPU_SETSIZE && c < CPUSET_MAX; c++)
                        if (CPU_ISSET(c, &cs))
                                cpuset_add(&mask, c);
        }

        _cleanup_free_ TopoPUDesc *d = NULL;
        _cleanup_free_ char *key = NULL;
        size_t n = 0;
        int r;
        bool cache = cache_wanted() && topo_cache_key(&key) >= 0;
        if (!cache || topo_cache_read(TOPO_CACHE_DIR, key, &d, &n) < 0) {
                free(d);
                d = NULL;
                r = discover_host(&d, &n, ret_error);
                if (r < 0)
                        return r;
                /* Only root may write /run/corun (the journal's directory, 0700). */
                if (cache && geteuid() == 0)
                        (void)topo_cache_write(TOPO_CACHE_DIR, key, d, n);
        }
        restrict_numa(d, n);
        return build(d, n, &mask, "this machine", ret, ret_error);
}

/* "core:6 pu:1; mhz 0-1=5000 2-5=3000": hwloc never uses ';' in synthetic strings. */
static int apply_mhz_suffix(Topology *t, const char *suffix, char **ret_error) {
        const char *p = suffix + strspn(suffix, " \t");
        if (!strneq(p, "mhz", 3) || (p[3] != ' ' && p[3] != '\t'))
                return error_setf(ret_error, -EINVAL, "topology suffix '%s': expected 'mhz CPUS=MHZ ...'",
                                  p);
        p += 3;
        size_t n_items = 0;
        for (;;) {
                p += strspn(p, " \t");
                if (!*p)
                        break;
                size_t len = strcspn(p, " \t");
                _cleanup_free_ char *item = strndup(p, len);
                if (!item)
                        return -ENOMEM;
                char *eq = strchr(item, '=');
                CpuSet set;
                uint64_t mhz;
                if (!eq)
                        return error_setf(ret_error, -EINVAL, "topology suffix: '%s' is not CPUS=MHZ", item);
                *eq = '\0';
                if (cpuset_parse(item, &set, NULL) < 0 || cpuset_is_empty(&set))
                        return error_setf(ret_error, -EINVAL, "topology suffix: '%s' is not a CPU list",
                                          item);
                if (parse_u64(eq + 1, &mhz) < 0 || mhz == 0 || mhz > 1000000)
                        return error_setf(ret_error, -EINVAL,
                                          "topology suffix: '%s' is not a frequency in MHz", eq + 1);
                topo_set_core_khz(t, &set, mhz * 1000);
                n_items++;
                p += len;
        }
        if (n_items == 0)
                return error_setf(ret_error, -EINVAL, "topology suffix 'mhz': no CPUS=MHZ given");
        return 0;
}

int topo_load_synthetic(const char *desc, Topology **ret, char **ret_error) {
        _cleanup_free_ char *hw = strdup(desc);
        if (!hw)
                return -ENOMEM;
        char *suffix = strchr(hw, ';');
        if (suffix)
                *suffix++ = '\0';

        _cleanup_(hwloc_topology_destroyp) hwloc_topology_t h = NULL;
        if (hwloc_topology_init(&h) < 0)
                return -ENOMEM;
        if (hwloc_topology_set_synthetic(h, hw) < 0 || hwloc_topology_load(h) < 0)
                return error_setf(
                        ret_error, -EINVAL,
                        "'%s' is not a valid hwloc synthetic topology (e.g. \"pack:2 numa:2 l3:2 core:8 "
                        "pu:2\")",
                        hw);
        _cleanup_free_ char *source = NULL;
        if (asprintf(&source, "synthetic: %s", desc) < 0)
                return -ENOMEM;
        Topology *t;
        int r = from_hwloc(h, source, &t, ret_error);
        if (r < 0)
                return r;
        if (suffix) {
                r = apply_mhz_suffix(t, suffix, ret_error);
                if (r < 0) {
                        topo_free(t);
                        return r;
                }
        }
        *ret = t;
        return 0;
}

int topo_load_xml(const char *path, Topology **ret, char **ret_error) {
        _cleanup_(hwloc_topology_destroyp) hwloc_topology_t h = NULL;
        if (hwloc_topology_init(&h) < 0)
                return -ENOMEM;
        if (hwloc_topology_set_xml(h, path) < 0 || hwloc_topology_load(h) < 0) {
                int r = errno > 0 ? -errno : -EINVAL;
                return error_setf(ret_error, r, "cannot load the topology from '%s': %s", path,
                                  r == -EINVAL ? "not a hwloc XML export (lstopo file.xml)" : strerror(-r));
        }
        _cleanup_free_ char *source = NULL;
        if (asprintf(&source, "xml: %s", path) < 0)
                return -ENOMEM;
        return from_hwloc(h, source, ret, ret_error);
}

int topo_load_arg(const char *arg, Topology **ret, char **ret_error) {
        size_t len = strlen(arg);
        struct stat st;
        if (len > 4 && streq(arg + len - 4, ".xml")) {
                if (stat(arg, &st) < 0) {
                        int r = negative_errno();
                        return error_setf(ret_error, r, "topology file '%s': %s", arg, strerror(-r));
                }
                return topo_load_xml(arg, ret, ret_error);
        }
        return topo_load_synthetic(arg, ret, ret_error);
}
