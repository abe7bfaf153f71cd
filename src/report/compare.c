/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare.h"
#include "util/macros.h"
#include "util/parse.h"

/* for_scenario: name the scenario a baseline was made for, when the result has baselines
 * for several ("solo (crowded)"), as the plan's labels do. */
static char *config_name(const RunResult *run, bool for_scenario) {
        char *s = NULL;
        char rep[32] = "";
        if (run->replicas > 1)
                snprintf(rep, sizeof rep, " r=%u", run->replicas);
        bool named = run->solo && run->solo_for && for_scenario;
        if (asprintf(&s, "%s%s%s%s%s%s%s", run->scenario ?: "?", named ? " (" : "",
                     named ? run->solo_for : "", named ? ")" : "", rep, run->params ? " " : "",
                     run->params ?: "") < 0)
                return NULL;
        return s;
}

/* Whether the result's baselines were made for more than one scenario. */
static bool several_solo_for(const Result *r) {
        const char *first = NULL;
        for (size_t i = 0; i < r->n_runs; i++) {
                const char *f = r->runs[i].solo ? r->runs[i].solo_for : NULL;
                if (!f)
                        continue;
                if (first && !streq(first, f))
                        return true;
                first = f;
        }
        return false;
}

int report_side_by_side(const JobSeries *s, size_t n, SideBySide *ret) {
        *ret = (SideBySide){0};
        bool shared = false;
        for (size_t i = 0; i < n; i++) {
                if (s[i].solo || s[i].n == 0)
                        continue;
                bool seen = false;
                for (size_t c = 0; c < ret->n_configs && !seen; c++)
                        seen = streq(ret->configs[c], s[i].config);
                if (!seen && ret->n_configs < SIDE_BY_SIDE_MAX)
                        ret->configs[ret->n_configs++] = s[i].config;
                for (size_t j = 0; j < i && !shared; j++)
                        shared = !s[j].solo && s[j].n && streq(s[j].job, s[i].job) && !streq(s[j].config, s[i].config);
        }
        if (ret->n_configs < 2 || !shared) {
                ret->n_configs = 0;
                return 0;
        }
        ret->jobs = calloc(n, sizeof *ret->jobs);
        ret->median = malloc(n * ret->n_configs * sizeof *ret->median);
        if (!ret->jobs || !ret->median) {
                report_side_by_side_done(ret);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n * ret->n_configs; i++)
                ret->median[i] = NAN;
        for (size_t i = 0; i < n; i++) {
                if (s[i].solo || s[i].n == 0)
                        continue;
                size_t row = 0, c = 0;
                while (row < ret->n_jobs && !streq(ret->jobs[row], s[i].job))
                        row++;
                if (row == ret->n_jobs)
                        ret->jobs[ret->n_jobs++] = s[i].job;
                while (c < ret->n_configs && !streq(ret->configs[c], s[i].config))
                        c++;
                if (c < ret->n_configs)
                        (void)stats_median(s[i].wall, s[i].n, &ret->median[row * ret->n_configs + c]);
        }
        return 0;
}

void report_side_by_side_done(SideBySide *sb) {
        free(sb->jobs);
        free(sb->median);
        *sb = (SideBySide){0};
}

void report_job_series_free(JobSeries *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(s[i].config);
                free(s[i].wall);
                for (size_t p = 0; p < s[i].n_phases; p++)
                        free(s[i].phases[p].wall);
                free(s[i].phases);
        }
        free(s);
}

bool report_phase_time(const JobResult *j, const char *name, double *ret) {
        double t = 0;
        bool found = false;
        for (size_t p = 0; p < j->n_phases; p++) {
                const PhaseResult *ph = &j->phases[p];
                if (!ph->name || !streq(ph->name, name))
                        continue;
                if (ph->unfinished || !isfinite(ph->wall_s) || ph->wall_s < 0)
                        return false;
                t += ph->wall_s;
                found = true;
        }
        if (found)
                *ret = t;
        return found;
}

static int append(double **v, size_t *n, double x) {
        double *g = realloc(*v, (*n + 1) * sizeof *g);
        if (!g)
                return -ENOMEM;
        *v = g;
        g[(*n)++] = x;
        return 0;
}

/* Each phase name of a good instance once, with the instance's time in it. */
static int add_phases(JobSeries *e, const JobResult *job) {
        for (size_t p = 0; p < job->n_phases; p++) {
                const char *name = job->phases[p].name;
                bool seen = !name;
                for (size_t q = 0; q < p && !seen; q++)
                        seen = job->phases[q].name && streq(job->phases[q].name, name);
                double t;
                if (seen || !report_phase_time(job, name, &t))
                        continue;
                PhaseSeries *ps = NULL;
                for (size_t q = 0; q < e->n_phases && !ps; q++)
                        if (streq(e->phases[q].name, name))
                                ps = &e->phases[q];
                if (!ps) {
                        PhaseSeries *g = realloc(e->phases, (e->n_phases + 1) * sizeof *g);
                        if (!g)
                                return -ENOMEM;
                        e->phases = g;
                        ps = &g[e->n_phases++];
                        *ps = (PhaseSeries){.name = name};
                }
                if (append(&ps->wall, &ps->n, t) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static JobSeries *series_find(JobSeries *s, size_t n, const char *config, const char *job) {
        for (size_t i = 0; i < n; i++)
                if (streq(s[i].config, config) && streq(s[i].job, job))
                        return &s[i];
        return NULL;
}

int report_job_series(const Result *r, JobSeries **ret, size_t *ret_n) {
        JobSeries *s = NULL;
        size_t n = 0;
        int k = -ENOMEM;
        bool several = several_solo_for(r);

        for (size_t i = 0; i < r->n_runs; i++) {
                const RunResult *run = &r->runs[i];
                if (run->warmup)
                        continue; /* recorded, never counted */
                _cleanup_free_ char *config = config_name(run, several);
                if (!config)
                        goto fail;
                for (size_t j = 0; j < run->n_jobs; j++) {
                        const JobResult *job = &run->jobs[j];
                        if (!job->name)
                                continue;
                        JobSeries *e = series_find(s, n, config, job->name);
                        if (!e) {
                                JobSeries *g = realloc(s, (n + 1) * sizeof *s);
                                if (!g)
                                        goto fail;
                                s = g;
                                e = &s[n];
                                *e = (JobSeries){
                                        .config = strdup(config),
                                        .scenario = run->scenario,
                                        .job = job->name,
                                        .base_name = job->base_name ?: job->name,
                                        .params = run->params,
                                        .solo = run->solo,
                                        .solo_for = run->solo ? run->solo_for : NULL,
                                        .replicas = run->replicas,
                                };
                                n++;
                                if (!e->config)
                                        goto fail;
                        }
                        if (job->reason != REASON_EXIT || job->exit_code != 0 || !isfinite(job->wall_s)) {
                                e->n_failed++;
                                continue;
                        }
                        if (append(&e->wall, &e->n, job->wall_s) < 0 || add_phases(e, job) < 0)
                                goto fail;
                }
        }
        *ret = s;
        *ret_n = n;
        return 0;
fail:
        report_job_series_free(s, n);
        return k;
}

static bool str_eq_null(const char *a, const char *b) {
        return (!a && !b) || (a && b && streq(a, b));
}

const JobSeries *report_job_series_solo(const JobSeries *all, size_t n, const JobSeries *s) {
        const JobSeries *any = NULL;
        for (size_t i = 0; i < n; i++) {
                if (!all[i].solo || !streq(all[i].base_name, s->base_name) ||
                    !str_eq_null(all[i].params, s->params))
                        continue;
                if (s->scenario && all[i].solo_for && streq(all[i].solo_for, s->scenario))
                        return &all[i];
                if (!any)
                        any = &all[i];
        }
        return any;
}

Comparison *comparison_free(Comparison *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_rows; i++) {
                free(c->rows[i].config);
                free(c->rows[i].job);
                free(c->rows[i].cells);
        }
        free(c->rows);
        free(c->geomean);
        free(c->geomean_n);
        for (char **w = c->warnings; w && *w; w++)
                free(*w);
        free(c->warnings);
        free(c);
        return NULL;
}

static int add_warning(Comparison *c, size_t *n, const char *label, const char *what, const char *a,
                       const char *b) {
        char *msg;
        if (asprintf(&msg, "%s: %s differs from the reference: '%s' vs '%s'", label, what, b ?: "unknown",
                     a ?: "unknown") < 0)
                return -ENOMEM;
        char **w = realloc(c->warnings, (*n + 2) * sizeof *w);
        if (!w) {
                free(msg);
                return -ENOMEM;
        }
        c->warnings = w;
        w[(*n)++] = msg;
        w[*n] = NULL;
        return 0;
}

/* Results from different machines or setups can differ for reasons the test cannot see. */
static int host_diffs(Comparison *c, const Result *a, const Result *b, const char *label, size_t *n) {
        const struct {
                const char *what, *va, *vb;
        } f[] = {
                {"cpu model", a->host.cpu_model, b->host.cpu_model},
                {"kernel", a->host.kernel, b->host.kernel},
                {"cgroup backend", a->backend, b->backend},
                {"smt", a->host.smt, b->host.smt},
                {"cpu governor", a->host.governor, b->host.governor},
        };
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!str_eq_null(f[i].va, f[i].vb)) {
                        int k = add_warning(c, n, label, f[i].what, f[i].va, f[i].vb);
                        if (k < 0)
                                return k;
                }
        return 0;
}

static CompareRow *row_find(Comparison *c, const char *config, const char *job) {
        for (size_t i = 0; i < c->n_rows; i++)
                if (streq(c->rows[i].config, config) && streq(c->rows[i].job, job))
                        return &c->rows[i];
        return NULL;
}

static int fill_result(Comparison *c, const Result *r, size_t idx) {
        JobSeries *s = NULL;
        size_t n = 0;
        int k = report_job_series(r, &s, &n);
        if (k < 0)
                return k;
        for (size_t i = 0; i < n && k >= 0; i++) {
                CompareRow *row = row_find(c, s[i].config, s[i].job);
                if (!row) {
                        CompareRow *g = realloc(c->rows, (c->n_rows + 1) * sizeof *g);
                        if (!g) {
                                k = -ENOMEM;
                                break;
                        }
                        c->rows = g;
                        row = &g[c->n_rows++];
                        *row = (CompareRow){
                                .config = strdup(s[i].config),
                                .job = strdup(s[i].job),
                                .cells = calloc(c->n_results, sizeof(CompareCell)),
                        };
                        if (!row->config || !row->job || !row->cells) {
                                k = -ENOMEM;
                                break;
                        }
                }
                if (s[i].n == 0)
                        continue;
                k = stats_summarize(s[i].wall, s[i].n, &row->cells[idx].s);
                row->cells[idx].present = k >= 0;
        }
        report_job_series_free(s, n);
        return k;
}

/* Verdicts need both samples; the rows keep summaries only, so the series are built
 * again per pair. The inputs are small (repetitions × jobs). */
static int fill_verdicts(Comparison *c, const Result *ref, const Result *r, size_t idx) {
        JobSeries *sa = NULL, *sb = NULL;
        size_t na = 0, nb = 0;
        int k = report_job_series(ref, &sa, &na);
        if (k >= 0)
                k = report_job_series(r, &sb, &nb);
        double log_sum = 0;
        size_t n_log = 0;
        for (size_t i = 0; i < nb && k >= 0; i++) {
                JobSeries *a = series_find(sa, na, sb[i].config, sb[i].job);
                CompareRow *row = row_find(c, sb[i].config, sb[i].job);
                if (!a || !row || a->n == 0 || sb[i].n == 0)
                        continue;
                CompareCell *cell = &row->cells[idx];
                k = stats_verdict(a->wall, a->n, sb[i].wall, sb[i].n, STATS_ALPHA, &cell->v);
                if (k == -EINVAL) { /* a zero time cannot be a ratio: leave the cell without verdict */
                        k = 0;
                        continue;
                }
                if (k < 0)
                        break;
                cell->has_verdict = true;
                cell->ratio = cell->s.mean / row->cells[0].s.mean;
                log_sum += log(cell->ratio);
                n_log++;
        }
        c->geomean[idx] = n_log > 0 ? exp(log_sum / (double)n_log) : NAN;
        c->geomean_n[idx] = n_log;
        report_job_series_free(sa, na);
        report_job_series_free(sb, nb);
        return k;
}

int report_compare(const Result *const *results, const char *const *labels, size_t n, Comparison **ret) {
        if (n < 2)
                return -EINVAL;
        Comparison *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->n_results = n;
        c->geomean = calloc(n, sizeof *c->geomean);
        c->geomean_n = calloc(n, sizeof *c->geomean_n);
        int k = c->geomean && c->geomean_n ? 0 : -ENOMEM;
        size_t n_warn = 0;
        for (size_t i = 0; i < n && k >= 0; i++)
                k = fill_result(c, results[i], i);
        for (size_t i = 1; i < n && k >= 0; i++) {
                k = fill_verdicts(c, results[0], results[i], i);
                if (k >= 0)
                        k = host_diffs(c, results[0], results[i], labels[i], &n_warn);
        }
        if (k < 0) {
                comparison_free(c);
                return k;
        }
        c->geomean[0] = 1.0;
        *ret = c;
        return 0;
}

const char *report_compare_verdict(const CompareCell *c, char *buf, size_t n) {
        if (!c->present)
                snprintf(buf, n, "missing");
        else if (!c->has_verdict)
                snprintf(buf, n, "no reference");
        else if (c->v.kind == VERDICT_TOO_FEW) {
                /* No test is possible; the ratio alone still tells the direction. */
                double ratio = c->ratio;
                snprintf(buf, n, "%.2fx %s (n too small)", ratio >= 1 ? ratio : 1 / ratio,
                         ratio >= 1 ? "slower" : "faster");
        } else
                stats_verdict_format(&c->v, buf, n);
        return buf;
}

static const char *geomean_format(double g, char *buf, size_t n) {
        if (isnan(g))
                snprintf(buf, n, "-");
        else if (fabs(g - 1) < 0.005)
                snprintf(buf, n, "no change");
        else
                snprintf(buf, n, "%.2fx %s", g >= 1 ? g : 1 / g, g >= 1 ? "slower" : "faster");
        return buf;
}

static const char *time_format(double s, char *buf, size_t n) {
        return format_duration(buf, n, (uint64_t)llround(s * 1e6));
}

static char *ref_cell(const CompareCell *c) {
        char m[32], d[32], *s = NULL;
        if (!c->present)
                return strdup("missing");
        time_format(c->s.median, m, sizeof m);
        if (c->s.n >= 2)
                return asprintf(&s, "%s ± %s (n=%zu)", m, time_format(c->s.mad, d, sizeof d), c->s.n) < 0
                               ? NULL
                               : s;
        return asprintf(&s, "%s (n=%zu)", m, c->s.n) < 0 ? NULL : s;
}

static char *other_cell(const CompareCell *c) {
        char v[REPORT_VERDICT_MAX], *s = NULL;
        report_compare_verdict(c, v, sizeof v);
        if (c->has_verdict && c->v.kind != VERDICT_TOO_FEW)
                return asprintf(&s, "%s (p=%.3g)", v, c->v.test.p) < 0 ? NULL : s;
        return strdup(v);
}

/* Display width: "±" is one column but two bytes. */
static size_t text_width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                w += ((unsigned char)*s & 0xC0) != 0x80;
        return w;
}

static int print_cells(FILE *f, char **cells, const size_t *width, size_t n) {
        for (size_t i = 0; i < n; i++) {
                size_t pad = width[i] - text_width(cells[i]);
                if (fprintf(f, "%s%s%*s", i > 0 ? "  " : "", cells[i], i + 1 < n ? (int)pad : 0, "") < 0)
                        return -EIO;
        }
        return fputc('\n', f) == EOF ? -EIO : 0;
}

int report_compare_table(const Comparison *c, const char *const *labels, FILE *f) {
        size_t ncol = 2 + c->n_results, nrow = c->n_rows + 2;
        _cleanup_free_ char **cell = calloc(ncol * nrow, sizeof(char *));
        _cleanup_free_ size_t *width = calloc(ncol, sizeof(size_t));
        int k = cell && width ? 0 : -ENOMEM;
        if (k < 0)
                return k;

        cell[0] = strdup("run");
        cell[1] = strdup("job");
        for (size_t i = 0; i < c->n_results; i++)
                cell[2 + i] = i == 0 ? (asprintf(&cell[2], "%s (reference)", labels[0]) < 0 ? NULL : cell[2])
                                     : strdup(labels[i]);
        for (size_t r = 0; r < c->n_rows; r++) {
                char **row = &cell[(r + 1) * ncol];
                row[0] = strdup(c->rows[r].config);
                row[1] = strdup(c->rows[r].job);
                row[2] = ref_cell(&c->rows[r].cells[0]);
                for (size_t i = 1; i < c->n_results; i++)
                        row[2 + i] = other_cell(&c->rows[r].cells[i]);
        }
        char **last = &cell[(nrow - 1) * ncol];
        last[0] = strdup("geometric mean");
        last[1] = strdup("");
        last[2] = strdup("");
        for (size_t i = 1; i < c->n_results; i++) {
                char g[48];
                last[2 + i] = strdup(geomean_format(c->geomean[i], g, sizeof g));
        }
        for (size_t i = 0; i < ncol * nrow; i++) {
                if (!cell[i]) {
                        k = -ENOMEM;
                        goto out;
                }
                width[i % ncol] = MAX(width[i % ncol], text_width(cell[i]));
        }
        for (size_t r = 0; r < nrow && k >= 0; r++)
                k = print_cells(f, &cell[r * ncol], width, ncol);
        if (k >= 0 && fprintf(f,
                              "\nwall time: median ± MAD of the runs that exited 0; verdicts by Welch's "
                              "t-test (two-sided, alpha %.2f)\n",
                              STATS_ALPHA) < 0)
                k = -EIO;
out:
        for (size_t i = 0; i < ncol * nrow; i++)
                free(cell[i]);
        return k;
}

static json_t *num(double v) {
        return isfinite(v) ? json_real(v) : json_null();
}

static json_t *summary_json(const Summary *s) {
        return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)s->n, "median",
                         num(s->median), "mad", num(s->mad), "mean", num(s->mean), "ci95_low",
                         num(s->ci95_low), "ci95_high", num(s->ci95_high), "min", num(s->min));
}

static json_t *cell_json(const CompareCell *c, const char *label) {
        char v[REPORT_VERDICT_MAX];
        json_t *o = json_pack("{s:s, s:b}", "result", label, "present", c->present);
        if (!o)
                return NULL;
        int e = 0;
        if (c->present)
                e |= json_object_set_new(o, "wall_s", summary_json(&c->s));
        if (c->has_verdict) {
                bool tested = c->v.kind != VERDICT_TOO_FEW;
                e |= json_object_set_new(o, "verdict", json_string(verdict_kind_to_string(c->v.kind)));
                e |= json_object_set_new(o, "ratio", num(c->ratio));
                e |= json_object_set_new(o, "text", json_string(report_compare_verdict(c, v, sizeof v)));
                e |= json_object_set_new(o, "test", tested ? json_string("welch") : json_null());
                e |= json_object_set_new(o, "t", tested ? num(c->v.test.t) : json_null());
                e |= json_object_set_new(o, "df", tested ? num(c->v.test.df) : json_null());
                e |= json_object_set_new(o, "p", tested ? num(c->v.test.p) : json_null());
        }
        if (e) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int report_compare_json(const Comparison *c, const char *const *labels, FILE *f) {
        json_t *root = json_pack("{s:s, s:f, s:[], s:[], s:[]}", "reference", labels[0], "alpha",
                                 STATS_ALPHA, "rows", "geometric_mean", "warnings");
        if (!root)
                return -ENOMEM;
        json_t *rows = json_object_get(root, "rows"), *geo = json_object_get(root, "geometric_mean"),
               *warn = json_object_get(root, "warnings");
        int e = 0;
        for (size_t r = 0; r < c->n_rows && !e; r++) {
                const CompareRow *row = &c->rows[r];
                json_t *cmp = json_array();
                for (size_t i = 1; i < c->n_results && cmp; i++)
                        e |= json_array_append_new(cmp, cell_json(&row->cells[i], labels[i]));
                e |= json_array_append_new(
                        rows, json_pack("{s:s, s:s, s:o, s:o}", "run", row->config, "job", row->job,
                                        "reference", cell_json(&row->cells[0], labels[0]), "compared", cmp));
        }
        for (size_t i = 1; i < c->n_results && !e; i++) {
                char g[48];
                e |= json_array_append_new(geo,
                                           json_pack("{s:s, s:o, s:I, s:s}", "result", labels[i], "ratio",
                                                     num(c->geomean[i]), "n", (json_int_t)c->geomean_n[i],
                                                     "text", geomean_format(c->geomean[i], g, sizeof g)));
        }
        for (char **w = c->warnings; w && *w && !e; w++)
                e |= json_array_append_new(warn, json_string(*w));
        int k = e ? -ENOMEM : 0;
        if (k >= 0 && (json_dumpf(root, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF))
                k = -EIO;
        json_decref(root);
        return k;
}
