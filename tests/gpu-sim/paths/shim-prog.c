/* SPDX-License-Identifier: MIT */
/* shim-prog: a CUDA program in plain C (no toolkit) that takes every launch and memory
 * path the shim interposes, for tests/integration/gpu/shim-*.sh. It links the driver
 * directly (the direct calls) and also reaches it through dlsym and cuGetProcAddress(_v2),
 * the way the CUDA runtime does.
 *   shim-prog paths N          N launches through each path; prints the launches each
 *                              entry point must have counted, as JSON
 *   shim-prog proc N           N launches through cuGetProcAddress("cuLaunchKernel")'s answer
 *   shim-prog capture N        N launches captured into a graph, none run
 *   shim-prog graph N M        5 launches, then a graph of N launches, launched M times
 *   shim-prog busy SECS PROCS BYTES
 *                              PROCS processes (fork) each holding BYTES, launching k1
 *                              back to back for SECS; each prints "pid PID" when going
 *   shim-prog mem LIMIT        the memory paths against a job limit of LIMIT bytes
 *   shim-prog untracked LIMIT BYTES
 *                              the limit with BYTES the runner measured beside the
 *                              shim's (memory_untracked): queries and allocations
 *   shim-prog two SECS         one process launching k1 on devices 0 and 1 in turn
 *   shim-prog noex             100 cuLaunchKernelEx refused by a driver without it
 * SHIM_PROG_DEVICE=N uses CUDA device N (default 0). Exits 1 with the failed check on
 * stderr. */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef void *H; /* every handle */

CUresult cuInit(unsigned);
CUresult cuDeviceGet(int *, int);
CUresult cuDeviceGetUuid_v2(unsigned char *, int);
CUresult cuDevicePrimaryCtxRetain(H *, int);
CUresult cuCtxSetCurrent(H);
CUresult cuCtxSynchronize(void);
CUresult cuModuleLoadData(H *, const void *);
CUresult cuModuleGetFunction(H *, H, const char *);
CUresult cuStreamCreate(H *, unsigned);
CUresult cuStreamSynchronize(H);
CUresult cuLaunchKernel(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H, void **, void **);
CUresult cuLaunchKernel_ptsz(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H, void **,
                             void **);
typedef struct {
        unsigned gx, gy, gz, bx, by, bz, shmem;
        H stream;
        void *attrs;
        unsigned n_attrs;
} LaunchConfig;
CUresult cuLaunchKernelEx(const LaunchConfig *, H, void **, void **);
CUresult cuLaunchKernelEx_ptsz(const LaunchConfig *, H, void **, void **);
CUresult cuLaunchCooperativeKernel(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H,
                                   void **);
CUresult cuLaunchCooperativeKernel_ptsz(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H,
                                        void **);
CUresult cuStreamBeginCapture_v2(H, int);
CUresult cuStreamEndCapture(H, H *);
CUresult cuGraphInstantiateWithFlags(H *, H, unsigned long long);
CUresult cuGraphLaunch(H, H);
CUresult cuGraphLaunch_ptsz(H, H);
CUresult cuGetProcAddress(const char *, void **, int, unsigned long long);
CUresult cuMemAlloc_v2(CUdeviceptr *, size_t);
CUresult cuMemFree_v2(CUdeviceptr);
CUresult cuMemAllocPitch_v2(CUdeviceptr *, size_t *, size_t, size_t, unsigned);
CUresult cuMemAllocManaged(CUdeviceptr *, size_t, unsigned);
CUresult cuMemAllocAsync(CUdeviceptr *, size_t, H);
CUresult cuMemFreeAsync(CUdeviceptr, H);
CUresult cuMemAllocFromPoolAsync(CUdeviceptr *, size_t, H, H);
CUresult cuDeviceGetDefaultMemPool(H *, int);
CUresult cuMemPoolSetAttribute(H, int, void *);
CUresult cuMemPoolTrimTo(H, size_t);
typedef struct {
        int type, handle_types, loc_type, loc_id;
        void *win32;
        unsigned char flags[8];
} AllocProp;
CUresult cuMemCreate(unsigned long long *, size_t, const AllocProp *, unsigned long long);
CUresult cuMemRelease(unsigned long long);
CUresult cuMemGetInfo_v2(size_t *, size_t *);
CUresult cuMemGetInfo(unsigned *, unsigned *);

typedef CUresult (*LaunchFn)(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H, void **,
                             void **);
typedef CUresult (*CoopFn)(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H, void **);
typedef CUresult (*ExFn)(const LaunchConfig *, H, void **, void **);
typedef CUresult (*GraphFn)(H, H);
typedef CUresult (*ProcFn)(const char *, void **, int, unsigned long long);
typedef CUresult (*ProcV2Fn)(const char *, void **, int, unsigned long long, int *);

static const char ptx[] = ".version 8.0\n.target sm_90\n.entry k1 ( )\n{ ret; }\n";
static H fn, stream;
static int device;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "shim-prog: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        exit(1);
}

#define CK(call)                                                                                                   \
        do {                                                                                                       \
                CUresult _r = (call);                                                                              \
                if (_r != 0)                                                                                       \
                        die("line %d: %s: CUresult %d", __LINE__, #call, _r);                                      \
        } while (0)
#define EXPECT(cond, ...)                                                                                          \
        do {                                                                                                       \
                if (!(cond))                                                                                       \
                        die(__VA_ARGS__);                                                                          \
        } while (0)

/* Device ordinal d's primary context made current, k1 loaded in it, a stream of it. */
static void open_device(int ordinal, H *ctx, H *f, H *st) {
        int dev;
        H mod;
        CK(cuDeviceGet(&dev, ordinal));
        CK(cuDevicePrimaryCtxRetain(ctx, dev));
        CK(cuCtxSetCurrent(*ctx));
        CK(cuModuleLoadData(&mod, ptx));
        CK(cuModuleGetFunction(f, mod, "k1"));
        CK(cuStreamCreate(st, 0));
}

static void setup(void) {
        H ctx;
        const char *d = getenv("SHIM_PROG_DEVICE");
        device = d ? atoi(d) : 0;
        CK(cuInit(0));
        open_device(device, &ctx, &fn, &stream);
}

static const LaunchConfig *config(void) {
        static LaunchConfig c = {1, 1, 1, 32, 1, 1, 0, NULL, NULL, 0};
        c.stream = stream;
        return &c;
}

static void *driver(void) {
        void *h = dlopen("libcuda.so.1", RTLD_NOW);
        EXPECT(h, "dlopen libcuda.so.1: %s", dlerror());
        return h;
}

static void *sym(void *h, const char *name) {
        void *p = dlsym(h, name);
        EXPECT(p, "dlsym %s: %s", name, dlerror());
        return p;
}

/* N launches through what cuGetProcAddress("cuLaunchKernel", 12000) answers, whatever
 * it is (no check that it is the exported symbol: see the shim's unmapped look-ups). */
static void proc(unsigned n) {
        setup();
        void *p;
        CK(cuGetProcAddress("cuLaunchKernel", &p, 12000, 0));
        for (unsigned i = 0; i < n; i++)
                CK(((LaunchFn)p)(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
        CK(cuCtxSynchronize());
        printf("{\"launched\": %u}\n", n);
}

static void paths(unsigned n) {
        void *h = driver();
        setup();
        LaunchFn by_dlsym = (LaunchFn)sym(h, "cuLaunchKernel");
        /* RTLD_NEXT is relative to us, whoever answers dlsym: the next dlsym is the one we
         * call (the shim's when it is preloaded, libc's otherwise). */
        EXPECT(dlsym(RTLD_NEXT, "dlsym") == (void *)dlsym, "dlsym(RTLD_NEXT, \"dlsym\") is %p, dlsym %p",
               dlsym(RTLD_NEXT, "dlsym"), (void *)dlsym);
        void *p4000, *p7000;
        CK(cuGetProcAddress("cuLaunchKernel", &p4000, 4000, 0));
        CK(cuGetProcAddress("cuLaunchKernel", &p7000, 7000, 2 /* PER_THREAD_DEFAULT_STREAM */));
        /* The ABI asked for, exactly: the per-thread flag gives the _ptsz entry point. */
        EXPECT(p4000 == sym(h, "cuLaunchKernel") && p7000 == sym(h, "cuLaunchKernel_ptsz") && p4000 != p7000,
               "cuGetProcAddress: %p %p, dlsym: %p %p", p4000, p7000, sym(h, "cuLaunchKernel"),
               sym(h, "cuLaunchKernel_ptsz"));
        ProcV2Fn v2 = (ProcV2Fn)sym(h, "cuGetProcAddress_v2");
        int status = -1;
        void *ex_ptsz, *v1_again;
        CK(v2("cuLaunchKernelEx", &ex_ptsz, 12000, 2, &status));
        EXPECT(status == 0, "cuGetProcAddress_v2 status %d", status);
        CK(v2("cuGetProcAddress", &v1_again, 11030, 0, &status));
        ProcFn v1 = (ProcFn)v1_again;
        void *coop_ptsz, *graph_v2;
        CK(v1("cuLaunchCooperativeKernel", &coop_ptsz, 12000, 2));
        CK(v2("cuGraphLaunch", &graph_v2, 12000, 0, &status));

        for (unsigned i = 0; i < n; i++) {
                CK(cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
                CK(cuLaunchKernel_ptsz(fn, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL));
                CK(cuLaunchKernelEx(config(), fn, NULL, NULL));
                CK(cuLaunchKernelEx_ptsz(config(), fn, NULL, NULL));
                CK(cuLaunchCooperativeKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL));
                CK(cuLaunchCooperativeKernel_ptsz(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL));
                CK(by_dlsym(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
                CK(((LaunchFn)p4000)(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
                CK(((LaunchFn)p7000)(fn, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, NULL));
                CK(((ExFn)ex_ptsz)(config(), fn, NULL, NULL));
                CK(((CoopFn)coop_ptsz)(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL));
        }
        H graph, exec;
        CK(cuStreamBeginCapture_v2(stream, 0));
        for (unsigned i = 0; i < n; i++)
                CK(cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
        CK(cuStreamEndCapture(stream, &graph));
        CK(cuGraphInstantiateWithFlags(&exec, graph, 0));
        for (unsigned i = 0; i < n; i++) {
                CK(cuGraphLaunch(exec, stream));
                CK(cuGraphLaunch_ptsz(exec, stream));
                CK(((GraphFn)graph_v2)(exec, stream));
        }
        CK(cuCtxSynchronize());
        printf("{\"cuLaunchKernel\": %u, \"cuLaunchKernel_ptsz\": %u, \"cuLaunchKernelEx\": %u, "
               "\"cuLaunchKernelEx_ptsz\": %u, \"cuLaunchCooperativeKernel\": %u, "
               "\"cuLaunchCooperativeKernel_ptsz\": %u, \"cuGraphLaunch\": %u, \"cuGraphLaunch_ptsz\": %u, "
               "\"captured\": %u}\n",
               3 * n, 2 * n, n, 2 * n, n, 2 * n, 2 * n, n, n);
}

static H capture(unsigned n) {
        H graph;
        CK(cuStreamBeginCapture_v2(stream, 0));
        for (unsigned i = 0; i < n; i++) {
                /* Each launch path while capturing. */
                switch (i % 3) {
                case 0:
                        CK(cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
                        break;
                case 1:
                        CK(cuLaunchKernelEx(config(), fn, NULL, NULL));
                        break;
                default:
                        CK(cuLaunchCooperativeKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL));
                }
        }
        CK(cuStreamEndCapture(stream, &graph));
        return graph;
}

static void graph(unsigned n, unsigned m) {
        H exec;
        setup();
        /* Warm-up, as frameworks do before they capture: the kernel is measured first. */
        for (int i = 0; i < 5; i++) {
                CK(cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
                CK(cuStreamSynchronize(stream));
        }
        CK(cuGraphInstantiateWithFlags(&exec, capture(n), 0));
        for (unsigned i = 0; i < m; i++) {
                CK(cuGraphLaunch(exec, stream));
                CK(cuStreamSynchronize(stream));
        }
}

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void busy(double secs, unsigned procs, size_t bytes) {
        for (unsigned i = 1; i < procs; i++) {
                pid_t p = fork();
                EXPECT(p >= 0, "fork");
                if (p == 0)
                        break;
        }
        setup();
        if (bytes) {
                CUdeviceptr ptr;
                CK(cuMemAlloc_v2(&ptr, bytes));
        }
        printf("pid %d\n", (int)getpid());
        fflush(stdout);
        uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
        while (now_ns() < end)
                CK(cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, NULL, NULL));
        CK(cuCtxSynchronize());
        while (wait(NULL) > 0)
                ;
}

/* One process driving two GPUs (devices 0 and 1), switching contexts between launches
 * the way a single-process multi-GPU program does, for SECS. */
static void two(double secs) {
        H ctx[2], f[2], st[2];
        CK(cuInit(0));
        for (int d = 0; d < 2; d++)
                open_device(d, &ctx[d], &f[d], &st[d]);
        uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
        for (unsigned i = 0; now_ns() < end; i++) {
                CK(cuCtxSetCurrent(ctx[i % 2]));
                CK(cuLaunchKernel(f[i % 2], 1, 1, 1, 32, 1, 1, 0, st[i % 2], NULL, NULL));
        }
        for (int d = 0; d < 2; d++) {
                CK(cuCtxSetCurrent(ctx[d]));
                CK(cuCtxSynchronize());
        }
        printf("ok\n");
}

static size_t free_now(void) {
        size_t f, t;
        CK(cuMemGetInfo_v2(&f, &t));
        return f;
}

static void nvml(size_t limit, size_t used) {
        void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW);
        EXPECT(h, "dlopen libnvidia-ml.so.1: %s", dlerror());
        int (*init)(void) = (int (*)(void))sym(h, "nvmlInit_v2");
        int (*by_uuid)(const char *, H *) = (int (*)(const char *, H *))sym(h, "nvmlDeviceGetHandleByUUID");
        int (*info)(H, unsigned long long *) = (int (*)(H, unsigned long long *))sym(h, "nvmlDeviceGetMemoryInfo");
        int (*info2)(H, void *) = (int (*)(H, void *))sym(h, "nvmlDeviceGetMemoryInfo_v2");
        /* NVML numbers devices otherwise than CUDA: the same GPU is found by its UUID. */
        unsigned char u[16];
        char uuid[64];
        CK(cuDeviceGetUuid_v2(u, device));
        snprintf(uuid, sizeof uuid, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        H dev;
        EXPECT(init() == 0 && by_uuid(uuid, &dev) == 0, "nvml: no device %s", uuid);
        unsigned long long m[3]; /* total, free, used */
        EXPECT(info(dev, m) == 0 && m[0] == limit && m[1] == limit - used && m[2] == used,
               "nvmlDeviceGetMemoryInfo: total %llu free %llu used %llu (limit %zu, used %zu)", m[0], m[1], m[2],
               limit, used);
        struct {
                unsigned version;
                unsigned long long total, reserved, free, used;
        } m2 = {.version = (unsigned)sizeof m2 | 2u << 24};
        EXPECT(info2(dev, &m2) == 0 && m2.total == limit && m2.free == limit - used,
               "nvmlDeviceGetMemoryInfo_v2: total %llu free %llu", m2.total, m2.free);
}

static void mem(size_t limit) {
        setup();
        size_t f, t;
        CUdeviceptr a, b, c, x;
        unsigned long long hdl;
        size_t pitch;
        AllocProp prop = {.type = 1, .loc_type = 1, .loc_id = device};

        CK(cuMemGetInfo_v2(&f, &t));
        EXPECT(t == limit && f == limit, "cuMemGetInfo_v2: total %zu free %zu, limit %zu", t, f, limit);
        nvml(limit, 0);

        /* Stream-ordered blocks are charged what their pool reserves (2 MiB pieces in the
         * simulator), kept after a free up to the pool's release threshold. */
        H pool;
        unsigned long long threshold = 4 << 20;
        CK(cuDeviceGetDefaultMemPool(&pool, device));
        CK(cuMemAllocAsync(&c, 1, stream));
        EXPECT(free_now() == limit - (2 << 20), "an async byte charged %zu, not the pool's 2 MiB", limit - free_now());
        CK(cuMemPoolSetAttribute(pool, 4 /* RELEASE_THRESHOLD */, &threshold));
        CK(cuMemFreeAsync(c, stream));
        EXPECT(free_now() == limit - (2 << 20), "the pool's kept reservation not charged: %zu", limit - free_now());
        CK(cuMemPoolTrimTo(pool, 0));
        threshold = 0;
        CK(cuMemPoolSetAttribute(pool, 4, &threshold));
        EXPECT(free_now() == limit, "%zu still charged after the pool was trimmed", limit - free_now());
        CK(cuMemAlloc_v2(&a, limit / 2));
        CK(cuMemAlloc_v2(&b, limit - limit / 2));
        EXPECT(free_now() == 0, "free %zu at the limit", free_now());
        /* One byte over the limit fails on every path. */
        EXPECT(cuMemAlloc_v2(&x, 1) == 2, "cuMemAlloc_v2 over the limit");
        EXPECT(cuMemAllocManaged(&x, 1, 1) == 2, "cuMemAllocManaged over the limit");
        EXPECT(cuMemAllocAsync(&x, 1, stream) == 2, "cuMemAllocAsync over the limit");
        EXPECT(cuMemAllocFromPoolAsync(&x, 1, pool, stream) == 2, "cuMemAllocFromPoolAsync over the limit");
        EXPECT(cuMemCreate(&hdl, 1, &prop, 0) == 2, "cuMemCreate over the limit");
        EXPECT(cuMemAllocPitch_v2(&x, &pitch, 4, 1, 4) == 2, "cuMemAllocPitch_v2 over the limit");
        nvml(limit, limit);

        CK(cuMemFree_v2(b));
        size_t room = limit - limit / 2;
        EXPECT(free_now() == room, "free %zu after a free, expected %zu", free_now(), room);
        CK(cuMemAllocAsync(&c, room / 4, stream));
        CK(cuMemFreeAsync(c, stream));
        CK(cuMemAllocFromPoolAsync(&c, room / 4, pool, stream));
        CK(cuMemFreeAsync(c, stream));
        CK(cuMemAllocManaged(&c, room / 4, 1));
        CK(cuMemFree_v2(c));
        CK(cuMemCreate(&hdl, room / 4, &prop, 0));
        EXPECT(free_now() == room - room / 4, "cuMemCreate charged %zu", room - free_now());
        CK(cuMemRelease(hdl));
        EXPECT(free_now() == room, "free %zu after the async, managed and cuMemCreate paths", free_now());

        /* Charged by the pitch the driver chose, not the width asked for. */
        CK(cuMemAllocPitch_v2(&c, &pitch, 1000, 100, 4));
        EXPECT(pitch > 1000 && free_now() == room - pitch * 100, "pitch %zu: charged %zu", pitch, room - free_now());
        /* Exactly to the limit, then one byte more. */
        size_t rest = free_now();
        CK(cuMemAlloc_v2(&b, rest));
        EXPECT(cuMemAlloc_v2(&x, 1) == 2, "cuMemAlloc_v2 over the limit after a pitched allocation");
        CK(cuMemFree_v2(b));
        CK(cuMemFree_v2(c));

        /* Unknown pointers go to the driver, which refuses them; nothing changes here. */
        EXPECT(cuMemFree_v2(0x1234) == 1, "free of an unknown pointer not passed through");
        EXPECT(free_now() == room, "free %zu after an unknown free", free_now());
        /* NULL outputs. */
        CK(cuMemGetInfo_v2(NULL, &t));
        EXPECT(t == limit, "total %zu with a NULL free", t);
        CK(cuMemGetInfo_v2(NULL, NULL));
        unsigned f32, t32;
        CK(cuMemGetInfo(&f32, &t32));
        EXPECT(t32 == limit && f32 == room, "cuMemGetInfo: %u %u", f32, t32);
        nvml(limit, limit / 2);
        CK(cuMemFree_v2(a));
        printf("ok\n");
}

/* The runner measured UNTRACKED bytes beside the shim's (memory_untracked): they count
 * against the limit in the queries and in every allocation. */
static void untracked(size_t limit, size_t other) {
        setup();
        CUdeviceptr a, x;
        size_t f, t;
        CK(cuMemGetInfo_v2(&f, &t));
        EXPECT(t == limit && f == limit - other, "cuMemGetInfo_v2: total %zu free %zu, limit %zu untracked %zu",
               t, f, limit, other);
        nvml(limit, other);
        EXPECT(cuMemAlloc_v2(&x, f + 1) == 2, "one byte more than free allowed");
        CK(cuMemAlloc_v2(&a, f));
        EXPECT(free_now() == 0, "free %zu at the limit", free_now());
        EXPECT(cuMemAlloc_v2(&x, 1) == 2, "one byte over the limit allowed");
        CK(cuMemFree_v2(a));
        printf("ok\n");
}

/* Under a driver without cuLaunchKernelEx (tests/gpu-sim/old), through the shim's
 * export: refused, and (the test checks) nothing charged. */
static void noex(void) {
        setup();
        CUresult (*ex)(const LaunchConfig *, H, void **, void **) =
                (CUresult(*)(const LaunchConfig *, H, void **, void **))dlsym(RTLD_DEFAULT, "cuLaunchKernelEx");
        EXPECT(ex, "no cuLaunchKernelEx at all (the shim is not preloaded)");
        for (int i = 0; i < 100; i++)
                EXPECT(ex(config(), fn, NULL, NULL) == 3, "cuLaunchKernelEx without the driver's: not refused");
        printf("ok\n");
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 3 && strcmp(argv[1], "paths") == 0)
                paths((unsigned)atoi(argv[2]));
        else if (argc == 3 && strcmp(argv[1], "capture") == 0) {
                setup();
                capture((unsigned)atoi(argv[2]));
        } else if (argc == 4 && strcmp(argv[1], "graph") == 0)
                graph((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
        else if (argc == 5 && strcmp(argv[1], "busy") == 0)
                busy(atof(argv[2]), (unsigned)atoi(argv[3]), (size_t)strtoull(argv[4], NULL, 10));
        else if (argc == 3 && strcmp(argv[1], "mem") == 0)
                mem((size_t)strtoull(argv[2], NULL, 10));
        else if (argc == 4 && strcmp(argv[1], "untracked") == 0)
                untracked((size_t)strtoull(argv[2], NULL, 10), (size_t)strtoull(argv[3], NULL, 10));
        else if (argc == 3 && strcmp(argv[1], "proc") == 0)
                proc((unsigned)atoi(argv[2]));
        else if (argc == 2 && strcmp(argv[1], "noex") == 0)
                noex();
        else if (argc == 3 && strcmp(argv[1], "two") == 0)
                two(atof(argv[2]));
        else {
                fprintf(stderr, "usage: shim-prog paths N | capture N | graph N M | busy SECS PROCS BYTES | "
                                "mem LIMIT | untracked LIMIT BYTES | two SECS | noex | proc N\n");
                return 2;
        }
        return 0;
}
