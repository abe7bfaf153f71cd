/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/slowdown.h"
#include "stats/stats.h"
#include "util/macros.h"

Slowdowns *slowdowns_free(Slowdowns *d) {
        if (!d)
                return NULL;
        for (size_t c = 0; c < d->n_configs; c++) {
                free(d->configs[c].series);
                free(d->configs[c].solo);
                interference_free(d->configs[c].metrics);
        }
        free(d->configs);
        free(d);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Slowdowns *, slowdowns_free);

static void phase_inputs_free(InterferencePhaseInput **in, size_t n) {
        for (size_t i = 0; in && i < n; i++)
                free(in[i]);
        free(in);
}

static int named(const JobSeries *s, NamedSamples **ret) {
        *ret = NULL;
        if (!s || s->n_phases == 0)
                return 0;
        NamedSamples *a = calloc(s->n_phases, sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t p = 0; p < s->n_phases; p++)
                a[p] = (NamedSamples){s->phases[p].name, {s->phases[p].wall, s->phases[p].n}};
        *ret = a;
        return 0;
}

/* The copy number of "sealer#3"; 0 for a job without copies. */
static unsigned replica_of(const char *name) {
        const char *h = strrchr(name, '#');
        unsigned v = 0;
        for (const char *p = h ? h + 1 : ""; *p >= '0' && *p <= '9' && v < 100000; p++)
                v = v * 10 + (unsigned)(*p - '0');
        return v;
}

/* Jobs in the order the file has them, copies by number: the series come in the order
 * the instances finished, which changes from run to run. */
static bool goes_before(const JobSeries *s, size_t n, const JobSeries *a, const JobSeries *b) {
        if (!streq(a->base_name, b->base_name)) {
                for (size_t i = 0; i < n; i++) {
                        if (streq(s[i].base_name, a->base_name))
                                return true;
                        if (streq(s[i].base_name, b->base_name))
                                return false;
                }
        }
        return replica_of(a->job) < replica_of(b->job);
}

/* One configuration: its jobs, their baselines, the metrics with phases paired by name. */
static int fill_config(SlowdownConfig *c, const JobSeries *s, size_t n, size_t first) {
        size_t m = 0;
        for (size_t j = first; j < n; j++)
                m += !s[j].solo && streq(s[j].config, s[first].config);
        c->config = s[first].config;
        c->series = calloc(m, sizeof *c->series);
        c->solo = calloc(m, sizeof *c->solo);
        _cleanup_free_ InterferenceJobInput *in = calloc(m, sizeof *in);
        InterferencePhaseInput **ph = calloc(m, sizeof *ph);
        int k = c->series && c->solo && in && ph ? 0 : -ENOMEM;

        size_t i = 0;
        for (size_t j = first; j < n && k >= 0; j++) {
                if (s[j].solo || !streq(s[j].config, s[first].config))
                        continue;
                /* insertion sort: a configuration has few jobs */
                size_t at = i;
                while (at > 0 && goes_before(s, n, &s[j], c->series[at - 1])) {
                        c->series[at] = c->series[at - 1];
                        at--;
                }
                c->series[at] = &s[j];
                i++;
        }
        for (i = 0; i < m && k >= 0; i++) {
                const JobSeries *sj = c->series[i];
                const JobSeries *solo = report_job_series_solo(s, n, sj);
                _cleanup_free_ NamedSamples *a = NULL, *b = NULL;
                size_t n_ph = 0;
                c->solo[i] = solo;
                k = named(sj, &a);
                if (k >= 0)
                        k = named(solo, &b);
                if (k >= 0)
                        k = interference_pair_phases(a, sj->n_phases, b, solo ? solo->n_phases : 0, &ph[i],
                                                     &n_ph);
                in[i] = (InterferenceJobInput){
                        .name = sj->job,
                        .shared = {sj->wall, sj->n},
                        .solo = {solo ? solo->wall : NULL, solo ? solo->n : 0},
                        .phases = ph[i],
                        .n_phases = n_ph,
                };
        }
        /* The series hold finite times only, so -EINVAL cannot come from them. */
        if (k >= 0)
                k = interference_compute(in, m, &c->metrics);
        phase_inputs_free(ph, m);
        return k;
}

int report_slowdowns(const JobSeries *s, size_t n, Slowdowns **ret) {
        _cleanup_(slowdowns_freep) Slowdowns *d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (s[i].solo)
                        continue;
                bool first = true;
                for (size_t p = 0; p < i && first; p++)
                        first = s[p].solo || !streq(s[p].config, s[i].config);
                if (!first)
                        continue;
                SlowdownConfig *g = realloc(d->configs, (d->n_configs + 1) * sizeof *g);
                if (!g)
                        return -ENOMEM;
                d->configs = g;
                SlowdownConfig *c = &g[d->n_configs++];
                *c = (SlowdownConfig){};
                int k = fill_config(c, s, n, i);
                if (k < 0)
                        return k;
                for (size_t j = 0; j < c->metrics->n_jobs; j++) {
                        d->n_with_baseline += c->solo[j] != NULL;
                        for (size_t p = 0; p < c->metrics->jobs[j].n_phases; p++)
                                d->n_phase_rows += isfinite(c->metrics->jobs[j].phases[p].slowdown);
                }
        }
        *ret = TAKE_PTR(d);
        return 0;
}

bool report_solo_median(const JobSeries *s, size_t n, const RunResult *run, const JobResult *j,
                        const char *phase, double *ret) {
        const JobSeries key = {.base_name = j->base_name ?: j->name, .params = run->params, .scenario = run->scenario};
        if (!key.base_name)
                return false;
        const JobSeries *solo = report_job_series_solo(s, n, &key);
        if (!solo)
                return false;
        const double *v = solo->wall;
        size_t nv = solo->n;
        if (phase) {
                v = NULL;
                nv = 0;
                for (size_t p = 0; p < solo->n_phases; p++)
                        if (streq(solo->phases[p].name, phase)) {
                                v = solo->phases[p].wall;
                                nv = solo->phases[p].n;
                        }
        }
        double m;
        if (nv == 0 || stats_median(v, nv, &m) < 0 || !(m > 0))
                return false;
        *ret = m;
        return true;
}

static void style_ratio(FILE *f, const RowStyle *st, double v, const char *suffix) {
        if (isfinite(v))
                fprintf(f, "%.2f%s", v, suffix);
        else
                fputs(st->none, f);
}

void report_system_row(FILE *f, const RowStyle *st, const SlowdownConfig *c) {
        const Interference *m = c->metrics;
        fputs(st->open, f);
        st->text(f, c->config);
        fprintf(f, "%s%zu%s", st->sep_num, m->n_jobs, st->sep_num);
        style_ratio(f, st, m->stp, "");
        fputs(st->sep_num, f);
        style_ratio(f, st, m->antt, "");
        fputs(st->sep_num, f);
        style_ratio(f, st, m->max_slowdown, st->times);
        if (isfinite(m->max_slowdown)) {
                fputs(" (", f);
                st->text(f, m->jobs[m->max_job].name);
                fputc(')', f);
        }
        fputs(st->close, f);
}
