/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "stress/stress.h"
#include "util/macros.h"

#define LINE_LEN 64
#define NUMBER_AT 5
#define NUMBER_DIGITS 10

/* Counts the decimal line number inside the line in place: formatting every line anew
 * would cost more than writing it. */
static void line_number_next(char *line) {
        for (int i = NUMBER_AT + NUMBER_DIGITS - 1; i >= NUMBER_AT; i--) {
                if (line[i] != '9') {
                        line[i]++;
                        return;
                }
                line[i] = '0';
        }
}

static int put(FILE *out, const char *s, size_t n) {
        if (fwrite(s, 1, n, out) != n)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int stress_output(uint64_t bytes, uint64_t marker_every, FILE *out, StressOutputResult *ret) {
        char line[LINE_LEN + 1];
        StressOutputResult res = {0};
        uint64_t since_marker = 0;
        int r;

        /* "line 0000000001 " then filler up to 63 characters and '\n'. */
        memset(line, '.', LINE_LEN);
        memcpy(line, "line 0000000001 ", NUMBER_AT + NUMBER_DIGITS + 1);
        line[LINE_LEN - 1] = '\n';
        line[LINE_LEN] = '\0';

        while (res.bytes < bytes) {
                uint64_t left = bytes - res.bytes;
                if (marker_every > 0 && since_marker == marker_every) {
                        char m[32];
                        int n = snprintf(m, sizeof m, "marker %" PRIu64 "\n", res.markers + 1);
                        if ((uint64_t)n <= left) {
                                r = put(out, m, (size_t)n);
                                if (r < 0)
                                        return r;
                                res.bytes += (uint64_t)n;
                                res.markers++;
                                since_marker = 0;
                                continue;
                        }
                }
                size_t n = (size_t)MIN(left, (uint64_t)LINE_LEN);
                r = put(out, line, n - 1);
                if (r < 0)
                        return r;
                r = put(out, "\n", 1);
                if (r < 0)
                        return r;
                res.bytes += n;
                res.lines++;
                since_marker++;
                line_number_next(line);
        }
        if (fflush(out) != 0)
                return errno > 0 ? -errno : -EIO;
        *ret = res;
        return 0;
}
