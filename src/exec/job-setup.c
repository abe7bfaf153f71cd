/* SPDX-License-Identifier: MIT */
/* job-setup: a job's environment, paths and names, computed once from plain data (see
 * job-setup.h). No system calls here: the runner creates what these name, `corun plan`
 * shows them, and the unit tests check them, all from the same function. */
#include "exec/job-setup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macros.h"

char **job_setup_strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, job_setup_strv_free);

static size_t strv_length(char *const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static size_t key_length(const char *assignment) {
        return strcspn(assignment, "=");
}

static bool same_key(const char *a, const char *b) {
        size_t ka = key_length(a);
        return ka == key_length(b) && strncmp(a, b, ka) == 0;
}

static bool strv_has_key(char *const *v, size_t from, const char *assignment) {
        for (size_t i = from; v && v[i]; i++)
                if (same_key(v[i], assignment))
                        return true;
        return false;
}

int job_setup_env_merge(char *const *inherit, char *const *set, char ***ret) {
        size_t ni = strv_length(inherit), ns = strv_length(set), k = 0;
        _cleanup_(job_setup_strv_freep) char **env = calloc(ni + ns + 1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        /* Inherited first (as hyperfine does), minus what is set here. */
        for (size_t i = 0; i < ni; i++)
                if (!strv_has_key(set, 0, inherit[i]) && !(env[k++] = strdup(inherit[i])))
                        return -ENOMEM;
        for (size_t i = 0; i < ns; i++)
                if (!strv_has_key(set, i + 1, set[i]) && !(env[k++] = strdup(set[i])))
                        return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

/* "a#2" is a fine group name, but keep file names shell-friendly. */
static char *file_safe(const char *s) {
        char *r = strdup(s);
        for (char *p = r; p && *p; p++)
                if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
                      *p == '-' || *p == '_' || *p == '.'))
                        *p = '_';
        return r;
}

/* asprintf whose target is NULL on failure (glibc leaves it undefined). */
static int xasprintf(char **ret, const char *fmt, ...) _printf_(2, 3);
static int xasprintf(char **ret, const char *fmt, ...) {
        va_list ap;
        char *s;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

/* The variables corun sets for every job (corun(1)). */
#define JOB_ENV_OWN 14

static int job_env(const JobSetupInput *in, const JobSetup *s, char ***ret, char ***ret_container) {
        const PlanJob *pj = in->pj;
        const PlanRun *run = in->run;
        size_t nuser = strv_length(pj->env), k = 0;
        _cleanup_(job_setup_strv_freep) char **set = calloc(JOB_ENV_OWN + nuser + 1, sizeof(char *));
        if (!set)
                return -ENOMEM;
        /* Stops at the first failure: set[] stays NULL-terminated and is freed whole. */
        int r;
        if ((r = xasprintf(&set[k++], "TMPDIR=%s", s->scratch ?: "/tmp")) < 0 ||
            (r = xasprintf(&set[k++], "OMP_NUM_THREADS=%u", s->n_threads)) < 0 ||
            (r = xasprintf(&set[k++], "MKL_NUM_THREADS=%u", s->n_threads)) < 0 ||
            (r = xasprintf(&set[k++], "OPENBLAS_NUM_THREADS=%u", s->n_threads)) < 0 ||
            (r = xasprintf(&set[k++], "CORUN_JOB=%s", pj->name)) < 0 ||
            (r = xasprintf(&set[k++], "CORUN_RUN_ID=%s", in->run_id ?: "")) < 0 ||
            (r = xasprintf(&set[k++], "CORUN_SCENARIO=%s", run->scenario_name)) < 0 ||
            (r = xasprintf(&set[k++], "CORUN_REPETITION=%u", run->repetition)) < 0 ||
            (r = xasprintf(&set[k++], "CORUN_CPUS=%s", s->cpus_text)) < 0)
                return r;
        if (in->gpu_visible && ((r = xasprintf(&set[k++], "CUDA_VISIBLE_DEVICES=%s", in->gpu_visible)) < 0 ||
                                (r = xasprintf(&set[k++], "CUDA_DEVICE_ORDER=PCI_BUS_ID")) < 0))
                return r;
        if (in->gpu_region && (r = xasprintf(&set[k++], "CORUN_GPU_REGION=%s", in->gpu_region)) < 0)
                return r;
        if (in->gpu_mps_percentage &&
            (r = xasprintf(&set[k++], "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=%u", in->gpu_mps_percentage)) < 0)
                return r;
        /* The job's env: comes last and wins over corun's own variables (docs/scenario.md). */
        for (size_t i = 0; i < nuser; i++)
                if (!(set[k++] = strdup(pj->env[i])))
                        return -ENOMEM;
        /* ...except the shim's place in LD_PRELOAD: after the job's own preloads (env: or
         * inherited), which stay: nearest the driver, it sees every call that reaches it,
         * whatever another interposer (a profiler, a hook) does above it. */
        if (in->gpu_shim) {
                const char *theirs = NULL;
                for (size_t i = nuser; i-- > 0 && !theirs;)
                        if (strneq(pj->env[i], "LD_PRELOAD=", 11))
                                theirs = pj->env[i] + 11;
                for (size_t i = 0; !theirs && in->inherit && in->inherit[i]; i++)
                        if (strneq(in->inherit[i], "LD_PRELOAD=", 11))
                                theirs = in->inherit[i] + 11;
                if ((r = xasprintf(&set[k++], "LD_PRELOAD=%s%s%s", theirs ?: "", !isempty(theirs) ? ":" : "",
                                   in->gpu_shim)) < 0)
                        return r;
        }
        if (pj->spec && pj->spec->container.image) {
                /* Inside, the scratch dir is /tmp; the engine's client keeps it as TMPDIR. */
                char *host_tmpdir = set[0];
                set[0] = (char *)"TMPDIR=/tmp";
                r = job_setup_env_merge(NULL, set, ret_container);
                set[0] = host_tmpdir;
                if (r < 0)
                        return r;
        }
        return job_setup_env_merge(in->inherit, set, ret);
}

void job_setup_done(JobSetup *s) {
        if (!s)
                return;
        char **strs[] = {&s->file_name,    &s->log_prefix, &s->log_stdout_rel, &s->log_stderr_rel,
                         &s->samples_rel,  &s->log_dir,    &s->log_stdout,     &s->log_stderr,
                         &s->samples_path, &s->scratch,    &s->cgroup_rel,     &s->cpus_text};
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                free(TAKE_PTR(*strs[i]));
        s->envp = job_setup_strv_free(s->envp);
        s->container_env = job_setup_strv_free(s->container_env);
        s->n_threads = 0;
}

int job_setup_run_group(size_t run_index, const PlanRun *run, char **ret) {
        return xasprintf(ret, "%03zu-%s", run_index, run->scenario_name);
}

int job_setup_scratch_base(const char *tmpdir, const char *run_id, char **ret) {
        return xasprintf(ret, "%s/corun-%s", !isempty(tmpdir) ? tmpdir : "/tmp", run_id);
}

int job_setup_build(const JobSetupInput *in, JobSetup *ret) {
        const PlanRun *run = in->run;
        _cleanup_(job_setup_done) JobSetup s = {0};
        _cleanup_free_ char *group = NULL;
        int r;

        if (!(s.file_name = file_safe(in->pj->name)))
                return -ENOMEM;
        CpuSet none = {0};
        const CpuSet *cpus = in->cpus ?: &none;
        if (!(s.cpus_text = cpuset_to_string(cpus)))
                return -ENOMEM;
        s.n_threads = MAX(cpuset_count(cpus), 1u);

        if ((r = xasprintf(&s.log_prefix, "logs/%03zu-%s-rep%u/%s", in->run_index, run->scenario_name,
                           run->repetition, s.file_name)) < 0 ||
            (r = xasprintf(&s.log_stdout_rel, "%s.out", s.log_prefix)) < 0 ||
            (r = xasprintf(&s.log_stderr_rel, "%s.err", s.log_prefix)) < 0 ||
            (r = xasprintf(&s.samples_rel, "samples/%03zu-%s-rep%u-%s.csv", in->run_index,
                           run->scenario_name, run->repetition, s.file_name)) < 0 ||
            (r = job_setup_run_group(in->run_index, run, &group)) < 0 ||
            (r = xasprintf(&s.cgroup_rel, "%s/%s", group, in->pj->name)) < 0)
                return r;
        if (in->results_dir &&
            ((r = xasprintf(&s.log_dir, "%s/logs/%03zu-%s-rep%u", in->results_dir, in->run_index,
                            run->scenario_name, run->repetition)) < 0 ||
             (r = xasprintf(&s.log_stdout, "%s/%s", in->results_dir, s.log_stdout_rel)) < 0 ||
             (r = xasprintf(&s.log_stderr, "%s/%s", in->results_dir, s.log_stderr_rel)) < 0 ||
             (r = xasprintf(&s.samples_path, "%s/%s", in->results_dir, s.samples_rel)) < 0))
                return r;
        /* Not journalled on its own: it lies inside the run's scratch base, which is, and
         * which `corun cleanup` removes whole. */
        if (in->scratch_base &&
            (r = xasprintf(&s.scratch, "%s/%03zu-%s-rep%u-%s", in->scratch_base, in->run_index,
                           run->scenario_name, run->repetition, s.file_name)) < 0)
                return r;
        if ((r = job_env(in, &s, &s.envp, &s.container_env)) < 0)
                return r;
        *ret = s;
        s = (JobSetup){0};
        return 0;
}

int job_setup_hook_env(char *const *inherit, const char *run_id, const char *results_dir, const PlanRun *run,
                       char ***ret) {
        char *set[5] = {0};
        size_t k = 0;
        int r = 0;
        if (run_id)
                r = xasprintf(&set[k++], "CORUN_RUN_ID=%s", run_id);
        if (r >= 0 && results_dir)
                r = xasprintf(&set[k++], "CORUN_RESULTS=%s", results_dir);
        if (r >= 0 && run)
                r = xasprintf(&set[k++], "CORUN_SCENARIO=%s", run->scenario_name);
        if (r >= 0 && run)
                r = xasprintf(&set[k++], "CORUN_REPETITION=%u", run->repetition);
        if (r >= 0)
                r = job_setup_env_merge(inherit, set, ret);
        for (size_t i = 0; i < k; i++)
                free(set[i]);
        return r;
}
