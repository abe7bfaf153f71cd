/* SPDX-License-Identifier: MIT */
#include "util/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/macros.h"
#include "util/fault.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* Deeper trees than this are not made by any job we know; refuse rather than recurse. */
#define RM_DEPTH_MAX 256

static int read_full(int fd, size_t max, bool short_is_end, char **ret, size_t *ret_len) {
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= max)
                                return -EFBIG;
                        cap = MIN(cap * 2, max);
                        char *n = realloc(buf, cap + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
                if (short_is_end && len < cap)
                        break;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        return read_full(fd, max, false, ret, ret_len);
}

int read_full_fd_filled(int fd, size_t max, char **ret, size_t *ret_len) {
        return read_full(fd, max, true, ret, ret_len);
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_len);
}

int mkdir_p(const char *path, mode_t last_mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, last_mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

bool path_is_normalized_absolute(const char *path) {
        if (!path || path[0] != '/' || strchr(path, '\n') || streq(path, "/"))
                return false;
        for (const char *p = path + 1;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
        }
}

static int rm_children(int dfd, dev_t dev, unsigned depth) {
        int r = 0;
        if (depth >= RM_DEPTH_MAX)
                return -ELOOP;
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        _cleanup_(closedirp) DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r >= 0)
                                r = -errno;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && r >= 0)
                                r = -errno;
                        continue;
                }
                if (st.st_dev != dev) {
                        /* A mount inside a scratch dir is not ours to empty. */
                        if (r >= 0)
                                r = -EXDEV;
                        continue;
                }
                _cleanup_close_ int sub =
                        openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat st2;
                if (sub < 0 || fstat(sub, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
                        /* Swapped for something else since the fstatat: leave it. */
                        if (r >= 0)
                                r = sub < 0 ? -errno : -ESTALE;
                        continue;
                }
                int k = rm_children(sub, dev, depth + 1);
                if (k < 0 && r >= 0)
                        r = k;
                if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r >= 0)
                        r = -errno;
        }
        return r;
}

int rm_rf(const char *path) {
        if (!path_is_normalized_absolute(path))
                return -EINVAL;
        _cleanup_free_ char *parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        char *slash = strrchr(parent, '/');
        const char *name = path + (slash - parent) + 1;
        *slash = '\0';

        /* Walk to the parent one component at a time, refusing every symlink. */
        _cleanup_close_ int pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return -errno;
        char *save = NULL;
        for (char *c = strtok_r(parent, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next = openat(pfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return errno == ENOENT ? 0 : -errno;
                close(pfd);
                pfd = next;
        }
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return RET_NERRNO(unlinkat(pfd, name, 0));
        _cleanup_close_ int dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        int r = rm_children(dfd, st.st_dev, 0);
        if (r < 0)
                return r;
        return unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return negative_errno();
                if (w == 0)
                        return -EIO;
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

typedef struct StreamFill {
        int (*render)(FILE *f, void *userdata);
        void *userdata;
        size_t buffer_size;
} StreamFill;

/* The stream's writes go to the fd through this cookie, which keeps the first error's
 * errno: stdio's ferror() keeps only that some write failed, and a write that failed in
 * the middle of rendering (a full disk) is not retried by the final fflush. */
typedef struct FdCookie {
        int fd;
        int error; /* the first write's negative errno, 0 none */
} FdCookie;

static ssize_t cookie_write(void *c, const char *buf, size_t n) {
        FdCookie *fc = c;
        int r = write_all(fc->fd, buf, n);
        if (r < 0) {
                if (fc->error == 0)
                        fc->error = r;
                errno = -r;
                return -1;
        }
        return (ssize_t)n;
}

/* write_file_atomic's fill for a stream: the renderer writes through a stream on the
 * temporary file's fd (the stream does not close it: write_file_atomic closes and renames
 * it). A failed write is returned with its own errno (-ENOSPC), whatever the renderer
 * made of it (-EIO from ferror). */
static int stream_fill(int fd, void *userdata) {
        const StreamFill *sf = userdata;
        FdCookie c = {.fd = fd};
        FILE *f = fopencookie(&c, "w", (cookie_io_functions_t){.write = cookie_write});
        if (!f)
                return negative_errno();
        if (sf->buffer_size > 0)
                (void)setvbuf(f, NULL, _IOFBF, sf->buffer_size);
        int k = sf->render(f, sf->userdata);
        if (fflush(f) == EOF && k >= 0)
                k = -EIO;
        (void)fclose(f);
        if (c.error < 0 && (k >= 0 || k == -EIO))
                k = c.error;
        return k;
}

int write_file_atomic_stream(const char *dir, const char *name, int (*render)(FILE *f, void *userdata),
                             void *userdata, size_t buffer_size, bool sync) {
        return write_file_atomic(dir, name, stream_fill, &(StreamFill){render, userdata, buffer_size}, sync);
}

/* Gives the anonymous file fd (O_TMPFILE) the name dir/tmp: with AT_EMPTY_PATH where the
 * caller may (CAP_DAC_READ_SEARCH), else through /proc/self/fd. */
static int link_tmpfile(int fd, const char *tmp) {
        if (linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH) == 0)
                return 0;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        return RET_NERRNO(linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW));
}

int write_file_atomic(const char *dir, const char *name, int (*fill)(int fd, void *userdata), void *userdata,
                      bool sync) {
        _cleanup_free_ char *tmp = NULL, *final = NULL;
        if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, name) < 0 || asprintf(&final, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        /* The content is written into an unnamed file (O_TMPFILE): a runner killed while
         * writing leaves nothing behind. It gets a temporary name only to be renamed over
         * the old file at once, two system calls later. File systems without O_TMPFILE
         * get a named temporary file from the start. */
        bool anonymous = true;
        _cleanup_close_ int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (fd < 0) {
                anonymous = false;
                fd = mkostemp(tmp, O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
        }
        /* mkostemp creates 0600 (O_TMPFILE: the umask applies); results are meant to be
         * shared like any output file. */
        int k = RET_NERRNO(fchmod(fd, 0644));
        if (k >= 0)
                k = fill(fd, userdata);
        if (k >= 0)
                k = fault_point("result write"); /* written, not yet named */
        if (k >= 0 && sync)
                k = RET_NERRNO(fsync(fd));
        if (k >= 0 && anonymous) {
                /* A name no other writer uses: this process's pid and a counter. */
                static unsigned counter;
                free(tmp);
                tmp = NULL;
                if (asprintf(&tmp, "%s/.%s.%d-%u", dir, name, (int)getpid(), counter++) < 0)
                        return -ENOMEM;
                k = link_tmpfile(fd, tmp);
        }
        /* close() is where NFS and some FUSE filesystems report a failed write back. */
        if (k >= 0)
                k = RET_NERRNO(close(TAKE_FD(fd)));
        if (k >= 0)
                k = RET_NERRNO(rename(tmp, final));
        if (k < 0) {
                (void)unlink(tmp);
                return k;
        }
        if (!sync)
                return 0;
        /* The rename itself is durable only once the directory is synced. */
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        return RET_NERRNO(fsync(dfd));
}
