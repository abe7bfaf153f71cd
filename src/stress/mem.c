/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stress/stress.h"
#include "util/macros.h"
#include "util/time-util.h"

#define DEFAULT_CHUNK (UINT64_C(1) << 20)

/* Writes one byte in every page, `chunk` bytes at a time; with a rate, each chunk takes
 * at least chunk/rate: the sleep after a chunk covers only what is left of that chunk's
 * time. Time lost inside a chunk (slow page faults, being frozen or throttled) is not
 * made up later, so a throttled process finishes later, as one with a fixed amount of
 * work does: that is what the priority experiments measure. */
static int touch_pages(volatile uint8_t *p, size_t len, size_t page, size_t chunk, uint64_t rate,
                       uint8_t value) {
        for (size_t off = 0; off < len;) {
                uint64_t t0 = now_usec(CLOCK_MONOTONIC);
                size_t start = off, end = off + MIN(chunk, len - off);
                for (; off < end; off += page)
                        p[off] = value;
                if (rate > 0) {
                        int r = stress_sleep_until(t0 + (uint64_t)((double)(MIN(off, len) - start) * 1e6 /
                                                                   (double)rate));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int mem_run(const StressMem *o, uint8_t *p, size_t len, size_t page, size_t chunk, FILE *out) {
        int r;

        r = touch_pages(p, len, page, chunk, o->rate, 1);
        if (r < 0)
                return r;
        stress_marker(out, "mem", "alloc", false);

        stress_marker(out, "mem", "hold", true);
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        r = stress_sleep_until(o->hold_usec > UINT64_MAX - now ? UINT64_MAX : now + o->hold_usec);
        if (r < 0)
                return r;
        stress_marker(out, "mem", "hold", false);

        stress_marker(out, "mem", "retouch", true);
        for (uint64_t pass = 0; pass < o->passes; pass++) {
                /* A different value each pass, so every pass really dirties every page. */
                r = touch_pages(p, len, page, chunk, o->rate, (uint8_t)(pass + 2));
                if (r < 0)
                        return r;
        }
        stress_marker(out, "mem", "retouch", false);
        return 0;
}

int stress_mem(const StressMem *o, FILE *out, StressMemResult *ret) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);

        if (o->size == 0)
                return -EINVAL;
        if (o->size > SIZE_MAX - page)
                return -ENOMEM;
        size_t len = (size_t)(o->size + page - 1) / page * page;
        uint64_t chunk = o->chunk ? o->chunk : DEFAULT_CHUNK;
        chunk = MIN(chunk, (uint64_t)len);
        chunk = (chunk + page - 1) / page * page;

        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        stress_marker(out, "mem", "alloc", true);
        /* Plain private anonymous memory: no mlock and no MAP_POPULATE, so the pages are
         * charged as they are touched and the OOM killer may take the process as usual. */
        uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return negative_errno();
        int r = mem_run(o, p, len, page, (size_t)chunk, out);
        munmap(p, len);
        if (r < 0)
                return r;

        *ret = (StressMemResult){
                .size = o->size,
                .touched = len,
                .passes = o->passes,
                .wall_s = (double)(now_usec(CLOCK_MONOTONIC) - t0) / 1e6,
        };
        return 0;
}
