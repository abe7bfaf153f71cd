/* SPDX-License-Identifier: MIT */
/* container.c: the engine's command lines and the container's name (container.h).
 * Pure: no system call, so the unit tests check every flag on literals. */
#include "exec/container.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/job-setup.h"
#include "util/macros.h"

typedef struct Argv {
        char **v;
        size_t n, cap;
        int error; /* the first failure: later pushes do nothing */
} Argv;

static void push_owned(Argv *a, char *s) {
        if (a->error || !s) {
                if (!a->error)
                        a->error = -ENOMEM;
                free(s);
                return;
        }
        if (a->n + 2 > a->cap) {
                size_t cap = MAX(a->cap * 2, (size_t)32);
                char **nv = realloc(a->v, cap * sizeof(char *));
                if (!nv) {
                        a->error = -ENOMEM;
                        free(s);
                        return;
                }
                a->v = nv;
                a->cap = cap;
        }
        a->v[a->n++] = s;
        a->v[a->n] = NULL;
}

static void push(Argv *a, const char *s) {
        push_owned(a, s ? strdup(s) : NULL);
}

_printf_(2, 3) static void pushf(Argv *a, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        push_owned(a, s);
}

static int argv_finish(Argv *a, char ***ret) {
        if (a->error || !a->v) {
                job_setup_strv_free(a->v);
                return a->error ?: -ENOMEM;
        }
        *ret = a->v;
        return 0;
}

static uint64_t cap_at(uint64_t v, uint64_t cap) {
        return cap > 0 && v > cap ? cap : v;
}

/* The partition, as the engine's own flags. For podman (--cgroups=disabled) the job's
 * group enforces all of it and podman keeps these as the container's configuration
 * (`podman inspect`); docker's daemon applies them to the group it creates below the
 * job's. */
static void push_limits(Argv *a, const ContainerRunInput *in) {
        if (!isempty(in->cpus))
                pushf(a, "--cpuset-cpus=%s", in->cpus);
        if (!isempty(in->mems))
                pushf(a, "--cpuset-mems=%s", in->mems);
        if (in->memory_max != LIMIT_MAX) {
                pushf(a, "--memory=%" PRIu64, in->memory_max);
                /* The engines' --memory-swap is memory plus swap; corun's swap defaults to 0. */
                if (in->swap_max == LIMIT_MAX || in->swap_max > UINT64_MAX - in->memory_max)
                        push(a, "--memory-swap=-1");
                else
                        pushf(a, "--memory-swap=%" PRIu64, in->memory_max + in->swap_max);
        }
        if (in->pids_max != LIMIT_MAX)
                pushf(a, "--pids-limit=%" PRIu64, in->pids_max);
        else
                push(a, "--pids-limit=-1");
        /* Without these the engines ask for 1048576 open files and processes, which a
         * runner without CAP_SYS_RESOURCE cannot grant (crun: "setrlimit RLIMIT_NOFILE:
         * Operation not permitted"); with them the container has the limits any job of
         * corun has. */
        if (in->nofile_hard > 0)
                pushf(a, "--ulimit=nofile=%" PRIu64 ":%" PRIu64, MIN(in->nofile_soft, in->nofile_hard),
                      in->nofile_hard);
        if (in->nproc_hard > 0) {
                uint64_t hard = cap_at(in->nproc_hard, in->pid_max);
                pushf(a, "--ulimit=nproc=%" PRIu64 ":%" PRIu64, MIN(cap_at(in->nproc_soft, in->pid_max), hard),
                      hard);
        }
}

int container_run_argv(const ContainerRunInput *in, char ***ret) {
        const ContainerSpec *c = in->spec;
        Argv a = {0};

        if ((in->engine != ENGINE_PODMAN && in->engine != ENGINE_DOCKER) || !c || !c->image || !in->name ||
            !in->engine_path)
                return -EINVAL;
        push(&a, in->engine_path);
        if (in->engine == ENGINE_PODMAN)
                /* No D-Bus, no systemd scope for the monitor: it stays in the job's group. */
                push(&a, "--cgroup-manager=cgroupfs");
        push(&a, "run");
        push(&a, "--rm");
        pushf(&a, "--name=%s", in->name);
        /* An image is pulled before the run (pull: true) or not at all: a pull here
         * would be measured as the job's. */
        push(&a, "--pull=never");
        /* A small init as the container's PID 1 (catatonit, docker-init): the command is
         * not a namespace's init, which ignores the stop signal it has no handler for, so
         * stops, timeouts and Ctrl-C reach it as they reach any job. */
        push(&a, "--init");
        if (in->engine == ENGINE_PODMAN) {
                push(&a, "--cgroups=disabled");
                /* The container's stdout and stderr are corun's pipes themselves: its
                 * lines arrive without a relay (phase times) and nothing is logged twice. */
                push(&a, "--log-driver=passthrough");
                /* conmon, the container's monitor, is ours too and outlives the client by
                 * a moment: the runner tells it from what the job itself left running. */
                if (in->monitor_pidfile)
                        pushf(&a, "--conmon-pidfile=%s", in->monitor_pidfile);
        } else if (!isempty(in->cgroup_parent)) {
                pushf(&a, "--cgroup-parent=%s", in->cgroup_parent);
        }
        push_limits(&a, in);
        if (in->scratch)
                pushf(&a, "--volume=%s:/tmp", in->scratch);
        for (size_t i = 0; i < c->n_volumes; i++) {
                const ContainerVolume *v = &c->volumes[i];
                const char *host = in->host_paths && in->host_paths[i] ? in->host_paths[i] : v->host;
                pushf(&a, "--volume=%s:%s%s", host, v->container, v->read_only ? ":ro" : "");
        }
        if (c->workdir)
                pushf(&a, "--workdir=%s", c->workdir);
        if (in->user && in->group)
                pushf(&a, "--user=%s:%s", in->user, in->group);
        else if (in->user)
                pushf(&a, "--user=%s", in->user);
        else if (in->group)
                /* A group alone: the image's user (root unless it says otherwise). */
                pushf(&a, "--group-add=%s", in->group);
        for (size_t i = 0; in->env && in->env[i]; i++) {
                push(&a, "--env");
                push(&a, in->env[i]);
        }
        for (size_t i = 0; i < c->n_options; i++)
                push(&a, c->options[i]);
        push(&a, c->image);
        for (size_t i = 0; in->argv && in->argv[i]; i++)
                push(&a, in->argv[i]);
        return argv_finish(&a, ret);
}

int container_name(const char *run_id, size_t run_index, const char *job, char **ret) {
        char *s = NULL;
        if (isempty(run_id) || isempty(job))
                return -EINVAL;
        if (asprintf(&s, "corun-%s-%03zu-%s", run_id, run_index, job) < 0)
                return -ENOMEM;
        /* The engines allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; run ids and file-safe job names
         * hold nothing else but what is mapped here. */
        for (char *p = s; *p; p++)
                if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
                      *p == '_' || *p == '.' || *p == '-'))
                        *p = '_';
        *ret = s;
        return 0;
}

bool container_name_of_run(const char *name, const char *run_id) {
        size_t rl = run_id ? strlen(run_id) : 0;
        if (!name || rl == 0 || !strneq(name, "corun-", 6) || !strneq(name + 6, run_id, rl) || name[6 + rl] != '-')
                return false;
        const char *rest = name + 6 + rl + 1;
        if (!*rest)
                return false;
        for (const char *p = rest; *p; p++)
                if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
                      *p == '_' || *p == '.' || *p == '-'))
                        return false;
        return true;
}

int container_rm_argv(ContainerEngineKind engine, const char *engine_path, const char *name, char ***ret) {
        Argv a = {0};
        if ((engine != ENGINE_PODMAN && engine != ENGINE_DOCKER) || !engine_path || !name)
                return -EINVAL;
        push(&a, engine_path);
        if (engine == ENGINE_PODMAN)
                push(&a, "--cgroup-manager=cgroupfs");
        push(&a, "rm");
        push(&a, "--force");
        if (engine == ENGINE_PODMAN) {
                /* SIGKILL at once; and a container already gone is not an error. */
                push(&a, "--time=0");
                push(&a, "--ignore");
        }
        push(&a, name);
        return argv_finish(&a, ret);
}

static const char *basename_of(const char *s, size_t len, size_t *ret_len) {
        const char *b = s;
        for (size_t i = 0; i < len; i++)
                if (s[i] == '/')
                        b = s + i + 1;
        *ret_len = len - (size_t)(b - s);
        return b;
}

static const char *engine_word(const char *w, size_t len) {
        size_t bl;
        const char *b = basename_of(w, len, &bl);
        if (bl == 6 && strneq(b, "podman", 6))
                return "podman";
        if (bl == 6 && strneq(b, "docker", 6))
                return "docker";
        return NULL;
}

/* Words that may come before the engine: VAR=value, sudo, exec, env, time, nice. */
static bool prefix_word(const char *w, size_t len) {
        static const char *const words[] = {"sudo", "exec", "env", "time", "nice", "command"};
        const char *eq = memchr(w, '=', len);
        if (eq && eq != w)
                return true;
        size_t bl;
        const char *b = basename_of(w, len, &bl);
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strlen(words[i]) == bl && strneq(b, words[i], bl))
                        return true;
        return false;
}

/* The words of a shell line, split on blanks (quotes are not undone: a warning only
 * needs the plain case). Looks at the first command only. */
static bool shell_runs_engine(const char *text, const char **ret_engine) {
        const char *engine = NULL;
        bool saw_run = false;
        for (const char *p = text; *p;) {
                p += strspn(p, " \t\n");
                size_t len = strcspn(p, " \t\n;&|");
                if (len == 0)
                        break;
                if (!engine) {
                        engine = engine_word(p, len);
                        if (!engine && !prefix_word(p, len))
                                return false;
                } else {
                        /* "docker run" or "docker container run" */
                        if (len == 9 && strneq(p, "container", 9)) {
                                p += len;
                                continue;
                        }
                        saw_run = len == 3 && strneq(p, "run", 3);
                        break;
                }
                p += len;
        }
        if (engine && saw_run && ret_engine)
                *ret_engine = engine;
        return engine && saw_run;
}

bool container_command_runs_engine(const JobSpec *j, const char **ret_engine) {
        if (!j || !j->argv || !j->argv[0])
                return false;
        if (streq(j->argv[0], "/bin/sh") && j->argv[1] && streq(j->argv[1], "-c") && j->argv[2])
                return shell_runs_engine(j->argv[2], ret_engine);
        size_t i = 0;
        while (j->argv[i] && prefix_word(j->argv[i], strlen(j->argv[i])))
                i++;
        const char *engine = j->argv[i] ? engine_word(j->argv[i], strlen(j->argv[i])) : NULL;
        if (!engine)
                return false;
        size_t k = i + 1;
        if (j->argv[k] && streq(j->argv[k], "container"))
                k++;
        if (!j->argv[k] || !streq(j->argv[k], "run"))
                return false;
        if (ret_engine)
                *ret_engine = engine;
        return true;
}

int container_journal_entry(const char *engine_path, const char *name, char **ret) {
        if (!engine_path || engine_path[0] != '/' || strpbrk(engine_path, " \n") || !name || strpbrk(name, " \n"))
                return -EINVAL;
        return asprintf(ret, "%s %s", engine_path, name) < 0 ? -ENOMEM : 0;
}

bool container_journal_entry_parse(const char *entry, const char *run_id, ContainerEngineKind *ret_engine,
                                   char **ret_path, char **ret_name) {
        const char *sp = entry ? strchr(entry, ' ') : NULL;
        if (!sp || entry[0] != '/' || strchr(sp + 1, ' ') || !container_name_of_run(sp + 1, run_id))
                return false;
        size_t bl;
        const char *b = basename_of(entry, (size_t)(sp - entry), &bl);
        ContainerEngineKind k = bl == 6 && strneq(b, "podman", 6)   ? ENGINE_PODMAN
                                : bl == 6 && strneq(b, "docker", 6) ? ENGINE_DOCKER
                                                                    : _ENGINE_INVALID;
        if (k < 0 || strstr(entry, "/../") || strstr(entry, "/./"))
                return false;
        char *path = strndup(entry, (size_t)(sp - entry)), *name = strdup(sp + 1);
        if (!path || !name) {
                free(path);
                free(name);
                return false;
        }
        *ret_engine = k;
        *ret_path = path;
        *ret_name = name;
        return true;
}

/* Whether a v1 line's controller list ("cpu,cpuacct") holds one corun makes groups in. */
static const char *used_controller(const char *list, size_t len) {
        static const char *const used[] = {"cpuset", "cpu", "memory", "pids"};
        for (const char *p = list; p < list + len;) {
                size_t n = strcspn(p, ",:");
                if (p + n > list + len)
                        n = (size_t)(list + len - p);
                for (size_t i = 0; i < ELEMENTSOF(used); i++)
                        if (strlen(used[i]) == n && strneq(p, used[i], n))
                                return used[i];
                p += n + 1;
        }
        return NULL;
}

int container_cgroup_prefix(const char *proc_self_cgroup, char **ret_prefix, char **ret_why) {
        const char *first = NULL, *first_name = NULL;
        size_t first_len = 0;
        for (const char *line = proc_self_cgroup; line && *line;) {
                const char *nl = strchrnul(line, '\n');
                const char *c1 = memchr(line, ':', (size_t)(nl - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
                if (c2) {
                        const char *name = c2 == c1 + 1 ? "unified" : used_controller(c1 + 1, (size_t)(c2 - c1 - 1));
                        const char *path = c2 + 1;
                        size_t len = (size_t)(nl - path);
                        if (name && !first) {
                                first = path;
                                first_len = len;
                                first_name = name;
                        } else if (name && (len != first_len || !strneq(path, first, len))) {
                                if (ret_why && asprintf(ret_why, "the runner's %s group is %.*s, its %s group %.*s",
                                                        first_name, (int)first_len, first, name, (int)len, path) < 0)
                                        *ret_why = NULL;
                                return -EXDEV;
                        }
                }
                line = *nl ? nl + 1 : nl;
        }
        if (!first)
                return -ENOENT;
        /* "/" is the root: the job's group is then "/corun/<run-id>/...". */
        char *p = strndup(first, first_len == 1 && first[0] == '/' ? 0 : first_len);
        if (!p)
                return -ENOMEM;
        *ret_prefix = p;
        return 0;
}
