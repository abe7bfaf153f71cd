/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "stress/stress.h"
#include "util/macros.h"
#include "util/time-util.h"

typedef struct Worker {
        pthread_t thread;
        bool timed; /* run until deadline_usec instead of doing `units` */
        uint64_t units;
        uint64_t deadline_usec; /* CLOCK_MONOTONIC */
        uint64_t done;          /* units finished */
        uint64_t value;         /* the burn result, kept so that the work is observable */
        atomic_bool *stop;      /* set when starting a later thread failed */
} Worker;

static void *worker_run(void *userdata) {
        Worker *w = userdata;
        uint64_t x = (uint64_t)(uintptr_t)w;

        /* In timed mode the clock is read once per unit (about a millisecond), cheap next
         * to the burn and fine-grained enough to stop on time. */
        for (w->done = 0; w->timed ? now_usec(CLOCK_MONOTONIC) < w->deadline_usec : w->done < w->units; w->done++) {
                if (atomic_load_explicit(w->stop, memory_order_relaxed))
                        break;
                x = stress_burn(x, STRESS_WORK_UNIT);
        }
        w->value = x;
        return NULL;
}

static double cpu_seconds(void) {
        struct timespec ts;
        /* The process clock counts every thread, burners and caller alike. */
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps the compiler from treating the workers' results as dead. */
static volatile uint64_t sink;

int stress_cpu(const StressCpu *o, FILE *out, StressCpuResult *ret) {
        _cleanup_free_ Worker *w = NULL;
        unsigned started = 1;
        atomic_bool stop = false;
        int r = 0;

        if (o->threads == 0 || o->threads > STRESS_THREADS_MAX || (o->work == 0 && o->duration_usec == 0))
                return -EINVAL;
        w = calloc(o->threads, sizeof *w);
        if (!w)
                return -ENOMEM;

        double cpu0 = cpu_seconds();
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        uint64_t deadline = o->duration_usec > UINT64_MAX - t0 ? UINT64_MAX : t0 + o->duration_usec;
        for (unsigned i = 0; i < o->threads; i++) {
                /* Spread the remainder so that the total is exactly o->work. */
                w[i].units = o->work / o->threads + (i < o->work % o->threads);
                w[i].timed = o->work == 0;
                w[i].deadline_usec = deadline;
                w[i].stop = &stop;
        }
        stress_marker(out, "cpu", "burn", true);
        for (; started < o->threads; started++) {
                r = -pthread_create(&w[started].thread, NULL, worker_run, &w[started]);
                if (r < 0) {
                        atomic_store(&stop, true);
                        break;
                }
        }
        /* The calling thread is worker 0, so --threads 1 runs no extra thread. */
        worker_run(&w[0]);
        for (unsigned i = 1; i < started; i++)
                pthread_join(w[i].thread, NULL);
        if (r < 0)
                return r;
        stress_marker(out, "cpu", "burn", false);

        StressCpuResult res = {
                .wall_s = (double)(now_usec(CLOCK_MONOTONIC) - t0) / 1e6,
                .cpu_s = cpu_seconds() - cpu0,
        };
        for (unsigned i = 0; i < o->threads; i++) {
                res.work += w[i].done;
                sink += w[i].value;
        }
        *ret = res;
        return 0;
}
