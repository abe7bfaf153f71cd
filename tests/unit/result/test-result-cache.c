/* SPDX-License-Identifier: MIT */
/* result_write_cached (and result_write, which goes through a cache of its own): byte
 * for byte the document dumped as one JSON tree, as jobs and runs are appended between
 * rewrites (each job's text is kept from the write that first saw it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "result/result.h"
#include "util/fileio.h"

static char tmpdir[] = "/tmp/corun-test-result-cache.XXXXXX";

/* The reference: the whole document as one JSON tree (result_write_fd). */
static char *plain_text(const Result *r) {
        char path[256];
        snprintf(path, sizeof path, "%s/plain.json", tmpdir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(result_write_fd(r, fd), 0);
        close(fd);
        return read_all(path, NULL);
}

static char *cached_text(const Result *r, ResultWriteCache *c) {
        char path[256];
        snprintf(path, sizeof path, "%s/cached", tmpdir);
        assert_int_equal(mkdir_p(path, 0755), 0);
        assert_int_equal(result_write_cached(r, path, c), 0);
        strcat(path, "/result.json");
        return read_all(path, NULL);
}

static void check_same(const Result *r, ResultWriteCache *c) {
        char *a = plain_text(r), *b = cached_text(r, c), *d = NULL;
        assert_string_equal(b, a);
        char path[256];
        snprintf(path, sizeof path, "%s/own", tmpdir);
        assert_int_equal(mkdir_p(path, 0755), 0);
        assert_int_equal(result_write(r, path), 0);
        strcat(path, "/result.json");
        d = read_all(path, NULL);
        assert_string_equal(d, a);
        free(a);
        free(b);
        free(d);
}

static void test_cached_equals_plain(void **state) {
        (void)state;
        assert_non_null(mkdtemp(tmpdir));
        Result *r = fixture_full();
        assert_non_null(r);
        assert_true(r->n_runs >= 2 && r->runs[0].n_jobs >= 1 && r->runs[1].n_jobs >= 2);
        /* Strings that look like the placeholder, where a user could put them. */
        free(r->runs[1].jobs[0].command);
        r->runs[1].jobs[0].command = strdup("echo '\x01corun-jobs\x01' \"jobs\": \n");
        free(r->runs[1].params);
        r->runs[1].params = strdup("\x01corun-jobs\x01");
        assert_non_null(r->runs[1].jobs[0].command);
        assert_non_null(r->runs[1].params);

        size_t n_runs = r->n_runs, n0 = r->runs[0].n_jobs, n1 = r->runs[1].n_jobs;
        ResultWriteCache *c = result_write_cache_new();
        assert_non_null(c);
        r->partial = true;
        /* The first run, its jobs coming one by one (none yet: "jobs": []). */
        r->n_runs = 1;
        for (size_t k = 0; k <= n0; k++) {
                r->runs[0].n_jobs = k;
                check_same(r, c);
        }
        /* The second run appears, empty, then fills. */
        r->n_runs = 2;
        for (size_t k = 0; k <= n1; k++) {
                r->runs[1].n_jobs = k;
                check_same(r, c);
        }
        r->n_runs = n_runs;
        check_same(r, c);
        /* The final one too (it is synced; the bytes are the same). */
        r->partial = false;
        check_same(r, c);

        c = result_write_cache_free(c);
        result_free(r);
        assert_int_equal(rm_rf(tmpdir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cached_equals_plain),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
