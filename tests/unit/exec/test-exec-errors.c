/* SPDX-License-Identifier: MIT */
/* exec's errors carry the real errno (they all used to become -EINVAL), and the
 * preflight runs through the hooks' starter: its status and output come back. Backend
 * none and a synthetic topology: no root, no cgroups. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec/exec.h"
#include "util/fileio.h"

static void test_preflight(void **state) {
        int st = -1;
        char *out = NULL;
        assert_int_equal(exec_preflight("exit 0", &st, &out), 0);
        assert_null(out);
        assert_int_equal(exec_preflight("echo to-out; echo to-err >&2; exit 3", &st, &out), -ECANCELED);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 3);
        assert_string_equal(out, "to-out\nto-err\n");
        free(out);
        out = NULL;
        assert_int_equal(exec_preflight("kill -TERM $$", &st, &out), -ECANCELED);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGTERM);
        free(out);
}

/* The scratch dir cannot be created (TMPDIR is a file): the run fails with
 * ENOTDIR and says where. */
static void test_real_errno(void **state) {
        char dir[] = "/tmp/corun-test-exec-errors.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char results[256], logs[300], journal[256];
        snprintf(results, sizeof results, "%s/res", dir);
        snprintf(logs, sizeof logs, "%s/logs", results);
        snprintf(journal, sizeof journal, "%s/journal", dir);
        assert_int_equal(mkdir(results, 0755), 0);
        assert_int_equal(mkdir(journal, 0755), 0);
        FILE *f = fopen(logs, "we");
        assert_non_null(f);
        fclose(f);
        /* The scratch base below a file: its mkdir fails with ENOTDIR. (Log files are
         * made at a job's first output, so a log dir that cannot be made is a warning
         * of a job that writes, no longer an error of the run.) */
        const char *tmpdir = getenv("TMPDIR");
        char *saved = tmpdir ? strdup(tmpdir) : NULL;
        assert_int_equal(setenv("TMPDIR", logs, 1), 0);

        char *argv[] = {"run", "--backend", "none", "-q", "true", NULL};
        SpecCliInput in = {.argc = 5, .argv = argv};
        Spec *spec = NULL;
        SpecError se = {0};
        assert_int_equal(spec_from_cli(&in, &spec, &se), 0);
        Plan *plan = NULL;
        char *err = NULL;
        assert_int_equal(plan_build(spec, &plan, &err), 0);
        Result *result = result_new();
        assert_non_null(result);
        ExecOptions o = {
                .spec = spec,
                .results_dir = results,
                .run_id = "test-exec-errors",
                .journal_dir = journal,
                .topology = "pack:1 core:2 pu:1",
        };
        int r = exec_run(&o, plan, result, &err);
        if (saved)
                setenv("TMPDIR", saved, 1);
        else
                unsetenv("TMPDIR");
        free(saved);
        assert_int_equal(r, -ENOTDIR);
        assert_non_null(err);
        assert_non_null(strstr(err, "cannot create"));
        free(err);
        result_free(result);
        plan_free(plan);
        spec_free(spec);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_preflight),
                cmocka_unit_test(test_real_errno),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
