/* SPDX-License-Identifier: MIT */
/* Baseline for the per-job overhead benchmark: N sequential fork+exec+wait of argv,
 * no partitions, nothing measured. Prints the total wall time in seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: bare-spawn N CMD [ARG...]\n");
                return 2;
        }
        long n = strtol(argv[1], NULL, 10);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n; i++) {
                pid_t p = fork();
                if (p == 0) {
                        execvp(argv[2], argv + 2);
                        _exit(127);
                }
                int st;
                waitpid(p, &st, 0);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
        return 0;
}
