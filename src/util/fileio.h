/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads all of fd (at most max bytes, -EFBIG beyond) into a NUL-terminated malloc'ed
 * buffer. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* mkdir -p: parents 0755, the last component last_mode; existing dirs are fine. */
int mkdir_p(const char *path, mode_t last_mode);
