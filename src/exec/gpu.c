/* SPDX-License-Identifier: MIT */
/* gpu.c: the runner's GPUs (docs/gpu.md): discovery at setup, each job's GPU request
 * resolved into its allocation request, CUDA_VISIBLE_DEVICES, and the NVML sampler driven
 * from the sample tick: each GPU job's own pids (its group's procs), one accumulator per
 * assigned GPU, a samples/<...>.gpu.csv series, and the job's "gpus" in result.json. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec-internal.h"
#include "util/error.h"
#include "util/fileio.h"

static unsigned n_usable(const Runner *R) {
        return R->gpus ? (unsigned)MIN(R->gpus->n_devices, (size_t)ALLOC_GPUS_MAX) : 0;
}

static bool plan_wants_gpus(const Plan *plan) {
        for (size_t i = 0; i < plan->n_runs; i++)
                for (size_t k = 0; k < plan->runs[i].n_jobs; k++) {
                        GpuRequestKind g = plan->runs[i].jobs[k].limits.gpus.kind;
                        if (g == GPUS_COUNT || g == GPUS_LIST)
                                return true;
                }
        return false;
}

int exec_gpu_setup(Runner *R, AllocOptions *ao, char **ret_error) {
        int r;
        /* No NVIDIA driver and no GPU asked for: nothing to find, and not worth a dlopen. */
        if (!plan_wants_gpus(R->plan) && !gpu_host_maybe()) {
                R->gpus = calloc(1, sizeof *R->gpus);
                if (!R->gpus || !(R->gpus->why_none = strdup("no /dev/nvidiactl (no NVIDIA driver on this machine)")))
                        return -ENOMEM;
                R->result->host.gpus_why_none = strdup(R->gpus->why_none);
                return 0;
        }
        r = gpu_host_discover(&R->gpus);
        if (r < 0)
                return error_setf(ret_error, r, "cannot look for GPUs: %s", strerror(-r));
        HostInfo *h = &R->result->host;
        const GpuHost *g = R->gpus;
        if (g->n_devices == 0) {
                h->gpus_why_none = g->why_none ? strdup(g->why_none) : NULL;
                return 0;
        }
        h->gpu_driver = g->driver_version[0] ? strdup(g->driver_version) : NULL;
        h->cuda_driver = g->cuda_driver_version;
        unsigned n = n_usable(R);
        R->gpu_numa = calloc(n, sizeof(int));
        if (!R->gpu_numa)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_devices; i++) {
                const GpuDevice *d = &g->devices[i];
                HostGpu *x = host_info_add_gpu(h);
                if (!x)
                        return -ENOMEM;
                x->index = d->nvml_index;
                x->uuid = strdup(d->uuid);
                x->name = strdup(d->name);
                x->pci_bus_id = strdup(d->pci_bus_id);
                x->memory_bytes = d->memory_total;
                x->numa_node = d->numa_node;
                x->sm_count = d->sm_count;
                x->sm_clock_max_mhz = d->sm_clock_max_mhz;
                x->timeslice_ns = (uint64_t)d->timeslice.slice_ns;
                x->timeslice_switch_ns = d->timeslice.slice_ns > 0 ? (uint64_t)d->timeslice.switch_ns : 0;
                if (i < n)
                        R->gpu_numa[i] = d->numa_node;
        }
        if (g->n_devices > n)
                exec_warn(R, "this machine has %zu GPUs; corun assigns the first %u (in PCI order) only",
                          g->n_devices, n);
        ao->n_gpus = n;
        ao->gpu_numa = R->gpu_numa;
        if (plan_wants_gpus(R->plan)) {
                r = gpu_sampler_new(g, &R->gpu_sampler);
                if (r < 0)
                        return error_setf(ret_error, r, "cannot start the GPU sampler: %s", strerror(-r));
        }
        return 0;
}

void exec_gpu_teardown(Runner *R) {
        exec_gpu_limit_teardown(R);
        R->gpu_sampler = gpu_sampler_free(R->gpu_sampler);
        R->gpus = gpu_host_free(R->gpus);
        free(R->gpu_numa);
        R->gpu_numa = NULL;
}

int exec_request_init(Runner *R, const PlanJob *pj, AllocRequest *ret, char **ret_error) {
        alloc_request_init(ret, pj->name, &pj->limits);
        return gpu_request_resolve(&pj->limits.gpus, R->gpus, pj->name, &ret->gpu_mask, ret_error);
}

int exec_gpu_shares_check(Runner *R, const PlanRun *run, char **ret_error) {
        size_t n = run->n_jobs;
        bool any = false;
        for (size_t k = 0; k < n && !any; k++)
                any = run->jobs[k].limits.gpus.share_ppm > 0;
        if (!any)
                return 0;
        _cleanup_free_ AllocRequest *reqs = calloc(n, sizeof *reqs);
        _cleanup_free_ const GpuRequest **g = calloc(n, sizeof *g);
        if (!reqs || !g)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                g[k] = &run->jobs[k].limits.gpus;
                /* A list that does not resolve is reported by the job's own check next. */
                if (exec_request_init(R, &run->jobs[k], &reqs[k], NULL) < 0)
                        reqs[k].gpu_share_ppm = 0;
        }
        return gpu_shares_check(reqs, g, n, n_usable(R), ret_error);
}

int exec_gpu_visible(Runner *R, const Job *j, char **ret) {
        *ret = NULL;
        /* No GPU on this machine, or `gpus: any`: the job's environment is left alone. */
        if (n_usable(R) == 0 || j->pj->limits.gpus.kind == GPUS_ANY)
                return 0;
        return gpu_visible_devices(R->gpus, j->asg.gpus, ret);
}

static Job *job_by_key(Runner *R, uint64_t key) {
        for (size_t i = 0; i < R->n_jobs; i++)
                if (R->jobs[i].gpu_key == key)
                        return &R->jobs[i];
        return NULL;
}

static int pids_of(void *userdata, uint64_t key, pid_t **ret, size_t *ret_n) {
        Job *j = job_by_key(userdata, key);
        *ret = NULL;
        *ret_n = 0;
        if (!j || !j->cg)
                return -ENOENT;
        return cg_pids(j->cg, ret, ret_n);
}

void exec_gpu_job_started(Runner *R, Job *j) {
        if (!R->gpu_sampler || !j->asg.gpus)
                return;
        unsigned n = (unsigned)__builtin_popcountll(j->asg.gpus);
        j->gpu_acc = calloc(n, sizeof *j->gpu_acc);
        if (!j->gpu_acc) {
                exec_warn(R, "job '%s': out of memory: its GPU use is not measured", j->pj->name);
                return;
        }
        j->gpu_key = ++R->gpu_keys;
        for (unsigned i = 0, k = 0; i < n_usable(R); i++) {
                if (!(j->asg.gpus & (UINT64_C(1) << i)))
                        continue;
                int r = gpu_sampler_add_job(R->gpu_sampler, j->gpu_key, R->gpus->devices[i].uuid, &j->gpu_acc[k]);
                if (r < 0)
                        exec_warn(R, "job '%s': GPU %s is not measured: %s", j->pj->name,
                                  R->gpus->devices[i].uuid, strerror(-r));
                k++;
        }
        j->n_gpu_acc = n;
        /* samples/<run>-<job>.gpu.csv beside the job's memory samples */
        const char *rel = j->setup.samples_rel;
        size_t len = rel ? strlen(rel) : 0;
        if (len > 4 && asprintf(&j->gpu_samples_rel, "%.*s.gpu.csv", (int)(len - 4), rel) < 0)
                j->gpu_samples_rel = NULL;
}

/* One row per assigned GPU: the share of the newest sample period and the memory now. */
static void write_series(Runner *R, Job *j, uint64_t now) {
        if (!j->gpu_samples_rel)
                return;
        if (!j->gpu_samples) {
                _cleanup_free_ char *path = NULL;
                if (j->gpu_samples_failed || asprintf(&path, "%s/%s", R->o->results_dir, j->gpu_samples_rel) < 0)
                        return;
                j->gpu_samples = fopen(path, "we");
                if (!j->gpu_samples ||
                    fputs("t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s,"
                          "charged_share,rate,scale,others_busy,sm_clock_mhz,clock_events\n",
                          j->gpu_samples) == EOF) {
                        j->gpu_samples_failed = true;
                        exec_write_failed(R);
                        return;
                }
        }
        double t = now > j->sp.start_usec ? (double)(now - j->sp.start_usec) / USEC_PER_SEC : 0;
        for (unsigned i = 0, k = 0; i < n_usable(R) && k < j->n_gpu_acc; i++) {
                if (!(j->asg.gpus & (UINT64_C(1) << i)))
                        continue;
                char limit[192];
                exec_gpu_limit_columns(R, j, i, k, limit, sizeof limit);
                const GpuShareAccum *a = &j->gpu_acc[k++];
                char clock[16] = "", events[256];
                if (a->clock_last_mhz)
                        snprintf(clock, sizeof clock, "%u", a->clock_last_mhz);
                fprintf(j->gpu_samples, "%.3f,%u,%.4f,%" PRIu64 ",%s,%s,%s\n", t,
                        R->gpus->devices[i].nvml_index, a->last_share, a->memory_last_bytes, limit, clock,
                        gpu_clock_event_list(a->clock_last_events, '|', events, sizeof events));
        }
        /* One write per tick: whoever follows the run (tail -f) sees the series as it grows. */
        if (fflush(j->gpu_samples) != 0 && !j->gpu_samples_failed) {
                j->gpu_samples_failed = true;
                exec_write_failed(R);
        }
}

void exec_gpu_poll(Runner *R, uint64_t now) {
        if (!R->gpu_sampler)
                return;
        bool any = false;
        for (size_t i = 0; i < R->n_jobs && !any; i++)
                any = R->jobs[i].gpu_key && R->jobs[i].state == JOB_RUNNING;
        if (!any)
                return;
        _cleanup_free_ char *warning = NULL;
        int r = gpu_sampler_poll(R->gpu_sampler, pids_of, R, &warning);
        if (warning)
                exec_warn(R, "%s", warning);
        if (r < 0 && !R->gpu_poll_warned) {
                R->gpu_poll_warned = true;
                exec_warn(R, "GPU sampling failed: %s", strerror(-r));
        }
        exec_gpu_limit_tick(R, now);
        for (size_t i = 0; i < R->n_jobs; i++)
                if (R->jobs[i].gpu_key && R->jobs[i].state == JOB_RUNNING)
                        write_series(R, &R->jobs[i], now);
}

/* A GPU that lowered its clocks for power or heat while the job ran: said once per GPU
 * and run, since every job on it ran slower than it would on a cool GPU. */
static void warn_clocks(Runner *R, const Job *j) {
        for (unsigned i = 0, k = 0; i < n_usable(R) && k < j->n_gpu_acc; i++) {
                if (!(j->asg.gpus & (UINT64_C(1) << i)))
                        continue;
                const GpuShareAccum *a = &j->gpu_acc[k++];
                uint64_t slow = a->clock_events & GPU_CLOCK_EVENT_SLOWDOWNS;
                if (!slow || (R->gpu_clock_warned & (UINT64_C(1) << i)))
                        continue;
                R->gpu_clock_warned |= UINT64_C(1) << i;
                char names[256], range[64] = "";
                const GpuDevice *d = &R->gpus->devices[i];
                if (a->clock_polls && d->sm_clock_max_mhz)
                        snprintf(range, sizeof range, "; SM clock %u-%u MHz of at most %u", a->clock_min_mhz,
                                 a->clock_max_mhz, d->sm_clock_max_mhz);
                else if (a->clock_polls)
                        snprintf(range, sizeof range, "; SM clock %u-%u MHz", a->clock_min_mhz,
                                 a->clock_max_mhz);
                exec_warn(R,
                          "GPU %u lowered its clocks while job '%s' ran (%s%s): work on it ran slower "
                          "than at full clock and may not compare with runs at other clocks; "
                          "each job's clocks are in result.json (gpus[].clocks)",
                          d->nvml_index, j->pj->name, gpu_clock_event_list(slow, ',', names, sizeof names),
                          range);
        }
}

void exec_gpu_job_ended(Runner *R, Job *j) {
        exec_gpu_limit_ended(R, j);
        if (!R->gpu_sampler || !j->gpu_key)
                return;
        /* The samples NVML holds up to now are this job's last. */
        _cleanup_free_ char *warning = NULL;
        (void)gpu_sampler_poll(R->gpu_sampler, pids_of, R, &warning);
        if (warning)
                exec_warn(R, "%s", warning);
        warn_clocks(R, j);
        gpu_sampler_remove_job(R->gpu_sampler, j->gpu_key);
        j->gpu_key = 0;
        if (j->gpu_samples && fclose(j->gpu_samples) != 0)
                exec_write_failed(R);
        j->gpu_samples = NULL;
}

void exec_gpu_record(Runner *R, const Job *j, JobResult *res) {
        const GpuRequest *g = &j->pj->limits.gpus;
        switch (g->kind) {
        case GPUS_COUNT:
                if (asprintf(&res->req_gpus, "%s%u", g->shared ? "shared:" : "", g->count) < 0)
                        res->req_gpus = NULL;
                break;
        case GPUS_LIST:
                if (asprintf(&res->req_gpus, "%s%s", g->shared ? "shared:" : "", g->list) < 0)
                        res->req_gpus = NULL;
                break;
        case GPUS_ANY:
                res->req_gpus = strdup("any");
                break;
        default:
                break;
        }
        if (!j->has_asg || !j->asg.gpus)
                return;
        for (unsigned i = 0, k = 0; i < n_usable(R); i++) {
                if (!(j->asg.gpus & (UINT64_C(1) << i)))
                        continue;
                const GpuDevice *d = &R->gpus->devices[i];
                const GpuShareAccum *a = k < j->n_gpu_acc ? &j->gpu_acc[k] : NULL;
                k++;
                JobGpuResult *x = job_result_add_gpu(res);
                if (!x)
                        return;
                x->uuid = strdup(d->uuid);
                x->index = d->nvml_index;
                x->name = strdup(d->name);
                x->shared = j->asg.gpus_shared;
                x->memory_total_bytes = d->memory_total;
                exec_gpu_limit_record(j, k - 1, x);
                if (!a)
                        continue;
                x->sm_share_mean = gpu_share_accum_mean(a);
                x->sm_share_peak = a->peak;
                x->memory_peak_bytes = a->memory_peak_bytes;
                x->samples = a->samples;
                x->clock_polls = a->clock_polls;
                x->sm_clock_min_mhz = a->clock_min_mhz;
                x->sm_clock_max_mhz = a->clock_max_mhz;
                x->sm_clock_mean_mhz = gpu_share_accum_clock_mean(a);
                x->clock_events = a->clock_events;
                x->clock_events_known = a->clock_events_known;
                for (unsigned p = 0; p < a->n_pids_seen && p < ELEMENTSOF(x->pids); p++)
                        x->pids[x->n_pids++] = a->pids_seen[p];
        }
        if (j->gpu_samples_rel && !j->gpu_samples_failed)
                res->gpu_samples_csv = strdup(j->gpu_samples_rel);
}

void exec_gpu_job_free(Runner *R, Job *j) {
        if (R->gpu_sampler && j->gpu_key)
                gpu_sampler_remove_job(R->gpu_sampler, j->gpu_key);
        j->gpu_key = 0;
        if (j->gpu_samples)
                fclose(j->gpu_samples);
        j->gpu_samples = NULL;
        free(j->gpu_acc);
        j->gpu_acc = NULL;
        j->n_gpu_acc = 0;
        free(j->gpu_samples_rel);
        j->gpu_samples_rel = NULL;
}
