/* SPDX-License-Identifier: MIT */
/* gpu-limit.c: GPU shares and GPU memory limits (docs/gpu.md "Caps, shares and memory
 * limits", DESIGN §11). A job with a share or a GPU memory limit gets a region
 * (src/gpu/region.h) in the run's /dev/shm/corun-<run-id>/ directory (journalled, 0600,
 * the job's user) and the shim libcorun-cuda.so last in LD_PRELOAD; every sample tick
 * the controller (src/gpu/limiter.c) reads each job's own measured share of each of its
 * GPUs (the NVML sampler, its pids only) and the shim's counters, and writes the job's
 * refill rate. A job whose NVML-measured GPU memory stays above its limit is ended
 * (gpu-oom). via: mps hands the share to MPS's active-thread percentage instead. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec-internal.h"
#include "gpu/limiter.h"
#include "gpu/region.h"
#include "util/error.h"
#include "util/fileio.h"

/* Bucket depth: enough GPU time to absorb one NVML period's jitter, small enough that a
 * burst after an idle spell stays well inside the averaging window (research note §5.4). */
#define GPU_LIMIT_DEPTH_NS INT64_C(50000000)
/* The backstop: NVML memory above limit × 1.05 for this long ends the job. */
#define GPU_OOM_SLACK 1.05
#define GPU_OOM_AFTER_USEC (2 * USEC_PER_SEC)
_Static_assert(GPU_LIMITED_MAX == GPU_REGION_GPUS, "spec's bound on a limited job's GPUs is the region's");

struct JobGpuLimit {
        GpuRegion *region;
        int fd; /* the region file, to check its size before each access (-1: none) */
        char *path;
        unsigned n; /* the job's GPUs, in PCI order: region->gpu[k] */
        bool mps;
        GpuLimitTenant t[GPU_REGION_GPUS];
        /* the previous step's counters, per GPU */
        uint64_t prev_charged[GPU_REGION_GPUS], prev_waits[GPU_REGION_GPUS], prev_launches[GPU_REGION_GPUS];
        double target[GPU_REGION_GPUS]; /* the share aimed at in the last period */
        double applied_sum[GPU_REGION_GPUS], applied_time[GPU_REGION_GPUS];
        bool sampled[GPU_REGION_GPUS]; /* a period with a sample has passed */
        uint64_t last_usec;
        uint64_t over_since; /* NVML memory above the limit since; 0: not */
};

static const char *const shim_candidates[] = {
        /* the build tree: build/corun beside build/src/shim/ */
        "src/shim",
        /* installed: <prefix>/bin/corun, <prefix>/lib/<triplet>/corun/ or <prefix>/lib/corun/ */
        "../lib/x86_64-linux-gnu/corun",
        "../lib/aarch64-linux-gnu/corun",
        "../lib64/corun",
        "../lib/corun",
};

/* The shim next to this corun (CORUN_SHIM overrides: a test or a custom install). */
static int find_shim(char **ret, char **ret_error) {
        const char *env = getenv("CORUN_SHIM");
        if (!isempty(env)) {
                if (env[0] != '/' || access(env, R_OK) < 0)
                        return error_setf(ret_error, -ENOENT, "CORUN_SHIM=%s: not a readable absolute path", env);
                return (*ret = strdup(env)) ? 0 : -ENOMEM;
        }
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
                return error_setf(ret_error, -ENOENT, "cannot find corun's own path: %m");
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
                *slash = '\0';
        for (size_t i = 0; i < ELEMENTSOF(shim_candidates); i++) {
                _cleanup_free_ char *p = NULL, *real = NULL;
                if (asprintf(&p, "%s/%s/libcorun-cuda.so", exe, shim_candidates[i]) < 0)
                        return -ENOMEM;
                if (access(p, R_OK) == 0 && (real = realpath(p, NULL))) {
                        *ret = TAKE_PTR(real);
                        return 0;
                }
        }
        return error_setf(ret_error, -ENOENT,
                          "the GPU shim libcorun-cuda.so is not installed next to corun (%s/../lib/.../corun/); "
                          "reinstall corun, or set CORUN_SHIM to its path",
                          exe);
}

/* Before anything starts: the shim exists, MPS runs where a job asks for it, and no job
 * in an image has a GPU limit (the shim is a host file). */
int exec_gpu_limit_check(Runner *R, char **ret_error) {
        bool need_shim = false;
        for (size_t i = 0; i < R->plan->n_runs; i++)
                for (size_t k = 0; k < R->plan->runs[i].n_jobs; k++) {
                        const PlanJob *pj = &R->plan->runs[i].jobs[k];
                        const GpuRequest *g = &pj->limits.gpus;
                        if (!gpu_request_limited(g))
                                continue;
                        char where[SPEC_POS_MAX];
                        spec_pos_format(g->share_pos.line || g->share_pos.flag ? &g->share_pos : &g->pos, where,
                                        sizeof where);
                        if (pj->spec && pj->spec->container.image)
                                return error_setf(ret_error, -EOPNOTSUPP,
                                                  "%sjob '%s': GPU shares and GPU memory limits do not apply to jobs "
                                                  "in images yet (the shim is not inside the image); drop share:/"
                                                  "memory: or image:",
                                                  where, pj->name);
                        if (g->via == GPU_VIA_MPS && g->share_ppm > 0 && !(R->gpus && R->gpus->mps_running))
                                return error_setf(ret_error, -ENXIO,
                                                  "%sjob '%s' asks for via: mps, but no MPS control daemon answers "
                                                  "(CUDA_MPS_PIPE_DIRECTORY, default /tmp/nvidia-mps); start it with "
                                                  "nvidia-cuda-mps-control -d, or drop via: mps (corun's shim)",
                                                  where, pj->name);
                        if (g->via != GPU_VIA_MPS || g->memory_limit > 0)
                                need_shim = true;
                }
        if (!need_shim)
                return 0;
        int r = find_shim(&R->gpu_shim, ret_error);
        if (r < 0)
                return r;
        /* The loader splits LD_PRELOAD at blanks and colons: such a path would not load,
         * and the jobs would run unlimited. */
        if (strpbrk(R->gpu_shim, " :\t\n"))
                return error_setf(ret_error, -EINVAL,
                                  "the GPU shim's path %s has a blank or a colon, which LD_PRELOAD cannot hold; "
                                  "install corun (or set CORUN_SHIM) where the path has neither",
                                  R->gpu_shim);
        return 0;
}

/* The job's mechanism: NULL region when it has no limit. */
int exec_gpu_limit_prepare(Runner *R, Job *j, const char **ret_region, const char **ret_shim,
                           unsigned *ret_mps_pct) {
        const GpuRequest *g = &j->pj->limits.gpus;
        *ret_region = *ret_shim = NULL;
        *ret_mps_pct = 0;
        if (!gpu_request_limited(g) || !j->asg.gpus)
                return 0;
        bool mps = g->via == GPU_VIA_MPS && g->share_ppm > 0;
        if (mps)
                *ret_mps_pct = (unsigned)MAX(1u, (g->share_ppm + 5000) / 10000);
        if (mps && g->memory_limit == 0)
                return 0; /* MPS alone: no shim */
        if (!R->gpu_region_dir) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "/dev/shm/corun-%s", R->o->run_id) < 0)
                        return -ENOMEM;
                int r = journal_add(R->journal, "dir", dir);
                if (r < 0)
                        return error_setf(&R->error, r, "cannot journal %s: %s", dir, strerror(-r));
                /* Others may pass through (a job running as another user opens its own
                 * 0600 file in it) but not list it. */
                if (mkdir(dir, 0711) < 0) {
                        struct stat st;
                        /* Only ours: the run id is guessable, and another user's directory
                         * there could swap the jobs' regions. */
                        if (errno != EEXIST || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
                            st.st_uid != geteuid())
                                return error_setf(&R->error, errno == EEXIST ? -EEXIST : -errno,
                                                  "cannot create %s: %s", dir,
                                                  errno == EEXIST ? "it exists and is not corun's" : strerror(errno));
                }
                /* The umask may have taken the x bits: a job of another user opens its
                 * region through this directory. */
                if (chmod(dir, 0711) < 0)
                        return error_setf(&R->error, -errno, "cannot set the mode of %s: %m", dir);
                R->gpu_region_dir = TAKE_PTR(dir);
        }
        j->gpu_limit = calloc(1, sizeof *j->gpu_limit);
        if (!j->gpu_limit)
                return -ENOMEM;
        j->gpu_limit->fd = -1;
        j->gpu_limit->mps = mps;
        if (asprintf(&j->gpu_limit->path, "%s/%03zu-%zu.gpu", R->gpu_region_dir, j->run_index, j->index) < 0) {
                j->gpu_limit->path = NULL;
                return -ENOMEM;
        }
        *ret_region = j->gpu_limit->path;
        *ret_shim = R->gpu_shim;
        return 0;
}

/* The region, once the job's user is known, before it is spawned. */
int exec_gpu_limit_create(Runner *R, Job *j, uid_t uid, gid_t gid) {
        JobGpuLimit *L = j->gpu_limit;
        const GpuRequest *g = &j->pj->limits.gpus;
        if (!L)
                return 0;
        GpuRegionGpuSpec specs[GPU_REGION_GPUS];
        unsigned n = 0;
        double share = g->share_ppm ? g->share_ppm / (double)GPU_SHARE_WHOLE : 1.0;
        for (unsigned i = 0; i < R->gpus->n_devices && i < ALLOC_GPUS_MAX && n < GPU_REGION_GPUS; i++) {
                if (!(j->asg.gpus & (UINT64_C(1) << i)))
                        continue;
                /* share 100 and MPS: counted, not charged */
                bool charge = !L->mps && g->share_ppm > 0 && g->share_ppm < GPU_SHARE_WHOLE;
                specs[n] = (GpuRegionGpuSpec){
                        .uuid = R->gpus->devices[i].uuid,
                        .memory_limit = g->memory_limit,
                        .share_ppm = g->share_ppm,
                        .rate_ppm = charge ? (uint64_t)(share * GPU_RATE_ONE) : GPU_RATE_UNLIMITED,
                        .depth_ns = GPU_LIMIT_DEPTH_NS,
                        .timeslice_ns = R->gpus->devices[i].timeslice.slice_ns,
                        .timeslice_switch_ns = R->gpus->devices[i].timeslice.switch_ns,
                };
                L->t[n] = (GpuLimitTenant){.share = charge ? share : 1.0, .work_conserving = g->mode == GPU_MODE_SHARE};
                L->target[n] = share;
                n++;
        }
        L->n = n;
        (void)unlink(L->path); /* a file a killed run of the same id left (never: ids are unique) */
        int r = gpu_region_create(L->path, uid, gid, specs, n, &L->region);
        if (r < 0)
                return error_setf(&R->error, r, "job '%s': cannot create its GPU limit region %s: %s", j->pj->name,
                                  L->path, strerror(-r));
        L->fd = open(L->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (L->fd < 0)
                return error_setf(&R->error, -errno, "job '%s': cannot open its GPU limit region %s: %m",
                                  j->pj->name, L->path);
        /* The bucket starts empty, not full: a job of a few seconds would otherwise run
         * a whole depth (50 ms) above its cap at its start, 1–2 pp of its mean. */
        for (unsigned k = 0; k < n; k++)
                atomic_store(&L->region->gpu[k].tokens_ns, 0);
        return 0;
}

/* The job owns its region file and may truncate it: reading a mapping past a file's end
 * is SIGBUS, which would end the runner. Checked before every tick's reads (a truncation
 * in the microseconds between is the remaining window); a region gone wrong stops being
 * controlled, with one warning. */
static bool region_ok(Runner *R, Job *j) {
        JobGpuLimit *L = j->gpu_limit;
        struct stat st;
        if (!L || !L->region)
                return false;
        if (L->fd >= 0 && fstat(L->fd, &st) == 0 && st.st_size >= (off_t)sizeof(GpuRegion))
                return true;
        exec_warn(R, "job '%s': its GPU limit region %s was truncated: its GPU limits are no longer controlled",
                  j->pj->name, L->path);
        gpu_region_unmap(L->region);
        L->region = NULL;
        return false;
}

/* b − a of a counter that should only grow; 0 when it did not. */
static uint64_t grew(uint64_t a, uint64_t b) {
        return b > a ? b - a : 0;
}

/* The job's shim enforces a share on this GPU (not MPS, not a share of 100 that is only
 * measured): the controller's rate goes to its region. */
static bool shim_caps(const JobGpuLimit *L, const GpuRegionGpu *rg) {
        return !L->mps && rg->share_ppm > 0 && rg->share_ppm < GPU_SHARE_WHOLE;
}

/* The job's tenant index on GPU position i, or -1. */
static int tenant_of(const Runner *R, const Job *j, unsigned i) {
        if (!(j->asg.gpus & (UINT64_C(1) << i)))
                return -1;
        return __builtin_popcountll(j->asg.gpus & ((UINT64_C(1) << i) - 1));
}

static void backstop(Runner *R, Job *j, uint64_t now) {
        JobGpuLimit *L = j->gpu_limit;
        uint64_t limit = j->pj->limits.gpus.memory_limit;
        if (!limit || j->stop != STOP_NONE)
                return;
        bool over = false;
        for (unsigned k = 0; k < j->n_gpu_acc; k++)
                over |= (double)j->gpu_acc[k].memory_last_bytes > (double)limit * GPU_OOM_SLACK;
        if (!over) {
                L->over_since = 0;
                return;
        }
        if (!L->over_since)
                L->over_since = now;
        if (now - L->over_since >= GPU_OOM_AFTER_USEC) {
                exec_warn(R, "job '%s': its GPU memory stayed above its limit for %.0f s: ended (gpu-oom)",
                          j->pj->name, (double)GPU_OOM_AFTER_USEC / USEC_PER_SEC);
                deadline_begin_stop(j, STOP_GPU_OOM, now);
        }
}

void exec_gpu_limit_tick(Runner *R, uint64_t now) {
        unsigned n_gpus = R->gpus ? (unsigned)MIN(R->gpus->n_devices, (size_t)ALLOC_GPUS_MAX) : 0;
        /* Slots of the job's processes that died without releasing them (SIGKILL, a crash)
         * are reaped every tick, so that their bytes leave memory_used at once: the job's
         * other processes see that memory free in cuMemGetInfo, not only after one of their
         * allocations was first refused (the shim reaps then). Jobs run in corun's pid
         * namespace (jobs in images get no region), so the pids are the runner's. */
        for (size_t x = 0; x < R->n_jobs; x++)
                if (R->jobs[x].gpu_limit && R->jobs[x].state == JOB_RUNNING && region_ok(R, &R->jobs[x]))
                        (void)gpu_region_reap(R->jobs[x].gpu_limit->region);
        for (unsigned i = 0; i < n_gpus; i++) {
                double dt_max = 0;
                GpuLimitTenant t[64];
                Job *who[64];
                int slot[64];
                size_t n = 0;
                bool others = false;         /* a running job on this GPU that is not a tenant */
                double others_measured = 0; /* their measured shares in the period */
                for (size_t x = 0; x < R->n_jobs && n < ELEMENTSOF(t); x++) {
                        Job *j = &R->jobs[x];
                        JobGpuLimit *L = j->gpu_limit;
                        int k = tenant_of(R, j, i);
                        if (j->state != JOB_RUNNING)
                                continue;
                        if (!L || !L->region || k < 0 || (unsigned)k >= L->n || (unsigned)k >= j->n_gpu_acc) {
                                others |= k >= 0 || j->pj->limits.gpus.kind == GPUS_ANY;
                                if (k >= 0 && (unsigned)k < j->n_gpu_acc) {
                                        double m = gpu_share_accum_period(&j->gpu_acc[k]);
                                        others_measured += isfinite(m) ? m : 0;
                                }
                                continue;
                        }
                        GpuRegionGpu *rg = &L->region->gpu[k];
                        GpuShareAccum *a = &j->gpu_acc[k];
                        double dt = L->last_usec ? (double)(now - L->last_usec) / USEC_PER_SEC : 0;
                        uint64_t charged = atomic_load(&rg->charged_ns), waits = atomic_load(&rg->waits), launches = 0;
                        for (unsigned e = 0; e < _GPU_ENTRY_MAX; e++)
                                launches += atomic_load(&rg->launches[e]);
                        L->t[k].measured = gpu_share_accum_period(a);
                        L->t[k].charged = dt > 0 ? (double)grew(L->prev_charged[k], charged) / (dt * 1e9) : 0;
                        if (isfinite(L->t[k].measured) && !L->sampled[k]) {
                                /* The job's first sampled period holds its start (CUDA's set-up, its
                                 * first kernels partway into NVML's sample period) against a whole
                                 * period's charge: the controller would take it for estimates a
                                 * third too high and run the job over its cap for a second (the
                                 * 40 % tenant of examples/gpu-share.yaml at 48 %). Neither side of
                                 * it goes to the controller. */
                                L->sampled[k] = true;
                                L->t[k].measured = NAN;
                                L->t[k].charged = 0;
                        }
                        L->t[k].backlogged = grew(L->prev_waits[k], waits) > 0;
                        L->t[k].active = grew(L->prev_launches[k], launches) > 0;
                        dt_max = MAX(dt_max, dt);
                        /* What the job holds on the GPU beyond what the shim allocated (its
                         * contexts, libraries' own memory): the shim counts it against the
                         * limit too (region.h). */
                        uint64_t used = atomic_load(&rg->memory_used);
                        atomic_store(&rg->memory_untracked, grew(used, a->memory_last_bytes));
                        L->prev_charged[k] = charged;
                        L->prev_waits[k] = waits;
                        L->prev_launches[k] = launches;
                        t[n] = L->t[k];
                        who[n] = j;
                        slot[n] = k;
                        n++;
                }
                if (n == 0)
                        continue;
                /* The period: the tenants tick together; a job that has just started has
                 * no period of its own yet, which must not hold the others back. */
                double dt = dt_max;
                if (dt > 0) {
                        (void)gpu_limiter_attribution(&R->gpu_attribution[i], t, n, others, others_measured, dt);
                        gpu_limiter_step(t, n, dt);
                }
                for (size_t x = 0; x < n; x++) {
                        JobGpuLimit *L = who[x]->gpu_limit;
                        int k = slot[x];
                        L->t[k] = t[x];
                        GpuRegionGpu *rg = &L->region->gpu[k];
                        if (dt > 0 && shim_caps(L, rg)) {
                                uint64_t ppm = isfinite(t[x].rate) ? (uint64_t)(MAX(t[x].rate, 0.0) * GPU_RATE_ONE)
                                                                   : GPU_RATE_UNLIMITED;
                                atomic_store(&rg->rate_ppm, ppm);
                                atomic_store(&rg->others_busy_ppm,
                                             (uint32_t)(R->gpu_attribution[i].others_busy * GPU_RATE_ONE + 0.5));
                        }
                        /* What the mechanism aims at: the share, plus what is lent (share mode). */
                        L->target[k] = t[x].share < 1.0 ? t[x].share + (t[x].work_conserving ? t[x].lent : 0) : 1.0;
                        if (L->mps || rg->share_ppm == 0)
                                L->target[k] = rg->share_ppm / (double)GPU_SHARE_WHOLE;
                        L->applied_sum[k] += L->target[k] * dt;
                        L->applied_time[k] += dt;
                }
        }
        for (size_t x = 0; x < R->n_jobs; x++) {
                Job *j = &R->jobs[x];
                if (j->gpu_limit && j->state == JOB_RUNNING) {
                        j->gpu_limit->last_usec = now;
                        backstop(R, j, now);
                }
        }
}

/* The gpu.csv columns of one GPU: share_target, memory_limit_bytes, throttled_s. */
/* A fraction for the series, or an empty field (`ok` false, or not finite). */
static void put_fraction(char *buf, size_t size, bool ok, double x) {
        if (ok && isfinite(x))
                snprintf(buf, size, "%.4f", x);
        else
                buf[0] = 0;
}

void exec_gpu_limit_columns(const Runner *R, const Job *j, unsigned i, unsigned k, char *buf, size_t size) {
        const JobGpuLimit *L = j->gpu_limit;
        const GpuRequest *g = &j->pj->limits.gpus;
        if (!L || k >= L->n || !L->region) {
                snprintf(buf, size, ",,,,,,");
                return;
        }
        /* The controller's view of the period (docs/result-schema.md): only for a share the
         * shim enforces. */
        const GpuLimitTenant *t = &L->t[k];
        bool shim = shim_caps(L, &L->region->gpu[k]);
        char share[32] = "", mem[32] = "", charged[32], rate[32], scale[32], others[32];
        if (g->share_ppm)
                snprintf(share, sizeof share, "%.4f", L->target[k]);
        if (g->memory_limit)
                snprintf(mem, sizeof mem, "%" PRIu64, g->memory_limit);
        put_fraction(charged, sizeof charged, shim && t->started, t->charged);
        put_fraction(rate, sizeof rate, shim && t->started, t->rate);
        put_fraction(scale, sizeof scale, shim && t->scale > 0, t->scale);
        bool known = i < ELEMENTSOF(R->gpu_attribution);
        put_fraction(others, sizeof others, shim && known, known ? R->gpu_attribution[i].others_busy : NAN);
        snprintf(buf, size, "%s,%s,%.3f,%s,%s,%s,%s", share, mem,
                 (double)atomic_load(&L->region->gpu[k].throttled_ns) / 1e9, charged, rate, scale, others);
}

void exec_gpu_limit_record(const Job *j, unsigned k, JobGpuResult *x) {
        const JobGpuLimit *L = j->gpu_limit;
        const GpuRequest *g = &j->pj->limits.gpus;
        if (!gpu_request_limited(g))
                return;
        x->limited = true;
        x->memory_limit_bytes = g->memory_limit;
        if (g->share_ppm) {
                x->share_requested = g->share_ppm / (double)GPU_SHARE_WHOLE;
                x->share_mode = strdup(gpu_share_mode_to_string(g->mode));
                bool mps = L ? L->mps : g->via == GPU_VIA_MPS;
                x->mechanism = strdup(mps ? "mps" : "shim");
                x->semantics = strdup(mps ? "sm-partition" : "time-share");
                x->share_applied = x->share_requested;
                if (mps)
                        x->share_applied = (double)MAX(1u, (g->share_ppm + 5000) / 10000) / 100.0;
                else if (L && k < L->n && L->applied_time[k] > 0)
                        x->share_applied = L->applied_sum[k] / L->applied_time[k];
        }
        if (!L || k >= L->n || !L->region)
                return;
        const GpuRegionGpu *rg = &L->region->gpu[k];
        x->throttled_s = (double)atomic_load(&rg->throttled_ns) / 1e9;
        x->memory_refused = atomic_load(&rg->memory_refused);
        x->uncontrollable = L->t[k].uncontrollable;
        x->open_loop = L->t[k].open_loop;
        x->sliced_estimates = atomic_load(&rg->sliced_estimates);
        for (unsigned e = 0; e < _GPU_ENTRY_MAX && e < ELEMENTSOF(x->launches); e++) {
                x->launches[e] = atomic_load(&rg->launches[e]);
                x->launches_seen |= x->launches[e] > 0;
        }
        /* A region no process of the job ever claimed: the shim never ran (a static binary,
         * no CUDA at all). The counts are still true: zero. */
        x->launches_seen |= atomic_load(&L->region->procs_claimed) > 0;
}

void exec_gpu_limit_ended(Runner *R, Job *j) {
        const JobGpuLimit *L = j->gpu_limit;
        if (!L || !L->region || !region_ok(R, j))
                return;
        uint32_t unmapped = atomic_load(&L->region->unmapped_lookups);
        if (unmapped > 0)
                exec_warn(R,
                          "job '%s': the CUDA driver answered %u of its look-ups (cuGetProcAddress) "
                          "of entry points corun wraps with addresses that are not the driver's exported "
                          "ones: what it launched or allocated through them passed corun's shim by, so its "
                          "GPU share and memory limit did not hold for it (the job's log names the entry "
                          "points; docs/gpu.md)",
                          j->pj->name, unmapped);
        if (R->gpu_timeslice_warned)
                return;
        for (unsigned i = 0; i < R->gpus->n_devices && i < ALLOC_GPUS_MAX; i++) {
                int k = tenant_of(R, j, i);
                const GpuDevice *d = &R->gpus->devices[i];
                if (k < 0 || (unsigned)k >= L->n || atomic_load(&L->region->gpu[k].sliced_estimates) == 0 ||
                    d->timeslice.slice_ns > 0)
                        continue;
                /* A longer slice than the one assumed takes out too much: the cap is exceeded. */
                R->gpu_timeslice_warned = true;
                exec_warn(R,
                          "job '%s': its kernels on GPU %u are longer than a time slice and ran beside a busy job; "
                          "their timings were corrected for that job's slices taken as an H200's %.2f ms, since this "
                          "GPU's were not measured: its cap holds only if they are about that long. Measure them "
                          "once per boot: corun doctor --gpu-timeslice",
                          j->pj->name, d->nvml_index, GPU_TIMESLICE_NS / 1e6);
                return;
        }
}

void exec_gpu_limit_free(Runner *R, Job *j) {
        JobGpuLimit *L = j->gpu_limit;
        if (!L)
                return;
        if (L->region)
                gpu_region_unmap(L->region);
        if (L->fd >= 0)
                close(L->fd);
        if (L->path)
                (void)unlink(L->path);
        free(L->path);
        free(L);
        j->gpu_limit = NULL;
}

void exec_gpu_limit_teardown(Runner *R) {
        if (R->gpu_region_dir)
                (void)rm_rf(R->gpu_region_dir);
        free(R->gpu_region_dir);
        R->gpu_region_dir = NULL;
        free(R->gpu_shim);
        R->gpu_shim = NULL;
}
