/* SPDX-License-Identifier: MIT */
#pragma once

/* The fake CUDA driver's own types and the helpers its files share (cuda.c: devices,
 * contexts, streams, modules; cuda-launch.c: events, launches, capture and graphs;
 * cuda-mem.c: memory; cuda-proc.c: cuGetProcAddress). The real driver's ABI, no CUDA
 * headers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum {
        CUDA_SUCCESS = 0,
        CUDA_ERROR_INVALID_VALUE = 1,
        CUDA_ERROR_OUT_OF_MEMORY = 2,
        CUDA_ERROR_NOT_INITIALIZED = 3,
        CUDA_ERROR_NO_DEVICE = 100,
        CUDA_ERROR_INVALID_DEVICE = 101,
        CUDA_ERROR_INVALID_IMAGE = 200,
        CUDA_ERROR_INVALID_CONTEXT = 201,
        CUDA_ERROR_INVALID_HANDLE = 400,
        CUDA_ERROR_ILLEGAL_STATE = 401,
        CUDA_ERROR_NOT_FOUND = 500,
        CUDA_ERROR_NOT_READY = 600,
        CUDA_ERROR_LAUNCH_FAILED = 719,
        CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
        CUDA_ERROR_UNKNOWN = 999,
};

enum {
        ATTR_CLOCK_RATE = 13,
        ATTR_MULTIPROCESSOR_COUNT = 16,
        ATTR_PCI_BUS_ID = 33,
        ATTR_PCI_DEVICE_ID = 34,
        ATTR_MAX_THREADS_PER_MULTIPROCESSOR = 39,
        ATTR_PCI_DOMAIN_ID = 50,
        ATTR_COMPUTE_CAPABILITY_MAJOR = 75,
        ATTR_COMPUTE_CAPABILITY_MINOR = 76,
};

typedef struct CUuuid {
        char bytes[16];
} CUuuid;

#define CTX_MAGIC 0x43545830u
#define MOD_MAGIC 0x4d4f4430u
#define FUN_MAGIC 0x46554e30u
#define STREAM_MAGIC 0x5354520u

typedef struct Ctx {
        unsigned magic;
        int ordinal; /* CUDA ordinal in this process */
        int refs;
        uint64_t target; /* this process's submitted work to wait for */
} Ctx;

typedef struct Module {
        unsigned magic;
        unsigned n;
        char names[16][64];
} Module;

typedef struct Function {
        unsigned magic;
        char name[64];
        bool busy; /* the corun stress kernel: its first parameter is the duration in ns */
} Function;

struct Graph;

typedef struct Stream {
        unsigned magic;
        Ctx *ctx;
        struct Graph *capture; /* being captured into: launches become nodes */
} Stream;

#define POOL_MAGIC 0x504f4f4cu
#define POOL_GRANULE (2u << 20) /* a pool reserves device memory in 2 MiB pieces */

/* A stream-ordered memory pool (one default pool per device): it reserves device memory
 * in granules and keeps what its freed blocks held, down to its release threshold. */
typedef struct Pool {
        unsigned magic;
        int ordinal;
        uint64_t used, reserved, threshold;
} Pool;

typedef struct Alloc {
        struct Alloc *next;
        CUdeviceptr ptr;
        size_t size;
        int dev;
        Pool *pool; /* from a pool: the pool's memory, not the device's */
} Alloc;

typedef struct FakeProc {
        pid_t pid; /* cuInit was called by this process (a fork must call it again) */
        SimState *s;
        int n;                        /* visible devices */
        int map[SIM_MAX_DEVICES];     /* CUDA ordinal -> simulated device */
        Ctx primary[SIM_MAX_DEVICES]; /* primary contexts */
        Alloc *allocs;
        CUdeviceptr next_ptr;
        Pool pools[SIM_MAX_DEVICES]; /* default pools */
} FakeProc;
extern FakeProc P;
extern __thread Ctx *current;

#define EVENT_MAGIC 0x45564e54u

/* An event is the amount of work its context had submitted when it was recorded, and
 * when that was (an event on an idle context completes when it is recorded). */
typedef struct Event {
        unsigned magic;
        Ctx *home; /* the context current at its creation (NULL: none) */
        Ctx *ctx;  /* where it was last recorded; NULL: never recorded */
        uint64_t target;
        uint64_t recorded_ns;
        uint64_t done_at; /* CLOCK_MONOTONIC ns it completed; 0 not yet known */
} Event;

SimDevice *dev_of(int ordinal);
bool inited(void);
bool ctx_valid(const Ctx *c);
Ctx *stream_ctx(void *stream);
/* Waits until the simulated device has run this process's work up to c->target. */
CUresult ctx_wait(Ctx *c);
/* Enqueues ns of GPU time on c's device (c->target moves to its end). */
CUresult fake_submit(Ctx *c, uint64_t ns);
/* cuLaunchKernel's ABI at an address that is not the exported symbol's (not exported at
 * all): what cuGetProcAddress("cuLaunchKernel") answers under CORUN_GPU_SIM_PRIVATE_LAUNCH=1,
 * as a driver with private entry points would. */
CUresult fake_private_launch_kernel(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                    unsigned by, unsigned bz, unsigned shmem, void *stream, void **params,
                                    void **extra);
