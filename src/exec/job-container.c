/* SPDX-License-Identifier: MIT */
/* job-container.c: the runner's side of a job in an image (container.h). The engine's
 * client is the job's main process, started into the job's group like any command;
 * the container's processes stay in that group (podman --cgroups=disabled) or in a
 * group below it (docker --cgroup-parent), so the job's limits hold and its group's
 * figures are the container's, the client's small share included. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exec/exec-internal.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/parse.h"

int job_container_prepare(Runner *R, char **ret_error) {
        const Spec *spec = R->o->spec;
        for (size_t i = 0; i < spec->n_jobs; i++) {
                const JobSpec *js = &spec->jobs[i];
                const char *engine = NULL;
                char pb[SPEC_POS_MAX];
                if (!js->container.image && container_command_runs_engine(js, &engine))
                        exec_warn(R,
                                  "%sjob '%s' starts its own container with '%s run': the container would "
                                  "run outside the job's partition (not limited, not measured, left running "
                                  "on Ctrl-C); give the job image: NAME instead (docs/containers.md)",
                                  spec_pos_format(&js->pos, pb, sizeof pb), js->name, engine);
                if (js->container.image && js->cwd)
                        exec_warn(R,
                                  "%sjob '%s' runs in an image: cwd: %s is not used there; give the "
                                  "container's working directory as container: {workdir: DIR}",
                                  spec_pos_format(&js->pos, pb, sizeof pb), js->name, js->cwd);
        }
        int r = container_prepare(spec, &R->containers, ret_error);
        if (r < 0 && R->o->ret_refused)
                *R->o->ret_refused = true; /* bad input: nothing started, exit 2 */
        return r;
}

int job_container_argv(Runner *R, Job *j, const CgLimits *lim, char ***ret) {
        const JobSpec *js = j->pj->spec;
        size_t k = (size_t)(js - R->o->spec->jobs);
        _cleanup_free_ char *mems = NULL, *entry = NULL, *parent = NULL;
        int r;

        if (!R->containers || k >= R->containers->n_jobs || !R->containers->jobs[k].engine)
                return error_setf(&R->error, -EINVAL, "job '%s': its image was not checked before the run",
                                  j->pj->name);
        j->cprep = &R->containers->jobs[k];
        const ContainerEngine *e = j->cprep->engine;
        r = container_name(R->o->run_id, j->run_index, j->setup.file_name, &j->container);
        if (r < 0)
                return error_setf(&R->error, r, "job '%s': cannot name its container: %s", j->pj->name,
                                  strerror(-r));
        if (!cpuset_is_empty(&lim->mems) && !(mems = cpuset_to_string(&lim->mems)))
                return -ENOMEM;
        if (e->kind == ENGINE_DOCKER &&
            asprintf(&parent, "%s/%s", R->containers->cgroup_prefix ?: "", cg_path(j->cg)) < 0)
                return -ENOMEM;
        if (e->kind == ENGINE_PODMAN && j->setup.scratch &&
            asprintf(&j->container_monitor_pidfile, "%s.conmon.pid", j->setup.scratch) < 0) {
                j->container_monitor_pidfile = NULL;
                return -ENOMEM;
        }
        const ContainerPrep *p = R->containers;
        ContainerRunInput in = {
                .engine = e->kind,
                .engine_path = e->path,
                .name = j->container,
                .spec = &js->container,
                .host_paths = j->cprep->host_paths,
                .argv = j->pj->argv,
                .env = j->setup.container_env,
                .scratch = j->setup.scratch,
                .cpus = j->setup.cpus_text,
                .mems = mems,
                .memory_max = lim->memory_max,
                .swap_max = lim->swap_max,
                .pids_max = lim->pids_max,
                .user = js->user,
                .group = js->group,
                .nofile_soft = p->nofile_soft,
                .nofile_hard = p->nofile_hard,
                .nproc_soft = p->nproc_soft,
                .nproc_hard = p->nproc_hard,
                .pid_max = p->pid_max,
                .cgroup_parent = parent,
                .monitor_pidfile = j->container_monitor_pidfile,
        };
        r = container_run_argv(&in, ret);
        if (r < 0)
                return error_setf(&R->error, r, "job '%s': cannot build its engine command line: %s",
                                  j->pj->name, strerror(-r));
        /* Written down before the container can exist: `corun cleanup` removes it after
         * a kill -9 of this runner. */
        if ((r = container_journal_entry(e->path, j->container, &entry)) < 0 ||
            (r = journal_add(R->journal, CONTAINER_JOURNAL_KIND, entry)) < 0) {
                *ret = job_setup_strv_free(*ret);
                return error_setf(&R->error, r, "job '%s': cannot journal its container: %s", j->pj->name,
                                  strerror(-r));
        }
        return 0;
}

void job_container_end(Runner *R, Job *j, int wait_status) {
        if (!j->container || !j->cprep || j->sp.start_errno)
                return; /* no client: no container */
        /* The client removes the container itself (--rm) when it sees it end: after any
         * exit status below the engines' own (125 and up). Otherwise the client was killed
         * (a stop, a timeout, the OOM killer) or failed, and the container may be left:
         * removed here, before the next job can trip over its name. */
        bool removed_by_client = j->sp.start_errno == 0 && WIFEXITED(wait_status) &&
                                 WEXITSTATUS(wait_status) < 125 && j->stop == STOP_NONE && !j->killed_by_us;
        if (removed_by_client)
                return;
        _cleanup_free_ char *err = NULL;
        const ContainerEngine *e = j->cprep->engine;
        int r = container_remove(e->kind, e->path, j->container, &err);
        if (r < 0) {
                R->container_left = true;
                exec_warn(R, "job '%s': %s; `corun cleanup` will try again", j->pj->name,
                          err ?: "cannot remove its container");
        }
}

void job_container_record(const Runner *R, const Job *j, JobResult *res) {
        (void)R;
        if (!j->container || !j->cprep)
                return;
        const ContainerEngine *e = j->cprep->engine;
        ContainerResult *c = calloc(1, sizeof(ContainerResult));
        if (!c)
                return;
        const char *engine = container_engine_kind_to_string(e->kind);
        c->engine = strdup(engine);
        c->engine_version = e->version ? strdup(e->version) : NULL;
        c->image = strdup(j->pj->spec->container.image);
        c->image_id = j->cprep->image_id ? strdup(j->cprep->image_id) : NULL;
        c->digest = j->cprep->digest ? strdup(j->cprep->digest) : NULL;
        c->name = strdup(j->container);
        res->container = c;
}

static pid_t parent_of(pid_t pid) {
        char path[64];
        _cleanup_free_ char *stat = NULL;
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (read_full_file(path, 4096, &stat, NULL) < 0)
                return 0;
        /* "pid (comm) state ppid ...": comm may hold anything, so after the last ')'. */
        const char *rp = strrchr(stat, ')');
        int ppid = 0;
        if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
                return 0;
        return (pid_t)ppid;
}

size_t job_container_monitor_pids(const Job *j, const pid_t *pids, size_t n) {
        _cleanup_free_ char *text = NULL;
        unsigned monitor = 0;
        if (!j->container_monitor_pidfile || read_full_file(j->container_monitor_pidfile, 64, &text, NULL) < 0)
                return 0;
        text[strcspn(text, " \n")] = '\0';
        if (parse_unsigned(text, &monitor) < 0 || monitor == 0)
                return 0;
        /* conmon and what runs below it: the cleanup command it starts when the
         * container exits, and the container's own processes when the client was killed
         * first (the OOM killer may pick the client, the group's largest process). They
         * are the container's, killed with the group, not processes the job left behind. */
        size_t found = 0;
        for (size_t i = 0; i < n; i++) {
                pid_t p = pids[i];
                for (int depth = 0; p > 1 && depth < 32 && p != (pid_t)monitor; depth++)
                        p = parent_of(p);
                found += p == (pid_t)monitor;
        }
        return found;
}
