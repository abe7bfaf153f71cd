/* SPDX-License-Identifier: MIT */
/* share-check CORUN [--fall-off]: corun's GPU sampler against the simulated GPU's ground
 * truth (run under scripts/gpu-sim.sh with two simulated GPUs).
 *
 * On the first GPU (PCI order) three tenants run `corun stress gpu` at duty cycles of
 * 20, 30 and 40 %, and a fourth process outside every job at 8 %; on the second, a job of
 * two processes (10 + 15 %) beside another outsider at 30 %. Each job is registered with
 * a GpuSampler and polled at NVML's sample period, as the runner does. Each job's mean
 * SM share must be within 1 percentage point of what the simulated device really ran for
 * that job's pids over the same sample periods, the outsiders must never be counted, and
 * the memory of the first tenant (--mem 256M) must be its own.
 *
 * --fall-off: after a few polls the second GPU falls off the bus: the next poll gives one
 * warning naming it, later polls none, and the first GPU's jobs are still measured. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpu/gpu.h"
#include "sim.h"

#define SECONDS "6"
#define MAX_PIDS 2

typedef struct Tenant {
        const char *name;
        int gpu;          /* 0 or 1: position in PCI order */
        const char *duty; /* of each process */
        double nominal;   /* the job's share asked for */
        int n;            /* processes */
        const char *mem;
        uint64_t key; /* 0: outside every job */
        pid_t pids[MAX_PIDS];
        bool alive[MAX_PIDS];
        int status[MAX_PIDS];
        GpuShareAccum accum;
} Tenant;

static Tenant tenants[] = {
        {.name = "t20", .gpu = 0, .duty = "0.2", .nominal = 0.20, .n = 1, .mem = "256M", .key = 1},
        {.name = "t30", .gpu = 0, .duty = "0.3", .nominal = 0.30, .n = 1, .key = 2},
        {.name = "t40", .gpu = 0, .duty = "0.4", .nominal = 0.40, .n = 1, .key = 3},
        {.name = "outsider", .gpu = 0, .duty = "0.08", .n = 1, .mem = "1G"},
        {.name = "fork", .gpu = 1, .duty = "0.1", .nominal = 0.25, .n = 2, .key = 4},
        {.name = "outsider2", .gpu = 1, .duty = "0.3", .n = 1},
};
#define N_TENANTS (sizeof tenants / sizeof tenants[0])

static int failures;

#define check(cond, ...)                                                                                    \
        do {                                                                                                \
                if (!(cond)) {                                                                              \
                        fprintf(stderr, "share-check: FAIL: " __VA_ARGS__);                                 \
                        fputc('\n', stderr);                                                                \
                        failures++;                                                                         \
                }                                                                                           \
        } while (0)

static pid_t spawn(const char *corun, const char *uuid, const Tenant *t, int i) {
        /* The fork job's two processes ask for 10 and 15 %. */
        const char *duty = t->n == 2 && i == 1 ? "0.15" : t->duty;
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        setenv("CUDA_VISIBLE_DEVICES", uuid, 1);
        if (!freopen("/dev/null", "w", stdout))
                _exit(127);
        if (t->mem)
                execl(corun, corun, "stress", "gpu", "--kernel-ms", "2", "--duty", duty, "--seconds", SECONDS, "--mem",
                      t->mem, (char *)NULL);
        else
                execl(corun, corun, "stress", "gpu", "--kernel-ms", "2", "--duty", duty, "--seconds", SECONDS,
                      (char *)NULL);
        _exit(127);
}

static Tenant *by_key(uint64_t key) {
        for (size_t i = 0; i < N_TENANTS; i++)
                if (tenants[i].key == key)
                        return &tenants[i];
        return NULL;
}

/* The runner gives the pids in the job's cgroup; here, the job's processes still running. */
static int pids_of(void *userdata, uint64_t key, pid_t **ret, size_t *ret_n) {
        Tenant *t = by_key(key);
        pid_t *p = calloc(MAX_PIDS, sizeof *p);
        size_t n = 0;
        if (!t || !p) {
                free(p);
                return -ENOMEM;
        }
        for (int i = 0; i < t->n; i++)
                if (t->alive[i])
                        p[n++] = t->pids[i];
        *ret = p;
        *ret_n = n;
        return 0;
}

static int reap(void) {
        int running = 0;
        for (size_t k = 0; k < N_TENANTS; k++)
                for (int i = 0; i < tenants[k].n; i++) {
                        Tenant *t = &tenants[k];
                        if (t->alive[i] && waitpid(t->pids[i], &t->status[i], WNOHANG) == t->pids[i])
                                t->alive[i] = false;
                        running += t->alive[i];
                }
        return running;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = {.tv_sec = (time_t)(usec / 1000000), .tv_nsec = (long)(usec % 1000000) * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static SimDevice *sim_device(SimState *s, const char *uuid) {
        for (unsigned i = 0; i < s->n_devices; i++)
                if (strcmp(s->dev[i].uuid, uuid) == 0)
                        return &s->dev[i];
        return NULL;
}

/* What the simulated device ran for the job's pids in the periods the accumulator
 * covered, as a share of that time. */
static double truth(SimState *s, SimDevice *d, const Tenant *t) {
        uint64_t busy = 0;
        const GpuShareAccum *a = &t->accum;
        if (a->last_ts_usec <= a->first_ts_usec)
                return 0;
        sim_lock(s);
        sim_advance(s, d, sim_now_ns());
        for (int i = 0; i < t->n; i++)
                busy += sim_busy_ns(s, d, t->pids[i], a->first_ts_usec, a->last_ts_usec);
        sim_unlock(s);
        return (double)busy / 1000.0 / (double)(a->last_ts_usec - a->first_ts_usec);
}

int main(int argc, char **argv) {
        if (argc < 2 || (argc == 3 && strcmp(argv[2], "--fall-off") != 0) || argc > 3) {
                fprintf(stderr, "usage: share-check CORUN [--fall-off]\n");
                return 2;
        }
        const char *corun = argv[1];
        bool fall_off = argc == 3;
        SimState *s = sim_get();
        if (!s) {
                fprintf(stderr, "share-check: %s\n", sim_why());
                return 2;
        }
        GpuHost *h = NULL;
        if (gpu_host_discover(&h) < 0 || h->n_devices < 2) {
                fprintf(stderr, "share-check: need two simulated GPUs: %s\n", h && h->why_none ? h->why_none : "");
                return 2;
        }
        GpuSampler *sampler = NULL;
        int r = gpu_sampler_new(h, &sampler);
        if (r < 0) {
                fprintf(stderr, "share-check: gpu_sampler_new: %s\n", strerror(-r));
                return 2;
        }

        for (size_t k = 0; k < N_TENANTS; k++)
                for (int i = 0; i < tenants[k].n; i++) {
                        tenants[k].pids[i] = spawn(corun, h->devices[tenants[k].gpu].uuid, &tenants[k], i);
                        tenants[k].alive[i] = tenants[k].pids[i] > 0;
                }
        for (size_t k = 0; k < N_TENANTS; k++)
                if (tenants[k].key && gpu_sampler_add_job(sampler, tenants[k].key,
                                                          h->devices[tenants[k].gpu].uuid, &tenants[k].accum) < 0) {
                        fprintf(stderr, "share-check: cannot register %s\n", tenants[k].name);
                        return 2;
                }

        unsigned polls = 0, warnings = 0, samples_at_fall = 0;
        int quiet_polls = 0;
        /* Until every tenant has exited, then two more periods for their last samples. */
        while (quiet_polls < 3) {
                sleep_usec(gpu_sampler_period_usec(sampler));
                if (reap() == 0)
                        quiet_polls++;
                char *warning = NULL;
                r = gpu_sampler_poll(sampler, pids_of, NULL, &warning);
                check(r >= 0, "gpu_sampler_poll: %s", strerror(-r));
                polls++;
                if (warning) {
                        printf("warning at poll %u: %s\n", polls, warning);
                        warnings++;
                        check(fall_off, "a warning without a GPU falling off: %s", warning);
                        check(strstr(warning, h->devices[1].uuid) && !strstr(warning, h->devices[0].uuid),
                              "the warning names the wrong GPU: %s", warning);
                        free(warning);
                }
                if (fall_off && polls == 12) {
                        SimDevice *d = sim_device(s, h->devices[1].uuid);
                        __atomic_store_n(&d->lost, 1, __ATOMIC_RELAXED);
                        samples_at_fall = tenants[0].accum.samples;
                        printf("GPU %s fell off at poll %u\n", h->devices[1].uuid, polls);
                }
        }

        uint64_t period = gpu_sampler_period_usec(sampler);
        printf("polls %u, sample period seen %" PRIu64 " us\n", polls, period);
        check(period >= 160000 && period <= 175000, "sample period %" PRIu64 " us, the simulator's is 166667",
              period);
        printf("%-10s %-14s %8s %8s %8s %7s %12s\n", "job", "pids", "asked", "measured", "truth", "samples",
               "memory peak");
        for (size_t k = 0; k < N_TENANTS; k++) {
                Tenant *t = &tenants[k];
                char pids[32];
                snprintf(pids, sizeof pids, "%d%s%.0d", (int)t->pids[0], t->n > 1 ? "," : "",
                         t->n > 1 ? (int)t->pids[1] : 0);
                bool lost = fall_off && t->gpu == 1;
                for (int i = 0; i < t->n; i++)
                        check(lost || (WIFEXITED(t->status[i]) && WEXITSTATUS(t->status[i]) == 0),
                              "%s: stress gpu (pid %d) failed: status %#x", t->name, (int)t->pids[i], t->status[i]);
                if (!t->key) {
                        printf("%-10s %-14s (not a job)\n", t->name, pids);
                        continue;
                }
                double got = gpu_share_accum_mean(&t->accum);
                double want = truth(s, sim_device(s, h->devices[t->gpu].uuid), t);
                printf("%-10s %-14s %7.1f%% %7.2f%% %7.2f%% %7u %12" PRIu64 "\n", t->name, pids, 100 * t->nominal,
                       100 * got, 100 * want, t->accum.samples, t->accum.memory_peak_bytes);
                for (size_t o = 0; o < N_TENANTS; o++)
                        for (unsigned p = 0; p < t->accum.n_pids_seen && !tenants[o].key; p++)
                                check(t->accum.pids_seen[p] != tenants[o].pids[0], "%s counted %s's pid %d",
                                      t->name, tenants[o].name, (int)tenants[o].pids[0]);
                if (lost) {
                        /* Measured until it fell off, not after. */
                        check(t->accum.samples > 0, "%s: no sample before its GPU fell off", t->name);
                        continue;
                }
                check(fabs(got - want) <= 0.01, "%s: measured %.2f %% but it ran %.2f %% of the GPU", t->name,
                      100 * got, 100 * want);
                /* The tenants pace their kernels; together they ask for at most 98 % of
                 * a GPU, so each gets what it asks for, give or take the ramp at the ends. */
                check(fabs(got - t->nominal) <= 0.03, "%s: measured %.2f %%, asked for %.0f %%", t->name, 100 * got,
                      100 * t->nominal);
                check(t->accum.samples >= 25, "%s: only %u sample periods in a %s s run", t->name, t->accum.samples,
                      SECONDS);
        }
        check(tenants[0].accum.memory_peak_bytes == UINT64_C(256) << 20,
              "t20's memory peak is %" PRIu64 " bytes, not its own 256 MiB", tenants[0].accum.memory_peak_bytes);
        check(tenants[1].accum.memory_peak_bytes == 0, "t30 has %" PRIu64 " bytes of memory, it allocated none",
              tenants[1].accum.memory_peak_bytes);
        if (fall_off) {
                check(warnings == 1, "%u warnings for one GPU falling off", warnings);
                check(tenants[0].accum.samples > samples_at_fall + 10,
                      "the other GPU's jobs stopped being measured: %u samples at the fall, %u at the end",
                      samples_at_fall, tenants[0].accum.samples);
        }
        gpu_sampler_free(sampler);
        gpu_host_free(h);
        if (failures) {
                fprintf(stderr, "share-check: %d failure(s)\n", failures);
                return 1;
        }
        printf("share-check: ok\n");
        return 0;
}
