/* SPDX-License-Identifier: MIT */
/* The machine's PU list as discovered by hwloc, kept per boot in /run/corun so that a run
 * does not walk ~100 sysfs files again (1-4 ms on a 2-CPU VM, tens of ms on large
 * machines). The text names its key (format version, boot id, online CPUs): a reboot or
 * a CPU going on- or offline makes it stale, and then it is discovered and written again. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo/topo.h"
#include "util/fileio.h"
#include "util/macros.h"
#include "util/parse.h"

#define TOPO_CACHE_MAGIC "corun-topology 1"
#define TOPO_CACHE_MAX_PUS (CPUSET_MAX * 2)

static int read_line_file(const char *path, char *buf, size_t n) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t k = read(fd, buf, n - 1);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

int topo_cache_key(char **ret) {
        char boot[64], online[4096];
        int r = read_line_file("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
        if (r < 0)
                return r;
        r = read_line_file("/sys/devices/system/cpu/online", online, sizeof online);
        if (r < 0)
                return r;
        return asprintf(ret, "boot %s online %s", boot, online) < 0 ? -ENOMEM : 0;
}

int topo_cache_format(const TopoPUDesc *d, size_t n, const char *key, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\n%s\n", TOPO_CACHE_MAGIC, key);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%u %ld %u %ld %ld %u %" PRIu64 " %ld %" PRIu64 " %d\n", d[i].os_index, d[i].core,
                        d[i].core_os_index, d[i].l2, d[i].l3, d[i].numa, d[i].numa_memory_bytes, d[i].package,
                        d[i].max_khz, d[i].perf_rank);
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int topo_cache_parse(const char *text, const char *key, TopoPUDesc **ret, size_t *ret_n) {
        size_t ml = strlen(TOPO_CACHE_MAGIC), kl = strlen(key);
        if (!strneq(text, TOPO_CACHE_MAGIC "\n", ml + 1) || !strneq(text + ml + 1, key, kl) ||
            text[ml + 1 + kl] != '\n')
                return -ESTALE;
        const char *p = text + ml + 1 + kl + 1;
        _cleanup_free_ TopoPUDesc *d = NULL;
        size_t n = 0, cap = 0;
        while (*p) {
                const char *eol = strchrnul(p, '\n');
                if (n >= TOPO_CACHE_MAX_PUS)
                        return -E2BIG;
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        TopoPUDesc *nd = realloc(d, cap * sizeof *d);
                        if (!nd)
                                return -ENOMEM;
                        d = nd;
                }
                TopoPUDesc x;
                int used = 0;
                memset(&x, 0, sizeof x); /* padding too: callers may compare whole records */
                if (sscanf(p, "%u %ld %u %ld %ld %u %" SCNu64 " %ld %" SCNu64 " %d%n", &x.os_index, &x.core,
                           &x.core_os_index, &x.l2, &x.l3, &x.numa, &x.numa_memory_bytes, &x.package,
                           &x.max_khz, &x.perf_rank, &used) != 10 ||
                    p + used != eol || x.os_index >= CPUSET_MAX)
                        return -EBADMSG;
                memcpy(&d[n++], &x, sizeof x);
                p = *eol ? eol + 1 : eol;
        }
        if (n == 0)
                return -EBADMSG;
        *ret = TAKE_PTR(d);
        *ret_n = n;
        return 0;
}

int topo_cache_read(const char *dir, const char *key, TopoPUDesc **ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        if (asprintf(&path, "%s/%s", dir, TOPO_CACHE_FILE) < 0)
                return -ENOMEM;
        int r = read_full_file(path, 1u << 20, &text, &len);
        if (r < 0)
                return r;
        if (strlen(text) != len)
                return -EBADMSG;
        return topo_cache_parse(text, key, ret, ret_n);
}

static int fill_text(int fd, void *userdata) {
        const char *s = userdata;
        return write_all(fd, s, strlen(s));
}

int topo_cache_write(const char *dir, const char *key, const TopoPUDesc *d, size_t n) {
        _cleanup_free_ char *text = NULL;
        int r = topo_cache_format(d, n, key, &text);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        /* Not synced: a cache lost with a power cut is discovered again. */
        return write_file_atomic(dir, TOPO_CACHE_FILE, fill_text, text, false);
}
