/* SPDX-License-Identifier: MIT */
/* result.json reader: JSON back into a Result, checking every value it takes (a wrong
 * type or range names the file and the place: json-reader.h). Unknown fields are
 * ignored and missing ones keep their defaults, so older and newer files both load.
 * The layout is docs/result-schema.md; the writer is result-write.c. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "result/json-reader.h"
#include "result/result-gpu-json.h"
#include "result/result.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/macros.h"

/* A result.json of a few thousand jobs is a few MiB; anything far larger is not ours, and
 * jansson would hold all of it (several times over) in memory. */
#define RESULT_FILE_MAX (256u << 20)

/* jansson ships json_decrefp for exactly this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

static int host_gpu_from_json(Reader *rd, json_t *o, void *userdata) {
        HostGpu *g = host_info_add_gpu(userdata);
        if (!g)
                return -ENOMEM;
        int k = 0;
        k = k ?: rd_unsigned(rd, o, "index", &g->index);
        k = k ?: rd_str(rd, o, "uuid", &g->uuid);
        k = k ?: rd_str(rd, o, "name", &g->name);
        k = k ?: rd_str(rd, o, "pci_bus_id", &g->pci_bus_id);
        k = k ?: rd_u64(rd, o, "memory_bytes", &g->memory_bytes);
        k = k ?: rd_int(rd, o, "numa_node", -1, &g->numa_node);
        k = k ?: rd_unsigned(rd, o, "sm_count", &g->sm_count);
        k = k ?: rd_unsigned(rd, o, "sm_clock_max_mhz", &g->sm_clock_max_mhz);
        k = k ?: rd_u64(rd, o, "timeslice_ns", &g->timeslice_ns);
        k = k ?: rd_u64(rd, o, "timeslice_switch_ns", &g->timeslice_switch_ns);
        /* null: not measured. */
        if (g->timeslice_ns == UINT64_MAX || g->timeslice_switch_ns == UINT64_MAX)
                g->timeslice_ns = g->timeslice_switch_ns = 0;
        return k;
}

static int host_gpus_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, host_gpu_from_json, userdata);
}

static int host_from_json(Reader *rd, json_t *o, void *userdata) {
        HostInfo *h = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "hostname", &h->hostname);
        k = k ?: rd_str(rd, o, "kernel", &h->kernel);
        k = k ?: rd_str(rd, o, "cpu_model", &h->cpu_model);
        k = k ?: rd_unsigned(rd, o, "cpus_online", &h->n_cpus_online);
        k = k ?: rd_unsigned(rd, o, "cpus_allowed", &h->n_cpus_allowed);
        k = k ?: rd_str(rd, o, "allowed_cpus", &h->allowed_cpus);
        k = k ?: rd_str(rd, o, "smt", &h->smt);
        k = k ?: rd_str(rd, o, "governor", &h->governor);
        k = k ?: rd_str(rd, o, "turbo", &h->turbo);
        k = k ?: rd_u64(rd, o, "memory_total_bytes", &h->memory_total_bytes);
        k = k ?: rd_bool(rd, o, "swap_on", &h->swap_on);
        k = k ?: rd_str(rd, o, "cgroup_backend_detail", &h->cgroup_backend_detail);
        k = k ?: rd_section(rd, o, "gpus", true, host_gpus_from_json, h);
        k = k ?: rd_str(rd, o, "gpu_driver", &h->gpu_driver);
        k = k ?: rd_int(rd, o, "cuda_driver", 0, &h->cuda_driver);
        k = k ?: rd_str(rd, o, "gpus_why_none", &h->gpus_why_none);
        return k;
}

static int memory_events_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_u64(rd, o, "low", &j->ev_low);
        k = k ?: rd_u64(rd, o, "high", &j->ev_high);
        k = k ?: rd_u64(rd, o, "max", &j->ev_max);
        k = k ?: rd_u64(rd, o, "oom", &j->ev_oom);
        k = k ?: rd_u64(rd, o, "oom_kill", &j->ev_oom_kill);
        return k;
}

static int memory_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_u64(rd, o, "peak_bytes", &j->peak_bytes);
        k = k ?: rd_u64(rd, o, "rss_peak_bytes", &j->rss_peak_bytes);
        k = k ?: rd_u64(rd, o, "pss_peak_bytes", &j->pss_peak_bytes);
        k = k ?: rd_u64(rd, o, "pss_mean_bytes", &j->pss_mean_bytes);
        k = k ?: rd_section(rd, o, "events", false, memory_events_from_json, j);
        return k;
}

static int pressure_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        j->has_psi = true;
        k = k ?: rd_double(rd, o, "cpu_some_s", 0, &j->psi_cpu_some_s);
        k = k ?: rd_double(rd, o, "memory_some_s", 0, &j->psi_mem_some_s);
        k = k ?: rd_double(rd, o, "memory_full_s", 0, &j->psi_mem_full_s);
        k = k ?: rd_double(rd, o, "io_some_s", 0, &j->psi_io_some_s);
        k = k ?: rd_double(rd, o, "io_full_s", 0, &j->psi_io_full_s);
        return k;
}

static int wait4_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_double(rd, o, "user_s", 0, &j->wait4_user_s);
        k = k ?: rd_double(rd, o, "sys_s", 0, &j->wait4_sys_s);
        return k;
}

static int ctxsw_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_u64(rd, o, "voluntary", &j->vol_ctxsw);
        k = k ?: rd_u64(rd, o, "involuntary", &j->invol_ctxsw);
        return k;
}

static int requested_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "cpus", &j->req_cpus);
        k = k ?: rd_u64(rd, o, "memory_bytes", &j->req_memory_bytes);
        k = k ?: rd_str(rd, o, "gpus", &j->req_gpus);
        return k;
}

static int applied_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "cpus", &j->applied_cpus);
        k = k ?: rd_str(rd, o, "mems", &j->applied_mems);
        k = k ?: rd_u64(rd, o, "memory_bytes", &j->applied_memory_bytes);
        k = k ?: rd_u64(rd, o, "swap_bytes", &j->applied_swap_bytes);
        k = k ?: rd_u64(rd, o, "pids_max", &j->applied_pids_max);
        k = k ?: rd_bool(rd, o, "memory_enforced", &j->memory_enforced);
        k = k ?: rd_u64(rd, o, "memory_high_bytes", &j->applied_memory_high_bytes);
        k = k ?: rd_u64(rd, o, "memory_low_bytes", &j->applied_memory_low_bytes);
        k = k ?: rd_u64(rd, o, "cpu_weight", &j->applied_cpu_weight);
        k = k ?: rd_bool(rd, o, "memory_high_emulated", &j->memory_high_emulated);
        return k;
}

static int logs_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        k = k ?: rd_str(rd, o, "stdout", &j->log_stdout);
        k = k ?: rd_str(rd, o, "stderr", &j->log_stderr);
        return k;
}

static int container_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = userdata;
        int k = 0;
        if (!j->container && !(j->container = calloc(1, sizeof(ContainerResult))))
                return -ENOMEM;
        ContainerResult *c = j->container;
        k = k ?: rd_str(rd, o, "engine", &c->engine);
        k = k ?: rd_str(rd, o, "engine_version", &c->engine_version);
        k = k ?: rd_str(rd, o, "image", &c->image);
        k = k ?: rd_str(rd, o, "image_id", &c->image_id);
        k = k ?: rd_str(rd, o, "digest", &c->digest);
        k = k ?: rd_str(rd, o, "name", &c->name);
        return k;
}

static int phase_from_json(Reader *rd, json_t *o, void *userdata) {
        PhaseResult *p = job_result_add_phase(userdata);
        int k = 0;
        if (!p)
                return -ENOMEM;
        k = k ?: rd_str(rd, o, "name", &p->name);
        k = k ?: rd_double(rd, o, "start_s", 0, &p->start_s);
        k = k ?: rd_double(rd, o, "wall_s", 0, &p->wall_s);
        k = k ?: rd_double(rd, o, "cpu_s", -1, &p->cpu_s);
        k = k ?: rd_bool(rd, o, "unfinished", &p->unfinished);
        return k;
}

static int phases_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, phase_from_json, userdata);
}

static MetricResult *find_metric(JobResult *j, const char *name) {
        for (size_t i = 0; i < j->n_metrics; i++)
                if (j->metrics[i].name && streq(j->metrics[i].name, name))
                        return &j->metrics[i];
        return NULL;
}

static int escaped_pids_from_json(Reader *rd, json_t *a, void *userdata) {
        JobResult *j = userdata;
        size_t i;
        json_t *v;
        j->n_escaped_pids = 0;
        json_array_foreach(a, i, v) {
                if (!json_is_integer(v))
                        return rd_fail(rd, NULL, "expected an array of pids");
                if (j->n_escaped_pids < ELEMENTSOF(j->escaped_pids))
                        j->escaped_pids[j->n_escaped_pids++] = json_integer_value(v);
        }
        return 0;
}

static int metric_all_from_json(Reader *rd, json_t *a, void *userdata) {
        MetricResult *m = userdata;
        size_t n = json_array_size(a);
        _cleanup_free_ double *all = calloc(n ? n : 1, sizeof *all);
        size_t i;
        json_t *v;
        if (!all)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                if (json_is_null(v))
                        all[i] = NAN;
                else if (json_is_number(v))
                        all[i] = json_number_value(v);
                else
                        return rd_fail(rd, NULL, "expected an array of numbers");
        }
        free(m->all);
        m->all = TAKE_PTR(all);
        m->n_all = n;
        return 0;
}

static int metrics_from_json(Reader *rd, json_t *values, void *userdata) {
        JobResult *j = userdata;
        const char *name;
        json_t *v;
        json_object_foreach(values, name, v) {
                if (!json_is_number(v) && !json_is_null(v))
                        return rd_fail(rd, name, "expected a number");
                MetricResult *m = job_result_add_metric(j);
                if (!m)
                        return -ENOMEM;
                m->name = strdup(name);
                if (!m->name)
                        return -ENOMEM;
                m->value = json_is_null(v) ? NAN : json_number_value(v);
        }
        return 0;
}

static int metric_details_from_json(Reader *rd, json_t *details, void *userdata) {
        const char *name;
        json_t *v;
        int k = 0;
        json_object_foreach(details, name, v) {
                MetricResult *m = find_metric(userdata, name);
                /* Details of a metric that has no value are meaningless: skip them. */
                if (!m)
                        continue;
                if (!json_is_object(v))
                        return rd_fail(rd, name, "expected an object");
                size_t mark = rd_push(rd, "%s", name);
                k = k ?: rd_str(rd, v, "unit", &m->unit);
                k = k ?: rd_section(rd, v, "all", true, metric_all_from_json, m);
                rd_pop(rd, mark);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int reason_from_json(Reader *rd, json_t *o, JobResult *j) {
        _cleanup_free_ char *s = NULL;
        int k = rd_str(rd, o, "reason", &s);
        if (k < 0 || !s)
                return k;
        JobReason reason = job_reason_from_string(s);
        if (reason == _REASON_INVALID) {
                _cleanup_free_ char *m = NULL;
                if (asprintf(&m,
                             "unknown reason \"%s\" (known: exit, timeout, oom, gpu-oom, killed, "
                             "failed-to-start, interrupted)",
                             s) < 0)
                        return -ENOMEM;
                return rd_fail(rd, "reason", m);
        }
        if (reason == REASON_TIMEOUT && j->limit && streq(j->limit, "cpu"))
                reason = REASON_CPU_TIMEOUT;
        j->reason = reason;
        return 0;
}

static int job_from_json(Reader *rd, json_t *o, void *userdata) {
        JobResult *j = run_result_add_job(userdata);
        int k = 0;

        if (!j)
                return -ENOMEM;
        if (!json_is_string(json_object_get(o, "name")))
                return rd_fail(rd, "name", "missing (every job has a name)");
        k = k ?: rd_str(rd, o, "name", &j->name);
        k = k ?: rd_str(rd, o, "base_name", &j->base_name);
        k = k ?: rd_str(rd, o, "command", &j->command);
        k = k ?: rd_str(rd, o, "priority", &j->priority);
        k = k ?: rd_double(rd, o, "frozen_s", 0, &j->frozen_s);
        k = k ?: rd_unsigned(rd, o, "freezes", &j->freezes);
        k = k ?: rd_str(rd, o, "limit", &j->limit);
        k = k ?: reason_from_json(rd, o, j);
        k = k ?: rd_int(rd, o, "exit_code", -1, &j->exit_code);
        k = k ?: rd_int(rd, o, "signal", 0, &j->signal);
        k = k ?: rd_int(rd, o, "start_errno", 0, &j->start_errno);
        k = k ?: rd_str(rd, o, "start_error", &j->start_error);
        k = k ?: rd_double(rd, o, "started_s", 0, &j->started_s);
        k = k ?: rd_double(rd, o, "ended_s", 0, &j->ended_s);
        k = k ?: rd_double(rd, o, "wall_s", 0, &j->wall_s);
        k = k ?: rd_double(rd, o, "user_s", 0, &j->user_s);
        k = k ?: rd_double(rd, o, "sys_s", 0, &j->sys_s);
        k = k ?: rd_section(rd, o, "wait4", false, wait4_from_json, j);
        k = k ?: rd_section(rd, o, "memory", false, memory_from_json, j);
        k = k ?: rd_section(rd, o, "pressure", false, pressure_from_json, j);
        k = k ?: rd_section(rd, o, "context_switches", false, ctxsw_from_json, j);
        k = k ?: rd_u64(rd, o, "pids_peak", &j->pids_peak);
        k = k ?: rd_u64(rd, o, "forks_refused", &j->forks_refused);
        k = k ?: rd_bool(rd, o, "log_truncated", &j->log_truncated);
        k = k ?: rd_bool(rd, o, "escaped", &j->escaped);
        k = k ?: rd_u64(rd, o, "leftovers_killed", &j->leftovers_killed);
        k = k ?: rd_section(rd, o, "escaped_pids", true, escaped_pids_from_json, j);
        k = k ?: rd_section(rd, o, "requested", false, requested_from_json, j);
        k = k ?: rd_section(rd, o, "applied", false, applied_from_json, j);
        k = k ?: rd_str(rd, o, "cgroup", &j->cgroup);
        k = k ?: rd_section(rd, o, "container", false, container_from_json, j);
        k = k ?: rd_section(rd, o, "phases", true, phases_from_json, j);
        k = k ?: rd_section(rd, o, "metrics", false, metrics_from_json, j);
        /* After "metrics": details attach to the metrics read there. */
        k = k ?: rd_section(rd, o, "metric_details", false, metric_details_from_json, j);
        k = k ?: rd_section(rd, o, "logs", false, logs_from_json, j);
        k = k ?: rd_str(rd, o, "samples", &j->samples_csv);
        k = k ?: rd_section(rd, o, "gpus", true, result_job_gpus_from_json, j);
        k = k ?: rd_str(rd, o, "gpu_samples", &j->gpu_samples_csv);
        return k;
}

static int jobs_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, job_from_json, userdata);
}

static int run_from_json(Reader *rd, json_t *o, void *userdata) {
        RunResult *run = result_add_run(userdata);
        int k = 0;

        if (!run)
                return -ENOMEM;
        if (!json_is_string(json_object_get(o, "scenario")))
                return rd_fail(rd, "scenario", "missing (every run names its scenario)");
        k = k ?: rd_str(rd, o, "scenario", &run->scenario);
        k = k ?: rd_unsigned(rd, o, "repetition", &run->repetition);
        k = k ?: rd_bool(rd, o, "solo", &run->solo);
        k = k ?: rd_bool(rd, o, "warmup", &run->warmup);
        k = k ?: rd_str(rd, o, "solo_for", &run->solo_for);
        k = k ?: rd_unsigned(rd, o, "replicas", &run->replicas);
        k = k ?: rd_str(rd, o, "params", &run->params);
        k = k ?: rd_double(rd, o, "started_s", 0, &run->started_s);
        k = k ?: rd_double(rd, o, "ended_s", 0, &run->ended_s);
        k = k ?: rd_section(rd, o, "jobs", true, jobs_from_json, run);
        return k;
}

static int runs_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, run_from_json, userdata);
}

static int event_from_json(Reader *rd, json_t *o, void *userdata) {
        EventResult *ev = result_add_event(userdata);
        int k = 0;
        if (!ev)
                return -ENOMEM;
        k = k ?: rd_double(rd, o, "t_s", 0, &ev->t_s);
        k = k ?: rd_str(rd, o, "job", &ev->job);
        k = k ?: rd_str(rd, o, "action", &ev->action);
        k = k ?: rd_str(rd, o, "detail", &ev->detail);
        k = k ?: rd_int(rd, o, "run", -1, &ev->run);
        k = k ?: rd_double(rd, o, "duration_s", 0, &ev->duration_s);
        return k;
}

static int events_from_json(Reader *rd, json_t *a, void *userdata) {
        return rd_each(rd, a, event_from_json, userdata);
}

static int warnings_from_json(Reader *rd, json_t *a, void *userdata) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v)) {
                        rd_push(rd, "[%zu]", i);
                        return rd_fail(rd, NULL, "expected a string");
                }
                int k = result_add_warning(userdata, json_string_value(v));
                if (k < 0)
                        return k;
        }
        return 0;
}

static int result_from_json(Reader *rd, json_t *root, Result *r) {
        int k = 0;

        if (!json_is_object(root))
                return rd_fail(rd, "(top level)", "expected an object: this is not a corun result.json");
        json_t *v = json_object_get(root, "schema");
        if (!v)
                return rd_fail(rd, "schema", "missing: this is not a corun result.json");
        if (!json_is_integer(v))
                return rd_fail(rd, "schema", "expected an integer");
        if (json_integer_value(v) != RESULT_SCHEMA_VERSION) {
                return error_setf(
                        &rd->error, -EPROTONOSUPPORT,
                        "%s: result schema %lld is not supported: this corun (%s) reads schema %d; "
                        "use the corun version that wrote it",
                        rd->file, (long long)json_integer_value(v), CORUN_VERSION, RESULT_SCHEMA_VERSION);
        }
        r->schema = RESULT_SCHEMA_VERSION;
        k = k ?: rd_str(rd, root, "corun_version", &r->corun_version);
        k = k ?: rd_bool(rd, root, "partial", &r->partial);
        k = k ?: rd_bool(rd, root, "interrupted", &r->interrupted);
        k = k ?: rd_str(rd, root, "started_at", &r->started_at);
        k = k ?: rd_str(rd, root, "finished_at", &r->finished_at);
        k = k ?: rd_str(rd, root, "name", &r->name);
        k = k ?: rd_str(rd, root, "run_id", &r->run_id);
        k = k ?: rd_str(rd, root, "spec_file", &r->spec_file);
        k = k ?: rd_str(rd, root, "command_line", &r->command_line);
        k = k ?: rd_str(rd, root, "backend", &r->backend);
        k = k ?: rd_section(rd, root, "host", false, host_from_json, &r->host);
        k = k ?: rd_section(rd, root, "runs", true, runs_from_json, r);
        k = k ?: rd_section(rd, root, "events", true, events_from_json, r);
        k = k ?: rd_section(rd, root, "warnings", true, warnings_from_json, r);
        return k;
}

int result_read(const char *path, Result **ret, char **ret_error) {
        _cleanup_free_ char *file = NULL;
        struct stat st;

        if (stat(path, &st) < 0) {
                int k = negative_errno();
                return error_setf(ret_error, k, "%s: %s", path, strerror(-k));
        }
        if (S_ISDIR(st.st_mode)) {
                if (asprintf(&file, "%s/result.json", path) < 0)
                        file = NULL;
        } else
                file = strdup(path);
        if (!file)
                return error_setf(ret_error, -ENOMEM, "out of memory");

        /* jansson's json_load_file opens without O_CLOEXEC; open it ourselves. */
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                int k = negative_errno();
                return error_setf(ret_error, k, "%s: %s", file, strerror(-k));
        }
        if (!S_ISREG(st.st_mode) || st.st_size > RESULT_FILE_MAX) {
                return error_setf(ret_error, S_ISREG(st.st_mode) ? -EFBIG : -EINVAL, "%s: %s", file,
                                  S_ISREG(st.st_mode) ? "larger than 256 MiB: not a corun result.json"
                                                      : "not a regular file");
        }

        json_error_t jerr;
        /* json_loadfd reads one byte per read(2): read the file whole. */
        _cleanup_free_ char *text = NULL;
        size_t text_len = 0;
        int rk = read_full_fd(fd, RESULT_FILE_MAX, &text, &text_len);
        if (rk < 0) {
                return error_setf(ret_error, rk, "%s: %s", file, strerror(-rk));
        }
        _cleanup_json_ json_t *root = json_loadb(text, text_len, 0, &jerr);
        if (!root) {
                if (jerr.line > 0)
                        return error_setf(ret_error, -EINVAL, "%s:%d:%d: %s", file, jerr.line, jerr.column,
                                          jerr.text);
                return error_setf(ret_error, -EINVAL, "%s: %s", file, jerr.text);
        }

        Reader rd = {.file = file};
        Result *r = result_new();
        if (!r)
                return error_setf(ret_error, -ENOMEM, "out of memory");
        int k = result_from_json(&rd, root, r);
        if (k < 0) {
                result_free(r);
                if (rd.error)
                        (void)error_setf(ret_error, k, "%s", rd.error);
                else
                        (void)error_setf(ret_error, k, "%s: %s", file, strerror(-k));
                free(rd.error);
                return k;
        }
        *ret = r;
        return 0;
}
