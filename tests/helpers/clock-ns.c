/* SPDX-License-Identifier: MIT */
/* clock-ns: prints CLOCK_MONOTONIC in nanoseconds, one number and a newline. Jobs in
 * integration tests print it at their start and end, so that their intervals can be
 * compared across processes without GNU date's %N (busybox in the VM has none). */
#include <stdio.h>
#include <time.h>

int main(void) {
        struct timespec t;
        if (clock_gettime(CLOCK_MONOTONIC, &t) < 0) {
                perror("clock-ns: clock_gettime");
                return 1;
        }
        printf("%lld%09ld\n", (long long)t.tv_sec, t.tv_nsec);
        return 0;
}
