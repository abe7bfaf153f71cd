/* SPDX-License-Identifier: MIT */
/* Quick mode: `corun run [flags] 'cmd a' 'cmd b'`, `-- CMD ARG...` or `FILE.yaml`.
 * A small parser of our own instead of getopt_long: it keeps no global state (tests call
 * it many times in one process), reports errors as values, and lets options and
 * command strings mix in any order before "--". */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec-internal.h"

typedef enum FlagSpecial {
        FLAG_KEY,      /* an ordinary key of the file format: see .key */
        FLAG_SHARED,   /* cpus: {shared: LIST} */
        FLAG_ENV,      /* KEY=VALUE, repeatable */
        FLAG_NO_SHELL, /* -N */
        FLAG_JOB_NAME, /* repeatable */
        FLAG_VERBOSE,
        FLAG_QUIET,
        FLAG_JSON,
        FLAG_FILE, /* -f FILE */
        FLAG_EXPORT_JSON, /* hyperfine's --export-*: a copy of the result file */
        FLAG_EXPORT_CSV,
        FLAG_EXPORT_MARKDOWN,
        FLAG_IGNORE_FAILURE, /* -i */
        FLAG_SHOW_OUTPUT,
        FLAG_STYLE,
        FLAG_PARAM_LIST, /* -L NAME V1,V2 (hyperfine): a matrix parameter, {NAME} in commands */
        FLAG_ENGINE, /* container: {engine: E} */
        FLAG_VOLUME, /* container: {volumes: [V]}, repeatable */
} FlagSpecial;

typedef struct Flag {
        const char *name; /* "--cpus": also what messages name */
        char short_name;
        bool arg;
        FlagSpecial special;
        SpecKey key;
        const char *expect; /* for flags without a key */
} Flag;

#define K(long_, short_, key_)                                                                              \
        { long_, short_, true, FLAG_KEY, key_, NULL }
#define B(long_, short_, special_)                                                                          \
        { long_, short_, false, special_, _KEY_INVALID, NULL }
static const Flag flags[] = {
        K("--cpus", 'c', KEY_CPUS),
        K("--smt", 0, KEY_SMT),
        K("--memory", 'm', KEY_MEMORY),
        K("--memory-high", 0, KEY_MEMORY_HIGH),
        K("--memory-low", 0, KEY_MEMORY_LOW),
        K("--memory-min", 0, KEY_MEMORY_MIN),
        K("--swap", 0, KEY_SWAP),
        K("--pids", 0, KEY_PIDS),
        K("--cpu-weight", 0, KEY_CPU_WEIGHT),
        K("--cpu-max", 0, KEY_CPU_MAX),
        K("--cwd", 0, KEY_CWD),
        K("--user", 0, KEY_USER),
        K("--group", 0, KEY_GROUP),
        K("--timeout", 't', KEY_TIMEOUT),
        K("--cpu-timeout", 0, KEY_CPU_TIMEOUT),
        K("--stop-signal", 0, KEY_STOP_SIGNAL),
        K("--grace", 0, KEY_GRACE),
        K("--priority", 0, KEY_PRIORITY),
        K("--gpus", 0, KEY_GPUS),
        K("--gpu-share", 0, KEY_GPU_SHARE),
        K("--gpu-memory", 0, KEY_GPU_MEMORY),
        K("--gpu-mode", 0, KEY_GPU_MODE),
        K("--gpu-via", 0, KEY_GPU_VIA),
        K("--image", 0, KEY_IMAGE),
        {"--pull", 0, false, FLAG_KEY, KEY_PULL, NULL},
        {"--engine", 0, true, FLAG_ENGINE, _KEY_INVALID, "podman or docker"},
        {"--volume", 0, true, FLAG_VOLUME, _KEY_INVALID, "HOST:CONTAINER[:ro]"},
        K("--name", 'n', KEY_NAME),
        K("--repeat", 0, KEY_REPEAT),
        K("--runs", 0, KEY_REPEAT), /* hyperfine's name */
        K("--warmup", 'w', KEY_WARMUP),
        K("--order", 0, KEY_ORDER),
        K("--seed", 0, KEY_SEED),
        K("--results", 'o', KEY_RESULTS),
        K("--sample-interval", 0, KEY_SAMPLE_INTERVAL),
        K("--reserve", 0, KEY_RESERVE),
        K("--numa", 0, KEY_NUMA),
        K("--backend", 0, KEY_BACKEND),
        K("--slice", 0, KEY_SLICE),
        {"--keep", 0, false, FLAG_KEY, KEY_KEEP, NULL},
        K("--preflight", 0, KEY_PREFLIGHT),
        K("--protector", 0, KEY_PROTECTOR),
        K("--protector-threshold", 0, KEY_PROTECTOR_THRESHOLD),
        K("--protector-quantum", 0, KEY_PROTECTOR_QUANTUM),
        K("--protector-max-throttle", 0, KEY_PROTECTOR_MAX_THROTTLE),
        K("--protector-interval", 0, KEY_PROTECTOR_INTERVAL),
        {"--solo", 0, false, FLAG_KEY, KEY_SOLO, NULL},
        K("--setup", 0, KEY_SETUP),
        K("--prepare", 0, KEY_PREPARE),
        K("--conclude", 0, KEY_CONCLUDE),
        K("--cleanup", 0, KEY_CLEANUP),
        K("--replicas", 0, KEY_REPLICAS),
        K("--memory-total", 0, KEY_MEMORY_TOTAL),
        K("--allowed-cpus", 0, KEY_ALLOWED_CPUS),
        {"--shared", 0, true, FLAG_SHARED, _KEY_INVALID, "a CPU list like \"0-1\""},
        {"--env", 0, true, FLAG_ENV, _KEY_INVALID, "KEY=VALUE"},
        B("--no-shell", 'N', FLAG_NO_SHELL),
        {"--job-name", 0, true, FLAG_JOB_NAME, _KEY_INVALID, "a job name"},
        B("--verbose", 'v', FLAG_VERBOSE),
        B("--quiet", 'q', FLAG_QUIET),
        B("--json", 0, FLAG_JSON),
        {"--file", 'f', true, FLAG_FILE, _KEY_INVALID, "a scenario file"},
        {"--export-json", 0, true, FLAG_EXPORT_JSON, _KEY_INVALID, "a file name"},
        {"--export-csv", 0, true, FLAG_EXPORT_CSV, _KEY_INVALID, "a file name"},
        {"--export-markdown", 0, true, FLAG_EXPORT_MARKDOWN, _KEY_INVALID, "a file name"},
        B("--ignore-failure", 'i', FLAG_IGNORE_FAILURE),
        B("--show-output", 0, FLAG_SHOW_OUTPUT),
        {"--style", 0, true, FLAG_STYLE, _KEY_INVALID, "full, basic, nocolor, color or none"},
        {"--parameter-list", 'L', true, FLAG_PARAM_LIST, _KEY_INVALID, "NAME VALUE,VALUE,... (or NAME=VALUE,...)"},
};
#undef K
#undef B

typedef struct CliOpt {
        const Flag *flag;
        const char *value;  /* NULL for switches */
        const char *value2; /* -L NAME VALUES: the values (value is the name) */
} CliOpt;

typedef struct CliArgs {
        CliOpt *opts;
        size_t n_opts;
        int *positional; /* indexes into argv */
        size_t n_positional;
        int file_index; /* -1: quick mode */
        int dashdash;   /* index of the first argument after "--", or -1 */
        bool no_shell;
        size_t n_job_names;
} CliArgs;

static void cli_args_done(CliArgs *a) {
        free(a->opts);
        free(a->positional);
        *a = (CliArgs){0};
}

static const char *flag_expect(const Flag *f) {
        return f->special == FLAG_KEY ? spec_keys[f->key].expect : f->expect;
}

static const Flag *flag_by_long(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (strlen(flags[i].name + 2) == len && strneq(flags[i].name + 2, name, len))
                        return &flags[i];
        return NULL;
}

static const Flag *flag_by_short(char c) {
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (flags[i].short_name == c)
                        return &flags[i];
        return NULL;
}

static int fail_unknown_flag(SpecError *e, const char *arg, size_t len) {
        const char *candidates[ELEMENTSOF(flags)];
        char q[SPEC_QUOTE_MAX];
        _cleanup_free_ char *word = strndup(arg, len);
        if (!word)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                candidates[i] = flags[i].name + 2;
        const char *hint =
                strneq(word, "--", 2) ? spec_closest(word + 2, candidates, ELEMENTSOF(flags)) : NULL;
        if (hint)
                return spec_fail(e, NULL, "unknown flag %s; did you mean '--%s'?",
                                 spec_quote(word, q, sizeof q), hint);
        return spec_fail(e, NULL,
                         "unknown flag %s (see corun run --help; put a command that starts with '-' "
                         "after --)",
                         spec_quote(word, q, sizeof q));
}

static int add_opt(CliArgs *a, const Flag *f, const char *value, SpecError *e) {
        CliOpt *n = realloc(a->opts, (a->n_opts + 1) * sizeof(CliOpt));
        if (!n)
                return -ENOMEM;
        a->opts = n;
        a->opts[a->n_opts++] = (CliOpt){f, value};
        if (f->special == FLAG_NO_SHELL)
                a->no_shell = true;
        if (f->special == FLAG_JOB_NAME)
                a->n_job_names++;
        return 0;
}

/* A flag that takes a value: from "--flag=value" / "-fvalue", else the next argument. */
static int take_value(CliArgs *a, const Flag *f, const char *attached, int argc, char **argv, int *i,
                      SpecError *e) {
        SpecPos pos = {.flag = f->name};
        if (f->special == FLAG_FILE) {
                /* The CLI reads argv[file_index] as the path: it must be an argument of its own. */
                if (attached)
                        return spec_fail(e, &pos, "give the file as an argument of its own: -f FILE");
                if (*i + 1 >= argc)
                        return spec_fail(e, &pos, "expected %s, got nothing", flag_expect(f));
                if (a->file_index >= 0)
                        return spec_fail(e, &pos, "only one scenario file can be given");
                a->file_index = ++*i;
                return 0;
        }
        if (!attached) {
                if (*i + 1 >= argc)
                        return spec_fail(e, &pos, "expected %s, got nothing", flag_expect(f));
                attached = argv[++*i];
        }
        /* -L NAME VALUES takes two arguments, as hyperfine's does (NAME=VALUES is one) */
        if (f->special == FLAG_PARAM_LIST && !strchr(attached, '=')) {
                if (*i + 1 >= argc)
                        return spec_fail(e, &pos, "expected %s, got only the name %s", flag_expect(f), attached);
                int r = add_opt(a, f, attached, e);
                if (r >= 0)
                        a->opts[a->n_opts - 1].value2 = argv[++*i];
                return r;
        }
        return add_opt(a, f, attached, e);
}

int spec_cli_flag_values(const char *arg) {
        const Flag *f = NULL;
        if (strneq(arg, "--", 2) && !strchr(arg, '='))
                f = flag_by_long(arg + 2, strlen(arg) - 2);
        else if (arg[0] == '-' && arg[1] && !arg[2])
                f = flag_by_short(arg[1]);
        if (!f || !f->arg)
                return 0;
        return f->special == FLAG_PARAM_LIST ? 2 : 1;
}

static bool is_scenario_path(const char *s) {
        size_t n = strlen(s);
        if (strpbrk(s, " \t\n"))
                return false;
        return (n > 5 && streq(s + n - 5, ".yaml")) || (n > 4 && streq(s + n - 4, ".yml"));
}

static const char usage_hint[] = "usage: corun run [OPTIONS] 'cmd a' ['cmd b' ...] | corun run [OPTIONS] -- "
                                 "CMD [ARG...] | corun run [OPTIONS] FILE.yaml (see corun run --help)";

static int cli_parse(int argc, char **argv, CliArgs *a, SpecError *e) {
        int r;

        *a = (CliArgs){.file_index = -1, .dashdash = -1};
        if (argc < 1 || !argv)
                return spec_fail(e, NULL, "no command given; %s", usage_hint);
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];
                if (!arg)
                        break;
                if (streq(arg, "--")) {
                        a->dashdash = i + 1;
                        break;
                }
                if (strneq(arg, "--", 2)) {
                        const char *eq = strchr(arg, '=');
                        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
                        const Flag *f = flag_by_long(arg + 2, len - 2);
                        if (!f)
                                return fail_unknown_flag(e, arg, len);
                        if (f->arg)
                                r = take_value(a, f, eq ? eq + 1 : NULL, argc, argv, &i, e);
                        else if (eq) {
                                SpecPos pos = {.flag = f->name};
                                r = spec_fail(e, &pos, "takes no value");
                        } else
                                r = add_opt(a, f, NULL, e);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (arg[0] == '-' && arg[1] != '\0') {
                        /* A group of short flags: "-qN", "-c2", "-m 512M". */
                        for (const char *p = arg + 1; *p; p++) {
                                const Flag *f = flag_by_short(*p);
                                char bad[3] = {'-', *p, '\0'};
                                if (!f)
                                        return fail_unknown_flag(e, bad, 2);
                                if (f->arg) {
                                        r = take_value(a, f, p[1] ? p + 1 : NULL, argc, argv, &i, e);
                                        if (r < 0)
                                                return r;
                                        break;
                                }
                                r = add_opt(a, f, NULL, e);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                int *n = realloc(a->positional, (a->n_positional + 1) * sizeof(int));
                if (!n)
                        return -ENOMEM;
                a->positional = n;
                a->positional[a->n_positional++] = i;
        }

        size_t n_commands = 0;
        int first_command = -1;
        for (size_t k = 0; k < a->n_positional; k++) {
                int i = a->positional[k];
                if (is_scenario_path(argv[i])) {
                        if (a->file_index >= 0)
                                return spec_fail(e, NULL, "two scenario files (%s and %s); give one",
                                                 argv[a->file_index], argv[i]);
                        a->file_index = i;
                } else {
                        if (first_command < 0)
                                first_command = i;
                        n_commands++;
                }
        }
        bool has_dashdash_args = a->dashdash >= 0 && a->dashdash < argc;
        if (a->file_index >= 0 && (n_commands > 0 || a->dashdash >= 0)) {
                char q[SPEC_QUOTE_MAX];
                return spec_fail(e, NULL,
                                 "a scenario file (%s) cannot be mixed with commands (%s); put the "
                                 "commands into the file's jobs:",
                                 argv[a->file_index],
                                 spec_quote(first_command >= 0 ? argv[first_command] : "--", q, sizeof q));
        }
        if (a->dashdash >= 0 && n_commands > 0)
                return spec_fail(e, NULL,
                                 "command strings and '-- CMD ARG...' cannot be mixed; quote each "
                                 "command as a string, or give one command after --");
        if (a->dashdash >= 0 && !has_dashdash_args)
                return spec_fail(e, NULL, "nothing after '--'; %s", usage_hint);
        if (a->file_index < 0 && n_commands == 0 && !has_dashdash_args)
                return spec_fail(e, NULL, "no command given; %s", usage_hint);
        if (n_commands > SPEC_MAX_JOBS)
                return spec_fail(e, NULL, "%zu commands; at most %d are supported", n_commands,
                                 SPEC_MAX_JOBS);
        return 0;
}

int spec_cli_find_file(int argc, char **argv, int *ret_index, SpecError *ret_error) {
        CliArgs a;
        int r = cli_parse(argc, argv, &a, ret_error);
        if (r >= 0)
                *ret_index = a.file_index;
        cli_args_done(&a);
        return r < 0 ? r : 0;
}

/* The name quick mode gives a command: the basename of the program, after any leading
 * VAR=value words ("FOO=1 ./bench x" -> "bench"). */
static char *default_job_name(const char *first_word_source, bool shell) {
        char **words = NULL;
        size_t n = 0;
        const char *word = first_word_source;
        _cleanup_free_ char *copy = NULL;

        if (shell && spec_split_words(first_word_source, &words, &n) >= 0) {
                size_t k = 0;
                while (k + 1 < n && strchr(words[k], '=') && words[k][0] != '=')
                        k++;
                if (n > 0)
                        word = words[k];
        } else if (shell) {
                size_t len = strcspn(first_word_source, " \t\n");
                copy = strndup(first_word_source, len);
                word = copy ?: "";
        }
        const char *base = strrchr(word, '/');
        base = base && base[1] ? base + 1 : word;
        /* Room for a "-NNNNN" suffix within SPEC_MAX_NAME. */
        _cleanup_free_ char *cut = strndup(base, 64);
        char *name = cut ? spec_name_sanitize(cut) : NULL;
        spec_strv_free(words);
        return name;
}

static bool name_taken(const Spec *s, const char *name) {
        return spec_find_job(s, name) != NULL;
}

/* "sleep", "sleep-2", "sleep-3", ... */
static int unique_name(const Spec *s, char *base, char **ret) {
        if (!name_taken(s, base)) {
                *ret = base;
                return 0;
        }
        for (unsigned k = 2;; k++) {
                char *n;
                if (asprintf(&n, "%s-%u", base, k) < 0) {
                        free(base);
                        return -ENOMEM;
                }
                if (!name_taken(s, n)) {
                        free(base);
                        *ret = n;
                        return 0;
                }
                free(n);
        }
}

static int add_default_scenario(Spec *s) {
        s->scenarios = calloc(1, sizeof(ScenarioSpec));
        if (!s->scenarios)
                return -ENOMEM;
        scenario_spec_init(&s->scenarios[0]);
        s->n_scenarios = 1;
        if (!(s->scenarios[0].name = strdup("default")))
                return -ENOMEM;
        for (size_t i = 0; i < s->n_jobs; i++)
                if (spec_strv_push(&s->scenarios[0].jobs, &s->scenarios[0].n_jobs, s->jobs[i].name,
                                   strlen(s->jobs[i].name)) < 0)
                        return -ENOMEM;
        return 0;
}

static int build_quick(const CliArgs *a, int argc, char **argv, Spec *s, SpecError *e) {
        size_t n = 0;
        int r;

        if (a->dashdash >= 0)
                n = 1;
        else
                for (size_t k = 0; k < a->n_positional; k++)
                        n++;
        if (a->n_job_names > n) {
                SpecPos pos = {.flag = "--job-name"};
                return spec_fail(e, &pos, "%zu names for %zu command(s)", a->n_job_names, n);
        }
        s->jobs = calloc(n, sizeof(JobSpec));
        if (!s->jobs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                job_spec_init(&s->jobs[i]);
        s->n_jobs = n;

        /* Given names first, so that generated ones step around them. */
        size_t named = 0;
        for (size_t k = 0; k < a->n_opts; k++) {
                if (a->opts[k].flag->special != FLAG_JOB_NAME)
                        continue;
                SpecPos pos = {.flag = "--job-name"};
                char q[SPEC_QUOTE_MAX];
                if (!spec_name_is_valid(a->opts[k].value))
                        return spec_fail(e, &pos,
                                         "%s may only hold letters, digits, '_', '.' and '-' (at most %d)",
                                         spec_quote(a->opts[k].value, q, sizeof q), SPEC_MAX_NAME);
                if (name_taken(s, a->opts[k].value))
                        return spec_fail(e, &pos, "the name '%s' is given twice", a->opts[k].value);
                if (!(s->jobs[named++].name = strdup(a->opts[k].value)))
                        return -ENOMEM;
        }

        for (size_t i = 0; i < n; i++) {
                JobSpec *j = &s->jobs[i];
                const char *text = a->dashdash >= 0 ? argv[a->dashdash] : argv[a->positional[i]];

                if (a->dashdash >= 0) {
                        SpecPos pos = {0};
                        size_t argn = (size_t)(argc - a->dashdash);
                        r = spec_job_set_argv(j, argv + a->dashdash, argn, &pos, e);
                } else if (a->no_shell) {
                        char **words = NULL;
                        size_t nw = 0;
                        SpecPos pos = {.flag = "--no-shell"};
                        char q[SPEC_QUOTE_MAX];
                        r = spec_split_words(text, &words, &nw);
                        if (r == -EINVAL)
                                return spec_fail(e, &pos, "unterminated quote in %s",
                                                 spec_quote(text, q, sizeof q));
                        if (r == -E2BIG)
                                return spec_fail(e, &pos, "more than %d words in %s", SPEC_MAX_ARGV,
                                                 spec_quote(text, q, sizeof q));
                        if (r < 0)
                                return r;
                        if (nw == 0)
                                r = spec_fail(e, NULL, "command %zu is empty; %s", i + 1, usage_hint);
                        else
                                r = spec_job_set_argv(j, words, nw, &pos, e);
                        spec_strv_free(words);
                } else {
                        SpecPos pos = {0};
                        if (!*text || strspn(text, " \t\n") == strlen(text))
                                return spec_fail(e, NULL, "command %zu is empty; %s", i + 1, usage_hint);
                        r = spec_job_set_shell_command(j, text, &pos, e);
                }
                if (r < 0)
                        return r;
                if (!j->name) {
                        char *base = default_job_name(text, a->dashdash < 0);
                        if (!base)
                                return -ENOMEM;
                        r = unique_name(s, base, &j->name);
                        if (r < 0)
                                return r;
                }
        }
        return add_default_scenario(s);
}

/* Does the scenario override this limit itself? Then the flag must replace its value
 * too, or the scenario would still win over the flag. */
static bool scenario_sets(const Limits *l, SpecKey key) {
        switch (key) {
        case KEY_CPUS:
        case KEY_SMT:
                return l->cpus.kind != CPUS_UNSET;
        case KEY_MEMORY:
                return l->memory_max_set;
        case KEY_MEMORY_HIGH:
                return l->memory_high_set;
        case KEY_MEMORY_LOW:
                return l->memory_low_set;
        case KEY_MEMORY_MIN:
                return l->memory_min_set;
        case KEY_SWAP:
                return l->swap_max_set;
        case KEY_PIDS:
                return l->pids_max_set;
        case KEY_CPU_WEIGHT:
                return l->cpu_weight != 0;
        case KEY_CPU_MAX:
                return l->cpu_max_pct != 0;
        case KEY_PRIORITY:
                return l->priority_set;
        case KEY_GPUS:
        case KEY_GPU_SHARE:
        case KEY_GPU_MEMORY:
        case KEY_GPU_MODE:
        case KEY_GPU_VIA:
                return l->gpus.kind != GPUS_UNSET;
        default:
                return false;
        }
}

static int apply_key(Spec *s, const Flag *f, const char *value, SpecError *e) {
        SpecPos pos = {.flag = f->name};
        SpecKey key = f->key;
        int r = 0;

        if (key == KEY_KEEP) {
                s->keep = true;
                return 0;
        }
        if (key == KEY_SOLO) {
                for (size_t i = 0; i < s->n_scenarios; i++)
                        s->scenarios[i].solo = true;
                return 0;
        }
        if (spec_key_is_limit(key)) {
                for (size_t i = 0; r >= 0 && i < s->n_jobs; i++)
                        r = spec_limit_set(&s->jobs[i].limits, key, value, true, &pos, e);
                for (size_t i = 0; r >= 0 && i < s->n_scenarios; i++)
                        if (scenario_sets(&s->scenarios[i].limits, key))
                                r = spec_limit_set(&s->scenarios[i].limits, key, value, true, &pos, e);
                return r;
        }
        if (spec_key_is_job_scalar(key)) {
                for (size_t i = 0; r >= 0 && i < s->n_jobs; i++)
                        r = spec_job_set(&s->jobs[i], key, value ?: "true", true, &pos, e);
                return r;
        }
        if (spec_keys[key].scopes & SCOPE_TOP)
                return spec_run_set(s, key, value, &pos, e);
        /* Scenario keys (replicas, memory_total, allowed_cpus): every scenario. */
        for (size_t i = 0; r >= 0 && i < s->n_scenarios; i++)
                r = spec_scenario_set(&s->scenarios[i], key, value, true, &pos, e);
        return r;
}

/* Every "{name}" not already written "${name}" in s becomes "${name}" (hyperfine's syntax
 * for -L parameters into corun's). Returns the new string or NULL (ENOMEM). */
static char *hyperfine_params(const char *s, const char *name) {
        size_t nl = strlen(name), extra = 0;
        for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
                extra++;
        char *out = malloc(strlen(s) + extra + 1), *q = out;
        if (!out)
                return NULL;
        for (const char *p = s; *p; p++) {
                if (*p == '{' && (p == s || p[-1] != '$') && strncmp(p + 1, name, nl) == 0 && p[1 + nl] == '}')
                        *q++ = '$';
                *q++ = *p;
        }
        *q = '\0';
        return out;
}

/* -L NAME V1,V2,...: a matrix parameter of every scenario; {NAME} in the commands. */
static int apply_param_list(Spec *s, const CliOpt *o, SpecError *e) {
        SpecPos pos = {.flag = o->flag->name};
        _cleanup_free_ char *name = NULL, *values = NULL;
        const char *eq = o->value2 ? NULL : strchr(o->value, '=');
        name = o->value2 ? strdup(o->value) : strndup(o->value, (size_t)(eq - o->value));
        values = strdup(o->value2 ? o->value2 : eq + 1);
        if (!name || !values)
                return -ENOMEM;
        char q[SPEC_QUOTE_MAX];
        bool ok = *name != '\0';
        for (const char *p = name; *p; p++)
                ok = ok && (isalnum((unsigned char)*p) || *p == '_');
        if (!ok)
                return spec_fail(e, &pos, "parameter name %s must be letters, digits and '_'", spec_quote(name, q, sizeof q));
        size_t n = 1;
        for (const char *p = values; *p; p++)
                n += *p == ',';
        if (!*values || n > SPEC_MAX_MATRIX_VALUES)
                return spec_fail(e, &pos, "expected 1 to %d values for %s separated by ',', got %s",
                                 SPEC_MAX_MATRIX_VALUES, name, spec_quote(values, q, sizeof q));
        for (size_t i = 0; i < s->n_scenarios; i++) {
                ScenarioSpec *sc = &s->scenarios[i];
                for (size_t k = 0; k < sc->n_matrix; k++)
                        if (streq(sc->matrix[k].name, name))
                                return spec_fail(e, &pos, "parameter %s is given twice", name);
                if (sc->n_matrix >= SPEC_MAX_MATRIX_PARAMS)
                        return spec_fail(e, &pos, "at most %d parameters", SPEC_MAX_MATRIX_PARAMS);
                MatrixParam *m = realloc(sc->matrix, (sc->n_matrix + 1) * sizeof *m);
                if (!m)
                        return -ENOMEM;
                sc->matrix = m;
                m = &sc->matrix[sc->n_matrix];
                *m = (MatrixParam){.name = strdup(name), .values = calloc(n + 1, sizeof(char *)), .n_values = n};
                if (!m->name || !m->values) {
                        free(m->name);
                        free(m->values);
                        return -ENOMEM;
                }
                sc->n_matrix++;
                size_t k = 0;
                for (const char *p = values;; k++) {
                        size_t len = strcspn(p, ",");
                        if (len == 0)
                                return spec_fail(e, &pos, "an empty value in %s", spec_quote(values, q, sizeof q));
                        if (!(m->values[k] = strndup(p, len)))
                                return -ENOMEM;
                        if (!p[len])
                                break;
                        p += len + 1;
                }
        }
        for (size_t i = 0; i < s->n_jobs; i++)
                for (char **a = s->jobs[i].argv; a && *a; a++) {
                        char *t = hyperfine_params(*a, name);
                        if (!t)
                                return -ENOMEM;
                        free(*a);
                        *a = t;
                }
        return 0;
}

static int apply_opt(Spec *s, const CliOpt *o, SpecError *e) {
        SpecPos pos = {.flag = o->flag->name};
        int r = 0;

        switch (o->flag->special) {
        case FLAG_KEY:
                return apply_key(s, o->flag, o->value, e);
        case FLAG_SHARED:
                for (size_t i = 0; r >= 0 && i < s->n_jobs; i++)
                        r = spec_cpus_set_shared(&s->jobs[i].limits.cpus, o->value, &pos, e);
                for (size_t i = 0; r >= 0 && i < s->n_scenarios; i++)
                        if (s->scenarios[i].limits.cpus.kind != CPUS_UNSET)
                                r = spec_cpus_set_shared(&s->scenarios[i].limits.cpus, o->value, &pos, e);
                return r;
        case FLAG_ENV: {
                const char *eq = strchr(o->value, '=');
                char q[SPEC_QUOTE_MAX];
                if (!eq || eq == o->value)
                        return spec_fail(e, &pos, "expected KEY=VALUE, got %s",
                                         spec_quote(o->value, q, sizeof q));
                _cleanup_free_ char *key = strndup(o->value, (size_t)(eq - o->value));
                if (!key)
                        return -ENOMEM;
                for (size_t i = 0; r >= 0 && i < s->n_jobs; i++)
                        r = spec_job_env_set(&s->jobs[i], key, eq + 1, true, &pos, e);
                return r;
        }
        case FLAG_ENGINE:
                for (size_t i = 0; r >= 0 && i < s->n_jobs; i++)
                        if ((r = spec_container_set_engine(&s->jobs[i].container, o->value, &pos, e)) >= 0)
                                s->jobs[i].container.container_pos = pos;
                return r;
        case FLAG_VOLUME:
                for (size_t i = 0; r >= 0 && i < s->n_jobs; i++)
                        if ((r = spec_container_add_volume(&s->jobs[i].container, o->value, &pos, e)) >= 0)
                                s->jobs[i].container.container_pos = pos;
                return r;
        case FLAG_VERBOSE:
                s->verbose = true;
                return 0;
        case FLAG_QUIET:
                s->quiet = true;
                return 0;
        case FLAG_JSON:
                s->json = true;
                return 0;
        case FLAG_EXPORT_JSON:
        case FLAG_EXPORT_CSV:
        case FLAG_EXPORT_MARKDOWN: {
                char **dst = o->flag->special == FLAG_EXPORT_JSON  ? &s->export_json
                             : o->flag->special == FLAG_EXPORT_CSV ? &s->export_csv
                                                                   : &s->export_markdown;
                if (isempty(o->value))
                        return spec_fail(e, &pos, "expected a file name, got an empty string");
                return spec_strdup_replace(dst, o->value);
        }
        case FLAG_IGNORE_FAILURE:
                s->ignore_failure = true;
                return 0;
        case FLAG_SHOW_OUTPUT:
                s->show_output = true;
                return 0;
        case FLAG_PARAM_LIST:
                return apply_param_list(s, o, e);
        case FLAG_STYLE: {
                static const char *const styles[_STYLE_MAX] = {
                        [STYLE_FULL] = "full", [STYLE_BASIC] = "basic", [STYLE_NOCOLOR] = "nocolor",
                        [STYLE_COLOR] = "color", [STYLE_NONE] = "none"};
                for (int k = 0; k < _STYLE_MAX; k++)
                        if (streq(o->value, styles[k])) {
                                s->style = (OutputStyle)k;
                                return 0;
                        }
                char q[SPEC_QUOTE_MAX];
                return spec_fail(e, &pos, "expected full, basic, nocolor, color or none, got %s",
                                 spec_quote(o->value, q, sizeof q));
        }
        default:
                /* Used while building the jobs. */
                return 0;
        }
}

int spec_from_cli(const SpecCliInput *in, Spec **ret, SpecError *ret_error) {
        _cleanup_(cli_args_done) CliArgs a = {0};
        Spec *s = NULL;
        int r;

        if (!in)
                return -EINVAL;
        r = cli_parse(in->argc, in->argv, &a, ret_error);
        if (r < 0)
                return r;

        if (a.file_index >= 0) {
                for (size_t k = 0; k < a.n_opts; k++)
                        if (a.opts[k].flag->special == FLAG_NO_SHELL ||
                            a.opts[k].flag->special == FLAG_JOB_NAME) {
                                SpecPos pos = {.flag = a.opts[k].flag->name};
                                return spec_fail(ret_error, &pos,
                                                 "applies to command strings, not to a scenario "
                                                 "file (name the jobs in the file)");
                        }
                if (!in->file_text)
                        return spec_fail(ret_error, NULL, "%s: the scenario file was not read",
                                         in->argv[a.file_index]);
                r = spec_parse_yaml(in->argv[a.file_index], in->file_text, in->file_len, &s, ret_error);
                if (r < 0)
                        return r;
        } else {
                s = malloc(sizeof(Spec));
                if (!s)
                        return -ENOMEM;
                spec_init(s);
                r = build_quick(&a, in->argc, in->argv, s, ret_error);
                if (r >= 0 && !(s->name = strdup("corun")))
                        r = -ENOMEM;
                if (r < 0)
                        goto fail;
        }

        for (size_t k = 0; k < a.n_opts; k++) {
                r = apply_opt(s, &a.opts[k], ret_error);
                if (r < 0)
                        goto fail;
        }
        if (s->verbose && s->quiet) {
                r = spec_fail(ret_error, NULL, "--verbose and --quiet contradict each other; give one");
                goto fail;
        }
        for (size_t i = 0; i < s->n_jobs; i++) {
                r = spec_job_finish(&s->jobs[i], ret_error);
                if (r >= 0)
                        r = spec_gpus_check(&s->jobs[i].limits.gpus, ret_error);
                if (r < 0)
                        goto fail;
        }
        for (size_t i = 0; i < s->n_scenarios; i++) {
                r = spec_gpus_check(&s->scenarios[i].limits.gpus, ret_error);
                if (r < 0)
                        goto fail;
        }
        *ret = s;
        return 0;
fail:
        spec_free(s);
        return r;
}
