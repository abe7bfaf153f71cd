/* SPDX-License-Identifier: MIT */
/* The fake CUDA driver (libcuda.so.1) over the simulated GPU (sim.h): the subset of the
 * driver API that corun and its tests use, with the real ABI (own minimal types, no CUDA
 * headers). Device order and CUDA_VISIBLE_DEVICES (indices or UUIDs) are honoured the way
 * the real driver does; kernels take simulated GPU time; synchronisation waits in real
 * time until the simulated device has run them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cuda-fake.h"

FakeProc P;
__thread Ctx *current;

SimDevice *dev_of(int ordinal) {
        return &P.s->dev[P.map[ordinal]];
}

bool inited(void) {
        return P.s && P.pid == getpid();
}

/* Visible devices in the order the driver would number them: CUDA_DEVICE_ORDER=PCI_BUS_ID
 * sorts by PCI bus; the default (FASTEST_FIRST) puts more SMs first, then PCI order. */
static void order_devices(SimState *s, int *order) {
        const char *o = getenv("CUDA_DEVICE_ORDER");
        bool pci = o && strcmp(o, "PCI_BUS_ID") == 0;
        for (unsigned i = 0; i < s->n_devices; i++)
                order[i] = (int)i;
        for (unsigned i = 1; i < s->n_devices; i++)
                for (unsigned j = i; j > 0; j--) {
                        const SimDevice *a = &s->dev[order[j - 1]], *b = &s->dev[order[j]];
                        bool swap = !pci && a->sm_count != b->sm_count ? a->sm_count < b->sm_count
                                                                       : a->bus > b->bus;
                        if (!swap)
                                break;
                        int t = order[j - 1];
                        order[j - 1] = order[j];
                        order[j] = t;
                }
}

/* One CUDA_VISIBLE_DEVICES entry: an index into the ordered list, or a UUID (GPU-...)
 * or a unique prefix of one. -1 when it names nothing (the driver then ignores it and
 * every entry after it). */
static int visible_entry(SimState *s, const int *order, const char *e) {
        if (*e && strspn(e, "0123456789") == strlen(e)) {
                unsigned long i = strtoul(e, NULL, 10);
                return i < s->n_devices ? order[i] : -1;
        }
        if (strncmp(e, "GPU-", 4) != 0)
                return -1;
        int found = -1;
        for (unsigned i = 0; i < s->n_devices; i++)
                if (strncasecmp(s->dev[i].uuid, e, strlen(e)) == 0) {
                        if (found >= 0)
                                return -1; /* ambiguous */
                        found = (int)i;
                }
        return found;
}

static void visible_devices(SimState *s) {
        int order[SIM_MAX_DEVICES];
        const char *v = getenv("CUDA_VISIBLE_DEVICES");

        order_devices(s, order);
        P.n = 0;
        if (!v) {
                for (unsigned i = 0; i < s->n_devices; i++)
                        P.map[P.n++] = order[i];
                return;
        }
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", v);
        char *save = NULL;
        for (char *e = strtok_r(buf, ",", &save); e && P.n < SIM_MAX_DEVICES;
             e = strtok_r(NULL, ",", &save)) {
                while (isspace((unsigned char)*e))
                        e++;
                for (char *t = e + strlen(e); t > e && isspace((unsigned char)t[-1]);)
                        *--t = '\0';
                int d = visible_entry(s, order, e);
                for (int i = 0; i < P.n && d >= 0; i++)
                        if (P.map[i] == d)
                                d = -1;
                if (d < 0)
                        break;
                P.map[P.n++] = d;
        }
}

EXPORT CUresult cuInit(unsigned flags) {
        if (flags != 0)
                return CUDA_ERROR_INVALID_VALUE;
        if (inited())
                return CUDA_SUCCESS;
        SimState *s = sim_get();
        if (!s) {
                fprintf(stderr, "gpu-sim: libcuda: %s\n", sim_why());
                return CUDA_ERROR_NO_DEVICE;
        }
        /* The real driver reserves address space for unified memory at init, far more than
         * the process will ever use (and fails with out of memory under an RLIMIT_AS that
         * cannot hold it): the simulated one reserves 64 GiB, never touched. */
        static void *reserved;
        if (!reserved) {
                reserved = mmap(NULL, UINT64_C(64) << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                                -1, 0);
                if (reserved == MAP_FAILED) {
                        reserved = NULL;
                        return CUDA_ERROR_OUT_OF_MEMORY;
                }
        }
        memset(&P, 0, sizeof P);
        current = NULL;
        P.s = s;
        P.pid = getpid();
        P.next_ptr = 0x7f0000000000ull;
        visible_devices(s);
        for (int i = 0; i < P.n; i++) {
                P.primary[i] = (Ctx){.magic = CTX_MAGIC, .ordinal = i};
                P.pools[i] = (Pool){.magic = POOL_MAGIC, .ordinal = i};
        }
        return P.n > 0 ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
}

EXPORT CUresult cuDriverGetVersion(int *v) {
        if (!v)
                return CUDA_ERROR_INVALID_VALUE;
        SimState *s = sim_get();
        *v = s ? s->cuda_version : 12040;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetCount(int *n) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!n)
                return CUDA_ERROR_INVALID_VALUE;
        *n = P.n;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!d)
                return CUDA_ERROR_INVALID_VALUE;
        if (ordinal < 0 || ordinal >= P.n)
                return CUDA_ERROR_INVALID_DEVICE;
        *d = ordinal;
        return CUDA_SUCCESS;
}

/* A device query's checks: initialised, a device that exists, somewhere to write. */
static CUresult check_dev(CUdevice d, const void *out) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (d < 0 || d >= P.n)
                return CUDA_ERROR_INVALID_DEVICE;
        return out ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
        CUresult r = check_dev(d, name);
        if (r)
                return r;
        if (len <= 0)
                return CUDA_ERROR_INVALID_VALUE;
        snprintf(name, (size_t)len, "%s", dev_of(d)->name);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetUuid(CUuuid *u, CUdevice d) {
        CUresult r = check_dev(d, u);
        if (r)
                return r;
        memcpy(u->bytes, dev_of(d)->uuid_bytes, 16);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetUuid_v2(CUuuid *u, CUdevice d) {
        return cuDeviceGetUuid(u, d);
}

EXPORT CUresult cuDeviceGetPCIBusId(char *buf, int len, CUdevice d) {
        CUresult r = check_dev(d, buf);
        if (r)
                return r;
        if (len <= 0)
                return CUDA_ERROR_INVALID_VALUE;
        /* The driver's form: a four-digit domain. */
        snprintf(buf, (size_t)len, "0000:%02X:00.0", dev_of(d)->bus);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d) {
        CUresult r = check_dev(d, bytes);
        if (r)
                return r;
        *bytes = dev_of(d)->mem_total;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d) {
        CUresult r = check_dev(d, v);
        if (r)
                return r;
        const SimDevice *sd = dev_of(d);
        switch (attr) {
        case ATTR_MULTIPROCESSOR_COUNT:
                *v = (int)sd->sm_count;
                break;
        case ATTR_PCI_BUS_ID:
                *v = (int)sd->bus;
                break;
        case ATTR_PCI_DEVICE_ID:
        case ATTR_PCI_DOMAIN_ID:
                *v = 0;
                break;
        case ATTR_MAX_THREADS_PER_MULTIPROCESSOR:
                *v = 2048;
                break;
        case ATTR_CLOCK_RATE:
                *v = 1980000;
                break;
        case ATTR_COMPUTE_CAPABILITY_MAJOR:
                *v = 9;
                break;
        case ATTR_COMPUTE_CAPABILITY_MINOR:
                *v = 0;
                break;
        default:
                return CUDA_ERROR_INVALID_VALUE;
        }
        return CUDA_SUCCESS;
}

/* A process gets a slot on the device when it first makes a context there. */
static CUresult ctx_attach(int ordinal) {
        SimDevice *d = dev_of(ordinal);
        sim_lock(P.s);
        SimCtx *c = d->lost ? NULL : sim_ctx(d, getpid(), true);
        if (c) {
                if (!c->has_context && P.s->ctx_mem + sim_mem_used(P.s, d) > d->mem_total)
                        c = NULL;
                else
                        c->has_context = 1;
        }
        sim_unlock(P.s);
        return c ? CUDA_SUCCESS : d->lost ? CUDA_ERROR_UNKNOWN : CUDA_ERROR_OUT_OF_MEMORY;
}

static void ctx_detach(int ordinal) {
        SimDevice *d = dev_of(ordinal);
        sim_lock(P.s);
        SimCtx *c = sim_ctx(d, getpid(), false);
        if (c)
                memset(c, 0, sizeof *c);
        sim_unlock(P.s);
}

EXPORT CUresult cuDevicePrimaryCtxRetain(Ctx **ctx, CUdevice d) {
        CUresult r = check_dev(d, ctx);
        if (r)
                return r;
        if (P.primary[d].refs == 0 && (r = ctx_attach(d)) != CUDA_SUCCESS)
                return r;
        P.primary[d].refs++;
        *ctx = &P.primary[d];
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
        CUresult r = check_dev(d, &P);
        if (r)
                return r;
        if (P.primary[d].refs == 0)
                return CUDA_ERROR_INVALID_CONTEXT;
        if (--P.primary[d].refs == 0) {
                ctx_detach(d);
                if (current == &P.primary[d])
                        current = NULL;
        }
        return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice d) {
        return cuDevicePrimaryCtxRelease_v2(d);
}

EXPORT CUresult cuCtxCreate_v2(Ctx **ctx, unsigned flags, CUdevice d) {
        CUresult r = check_dev(d, ctx);
        if (r)
                return r;
        Ctx *c = calloc(1, sizeof *c);
        if (!c)
                return CUDA_ERROR_OUT_OF_MEMORY;
        if ((r = ctx_attach(d)) != CUDA_SUCCESS) {
                free(c);
                return r;
        }
        *c = (Ctx){.magic = CTX_MAGIC, .ordinal = d, .refs = 1};
        current = c;
        *ctx = c;
        return CUDA_SUCCESS;
}

/* CUDA 13's cuCtxCreate: (ctx, params, flags, dev); the parameters are not modelled. */
EXPORT CUresult cuCtxCreate_v4(Ctx **ctx, void *params, unsigned flags, CUdevice d) {
        return cuCtxCreate_v2(ctx, flags, d);
}

EXPORT CUresult cuCtxCreate(Ctx **ctx, unsigned flags, CUdevice d) {
        return cuCtxCreate_v2(ctx, flags, d);
}

bool ctx_valid(const Ctx *c) {
        return c && c->magic == CTX_MAGIC && c->ordinal >= 0 && c->ordinal < P.n;
}

EXPORT CUresult cuCtxDestroy_v2(Ctx *c) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!ctx_valid(c) || (c >= P.primary && c < P.primary + SIM_MAX_DEVICES))
                return CUDA_ERROR_INVALID_CONTEXT;
        ctx_detach(c->ordinal);
        if (current == c)
                current = NULL;
        c->magic = 0;
        free(c);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxDestroy(Ctx *c) {
        return cuCtxDestroy_v2(c);
}

EXPORT CUresult cuCtxSetCurrent(Ctx *c) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (c && !ctx_valid(c))
                return CUDA_ERROR_INVALID_CONTEXT;
        current = c;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetCurrent(Ctx **c) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!c)
                return CUDA_ERROR_INVALID_VALUE;
        *c = current;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetDevice(CUdevice *d) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!current)
                return CUDA_ERROR_INVALID_CONTEXT;
        if (!d)
                return CUDA_ERROR_INVALID_VALUE;
        *d = current->ordinal;
        return CUDA_SUCCESS;
}

CUresult ctx_wait(Ctx *c) {
        SimDevice *d = dev_of(c->ordinal);
        for (;;) {
                uint64_t now = sim_now_ns(), until;
                sim_lock(P.s);
                sim_advance(P.s, d, now);
                SimCtx *sc = sim_ctx(d, getpid(), false);
                bool lost = d->lost;
                bool done = !sc || sc->done_ns >= c->target;
                if (!lost && !done)
                        until = sim_project(P.s, d, sc, c->target);
                sim_unlock(P.s);
                if (lost)
                        return CUDA_ERROR_UNKNOWN;
                if (done)
                        return CUDA_SUCCESS;
                /* Nothing finishes before the projection; later arrivals can only delay it. */
                if (until < now + 20000)
                        until = now + 20000;
                struct timespec ts = {.tv_sec = (time_t)(until / 1000000000u),
                                      .tv_nsec = (long)(until % 1000000000u)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                        ;
        }
}

EXPORT CUresult cuCtxSynchronize(void) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!current)
                return CUDA_ERROR_INVALID_CONTEXT;
        return ctx_wait(current);
}

Ctx *stream_ctx(void *stream) {
        if (!stream || stream == (void *)1 || stream == (void *)2) /* default, legacy, per-thread */
                return current;
        Stream *st = stream;
        return st->magic == STREAM_MAGIC ? st->ctx : NULL;
}

EXPORT CUresult cuStreamCreate(Stream **ret, unsigned flags) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!current)
                return CUDA_ERROR_INVALID_CONTEXT;
        Stream *st = calloc(1, sizeof *st);
        if (!st)
                return CUDA_ERROR_OUT_OF_MEMORY;
        *st = (Stream){.magic = STREAM_MAGIC, .ctx = current};
        *ret = st;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamDestroy_v2(Stream *st) {
        if (!st || st->magic != STREAM_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        st->magic = 0;
        free(st);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamSynchronize(void *stream) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        Ctx *c = stream_ctx(stream);
        if (!c)
                return stream ? CUDA_ERROR_INVALID_HANDLE : CUDA_ERROR_INVALID_CONTEXT;
        /* One queue per context: a stream waits for everything before it. */
        return ctx_wait(c);
}

EXPORT CUresult cuStreamSynchronize_ptsz(void *stream) {
        return cuStreamSynchronize(stream);
}

/* The names of the entry points in a PTX text (".entry NAME"). */
EXPORT CUresult cuModuleLoadData(Module **ret, const void *image) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!current)
                return CUDA_ERROR_INVALID_CONTEXT;
        if (!ret || !image)
                return CUDA_ERROR_INVALID_VALUE;
        const char *text = image;
        if (!strstr(text, ".version") || !strstr(text, ".target"))
                return CUDA_ERROR_INVALID_IMAGE;
        Module *m = calloc(1, sizeof *m);
        if (!m)
                return CUDA_ERROR_OUT_OF_MEMORY;
        m->magic = MOD_MAGIC;
        for (const char *p = text; (p = strstr(p, ".entry")) && m->n < 16;) {
                p += 6;
                while (isspace((unsigned char)*p))
                        p++;
                size_t len = 0;
                while (p[len] && (isalnum((unsigned char)p[len]) || p[len] == '_' || p[len] == '$'))
                        len++;
                if (len > 0 && len < sizeof m->names[0]) {
                        memcpy(m->names[m->n], p, len);
                        m->names[m->n++][len] = '\0';
                }
        }
        if (m->n == 0) {
                free(m);
                return CUDA_ERROR_INVALID_IMAGE;
        }
        *ret = m;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleUnload(Module *m) {
        if (!m || m->magic != MOD_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        m->magic = 0;
        free(m);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleGetFunction(Function **ret, Module *m, const char *name) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!m || m->magic != MOD_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        if (!ret || !name)
                return CUDA_ERROR_INVALID_VALUE;
        for (unsigned i = 0; i < m->n; i++)
                if (strcmp(m->names[i], name) == 0) {
                        Function *f = calloc(1, sizeof *f);
                        if (!f)
                                return CUDA_ERROR_OUT_OF_MEMORY;
                        f->magic = FUN_MAGIC;
                        snprintf(f->name, sizeof f->name, "%s", name);
                        f->busy = strcmp(name, "corun_busy") == 0;
                        *ret = f;
                        return CUDA_SUCCESS;
                }
        return CUDA_ERROR_NOT_FOUND;
}

static const struct {
        CUresult code;
        const char *name, *text;
} errors[] = {
        {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
        {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
        {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
        {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
        {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
        {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
        {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
        {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
        {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
        {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
        {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
        {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

EXPORT CUresult cuGetErrorString(CUresult e, const char **s) {
        for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
                if (errors[i].code == e) {
                        *s = errors[i].text;
                        return CUDA_SUCCESS;
                }
        *s = NULL;
        return CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuGetErrorName(CUresult e, const char **s) {
        for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
                if (errors[i].code == e) {
                        *s = errors[i].name;
                        return CUDA_SUCCESS;
                }
        *s = NULL;
        return CUDA_ERROR_INVALID_VALUE;
}

/* A process that exits leaves its devices like the real driver's teardown does. */
__attribute__((destructor)) static void fake_cuda_exit(void) {
        if (!inited())
                return;
        for (int i = 0; i < P.n; i++)
                ctx_detach(i);
}
