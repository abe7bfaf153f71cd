/* SPDX-License-Identifier: MIT */
/* read_full_fd and read_full_fd_filled read the same bytes, small and across the
 * buffer's growth; _filled stops at a short read (a regular file fills every read). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"

static void check_size(size_t n) {
        char path[] = "/tmp/corun-test-fileio.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        char *data = malloc(n + 1);
        assert_non_null(data);
        for (size_t i = 0; i < n; i++)
                data[i] = (char)('a' + i % 26);
        data[n] = '\0';
        assert_int_equal(write_all(fd, data, n), 0);
        for (int filled = 0; filled < 2; filled++) {
                char *got = NULL;
                size_t len = 0;
                assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
                int r = filled ? read_full_fd_filled(fd, 1 << 20, &got, &len)
                               : read_full_fd(fd, 1 << 20, &got, &len);
                assert_int_equal(r, 0);
                assert_int_equal(len, n);
                assert_memory_equal(got, data, n);
                assert_int_equal(got[n], '\0');
                free(got);
        }
        /* Beyond max: -EFBIG either way. */
        if (n > 4096) {
                char *got = NULL;
                assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
                assert_int_equal(read_full_fd_filled(fd, 4096, &got, NULL), -EFBIG);
                assert_null(got);
        }
        free(data);
        close(fd);
        unlink(path);
}

static void test_sizes(void **state) {
        (void)state;
        size_t sizes[] = {0, 1, 4095, 4096, 4097, 8192, 100000};
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
                check_size(sizes[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sizes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
