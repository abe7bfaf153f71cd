/* SPDX-License-Identifier: MIT */
/* markers [--interval-ms N] [--count K] [--burn]: for k = 1..K prints "phase k start",
 * waits N ms (default 100) sleeping, or burning CPU with --burn, then prints
 * "phase k end"; K defaults to 3. Every line is flushed at once, so a runner that times
 * phases by their markers sees them when they happen. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stress/stress.h"
#include "util/parse.h"
#include "util/time-util.h"

int main(int argc, char **argv) {
        uint64_t interval_ms = 100, count = 3;
        bool burn = false;

        for (int i = 1; i < argc; i++) {
                bool has_value = i + 1 < argc;
                if (strcmp(argv[i], "--interval-ms") == 0 && has_value) {
                        if (parse_u64(argv[++i], &interval_ms) < 0 || interval_ms > UINT64_MAX / 1000) {
                                fprintf(stderr, "markers: invalid --interval-ms '%s'\n", argv[i]);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--count") == 0 && has_value) {
                        if (parse_u64(argv[++i], &count) < 0) {
                                fprintf(stderr, "markers: invalid --count '%s'\n", argv[i]);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--burn") == 0) {
                        burn = true;
                } else {
                        fprintf(stderr, "usage: markers [--interval-ms N] [--count K] [--burn]\n");
                        return 2;
                }
        }
        uint64_t x = 1;
        for (uint64_t k = 1; k <= count; k++) {
                printf("phase %" PRIu64 " start\n", k);
                fflush(stdout);
                uint64_t until = now_usec(CLOCK_MONOTONIC) + interval_ms * 1000;
                if (burn) {
                        /* Short slices so that the phase ends within a few microseconds of N ms. */
                        while (now_usec(CLOCK_MONOTONIC) < until)
                                x = stress_burn(x, 10000);
                } else {
                        stress_sleep_until(until);
                }
                printf("phase %" PRIu64 " end\n", k);
                fflush(stdout);
        }
        /* Using the result keeps the burn from being optimised out. */
        return x == 0 ? 3 : 0;
}
