/* SPDX-License-Identifier: MIT */
/* The per-boot topology cache: what is written is read back whole, and a cache of another
 * boot or CPU set, or a damaged one, is never used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-test.h"
#include "util/fileio.h"

static const TopoPUDesc pus[] = {
        {.os_index = 0, .core = 0, .core_os_index = 0, .l2 = 0, .l3 = 0, .numa = 0,
         .numa_memory_bytes = UINT64_C(1) << 34, .package = 0, .max_khz = 5000000, .perf_rank = 1},
        {.os_index = 8, .core = 0, .core_os_index = 0, .l2 = 0, .l3 = 0, .numa = 0,
         .numa_memory_bytes = UINT64_C(1) << 34, .package = 0, .max_khz = 5000000, .perf_rank = 1},
        {.os_index = 1, .core = -1, .core_os_index = 7, .l2 = -1, .l3 = 3, .numa = 1,
         .numa_memory_bytes = 0, .package = -1, .max_khz = 0, .perf_rank = -1},
};

static void test_round_trip(void **state) {
        (void)state;
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ TopoPUDesc *d = NULL;
        size_t n = 0;
        assert_int_equal(topo_cache_format(pus, ELEMENTSOF(pus), "boot b1 online 0-15", &text), 0);
        assert_int_equal(topo_cache_parse(text, "boot b1 online 0-15", &d, &n), 0);
        assert_int_equal(n, ELEMENTSOF(pus));
        assert_memory_equal(d, pus, sizeof pus);
}

static void test_stale_or_damaged(void **state) {
        (void)state;
        _cleanup_free_ char *text = NULL;
        TopoPUDesc *d = NULL;
        size_t n = 0;
        assert_int_equal(topo_cache_format(pus, ELEMENTSOF(pus), "boot b1 online 0-15", &text), 0);
        /* Another boot, a CPU gone offline, a key that is a prefix of the real one. */
        assert_int_equal(topo_cache_parse(text, "boot b2 online 0-15", &d, &n), -ESTALE);
        assert_int_equal(topo_cache_parse(text, "boot b1 online 0-14", &d, &n), -ESTALE);
        assert_int_equal(topo_cache_parse(text, "boot b1 online 0-1", &d, &n), -ESTALE);
        assert_int_equal(topo_cache_parse("", "k", &d, &n), -ESTALE);
        /* Cut short in a line, a field too many, no PU at all. */
        text[strlen(text) - 4] = '\0';
        assert_int_equal(topo_cache_parse(text, "boot b1 online 0-15", &d, &n), -EBADMSG);
        assert_int_equal(topo_cache_parse("corun-topology 1\nk\n0 0 0 0 0 0 0 0 0 0 9\n", "k", &d, &n),
                         -EBADMSG);
        assert_int_equal(topo_cache_parse("corun-topology 1\nk\n", "k", &d, &n), -EBADMSG);
        assert_int_equal(topo_cache_parse("corun-topology 1\nk\n5000 0 0 0 0 0 0 0 0 0\n", "k", &d, &n),
                         -EBADMSG);
        assert_null(d);
}

static void test_file(void **state) {
        (void)state;
        char dir[] = "/tmp/corun-topo-cache.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *sub = NULL;
        assert_true(asprintf(&sub, "%s/run/corun", dir) > 0);
        TopoPUDesc *d = NULL;
        size_t n = 0;
        assert_int_equal(topo_cache_read(sub, "k", &d, &n), -ENOENT);
        assert_int_equal(topo_cache_write(sub, "k", pus, ELEMENTSOF(pus)), 0);
        assert_int_equal(topo_cache_read(sub, "k", &d, &n), 0);
        assert_int_equal(n, ELEMENTSOF(pus));
        free(d);
        d = NULL;
        assert_int_equal(topo_cache_read(sub, "other", &d, &n), -ESTALE);
        /* The built topology is the same as from a fresh list. */
        _cleanup_free_ char *key = NULL;
        assert_int_equal(topo_cache_key(&key), 0);
        assert_non_null(strstr(key, " online "));
        assert_int_equal(rm_rf(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_stale_or_damaged),
                cmocka_unit_test(test_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
