/* SPDX-License-Identifier: MIT */
/* compare verdicts on hand-made results, results.csv against a golden text, and the
 * HTML report's structure and escaping. */
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

#include "report/compare.h"
#include "report/csv.h"
#include "report/files.h"
#include "report/html.h"
#include "report/slowdown.h"
#include "report/summary.h"
#include "result/samples.h"
#include "util/macros.h"

static JobResult *add_job(RunResult *run, const char *name, const char *base, double wall) {
        JobResult *j = run_result_add_job(run);
        assert_non_null(j);
        j->name = strdup(name);
        j->base_name = strdup(base);
        j->command = strdup("true");
        j->exit_code = 0;
        j->wall_s = wall;
        j->user_s = wall / 2;
        j->sys_s = 0.25;
        j->started_s = 0.5;
        j->ended_s = 0.5 + wall;
        return j;
}

static RunResult *add_run(Result *r, const char *scenario, unsigned rep, bool solo) {
        RunResult *run = result_add_run(r);
        assert_non_null(run);
        run->scenario = strdup(scenario);
        run->repetition = rep;
        run->solo = solo;
        run->replicas = 1;
        run->started_s = 0;
        run->ended_s = 10;
        return run;
}

/* A result with job "a" in scenario "s" taking the given times, one run per time. */
static Result *make(const char *kernel, size_t n, const double *walls) {
        Result *r = result_new();
        assert_non_null(r);
        r->host.kernel = strdup(kernel);
        r->host.cpu_model = strdup("cpu");
        r->backend = strdup("v1");
        for (size_t i = 0; i < n; i++)
                add_job(add_run(r, "s", (unsigned)i, false), "a", "a", walls[i]);
        return r;
}

/* What fn writes for obj, as one string (the caller frees it). */
#define RENDER(call)                                                                                        \
        ({                                                                                                  \
                char *_text = NULL;                                                                         \
                size_t _len = 0;                                                                            \
                FILE *f = open_memstream(&_text, &_len);                                                    \
                assert_non_null(f);                                                                         \
                assert_int_equal((call), 0);                                                                \
                fclose(f);                                                                                  \
                _text;                                                                                      \
        })

static const CompareCell *cell(const Comparison *c, size_t idx) {
        assert_int_equal(c->n_rows, 1);
        assert_string_equal(c->rows[0].config, "s");
        assert_string_equal(c->rows[0].job, "a");
        return &c->rows[0].cells[idx];
}

static void test_compare_verdicts(void **state) {
        const double ref[] = {1.00, 1.01, 0.99}, slow[] = {1.50, 1.51, 1.49}, same[] = {1.0, 1.02, 0.98},
                     fast[] = {0.80, 0.81, 0.79}, one[] = {2.0};
        Result *r[5] = {make("k", 3, ref), make("k", 3, slow), make("k", 3, same), make("k", 3, fast),
                        make("other", 1, one)};
        const char *labels[5] = {"A", "B", "C", "D", "E"};
        Comparison *c = NULL;
        assert_int_equal(report_compare((const Result *const *)r, labels, 5, &c), 0);
        char buf[REPORT_VERDICT_MAX];

        assert_true(cell(c, 0)->present);
        assert_float_equal(cell(c, 0)->s.median, 1.0, 1e-12);
        assert_int_equal(cell(c, 1)->v.kind, VERDICT_SLOWER);
        assert_string_equal(report_compare_verdict(cell(c, 1), buf, sizeof buf), "1.50x slower");
        assert_true(cell(c, 1)->v.test.p < 0.05);
        assert_int_equal(cell(c, 2)->v.kind, VERDICT_NOT_SIGNIFICANT);
        assert_string_equal(report_compare_verdict(cell(c, 2), buf, sizeof buf), "not significant");
        assert_int_equal(cell(c, 3)->v.kind, VERDICT_FASTER);
        assert_string_equal(report_compare_verdict(cell(c, 3), buf, sizeof buf), "1.25x faster");
        /* One run: no test, but the ratio still says which way. */
        assert_int_equal(cell(c, 4)->v.kind, VERDICT_TOO_FEW);
        assert_string_equal(report_compare_verdict(cell(c, 4), buf, sizeof buf),
                            "2.00x slower (n too small)");

        /* One row each: the geometric mean is the row's ratio of means. */
        assert_float_equal(c->geomean[1], 1.5, 1e-9);
        assert_float_equal(c->geomean[3], 0.8, 1e-9);
        assert_int_equal(c->geomean_n[2], 1);

        /* Only E ran on another kernel. */
        assert_non_null(c->warnings);
        assert_non_null(c->warnings[0]);
        assert_non_null(strstr(c->warnings[0], "E: kernel differs"));
        assert_null(c->warnings[1]);

        char *text = RENDER(report_compare_table(c, labels, f));
        assert_non_null(strstr(text, "A (reference)"));
        assert_non_null(strstr(text, " ± "));
        assert_non_null(strstr(text, "(n=3)"));
        assert_non_null(strstr(text, "geometric mean"));
        free(text);

        text = RENDER(report_compare_json(c, labels, f));
        assert_non_null(strstr(text, "\"verdict\": \"slower\""));
        assert_non_null(strstr(text, "\"verdict\": \"too-few\""));
        assert_non_null(strstr(text, "\"test\": \"welch\""));
        free(text);

        comparison_free(c);
        for (size_t i = 0; i < 5; i++)
                result_free(r[i]);
}

static void test_compare_missing_and_failed(void **state) {
        const double t[] = {1.0, 1.1};
        Result *a = make("k", 2, t), *b = make("k", 2, t);
        /* In B the job failed every time and another job appears. */
        for (size_t i = 0; i < b->n_runs; i++)
                b->runs[i].jobs[0].reason = REASON_OOM;
        add_job(&b->runs[0], "new", "new", 1.0);
        const Result *r[2] = {a, b};
        const char *labels[2] = {"A", "B"};
        Comparison *c = NULL;
        assert_int_equal(report_compare(r, labels, 2, &c), 0);
        assert_int_equal(c->n_rows, 2);
        char buf[REPORT_VERDICT_MAX];
        assert_false(c->rows[0].cells[1].present);
        assert_string_equal(report_compare_verdict(&c->rows[0].cells[1], buf, sizeof buf), "missing");
        assert_string_equal(c->rows[1].job, "new");
        assert_false(c->rows[1].cells[0].present);
        assert_string_equal(report_compare_verdict(&c->rows[1].cells[1], buf, sizeof buf), "no reference");
        assert_true(isnan(c->geomean[1]));
        assert_null(c->warnings);
        comparison_free(c);
        result_free(a);
        result_free(b);

        assert_int_equal(report_compare(r, labels, 1, &c), -EINVAL);
}

static void test_series_and_solo(void **state) {
        Result *r = result_new();
        for (unsigned rep = 0; rep < 2; rep++) {
                add_job(add_run(r, "solo", rep, true), "w", "w", 1.0);
                RunResult *run = add_run(r, "crowded", rep, false);
                run->replicas = 2;
                add_job(run, "w#1", "w", 2.0);
                add_job(run, "w#2", "w", 3.0);
        }
        JobSeries *s = NULL;
        size_t n = 0;
        assert_int_equal(report_job_series(r, &s, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(s[1].config, "crowded r=2");
        assert_string_equal(s[1].job, "w#1");
        assert_int_equal(s[1].n, 2);
        const JobSeries *solo = report_job_series_solo(s, n, &s[2]);
        assert_ptr_equal(solo, &s[0]);
        report_job_series_free(s, n);
        result_free(r);
}

/* Baselines made for two scenarios: each scenario is compared with its own; a third
 * scenario without baselines borrows the first one. */
static void test_solo_for(void **state) {
        Result *r = result_new();
        RunResult *run = add_run(r, "solo", 0, true);
        run->solo_for = strdup("excl");
        add_job(run, "w", "w", 1.0);
        run = add_run(r, "solo", 0, true);
        run->solo_for = strdup("shared");
        add_job(run, "w", "w", 2.0);
        add_job(add_run(r, "excl", 0, false), "w", "w", 1.5);
        add_job(add_run(r, "shared", 0, false), "w", "w", 3.0);
        add_job(add_run(r, "other", 0, false), "w", "w", 4.0);
        JobSeries *s = NULL;
        Slowdowns *d = NULL;
        size_t n = 0;
        assert_int_equal(report_job_series(r, &s, &n), 0);
        assert_int_equal(n, 5);
        assert_string_equal(s[0].config, "solo (excl)");
        assert_string_equal(s[1].config, "solo (shared)");
        assert_ptr_equal(report_job_series_solo(s, n, &s[2]), &s[0]);
        assert_ptr_equal(report_job_series_solo(s, n, &s[3]), &s[1]);
        assert_ptr_equal(report_job_series_solo(s, n, &s[4]), &s[0]);
        assert_int_equal(report_slowdowns(s, n, &d), 0);
        assert_int_equal(d->n_configs, 3);
        assert_float_equal(d->configs[0].metrics->jobs[0].slowdown, 1.5, 1e-12);
        assert_float_equal(d->configs[1].metrics->jobs[0].slowdown, 1.5, 1e-12);
        assert_float_equal(d->configs[2].metrics->jobs[0].slowdown, 4.0, 1e-12);
        /* results.csv takes each row's baseline the same way. */
        double solo = 0;
        assert_true(report_solo_median(s, n, &r->runs[3], &r->runs[3].jobs[0], NULL, &solo));
        assert_float_equal(solo, 2.0, 1e-12);
        assert_true(report_solo_median(s, n, &r->runs[2], &r->runs[2].jobs[0], NULL, &solo));
        assert_float_equal(solo, 1.0, 1e-12);
        char *csv = RENDER(report_csv(r, f));
        assert_non_null(strstr(csv, "\nshared,0,false,1,,w,w,exit,0,,3.000000,"));
        assert_non_null(
                strstr(csv, ",1.500000,,0.000000,,,,false,,,,,,,,\n")); /* shared: 3.0 / 2.0, not / 1.0 */
        assert_null(strstr(csv, ",3.000000,,0.000000,,,,false,,,,,,,,\n"));
        free(csv);
        slowdowns_free(d);
        report_job_series_free(s, n);
        result_free(r);
}

/* One run, two jobs: a name that needs quoting and a phase only one of them reached. */
static Result *make_csv_result(void) {
        Result *r = result_new();
        RunResult *run = add_run(r, "mix", 1, false);
        run->params = strdup("size=1G,mode=a");
        JobResult *j = add_job(run, "a,\"b\"", "a", 2.0);
        j->peak_bytes = 1048576;
        j->pss_peak_bytes = 524288;
        j->applied_memory_bytes = 2097152;
        j->applied_cpus = strdup("0-1");
        PhaseResult *p = job_result_add_phase(j);
        p->name = strdup("load");
        p->wall_s = 0.5;
        j = add_job(run, "c", "c", 1.0);
        j->reason = REASON_OOM;
        j->exit_code = -1;
        j->signal = 9;
        return r;
}

static const char golden_csv[] =
        "scenario,repetition,solo,replicas,params,job,base_name,reason,exit_code,signal,wall_s,user_s,sys_s,"
        "peak_bytes,pss_peak_bytes,memory_limit,cpus,slowdown,priority,frozen_s,gpus,gpu_sm_share,gpu_"
        "memory_peak_bytes,warmup,solo_for,gpu_share_requested,gpu_share_applied,gpu_mechanism,gpu_"
        "throttled_s,gpu_memory_limit_bytes,gpu_sm_clock_mhz,gpu_clock_events,phase:load,slowdown:load\n"
        "mix,1,false,1,\"size=1G,mode=a\",\"a,\"\"b\"\"\",a,exit,0,,2.000000,1.000000,0.250000,1048576,"
        "524288,"
        "2097152,0-1,,,0.000000,,,,false,,,,,,,,,0.500000,\n"
        "mix,1,false,1,\"size=1G,mode=a\",c,c,oom,,9,1.000000,0.500000,0.250000,0,0,,,,,0.000000,,,,false,,,"
        ",,,,,,,\n";

static void test_csv_golden(void **state) {
        Result *r = make_csv_result();
        char *text = RENDER(report_csv(r, f));
        assert_string_equal(text, golden_csv);
        free(text);
        result_free(r);
}

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void test_html_structure_and_escaping(void **state) {
        Result *r = result_new();
        r->name = strdup("<b>exp</b>");
        for (unsigned rep = 0; rep < 2; rep++) {
                add_job(add_run(r, "solo", rep, true), "<script>alert(1)</script>",
                        "<script>alert(1)</script>", 1.0);
                add_job(add_run(r, "solo", rep, true), "b", "b", 1.0);
                RunResult *run = add_run(r, "shared", rep, false);
                JobResult *j = add_job(run, "<script>alert(1)</script>", "<script>alert(1)</script>", 2.0);
                free(j->command);
                j->command = strdup("echo '\"><img src=x onerror=alert(1)>");
                j = add_job(run, "b", "b", 1.5);
                j->reason = REASON_OOM;
                j->exit_code = -1;
                add_job(run, "c", "c", 1.0)->reason = REASON_TIMEOUT;
        }
        char *html = RENDER(report_html(r, NULL, f));

        /* Nothing from the result becomes markup. */
        assert_null(strstr(html, "<script"));
        assert_null(strstr(html, "<img"));
        assert_null(strstr(html, "<b>exp"));
        assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_non_null(strstr(html, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));

        /* A timeline per run, one lane per job; markers for the OOM and the timeout. */
        assert_int_equal(count(html, "<svg class=\"gantt\""), 6);
        assert_int_equal(count(html, "<g class=\"lane\">"), 2 * (1 + 1 + 3));
        assert_int_equal(count(html, "class=\"marker oom\""), 2);
        assert_int_equal(count(html, "class=\"marker timeout\""), 2);
        /* Slowdown 2.0 of the escaped job against its solo runs; b failed, so no bar. */
        assert_non_null(strstr(html, "<svg class=\"bars\""));
        assert_non_null(strstr(html, ">2.00×</td>"));
        assert_int_equal(count(html, "<g class=\"group\">"), 1);
        assert_non_null(strstr(html, "<line class=\"one\""));
        /* Allocated vs used, and the page is self-contained. */
        assert_non_null(strstr(html, "<table class=\"alloc\">"));
        assert_null(strstr(html, "src=\"http"));
        assert_null(strstr(html, "href=\"http"));
        assert_null(strstr(html, "url("));
        assert_null(strstr(html, "@import"));
        assert_non_null(strstr(html, "</html>\n"));
        free(html);
        result_free(r);
}

static PhaseResult *add_phase(JobResult *j, const char *name, double wall) {
        PhaseResult *p = job_result_add_phase(j);
        assert_non_null(p);
        p->name = strdup(name);
        p->wall_s = wall;
        return p;
}

/* Two repetitions of a solo baseline and of two copies side by side, with phases:
 *   solo w:    wall 1.0, 1.2 -> median 1.1;  burn 0.8, 1.0 -> median 0.9
 *   w#1:       wall 2.2, 2.2 -> 2.2 / 1.1 = 2.0;  burn 1.8, 1.8 -> 1.8 / 0.9 = 2.0
 *   w#2:       wall 3.3 (rep 1 OOM-killed: left out) -> 3.0;  burn twice, 1.2 + 1.5 = 2.7 -> 3.0
 *   STP = 1/2 + 1/3, ANTT = (2 + 3) / 2 = 2.5, max 3.0 (w#2) */
static Result *make_phased(void) {
        Result *r = result_new();
        const double solo_wall[] = {1.0, 1.2}, solo_burn[] = {0.8, 1.0};
        for (unsigned rep = 0; rep < 2; rep++) {
                add_phase(add_job(add_run(r, "solo", rep, true), "w", "w", solo_wall[rep]), "burn",
                          solo_burn[rep]);
                RunResult *run = add_run(r, "crowded", rep, false);
                run->replicas = 2;
                JobResult *j = add_job(run, "w#1", "w", 2.2);
                add_phase(j, "burn", 1.8);
                if (rep == 1)
                        add_phase(j, "tail", 0.1)->unfinished = true;
                j = add_job(run, "w#2", "w", 3.3);
                add_phase(j, "burn", 1.2);
                add_phase(j, "burn", 1.5);
                if (rep == 1) {
                        j->reason = REASON_OOM;
                        j->exit_code = -1;
                        j->signal = 9;
                }
        }
        return r;
}

static void test_phase_slowdowns(void **state) {
        Result *r = make_phased();
        JobSeries *s = NULL;
        Slowdowns *d = NULL;
        size_t n = 0;
        double t;

        assert_int_equal(report_job_series(r, &s, &n), 0);
        assert_int_equal(n, 3);
        /* The unfinished phase counts nowhere; the phase seen twice counts its total. */
        assert_int_equal(s[1].n_phases, 1);
        assert_string_equal(s[1].phases[0].name, "burn");
        assert_int_equal(s[1].phases[0].n, 2);
        assert_int_equal(s[2].n, 1);
        assert_float_equal(s[2].phases[0].wall[0], 2.7, 1e-12);
        assert_false(report_phase_time(&r->runs[3].jobs[0], "tail", &t));
        assert_true(report_phase_time(&r->runs[1].jobs[1], "burn", &t));
        assert_float_equal(t, 2.7, 1e-12);

        assert_int_equal(report_slowdowns(s, n, &d), 0);
        assert_int_equal(d->n_configs, 1);
        assert_string_equal(d->configs[0].config, "crowded r=2");
        assert_int_equal(d->n_with_baseline, 2);
        assert_int_equal(d->n_phase_rows, 2);
        const Interference *m = d->configs[0].metrics;
        assert_float_equal(m->jobs[0].slowdown, 2.0, 1e-12);
        assert_float_equal(m->jobs[1].slowdown, 3.0, 1e-12);
        assert_float_equal(m->jobs[0].phases[0].slowdown, 2.0, 1e-12);
        assert_float_equal(m->jobs[1].phases[0].slowdown, 3.0, 1e-12);
        assert_float_equal(m->jobs[1].phases[0].t_solo, 0.9, 1e-12);
        assert_float_equal(m->stp, 0.5 + 1.0 / 3, 1e-12);
        assert_float_equal(m->antt, 2.5, 1e-12);
        assert_int_equal(m->max_job, 1);
        slowdowns_free(d);
        report_job_series_free(s, n);

        /* The HTML per-phase table, summary.md and results.csv show the same figures. */
        char *html = RENDER(report_html(r, NULL, f));
        assert_non_null(strstr(html, "<table class=\"phase-slowdown\">"));
        assert_int_equal(count(html, "<svg class=\"pbar\""), 2);
        assert_non_null(strstr(html, "<td class=\"num bad\">3.00×</td>"));
        assert_non_null(strstr(html, "3.00× (w#2)"));
        free(html);

        char *md = RENDER(report_summary_markdown(r, f));
        assert_non_null(strstr(md, "## Slowdown against solo"));
        assert_non_null(strstr(md, "| crowded r=2 | 2 | 0.83 | 2.50 | 3.00x (w#2) |"));
        assert_non_null(strstr(md, "### Per phase"));
        assert_non_null(strstr(md, "| crowded r=2 | w#1 | burn | "));
        assert_int_equal(count(md, "| 2.00x |"), 2); /* w#1: whole job and phase */
        assert_int_equal(count(md, "| 3.00x |"), 2);
        free(md);

        char *txt = RENDER(report_summary_table(r, f, false));
        assert_non_null(strstr(txt, "  crowded r=2: ANTT 2.50, STP 0.83, max 3.00x (w#2)\n"));
        free(txt);

        char *csv = RENDER(report_csv(r, f));
        assert_non_null(strstr(
                csv,
                ",cpus,slowdown,priority,frozen_s,gpus,gpu_sm_share,gpu_memory_peak_bytes,warmup,solo_for,"
                "gpu_share_requested,gpu_share_applied,gpu_mechanism,gpu_throttled_s,gpu_memory_limit_bytes,"
                "gpu_sm_clock_mhz,gpu_clock_events,phase:burn,phase:tail,slowdown:burn,slowdown:tail\n"));
        /* solo rows and the OOM-killed instance have no slowdown; w#1 rep 1 has no tail time */
        assert_non_null(strstr(csv, "\nsolo,0,true,1,,w,w,exit,0,,1.000000,0.500000,0.250000,0,0,,,,,0."
                                    "000000,,,,false,,,,,,,,,0.800000,,,\n"));
        assert_non_null(strstr(csv, ",w#1,w,exit,0,,2.200000,1.100000,0.250000,0,0,,,2.000000,,0.000000,,,,"
                                    "false,,,,,,,,,1.800000,,2.000000,\n"));
        assert_non_null(strstr(csv, ",w#2,w,exit,0,,3.300000,1.650000,0.250000,0,0,,,3.000000,,0.000000,,,,"
                                    "false,,,,,,,,,2.700000,,3.000000,\n"));
        assert_non_null(strstr(
                csv,
                ",w#2,w,oom,,9,3.300000,1.650000,0.250000,0,0,,,,,0.000000,,,,false,,,,,,,,,2.700000,,,\n"));
        free(csv);
        result_free(r);
}

static void test_summary_without_baselines(void **state) {
        const double t[] = {1.0, 1.1};
        Result *r = make("k", 2, t);
        char *md = RENDER(report_summary_markdown(r, f));
        assert_null(strstr(md, "Slowdown"));
        free(md);
        char *txt = RENDER(report_summary_table(r, f, false));
        assert_null(strstr(txt, "slowdown"));
        free(txt);
        result_free(r);
}

/* The three report files, written atomically through util's write_file_atomic: the
 * memory chart drawn from a samples CSV written with samples.h, and a failure that
 * names the file with the real errno and leaves no temporary file behind. */
static size_t count_temporaries(const char *dir) {
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t n = 0;
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] == '.' && !streq(de->d_name, ".") && !streq(de->d_name, "..");
        closedir(d);
        return n;
}

static void test_write_files(void **state) {
        char dir[] = "/tmp/corun-test-report-XXXXXX", path[128];
        assert_non_null(mkdtemp(dir));
        const double walls[] = {2.0};
        Result *r = make("k", 1, walls);
        JobResult *j = &r->runs[0].jobs[0];
        j->samples_csv = strdup("samples/a.csv");
        j->peak_bytes = 3 << 20;

        snprintf(path, sizeof path, "%s/samples", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/samples/a.csv", dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(samples_write_header(f), 0);
        for (unsigned i = 0; i < 5; i++)
                assert_int_equal(samples_write_row(f, &(SampleRow){.t_s = i * 0.5,
                                                                   .memory_current_bytes = (i + 1) << 20}),
                                 0);
        assert_int_equal(fclose(f), 0);

        char *error = NULL;
        assert_int_equal(report_write_result(r, dir, &error), 0);
        assert_null(error);
        snprintf(path, sizeof path, "%s/report.html", dir);
        FILE *h = fopen(path, "re");
        assert_non_null(h);
        char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf - 1, h);
        buf[n] = '\0';
        fclose(h);
        assert_non_null(strstr(buf, "<polyline class=\"series\""));
        struct stat st;
        snprintf(path, sizeof path, "%s/summary.md", dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);
        snprintf(path, sizeof path, "%s/results.csv", dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(count_temporaries(dir), 0);

        /* summary.md cannot be replaced: the rename fails with EISDIR. */
        snprintf(path, sizeof path, "%s/summary.md", dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(report_write_result(r, dir, &error), -EISDIR);
        char want[256];
        snprintf(want, sizeof want, "cannot write %s/summary.md: %s", dir, strerror(EISDIR));
        assert_string_equal(error, want);
        assert_int_equal(count_temporaries(dir), 0);
        free(error);
        error = NULL;

        /* report_write_all reads result.json first: there is none here. */
        assert_true(report_write_all(dir, &error) < 0);
        assert_non_null(error);
        assert_non_null(strstr(error, "result.json"));
        free(error);

        assert_int_equal(rmdir(path), 0);
        const char *files[] = {"samples/a.csv", "samples", "report.html", "results.csv"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof path, "%s/%s", dir, files[i]);
                assert_int_equal(remove(path), 0);
        }
        assert_int_equal(rmdir(dir), 0);
        result_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_compare_verdicts),
                cmocka_unit_test(test_compare_missing_and_failed),
                cmocka_unit_test(test_series_and_solo),
                cmocka_unit_test(test_solo_for),
                cmocka_unit_test(test_csv_golden),
                cmocka_unit_test(test_html_structure_and_escaping),
                cmocka_unit_test(test_phase_slowdowns),
                cmocka_unit_test(test_summary_without_baselines),
                cmocka_unit_test(test_write_files),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
