/* SPDX-License-Identifier: MIT */
/* The result model and result.json: enum tables, growth helpers, round trip, golden file,
 * reading old/minimal and future files, error messages, atomic writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "result/result.h"
#include "util/macros.h"

/* ---- helpers ---- */

static char tmpdir[] = "/tmp/corun-test-result.XXXXXX";

static int setup_tmpdir(void **state) {
        strcpy(tmpdir, "/tmp/corun-test-result.XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmpdir(void **state) {
        DIR *d = opendir(tmpdir);
        struct dirent *de;
        char p[4096];
        while (d && (de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
                        unlink(p);
                }
        if (d)
                closedir(d);
        return rmdir(tmpdir);
}

static char *write_file(const char *name, const char *text) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        return p;
}

/* Reads text as a result.json; returns the Result or NULL with *ret_error set. */
static Result *read_text(const char *text, int *ret, char **ret_error) {
        _cleanup_free_ char *p = write_file("in.json", text);
        Result *r = NULL;
        *ret_error = NULL;
        *ret = result_read(p, &r, ret_error);
        return r;
}

static void assert_str_same(const char *a, const char *b) {
        if (!a || !b)
                assert_ptr_equal(a, b);
        else
                assert_string_equal(a, b);
}

/* Exact: every fixture value is a short decimal that survives 15 significant digits. */
static void assert_dbl_same(double a, double b) {
        if (isnan(a) || isnan(b))
                assert_true(isnan(a) && isnan(b));
        else
                assert_true(a == b);
}

static void assert_gpu_same(const JobGpuResult *a, const JobGpuResult *b) {
        assert_str_same(a->uuid, b->uuid);
        assert_int_equal(a->index, b->index);
        assert_str_same(a->name, b->name);
        assert_int_equal(a->shared, b->shared);
        assert_dbl_same(a->sm_share_mean, b->sm_share_mean);
        assert_dbl_same(a->sm_share_peak, b->sm_share_peak);
        assert_int_equal(a->memory_peak_bytes, b->memory_peak_bytes);
        assert_int_equal(a->memory_total_bytes, b->memory_total_bytes);
        assert_int_equal(a->samples, b->samples);
        assert_int_equal(a->n_pids, b->n_pids);
        for (unsigned i = 0; i < a->n_pids; i++)
                assert_int_equal(a->pids[i], b->pids[i]);
        assert_int_equal(a->limited, b->limited);
        assert_dbl_same(a->share_requested, b->share_requested);
        assert_dbl_same(a->share_applied, b->share_applied);
        assert_str_same(a->share_mode, b->share_mode);
        assert_str_same(a->mechanism, b->mechanism);
        assert_str_same(a->semantics, b->semantics);
        assert_dbl_same(a->throttled_s, b->throttled_s);
        assert_int_equal(a->launches_seen, b->launches_seen);
        for (size_t i = 0; i < ELEMENTSOF(a->launches); i++)
                assert_int_equal(a->launches[i], b->launches[i]);
        assert_int_equal(a->memory_limit_bytes, b->memory_limit_bytes);
        assert_int_equal(a->memory_refused, b->memory_refused);
        assert_int_equal(a->uncontrollable, b->uncontrollable);
        assert_int_equal(a->open_loop, b->open_loop);
        assert_int_equal(a->sliced_estimates, b->sliced_estimates);
        assert_int_equal(a->clock_polls, b->clock_polls);
        assert_int_equal(a->sm_clock_min_mhz, b->sm_clock_min_mhz);
        assert_dbl_same(a->sm_clock_mean_mhz, b->sm_clock_mean_mhz);
        assert_int_equal(a->sm_clock_max_mhz, b->sm_clock_max_mhz);
        assert_int_equal(a->clock_events, b->clock_events);
        assert_int_equal(a->clock_events_known, b->clock_events_known);
}

static void assert_job_same(const JobResult *a, const JobResult *b) {
        assert_str_same(a->name, b->name);
        assert_str_same(a->base_name, b->base_name);
        assert_str_same(a->command, b->command);
        assert_int_equal(a->reason, b->reason);
        assert_int_equal(a->exit_code, b->exit_code);
        assert_int_equal(a->signal, b->signal);
        assert_int_equal(a->start_errno, b->start_errno);
        assert_str_same(a->start_error, b->start_error);
        assert_str_same(a->limit, b->limit);
        assert_dbl_same(a->started_s, b->started_s);
        assert_dbl_same(a->ended_s, b->ended_s);
        assert_dbl_same(a->wall_s, b->wall_s);
        assert_dbl_same(a->user_s, b->user_s);
        assert_dbl_same(a->sys_s, b->sys_s);
        assert_dbl_same(a->wait4_user_s, b->wait4_user_s);
        assert_dbl_same(a->wait4_sys_s, b->wait4_sys_s);
        assert_int_equal(a->peak_bytes, b->peak_bytes);
        assert_int_equal(a->pss_peak_bytes, b->pss_peak_bytes);
        assert_int_equal(a->pss_mean_bytes, b->pss_mean_bytes);
        assert_int_equal(a->rss_peak_bytes, b->rss_peak_bytes);
        assert_int_equal(a->ev_low, b->ev_low);
        assert_int_equal(a->ev_high, b->ev_high);
        assert_int_equal(a->ev_max, b->ev_max);
        assert_int_equal(a->ev_oom, b->ev_oom);
        assert_int_equal(a->ev_oom_kill, b->ev_oom_kill);
        assert_int_equal(a->vol_ctxsw, b->vol_ctxsw);
        assert_int_equal(a->invol_ctxsw, b->invol_ctxsw);
        assert_int_equal(a->has_psi, b->has_psi);
        if (a->has_psi) {
                assert_dbl_same(a->psi_cpu_some_s, b->psi_cpu_some_s);
                assert_dbl_same(a->psi_mem_some_s, b->psi_mem_some_s);
                assert_dbl_same(a->psi_mem_full_s, b->psi_mem_full_s);
                assert_dbl_same(a->psi_io_some_s, b->psi_io_some_s);
                assert_dbl_same(a->psi_io_full_s, b->psi_io_full_s);
        }
        assert_int_equal(a->pids_peak, b->pids_peak);
        assert_str_same(a->req_cpus, b->req_cpus);
        assert_int_equal(a->req_memory_bytes, b->req_memory_bytes);
        assert_str_same(a->applied_cpus, b->applied_cpus);
        assert_str_same(a->applied_mems, b->applied_mems);
        assert_int_equal(a->applied_memory_bytes, b->applied_memory_bytes);
        assert_int_equal(a->applied_swap_bytes, b->applied_swap_bytes);
        assert_int_equal(a->applied_pids_max, b->applied_pids_max);
        assert_int_equal(a->memory_enforced, b->memory_enforced);
        assert_int_equal(a->applied_memory_high_bytes, b->applied_memory_high_bytes);
        assert_int_equal(a->applied_memory_low_bytes, b->applied_memory_low_bytes);
        assert_int_equal(a->applied_cpu_weight, b->applied_cpu_weight);
        assert_int_equal(a->memory_high_emulated, b->memory_high_emulated);
        assert_dbl_same(a->frozen_s, b->frozen_s);
        assert_int_equal(a->freezes, b->freezes);
        assert_str_same(a->priority, b->priority);
        assert_int_equal(a->n_phases, b->n_phases);
        for (size_t i = 0; i < a->n_phases; i++) {
                assert_str_same(a->phases[i].name, b->phases[i].name);
                assert_dbl_same(a->phases[i].start_s, b->phases[i].start_s);
                assert_dbl_same(a->phases[i].wall_s, b->phases[i].wall_s);
                assert_dbl_same(a->phases[i].cpu_s, b->phases[i].cpu_s);
                assert_int_equal(a->phases[i].unfinished, b->phases[i].unfinished);
        }
        assert_int_equal(a->n_metrics, b->n_metrics);
        for (size_t i = 0; i < a->n_metrics; i++) {
                assert_str_same(a->metrics[i].name, b->metrics[i].name);
                assert_dbl_same(a->metrics[i].value, b->metrics[i].value);
                assert_str_same(a->metrics[i].unit, b->metrics[i].unit);
                assert_int_equal(a->metrics[i].n_all, b->metrics[i].n_all);
                assert_int_equal(!a->metrics[i].all, !b->metrics[i].all);
                for (size_t k = 0; k < a->metrics[i].n_all; k++)
                        assert_dbl_same(a->metrics[i].all[k], b->metrics[i].all[k]);
        }
        assert_str_same(a->log_stdout, b->log_stdout);
        assert_str_same(a->log_stderr, b->log_stderr);
        assert_str_same(a->samples_csv, b->samples_csv);
        assert_str_same(a->cgroup, b->cgroup);
        assert_str_same(a->req_gpus, b->req_gpus);
        assert_str_same(a->gpu_samples_csv, b->gpu_samples_csv);
        assert_int_equal(a->n_gpus, b->n_gpus);
        for (size_t i = 0; i < a->n_gpus; i++)
                assert_gpu_same(&a->gpus[i], &b->gpus[i]);
}

static void assert_result_same(const Result *a, const Result *b) {
        assert_int_equal(a->schema, b->schema);
        assert_str_same(a->corun_version, b->corun_version);
        assert_int_equal(a->partial, b->partial);
        assert_int_equal(a->interrupted, b->interrupted);
        assert_str_same(a->started_at, b->started_at);
        assert_str_same(a->finished_at, b->finished_at);
        assert_str_same(a->name, b->name);
        assert_str_same(a->run_id, b->run_id);
        assert_str_same(a->spec_file, b->spec_file);
        assert_str_same(a->command_line, b->command_line);
        assert_str_same(a->backend, b->backend);
        assert_str_same(a->host.hostname, b->host.hostname);
        assert_str_same(a->host.kernel, b->host.kernel);
        assert_str_same(a->host.cpu_model, b->host.cpu_model);
        assert_str_same(a->host.governor, b->host.governor);
        assert_str_same(a->host.turbo, b->host.turbo);
        assert_str_same(a->host.smt, b->host.smt);
        assert_int_equal(a->host.n_cpus_online, b->host.n_cpus_online);
        assert_int_equal(a->host.n_cpus_allowed, b->host.n_cpus_allowed);
        assert_str_same(a->host.allowed_cpus, b->host.allowed_cpus);
        assert_int_equal(a->host.memory_total_bytes, b->host.memory_total_bytes);
        assert_int_equal(a->host.swap_on, b->host.swap_on);
        assert_str_same(a->host.cgroup_backend_detail, b->host.cgroup_backend_detail);
        assert_int_equal(a->n_runs, b->n_runs);
        for (size_t i = 0; i < a->n_runs; i++) {
                const RunResult *x = &a->runs[i], *y = &b->runs[i];
                assert_str_same(x->scenario, y->scenario);
                assert_int_equal(x->repetition, y->repetition);
                assert_int_equal(x->solo, y->solo);
                assert_str_same(x->solo_for, y->solo_for);
                assert_int_equal(x->replicas, y->replicas);
                assert_str_same(x->params, y->params);
                assert_dbl_same(x->started_s, y->started_s);
                assert_dbl_same(x->ended_s, y->ended_s);
                assert_int_equal(x->n_jobs, y->n_jobs);
                for (size_t k = 0; k < x->n_jobs; k++)
                        assert_job_same(&x->jobs[k], &y->jobs[k]);
        }
        assert_int_equal(a->n_events, b->n_events);
        for (size_t i = 0; i < a->n_events; i++) {
                assert_dbl_same(a->events[i].t_s, b->events[i].t_s);
                assert_str_same(a->events[i].job, b->events[i].job);
                assert_str_same(a->events[i].action, b->events[i].action);
                assert_str_same(a->events[i].detail, b->events[i].detail);
                assert_int_equal(a->events[i].run, b->events[i].run);
                assert_dbl_same(a->events[i].duration_s, b->events[i].duration_s);
        }
        assert_int_equal(result_n_warnings(a), result_n_warnings(b));
        for (size_t i = 0; i < result_n_warnings(a); i++)
                assert_string_equal(a->warnings[i], b->warnings[i]);
}

static Result *write_and_read(const Result *r) {
        Result *back = NULL;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(result_write(r, tmpdir), 0);
        int k = result_read(tmpdir, &back, &err); /* a directory: reads dir/result.json */
        if (k < 0)
                fail_msg("result_read: %s", err);
        return back;
}

/* ---- model ---- */

static void test_reason_table(void **state) {
        assert_string_equal(job_reason_to_string(REASON_EXIT), "exit");
        assert_string_equal(job_reason_to_string(REASON_TIMEOUT), "timeout");
        assert_string_equal(job_reason_to_string(REASON_CPU_TIMEOUT), "timeout");
        assert_string_equal(job_reason_to_string(REASON_OOM), "oom");
        assert_string_equal(job_reason_to_string(REASON_GPU_OOM), "gpu-oom");
        assert_string_equal(job_reason_to_string(REASON_KILLED), "killed");
        assert_string_equal(job_reason_to_string(REASON_FAILED_TO_START), "failed-to-start");
        assert_string_equal(job_reason_to_string(REASON_INTERRUPTED), "interrupted");
        assert_null(job_reason_to_string(_REASON_MAX));
        assert_null(job_reason_to_string(_REASON_INVALID));
        for (JobReason r = 0; r < _REASON_MAX; r++)
                if (r != REASON_CPU_TIMEOUT)
                        assert_int_equal(job_reason_from_string(job_reason_to_string(r)), r);
        assert_int_equal(job_reason_from_string("timeout"), REASON_TIMEOUT);
        assert_int_equal(job_reason_from_string("Exit"), _REASON_INVALID);
        assert_int_equal(job_reason_from_string(""), _REASON_INVALID);
        assert_int_equal(job_reason_from_string(NULL), _REASON_INVALID);
}

static void test_growth_and_init(void **state) {
        Result *r = result_new();
        assert_non_null(r);
        assert_int_equal(r->schema, RESULT_SCHEMA_VERSION);
        assert_int_equal(result_n_warnings(r), 0);

        RunResult *run = result_add_run(r);
        assert_non_null(run);
        assert_int_equal(run->replicas, 1);
        assert_int_equal(run->n_jobs, 0);
        for (unsigned i = 0; i < 100; i++) {
                JobResult *j = run_result_add_job(run);
                assert_non_null(j);
                assert_int_equal(j->exit_code, -1);
                assert_int_equal(j->signal, 0);
                assert_int_equal(j->req_memory_bytes, UINT64_MAX);
                assert_int_equal(j->applied_memory_bytes, UINT64_MAX);
                assert_int_equal(j->applied_swap_bytes, UINT64_MAX);
                assert_int_equal(j->applied_pids_max, UINT64_MAX);
                assert_null(j->name);
                assert_int_equal(j->n_phases, 0);
                assert_true(asprintf(&j->name, "job%u", i) > 0);
        }
        assert_int_equal(run->n_jobs, 100);
        /* The earlier elements survived the reallocations. */
        assert_string_equal(r->runs[0].jobs[0].name, "job0");
        assert_string_equal(r->runs[0].jobs[99].name, "job99");

        PhaseResult *p = job_result_add_phase(&run->jobs[5]);
        assert_non_null(p);
        assert_true(p->cpu_s < 0);
        assert_int_equal(run->jobs[5].n_phases, 1);

        assert_int_equal(result_add_warning(r, "one"), 0);
        assert_int_equal(result_add_warning(r, "two"), 0);
        assert_int_equal(result_n_warnings(r), 2);
        assert_string_equal(r->warnings[1], "two");
        assert_null(r->warnings[2]);

        /* job_result_done frees and re-initialises, for a JobResult that never joined a run. */
        JobResult loose;
        job_result_init(&loose);
        loose.name = strdup("x");
        loose.limit = strdup("wall");
        loose.exit_code = 3;
        job_result_done(&loose);
        assert_null(loose.name);
        assert_int_equal(loose.exit_code, -1);
        job_result_done(NULL);

        assert_null(result_free(r));
        assert_null(result_free(NULL));
}

/* ---- writer and reader ---- */

static void test_roundtrip(void **state) {
        Result *r = fixture_full();
        Result *back = write_and_read(r);
        assert_result_same(r, back);
        /* The CPU timeout came back from the ("timeout", "cpu") pair. */
        assert_int_equal(back->runs[1].jobs[1].reason, REASON_CPU_TIMEOUT);
        assert_int_equal(back->runs[1].jobs[3].reason, REASON_TIMEOUT);
        /* Writing what was read gives the same file again. */
        _cleanup_free_ char *p = NULL, *first = NULL, *second = NULL;
        assert_true(asprintf(&p, "%s/result.json", tmpdir) > 0);
        first = read_all(p, NULL);
        assert_int_equal(result_write(back, tmpdir), 0);
        second = read_all(p, NULL);
        assert_string_equal(first, second);
        result_free(back);
        result_free(r);
}

/* The host's GPUs: a time slice measured (numbers) or not (null, read back as 0). */
static void test_host_gpu_timeslice(void **state) {
        Result *r = fixture_full();
        /* One at a time: adding may move the array. */
        HostGpu *a = host_info_add_gpu(&r->host);
        assert_non_null(a);
        *a = (HostGpu){.index = 1,
                       .uuid = strdup("GPU-a"),
                       .name = strdup("H200"),
                       .numa_node = 0,
                       .timeslice_ns = 2090000,
                       .timeslice_switch_ns = 153000,
                       .sm_clock_max_mhz = 1980};
        HostGpu *b = host_info_add_gpu(&r->host);
        assert_non_null(b);
        *b = (HostGpu){.index = 0, .uuid = strdup("GPU-b"), .name = strdup("H200"), .numa_node = -1};
        Result *back = write_and_read(r);
        assert_int_equal(back->host.n_gpus, 2);
        assert_int_equal(back->host.gpus[0].timeslice_ns, 2090000);
        assert_int_equal(back->host.gpus[0].timeslice_switch_ns, 153000);
        assert_int_equal(back->host.gpus[1].timeslice_ns, 0);
        assert_int_equal(back->host.gpus[1].timeslice_switch_ns, 0);
        assert_int_equal(back->host.gpus[0].sm_clock_max_mhz, 1980);
        assert_int_equal(back->host.gpus[1].sm_clock_max_mhz, 0);
        _cleanup_free_ char *p = NULL, *text = NULL;
        assert_true(asprintf(&p, "%s/result.json", tmpdir) > 0);
        text = read_all(p, NULL);
        assert_non_null(strstr(text, "\"timeslice_ns\": null"));
        assert_non_null(strstr(text, "\"sm_clock_max_mhz\": 1980"));
        assert_non_null(strstr(text, "\"sm_clock_max_mhz\": null"));
        result_free(back);
        result_free(r);
}

static void test_golden(void **state) {
        Result *r = fixture_full();
        _cleanup_free_ char *p = NULL, *text = NULL;
        size_t len;
        assert_int_equal(result_write(r, tmpdir), 0);
        assert_true(asprintf(&p, "%s/result.json", tmpdir) > 0);
        text = read_all(p, &len);
        golden_check("result.json", text, len);
        result_free(r);
}

/* Specific encodings the schema promises: null for "none", unlimited and non-finite. */
static void test_json_encodings(void **state) {
        Result *r = fixture_full();
        _cleanup_free_ char *p = NULL, *text = NULL;
        assert_int_equal(result_write(r, tmpdir), 0);
        assert_true(asprintf(&p, "%s/result.json", tmpdir) > 0);
        text = read_all(p, NULL);
        /* Core order of DESIGN §9 at the top. */
        assert_true(
                strstr(text,
                       "{\n  \"schema\": 1,\n  \"corun_version\": \"0.1.0-test\",\n  \"partial\": false,") ==
                text);
        assert_non_null(strstr(text, "\"signal\": null"));
        assert_non_null(strstr(text, "\"signal\": 9"));
        assert_non_null(strstr(text, "\"exit_code\": null"));
        assert_non_null(strstr(text, "\"limit\": \"cpu\""));
        assert_non_null(strstr(text, "\"pressure\": null"));
        assert_non_null(strstr(text, "\"memory_bytes\": null"));
        assert_non_null(strstr(text, "\"pids_max\": null"));
        assert_non_null(strstr(text, "\"never_seen\": null"));
        assert_non_null(strstr(text, "\"cpu_s\": null"));
        assert_non_null(strstr(text, "µs")); /* UTF-8 passes through unescaped */
        /* GPU limits: no launches counted (MPS), no share or memory limit: null. */
        assert_non_null(strstr(text, "\"launches\": null"));
        assert_non_null(strstr(text, "\"reason\": \"gpu-oom\""));
        /* Clocks: reasons by name; none from NVML: null; no clock at all: no object. */
        assert_non_null(strstr(text, "\"events\": [\n"));
        assert_non_null(strstr(text, "\"applications_clocks_setting\""));
        assert_non_null(strstr(text, "\"sw_power_cap\""));
        assert_non_null(strstr(text, "\"events\": null"));
        assert_non_null(strstr(text, "\"clocks\": null"));
        assert_null(strstr(text, "nan"));
        assert_null(strstr(text, "inf"));
        assert_null(strstr(text, "18446744073709551615"));
        result_free(r);
}

static void test_invalid_utf8(void **state) {
        Result *r = result_new();
        RunResult *run = result_add_run(r);
        run->scenario = strdup("s");
        JobResult *j = run_result_add_job(run);
        j->name = strdup("j");
        j->command = strdup("echo \xff\xfe ok \xc3\xa9 \xe2\x82");
        j->wall_s = INFINITY;
        Result *back = write_and_read(r);
        assert_string_equal(back->runs[0].jobs[0].command, "echo \xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9 "
                                                           "\xef\xbf\xbd\xef\xbf\xbd");
        assert_string_equal(back->runs[0].jobs[0].name, "j");
        /* Non-finite is written as null, which reads back as 0 for a time. */
        assert_dbl_same(back->runs[0].jobs[0].wall_s, 0);
        result_free(back);
        result_free(r);
}

static void test_partial_preserved(void **state) {
        Result *r = fixture_full();
        r->partial = true;
        r->interrupted = true;
        free(r->finished_at);
        r->finished_at = NULL;
        Result *back = write_and_read(r);
        assert_true(back->partial);
        assert_true(back->interrupted);
        assert_null(back->finished_at);
        result_free(back);
        back = NULL;
        r->partial = false;
        back = write_and_read(r);
        assert_false(back->partial);
        result_free(back);
        result_free(r);
}

/* Exactly the DESIGN §9 example: what an older corun or a hand-written file holds. */
static const char design_core[] =
        "{ \"schema\": 1, \"corun_version\": \"0.0.1\", \"partial\": false, \"started_at\": "
        "\"2024-01-01T00:00:00Z\",\n"
        "  \"host\": {}, \"backend\": \"v2\",\n"
        "  \"runs\": [ { \"scenario\": \"crowded\", \"repetition\": 0, \"solo\": false,\n"
        "      \"jobs\": [ { \"name\": \"sealer#2\",\n"
        "          \"reason\": \"exit\",\n"
        "          \"exit_code\": 0, \"signal\": null,\n"
        "          \"wall_s\": 1.234, \"user_s\": 1.1, \"sys_s\": 0.1,\n"
        "          \"memory\": {\"peak_bytes\": 0, \"pss_peak_bytes\": 0, \"pss_mean_bytes\": 0,\n"
        "                     \"events\": {\"high\": 0, \"max\": 0, \"oom\": 0, \"oom_kill\": 0}},\n"
        "          \"requested\": {\"cpus\": \"2\", \"memory_bytes\": 0},\n"
        "          \"applied\":   {\"cpus\": \"0-1\", \"mems\": \"0\", \"memory_bytes\": 0},\n"
        "          \"phases\": [ {\"name\": \"p2\", \"wall_s\": 0.0, \"cpu_s\": 0.0} ],\n"
        "          \"metrics\": {\"proofs\": 0.0} } ] } ] }\n";

static void test_read_design_core(void **state) {
        int k;
        _cleanup_free_ char *err = NULL;
        Result *r = read_text(design_core, &k, &err);
        if (k < 0)
                fail_msg("%s", err);
        assert_string_equal(r->backend, "v2");
        assert_string_equal(r->started_at, "2024-01-01T00:00:00Z");
        assert_null(r->finished_at);
        assert_null(r->host.hostname);
        assert_int_equal(r->n_runs, 1);
        assert_int_equal(r->runs[0].replicas, 1); /* default */
        const JobResult *j = &r->runs[0].jobs[0];
        assert_string_equal(j->name, "sealer#2");
        assert_int_equal(j->reason, REASON_EXIT);
        assert_int_equal(j->exit_code, 0);
        assert_int_equal(j->signal, 0);
        assert_dbl_same(j->wall_s, 1.234);
        assert_dbl_same(j->user_s, 1.1);
        assert_string_equal(j->applied_cpus, "0-1");
        assert_int_equal(j->req_memory_bytes, 0);
        /* Missing optional fields keep their defaults. */
        assert_int_equal(j->applied_swap_bytes, UINT64_MAX);
        assert_int_equal(j->applied_pids_max, UINT64_MAX);
        assert_false(j->has_psi);
        assert_null(j->limit);
        assert_null(j->log_stdout);
        assert_int_equal(j->n_phases, 1);
        assert_string_equal(j->phases[0].name, "p2");
        assert_int_equal(j->n_metrics, 1);
        assert_string_equal(j->metrics[0].name, "proofs");
        assert_null(j->metrics[0].all);
        assert_int_equal(r->n_events, 0);
        assert_int_equal(result_n_warnings(r), 0);
        result_free(r);
}

static void test_read_unknown_fields(void **state) {
        static const char text[] =
                "{\"schema\": 1, \"from_the_future\": {\"a\": [1, 2]}, \"host\": {\"gpu\": \"H100\"},\n"
                " \"runs\": [{\"scenario\": \"s\", \"new_run_field\": true,\n"
                "   \"jobs\": [{\"name\": \"j\", \"reason\": \"timeout\", \"limit\": \"cpu\", "
                "\"exit_code\": null,\n"
                "      \"signal\": 15, \"gpu\": {\"share\": 20}, \"memory\": {\"swap_peak_bytes\": 1},\n"
                "      \"metrics\": {\"m\": 2}, \"metric_details\": {\"m\": {\"all\": [1, null], \"p99\": "
                "3},\n"
                "                                                 \"orphan\": {\"unit\": \"x\"}}}]}],\n"
                " \"events\": [{\"t_s\": 1, \"action\": \"freeze\", \"extra\": 0}]}";
        int k;
        _cleanup_free_ char *err = NULL;
        Result *r = read_text(text, &k, &err);
        if (k < 0)
                fail_msg("%s", err);
        const JobResult *j = &r->runs[0].jobs[0];
        assert_int_equal(j->reason, REASON_CPU_TIMEOUT);
        assert_int_equal(j->exit_code, -1);
        assert_int_equal(j->signal, 15);
        assert_int_equal(j->n_metrics, 1);
        assert_int_equal(j->metrics[0].n_all, 2);
        assert_true(isnan(j->metrics[0].all[1]));
        assert_null(j->metrics[0].unit);
        assert_int_equal(r->n_events, 1);
        assert_string_equal(r->events[0].action, "freeze");
        result_free(r);
}

static void assert_read_fails(const char *text, int expect_k, const char *expect_suffix) {
        int k;
        _cleanup_free_ char *err = NULL, *want = NULL;
        Result *r = read_text(text, &k, &err);
        assert_null(r);
        assert_int_equal(k, expect_k);
        assert_non_null(err);
        /* Every message starts with the file it is about. */
        assert_true(asprintf(&want, "%s/in.json%s", tmpdir, expect_suffix) > 0);
        assert_string_equal(err, want);
}

static void test_read_errors(void **state) {
        /* Syntax: jansson's line:column. */
        assert_read_fails("{\"schema\": 1,\n \"runs\": [\n  {\"scenario\" \"s\"}]}\n", -EINVAL,
                          ":3:17: ':' expected near '\"s\"'");
        assert_read_fails("", -EINVAL, ":1:0: '[' or '{' expected near end of file");
        /* A different major schema. */
        assert_read_fails("{\"schema\": 2, \"runs\": []}", -EPROTONOSUPPORT,
                          ": result schema 2 is not supported: this corun (" CORUN_VERSION
                          ") reads schema 1; use the corun version that wrote it");
        assert_read_fails("{\"runs\": []}", -EINVAL, ": schema: missing: this is not a corun result.json");
        assert_read_fails("[1]", -EINVAL,
                          ": (top level): expected an object: this is not a corun result.json");
        /* Wrong types name the field by its path. */
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"name\": \"a\"}, "
                          "{\"name\": \"b\", \"wall_s\": \"fast\"}]}]}",
                          -EINVAL, ": runs[0].jobs[1].wall_s: expected a number");
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"name\": \"a\", "
                          "\"memory\": {\"events\": {\"oom\": -1}}}]}]}",
                          -EINVAL,
                          ": runs[0].jobs[0].memory.events.oom: expected a non-negative integer or null");
        assert_read_fails(
                "{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"name\": \"a\", "
                "\"reason\": \"exploded\"}]}]}",
                -EINVAL,
                ": runs[0].jobs[0].reason: unknown reason \"exploded\" (known: exit, timeout, oom, gpu-oom, "
                "killed, failed-to-start, interrupted)");
        /* A GPU's limits: a share is a fraction, launches are counts. */
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"name\": \"a\", "
                          "\"gpus\": [{\"index\": 0, \"limit\": {\"share_requested\": 30}}]}]}]}",
                          -EINVAL,
                          ": runs[0].jobs[0].gpus[0].limit.share_requested: expected a fraction from 0 to 1, or null");
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"name\": \"a\", "
                          "\"gpus\": [{\"index\": 0, \"limit\": {\"launches\": {\"cuGraphLaunch\": -2}}}]}]}]}",
                          -EINVAL,
                          ": runs[0].jobs[0].gpus[0].limit.launches.cuGraphLaunch: expected a non-negative integer "
                          "or null");
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"name\": \"a\", "
                          "\"gpus\": [{\"index\": 0, \"limit\": []}]}]}]}",
                          -EINVAL, ": runs[0].jobs[0].gpus[0].limit: expected an object");
        assert_read_fails(
                "{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"reason\": \"exit\"}]}]}",
                -EINVAL, ": runs[0].jobs[0].name: missing (every job has a name)");
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"jobs\": []}]}", -EINVAL,
                          ": runs[0].scenario: missing (every run names its scenario)");
        assert_read_fails("{\"schema\": 1, \"runs\": [7]}", -EINVAL, ": runs[0]: expected an object");
        assert_read_fails("{\"schema\": 1, \"runs\": {}}", -EINVAL, ": runs: expected an array");
        assert_read_fails("{\"schema\": 1, \"warnings\": [\"ok\", 3]}", -EINVAL,
                          ": warnings[1]: expected a string");
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"jobs\": [{\"name\": \"a\", "
                          "\"metrics\": {\"m\": \"1\"}}]}]}",
                          -EINVAL, ": runs[0].jobs[0].metrics.m: expected a number");
        assert_read_fails("{\"schema\": 1, \"runs\": [{\"scenario\": \"s\", \"repetition\": 1.5}]}", -EINVAL,
                          ": runs[0].repetition: expected an integer");
}

static void test_read_missing(void **state) {
        Result *r = NULL;
        _cleanup_free_ char *err = NULL, *p = NULL, *want = NULL;
        assert_true(asprintf(&p, "%s/nope", tmpdir) > 0);
        assert_int_equal(result_read(p, &r, &err), -ENOENT);
        assert_null(r);
        assert_true(asprintf(&want, "%s: No such file or directory", p) > 0);
        assert_string_equal(err, want);
        free(err);
        err = NULL;
        free(want);
        /* A directory without a result.json names the file it looked for. */
        assert_int_equal(result_read(tmpdir, &r, &err), -ENOENT);
        assert_true(asprintf(&want, "%s/result.json: No such file or directory", tmpdir) > 0);
        assert_string_equal(err, want);
}

static size_t count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_write_atomic(void **state) {
        Result *r = fixture_full();
        _cleanup_free_ char *p = NULL, *missing = NULL;
        struct stat st;

        /* Rewriting (as exec does after every job) leaves one file and no temporaries. */
        for (int i = 0; i < 3; i++) {
                r->partial = i < 2;
                assert_int_equal(result_write(r, tmpdir), 0);
                assert_int_equal(count_entries(tmpdir), 1);
        }
        assert_true(asprintf(&p, "%s/result.json", tmpdir) > 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);

        /* A failed write leaves nothing behind and reports the errno. */
        assert_true(asprintf(&missing, "%s/does-not-exist", tmpdir) > 0);
        assert_int_equal(result_write(r, missing), -ENOENT);
        assert_int_equal(count_entries(tmpdir), 1);

        /* A failure after the temporary exists (the rename, here onto a directory) removes it. */
        _cleanup_free_ char *sub = NULL, *blocker = NULL, *inside = NULL;
        assert_true(asprintf(&sub, "%s/sub", tmpdir) > 0);
        assert_true(asprintf(&blocker, "%s/result.json", sub) > 0);
        assert_true(asprintf(&inside, "%s/x", blocker) > 0);
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(mkdir(blocker, 0755), 0);
        assert_int_equal(mkdir(inside, 0755), 0);
        assert_int_equal(result_write(r, sub), -EISDIR);
        assert_int_equal(count_entries(sub), 1);
        assert_int_equal(rmdir(inside), 0);
        assert_int_equal(rmdir(blocker), 0);
        assert_int_equal(rmdir(sub), 0);

        /* result_write_fd to a closed fd fails cleanly. */
        assert_true(result_write_fd(r, -1) < 0);
        result_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reason_table),
                cmocka_unit_test(test_growth_and_init),
                cmocka_unit_test_setup_teardown(test_roundtrip, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_host_gpu_timeslice, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_golden, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_json_encodings, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_invalid_utf8, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_partial_preserved, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_read_design_core, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_read_unknown_fields, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_read_errors, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_read_missing, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_write_atomic, setup_tmpdir, teardown_tmpdir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
