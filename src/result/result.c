/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "result/result.h"
#include "util/macros.h"

/* REASON_CPU_TIMEOUT shares "timeout" with REASON_TIMEOUT: the schema tells them apart by
 * the job's "limit" field, so scripts that only know the DESIGN reasons keep working. */
static const char *const job_reason_table[_REASON_MAX] = {
        [REASON_EXIT] = "exit",
        [REASON_TIMEOUT] = "timeout",
        [REASON_CPU_TIMEOUT] = "timeout",
        [REASON_OOM] = "oom",
        [REASON_GPU_OOM] = "gpu-oom",
        [REASON_KILLED] = "killed",
        [REASON_FAILED_TO_START] = "failed-to-start",
        [REASON_INTERRUPTED] = "interrupted",
};

const char *job_reason_to_string(JobReason r) {
        if (r < 0 || r >= _REASON_MAX)
                return NULL;
        return job_reason_table[r];
}

JobReason job_reason_from_string(const char *s) {
        if (!s)
                return _REASON_INVALID;
        /* The first match wins, so "timeout" reads as the wall-clock timeout; the reader
         * turns it into REASON_CPU_TIMEOUT when "limit" says "cpu". */
        for (int i = 0; i < _REASON_MAX; i++)
                if (streq(job_reason_table[i], s))
                        return (JobReason)i;
        return _REASON_INVALID;
}

void job_result_init(JobResult *j) {
        *j = (JobResult){
                .reason = REASON_EXIT,
                .exit_code = -1,
                .req_memory_bytes = LIMIT_MAX,
                .applied_memory_bytes = LIMIT_MAX,
                .applied_swap_bytes = LIMIT_MAX,
                .applied_pids_max = LIMIT_MAX,
                .applied_memory_high_bytes = LIMIT_MAX,
                .applied_memory_low_bytes = 0,
                .applied_cpu_weight = LIMIT_MAX,
        };
}

static void phase_result_done(PhaseResult *p) {
        free(p->name);
}

static void metric_result_done(MetricResult *m) {
        free(m->name);
        free(m->all);
        free(m->unit);
}

void container_result_free(ContainerResult *c) {
        if (!c)
                return;
        free(c->engine);
        free(c->engine_version);
        free(c->image);
        free(c->image_id);
        free(c->digest);
        free(c->name);
        free(c);
}

void job_result_done(JobResult *j) {
        if (!j)
                return;
        free(j->name);
        free(j->base_name);
        free(j->command);
        free(j->start_error);
        free(j->limit);
        free(j->req_cpus);
        free(j->applied_cpus);
        free(j->applied_mems);
        free(j->priority);
        for (size_t i = 0; i < j->n_phases; i++)
                phase_result_done(&j->phases[i]);
        free(j->phases);
        for (size_t i = 0; i < j->n_metrics; i++)
                metric_result_done(&j->metrics[i]);
        free(j->metrics);
        free(j->log_stdout);
        free(j->log_stderr);
        free(j->samples_csv);
        free(j->cgroup);
        free(j->req_gpus);
        for (size_t i = 0; i < j->n_gpus; i++) {
                free(j->gpus[i].uuid);
                free(j->gpus[i].name);
                free(j->gpus[i].share_mode);
                free(j->gpus[i].mechanism);
                free(j->gpus[i].semantics);
        }
        free(j->gpus);
        free(j->gpu_samples_csv);
        container_result_free(j->container);
        job_result_init(j);
}

static void run_result_done(RunResult *run) {
        free(run->scenario);
        free(run->params);
        free(run->solo_for);
        for (size_t i = 0; i < run->n_jobs; i++)
                job_result_done(&run->jobs[i]);
        free(run->jobs);
}

static void host_info_done(HostInfo *h) {
        free(h->hostname);
        free(h->kernel);
        free(h->cpu_model);
        free(h->governor);
        free(h->turbo);
        free(h->smt);
        free(h->allowed_cpus);
        free(h->cgroup_backend_detail);
        for (size_t i = 0; i < h->n_gpus; i++) {
                free(h->gpus[i].uuid);
                free(h->gpus[i].name);
                free(h->gpus[i].pci_bus_id);
        }
        free(h->gpus);
        free(h->gpu_driver);
        free(h->gpus_why_none);
}

JobGpuResult *job_result_add_gpu(JobResult *j) {
        JobGpuResult *a = realloc(j->gpus, (j->n_gpus + 1) * sizeof *a);
        if (!a)
                return NULL;
        j->gpus = a;
        a[j->n_gpus] = (JobGpuResult){0};
        return &a[j->n_gpus++];
}

HostGpu *host_info_add_gpu(HostInfo *h) {
        HostGpu *a = realloc(h->gpus, (h->n_gpus + 1) * sizeof *a);
        if (!a)
                return NULL;
        h->gpus = a;
        a[h->n_gpus] = (HostGpu){.numa_node = -1};
        return &a[h->n_gpus++];
}

static void event_result_done(EventResult *e) {
        free(e->job);
        free(e->action);
        free(e->detail);
}

Result *result_new(void) {
        Result *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        r->schema = RESULT_SCHEMA_VERSION;
        return r;
}

Result *result_free(Result *r) {
        if (!r)
                return NULL;
        free(r->corun_version);
        free(r->started_at);
        free(r->finished_at);
        free(r->name);
        free(r->run_id);
        free(r->spec_file);
        free(r->command_line);
        free(r->backend);
        host_info_done(&r->host);
        for (size_t i = 0; i < r->n_runs; i++)
                run_result_done(&r->runs[i]);
        free(r->runs);
        for (size_t i = 0; i < r->n_events; i++)
                event_result_done(&r->events[i]);
        free(r->events);
        for (char **w = r->warnings; w && *w; w++)
                free(*w);
        free(r->warnings);
        free(r);
        return NULL;
}

/* Grows *array by one zeroed element of size elem and returns it. The structs hold no
 * capacity field, so growth is one element at a time; realloc amortises that well enough
 * for the few thousand jobs a run holds. Pointers into the array are invalidated. */
static void *result_grow(void *array_ptr, size_t *n, size_t elem) {
        void **array = array_ptr;
        if (*n >= SIZE_MAX / elem - 1)
                return NULL;
        void *p = realloc(*array, (*n + 1) * elem);
        if (!p)
                return NULL;
        *array = p;
        void *e = (char *)p + *n * elem;
        memset(e, 0, elem);
        (*n)++;
        return e;
}

RunResult *result_add_run(Result *r) {
        RunResult *run = result_grow(&r->runs, &r->n_runs, sizeof *r->runs);
        if (run)
                run->replicas = 1;
        return run;
}

JobResult *run_result_add_job(RunResult *run) {
        JobResult *j = result_grow(&run->jobs, &run->n_jobs, sizeof *run->jobs);
        if (j)
                job_result_init(j);
        return j;
}

PhaseResult *job_result_add_phase(JobResult *j) {
        PhaseResult *p = result_grow(&j->phases, &j->n_phases, sizeof *j->phases);
        if (p)
                p->cpu_s = -1;
        return p;
}

MetricResult *job_result_add_metric(JobResult *j) {
        return result_grow(&j->metrics, &j->n_metrics, sizeof *j->metrics);
}

EventResult *result_add_event(Result *r) {
        EventResult *ev = result_grow(&r->events, &r->n_events, sizeof *r->events);
        if (ev)
                ev->run = -1;
        return ev;
}

size_t result_n_warnings(const Result *r) {
        size_t n = 0;
        while (r->warnings && r->warnings[n])
                n++;
        return n;
}

int result_add_warning(Result *r, const char *msg) {
        size_t n = result_n_warnings(r);
        _cleanup_free_ char *copy = strdup(msg ? msg : "");
        if (!copy)
                return -ENOMEM;
        char **w = realloc(r->warnings, (n + 2) * sizeof *w);
        if (!w)
                return -ENOMEM;
        w[n] = TAKE_PTR(copy);
        w[n + 1] = NULL;
        r->warnings = w;
        return 0;
}
