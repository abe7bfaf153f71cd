/* SPDX-License-Identifier: MIT */
/* Launches: every launch entry point counts in the region and, unless the job's rate is
 * unlimited, charges its estimated GPU time to the job's bucket (region.h) and waits off
 * a debt before it goes to the driver. Launches made while their stream captures are
 * counted as "captured" and charged when their graph is launched.
 *
 * The estimate (GPU ns) is per CUfunction (per CUgraphExec for graphs), learnt with
 * events: the first launch of each and then one in MEASURE_EVERY of a thread's launches
 * (but at most one a millisecond, MEASURE_GAP_NS, and at least one in 50 ms,
 * MEASURE_MAX_GAP_NS) is bracketed by two events recorded on its stream just before and
 * just after it (after any throttling wait, so a wait is never inside the bracket; work
 * queued before the bracket only delays its start event). The elapsed time between them
 * is the launch's GPU time, plus the time slices of other contexts that ran in between (a
 * time-sliced GPU does not stop the clock for them). The estimate is therefore the mean
 * of the lower quarter of the last SAMPLES measurements: a slice that lands inside a
 * bracket inflates that sample, which falls in the upper three quarters (beside a tenant
 * that is always busy, about half of the brackets of a 1 ms kernel hold one of its 2 ms
 * slices), while a kernel whose time really changes moves the lower quarter within
 * 3·SAMPLES/4 measurements. Kernels are keyed by
 * function and launch shape (grid and block size), graphs by CUgraphExec. A launch not
 * measured yet costs what this process's measured launches cost on average (an EWMA over
 * all of them), DEFAULT_COST_NS before any: a program of many short kernels is not
 * charged a millisecond for each until each has been measured. A graph not measured yet
 * costs the estimates of the launches captured into it (graph.c), when it was captured
 * by this process and instantiated through an entry point we follow.
 *
 * Work in flight: each process records a fence event every quarter of inflight_max_ns of
 * charged work and, when its charged-but-not-retired work exceeds inflight_max_ns, waits
 * for the oldest fences (counted as throttled time): tokens alone would let a job queue
 * seconds of work while it holds them.
 *
 * One process may drive several of the job's GPUs: the fences, the in-flight sums and
 * each thread's bracket are kept per region GPU, and their events are created while a
 * context of that GPU is current (an event is recorded only on a stream of its own
 * context).
 *
 * Fast path (no measurement due, no debt): a TLS read, one cost-table probe, a vDSO
 * clock read, one call of the driver's cuStreamIsCapturing (inside the cost measured on
 * an H200, docs/performance.md) and a handful of relaxed atomics on the region; no
 * system call of ours, no lock. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "shim/shim.h"

#define DEFAULT_COST_NS INT64_C(1000000)
#define MEASURE_EVERY 64
/* ...and no sooner than MEASURE_GAP_NS after the thread's last bracket on that GPU: two
 * cuEventRecord calls and the query cost the real driver about 10-20 µs (an H200, driver
 * 580: 1 in 64 of 4.5-µs launches added 280 ns to each), so a thread launching tiny
 * kernels back to back is measured about a thousand times a second, not once per 64. */
#define MEASURE_GAP_NS 1000000u
/* ...and no later than MEASURE_MAX_GAP_NS after it, however few launches there were: a
 * job of 10 ms kernels capped at 30 % launches 30 a second, and one in 64 would measure it
 * every two seconds, its estimate resting on the first bracket (taken while every tenant
 * starts at once, its kernels sliced by theirs) for most of a run. */
#define MEASURE_MAX_GAP_NS 50000000u
#define MIN_SLEEP_NS 200000u
#define MAX_SLEEP_NS 10000000u /* re-read the controller's rate at least this often (a debt taken at a rate near 0 must not outlive a higher rate: the controller runs every 200 ms) */
#define REFILL_EVERY_NS 20000u
#define COSTS 4096             /* power of two */
#define COST_PROBES 16
#define FENCES 16

#define SAMPLES 8

typedef struct Cost {
        _Atomic uintptr_t key;
        _Atomic int64_t ns; /* the estimate */
        _Atomic uint32_t samples;
        _Atomic int64_t sample[SAMPLES]; /* the last ones, a ring */
} Cost;
static Cost costs[COSTS];
static _Atomic int64_t unmeasured_ns = DEFAULT_COST_NS; /* the cost of a launch not measured yet */
static _Atomic bool measured_any;

/* The bracket a thread has in flight on one GPU. */
typedef struct Tracker {
        CUevent ev[2];
        bool have_events, pending;
        const void *key;
        int64_t charged;
        GpuRegionGpu *g;
        uint32_t countdown;
        uint64_t last_bracket;  /* shim_now_ns of the last bracket taken (0: none yet) */
        uint64_t query_after;   /* an overdue bracket still queued is not asked again before this */
} Tracker;
static SHIM_TLS Tracker T[GPU_REGION_GPUS];
/* Estimates of the launches this thread captured since its last cuStreamEndCapture. */
static SHIM_TLS int64_t capture_ns;

/* This process's work in flight on one GPU. */
typedef struct Fences {
        _Atomic int64_t charged, retired, next_fence;
        pthread_mutex_t lock;
        struct {
                CUevent ev;
                int64_t upto;
        } fence[FENCES];
        CUevent pool[FENCES];
        unsigned head, n;
        bool pool_made;
} Fences;
static Fences F[GPU_REGION_GPUS] = {[0 ... GPU_REGION_GPUS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};

typedef struct Launch {
        GpuRegionGpu *g; /* NULL: pass through, count nothing */
        int gi;          /* its index in the region */
        const void *key;
        CUstream stream;
        int64_t cost;     /* charged; 0 when not charged */
        int64_t inflight; /* this process's charged work after this launch */
        uint64_t now;
        GpuEntry entry;
        bool ptsz, captured, measure;
} Launch;

static Cost *cost_slot(const void *key, bool create) {
        uintptr_t k = (uintptr_t)key;
        if (!k)
                return NULL;
        size_t h = (size_t)(((uint64_t)k >> 4) * UINT64_C(0x9E3779B97F4A7C15) >> 52);
        for (size_t i = 0; i < COST_PROBES; i++) {
                Cost *c = &costs[(h + i) & (COSTS - 1)];
                uintptr_t cur = atomic_load_explicit(&c->key, memory_order_acquire);
                if (cur == k)
                        return c;
                if (cur == 0) {
                        if (!create)
                                return NULL;
                        if (atomic_compare_exchange_strong(&c->key, &cur, k) || cur == k)
                                return c;
                }
        }
        return NULL;
}

/* ...but beside contexts that are busy most of the time (the runner's others_busy_ppm at
 * least this), a kernel longer than a time slice is cut by their slices in nearly every
 * timing, and the lower quarter is no cleaner than the rest: there the estimate is the
 * own GPU time of the median timing, the others' slices taken out (gpu_timeslice_own_ns):
 * the median, since a timing without them (a moment the others idled) would read far
 * too low once corrected. */
#define OTHERS_BUSY_PPM 750000u

static void cost_learn(const void *key, int64_t ns, GpuRegionGpu *g) {
        Cost *c = cost_slot(key, true);
        if (!c || ns <= 0)
                return;
        uint32_t n = atomic_fetch_add_explicit(&c->samples, 1, memory_order_relaxed);
        atomic_store_explicit(&c->sample[n % SAMPLES], ns, memory_order_relaxed);
        unsigned have = n + 1 < SAMPLES ? n + 1 : SAMPLES;
        int64_t v[SAMPLES];
        for (unsigned i = 0; i < have; i++) {
                /* Insertion sort of at most 8: the slow path of one launch in 64. */
                int64_t x = atomic_load_explicit(&c->sample[i], memory_order_relaxed);
                unsigned j = i;
                for (; j > 0 && v[j - 1] > x; j--)
                        v[j] = v[j - 1];
                v[j] = x;
        }
        unsigned low = (have + 3) / 4;
        int64_t sum = 0;
        for (unsigned i = 0; i < low; i++)
                sum += v[i];
        int64_t est = sum / low;
        /* The slice measured this boot (corun doctor --gpu-timeslice), else the H200's. */
        int64_t slice = g->timeslice_ns ? g->timeslice_ns : GPU_TIMESLICE_NS;
        if (est > slice &&
            atomic_load_explicit(&g->others_busy_ppm, memory_order_relaxed) >= OTHERS_BUSY_PPM) {
                /* The own time of the median timing. */
                est = gpu_timeslice_own_ns(
                        have % 2 ? v[have / 2] : (v[have / 2 - 1] + v[have / 2]) / 2, slice,
                        g->timeslice_ns ? g->timeslice_switch_ns : GPU_TIMESLICE_SWITCH_NS);
                atomic_fetch_add_explicit(&g->sliced_estimates, 1, memory_order_relaxed);
        }
        atomic_store_explicit(&c->ns, est > 0 ? est : 1, memory_order_relaxed);
}

int64_t shim_capture_take(void) {
        int64_t ns = capture_ns;
        capture_ns = 0;
        return ns;
}

void shim_cost_seed(const void *key, int64_t ns) {
        Cost *c = cost_slot(key, true);
        if (c && ns > 0 && atomic_load_explicit(&c->samples, memory_order_relaxed) == 0)
                atomic_store_explicit(&c->ns, ns, memory_order_relaxed);
}

/* A kernel's key: its function and launch shape (the same kernel on another grid is
 * another cost). Never 0. */
static const void *kernel_key(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                              unsigned bz) {
        uint64_t shape = ((uint64_t)gx * gy * gz) * UINT64_C(0x9E3779B97F4A7C15) ^
                         ((uint64_t)bx * by * bz) * UINT64_C(0xC2B2AE3D27D4EB4F);
        uintptr_t k = (uintptr_t)f ^ (uintptr_t)(shape << 4);
        return (const void *)(k ? k : 1);
}

static CUresult record(CUevent ev, CUstream s, bool ptsz) {
        CUresult (*rec)(CUevent, CUstream) = ptsz ? shim.real.cuEventRecord_ptsz : shim.real.cuEventRecord;
        return rec ? rec(ev, s) : CUDA_ERROR_NOT_INITIALIZED;
}

/* Takes the thread's bracket on t's GPU if it completed. */
static void harvest(Tracker *t) {
        CUresult r = shim.real.cuEventQuery(t->ev[1]);
        if (r == CUDA_ERROR_NOT_READY)
                return;
        t->pending = false;
        float ms;
        if (r != CUDA_SUCCESS || shim.real.cuEventElapsedTime(&ms, t->ev[0], t->ev[1]) != CUDA_SUCCESS || ms < 0)
                return;
        int64_t ns = (int64_t)((double)ms * 1e6 + 0.5);
        if (ns < 1)
                ns = 1; /* ran: never "unmeasured" */
        cost_learn(t->key, ns, t->g);
        /* The first measurement replaces the default; later ones move it by 1/8. */
        int64_t d = atomic_load_explicit(&unmeasured_ns, memory_order_relaxed);
        bool any = atomic_exchange_explicit(&measured_any, true, memory_order_relaxed);
        atomic_store_explicit(&unmeasured_ns, any ? d + (ns - d) / 8 : ns, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->g->measured_ns, (uint64_t)ns, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->g->sampled_ns, (uint64_t)t->charged, memory_order_relaxed);
}

static void sleep_ns(uint64_t ns) {
        struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
        nanosleep(&ts, NULL); /* EINTR: the caller re-checks the balance anyway */
}

/* Waits until the bucket's balance is paid off (the debt is shared by the job). */
static void pay(GpuRegionGpu *g, Tracker *t, int64_t balance, uint64_t start) {
        uint64_t now = start;
        if (t->pending)
                harvest(t); /* waiting anyway: learn as early as possible */
        while (balance < 0 && atomic_load_explicit(&g->rate_ppm, memory_order_relaxed) != GPU_RATE_UNLIMITED) {
                uint64_t w = gpu_bucket_wait_ns(g, balance);
                sleep_ns(w < MIN_SLEEP_NS ? MIN_SLEEP_NS : w > MAX_SLEEP_NS ? MAX_SLEEP_NS : w);
                now = shim_now_ns();
                gpu_bucket_refill(g, now);
                balance = atomic_load_explicit(&g->tokens_ns, memory_order_relaxed);
        }
        atomic_fetch_add_explicit(&g->throttled_ns, now - start, memory_order_relaxed);
        atomic_fetch_add_explicit(&g->waits, 1, memory_order_relaxed);
}

static int64_t inflight_max(const GpuRegionGpu *g) {
        return g->inflight_max_ns > 0 ? g->inflight_max_ns : 2 * (g->depth_ns > 0 ? g->depth_ns : 100000000);
}

/* Retires completed fences from the oldest; with wait, blocks on them until `need` is
 * retired. Lock held. */
static void fences_retire(Fences *f, int64_t need, bool wait) {
        while (f->n > 0) {
                CUevent ev = f->fence[f->head].ev;
                CUresult r = shim.real.cuEventQuery(ev);
                if (r == CUDA_ERROR_NOT_READY) {
                        if (!wait || atomic_load(&f->retired) >= need)
                                return;
                        r = shim.real.cuEventSynchronize(ev);
                }
                atomic_store(&f->retired, f->fence[f->head].upto);
                f->head = (f->head + 1) % FENCES;
                f->n--;
        }
}

static void inflight_wait(GpuRegionGpu *g, Fences *f, int64_t need) {
        uint64_t start = shim_now_ns();
        pthread_mutex_lock(&f->lock);
        fences_retire(f, need, true);
        pthread_mutex_unlock(&f->lock);
        atomic_fetch_add_explicit(&g->throttled_ns, shim_now_ns() - start, memory_order_relaxed);
        atomic_fetch_add_explicit(&g->waits, 1, memory_order_relaxed);
}

/* After a charged launch: a fence every quarter of the bound. The pool is made at the
 * first, in the context current then: one of l's GPU. */
static void inflight_fence(const Launch *l) {
        Fences *f = &F[l->gi];
        int64_t max = inflight_max(l->g);
        if (l->inflight < atomic_load_explicit(&f->next_fence, memory_order_relaxed))
                return;
        pthread_mutex_lock(&f->lock);
        if (!f->pool_made) {
                f->pool_made = true;
                for (unsigned i = 0; i < FENCES; i++)
                        if (shim.real.cuEventCreate(&f->pool[i], CU_EVENT_DEFAULT) != CUDA_SUCCESS)
                                f->pool[i] = NULL;
        }
        fences_retire(f, 0, false);
        unsigned k = (f->head + f->n) % FENCES;
        if (f->n < FENCES && f->pool[k] && record(f->pool[k], l->stream, l->ptsz) == CUDA_SUCCESS) {
                f->fence[k].ev = f->pool[k];
                f->fence[k].upto = l->inflight;
                f->n++;
        }
        atomic_store(&f->next_fence, l->inflight + max / 4);
        pthread_mutex_unlock(&f->lock);
}

/* shim_init() has run and the real entry point exists (NOT_LOADED before): nothing is
 * charged for a launch that cannot be made. */
static void launch_begin(Launch *l, GpuEntry entry, const void *key, CUstream stream, bool ptsz) {
        *l = (Launch){.key = key, .stream = stream, .entry = entry, .ptsz = ptsz};
        if (unlikely(!shim.region))
                return;
        int gi = shim_current_gpu();
        if (unlikely(gi < 0))
                return;
        GpuRegionGpu *g = l->g = &shim.region->gpu[gi];
        l->gi = gi;
        Tracker *t = &T[gi];
        Fences *f = &F[gi];

        int status = CU_STREAM_CAPTURE_STATUS_NONE;
        CUresult (*capturing)(CUstream, int *) = ptsz ? shim.real.cuStreamIsCapturing_ptsz
                                                      : shim.real.cuStreamIsCapturing;
        if (capturing && capturing(stream, &status) == CUDA_SUCCESS && status != CU_STREAM_CAPTURE_STATUS_NONE) {
                l->captured = true; /* nothing runs now and an event would join the graph */
                Cost *c = cost_slot(key, false);
                int64_t est = c ? atomic_load_explicit(&c->ns, memory_order_relaxed) : 0;
                capture_ns += est > 0 ? est : atomic_load_explicit(&unmeasured_ns, memory_order_relaxed);
                return;
        }
        if (atomic_load_explicit(&g->rate_ppm, memory_order_relaxed) == GPU_RATE_UNLIMITED)
                return;

        Cost *c = cost_slot(key, false);
        bool learned = c && atomic_load_explicit(&c->samples, memory_order_relaxed) > 0;
        uint64_t now = shim_now_ns();
        uint64_t since = now - t->last_bracket;
        bool overdue = since >= MEASURE_MAX_GAP_NS;
        if (unlikely(t->pending) && (!learned || t->countdown == 0 || (overdue && now >= t->query_after))) {
                harvest(t); /* before this launch's cost: it may be what was measured */
                if (t->pending && overdue) /* still queued: ask again in a millisecond, not at every launch */
                        t->query_after = now + MEASURE_GAP_NS;
                c = cost_slot(key, false);
                learned = c && atomic_load_explicit(&c->samples, memory_order_relaxed) > 0;
        }
        /* Not measured yet: a seed (a graph's captured kernels) or the process's mean. */
        l->cost = c ? atomic_load_explicit(&c->ns, memory_order_relaxed) : 0;
        if (!learned && l->cost <= 0)
                l->cost = atomic_load_explicit(&unmeasured_ns, memory_order_relaxed);
        if (unlikely(l->cost <= 0))
                l->cost = 1;
        /* Refills are lazy and exact whenever they happen: at high launch rates one per
         * REFILL_EVERY_NS saves two atomic writes per launch, and a launch that finds the
         * bucket short refills before it decides to wait. */
        if (now - atomic_load_explicit(&g->refill_ns, memory_order_relaxed) >= REFILL_EVERY_NS)
                gpu_bucket_refill(g, now);
        l->now = now;
        int64_t balance = gpu_bucket_charge(g, l->cost);
        if (unlikely(balance < 0)) {
                gpu_bucket_refill(g, now);
                balance = atomic_load_explicit(&g->tokens_ns, memory_order_relaxed);
                if (balance < 0)
                        pay(g, t, balance, now);
        }
        l->inflight = atomic_fetch_add_explicit(&f->charged, l->cost, memory_order_relaxed) + l->cost;
        int64_t max = inflight_max(g);
        if (unlikely(l->inflight - atomic_load_explicit(&f->retired, memory_order_relaxed) > max))
                inflight_wait(g, f, l->inflight - max);

        if (likely(learned && (t->countdown > 0 || since < MEASURE_GAP_NS) && !overdue)) {
                if (t->countdown > 0)
                        t->countdown--;
                return;
        }
        if (t->pending)
                return;
        if (!t->have_events) {
                /* In the current context: one of this GPU's, like the stream's. */
                if (shim.real.cuEventCreate(&t->ev[0], CU_EVENT_DEFAULT) != CUDA_SUCCESS ||
                    shim.real.cuEventCreate(&t->ev[1], CU_EVENT_DEFAULT) != CUDA_SUCCESS)
                        return;
                t->have_events = true;
        }
        /* Last thing before the launch: nothing but the launch lies inside the bracket. */
        l->measure = record(t->ev[0], stream, ptsz) == CUDA_SUCCESS;
}

static CUresult launch_end(Launch *l, CUresult r) {
        GpuRegionGpu *g = l->g;
        if (!g)
                return r;
        if (r != CUDA_SUCCESS) {
                if (l->cost) {
                        /* Not run: the tokens go back (charged_ns keeps it: it never
                         * decreases), and it is not in flight. */
                        gpu_bucket_refund(g, l->cost);
                        atomic_fetch_sub_explicit(&F[l->gi].charged, l->cost, memory_order_relaxed);
                }
                return r;
        }
        atomic_fetch_add_explicit(&g->launches[l->captured ? GPU_ENTRY_CAPTURED : l->entry], 1,
                                  memory_order_relaxed);
        Tracker *t = &T[l->gi];
        if (l->measure && record(t->ev[1], l->stream, l->ptsz) == CUDA_SUCCESS) {
                t->pending = true;
                t->key = l->key;
                t->charged = l->cost;
                t->g = g;
                t->countdown = MEASURE_EVERY;
                t->last_bracket = l->now;
        }
        if (l->cost)
                inflight_fence(l);
        return r;
}

void shim_launch_forget(void) {
        /* The parent's events and work in flight are not the child's. */
        memset(T, 0, sizeof T);
        capture_ns = 0;
        memset(F, 0, sizeof F);
        for (unsigned i = 0; i < GPU_REGION_GPUS; i++)
                pthread_mutex_init(&F[i].lock, NULL);
        /* The cost table and the default stay: the child runs the parent's program. */
}

static const void *ex_key(const CUlaunchConfig *c, CUfunction f) {
        return c ? kernel_key(f, c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY, c->blockDimZ)
                 : (const void *)f;
}

#define R shim.real

SHIM_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                    unsigned bz, unsigned shmem, CUstream s, void **params, void **extra) {
        Launch l;
        shim_init();
        NOT_LOADED(cuLaunchKernel);
        launch_begin(&l, GPU_ENTRY_LAUNCH, kernel_key(f, gx, gy, gz, bx, by, bz), s, false);
        return launch_end(&l, R.cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shmem, s, params, extra));
}

SHIM_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                         unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params,
                                         void **extra) {
        Launch l;
        shim_init();
        NOT_LOADED(cuLaunchKernel_ptsz);
        launch_begin(&l, GPU_ENTRY_LAUNCH_PTSZ, kernel_key(f, gx, gy, gz, bx, by, bz), s, true);
        return launch_end(&l, R.cuLaunchKernel_ptsz(f, gx, gy, gz, bx, by, bz, shmem, s, params, extra));
}

SHIM_EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig *cfg, CUfunction f, void **params, void **extra) {
        Launch l;
        shim_init();
        NOT_LOADED(cuLaunchKernelEx);
        launch_begin(&l, GPU_ENTRY_LAUNCH_EX, ex_key(cfg, f), cfg ? cfg->hStream : NULL, false);
        return launch_end(&l, R.cuLaunchKernelEx(cfg, f, params, extra));
}

SHIM_EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *cfg, CUfunction f, void **params, void **extra) {
        Launch l;
        shim_init();
        NOT_LOADED(cuLaunchKernelEx_ptsz);
        launch_begin(&l, GPU_ENTRY_LAUNCH_EX_PTSZ, ex_key(cfg, f), cfg ? cfg->hStream : NULL, true);
        return launch_end(&l, R.cuLaunchKernelEx_ptsz(cfg, f, params, extra));
}

SHIM_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                               unsigned by, unsigned bz, unsigned shmem, CUstream s, void **params) {
        Launch l;
        shim_init();
        NOT_LOADED(cuLaunchCooperativeKernel);
        launch_begin(&l, GPU_ENTRY_COOPERATIVE, kernel_key(f, gx, gy, gz, bx, by, bz), s, false);
        return launch_end(&l, R.cuLaunchCooperativeKernel(f, gx, gy, gz, bx, by, bz, shmem, s, params));
}

SHIM_EXPORT CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                                                    unsigned bx, unsigned by, unsigned bz, unsigned shmem,
                                                    CUstream s, void **params) {
        Launch l;
        shim_init();
        NOT_LOADED(cuLaunchCooperativeKernel_ptsz);
        launch_begin(&l, GPU_ENTRY_COOPERATIVE_PTSZ, kernel_key(f, gx, gy, gz, bx, by, bz), s, true);
        return launch_end(&l, R.cuLaunchCooperativeKernel_ptsz(f, gx, gy, gz, bx, by, bz, shmem, s, params));
}

SHIM_EXPORT CUresult cuGraphLaunch(CUgraphExec x, CUstream s) {
        Launch l;
        shim_init();
        NOT_LOADED(cuGraphLaunch);
        launch_begin(&l, GPU_ENTRY_GRAPH, x, s, false);
        return launch_end(&l, R.cuGraphLaunch(x, s));
}

SHIM_EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec x, CUstream s) {
        Launch l;
        shim_init();
        NOT_LOADED(cuGraphLaunch_ptsz);
        launch_begin(&l, GPU_ENTRY_GRAPH_PTSZ, x, s, true);
        return launch_end(&l, R.cuGraphLaunch_ptsz(x, s));
}

const ShimSym shim_launch_syms[] = {
        WRAP(cuLaunchKernel),
        WRAP(cuLaunchKernel_ptsz),
        WRAP(cuLaunchKernelEx),
        WRAP(cuLaunchKernelEx_ptsz),
        WRAP(cuLaunchCooperativeKernel),
        WRAP(cuLaunchCooperativeKernel_ptsz),
        WRAP(cuGraphLaunch),
        WRAP(cuGraphLaunch_ptsz),
};
const size_t shim_launch_n = sizeof shim_launch_syms / sizeof shim_launch_syms[0];
