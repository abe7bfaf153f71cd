/* SPDX-License-Identifier: MIT */
/* container-engine.c: the engine on this host (container.h). Finds podman or docker,
 * asks for versions and images, pulls where pull: true asks for it, checks volume
 * paths, removes containers. Every engine command runs to completion here, outside
 * any partition, with a deadline: none of this is measured. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/container.h"
#include "exec/job-setup.h"
#include "exec/spawn.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/parse.h"

extern char **environ;

#define ENGINE_OUTPUT_MAX (64u << 10)
/* An engine that answers nothing in this time is stuck (a docker daemon that hangs);
 * a pull has no deadline. */
#define ENGINE_TIMEOUT_USEC (60 * USEC_PER_SEC)

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, job_setup_strv_free);

/* Runs argv (PATH not searched: argv[0] is absolute) with stdin from /dev/null and
 * stdout+stderr into *ret_out (NULL: to our stderr, for a pull's progress), waits at
 * most timeout_usec (0: no limit; then SIGKILL and -ETIMEDOUT). *ret_status is the
 * wait status. */
static int engine_run(char *const *argv, uint64_t timeout_usec, char **ret_out, int *ret_status) {
        _cleanup_close_ int out = -1, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0)
                return -errno;
        if (ret_out && (out = memfd_create("corun-engine", MFD_CLOEXEC)) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                spawn_child_default_signals();
                dup2(devnull, STDIN_FILENO);
                if (out >= 0) {
                        dup2(out, STDOUT_FILENO);
                        dup2(out, STDERR_FILENO);
                } else
                        dup2(STDERR_FILENO, STDOUT_FILENO);
                execve(argv[0], argv, environ);
                _exit(127);
        }
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0 && timeout_usec > 0) {
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                uint64_t end = now_usec(CLOCK_MONOTONIC) + timeout_usec;
                for (;;) {
                        uint64_t now = now_usec(CLOCK_MONOTONIC);
                        int ms = now >= end ? 0 : (int)MIN((end - now + 999) / 1000, (uint64_t)INT_MAX);
                        int n = poll(&p, 1, ms);
                        if (n > 0 || (n < 0 && errno != EINTR))
                                break;
                        if (n == 0) {
                                (void)kill(pid, SIGKILL);
                                (void)waitpid(pid, NULL, 0);
                                close(pidfd);
                                return -ETIMEDOUT;
                        }
                }
        }
        if (pidfd >= 0)
                close(pidfd);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_out) {
                char *text = NULL;
                if (lseek(out, 0, SEEK_SET) < 0 || read_full_fd(out, ENGINE_OUTPUT_MAX, &text, NULL) < 0)
                        text = strdup("");
                if (!text)
                        return -ENOMEM;
                *ret_out = text;
        }
        *ret_status = st;
        return 0;
}

static bool exited_ok(int st) {
        return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The first line of an engine's output that is not blank, without "Error: " (for
 * messages; docker's client prints an empty line before it cannot reach its daemon). */
static const char *first_line(char *text) {
        if (!text)
                return "";
        text += strspn(text, " \t\r\n");
        text[strcspn(text, "\n")] = '\0';
        if (strneq(text, "Error: ", 7))
                return text + 7;
        if (strneq(text, "Error response from daemon: ", 28))
                return text + 28;
        return text;
}

static void chomp(char *s) {
        size_t n = s ? strlen(s) : 0;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
                s[--n] = '\0';
}

void container_engine_done(ContainerEngine *e) {
        if (!e)
                return;
        free(e->path);
        free(e->version);
        free(e->why);
        *e = (ContainerEngine){.kind = e->kind};
}

static int set_why(ContainerEngine *e, const char *fmt, ...) _printf_(2, 3);
static int set_why(ContainerEngine *e, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void)error_setv(&e->why, 0, fmt, ap);
        va_end(ap);
        return e->why ? 0 : -ENOMEM;
}

static int probe_podman(ContainerEngine *e) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = {e->path, (char *)"--version", NULL};
        int st = 0, r = engine_run(argv, ENGINE_TIMEOUT_USEC, &out, &st);
        if (r < 0 || !exited_ok(st))
                return set_why(e, "'%s --version' failed: %s", e->path,
                               r < 0 ? strerror(-r) : first_line(out));
        /* "podman version 4.3.1" */
        chomp(out);
        const char *v = strrchr(out, ' ');
        if (!(e->version = strdup(v ? v + 1 : out)))
                return -ENOMEM;
        unsigned major = 0;
        char head[16] = "";
        snprintf(head, sizeof head, "%.*s", (int)strcspn(e->version, "."), e->version);
        /* --log-driver=passthrough came with podman 4.0. */
        if (parse_unsigned(head, &major) < 0 || major < 4)
                return set_why(e, "podman %s is too old: corun needs podman 4.0 or later", e->version);
        _cleanup_free_ char *fix = NULL;
        r = container_hybrid_fix("/sys/fs/cgroup", &fix);
        if (r < 0)
                return r;
        if (fix)
                return set_why(e, "%s", fix);
        return 0;
}

int container_hybrid_fix(const char *cgroup_root, char **ret) {
        _cleanup_free_ char *v2 = NULL, *list = NULL, *ctl = NULL, *unified = NULL;
        *ret = NULL;
        if (asprintf(&v2, "%s/cgroup.controllers", cgroup_root) < 0 ||
            asprintf(&unified, "%s/unified/cgroup.controllers", cgroup_root) < 0)
                return -ENOMEM;
        /* A pure cgroup2 host, or no cgroup2 mount beside v1: nothing to say. */
        if (access(v2, F_OK) == 0 || read_full_file(unified, 4096, &ctl, NULL) < 0)
                return 0;
        chomp(ctl);
        if (isempty(ctl))
                return 0;
        _cleanup_free_ char *names = strdup(ctl);
        if (!names)
                return -ENOMEM;
        /* crun, podman's runtime, refuses every container on a v1 host whose cgroup2 mount
         * holds a controller ("cgroups in hybrid mode not supported, drop all controllers
         * from cgroupv2"): seen with hugetlb, which no v1 hierarchy had taken. A controller
         * nothing uses moves to a v1 hierarchy of its own with one mount. */
        size_t n = 0;
        for (char *save = NULL, *c = strtok_r(ctl, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
                char *more = NULL;
                if (asprintf(&more, "%s%smkdir -p %s/%s && mount -t cgroup -o %s cgroup %s/%s", list ?: "",
                             list ? " && " : "", cgroup_root, c, c, cgroup_root, c) < 0)
                        return -ENOMEM;
                free(list);
                list = more;
                n++;
        }
        chomp(unified);
        return asprintf(ret,
                        "crun (podman's runtime) refuses every container on this host: the cgroup2 mount beside "
                        "the v1 hierarchies (%.*s) holds the %s controller%s ('cgroups in hybrid mode not "
                        "supported'); give %s a v1 hierarchy of %s own, as root: %s (where %s is read-only, as "
                        "systemd leaves it, first: mount -o remount,rw %s)",
                        (int)(strlen(unified) - strlen("/cgroup.controllers")), unified, names, n == 1 ? "" : "s",
                        n == 1 ? "it" : "each", n == 1 ? "its" : "their", list, cgroup_root, cgroup_root) < 0
                       ? -ENOMEM
                       : 0;
}

static int probe_docker(ContainerEngine *e) {
        _cleanup_free_ char *out = NULL, *driver = NULL, *cg = NULL, *prefix = NULL, *why = NULL;
        char *argv[] = {e->path, (char *)"version", (char *)"--format", (char *)"{{.Server.Version}}", NULL};
        int st = 0, r = engine_run(argv, ENGINE_TIMEOUT_USEC, &out, &st);
        if (r < 0 || !exited_ok(st))
                return set_why(e, "its daemon does not answer (%s)", r < 0 ? strerror(-r) : first_line(out));
        chomp(out);
        e->version = TAKE_PTR(out);
        char *iargv[] = {e->path, (char *)"info", (char *)"--format", (char *)"{{.CgroupDriver}}", NULL};
        r = engine_run(iargv, ENGINE_TIMEOUT_USEC, &driver, &st);
        if (r < 0 || !exited_ok(st))
                return set_why(e, "'docker info' failed (%s)", r < 0 ? strerror(-r) : first_line(driver));
        chomp(driver);
        /* The daemon creates the container's group itself: it must take --cgroup-parent
         * as a path below each hierarchy's root, which the systemd driver does not. */
        if (!streq(driver, "cgroupfs"))
                return set_why(e,
                               "its daemon uses the '%s' cgroup driver; corun needs 'cgroupfs' "
                               "(\"exec-opts\": [\"native.cgroupdriver=cgroupfs\"] in daemon.json)",
                               driver);
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
                /* On cgroup2 the job's group holds docker's client; the daemon could not
                 * enable controllers for a group below it (no internal processes). */
                return set_why(e, "on a cgroup2 host docker cannot create the container's group below the "
                                  "job's; use engine: podman");
        if ((r = read_full_file("/proc/self/cgroup", 1u << 16, &cg, NULL)) < 0)
                return set_why(e, "cannot read /proc/self/cgroup: %s", strerror(-r));
        r = container_cgroup_prefix(cg, &prefix, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return set_why(e, "--cgroup-parent would miss the job's group: %s; use engine: podman",
                               why ?: "the runner's groups differ between hierarchies");
        return 0;
}

int container_engine_probe(ContainerEngineKind kind, ContainerEngine *ret) {
        *ret = (ContainerEngine){.kind = kind};
        const char *name = container_engine_kind_to_string(kind);
        if (kind != ENGINE_PODMAN && kind != ENGINE_DOCKER)
                return -EINVAL;
        _cleanup_free_ char *found = NULL;
        int r = spawn_find_program(name, environ, NULL, &found);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return set_why(ret, "%s is not installed (not in PATH)", name);
        if (!(ret->path = realpath(found, NULL)))
                return set_why(ret, "%s: %s", found, strerror(errno));
        r = kind == ENGINE_PODMAN ? probe_podman(ret) : probe_docker(ret);
        return r == -ENOMEM ? r : 0;
}

int container_remove(ContainerEngineKind engine, const char *engine_path, const char *name, char **ret_error) {
        _cleanup_(job_setup_strv_freep) char **argv = NULL;
        _cleanup_free_ char *out = NULL;
        int st = 0, r = container_rm_argv(engine, engine_path, name, &argv);
        if (r < 0)
                return error_setf(ret_error, r, "cannot remove container %s: %s", name, strerror(-r));
        /* podman 4.3 fails the first rm of a container whose processes were killed under
         * it ("kill container: No such process", left "Stopping"); the next one removes it. */
        for (int attempt = 0;; attempt++) {
                free(out);
                out = NULL;
                r = engine_run(argv, ENGINE_TIMEOUT_USEC, &out, &st);
                if (r < 0)
                        return error_setf(ret_error, r, "%s rm %s: %s", engine_path, name, strerror(-r));
                /* docker rm -f of a container that is gone: "No such container". */
                if (exited_ok(st) || (out && strcasestr(out, "no such container")))
                        return 0;
                if (attempt == 2)
                        return error_setf(ret_error, -EIO, "%s rm -f %s failed: %s", engine_path, name,
                                          first_line(out));
        }
}

/* ---- the pre-run check ---- */

static char *pos_text(const SpecPos *pos, char *buf, size_t n) {
        return (char *)spec_pos_format(pos, buf, n);
}

/* The engine a job asks for, probed once per kind. */
static int job_engine(ContainerPrep *p, bool probed[_ENGINE_MAX], const JobSpec *j, ContainerEngine **ret,
                      char **ret_error) {
        ContainerEngineKind k = j->container.engine;
        char pb[SPEC_POS_MAX];
        int r;
        if (k == ENGINE_AUTO) {
                /* podman when installed, else docker (docs/containers.md). */
                if (!probed[ENGINE_PODMAN] && (r = container_engine_probe(ENGINE_PODMAN, &p->engines[ENGINE_PODMAN])) < 0)
                        return r;
                probed[ENGINE_PODMAN] = true;
                k = p->engines[ENGINE_PODMAN].path ? ENGINE_PODMAN : ENGINE_DOCKER;
        }
        if (!probed[k] && (r = container_engine_probe(k, &p->engines[k])) < 0)
                return r;
        probed[k] = true;
        ContainerEngine *e = &p->engines[k];
        const SpecPos *pos = j->container.engine == ENGINE_AUTO ? &j->container.image_pos : &j->container.engine_pos;
        if (!e->path && j->container.engine == ENGINE_AUTO)
                return error_setf(ret_error, -EINVAL,
                                  "%sjob '%s' runs in image %s, but neither podman nor docker is installed "
                                  "(scripts/install-deps.sh installs podman)",
                                  pos_text(pos, pb, sizeof pb), j->name, j->container.image);
        if (e->why)
                return error_setf(ret_error, -EINVAL, "%sjob '%s': %s cannot run it here: %s",
                                  pos_text(pos, pb, sizeof pb), j->name, container_engine_kind_to_string(k),
                                  e->why);
        *ret = e;
        return 0;
}

/* Id and digest of the image, or -ENOENT when the engine does not have it. */
static int image_inspect(const ContainerEngine *e, const char *image, char **ret_id, char **ret_digest,
                         char **ret_msg) {
        _cleanup_free_ char *out = NULL;
        /* podman knows the manifest digest of any image; docker only the digests of
         * images pulled from a registry. */
        char *fmt = e->kind == ENGINE_PODMAN ? (char *)"{{.Id}} {{.Digest}}"
                                             : (char *)"{{.Id}} {{range .RepoDigests}}{{.}} {{end}}";
        char *argv[] = {e->path, (char *)"image", (char *)"inspect", (char *)"--format", fmt, (char *)image, NULL};
        int st = 0, r = engine_run(argv, ENGINE_TIMEOUT_USEC, &out, &st);
        if (r < 0)
                return r;
        if (!exited_ok(st)) {
                *ret_msg = strdup(first_line(out));
                return -ENOENT;
        }
        chomp(out);
        size_t il = strcspn(out, " ");
        char *id = strndup(out, il), *digest = NULL;
        const char *rest = out[il] ? out + il + 1 : "";
        /* docker: "repo@sha256:..." -> "sha256:..." */
        const char *at = strchr(rest, '@');
        rest = at ? at + 1 : rest;
        size_t dl = strcspn(rest, " ");
        if (dl > 0 && !strneq(rest, "<none>", 6))
                digest = strndup(rest, dl);
        if (!id || (dl > 0 && !strneq(rest, "<none>", 6) && !digest)) {
                free(id);
                free(digest);
                return -ENOMEM;
        }
        *ret_id = id;
        *ret_digest = digest;
        return 0;
}

static int job_image(const ContainerEngine *e, const JobSpec *j, ContainerJobPrep *jp, char **ret_error) {
        _cleanup_free_ char *msg = NULL;
        char pb[SPEC_POS_MAX];
        int r = image_inspect(e, j->container.image, &jp->image_id, &jp->digest, &msg);
        if (r == -ENOENT && j->container.pull) {
                /* Before anything starts, outside every partition: a pull is not the job's. */
                char *argv[] = {e->path, (char *)"pull", j->container.image, NULL};
                int st = 0;
                free(TAKE_PTR(msg));
                r = engine_run(argv, 0, NULL, &st);
                if (r < 0 || !exited_ok(st))
                        return error_setf(ret_error, -EINVAL, "%sjob '%s': cannot pull image %s with %s (%s)",
                                          pos_text(&j->container.image_pos, pb, sizeof pb), j->name,
                                          j->container.image, e->path,
                                          r < 0 ? strerror(-r) : "its output is above");
                r = image_inspect(e, j->container.image, &jp->image_id, &jp->digest, &msg);
        }
        if (r == -ENOENT)
                return error_setf(ret_error, -EINVAL,
                                  "%sjob '%s': image %s is not present in %s's local storage%s%s%s; corun "
                                  "never pulls unless the job says pull: true (or --pull)",
                                  pos_text(&j->container.image_pos, pb, sizeof pb), j->name, j->container.image,
                                  container_engine_kind_to_string(e->kind), msg && *msg ? " (" : "", msg ?: "",
                                  msg && *msg ? ")" : "");
        if (r < 0)
                return error_setf(ret_error, r, "%sjob '%s': cannot look up image %s: %s",
                                  pos_text(&j->container.image_pos, pb, sizeof pb), j->name, j->container.image,
                                  strerror(-r));
        return 0;
}

static int job_volumes(const JobSpec *j, ContainerJobPrep *jp, char **ret_error) {
        const ContainerSpec *c = &j->container;
        char pb[SPEC_POS_MAX];
        if (c->n_volumes == 0)
                return 0;
        if (!(jp->host_paths = calloc(c->n_volumes + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < c->n_volumes; i++) {
                /* The engine would create a missing host directory (podman) or take a
                 * plain name for a named volume (both): neither is what was meant. */
                char *abs = realpath(c->volumes[i].host, NULL);
                if (!abs)
                        return error_setf(ret_error, -EINVAL, "%sjob '%s': volume host path %s: %s",
                                          pos_text(&c->volumes[i].pos, pb, sizeof pb), j->name,
                                          c->volumes[i].host, strerror(errno));
                jp->host_paths[i] = abs;
        }
        return 0;
}

static void runner_limits(ContainerPrep *p) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                p->nofile_soft = rl.rlim_cur;
                p->nofile_hard = rl.rlim_max;
        }
        if (getrlimit(RLIMIT_NPROC, &rl) == 0) {
                p->nproc_soft = rl.rlim_cur;
                p->nproc_hard = rl.rlim_max;
        }
        _cleanup_free_ char *t = NULL;
        if (read_full_file("/proc/sys/kernel/pid_max", 64, &t, NULL) >= 0) {
                chomp(t);
                (void)parse_u64(t, &p->pid_max);
        }
}

ContainerPrep *container_prep_free(ContainerPrep *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < _ENGINE_MAX; i++)
                container_engine_done(&p->engines[i]);
        for (size_t i = 0; i < p->n_jobs; i++) {
                free(p->jobs[i].image_id);
                free(p->jobs[i].digest);
                job_setup_strv_free(p->jobs[i].host_paths);
        }
        free(p->jobs);
        free(p->cgroup_prefix);
        free(p);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ContainerPrep *, container_prep_free);

int container_prepare(const Spec *spec, ContainerPrep **ret, char **ret_error) {
        bool any = false, probed[_ENGINE_MAX] = {false};
        for (size_t i = 0; i < spec->n_jobs; i++)
                any = any || spec->jobs[i].container.image;
        *ret = NULL;
        if (!any)
                return 0;
        _cleanup_(container_prep_freep) ContainerPrep *p = calloc(1, sizeof(ContainerPrep));
        if (!p || !(p->jobs = calloc(spec->n_jobs, sizeof(ContainerJobPrep))))
                return -ENOMEM;
        p->n_jobs = spec->n_jobs;
        for (size_t i = 0; i < _ENGINE_MAX; i++)
                p->engines[i].kind = (ContainerEngineKind)i;
        for (size_t i = 0; i < spec->n_jobs; i++) {
                const JobSpec *j = &spec->jobs[i];
                ContainerJobPrep *jp = &p->jobs[i];
                ContainerEngine *e = NULL;
                if (!j->container.image)
                        continue;
                int r = job_engine(p, probed, j, &e, ret_error);
                if (r < 0)
                        return r;
                jp->engine = e;
                /* One look per image and engine: later jobs copy what the first found. */
                const ContainerJobPrep *same = NULL;
                for (size_t k = 0; k < i && !same; k++)
                        if (p->jobs[k].engine == e && streq(spec->jobs[k].container.image, j->container.image))
                                same = &p->jobs[k];
                if (same) {
                        jp->image_id = same->image_id ? strdup(same->image_id) : NULL;
                        jp->digest = same->digest ? strdup(same->digest) : NULL;
                        if ((same->image_id && !jp->image_id) || (same->digest && !jp->digest))
                                return -ENOMEM;
                } else if ((r = job_image(e, j, jp, ret_error)) < 0)
                        return r;
                if ((r = job_volumes(j, jp, ret_error)) < 0)
                        return r;
                if (e->kind == ENGINE_DOCKER && !p->cgroup_prefix) {
                        _cleanup_free_ char *cg = NULL;
                        if ((r = read_full_file("/proc/self/cgroup", 1u << 16, &cg, NULL)) < 0 ||
                            (r = container_cgroup_prefix(cg, &p->cgroup_prefix, NULL)) < 0)
                                return error_setf(ret_error, r, "job '%s': cannot tell docker its group: %s",
                                                  j->name, strerror(-r));
                }
        }
        runner_limits(p);
        *ret = TAKE_PTR(p);
        return 0;
}
