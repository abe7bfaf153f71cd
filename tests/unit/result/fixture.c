/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit/result/result-test-config.h"
#include "fixture.h"
#include "util/macros.h"

static char *xstrdup(const char *s) {
        char *p = strdup(s);
        assert_non_null(p);
        return p;
}

/* Appends a job with every field set; seed makes jobs differ so that a reader mixing them
 * up fails. */
static JobResult *add_job(RunResult *run, const char *name, const char *base, unsigned seed) {
        JobResult *j = run_result_add_job(run);
        double s = seed;
        assert_non_null(j);
        j->name = xstrdup(name);
        j->base_name = xstrdup(base);
        j->command = xstrdup("./bench --size=1µs 'quoted \"x\"'");
        j->reason = REASON_EXIT;
        j->exit_code = 0;
        j->signal = 0;
        j->started_s = 0.5 + s;
        j->ended_s = 10.75 + s;
        j->wall_s = 10.25;
        j->user_s = 12.5 + s;
        j->sys_s = 0.625;
        j->wait4_user_s = 12.25 + s;
        j->wait4_sys_s = 0.5;
        j->peak_bytes = (200 + seed) * (UINT64_C(1) << 20);
        j->pss_peak_bytes = (150 + seed) * (UINT64_C(1) << 20);
        j->pss_mean_bytes = (100 + seed) * (UINT64_C(1) << 20);
        j->rss_peak_bytes = (210 + seed) * (UINT64_C(1) << 20);
        j->ev_low = 1 + seed;
        j->ev_high = 2 + seed;
        j->ev_max = 3 + seed;
        j->ev_oom = 0;
        j->ev_oom_kill = 0;
        j->vol_ctxsw = 1000 + seed;
        j->invol_ctxsw = 50 + seed;
        j->has_psi = true;
        j->psi_cpu_some_s = 0.125 * s;
        j->psi_mem_some_s = 0.25;
        j->psi_mem_full_s = 0.0625;
        j->psi_io_some_s = 0.5;
        j->psi_io_full_s = 0.375;
        j->pids_peak = 4 + seed;
        j->req_cpus = xstrdup("2");
        j->req_memory_bytes = UINT64_C(256) << 20;
        j->applied_cpus = xstrdup(seed % 2 ? "2-3" : "0-1");
        j->applied_mems = xstrdup("0");
        j->applied_memory_bytes = UINT64_C(256) << 20;
        j->applied_swap_bytes = 0;
        j->applied_pids_max = 4096;
        j->memory_enforced = true;
        j->priority = xstrdup("normal");

        PhaseResult *p = job_result_add_phase(j);
        assert_non_null(p);
        p->name = xstrdup("load");
        p->start_s = 0.25;
        p->wall_s = 2.5;
        p->cpu_s = 4.75;
        p = job_result_add_phase(j);
        assert_non_null(p);
        p->name = xstrdup("compute");
        p->start_s = 2.75;
        p->wall_s = 7.5;
        p->cpu_s = -1; /* unknown: written as null */
        p->unfinished = true;

        MetricResult *m = job_result_add_metric(j);
        assert_non_null(m);
        m->name = xstrdup("proofs");
        m->value = 41.5 + s;
        m->unit = xstrdup("proofs/s");
        m = job_result_add_metric(j);
        assert_non_null(m);
        m->name = xstrdup("latency_ms");
        m->value = 3.25;
        m->n_all = 3;
        m->all = calloc(3, sizeof *m->all);
        assert_non_null(m->all);
        m->all[0] = 3.5;
        m->all[1] = NAN; /* a sample that did not parse: null in the array */
        m->all[2] = 3.25;
        m = job_result_add_metric(j);
        assert_non_null(m);
        m->name = xstrdup("never_seen");
        m->value = NAN;

        char buf[128];
        snprintf(buf, sizeof buf, "logs/%s.out", name);
        j->log_stdout = xstrdup(buf);
        snprintf(buf, sizeof buf, "logs/%s.err", name);
        j->log_stderr = xstrdup(buf);
        snprintf(buf, sizeof buf, "samples/%s.csv", name);
        j->samples_csv = xstrdup(buf);
        snprintf(buf, sizeof buf, "/sys/fs/cgroup/unified/corun/r1/s/%s", name);
        j->cgroup = xstrdup(buf);
        return j;
}

/* A GPU of job j measured from NVML; limited ones get their limits from the caller. */
static JobGpuResult *add_gpu(JobResult *j, unsigned index, double mean, uint64_t peak_gib_8ths) {
        JobGpuResult *g = job_result_add_gpu(j);
        assert_non_null(g);
        char uuid[64];
        snprintf(uuid, sizeof uuid, "GPU-0000000%u-1111-2222-3333-444444444444", index);
        g->uuid = xstrdup(uuid);
        g->index = index;
        g->name = xstrdup("NVIDIA H200");
        g->shared = true;
        g->sm_share_mean = mean;
        g->sm_share_peak = mean + 0.125;
        g->memory_peak_bytes = peak_gib_8ths * (UINT64_C(1) << 27);
        g->memory_total_bytes = UINT64_C(141) << 30;
        g->samples = 80 + index;
        g->pids[0] = 4242 + index;
        g->pids[1] = 4243 + index;
        g->n_pids = 2;
        if (!j->gpu_samples_csv) {
                char buf[128];
                snprintf(buf, sizeof buf, "samples/%s.gpu.csv", j->name);
                j->gpu_samples_csv = xstrdup(buf);
        }
        return g;
}

Result *fixture_full(void) {
        Result *r = result_new();
        assert_non_null(r);
        r->corun_version = xstrdup("0.1.0-test");
        r->partial = false;
        r->interrupted = false;
        r->started_at = xstrdup("2024-05-01T10:00:00Z");
        r->finished_at = xstrdup("2024-05-01T10:01:40Z");
        r->name = xstrdup("p2-partitions");
        r->run_id = xstrdup("20240501-100000-abcd");
        r->spec_file = xstrdup("/home/u/p2.yaml");
        r->command_line = xstrdup("corun run -o out p2.yaml");
        r->backend = xstrdup("v1");
        r->host = (HostInfo){
                .hostname = xstrdup("bench1"),
                .kernel = xstrdup("Linux 6.18.0 x86_64"),
                .cpu_model = xstrdup("AMD EPYC 7713 64-Core Processor"),
                .governor = xstrdup("performance"),
                .turbo = xstrdup("on"),
                .smt = xstrdup("off"),
                .n_cpus_online = 4,
                .n_cpus_allowed = 4,
                .allowed_cpus = xstrdup("0-3"),
                .memory_total_bytes = UINT64_C(8) << 30,
                .swap_on = true,
                .cgroup_backend_detail = xstrdup("hybrid: v1 controllers + /sys/fs/cgroup/unified"),
        };

        RunResult *run = result_add_run(r);
        assert_non_null(run);
        run->scenario = xstrdup("solo");
        run->repetition = 0;
        run->solo = true;
        run->solo_for = xstrdup("crowded");
        run->replicas = 1;
        run->started_s = 0.125;
        run->ended_s = 11.5;
        JobResult *j = add_job(run, "sealer", "sealer", 0);

        run = result_add_run(r);
        assert_non_null(run);
        run->scenario = xstrdup("crowded");
        run->repetition = 1;
        run->solo = false;
        run->replicas = 2;
        run->params = xstrdup("size=32G,mode=p2");
        run->started_s = 12;
        run->ended_s = 99.5;

        j = add_job(run, "sealer#1", "sealer", 1);
        j->exit_code = 3; /* a plain failure */

        j = add_job(run, "sealer#2", "sealer", 2);
        j->reason = REASON_CPU_TIMEOUT;
        j->limit = xstrdup("cpu");
        j->exit_code = -1;
        j->signal = 15;
        j->has_psi = false;

        j = add_job(run, "hog", "hog", 3);
        j->reason = REASON_OOM;
        j->exit_code = -1;
        j->signal = 9;
        j->ev_oom = 1;
        j->ev_oom_kill = 1;
        j->req_memory_bytes = UINT64_MAX; /* only the scenario limit applied */
        j->applied_swap_bytes = UINT64_MAX;
        j->applied_pids_max = UINT64_MAX;
        free(j->priority);
        j->priority = xstrdup("low");
        j->applied_memory_high_bytes = UINT64_C(200) << 20;
        j->memory_high_emulated = true;
        j->applied_cpu_weight = 25;
        j->frozen_s = 1.75;
        j->freezes = 3;

        j = add_job(run, "slow", "slow", 4);
        j->reason = REASON_TIMEOUT;
        j->limit = xstrdup("wall");
        j->exit_code = -1;
        j->signal = 9;
        j->applied_memory_bytes = UINT64_MAX;

        j = add_job(run, "typo", "typo", 5);
        j->reason = REASON_FAILED_TO_START;
        j->exit_code = -1;
        j->start_errno = ENOENT;
        j->start_error = xstrdup("execve ./benhc: No such file or directory");
        j->wall_s = j->user_s = j->sys_s = 0;
        j->peak_bytes = j->pss_peak_bytes = j->pss_mean_bytes = j->rss_peak_bytes = 0;

        /* GPU jobs: one capped at 30 % by the shim with a memory limit (launches seen), one
         * with a share on MPS that the backstop ended for its GPU memory (gpu-oom), and an
         * unlimited one. */
        j = add_job(run, "vision", "vision", 6);
        j->req_gpus = xstrdup("shared:1");
        JobGpuResult *g = add_gpu(j, 0, 0.296875, 60);
        g->limited = true;
        g->share_requested = 0.3;
        g->share_applied = 0.3;
        g->share_mode = xstrdup("cap");
        g->mechanism = xstrdup("shim");
        g->semantics = xstrdup("time-share");
        g->throttled_s = 12.25;
        for (size_t e = 0; e < ELEMENTSOF(g->launches); e++)
                g->launches[e] = e == 0 ? 1000 : e == 6 ? 25 : e == 8 ? 3 : 0;
        g->launches_seen = true;
        g->memory_limit_bytes = UINT64_C(8) << 30;
        g->memory_refused = 2;
        g->sliced_estimates = 17;
        /* Its GPU ran under its power cap (sw_power_cap) and at the applications clocks. */
        g->clock_polls = 40;
        g->sm_clock_min_mhz = 1410;
        g->sm_clock_mean_mhz = 1762.5;
        g->sm_clock_max_mhz = 1980;
        g->clock_events = 0x6;
        g->clock_events_known = true;

        j = add_job(run, "trainer", "trainer", 7);
        j->reason = REASON_GPU_OOM;
        j->exit_code = -1;
        j->signal = 9;
        j->req_gpus = xstrdup("shared:1");
        g = add_gpu(j, 1, 0.625, 38);
        g->limited = true;
        g->share_requested = 0.5;
        g->share_applied = 0.75;
        g->share_mode = xstrdup("share");
        g->mechanism = xstrdup("mps");
        g->semantics = xstrdup("sm-partition");
        g->uncontrollable = true;
        g->memory_limit_bytes = UINT64_C(4) << 30;
        /* A clock, but no reasons from this NVML (events null). */
        g->clock_polls = 3;
        g->sm_clock_min_mhz = g->sm_clock_max_mhz = 1755;
        g->sm_clock_mean_mhz = 1755;

        j = add_job(run, "render", "render", 8);
        j->req_gpus = xstrdup("1");
        g = add_gpu(j, 2, 0.5, 12);
        g->shared = false;

        EventResult *ev = result_add_event(r);
        assert_non_null(ev);
        ev->t_s = 30.5;
        ev->job = xstrdup("hog");
        ev->action = xstrdup("freeze");
        ev->detail = xstrdup("memory 231 MiB is 15% above its high mark 200 MiB");
        ev->run = 1;
        ev->duration_s = 0.5;
        ev = result_add_event(r);
        assert_non_null(ev);
        ev->t_s = 31.25;
        ev->action = xstrdup("freeze");

        assert_int_equal(result_add_warning(r, "cpu0: governor is powersave"), 0);
        assert_int_equal(result_add_warning(r, "backend v1: memory.peak is approximated by max_usage"), 0);
        return r;
}

char *read_all(const char *path, size_t *ret_len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                fail_msg("cannot open %s: %s", path, strerror(errno));
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        char *buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        size_t n = 0;
        while (n < (size_t)st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
                assert_true(k > 0);
                n += (size_t)k;
        }
        buf[n] = '\0';
        close(fd);
        if (ret_len)
                *ret_len = n;
        return buf;
}

void golden_check(const char *name, const char *text, size_t len) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", RESULT_GOLDEN_DIR, name);

        const char *update = getenv("CORUN_UPDATE_GOLDEN");
        if (update && streq(update, "1")) {
                FILE *f = fopen(path, "we");
                if (!f)
                        fail_msg("cannot write %s: %s", path, strerror(errno));
                assert_int_equal(fwrite(text, 1, len, f), len);
                assert_int_equal(fclose(f), 0);
                print_message("updated %s\n", path);
                return;
        }
        size_t glen;
        _cleanup_free_ char *golden = read_all(path, &glen);
        if (glen != len || memcmp(golden, text, len) != 0) {
                /* Show where they part, which beats two walls of text. */
                size_t i = 0, line = 1;
                while (i < len && i < glen && golden[i] == text[i])
                        line += text[i++] == '\n';
                fail_msg("output differs from %s at line %zu (byte %zu); if the change is intended, rerun "
                         "with CORUN_UPDATE_GOLDEN=1 and review the diff.\n--- got:\n%.*s",
                         path, line, i, (int)len, text);
        }
}
