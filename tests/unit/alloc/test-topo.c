/* SPDX-License-Identifier: MIT */
#include <hwloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc-test.h"

static void test_small(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:2 pu:1");
        assert_int_equal(t->n_pus, 2);
        assert_int_equal(t->n_cores, 2);
        assert_int_equal(t->n_packages, 1);
        assert_int_equal(t->n_numa, 1);
        assert_int_equal(t->n_l3, 0);
        assert_int_equal(t->n_kinds, 1);
        assert_string_equal(t->description, "1 package, 2 cores, 2 PUs, 1 NUMA node");
        assert_string_equal(t->source, "synthetic: pack:1 core:2 pu:1");
        assert_set(t->allowed, "0-1");
        /* hwloc gives synthetic NUMA nodes 1 GiB */
        assert_true(t->memory_bytes == UINT64_C(1) << 30);
        assert_int_equal(t->pus[1].core, 1);
        assert_int_equal(t->pus[1].l3, -1);
        assert_int_equal(t->pus[1].max_khz, 0);
}

static void test_smt_two_sockets(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:2 core:4 pu:2");
        assert_int_equal(t->n_pus, 16);
        assert_int_equal(t->n_cores, 8);
        assert_int_equal(t->n_packages, 2);
        assert_set(t->cores[1].pus, "2-3");
        assert_set(t->packages[1].pus, "8-15");
        assert_int_equal(t->cores[4].package, 1);
        assert_int_equal(t->cores[3].package, 0);
        assert_int_equal(t->pus[9].core, 4);
        assert_string_equal(t->description, "2 packages, 8 cores, 16 PUs, 1 NUMA node");
}

static void test_numa_l3(void **state) {
        _cleanup_topo_ Topology *t = load_synth("numa:4 l3:2 core:4 pu:2");
        assert_int_equal(t->n_numa, 4);
        assert_int_equal(t->n_l3, 8);
        assert_int_equal(t->n_cores, 32);
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(t->numa_nodes[i].os_index, i);
        assert_set(t->numa_nodes[1].pus, "16-31");
        assert_set(t->l3[3].pus, "24-31");
        assert_int_equal(t->pus[16].numa, 1);
        assert_int_equal(t->pus[16].l3, 2);
        assert_int_equal(t->cores[5].l3, 1);
        assert_int_equal(t->cores[5].numa, 0);
        assert_true(t->memory_bytes == UINT64_C(4) << 30);

        CpuSet mems, cores;
        CpuSet cpus = set_of("15-16,63");
        topo_mems_of(t, &cpus, &mems);
        assert_set(mems, "0-1,3");
        topo_all_mems(t, &mems);
        assert_set(mems, "0-3");
        topo_cores_of(t, &cpus, &cores);
        assert_set(cores, "7-8,31");
        assert_int_equal(topo_pu_index(t, 63), 63);
        assert_int_equal(topo_pu_index(t, 64), -1);
}

static void test_restrict_holes(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:2 core:4 pu:2");
        _cleanup_topo_ Topology *r = NULL;
        CpuSet allowed = set_of("0-2,5,8-15,40");
        assert_int_equal(topo_restrict(t, &allowed, &r), 0);
        assert_int_equal(r->n_pus, 12);
        assert_int_equal(r->n_cores, 7);
        assert_set(r->allowed, "0-2,5,8-15");
        assert_set(r->cores[0].pus, "0-1");
        assert_set(r->cores[1].pus, "2");
        assert_set(r->cores[2].pus, "5");
        assert_set(r->cores[3].pus, "8-9");
        /* hwloc's core number stays for display */
        assert_int_equal(r->cores[2].os_index, t->cores[2].os_index);
        assert_set(r->packages[0].pus, "0-2,5");
        assert_int_equal(r->n_packages, 2);
        assert_string_equal(r->source, "synthetic: pack:2 core:4 pu:2, restricted to 0-2,5,8-15,40");

        /* the second package only: groups are renumbered, their identity kept */
        _cleanup_topo_ Topology *r2 = NULL;
        allowed = set_of("8-15");
        assert_int_equal(topo_restrict(t, &allowed, &r2), 0);
        assert_int_equal(r2->n_packages, 1);
        assert_int_equal(r2->packages[0].os_index, t->packages[1].os_index);
        assert_int_equal(r2->cores[0].package, 0);

        Topology *none = NULL;
        allowed = set_of("100-200");
        assert_int_equal(topo_restrict(t, &allowed, &none), -EINVAL);
        assert_null(none);
}

static void test_kinds_from_suffix(void **state) {
        _cleanup_topo_ Topology *t = load_synth("pack:1 core:6 pu:1; mhz 0-1=3000 2-5=5000");
        assert_int_equal(t->n_kinds, 2);
        assert_int_equal(t->cores[0].kind, 1);
        assert_int_equal(t->cores[2].kind, 0);
        assert_true(t->cores[2].max_khz == 5000000);
        assert_true(t->pus[0].max_khz == 3000000);
        assert_string_equal(t->description, "1 package, 6 cores, 6 PUs, 1 NUMA node, 2 core kinds");

        /* favoured cores a few percent faster are not a kind of their own */
        CpuSet fav = set_of("2");
        topo_set_core_khz(t, &fav, 5200000);
        assert_int_equal(t->n_kinds, 2);
        assert_int_equal(t->cores[2].kind, 0);
        assert_int_equal(t->cores[3].kind, 0);
        assert_int_equal(t->cores[1].kind, 1);

        /* three kinds */
        CpuSet slowest = set_of("0");
        topo_set_core_khz(t, &slowest, 1000000);
        assert_int_equal(t->n_kinds, 3);
        assert_int_equal(t->cores[0].kind, 2);
        assert_int_equal(t->cores[1].kind, 1);

        /* a restricted copy keeps frequencies and kinds */
        _cleanup_topo_ Topology *r = NULL;
        CpuSet allowed = set_of("1-3");
        assert_int_equal(topo_restrict(t, &allowed, &r), 0);
        assert_int_equal(r->n_kinds, 2);
        assert_int_equal(r->cores[0].kind, 1);
        assert_int_equal(r->cores[1].kind, 0);
        assert_true(r->cores[1].max_khz == 5200000);
}

static void test_kinds_from_rank(void **state) {
        /* A hybrid machine hwloc ranks without frequencies: 2 P cores with 2 PUs, 4 E cores
         * sharing an L2, built by hand. */
        TopoPUDesc d[8];
        for (unsigned i = 0; i < 8; i++)
                d[i] = (TopoPUDesc){.os_index = i,
                                    .core = i < 4 ? i / 2 : i - 2,
                                    .core_os_index = i,
                                    .l2 = i < 4 ? (long)(i / 2) : 9,
                                    .l3 = 0,
                                    .numa = 0,
                                    .package = 0,
                                    .perf_rank = i < 4 ? 1 : 0};
        _cleanup_topo_ Topology *t = NULL;
        assert_int_equal(topo_build(d, 8, NULL, "hand", &t), 0);
        assert_int_equal(t->n_cores, 6);
        assert_int_equal(t->n_kinds, 2);
        assert_int_equal(t->cores[0].kind, 0);
        assert_int_equal(t->cores[1].kind, 0);
        assert_int_equal(t->cores[2].kind, 1);
        assert_int_equal(t->n_l2, 3);
        assert_set(t->l2[2].pus, "4-7");
        assert_set(t->cores[1].pus, "2-3");

        _cleanup_topo_ Topology *r = NULL;
        CpuSet allowed = set_of("2,4-5");
        assert_int_equal(topo_restrict(t, &allowed, &r), 0);
        assert_int_equal(r->n_kinds, 2);
        assert_int_equal(r->cores[0].kind, 0);
        assert_int_equal(r->cores[1].kind, 1);

        /* the same CPU twice is an error, as is a CPU beyond CPUSET_MAX */
        Topology *bad = NULL;
        d[1].os_index = 0;
        assert_int_equal(topo_build(d, 8, NULL, "hand", &bad), -EINVAL);
        d[1].os_index = CPUSET_MAX;
        assert_int_equal(topo_build(d, 8, NULL, "hand", &bad), -ERANGE);
        assert_null(bad);
}

/* An XML export carrying CPU kinds with frequencies, as lstopo writes on a hybrid laptop. */
static void test_xml_cpukinds(void **state) {
        hwloc_topology_t h;
        assert_int_equal(hwloc_topology_init(&h), 0);
        assert_int_equal(hwloc_topology_set_synthetic(h, "pack:1 l3:1 core:4 pu:2"), 0);
        assert_int_equal(hwloc_topology_load(h), 0);
        hwloc_bitmap_t fast = hwloc_bitmap_alloc(), slow = hwloc_bitmap_alloc();
        hwloc_bitmap_set_range(fast, 0, 3);
        hwloc_bitmap_set_range(slow, 4, 7);
        struct hwloc_info_s fi = {(char *)"FrequencyMaxMHz", (char *)"4800"};
        struct hwloc_info_s si = {(char *)"FrequencyMaxMHz", (char *)"3600"};
        assert_int_equal(hwloc_cpukinds_register(h, slow, 0, 1, &si, 0), 0);
        assert_int_equal(hwloc_cpukinds_register(h, fast, 1, 1, &fi, 0), 0);
        char path[] = "/tmp/corun-topo-XXXXXX.xml";
        int fd = mkstemps(path, 4);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(hwloc_topology_export_xml(h, path, 0), 0);
        hwloc_bitmap_free(fast);
        hwloc_bitmap_free(slow);
        hwloc_topology_destroy(h);

        Topology *t = NULL;
        char *err = NULL;
        int r = topo_load_arg(path, &t, &err);
        unlink(path);
        assert_int_equal(r, 0);
        assert_int_equal(t->n_cores, 4);
        assert_int_equal(t->n_kinds, 2);
        assert_int_equal(t->cores[0].kind, 0);
        assert_int_equal(t->cores[3].kind, 1);
        assert_true(t->cores[0].max_khz == 4800000);
        assert_true(t->pus[7].max_khz == 3600000);
        assert_true(strncmp(t->source, "xml: ", 5) == 0);
        topo_free(t);
}

static void test_load_errors(void **state) {
        static const struct {
                const char *arg;
                int code;
                const char *message;
        } cases[] = {
                {"pack:two", -EINVAL,
                 "'pack:two' is not a valid hwloc synthetic topology (e.g. \"pack:2 numa:2 l3:2 core:8 "
                 "pu:2\")"},
                {"/nonexistent/machine.xml", -ENOENT,
                 "topology file '/nonexistent/machine.xml': No such file or directory"},
                {"core:2 pu:1; ghz 0=1", -EINVAL, "topology suffix 'ghz 0=1': expected 'mhz CPUS=MHZ ...'"},
                {"core:2 pu:1; mhz 0-1=fast", -EINVAL, "topology suffix: 'fast' is not a frequency in MHz"},
                {"core:2 pu:1; mhz 0-1", -EINVAL, "topology suffix: '0-1' is not CPUS=MHZ"},
                {"core:2 pu:1; mhz x=100", -EINVAL, "topology suffix: 'x' is not a CPU list"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Topology *t = NULL;
                char *err = NULL;
                assert_int_equal(topo_load_arg(cases[i].arg, &t, &err), cases[i].code);
                assert_string_equal(err, cases[i].message);
                assert_null(t);
                free(err);
        }
}

static void test_host(void **state) {
        cpu_set_t cs;
        assert_int_equal(sched_getaffinity(0, sizeof(cs), &cs), 0);
        Topology *t = NULL;
        char *err = NULL;
        assert_int_equal(topo_load_host(NULL, &t, &err), 0);
        assert_int_equal(t->n_pus, (size_t)CPU_COUNT(&cs));
        CPUSET_FOREACH(c, &t->allowed)
        assert_true(CPU_ISSET(c, &cs));
        assert_string_equal(t->source, "this machine");
        assert_true(t->n_cores >= 1 && t->n_numa >= 1 && t->memory_bytes > 0);
        unsigned first = (unsigned)cpuset_first(&t->allowed);
        topo_free(t);

        /* an explicit allowed set, as inside a Slurm step */
        CpuSet one = {0};
        cpuset_add(&one, first);
        assert_int_equal(topo_load_host(&one, &t, &err), 0);
        assert_int_equal(t->n_pus, 1);
        assert_int_equal(t->n_cores, 1);
        topo_free(t);

        CpuSet nothing = set_of("1023");
        assert_int_equal(topo_load_host(&nothing, &t, &err), -EINVAL);
        assert_string_equal(err, "this machine: none of the allowed CPUs (1023) exist in the topology");
        free(err);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_small),
                cmocka_unit_test(test_smt_two_sockets),
                cmocka_unit_test(test_numa_l3),
                cmocka_unit_test(test_restrict_holes),
                cmocka_unit_test(test_kinds_from_suffix),
                cmocka_unit_test(test_kinds_from_rank),
                cmocka_unit_test(test_xml_cpukinds),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
