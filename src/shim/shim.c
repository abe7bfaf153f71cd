/* SPDX-License-Identifier: MIT */
/* The shim's start and its look-ups: the region named by CORUN_GPU_REGION (read once, in
 * the constructor: never getenv later), the real driver's entry points (every variant,
 * from the libcuda.so.1 handle itself, so our own exports never answer), and the answers
 * to dlsym and cuGetProcAddress: the real driver's address for the caller's name, version
 * and flags, mapped to our wrapper of exactly that entry point. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "shim/shim.h"

Shim shim;

static char region_path[PATH_MAX];
static bool region_path_set;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void *libcuda;      /* the real driver's handle */
static void *libcuda_base; /* its load address: its own look-ups are not wrapped */

typedef void *(*DlsymFn)(void *, const char *);
static DlsymFn real_dlsym_fn;

/* The real dlsym by version (glibc 2.34 moved it into libc; older x86-64 and arm64 have
 * it at 2.2.5 and 2.17): never the public name, which is ours. */
static DlsymFn real_dlsym(void) {
        DlsymFn f = __atomic_load_n(&real_dlsym_fn, __ATOMIC_ACQUIRE);
        if (f)
                return f;
        static const char *const versions[] = {"GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17"};
        for (size_t i = 0; i < sizeof versions / sizeof versions[0] && !f; i++)
                f = (DlsymFn)dlvsym(RTLD_NEXT, "dlsym", versions[i]);
        __atomic_store_n(&real_dlsym_fn, f, __ATOMIC_RELEASE);
        return f;
}

void *shim_real_dlsym(void *handle, const char *name) {
        DlsymFn ds = real_dlsym();
        return ds ? ds(handle, name) : NULL;
}

/* Entry points called but never wrapped. */
#define REAL(name) {#name, (void **)&shim.real.name, NULL}
static const ShimSym called[] = {
        REAL(cuCtxGetCurrent),    REAL(cuCtxGetDevice),  REAL(cuStreamIsCapturing), REAL(cuStreamIsCapturing_ptsz),
        REAL(cuEventCreate),      REAL(cuEventRecord),   REAL(cuEventRecord_ptsz),  REAL(cuEventQuery),
        REAL(cuEventSynchronize), REAL(cuEventElapsedTime), REAL(cuDeviceGetMemPool), REAL(cuMemPoolGetAttribute),
        REAL(cuMemPoolTrimTo),    REAL(cuDeviceGetUuid), REAL(cuDeviceGetUuid_v2),
};

static const struct {
        const ShimSym *syms;
        const size_t *n;
} tables[] = {
        {shim_launch_syms, &shim_launch_n},
        {shim_memory_syms, &shim_memory_n},
        {shim_lookup_syms, &shim_lookup_n},
        {shim_pool_syms, &shim_pool_n},
        {shim_graph_syms, &shim_graph_n},
        {called, NULL},
};

static size_t table_len(size_t t) {
        return tables[t].n ? *tables[t].n : sizeof called / sizeof called[0];
}

static void warn_once(const char *what, const char *why) {
        /* One line, once per process, and only outside the fast path. */
        fprintf(stderr, "corun shim: %s%s%s; GPU limits not applied\n", what, why ? ": " : "", why ? why : "");
}

/* Set while this thread loads the driver: the driver's own constructor may look itself
 * up (through our dlsym) or call in, and must get the plain answer, not a second init. */
static SHIM_TLS bool in_init;

static void init_once_fn(void) {
        in_init = true;
        DlsymFn ds = real_dlsym();
        /* RTLD_LOCAL: we add nothing to the program's global scope; a program that links or
         * opens the driver itself gets this same handle. */
        libcuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (libcuda && ds)
                for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                        for (size_t i = 0; i < table_len(t); i++)
                                if (strncmp(tables[t].syms[i].name, "nvml", 4) != 0)
                                        *tables[t].syms[i].real = ds(libcuda, tables[t].syms[i].name);
        if (libcuda && shim.real.cuCtxGetCurrent) {
                Dl_info info;
                if (dladdr((void *)shim.real.cuCtxGetCurrent, &info))
                        libcuda_base = info.dli_fbase;
        }
        shim_nvml_load();

        if (!region_path_set)
                warn_once("CORUN_GPU_REGION is not set", NULL);
        else if (!libcuda)
                warn_once("cannot load libcuda.so.1", dlerror());
        else {
                GpuRegion *r;
                int e = gpu_region_map(region_path, &r);
                if (e < 0) {
                        char what[PATH_MAX + 64];
                        snprintf(what, sizeof what, "cannot use the GPU region %s", region_path);
                        warn_once(what, e == -EPROTO ? "not a corun region of this version" : strerror(-e));
                } else {
                        shim.n_gpus = r->n_gpus;
                        shim.region = r;
                }
        }
        in_init = false;
        atomic_store_explicit(&shim.ready, true, memory_order_release);
}

void shim_init_slow(void) {
        if (!in_init)
                pthread_once(&init_once, init_once_fn);
}

uint64_t shim_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Region index of each CUDA ordinal: -2 not looked up yet. Ordinals are the process's
 * own (its CUDA_VISIBLE_DEVICES), fixed once the driver is initialised. */
#define ORDINALS 64
static _Atomic int ordinal_gpu[ORDINALS] = {[0 ... ORDINALS - 1] = -2};

static int lookup_gpu(CUdevice d) {
        CUuuid u;
        CUresult (*get)(CUuuid *, CUdevice) = shim.real.cuDeviceGetUuid_v2 ? shim.real.cuDeviceGetUuid_v2
                                                                           : shim.real.cuDeviceGetUuid;
        if (get && get(&u, d) == CUDA_SUCCESS) {
                char uuid[48];
                const unsigned char *b = u.bytes;
                snprintf(uuid, sizeof uuid,
                         "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
                for (unsigned i = 0; i < shim.n_gpus; i++)
                        if (strncasecmp(uuid, shim.region->gpu[i].uuid, sizeof uuid) == 0)
                                return (int)i;
        }
        /* No UUID to compare (no such entry point, or the region names a MIG instance,
         * whose UUID the driver does not give as bytes): the ordinal, as the runner
         * ordered them. A GPU-... entry that matches nothing is not the job's. */
        if (d >= 0 && (unsigned)d < shim.n_gpus && strncmp(shim.region->gpu[d].uuid, "GPU-", 4) != 0)
                return d;
        return -1;
}

int shim_device_gpu(CUdevice d) {
        if (!shim.region || d < 0)
                return -1;
        if (d >= ORDINALS)
                return lookup_gpu(d);
        int gi = atomic_load_explicit(&ordinal_gpu[d], memory_order_relaxed);
        if (gi == -2) {
                gi = lookup_gpu(d);
                atomic_store_explicit(&ordinal_gpu[d], gi, memory_order_relaxed);
        }
        return gi;
}

static SHIM_TLS CUcontext cached_ctx;
static SHIM_TLS int cached_gpu = -1;

int shim_current_gpu(void) {
        if (shim.n_gpus == 1)
                return 0; /* the usual job: no driver call at all */
        CUcontext c = NULL;
        if (!shim.real.cuCtxGetCurrent || shim.real.cuCtxGetCurrent(&c) != CUDA_SUCCESS || !c)
                return -1;
        if (c == cached_ctx)
                return cached_gpu;
        CUdevice d;
        if (!shim.real.cuCtxGetDevice || shim.real.cuCtxGetDevice(&d) != CUDA_SUCCESS)
                return -1;
        cached_ctx = c;
        cached_gpu = shim_device_gpu(d);
        return cached_gpu;
}

/* Our wrapper of the real entry point at p, or p. */
static void *map_address(void *p) {
        if (!p)
                return p;
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                for (size_t i = 0; i < table_len(t); i++)
                        if (tables[t].syms[i].wrapper && *tables[t].syms[i].real == p)
                                return tables[t].syms[i].wrapper;
        return p;
}

/* Only the driver's names (cu + a capital) and NVML's memory queries get wrappers: never
 * cublas*, cudnn* (HAMi's PR 215), nor anything else. */
static bool wrapped_name(const char *name) {
        return (name[0] == 'c' && name[1] == 'u' && name[2] >= 'A' && name[2] <= 'Z') ||
               strncmp(name, "nvmlDeviceGetMemoryInfo", 23) == 0;
}

static void *base_of(const void *addr) {
        Dl_info info;
        return addr && dladdr(addr, &info) ? info.dli_fbase : NULL;
}

/* RTLD_NEXT is relative to the caller, and the libc dlsym would take us for the caller: an
 * interposer loaded after the shim that looks up its own next malloc would get itself.
 * So the search is done here, the way the loader does it: the objects after the caller's
 * in load order, the first that defines the name itself. */
static void *dlsym_next(const void *caller, const char *name, DlsymFn ds) {
        void *caller_base = base_of(caller), *main_handle = dlopen(NULL, RTLD_LAZY | RTLD_NOLOAD);
        struct link_map *m = NULL;
        if (!caller_base || !main_handle || dlinfo(main_handle, RTLD_DI_LINKMAP, &m) != 0)
                return ds(RTLD_NEXT, name);
        while (m && base_of(m->l_ld) != caller_base)
                m = m->l_next;
        for (m = m ? m->l_next : NULL; m; m = m->l_next) {
                void *h = m->l_name[0] ? dlopen(m->l_name, RTLD_LAZY | RTLD_NOLOAD) : NULL;
                void *p = h ? ds(h, name) : NULL;
                if (h)
                        dlclose(h);
                if (p && base_of(p) == base_of(m->l_ld))
                        return p;
        }
        return NULL;
}

SHIM_EXPORT void *dlsym(void *handle, const char *name) {
        DlsymFn ds = real_dlsym();
        if (!ds)
                return NULL;
        void *p = handle == RTLD_NEXT ? dlsym_next(__builtin_return_address(0), name, ds) : ds(handle, name);
        if (!p || !wrapped_name(name))
                return p;
        if (in_init)
                return p;
        shim_init();
        /* The driver looking itself up: its own entry points, unwrapped. */
        Dl_info info;
        if (libcuda_base && dladdr(__builtin_return_address(0), &info) && info.dli_fbase == libcuda_base)
                return p;
        if (name[0] == 'n')
                shim_nvml_load();
        return map_address(p);
}

/* Does the shim wrap an entry point of this name (the name itself, or one of its
 * versioned or per-thread forms: cuMemAlloc_v2, cuLaunchKernel_ptsz)? */
static bool wraps(const char *symbol) {
        size_t n = strlen(symbol);
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                for (size_t i = 0; i < table_len(t); i++) {
                        const ShimSym *s = &tables[t].syms[i];
                        if (s->wrapper && strncmp(s->name, symbol, n) == 0 &&
                            (s->name[n] == '\0' || s->name[n] == '_'))
                                return true;
                }
        return false;
}

/* A look-up's answer, mapped to our wrapper. An address we do not know for a name we wrap
 * (a driver that hands out private entry points) would let every call through it pass us
 * by: counted in the region for the runner's warning, and said once per process on
 * stderr (the job's log), with the name. Not the fast path: programs look up once. */
static void *map_lookup(const char *symbol, void *p, int version, unsigned long long flags) {
        void *w = map_address(p);
        if (w != p || !p || !symbol || !shim.region || !wraps(symbol))
                return w;
        atomic_fetch_add_explicit(&shim.region->unmapped_lookups, 1, memory_order_relaxed);
        static _Atomic bool said;
        if (!atomic_exchange(&said, true))
                fprintf(stderr,
                        "corun shim: cuGetProcAddress(\"%s\", %d, %llu) gave an entry point that is not the "
                        "driver's exported %s: calls through it are not counted against the job's GPU "
                        "limits\n",
                        symbol, version, flags, symbol);
        return w;
}

SHIM_EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int version, unsigned long long flags) {
        shim_init();
        if (!shim.real.cuGetProcAddress)
                return CUDA_ERROR_NOT_INITIALIZED;
        CUresult r = shim.real.cuGetProcAddress(symbol, pfn, version, flags);
        if (r == CUDA_SUCCESS && pfn)
                *pfn = map_lookup(symbol, *pfn, version, flags);
        return r;
}

SHIM_EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, unsigned long long flags,
                                         int *status) {
        shim_init();
        if (!shim.real.cuGetProcAddress_v2)
                return CUDA_ERROR_NOT_INITIALIZED;
        CUresult r = shim.real.cuGetProcAddress_v2(symbol, pfn, version, flags, status);
        if (r == CUDA_SUCCESS && pfn)
                *pfn = map_lookup(symbol, *pfn, version, flags);
        return r;
}

const ShimSym shim_lookup_syms[] = {
        {"cuGetProcAddress", (void **)&shim.real.cuGetProcAddress, (void *)cuGetProcAddress},
        {"cuGetProcAddress_v2", (void **)&shim.real.cuGetProcAddress_v2, (void *)cuGetProcAddress_v2},
};
const size_t shim_lookup_n = sizeof shim_lookup_syms / sizeof shim_lookup_syms[0];

/* A forked child is a new process of the job: it claims its own slot, has no work in
 * flight and holds none of the parent's allocations. Runs in the only thread the child
 * has, so that thread's cached state is reset here too. */
static void atfork_child(void) {
        cached_ctx = NULL;
        cached_gpu = -1;
        /* The child initialises CUDA anew, maybe under its own CUDA_VISIBLE_DEVICES. */
        for (unsigned d = 0; d < ORDINALS; d++)
                atomic_store_explicit(&ordinal_gpu[d], -2, memory_order_relaxed);
        shim_launch_forget();
        shim_memory_forget();
        shim_pool_forget();
        shim_graph_forget();
}

__attribute__((constructor)) static void shim_constructor(void) {
        const char *p = getenv(GPU_REGION_ENV);
        if (p && *p && strlen(p) < sizeof region_path) {
                memcpy(region_path, p, strlen(p) + 1);
                region_path_set = true;
        }
        real_dlsym();
        pthread_atfork(NULL, NULL, atfork_child);
}
