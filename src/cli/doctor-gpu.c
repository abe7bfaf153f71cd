/* SPDX-License-Identifier: MIT */
/* corun doctor's GPU checks (doctor.h): what NVML and the CUDA driver say of each GPU, and
 * --gpu-timeslice, which measures each GPU's time slice beside a busy neighbour it starts. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/doctor.h"
#include "gpu/gpu-dl.h"
#include "gpu/region.h"
#include "gpu/timeslice.h"
#include "stress/stress.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/time-util.h"

extern char **environ;

/* NVML's reasons for the GPU's clock being below its highest now (gpu/clocks.h); 0 when
 * NVML does not say. Only doctor asks: a run follows the clocks at every tick instead. */
static uint64_t clock_events_now(const char *uuid) {
        const GpuNvml *n = gpu_nvml(NULL);
        NvmlDevice d;
        unsigned long long events;
        if (!n || !n->device_get_clock_event_reasons ||
            n->device_get_handle_by_uuid(uuid, &d) != NVML_SUCCESS ||
            n->device_get_clock_event_reasons(d, &events) != NVML_SUCCESS)
                return 0;
        return events;
}

/* One line for the GPUs as a whole, then one per GPU in PCI bus order (the order of
 * CUDA_DEVICE_ORDER=PCI_BUS_ID), each with NVML's index, which may differ. */
void check_gpus(Doctor *d, const GpuHost *g) {
        if (!g) {
                check_add(d, "gpu", LEVEL_OK, NULL, "none: out of memory while looking");
                return;
        }
        if (g->n_devices == 0) {
                check_add(d, "gpu", LEVEL_OK, NULL, "none: %s", g->why_none ? g->why_none : "?");
                return;
        }
        char cuda[32] = "";
        if (g->cuda_driver_version > 0)
                snprintf(cuda, sizeof cuda, ", CUDA %d.%d", g->cuda_driver_version / 1000,
                         g->cuda_driver_version % 1000 / 10);
        if (g->nvml_count > g->n_devices)
                check_add(d, "gpu", LEVEL_WARN, "nvidia-smi -q shows what is wrong with it",
                          "%zu GPU(s) usable, but NVML counts %u (driver %s%s): the others do not answer",
                          g->n_devices, g->nvml_count, *g->driver_version ? g->driver_version : "?", cuda);
        else
                check_add(d, "gpu", LEVEL_OK, NULL, "%zu GPU(s), driver %s%s; MPS daemon %s", g->n_devices,
                          *g->driver_version ? g->driver_version : "?", cuda,
                          g->mps_running ? "running" : "not running");
        for (size_t i = 0; i < g->n_devices; i++) {
                const GpuDevice *v = &g->devices[i];
                char name[24], mem[FORMAT_SIZE_MAX], numa[24], sms[64];
                snprintf(name, sizeof name, "gpu %u", v->nvml_index);
                format_size(mem, sizeof mem, v->memory_total);
                if (v->numa_node >= 0)
                        snprintf(numa, sizeof numa, "NUMA node %d", v->numa_node);
                else
                        snprintf(numa, sizeof numa, "NUMA node unknown");
                if (v->sm_count > 0)
                        snprintf(sms, sizeof sms, "%u SMs", v->sm_count);
                else
                        snprintf(sms, sizeof sms, "SMs unknown");
                if (v->sm_clock_max_mhz > 0)
                        snprintf(sms + strlen(sms), sizeof sms - strlen(sms), " at up to %u MHz",
                                 v->sm_clock_max_mhz);
                Level level = v->process_util_supported && v->mig_mode != 1 ? LEVEL_OK : LEVEL_WARN;
                const char *fix = !v->process_util_supported
                                          ? "a GPU and driver with per-process accounting "
                                            "(Maxwell or newer)"
                                  : v->mig_mode == 1 ? "nvidia-smi -i <index> -mig 0"
                                                     : NULL;
                char slice[160];
                if (v->timeslice.slice_ns > 0)
                        snprintf(slice, sizeof slice,
                                 "time slice %.2f ms, %.0f us per switch (measured this boot)",
                                 v->timeslice.slice_ns / 1e6, v->timeslice.switch_ns / 1e3);
                else
                        snprintf(slice, sizeof slice,
                                 "time slice not measured (caps take an H200's %.2f ms; corun doctor "
                                 "--gpu-timeslice)",
                                 GPU_TIMESLICE_NS / 1e6);
                check_add(d, name, level, fix,
                          "%s, %s, %s, PCI %s, %s, %s, MIG %s, per-process utilisation %s, %s", v->uuid,
                          v->name, mem, v->pci_bus_id, numa, sms,
                          v->mig_mode == 1
                                  ? "on (corun assigns whole GPUs: MIG instances are not supported yet)"
                          : v->mig_mode == 0 ? "off"
                                             : "not supported",
                          v->process_util_supported ? "sampling works"
                                                    : "not available (jobs' SM shares cannot be measured)",
                          slice);
                /* Hot or at its power limit now: what is measured now runs slower. */
                uint64_t slow = clock_events_now(v->uuid) & GPU_CLOCK_EVENT_SLOWDOWNS;
                if (slow) {
                        char names[256];
                        snprintf(name, sizeof name, "gpu %u clock", v->nvml_index);
                        check_add(d, name, LEVEL_WARN,
                                  "let it cool or lighten its load before measuring; "
                                  "nvidia-smi -q -d PERFORMANCE says more",
                                  "GPU %u is lowering its clocks now (%s): "
                                  "work measured on it now runs slower than at full clock",
                                  v->nvml_index, gpu_clock_event_list(slow, ',', names, sizeof names));
                }
        }
}

json_t *gpus_json(const GpuHost *g) {
        json_t *a = json_array();
        for (size_t i = 0; a && g && i < g->n_devices; i++) {
                const GpuDevice *v = &g->devices[i];
                bool ts = v->timeslice.slice_ns > 0;
                json_array_append_new(
                        a, json_pack("{s:i, s:s, s:s, s:I, s:s, s:i, s:s, s:i, s:o, s:b, s:o, s:o}", "index",
                                     (int)v->nvml_index, "uuid", v->uuid, "name", v->name, "memory_bytes",
                                     (json_int_t)v->memory_total, "pci_bus_id", v->pci_bus_id, "numa_node",
                                     v->numa_node, "mig",
                                     v->mig_mode == 1   ? "on"
                                     : v->mig_mode == 0 ? "off"
                                                        : "unsupported",
                                     "sm_count", (int)v->sm_count, "sm_clock_max_mhz",
                                     v->sm_clock_max_mhz ? json_integer(v->sm_clock_max_mhz) : json_null(),
                                     "process_utilization", v->process_util_supported, "timeslice_ns",
                                     ts ? json_integer(v->timeslice.slice_ns) : json_null(),
                                     "timeslice_switch_ns",
                                     ts ? json_integer(v->timeslice.switch_ns) : json_null()));
        }
        return a;
}

/* The neighbour: `corun stress gpu` on this GPU alone (CUDA_VISIBLE_DEVICES=uuid), 5 ms
 * kernels, two always queued, for 30 s, far longer than the probe takes (a few seconds)
 * and not for long should corun be killed before it kills the neighbour; its stdout and stderr on a
 * pipe, so that its "phase kernels start" says when it is busy. */
#define NEIGHBOUR_START_USEC (30 * USEC_PER_SEC)
static const char marker[] = "stress gpu: phase kernels start\n";

static int neighbour_start(const char *uuid, pid_t *ret_pid, int *ret_fd) {
        size_t n = 0;
        while (environ[n])
                n++;
        _cleanup_free_ char **env = calloc(n + 2, sizeof *env), *cvd = NULL;
        if (!env || asprintf(&cvd, "CUDA_VISIBLE_DEVICES=%s", uuid) < 0)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (!strneq(environ[i], "CUDA_VISIBLE_DEVICES=", 21))
                        env[k++] = environ[i];
        env[k++] = cvd;
        env[k] = NULL;
        char *argv[] = {(char *)"corun", (char *)"stress",    (char *)"gpu", (char *)"--kernel-ms",
                        (char *)"5",     (char *)"--seconds", (char *)"30",  NULL};
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int rfd = fds[0];
        _cleanup_close_ int wfd = fds[1];
        posix_spawn_file_actions_t fa;
        int r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_adddup2(&fa, wfd, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, wfd, STDERR_FILENO);
        /* This binary, by its path (spawning /proc/self/exe runs valgrind's under valgrind). */
        _cleanup_free_ char *self = cli_self_path();
        if (r == 0)
                r = !self            ? ENOMEM
                    : self[0] != '/' ? ENOENT
                                     : posix_spawn(ret_pid, self, &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        *ret_fd = TAKE_FD(rfd);
        return 0;
}

/* Waits for the neighbour's marker; -ETIMEDOUT, or -EPIPE with what it said when it ended
 * first. */
static int neighbour_busy(int fd, char *out, size_t size) {
        size_t len = 0;
        out[0] = '\0';
        uint64_t until = now_usec(CLOCK_MONOTONIC) + NEIGHBOUR_START_USEC;
        for (;;) {
                if (strstr(out, marker))
                        return 0;
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= until)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int r = poll(&p, 1, (int)((until - now) / 1000) + 1);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                if (len + 1 >= size) { /* keep the last half: the marker comes after CUDA's set-up */
                        memmove(out, out + size / 2, len - size / 2 + 1);
                        len -= size / 2;
                }
                ssize_t k = read(fd, out + len, size - 1 - len);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k == 0)
                        return -EPIPE;
                if (k > 0)
                        out[len += (size_t)k] = '\0';
        }
}

static void neighbour_stop(pid_t pid) {
        (void)kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

void check_gpu_timeslices(Doctor *d, GpuHost *g) {
        for (size_t i = 0; g && i < g->n_devices; i++) {
                GpuDevice *v = &g->devices[i];
                char name[24], out[2048];
                snprintf(name, sizeof name, "gpu %u slice", v->nvml_index);
                pid_t pid;
                int fd = -1;
                int r = neighbour_start(v->uuid, &pid, &fd);
                if (r < 0) {
                        check_add(d, name, LEVEL_WARN, NULL,
                                  "time slice not measured: cannot start corun stress gpu: %s",
                                  strerror(-r));
                        continue;
                }
                r = neighbour_busy(fd, out, sizeof out);
                _cleanup_free_ char *why = NULL;
                GpuTimeslice t = {0};
                if (r == 0)
                        r = stress_gpu_timeslice(v->uuid, &t, &why);
                neighbour_stop(pid);
                close(fd);
                if (r == -ETIMEDOUT || r == -EPIPE) {
                        out[strcspn(out, "\n")] = '\0';
                        check_add(d, name, LEVEL_WARN, "corun stress gpu --seconds 5 on that GPU says why",
                                  "time slice not measured: the busy neighbour (corun stress gpu) %s%s%s",
                                  r == -EPIPE ? "ended before it ran" : "did not start in 30 s",
                                  *out ? ": " : "", out);
                        continue;
                }
                if (r < 0) {
                        check_add(d, name, LEVEL_WARN, "run it again with nothing else on that GPU",
                                  "time slice not measured: %s", why ? why : strerror(-r));
                        continue;
                }
                v->timeslice = t;
                const char *file = gpu_timeslice_path(NULL);
                r = gpu_timeslice_store(NULL, v->uuid, &t);
                check_add(
                        d, name, r < 0 ? LEVEL_WARN : LEVEL_OK, r < 0 ? "run corun doctor as root" : NULL,
                        "time slice %.2f ms, %.0f us per switch (measured beside a busy context); %s %s%s%s",
                        t.slice_ns / 1e6, t.switch_ns / 1e3, r < 0 ? "cannot keep it in" : "kept in", file,
                        r < 0 ? ": " : " for corun run until reboot", r < 0 ? strerror(-r) : "");
        }
}
