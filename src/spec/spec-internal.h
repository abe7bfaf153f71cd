/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the YAML reader (spec-yaml.c) and quick mode (spec-cli.c): the key table,
 * the value parsers with their messages, and the constructors/destructors. Not part of
 * the contract: other modules include spec.h only. */

#include <stdarg.h>

#include "spec/spec.h"
#include "util/macros.h"

/* Bounds on what a file or a command line can make us allocate: a hostile or mistyped
 * file fails with a message instead of eating memory. */
#define SPEC_MAX_JOBS 10000
#define SPEC_MAX_SCENARIOS 10000
#define SPEC_MAX_ARGV 4096
#define SPEC_MAX_ENV 1024
#define SPEC_MAX_PHASES 256
#define SPEC_MAX_METRICS 256
#define SPEC_MAX_REPLICAS 1024 /* both the largest value and the longest list */
#define SPEC_MAX_MATRIX_PARAMS 64
#define SPEC_MAX_MATRIX_VALUES 10000
#define SPEC_MAX_REPEAT 100000
#define SPEC_MAX_STRING 65536 /* bytes in one string (a command line, a pattern) */
#define SPEC_MAX_NAME 100     /* job, scenario and run names: they become cgroup names */
/* defaults: is copied into every job: its size times the number of jobs is bounded, or
 * a small file could expand into millions of allocations. */
#define SPEC_MAX_DEFAULTS_EXPANSION 2000000
/* Job names listed by all scenarios together (each becomes at least one job instance of
 * the plan, which has its own, lower, bound). */
#define SPEC_MAX_SCENARIO_JOBS 100000

/* Every key of the file format. The same key can be valid in several places (scopes). */
typedef enum SpecKey {
        /* limits: job, defaults and scenario */
        KEY_CPUS,
        KEY_SMT,
        KEY_MEMORY,
        KEY_MEMORY_HIGH,
        KEY_MEMORY_LOW,
        KEY_MEMORY_MIN,
        KEY_SWAP,
        KEY_PIDS,
        KEY_CPU_WEIGHT,
        KEY_CPU_MAX,
        KEY_PRIORITY, /* a limit: scenarios override it like the others */
        KEY_GPUS,
        KEY_GPU_SHARE,  /* --gpu-share: quick mode's gpus: {share: N} */
        KEY_GPU_MEMORY, /* --gpu-memory */
        KEY_GPU_MODE,   /* --gpu-mode */
        KEY_GPU_VIA,    /* --gpu-via */
        /* job scalars */
        KEY_CWD,
        KEY_USER,
        KEY_GROUP,
        KEY_TIMEOUT,
        KEY_CPU_TIMEOUT,
        KEY_STOP_SIGNAL,
        KEY_GRACE,
        KEY_IMAGE,
        KEY_PULL,
        /* job, structured */
        KEY_COMMAND,
        KEY_ENV,
        KEY_PHASES,
        KEY_METRICS,
        KEY_TIMESTAMP,
        KEY_CONTAINER,
        /* run level */
        KEY_NAME,
        KEY_DEFAULTS,
        KEY_JOBS, /* also a scenario key: its list of job names */
        KEY_SCENARIOS,
        KEY_REPEAT,
        KEY_WARMUP,
        KEY_ORDER,
        KEY_SEED,
        KEY_RESULTS,
        KEY_SAMPLE_INTERVAL,
        KEY_RESERVE,
        KEY_NUMA,
        KEY_BACKEND,
        KEY_SLICE,
        KEY_KEEP,
        KEY_PREFLIGHT,
        KEY_PROTECTOR,
        KEY_PROTECTOR_THRESHOLD,
        KEY_PROTECTOR_QUANTUM,
        KEY_PROTECTOR_MAX_THROTTLE,
        KEY_PROTECTOR_INTERVAL,
        KEY_SOLO, /* run level (every scenario) and scenario */
        /* hooks: run level and scenario */
        KEY_SETUP,
        KEY_PREPARE,
        KEY_CONCLUDE,
        KEY_CLEANUP,
        /* scenario only */
        KEY_REPLICAS,
        KEY_MATRIX,
        KEY_MEMORY_TOTAL,
        KEY_ALLOWED_CPUS,
        _KEY_MAX,
        _KEY_INVALID = -1,
} SpecKey;

typedef enum SpecScope {
        SCOPE_TOP = 1 << 0,
        SCOPE_JOB = 1 << 1, /* jobs and defaults: */
        SCOPE_SCENARIO = 1 << 2,
} SpecScope;

typedef struct SpecKeyInfo {
        const char *name;   /* the YAML key */
        const char *flag;   /* its quick-mode twin, or NULL */
        const char *expect; /* "a size like 512M or 4GiB": completes "expected ..." */
        unsigned scopes;    /* SpecScope bits */
} SpecKeyInfo;

extern const SpecKeyInfo spec_keys[_KEY_MAX];

static inline bool spec_key_is_limit(SpecKey k) {
        return k >= KEY_CPUS && k <= KEY_GPU_VIA;
}
static inline bool spec_key_is_job_scalar(SpecKey k) {
        return k >= KEY_CWD && k <= KEY_PULL;
}
static inline bool spec_key_is_hook(SpecKey k) {
        return k >= KEY_SETUP && k <= KEY_CLEANUP;
}

/* The key called `name` valid in `scope`, or _KEY_INVALID. */
SpecKey spec_key_lookup(const char *name, SpecScope scope);
/* The valid key of `scope` closest to `name` when it looks like a typo, else NULL. */
const char *spec_key_suggest(const char *name, SpecScope scope);
/* The candidate closest to `word` (restricted Damerau-Levenshtein), when close enough to
 * be a typo of it; NULL otherwise. */
const char *spec_closest(const char *word, const char *const *candidates, size_t n);
/* "a, b, c" of the keys valid in `scope`, into buf. */
const char *spec_key_list(SpecScope scope, char *buf, size_t n);

/* Fills *e with "file:line:col: msg" (or "--flag: msg", or "msg" when pos is NULL or
 * empty) and returns -EINVAL (-ENOMEM when even that fails). Replaces an earlier message. */
int spec_fail(SpecError *e, const SpecPos *pos, const char *fmt, ...) _printf_(3, 4);
/* The common "<key>: expected <expect>, got '<text>'" (the key is left out for a flag,
 * which the prefix already names). */
int spec_fail_value(SpecError *e, const SpecPos *pos, SpecKey key, const char *got);
/* "<key>: msg" (just "msg" after a flag's prefix). */
int spec_fail_key(SpecError *e, const SpecPos *pos, SpecKey key, const char *fmt, ...) _printf_(4, 5);
/* "'text'" made printable and cut to a sane length, for messages. */
const char *spec_quote(const char *text, char *buf, size_t n);
#define SPEC_QUOTE_MAX 80

/* Names that end up as cgroup and file names: [A-Za-z0-9_.-]+, not "." or "..",
 * at most SPEC_MAX_NAME bytes. '#' is reserved for replica suffixes. */
bool spec_name_is_valid(const char *s);
/* Makes a valid name of anything (basename of a command): bad bytes become '_'. */
char *spec_name_sanitize(const char *s);

void spec_init(Spec *s);
void job_spec_init(JobSpec *j);
void limits_init(Limits *l);
void scenario_spec_init(ScenarioSpec *sc);
void job_spec_done(JobSpec *j);
void scenario_spec_done(ScenarioSpec *sc);
void hooks_done(Hooks *h);

char **spec_strv_free(char **v);
size_t spec_strv_length(char *const *v);
/* Appends a copy of s (len bytes) to the NULL-terminated *v of length *n. */
int spec_strv_push(char ***v, size_t *n, const char *s, size_t len);
/* Replaces *dst by a copy of src; frees the old value. */
int spec_strdup_replace(char **dst, const char *src);

/* Setters shared by the file and the flags. `text` is the scalar as written; `plain`
 * says it was an unquoted YAML scalar (or a flag), which decides `cpus: 2` (a count)
 * versus `cpus: "2"` (CPU 2). On error they fill *e (naming pos and the key). */
int spec_limit_set(Limits *l, SpecKey key, const char *text, bool plain, const SpecPos *pos, SpecError *e);
int spec_cpus_set_shared(CpuRequest *c, const char *text, const SpecPos *pos, SpecError *e);
/* gpus: N, "0,2", "GPU-...,GPU-...", any, 0, and (flags) "shared:N"; replaces *g. */
int spec_gpus_set(GpuRequest *g, const char *text, bool plain, const SpecPos *pos, SpecError *e);
/* One of a GPU request's limits: share (KEY_GPU_SHARE: "30", "30%", "12.5"), memory
 * (KEY_GPU_MEMORY: a size), mode (KEY_GPU_MODE), via (KEY_GPU_VIA). A request without
 * GPUs becomes one GPU; a share makes it shared unless shared: false was written. */
int spec_gpus_set_limit(GpuRequest *g, SpecKey key, const char *text, const SpecPos *pos, SpecError *e);
/* The request's limits make sense together (mode share and via mps need a share; no
 * limit on gpus: any or 0). Errors at the request's position. */
int spec_gpus_check(const GpuRequest *g, SpecError *e);
void limits_done(Limits *l);
int spec_job_set(JobSpec *j, SpecKey key, const char *text, bool plain, const SpecPos *pos, SpecError *e);
/* Sets run-level scalar keys (name, repeat, order, seed, results, sample_interval,
 * reserve, numa, backend, keep, preflight, hooks). */
int spec_run_set(Spec *s, SpecKey key, const char *text, const SpecPos *pos, SpecError *e);
int spec_scenario_set(ScenarioSpec *sc, SpecKey key, const char *text, bool plain, const SpecPos *pos,
                      SpecError *e);
int spec_parse_bool(const char *text, bool *ret);
/* The run-level hook or scenario hook field for a hook key. */
char **spec_hook_field(Hooks *h, SpecKey key);

/* command: as a shell line -> {"/bin/sh", "-c", text}. */
int spec_job_set_shell_command(JobSpec *j, const char *text, const SpecPos *pos, SpecError *e);
/* command: as an exact argv (copied); command_text is its display form. */
int spec_job_set_argv(JobSpec *j, char *const *argv, size_t n, const SpecPos *pos, SpecError *e);
/* Adds KEY=value to j->env; with `replace`, an earlier KEY is replaced in place (a later
 * value wins: defaults, then the job, then --env). Without it the caller knows KEY is
 * new, which saves a quadratic search over large env: maps. */
int spec_job_env_set(JobSpec *j, const char *key, const char *value, bool replace, const SpecPos *pos,
                     SpecError *e);

/* container: {engine, volumes, workdir, options} of a job or defaults: (spec-container.c).
 * The keys given replace those already in *c; the others stay (defaults: then the job). */
struct Node;
int spec_container_parse(const char *file, const struct Node *val, ContainerSpec *c, bool from_defaults,
                         SpecError *e);
/* engine: and a volume "HOST:CTR[:ro]" (also --engine and --volume). */
int spec_container_set_engine(ContainerSpec *c, const char *text, const SpecPos *pos, SpecError *e);
int spec_container_add_volume(ContainerSpec *c, const char *text, const SpecPos *pos, SpecError *e);
/* The image: a name that cannot be taken for an option or split into two words. */
int spec_container_set_image(ContainerSpec *c, const char *text, const SpecPos *pos, SpecError *e);
void container_spec_done(ContainerSpec *c);

/* Checks a job once all its sources are applied (a command is present, ...). */
int spec_job_finish(JobSpec *j, SpecError *e);

/* Splits a command line on blanks with '' and "" quoting and backslash escapes (no
 * expansion of anything). -EINVAL for an unterminated quote. */
int spec_split_words(const char *s, char ***ret, size_t *ret_n);
