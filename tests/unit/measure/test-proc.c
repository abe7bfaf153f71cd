/* SPDX-License-Identifier: MIT */
/* /proc readers on captured trees (fixtures/README), on trees built here for the edge
 * cases, and on the live /proc for the kernel behaviour the fixtures cannot show. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "measure/proc.h"
#include "unit/measure/measure-fixtures.h"
#include "util/macros.h"

#define KB(x) ((uint64_t)(x)*1024)

static int fixtures_fd = -1;

static int open_fixtures(void **state) {
        fixtures_fd = open(MEASURE_FIXTURES_DIR "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fixtures_fd < 0 ? -1 : 0;
}

static int close_fixtures(void **state) {
        close(fixtures_fd);
        return 0;
}

/* A scratch proc tree: files are created with their parent directories. */
typedef struct Tree {
        char path[64];
        int fd;
} Tree;

static void tree_new(Tree *t) {
        strcpy(t->path, "/tmp/corun-test-proc.XXXXXX");
        assert_non_null(mkdtemp(t->path));
        t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->fd >= 0);
}

static void tree_write(Tree *t, const char *name, const char *content) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s", name);
        for (char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                assert_true(mkdirat(t->fd, dir, 0755) == 0 || errno == EEXIST);
                *s = '/';
        }
        int fd = openat(t->fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        close(fd);
}

static void tree_free(Tree *t) {
        char cmd[128];
        close(t->fd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
        assert_int_equal(system(cmd), 0);
}

static void test_smaps_rollup(void **state) {
        ProcMem m;
        assert_int_equal(proc_read_smaps_rollup(fixtures_fd, 101, &m), 0);
        assert_int_equal(m.rss, KB(1324));
        assert_int_equal(m.pss, KB(159));
        assert_int_equal(m.pss_anon, KB(64));
        assert_int_equal(m.pss_file, KB(94));
        assert_int_equal(m.pss_shmem, 0);
        assert_int_equal(m.swap, 0);
        assert_int_equal(m.swap_pss, 0);
}

static void test_smaps_rollup_old_kernel(void **state) {
        /* Before 5.9 there is no Pss split; Pss and swap must still be read. */
        ProcMem m;
        assert_int_equal(proc_read_smaps_rollup(fixtures_fd, 103, &m), 0);
        assert_int_equal(m.rss, KB(20480));
        assert_int_equal(m.pss, KB(18000));
        assert_int_equal(m.pss_anon, 0);
        assert_int_equal(m.pss_file, 0);
        assert_int_equal(m.swap, KB(4096));
        assert_int_equal(m.swap_pss, KB(3072));
}

static void test_smaps_rollup_errors(void **state) {
        ProcMem m = {.rss = 42};
        assert_int_equal(proc_read_smaps_rollup(fixtures_fd, 104, &m), -EBADMSG); /* no Pss */
        assert_int_equal(proc_read_smaps_rollup(fixtures_fd, 109, &m), -ESRCH);   /* exiting */
        assert_int_equal(proc_read_smaps_rollup(fixtures_fd, 200, &m), -ESRCH);   /* gone */
        assert_int_equal(proc_read_smaps_rollup(fixtures_fd, 0, &m), -EINVAL);
        assert_int_equal(m.rss, 42); /* untouched on failure */

        Tree t;
        tree_new(&t);
        tree_write(&t, "5/smaps_rollup", "Rss:  12 MB\nPss: 3 kB\n");
        assert_int_equal(proc_read_smaps_rollup(t.fd, 5, &m), -EBADMSG);
        tree_write(&t, "5/smaps_rollup", "Rss: 18446744073709551615 kB\nPss: 3 kB\n");
        assert_int_equal(proc_read_smaps_rollup(t.fd, 5, &m), -EBADMSG); /* overflows in bytes */
        tree_write(&t, "5/smaps_rollup", "Rss: -1 kB\nPss: 3 kB\n");
        assert_int_equal(proc_read_smaps_rollup(t.fd, 5, &m), -EBADMSG);
        tree_write(&t, "5/smaps_rollup", "Rss: 7 kB\nPss: 3 kB");
        assert_int_equal(proc_read_smaps_rollup(t.fd, 5, &m), 0); /* no final newline */
        assert_int_equal(m.rss, KB(7));
        assert_int_equal(m.pss, KB(3));
        tree_free(&t);
}

static void test_sample_pids(void **state) {
        const pid_t pids[] = {100, 200, 101, 109, 102};
        ProcMem sum = {.rss = 1};
        assert_int_equal(proc_sample_pids(fixtures_fd, pids, ELEMENTSOF(pids), &sum), 3);
        assert_int_equal(sum.rss, KB(3132 + 1324 + 1116));
        assert_int_equal(sum.pss, KB(533 + 159 + 170));
        assert_int_equal(sum.pss_anon, KB(272 + 64 + 96));
        assert_int_equal(sum.pss_file, KB(261 + 94 + 74));

        const pid_t gone[] = {200, 201};
        assert_int_equal(proc_sample_pids(fixtures_fd, gone, ELEMENTSOF(gone), &sum), 0);
        assert_int_equal(sum.rss, 0);
        assert_int_equal(sum.pss, 0);

        const pid_t bad[] = {101, 104};
        assert_int_equal(proc_sample_pids(fixtures_fd, bad, ELEMENTSOF(bad), &sum), -EBADMSG);
}

static void test_status_cpus(void **state) {
        CpuSet cpus, mems;
        char buf[128];

        assert_int_equal(proc_read_status_cpus(fixtures_fd, 101, &cpus, &mems), 0);
        cpuset_format(&cpus, buf, sizeof buf);
        assert_string_equal(buf, "0-1");
        cpuset_format(&mems, buf, sizeof buf);
        assert_string_equal(buf, "0");

        assert_int_equal(proc_read_status_cpus(fixtures_fd, 103, &cpus, NULL), 0);
        cpuset_format(&cpus, buf, sizeof buf);
        assert_string_equal(buf, "0,2,4-7,64-127");
        assert_int_equal(proc_read_status_cpus(fixtures_fd, 103, NULL, &mems), 0);
        cpuset_format(&mems, buf, sizeof buf);
        assert_string_equal(buf, "0-1");

        assert_int_equal(proc_read_status_cpus(fixtures_fd, 200, &cpus, &mems), -ESRCH);
        /* Per-thread status files here are trimmed to the context-switch lines. */
        Tree t;
        tree_new(&t);
        tree_write(&t, "5/status", "Name:\tx\nCpus_allowed_list:\t0-1\n");
        assert_int_equal(proc_read_status_cpus(t.fd, 5, &cpus, &mems), -EBADMSG);
        tree_write(&t, "5/status", "Cpus_allowed_list:\t3-1\nMems_allowed_list:\t0\n");
        assert_int_equal(proc_read_status_cpus(t.fd, 5, &cpus, &mems), -EBADMSG);
        tree_free(&t);
}

static void test_stat_starttime(void **state) {
        uint64_t st = 0;
        assert_int_equal(proc_read_stat_starttime(fixtures_fd, 101, &st), 0);
        assert_int_equal(st, 283360);
        /* comm "a) b (c)": splitting at the first ')' would read field 20 ("1"). */
        st = 0;
        assert_int_equal(proc_read_stat_starttime(fixtures_fd, 102, &st), 0);
        assert_int_equal(st, 283360);
        assert_int_equal(proc_read_stat_starttime(fixtures_fd, 200, &st), -ESRCH);

        Tree t;
        tree_new(&t);
        /* The worst comm: looks like the fields that follow it. */
        tree_write(&t, "7/stat",
                   "7 () S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21) S 1 7 7 0 -1 4194304 "
                   "90 0 0 0 0 0 0 0 20 0 1 0 987654321 2400256 239 18446744073709551615\n");
        assert_int_equal(proc_read_stat_starttime(t.fd, 7, &st), 0);
        assert_int_equal(st, 987654321);
        tree_write(&t, "7/stat", "7 (short) S 1 7 7 0 -1 4194304 90 0 0 0 0\n");
        assert_int_equal(proc_read_stat_starttime(t.fd, 7, &st), -EBADMSG);
        tree_write(&t, "7/stat", "7 no parenthesis S 1\n");
        assert_int_equal(proc_read_stat_starttime(t.fd, 7, &st), -EBADMSG);
        tree_write(&t, "7/stat", "7 (x) S 1 7 7 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 12x 2400256\n");
        assert_int_equal(proc_read_stat_starttime(t.fd, 7, &st), -EBADMSG);
        assert_int_equal(st, 987654321);
        tree_free(&t);
}

static void test_ctxsw(void **state) {
        uint64_t v = 0, iv = 1;
        /* 101/status alone says 2: the other thread's 51 switches are only in its own file. */
        assert_int_equal(proc_read_ctxsw(fixtures_fd, 101, &v, &iv), 0);
        assert_int_equal(v, 2 + 51);
        assert_int_equal(iv, 0);
        assert_int_equal(proc_read_ctxsw(fixtures_fd, 100, &v, &iv), 0);
        assert_int_equal(v, 6);
        assert_int_equal(proc_read_ctxsw(fixtures_fd, 200, &v, &iv), -ESRCH);
        assert_int_equal(proc_read_ctxsw(fixtures_fd, 103, &v, &iv), -ESRCH); /* no task/ */
}

static void test_descendants(void **state) {
        pid_t *pids = NULL;
        size_t n = 99;

        /* 106 is a child of thread 105 only; 108 is listed but has exited. */
        assert_int_equal(proc_descendants(fixtures_fd, 100, &pids, &n), 0);
        assert_int_equal(n, 5);
        const pid_t want[] = {101, 102, 106, 107, 108};
        for (size_t i = 0; i < n; i++)
                assert_int_equal(pids[i], want[i]);
        free(pids);

        assert_int_equal(proc_descendants(fixtures_fd, 101, &pids, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(pids[0], 106);
        assert_int_equal(pids[2], 108);
        free(pids);

        pids = (pid_t *)1;
        assert_int_equal(proc_descendants(fixtures_fd, 102, &pids, &n), 0);
        assert_int_equal(n, 0);
        assert_null(pids);

        assert_int_equal(proc_descendants(fixtures_fd, 200, &pids, &n), -ESRCH);
        assert_int_equal(proc_descendants(fixtures_fd, -1, &pids, &n), -EINVAL);
}

static void test_descendants_large_and_duplicates(void **state) {
        /* 3000 children (over 4 KiB of text, so pids straddle reads), some listed by two
         * threads as a reparenting race would show them. */
        size_t len = 3000 * 6 + 1;
        _cleanup_free_ char *list = malloc(len);
        assert_non_null(list);
        char *p = list;
        for (int i = 0; i < 3000; i++)
                p += sprintf(p, "%d ", 20000 + i);
        Tree t;
        tree_new(&t);
        tree_write(&t, "1/task/1/children", list);
        tree_write(&t, "1/task/2/children", "20000 22999 30000\n");
        tree_write(&t, "30000/task/30000/children", "1 40000");
        pid_t *pids = NULL;
        size_t n = 0;
        assert_int_equal(proc_descendants(t.fd, 1, &pids, &n), 0);
        assert_int_equal(n, 3002);
        assert_int_equal(pids[0], 20000);
        assert_int_equal(pids[2999], 22999);
        assert_int_equal(pids[3000], 30000);
        assert_int_equal(pids[3001], 40000); /* the root listed below itself is dropped */
        for (size_t i = 1; i < n; i++)
                assert_true(pids[i - 1] < pids[i]);
        free(pids);

        tree_write(&t, "1/task/2/children", "20000 x\n");
        assert_int_equal(proc_descendants(t.fd, 1, &pids, &n), -EBADMSG);
        tree_free(&t);
}

/* The live kernel: what fixtures cannot prove. */
static void test_live_self(void **state) {
        int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(proc >= 0);
        ProcMem m;
        assert_int_equal(proc_read_smaps_rollup(proc, getpid(), &m), 0);
        assert_true(m.rss > 0 && m.pss > 0 && m.pss <= m.rss);

        CpuSet cpus, want;
        cpu_set_t aff;
        assert_int_equal(sched_getaffinity(0, sizeof aff, &aff), 0);
        cpuset_zero(&want);
        for (unsigned i = 0; i < CPU_SETSIZE; i++)
                if (CPU_ISSET(i, &aff))
                        cpuset_add(&want, i);
        assert_int_equal(proc_read_status_cpus(proc, getpid(), &cpus, NULL), 0);
        assert_true(cpuset_equal(&cpus, &want));

        uint64_t st;
        assert_int_equal(proc_read_stat_starttime(proc, getpid(), &st), 0);
        assert_true(st > 0);

        /* A child that sleeps, and a zombie: both are descendants, the zombie has no map. */
        pid_t sleeper = fork();
        assert_true(sleeper >= 0);
        if (sleeper == 0) {
                pause();
                _exit(0);
        }
        pid_t zombie = fork();
        assert_true(zombie >= 0);
        if (zombie == 0)
                _exit(0);
        siginfo_t si;
        assert_int_equal(waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT), 0);
        assert_int_equal(proc_read_smaps_rollup(proc, zombie, &m), -ESRCH);

        pid_t *pids = NULL;
        size_t n = 0;
        assert_int_equal(proc_descendants(proc, getpid(), &pids, &n), 0);
        bool seen_sleeper = false, seen_zombie = false;
        for (size_t i = 0; i < n; i++) {
                seen_sleeper |= pids[i] == sleeper;
                seen_zombie |= pids[i] == zombie;
        }
        free(pids);
        assert_true(seen_sleeper);
        assert_true(seen_zombie);

        uint64_t v, iv;
        assert_int_equal(proc_read_ctxsw(proc, getpid(), &v, &iv), 0);
        kill(sleeper, SIGKILL);
        waitpid(sleeper, NULL, 0);
        waitpid(zombie, NULL, 0);
        assert_int_equal(proc_read_smaps_rollup(proc, zombie, &m), -ESRCH);
        close(proc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_smaps_rollup),
                cmocka_unit_test(test_smaps_rollup_old_kernel),
                cmocka_unit_test(test_smaps_rollup_errors),
                cmocka_unit_test(test_sample_pids),
                cmocka_unit_test(test_status_cpus),
                cmocka_unit_test(test_stat_starttime),
                cmocka_unit_test(test_ctxsw),
                cmocka_unit_test(test_descendants),
                cmocka_unit_test(test_descendants_large_and_duplicates),
                cmocka_unit_test(test_live_self),
        };
        return cmocka_run_group_tests(tests, open_fixtures, close_fixtures);
}
