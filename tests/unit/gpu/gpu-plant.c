/* SPDX-License-Identifier: MIT */
/* The time-sliced GPU plant for the share controller's tests (gpu-plant.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu-plant.h"

#define STEP_NS INT64_C(100000)        /* CPU side: each process acts every 100 µs */
#define SLICE_NS INT64_C(2000000)      /* time slice, as tests/gpu-sim's default */
#define SWITCH_NS INT64_C(50000)       /* context switch */
#define MIN_SLEEP_NS INT64_C(200000)   /* the shim's shortest sleep (§5.4) */
#define MAX_SLEEP_NS INT64_C(10000000) /* and its longest before it looks at the rate again */
#define NVML_LATENCY_NS INT64_C(5000000)
#define CONTROL_PHASE_NS INT64_C(40000000) /* the runner's timer is not aligned with NVML */
#define QUEUE 4096
#define NVML_PERIODS_MAX (PLANT_PERIODS_MAX + 2)

typedef struct Kernel {
        int64_t left_ns;
        int64_t est_ns;
} Kernel;

typedef enum State {
        READY,         /* will launch at the next step */
        SLEEP_TOKENS,  /* owes tokens: sleeps before the next launch */
        WAIT_INFLIGHT, /* too much estimated work in flight */
        SYNC,          /* waits for its own kernel (a demand-limited job) */
        THINK,         /* CPU work between kernels */
} State;

typedef struct Tenant {
        const PlantTenantSpec *spec;
        GpuRegionGpu g;
        GpuLimitTenant c;
        Kernel q[QUEUE];
        size_t head, len;
        int64_t pending_ns, inflight_est_ns;
        State state;
        int64_t wake_ns;
        bool waited;
        uint64_t launches, charged_seen, launches_seen;
        int64_t period_busy[NVML_PERIODS_MAX];
} Tenant;

typedef struct Plant {
        const PlantSpec *spec;
        PlantResult *r;
        size_t n;
        Tenant *t;
        uint64_t rng;
        int cur; /* tenant on the GPU, -1 none */
        int64_t slice_left, switch_left;
        int64_t published_ns[NVML_PERIODS_MAX]; /* when each NVML period becomes visible */
        int64_t seen_period;                    /* newest NVML period the runner has counted, −1 none */
} Plant;

static double rnd(Plant *p) { /* splitmix64 → [0, 1) */
        uint64_t z = (p->rng += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static double gauss(Plant *p) {
        double u = rnd(p), v = rnd(p);
        return sqrt(-2.0 * log(u > 1e-300 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static double demand_at(const PlantTenantSpec *s, double now_s) {
        return s->demand_after > 0 && now_s >= s->step_s ? s->demand_after : s->demand;
}

static bool runs_at(const PlantTenantSpec *s, double now_s) {
        if (now_s < s->start_s || (s->stop_s > 0 && now_s >= s->stop_s))
                return false;
        return !(now_s >= s->pause_s && now_s < s->resume_s);
}

static Kernel make_kernel(Plant *p, const PlantTenantSpec *s) {
        unsigned sm = p->spec->sm_count ? p->spec->sm_count : 188;
        double dur = s->kernel_ms * 1e6 * 188.0 / sm;
        dur *= 1.0 + p->spec->kernel_jitter * (2 * rnd(p) - 1);
        double est = s->est_ms > 0 ? s->est_ms * 1e6 : dur * (s->est_factor > 0 ? s->est_factor : 1.0);
        est *= fmax(0.05, 1.0 + p->spec->est_noise * gauss(p));
        return (Kernel){.left_ns = dur < 1000 ? 1000 : (int64_t)dur, .est_ns = est < 1 ? 1 : (int64_t)est};
}

static void submit(Tenant *t, Kernel k) {
        if (t->len == QUEUE)
                abort(); /* the in-flight bound keeps queues far shorter */
        t->q[(t->head + t->len++) % QUEUE] = k;
        t->pending_ns += k.left_ns;
        t->inflight_est_ns += k.est_ns;
}

/* Waits off a debt: sleeps for what the debt takes at the current rate, but at most
 * MAX_SLEEP_NS at a time, then looks again, so that a new rate takes effect within that
 * (a rate near 0 would otherwise put the process to sleep for seconds). */
static bool token_wait(Tenant *t, int64_t now) {
        uint64_t w = gpu_bucket_wait_ns(&t->g, atomic_load(&t->g.tokens_ns));
        if (w == 0)
                return false;
        if (w < (uint64_t)MIN_SLEEP_NS)
                w = MIN_SLEEP_NS;
        if (w > (uint64_t)MAX_SLEEP_NS)
                w = MAX_SLEEP_NS;
        t->state = SLEEP_TOKENS;
        t->wake_ns = now + (int64_t)w;
        t->waited = true;
        return true;
}

/* The shim's launch path for one process at `now`: what it does until it has to wait. */
static void tenant_act(Plant *p, Tenant *t, int64_t now) {
        const PlantTenantSpec *s = t->spec;
        double now_s = (double)now / 1e9, d = demand_at(s, now_s);
        bool async = d <= 0 || d >= 1;

        for (int guard = 0; guard < 10000; guard++) {
                switch (t->state) {
                case SLEEP_TOKENS: {
                        if (now < t->wake_ns)
                                return;
                        t->state = READY; /* looks at the bucket again, at the current rate */
                        continue;
                }
                case WAIT_INFLIGHT:
                        if (t->inflight_est_ns >= t->g.inflight_max_ns)
                                return;
                        t->state = READY;
                        continue;
                case SYNC:
                        if (t->pending_ns > 0)
                                return;
                        t->state = THINK;
                        t->wake_ns = now + (int64_t)(s->kernel_ms * 1e6 * (1.0 / d - 1.0));
                        continue;
                case THINK:
                        if (now < t->wake_ns)
                                return;
                        t->state = READY;
                        continue;
                case READY:
                        break;
                }
                if (!runs_at(s, now_s))
                        return;
                bool charging = atomic_load(&t->g.rate_ppm) != GPU_RATE_UNLIMITED;
                if (charging) {
                        /* Pay after: a launch goes ahead when the bucket is not in debt, and
                         * a debt is waited off before the next one, so a charge and the GPU
                         * time it stands for fall in the same period. */
                        gpu_bucket_refill(&t->g, (uint64_t)now);
                        if (token_wait(t, now))
                                return;
                }
                if (t->inflight_est_ns >= t->g.inflight_max_ns) {
                        t->state = WAIT_INFLIGHT;
                        t->waited = true;
                        return;
                }
                Kernel k = make_kernel(p, s);
                t->launches++;
                atomic_fetch_add(&t->g.launches[GPU_ENTRY_LAUNCH], 1);
                if (charging)
                        gpu_bucket_charge(&t->g, k.est_ns);
                else /* not charged, still counted (region.h) */
                        atomic_fetch_add(&t->g.charged_ns, (uint64_t)k.est_ns);
                submit(t, k);
                if (!async) {
                        t->state = SYNC;
                        return;
                }
        }
}

/* Runs tenant t's queue for up to `ns` in the step that starts at `at`; returns what it ran. */
static int64_t gpu_run(Tenant *t, int64_t ns, int64_t at) {
        int64_t ran = 0;
        while (ran < ns && t->len > 0) {
                Kernel *k = &t->q[t->head];
                int64_t r = k->left_ns < ns - ran ? k->left_ns : ns - ran;
                k->left_ns -= r;
                ran += r;
                if (k->left_ns == 0) {
                        t->inflight_est_ns -= k->est_ns;
                        t->head = (t->head + 1) % QUEUE;
                        t->len--;
                }
        }
        t->pending_ns -= ran;
        size_t per = (size_t)(at / PLANT_PERIOD_NS);
        t->period_busy[per < NVML_PERIODS_MAX ? per : NVML_PERIODS_MAX - 1] += ran;
        return ran;
}

/* The GPU from now to now + STEP_NS: round-robin over tenants with queued work, like
 * tests/gpu-sim's scheduler (preemptive slices; a switch costs SWITCH_NS; no switch when
 * the same context goes on). Busy time lands in the bin of the step's start. */
static void gpu_advance(Plant *p, int64_t now) {
        int64_t left = STEP_NS;
        while (left > 0) {
                if (p->switch_left > 0) {
                        int64_t s = p->switch_left < left ? p->switch_left : left;
                        p->switch_left -= s;
                        left -= s;
                        continue;
                }
                if (p->cur < 0 || p->t[p->cur].pending_ns == 0 || p->slice_left == 0) {
                        int next = -1;
                        for (size_t i = 1; i <= p->n; i++) {
                                size_t j = ((p->cur < 0 ? p->n - 1 : (size_t)p->cur) + i) % p->n;
                                if (p->t[j].pending_ns > 0) {
                                        next = (int)j;
                                        break;
                                }
                        }
                        if (next < 0) {
                                p->cur = -1;
                                return;
                        }
                        if (p->cur >= 0 && next != p->cur)
                                p->switch_left = SWITCH_NS;
                        p->cur = next;
                        p->slice_left = SLICE_NS;
                        continue;
                }
                Tenant *t = &p->t[p->cur];
                int64_t run = p->slice_left < left ? p->slice_left : left;
                int64_t ran = gpu_run(t, run, now);
                p->r->t[p->cur].bin_ns[now / PLANT_BIN_NS] += (double)ran;
                p->slice_left -= ran;
                left -= ran;
        }
}

/* NVML period k is published NVML_LATENCY_NS after it ends, sometimes a period later, and
 * never before period k − 1 (the driver's buffer is read in order). A period in which no
 * process was busy has no sample of its own: it becomes visible with the next one that
 * has, as a share of 0 (gpu_share_accum counts such a gap as covered time). */
static double runner_measure(Plant *p, size_t i, int64_t now, int64_t newest) {
        (void)now;
        double sum = 0;
        for (int64_t k = p->seen_period + 1; k <= newest; k++) {
                double pct = round(100.0 * (double)p->t[i].period_busy[k] / (double)PLANT_PERIOD_NS);
                if (pct > 0 && p->spec->nvml_noise_pp > 0) {
                        double n = floor((2 * p->spec->nvml_noise_pp + 1) * rnd(p)) - p->spec->nvml_noise_pp;
                        pct = fmin(100, fmax(0, pct + n));
                }
                sum += pct / 100.0;
        }
        return sum / (double)(newest - p->seen_period);
}

static void control_step(Plant *p, int64_t now, double dt_s) {
        PlantResult *r = p->r;
        /* The newest published period that has a sample (any busy process). */
        int64_t newest = p->seen_period;
        for (int64_t k = p->seen_period + 1; k < NVML_PERIODS_MAX && p->published_ns[k] <= now; k++) {
                bool busy = false;
                for (size_t i = 0; i < p->n; i++)
                        busy = busy || p->t[i].period_busy[k] > 0;
                if (busy)
                        newest = k;
        }
        GpuLimitTenant c[PLANT_TENANTS];
        for (size_t i = 0; i < p->n; i++) {
                Tenant *t = &p->t[i];
                uint64_t charged = atomic_load(&t->g.charged_ns);
                t->c.measured = newest > p->seen_period ? runner_measure(p, i, now, newest) : NAN;
                t->c.charged = (double)(charged - t->charged_seen) / (dt_s * 1e9);
                t->c.backlogged = t->waited;
                t->c.active = t->launches > t->launches_seen;
                t->charged_seen = charged;
                t->launches_seen = t->launches;
                t->waited = false;
                c[i] = t->c;
        }
        if (newest > p->seen_period)
                p->seen_period = newest;
        gpu_limiter_step(c, p->n, dt_s);
        size_t k = r->n_steps++;
        r->step_at_s[k] = (double)now / 1e9;
        for (size_t i = 0; i < p->n; i++) {
                Tenant *t = &p->t[i];
                t->c = c[i];
                r->t[i].rate[k] = c[i].rate;
                r->t[i].measured[k] = c[i].measured;
                r->t[i].lent[k] = c[i].lent;
                r->t[i].scale[k] = c[i].scale;
                atomic_store(&t->g.rate_ppm,
                             isinf(c[i].rate) ? GPU_RATE_UNLIMITED : (uint64_t)llround(c[i].rate * 1e6));
        }
}

int plant_run(const PlantSpec *spec, PlantResult *r) {
        Plant p = {.spec = spec, .r = r, .rng = spec->seed ? spec->seed : 1, .cur = -1, .seen_period = -1};
        int64_t end = (int64_t)(spec->seconds * 1e9);
        if (end / PLANT_PERIOD_NS + 2 >= PLANT_PERIODS_MAX)
                return -EINVAL;

        memset(r, 0, sizeof *r);
        for (size_t i = 0; i < PLANT_TENANTS && spec->t[i].share > 0; i++)
                p.n++;
        r->n_tenants = p.n;
        r->n_bins = (size_t)(end / PLANT_BIN_NS) + 1;
        p.t = calloc(p.n, sizeof *p.t);
        if (!p.t)
                return -ENOMEM;
        double depth = (spec->depth_ms > 0 ? spec->depth_ms : 50) * 1e6;
        r->depth_ns = depth;
        r->inflight_max_ns = 2 * depth;
        for (size_t i = 0; i < p.n; i++) {
                Tenant *t = &p.t[i];
                t->spec = &spec->t[i];
                t->c.share = spec->t[i].share;
                t->c.work_conserving = spec->t[i].work_conserving;
                /* As the runner creates the region: the bucket full, the rate the share. */
                t->g.depth_ns = (int64_t)depth;
                t->g.inflight_max_ns = (int64_t)(2 * depth);
                t->g.share_ppm = (uint32_t)llround(spec->t[i].share * 1e6);
                atomic_store(&t->g.rate_ppm, spec->t[i].share >= 1 ? GPU_RATE_UNLIMITED : t->g.share_ppm);
                atomic_store(&t->g.tokens_ns, t->g.depth_ns);
                atomic_store(&t->g.refill_ns, 0);
                r->t[i].bin_ns = calloc(r->n_bins, sizeof(double));
                r->t[i].cum_ns = calloc(r->n_bins + 1, sizeof(double));
                if (!r->t[i].bin_ns || !r->t[i].cum_ns) {
                        free(p.t);
                        plant_result_done(r);
                        return -ENOMEM;
                }
        }
        p.published_ns[0] = PLANT_PERIOD_NS + NVML_LATENCY_NS;
        for (size_t k = 0; k < NVML_PERIODS_MAX; k++) {
                int64_t at = (int64_t)(k + 1) * PLANT_PERIOD_NS + NVML_LATENCY_NS;
                if (spec->nvml_late > 0 && rnd(&p) < spec->nvml_late)
                        at += PLANT_PERIOD_NS;
                p.published_ns[k] = k > 0 && p.published_ns[k - 1] > at ? p.published_ns[k - 1] : at;
        }

        int64_t next_control = CONTROL_PHASE_NS, last_control = 0;
        for (int64_t now = 0; now < end; now += STEP_NS) {
                if (now >= next_control) {
                        control_step(&p, now, (double)(now - last_control) / 1e9);
                        last_control = now;
                        next_control += PLANT_PERIOD_NS;
                }
                for (size_t i = 0; i < p.n; i++)
                        tenant_act(&p, &p.t[i], now);
                gpu_advance(&p, now);
        }
        for (size_t i = 0; i < p.n; i++) {
                r->t[i].final = p.t[i].c;
                r->t[i].launches = p.t[i].launches;
                for (size_t k = 0; k < r->n_bins; k++)
                        r->t[i].cum_ns[k + 1] = r->t[i].cum_ns[k] + r->t[i].bin_ns[k];
        }
        free(p.t);
        return 0;
}

void plant_result_done(PlantResult *r) {
        for (size_t i = 0; i < PLANT_TENANTS; i++) {
                free(r->t[i].bin_ns);
                free(r->t[i].cum_ns);
                r->t[i].bin_ns = r->t[i].cum_ns = NULL;
        }
}

double plant_share(const PlantResult *r, size_t i, double from_s, double to_s) {
        size_t a = (size_t)llround(from_s * 1e3), b = (size_t)llround(to_s * 1e3);
        if (b > r->n_bins)
                b = r->n_bins;
        if (b <= a)
                return 0;
        return (r->t[i].cum_ns[b] - r->t[i].cum_ns[a]) / ((double)(b - a) * (double)PLANT_BIN_NS);
}

void plant_share_range(const PlantResult *r, size_t i, double from_s, double to_s, double win_s,
                       double *ret_min, double *ret_max) {
        double lo = INFINITY, hi = -INFINITY;
        for (double s = from_s; s + win_s <= to_s + 1e-9; s += 0.01) {
                double x = plant_share(r, i, s, s + win_s);
                lo = fmin(lo, x);
                hi = fmax(hi, x);
        }
        *ret_min = lo;
        *ret_max = hi;
}
