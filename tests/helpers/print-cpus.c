/* SPDX-License-Identifier: MIT */
/* print-cpus: shows what a job sees of its partition, one fact a line:
 *   Cpus_allowed_list:\t<list>     Mems_allowed_list:\t<list>   (from /proc/self/status)
 *   affinity: <list>                                             (sched_getaffinity)
 *   cgroup: <line>                                               (each /proc/self/cgroup line)
 *   OMP_NUM_THREADS=<v>  TMPDIR=<v>   (or "NAME is not set")
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cpuset.h"

int main(void) {
        char line[8192];
        int rc = 0;

        FILE *f = fopen("/proc/self/status", "re");
        if (!f) {
                perror("print-cpus: /proc/self/status");
                return 1;
        }
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "Cpus_allowed_list:", 18) == 0 ||
                    strncmp(line, "Mems_allowed_list:", 18) == 0)
                        fputs(line, stdout);
        fclose(f);

        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0) {
                CpuSet cpus;
                cpuset_zero(&cpus);
                for (unsigned i = 0; i < CPU_SETSIZE && i < CPUSET_MAX; i++)
                        if (CPU_ISSET(i, &set))
                                cpuset_add(&cpus, i);
                char buf[4096];
                cpuset_format(&cpus, buf, sizeof buf);
                printf("affinity: %s\n", buf);
        } else {
                perror("print-cpus: sched_getaffinity");
                rc = 1;
        }

        f = fopen("/proc/self/cgroup", "re");
        if (!f) {
                perror("print-cpus: /proc/self/cgroup");
                return 1;
        }
        while (fgets(line, sizeof line, f))
                printf("cgroup: %s", line);
        fclose(f);

        static const char *const vars[] = {"OMP_NUM_THREADS", "TMPDIR"};
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
                const char *v = getenv(vars[i]);
                if (v)
                        printf("%s=%s\n", vars[i], v);
                else
                        printf("%s is not set\n", vars[i]);
        }
        return rc;
}
