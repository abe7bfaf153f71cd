/* SPDX-License-Identifier: MIT */
/* The cleanup of dead runs: finds the journals (journal.c) whose runner is dead, checks
 * every path they name, kills what is left in their groups, removes the groups
 * bottom-up and the scratch dirs, then the journal. The journal records; this file is
 * the only one that acts on what it recorded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "cgroup/cleanup.h"
#include "cgroup/journal.h"
#include "exec/container.h"
#include "util/error.h"
#include "util/fileio.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* ---- validation ---- */

/* Whether path has the component `a` (a NULL b: alone, else followed by `b`), or, with
 * prefix set, a component that equals a or starts with a + "-". */
static bool has_component(const char *path, const char *a, const char *b, bool prefix) {
        size_t al = strlen(a);
        for (const char *p = path; (p = strchr(p, '/')); p++) {
                const char *c = p + 1, *end = strchrnul(c, '/');
                size_t n = (size_t)(end - c);
                bool match = n == al && strneq(c, a, al);
                if (!match && prefix)
                        match = n > al + 1 && strneq(c, a, al) && c[al] == '-';
                if (!match)
                        continue;
                if (!b)
                        return true;
                size_t bl = strlen(b);
                if (*end == '/' && strneq(end + 1, b, bl) && (end[1 + bl] == '/' || end[1 + bl] == '\0'))
                        return true;
        }
        return false;
}

static bool no_symlink_on_the_way(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return false;
        for (char *s = p + 1;; s++) {
                bool last = *s == '\0';
                if (*s != '/' && !last)
                        continue;
                *s = '\0';
                struct stat st;
                if (lstat(p, &st) < 0)
                        return errno == ENOENT; /* nothing further exists: nothing to follow */
                if (S_ISLNK(st.st_mode))
                        return false;
                if (last)
                        return true;
                *s = '/';
        }
}

bool journal_path_is_valid(const char *kind, const char *path, const char *run_id) {
        if (!kind || !path_is_normalized_absolute(path) || isempty(run_id))
                return false;
        if (streq(kind, "cgroup")) {
                const char *base = strrchr(path, '/') + 1;
                if (!has_component(path, "corun", run_id, false) && !streq(base, "corun"))
                        return false;
                if (access(path, F_OK) < 0)
                        return errno == ENOENT;
                return cg_path_is_cgroupfs(path, NULL);
        }
        if (streq(kind, CONTAINER_JOURNAL_KIND)) {
                ContainerEngineKind k;
                _cleanup_free_ char *engine = NULL, *name = NULL;
                struct stat st;
                /* cleanup runs the engine named in the journal, as root: only a root-owned
                 * program nobody else may replace (the run resolved it with realpath). */
                return container_journal_entry_parse(path, run_id, &k, &engine, &name) &&
                       lstat(engine, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
                       !(st.st_mode & (S_IWGRP | S_IWOTH)) && (st.st_mode & S_IXUSR);
        }
        if (streq(kind, "scope")) {
                /* "/system/corun-<run-id>.scope" or "/user-<uid>/..." (cgroup-systemd.c). */
                _cleanup_free_ char *unit = cg_systemd_scope_name(run_id);
                const char *slash = strchr(path + 1, '/');
                return unit && slash && streq(slash + 1, unit) &&
                       (strneq(path, "/system/", 8) || strneq(path, "/user-", 6));
        }
        if (streq(kind, "results"))
                /* only the writer's temporary files in it are ever removed (results_tmp_files) */
                return no_symlink_on_the_way(path);
        if (streq(kind, "dir")) {
                _cleanup_free_ char *name = NULL;
                if (asprintf(&name, "corun-%s", run_id) < 0)
                        return false;
                if (!has_component(path, name, NULL, true) && !has_component(path, "corun", run_id, false))
                        return false;
                if (access(path, F_OK) == 0 && cg_path_is_cgroupfs(path, NULL))
                        return false;
                return no_symlink_on_the_way(path);
        }
        return false;
}

/* ---- cleanup ---- */

typedef struct Builder {
        char **removed, **errors;
        size_t n_removed, n_errors;
} Builder;

static int strv_push(char ***l, size_t *n, char *s) {
        if (!s)
                return -ENOMEM;
        char **nl = realloc(*l, (*n + 2) * sizeof(char *));
        if (!nl) {
                free(s);
                return -ENOMEM;
        }
        nl[(*n)++] = s;
        nl[*n] = NULL;
        *l = nl;
        return 0;
}

_printf_(2, 3) static void add_error(Builder *b, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        (void)error_setv(&s, 0, fmt, ap);
        va_end(ap);
        (void)strv_push(&b->errors, &b->n_errors, s);
}

static void add_removed(Builder *b, const char *kind, const char *path) {
        char *s = NULL;
        if (asprintf(&s, "%s %s", kind, path) < 0)
                s = NULL;
        (void)strv_push(&b->removed, &b->n_removed, s);
}

/* A runner killed between naming a result file's new content and renaming it over the
 * old one (util/fileio.c: two system calls) leaves ".result.json.<pid>-<n>" (or the
 * mkostemp ".result.json.XXXXXX" where there is no O_TMPFILE) in its results directory:
 * removed unless a live run holds the directory's lock. */
static void results_tmp_files(const char *path, bool dry_run, Builder *b) {
        static const char *const names[] = {".result.json.", ".report.html.", ".summary.md.", ".results.csv."};
        _cleanup_(closedirp) DIR *d = opendir(path);
        if (!d || flock(dirfd(d), LOCK_EX | LOCK_NB) < 0)
                return; /* gone, or a run writes there now */
        for (struct dirent *de; (de = readdir(d));) {
                bool tmp = false;
                for (size_t k = 0; k < ELEMENTSOF(names) && !tmp; k++)
                        tmp = strneq(de->d_name, names[k], strlen(names[k])) && de->d_name[strlen(names[k])];
                if (!tmp || (!dry_run && unlinkat(dirfd(d), de->d_name, 0) < 0))
                        continue;
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", path, de->d_name) >= 0)
                        add_removed(b, "file", p);
        }
        (void)flock(dirfd(d), LOCK_UN);
}


/* Kills what is left, removes groups (deepest first: reverse journal order) and scratch
 * dirs. Returns the number of errors. */
static unsigned replay(const char *jpath, const JournalContents *h, JournalEntry *e, size_t n, bool dry_run,
                       Builder *b, CleanupReport *rep) {
        unsigned errors = 0;
        _cleanup_free_ const char **roots = calloc(n + 1, sizeof(char *));
        size_t n_roots = 0;
        if (!roots) {
                add_error(b, "%s: out of memory", jpath);
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                if (!journal_path_is_valid(e[i].kind, e[i].path, h->run)) {
                        add_error(b, "%s: refusing %s '%s': not a path this run could have created", jpath,
                                  e[i].kind, e[i].path);
                        errors++;
                        e[i].kind = NULL;
                        continue;
                }
                /* The shared corun/ parent holds other runs: never kill in it. Groups
                 * below a root are covered by it (cgroup.kill, freezer and the pid walk
                 * are all recursive). */
                if (!streq(e[i].kind, "cgroup") || streq(strrchr(e[i].path, '/') + 1, "corun") ||
                    access(e[i].path, F_OK) < 0)
                        continue;
                bool covered = false;
                for (size_t k = 0; k < n_roots && !covered; k++) {
                        size_t l = strlen(roots[k]);
                        covered = strneq(e[i].path, roots[k], l) && e[i].path[l] == '/';
                }
                if (!covered)
                        roots[n_roots++] = e[i].path;
        }

        /* Containers first (exec/container.h): the engine stops what it started (a
         * docker container's processes are not the runner's children) and forgets the
         * name; the group kill below then finds nothing of them. */
        for (size_t i = 0; i < n; i++) {
                ContainerEngineKind k;
                _cleanup_free_ char *engine = NULL, *name = NULL, *err = NULL;
                if (!e[i].kind || !streq(e[i].kind, CONTAINER_JOURNAL_KIND) ||
                    !container_journal_entry_parse(e[i].path, h->run, &k, &engine, &name))
                        continue;
                int r = dry_run ? 0 : container_remove(k, engine, name, &err);
                if (r >= 0) {
                        add_removed(b, CONTAINER_JOURNAL_KIND, name);
                        rep->containers_removed++;
                } else {
                        add_error(b, "%s: %s", jpath, err ?: strerror(-r));
                        errors++;
                }
        }

        unsigned killed = 0;
        if (dry_run) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t np = 0;
                for (size_t k = 0; k < n_roots; k++)
                        (void)cg_read_pids_tree(roots[k], &pids, &np);
                killed = (unsigned)np;
        } else if (n_roots > 0) {
                int r = cg_kill_paths(roots, n_roots, CG_KILL_TIMEOUT_USEC, &killed);
                if (r < 0) {
                        add_error(b, "%s: cannot kill the processes left in run %s: %s", jpath, h->run,
                                  strerror(-r));
                        errors++;
                }
        }
        rep->processes_killed += killed;

        for (size_t i = n; i-- > 0;) {
                if (!e[i].kind || !streq(e[i].kind, "cgroup") || access(e[i].path, F_OK) < 0)
                        continue;
                bool shared = streq(strrchr(e[i].path, '/') + 1, "corun");
                if (dry_run) {
                        if (!shared) {
                                add_removed(b, "cgroup", e[i].path);
                                rep->groups_removed++;
                        }
                        continue;
                }
                int r = shared ? RET_NERRNO(rmdir(e[i].path)) : cg_rmdir_tree(e[i].path);
                if (r >= 0) {
                        add_removed(b, "cgroup", e[i].path);
                        rep->groups_removed++;
                } else if (!shared) {
                        add_error(b, "%s: cannot remove cgroup %s: %s", jpath, e[i].path, strerror(-r));
                        errors++;
                }
                /* EBUSY/ENOTEMPTY on corun/: another run lives there. */
        }
        /* The scope last: its groups are gone, and stopping it kills what is left in it. */
        for (size_t i = n; i-- > 0;) {
                if (!e[i].kind || !streq(e[i].kind, "scope"))
                        continue;
                _cleanup_free_ char *why = NULL;
                int r = dry_run ? 0 : cg_systemd_stop_scope(e[i].path, &why);
                if (r >= 0) {
                        add_removed(b, "scope", strrchr(e[i].path, '/') + 1);
                        rep->scopes_stopped++;
                } else if (r != -ENOENT) {
                        add_error(b, "%s: cannot stop %s: %s", jpath, strrchr(e[i].path, '/') + 1,
                                  why ? why : strerror(-r));
                        errors++;
                }
        }
        for (size_t i = n; i-- > 0;)
                if (e[i].kind && streq(e[i].kind, "results"))
                        results_tmp_files(e[i].path, dry_run, b);
        for (size_t i = n; i-- > 0;) {
                struct stat st;
                if (!e[i].kind || !streq(e[i].kind, "dir") || lstat(e[i].path, &st) < 0)
                        continue;
                int r = dry_run ? 0 : rm_rf(e[i].path);
                if (r >= 0) {
                        add_removed(b, "dir", e[i].path);
                        rep->dirs_removed++;
                } else {
                        add_error(b, "%s: cannot remove %s: %s", jpath, e[i].path, strerror(-r));
                        errors++;
                }
        }
        return errors;
}

static void cleanup_one(const char *dir, const char *name, bool dry_run, Builder *b, CleanupReport *rep) {
        _cleanup_free_ char *jpath = NULL;
        _cleanup_(journal_contents_done) JournalContents c = {0};
        if (asprintf(&jpath, "%s/%s", dir, name) < 0)
                return;
        int r = journal_read(jpath, &c);
        if (r == -ENOENT)
                return;
        if (r == -EINVAL || r == -EFBIG) {
                add_error(b, "%s: not a journal file (or too large)", jpath);
                return;
        }
        if (r == -EBADMSG) {
                add_error(b, "%s: no valid journal header; left alone", jpath);
                return;
        }
        if (r < 0) {
                add_error(b, "cannot open %s: %s", jpath, strerror(-r));
                return;
        }
        if (journal_runner_alive(&c)) {
                rep->journals_live++;
                return;
        }
        rep->journals++;
        unsigned errors = replay(jpath, &c, c.entries, c.n_entries, dry_run, b, rep);
        if (errors == 0 && !dry_run) {
                if (unlink(jpath) < 0)
                        add_error(b, "cannot remove %s: %s", jpath, strerror(errno));
        }
        /* With errors the journal stays, so that a later cleanup tries again. */
}

/* A journal_open killed before it linked its journal into place. */
static void cleanup_stale_tmp(const char *dir, const char *name, bool dry_run) {
        pid_t pid;
        if (journal_tmp_name_pid(name, &pid) < 0)
                return;
        if (kill(pid, 0) == 0 || errno != ESRCH || dry_run)
                return;
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) >= 0)
                (void)unlink(p);
}

int journal_cleanup(const char *dir, bool dry_run, CleanupReport *ret) {
        Builder b = {0};
        CleanupReport rep = {0};

        *ret = rep;
        if (!dir)
                dir = journal_dir_default();
        _cleanup_(closedirp) DIR *d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
        } else {
                /* One cleanup at a time (every `corun run` starts one); released when
                 * the directory is closed. */
                if (flock(dirfd(d), LOCK_EX) < 0)
                        return -errno;
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                cleanup_stale_tmp(dir, de->d_name, dry_run);
                        else if (journal_is_journal_name(de->d_name))
                                cleanup_one(dir, de->d_name, dry_run, &b, &rep);
                }
        }
        /* Errors about single journals or paths are in the report; < 0 is only for
         * not being able to look at all. */
        rep.removed = b.removed;
        rep.errors = b.errors;
        *ret = rep;
        return 0;
}

int journal_cleanup_dead(const char *dir, CleanupReport *ret) {
        return journal_cleanup(dir, false, ret);
}

void cleanup_report_done(CleanupReport *r) {
        if (!r)
                return;
        for (char **s = r->removed; s && *s; s++)
                free(*s);
        for (char **s = r->errors; s && *s; s++)
                free(*s);
        free(r->removed);
        free(r->errors);
        *r = (CleanupReport){0};
}
