/* SPDX-License-Identifier: MIT */
/* gpu-sim-ctl: looks at and changes the simulated GPU from outside (tests, people):
 *   gpu-sim-ctl init                      create the state from CORUN_GPU_SIM_* (checks them)
 *   gpu-sim-ctl show                      devices and the processes on them
 *   gpu-sim-ctl fall-off INDEX            NVML device INDEX falls off the bus
 *   gpu-sim-ctl restore INDEX             ... and comes back
 *   gpu-sim-ctl busy INDEX PID FROM TO    ns PID ran on INDEX in the sample periods
 *                                         whose NVML timestamp (µs) is in (FROM, TO]
 *   gpu-sim-ctl done INDEX PID...         "NOW DONE": CLOCK_MONOTONIC ns and the GPU ns
 *                                         the PIDs' work has run on INDEX so far (summed)
 *   gpu-sim-ctl clock INDEX MHZ [EVENTS]  INDEX runs at MHZ (0: its highest) when busy, for
 *                                         NVML's clock event reasons EVENTS (a number, 0x..
 *                                         for hex; 0 when left out)
 * The state file is CORUN_GPU_SIM_STATE, as for the fake libraries. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int usage(void) {
        fprintf(stderr, "usage: gpu-sim-ctl init | show | fall-off INDEX | restore INDEX | busy INDEX PID "
                        "FROM_US TO_US | done INDEX PID... | clock INDEX MHZ [EVENTS]\n");
        return 2;
}

static int parse_base(const char *s, int base, uint64_t *ret) {
        char *end;
        unsigned long long v = strtoull(s, &end, base);
        if (end == s || *end)
                return -1;
        *ret = v;
        return 0;
}

static int parse_u64(const char *s, uint64_t *ret) {
        return parse_base(s, 10, ret);
}

static SimDevice *device_arg(SimState *s, const char *arg) {
        uint64_t i;
        if (parse_u64(arg, &i) < 0 || i >= s->n_devices) {
                fprintf(stderr, "gpu-sim-ctl: no NVML device '%s' (there are %u)\n", arg, s->n_devices);
                return NULL;
        }
        return &s->dev[i];
}

static void show(SimState *s) {
        uint64_t now = sim_now_ns();
        printf("sample period %" PRIu64 " us, slice %" PRIu64 " us, driver %s, CUDA %d\n",
               s->period_ns / 1000, s->slice_ns / 1000, s->driver_version, s->cuda_version);
        for (unsigned i = 0; i < s->n_devices; i++) {
                SimDevice *d = &s->dev[i];
                sim_advance(s, d, now);
                printf("nvml %u: %s %s bus %s sm %u mem %" PRIu64 " numa %d mig %d%s\n", i, d->uuid, d->name,
                       d->bus_id, d->sm_count, d->mem_total, d->numa_node, d->mig_mode,
                       d->lost ? " LOST" : "");
                for (int k = 0; k < SIM_MAX_CTX; k++)
                        if (d->ctx[k].pid)
                                printf("  pid %d: mem %" PRIu64 " submitted %" PRIu64 " ns done %" PRIu64
                                       " ns\n",
                                       d->ctx[k].pid, d->ctx[k].mem_used, d->ctx[k].submitted_ns,
                                       d->ctx[k].done_ns);
        }
}

int main(int argc, char **argv) {
        if (argc < 2)
                return usage();
        SimState *s = sim_get();
        if (!s) {
                fprintf(stderr, "gpu-sim-ctl: %s\n", sim_why());
                return 1;
        }
        const char *cmd = argv[1];
        int r = 0;
        sim_lock(s);
        if (strcmp(cmd, "init") == 0 && argc == 2)
                ;
        else if (strcmp(cmd, "show") == 0 && argc == 2)
                show(s);
        else if ((strcmp(cmd, "fall-off") == 0 || strcmp(cmd, "restore") == 0) && argc == 3) {
                SimDevice *d = device_arg(s, argv[2]);
                if (d)
                        __atomic_store_n(&d->lost, strcmp(cmd, "fall-off") == 0, __ATOMIC_RELAXED);
                else
                        r = 1;
        } else if (strcmp(cmd, "busy") == 0 && argc == 6) {
                SimDevice *d = device_arg(s, argv[2]);
                uint64_t pid, from, to;
                if (!d || parse_u64(argv[3], &pid) < 0 || parse_u64(argv[4], &from) < 0 ||
                    parse_u64(argv[5], &to) < 0)
                        r = 1;
                else {
                        sim_advance(s, d, sim_now_ns());
                        printf("%" PRIu64 "\n", sim_busy_ns(s, d, (pid_t)pid, from, to));
                }
        } else if (strcmp(cmd, "done") == 0 && argc >= 4) {
                SimDevice *d = device_arg(s, argv[2]);
                uint64_t now = sim_now_ns(), done = 0, pid;
                if (d)
                        sim_advance(s, d, now);
                for (int a = 3; d && a < argc; a++) {
                        if (parse_u64(argv[a], &pid) < 0) {
                                d = NULL;
                                break;
                        }
                        SimCtx *c = sim_ctx(d, (pid_t)pid, false);
                        done += c ? c->done_ns : 0;
                }
                if (d)
                        printf("%" PRIu64 " %" PRIu64 "\n", now, done);
                else
                        r = 1;
        } else if (strcmp(cmd, "clock") == 0 && (argc == 4 || argc == 5)) {
                SimDevice *d = device_arg(s, argv[2]);
                uint64_t mhz, events = 0;
                if (!d || parse_u64(argv[3], &mhz) < 0 || mhz > 100000 ||
                    (argc == 5 && parse_base(argv[4], 0, &events) < 0))
                        r = 1;
                else {
                        d->clock_mhz = (uint32_t)mhz;
                        d->clock_events = events;
                }
        } else
                r = -1;
        sim_unlock(s);
        return r < 0 ? usage() : r;
}
