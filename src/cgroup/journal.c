/* SPDX-License-Identifier: MIT */
/* The journal: what a run created, written down before it is created, so that a
 * runner killed at any instruction leaves a complete list; and the cleanup that
 * replays the journals of dead runners.
 *
 * File format (text, one record a line, appended with O_APPEND; the lines of one group
 * in all its hierarchies go out in one write, fdatasync'ed when it names a directory on
 * disk):
 *   corun-journal 1 pid=<pid> start=<ticks> boot=<boot-id> run=<run-id>
 *   cgroup <absolute path>
 *   dir <absolute path>
 * The first line identifies the runner: a pid alone could have been reused, the
 * start time (field 22 of /proc/<pid>/stat) and the boot id make it unique. That
 * identity is the only test of life: a lock held by the runner would also be held by
 * every child it forked and that has not exec'd yet (or never does). Cleanups
 * exclude each other with a flock on the journal directory. */
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
#include "util/fileio.h"
#include "util/parse.h"

#define JOURNAL_DIR_DEFAULT "/run/corun"
#define JOURNAL_MAGIC "corun-journal 1"
#define JOURNAL_SUFFIX ".journal"
/* A run with thousands of jobs writes a few hundred KiB; refuse to load absurd files. */
#define JOURNAL_READ_MAX (64u << 20)
/* PATH_MAX: a longer path could not be created, so it needs no line. */
#define JOURNAL_PATH_MAX 4095

struct Journal {
        int fd;
        char *path;
        char *dir;
        /* Lines staged by journal_stage, not yet on disk: they go out with the next
         * write, so that one fdatasync covers them and that write's own lines. */
        char *pending;
        size_t n_pending;
        bool pending_dir; /* a "dir" line is queued: the write must reach the disk */
        bool torn; /* the last write failed, maybe halfway through a line */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static int read_boot_id(char *buf, size_t n) {
        _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
        if (!f || !fgets(buf, (int)n, f))
                return -errno ?: -EIO;
        buf[strcspn(buf, "\n")] = '\0';
        return isempty(buf) ? -EIO : 0;
}

/* State (field 3) and start time (field 22) of /proc/<pid>/stat. */
static int proc_stat(pid_t pid, char *ret_state, uint64_t *ret_start) {
        char path[64], buf[2048];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, sizeof buf, f))
                return -EIO;
        /* comm can hold anything, ")" included: count fields from the last ")". */
        char *p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        char *save = NULL, *tok = strtok_r(p + 1, " ", &save);
        for (int field = 3; tok; field++, tok = strtok_r(NULL, " ", &save)) {
                if (field == 3 && ret_state)
                        *ret_state = tok[0];
                if (field == 22)
                        return parse_u64(tok, ret_start);
        }
        return -EBADMSG;
}

int proc_start_time(pid_t pid, uint64_t *ret) {
        return proc_stat(pid, NULL, ret);
}

static int fsync_dir(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return RET_NERRNO(fsync(fd));
}

int journal_open(const char *dir, const char *run_id, Journal **ret) {
        char boot[64];
        uint64_t start;
        int r;

        if (!dir)
                dir = JOURNAL_DIR_DEFAULT;
        if (isempty(run_id) || !cg_name_is_valid(run_id, strlen(run_id)) || dir[0] != '/')
                return -EINVAL;
        if ((r = read_boot_id(boot, sizeof boot)) < 0 || (r = proc_start_time(getpid(), &start)) < 0)
                return r;
        /* The journal names what cleanup may kill and delete: only root may write it. */
        if ((r = mkdir_p(dir, 0700)) < 0)
                return r;

        _cleanup_free_ char *path = NULL, *tmp = NULL, *header = NULL;
        if (asprintf(&path, "%s/%s" JOURNAL_SUFFIX, dir, run_id) < 0 ||
            asprintf(&tmp, "%s/.%s" JOURNAL_SUFFIX ".%d", dir, run_id, (int)getpid()) < 0 ||
            asprintf(&header, JOURNAL_MAGIC " pid=%d start=%llu boot=%s run=%s\n", (int)getpid(),
                     (unsigned long long)start, boot, run_id) < 0)
                return -ENOMEM;

        /* Written under a temporary name, then linked into place: a cleanup never sees
         * a journal without its header. */
        (void)unlink(tmp);
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if ((r = write_all(fd, header, strlen(header))) < 0 || fsync(fd) < 0) {
                r = r < 0 ? r : -errno;
                (void)unlink(tmp);
                return r;
        }
        r = RET_NERRNO(link(tmp, path));
        (void)unlink(tmp);
        if (r < 0)
                return r;
        (void)fsync_dir(dir);

        Journal *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->fd = TAKE_FD(fd);
        j->path = TAKE_PTR(path);
        j->dir = strdup(dir);
        if (!j->dir) {
                (void)unlink(j->path);
                journal_free(j);
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

static bool entry_ok(const char *kind, const char *path) {
        return kind && path && (streq(kind, "cgroup") || streq(kind, "dir")) && path[0] == '/' &&
               !strchr(path, '\n') && strlen(path) <= JOURNAL_PATH_MAX;
}

/* Appends "kind path\n" for each path to *buf (of *len bytes, malloc'ed). */
static int append_lines(char **buf, size_t *len, const char *kind, const char *const *paths, size_t n) {
        size_t add = 0, kl = strlen(kind);
        for (size_t i = 0; i < n; i++)
                add += kl + 1 + strlen(paths[i]) + 1;
        if (add == 0)
                return 0;
        char *nb = realloc(*buf, *len + add + 1);
        if (!nb)
                return -ENOMEM;
        char *p = nb + *len;
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s %s\n", kind, paths[i]);
        *buf = nb;
        *len += add;
        return 0;
}

/* Writes the staged lines and `n` new ones with one write(2) and one fdatasync. */
static int journal_write(Journal *j, const char *kind, const char *const *paths, size_t n) {
        int r;
        if (n > 0 && (r = append_lines(&j->pending, &j->n_pending, kind, paths, n)) < 0)
                return r;
        j->pending_dir |= n > 0 && streq(kind, "dir");
        if (j->n_pending == 0)
                return 0;
        /* One write(2) with O_APPEND: a crash leaves whole lines or a torn last one,
         * which the reader skips. Nothing named here exists yet: callers create only
         * after this returns, so a torn batch names nothing that was made. */
        /* A write that fails halfway is cut off again, so that its torn prefix (say
         * "dir /tmp/c") never reads as a line of its own. Only if that fails too does
         * the next write start on a fresh line (the reader skips empty lines). */
        struct stat st;
        off_t size = fstat(j->fd, &st) >= 0 ? st.st_size : -1;
        r = j->torn ? write_all(j->fd, "\n", 1) : 0;
        if (r >= 0)
                r = write_all(j->fd, j->pending, j->n_pending);
        /* A kill -9 loses nothing once write(2) returned: the page cache has it. The
         * sync is for a power loss, after which only directories on disk are left to
         * remove: cgroup directories do not outlive a reboot, so batches naming only
         * them are not synced (that saves a sync at every job start). */
        if (r >= 0 && j->pending_dir)
                r = RET_NERRNO(fdatasync(j->fd));
        j->torn = r < 0 && (size < 0 || ftruncate(j->fd, size) < 0);
        /* On failure the lines stay pending: the caller creates none of them, and a
         * line staged earlier must still reach the disk before any later call returns
         * success (its creator flushes, sees 0 and creates). Lines written twice, or
         * naming what was never made, are harmless: cleanup skips what is absent. */
        if (r < 0)
                return r;
        free(j->pending);
        j->pending = NULL;
        j->n_pending = 0;
        j->pending_dir = false;
        return r;
}

int journal_add_many(Journal *j, const char *kind, const char *const *paths, size_t n) {
        if (!j || (n > 0 && !paths))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!entry_ok(kind, paths[i]))
                        return -EINVAL;
        return journal_write(j, kind, paths, n);
}

int journal_add(Journal *j, const char *kind, const char *path) {
        return journal_add_many(j, kind, &path, 1);
}

int journal_stage(Journal *j, const char *kind, const char *path) {
        if (!j || !entry_ok(kind, path))
                return -EINVAL;
        int r = append_lines(&j->pending, &j->n_pending, kind, &path, 1);
        if (r >= 0)
                j->pending_dir |= streq(kind, "dir");
        return r;
}

int journal_flush(Journal *j) {
        if (!j)
                return -EINVAL;
        return journal_write(j, NULL, NULL, 0);
}

const char *journal_path(const Journal *j) {
        return j ? j->path : NULL;
}

int journal_close_clean(Journal *j) {
        if (!j)
                return 0;
        /* No directory sync: should the unlink be lost in a crash, a later cleanup finds
         * a journal of a dead runner whose resources are gone, which is harmless. */
        int r = RET_NERRNO(unlink(j->path));
        journal_free(j);
        return r;
}

Journal *journal_free(Journal *j) {
        if (!j)
                return NULL;
        closep(&j->fd);
        /* Staged lines name nothing that exists (creation waits for the flush). */
        free(j->pending);
        free(j->path);
        free(j->dir);
        free(j);
        return NULL;
}

/* ---- validation ---- */

/* Absolute, not "/", no newline, no empty, "." or ".." component. */

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
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        (void)strv_push(&b->errors, &b->n_errors, s);
}

static void add_removed(Builder *b, const char *kind, const char *path) {
        char *s = NULL;
        if (asprintf(&s, "%s %s", kind, path) < 0)
                s = NULL;
        (void)strv_push(&b->removed, &b->n_removed, s);
}

typedef struct Header {
        int pid;
        uint64_t start;
        char boot[64];
        char run[256];
} Header;

static int parse_header(const char *line, Header *h) {
        unsigned long long start;
        if (sscanf(line, JOURNAL_MAGIC " pid=%d start=%llu boot=%63s run=%255s", &h->pid, &start, h->boot,
                   h->run) != 4 ||
            h->pid <= 0 || !cg_name_is_valid(h->run, strlen(h->run)))
                return -EBADMSG;
        h->start = start;
        return 0;
}

static bool runner_alive(const Header *h) {
        char boot[64], state = 0;
        uint64_t start;
        if (read_boot_id(boot, sizeof boot) < 0)
                return true; /* cannot tell: leave it */
        if (!streq(boot, h->boot))
                return false; /* a journal from before the last reboot */
        int r = proc_stat(h->pid, &state, &start);
        if (r == -ENOENT || r == -ESRCH)
                return false;
        if (r < 0)
                return true;
        return start == h->start && state != 'Z' && state != 'X';
}

typedef struct Entry {
        char *kind, *path;
} Entry;

/* Kills what is left, removes groups (deepest first: reverse journal order) and scratch
 * dirs. Returns the number of errors. */
static unsigned replay(const char *jpath, const Header *h, Entry *e, size_t n, bool dry_run, Builder *b,
                       CleanupReport *rep) {
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
        _cleanup_free_ char *jpath = NULL, *text = NULL;
        if (asprintf(&jpath, "%s/%s", dir, name) < 0)
                return;
        _cleanup_close_ int fd = open(jpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0) {
                if (errno != ENOENT)
                        add_error(b, "cannot open %s: %s", jpath, strerror(errno));
                return;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > JOURNAL_READ_MAX) {
                add_error(b, "%s: not a journal file (or too large)", jpath);
                return;
        }
        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return;
        size_t len = 0;
        while (len < (size_t)st.st_size) {
                ssize_t k = read(fd, text + len, (size_t)st.st_size - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t)k;
        }
        text[len] = '\0';

        char *save = NULL, *line = strtok_r(text, "\n", &save);
        Header h;
        if (!line || parse_header(line, &h) < 0) {
                add_error(b, "%s: no valid journal header; left alone", jpath);
                return;
        }
        if (runner_alive(&h)) {
                rep->journals_live++;
                return;
        }

        _cleanup_free_ Entry *e = NULL;
        size_t n = 0, cap = 0;
        /* A line cut short by a crash has no newline: strtok still hands it over, and
         * a torn path simply does not exist (or fails validation). */
        while ((line = strtok_r(NULL, "\n", &save))) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        Entry *ne = realloc(e, cap * sizeof *e);
                        if (!ne)
                                return;
                        e = ne;
                }
                e[n++] = (Entry){.kind = line, .path = sp + 1};
        }
        rep->journals++;
        unsigned errors = replay(jpath, &h, e, n, dry_run, b, rep);
        if (errors == 0 && !dry_run) {
                if (unlink(jpath) < 0)
                        add_error(b, "cannot remove %s: %s", jpath, strerror(errno));
        }
        /* With errors the journal stays, so that a later cleanup tries again. */
}

/* ".<run-id>.journal.<pid>": journal_open was killed before the link. */
static void cleanup_stale_tmp(const char *dir, const char *name, bool dry_run) {
        const char *dot = strrchr(name, '.');
        unsigned pid;
        if (!dot || dot == name || !strstr(name, JOURNAL_SUFFIX ".") || parse_unsigned(dot + 1, &pid) < 0)
                return;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH || dry_run)
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
                dir = JOURNAL_DIR_DEFAULT;
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
                        size_t l = strlen(de->d_name), sl = strlen(JOURNAL_SUFFIX);
                        if (de->d_name[0] == '.') {
                                cleanup_stale_tmp(dir, de->d_name, dry_run);
                                continue;
                        }
                        if (l > sl && streq(de->d_name + l - sl, JOURNAL_SUFFIX))
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
