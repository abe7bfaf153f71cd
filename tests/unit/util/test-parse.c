/* SPDX-License-Identifier: MIT */
/* The checked number, size, duration and signal parsers, and the formatters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>

#include "util/macros.h"
#include "util/parse.h"

#define SENTINEL UINT64_C(0xdeadbeef)

static void test_u64(void **state) {
        uint64_t v;
        assert_int_equal(parse_u64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_u64("007", &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(parse_u64("42\n", &v), 0); /* as read from /proc */
        assert_int_equal(v, 42);
        assert_int_equal(parse_u64("18446744073709551615", &v), 0);
        assert_int_equal(v, UINT64_MAX);

        static const char *const bad[] = {"", " 1", "-1", "+1", "1x", "0x10", "1\n\n", "1 ", "\n", "1.0"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = SENTINEL;
                assert_int_equal(parse_u64(bad[i], &v), -EINVAL);
                assert_int_equal(v, SENTINEL); /* written only on success */
        }
        assert_int_equal(parse_u64(NULL, &v), -EINVAL);
        v = SENTINEL;
        assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(v, SENTINEL);
}

static void test_i64_unsigned_double(void **state) {
        int64_t i;
        unsigned u;
        double d;

        assert_int_equal(parse_i64("-9223372036854775808", &i), 0);
        assert_true(i == INT64_MIN);
        assert_int_equal(parse_i64("+5", &i), 0);
        assert_int_equal(i, 5);
        assert_int_equal(parse_i64("9223372036854775808", &i), -ERANGE);
        assert_int_equal(parse_i64("-", &i), -EINVAL);
        assert_int_equal(parse_i64("--1", &i), -EINVAL);
        assert_int_equal(parse_i64("1-", &i), -EINVAL);

        assert_int_equal(parse_unsigned("4294967295", &u), 0);
        assert_int_equal(u, UINT32_MAX);
        assert_int_equal(parse_unsigned("4294967296", &u), -ERANGE);
        assert_int_equal(parse_unsigned("-1", &u), -EINVAL);

        assert_int_equal(parse_double("1.5", &d), 0);
        assert_true(d == 1.5);
        assert_int_equal(parse_double("-2e3\n", &d), 0);
        assert_true(d == -2000);
        assert_int_equal(parse_double("nan", &d), -EINVAL);
        assert_int_equal(parse_double("inf", &d), -EINVAL);
        assert_int_equal(parse_double(" 1", &d), -EINVAL);
        assert_int_equal(parse_double("", &d), -EINVAL);
        assert_int_equal(parse_double("1e999", &d), -ERANGE);
        assert_int_equal(parse_double("1.5x", &d), -EINVAL);
}

static void test_size(void **state) {
        static const struct {
                const char *s;
                uint64_t v;
        } good[] = {
                {"0", 0},
                {"512", 512},
                {"512B", 512},
                {"512b", 512},
                {"4K", 4096},
                {"4k", 4096},
                {"4KB", 4096},
                {"4KiB", 4096},
                {"4kib", 4096},
                {"512M", UINT64_C(512) << 20},
                {"512 M", UINT64_C(512) << 20},
                {"1.5G", UINT64_C(3) << 29},
                {".5K", 512},
                {"195G", UINT64_C(195) << 30},
                {"195GB", UINT64_C(195) << 30},
                {"2T", UINT64_C(2) << 40},
                {"1P", UINT64_C(1) << 50},
                {"16383P", UINT64_C(16383) << 50},
                {"16777215T", UINT64_C(16777215) << 40},
                {"1.5", 2}, /* bytes round to the nearest */
                {"4K\n", 4096},
                {"18446744073709551615", UINT64_MAX},
                /* Above 2^63: must not go through a signed conversion. */
                {"15000.5P", UINT64_C(30001) << 49},
                {"max", UINT64_MAX},
                {"MAX", UINT64_MAX},
                {"infinity", UINT64_MAX},
                {"unlimited", UINT64_MAX},
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                uint64_t v = SENTINEL;
                if (parse_size(good[i].s, &v) != 0 || v != good[i].v)
                        fail_msg("parse_size(\"%s\") = %llu, expected %llu", good[i].s,
                                 (unsigned long long)v, (unsigned long long)good[i].v);
        }
        static const char *const bad[] = {"",    "M",   "-1",    "1.5.5G", "1X", "1e3", "lots",
                                          " 1G", "1G ", "1 G B", "1GiBB",  ".",  "1KK"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint64_t v = SENTINEL;
                if (parse_size(bad[i], &v) != -EINVAL || v != SENTINEL)
                        fail_msg("parse_size(\"%s\") accepted or wrote", bad[i]);
        }
        uint64_t v;
        assert_int_equal(parse_size("16777216T", &v), -ERANGE);
        assert_int_equal(parse_size("16384P", &v), -ERANGE);
        assert_int_equal(parse_size("16384.0P", &v), -ERANGE);
        assert_int_equal(parse_size("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

static void test_duration(void **state) {
        static const struct {
                const char *s;
                uint64_t v;
        } good[] = {
                {"0", 0},
                {"90", 90 * USEC_PER_SEC},
                {"1.5", 1500 * USEC_PER_MSEC},
                {"500ms", 500 * USEC_PER_MSEC},
                {"250us", 250},
                {"1.5s", 1500 * USEC_PER_MSEC},
                {"2h", 2 * 3600 * USEC_PER_SEC},
                {"1h30m", 90 * 60 * USEC_PER_SEC},
                {"1m", 60 * USEC_PER_SEC},
                {"1min", 60 * USEC_PER_SEC},
                {"1d", 86400 * USEC_PER_SEC},
                {"2S", 2 * USEC_PER_SEC},
                {"1s500ms", 1500 * USEC_PER_MSEC},
                {"3sec", 3 * USEC_PER_SEC},
                {"10s\n", 10 * USEC_PER_SEC},
                {"infinity", USEC_INFINITY},
                {"none", USEC_INFINITY},
                /* Above 2^63 microseconds: must not go through a signed conversion. */
                {"10000000000000s", UINT64_C(10000000000000000000)},
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                uint64_t v = SENTINEL;
                if (parse_duration(good[i].s, &v) != 0 || v != good[i].v)
                        fail_msg("parse_duration(\"%s\") = %llu, expected %llu", good[i].s,
                                 (unsigned long long)v, (unsigned long long)good[i].v);
        }
        static const char *const bad[] = {"",     "s",   "1x",   "1h 30m", "1s90", "1.5.5s",
                                          "1e3s", "-1s", "soon", "1 s",    " 1s"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint64_t v = SENTINEL;
                if (parse_duration(bad[i], &v) != -EINVAL || v != SENTINEL)
                        fail_msg("parse_duration(\"%s\") accepted or wrote", bad[i]);
        }
        uint64_t v;
        assert_int_equal(parse_duration("100000000000000s", &v), -ERANGE);
        assert_int_equal(parse_duration("99999999999999999999999us", &v), -ERANGE);
        assert_int_equal(parse_duration(NULL, &v), -EINVAL);
}

static void test_signal(void **state) {
        int sig = 0;
        assert_int_equal(parse_signal("TERM", &sig), 0);
        assert_int_equal(sig, SIGTERM);
        assert_int_equal(parse_signal("SIGTERM", &sig), 0);
        assert_int_equal(sig, SIGTERM);
        assert_int_equal(parse_signal("sigint", &sig), 0);
        assert_int_equal(sig, SIGINT);
        assert_int_equal(parse_signal("kill", &sig), 0);
        assert_int_equal(sig, SIGKILL);
        assert_int_equal(parse_signal("15", &sig), 0);
        assert_int_equal(sig, 15);
        assert_int_equal(parse_signal("USR1", &sig), 0);
        assert_int_equal(sig, SIGUSR1);
        sig = -7;
        assert_int_equal(parse_signal("0", &sig), -ERANGE);
        assert_int_equal(parse_signal("65", &sig), -ERANGE);
        assert_int_equal(parse_signal("FOO", &sig), -EINVAL);
        assert_int_equal(parse_signal("SIG", &sig), -EINVAL);
        assert_int_equal(parse_signal("", &sig), -EINVAL);
        assert_int_equal(parse_signal("-9", &sig), -EINVAL);
        assert_int_equal(sig, -7);
}

static void test_format_size(void **state) {
        char buf[FORMAT_SIZE_MAX];
        assert_string_equal(format_size(buf, sizeof buf, 0), "0 B");
        assert_string_equal(format_size(buf, sizeof buf, 1023), "1023 B");
        assert_string_equal(format_size(buf, sizeof buf, 1024), "1.00 KiB");
        assert_string_equal(format_size(buf, sizeof buf, 1536), "1.50 KiB");
        assert_string_equal(format_size(buf, sizeof buf, 10 * 1024), "10.0 KiB");
        assert_string_equal(format_size(buf, sizeof buf, UINT64_C(512) << 20), "512 MiB");
        assert_string_equal(format_size(buf, sizeof buf, UINT64_C(3) << 29), "1.50 GiB");
        /* Just under the next unit: not "1024 KiB". */
        assert_string_equal(format_size(buf, sizeof buf, 1024 * 1024 - 100), "1.00 MiB");
        assert_string_equal(format_size(buf, sizeof buf, UINT64_C(1) << 62), "4096 PiB");
        assert_string_equal(format_size(buf, sizeof buf, UINT64_MAX), "max");
        char small[4];
        assert_string_equal(format_size(small, sizeof small, UINT64_C(512) << 20), "512");
}

static void test_format_duration(void **state) {
        char buf[FORMAT_DURATION_MAX];
        assert_string_equal(format_duration(buf, sizeof buf, 0), "0us");
        assert_string_equal(format_duration(buf, sizeof buf, 17), "17us");
        assert_string_equal(format_duration(buf, sizeof buf, 412 * USEC_PER_MSEC), "412.0ms");
        assert_string_equal(format_duration(buf, sizeof buf, 3214 * USEC_PER_MSEC), "3.214s");
        assert_string_equal(format_duration(buf, sizeof buf, 61 * USEC_PER_SEC), "1m01s");
        assert_string_equal(format_duration(buf, sizeof buf, 62 * 60 * USEC_PER_SEC), "1h02m00s");
        /* over an hour the seconds stay (issue 13): 2h10m30s, not 2h10m */
        assert_string_equal(format_duration(buf, sizeof buf, (2 * 3600 + 10 * 60 + 30) * USEC_PER_SEC), "2h10m30s");
        assert_string_equal(format_duration(buf, sizeof buf, USEC_INFINITY), "infinity");
        /* Rounding must not produce "1000.0ms" or "60.000s". */
        assert_string_equal(format_duration(buf, sizeof buf, 999999), "1.000s");
        assert_string_equal(format_duration(buf, sizeof buf, 999949), "999.9ms");
        assert_string_equal(format_duration(buf, sizeof buf, 59999900), "1m00s");
        assert_string_equal(format_duration(buf, sizeof buf, 59999000), "59.999s");
        /* Round trip through the parser for what it can read back. */
        uint64_t v;
        assert_int_equal(parse_duration(format_duration(buf, sizeof buf, 3214 * USEC_PER_MSEC), &v), 0);
        assert_int_equal(v, 3214 * USEC_PER_MSEC);
        assert_int_equal(parse_duration(format_duration(buf, sizeof buf, 62 * 60 * USEC_PER_SEC), &v), 0);
        assert_int_equal(v, 62 * 60 * USEC_PER_SEC);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_u64),
                cmocka_unit_test(test_i64_unsigned_double),
                cmocka_unit_test(test_size),
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_signal),
                cmocka_unit_test(test_format_size),
                cmocka_unit_test(test_format_duration),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
