/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the parsers of kernel files: /proc/<pid>/smaps_rollup, status and
 * stat (through a captured /proc tree), /proc/self/cgroup with mountinfo (the input's
 * first NUL splits them), and the cgroup "key value" and PSI files. Kernels differ and a
 * runner must never crash on what one prints. Built and run by `make test-fuzz`. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "fuzz-common.h"
#include "measure/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[] = "/tmp/corun-fuzz-procfs.XXXXXX";
static int root_fd = -1;

static void put(const char *name, const uint8_t *data, size_t size) {
        fuzz_put_file(root, name, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (root_fd < 0) {
                char p[256];
                if (!mkdtemp(root))
                        abort();
                snprintf(p, sizeof p, "%s/42", root);
                if (mkdir(p, 0755) < 0)
                        abort();
                snprintf(p, sizeof p, "%s/42/task", root);
                (void)mkdir(p, 0755);
                root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (root_fd < 0)
                        abort();
        }
        put("42/smaps_rollup", data, size);
        put("42/status", data, size);
        put("42/stat", data, size);
        ProcMem pm;
        CpuSet c, m;
        uint64_t v, w;
        (void)proc_read_smaps_rollup(root_fd, 42, &pm);
        (void)proc_read_status_cpus(root_fd, 42, &c, &m);
        (void)proc_read_stat_starttime(root_fd, 42, &v);
        (void)proc_read_ctxsw(root_fd, 42, &v, &w);

        put("cpu.stat", data, size);
        (void)cg_read_keyed(root, "cpu.stat", "usage_usec", &v);
        (void)cg_read_u64(root, "cpu.stat", &v);
        (void)cg_read_psi_total(root, "cpu.stat", "some", &v);
        CgKey keys[] = {{"user_usec", &v, false}, {"some", &w, true}};
        (void)cg_read_keys(root, "cpu.stat", keys, 2);

        char *text = malloc(size + 2);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = text[size + 1] = '\0';
        const char *mountinfo = text + strlen(text) + (strlen(text) < size ? 1 : 0);
        CgDiscovery d;
        memset(&d, 0, sizeof d);
        (void)cg_discovery_parse(text, mountinfo, &d);
        cg_discovery_done(&d);
        free(text);
        return 0;
}
