/* SPDX-License-Identifier: MIT */
#pragma once

/* The scenario spec: what the user asked for, parsed and validated, immutable after
 * spec_parse_*(). Pure: no system calls in spec/ (it is fuzzed). A YAML file and the
 * quick-mode flags produce the same structs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cpuset.h"

/* Where a value came from: "file:line:col" (1-based), or a flag ("--memory"). */
typedef struct SpecPos {
        const char *file; /* borrowed from Spec.file, or NULL for flags */
        const char *flag; /* static string, e.g. "--memory", when from the command line */
        unsigned line, col;
} SpecPos;

typedef enum Priority {
        PRIORITY_NORMAL,
        PRIORITY_HIGH,
        PRIORITY_LOW,
        _PRIORITY_MAX,
        _PRIORITY_INVALID = -1,
} Priority;
const char *priority_to_string(Priority p);
Priority priority_from_string(const char *s);

typedef enum CpuRequestKind {
        CPUS_UNSET,  /* inherit (scenario, defaults), finally 1 core */
        CPUS_COUNT,  /* cpus: N — N exclusive whole cores */
        CPUS_LIST,   /* cpus: "0-3,8" — exactly these logical CPUs (exclusive) */
        CPUS_SHARED, /* cpus: {shared: "0-1"} — all jobs of the scenario share this set */
        CPUS_ALL,    /* cpus: all — every allowed CPU, shared, no pinning decision */
        _CPUS_KIND_MAX,
        _CPUS_KIND_INVALID = -1,
} CpuRequestKind;
/* "unset", "count", "list", "shared", "all" */
const char *cpu_request_kind_to_string(CpuRequestKind k);

typedef enum SmtMode {
        SMT_TOGETHER, /* whole cores: siblings go with the core (default) */
        SMT_SEPARATE, /* count logical CPUs */
        _SMT_MAX,
        _SMT_INVALID = -1,
} SmtMode;
const char *smt_mode_to_string(SmtMode m);
SmtMode smt_mode_from_string(const char *s);

typedef enum NumaMode {
        NUMA_LOCAL,
        NUMA_SPREAD,
        NUMA_INTERLEAVE,
        _NUMA_MAX,
        _NUMA_INVALID = -1,
} NumaMode;
const char *numa_mode_to_string(NumaMode m);
NumaMode numa_mode_from_string(const char *s);

typedef struct CpuRequest {
        CpuRequestKind kind;
        unsigned count; /* CPUS_COUNT */
        CpuSet set;     /* CPUS_LIST, CPUS_SHARED */
        SmtMode smt;
        SpecPos pos;
} CpuRequest;

typedef enum GpuRequestKind {
        GPUS_UNSET, /* inherit; finally none (CUDA_VISIBLE_DEVICES= on a machine with GPUs) */
        GPUS_NONE,  /* gpus: 0 */
        GPUS_COUNT, /* gpus: N — N GPUs, exclusive unless shared */
        GPUS_LIST,  /* gpus: "0,2" (NVML indexes) or [GPU-uuid, ...] — exactly these */
        GPUS_ANY,   /* gpus: any — no assignment: the job sees every GPU */
        _GPUS_KIND_MAX,
        _GPUS_KIND_INVALID = -1,
} GpuRequestKind;
/* "unset", "none", "count", "list", "any" */
const char *gpu_request_kind_to_string(GpuRequestKind k);

#define GPU_REQUEST_MAX 64 /* GPUs one job may ask for */
#define GPU_SHARE_WHOLE 1000000u /* share_ppm of the whole GPU (share: 100) */
#define GPU_LIMITED_MAX 8        /* GPUs of a job with a share or memory limit (its region's size) */

/* gpus: {mode: ...}: a cap is never exceeded, even on an idle GPU (reproducible numbers);
 * a share is a guarantee, and what idle tenants leave is lent to busy ones. */
typedef enum GpuShareMode {
        GPU_MODE_CAP,
        GPU_MODE_SHARE,
        _GPU_MODE_MAX,
        _GPU_MODE_INVALID = -1,
} GpuShareMode;
const char *gpu_share_mode_to_string(GpuShareMode m);
GpuShareMode gpu_share_mode_from_string(const char *s);

/* gpus: {via: ...}: corun's shim (a time share) or NVIDIA MPS's active-thread percentage
 * (a share of the SMs). */
typedef enum GpuVia {
        GPU_VIA_SHIM,
        GPU_VIA_MPS,
        _GPU_VIA_MAX,
        _GPU_VIA_INVALID = -1,
} GpuVia;
const char *gpu_via_to_string(GpuVia v);
GpuVia gpu_via_from_string(const char *s);

typedef struct GpuRequest {
        GpuRequestKind kind;
        unsigned count; /* GPUS_COUNT: how many; GPUS_LIST: entries in list */
        /* GPUS_LIST: the entries as written, comma-separated ("0,2", "GPU-1a2b...,GPU-..."),
         * each an NVML index or a GPU UUID; resolved against the machine's GPUs before anything
         * starts (gpu_request_resolve). Owned by the Limits of the JobSpec/ScenarioSpec that
         * parsed it; the plan's copies borrow it. */
        char *list;
        bool shared; /* several jobs may use the same GPU (gpus: {count: 1, shared: true}) */
        bool shared_set; /* shared: was written (a share makes a GPU shared unless shared: false) */
        /* Limits per GPU (docs/gpu.md "Caps, shares and memory limits"). */
        uint32_t share_ppm;    /* share: 30 → 300000 (10^6 = the whole GPU's time); 0: none */
        uint64_t memory_limit; /* memory: 8G, bytes per GPU; 0: none */
        GpuShareMode mode;     /* mode: cap (default) or share */
        GpuVia via;            /* via: shim (default) or mps */
        SpecPos share_pos;     /* where share: was written (admission errors point there) */
        SpecPos pos;
} GpuRequest;
/* The request has a share or a GPU memory limit (the job gets the shim or MPS). */
static inline bool gpu_request_limited(const GpuRequest *g) {
        return g->share_ppm > 0 || g->memory_limit > 0;
}

/* Unset numbers are LIMIT_MAX (= no limit) or 0 where noted; "unset" versus "set to
 * max" matters for inheritance, hence the *_set flags. */
typedef struct Limits {
        CpuRequest cpus;
        uint64_t memory_max;  /* memory.max / memory.limit_in_bytes */
        uint64_t memory_high; /* memory.high (v2; emulated on v1 by the protector) */
        uint64_t memory_low;  /* memory.low / soft limit */
        uint64_t memory_min;
        uint64_t swap_max;    /* default 0: swap off */
        uint64_t pids_max;    /* default 4096 */
        uint64_t cpu_weight;  /* 1..10000, 0 = unset */
        uint64_t cpu_max_pct; /* cpu.max as percent of one CPU (e.g. 150), 0 = unset */
        Priority priority;    /* PRIORITY_NORMAL unless set (docs/priorities.md) */
        GpuRequest gpus;      /* docs/gpu.md */
        bool memory_max_set, memory_high_set, memory_low_set, memory_min_set, swap_max_set, pids_max_set,
                priority_set;
        SpecPos memory_max_pos;
} Limits;

typedef enum MetricAgg {
        METRIC_LAST,
        METRIC_MAX,
        METRIC_MIN,
        METRIC_SUM,
        METRIC_MEAN,
        METRIC_ALL,
        _METRIC_AGG_MAX,
        _METRIC_AGG_INVALID = -1,
} MetricAgg;
const char *metric_agg_to_string(MetricAgg a);
MetricAgg metric_agg_from_string(const char *s);

typedef struct PhaseSpec {
        char *name;
        char *start; /* PCRE2 pattern; NULL: starts when the previous phase ends (short form) */
        char *end;   /* PCRE2 pattern; NULL: ends when the next phase starts or the job ends */
        SpecPos pos;
} PhaseSpec;

typedef struct MetricSpec {
        char *name;
        char *pattern; /* PCRE2, exactly one capture group holding a number */
        MetricAgg agg;
        SpecPos pos;
} MetricSpec;

typedef struct TimestampSpec {
        char *regex;  /* one capture group */
        char *format; /* strptime format, e.g. "%Y-%m-%d %H:%M:%S" */
} TimestampSpec;

/* A job in a container image (docs/containers.md): `image:`, `pull:` and
 * `container: {engine, volumes, workdir, options}`. image NULL: an ordinary job. */
typedef enum ContainerEngineKind {
        ENGINE_AUTO, /* podman when installed, else docker */
        ENGINE_PODMAN,
        ENGINE_DOCKER,
        _ENGINE_MAX,
        _ENGINE_INVALID = -1,
} ContainerEngineKind;
/* "auto", "podman", "docker" */
const char *container_engine_kind_to_string(ContainerEngineKind k);
ContainerEngineKind container_engine_kind_from_string(const char *s);

typedef struct ContainerVolume {
        char *host;      /* as written: an existing path, absolute or relative to corun's cwd */
        char *container; /* absolute path inside the container */
        bool read_only;  /* ":ro" */
        SpecPos pos;
} ContainerVolume;

typedef struct ContainerSpec {
        char *image; /* NULL: not a container job */
        ContainerEngineKind engine;
        bool pull; /* pull the image before the run when it is not present; never otherwise */
        ContainerVolume *volumes;
        size_t n_volumes;
        char *workdir;  /* -w inside the container; NULL: the image's */
        char **options; /* NULL-terminated extra engine run options, verbatim */
        size_t n_options;
        SpecPos image_pos, engine_pos, container_pos; /* where each was set (line 0: not set) */
} ContainerSpec;

typedef struct JobSpec {
        char *name;
        char **argv;        /* NULL-terminated; quick mode: {"/bin/sh","-c",cmd} unless --no-shell */
        char *command_text; /* what the user wrote, for display */
        char **env;         /* NULL-terminated "KEY=VALUE" (defaults merged in, job wins) */
        char *cwd;          /* NULL: the directory corun was started in */
        char *user, *group;
        Limits limits;
        uint64_t timeout_usec;     /* wall limit; USEC_INFINITY = none */
        uint64_t cpu_timeout_usec; /* CPU-time limit; USEC_INFINITY = none */
        int stop_signal;           /* default SIGTERM */
        uint64_t grace_usec;       /* default 10 s */
        PhaseSpec *phases;
        size_t n_phases;
        MetricSpec *metrics;
        size_t n_metrics;
        TimestampSpec timestamp;
        ContainerSpec container;
        SpecPos pos;
} JobSpec;

typedef struct MatrixParam {
        char *name;
        char **values; /* NULL-terminated */
        size_t n_values;
} MatrixParam;

typedef struct Hooks {
        char *setup, *prepare, *conclude, *cleanup; /* shell commands, hyperfine's meanings */
} Hooks;

typedef struct ScenarioSpec {
        char *name;
        char **jobs; /* NULL-terminated names of JobSpecs */
        size_t n_jobs;
        unsigned *replicas; /* sweep of copy counts, e.g. {1,2,4}; NULL = {1} */
        size_t n_replicas;
        MatrixParam *matrix;
        size_t n_matrix;
        Limits limits;         /* scenario overrides of each job's limits (cpus: {shared}, memory per job) */
        uint64_t memory_total; /* the scenario group's limit over all its jobs; LIMIT_MAX = none */
        CpuSet allowed_cpus;   /* empty = all the runner may use */
        bool solo;             /* add solo baselines */
        Hooks hooks;
        SpecPos pos;
} ScenarioSpec;

typedef enum RunOrder {
        ORDER_INTERLEAVED,
        ORDER_SEQUENTIAL,
        ORDER_RANDOM,
        _ORDER_MAX,
        _ORDER_INVALID = -1,
} RunOrder;
const char *run_order_to_string(RunOrder o);
RunOrder run_order_from_string(const char *s);

typedef enum BackendKind {
        BACKEND_AUTO,
        BACKEND_V2,
        BACKEND_V1,
        BACKEND_NONE,
        _BACKEND_MAX,
        _BACKEND_INVALID = -1,
} BackendKind;
const char *backend_kind_to_string(BackendKind b);
BackendKind backend_kind_from_string(const char *s);

typedef enum ProtectorMode {
        PROTECTOR_AUTO, /* on when a job has a priority other than normal, or a memory_high on v1 */
        PROTECTOR_ON,
        PROTECTOR_OFF,
        _PROTECTOR_MAX,
        _PROTECTOR_INVALID = -1,
} ProtectorMode;
const char *protector_mode_to_string(ProtectorMode m);
ProtectorMode protector_mode_from_string(const char *s);

/* The dynamic priority protector (docs/priorities.md). */
typedef struct ProtectorSpec {
        ProtectorMode mode;
        double threshold;       /* fraction of the interval a HIGH job may stall on memory; default 0.10 */
        uint64_t quantum_usec;  /* longest single freeze of a throttled job; default 2 s */
        double max_share;       /* most of any window a job may spend frozen; default 0.80 */
        uint64_t interval_usec; /* how often the protector looks; default 100 ms */
} ProtectorSpec;

/* hyperfine's --style: what the terminal gets (docs/scenario.md). */
typedef enum OutputStyle {
        STYLE_FULL,    /* default: live display on a terminal, colours when it is one */
        STYLE_BASIC,   /* plain event lines, no colours */
        STYLE_NOCOLOR, /* full, without colours */
        STYLE_COLOR,   /* full, colours even into a pipe */
        STYLE_NONE,    /* nothing but errors (as -q, and no failure lines either) */
        _STYLE_MAX,
} OutputStyle;

typedef struct Spec {
        char *file; /* the scenario file path, NULL in quick mode */
        char *name; /* run name: `name:` / -n / file stem / "corun" */
        JobSpec *jobs;
        size_t n_jobs;
        /* Always at least one: a file without `scenarios:` gets one named "default" with
         * every job; so does quick mode. */
        ScenarioSpec *scenarios;
        size_t n_scenarios;
        unsigned repeat; /* >= 1 */
        unsigned warmup; /* runs of each configuration before the counted ones, not in statistics */
        RunOrder order;
        uint64_t seed;
        char *results_dir;             /* -o / results: ; NULL = ./corun-results/<name>-<UTC time> */
        uint64_t sample_interval_usec; /* default 200 ms */
        unsigned reserve_cores;        /* reserve: N */
        NumaMode numa;
        BackendKind backend;
        char *slice;         /* systemd hosts: the slice of corun's scope (NULL: the manager's default) */
        bool keep;           /* keep scratch dirs */
        char *preflight;     /* shell command run once before anything */
        ProtectorSpec protector;
        Hooks hooks;         /* run-level hooks (quick mode --setup etc.) */
        bool verbose, quiet; /* -v, -q: for the CLI (never set by a file) */
        bool json;           /* --json: for the CLI */
        /* Quick-mode switches for the CLI, hyperfine's names (never set by a file): */
        char *export_json, *export_csv, *export_markdown; /* copies of result.json, results.csv, summary.md */
        bool ignore_failure; /* -i: exit 0 although jobs failed */
        bool show_output;    /* the jobs' output also goes to the terminal */
        OutputStyle style;
} Spec;

/* Errors carry their position and a full sentence; message() output is
 * "file:line:col: what is wrong; what is expected" or "--flag: ...". */
typedef struct SpecError {
        char *message;
} SpecError;
void spec_error_done(SpecError *e);

/* The prefix of a message about pos: "file:line:col: ", "--flag: ", or "" when pos is
 * NULL or says nothing. Long file names are cut to fit n. Returns buf. */
#define SPEC_POS_MAX 4200
const char *spec_pos_format(const SpecPos *pos, char *buf, size_t n);

/* Parses a YAML scenario file held in memory (pure). `file` is the name used in
 * messages. On error returns a negative errno (-EINVAL for bad input) and fills
 * *ret_error; *ret is only written on success. */
int spec_parse_yaml(const char *file, const char *text, size_t len, Spec **ret, SpecError *ret_error);

/* Quick mode and flags shared by both modes (pure; argv is what follows `run`).
 * See docs/scenario.md ("Quick mode"). With a scenario file in argv, `text` holds its contents (the CLI
 * reads it: this stays pure); flags then override the file's values. */
typedef struct SpecCliInput {
        int argc;
        char **argv;
        const char *file_text; /* NULL when argv names no file */
        size_t file_len;
} SpecCliInput;
/* Splits `run`'s arguments: returns 0 and sets *ret_index to the index in argv of the
 * scenario file path (a positional FILE.yaml/FILE.yml without blanks, or the argument
 * after -f/--file), or to -1 for quick mode; -EINVAL on bad flags, a missing flag value,
 * a file mixed with command strings, or no command at all (with *ret_error). */
int spec_cli_find_file(int argc, char **argv, int *ret_index, SpecError *ret_error);
int spec_from_cli(const SpecCliInput *in, Spec **ret, SpecError *ret_error);
/* How many of the next arguments a flag given alone ("--memory", "-m") takes: 0 for
 * switches, unknown flags and "--flag=value"; 2 for -L NAME VALUES. */
int spec_cli_flag_values(const char *arg);

Spec *spec_free(Spec *s);
const JobSpec *spec_find_job(const Spec *s, const char *name);
