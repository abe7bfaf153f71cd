/* SPDX-License-Identifier: MIT */
/* touch-exact BYTES [--hold MS]: maps and writes exactly BYTES (whole pages), prints
 * "touch-exact: touched N bytes", holds for MS milliseconds, exits 0. Linked statically
 * so that no shared library adds pages of its own: the peak-memory benchmark compares
 * what the partition reports with BYTES. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util/parse.h"

int main(int argc, char **argv) {
        uint64_t bytes, hold_ms = 0;

        if ((argc != 2 && argc != 4) || (argc == 4 && strcmp(argv[2], "--hold") != 0)) {
                fprintf(stderr, "usage: touch-exact BYTES [--hold MS]\n");
                return 2;
        }
        if (parse_size(argv[1], &bytes) < 0 || bytes == 0 || bytes == UINT64_MAX || bytes > SIZE_MAX / 2) {
                fprintf(stderr, "touch-exact: invalid BYTES '%s' (a size above 0, e.g. 64M)\n", argv[1]);
                return 2;
        }
        if (argc == 4 && parse_u64(argv[3], &hold_ms) < 0) {
                fprintf(stderr, "touch-exact: invalid --hold '%s' (milliseconds)\n", argv[3]);
                return 2;
        }

        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t len = ((size_t)bytes + page - 1) / page * page;
        volatile uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                fprintf(stderr, "touch-exact: cannot map %zu bytes: %s\n", len, strerror(errno));
                return 1;
        }
        /* Transparent huge pages would charge 2 MiB per fault and round the peak up. */
        madvise((void *)p, len, MADV_NOHUGEPAGE);
        for (size_t off = 0; off < len; off += page)
                p[off] = 1;
        printf("touch-exact: touched %zu bytes\n", len);
        fflush(stdout);

        struct timespec ts = {.tv_sec = (time_t)(hold_ms / 1000),
                              .tv_nsec = (long)(hold_ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}
