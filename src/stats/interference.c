/* SPDX-License-Identifier: MIT */
#include "stats/interference.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"
#include "util/macros.h"

static int median_or_nan(const Samples *s, double *ret) {
        if (s->n == 0) {
                *ret = NAN;
                return 0;
        }
        return stats_median(s->v, s->n, ret);
}

/* Medians of both sides and their ratio, NAN where undefined. */
static int slowdown3(const Samples *shared, const Samples *solo, double *ret_shared, double *ret_solo,
                     double *ret) {
        double tsh, tso;
        int r;

        r = median_or_nan(shared, &tsh);
        if (r < 0)
                return r;
        r = median_or_nan(solo, &tso);
        if (r < 0)
                return r;
        *ret_shared = tsh;
        *ret_solo = tso;
        /* A zero solo time (a phase whose markers came in the same instant) has no
         * meaningful ratio. */
        *ret = isfinite(tsh) && tso > 0 ? tsh / tso : NAN;
        return 0;
}

int interference_slowdown(const Samples *shared, const Samples *solo, double *ret) {
        double a, b;
        return slowdown3(shared, solo, &a, &b, ret);
}

static const NamedSamples *named_find(const NamedSamples *a, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(a[i].name, name))
                        return &a[i];
        return NULL;
}

int interference_pair_phases(const NamedSamples *shared, size_t n_shared, const NamedSamples *solo,
                             size_t n_solo, InterferencePhaseInput **ret, size_t *ret_n) {
        _cleanup_free_ InterferencePhaseInput *out = NULL;
        size_t n = 0;

        for (size_t i = 0; i < n_shared; i++)
                if (!shared[i].name)
                        return -EINVAL;
        for (size_t i = 0; i < n_solo; i++)
                if (!solo[i].name)
                        return -EINVAL;
        if (n_shared + n_solo > 0) {
                out = calloc(n_shared + n_solo, sizeof *out);
                if (!out)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n_shared; i++) {
                if (named_find(shared, i, shared[i].name))
                        continue;
                const NamedSamples *b = named_find(solo, n_solo, shared[i].name);
                out[n++] = (InterferencePhaseInput){
                        .name = shared[i].name,
                        .shared = shared[i].s,
                        .solo = b ? b->s : (Samples){NULL, 0},
                };
        }
        for (size_t i = 0; i < n_solo; i++) {
                if (named_find(solo, i, solo[i].name) || named_find(shared, n_shared, solo[i].name))
                        continue;
                out[n++] = (InterferencePhaseInput){.name = solo[i].name, .solo = solo[i].s};
        }
        if (n == 0) {
                free(out);
                out = NULL;
        }
        *ret = TAKE_PTR(out);
        *ret_n = n;
        return 0;
}

Interference *interference_free(Interference *i) {
        if (!i)
                return NULL;
        for (size_t k = 0; i->jobs && k < i->n_jobs; k++)
                free(i->jobs[k].phases);
        free(i->jobs);
        free(i);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Interference *, interference_free);

int interference_compute(const InterferenceJobInput *jobs, size_t n, Interference **ret) {
        _cleanup_(interference_freep) Interference *res = NULL;
        double stp = 0, antt = 0, max = -INFINITY;
        bool complete = true;
        int r;

        if (n == 0 || !jobs)
                return -EINVAL;
        res = calloc(1, sizeof(Interference));
        if (!res)
                return -ENOMEM;
        res->jobs = calloc(n, sizeof(InterferenceJob));
        if (!res->jobs)
                return -ENOMEM;
        res->n_jobs = n;

        for (size_t k = 0; k < n; k++) {
                const InterferenceJobInput *in = &jobs[k];
                InterferenceJob *out = &res->jobs[k];

                out->name = in->name;
                r = slowdown3(&in->shared, &in->solo, &out->t_shared, &out->t_solo, &out->slowdown);
                if (r < 0)
                        return r;

                if (in->n_phases > 0) {
                        out->phases = calloc(in->n_phases, sizeof(InterferencePhase));
                        if (!out->phases)
                                return -ENOMEM;
                        out->n_phases = in->n_phases;
                }
                for (size_t p = 0; p < in->n_phases; p++) {
                        InterferencePhase *ph = &out->phases[p];
                        ph->name = in->phases[p].name;
                        r = slowdown3(&in->phases[p].shared, &in->phases[p].solo, &ph->t_shared, &ph->t_solo,
                                      &ph->slowdown);
                        if (r < 0)
                                return r;
                }

                /* A zero shared time would make STP infinite: treat it like a missing one. */
                if (!(isfinite(out->slowdown) && out->slowdown > 0)) {
                        complete = false;
                        continue;
                }
                stp += 1 / out->slowdown;
                antt += out->slowdown;
                if (out->slowdown > max) {
                        max = out->slowdown;
                        res->max_job = k;
                }
        }

        if (complete) {
                res->stp = stp;
                res->antt = antt / (double)n;
                res->max_slowdown = max;
        } else
                res->stp = res->antt = res->max_slowdown = NAN;

        *ret = TAKE_PTR(res);
        return 0;
}
