/* SPDX-License-Identifier: MIT */
/* A graph's first estimate: the launches captured into it were not charged (launch.c);
 * their estimates are summed per thread until cuStreamEndCapture, kept per CUgraph, and
 * given to each CUgraphExec instantiated from it, until its own launches are measured.
 * Only the instantiation entry points with one ABI across CUDA versions are followed
 * (WithFlags, WithParams); a graph instantiated otherwise starts from the process's mean
 * launch cost. */
#include <pthread.h>
#include <string.h>

#include "shim/shim.h"

#define GRAPHS 64

static struct {
        pthread_mutex_t lock;
        unsigned next;
        struct {
                CUgraph graph;
                int64_t ns;
        } g[GRAPHS]; /* a ring: the most recent captures */
} G = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define R shim.real

static CUresult captured(CUresult r, CUgraph *graph) {
        int64_t ns = shim_capture_take();
        if (r != CUDA_SUCCESS || !graph || !*graph || ns <= 0)
                return r;
        pthread_mutex_lock(&G.lock);
        G.g[G.next].graph = *graph;
        G.g[G.next].ns = ns;
        G.next = (G.next + 1) % GRAPHS;
        pthread_mutex_unlock(&G.lock);
        return r;
}

static CUresult instantiated(CUresult r, CUgraphExec *exec, CUgraph graph) {
        if (r != CUDA_SUCCESS || !exec || !*exec)
                return r;
        int64_t ns = 0;
        pthread_mutex_lock(&G.lock);
        for (unsigned i = 0; i < GRAPHS; i++)
                if (G.g[i].graph == graph)
                        ns = G.g[i].ns;
        pthread_mutex_unlock(&G.lock);
        shim_cost_seed(*exec, ns);
        return r;
}


SHIM_EXPORT CUresult cuStreamEndCapture(CUstream s, CUgraph *graph) {
        shim_init();
        NOT_LOADED(cuStreamEndCapture);
        return captured(R.cuStreamEndCapture(s, graph), graph);
}

SHIM_EXPORT CUresult cuStreamEndCapture_ptsz(CUstream s, CUgraph *graph) {
        shim_init();
        NOT_LOADED(cuStreamEndCapture_ptsz);
        return captured(R.cuStreamEndCapture_ptsz(s, graph), graph);
}

SHIM_EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph, unsigned long long flags) {
        shim_init();
        NOT_LOADED(cuGraphInstantiateWithFlags);
        return instantiated(R.cuGraphInstantiateWithFlags(exec, graph, flags), exec, graph);
}

SHIM_EXPORT CUresult cuGraphInstantiateWithParams(CUgraphExec *exec, CUgraph graph, void *params) {
        shim_init();
        NOT_LOADED(cuGraphInstantiateWithParams);
        return instantiated(R.cuGraphInstantiateWithParams(exec, graph, params), exec, graph);
}

SHIM_EXPORT CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec *exec, CUgraph graph, void *params) {
        shim_init();
        NOT_LOADED(cuGraphInstantiateWithParams_ptsz);
        return instantiated(R.cuGraphInstantiateWithParams_ptsz(exec, graph, params), exec, graph);
}

void shim_graph_forget(void) {
        memset(&G, 0, sizeof G);
        pthread_mutex_init(&G.lock, NULL);
}

const ShimSym shim_graph_syms[] = {
        WRAP(cuStreamEndCapture),
        WRAP(cuStreamEndCapture_ptsz),
        WRAP(cuGraphInstantiateWithFlags),
        WRAP(cuGraphInstantiateWithParams),
        WRAP(cuGraphInstantiateWithParams_ptsz),
};
const size_t shim_graph_n = sizeof shim_graph_syms / sizeof shim_graph_syms[0];
