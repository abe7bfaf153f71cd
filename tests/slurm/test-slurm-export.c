/* SPDX-License-Identifier: MIT */
/* The sbatch script, on scenario literals (pure: no Slurm needed). The scripts themselves
 * are run by a real Slurm in the shell tests of tests/slurm. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm/slurm.h"
#include "util/macros.h"

static const char partitions[] = "name: p\n"
                                 "defaults: {memory: 256M, timeout: 60s}\n"
                                 "jobs:\n"
                                 "  a: {command: [true], cpus: 1, priority: high}\n"
                                 "  b: {command: [true], cpus: 1}\n"
                                 "scenarios:\n"
                                 "  excl: {jobs: [a, b]}\n"
                                 "  shared: {jobs: [a, b], cpus: {shared: \"0-1\"}}\n";

static const char sweep[] = "name: s\n"
                            "jobs:\n"
                            "  probe: {command: [echo, '${n}'], cpus: 2, memory: 1G, timeout: 1h}\n"
                            "scenarios:\n"
                            "  pts: {jobs: [probe], matrix: {n: ['1', '2']}}\n"
                            "repeat: 2\n";

typedef struct Out {
        char *text;
        char **warnings;
        char *error;
        int r;
} Out;

static Out export(const char *yaml, SlurmMode mode) {
        Spec *spec = NULL;
        Plan *plan = NULL;
        SpecError se = {0};
        Out o = {0};
        size_t len = 0;
        assert_int_equal(spec_parse_yaml("t.yaml", yaml, strlen(yaml), &spec, &se), 0);
        assert_int_equal(plan_build(spec, &plan, &o.error), 0);
        FILE *f = open_memstream(&o.text, &len);
        assert_non_null(f);
        SlurmExportOptions eo = {.mode = mode, .spec_file = "/s/t.yaml", .corun_path = "/bin/corun"};
        o.r = slurm_export(spec, plan, &eo, f, &o.warnings, &o.error);
        fclose(f);
        plan_free(plan);
        spec_free(spec);
        return o;
}

static void out_done(Out *o) {
        free(o->text);
        for (char **w = o->warnings; w && *w; w++)
                free(*w);
        free(o->warnings);
        free(o->error);
}

static bool any_warning(const Out *o, const char *needle) {
        for (char **w = o->warnings; w && *w; w++)
                if (strstr(*w, needle))
                        return true;
        return false;
}

static void test_modes(void **state) {
        for (int m = 0; m < _SLURM_MODE_MAX; m++)
                assert_int_equal(slurm_mode_from_string(slurm_mode_to_string(m)), m);
        assert_int_equal(slurm_mode_from_string("nodes"), _SLURM_MODE_INVALID);
        assert_null(slurm_mode_to_string(_SLURM_MODE_MAX));
}

static void test_time(void **state) {
        char b[32];
        slurm_format_time(0, b, sizeof b);
        assert_string_equal(b, "0-00:05:00");
        slurm_format_time(3600 * USEC_PER_SEC, b, sizeof b);
        assert_string_equal(b, "0-01:11:00"); /* + 10 % + 5 min */
        slurm_format_time(48 * 3600 * USEC_PER_SEC, b, sizeof b);
        assert_string_equal(b, "2-04:53:00");
}

static void test_steps(void **state) {
        Out o = export(partitions, SLURM_MODE_STEPS);
        assert_int_equal(o.r, 0);
        /* Run 0 (excl): both jobs start together, each on its own core and memory. */
        assert_non_null(strstr(o.text, "step 0 0 -c 1 --mem=256M &\nstep 0 1 -c 1 --mem=256M &\nwait\n"));
        /* shared CPUs: overlapping steps of the shared set's size. */
        assert_non_null(strstr(o.text, "step 1 0 -c 2 --overlap --mem=256M &"));
        assert_non_null(strstr(o.text, "srun --exact -N1 -n1 --cpu-bind=cores"));
        assert_non_null(strstr(o.text, "#SBATCH --time=0-00:")); /* 2 × (60 s + 10 s grace) */
        assert_non_null(strstr(o.text, "priority=high"));
        assert_true(any_warning(&o, "job 'a': priority high"));
        out_done(&o);
}

static void test_node_keeps_everything(void **state) {
        Out o = export(partitions, SLURM_MODE_NODE);
        assert_int_equal(o.r, 0);
        assert_non_null(strstr(o.text, "#SBATCH --exclusive"));
        assert_non_null(strstr(o.text, "\"$CORUN\" run \"$SPEC\" -o \"$RESULTS/node\""));
        assert_null(o.warnings);
        out_done(&o);
}

static void test_array_refuses_side_by_side(void **state) {
        Out o = export(partitions, SLURM_MODE_ARRAY);
        assert_int_equal(o.r, -EINVAL);
        assert_non_null(strstr(o.error, "use --mode steps"));
        assert_true(!o.text || !*o.text); /* no half-written script */
        out_done(&o);
}

static void test_array(void **state) {
        Out o = export(sweep, SLURM_MODE_ARRAY);
        assert_int_equal(o.r, 0);
        assert_non_null(strstr(o.text, "#SBATCH --array=0-3%4\n"));
        assert_non_null(strstr(o.text, "#SBATCH --cpus-per-task=2\n"));
        assert_non_null(strstr(o.text, "#SBATCH --mem=1024M\n"));
        assert_non_null(strstr(o.text, "step \"$SLURM_ARRAY_TASK_ID\" 0\n"));
        out_done(&o);
}

static void test_no_timeout_warns(void **state) {
        Out o = export("jobs:\n  x: {command: [true]}\n", SLURM_MODE_NODE);
        assert_int_equal(o.r, 0);
        assert_null(strstr(o.text, "\n#SBATCH --time"));
        assert_true(any_warning(&o, "no timeout"));
        out_done(&o);
}

static void test_subplan(void **state) {
        Spec *spec = NULL;
        Plan *plan = NULL, *sub = NULL;
        SpecError se = {0};
        char *err = NULL;
        assert_int_equal(spec_parse_yaml("t.yaml", partitions, strlen(partitions), &spec, &se), 0);
        assert_int_equal(plan_build(spec, &plan, &err), 0);
        assert_int_equal(slurm_subplan(plan, 1, 1, &sub, &err), 0);
        assert_int_equal(sub->n_runs, 1);
        assert_int_equal(sub->runs[0].n_jobs, 1);
        assert_string_equal(sub->runs[0].jobs[0].name, "b");
        assert_string_equal(sub->runs[0].scenario_name, "shared");
        slurm_subplan_free(sub);
        assert_int_equal(slurm_subplan(plan, 1, 2, &sub, &err), -EINVAL);
        assert_non_null(strstr(err, "--job 2"));
        free(err);
        err = NULL;
        assert_int_equal(slurm_subplan(plan, 9, -1, &sub, &err), -EINVAL);
        free(err);
        plan_free(plan);
        spec_free(spec);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_modes),
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_steps),
                cmocka_unit_test(test_node_keeps_everything),
                cmocka_unit_test(test_array_refuses_side_by_side),
                cmocka_unit_test(test_array),
                cmocka_unit_test(test_no_timeout_warns),
                cmocka_unit_test(test_subplan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
