/* SPDX-License-Identifier: MIT */
/* NVML's clock event reasons by name (pure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/clocks.h"
#include "util/macros.h"

static const char *const names[] = GPU_CLOCK_EVENT_NAMES;

const char *gpu_clock_event_name(unsigned bit, char *buf, size_t n) {
        if (bit < ELEMENTSOF(names))
                return names[bit];
        snprintf(buf, n, "bit%u", bit);
        return buf;
}

int gpu_clock_event_bit(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(name, names[i]) == 0)
                        return (int)i;
        if (strncmp(name, "bit", 3) != 0 || name[3] < '0' || name[3] > '9')
                return -1;
        char *end;
        unsigned long b = strtoul(name + 3, &end, 10);
        return *end == '\0' && b < 64 ? (int)b : -1;
}

char *gpu_clock_event_list(uint64_t events, char sep, char *buf, size_t n) {
        size_t len = 0;
        if (n == 0)
                return buf;
        buf[0] = '\0';
        for (unsigned bit = 0; bit < 64; bit++) {
                if (!(events & (UINT64_C(1) << bit)))
                        continue;
                char tmp[16];
                int w = snprintf(buf + len, n - len, "%s%s", len ? (char[]){sep, '\0'} : "",
                                 gpu_clock_event_name(bit, tmp, sizeof tmp));
                if (w < 0 || (size_t)w >= n - len) {
                        buf[len] = '\0'; /* whole names only */
                        break;
                }
                len += (size_t)w;
        }
        return buf;
}
