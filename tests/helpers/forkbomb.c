/* SPDX-License-Identifier: MIT */
/* forkbomb [--max N] [--seconds DURATION]: every process forks in a loop, and every child
 * does the same, until fork fails. Then each waits until DURATION (default 3s) after the
 * start, reaps its children and exits; the first process prints
 *   forkbomb: forks=F EAGAIN=E other_errors=O max=N
 * Bounded so that it cannot take a machine down even without a pids limit: at most N fork
 * attempts in all (default 100000), and never more than half of kernel.pid_max and
 * kernel.threads-max, so the rest of the machine can still fork meanwhile. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress/stress.h"
#include "util/macros.h"
#include "util/parse.h"
#include "util/time-util.h"

typedef struct Shared {
        atomic_uint_least64_t attempts, forks, eagain, other;
} Shared;

static uint64_t read_sysctl(const char *path, uint64_t fallback) {
        char buf[64];
        uint64_t v;
        FILE *f = fopen(path, "re");
        if (!f)
                return fallback;
        bool ok = fgets(buf, sizeof buf, f) && parse_u64(buf, &v) == 0;
        fclose(f);
        return ok ? v : fallback;
}

int main(int argc, char **argv) {
        uint64_t max = 100000, linger = 3 * 1000000;

        for (int i = 1; i < argc; i++) {
                bool has_value = i + 1 < argc;
                if (strcmp(argv[i], "--max") == 0 && has_value) {
                        if (parse_u64(argv[++i], &max) < 0) {
                                fprintf(stderr, "forkbomb: invalid --max '%s'\n", argv[i]);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--seconds") == 0 && has_value) {
                        if (parse_duration(argv[++i], &linger) < 0 || linger > 3600 * UINT64_C(1000000)) {
                                fprintf(stderr, "forkbomb: invalid --seconds '%s' (at most 1h)\n", argv[i]);
                                return 2;
                        }
                } else {
                        fprintf(stderr, "usage: forkbomb [--max N] [--seconds DURATION]\n");
                        return 2;
                }
        }
        uint64_t pid_max = read_sysctl("/proc/sys/kernel/pid_max", 32768);
        uint64_t threads_max = read_sysctl("/proc/sys/kernel/threads-max", 32768);
        uint64_t cap = MIN(pid_max, threads_max) / 2;
        if (max > cap) {
                fprintf(stderr, "forkbomb: --max %" PRIu64 " lowered to %" PRIu64 " (half of %s)\n", max,
                        cap, pid_max < threads_max ? "kernel.pid_max" : "kernel.threads-max");
                max = cap;
        }

        /* Counters shared by the whole tree: the children fork too, and only the first
         * process reports. */
        Shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (s == MAP_FAILED) {
                perror("forkbomb: mmap");
                return 1;
        }
        pid_t top = getpid();
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + linger;
        fflush(stdout);
        while (now_usec(CLOCK_MONOTONIC) < deadline && atomic_fetch_add(&s->attempts, 1) < max) {
                pid_t pid = fork();
                if (pid == 0)
                        continue; /* the child joins the loop */
                if (pid < 0) {
                        atomic_fetch_add(errno == EAGAIN ? &s->eagain : &s->other, 1);
                        break;
                }
                atomic_fetch_add(&s->forks, 1);
        }
        stress_sleep_until(deadline);
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        if (getpid() != top)
                _exit(0);
        printf("forkbomb: forks=%" PRIu64 " EAGAIN=%" PRIu64 " other_errors=%" PRIu64 " max=%" PRIu64 "\n",
               (uint64_t)s->forks, (uint64_t)s->eagain, (uint64_t)s->other, max);
        return 0;
}
