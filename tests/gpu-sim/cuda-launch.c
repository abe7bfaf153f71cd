/* SPDX-License-Identifier: MIT */
/* The fake driver's events, launches (every entry point the shim interposes), stream
 * capture and graphs. Events carry the simulated time their work completed, so
 * cuEventElapsedTime gives the GPU time between two of them as the simulated device ran
 * it (time slices of other processes included, as on a real time-sliced GPU). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda-fake.h"

CUresult fake_submit(Ctx *c, uint64_t ns) {
        SimDevice *d = dev_of(c->ordinal);
        CUresult r = CUDA_SUCCESS;
        sim_lock(P.s);
        sim_advance(P.s, d, sim_now_ns());
        SimCtx *sc = d->lost ? NULL : sim_ctx(d, getpid(), true);
        if (sc) {
                sc->has_context = 1;
                sc->submitted_ns += ns;
                c->target = sc->submitted_ns;
        } else
                r = d->lost ? CUDA_ERROR_LAUNCH_FAILED : CUDA_ERROR_OUT_OF_MEMORY;
        sim_unlock(P.s);
        return r;
}

EXPORT CUresult cuEventCreate(Event **ret, unsigned flags) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!ret)
                return CUDA_ERROR_INVALID_VALUE;
        Event *e = calloc(1, sizeof *e);
        if (!e)
                return CUDA_ERROR_OUT_OF_MEMORY;
        e->magic = EVENT_MAGIC;
        e->home = ctx_valid(current) ? current : NULL;
        *ret = e;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuEventDestroy_v2(Event *e) {
        if (!e || e->magic != EVENT_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        e->magic = 0;
        free(e);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuEventDestroy(Event *e) {
        return cuEventDestroy_v2(e);
}

static Stream *capturing(void *stream) {
        Stream *st = stream;
        return st && st != (void *)1 && st != (void *)2 && st->magic == STREAM_MAGIC && st->capture ? st : NULL;
}

EXPORT CUresult cuEventRecord(Event *e, void *stream) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!e || e->magic != EVENT_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        Ctx *c = stream_ctx(stream);
        if (!c)
                return stream ? CUDA_ERROR_INVALID_HANDLE : CUDA_ERROR_INVALID_CONTEXT;
        if (e->home && e->home != c) {
                /* The real driver refuses an event of another context; say so once, for
                 * the tests (a shim must never do it). */
                static bool told;
                if (!told)
                        fprintf(stderr, "gpu-sim: cuEventRecord: the event and the stream are in "
                                        "different contexts\n");
                told = true;
                return CUDA_ERROR_INVALID_HANDLE;
        }
        if (capturing(stream))
                return CUDA_SUCCESS; /* a capture dependency, not modelled: nothing runs now */
        e->ctx = c;
        e->target = c->target;
        e->recorded_ns = sim_now_ns();
        e->done_at = 0;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuEventRecord_ptsz(Event *e, void *stream) {
        return cuEventRecord(e, stream);
}

EXPORT CUresult cuEventRecordWithFlags(Event *e, void *stream, unsigned flags) {
        return cuEventRecord(e, stream);
}

/* Whether e has completed, noting when. An event on work that had already run when it
 * was recorded completes at its recording, or, if another context held the GPU then, when
 * its own context next ran. */
static CUresult event_poll(Event *e) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!e || e->magic != EVENT_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        if (!e->ctx || e->done_at)
                return CUDA_SUCCESS;
        SimDevice *d = dev_of(e->ctx->ordinal);
        uint64_t now = sim_now_ns(), at = 0;
        sim_lock(P.s);
        sim_advance(P.s, d, now);
        SimCtx *sc = sim_ctx(d, getpid(), false);
        bool done = !sc || sc->done_ns >= e->target;
        if (done)
                at = sc && e->target > 0 ? sim_done_at(sc, e->target) : e->recorded_ns;
        /* Recorded on a stream with nothing left to run: like a real GPU, the event is
         * processed when its context next holds the GPU, not while another's slice runs. */
        if (done && sc && at <= e->recorded_ns)
                at = sim_resident_after(P.s, d, sc, e->recorded_ns);
        sim_unlock(P.s);
        if (!done)
                return CUDA_ERROR_NOT_READY;
        if (at == 0)
                at = now; /* ran too long ago to know: an upper bound */
        e->done_at = at > e->recorded_ns ? at : e->recorded_ns;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuEventQuery(Event *e) {
        return event_poll(e);
}

EXPORT CUresult cuEventSynchronize(Event *e) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!e || e->magic != EVENT_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        if (!e->ctx)
                return CUDA_SUCCESS;
        Ctx wait = *e->ctx;
        wait.target = e->target;
        CUresult r = ctx_wait(&wait);
        return r ? r : event_poll(e);
}

EXPORT CUresult cuEventElapsedTime(float *ms, Event *start, Event *end) {
        if (!ms)
                return CUDA_ERROR_INVALID_VALUE;
        if (!start || start->magic != EVENT_MAGIC || !end || end->magic != EVENT_MAGIC || !start->ctx || !end->ctx)
                return CUDA_ERROR_INVALID_HANDLE;
        CUresult r = event_poll(start);
        if (r == CUDA_SUCCESS)
                r = event_poll(end);
        if (r)
                return r;
        *ms = (float)((double)((int64_t)end->done_at - (int64_t)start->done_at) / 1e6);
        return CUDA_SUCCESS;
}

/* CUDA 12.8's _v2: the same measurement (the real one differs in accuracy only). */
EXPORT CUresult cuEventElapsedTime_v2(float *ms, Event *start, Event *end) {
        return cuEventElapsedTime(ms, start, end);
}

/* ---- Launches ---- */

#define GRAPH_MAGIC 0x47525048u
#define EXEC_MAGIC 0x47455843u

/* A captured graph is the GPU time of its kernels; its instances run it as one piece. */
typedef struct Graph {
        unsigned magic;
        unsigned nodes;
        uint64_t ns;
} Graph;

typedef struct GraphExec {
        unsigned magic;
        uint64_t ns;
} GraphExec;

/* The checks every launch makes, and its GPU time. */
static CUresult launch_check(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                             unsigned bz, void *stream, void **params, Ctx **ret_ctx, uint64_t *ret_ns) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!f || f->magic != FUN_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        if (gx * gy * gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024)
                return CUDA_ERROR_INVALID_VALUE;
        Ctx *c = stream_ctx(stream);
        if (!c)
                return stream ? CUDA_ERROR_INVALID_HANDLE : CUDA_ERROR_INVALID_CONTEXT;
        if (f->busy) {
                if (!params || !params[0])
                        return CUDA_ERROR_INVALID_VALUE;
                memcpy(ret_ns, params[0], sizeof *ret_ns);
        } else
                *ret_ns = sim_kernel_ns(P.s, f->name);
        *ret_ctx = c;
        return CUDA_SUCCESS;
}

/* Runs ns of work on stream now, or adds it to the graph the stream is capturing. */
static CUresult run_or_capture(Ctx *c, void *stream, uint64_t ns) {
        Stream *st = capturing(stream);
        if (st) {
                st->capture->nodes++;
                st->capture->ns += ns;
                return CUDA_SUCCESS;
        }
        return fake_submit(c, ns);
}

static CUresult launch(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                       void *stream, void **params) {
        Ctx *c;
        uint64_t ns;
        CUresult r = launch_check(f, gx, gy, gz, bx, by, bz, stream, params, &c, &ns);
        return r ? r : run_or_capture(c, stream, ns);
}

EXPORT CUresult cuLaunchKernel(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned shmem, void *stream, void **params, void **extra) {
        return launch(f, gx, gy, gz, bx, by, bz, stream, params);
}

CUresult fake_private_launch_kernel(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                    unsigned by, unsigned bz, unsigned shmem, void *stream, void **params,
                                    void **extra) {
        return launch(f, gx, gy, gz, bx, by, bz, stream, params);
}

EXPORT CUresult cuLaunchKernel_ptsz(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                    unsigned by, unsigned bz, unsigned shmem, void *stream, void **params,
                                    void **extra) {
        return launch(f, gx, gy, gz, bx, by, bz, stream, params);
}

/* CUlaunchConfig (cuda.h 12.0+). */
typedef struct LaunchConfig {
        unsigned gx, gy, gz, bx, by, bz, shmem;
        void *stream;
        void *attrs;
        unsigned n_attrs;
} LaunchConfig;

#ifndef GPU_SIM_NO_LAUNCH_EX /* old/: a driver before CUDA 12.0 */
EXPORT CUresult cuLaunchKernelEx(const LaunchConfig *cfg, Function *f, void **params, void **extra) {
        if (!cfg)
                return CUDA_ERROR_INVALID_VALUE;
        return launch(f, cfg->gx, cfg->gy, cfg->gz, cfg->bx, cfg->by, cfg->bz, cfg->stream, params);
}

EXPORT CUresult cuLaunchKernelEx_ptsz(const LaunchConfig *cfg, Function *f, void **params, void **extra) {
        return cuLaunchKernelEx(cfg, f, params, extra);
}
#endif

EXPORT CUresult cuLaunchCooperativeKernel(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                          unsigned by, unsigned bz, unsigned shmem, void *stream, void **params) {
        return launch(f, gx, gy, gz, bx, by, bz, stream, params);
}

EXPORT CUresult cuLaunchCooperativeKernel_ptsz(Function *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                               unsigned by, unsigned bz, unsigned shmem, void *stream,
                                               void **params) {
        return launch(f, gx, gy, gz, bx, by, bz, stream, params);
}

/* ---- Stream capture and graphs ---- */

static Stream *stream_arg(void *stream) {
        Stream *st = stream;
        return st && st != (void *)1 && st != (void *)2 && st->magic == STREAM_MAGIC ? st : NULL;
}

EXPORT CUresult cuStreamBeginCapture_v2(void *stream, int mode) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        Stream *st = stream_arg(stream);
        if (!st)
                return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; /* the legacy stream cannot capture */
        if (st->capture)
                return CUDA_ERROR_ILLEGAL_STATE;
        Graph *g = calloc(1, sizeof *g);
        if (!g)
                return CUDA_ERROR_OUT_OF_MEMORY;
        g->magic = GRAPH_MAGIC;
        st->capture = g;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamBeginCapture_v2_ptsz(void *stream, int mode) {
        return cuStreamBeginCapture_v2(stream, mode);
}

EXPORT CUresult cuStreamBeginCapture(void *stream, int mode) {
        return cuStreamBeginCapture_v2(stream, mode);
}

EXPORT CUresult cuStreamBeginCapture_ptsz(void *stream, int mode) {
        return cuStreamBeginCapture_v2(stream, mode);
}

EXPORT CUresult cuStreamEndCapture(void *stream, Graph **ret) {
        Stream *st = stream_arg(stream);
        if (!st || !st->capture)
                return CUDA_ERROR_ILLEGAL_STATE;
        if (!ret)
                return CUDA_ERROR_INVALID_VALUE;
        *ret = st->capture;
        st->capture = NULL;
        return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamEndCapture_ptsz(void *stream, Graph **ret) {
        return cuStreamEndCapture(stream, ret);
}

EXPORT CUresult cuStreamIsCapturing(void *stream, int *status) {
        if (!status)
                return CUDA_ERROR_INVALID_VALUE;
        if (stream && stream != (void *)1 && stream != (void *)2 && !stream_arg(stream))
                return CUDA_ERROR_INVALID_HANDLE;
        *status = capturing(stream) ? 1 : 0; /* CU_STREAM_CAPTURE_STATUS_ACTIVE, _NONE */
        return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamIsCapturing_ptsz(void *stream, int *status) {
        return cuStreamIsCapturing(stream, status);
}

EXPORT CUresult cuGraphInstantiateWithFlags(GraphExec **ret, Graph *g, unsigned long long flags) {
        if (!ret || !g || g->magic != GRAPH_MAGIC)
                return CUDA_ERROR_INVALID_VALUE;
        GraphExec *x = calloc(1, sizeof *x);
        if (!x)
                return CUDA_ERROR_OUT_OF_MEMORY;
        *x = (GraphExec){.magic = EXEC_MAGIC, .ns = g->ns};
        *ret = x;
        return CUDA_SUCCESS;
}

/* The exported cuGraphInstantiate keeps CUDA 11's ABI (cuda.h 12 maps the name to
 * cuGraphInstantiateWithFlags): error node, log buffer and its size. */
EXPORT CUresult cuGraphInstantiate(GraphExec **ret, Graph *g, void **error_node, char *log, size_t log_size) {
        if (log && log_size)
                log[0] = '\0';
        return cuGraphInstantiateWithFlags(ret, g, 0);
}

EXPORT CUresult cuGraphInstantiate_v2(GraphExec **ret, Graph *g, void **error_node, char *log, size_t log_size) {
        return cuGraphInstantiate(ret, g, error_node, log, log_size);
}

EXPORT CUresult cuGraphLaunch(GraphExec *x, void *stream) {
        if (!inited())
                return CUDA_ERROR_NOT_INITIALIZED;
        if (!x || x->magic != EXEC_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        Ctx *c = stream_ctx(stream);
        if (!c)
                return stream ? CUDA_ERROR_INVALID_HANDLE : CUDA_ERROR_INVALID_CONTEXT;
        return run_or_capture(c, stream, x->ns);
}

EXPORT CUresult cuGraphLaunch_ptsz(GraphExec *x, void *stream) {
        return cuGraphLaunch(x, stream);
}

EXPORT CUresult cuGraphExecDestroy(GraphExec *x) {
        if (!x || x->magic != EXEC_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        x->magic = 0;
        free(x);
        return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphDestroy(Graph *g) {
        if (!g || g->magic != GRAPH_MAGIC)
                return CUDA_ERROR_INVALID_HANDLE;
        g->magic = 0;
        free(g);
        return CUDA_SUCCESS;
}
