/* SPDX-License-Identifier: MIT */
/* Inside a Slurm step: what Slurm gave this process, and one job of a plan to run there.
 * Slurm's task/affinity plugin confines a step by CPU affinity only (task/cgroup adds a
 * cpuset group); either way the kernel's Cpus_allowed is the truth, so that is what is
 * read, and corun's own allocation already starts from the runner's affinity. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "slurm/slurm.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/macros.h"

static void copy_env(char *dst, size_t n, const char *name) {
        const char *v = getenv(name);
        snprintf(dst, n, "%s", v ? v : "");
}

int slurm_step_detect(SlurmStepInfo *ret) {
        SlurmStepInfo s = {0};
        const char *job = getenv("SLURM_JOB_ID");
        s.inside = !isempty(job);
        copy_env(s.job_id, sizeof s.job_id, "SLURM_JOB_ID");
        copy_env(s.step_id, sizeof s.step_id, "SLURM_STEP_ID");
        if (!s.step_id[0] && s.inside)
                /* The batch script itself runs in the "batch" step, which sets no id. */
                snprintf(s.step_id, sizeof s.step_id, "batch");
        copy_env(s.node, sizeof s.node, "SLURMD_NODENAME");
        if (s.inside) {
                /* Outside Slurm nothing reads them: a one-job run saves two reads. */
                int r = cpuset_from_proc_status("Cpus_allowed_list", &s.cpus);
                if (r < 0)
                        return r;
                (void)cpuset_from_proc_status("Mems_allowed_list", &s.mems);
        }
        *ret = s;
        return 0;
}

char *slurm_step_describe(const SlurmStepInfo *s) {
        if (!s->inside)
                return NULL;
        _cleanup_free_ char *cpus = cpuset_to_string(&s->cpus);
        char *msg = NULL;
        if (!cpus || asprintf(&msg,
                              "inside Slurm job %s step %s on %s: only the CPUs Slurm gave this step (%s, "
                              "Cpus_allowed) are used",
                              s->job_id, s->step_id, s->node[0] ? s->node : "?", cpus) < 0)
                return NULL;
        return msg;
}

int slurm_result_note(Result *r) {
        SlurmStepInfo s;
        if (slurm_step_detect(&s) < 0 || !s.inside)
                return 0;
        _cleanup_free_ char *msg = slurm_step_describe(&s);
        if (!msg)
                return -ENOMEM;
        return result_add_warning(r, msg);
}

int slurm_subplan(const Plan *plan, size_t run, long job, Plan **ret, char **ret_error) {
        if (run >= plan->n_runs)
                return error_setf(ret_error, -EINVAL, "--run %zu: the plan has runs 0 to %zu", run,
                                  plan->n_runs - 1);
        const PlanRun *src = &plan->runs[run];
        if (job >= 0 && (size_t)job >= src->n_jobs)
                return error_setf(ret_error, -EINVAL, "--job %ld: run %zu (%s) has jobs 0 to %zu", job, run,
                                  src->label, src->n_jobs - 1);
        Plan *p = calloc(1, sizeof *p);
        PlanRun *r = calloc(1, sizeof *r);
        if (!p || !r) {
                free(p);
                free(r);
                return -ENOMEM;
        }
        *r = *src;
        if (job >= 0) {
                r->jobs = src->jobs + job;
                r->n_jobs = 1;
        }
        p->runs = r;
        p->n_runs = 1;
        p->n_jobs_total = r->n_jobs;
        p->repeat = plan->repeat;
        *ret = p;
        return 0;
}

Plan *slurm_subplan_free(Plan *p) {
        if (p) {
                free(p->runs);
                free(p);
        }
        return NULL;
}

static int fill_json(int fd, void *userdata) {
        _cleanup_free_ char *s = json_dumps(userdata, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!s)
                return -ENOMEM;
        int r = write_all(fd, s, strlen(s));
        return r < 0 ? r : write_all(fd, "\n", 1);
}

int slurm_json_write(const char *dir, const char *name, void *json) {
        return write_file_atomic(dir, name, fill_json, json, false);
}

int slurm_step_write_info(const char *dir, const SlurmStepInfo *s, uint64_t t0_realtime_usec) {
        _cleanup_free_ char *cpus = cpuset_to_string(&s->cpus), *mems = cpuset_to_string(&s->mems);
        if (!cpus || !mems)
                return -ENOMEM;
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "job_id", s->job_id, "step_id", s->step_id,
                              "node", s->node, "cpus", cpus, "mems", mems, "t0_realtime_usec",
                              (json_int_t)t0_realtime_usec);
        if (!o)
                return -ENOMEM;
        int r = slurm_json_write(dir, "slurm-step.json", o);
        json_decref(o);
        return r;
}

int slurm_write_manifest(const char *dir, SlurmMode mode, const char *spec_file, const char *job_id,
                         const char *corun) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "mode", slurm_mode_to_string(mode), "spec_file",
                              spec_file, "job_id", job_id, "corun", corun);
        if (!o)
                return -ENOMEM;
        int r = slurm_json_write(dir, "slurm.json", o);
        json_decref(o);
        return r;
}
