/* SPDX-License-Identifier: MIT */
/* The end-of-run summary: terminal table and summary.md on a fixed Result (golden text). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "report/summary.h"
#include "util/macros.h"

typedef int (*Render)(const Result *r, FILE *f, bool color);

static int render_table(const Result *r, FILE *f, bool color) {
        return report_summary_table(r, f, color);
}

static int render_markdown(const Result *r, FILE *f, bool color) {
        return report_summary_markdown(r, f);
}

/* noinline: inlined, GCC loses track of open_memstream's hold on &buf and warns that the
 * returned text may point to the dead local (-Wdangling-pointer). */
__attribute__((noinline)) static char *render(const Result *r, Render fn, bool color, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        assert_int_equal(fn(r, f, color), 0);
        assert_int_equal(fclose(f), 0);
        *ret_len = len;
        return buf;
}

static void test_table_golden(void **state) {
        Result *r = fixture_full();
        size_t len;
        _cleanup_free_ char *text = render(r, render_table, false, &len);
        golden_check("summary.txt", text, len);
        /* The tally, spelled out here too so that a regenerated golden cannot hide it. */
        assert_non_null(strstr(text, "\n9 jobs: 3 ok, 6 failed (nonzero exit: 1, timeout: 2, oom: 1, "
                                     "gpu-oom: 1, failed-to-start: 1)\n"));
        /* A limited job's GPU line: measured beside the cap and the memory limit. */
        assert_non_null(strstr(text, "vision: GPU 0 (shared) SM 29.7% mean (cap 30% by shim, throttled "
                                     "12.2s), 42.2% peak, memory 7.50 GiB of 141 GiB (limit 8.00 GiB, 2 "
                                     "allocations refused)"));
        assert_non_null(strstr(text, "(share 50%+lent, applied 75% by mps, not held: kernels longer"));
        assert_non_null(strstr(text, "typo: failed to start: execve ./benhc: No such file or directory"));
        assert_null(strchr(text, '\033'));
        result_free(r);
}

/* Strips ANSI colour sequences, so the coloured table can be compared with the plain one. */
static void strip_ansi(char *s) {
        char *o = s;
        while (*s) {
                if (*s == '\033') {
                        while (*s && *s != 'm')
                                s++;
                        if (*s)
                                s++;
                } else
                        *o++ = *s++;
        }
        *o = '\0';
}

static void test_table_color(void **state) {
        Result *r = fixture_full();
        size_t plain_len, color_len;
        _cleanup_free_ char *plain = render(r, render_table, false, &plain_len);
        _cleanup_free_ char *color = render(r, render_table, true, &color_len);

        /* Only the failed jobs' reasons are red: the ok job's is not. */
        assert_non_null(strstr(color, "\033[31moom\033[0m"));
        assert_non_null(strstr(color, "\033[31mtimeout (cpu)\033[0m"));
        assert_non_null(strstr(color, "\033[31mexit\033[0m")); /* sealer#1 exited 3 */
        size_t reds = 0;
        for (const char *p = color; (p = strstr(p, "\033[31m")); p++)
                reds++;
        assert_int_equal(reds, 6); /* and trainer's gpu-oom */
        assert_non_null(strstr(color, "\033[31mgpu-oom\033[0m"));
        /* Colour changes no column: without the escapes it is the plain table. */
        strip_ansi(color);
        assert_string_equal(color, plain);
        result_free(r);
}

static void test_markdown_golden(void **state) {
        Result *r = fixture_full();
        size_t len;
        _cleanup_free_ char *text = render(r, render_markdown, false, &len);
        golden_check("summary.md", text, len);
        /* A '|' inside a cell is escaped, or it would split the row. */
        assert_non_null(strstr(text, "| crowded ×2 [size=32G,mode=p2] |"));
        result_free(r);
}

static void test_markdown_escaping(void **state) {
        Result *r = result_new();
        r->name = strdup("a|b");
        r->command_line = strdup("corun run 'echo `date`'");
        r->partial = true;
        r->interrupted = true;
        RunResult *run = result_add_run(r);
        run->scenario = strdup("pipe|s");
        JobResult *j = run_result_add_job(run);
        j->name = strdup("x|y");
        j->reason = REASON_INTERRUPTED;
        j->signal = 15;
        size_t len;
        _cleanup_free_ char *text = render(r, render_markdown, false, &len);
        assert_true(strstr(text, "# corun: a\\|b\n") == text);
        assert_non_null(strstr(text, "**Partial result (interrupted): not every job ran.**"));
        assert_non_null(strstr(text, "- command: `` corun run 'echo `date`' ``\n"));
        assert_non_null(strstr(text, "| pipe\\|s | 1 | x\\|y | **interrupted** | SIGTERM |"));
        assert_non_null(strstr(text, "1 job: 0 ok, 1 failed (interrupted: 1)\n"));
        result_free(r);
}

static void test_empty(void **state) {
        Result *r = result_new();
        size_t len;
        _cleanup_free_ char *text = render(r, render_table, false, &len);
        assert_string_equal(
                text, "scenario  rep  job  reason  exit  wall  cpu  cpu%  memory peak / limit  pss peak\n"
                      "\n0 jobs: 0 ok, 0 failed\n");
        result_free(r);
}

/* CPU% is per core the job had; no limit shows the peak alone; RSS stands in for the
 * cgroup peak when there was none (backend none). */
static void test_cells(void **state) {
        Result *r = result_new();
        RunResult *run = result_add_run(r);
        run->scenario = strdup("s");
        JobResult *j = run_result_add_job(run);
        j->name = strdup("j");
        j->exit_code = 0;
        j->wall_s = 2;
        j->user_s = 5;
        j->sys_s = 1;
        j->applied_cpus = strdup("0-3");
        j->rss_peak_bytes = UINT64_C(3) << 30;
        size_t len;
        _cleanup_free_ char *text = render(r, render_table, false, &len);
        const char *row = strchr(text, '\n') + 1;
        _cleanup_free_ char *line = strndup(row, strcspn(row, "\n"));
        assert_string_equal(
                line,
                "s           1  j    exit       0  2.000s  6.000s   75%             3.00 GiB         -");
        assert_non_null(strstr(text, "1 job: 1 ok, 0 failed\n"));
        result_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_golden),    cmocka_unit_test(test_table_color),
                cmocka_unit_test(test_markdown_golden), cmocka_unit_test(test_markdown_escaping),
                cmocka_unit_test(test_empty),           cmocka_unit_test(test_cells),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
