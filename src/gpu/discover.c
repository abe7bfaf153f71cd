/* SPDX-License-Identifier: MIT */
/* GPU discovery: NVML lists the devices (its index is what nvidia-smi shows), the CUDA
 * driver adds each device's SM count. The two are matched by UUID, never by index: NVML
 * numbers devices its own way, CUDA by CUDA_DEVICE_ORDER and CUDA_VISIBLE_DEVICES. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gpu/gpu-dl.h"
#include "gpu/gpu.h"
#include "gpu/timeslice.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/parse.h"

GpuHost *gpu_host_free(GpuHost *h) {
        if (!h)
                return NULL;
        free(h->devices);
        free(h->why_none);
        free(h);
        return NULL;
}

bool gpu_host_maybe(void) {
        return access("/dev/nvidiactl", F_OK) == 0 || getenv("CORUN_GPU_SIM_STATE");
}

const GpuDevice *gpu_host_by_uuid(const GpuHost *h, const char *uuid) {
        for (size_t i = 0; h && uuid && i < h->n_devices; i++)
                if (strcasecmp(h->devices[i].uuid, uuid) == 0)
                        return &h->devices[i];
        return NULL;
}

const GpuDevice *gpu_host_by_index(const GpuHost *h, unsigned nvml_index) {
        for (size_t i = 0; h && i < h->n_devices; i++)
                if (h->devices[i].nvml_index == nvml_index)
                        return &h->devices[i];
        return NULL;
}

/* NVML's "00000000:3B:00.0"; upper case so that string order is bus order. */
static void bus_id_normalise(char *s) {
        for (; *s; s++)
                *s = (char)toupper((unsigned char)*s);
}

/* The kernel's idea of the device's node, when NVML has no nvmlDeviceGetNumaNodeId. */
static int numa_node_sysfs(const NvmlPciInfo *pci) {
        char path[128];
        _cleanup_free_ char *text = NULL;
        int64_t node;
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%04x:%02x:%02x.0/numa_node", pci->domain & 0xffff,
                 pci->bus & 0xff, pci->device & 0x1f);
        if (read_full_file(path, 64, &text, NULL) < 0 || parse_i64(text, &node) < 0 || node < 0 ||
            node > 4095)
                return -1;
        return (int)node;
}

static bool process_util_works(const GpuNvml *n, NvmlDevice d) {
        if (!n->device_get_process_utilization)
                return false;
        unsigned count = 0;
        int r = n->device_get_process_utilization(d, NULL, &count, 0);
        /* NOT_FOUND is "no sample yet", INSUFFICIENT_SIZE "there are some": both work. */
        return r == NVML_SUCCESS || r == NVML_ERROR_NOT_FOUND || r == NVML_ERROR_INSUFFICIENT_SIZE;
}

static int device_read(const GpuNvml *n, unsigned index, GpuDevice *ret) {
        NvmlDevice d;
        NvmlMemory mem;
        NvmlPciInfo pci;
        GpuDevice g = {.nvml_index = index, .numa_node = -1, .mig_mode = -1};
        unsigned cur, pending, node;

        if (n->device_get_handle_by_index(index, &d) != NVML_SUCCESS ||
            n->device_get_uuid(d, g.uuid, sizeof g.uuid) != NVML_SUCCESS ||
            n->device_get_pci_info(d, &pci) != NVML_SUCCESS)
                return -ENODEV;
        if (n->device_get_name(d, g.name, sizeof g.name) != NVML_SUCCESS)
                snprintf(g.name, sizeof g.name, "?");
        if (n->device_get_memory_info(d, &mem) == NVML_SUCCESS)
                g.memory_total = mem.total;
        snprintf(g.pci_bus_id, sizeof g.pci_bus_id, "%s", pci.bus_id);
        bus_id_normalise(g.pci_bus_id);
        if (n->device_get_numa_node_id && n->device_get_numa_node_id(d, &node) == NVML_SUCCESS &&
            node < 4096)
                g.numa_node = (int)node;
        else
                g.numa_node = numa_node_sysfs(&pci);
        if (n->device_get_mig_mode && n->device_get_mig_mode(d, &cur, &pending) == NVML_SUCCESS)
                g.mig_mode = cur ? 1 : 0;
        if (n->device_get_max_clock_info &&
            n->device_get_max_clock_info(d, NVML_CLOCK_SM, &cur) == NVML_SUCCESS)
                g.sm_clock_max_mhz = cur;
        g.process_util_supported = process_util_works(n, d);
        /* Measured by `corun doctor --gpu-timeslice` this boot, or not known (0). */
        if (gpu_timeslice_load(NULL, g.uuid, &g.timeslice) < 0)
                g.timeslice = (GpuTimeslice){0};
        *ret = g;
        return 0;
}

static int by_bus_id(const void *a, const void *b) {
        return strcmp(((const GpuDevice *)a)->pci_bus_id, ((const GpuDevice *)b)->pci_bus_id);
}

/* SM counts from the CUDA driver, matched by UUID. Devices CUDA does not show (hidden by
 * CUDA_VISIBLE_DEVICES, or no libcuda) keep sm_count 0. */
static void add_cuda(GpuHost *h) {
        const GpuCuda *c = gpu_cuda(NULL);
        int n = 0;
        if (!c || c->device_get_count(&n) != CUDA_SUCCESS)
                return;
        (void)c->driver_get_version(&h->cuda_driver_version);
        for (int i = 0; i < n; i++) {
                CuDevice d;
                unsigned char raw[16];
                char uuid[GPU_UUID_MAX];
                int sms;
                if (c->device_get(&d, i) != CUDA_SUCCESS || c->device_get_uuid(raw, d) != CUDA_SUCCESS)
                        continue;
                gpu_uuid_format(raw, uuid, sizeof uuid);
                GpuDevice *g = (GpuDevice *)gpu_host_by_uuid(h, uuid);
                if (g &&
                    c->device_get_attribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d) ==
                            CUDA_SUCCESS &&
                    sms > 0)
                        g->sm_count = (unsigned)sms;
        }
}

/* The MPS control daemon listens on <pipe directory>/control. */
static bool mps_running(void) {
        const char *dir = getenv("CUDA_MPS_PIPE_DIRECTORY");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct stat st;
        if (isempty(dir))
                dir = "/tmp/nvidia-mps";
        if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control", dir) >= sizeof sa.sun_path ||
            stat(sa.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return false;
        /* The daemon's socket type is its own business: a connect of the wrong type fails
         * with EPROTOTYPE, one to a socket nobody listens on with ECONNREFUSED. */
        static const int types[] = {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_close_ int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        continue;
                if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                        return true;
                if (errno != EPROTOTYPE)
                        return false;
        }
        return false;
}

int gpu_host_discover(GpuHost **ret) {
        _cleanup_(gpu_host_freep) GpuHost *h = calloc(1, sizeof *h);
        _cleanup_free_ char *why = NULL;
        unsigned count = 0;
        int r;

        if (!h)
                return -ENOMEM;
        const GpuNvml *n = gpu_nvml(&why);
        if (!n) {
                h->why_none = TAKE_PTR(why);
                if (!h->why_none)
                        return -ENOMEM;
                *ret = TAKE_PTR(h);
                return 0;
        }
        if (n->system_get_driver_version &&
            n->system_get_driver_version(h->driver_version, sizeof h->driver_version) != NVML_SUCCESS)
                h->driver_version[0] = '\0';
        r = n->device_get_count(&count);
        if (r != NVML_SUCCESS)
                r = error_setf(&h->why_none, -EIO, "NVML cannot count the GPUs: %s",
                               gpu_nvml_strerror(n, r));
        else if (count == 0)
                r = error_setf(&h->why_none, -ENODEV, "NVML (driver %s) sees no GPU",
                               *h->driver_version ? h->driver_version : "?");
        if (r != NVML_SUCCESS) {
                if (!h->why_none)
                        return -ENOMEM;
                *ret = TAKE_PTR(h);
                return 0;
        }
        h->nvml_count = count;
        h->devices = calloc(count, sizeof *h->devices);
        if (!h->devices)
                return -ENOMEM;
        for (unsigned i = 0; i < count; i++)
                if (device_read(n, i, &h->devices[h->n_devices]) >= 0)
                        h->n_devices++;
        if (h->n_devices == 0 &&
            error_setf(&h->why_none, -ENODEV, "NVML counts %u GPU(s) but none answers", count) &&
            !h->why_none)
                return -ENOMEM;
        qsort(h->devices, h->n_devices, sizeof *h->devices, by_bus_id);
        add_cuda(h);
        h->mps_running = mps_running();
        *ret = TAKE_PTR(h);
        return 0;
}
