/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include "stress/stress.h"
#include "util/macros.h"
#include "util/time-util.h"

uint64_t stress_burn(uint64_t seed, uint64_t iters) {
        uint64_t x = seed;
        for (uint64_t i = 0; i < iters; i++) {
                /* An LCG step: each iteration needs the previous result, so the loop neither
                 * vectorises nor runs ahead. The empty asm hides x from the optimiser, which
                 * could otherwise fold n steps into one closed-form multiply-add. */
                x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
                __asm__ volatile("" : "+r"(x));
        }
        return x;
}

int stress_sleep_until(uint64_t usec) {
        /* An absolute deadline: restarting after a signal (a stopped and continued job,
         * SIGWINCH) does not stretch the sleep. */
        struct timespec ts = {
                .tv_sec = (time_t)(usec / USEC_PER_SEC),
                .tv_nsec = (long)(usec % USEC_PER_SEC * NSEC_PER_USEC),
        };
        for (;;) {
                int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                if (r == 0)
                        return 0;
                if (r != EINTR)
                        return -r;
        }
}

void stress_marker(FILE *out, const char *tool, const char *phase, bool start) {
        if (!out)
                return;
        fprintf(out, "stress %s: phase %s %s\n", tool, phase, start ? "start" : "end");
        fflush(out);
}

int stress_sleep(uint64_t usec, FILE *out) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        uint64_t until = usec > UINT64_MAX - now ? UINT64_MAX : now + usec;

        stress_marker(out, "sleep", "sleep", true);
        int r = stress_sleep_until(until);
        if (r < 0)
                return r;
        stress_marker(out, "sleep", "sleep", false);
        return 0;
}
