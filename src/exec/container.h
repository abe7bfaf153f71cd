/* SPDX-License-Identifier: MIT */
#pragma once

/* Jobs in container images (docs/containers.md). container.c is pure: the engine's
 * command lines and the container's name, from plain data, unit-tested on literals.
 * container-engine.c runs the engine: finds it, checks images and volumes before the
 * run, removes containers; it is the only file here that starts a process.
 *
 * Where the container runs: podman is told --cgroups=disabled, so crun creates no
 * group and every process of the container (conmon, the payload) stays in the group
 * corun started the engine's client in: the job's own group, in every hierarchy,
 * whatever the layout of the host. --cgroup-parent does not do that on a v1 host: the
 * engine joins one path to the root of every hierarchy, which misses the job's group
 * wherever the runner's groups differ between hierarchies (here: memory). docker has
 * no such mode (its daemon creates the container); it gets --cgroup-parent, and the
 * pre-run check refuses it where that path would not be the job's group everywhere. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"

typedef struct ContainerRunInput {
        ContainerEngineKind engine; /* ENGINE_PODMAN or ENGINE_DOCKER */
        const char *engine_path;    /* argv[0] */
        const char *name;
        const ContainerSpec *spec;  /* image, volumes, workdir, options */
        char *const *host_paths;    /* per volume of spec (same index): the resolved host path; NULL: as written */
        char *const *argv;          /* the job's command, run in the image */
        char *const *env;           /* KEY=VALUE set inside (corun's variables and the job's env:) */
        const char *scratch;        /* the job's scratch dir, mounted as /tmp; NULL: none */
        const char *cpus, *mems;    /* "0-1"; NULL or "": not given */
        uint64_t memory_max, swap_max, pids_max; /* LIMIT_MAX: none */
        const char *user, *group;   /* --user USER[:GROUP]; NULL: the image's */
        /* The runner's RLIMIT_NOFILE and RLIMIT_NPROC (what a job outside an image
         * inherits); nproc is capped at pid_max (a higher one means nothing, and the
         * engine's monitor runs with at most that). 0 for pid_max: no cap. */
        uint64_t nofile_soft, nofile_hard, nproc_soft, nproc_hard, pid_max;
        const char *cgroup_parent; /* docker: the job's group below each hierarchy's root */
        const char *monitor_pidfile; /* podman: where conmon writes its pid; NULL: nowhere */
} ContainerRunInput;

/* The engine's command line that runs the job in its image (NULL-terminated, malloc'ed
 * strings; free with job_setup_strv_free). -EINVAL for an engine other than podman or docker, -ENOMEM. */
int container_run_argv(const ContainerRunInput *in, char ***ret);

/* "corun-<run-id>-<run index>-<job>": unique per job of a run, and recognisable by
 * `corun cleanup` as this run's (container_name_of_run). job is file-safe (JobSetup). */
int container_name(const char *run_id, size_t run_index, const char *job, char **ret);
bool container_name_of_run(const char *name, const char *run_id);

/* ENGINE rm -f NAME (podman: no stop timeout: the processes get SIGKILL at once). */
int container_rm_argv(ContainerEngineKind engine, const char *engine_path, const char *name, char ***ret);

/* Whether a job's command starts a container itself ("docker run ...", "sudo podman
 * run ...", [docker, run, ...]); *ret_engine then names it. Such a container runs
 * outside the job's partition: the CLI warns and names image:. */
bool container_command_runs_engine(const JobSpec *j, const char **ret_engine);

/* The journal line of a container: kind "container", "path" "<engine's absolute path>
 * <name>" (cleanup removes it with the same engine the run used). */
#define CONTAINER_JOURNAL_KIND "container"
int container_journal_entry(const char *engine_path, const char *name, char **ret);
/* Splits such an entry; false unless the engine is an absolute path ending in /podman
 * or /docker and the name is run_id's. *ret_path and *ret_name malloc'ed. */
bool container_journal_entry_parse(const char *entry, const char *run_id, ContainerEngineKind *ret_engine,
                                   char **ret_path, char **ret_name);

/* ---- the engine on this host (container-engine.c) ---- */

typedef struct ContainerEngine {
        ContainerEngineKind kind;
        char *path;    /* absolute; NULL: not installed */
        char *version; /* podman's, or docker's daemon's; NULL: unknown */
        char *why;     /* why corun cannot run containers with it here; NULL: it can */
} ContainerEngine;
/* Finds the engine in PATH and asks it for its version; for docker also whether its
 * daemon answers and whether it can place a container in the job's group (its cgroup
 * driver, the runner's groups). Fills *ret also when the engine is missing or
 * unusable (path NULL, why set); < 0 only for out of memory. */
int container_engine_probe(ContainerEngineKind kind, ContainerEngine *ret);
/* On a v1 hybrid host whose cgroup2 mount (cgroup_root/unified) holds controllers, which
 * makes crun refuse every container: what is wrong and the commands that fix it
 * (malloc'ed); NULL when there is nothing to fix. Negative errno on allocation failure. */
int container_hybrid_fix(const char *cgroup_root, char **ret);
void container_engine_done(ContainerEngine *e);

typedef struct ContainerJobPrep {
        const ContainerEngine *engine; /* NULL: the job has no image */
        char *image_id, *digest;       /* digest NULL when the image has none (built locally) */
        char **host_paths;             /* per volume of the job's spec: the resolved host path */
} ContainerJobPrep;

/* What the pre-run check found, for the runner: the engines, and per job of the spec
 * (same index as spec->jobs) its engine, image and volumes. */
typedef struct ContainerPrep {
        ContainerEngine engines[_ENGINE_MAX]; /* by kind; [ENGINE_AUTO] unused */
        ContainerJobPrep *jobs;
        size_t n_jobs;
        char *cgroup_prefix; /* docker: the runner's group below every hierarchy's root ("" at the root) */
        uint64_t nofile_soft, nofile_hard, nproc_soft, nproc_hard, pid_max; /* the runner's (container.h) */
} ContainerPrep;

/* Before anything starts: for every job with an image, its engine (auto: podman when
 * installed, else docker) is there and usable, the image is present (pulled first
 * where pull: true, never otherwise), every volume's host path exists. NULL *ret when
 * no job has an image. Errors name file:line:col (or the flag) and return -EINVAL. */
int container_prepare(const Spec *spec, ContainerPrep **ret, char **ret_error);
ContainerPrep *container_prep_free(ContainerPrep *p);

/* ENGINE rm -f NAME, waited for (bounded). 0 also when the container was gone. */
int container_remove(ContainerEngineKind engine, const char *engine_path, const char *name, char **ret_error);

/* The pure part of the docker check: from the text of /proc/self/cgroup, the runner's
 * group when it is the same in every hierarchy corun makes groups in (cpuset, cpu,
 * memory, pids and the unified one), else -EXDEV and *ret_why says which differ. */
int container_cgroup_prefix(const char *proc_self_cgroup, char **ret_prefix, char **ret_why);
