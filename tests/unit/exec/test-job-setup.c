/* SPDX-License-Identifier: MIT */
/* job-setup: a job's environment and paths on literals, and every allocation failure
 * (injected through the linker's --wrap, see meson.build) returns -ENOMEM with nothing
 * returned and nothing leaked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/job-setup.h"

/* ---- allocation failure injection ---- */

static bool armed;
static long alloc_count, fail_at = -1, live;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
char *__real_strdup(const char *s);
void __real_free(void *p);
int __real_vasprintf(char **s, const char *fmt, va_list ap);
int __real___vasprintf_chk(char **s, int flag, const char *fmt, va_list ap);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);
int __wrap_vasprintf(char **s, const char *fmt, va_list ap);
int __wrap___vasprintf_chk(char **s, int flag, const char *fmt, va_list ap);

/* True when this allocation is to fail. */
static bool fail_now(void) {
        return armed && alloc_count++ == fail_at;
}
static void *counted(void *p) {
        if (armed && p)
                live++;
        return p;
}
void *__wrap_malloc(size_t n) {
        return fail_now() ? NULL : counted(__real_malloc(n));
}
void *__wrap_calloc(size_t n, size_t m) {
        return fail_now() ? NULL : counted(__real_calloc(n, m));
}
char *__wrap_strdup(const char *s) {
        return fail_now() ? NULL : counted(__real_strdup(s));
}
void __wrap_free(void *p) {
        if (armed && p)
                live--;
        __real_free(p);
}
/* glibc leaves *s undefined on failure: make it a pointer nobody may use. */
int __wrap_vasprintf(char **s, const char *fmt, va_list ap) {
        if (fail_now()) {
                *s = (char *)(uintptr_t)0xdeadbeef;
                return -1;
        }
        int r = __real_vasprintf(s, fmt, ap);
        if (r >= 0)
                counted(*s);
        return r;
}
int __wrap___vasprintf_chk(char **s, int flag, const char *fmt, va_list ap) {
        if (fail_now()) {
                *s = (char *)(uintptr_t)0xdeadbeef;
                return -1;
        }
        int r = __real___vasprintf_chk(s, flag, fmt, ap);
        if (r >= 0)
                counted(*s);
        return r;
}

/* ---- fixtures ---- */

static char *user_env[] = {"PATH=/opt/job/bin", "OMP_NUM_THREADS=7", "RUST_LOG=info", NULL};
static char *no_env[] = {NULL};
static char *inherit[] = {"HOME=/root", "PATH=/usr/bin:/bin", "TMPDIR=/var/tmp", "LANG=C", NULL};

static PlanJob job = {.name = "sealer#2", .env = user_env};
static PlanRun run = {.scenario_name = "crowded", .repetition = 1, .jobs = &job, .n_jobs = 1};

static JobSetupInput input(CpuSet *cpus) {
        cpuset_zero(cpus);
        cpuset_add(cpus, 2);
        cpuset_add(cpus, 3);
        return (JobSetupInput){
                .run_id = "20261203T000000Z-42",
                .results_dir = "/res",
                .scratch_base = "/tmp/corun-20261203T000000Z-42",
                .run_index = 3,
                .run = &run,
                .pj = &job,
                .cpus = cpus,
                .inherit = inherit,
        };
}

static const char *getenv_in(char **envp, const char *key) {
        size_t n = strlen(key);
        const char *found = NULL;
        for (char **e = envp; e && *e; e++)
                if (strncmp(*e, key, n) == 0 && (*e)[n] == '=') {
                        assert_null(found); /* every variable once */
                        found = *e + n + 1;
                }
        return found;
}

static void test_paths(void **state) {
        CpuSet cpus;
        JobSetupInput in = input(&cpus);
        JobSetup s;
        assert_int_equal(job_setup_build(&in, &s), 0);
        assert_string_equal(s.file_name, "sealer_2");
        assert_string_equal(s.log_prefix, "logs/003-crowded-rep1/sealer_2");
        assert_string_equal(s.log_stdout_rel, "logs/003-crowded-rep1/sealer_2.out");
        assert_string_equal(s.log_stderr_rel, "logs/003-crowded-rep1/sealer_2.err");
        assert_string_equal(s.samples_rel, "samples/003-crowded-rep1-sealer_2.csv");
        assert_string_equal(s.log_dir, "/res/logs/003-crowded-rep1");
        assert_string_equal(s.log_stdout, "/res/logs/003-crowded-rep1/sealer_2.out");
        assert_string_equal(s.log_stderr, "/res/logs/003-crowded-rep1/sealer_2.err");
        assert_string_equal(s.samples_path, "/res/samples/003-crowded-rep1-sealer_2.csv");
        assert_string_equal(s.scratch, "/tmp/corun-20261203T000000Z-42/003-crowded-rep1-sealer_2");
        assert_string_equal(s.cgroup_rel, "003-crowded/sealer#2");
        assert_string_equal(s.cpus_text, "2-3");
        assert_int_equal(s.n_threads, 2);
        job_setup_done(&s);
        job_setup_done(&s); /* twice is fine */

        /* without a results dir or scratch base (corun plan): only relative paths */
        in.results_dir = NULL;
        in.scratch_base = NULL;
        in.cpus = NULL;
        assert_int_equal(job_setup_build(&in, &s), 0);
        assert_null(s.log_stdout);
        assert_null(s.samples_path);
        assert_null(s.scratch);
        assert_string_equal(s.samples_rel, "samples/003-crowded-rep1-sealer_2.csv");
        assert_int_equal(s.n_threads, 1);
        assert_string_equal(getenv_in(s.envp, "TMPDIR"), "/tmp");
        job_setup_done(&s);

        char *g = NULL, *b = NULL;
        assert_int_equal(job_setup_run_group(12, &run, &g), 0);
        assert_string_equal(g, "012-crowded");
        assert_int_equal(job_setup_scratch_base("", "id", &b), 0);
        assert_string_equal(b, "/tmp/corun-id");
        free(g);
        free(b);
}

static void test_env(void **state) {
        CpuSet cpus;
        JobSetupInput in = input(&cpus);
        JobSetup s;
        assert_int_equal(job_setup_build(&in, &s), 0);
        /* inherited, minus what corun and the job set */
        assert_string_equal(getenv_in(s.envp, "HOME"), "/root");
        assert_string_equal(getenv_in(s.envp, "LANG"), "C");
        assert_string_equal(getenv_in(s.envp, "TMPDIR"),
                            "/tmp/corun-20261203T000000Z-42/003-crowded-rep1-sealer_2");
        /* the job's own PATH, once, for the command lookup (spawn searches envp's PATH) */
        assert_string_equal(getenv_in(s.envp, "PATH"), "/opt/job/bin");
        /* the job's env: wins over corun's own variables */
        assert_string_equal(getenv_in(s.envp, "OMP_NUM_THREADS"), "7");
        assert_string_equal(getenv_in(s.envp, "MKL_NUM_THREADS"), "2");
        assert_string_equal(getenv_in(s.envp, "OPENBLAS_NUM_THREADS"), "2");
        assert_string_equal(getenv_in(s.envp, "CORUN_JOB"), "sealer#2");
        assert_string_equal(getenv_in(s.envp, "CORUN_RUN_ID"), "20261203T000000Z-42");
        assert_string_equal(getenv_in(s.envp, "CORUN_SCENARIO"), "crowded");
        assert_string_equal(getenv_in(s.envp, "CORUN_REPETITION"), "1");
        assert_string_equal(getenv_in(s.envp, "CORUN_CPUS"), "2-3");
        assert_string_equal(getenv_in(s.envp, "RUST_LOG"), "info");
        size_t n = 0;
        while (s.envp[n])
                n++;
        assert_int_equal(n, 3 /* HOME LANG PATH */ + 9 /* corun's, OMP from the job */ + 1 /* RUST_LOG */);
        job_setup_done(&s);

        /* no env: in the job: the runner's PATH */
        job.env = no_env;
        assert_int_equal(job_setup_build(&in, &s), 0);
        assert_string_equal(getenv_in(s.envp, "PATH"), "/usr/bin:/bin");
        assert_string_equal(getenv_in(s.envp, "OMP_NUM_THREADS"), "2");
        job_setup_done(&s);
        job.env = user_env;

        char **h = NULL;
        assert_int_equal(job_setup_hook_env(inherit, "id", "/res", &run, &h), 0);
        assert_string_equal(getenv_in(h, "CORUN_RUN_ID"), "id");
        assert_string_equal(getenv_in(h, "CORUN_RESULTS"), "/res");
        assert_string_equal(getenv_in(h, "CORUN_SCENARIO"), "crowded");
        assert_string_equal(getenv_in(h, "CORUN_REPETITION"), "1");
        assert_string_equal(getenv_in(h, "PATH"), "/usr/bin:/bin");
        job_setup_strv_free(h);
}

/* Every allocation in turn fails: -ENOMEM, *ret untouched, nothing leaked; with no
 * failure it succeeds. */
static void test_allocation_failures(void **state) {
        CpuSet cpus;
        JobSetupInput in = input(&cpus);
        long total = -1;
        for (long k = 0; k < 10000 && total < 0; k++) {
                JobSetup s, untouched;
                memset(&s, 0x5a, sizeof s);
                untouched = s;
                alloc_count = 0;
                fail_at = k;
                live = 0;
                armed = true;
                int r = job_setup_build(&in, &s);
                armed = false;
                if (r == 0) {
                        assert_true(alloc_count <= k); /* no allocation failed */
                        total = k;
                        armed = true;
                        job_setup_done(&s);
                        armed = false;
                        assert_int_equal(live, 0);
                        break;
                }
                assert_int_equal(r, -ENOMEM);
                assert_memory_equal(&s, &untouched, sizeof s);
                if (live != 0)
                        fail_msg("allocation %ld failed: %ld allocation(s) leaked", k, live);
        }
        assert_true(total > 20); /* paths, 13 env entries, copies: the loop really covered them */

        for (long k = 0;; k++) {
                char **h = (char **)(uintptr_t)0x1;
                alloc_count = 0;
                fail_at = k;
                live = 0;
                armed = true;
                int r = job_setup_hook_env(inherit, "id", "/res", &run, &h);
                if (r == 0)
                        job_setup_strv_free(h);
                armed = false;
                assert_int_equal(live, 0);
                if (r == 0)
                        break;
                assert_int_equal(r, -ENOMEM);
                assert_ptr_equal(h, (char **)(uintptr_t)0x1);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_allocation_failures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
