/* SPDX-License-Identifier: MIT */
#include "plan/plan.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/subst.h"
#include "util/macros.h"

/* What a run looks like apart from its repetition number. */
typedef struct Config {
        size_t scenario; /* index in Spec.scenarios */
        bool solo;
        size_t job; /* solo only: index in the scenario's job list */
        unsigned replicas;
        uint64_t combo; /* index of the matrix combination */
} Config;

typedef struct Builder {
        const Spec *spec;
        const JobSpec ***jobs; /* per scenario: its jobs, resolved by name */
        uint64_t *n_combos;    /* per scenario */
        Config *configs;
        size_t n_configs;
        unsigned repeat;
        unsigned warmup; /* warm-up runs of each configuration, before the counted ones */
        char *error;
        const JobSpec **by_name; /* the spec's named jobs sorted by name: one lookup is log n */
        size_t n_by_name;
        size_t *listed_in; /* per spec job: the last scenario (+1) that listed it, for duplicates */
} Builder;

static void builder_done(Builder *b) {
        if (b->jobs)
                for (size_t i = 0; i < b->spec->n_scenarios; i++)
                        free(b->jobs[i]);
        free(b->jobs);
        free(b->n_combos);
        free(b->configs);
        free(b->error);
        free(b->by_name);
        free(b->listed_in);
}

static int fail(Builder *b, const SpecPos *pos, const char *fmt, ...) _printf_(3, 4);
static int fail(Builder *b, const SpecPos *pos, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        char prefix[512] = "";
        va_list ap;

        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        if (pos && pos->file && pos->line > 0)
                snprintf(prefix, sizeof prefix, "%s:%u:%u: ", pos->file, pos->line, pos->col);
        else if (pos && pos->flag)
                snprintf(prefix, sizeof prefix, "%s: ", pos->flag);

        free(b->error);
        b->error = NULL;
        if (asprintf(&b->error, "%s%s", prefix, msg) < 0) {
                b->error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* Multiplication and addition that stick at UINT64_MAX instead of wrapping, so that an
 * absurd spec still yields "more than ..." rather than a small wrapped count. */
static uint64_t sat_mul(uint64_t a, uint64_t b) {
        uint64_t r;
        return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
static uint64_t sat_add(uint64_t a, uint64_t b) {
        uint64_t r;
        return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static unsigned scenario_replicas(const ScenarioSpec *sc, size_t i) {
        return sc->replicas && sc->n_replicas > 0 ? sc->replicas[i] : 1;
}
static size_t scenario_n_replicas(const ScenarioSpec *sc) {
        return sc->replicas && sc->n_replicas > 0 ? sc->n_replicas : 1;
}

/* The value of matrix parameter k in combination `combo`: declaration order, the last
 * parameter varying fastest (nested loops written in the order of the file). */
static const char *combo_value(const ScenarioSpec *sc, uint64_t combo, size_t k) {
        for (size_t i = sc->n_matrix; i > k + 1; i--)
                combo /= sc->matrix[i - 1].n_values;
        return sc->matrix[k].values[combo % sc->matrix[k].n_values];
}

static int cmp_job_name(const void *a, const void *b) {
        return strcmp((*(const JobSpec *const *)a)->name, (*(const JobSpec *const *)b)->name);
}

/* Scenarios name their jobs: with thousands of jobs a linear search per name (and a
 * pairwise duplicate check) made the expansion quadratic (10,000 jobs: 0.33 s). */
static int index_jobs(Builder *b) {
        const Spec *s = b->spec;
        b->by_name = calloc(MAX(s->n_jobs, (size_t)1), sizeof(JobSpec *));
        b->listed_in = calloc(MAX(s->n_jobs, (size_t)1), sizeof(size_t));
        if (!b->by_name || !b->listed_in)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].name)
                        b->by_name[b->n_by_name++] = &s->jobs[i];
        /* Stable for equal names is not needed: the spec refuses duplicate job names. */
        qsort(b->by_name, b->n_by_name, sizeof(JobSpec *), cmp_job_name);
        return 0;
}

static const JobSpec *find_job(const Builder *b, const char *name) {
        JobSpec key = {.name = (char *)name};
        const JobSpec *kp = &key;
        const JobSpec *const *hit = bsearch(&kp, b->by_name, b->n_by_name, sizeof(JobSpec *), cmp_job_name);
        return hit ? *hit : NULL;
}

static int resolve_scenario(Builder *b, size_t si) {
        const ScenarioSpec *sc = &b->spec->scenarios[si];
        const char *name = sc->name ?: "?";

        if (sc->n_jobs == 0 || !sc->jobs)
                return fail(b, &sc->pos, "scenario '%s' has no jobs; list at least one under jobs:", name);

        b->jobs[si] = calloc(sc->n_jobs, sizeof(JobSpec *));
        if (!b->jobs[si])
                return -ENOMEM;
        for (size_t i = 0; i < sc->n_jobs; i++) {
                const JobSpec *j = sc->jobs[i] ? find_job(b, sc->jobs[i]) : NULL;
                if (!j)
                        return fail(b, &sc->pos,
                                    "scenario '%s' refers to job '%s', which is not defined under jobs:",
                                    name, sc->jobs[i] ?: "(null)");
                size_t ji = (size_t)(j - b->spec->jobs);
                if (b->listed_in[ji] == si + 1)
                        return fail(b, &sc->pos,
                                    "scenario '%s' lists job '%s' twice; use replicas: to run copies of it",
                                    name, j->name);
                b->listed_in[ji] = si + 1;
                if (!j->argv || !j->argv[0])
                        return fail(b, &j->pos, "job '%s' has no command", j->name);
                b->jobs[si][i] = j;
        }

        for (size_t i = 0; i < scenario_n_replicas(sc); i++)
                if (scenario_replicas(sc, i) == 0)
                        return fail(b, &sc->pos, "scenario '%s': replicas must be 1 or more", name);

        b->n_combos[si] = 1;
        for (size_t k = 0; k < sc->n_matrix; k++) {
                const MatrixParam *m = &sc->matrix[k];
                if (m->n_values == 0 || !m->values)
                        return fail(b, &sc->pos, "scenario '%s': matrix parameter '%s' has no values", name,
                                    m->name ?: "?");
                b->n_combos[si] = sat_mul(b->n_combos[si], m->n_values);
        }
        return 0;
}

/* Counts runs and job instances before anything is allocated for them. */
static int check_size(Builder *b, uint64_t *ret_runs, uint64_t *ret_jobs) {
        const Spec *s = b->spec;
        uint64_t runs = 0, jobs = 0;

        for (size_t si = 0; si < s->n_scenarios; si++) {
                const ScenarioSpec *sc = &s->scenarios[si];
                uint64_t combos = b->n_combos[si];

                if (sc->solo) {
                        runs = sat_add(runs, sat_mul(sc->n_jobs, combos));
                        jobs = sat_add(jobs, sat_mul(sc->n_jobs, combos));
                }
                for (size_t i = 0; i < scenario_n_replicas(sc); i++) {
                        runs = sat_add(runs, combos);
                        jobs = sat_add(jobs, sat_mul(sat_mul(scenario_replicas(sc, i), sc->n_jobs), combos));
                }
        }
        runs = sat_mul(runs, b->repeat + b->warmup);
        jobs = sat_mul(jobs, b->repeat + b->warmup);

        if (jobs > PLAN_MAX_JOB_INSTANCES) {
                if (jobs == UINT64_MAX)
                        return fail(b, NULL,
                                    "the experiment would start more than %" PRIu64 " jobs (limit %" PRIu64
                                    "); reduce repeat:, replicas: or the matrix: values",
                                    UINT64_MAX - 1, PLAN_MAX_JOB_INSTANCES);
                return fail(b, NULL,
                            "the experiment would start %" PRIu64 " jobs in %" PRIu64 " runs (limit %" PRIu64
                            "); reduce repeat:, replicas: or the matrix: values",
                            jobs, runs, PLAN_MAX_JOB_INSTANCES);
        }
        *ret_runs = runs;
        *ret_jobs = jobs;
        return 0;
}

/* Solo baselines first (they are the reference every scenario is compared with), then
 * the scenarios in declaration order, each swept over replicas, then the matrix. */
static int build_configs(Builder *b, uint64_t n_runs) {
        const Spec *s = b->spec;
        size_t n = 0;

        b->configs = calloc((size_t)(n_runs / (b->repeat + b->warmup)), sizeof(Config));
        if (!b->configs)
                return -ENOMEM;

        for (size_t si = 0; si < s->n_scenarios; si++) {
                if (!s->scenarios[si].solo)
                        continue;
                for (size_t j = 0; j < s->scenarios[si].n_jobs; j++)
                        for (uint64_t c = 0; c < b->n_combos[si]; c++)
                                b->configs[n++] = (Config){
                                        .scenario = si, .solo = true, .job = j, .replicas = 1, .combo = c};
        }
        for (size_t si = 0; si < s->n_scenarios; si++) {
                const ScenarioSpec *sc = &s->scenarios[si];
                for (size_t i = 0; i < scenario_n_replicas(sc); i++)
                        for (uint64_t c = 0; c < b->n_combos[si]; c++)
                                b->configs[n++] = (Config){
                                        .scenario = si, .replicas = scenario_replicas(sc, i), .combo = c};
        }
        b->n_configs = n;
        return 0;
}

/* splitmix64 (Steele, Lea, Flood 2014): tiny, and the same sequence on every machine
 * and libc, so `order: random` with a given seed replays exactly. */
static uint64_t splitmix64(uint64_t *state) {
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

/* Uniform in [0, n): rejects the top partial block so that no index is favoured. */
static uint64_t random_below(uint64_t *state, uint64_t n) {
        uint64_t rem = (UINT64_MAX % n + 1) % n; /* 2^64 mod n */
        for (;;) {
                uint64_t r = splitmix64(state);
                if (rem == 0 || r < (uint64_t)0 - rem)
                        return r % n;
        }
}

static void shuffle(size_t *v, size_t n, uint64_t *state) {
        for (size_t i = n; i > 1; i--) {
                size_t j = (size_t)random_below(state, i);
                size_t t = v[i - 1];
                v[i - 1] = v[j];
                v[j] = t;
        }
}

typedef struct SubstVars {
        const ScenarioSpec *sc;
        uint64_t combo;
        char replica[16], replicas[16];
} SubstVars;

static const char *lookup_var(const char *name, size_t len, void *userdata) {
        const SubstVars *v = userdata;

        for (size_t k = 0; k < v->sc->n_matrix; k++) {
                const char *n = v->sc->matrix[k].name;
                if (n && strlen(n) == len && strneq(n, name, len))
                        return combo_value(v->sc, v->combo, k);
        }
        if (len == 7 && strneq(name, "replica", 7))
                return v->replica;
        if (len == 8 && strneq(name, "replicas", 8))
                return v->replicas;
        return NULL;
}

static int subst_fail(Builder *b, int r, const JobSpec *j, const ScenarioSpec *sc, const char *where,
                      const char *text, size_t off) {
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT) {
                const char *name = text + off + 2;
                int len = (int)(strchr(name, '}') - name);
                return fail(
                        b, &j->pos,
                        "job '%s' in scenario '%s': %s uses ${%.*s}, which is not defined; define it under "
                        "the scenario's matrix: (${replica} and ${replicas} are built in), or write "
                        "$${%.*s} for a literal ${%.*s}",
                        j->name, sc->name ?: "?", where, len, name, len, name, len, name);
        }
        return fail(b, &j->pos,
                    "job '%s' in scenario '%s': %s has an unterminated or empty ${ at offset %zu; write "
                    "${name}, or $${ for a literal ${",
                    j->name, sc->name ?: "?", where, off);
}

static void limits_override(Limits *l, const Limits *o) {
        if (o->cpus.kind != CPUS_UNSET)
                l->cpus = o->cpus;
        if (o->memory_max_set) {
                l->memory_max = o->memory_max;
                l->memory_max_set = true;
                l->memory_max_pos = o->memory_max_pos;
        }
#define OVERRIDE(field)                                                                                     \
        if (o->field##_set) {                                                                               \
                l->field = o->field;                                                                        \
                l->field##_set = true;                                                                      \
        }
        OVERRIDE(memory_high);
        OVERRIDE(memory_low);
        OVERRIDE(memory_min);
        OVERRIDE(swap_max);
        OVERRIDE(pids_max);
        if (o->cpu_weight != 0)
                l->cpu_weight = o->cpu_weight;
        if (o->cpu_max_pct != 0)
                l->cpu_max_pct = o->cpu_max_pct;
        OVERRIDE(priority);
#undef OVERRIDE
        if (o->gpus.kind != GPUS_UNSET)
                l->gpus = o->gpus; /* borrowed: the scenario owns its list */
}

static size_t strv_length(char **v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static void strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static int job_init(Builder *b, PlanJob *pj, const JobSpec *j, const ScenarioSpec *sc, uint64_t combo,
                    unsigned replica, unsigned replicas) {
        SubstVars vars = {.sc = sc, .combo = combo};
        size_t n_argv = strv_length(j->argv), n_env = strv_length(j->env), off = 0;
        char where[128];
        int r;

        snprintf(vars.replica, sizeof vars.replica, "%u", replica);
        snprintf(vars.replicas, sizeof vars.replicas, "%u", replicas);

        pj->spec = j;
        pj->replica = replica;
        pj->limits = j->limits;
        limits_override(&pj->limits, &sc->limits);

        if (replicas > 1)
                r = asprintf(&pj->name, "%s#%u", j->name, replica);
        else
                r = (pj->name = strdup(j->name)) ? 0 : -1;
        if (r < 0) {
                pj->name = NULL;
                return -ENOMEM;
        }

        pj->argv = calloc(n_argv + 1, sizeof(char *));
        pj->env = calloc(n_env + 1, sizeof(char *));
        if (!pj->argv || !pj->env)
                return -ENOMEM;

        for (size_t i = 0; i < n_argv; i++) {
                r = plan_substitute(j->argv[i], lookup_var, &vars, &pj->argv[i], &off);
                if (r < 0) {
                        snprintf(where, sizeof where, "argv[%zu]", i);
                        return subst_fail(b, r, j, sc, where, j->argv[i], off);
                }
        }
        for (size_t i = 0; i < n_env; i++) {
                /* Only the value: a key is a name, not something to sweep. */
                const char *eq = strchr(j->env[i], '=');
                size_t klen = eq ? (size_t)(eq - j->env[i]) + 1 : 0;
                _cleanup_free_ char *value = NULL;

                if (!eq) {
                        pj->env[i] = strdup(j->env[i]);
                        if (!pj->env[i])
                                return -ENOMEM;
                        continue;
                }
                r = plan_substitute(eq + 1, lookup_var, &vars, &value, &off);
                if (r < 0) {
                        snprintf(where, sizeof where, "environment variable %.*s",
                                 (int)MIN(klen - 1, (size_t)64), j->env[i]);
                        return subst_fail(b, r, j, sc, where, eq + 1, off);
                }
                if (asprintf(&pj->env[i], "%.*s%s", (int)klen, j->env[i], value) < 0) {
                        pj->env[i] = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

static char *format_params(const ScenarioSpec *sc, uint64_t combo) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        if (sc->n_matrix == 0)
                return NULL;
        f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        for (size_t k = 0; k < sc->n_matrix; k++)
                fprintf(f, "%s%s=%s", k > 0 ? "," : "", sc->matrix[k].name ?: "?",
                        combo_value(sc, combo, k));
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* nth counts the configuration's runs: warm-ups first, then the counted repetitions. */
static int run_init(Builder *b, PlanRun *run, const Config *cfg, unsigned nth) {
        bool warmup = nth < b->warmup;
        unsigned rep = warmup ? nth : nth - b->warmup;
        const ScenarioSpec *sc = &b->spec->scenarios[cfg->scenario];
        const JobSpec *const *jobs = b->jobs[cfg->scenario];
        char repbuf[32] = "";
        int r;

        run->scenario = sc;
        run->repetition = rep;
        run->warmup = warmup;
        run->solo = cfg->solo;
        run->replicas = cfg->replicas;
        if (sc->n_matrix > 0) {
                run->params = format_params(sc, cfg->combo);
                if (!run->params)
                        return -ENOMEM;
        }
        run->scenario_name = strdup(cfg->solo ? "solo" : sc->name ?: "?");
        if (!run->scenario_name)
                return -ENOMEM;

        run->n_jobs = cfg->solo ? 1 : (size_t)cfg->replicas * sc->n_jobs;
        run->jobs = calloc(run->n_jobs, sizeof(PlanJob));
        if (!run->jobs)
                return -ENOMEM;

        if (cfg->solo) {
                r = job_init(b, &run->jobs[0], jobs[cfg->job], sc, cfg->combo, 1, 1);
                if (r < 0)
                        return r;
        } else
                for (size_t i = 0, k = 0; i < sc->n_jobs; i++)
                        for (unsigned c = 1; c <= cfg->replicas; c++, k++) {
                                r = job_init(b, &run->jobs[k], jobs[i], sc, cfg->combo, c, cfg->replicas);
                                if (r < 0)
                                        return r;
                        }

        if (warmup)
                snprintf(repbuf, sizeof repbuf, " warmup %u/%u", rep + 1, b->warmup);
        else if (b->repeat > 1)
                snprintf(repbuf, sizeof repbuf, " rep %u/%u", rep + 1, b->repeat);
        if (cfg->solo) {
                /* Name the scenario only when there is a choice of partitions. */
                bool which = b->spec->n_scenarios > 1;
                r = asprintf(&run->label, "solo %s%s%s%s%s%s%s", jobs[cfg->job]->name, which ? " (" : "",
                             which ? sc->name ?: "?" : "", which ? ")" : "", run->params ? " " : "",
                             run->params ?: "", repbuf);
        } else {
                char rbuf[24] = "";
                if (sc->replicas && sc->n_replicas > 0)
                        snprintf(rbuf, sizeof rbuf, " r=%u", cfg->replicas);
                r = asprintf(&run->label, "%s%s%s%s%s", run->scenario_name, rbuf, run->params ? " " : "",
                             run->params ?: "", repbuf);
        }
        if (r < 0) {
                run->label = NULL;
                return -ENOMEM;
        }
        return 0;
}

static Plan *plan_new(size_t n_runs) {
        Plan *p = calloc(1, sizeof(Plan));
        if (!p)
                return NULL;
        p->runs = calloc(MAX(n_runs, (size_t)1), sizeof(PlanRun));
        if (!p->runs)
                return plan_free(p);
        return p;
}

int plan_build(const Spec *s, Plan **ret, char **ret_error) {
        _cleanup_(builder_done) Builder b = {.spec = s, .repeat = MAX(s->repeat, 1u), .warmup = s->warmup};
        _cleanup_free_ size_t *order = NULL;
        Plan *p = NULL;
        uint64_t n_runs = 0, n_jobs = 0, state = s->seed;
        int r;

        if (s->n_scenarios == 0 || !s->scenarios) {
                r = fail(&b, NULL, "nothing to run: the spec has no scenarios and no jobs");
                goto finish;
        }
        b.jobs = calloc(s->n_scenarios, sizeof(JobSpec **));
        b.n_combos = calloc(s->n_scenarios, sizeof(uint64_t));
        if (!b.jobs || !b.n_combos || index_jobs(&b) < 0)
                return -ENOMEM;
        for (size_t si = 0; si < s->n_scenarios; si++) {
                r = resolve_scenario(&b, si);
                if (r < 0)
                        goto finish;
        }
        r = check_size(&b, &n_runs, &n_jobs);
        if (r < 0)
                goto finish;
        r = build_configs(&b, n_runs);
        if (r < 0)
                goto finish;

        order = calloc(b.n_configs, sizeof(size_t));
        p = plan_new((size_t)n_runs);
        if (!order || !p) {
                r = -ENOMEM;
                goto finish;
        }
        p->repeat = b.repeat;

        for (size_t i = 0; i < b.n_configs; i++)
                order[i] = i;
        if (s->order == ORDER_SEQUENTIAL) {
                /* All repetitions of one configuration back to back (warm caches, one
                 * configuration finished before the next starts). */
                for (size_t i = 0; i < b.n_configs; i++)
                        for (unsigned rep = 0; rep < b.repeat + b.warmup; rep++) {
                                r = run_init(&b, &p->runs[p->n_runs++], &b.configs[i], rep);
                                if (r < 0)
                                        goto finish;
                        }
        } else {
                /* Interleaved and random: repetition-major, so slow drift of the machine
                 * (thermal, background load) hits every configuration alike and an
                 * interrupted experiment holds whole repetitions. Random shuffles within
                 * each repetition (a randomised complete block design). */
                for (unsigned rep = 0; rep < b.repeat + b.warmup; rep++) {
                        if (s->order == ORDER_RANDOM)
                                shuffle(order, b.n_configs, &state);
                        for (size_t i = 0; i < b.n_configs; i++) {
                                r = run_init(&b, &p->runs[p->n_runs++], &b.configs[order[i]], rep);
                                if (r < 0)
                                        goto finish;
                        }
                }
        }
        for (size_t i = 0; i < p->n_runs; i++)
                p->n_jobs_total += p->runs[i].n_jobs;
        assert(p->n_jobs_total == n_jobs);

        *ret = TAKE_PTR(p);
        r = 0;
finish:
        if (r < 0 && ret_error && b.error)
                *ret_error = TAKE_PTR(b.error);
        plan_free(p);
        return r;
}

Plan *plan_free(Plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_runs; i++) {
                PlanRun *run = &p->runs[i];
                for (size_t k = 0; run->jobs && k < run->n_jobs; k++) {
                        PlanJob *j = &run->jobs[k];
                        free(j->name);
                        strv_free(j->argv);
                        strv_free(j->env);
                }
                free(run->jobs);
                free(run->scenario_name);
                free(run->label);
                free(run->params);
        }
        free(p->runs);
        free(p);
        return NULL;
}
