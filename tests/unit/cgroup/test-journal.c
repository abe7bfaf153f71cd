/* SPDX-License-Identifier: MIT */
/* The journal in a temp dir: format, live vs dead runners (real dead pid, fake start
 * time, other boot), replay of scratch dirs, and refusal of tampered paths. No
 * cgroups and no root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fileio.h"
#include "cgroup/cleanup.h"
#include "cgroup/journal.h"
#include "util/macros.h"

typedef struct T {
        char base[64];  /* the temp dir of one test */
        char jdir[128]; /* journals */
} T;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p) < 0 ? -1 : 0;
}

static int setup(void **state) {
        T *t = calloc(1, sizeof *t);
        snprintf(t->base, sizeof t->base, "/tmp/corun-test-journal-XXXXXX");
        assert_non_null(mkdtemp(t->base));
        snprintf(t->jdir, sizeof t->jdir, "%s/run/corun", t->base);
        *state = t;
        return 0;
}

static int teardown(void **state) {
        T *t = *state;
        nftw(t->base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(t);
        return 0;
}

static char *slurp(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *buf = calloc(1, 65536);
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void boot_id(char *buf, size_t n) {
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
        assert_non_null(f);
        assert_non_null(fgets(buf, (int)n, f));
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

/* A journal as a runner with this identity would have written it. */
static void write_journal(const T *t, const char *run, int pid, unsigned long long start, const char *boot,
                          const char *body) {
        char path[256];
        mkdir(t->base, 0700);
        char run_dir[128];
        snprintf(run_dir, sizeof run_dir, "%s/run", t->base);
        mkdir(run_dir, 0755);
        mkdir(t->jdir, 0700);
        snprintf(path, sizeof path, "%s/%s.journal", t->jdir, run);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fprintf(f, "corun-journal 1 pid=%d start=%llu boot=%s run=%s\n%s", pid, start, boot, run, body);
        fclose(f);
}

static bool exists(const char *p) {
        struct stat st;
        return lstat(p, &st) == 0;
}

static void make_file(const char *p) {
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "x", 1), 1);
        close(fd);
}

static bool has_line(char **l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static void test_open_add_close(void **state) {
        T *t = *state;
        Journal *j = NULL;
        char path[256], boot[64];

        assert_int_equal(journal_open(t->jdir, "r1", &j), 0);
        snprintf(path, sizeof path, "%s/r1.journal", t->jdir);
        assert_string_equal(journal_path(j), path);
        struct stat st;
        assert_int_equal(stat(t->jdir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        assert_int_equal(journal_add(j, "cgroup", "/sys/fs/cgroup/memory/corun/r1"), 0);
        assert_int_equal(journal_add(j, "dir", "/tmp/corun-r1"), 0);
        assert_int_equal(journal_add(j, "dir", "relative/path"), -EINVAL);
        assert_int_equal(journal_add(j, "dir", "/tmp/a\nb"), -EINVAL);
        assert_int_equal(journal_add(j, "shm", "/dev/shm/x"), -EINVAL);

        uint64_t start;
        assert_int_equal(proc_start_time(getpid(), &start), 0);
        boot_id(boot, sizeof boot);
        char want[512];
        snprintf(want, sizeof want,
                 "corun-journal 1 pid=%d start=%llu boot=%s run=r1\ncgroup "
                 "/sys/fs/cgroup/memory/corun/r1\ndir "
                 "/tmp/corun-r1\n",
                 (int)getpid(), (unsigned long long)start, boot);
        _cleanup_free_ char *text = slurp(path);
        assert_string_equal(text, want);

        /* One journal per run id. */
        Journal *j2 = NULL;
        assert_int_equal(journal_open(t->jdir, "r1", &j2), -EEXIST);
        assert_int_equal(journal_open(t->jdir, "../x", &j2), -EINVAL);

        assert_int_equal(journal_close_clean(j), 0);
        assert_false(exists(path));
}

/* One batch per group: every path checked before anything is written, the lines in
 * order, staged lines carried by the next write (first) and dropped when never sent. */
static void test_batch_and_stage(void **state) {
        T *t = *state;
        Journal *j = NULL;
        char path[256], want[2048];

        assert_int_equal(journal_open(t->jdir, "b1", &j), 0);
        snprintf(path, sizeof path, "%s/b1.journal", t->jdir);
        _cleanup_free_ char *header = slurp(path);
        assert_non_null(header);

        const char *bad[] = {"/sys/fs/cgroup/memory/corun/b1/s", "relative/s"};
        assert_int_equal(journal_add_many(j, "cgroup", bad, 2), -EINVAL);
        assert_int_equal(journal_add_many(j, "shm", bad, 1), -EINVAL);
        assert_int_equal(journal_add_many(j, "cgroup", NULL, 1), -EINVAL);
        _cleanup_free_ char *text = slurp(path);
        assert_string_equal(text, header); /* a bad batch writes nothing at all */

        assert_int_equal(journal_stage(j, "dir", "/tmp/corun-b1/000-s-rep0-j"), 0);
        assert_int_equal(journal_stage(j, "dir", "rel"), -EINVAL);
        assert_int_equal(journal_stage(j, "dir", "/tmp/a\nb"), -EINVAL);
        free(text);
        text = slurp(path);
        assert_string_equal(text, header); /* staged is not written */

        const char *group[] = {"/sys/fs/cgroup/cpuset/corun/b1/s", "/sys/fs/cgroup/memory/corun/b1/s",
                               "/sys/fs/cgroup/unified/corun/b1/s"};
        assert_int_equal(journal_add_many(j, "cgroup", group, 3), 0);
        snprintf(want, sizeof want,
                 "%sdir /tmp/corun-b1/000-s-rep0-j\ncgroup /sys/fs/cgroup/cpuset/corun/b1/s\n"
                 "cgroup /sys/fs/cgroup/memory/corun/b1/s\ncgroup /sys/fs/cgroup/unified/corun/b1/s\n",
                 header);
        free(text);
        text = slurp(path);
        assert_string_equal(text, want);

        /* Nothing queued: flush and an empty batch write nothing. */
        assert_int_equal(journal_flush(j), 0);
        assert_int_equal(journal_add_many(j, "cgroup", NULL, 0), 0);
        free(text);
        text = slurp(path);
        assert_string_equal(text, want);

        assert_int_equal(journal_stage(j, "dir", "/tmp/corun-b1/001-s-rep0-j"), 0);
        assert_int_equal(journal_flush(j), 0);
        strcat(want, "dir /tmp/corun-b1/001-s-rep0-j\n");
        free(text);
        text = slurp(path);
        assert_string_equal(text, want);

        /* Never flushed: never created, so never written. */
        assert_int_equal(journal_stage(j, "dir", "/tmp/corun-b1/002-s-rep0-j"), 0);
        journal_free(j);
        free(text);
        text = slurp(path);
        assert_string_equal(text, want);
}

/* A write that fails (here: the file size limit, halfway through a line) keeps its
 * lines queued, so a line staged before it still reaches the disk before any later
 * call reports success; the next write starts on a fresh line. */
static void test_failed_write_keeps_lines(void **state) {
        T *t = *state;
        Journal *j = NULL;
        char path[256], want[2048];
        struct rlimit old, lim;
        struct stat st;

        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(journal_open(t->jdir, "f1", &j), 0);
        snprintf(path, sizeof path, "%s/f1.journal", t->jdir);
        _cleanup_free_ char *header = slurp(path);
        assert_int_equal(stat(path, &st), 0);

        assert_int_equal(journal_stage(j, "dir", "/tmp/corun-f1/a"), 0);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = (rlim_t)st.st_size + 10;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        const char *g = "/sys/fs/cgroup/memory/corun/f1/s";
        int r = journal_add(j, "cgroup", g);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        assert_int_equal(r, -EFBIG);
        signal(SIGXFSZ, SIG_DFL);

        assert_int_equal(journal_flush(j), 0);
        /* The torn prefix of the failed write was cut off again. */
        snprintf(want, sizeof want, "%sdir /tmp/corun-f1/a\ncgroup %s\n", header, g);
        _cleanup_free_ char *text = slurp(path);
        assert_string_equal(text, want);
        assert_int_equal(journal_flush(j), 0); /* sent: nothing left queued */
        free(text);
        text = slurp(path);
        assert_string_equal(text, want);
        assert_int_equal(journal_close_clean(j), 0);
}

static void test_live_runner_left_alone(void **state) {
        T *t = *state;
        Journal *j = NULL;
        char scratch[256], path[256];
        CleanupReport rep;

        /* Our own open journal: locked and our identity. */
        snprintf(scratch, sizeof scratch, "%s/corun-live", t->base);
        assert_int_equal(mkdir(scratch, 0755), 0);
        assert_int_equal(journal_open(t->jdir, "live", &j), 0);
        assert_int_equal(journal_add(j, "dir", scratch), 0);
        assert_int_equal(journal_cleanup_dead(t->jdir, &rep), 0);
        assert_int_equal(rep.journals, 0);
        assert_int_equal(rep.journals_live, 1);
        assert_int_equal(rep.dirs_removed, 0);
        assert_true(exists(scratch));
        cleanup_report_done(&rep);

        /* Closed without a clean finish (the runner crashed... but it is us, alive):
         * the lock is gone, the identity still says alive. */
        journal_free(j);
        snprintf(path, sizeof path, "%s/live.journal", t->jdir);
        assert_true(exists(path));
        assert_int_equal(journal_cleanup_dead(t->jdir, &rep), 0);
        assert_int_equal(rep.journals_live, 1);
        assert_true(exists(scratch));
        assert_true(exists(path));
        cleanup_report_done(&rep);
}

static void test_dead_by_start_time(void **state) {
        T *t = *state;
        char boot[64], a[256], b[256], victim[256], body[1024], p[512];
        CleanupReport rep;
        uint64_t start;

        boot_id(boot, sizeof boot);
        assert_int_equal(proc_start_time(getpid(), &start), 0);
        /* The scratch tree of run "r2", with a symlink out to a victim dir. */
        snprintf(a, sizeof a, "%s/corun-r2", t->base);
        snprintf(b, sizeof b, "%s/corun-r2/job-1", t->base);
        snprintf(victim, sizeof victim, "%s/victim", t->base);
        assert_int_equal(mkdir(a, 0755), 0);
        assert_int_equal(mkdir(b, 0755), 0);
        assert_int_equal(mkdir(victim, 0755), 0);
        snprintf(p, sizeof p, "%s/precious", victim);
        make_file(p);
        snprintf(p, sizeof p, "%s/deep/er/still", b);
        char q[512];
        snprintf(q, sizeof q, "%s/deep", b);
        assert_int_equal(mkdir(q, 0755), 0);
        snprintf(q, sizeof q, "%s/deep/er", b);
        assert_int_equal(mkdir(q, 0755), 0);
        make_file(p);
        snprintf(p, sizeof p, "%s/escape", b);
        assert_int_equal(symlink(victim, p), 0);

        /* Our pid, but another start time: pid reuse, so the runner is dead. */
        snprintf(body, sizeof body, "dir %s\ndir %s\ndir %s/corun-r2/never-created\n", a, b, t->base);
        write_journal(t, "r2", (int)getpid(), (unsigned long long)start + 1, boot, body);

        /* A dry run lists without touching. */
        assert_int_equal(journal_cleanup(t->jdir, true, &rep), 0);
        assert_int_equal(rep.journals, 1);
        assert_int_equal(rep.dirs_removed, 2);
        assert_true(exists(b));
        cleanup_report_done(&rep);
        snprintf(p, sizeof p, "%s/r2.journal", t->jdir);
        assert_true(exists(p));

        assert_int_equal(journal_cleanup_dead(t->jdir, &rep), 0);
        assert_int_equal(rep.journals, 1);
        assert_int_equal(rep.journals_live, 0);
        assert_int_equal(rep.dirs_removed, 2);
        assert_null(rep.errors);
        snprintf(q, sizeof q, "dir %s", a);
        assert_true(has_line(rep.removed, q));
        snprintf(q, sizeof q, "dir %s", b);
        assert_true(has_line(rep.removed, q));
        cleanup_report_done(&rep);
        assert_false(exists(a));
        assert_false(exists(p)); /* the journal goes after a clean replay */
        /* The symlink was removed, not followed. */
        snprintf(p, sizeof p, "%s/precious", victim);
        assert_true(exists(p));

        /* Nothing left: a second pass finds nothing. */
        assert_int_equal(journal_cleanup_dead(t->jdir, &rep), 0);
        assert_int_equal(rep.journals, 0);
        assert_null(rep.removed);
        cleanup_report_done(&rep);
}

static void test_dead_pid_and_other_boot(void **state) {
        T *t = *state;
        char boot[64], a[256], body[512];
        CleanupReport rep;
        uint64_t start;

        boot_id(boot, sizeof boot);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(0);
        assert_int_equal(waitpid(child, NULL, 0), child);

        snprintf(a, sizeof a, "%s/corun-r3", t->base);
        assert_int_equal(mkdir(a, 0755), 0);
        snprintf(body, sizeof body, "dir %s\n", a);
        write_journal(t, "r3", (int)child, 12345, boot, body);

        /* Our own identity exactly, but from another boot. */
        assert_int_equal(proc_start_time(getpid(), &start), 0);
        char b[256];
        snprintf(b, sizeof b, "%s/corun-r4", t->base);
        assert_int_equal(mkdir(b, 0755), 0);
        snprintf(body, sizeof body, "dir %s\n", b);
        write_journal(t, "r4", (int)getpid(), (unsigned long long)start,
                      "00000000-0000-0000-0000-000000000000", body);

        /* And a live one with our exact identity (no lock held): left alone. */
        char c[256];
        snprintf(c, sizeof c, "%s/corun-r5", t->base);
        assert_int_equal(mkdir(c, 0755), 0);
        snprintf(body, sizeof body, "dir %s\n", c);
        write_journal(t, "r5", (int)getpid(), (unsigned long long)start, boot, body);

        assert_int_equal(journal_cleanup_dead(t->jdir, &rep), 0);
        assert_int_equal(rep.journals, 2);
        assert_int_equal(rep.journals_live, 1);
        assert_int_equal(rep.dirs_removed, 2);
        cleanup_report_done(&rep);
        assert_false(exists(a));
        assert_false(exists(b));
        assert_true(exists(c));
}

static void test_tampered_journal_refused(void **state) {
        T *t = *state;
        char boot[64], victim[256], p[512], body[2048], fake_cg[256];
        CleanupReport rep;

        boot_id(boot, sizeof boot);
        snprintf(victim, sizeof victim, "%s/victim", t->base);
        assert_int_equal(mkdir(victim, 0755), 0);
        snprintf(p, sizeof p, "%s/precious", victim);
        make_file(p);
        /* Looks like a run's cgroup but lies in an ordinary file system. */
        snprintf(fake_cg, sizeof fake_cg, "%s/corun", t->base);
        assert_int_equal(mkdir(fake_cg, 0755), 0);
        snprintf(fake_cg, sizeof fake_cg, "%s/corun/r6", t->base);
        assert_int_equal(mkdir(fake_cg, 0755), 0);
        /* A symlink named like a scratch dir, pointing at the victim. */
        char link[256];
        snprintf(link, sizeof link, "%s/corun-r6", t->base);
        assert_int_equal(symlink(victim, link), 0);

        snprintf(body, sizeof body,
                 "dir %s\n"                    /* no corun component */
                 "dir %s/corun-r6/../victim\n" /* dot-dot */
                 "dir %s/corun-r6/precious\n"  /* through a symlink */
                 "dir %s/corun-other\n"        /* another run's name */
                 "cgroup %s\n"                 /* not a cgroup file system */
                 "cgroup /etc\n"
                 "dir /etc\n",
                 victim, t->base, t->base, t->base, fake_cg);
        write_journal(t, "r6", 1, 1, "00000000-0000-0000-0000-000000000000", body);

        assert_int_equal(journal_cleanup_dead(t->jdir, &rep), 0);
        assert_int_equal(rep.journals, 1);
        assert_int_equal(rep.dirs_removed, 0);
        assert_int_equal(rep.groups_removed, 0);
        size_t n_err = 0;
        for (char **e = rep.errors; e && *e; e++)
                n_err++;
        assert_int_equal(n_err, 7);
        assert_non_null(strstr(rep.errors[0], "refusing"));
        cleanup_report_done(&rep);
        assert_true(exists(p));
        assert_true(exists(fake_cg));
        assert_true(exists(link));
        /* The journal stays for someone to look at. */
        snprintf(p, sizeof p, "%s/r6.journal", t->jdir);
        assert_true(exists(p));
}

/* A scope of another user's manager is theirs to stop: refused before any bus is
 * opened (so this runs without systemd), reported, and the journal kept. */
static void test_other_users_scope(void **state) {
        T *t = *state;
        char body[256], p[512];
        CleanupReport rep;

        unsigned other = geteuid() == 4242 ? 4243 : 4242;
        snprintf(body, sizeof body, "scope /user-%u/corun-r7.scope\n", other);
        write_journal(t, "r7", 1, 1, "00000000-0000-0000-0000-000000000000", body);
        assert_int_equal(journal_cleanup_dead(t->jdir, &rep), 0);
        assert_int_equal(rep.journals, 1);
        assert_int_equal(rep.scopes_stopped, 0);
        assert_non_null(rep.errors);
        assert_non_null(rep.errors[0]);
        assert_non_null(strstr(rep.errors[0], "corun-r7.scope belongs to another user's manager"));
        assert_null(rep.errors[1]);
        cleanup_report_done(&rep);
        snprintf(p, sizeof p, "%s/r7.journal", t->jdir);
        assert_true(exists(p));
}

static void test_path_validation(void **state) {
        T *t = *state;
        char p[256];

        assert_false(journal_path_is_valid("dir", "/etc", "x"));
        assert_false(journal_path_is_valid("cgroup", "/etc", "x"));
        assert_false(journal_path_is_valid("dir", "/", "x"));
        assert_false(journal_path_is_valid("dir", "relative/corun-x", "x"));
        assert_false(journal_path_is_valid("dir", "/tmp/corun-y", "x"));
        assert_false(journal_path_is_valid("dir", "/tmp/corun-x/../../etc", "x"));
        assert_false(journal_path_is_valid("dir", "/tmp//corun-x", "x"));
        assert_false(journal_path_is_valid("dir", "/tmp/corun-x/./a", "x"));
        assert_false(journal_path_is_valid("shm", "/tmp/corun-x", "x"));
        assert_false(journal_path_is_valid("cgroup", "/sys/fs/cgroup/memory/corun/y", "x"));
        assert_false(journal_path_is_valid("cgroup", "/sys/fs/cgroup/memory/corunx/x", "x"));
        /* systemd scopes (cgroup-systemd.c): this run's, in the system or a user manager. */
        assert_true(journal_path_is_valid("scope", "/system/corun-x.scope", "x"));
        assert_true(journal_path_is_valid("scope", "/user-1000/corun-x.scope", "x"));
        assert_false(journal_path_is_valid("scope", "/system/corun-y.scope", "x"));
        assert_false(journal_path_is_valid("scope", "/system/sshd.service", "x"));
        assert_false(journal_path_is_valid("scope", "/other/corun-x.scope", "x"));
        assert_false(journal_path_is_valid("scope", "/system/a/corun-x.scope", "x"));
        assert_false(journal_path_is_valid("scope", "/system", "x"));
        /* Run ids may hold characters unit names may not ('@' would make an instance):
         * escaped as systemd does. */
        assert_true(journal_path_is_valid("scope", "/system/corun-a\\x40b\\x2bc.scope", "a@b+c"));
        assert_false(journal_path_is_valid("scope", "/system/corun-a@b+c.scope", "a@b+c"));
        /* Well-formed and absent: acceptable (there is nothing to act on). */
        assert_true(journal_path_is_valid("dir", "/nonexistent-corun-test/corun-x", "x"));
        assert_true(journal_path_is_valid("dir", "/nonexistent-corun-test/corun-x-job/a", "x"));
        assert_true(journal_path_is_valid("cgroup", "/nonexistent-corun-test/corun/x/scen", "x"));
        assert_true(journal_path_is_valid("cgroup", "/nonexistent-corun-test/corun", "x"));
        /* Present, in an ordinary file system. */
        snprintf(p, sizeof p, "%s/corun-x", t->base);
        assert_int_equal(mkdir(p, 0755), 0);
        assert_true(journal_path_is_valid("dir", p, "x"));
        snprintf(p, sizeof p, "%s/corun", t->base);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/corun/x", t->base);
        assert_int_equal(mkdir(p, 0755), 0);
        assert_false(journal_path_is_valid("cgroup", p, "x"));

        /* A container (exec/container.h): cleanup runs the engine named there, so only
         * a root-owned program nobody else may write, and only this run's name. */
        char entry[512];
        snprintf(p, sizeof p, "%s/podman", t->base);
        make_file(p);
        assert_int_equal(chmod(p, 0775), 0); /* group-writable: refused whoever owns it */
        snprintf(entry, sizeof entry, "%s corun-x-000-j", p);
        assert_false(journal_path_is_valid("container", entry, "x"));
        assert_false(journal_path_is_valid("container", "/nonexistent-corun-test/podman corun-x-000-j", "x"));
        assert_false(journal_path_is_valid("container", "/nonexistent-corun-test/rm corun-x-000-j", "x"));
        if (chmod(p, 0755) == 0 && geteuid() == 0) {
                assert_true(journal_path_is_valid("container", entry, "x"));
                snprintf(entry, sizeof entry, "%s corun-y-000-j", p); /* another run's */
                assert_false(journal_path_is_valid("container", entry, "x"));
        }
}

static void test_rm_rf_careful(void **state) {
        T *t = *state;
        char d[256], victim[256], p[512];

        snprintf(victim, sizeof victim, "%s/victim", t->base);
        assert_int_equal(mkdir(victim, 0755), 0);
        snprintf(p, sizeof p, "%s/keep", victim);
        make_file(p);
        /* The path itself a symlink: only the link goes. */
        snprintf(d, sizeof d, "%s/link", t->base);
        assert_int_equal(symlink(victim, d), 0);
        assert_int_equal(rm_rf(d), 0);
        assert_false(exists(d));
        assert_true(exists(p));
        /* A symlink as a parent component: refused. */
        assert_int_equal(symlink(victim, d), 0);
        char through[512];
        snprintf(through, sizeof through, "%s/keep", d);
        assert_true(rm_rf(through) < 0);
        assert_true(exists(p));
        /* Absent: fine. */
        snprintf(d, sizeof d, "%s/absent", t->base);
        assert_int_equal(rm_rf(d), 0);
        assert_int_equal(rm_rf("relative"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_open_add_close, setup, teardown),
                cmocka_unit_test_setup_teardown(test_batch_and_stage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_write_keeps_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_runner_left_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dead_by_start_time, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dead_pid_and_other_boot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tampered_journal_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_path_validation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_other_users_scope, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rm_rf_careful, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
