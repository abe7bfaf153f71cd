/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "exec/exec.h"
#include "util/cpuset.h"
#include "util/macros.h"
#include "util/parse.h"

/* Reads a small sysfs/procfs file, strips the trailing newline. NULL if absent. */
static char *read_line(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        char buf[512];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return strdup(buf);
}

static bool meminfo_value(const char *key, uint64_t *ret_kib) {
        _cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
        char line[256];
        size_t kl = strlen(key);
        while (f && fgets(line, sizeof line, f)) {
                if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
                        unsigned long long v;
                        if (sscanf(line + kl + 1, "%llu", &v) == 1) {
                                *ret_kib = v;
                                return true;
                        }
                }
        }
        return false;
}

int exec_host_info(HostInfo *h) {
        struct utsname u;
        char buf[256];

        if (uname(&u) == 0) {
                snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
                h->kernel = strdup(buf);
                h->hostname = strdup(u.nodename);
        }
        _cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "re");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
                if (strncmp(line, "model name", 10) == 0) {
                        char *c = strchr(line, ':');
                        if (c) {
                                c += 1 + strspn(c + 1, " \t");
                                c[strcspn(c, "\n")] = '\0';
                                h->cpu_model = strdup(c);
                        }
                        break;
                }
        }
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        h->n_cpus_online = online > 0 ? (unsigned)online : 0;
        cpu_set_t cs;
        if (sched_getaffinity(0, sizeof cs, &cs) == 0) {
                CpuSet s = {0};
                for (unsigned i = 0; i < CPU_SETSIZE && i < CPUSET_MAX; i++)
                        if (CPU_ISSET(i, &cs))
                                cpuset_add(&s, i);
                h->n_cpus_allowed = cpuset_count(&s);
                h->allowed_cpus = cpuset_to_string(&s);
        }
        h->governor = read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
        if (!h->governor)
                h->governor = strdup("unknown (no cpufreq)");
        /* Turbo: intel_pstate says no_turbo, acpi-cpufreq and amd say boost. */
        char *nt = read_line("/sys/devices/system/cpu/intel_pstate/no_turbo");
        char *boost = nt ? NULL : read_line("/sys/devices/system/cpu/cpufreq/boost");
        if (nt)
                h->turbo = strdup(streq(nt, "1") ? "off" : "on");
        else if (boost)
                h->turbo = strdup(streq(boost, "1") ? "on" : "off");
        else
                h->turbo = strdup("unknown");
        free(nt);
        free(boost);
        char *smt = read_line("/sys/devices/system/cpu/smt/control");
        h->smt = smt ? smt : strdup("unknown");
        uint64_t kib = 0;
        if (meminfo_value("MemTotal", &kib))
                h->memory_total_bytes = kib * 1024;
        kib = 0;
        h->swap_on = meminfo_value("SwapTotal", &kib) && kib > 0;
        return 0;
}
