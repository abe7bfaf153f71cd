/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads all of fd (at most max bytes, -EFBIG beyond) into a NUL-terminated malloc'ed
 * buffer. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* The same for files that fill every read unless their text ends (regular files and the
 * seq_files of procfs, sysfs and cgroupfs): a short read is the end, which saves the
 * last read that would return 0. Not for pipes, sockets or terminals. */
int read_full_fd_filled(int fd, size_t max, char **ret, size_t *ret_len);
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* mkdir -p: parents 0755, the last component last_mode; existing dirs are fine. */
int mkdir_p(const char *path, mode_t last_mode);
/* An absolute path without empty, "." or ".." components, no newline, not "/". */
bool path_is_normalized_absolute(const char *path);
/* rm -rf that walks to path one component at a time refusing symlinks, never follows a
 * symlink a job left inside, never crosses into another filesystem (-EXDEV, left in
 * place), and skips entries swapped under it. A missing path is success. The one rm -rf
 * of the project: scratch dirs, results temp files, cleanup. */
int rm_rf(const char *path);

/* Writes dir/name atomically: fill() writes the content to fd (a temporary file in dir,
 * mode 0644), then it is renamed over dir/name, so readers only ever see a whole file.
 * With sync, the file and the directory are made durable (fsync) before returning.
 * Returns 0 or negative errno (the real one: -ENOSPC for a full disk); the temporary
 * file never outlives a failure. */
int write_file_atomic(const char *dir, const char *name, int (*fill)(int fd, void *userdata), void *userdata,
                      bool sync);
/* The same through a stdio stream: render() writes to f (fully buffered, buffer_size
 * bytes; 0 = stdio's default). A failed write is returned with its real errno, taken at
 * fflush: stdio's ferror alone does not keep it, so a renderer's -EIO gives way to it. */
int write_file_atomic_stream(const char *dir, const char *name, int (*render)(FILE *f, void *userdata),
                             void *userdata, size_t buffer_size, bool sync);
/* write(2) all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
