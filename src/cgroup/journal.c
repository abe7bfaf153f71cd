/* SPDX-License-Identifier: MIT */
/* The journal: what a run created, written down before it is created, so that a
 * runner killed at any instruction leaves a complete list, and the reader that hands
 * it back to the cleanup of dead runs (cleanup.c). Depends on util/ only.
 *
 * File format (text, one record a line, appended with O_APPEND; the lines of one group
 * in all its hierarchies go out in one write):
 *   corun-journal 1 pid=<pid> start=<ticks> boot=<boot-id> run=<run-id>
 *   cgroup <absolute path>
 *   dir <absolute path>
 * The first line identifies the runner: a pid alone could have been reused, the
 * start time (field 22 of /proc/<pid>/stat) and the boot id make it unique. That
 * identity is the only test of life: a lock held by the runner would also be held by
 * every child it forked and that has not exec'd yet (or never does). Cleanups
 * exclude each other with a flock on the journal directory.
 *
 * Nothing is fsync'ed. The journal is for the runner's death (kill -9, a crash, the OOM
 * killer), and a completed write(2) survives that in the page cache. A power loss takes
 * every group and job with it; /run is a tmpfs on most hosts, so the journal would not
 * survive one anyway; what it can leave is the run's scratch dir under $TMPDIR
 * (corun-<run-id>). Syncing cost three disk flushes per run where /run is on disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/journal.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/macros.h"
#include "util/parse.h"

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
         * write(2) with that write's own lines. */
        char *pending;
        size_t n_pending;
        bool torn; /* the last write failed, maybe halfway through a line */
};

bool journal_name_is_valid(const char *s, size_t n) {
        if (n == 0 || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
                    !(s[i] >= '0' && s[i] <= '9') && !strchr("._-+@#=,", s[i]))
                        return false;
        return true;
}

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

const char *journal_dir_default(void) {
        /* Users other than root run in their user manager's scope (cgroup-systemd.c) and
         * cannot write /run/corun: their runtime directory, which only they can write. */
        static char buf[256];
        const char *x = getenv("XDG_RUNTIME_DIR");
        if (geteuid() == 0 || isempty(x) || x[0] != '/' ||
            snprintf(buf, sizeof buf, "%s/corun", x) >= (int)sizeof buf)
                return JOURNAL_DIR_DEFAULT;
        return buf;
}

int journal_open(const char *dir, const char *run_id, Journal **ret) {
        char boot[64];
        uint64_t start;
        int r;

        if (!dir)
                dir = journal_dir_default();
        if (isempty(run_id) || !journal_name_is_valid(run_id, strlen(run_id)) || dir[0] != '/')
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
        if ((r = write_all(fd, header, strlen(header))) < 0) {
                (void)unlink(tmp);
                return r;
        }
        r = RET_NERRNO(link(tmp, path));
        (void)unlink(tmp);
        if (r < 0)
                return r;

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
        /* "container": "<engine path> <name>" (exec/container.h); "scope": a systemd scope;
         * "results": the run's results directory (its temporary files). */
        return kind && path &&
               (streq(kind, "cgroup") || streq(kind, "dir") || streq(kind, "container") || streq(kind, "scope") ||
                streq(kind, "results")) &&
               path[0] == '/' && !strchr(path, '\n') && strlen(path) <= JOURNAL_PATH_MAX;
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

/* Writes the staged lines and `n` new ones with one write(2). */
static int journal_write(Journal *j, const char *kind, const char *const *paths, size_t n) {
        int r;
        if (n > 0 && (r = append_lines(&j->pending, &j->n_pending, kind, paths, n)) < 0)
                return r;
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
        r = fault_point("journal write");
        if (r >= 0)
                r = j->torn ? write_all(j->fd, "\n", 1) : 0;
        if (r >= 0)
                r = write_all(j->fd, j->pending, j->n_pending);
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
        return append_lines(&j->pending, &j->n_pending, kind, &path, 1);
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

/* ---- reading back ---- */

static int parse_header(const char *line, JournalContents *c) {
        unsigned long long start;
        int pid;
        if (sscanf(line, JOURNAL_MAGIC " pid=%d start=%llu boot=%63s run=%255s", &pid, &start, c->boot,
                   c->run) != 4 ||
            pid <= 0 || !journal_name_is_valid(c->run, strlen(c->run)))
                return -EBADMSG;
        c->pid = (pid_t)pid;
        c->start = start;
        return 0;
}

void journal_contents_done(JournalContents *c) {
        if (!c)
                return;
        free(c->entries);
        free(c->text);
        *c = (JournalContents){0};
}

int journal_read(const char *path, JournalContents *ret) {
        _cleanup_(journal_contents_done) JournalContents c = {0};
        struct stat st;
        int r;

        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if (st.st_size > JOURNAL_READ_MAX)
                return -EFBIG;
        if ((r = read_full_fd(fd, JOURNAL_READ_MAX, &c.text, NULL)) < 0)
                return r;

        char *save = NULL, *line = strtok_r(c.text, "\n", &save);
        if (!line || parse_header(line, &c) < 0)
                return -EBADMSG;
        size_t cap = 0;
        /* A line cut short by a crash has no newline: strtok still hands it over, and
         * a torn path simply does not exist (or fails validation). */
        while ((line = strtok_r(NULL, "\n", &save))) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                if (c.n_entries == cap) {
                        cap = cap ? cap * 2 : 32;
                        JournalEntry *ne = realloc(c.entries, cap * sizeof *ne);
                        if (!ne)
                                return -ENOMEM;
                        c.entries = ne;
                }
                c.entries[c.n_entries++] = (JournalEntry){.kind = line, .path = sp + 1};
        }
        *ret = c;
        c = (JournalContents){0};
        return 0;
}

bool journal_runner_alive(const JournalContents *c) {
        char boot[64], state = 0;
        uint64_t start;
        if (read_boot_id(boot, sizeof boot) < 0)
                return true; /* cannot tell: leave it */
        if (!streq(boot, c->boot))
                return false; /* a journal from before the last reboot */
        int r = proc_stat(c->pid, &state, &start);
        if (r == -ENOENT || r == -ESRCH)
                return false;
        if (r < 0)
                return true;
        return start == c->start && state != 'Z' && state != 'X';
}

bool journal_is_journal_name(const char *name) {
        size_t l = strlen(name), sl = strlen(JOURNAL_SUFFIX);
        return name[0] != '.' && l > sl && streq(name + l - sl, JOURNAL_SUFFIX);
}

int journal_tmp_name_pid(const char *name, pid_t *ret) {
        const char *dot = strrchr(name, '.');
        unsigned pid;
        if (name[0] != '.' || !dot || dot == name || !strstr(name, JOURNAL_SUFFIX ".") ||
            parse_unsigned(dot + 1, &pid) < 0 || pid == 0 || pid > INT32_MAX)
                return -EINVAL;
        *ret = (pid_t)pid;
        return 0;
}
