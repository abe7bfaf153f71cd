/* SPDX-License-Identifier: MIT */
/* The samples CSV: the header and rows the runner writes (byte for byte what earlier
 * versions wrote, so old results directories keep their memory charts), read back by
 * the report; bad and torn lines skipped, a file that is not a samples CSV refused; the GPU
 * series in its old and new shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "result/samples.h"

typedef struct T {
        char path[64];
} T;

static int setup(void **state) {
        T *t = calloc(1, sizeof *t);
        assert_non_null(t);
        snprintf(t->path, sizeof t->path, "/tmp/corun-test-samples-XXXXXX");
        int fd = mkstemp(t->path);
        assert_true(fd >= 0);
        close(fd);
        *state = t;
        return 0;
}

static int teardown(void **state) {
        T *t = *state;
        unlink(t->path);
        free(t);
        return 0;
}

static void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path) {
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        char *buf = calloc(1, 4096);
        assert_non_null(buf);
        size_t n = fread(buf, 1, 4095, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void test_write_read_back(void **state) {
        T *t = *state;
        const SampleRow rows[] = {
                {0.1, 1048576, 900000, 1000000, 0.012345, 1},
                {0.2, 2097152, 1800000, 2000000, 0.0251, 3},
                {12.3456, UINT64_C(68719476736), 0, 0, 7.5, 0},
        };
        FILE *f = fopen(t->path, "we");
        assert_non_null(f);
        assert_int_equal(samples_write_header(f), 0);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(samples_write_row(f, &rows[i]), 0);
        assert_int_equal(fclose(f), 0);

        /* The format the runner has always written (exec's former fprintf). */
        char *text = read_text(t->path);
        char want[1024];
        int at = snprintf(want, sizeof want,
                          "t_s,memory_current_bytes,pss_bytes,rss_bytes,cpu_usage_s,pids\n");
        for (size_t i = 0; i < 3; i++)
                at += snprintf(want + at, sizeof want - at,
                               "%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%zu\n", rows[i].t_s,
                               rows[i].memory_current_bytes, rows[i].pss_bytes, rows[i].rss_bytes,
                               rows[i].cpu_usage_s, (size_t)rows[i].pids);
        assert_string_equal(text, want);
        free(text);

        SampleRow *got = NULL;
        size_t n = 0;
        assert_int_equal(samples_read(t->path, &got, &n), 0);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_true(fabs(got[i].t_s - rows[i].t_s) < 0.001);
                assert_int_equal(got[i].memory_current_bytes, rows[i].memory_current_bytes);
                assert_int_equal(got[i].pss_bytes, rows[i].pss_bytes);
                assert_int_equal(got[i].rss_bytes, rows[i].rss_bytes);
                assert_true(fabs(got[i].cpu_usage_s - rows[i].cpu_usage_s) < 1e-6);
                assert_int_equal(got[i].pids, rows[i].pids);
        }
        free(got);
}

static void test_bad_lines_skipped(void **state) {
        T *t = *state;
        write_text(t->path, "t_s,memory_current_bytes,pss_bytes,rss_bytes,cpu_usage_s,pids\n"
                            "0.100,100,1,2,0.000001,1\n"
                            "x,200,1,2,0.1,1\n"       /* bad time */
                            "0.300,,1,2,0.1,1\n"      /* empty field: no shifting of columns */
                            "0.400,400,1,2\n"         /* too few fields */
                            "0.500,500,1,2,0.1,1,9\n" /* too many */
                            "0.600,-6,1,2,0.1,1\n"    /* negative count */
                            "0.700,700,1,2,0.1,1\n"
                            "0.800,800,1,2,0.1,"); /* torn: no newline */
        SampleRow *got = NULL;
        size_t n = 0;
        assert_int_equal(samples_read(t->path, &got, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(got[0].memory_current_bytes, 100);
        assert_int_equal(got[1].memory_current_bytes, 700);
        free(got);
}

static void test_columns_by_name(void **state) {
        T *t = *state;
        /* Another order, an unknown column, columns missing: found by name. */
        write_text(t->path, "memory_current_bytes,gpu_sm,t_s\n5,0.5,1.5\n");
        SampleRow *got = NULL;
        size_t n = 0;
        assert_int_equal(samples_read(t->path, &got, &n), 0);
        assert_int_equal(n, 1);
        assert_true(fabs(got[0].t_s - 1.5) < 1e-9);
        assert_int_equal(got[0].memory_current_bytes, 5);
        assert_int_equal(got[0].pss_bytes, UINT64_MAX);
        assert_true(isnan(got[0].cpu_usage_s));
        free(got);
}

static void test_header_mismatch(void **state) {
        T *t = *state;
        SampleRow *got = NULL;
        size_t n = 0;
        write_text(t->path, "time,memory\n1,2\n");
        assert_int_equal(samples_read(t->path, &got, &n), -EBADMSG);
        write_text(t->path, "t_s,pss_bytes\n1,2\n"); /* no memory_current_bytes */
        assert_int_equal(samples_read(t->path, &got, &n), -EBADMSG);
        write_text(t->path, "");
        assert_int_equal(samples_read(t->path, &got, &n), -ENODATA);
        assert_int_equal(samples_read("/nonexistent-corun/samples.csv", &got, &n), -ENOENT);
}

/* The GPU series: the four columns of corun before GPU limits, and the seven of now with
 * empty fields for limits a job does not have. */
static void test_gpu_old_and_new(void **state) {
        T *t = *state;
        GpuSampleRow *got = NULL;
        size_t n = 0;
        write_text(t->path, "t_s,gpu,sm_share,memory_bytes\n0.100,0,0.2500,1048576\n0.100,1,0.5000,0\n");
        assert_int_equal(gpu_samples_read(t->path, &got, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(got[1].gpu, 1);
        assert_true(fabs(got[0].sm_share - 0.25) < 1e-9);
        assert_int_equal(got[0].memory_bytes, 1048576);
        assert_true(isnan(got[0].share_target));
        assert_int_equal(got[0].memory_limit_bytes, UINT64_MAX);
        assert_true(isnan(got[0].throttled_s));
        free(got);

        write_text(t->path, "t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s\n"
                            "0.100,0,0.2900,8000,0.3000,8589934592,0.050\n"
                            "0.200,0,0.3100,8000,,8589934592,\n" /* memory limit only */
                            "0.300,0,0.1000,8000,0.5500,,1.250\n"
                            "0.400,0,0.1000,,0.5,,\n" /* the measured columns are never empty */
                            "0.500,0,0.1000,8000,x,,\n");
        assert_int_equal(gpu_samples_read(t->path, &got, &n), 0);
        assert_int_equal(n, 3);
        assert_true(fabs(got[0].share_target - 0.3) < 1e-9);
        assert_int_equal(got[0].memory_limit_bytes, UINT64_C(8589934592));
        assert_true(fabs(got[0].throttled_s - 0.05) < 1e-9);
        assert_true(isnan(got[1].share_target));
        assert_true(isnan(got[1].throttled_s));
        assert_int_equal(got[2].memory_limit_bytes, UINT64_MAX);
        assert_true(fabs(got[2].share_target - 0.55) < 1e-9);
        free(got);

        /* The controller's columns (charged_share, rate, scale, others_busy) are for people
         * and scripts, not the report: read past, empty or not. */
        write_text(t->path, "t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s,"
                            "charged_share,rate,scale,others_busy\n"
                            "0.100,0,0.2900,8000,0.3000,,0.050,0.2993,0.3000,,0.9109\n"
                            "0.200,0,0.9100,8000,1.0000,,0.000,,,,\n");
        assert_int_equal(gpu_samples_read(t->path, &got, &n), 0);
        assert_int_equal(n, 2);
        assert_true(fabs(got[0].throttled_s - 0.05) < 1e-9);
        assert_true(fabs(got[1].sm_share - 0.91) < 1e-9);
        free(got);

        /* A memory samples file is not a GPU series. */
        write_text(t->path, "t_s,memory_current_bytes\n1,2\n");
        assert_int_equal(gpu_samples_read(t->path, &got, &n), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_read_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_lines_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_columns_by_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_header_mismatch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gpu_old_and_new, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
