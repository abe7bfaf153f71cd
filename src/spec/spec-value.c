/* SPDX-License-Identifier: MIT */
/* Scalar values: the one place where "512M", "90s", "0-3" and "high" become numbers,
 * so that `memory: lots` in a file and `-m lots` on the command line get the same
 * checks and the same message. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec/spec-internal.h"
#include "util/parse.h"

static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return true;
}

/* A *_from_string() result, or the message for a value outside its table. */
static int enum_value(int v, SpecKey key, const char *text, const SpecPos *pos, SpecError *e) {
        return v >= 0 ? v : spec_fail_value(e, pos, key, text);
}

int spec_parse_bool(const char *text, bool *ret) {
        static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
        static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (streq(text, yes[i])) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (streq(text, no[i])) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

static int parse_cpu_list(const char *text, CpuSet *ret, const SpecPos *pos, SpecKey key, SpecError *e) {
        size_t off = 0;
        char q[SPEC_QUOTE_MAX];
        int r = cpuset_parse(text, ret, &off);
        if (r == -ERANGE)
                return spec_fail_key(e, pos, key, "expected CPU numbers from 0 to %d, got %s",
                                     CPUSET_MAX - 1, spec_quote(text, q, sizeof q));
        if (r < 0)
                return spec_fail_value(e, pos, key, text);
        if (cpuset_is_empty(ret))
                return spec_fail_key(e, pos, key, "expected %s, got an empty CPU list",
                                     spec_keys[key].expect);
        return 0;
}

int spec_cpus_set_shared(CpuRequest *c, const char *text, const SpecPos *pos, SpecError *e) {
        CpuSet set;
        int r = parse_cpu_list(text, &set, pos, KEY_CPUS, e);
        if (r < 0)
                return r;
        c->kind = CPUS_SHARED;
        c->set = set;
        c->count = 0;
        c->pos = *pos;
        return 0;
}

static int set_cpus(CpuRequest *c, const char *text, bool plain, const SpecPos *pos, SpecError *e) {
        /* A bare number is a core count; a quoted one ("2") or anything with ',' or '-' is a
         * CPU list, as in docker's --cpuset-cpus. */
        if (plain && all_digits(text)) {
                unsigned n;
                if (parse_unsigned(text, &n) < 0 || n < 1 || n > CPUSET_MAX)
                        return spec_fail_value(e, pos, KEY_CPUS, text);
                c->kind = CPUS_COUNT;
                c->count = n;
                cpuset_zero(&c->set);
                c->pos = *pos;
                return 0;
        }
        if (streq(text, "all")) {
                c->kind = CPUS_ALL;
                c->count = 0;
                cpuset_zero(&c->set);
                c->pos = *pos;
                return 0;
        }
        CpuSet set;
        int r = parse_cpu_list(text, &set, pos, KEY_CPUS, e);
        if (r < 0)
                return r;
        c->kind = CPUS_LIST;
        c->set = set;
        c->count = 0;
        c->pos = *pos;
        return 0;
}

/* One entry of a GPU list: an NVML index (digits) or a UUID as nvidia-smi -L prints it. */
static bool gpu_id_ok(const char *s, size_t n) {
        if (n == 0 || n >= 96)
                return false;
        bool digits = true;
        for (size_t i = 0; i < n; i++)
                digits = digits && isdigit((unsigned char)s[i]);
        if (digits)
                return n <= 2 && strtoul(s, NULL, 10) < GPU_REQUEST_MAX;
        if (n < 8 || (strncmp(s, "GPU-", 4) != 0 && strncmp(s, "MIG-", 4) != 0))
                return false;
        for (size_t i = 4; i < n; i++)
                if (!isxdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '/')
                        return false;
        return true;
}

int spec_gpus_set(GpuRequest *g, const char *text, bool plain, const SpecPos *pos, SpecError *e) {
        char q[SPEC_QUOTE_MAX];
        bool shared = false;
        const char *t = text;
        /* "shared:1" is the flag's way to write {count: 1, shared: true}. */
        if (strncmp(t, "shared:", 7) == 0) {
                shared = true;
                t += 7;
                plain = true;
        }
        /* The limits (share, memory, mode, via) stay: --gpu-share 30 --gpus 2 keeps the share. */
        GpuRequest n = {.shared = shared || (g->share_ppm > 0 && !g->shared_set),
                        .shared_set = shared || g->shared_set,
                        .share_ppm = g->share_ppm,
                        .memory_limit = g->memory_limit,
                        .mode = g->mode,
                        .via = g->via,
                        .share_pos = g->share_pos,
                        .pos = *pos};
        if (plain && all_digits(t)) {
                unsigned v;
                if (parse_unsigned(t, &v) < 0 || v > GPU_REQUEST_MAX)
                        return spec_fail_key(e, pos, KEY_GPUS, "expected a GPU count from 0 to %d, got %s",
                                             GPU_REQUEST_MAX, spec_quote(text, q, sizeof q));
                if (v == 0 && shared)
                        return spec_fail_key(e, pos, KEY_GPUS, "expected a GPU count from 1 with shared, got 0");
                n.kind = v == 0 ? GPUS_NONE : GPUS_COUNT;
                n.count = v;
        } else if (!shared && (streq(t, "any") || streq(t, "none"))) {
                n.kind = streq(t, "any") ? GPUS_ANY : GPUS_NONE;
        } else {
                /* A list: "0,2" or "GPU-...,GPU-..."; blanks around entries are dropped. */
                _cleanup_free_ char *norm = malloc(strlen(t) + 1);
                if (!norm)
                        return -ENOMEM;
                size_t k = 0;
                unsigned count = 0;
                for (const char *p = t;;) {
                        while (*p == ' ')
                                p++;
                        size_t len = strcspn(p, ",");
                        size_t l = len;
                        while (l > 0 && p[l - 1] == ' ')
                                l--;
                        if (!gpu_id_ok(p, l))
                                return spec_fail_key(e, pos, KEY_GPUS,
                                                     "expected %s, got %s (an entry is an NVML index from 0 "
                                                     "to %d or a UUID like GPU-1a2b3c4d-...)",
                                                     spec_keys[KEY_GPUS].expect, spec_quote(text, q, sizeof q),
                                                     GPU_REQUEST_MAX - 1);
                        /* the same GPU twice is a mistake, not a request for two */
                        for (const char *o = norm; o < norm + k;) {
                                size_t ol = strcspn(o, ",");
                                if (ol == l && strncmp(o, p, l) == 0)
                                        return spec_fail_key(e, pos, KEY_GPUS, "%.*s is listed twice",
                                                             (int)l, p);
                                o += ol + (o[ol] == ',');
                        }
                        if (k)
                                norm[k++] = ',';
                        memcpy(norm + k, p, l);
                        k += l;
                        norm[k] = '\0';
                        if (++count > GPU_REQUEST_MAX)
                                return spec_fail_key(e, pos, KEY_GPUS, "more than %d GPUs listed",
                                                     GPU_REQUEST_MAX);
                        if (p[len] != ',')
                                break;
                        p += len + 1;
                }
                n.kind = GPUS_LIST;
                n.count = count;
                n.list = TAKE_PTR(norm);
        }
        free(g->list);
        *g = n;
        return 0;
}

static int set_size(const char *text, SpecKey key, bool allow_max, bool allow_zero, uint64_t *ret,
                    const SpecPos *pos, SpecError *e);
static bool strip_percent(const char *text, char *buf, size_t size);

int spec_gpus_set_limit(GpuRequest *g, SpecKey key, const char *text, const SpecPos *pos, SpecError *e) {
        char buf[32];
        double v;
        int k;
        switch (key) {
        case KEY_GPU_SHARE:
                /* A share of one GPU's time in percent; 0 is not "unlimited" (research note §5.1). */
                if (!strip_percent(text, buf, sizeof buf) || parse_double(buf, &v) < 0 || !(v > 0 && v <= 100))
                        return spec_fail_key(e, pos, key, "expected a percentage of one GPU's time above 0 "
                                                          "and up to 100 (like 30 or \"12.5%%\"), got '%s'",
                                             text);
                g->share_ppm = (uint32_t)(v * 10000.0 + 0.5);
                if (g->share_ppm == 0)
                        g->share_ppm = 1;
                g->share_pos = *pos;
                /* A share is a part of a GPU others use too (share: 100 included: the
                 * uncapped tenant beside capped ones); shared: false keeps it alone. */
                if (!g->shared_set)
                        g->shared = true;
                break;
        case KEY_GPU_MEMORY: {
                uint64_t m;
                int r = set_size(text, key, false, false, &m, pos, e);
                if (r < 0)
                        return r;
                g->memory_limit = m;
                break;
        }
        case KEY_GPU_MODE:
                k = gpu_share_mode_from_string(text);
                if (k < 0)
                        return spec_fail_key(e, pos, key, "expected cap or share, got '%s'", text);
                g->mode = (GpuShareMode)k;
                break;
        case KEY_GPU_VIA:
                k = gpu_via_from_string(text);
                if (k < 0)
                        return spec_fail_key(e, pos, key, "expected shim or mps, got '%s'", text);
                g->via = (GpuVia)k;
                break;
        default:
                return spec_fail(e, pos, "internal error: %s is not a GPU limit", spec_keys[key].name);
        }
        /* A limit without GPUs asks for one. */
        if (g->kind == GPUS_UNSET) {
                g->kind = GPUS_COUNT;
                g->count = 1;
                g->pos = *pos;
        }
        return 0;
}

int spec_gpus_check(const GpuRequest *g, SpecError *e) {
        const SpecPos *pos = g->share_pos.line || g->share_pos.flag ? &g->share_pos : &g->pos;
        if (!gpu_request_limited(g)) {
                if (g->mode == GPU_MODE_SHARE)
                        return spec_fail_key(e, &g->pos, KEY_GPUS, "mode: share needs a share, like {share: 30, mode: share}");
                if (g->via == GPU_VIA_MPS)
                        return spec_fail_key(e, &g->pos, KEY_GPUS, "via: mps needs a share, like {share: 30, via: mps}");
                return 0;
        }
        if (g->kind == GPUS_ANY || g->kind == GPUS_NONE)
                return spec_fail_key(e, pos, KEY_GPUS,
                                     "a GPU share or memory limit needs assigned GPUs (a count or a list), not %s",
                                     g->kind == GPUS_ANY ? "any" : "0");
        if ((g->kind == GPUS_COUNT || g->kind == GPUS_LIST) && g->count > GPU_LIMITED_MAX)
                return spec_fail_key(e, &g->pos, KEY_GPUS,
                                     "a job with a GPU share or memory limit may have at most %d GPUs, not %u",
                                     GPU_LIMITED_MAX, g->count);
        if (g->via == GPU_VIA_MPS && g->mode == GPU_MODE_SHARE)
                return spec_fail_key(e, &g->pos, KEY_GPUS,
                                     "via: mps cannot lend (MPS's percentage is a fixed part of the SMs): use "
                                     "mode: cap with via: mps, or mode: share with the shim");
        if (g->via == GPU_VIA_MPS && g->share_ppm == 0)
                return spec_fail_key(e, &g->pos, KEY_GPUS, "via: mps needs a share, like {share: 30, via: mps}");
        if (g->mode == GPU_MODE_SHARE && g->share_ppm == 0)
                return spec_fail_key(e, &g->pos, KEY_GPUS, "mode: share needs a share, like {share: 30, mode: share}");
        return 0;
}

static int set_size(const char *text, SpecKey key, bool allow_max, bool allow_zero, uint64_t *ret,
                    const SpecPos *pos, SpecError *e) {
        uint64_t v = 0;
        int r = parse_size(text, &v);
        if (r == -ERANGE)
                /* 2^64 bytes and up: say so, not "expected a size" (issue 14 item 8). */
                return spec_fail_key(e, pos, key, "'%s' is too large: the largest size is 16383P (just under 2^64 bytes)%s",
                                     text, allow_max ? "; max for no limit" : "");
        if (r < 0 || (!allow_max && v == LIMIT_MAX))
                return spec_fail_value(e, pos, key, text);
        if (v == 0 && !allow_zero)
                return spec_fail_key(e, pos, key, "expected %s, got 0 (which would stop the job at once)",
                                     spec_keys[key].expect);
        *ret = v;
        return 0;
}

static int set_u64_range(const char *text, SpecKey key, uint64_t min, uint64_t max, uint64_t *ret,
                         const SpecPos *pos, SpecError *e) {
        uint64_t v = 0;
        if (parse_u64(text, &v) < 0 || v < min || v > max)
                return spec_fail_value(e, pos, key, text);
        *ret = v;
        return 0;
}

/* "80%" and "80" both give "80" in buf; false when text does not fit. */
static bool strip_percent(const char *text, char *buf, size_t size) {
        size_t n = strlen(text);
        if (n > 1 && n < size && text[n - 1] == '%') {
                memcpy(buf, text, n - 1);
                buf[n - 1] = '\0';
                return true;
        }
        if (n >= size)
                return false;
        memcpy(buf, text, n + 1);
        return true;
}

static int set_percent(const char *text, SpecKey key, double min, double max, double *ret, const SpecPos *pos,
                       SpecError *e) {
        char buf[32];
        double v;
        if (!strip_percent(text, buf, sizeof buf) || parse_double(buf, &v) < 0 || !(v >= min && v <= max))
                return spec_fail_value(e, pos, key, text);
        *ret = v / 100.0;
        return 0;
}

int spec_limit_set(Limits *l, SpecKey key, const char *text, bool plain, const SpecPos *pos, SpecError *e) {
        uint64_t v = 0;
        int r;

        switch (key) {
        case KEY_CPUS:
                return set_cpus(&l->cpus, text, plain, pos, e);
        case KEY_SMT: {
                int k = enum_value(smt_mode_from_string(text), key, text, pos, e);
                if (k >= 0)
                        l->cpus.smt = (SmtMode)k;
                return MIN(k, 0);
        }
        case KEY_MEMORY:
                r = set_size(text, key, true, false, &l->memory_max, pos, e);
                if (r >= 0) {
                        l->memory_max_set = true;
                        l->memory_max_pos = *pos;
                }
                return r;
        case KEY_MEMORY_HIGH:
                r = set_size(text, key, true, false, &l->memory_high, pos, e);
                l->memory_high_set |= r >= 0;
                return r;
        case KEY_MEMORY_LOW:
                r = set_size(text, key, false, true, &l->memory_low, pos, e);
                l->memory_low_set |= r >= 0;
                return r;
        case KEY_MEMORY_MIN:
                r = set_size(text, key, false, true, &l->memory_min, pos, e);
                l->memory_min_set |= r >= 0;
                return r;
        case KEY_SWAP:
                r = set_size(text, key, true, true, &l->swap_max, pos, e);
                l->swap_max_set |= r >= 0;
                return r;
        case KEY_PIDS:
                if (strcasecmp(text, "max") == 0)
                        v = LIMIT_MAX;
                else if (set_u64_range(text, key, 1, UINT32_MAX, &v, pos, e) < 0)
                        return -EINVAL;
                l->pids_max = v;
                l->pids_max_set = true;
                return 0;
        case KEY_CPU_WEIGHT:
                return set_u64_range(text, key, 1, 10000, &l->cpu_weight, pos, e);
        case KEY_CPU_MAX: {
                /* "150%" and 150 mean the same: one and a half CPUs' worth of time. */
                char buf[32];
                if (!strip_percent(text, buf, sizeof buf) || parse_u64(buf, &v) < 0 || v < 1 ||
                    v > (uint64_t)CPUSET_MAX * 100)
                        return spec_fail_value(e, pos, key, text);
                l->cpu_max_pct = v;
                return 0;
        }
        case KEY_PRIORITY: {
                int k = enum_value(priority_from_string(text), key, text, pos, e);
                if (k >= 0) {
                        l->priority = (Priority)k;
                        l->priority_set = true;
                }
                return MIN(k, 0);
        }
        case KEY_GPUS:
                return spec_gpus_set(&l->gpus, text, plain, pos, e);
        case KEY_GPU_SHARE:
        case KEY_GPU_MEMORY:
        case KEY_GPU_MODE:
        case KEY_GPU_VIA:
                return spec_gpus_set_limit(&l->gpus, key, text, pos, e);
        default:
                return spec_fail(e, pos, "internal error: %s is not a limit", spec_keys[key].name);
        }
}

static int set_string(char **dst, const char *text, SpecKey key, const SpecPos *pos, SpecError *e) {
        if (isempty(text))
                return spec_fail_key(e, pos, key, "expected %s, got an empty string", spec_keys[key].expect);
        return spec_strdup_replace(dst, text);
}

static int set_duration(const char *text, SpecKey key, bool allow_infinity, bool allow_zero, uint64_t *ret,
                        const SpecPos *pos, SpecError *e) {
        uint64_t v = 0;
        if (parse_duration(text, &v) < 0 || (v == USEC_INFINITY && !allow_infinity) ||
            (v == 0 && !allow_zero))
                return spec_fail_value(e, pos, key, text);
        *ret = v;
        return 0;
}

int spec_job_set(JobSpec *j, SpecKey key, const char *text, bool plain, const SpecPos *pos, SpecError *e) {
        if (spec_key_is_limit(key))
                return spec_limit_set(&j->limits, key, text, plain, pos, e);

        switch (key) {
        case KEY_CWD:
                return set_string(&j->cwd, text, key, pos, e);
        case KEY_USER:
                return set_string(&j->user, text, key, pos, e);
        case KEY_GROUP:
                return set_string(&j->group, text, key, pos, e);
        case KEY_TIMEOUT:
                return set_duration(text, key, true, false, &j->timeout_usec, pos, e);
        case KEY_CPU_TIMEOUT:
                return set_duration(text, key, true, false, &j->cpu_timeout_usec, pos, e);
        case KEY_GRACE:
                /* No "infinity": a job that ignores its stop signal must still end. */
                return set_duration(text, key, false, true, &j->grace_usec, pos, e);
        case KEY_STOP_SIGNAL: {
                int sig;
                if (parse_signal(text, &sig) < 0)
                        return spec_fail_value(e, pos, key, text);
                j->stop_signal = sig;
                return 0;
        }
        case KEY_IMAGE:
                return spec_container_set_image(&j->container, text, pos, e);
        case KEY_PULL:
                if (spec_parse_bool(text, &j->container.pull) < 0)
                        return spec_fail_value(e, pos, key, text);
                return 0;
        default:
                return spec_fail(e, pos, "internal error: %s is not a job value", spec_keys[key].name);
        }
}

char **spec_hook_field(Hooks *h, SpecKey key) {
        switch (key) {
        case KEY_SETUP:
                return &h->setup;
        case KEY_PREPARE:
                return &h->prepare;
        case KEY_CONCLUDE:
                return &h->conclude;
        case KEY_CLEANUP:
                return &h->cleanup;
        default:
                return NULL;
        }
}

int spec_run_set(Spec *s, SpecKey key, const char *text, const SpecPos *pos, SpecError *e) {
        uint64_t v = 0;
        bool b;

        if (spec_key_is_hook(key))
                return set_string(spec_hook_field(&s->hooks, key), text, key, pos, e);

        switch (key) {
        case KEY_NAME:
                if (!spec_name_is_valid(text))
                        return spec_fail_value(e, pos, key, text);
                return spec_strdup_replace(&s->name, text);
        case KEY_REPEAT:
                if (set_u64_range(text, key, 1, SPEC_MAX_REPEAT, &v, pos, e) < 0)
                        return -EINVAL;
                s->repeat = (unsigned)v;
                return 0;
        case KEY_WARMUP:
                if (set_u64_range(text, key, 0, 100, &v, pos, e) < 0)
                        return -EINVAL;
                s->warmup = (unsigned)v;
                return 0;
        case KEY_ORDER: {
                int k = enum_value(run_order_from_string(text), key, text, pos, e);
                if (k >= 0)
                        s->order = (RunOrder)k;
                return MIN(k, 0);
        }
        case KEY_SEED:
                if (parse_u64(text, &v) < 0)
                        return spec_fail_value(e, pos, key, text);
                s->seed = v;
                return 0;
        case KEY_RESULTS:
                return set_string(&s->results_dir, text, key, pos, e);
        case KEY_SAMPLE_INTERVAL:
                if (set_duration(text, key, false, false, &v, pos, e) < 0)
                        return -EINVAL;
                if (v < USEC_PER_MSEC)
                        return spec_fail_value(e, pos, key, text);
                s->sample_interval_usec = v;
                return 0;
        case KEY_RESERVE:
                if (set_u64_range(text, key, 0, CPUSET_MAX - 1, &v, pos, e) < 0)
                        return -EINVAL;
                s->reserve_cores = (unsigned)v;
                return 0;
        case KEY_NUMA: {
                int k = enum_value(numa_mode_from_string(text), key, text, pos, e);
                if (k >= 0)
                        s->numa = (NumaMode)k;
                return MIN(k, 0);
        }
        case KEY_BACKEND: {
                int k = enum_value(backend_kind_from_string(text), key, text, pos, e);
                if (k >= 0)
                        s->backend = (BackendKind)k;
                return MIN(k, 0);
        }
        case KEY_SLICE: {
                /* A unit name systemd accepts: [A-Za-z0-9:_.-], ending in .slice. */
                size_t n = strlen(text);
                bool ok = n > 6 && n < 256 && streq(text + n - 6, ".slice");
                for (size_t i = 0; ok && i < n; i++)
                        ok = unit_name_char_ok(text[i]);
                if (!ok)
                        return spec_fail_value(e, pos, key, text);
                return set_string(&s->slice, text, key, pos, e);
        }
        case KEY_KEEP:
                if (spec_parse_bool(text, &b) < 0)
                        return spec_fail_value(e, pos, key, text);
                s->keep = b;
                return 0;
        case KEY_PREFLIGHT:
                return set_string(&s->preflight, text, key, pos, e);
        case KEY_PROTECTOR: {
                int k = enum_value(protector_mode_from_string(text), key, text, pos, e);
                if (k >= 0)
                        s->protector.mode = (ProtectorMode)k;
                return MIN(k, 0);
        }
        case KEY_PROTECTOR_THRESHOLD:
                return set_percent(text, key, 0, 100, &s->protector.threshold, pos, e);
        case KEY_PROTECTOR_MAX_THROTTLE:
                return set_percent(text, key, 1, 99, &s->protector.max_share, pos, e);
        case KEY_PROTECTOR_QUANTUM:
        case KEY_PROTECTOR_INTERVAL: {
                bool quantum = key == KEY_PROTECTOR_QUANTUM;
                if (set_duration(text, key, false, false, &v, pos, e) < 0)
                        return -EINVAL;
                if (v < 10 * USEC_PER_MSEC || v > (quantum ? 60 : 10) * USEC_PER_SEC)
                        return spec_fail_value(e, pos, key, text);
                *(quantum ? &s->protector.quantum_usec : &s->protector.interval_usec) = v;
                return 0;
        }
        default:
                return spec_fail(e, pos, "internal error: %s is not a run setting", spec_keys[key].name);
        }
}

int spec_scenario_set(ScenarioSpec *sc, SpecKey key, const char *text, bool plain, const SpecPos *pos,
                      SpecError *e) {
        bool b;

        if (spec_key_is_limit(key))
                return spec_limit_set(&sc->limits, key, text, plain, pos, e);
        if (spec_key_is_hook(key))
                return set_string(spec_hook_field(&sc->hooks, key), text, key, pos, e);

        switch (key) {
        case KEY_SOLO:
                if (spec_parse_bool(text, &b) < 0)
                        return spec_fail_value(e, pos, key, text);
                sc->solo = b;
                return 0;
        case KEY_MEMORY_TOTAL:
                return set_size(text, key, true, false, &sc->memory_total, pos, e);
        case KEY_ALLOWED_CPUS:
                return parse_cpu_list(text, &sc->allowed_cpus, pos, key, e);
        case KEY_REPLICAS: {
                /* one count, or a sweep written "1,2,4,8" (the flag's form of replicas: [1, 2, 4, 8]) */
                size_t cnt = 1;
                for (const char *p = text; *p; p++)
                        cnt += *p == ',';
                if (cnt > SPEC_MAX_REPLICAS)
                        return spec_fail_value(e, pos, key, text);
                _cleanup_free_ unsigned *n = calloc(cnt, sizeof(unsigned));
                _cleanup_free_ char *copy = strdup(text);
                if (!n || !copy)
                        return -ENOMEM;
                size_t k = 0;
                for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                        uint64_t v = 0;
                        while (*tok == ' ')
                                tok++;
                        if (k >= cnt || parse_u64(tok, &v) < 0 || v < 1 || v > SPEC_MAX_REPLICAS)
                                return spec_fail_value(e, pos, key, text);
                        n[k++] = (unsigned)v;
                }
                if (k != cnt)
                        return spec_fail_value(e, pos, key, text);
                free(sc->replicas);
                sc->replicas = TAKE_PTR(n);
                sc->n_replicas = k;
                return 0;
        }
        default:
                return spec_fail(e, pos, "internal error: %s is not a scenario value", spec_keys[key].name);
        }
}

/* A display form that pastes back into a shell: words with blanks or quotes are
 * single-quoted. */
static char *join_argv(char *const *argv, size_t n) {
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += 4 * strlen(argv[i]) + 3;
        char *s = malloc(len), *p = s;
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const char *a = argv[i];
                bool quote = !*a || strpbrk(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") != NULL;
                if (i > 0)
                        *p++ = ' ';
                if (quote)
                        *p++ = '\'';
                for (; *a; a++) {
                        if (*a == '\'' && quote) {
                                memcpy(p, "'\\''", 4);
                                p += 4;
                        } else
                                *p++ = *a;
                }
                if (quote)
                        *p++ = '\'';
        }
        *p = '\0';
        return s;
}

static bool is_blank(const char *s) {
        for (; *s; s++)
                if (!isspace((unsigned char)*s))
                        return false;
        return true;
}

int spec_job_set_shell_command(JobSpec *j, const char *text, const SpecPos *pos, SpecError *e) {
        if (is_blank(text))
                return spec_fail_key(e, pos, KEY_COMMAND, "expected %s, got an empty command",
                                     spec_keys[KEY_COMMAND].expect);
        char *const argv[] = {"/bin/sh", "-c", (char *)text};
        int r = spec_job_set_argv(j, argv, 3, pos, e);
        if (r < 0)
                return r;
        return spec_strdup_replace(&j->command_text, text);
}

int spec_job_set_argv(JobSpec *j, char *const *argv, size_t n, const SpecPos *pos, SpecError *e) {
        char **v = NULL;
        size_t k = 0;

        if (n == 0)
                return spec_fail_key(e, pos, KEY_COMMAND, "expected %s, got an empty command",
                                     spec_keys[KEY_COMMAND].expect);
        if (isempty(argv[0]))
                return spec_fail_key(e, pos, KEY_COMMAND, "the program name (the first word) is empty");
        if (n > SPEC_MAX_ARGV)
                return spec_fail_key(e, pos, KEY_COMMAND, "%zu arguments; at most %d are supported", n,
                                     SPEC_MAX_ARGV);
        for (size_t i = 0; i < n; i++)
                if (spec_strv_push(&v, &k, argv[i], strlen(argv[i])) < 0) {
                        spec_strv_free(v);
                        return -ENOMEM;
                }
        char *text = join_argv(argv, n);
        if (!text) {
                spec_strv_free(v);
                return -ENOMEM;
        }
        spec_strv_free(j->argv);
        j->argv = v;
        free(j->command_text);
        j->command_text = text;
        return 0;
}

int spec_job_env_set(JobSpec *j, const char *key, const char *value, bool replace, const SpecPos *pos,
                     SpecError *e) {
        char q[SPEC_QUOTE_MAX];
        size_t kl = strlen(key), n = spec_strv_length(j->env);

        if (kl == 0 || strchr(key, '='))
                return spec_fail_key(e, pos, KEY_ENV,
                                     "%s is not a valid variable name (it must be non-empty, without '=')",
                                     spec_quote(key, q, sizeof q));
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; replace && i < n; i++)
                if (strneq(j->env[i], key, kl) && j->env[i][kl] == '=') {
                        free(j->env[i]);
                        j->env[i] = TAKE_PTR(kv);
                        return 0;
                }
        if (n >= SPEC_MAX_ENV)
                return spec_fail_key(e, pos, KEY_ENV, "more than %d variables", SPEC_MAX_ENV);
        return spec_strv_push(&j->env, &n, kv, strlen(kv));
}

int spec_job_finish(JobSpec *j, SpecError *e) {
        if (!j->argv)
                return spec_fail(e, &j->pos,
                                 "job '%s' has no command; add command: [program, args...] or "
                                 "command: 'a shell line'",
                                 j->name);
        if (j->limits.memory_min_set && j->limits.memory_max_set &&
            j->limits.memory_min > j->limits.memory_max)
                return spec_fail(
                        e, &j->limits.memory_max_pos,
                        "job '%s': memory_min is above memory; the guarantee cannot exceed the limit",
                        j->name);
        if (!j->container.image && (j->container.container_pos.line > 0 || j->container.container_pos.flag)) {
                /* Quick mode: --engine or --volume without --image. */
                bool flag = j->container.container_pos.flag && !j->container.container_pos.file;
                return spec_fail(e, &j->container.container_pos, "job '%s': %s applies to a job in an image; add %s",
                                 j->name, flag ? "this flag" : "container:", flag ? "--image NAME" : "image: NAME");
        }
        return 0;
}

int spec_split_words(const char *s, char ***ret, size_t *ret_n) {
        _cleanup_free_ char *word = malloc(strlen(s) + 1);
        char **v = NULL;
        size_t n = 0, len = 0;
        bool in_word = false;

        if (!word)
                return -ENOMEM;
        for (const char *p = s;; p++) {
                if (*p == '\0' || isspace((unsigned char)*p)) {
                        if (in_word) {
                                if (n >= SPEC_MAX_ARGV || spec_strv_push(&v, &n, word, len) < 0) {
                                        spec_strv_free(v);
                                        return n >= SPEC_MAX_ARGV ? -E2BIG : -ENOMEM;
                                }
                                len = 0;
                                in_word = false;
                        }
                        if (*p == '\0')
                                break;
                        continue;
                }
                in_word = true;
                if (*p == '\'') {
                        const char *end = strchr(p + 1, '\'');
                        if (!end) {
                                spec_strv_free(v);
                                return -EINVAL;
                        }
                        memcpy(word + len, p + 1, (size_t)(end - p - 1));
                        len += (size_t)(end - p - 1);
                        p = end;
                } else if (*p == '"') {
                        for (p++; *p != '"'; p++) {
                                if (*p == '\0') {
                                        spec_strv_free(v);
                                        return -EINVAL;
                                }
                                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                        p++;
                                word[len++] = *p;
                        }
                } else if (*p == '\\' && p[1] != '\0') {
                        word[len++] = *++p;
                } else
                        word[len++] = *p;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
