/* SPDX-License-Identifier: MIT */
/* The scenario file: Node tree -> Spec, every error at the node it is about. */
#include <string.h>

#include "spec/spec-yaml.h"
#include "util/parse.h"


SpecPos yaml_pos_of(const Ctx *c, const Node *n) {
        return (SpecPos){.file = c->file, .line = n->line, .col = n->col};
}

static int job_index_cmp(const void *a, const void *b, void *userdata) {
        const Spec *s = userdata;
        return strcmp(s->jobs[*(const size_t *)a].name, s->jobs[*(const size_t *)b].name);
}

/* A scenario may list thousands of jobs: sorted once, then searched. */
static int build_job_index(Ctx *c) {
        c->job_index = malloc(MAX(c->s->n_jobs, (size_t)1) * sizeof(size_t));
        if (!c->job_index)
                return -ENOMEM;
        for (size_t i = 0; i < c->s->n_jobs; i++)
                c->job_index[i] = i;
        qsort_r(c->job_index, c->s->n_jobs, sizeof(size_t), job_index_cmp, c->s);
        return 0;
}

/* The index in s->jobs of the job called name, or -1. */
static ssize_t find_job_index(const Ctx *c, const char *name) {
        size_t lo = 0, hi = c->s->n_jobs;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int d = strcmp(name, c->s->jobs[c->job_index[mid]].name);
                if (d == 0)
                        return (ssize_t)c->job_index[mid];
                if (d < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return -1;
}

static int count_scenario_jobs(Ctx *c, const Node *at, size_t n) {
        c->n_scenario_jobs += n;
        if (c->n_scenario_jobs <= SPEC_MAX_SCENARIO_JOBS)
                return 0;
        SpecPos pos = yaml_pos_of(c, at);
        return spec_fail(c->e, &pos,
                         "the scenarios list more than %d jobs in all; split the experiment into "
                         "several files",
                         SPEC_MAX_SCENARIO_JOBS);
}

int yaml_fail_type(Ctx *c, const Node *val, SpecKey key) {
        char d[SPEC_QUOTE_MAX];
        SpecPos pos = yaml_pos_of(c, val);
        return spec_fail_key(c->e, &pos, key, "expected %s, got %s", spec_keys[key].expect,
                             node_describe(val, d, sizeof d));
}

/* The text of a scalar value; a list, a mapping or nothing is a type error. */
static int scalar_of(Ctx *c, const Node *val, SpecKey key, const char **ret) {
        if (val->type != NODE_SCALAR || node_is_null(val))
                return yaml_fail_type(c, val, key);
        *ret = val->value;
        return 0;
}

int yaml_fail_unknown(Ctx *c, const Node *key, const char *const *candidates, size_t n, const char *where,
                        const char *expected) {
        char q[SPEC_QUOTE_MAX];
        SpecPos pos = yaml_pos_of(c, key);
        const char *hint = spec_closest(key->value, candidates, n);
        if (hint)
                return spec_fail(c->e, &pos, "unknown key %s in %s; did you mean '%s'?",
                                 spec_quote(key->value, q, sizeof q), where, hint);
        return spec_fail(c->e, &pos, "unknown key %s in %s; expected %s",
                         spec_quote(key->value, q, sizeof q), where, expected);
}

static int fail_unknown_key(Ctx *c, const Node *key, SpecScope scope, const char *where) {
        const char *candidates[_KEY_MAX];
        char list[1024], expected[1100];
        size_t n = 0;
        for (size_t k = 0; k < _KEY_MAX; k++)
                if (spec_keys[k].scopes & scope)
                        candidates[n++] = spec_keys[k].name;
        snprintf(expected, sizeof expected, "one of: %s", spec_key_list(scope, list, sizeof list));
        return yaml_fail_unknown(c, key, candidates, n, where, expected);
}

int yaml_check_count(Ctx *c, const Node *val, SpecKey key, size_t max) {
        if (val->n <= max)
                return 0;
        SpecPos pos = yaml_pos_of(c, val);
        return spec_fail_key(c->e, &pos, key, "%zu entries; at most %zu are supported", val->n, max);
}

/* cpus: {shared: "0-1"} */
static int parse_cpus_map(Ctx *c, CpuRequest *cpus, const Node *val) {
        static const char *const keys[] = {"shared"};
        const char *text = NULL;
        if (val->n != 1 || !streq(node_key(val, 0)->value, "shared")) {
                if (val->n == 0)
                        return yaml_fail_type(c, val, KEY_CPUS);
                return yaml_fail_unknown(c, node_key(val, 0), keys, 1, "cpus", "{shared: \"0-1\"}");
        }
        const Node *v = node_value(val, 0);
        int r = scalar_of(c, v, KEY_CPUS, &text);
        if (r < 0)
                return r;
        SpecPos pos = yaml_pos_of(c, v);
        return spec_cpus_set_shared(cpus, text, &pos, c->e);
}

/* gpus: [GPU-uuid, ...] or [0, 2]: the same list as "0,2". */
static int parse_gpus_seq(Ctx *c, GpuRequest *g, const Node *val, bool shared) {
        SpecPos pos = yaml_pos_of(c, val);
        int r = yaml_check_count(c, val, KEY_GPUS, GPU_REQUEST_MAX);
        if (r < 0)
                return r;
        if (val->n == 0)
                return spec_fail_key(c->e, &pos, KEY_GPUS, "expected %s, got an empty list",
                                     spec_keys[KEY_GPUS].expect);
        size_t len = 1;
        for (size_t i = 0; i < val->n; i++) {
                const Node *item = val->items[i];
                if (item->type != NODE_SCALAR || node_is_null(item) || strchr(item->value, ',') ||
                    strncmp(item->value, "shared:", 7) == 0)
                        return yaml_fail_type(c, item, KEY_GPUS);
                len += strlen(item->value) + 1;
        }
        _cleanup_free_ char *joined = malloc(len);
        if (!joined)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < val->n; i++) {
                size_t n = strlen(val->items[i]->value);
                if (i)
                        joined[k++] = ',';
                memcpy(joined + k, val->items[i]->value, n);
                k += n;
        }
        joined[k] = '\0';
        r = spec_gpus_set(g, joined, false, &pos, c->e);
        if (r >= 0)
                g->shared = shared;
        return r;
}

/* gpus: {count: 1, shared: true}, {devices: "0", shared: true}, and the limits
 * {count: 1, share: 30, memory: 8G, mode: cap, via: shim} (a limit alone means one GPU). */
static int parse_gpus_map(Ctx *c, GpuRequest *g, const Node *val) {
        static const char *const keys[] = {"count", "devices", "shared", "share", "memory", "mode", "via"};
        static const SpecKey limit_keys[] = {KEY_GPU_SHARE, KEY_GPU_MEMORY, KEY_GPU_MODE, KEY_GPU_VIA};
        const Node *count = NULL, *devices = NULL, *limits[4] = {NULL};
        bool shared = false, shared_set = false;
        for (size_t i = 0; i < val->n; i++) {
                const Node *k = node_key(val, i), *v = node_value(val, i);
                if (streq(k->value, "count"))
                        count = v;
                else if (streq(k->value, "devices"))
                        devices = v;
                else if (streq(k->value, "shared")) {
                        const char *text = NULL;
                        int r = scalar_of(c, v, KEY_GPUS, &text);
                        if (r < 0)
                                return r;
                        if (spec_parse_bool(text, &shared) < 0) {
                                SpecPos pos = yaml_pos_of(c, v);
                                return spec_fail_key(c->e, &pos, KEY_GPUS, "shared: expected true or false, got '%s'",
                                                     text);
                        }
                        shared_set = true;
                } else {
                        size_t x = 0;
                        while (x < ELEMENTSOF(limit_keys) && !streq(k->value, keys[3 + x]))
                                x++;
                        if (x == ELEMENTSOF(limit_keys))
                                return yaml_fail_unknown(c, k, keys, ELEMENTSOF(keys), "gpus",
                                                         "{count: 1, share: 30, memory: 8G}");
                        limits[x] = v;
                }
        }
        SpecPos pos = yaml_pos_of(c, val);
        bool any_limit = limits[0] || limits[1] || limits[2] || limits[3];
        if (count && devices)
                return spec_fail_key(c->e, &pos, KEY_GPUS,
                                     "expected count: or devices: (one of them), like {count: 1, shared: true}");
        if (!count && !devices && !any_limit)
                return spec_fail_key(c->e, &pos, KEY_GPUS,
                                     "expected count: or devices: (one of them), like {count: 1, shared: true}");
        GpuRequest n = {.pos = pos};
        int r = 0;
        if (devices && devices->type == NODE_SEQ)
                r = parse_gpus_seq(c, &n, devices, false);
        else if (count || devices) {
                const Node *v = count ?: devices;
                const char *text = NULL;
                r = scalar_of(c, v, KEY_GPUS, &text);
                if (r < 0)
                        return r;
                SpecPos vp = yaml_pos_of(c, v);
                /* count: takes a number only; devices: a list even when it is one plain number */
                if (count && (!v->plain || !*text || strspn(text, "0123456789") != strlen(text)))
                        return spec_fail_key(c->e, &vp, KEY_GPUS, "count: expected a GPU count like 1, got '%s'",
                                             text);
                if (devices && strncmp(text, "shared:", 7) == 0)
                        return yaml_fail_type(c, v, KEY_GPUS);
                if (count && streq(text, "0") && shared)
                        return spec_fail_key(c->e, &vp, KEY_GPUS,
                                             "count: expected a GPU count from 1 with shared, got 0");
                r = spec_gpus_set(&n, text, count != NULL, &vp, c->e);
        }
        if (r < 0) {
                free(n.list);
                return r;
        }
        n.pos = pos;
        n.shared = shared;
        n.shared_set = shared_set;
        for (size_t x = 0; r >= 0 && x < ELEMENTSOF(limit_keys); x++) {
                if (!limits[x])
                        continue;
                const char *text = NULL;
                r = scalar_of(c, limits[x], KEY_GPUS, &text);
                SpecPos vp = yaml_pos_of(c, limits[x]);
                if (r >= 0)
                        r = spec_gpus_set_limit(&n, limit_keys[x], text, &vp, c->e);
        }
        n.pos = pos; /* a limit alone made it one GPU: the map is where it was asked */
        if (r >= 0)
                r = spec_gpus_check(&n, c->e);
        if (r < 0) {
                free(n.list);
                return r;
        }
        free(g->list);
        *g = n;
        return 0;
}

/* A limit key, in a job (or defaults) or a scenario. */
static int parse_limit(Ctx *c, Limits *l, SpecKey key, const Node *val) {
        const char *text = NULL;
        if (key == KEY_CPUS && val->type == NODE_MAP)
                return parse_cpus_map(c, &l->cpus, val);
        if (key == KEY_GPUS && val->type == NODE_MAP)
                return parse_gpus_map(c, &l->gpus, val);
        if (key == KEY_GPUS && val->type == NODE_SEQ)
                return parse_gpus_seq(c, &l->gpus, val, false);
        int r = scalar_of(c, val, key, &text);
        if (r < 0)
                return r;
        SpecPos pos = yaml_pos_of(c, val);
        return spec_limit_set(l, key, text, val->plain, &pos, c->e);
}

static int parse_command(Ctx *c, JobSpec *j, const Node *val) {
        SpecPos pos = yaml_pos_of(c, val);
        if (val->type == NODE_SCALAR && !node_is_null(val))
                return spec_job_set_shell_command(j, val->value, &pos, c->e);
        if (val->type != NODE_SEQ)
                return yaml_fail_type(c, val, KEY_COMMAND);
        int r = yaml_check_count(c, val, KEY_COMMAND, SPEC_MAX_ARGV);
        if (r < 0)
                return r;
        _cleanup_free_ char **argv = calloc(val->n + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        for (size_t i = 0; i < val->n; i++) {
                const Node *item = val->items[i];
                if (item->type != NODE_SCALAR || node_is_null(item)) {
                        char d[SPEC_QUOTE_MAX];
                        SpecPos ip = yaml_pos_of(c, item);
                        return spec_fail_key(
                                c->e, &ip, KEY_COMMAND,
                                "expected each argument to be a string, got %s (quote it: \"\")",
                                node_describe(item, d, sizeof d));
                }
                argv[i] = item->value;
        }
        return spec_job_set_argv(j, argv, val->n, &pos, c->e);
}

static int parse_env(Ctx *c, JobSpec *j, const Node *val) {
        if (val->type != NODE_MAP)
                return yaml_fail_type(c, val, KEY_ENV);
        int r = yaml_check_count(c, val, KEY_ENV, SPEC_MAX_ENV);
        /* Keys of one mapping are unique (checked while loading): only an env: that
         * already holds variables (from defaults:) needs the search for a key to replace. */
        bool replace = j->env != NULL;
        for (size_t i = 0; r >= 0 && i < val->n; i++) {
                const Node *k = node_key(val, i), *v = node_value(val, i);
                SpecPos pos = yaml_pos_of(c, v);
                if (v->type != NODE_SCALAR || node_is_null(v)) {
                        char d[SPEC_QUOTE_MAX];
                        return spec_fail(c->e, &pos,
                                         "env: expected a string value for %s, got %s (write \"\" "
                                         "for an empty one)",
                                         k->value, node_describe(v, d, sizeof d));
                }
                SpecPos kp = yaml_pos_of(c, k);
                r = spec_job_env_set(j, k->value, v->value, replace, &kp, c->e);
        }
        return r;
}

/* Applies a job's (or defaults:') keys on top of what j already holds. */
static int job_apply(Ctx *c, JobSpec *j, const Node *map, const char *where) {
        int r = 0;
        for (size_t i = 0; r >= 0 && i < map->n; i++) {
                const Node *k = node_key(map, i), *v = node_value(map, i);
                SpecKey key = spec_key_lookup(k->value, SCOPE_JOB);
                const char *text = NULL;

                if (key < 0)
                        return fail_unknown_key(c, k, SCOPE_JOB, where);
                if (spec_key_is_limit(key)) {
                        r = parse_limit(c, &j->limits, key, v);
                        continue;
                }
                if (spec_key_is_job_scalar(key)) {
                        r = scalar_of(c, v, key, &text);
                        if (r >= 0) {
                                SpecPos pos = yaml_pos_of(c, v);
                                r = spec_job_set(j, key, text, v->plain, &pos, c->e);
                        }
                        continue;
                }
                switch (key) {
                case KEY_COMMAND:
                        r = parse_command(c, j, v);
                        break;
                case KEY_ENV:
                        r = parse_env(c, j, v);
                        break;
                case KEY_PHASES:
                        r = yaml_parse_phases(c, j, v);
                        break;
                case KEY_METRICS:
                        r = yaml_parse_metrics(c, j, v);
                        break;
                case KEY_TIMESTAMP:
                        r = yaml_parse_timestamp(c, j, v);
                        break;
                case KEY_CONTAINER:
                        r = spec_container_parse(c->file, v, &j->container, streq(where, "defaults"), c->e);
                        break;
                default:
                        r = fail_unknown_key(c, k, SCOPE_JOB, where);
                }
        }
        return r;
}

static int check_name(Ctx *c, const Node *k, const char *what) {
        char q[SPEC_QUOTE_MAX];
        if (spec_name_is_valid(k->value))
                return 0;
        SpecPos pos = yaml_pos_of(c, k);
        return spec_fail(
                c->e, &pos,
                "%s name %s may only hold letters, digits, '_', '.' and '-' (at most %d; it names a "
                "cgroup)",
                what, spec_quote(k->value, q, sizeof q), SPEC_MAX_NAME);
}

static int parse_jobs(Ctx *c, const Node *jobs, const Node *defaults) {
        Spec *s = c->s;
        int r;

        if (jobs->type != NODE_MAP)
                return yaml_fail_type(c, jobs, KEY_JOBS);
        if (jobs->n == 0) {
                SpecPos pos = yaml_pos_of(c, jobs);
                return spec_fail(c->e, &pos, "jobs: is empty; define at least one job");
        }
        r = yaml_check_count(c, jobs, KEY_JOBS, SPEC_MAX_JOBS);
        if (r < 0)
                return r;
        s->jobs = calloc(jobs->n, sizeof(JobSpec));
        if (!s->jobs)
                return -ENOMEM;
        for (size_t i = 0; i < jobs->n; i++) {
                const Node *k = node_key(jobs, i), *v = node_value(jobs, i);
                char where[SPEC_MAX_NAME + 16];
                JobSpec *j = &s->jobs[s->n_jobs];

                r = check_name(c, k, "job");
                if (r < 0)
                        return r;
                job_spec_init(j);
                s->n_jobs++;
                j->pos = yaml_pos_of(c, k);
                if (!(j->name = strdup(k->value)))
                        return -ENOMEM;
                if (v->type != NODE_MAP && !node_is_null(v)) {
                        char d[SPEC_QUOTE_MAX];
                        SpecPos pos = yaml_pos_of(c, v);
                        return spec_fail(c->e, &pos,
                                         "job '%s': expected a mapping of job keys (command:, cpus:, "
                                         "...), got %s",
                                         j->name, node_describe(v, d, sizeof d));
                }
                if (defaults && (r = job_apply(c, j, defaults, "defaults")) < 0)
                        return r;
                snprintf(where, sizeof where, "job '%s'", j->name);
                if (v->type == NODE_MAP && (r = job_apply(c, j, v, where)) < 0)
                        return r;
                r = spec_job_finish(j, c->e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_scenario_jobs(Ctx *c, ScenarioSpec *sc, const Node *val) {
        _cleanup_free_ bool *listed = NULL;
        int r;

        if (val->type != NODE_SEQ)
                return yaml_fail_type(c, val, KEY_JOBS);
        if (val->n == 0) {
                SpecPos pos = yaml_pos_of(c, val);
                return spec_fail(c->e, &pos,
                                 "jobs: the list is empty; name at least one job, or leave jobs: out "
                                 "to run them all");
        }
        r = yaml_check_count(c, val, KEY_JOBS, SPEC_MAX_JOBS);
        if (r >= 0)
                r = count_scenario_jobs(c, val, val->n);
        if (r < 0)
                return r;
        listed = calloc(c->s->n_jobs, sizeof(bool));
        if (!listed)
                return -ENOMEM;
        for (size_t i = 0; i < val->n; i++) {
                const Node *item = val->items[i];
                char q[SPEC_QUOTE_MAX];
                SpecPos pos = yaml_pos_of(c, item);

                if (item->type != NODE_SCALAR || node_is_null(item))
                        return yaml_fail_type(c, item, KEY_JOBS);
                const char *name = item->value;
                ssize_t k = find_job_index(c, name);
                if (k < 0) {
                        _cleanup_free_ const char **names = calloc(c->s->n_jobs, sizeof(char *));
                        if (!names)
                                return -ENOMEM;
                        for (size_t x = 0; x < c->s->n_jobs; x++)
                                names[x] = c->s->jobs[x].name;
                        const char *hint = spec_closest(name, names, c->s->n_jobs);
                        if (hint)
                                return spec_fail(c->e, &pos,
                                                 "scenario '%s': unknown job %s; did you mean '%s'?",
                                                 sc->name, spec_quote(name, q, sizeof q), hint);
                        return spec_fail(c->e, &pos,
                                         "scenario '%s': unknown job %s; the jobs: section defines "
                                         "%zu job(s), starting with '%s'",
                                         sc->name, spec_quote(name, q, sizeof q), c->s->n_jobs, names[0]);
                }
                if (listed[k])
                        return spec_fail(c->e, &pos,
                                         "scenario '%s': job '%s' is listed twice; use replicas: to "
                                         "run several copies",
                                         sc->name, name);
                listed[k] = true;
                r = spec_strv_push(&sc->jobs, &sc->n_jobs, name, strlen(name));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_replicas(Ctx *c, ScenarioSpec *sc, const Node *val) {
        if (val->type == NODE_SCALAR && !node_is_null(val)) {
                SpecPos pos = yaml_pos_of(c, val);
                return spec_scenario_set(sc, KEY_REPLICAS, val->value, val->plain, &pos, c->e);
        }
        if (val->type != NODE_SEQ || val->n == 0)
                return yaml_fail_type(c, val, KEY_REPLICAS);
        int r = yaml_check_count(c, val, KEY_REPLICAS, SPEC_MAX_REPLICAS);
        if (r < 0)
                return r;
        unsigned *v = calloc(val->n, sizeof(unsigned));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < val->n; i++) {
                const Node *item = val->items[i];
                uint64_t n;
                SpecPos pos = yaml_pos_of(c, item);
                if (item->type != NODE_SCALAR || parse_u64(item->value, &n) < 0 || n < 1 ||
                    n > SPEC_MAX_REPLICAS) {
                        char d[SPEC_QUOTE_MAX];
                        free(v);
                        return spec_fail(c->e, &pos, "replicas: expected copy counts from 1 to %d, got %s",
                                         SPEC_MAX_REPLICAS, node_describe(item, d, sizeof d));
                }
                v[i] = (unsigned)n;
        }
        free(sc->replicas);
        sc->replicas = v;
        sc->n_replicas = val->n;
        return 0;
}

/* ${name} in commands: a C identifier, so that "${a-b}" is not ambiguous. */
static bool param_name_is_valid(const char *s) {
        if (!*s || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        for (size_t i = 0; s[i]; i++)
                if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9')) ||
                    i >= 64)
                        return false;
        return true;
}

static int parse_matrix(Ctx *c, ScenarioSpec *sc, const Node *val) {
        if (val->type != NODE_MAP || val->n == 0)
                return yaml_fail_type(c, val, KEY_MATRIX);
        int r = yaml_check_count(c, val, KEY_MATRIX, SPEC_MAX_MATRIX_PARAMS);
        if (r < 0)
                return r;
        sc->matrix = calloc(val->n, sizeof(MatrixParam));
        if (!sc->matrix)
                return -ENOMEM;
        for (size_t i = 0; i < val->n; i++) {
                const Node *k = node_key(val, i), *v = node_value(val, i);
                MatrixParam *m = &sc->matrix[sc->n_matrix++];
                char q[SPEC_QUOTE_MAX], d[SPEC_QUOTE_MAX];

                if (!param_name_is_valid(k->value)) {
                        SpecPos pos = yaml_pos_of(c, k);
                        return spec_fail(c->e, &pos,
                                         "matrix: parameter name %s must be letters, digits and '_', "
                                         "not starting with a digit (it is used as ${name})",
                                         spec_quote(k->value, q, sizeof q));
                }
                if (!(m->name = strdup(k->value)))
                        return -ENOMEM;
                if (v->type != NODE_SEQ || v->n == 0) {
                        SpecPos pos = yaml_pos_of(c, v);
                        return spec_fail(
                                c->e, &pos, "matrix: expected a non-empty list of values for '%s', got %s",
                                k->value,
                                v->type == NODE_SEQ ? "an empty list" : node_describe(v, d, sizeof d));
                }
                if (v->n > SPEC_MAX_MATRIX_VALUES) {
                        SpecPos pos = yaml_pos_of(c, v);
                        return spec_fail(c->e, &pos, "matrix: %zu values for '%s'; at most %d are supported",
                                         v->n, k->value, SPEC_MAX_MATRIX_VALUES);
                }
                for (size_t x = 0; x < v->n; x++) {
                        const Node *item = v->items[x];
                        if (item->type != NODE_SCALAR || node_is_null(item)) {
                                SpecPos pos = yaml_pos_of(c, item);
                                return spec_fail(c->e, &pos,
                                                 "matrix: expected a string or number value for '%s', "
                                                 "got %s",
                                                 k->value, node_describe(item, d, sizeof d));
                        }
                        r = spec_strv_push(&m->values, &m->n_values, item->value, strlen(item->value));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_scenario(Ctx *c, ScenarioSpec *sc, const Node *k, const Node *v) {
        char where[SPEC_MAX_NAME + 16];
        const Node *smt = NULL;
        int r;

        r = check_name(c, k, "scenario");
        if (r < 0)
                return r;
        if (streq(k->value, "solo")) {
                SpecPos pos = yaml_pos_of(c, k);
                return spec_fail(c->e, &pos,
                                 "the scenario name 'solo' is reserved for solo baselines; choose "
                                 "another name");
        }
        sc->pos = yaml_pos_of(c, k);
        if (!(sc->name = strdup(k->value)))
                return -ENOMEM;
        if (v->type != NODE_MAP && !node_is_null(v)) {
                char d[SPEC_QUOTE_MAX];
                SpecPos pos = yaml_pos_of(c, v);
                return spec_fail(c->e, &pos,
                                 "scenario '%s': expected a mapping (jobs:, replicas:, ...), got %s",
                                 sc->name, node_describe(v, d, sizeof d));
        }
        snprintf(where, sizeof where, "scenario '%s'", sc->name);
        for (size_t i = 0; v->type == NODE_MAP && i < v->n; i++) {
                const Node *key_node = node_key(v, i), *val = node_value(v, i);
                SpecKey key = spec_key_lookup(key_node->value, SCOPE_SCENARIO);
                const char *text = NULL;
                SpecPos pos = yaml_pos_of(c, val);

                if (key < 0)
                        return fail_unknown_key(c, key_node, SCOPE_SCENARIO, where);
                if (key == KEY_SMT)
                        smt = key_node;
                switch (key) {
                case KEY_JOBS:
                        r = parse_scenario_jobs(c, sc, val);
                        break;
                case KEY_REPLICAS:
                        r = parse_replicas(c, sc, val);
                        break;
                case KEY_MATRIX:
                        r = parse_matrix(c, sc, val);
                        break;
                default:
                        if (spec_key_is_limit(key))
                                r = parse_limit(c, &sc->limits, key, val);
                        else if ((r = scalar_of(c, val, key, &text)) >= 0)
                                r = spec_scenario_set(sc, key, text, val->plain, &pos, c->e);
                }
                if (r < 0)
                        return r;
        }
        if (smt && sc->limits.cpus.kind == CPUS_UNSET) {
                SpecPos pos = yaml_pos_of(c, smt);
                return spec_fail(c->e, &pos,
                                 "scenario '%s': smt: only applies together with cpus: in a "
                                 "scenario (or set it on the jobs)",
                                 sc->name);
        }
        if (!sc->jobs && (r = count_scenario_jobs(c, k, c->s->n_jobs)) < 0)
                return r;
        if (!sc->jobs)
                for (size_t i = 0; i < c->s->n_jobs; i++) {
                        r = spec_strv_push(&sc->jobs, &sc->n_jobs, c->s->jobs[i].name,
                                           strlen(c->s->jobs[i].name));
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int add_default_scenario(Spec *s, SpecPos pos) {
        s->scenarios = calloc(1, sizeof(ScenarioSpec));
        if (!s->scenarios)
                return -ENOMEM;
        ScenarioSpec *sc = &s->scenarios[0];
        scenario_spec_init(sc);
        s->n_scenarios = 1;
        sc->pos = pos;
        if (!(sc->name = strdup("default")))
                return -ENOMEM;
        for (size_t i = 0; i < s->n_jobs; i++)
                if (spec_strv_push(&sc->jobs, &sc->n_jobs, s->jobs[i].name, strlen(s->jobs[i].name)) < 0)
                        return -ENOMEM;
        return 0;
}

static int parse_scenarios(Ctx *c, const Node *val, SpecPos default_pos) {
        Spec *s = c->s;
        if (!val || node_is_null(val))
                return add_default_scenario(s, default_pos);
        if (val->type != NODE_MAP)
                return yaml_fail_type(c, val, KEY_SCENARIOS);
        if (val->n == 0)
                return add_default_scenario(s, default_pos);
        int r = yaml_check_count(c, val, KEY_SCENARIOS, SPEC_MAX_SCENARIOS);
        if (r < 0)
                return r;
        s->scenarios = calloc(val->n, sizeof(ScenarioSpec));
        if (!s->scenarios)
                return -ENOMEM;
        for (size_t i = 0; i < val->n; i++) {
                ScenarioSpec *sc = &s->scenarios[s->n_scenarios++];
                scenario_spec_init(sc);
                r = parse_scenario(c, sc, node_key(val, i), node_value(val, i));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "dir/p2-partitions.yaml" -> "p2-partitions" */
static int name_from_file(const char *file, char **ret) {
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        size_t n = strlen(base);
        if (n > 5 && streq(base + n - 5, ".yaml"))
                n -= 5;
        else if (n > 4 && streq(base + n - 4, ".yml"))
                n -= 4;
        _cleanup_free_ char *stem = strndup(base, n);
        if (!stem)
                return -ENOMEM;
        *ret = spec_name_sanitize(stem);
        if (*ret && !spec_name_is_valid(stem) && streq(*ret, "job")) {
                free(*ret);
                *ret = strdup("corun");
        }
        return *ret ? 0 : -ENOMEM;
}

static int parse_root(Ctx *c, const Node *root) {
        const Node *slot[_KEY_MAX] = {0}, *slot_key[_KEY_MAX] = {0};
        Spec *s = c->s;
        int r;

        if (root->type != NODE_MAP) {
                char d[SPEC_QUOTE_MAX];
                SpecPos pos = yaml_pos_of(c, root);
                return spec_fail(c->e, &pos,
                                 "expected a mapping with a jobs: key at the top of the file, got %s",
                                 node_describe(root, d, sizeof d));
        }
        for (size_t i = 0; i < root->n; i++) {
                SpecKey key = spec_key_lookup(node_key(root, i)->value, SCOPE_TOP);
                if (key < 0)
                        return fail_unknown_key(c, node_key(root, i), SCOPE_TOP, "the top level");
                slot[key] = node_value(root, i);
                slot_key[key] = node_key(root, i);
        }
        if (!slot[KEY_JOBS]) {
                SpecPos pos = yaml_pos_of(c, root);
                return spec_fail(c->e, &pos,
                                 "the file defines no jobs; add a jobs: mapping (name: {command: "
                                 "...})");
        }

        /* Run-level scalars first: they cannot fail because of anything else. */
        for (size_t k = 0; k < _KEY_MAX; k++) {
                const char *text = NULL;
                if (!slot[k] || k == KEY_JOBS || k == KEY_DEFAULTS || k == KEY_SCENARIOS || k == KEY_SOLO)
                        continue;
                r = scalar_of(c, slot[k], (SpecKey)k, &text);
                if (r < 0)
                        return r;
                SpecPos pos = yaml_pos_of(c, slot[k]);
                r = spec_run_set(s, (SpecKey)k, text, &pos, c->e);
                if (r < 0)
                        return r;
        }

        const Node *defaults = slot[KEY_DEFAULTS];
        if (defaults && node_is_null(defaults))
                defaults = NULL;
        if (defaults) {
                if (defaults->type != NODE_MAP)
                        return yaml_fail_type(c, defaults, KEY_DEFAULTS);
                /* Checked once on its own, so that its errors show even where every job
                 * overrides the bad key. */
                JobSpec scratch;
                job_spec_init(&scratch);
                r = job_apply(c, &scratch, defaults, "defaults");
                job_spec_done(&scratch);
                if (r < 0)
                        return r;
        }
        if (defaults && slot[KEY_JOBS]->type == NODE_MAP) {
                size_t size = node_count(defaults), n = slot[KEY_JOBS]->n;
                if (size * n > SPEC_MAX_DEFAULTS_EXPANSION) {
                        SpecPos pos = yaml_pos_of(c, slot_key[KEY_DEFAULTS]);
                        return spec_fail(c->e, &pos,
                                         "defaults: %zu values copied into %zu jobs are more than %d; "
                                         "make defaults: smaller",
                                         size, n, SPEC_MAX_DEFAULTS_EXPANSION);
                }
        }
        r = parse_jobs(c, slot[KEY_JOBS], defaults);
        if (r < 0)
                return r;
        r = build_job_index(c);
        if (r < 0)
                return r;
        r = parse_scenarios(c, slot[KEY_SCENARIOS], yaml_pos_of(c, slot_key[KEY_JOBS]));
        if (r < 0)
                return r;
        if (slot[KEY_SOLO]) {
                const char *text = NULL;
                bool b;
                r = scalar_of(c, slot[KEY_SOLO], KEY_SOLO, &text);
                if (r < 0)
                        return r;
                if (spec_parse_bool(text, &b) < 0) {
                        SpecPos pos = yaml_pos_of(c, slot[KEY_SOLO]);
                        return spec_fail_value(c->e, &pos, KEY_SOLO, text);
                }
                for (size_t i = 0; b && i < s->n_scenarios; i++)
                        s->scenarios[i].solo = true;
        }
        if (!s->name)
                return name_from_file(c->file, &s->name);
        return 0;
}

int spec_parse_yaml(const char *file, const char *text, size_t len, Spec **ret, SpecError *ret_error) {
        Spec *s = NULL;
        Node *root = NULL;
        int r;

        if (!file)
                file = "<input>";
        s = malloc(sizeof(Spec));
        if (!s)
                return -ENOMEM;
        spec_init(s);
        s->file = strdup(file);
        if (!s->file) {
                spec_free(s);
                return -ENOMEM;
        }
        Ctx c = {.file = s->file, .e = ret_error, .s = s};
        r = node_load(s->file, text ?: "", text ? len : 0, &root, ret_error);
        if (r >= 0)
                r = parse_root(&c, root);
        node_free(root);
        free(c.job_index);
        if (r < 0) {
                /* The message may point into s->file: it was copied by spec_fail. */
                spec_free(s);
                return r;
        }
        *ret = s;
        return 0;
}
