/* SPDX-License-Identifier: MIT */
/* Enum tables, the key table, error messages, names and the Spec's lifetime. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spec/spec-internal.h"

static const char *const priority_table[_PRIORITY_MAX] = {
        [PRIORITY_NORMAL] = "normal",
        [PRIORITY_HIGH] = "high",
        [PRIORITY_LOW] = "low",
};
static const char *const metric_agg_table[_METRIC_AGG_MAX] = {
        [METRIC_LAST] = "last", [METRIC_MAX] = "max",   [METRIC_MIN] = "min",
        [METRIC_SUM] = "sum",   [METRIC_MEAN] = "mean", [METRIC_ALL] = "all",
};
static const char *const run_order_table[_ORDER_MAX] = {
        [ORDER_INTERLEAVED] = "interleaved",
        [ORDER_SEQUENTIAL] = "sequential",
        [ORDER_RANDOM] = "random",
};
static const char *const backend_kind_table[_BACKEND_MAX] = {
        [BACKEND_AUTO] = "auto",
        [BACKEND_V2] = "v2",
        [BACKEND_V1] = "v1",
        [BACKEND_NONE] = "none",
};
static const char *const smt_mode_table[_SMT_MAX] = {
        [SMT_TOGETHER] = "together",
        [SMT_SEPARATE] = "separate",
};
static const char *const numa_mode_table[_NUMA_MAX] = {
        [NUMA_LOCAL] = "local",
        [NUMA_SPREAD] = "spread",
        [NUMA_INTERLEAVE] = "interleave",
};
static const char *const cpu_request_kind_table[_CPUS_KIND_MAX] = {
        [CPUS_UNSET] = "unset",   [CPUS_COUNT] = "count", [CPUS_LIST] = "list",
        [CPUS_SHARED] = "shared", [CPUS_ALL] = "all",
};

static const char *table_to_string(const char *const *table, size_t n, int v) {
        return v >= 0 && (size_t)v < n ? table[v] : NULL;
}

/* Case-sensitive, as the file format is: "High" is a typo the hint catches. */
static int table_from_string(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int)i;
        return -1;
}

#define DEFINE_ENUM_STRINGS(name, type, table)                                                              \
        const char *name##_to_string(type v) {                                                              \
                return table_to_string(table, ELEMENTSOF(table), (int)v);                                   \
        }                                                                                                   \
        type name##_from_string(const char *s) {                                                            \
                return (type)table_from_string(table, ELEMENTSOF(table), s);                                \
        }

DEFINE_ENUM_STRINGS(priority, Priority, priority_table)

static const char *const protector_mode_table[_PROTECTOR_MAX] = {
        [PROTECTOR_AUTO] = "auto",
        [PROTECTOR_ON] = "on",
        [PROTECTOR_OFF] = "off",
};
DEFINE_ENUM_STRINGS(protector_mode, ProtectorMode, protector_mode_table)
DEFINE_ENUM_STRINGS(metric_agg, MetricAgg, metric_agg_table)
DEFINE_ENUM_STRINGS(run_order, RunOrder, run_order_table)
DEFINE_ENUM_STRINGS(backend_kind, BackendKind, backend_kind_table)
DEFINE_ENUM_STRINGS(smt_mode, SmtMode, smt_mode_table)
DEFINE_ENUM_STRINGS(numa_mode, NumaMode, numa_mode_table)

static const char *const gpu_share_mode_table[_GPU_MODE_MAX] = {
        [GPU_MODE_CAP] = "cap",
        [GPU_MODE_SHARE] = "share",
};
DEFINE_ENUM_STRINGS(gpu_share_mode, GpuShareMode, gpu_share_mode_table)

static const char *const gpu_via_table[_GPU_VIA_MAX] = {
        [GPU_VIA_SHIM] = "shim",
        [GPU_VIA_MPS] = "mps",
};
DEFINE_ENUM_STRINGS(gpu_via, GpuVia, gpu_via_table)

static const char *const gpu_request_kind_table[_GPUS_KIND_MAX] = {
        [GPUS_UNSET] = "unset", [GPUS_NONE] = "none", [GPUS_COUNT] = "count",
        [GPUS_LIST] = "list",   [GPUS_ANY] = "any",
};

const char *gpu_request_kind_to_string(GpuRequestKind k) {
        return table_to_string(gpu_request_kind_table, ELEMENTSOF(gpu_request_kind_table), (int)k);
}

const char *cpu_request_kind_to_string(CpuRequestKind k) {
        return table_to_string(cpu_request_kind_table, ELEMENTSOF(cpu_request_kind_table), (int)k);
}

#define J SCOPE_JOB
#define S SCOPE_SCENARIO
#define T SCOPE_TOP
#define SIZE "a size like 512M or 4GiB"
#define SIZE_MAX_ "a size like 512M or 4GiB, or max"
#define DURATION "a duration like 90s, 500ms or 1h30m, or infinity"
#define SHELL "a shell command"
const SpecKeyInfo spec_keys[_KEY_MAX] = {
        [KEY_CPUS] = {"cpus", "--cpus",
                      "a core count like 4, a CPU list like \"0-3,8\", {shared: \"0-1\"} or all", J | S},
        [KEY_SMT] = {"smt", "--smt", "together or separate", J | S},
        [KEY_MEMORY] = {"memory", "--memory", SIZE_MAX_, J | S},
        [KEY_MEMORY_HIGH] = {"memory_high", "--memory-high", SIZE_MAX_, J | S},
        [KEY_MEMORY_LOW] = {"memory_low", "--memory-low", SIZE, J | S},
        [KEY_MEMORY_MIN] = {"memory_min", "--memory-min", SIZE, J | S},
        [KEY_SWAP] = {"swap", "--swap", SIZE_MAX_, J | S},
        [KEY_PIDS] = {"pids", "--pids", "a process count from 1, or max", J | S},
        [KEY_CPU_WEIGHT] = {"cpu_weight", "--cpu-weight", "a weight from 1 to 10000", J | S},
        [KEY_CPU_MAX] = {"cpu_max", "--cpu-max", "a percentage of one CPU like 150 or \"150%\"", J | S},
        [KEY_CWD] = {"cwd", "--cwd", "a directory", J},
        [KEY_USER] = {"user", "--user", "a user name or uid", J},
        [KEY_GROUP] = {"group", "--group", "a group name or gid", J},
        [KEY_TIMEOUT] = {"timeout", "--timeout", DURATION, J},
        [KEY_CPU_TIMEOUT] = {"cpu_timeout", "--cpu-timeout", DURATION, J},
        [KEY_STOP_SIGNAL] = {"stop_signal", "--stop-signal", "a signal like TERM, SIGINT or 15", J},
        [KEY_GRACE] = {"grace", "--grace", "a duration like 10s or 500ms", J},
        [KEY_PRIORITY] = {"priority", "--priority", "high, normal or low", J | S},
        [KEY_GPUS] = {"gpus", "--gpus",
                      "a GPU count like 1, NVML indexes like \"0,2\", a list of GPU UUIDs, {count: 1, shared: "
                      "true}, 0 or any",
                      J | S},
        /* Flags only: in a file these are gpus: {share: 30, memory: 8G, mode: cap, via: shim}. */
        [KEY_GPU_SHARE] = {"share", "--gpu-share", "a percentage of one GPU's time like 30 or \"12.5%\"", 0},
        [KEY_GPU_MEMORY] = {"memory", "--gpu-memory", "a GPU memory size like 8G", 0},
        [KEY_GPU_MODE] = {"mode", "--gpu-mode", "cap or share", 0},
        [KEY_GPU_VIA] = {"via", "--gpu-via", "shim or mps", 0},
        [KEY_COMMAND] = {"command", NULL, "a list like [prog, arg] or a shell command string", J},
        [KEY_ENV] = {"env", "--env", "a mapping of NAME: value", J},
        [KEY_PHASES] = {"phases", NULL,
                        "a mapping of name: {start: regex, end: regex}, or a list of start patterns", J},
        [KEY_METRICS] = {"metrics", NULL, "a mapping of name: regex or name: {pattern: regex, agg: last}",
                         J},
        [KEY_TIMESTAMP] = {"timestamp", NULL, "{regex: regex, format: strptime format}", J},
        [KEY_IMAGE] = {"image", "--image", "a container image name like localhost/bench:1", J},
        [KEY_PULL] = {"pull", "--pull", "true or false", J},
        [KEY_CONTAINER] = {"container", NULL,
                           "{engine: podman|docker, volumes: [HOST:CTR[:ro]], workdir: DIR, options: [...]}",
                           J},
        [KEY_NAME] = {"name", "--name", "a name of letters, digits, '_', '.' and '-'", T},
        [KEY_DEFAULTS] = {"defaults", NULL, "a mapping of job keys", T},
        [KEY_JOBS] = {"jobs", NULL, "a mapping of job name: job", T | S},
        [KEY_SCENARIOS] = {"scenarios", NULL, "a mapping of scenario name: scenario", T},
        [KEY_REPEAT] = {"repeat", "--repeat", "a count from 1 to 100000", T},
        [KEY_WARMUP] = {"warmup", "--warmup", "a count of runs from 0 to 100", T},
        [KEY_ORDER] = {"order", "--order", "interleaved, sequential or random", T},
        [KEY_SEED] = {"seed", "--seed", "a non-negative integer", T},
        [KEY_RESULTS] = {"results", "--results", "a directory", T},
        [KEY_SAMPLE_INTERVAL] = {"sample_interval", "--sample-interval",
                                 "a duration from 1ms like 200ms or 1s", T},
        [KEY_RESERVE] = {"reserve", "--reserve", "a core count from 0", T},
        [KEY_NUMA] = {"numa", "--numa", "local, spread or interleave", T},
        [KEY_BACKEND] = {"backend", "--backend", "auto, v2, v1 or none", T},
        [KEY_SLICE] = {"slice", "--slice", "a systemd slice name like benchmarks.slice", T},
        [KEY_KEEP] = {"keep", "--keep", "true or false", T},
        [KEY_PREFLIGHT] = {"preflight", "--preflight", SHELL, T},
        [KEY_PROTECTOR] = {"protector", "--protector", "auto, on or off", T},
        [KEY_PROTECTOR_THRESHOLD] = {"protector_threshold", "--protector-threshold",
                                     "a percentage of time stalled from 0 to 100 like 10%", T},
        [KEY_PROTECTOR_QUANTUM] = {"protector_quantum", "--protector-quantum",
                                   "a duration from 10ms to 60s like 2s or 500ms", T},
        [KEY_PROTECTOR_MAX_THROTTLE] = {"protector_max_throttle", "--protector-max-throttle",
                                        "a percentage from 1 to 99 like 80%", T},
        [KEY_PROTECTOR_INTERVAL] = {"protector_interval", "--protector-interval",
                                    "a duration from 10ms to 10s like 100ms", T},
        [KEY_SOLO] = {"solo", "--solo", "true or false", T | S},
        [KEY_SETUP] = {"setup", "--setup", SHELL, T | S},
        [KEY_PREPARE] = {"prepare", "--prepare", SHELL, T | S},
        [KEY_CONCLUDE] = {"conclude", "--conclude", SHELL, T | S},
        [KEY_CLEANUP] = {"cleanup", "--cleanup", SHELL, T | S},
        [KEY_REPLICAS] = {"replicas", "--replicas", "a copy count from 1 to 1024, or a list of them", S},
        [KEY_MATRIX] = {"matrix", NULL, "a mapping of parameter: [values]", S},
        [KEY_MEMORY_TOTAL] = {"memory_total", "--memory-total", SIZE_MAX_, S},
        [KEY_ALLOWED_CPUS] = {"allowed_cpus", "--allowed-cpus", "a CPU list like \"0-3,8\"", S},
};
#undef J
#undef S
#undef T

SpecKey spec_key_lookup(const char *name, SpecScope scope) {
        for (size_t k = 0; k < _KEY_MAX; k++)
                if ((spec_keys[k].scopes & scope) && streq(spec_keys[k].name, name))
                        return (SpecKey)k;
        return _KEY_INVALID;
}

/* Restricted Damerau-Levenshtein (optimal string alignment): a swapped pair of letters
 * ("memroy") is one edit, the most common typo. Long inputs are not typos. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return SIZE_MAX;
        size_t d[65][65];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] != b[j - 1];
                        size_t v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
                        v = MIN(v, d[i - 1][j - 1] + cost);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                v = MIN(v, d[i - 2][j - 2] + 1);
                        d[i][j] = v;
                }
        return d[la][lb];
}

const char *spec_closest(const char *word, const char *const *candidates, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                if (!candidates[i])
                        continue;
                size_t d = edit_distance(word, candidates[i]);
                if (d < best_d) {
                        best_d = d;
                        best = candidates[i];
                }
        }
        /* One edit for short words, two from five letters on: beyond that the "hint" is
         * more often wrong than right ("env" is not a typo of "cwd"). */
        size_t len = strlen(word);
        size_t limit = len >= 5 ? 2 : 1;
        if (!best || best_d > limit || best_d >= len)
                return NULL;
        return best;
}

const char *spec_key_suggest(const char *name, SpecScope scope) {
        const char *candidates[_KEY_MAX];
        size_t n = 0;
        for (size_t k = 0; k < _KEY_MAX; k++)
                if (spec_keys[k].scopes & scope)
                        candidates[n++] = spec_keys[k].name;
        return spec_closest(name, candidates, n);
}

const char *spec_key_list(SpecScope scope, char *buf, size_t n) {
        size_t len = 0;
        if (n > 0)
                buf[0] = '\0';
        for (size_t k = 0; k < _KEY_MAX; k++) {
                if (!(spec_keys[k].scopes & scope))
                        continue;
                int w = snprintf(buf + len, n > len ? n - len : 0, "%s%s", len ? ", " : "",
                                 spec_keys[k].name);
                if (w < 0 || len + (size_t)w >= n)
                        break;
                len += (size_t)w;
        }
        return buf;
}

const char *spec_quote(const char *text, char *buf, size_t n) {
        size_t len = 0, i = 0;
        if (n < 8) {
                if (n > 0)
                        buf[0] = '\0';
                return buf;
        }
        buf[len++] = '\'';
        for (; text && text[i] && len + 5 < n; i++)
                buf[len++] = isprint((unsigned char)text[i]) ? text[i] : '?';
        if (text && text[i]) {
                memcpy(buf + len, "...", 3);
                len += 3;
        }
        buf[len++] = '\'';
        buf[len] = '\0';
        return buf;
}

const char *spec_pos_format(const SpecPos *pos, char *buf, size_t n) {
        if (pos && pos->file && pos->line > 0)
                snprintf(buf, n, "%s:%u:%u: ", pos->file, pos->line, pos->col);
        else if (pos && pos->flag)
                snprintf(buf, n, "%s: ", pos->flag);
        else if (n > 0)
                buf[0] = '\0';
        return buf;
}

int spec_fail(SpecError *e, const SpecPos *pos, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        char prefix[SPEC_POS_MAX];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (!e)
                return -EINVAL;
        free(e->message);
        if (asprintf(&e->message, "%s%s", spec_pos_format(pos, prefix, sizeof prefix), msg) < 0) {
                e->message = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

int spec_fail_key(SpecError *e, const SpecPos *pos, SpecKey key, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        /* A flag already names the setting in the prefix ("--memory: ..."). */
        if (pos && pos->flag && !pos->file)
                return spec_fail(e, pos, "%s", msg);
        return spec_fail(e, pos, "%s: %s", spec_keys[key].name, msg);
}

int spec_fail_value(SpecError *e, const SpecPos *pos, SpecKey key, const char *got) {
        char q[SPEC_QUOTE_MAX];
        return spec_fail_key(e, pos, key, "expected %s, got %s", spec_keys[key].expect,
                             spec_quote(got, q, sizeof q));
}

static bool name_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-';
}

bool spec_name_is_valid(const char *s) {
        if (isempty(s) || streq(s, ".") || streq(s, ".."))
                return false;
        size_t n = 0;
        for (; s[n]; n++)
                if (!name_char_ok(s[n]) || n >= SPEC_MAX_NAME)
                        return false;
        return true;
}

char *spec_name_sanitize(const char *s) {
        size_t n = s ? strnlen(s, SPEC_MAX_NAME) : 0;
        char *r = malloc(MAX(n, (size_t)3) + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++)
                r[i] = name_char_ok(s[i]) ? s[i] : '_';
        r[n] = '\0';
        if (!spec_name_is_valid(r))
                strcpy(r, "job");
        return r;
}

void limits_init(Limits *l) {
        *l = (Limits){
                .memory_max = LIMIT_MAX,
                .memory_high = LIMIT_MAX,
                .memory_low = 0,
                .memory_min = 0,
                .swap_max = 0,
                .pids_max = 4096,
        };
}

void job_spec_init(JobSpec *j) {
        *j = (JobSpec){
                .timeout_usec = USEC_INFINITY,
                .cpu_timeout_usec = USEC_INFINITY,
                .stop_signal = SIGTERM,
                .grace_usec = 10 * USEC_PER_SEC,
        };
        limits_init(&j->limits);
}

void scenario_spec_init(ScenarioSpec *sc) {
        *sc = (ScenarioSpec){.memory_total = LIMIT_MAX};
        limits_init(&sc->limits);
}

void spec_init(Spec *s) {
        *s = (Spec){
                .repeat = 1,
                .order = ORDER_INTERLEAVED,
                .sample_interval_usec = 200 * USEC_PER_MSEC,
                .numa = NUMA_LOCAL,
                .backend = BACKEND_AUTO,
                .protector = {.mode = PROTECTOR_AUTO,
                              .threshold = 0.10,
                              .quantum_usec = 2 * USEC_PER_SEC,
                              .max_share = 0.80,
                              .interval_usec = 100 * USEC_PER_MSEC},
        };
}

char **spec_strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}

size_t spec_strv_length(char *const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

int spec_strv_push(char ***v, size_t *n, const char *s, size_t len) {
        char *c = strndup(s, len);
        if (!c)
                return -ENOMEM;
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(c);
                return -ENOMEM;
        }
        nv[(*n)++] = c;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

int spec_strdup_replace(char **dst, const char *src) {
        char *c = NULL;
        if (src && !(c = strdup(src)))
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

void hooks_done(Hooks *h) {
        free(h->setup);
        free(h->prepare);
        free(h->conclude);
        free(h->cleanup);
        *h = (Hooks){0};
}

void limits_done(Limits *l) {
        free(l->gpus.list);
        l->gpus.list = NULL;
}

void job_spec_done(JobSpec *j) {
        limits_done(&j->limits);
        free(j->name);
        spec_strv_free(j->argv);
        free(j->command_text);
        spec_strv_free(j->env);
        free(j->cwd);
        free(j->user);
        free(j->group);
        for (size_t i = 0; i < j->n_phases; i++) {
                free(j->phases[i].name);
                free(j->phases[i].start);
                free(j->phases[i].end);
        }
        free(j->phases);
        for (size_t i = 0; i < j->n_metrics; i++) {
                free(j->metrics[i].name);
                free(j->metrics[i].pattern);
        }
        free(j->metrics);
        free(j->timestamp.regex);
        free(j->timestamp.format);
        container_spec_done(&j->container);
        *j = (JobSpec){0};
}

void scenario_spec_done(ScenarioSpec *sc) {
        limits_done(&sc->limits);
        free(sc->name);
        spec_strv_free(sc->jobs);
        free(sc->replicas);
        for (size_t i = 0; i < sc->n_matrix; i++) {
                free(sc->matrix[i].name);
                spec_strv_free(sc->matrix[i].values);
        }
        free(sc->matrix);
        hooks_done(&sc->hooks);
        *sc = (ScenarioSpec){0};
}

Spec *spec_free(Spec *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_jobs; i++)
                job_spec_done(&s->jobs[i]);
        free(s->jobs);
        for (size_t i = 0; i < s->n_scenarios; i++)
                scenario_spec_done(&s->scenarios[i]);
        free(s->scenarios);
        free(s->name);
        free(s->results_dir);
        free(s->preflight);
        free(s->export_json);
        free(s->export_csv);
        free(s->export_markdown);
        free(s->slice);
        hooks_done(&s->hooks);
        free(s->file);
        free(s);
        return NULL;
}

const JobSpec *spec_find_job(const Spec *s, const char *name) {
        if (!s || !name)
                return NULL;
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].name && streq(s->jobs[i].name, name))
                        return &s->jobs[i];
        return NULL;
}

void spec_error_done(SpecError *e) {
        if (!e)
                return;
        free(e->message);
        e->message = NULL;
}
