/* SPDX-License-Identifier: MIT */
/* CpuSet: the kernel list format both ways, and the set operations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cpuset.h"
#include "util/macros.h"

static CpuSet parse(const char *s) {
        CpuSet set;
        size_t off = 999;
        int r = cpuset_parse(s, &set, &off);
        if (r < 0)
                fail_msg("cpuset_parse(\"%s\") = %d at %zu", s, r, off);
        assert_int_equal(off, 999); /* untouched on success */
        return set;
}

static void check_round_trip(const char *in, const char *out) {
        CpuSet s = parse(in);
        char buf[256];
        int n = cpuset_format(&s, buf, sizeof buf);
        assert_string_equal(buf, out);
        assert_int_equal(n, (int)strlen(out));
}

static void test_parse_format(void **state) {
        check_round_trip("0-3,8,10-11", "0-3,8,10-11");
        check_round_trip("", "");
        check_round_trip("\n", "");
        check_round_trip(" 1 \n", "1");
        check_round_trip("3,1,2", "1-3");
        check_round_trip("0-1,1-2", "0-2");
        check_round_trip("5-5", "5");
        check_round_trip("0,2,4,6", "0,2,4,6");
        check_round_trip("1023", "1023");
        check_round_trip("0-1023", "0-1023");
        check_round_trip("62-65,127-128", "62-65,127-128");
        check_round_trip("0-3\n", "0-3");
}

static void check_parse_error(const char *s, int err, size_t offset) {
        CpuSet set, before;
        memset(&set, 0xAB, sizeof set);
        before = set;
        size_t off = 999;
        assert_int_equal(cpuset_parse(s, &set, &off), err);
        if (off != offset)
                fail_msg("cpuset_parse(\"%s\"): offset %zu, expected %zu", s, off, offset);
        assert_memory_equal(&set, &before, sizeof set); /* written only on success */
}

static void test_parse_errors(void **state) {
        check_parse_error("1024", -ERANGE, 0);
        check_parse_error("0-1024", -ERANGE, 2);
        check_parse_error("99999999999999999999", -ERANGE, 0);
        check_parse_error("3-1", -EINVAL, 0);
        check_parse_error("0,5-2", -EINVAL, 2);
        check_parse_error("0-3,", -EINVAL, 4);
        check_parse_error("a", -EINVAL, 0);
        check_parse_error("1,,2", -EINVAL, 2);
        check_parse_error("1 2", -EINVAL, 2);
        check_parse_error("1-", -EINVAL, 2);
        check_parse_error("-1", -EINVAL, 0);
        check_parse_error("1;2", -EINVAL, 1);
        /* The offset is optional. */
        CpuSet s;
        assert_int_equal(cpuset_parse("x", &s, NULL), -EINVAL);
}

static void test_format_truncated(void **state) {
        CpuSet s = parse("0-3,8,10-11");
        char buf[6];
        /* snprintf-like: the full length back, whole items only in the buffer. */
        assert_int_equal(cpuset_format(&s, buf, sizeof buf), 11);
        assert_string_equal(buf, "0-3,8");
        char one[1] = {'x'};
        assert_int_equal(cpuset_format(&s, one, 1), 11);
        assert_string_equal(one, "");
        assert_int_equal(cpuset_format(&s, NULL, 0), 11);

        char *str = cpuset_to_string(&s);
        assert_string_equal(str, "0-3,8,10-11");
        free(str);
        CpuSet empty = {0};
        str = cpuset_to_string(&empty);
        assert_string_equal(str, "");
        free(str);
}

static void test_operations(void **state) {
        CpuSet a = parse("0-3,64,1023"), b = parse("2-5"), c;

        assert_int_equal(cpuset_count(&a), 6);
        assert_int_equal(cpuset_first(&a), 0);
        assert_int_equal(cpuset_last(&a), 1023);
        assert_int_equal(cpuset_next(&a, 3), 64);
        assert_int_equal(cpuset_next(&a, 64), 1023);
        assert_int_equal(cpuset_next(&a, 1023), -1);
        assert_int_equal(cpuset_next(&a, -1), 0);

        CpuSet empty = {0};
        assert_true(cpuset_is_empty(&empty));
        assert_false(cpuset_is_empty(&a));
        assert_int_equal(cpuset_first(&empty), -1);
        assert_int_equal(cpuset_last(&empty), -1);

        assert_true(cpuset_intersects(&a, &b));
        assert_false(cpuset_is_subset(&b, &a));
        c = a;
        cpuset_and(&c, &b);
        assert_true(cpuset_equal(&c, &(CpuSet){.bits = {0xC}}));
        assert_true(cpuset_is_subset(&c, &a));
        assert_true(cpuset_is_subset(&empty, &a));
        c = a;
        cpuset_or(&c, &b);
        char buf[64];
        cpuset_format(&c, buf, sizeof buf);
        assert_string_equal(buf, "0-5,64,1023");
        c = a;
        cpuset_andnot(&c, &b);
        cpuset_format(&c, buf, sizeof buf);
        assert_string_equal(buf, "0-1,64,1023");
        assert_false(cpuset_intersects(&c, &b));

        cpuset_zero(&c);
        cpuset_add(&c, 5);
        cpuset_add(&c, CPUSET_MAX); /* out of range: ignored, not a buffer overrun */
        assert_int_equal(cpuset_count(&c), 1);
        assert_true(cpuset_has(&c, 5));
        assert_false(cpuset_has(&c, CPUSET_MAX));
        cpuset_del(&c, 5);
        cpuset_del(&c, CPUSET_MAX);
        assert_true(cpuset_is_empty(&c));

        unsigned seen = 0, sum = 0;
        CPUSET_FOREACH(cpu, &a) {
                seen++;
                sum += (unsigned)cpu;
        }
        assert_int_equal(seen, 6);
        assert_int_equal(sum, 0 + 1 + 2 + 3 + 64 + 1023);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_format),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_format_truncated),
                cmocka_unit_test(test_operations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
