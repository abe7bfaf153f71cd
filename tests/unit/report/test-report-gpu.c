/* SPDX-License-Identifier: MIT */
/* GPU limits in the report files, from a results directory made here (result.json and
 * the jobs' samples/<...>.gpu.csv, no GPU and no runner): report.html draws each limited
 * job's cap or share target and its memory limit dashed in the job's colour, results.csv
 * and summary.md carry the limits, a gpu-oom job is marked, and a GPU series of corun
 * before GPU limits (four columns) still draws, its cap taken from result.json. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/files.h"
#include "result/result.h"
#include "util/macros.h"

static char dir[] = "/tmp/corun-test-report-gpu-XXXXXX";

static char *read_file(const char *name) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open %s", path);
        char *buf = calloc(1, 1 << 20);
        assert_non_null(buf);
        size_t n = fread(buf, 1, (1 << 20) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void write_file(const char *name, const char *text) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static JobGpuResult *gpu_job(RunResult *run, const char *name, unsigned index, double mean) {
        JobResult *j = run_result_add_job(run);
        assert_non_null(j);
        j->name = strdup(name);
        j->base_name = strdup(name);
        j->command = strdup("./infer");
        j->exit_code = 0;
        j->wall_s = 4;
        j->started_s = 0;
        j->ended_s = 4;
        char rel[128];
        snprintf(rel, sizeof rel, "samples/%s.gpu.csv", name);
        j->gpu_samples_csv = strdup(rel);
        JobGpuResult *g = job_result_add_gpu(j);
        assert_non_null(g);
        g->uuid = strdup("GPU-x");
        g->index = index;
        g->shared = true;
        g->sm_share_mean = mean;
        g->sm_share_peak = mean;
        g->memory_peak_bytes = UINT64_C(6) << 30;
        g->memory_total_bytes = UINT64_C(16) << 30;
        g->samples = 4;
        return g;
}

/* The whole element that starts with `start` and holds `inside` (NULL: none). */
static const char *element_with(const char *html, const char *start, const char *inside, char *buf,
                                size_t n) {
        for (const char *p = html; (p = strstr(p, start)); p++) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                if (len >= n)
                        continue;
                memcpy(buf, p, len);
                buf[len] = '\0';
                if (strstr(buf, inside))
                        return buf;
        }
        return NULL;
}

static void test_gpu_limits_drawn(void **state) {
        assert_non_null(mkdtemp(dir));
        char path[256];
        snprintf(path, sizeof path, "%s/samples", dir);
        assert_int_equal(mkdir(path, 0755), 0);

        Result *r = result_new();
        assert_non_null(r);
        r->corun_version = strdup("test");
        RunResult *run = result_add_run(r);
        assert_non_null(run);
        run->scenario = strdup("gpus");
        run->replicas = 1;
        run->ended_s = 4;

        /* Sorted by name, the jobs take the first five colours: capped #4e79a7, legacy
         * #f28e2b, oomed #59a14f, plain #e15759, zmulti #b07aa1. */
        JobGpuResult *g = gpu_job(run, "capped", 0, 0.295);
        g->limited = true;
        g->share_requested = g->share_applied = 0.3;
        g->share_mode = strdup("cap");
        g->mechanism = strdup("shim");
        g->semantics = strdup("time-share");
        g->throttled_s = 1.5;
        g->memory_limit_bytes = UINT64_C(8) << 30;
        g->clock_polls = 4;
        g->sm_clock_min_mhz = 1410;
        g->sm_clock_max_mhz = 1980;
        g->sm_clock_mean_mhz = 1732.5;
        g->clock_events = 0x1 | 0x4 | 0x8; /* gpu_idle too, as an odd file may say */
        g->clock_events_known = true;
        write_file("samples/capped.gpu.csv",
                   "t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s\n"
                   "1.000,0,0.2900,6442450944,0.3000,8589934592,0.500\n"
                   "2.000,0,0.3000,6442450944,0.3000,8589934592,1.000\n"
                   "3.000,0,0.2950,6442450944,0.3000,8589934592,1.500\n");

        g = gpu_job(run, "legacy", 1, 0.2);
        g->limited = true;
        g->share_requested = g->share_applied = 0.25;
        g->share_mode = strdup("cap");
        g->mechanism = strdup("shim");
        write_file("samples/legacy.gpu.csv", "t_s,gpu,sm_share,memory_bytes\n1.000,1,0.2000,1048576\n"
                                             "2.000,1,0.2000,1048576\n");

        g = gpu_job(run, "oomed", 2, 0.6);
        g->limited = true;
        g->share_requested = 0.5;
        g->share_applied = 0.625;
        g->share_mode = strdup("share");
        g->mechanism = strdup("shim");
        g->memory_limit_bytes = UINT64_C(4) << 30;
        run->jobs[run->n_jobs - 1].reason = REASON_GPU_OOM;
        run->jobs[run->n_jobs - 1].exit_code = -1;
        run->jobs[run->n_jobs - 1].signal = 9;
        write_file("samples/oomed.gpu.csv",
                   "t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s\n"
                   "1.000,2,0.5000,3221225472,0.5000,4294967296,0.000\n"
                   "2.000,2,0.7000,4831838208,0.7500,4294967296,0.000\n");

        gpu_job(run, "plain", 3, 0.4);
        write_file("samples/plain.gpu.csv", "t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,"
                                            "throttled_s\n1.000,3,0.4000,1048576,,,\n");

        /* zmulti: two GPUs capped at 30 % each; the line is their sum (60 %: y = 64), as its
         * share is, the label one GPU's cap. */
        gpu_job(run, "zmulti", 4, 0.5);
        JobResult *multi = &run->jobs[run->n_jobs - 1];
        assert_non_null(job_result_add_gpu(multi)); /* moves gpus[]: no pointer into it kept */
        multi->gpus[1].index = 5;
        for (size_t i = 0; i < multi->n_gpus; i++) {
                multi->gpus[i].limited = true;
                multi->gpus[i].share_requested = multi->gpus[i].share_applied = 0.3;
                multi->gpus[i].share_mode = strdup("cap");
        }
        /* Clocks over both GPUs: (1 × 1000 + 3 × 2000) / 4 polls = 1750 MHz. */
        multi->gpus[0].clock_polls = 1;
        multi->gpus[0].sm_clock_mean_mhz = 1000;
        multi->gpus[1].clock_polls = 3;
        multi->gpus[1].sm_clock_mean_mhz = 2000;
        multi->gpus[1].clock_events = 0x20;
        multi->gpus[1].clock_events_known = true;
        write_file("samples/zmulti.gpu.csv",
                   "t_s,gpu,sm_share,memory_bytes,share_target,memory_limit_bytes,throttled_s\n"
                   "1.000,4,0.2500,1048576,0.3000,,0.000\n1.000,5,0.2500,1048576,0.3000,,0.000\n");

        /* corun report DIR: everything from result.json read back. */
        assert_int_equal(result_write(r, dir), 0);
        result_free(r);
        char *error = NULL;
        if (report_write_all(dir, &error) < 0)
                fail_msg("report_write_all: %s", error);

        char *html = read_file("report.html"), el[8192];
        /* capped: its cap at 30 % (y = 8 + 140 - 0.3 * 140 = 106), dashed in its colour, a
         * step line from the series, labelled; its memory limit in the memory chart. */
        const char *cap =
                element_with(html, "<path class=\"cap\" stroke=\"#4e79a7\"", "cap 30%", el, sizeof el);
        assert_non_null(cap);
        assert_non_null(strstr(cap, " 106.0 H"));
        assert_non_null(strstr(cap, "<title>capped: cap 30%</title>"));
        assert_non_null(strstr(html, "style=\"fill:#4e79a7\">cap 30%</text>"));
        assert_non_null(element_with(html, "<path class=\"cap\" stroke=\"#4e79a7\"", "limit 8.00 GiB", el,
                                     sizeof el));
        assert_non_null(strstr(html, "SM 29.5% mean, cap 30%)"));
        /* legacy: no target in its four-column series: flat at the requested 25 %
         * (y = 8 + 140 - 35 = 113) from result.json. */
        cap = element_with(html, "<path class=\"cap\" stroke=\"#f28e2b\"", "cap 25%", el, sizeof el);
        assert_non_null(cap);
        assert_non_null(strstr(cap, " 113.0 H"));
        /* oomed: share mode, its target steps from 50 % to 75 % (y 78 to 43). */
        cap = element_with(html, "<path class=\"cap\" stroke=\"#59a14f\"", "share 50%+lent", el, sizeof el);
        assert_non_null(cap);
        assert_non_null(strstr(cap, "V43.0"));
        assert_non_null(element_with(html, "<path class=\"cap\" stroke=\"#59a14f\"", "limit 4.00 GiB", el,
                                     sizeof el));
        assert_non_null(strstr(html, "class=\"marker gpu-oom\""));
        /* plain: no limits, no dashed line. */
        assert_null(strstr(html, "<path class=\"cap\" stroke=\"#e15759\""));
        assert_non_null(strstr(html, "<polyline class=\"series\" stroke=\"#e15759\""));
        cap = element_with(html, "<path class=\"cap\" stroke=\"#b07aa1\"", "cap 30% ×2 GPUs", el, sizeof el);
        assert_non_null(cap);
        assert_non_null(strstr(cap, " 64.0 H"));
        /* Self-contained, as ever. */
        assert_null(strstr(html, "src=\"http"));
        assert_null(strstr(html, "<script"));
        free(html);

        char *csv = read_file("results.csv");
        assert_non_null(strstr(csv, ",gpu_share_requested,gpu_share_applied,gpu_mechanism,gpu_throttled_s,"
                                    "gpu_memory_limit_bytes,gpu_sm_clock_mhz,gpu_clock_events\n"));
        assert_non_null(strstr(csv, ",capped,capped,exit,0,"));
        assert_non_null(strstr(csv, ",0.300000,0.300000,shim,1.500000,8589934592,1732.500000,gpu_idle|sw_"
                                    "power_cap|hw_slowdown\n"));
        assert_non_null(strstr(csv, ",gpu-oom,,9,"));
        assert_non_null(strstr(csv, ",0.500000,0.625000,shim,0.000000,4294967296,,\n"));
        assert_non_null(strstr(csv, ",1750.000000,sw_thermal_slowdown\n"));
        assert_non_null(strstr(csv, ",plain,plain,exit,0,"));
        const char *plain = strstr(csv, ",plain,plain,");
        assert_non_null(strstr(plain, ",false,,,,,,,,\n"));
        free(csv);

        char *md = read_file("summary.md");
        assert_non_null(strstr(md, "| capped | 0 (shared) | 29.5 % (cap 30% by shim, throttled 1.5s) |"));
        assert_non_null(strstr(md, "| 6.00 GiB of 16.0 GiB (limit 8.00 GiB) |"));
        assert_non_null(strstr(md, "5 jobs: 4 ok, 1 failed (gpu-oom: 1)"));
        free(md);

        const char *files[] = {"samples/capped.gpu.csv",
                               "samples/legacy.gpu.csv",
                               "samples/oomed.gpu.csv",
                               "samples/plain.gpu.csv",
                               "samples/zmulti.gpu.csv",
                               "samples",
                               "result.json",
                               "report.html",
                               "summary.md",
                               "results.csv"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof path, "%s/%s", dir, files[i]);
                assert_int_equal(remove(path), 0);
        }
        assert_int_equal(rmdir(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gpu_limits_drawn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
