/* SPDX-License-Identifier: MIT */
/* The simulated GPU's shared state: creation from the environment, the time-sliced
 * scheduler, and the per-period busy records behind NVML's process samples. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define SIM_MAGIC UINT64_C(0x434f52554e475055) /* "CORUNGPU" */
#define SIM_VERSION 3

static SimState *state;
static pid_t state_pid;
static char why[512];

static uint64_t clock_ns(clockid_t c) {
        struct timespec ts;
        clock_gettime(c, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sim_now_ns(void) {
        return clock_ns(CLOCK_MONOTONIC);
}

const char *sim_why(void) {
        return why;
}

int sim_parse_duration_ns(const char *text, uint64_t *ret) {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (errno || end == text || v < 0)
                return -1;
        double mul = 1e6; /* a bare number is milliseconds */
        if (*end == '\0')
                ;
        else if (strcmp(end, "ns") == 0)
                mul = 1;
        else if (strcmp(end, "us") == 0)
                mul = 1e3;
        else if (strcmp(end, "ms") == 0)
                mul = 1e6;
        else if (strcmp(end, "s") == 0)
                mul = 1e9;
        else
                return -1;
        if (v * mul > 1e18)
                return -1;
        *ret = (uint64_t)(v * mul + 0.5);
        return 0;
}

static int parse_size(const char *text, uint64_t *ret) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || end == text)
                return -1;
        unsigned shift = 0;
        switch (toupper((unsigned char)*end)) {
        case '\0':
                break;
        case 'K':
                shift = 10;
                break;
        case 'M':
                shift = 20;
                break;
        case 'G':
                shift = 30;
                break;
        case 'T':
                shift = 40;
                break;
        default:
                return -1;
        }
        if (*end && end[1] != '\0' && strcasecmp(end + 1, "iB") != 0 && strcasecmp(end + 1, "B") != 0)
                return -1;
        if (shift && v > (UINT64_MAX >> shift))
                return -1;
        *ret = (uint64_t)v << shift;
        return 0;
}

static int parse_uint(const char *text, int base, unsigned long max, unsigned long *ret) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(text, &end, base);
        if (errno || end == text || *end || v > max)
                return -1;
        *ret = v;
        return 0;
}

static uint64_t splitmix(uint64_t *x) {
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void uuid_format(SimDevice *d) {
        const uint8_t *b = d->uuid_bytes;
        snprintf(d->uuid, sizeof d->uuid,
                 "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int uuid_parse(const char *text, uint8_t out[16]) {
        if (strncmp(text, "GPU-", 4) == 0)
                text += 4;
        unsigned n = 0;
        for (const char *p = text; *p; p++) {
                if (*p == '-')
                        continue;
                if (!isxdigit((unsigned char)*p) || n >= 32)
                        return -1;
                unsigned v = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
                                                        : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
                out[n / 2] = (uint8_t)(n % 2 ? (out[n / 2] | v) : (v << 4));
                n++;
        }
        return n == 32 ? 0 : -1;
}

static int numa_nodes(void) {
        DIR *dir = opendir("/sys/devices/system/node");
        int n = 0;
        if (!dir)
                return 0;
        for (struct dirent *e; (e = readdir(dir));)
                if (strncmp(e->d_name, "node", 4) == 0 && isdigit((unsigned char)e->d_name[4]))
                        n++;
        closedir(dir);
        return n;
}

/* Device i of n with nothing configured: NVML index order is the reverse of PCI (and so
 * CUDA) order, so that code matching NVML and CUDA by index gets the wrong device. */
static void device_defaults(SimDevice *d, unsigned i, unsigned n) {
        uint64_t seed = 0x5eed0000u + i;
        uint64_t a = splitmix(&seed), b = splitmix(&seed);
        memset(d, 0, sizeof *d);
        for (int k = 0; k < 8; k++) {
                d->uuid_bytes[k] = (uint8_t)(a >> (8 * k));
                d->uuid_bytes[8 + k] = (uint8_t)(b >> (8 * k));
        }
        d->uuid_bytes[6] = (uint8_t)((d->uuid_bytes[6] & 0x0f) | 0x40);
        d->uuid_bytes[8] = (uint8_t)((d->uuid_bytes[8] & 0x3f) | 0x80);
        snprintf(d->name, sizeof d->name, "corun simulated GPU");
        d->bus = 0x10 * (n - i);
        d->sm_count = 132;
        d->mem_total = UINT64_C(80) << 30;
        int nodes = numa_nodes();
        d->numa_node = nodes > 0 ? (int)(i % (unsigned)nodes) : -1;
        d->mig_mode = 0;
        d->process_util = 1;
        d->clock_max_mhz = 1980; /* an H100's or H200's */
        d->cur = -1;
}

static char detail[256];

static int device_configure(SimDevice *d, char *spec) {
        char *save = NULL;
        for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                unsigned long v;
                if (!eq) {
                        snprintf(detail, sizeof detail, "'%s' is not key=value", kv);
                        return -1;
                }
                *eq = '\0';
                const char *key = kv, *val = eq + 1;
                int r = 0;
                if (strcmp(key, "name") == 0)
                        snprintf(d->name, sizeof d->name, "%s", val);
                else if (strcmp(key, "uuid") == 0)
                        r = uuid_parse(val, d->uuid_bytes);
                else if (strcmp(key, "bus") == 0 && (r = parse_uint(val, 16, 0xff, &v)) == 0)
                        d->bus = (unsigned)v;
                else if (strcmp(key, "sm") == 0 && (r = parse_uint(val, 10, 100000, &v)) == 0)
                        d->sm_count = (unsigned)v;
                else if (strcmp(key, "mem") == 0)
                        r = parse_size(val, &d->mem_total);
                else if (strcmp(key, "numa") == 0)
                        d->numa_node = strcmp(val, "-1") == 0                     ? -1
                                       : (r = parse_uint(val, 10, 1023, &v)) == 0 ? (int)v
                                                                                  : -1;
                else if (strcmp(key, "mig") == 0)
                        d->mig_mode = strcmp(val, "on") == 0 || strcmp(val, "1") == 0    ? 1
                                      : strcmp(val, "off") == 0 || strcmp(val, "0") == 0 ? 0
                                      : strcmp(val, "unsupported") == 0                  ? -1
                                                                                         : (r = -1);
                else if (strcmp(key, "clock") == 0 && (r = parse_uint(val, 10, 100000, &v)) == 0)
                        d->clock_max_mhz = (uint32_t)v;
                else if (strcmp(key, "putil") == 0 && strcmp(val, "whole") == 0)
                        d->process_util = SIM_PUTIL_WHOLE;
                else if (strcmp(key, "putil") == 0 && (r = parse_uint(val, 10, 1, &v)) == 0)
                        d->process_util = (uint32_t)v;
                else if (strcmp(key, "name") && strcmp(key, "uuid") && strcmp(key, "bus") &&
                         strcmp(key, "sm") && strcmp(key, "putil") && strcmp(key, "clock")) {
                        snprintf(detail, sizeof detail,
                                 "unknown key '%s' (expected name, uuid, bus, sm, mem, numa, mig, "
                                 "putil=0|1|whole, clock)",
                                 key);
                        return -1;
                }
                if (r < 0) {
                        snprintf(detail, sizeof detail, "bad value '%s' for %s", val, key);
                        return -1;
                }
        }
        return 0;
}

static const char *env_or(const char *name, const char *def) {
        const char *v = getenv(name);
        return v && *v ? v : def;
}

static int configure(SimState *s) {
        const char *devices = env_or("CORUN_GPU_SIM_DEVICES", "2");
        char buf[4096];
        unsigned long n;

        memset(s, 0, sizeof *s);
        if (parse_uint(devices, 10, SIM_MAX_DEVICES, &n) == 0) {
                for (unsigned i = 0; i < n; i++)
                        device_defaults(&s->dev[i], i, (unsigned)n);
        } else {
                if (strlen(devices) >= sizeof buf) {
                        snprintf(why, sizeof why, "CORUN_GPU_SIM_DEVICES is too long");
                        return -1;
                }
                snprintf(buf, sizeof buf, "%s", devices);
                n = 1;
                for (const char *p = buf; *p; p++)
                        n += *p == ';';
                if (n > SIM_MAX_DEVICES) {
                        snprintf(why, sizeof why, "CORUN_GPU_SIM_DEVICES: at most %d devices",
                                 SIM_MAX_DEVICES);
                        return -1;
                }
                char *save = NULL, *spec = strtok_r(buf, ";", &save);
                for (unsigned i = 0; i < n; i++, spec = strtok_r(NULL, ";", &save)) {
                        device_defaults(&s->dev[i], i, (unsigned)n);
                        if (spec && device_configure(&s->dev[i], spec) < 0) {
                                snprintf(why, sizeof why, "CORUN_GPU_SIM_DEVICES, device %u: %s", i, detail);
                                return -1;
                        }
                }
        }
        s->n_devices = (uint32_t)n;
        for (unsigned i = 0; i < n; i++) {
                SimDevice *d = &s->dev[i];
                uuid_format(d);
                snprintf(d->bus_id, sizeof d->bus_id, "00000000:%02X:00.0", d->bus);
                for (unsigned j = 0; j < i; j++)
                        if (s->dev[j].bus == d->bus ||
                            memcmp(s->dev[j].uuid_bytes, d->uuid_bytes, 16) == 0) {
                                snprintf(why, sizeof why,
                                         "CORUN_GPU_SIM_DEVICES: devices %u and %u share a %s", j, i,
                                         s->dev[j].bus == d->bus ? "PCI bus" : "UUID");
                                return -1;
                        }
        }

        static const struct {
                const char *env, *def;
                size_t off;
        } durations[] = {
                {"CORUN_GPU_SIM_SAMPLE", "166667us", offsetof(SimState, period_ns)},
                {"CORUN_GPU_SIM_SLICE", "2ms", offsetof(SimState, slice_ns)},
                {"CORUN_GPU_SIM_SWITCH", "0", offsetof(SimState, switch_ns)},
                {"CORUN_GPU_SIM_DEFAULT_KERNEL", "1ms", offsetof(SimState, default_kernel_ns)},
        };
        for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
                const char *v = env_or(durations[i].env, durations[i].def);
                if (sim_parse_duration_ns(v, (uint64_t *)((char *)s + durations[i].off)) < 0) {
                        snprintf(why, sizeof why, "%s: '%s' is not a duration (e.g. 250us, 2ms, 1s)",
                                 durations[i].env, v);
                        return -1;
                }
        }
        if (s->period_ns < 1000000 || s->slice_ns < 1000) {
                snprintf(why, sizeof why,
                         "CORUN_GPU_SIM_SAMPLE must be at least 1ms and CORUN_GPU_SIM_SLICE 1us");
                return -1;
        }
        const char *ctx_mem = env_or("CORUN_GPU_SIM_CTX_MEM", "0");
        if (parse_size(ctx_mem, &s->ctx_mem) < 0) {
                snprintf(why, sizeof why, "CORUN_GPU_SIM_CTX_MEM: '%s' is not a size", ctx_mem);
                return -1;
        }
        const char *kernels = env_or("CORUN_GPU_SIM_KERNELS", "");
        if (strlen(kernels) >= sizeof s->kernels) {
                snprintf(why, sizeof why, "CORUN_GPU_SIM_KERNELS is too long");
                return -1;
        }
        snprintf(s->kernels, sizeof s->kernels, "%s", kernels);
        snprintf(s->driver_version, sizeof s->driver_version, "%s",
                 env_or("CORUN_GPU_SIM_DRIVER", "550.54.15"));
        unsigned long cuda;
        if (parse_uint(env_or("CORUN_GPU_SIM_CUDA", "12040"), 10, 99990, &cuda) < 0) {
                snprintf(why, sizeof why, "CORUN_GPU_SIM_CUDA must be a version such as 12040");
                return -1;
        }
        s->cuda_version = (int)cuda;
        return 0;
}

static int init_lock(SimState *s) {
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
        int r = pthread_mutex_init(&s->lock, &a);
        pthread_mutexattr_destroy(&a);
        return r;
}

SimState *sim_get(void) {
        /* A forked child shares the parent's mapping, which is what we want. */
        if (state)
                return state;
        (void)state_pid;
        const char *path = getenv("CORUN_GPU_SIM_STATE");
        if (!path || !*path) {
                snprintf(why, sizeof why, "CORUN_GPU_SIM_STATE is not set (run through scripts/gpu-sim.sh)");
                return NULL;
        }
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                snprintf(why, sizeof why, "cannot open %s: %s", path, strerror(errno));
                return NULL;
        }
        SimState *s = MAP_FAILED;
        struct stat st;
        if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
                snprintf(why, sizeof why, "cannot lock %s: %s", path, strerror(errno));
                goto out;
        }
        bool fresh = (size_t)st.st_size != sizeof(SimState);
        if (fresh && (ftruncate(fd, 0) < 0 || ftruncate(fd, sizeof(SimState)) < 0)) {
                snprintf(why, sizeof why, "cannot size %s: %s", path, strerror(errno));
                goto out;
        }
        s = mmap(NULL, sizeof(SimState), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (s == MAP_FAILED) {
                snprintf(why, sizeof why, "cannot map %s: %s", path, strerror(errno));
                goto out;
        }
        if (fresh || s->magic != SIM_MAGIC || s->version != SIM_VERSION) {
                if (configure(s) < 0 || init_lock(s) != 0) {
                        munmap(s, sizeof(SimState));
                        s = MAP_FAILED;
                        /* Empty again: the next process configures it anew. */
                        int ignored = ftruncate(fd, 0);
                        (void)ignored;
                        goto out;
                }
                s->epoch_ns = sim_now_ns();
                s->realtime_offset_ns = (int64_t)(clock_ns(CLOCK_REALTIME) - s->epoch_ns);
                for (unsigned i = 0; i < s->n_devices; i++)
                        s->dev[i].sim_ns = s->epoch_ns;
                s->version = SIM_VERSION;
                __atomic_store_n(&s->magic, SIM_MAGIC, __ATOMIC_RELEASE);
        }
out:
        (void)flock(fd, LOCK_UN);
        close(fd);
        if (s == MAP_FAILED)
                return NULL;
        state = s;
        state_pid = getpid();
        return s;
}

void sim_lock(SimState *s) {
        int r = pthread_mutex_lock(&s->lock);
        /* A tenant killed while it held the lock: the state is consistent between any two
         * statements that matter (each update is a few assignments), so carry on. */
        if (r == EOWNERDEAD)
                pthread_mutex_consistent(&s->lock);
}

void sim_unlock(SimState *s) {
        pthread_mutex_unlock(&s->lock);
}

static void record(const SimState *s, SimDevice *d, int32_t pid, uint64_t start, uint64_t end) {
        while (start < end) {
                uint64_t k = (start - s->epoch_ns) / s->period_ns;
                uint64_t period_end = s->epoch_ns + (k + 1) * s->period_ns;
                uint64_t chunk = (end < period_end ? end : period_end) - start;
                SimPeriod *p = &d->periods[k % SIM_PERIODS];
                if (p->k_plus1 != k + 1) {
                        memset(p, 0, sizeof *p);
                        p->k_plus1 = k + 1;
                }
                unsigned i = 0;
                while (i < p->n && p->pid[i] != pid)
                        i++;
                if (i == p->n && p->n < SIM_PERIOD_PIDS) {
                        p->pid[i] = pid;
                        p->busy_ns[i] = 0;
                        p->n++;
                }
                if (i < p->n)
                        p->busy_ns[i] += chunk;
                start += chunk;
        }
}

/* The scheduler's state, separable from the device so that sim_project can run it ahead
 * on a copy. */
typedef struct Sched {
        int32_t cur;
        uint64_t slice_left, switch_left, now;
        uint64_t pending[SIM_MAX_CTX];
        bool used[SIM_MAX_CTX];
} Sched;

/* One step: runs or switches until `until` or until something changes; returns the slot
 * that ran and for how long (ran = 0: idle or switching), false when idle until `until`. */
static bool sched_step(const SimState *s, Sched *c, uint64_t until, int32_t *ret_slot, uint64_t *ret_ran) {
        *ret_slot = -1;
        *ret_ran = 0;
        if (c->now >= until)
                return false;
        if (c->switch_left > 0) {
                uint64_t t = until - c->now < c->switch_left ? until - c->now : c->switch_left;
                c->switch_left -= t;
                c->now += t;
                return true;
        }
        if (c->cur < 0 || c->pending[c->cur] == 0 || c->slice_left == 0) {
                int32_t next = -1;
                for (int i = 1; i <= SIM_MAX_CTX; i++) {
                        int j = ((c->cur < 0 ? SIM_MAX_CTX - 1 : c->cur) + i) % SIM_MAX_CTX;
                        if (c->used[j] && c->pending[j] > 0) {
                                next = j;
                                break;
                        }
                }
                if (next < 0) {
                        c->cur = -1;
                        c->now = until;
                        return false;
                }
                if (c->cur >= 0 && next != c->cur)
                        c->switch_left = s->switch_ns;
                c->cur = next;
                c->slice_left = s->slice_ns;
                return true;
        }
        uint64_t run = c->pending[c->cur];
        if (c->slice_left < run)
                run = c->slice_left;
        if (until - c->now < run)
                run = until - c->now;
        c->pending[c->cur] -= run;
        c->slice_left -= run;
        c->now += run;
        *ret_slot = c->cur;
        *ret_ran = run;
        return true;
}

static void sched_load(const SimDevice *d, Sched *c) {
        c->cur = d->cur;
        c->slice_left = d->slice_left;
        c->switch_left = d->switch_left;
        c->now = d->sim_ns;
        for (int i = 0; i < SIM_MAX_CTX; i++) {
                c->used[i] = d->ctx[i].pid != 0;
                c->pending[i] = c->used[i] ? d->ctx[i].submitted_ns - d->ctx[i].done_ns : 0;
        }
}

/* A run continuing the previous one (no break in time) extends it, so a tenant alone
 * keeps one segment however many slices it runs. */
static void seg_add(SimCtx *c, uint64_t at, uint64_t ran) {
        SimSeg *last = &c->seg[(c->seg_next + SIM_SEGS - 1) % SIM_SEGS];
        if (last->done_hi == c->done_ns && last->done_hi > last->done_lo &&
            last->at + (last->done_hi - last->done_lo) == at) {
                last->done_hi += ran;
                return;
        }
        c->seg[c->seg_next] = (SimSeg){.done_lo = c->done_ns, .done_hi = c->done_ns + ran, .at = at};
        c->seg_next = (c->seg_next + 1) % SIM_SEGS;
}

uint64_t sim_done_at(const SimCtx *c, uint64_t target) {
        if (c->done_ns < target)
                return 0;
        for (unsigned i = 0; i < SIM_SEGS; i++) {
                const SimSeg *g = &c->seg[(c->seg_next + SIM_SEGS - 1 - i) % SIM_SEGS];
                if (g->done_hi == g->done_lo)
                        break;
                if (target > g->done_lo && target <= g->done_hi)
                        return g->at + (target - g->done_lo);
                if (target > g->done_hi)
                        return g->at + (g->done_hi - g->done_lo); /* done before a break */
        }
        return 0;
}

uint64_t sim_resident_after(const SimState *s, const SimDevice *d, const SimCtx *c, uint64_t t) {
        bool other = false;
        /* A switch to another context counts as its time: an event recorded then waits for
         * this context's next slice too (recorded right after this context's last kernel
         * ended, as a launch-and-wait loop does, it falls in the switch away). */
        uint64_t gap = s->switch_ns;
        for (unsigned k = 0; k < SIM_MAX_CTX && !other; k++) {
                const SimCtx *o = &d->ctx[k];
                if (o == c || o->pid == 0)
                        continue;
                for (unsigned i = 0; i < SIM_SEGS && !other; i++) {
                        const SimSeg *g = &o->seg[i];
                        other = g->done_hi > g->done_lo && g->at <= t + gap && t < g->at + (g->done_hi - g->done_lo);
                }
        }
        if (!other)
                return t;
        uint64_t next = 0;
        for (unsigned i = 0; i < SIM_SEGS; i++) {
                const SimSeg *g = &c->seg[i];
                if (g->done_hi > g->done_lo && g->at >= t && (next == 0 || g->at < next))
                        next = g->at;
        }
        return next ? next : t;
}

void sim_advance(SimState *s, SimDevice *d, uint64_t now) {
        Sched c;
        int32_t slot;
        uint64_t ran;

        if (now <= d->sim_ns)
                return;
        sched_load(d, &c);
        while (sched_step(s, &c, now, &slot, &ran))
                if (ran > 0) {
                        record(s, d, d->ctx[slot].pid, c.now - ran, c.now);
                        seg_add(&d->ctx[slot], c.now - ran, ran);
                        d->ctx[slot].done_ns += ran;
                }
        d->cur = c.cur;
        d->slice_left = c.slice_left;
        d->switch_left = c.switch_left;
        d->sim_ns = now;
}

uint64_t sim_project(const SimState *s, const SimDevice *d, const SimCtx *ctx, uint64_t target) {
        Sched c;
        int32_t slot;
        uint64_t ran, done = ctx->done_ns;
        int32_t me = (int32_t)(ctx - d->ctx);

        sched_load(d, &c);
        while (done < target && sched_step(s, &c, UINT64_MAX, &slot, &ran))
                if (slot == me)
                        done += ran;
        return c.now;
}

static bool pid_alive(pid_t pid) {
        return kill(pid, 0) == 0 || errno != ESRCH;
}

void sim_reap(SimDevice *d) {
        for (int i = 0; i < SIM_MAX_CTX; i++)
                if (d->ctx[i].pid != 0 && !pid_alive(d->ctx[i].pid)) {
                        /* Its queued kernels are gone with its context. */
                        memset(&d->ctx[i], 0, sizeof d->ctx[i]);
                        if (d->cur == i)
                                d->cur = -1;
                }
}

SimCtx *sim_ctx(SimDevice *d, pid_t pid, bool create) {
        SimCtx *free_slot = NULL;
        for (int i = 0; i < SIM_MAX_CTX; i++) {
                if (d->ctx[i].pid == pid)
                        return &d->ctx[i];
                if (!free_slot && d->ctx[i].pid == 0)
                        free_slot = &d->ctx[i];
        }
        if (!create)
                return NULL;
        if (!free_slot) {
                sim_reap(d);
                for (int i = 0; i < SIM_MAX_CTX && !free_slot; i++)
                        if (d->ctx[i].pid == 0)
                                free_slot = &d->ctx[i];
        }
        if (free_slot) {
                memset(free_slot, 0, sizeof *free_slot);
                free_slot->pid = pid;
        }
        return free_slot;
}

bool sim_busy_now(const SimDevice *d, uint64_t now) {
        for (unsigned i = 0; i < SIM_MAX_CTX; i++) {
                const SimCtx *c = &d->ctx[i];
                if (!c->pid)
                        continue;
                if (c->submitted_ns > c->done_ns)
                        return true;
                const SimSeg *g = &c->seg[(c->seg_next + SIM_SEGS - 1) % SIM_SEGS];
                uint64_t end = g->at + (g->done_hi - g->done_lo);
                if (g->done_hi > g->done_lo && (end >= now || now - end < SIM_CLOCK_IDLE_AFTER_NS))
                        return true;
        }
        return false;
}

uint64_t sim_mem_used(const SimState *s, const SimDevice *d) {
        uint64_t used = 0;
        for (int i = 0; i < SIM_MAX_CTX; i++)
                if (d->ctx[i].pid != 0)
                        used += d->ctx[i].mem_used + (d->ctx[i].has_context ? s->ctx_mem : 0);
        return used;
}

uint64_t sim_period_ts_usec(const SimState *s, uint64_t k) {
        return (uint64_t)((int64_t)(s->epoch_ns + (k + 1) * s->period_ns) + s->realtime_offset_ns) / 1000;
}

/* The complete periods whose NVML timestamp lies in (from_usec, to_usec], oldest first,
 * no older than `history` periods before now. */
static void period_range(const SimState *s, uint64_t now, uint64_t from_usec, unsigned history,
                         uint64_t *ret_first, uint64_t *ret_end) {
        uint64_t end = (now - s->epoch_ns) / s->period_ns; /* the period holding now: not complete */
        uint64_t first = end > history ? end - history : 0;
        while (first < end && sim_period_ts_usec(s, first) <= from_usec)
                first++;
        *ret_first = first;
        *ret_end = end;
}

/* One NVML sample of busy_ns in period k for pid, unless it rounds to 0 % (NVML keeps
 * samples of busy processes only). */
static void sample_add(const SimState *s, uint64_t k, int32_t pid, uint64_t busy_ns, SimSample *out,
                       unsigned cap, unsigned *n) {
        unsigned util = (unsigned)((busy_ns * 100 + s->period_ns / 2) / s->period_ns);
        if (util == 0)
                return;
        if (out && *n < cap)
                out[*n] = (SimSample){
                        .pid = pid, .ts_usec = sim_period_ts_usec(s, k), .sm_util = util > 100 ? 100 : util};
        (*n)++;
}

unsigned sim_samples(const SimState *s, const SimDevice *d, uint64_t now, uint64_t last_seen_usec,
                     unsigned history, SimSample *out, unsigned cap) {
        uint64_t first, end;
        unsigned n = 0;

        if (history > SIM_PERIODS)
                history = SIM_PERIODS;
        period_range(s, now, last_seen_usec, history, &first, &end);
        for (uint64_t k = first; k < end; k++) {
                const SimPeriod *p = &d->periods[k % SIM_PERIODS];
                if (p->k_plus1 != k + 1)
                        continue;
                if (d->process_util == SIM_PUTIL_WHOLE && p->n > 0) {
                        /* Like the H200's NVML while contexts time-slice: the period's whole
                         * utilisation goes to one process (here the one that ran longest). */
                        uint64_t total = 0;
                        unsigned top = 0;
                        for (unsigned i = 0; i < p->n; i++) {
                                total += p->busy_ns[i];
                                if (p->busy_ns[i] > p->busy_ns[top])
                                        top = i;
                        }
                        sample_add(s, k, p->pid[top], total, out, cap, &n);
                        continue;
                }
                /* Like NVML: one sample per process that was busy in the period. */
                for (unsigned i = 0; i < p->n; i++)
                        sample_add(s, k, p->pid[i], p->busy_ns[i], out, cap, &n);
        }
        return n;
}

uint64_t sim_busy_ns(const SimState *s, const SimDevice *d, pid_t pid, uint64_t from_usec,
                     uint64_t to_usec) {
        uint64_t first, end, busy = 0;

        period_range(s, sim_now_ns(), from_usec, SIM_PERIODS, &first, &end);
        for (uint64_t k = first; k < end && sim_period_ts_usec(s, k) <= to_usec; k++) {
                const SimPeriod *p = &d->periods[k % SIM_PERIODS];
                if (p->k_plus1 != k + 1)
                        continue;
                for (unsigned i = 0; i < p->n; i++)
                        if (p->pid[i] == pid)
                                busy += p->busy_ns[i];
        }
        return busy;
}

uint64_t sim_kernel_ns(const SimState *s, const char *name) {
        size_t len = strlen(name);
        for (const char *p = s->kernels; *p;) {
                const char *semi = strchr(p, ';');
                size_t item = semi ? (size_t)(semi - p) : strlen(p);
                const char *eq = memchr(p, '=', item);
                if (eq && (size_t)(eq - p) == len && memcmp(p, name, len) == 0) {
                        char dur[64];
                        uint64_t ns;
                        size_t dl = item - len - 1;
                        if (dl < sizeof dur) {
                                memcpy(dur, eq + 1, dl);
                                dur[dl] = '\0';
                                if (sim_parse_duration_ns(dur, &ns) == 0)
                                        return ns;
                        }
                }
                p += item + (semi ? 1 : 0);
        }
        return s->default_kernel_ns;
}
