/* SPDX-License-Identifier: MIT */
/* Real cgroups (v1 hybrid + unified cgroup2), as root: partitions are created under
 * the test's own groups, jobs attach through clone3 and through cg_attach_self,
 * pids.max stops a fork bomb, memory.limit_in_bytes OOM-kills a toucher, cg_kill
 * empties a group holding a daemon, destroy leaves nothing, and after kill -9 of a
 * runner journal_cleanup_dead removes everything it made. Exits 77 (with the reason)
 * only when not root or without usable v1 cgroups. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/sched.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/time-util.h"

#define MiB (UINT64_C(1) << 20)

static CgroupManager *mgr;
static char run_id[64], tmpdir[64], jdir[256];
static CgDiscovery disc;
static pid_t owner; /* only the test process itself cleans up, never a forked child */
static pid_t crash_runner;
/* Controllers whose hierarchies get no groups on this host (v1 next to a unified group
 * with cgroup.kill: cpuacct, freezer), as the manager decided. */
static unsigned skipped;

#define CHECK(cond, ...)                                                                                    \
        do {                                                                                                \
                if (!(cond)) {                                                                              \
                        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);            \
                        fprintf(stderr, __VA_ARGS__);                                                       \
                        fputc('\n', stderr);                                                                \
                        exit(1);                                                                            \
                }                                                                                           \
        } while (0)

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p) < 0 ? -1 : 0;
}

/* Runs on every exit, failed checks included: nothing may stay behind. */
static void cleanup_everything(void) {
        if (getpid() != owner)
                return;
        if (crash_runner > 0) {
                kill(crash_runner, SIGKILL);
                waitpid(crash_runner, NULL, 0);
        }
        mgr = cg_manager_free(mgr);
        if (jdir[0]) {
                CleanupReport r;
                (void)journal_cleanup_dead(jdir, &r);
                cleanup_report_done(&r);
        }
        if (tmpdir[0])
                nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* meson's timeout sends SIGTERM: still clean up. */
static void on_signal(int sig) {
        exit(128 + sig);
}

static void skip(const char *why) {
        printf("SKIP: %s\n", why);
        exit(77);
}

static bool path_exists(const char *p) {
        struct stat st;
        return lstat(p, &st) == 0;
}

/* Every directory a group of run `id` at `rel` has (or would have) in our hierarchies. */
static size_t group_dirs(const char *id, const char *rel, char out[][512]) {
        size_t n = 0;
        for (size_t i = 0; i < disc.n; i++) {
                if (!(disc.h[i].controllers & cg_v1_ops.controllers & ~skipped))
                        continue;
                snprintf(out[n++], 512, "%s%s/corun/%s%s%s", disc.h[i].mount, disc.h[i].own, id,
                         rel ? "/" : "", rel ? rel : "");
        }
        return n;
}

static void check_gone(const char *id, const char *rel) {
        char dirs[CG_MAX_HIER][512];
        size_t n = group_dirs(id, rel, dirs);
        for (size_t i = 0; i < n; i++)
                CHECK(!path_exists(dirs[i]), "%s still exists", dirs[i]);
}

static void check_there(const char *id, const char *rel) {
        char dirs[CG_MAX_HIER][512];
        size_t n = group_dirs(id, rel, dirs);
        CHECK(n >= 5, "only %zu hierarchies", n);
        for (size_t i = 0; i < n; i++)
                CHECK(path_exists(dirs[i]), "%s missing", dirs[i]);
        /* ...and none in a hierarchy left out. */
        for (size_t i = 0; i < disc.n; i++) {
                char p[512];
                if (!(disc.h[i].controllers & cg_v1_ops.controllers) ||
                    (disc.h[i].controllers & cg_v1_ops.controllers & ~skipped))
                        continue;
                snprintf(p, sizeof p, "%s%s/corun/%s%s%s", disc.h[i].mount, disc.h[i].own, id, rel ? "/" : "",
                         rel ? rel : "");
                CHECK(!path_exists(p), "%s made although the unified group covers it", p);
        }
}

static Cgroup *make_group(const char *rel, const char *cpus, uint64_t mem, uint64_t pids, CgApplied *ret) {
        CgLimits l;
        cg_limits_init(&l);
        if (cpus)
                CHECK(cpuset_parse(cpus, &l.cpus, NULL) == 0, "bad cpus %s", cpus);
        l.memory_max = mem;
        l.pids_max = pids;
        Cgroup *g = NULL;
        int r = cg_create(mgr, rel, &l, &g);
        CHECK(r == 0, "cg_create %s: %s", rel, strerror(-r));
        CgApplied a;
        r = cg_apply(g, &l, &a);
        CHECK(r == 0, "cg_apply %s: %s", rel, strerror(-r));
        if (ret)
                *ret = a;
        return g;
}

static void wait_pipe(int fd) {
        char c;
        CHECK(read(fd, &c, 1) == 1, "child died before it was ready");
}

/* Forks a child already in g: by clone3 into the unified group when `use_clone3`,
 * else by fork and cg_attach_self only — the two ways exec starts jobs. */
static pid_t spawn_in(Cgroup *g, bool use_clone3) {
        CgAttach a;
        int cfd = use_clone3 ? cg_clone_fd(g) : -1;
        if (use_clone3)
                CHECK(cfd >= 0, "no cgroup2 fd for clone3: %s", strerror(-cfd));
        int r = cg_prepare_attach(g, use_clone3, &a);
        CHECK(r == 0, "prepare_attach: %s", strerror(-r));
        pid_t pid;
        if (use_clone3) {
                struct clone_args ca = {
                        .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cfd};
                pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
        } else
                pid = fork();
        CHECK(pid >= 0, "fork: %m");
        if (pid == 0) {
                if (cg_attach_self(&a) < 0)
                        _exit(99);
                return 0;
        }
        cg_attach_done(&a);
        (void)cg_attach_pid(g, pid);
        return pid;
}

static int child_check_placement(const char *job_suffix) {
        char buf[8192];
        FILE *f = fopen("/proc/self/status", "re");
        bool cpus_ok = false, mem = false, uni = false, cpuset = false;
        while (f && fgets(buf, sizeof buf, f))
                if (strneq(buf, "Cpus_allowed_list:", 18))
                        cpus_ok = streq(buf + 18 + strspn(buf + 18, " \t"), "1\n");
        if (f)
                fclose(f);
        f = fopen("/proc/self/cgroup", "re");
        while (f && fgets(buf, sizeof buf, f)) {
                buf[strcspn(buf, "\n")] = '\0';
                size_t l = strlen(buf), sl = strlen(job_suffix);
                bool ours = l >= sl && streq(buf + l - sl, job_suffix);
                if (strstr(buf, ":memory:"))
                        mem = ours;
                if (strstr(buf, ":cpuset:"))
                        cpuset = ours;
                if (strneq(buf, "0::", 3))
                        uni = ours;
        }
        if (f)
                fclose(f);
        return cpus_ok && mem && uni && cpuset ? 0 : 10 + cpus_ok * 1 + mem * 2 + uni * 4;
}

static void test_attach(void) {
        CgApplied a;
        char suffix[256];
        Cgroup *g = make_group("scen/job", "1", 64 * MiB, 64, &a);
        CpuSet one = {0};
        cpuset_add(&one, 1);
        CHECK(cpuset_equal(&a.cpus, &one), "applied cpus are not {1}");
        CHECK(a.memory_max == 64 * MiB, "applied memory %llu", (unsigned long long)a.memory_max);
        CHECK(a.memory_enforced, "memory not enforced");
        CHECK(!a.swap_enforced || a.swap_max == 0, "swap %llu", (unsigned long long)a.swap_max);
        CHECK(a.pids_max == 64, "pids.max %llu", (unsigned long long)a.pids_max);
        CHECK(a.cpu_weight == 100, "weight %llu", (unsigned long long)a.cpu_weight);
        snprintf(suffix, sizeof suffix, "/corun/%s/scen/job", run_id);

        for (int mode = 0; mode < 2; mode++) {
                int p[2], q[2];
                CHECK(pipe2(p, O_CLOEXEC) == 0 && pipe2(q, O_CLOEXEC) == 0, "pipe");
                pid_t pid = spawn_in(g, mode == 0);
                if (pid == 0) {
                        close(q[1]); /* or the read below never sees EOF */
                        int rc = child_check_placement(suffix);
                        char c = 'r';
                        (void)!write(p[1], &c, 1);
                        (void)!read(q[0], &c, 1); /* until the parent has looked */
                        _exit(rc);
                }
                close(p[1]);
                close(q[0]);
                wait_pipe(p[0]);
                pid_t *pids = NULL;
                size_t n = 0;
                CHECK(cg_pids(g, &pids, &n) == 0 && n == 1 && pids[0] == pid, "cg_pids: %zu pids", n);
                free(pids);
                CHECK(cg_is_populated(g) == 1, "not populated");
                CgStats st;
                CHECK(cg_read_stats(g, &st) == 0, "stats");
                CHECK(st.pids_current == 1, "pids.current %llu", (unsigned long long)st.pids_current);
                CHECK(st.has_psi == cg_manager_has_psi(mgr), "psi");
                close(q[1]);
                int status;
                CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s child misplaced (status %d)",
                      mode == 0 ? "clone3" : "attach_self", WEXITSTATUS(status));
                close(p[0]);
        }
        CHECK(cg_is_populated(g) == 0, "still populated");
        CgStats st;
        CHECK(cg_read_stats(g, &st) == 0, "stats");
        CHECK(st.cpu_usage_usec > 0, "no cpu usage accounted");
        CHECK(cg_destroy(g) == 0, "destroy");
        check_gone(run_id, "scen/job");
        printf("ok attach: clone3 and attach_self land in cpus 1 and every hierarchy\n");
}

static void test_fork_bomb(void) {
        Cgroup *g = make_group("scen/bomb", NULL, 256 * MiB, 32, NULL);
        pid_t pid = spawn_in(g, true);
        if (pid == 0) {
                /* Every process keeps forking (at most 8 times each, so that a broken
                 * pids.max cannot take the machine down: 2^8 processes). */
                int made = 0, refused = 0;
                while (made < 8 && refused < 50) {
                        pid_t c = fork();
                        if (c == 0) {
                                made = 0;
                                refused = 0;
                                continue;
                        }
                        if (c > 0)
                                made++;
                        else
                                refused++;
                }
                for (;;)
                        pause();
        }
        CgStats st = {0};
        uint64_t until = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (now_usec(CLOCK_MONOTONIC) < until) {
                CHECK(cg_read_stats(g, &st) == 0, "stats");
                if (st.pids_events_max > 0)
                        break;
                cg_sleep_usec(10000);
        }
        CHECK(st.pids_events_max > 0, "pids.max never refused a fork");
        CHECK(st.pids_current <= 32, "pids.current %llu above 32", (unsigned long long)st.pids_current);
        int r = cg_kill(g);
        CHECK(r == 0, "cg_kill: %s", strerror(-r));
        CHECK(cg_is_populated(g) == 0, "bomb group still populated");
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "bomb status");
        CHECK(cg_destroy(g) == 0, "destroy");
        printf("ok fork bomb: stopped at pids.max 32 (%llu refusals), killed\n",
               (unsigned long long)st.pids_events_max);
}

static void test_oom(void) {
        Cgroup *g = make_group("scen/oom", NULL, 64 * MiB, LIMIT_MAX, NULL);
        pid_t pid = spawn_in(g, false);
        if (pid == 0) {
                size_t sz = 128 * MiB;
                char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        _exit(98);
                for (size_t i = 0; i < sz; i += 4096)
                        p[i] = 1;
                _exit(0); /* survived: the limit did not hold */
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "toucher was not OOM-killed (status 0x%x)",
              status);
        CgStats st;
        CHECK(cg_read_stats(g, &st) == 0, "stats");
        CHECK(st.events_oom_kill >= 1, "oom_kill %llu", (unsigned long long)st.events_oom_kill);
        CHECK(st.events_oom >= st.events_oom_kill, "oom < oom_kill");
        /* failcnt ("max") is not asserted: 6.x kernels leave it at 0 here even at the
         * limit (see docs/partitions.md). */
        CHECK(st.memory_peak > 32 * MiB && st.memory_peak <= 64 * MiB, "peak %llu",
              (unsigned long long)st.memory_peak);
        CHECK(cg_destroy(g) == 0, "destroy");
        printf("ok oom: 128M toucher killed under 64M, oom_kill=%llu failcnt=%llu peak=%lluM\n",
               (unsigned long long)st.events_oom_kill, (unsigned long long)st.events_max,
               (unsigned long long)(st.memory_peak / MiB));
}

/* memory.pressure_level notifications (the protector's signal on v1 without PSI): a child
 * re-reading a file through a page cache its limit cannot hold makes the kernel reclaim,
 * and the eventfd counts "low" notifications. */
static void test_pressure_events(const char *dir) {
        char file[4096];
        snprintf(file, sizeof file, "%s/pressure-file", dir);
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        CHECK(fd >= 0, "create %s: %m", file);
        static char block[1 << 20];
        memset(block, 'x', sizeof block);
        for (int i = 0; i < 48; i++)
                CHECK(write(fd, block, sizeof block) == (ssize_t)sizeof block, "write: %m");
        CHECK(fsync(fd) == 0, "fsync");
        /* Out of the page cache, so that the child's reads are charged to its group. */
        CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0, "fadvise");
        close(fd);

        Cgroup *g = make_group("scen/pressure", NULL, 16 * MiB, LIMIT_MAX, NULL);
        int efd;
        int r = cg_open_pressure_eventfd(g, "low", &efd);
        CHECK(r == 0, "cg_open_pressure_eventfd: %s", strerror(-r));
        pid_t pid = spawn_in(g, false);
        if (pid == 0) {
                for (int pass = 0; pass < 3; pass++) {
                        int in = open(file, O_RDONLY | O_CLOEXEC);
                        if (in < 0)
                                _exit(97);
                        while (read(in, block, sizeof block) > 0)
                                ;
                        close(in);
                }
                _exit(0);
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "reader failed (status 0x%x)", status);
        uint64_t n = 0;
        struct pollfd pfd = {.fd = efd, .events = POLLIN};
        CHECK(poll(&pfd, 1, 2000) == 1, "no memory pressure notification after reading 3 x 48 MiB under 16 MiB");
        CHECK(read(efd, &n, sizeof n) == (ssize_t)sizeof n && n > 0, "eventfd read");
        close(efd);
        CHECK(cg_destroy(g) == 0, "destroy");
        unlink(file);
        printf("ok pressure events: %llu notifications while re-reading 48 MiB under 16 MiB\n",
               (unsigned long long)n);
}

/* A job that leaves a daemon (double fork + setsid) behind; reports the daemon pid. */
static pid_t start_daemon(Cgroup *g, bool use_clone3, pid_t *ret_daemon) {
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        pid_t pid = spawn_in(g, use_clone3);
        if (pid == 0) {
                pid_t c = fork();
                if (c == 0) {
                        setsid();
                        pid_t d = fork();
                        if (d == 0) {
                                pid_t me = getpid();
                                (void)!write(p[1], &me, sizeof me);
                                for (;;)
                                        pause();
                        }
                        _exit(0);
                }
                waitpid(c, NULL, 0);
                _exit(0);
        }
        close(p[1]);
        pid_t daemon = 0;
        CHECK(read(p[0], &daemon, sizeof daemon) == sizeof daemon, "daemon pid");
        close(p[0]);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status), "job leader");
        *ret_daemon = daemon;
        return pid;
}

static bool proc_alive(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        bool alive = fgets(buf, sizeof buf, f) && strrchr(buf, ')') && strrchr(buf, ')')[2] != 'Z';
        fclose(f);
        return alive;
}

static void test_kill_daemon(void) {
        Cgroup *g = make_group("scen/daemon", NULL, 128 * MiB, 64, NULL);
        pid_t daemon;
        start_daemon(g, true, &daemon);
        CHECK(proc_alive(daemon), "daemon not running");
        CHECK(cg_is_populated(g) == 1, "daemon not in the group");
        CHECK(cg_signal(g, 0) == 1, "cg_signal did not reach the daemon");
        /* Freeze and thaw through the unified group (cgroup.events says when done). */
        char upath[512];
        snprintf(upath, sizeof upath, "%s", cg_group_path(g, CG_UNIFIED));
        for (int frozen = 1; frozen >= 0; frozen--) {
                CHECK(cg_freeze(g, frozen) == 0, "cg_freeze(%d)", frozen);
                uint64_t v = !frozen, until = now_usec(CLOCK_MONOTONIC) + USEC_PER_SEC;
                while (cg_read_keyed(upath, "cgroup.events", "frozen", &v) == 0 && v != (uint64_t)frozen &&
                       now_usec(CLOCK_MONOTONIC) < until)
                        cg_sleep_usec(1000);
                CHECK(v == (uint64_t)frozen, "cgroup.events frozen %llu", (unsigned long long)v);
        }
        int r = cg_kill(g);
        CHECK(r == 0, "cg_kill: %s", strerror(-r));
        CHECK(cg_is_populated(g) == 0, "still populated");
        CHECK(!proc_alive(daemon), "daemon %d survived", (int)daemon);
        CHECK(cg_destroy(g) == 0, "destroy");
        printf("ok kill: double-forked daemon %d killed\n", (int)daemon);
}

static void test_destroy_populated(void) {
        /* destroy must kill first when something is still inside. */
        Cgroup *g = make_group("scen/busy", NULL, 128 * MiB, 64, NULL);
        pid_t daemon;
        start_daemon(g, false, &daemon);
        CHECK(cg_destroy(g) == 0, "destroy of a populated group");
        CHECK(!proc_alive(daemon), "daemon survived destroy");
        check_gone(run_id, "scen/busy");
        printf("ok destroy: populated group killed and removed\n");
}

static void test_crashed_runner(void) {
        char id[64], scratch[192];
        int p[2];
        snprintf(id, sizeof id, "itest-crash-%d", (int)getpid());
        snprintf(scratch, sizeof scratch, "%s/corun-%s", tmpdir, id);
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");

        pid_t runner = fork();
        CHECK(runner >= 0, "fork");
        if (runner > 0)
                crash_runner = runner;
        if (runner == 0) {
                /* A runner as exec drives it: journal, manager, groups, scratch, a job with
                 * a daemon; then it is killed -9 without cleaning up. */
                Journal *j = NULL;
                CgroupManager *m = NULL;
                Cgroup *s = NULL, *g = NULL;
                CgroupManagerOptions o = {.backend = BACKEND_V1, .run_id = id};
                CgLimits l;
                cg_limits_init(&l);
                l.memory_max = 128 * MiB;
                if (journal_open(jdir, id, &j) < 0 || cg_manager_new(&o, j, &m, NULL) < 0 ||
                    cg_create(m, "s", &l, &s) < 0 || cg_create(m, "s/j", &l, &g) < 0 ||
                    journal_add(j, "dir", scratch) < 0 || mkdir(scratch, 0755) < 0)
                        _exit(3);
                char f[256];
                snprintf(f, sizeof f, "%s/file", scratch);
                close(open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
                mgr = m;
                pid_t daemon;
                start_daemon(g, true, &daemon);
                (void)!write(p[1], &daemon, sizeof daemon);
                for (;;)
                        pause();
        }
        close(p[1]);
        pid_t daemon = 0;
        CHECK(read(p[0], &daemon, sizeof daemon) == sizeof daemon, "runner did not get ready");
        close(p[0]);
        check_there(id, "s/j");
        CHECK(kill(runner, SIGKILL) == 0, "kill runner");
        CHECK(waitpid(runner, NULL, 0) == runner, "reap runner");
        crash_runner = 0;
        CHECK(proc_alive(daemon), "daemon should outlive the runner");
        CHECK(path_exists(scratch), "scratch");

        CleanupReport r;
        CHECK(journal_cleanup_dead(jdir, &r) == 0, "cleanup");
        for (char **e = r.errors; e && *e; e++)
                fprintf(stderr, "cleanup error: %s\n", *e);
        CHECK(!r.errors, "cleanup reported errors");
        CHECK(r.journals == 1, "journals %u", r.journals);
        CHECK(r.processes_killed >= 1, "killed %u", r.processes_killed);
        CHECK(r.dirs_removed == 1, "dirs %u", r.dirs_removed);
        /* run, s, s/j in each hierarchy used (corun/ itself only if it was free). */
        char used[CG_MAX_HIER][512];
        size_t n_used = group_dirs(id, NULL, used);
        CHECK(r.groups_removed >= 3 * n_used, "groups %u", r.groups_removed);
        unsigned groups = r.groups_removed, killed = r.processes_killed;
        cleanup_report_done(&r);
        CHECK(!proc_alive(daemon), "daemon survived cleanup");
        check_gone(id, NULL);
        CHECK(!path_exists(scratch), "scratch survived cleanup");
        char jf[384];
        snprintf(jf, sizeof jf, "%s/%s.journal", jdir, id);
        CHECK(!path_exists(jf), "journal survived cleanup");
        printf("ok crash: after kill -9 cleanup removed %u groups, 1 dir, killed %u\n", groups, killed);
}

int main(void) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (geteuid() != 0)
                skip("needs root to create cgroups");
        _cleanup_free_ char *why = NULL;
        if (cg_discover(NULL, &disc, &why) < 0)
                skip(why ? why : "no cgroups");
        if (disc.kind != BACKEND_V1)
                skip(disc.kind == BACKEND_V2 ? "host is cgroup v2 only (the v2 backend is a later issue)"
                                             : "no cgroup v1 hierarchies mounted at /sys/fs/cgroup");
        snprintf(tmpdir, sizeof tmpdir, "/tmp/corun-itest-XXXXXX");
        CHECK(mkdtemp(tmpdir), "mkdtemp");
        snprintf(jdir, sizeof jdir, "%s/journals", tmpdir);
        owner = getpid();
        atexit(cleanup_everything);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        snprintf(run_id, sizeof run_id, "itest-%d", (int)getpid());

        Journal *j = NULL;
        CHECK(journal_open(jdir, run_id, &j) == 0, "journal_open");
        CgroupManagerOptions o = {.backend = BACKEND_AUTO, .run_id = run_id};
        int r = cg_manager_new(&o, j, &mgr, &why);
        CHECK(r == 0, "cg_manager_new: %s: %s", strerror(-r), why ? why : "");
        if (cg_manager_backend(mgr) != BACKEND_V1)
                skip(why ? why : "cgroups not usable");
        printf("backend: %s\n", why);
        skipped = mgr->controllers_skipped;
        CHECK(cg_hier(mgr, CG_UNIFIED) >= 0, "no unified hierarchy on this host");
        check_there(run_id, NULL);

        CpuSet cpus, mems;
        CHECK(cg_manager_allowed(mgr, &cpus, &mems) == 0, "allowed");
        if (!cpuset_has(&cpus, 1))
                skip("CPU 1 is not available to this runner");
        CHECK(cg_manager_memory_limit(mgr) > 0, "memory limit");

        /* The scenario level: its own limits, the jobs below it. */
        CgApplied sa;
        Cgroup *scen = make_group("scen", NULL, 512 * MiB, LIMIT_MAX, &sa);
        CHECK(cpuset_equal(&sa.cpus, &cpus), "scenario did not inherit the runner's cpus");
        CHECK(sa.memory_max == 512 * MiB, "scenario memory");

        test_attach();
        test_fork_bomb();
        test_oom();
        test_pressure_events(tmpdir);
        test_kill_daemon();
        test_destroy_populated();

        CHECK(cg_destroy(scen) == 0, "destroy scen");
        check_gone(run_id, "scen");
        mgr = cg_manager_free(mgr);
        check_gone(run_id, NULL);
        CHECK(journal_close_clean(j) == 0, "journal_close_clean");
        printf("ok teardown: no directory left in any hierarchy\n");

        test_crashed_runner();
        cg_discovery_done(&disc);
        return 0;
}
