/* SPDX-License-Identifier: MIT */
/* Reading and writing cgroup files, listing, killing and removing groups by path.
 * Everything here works on plain directory paths so that the backends and the
 * journal's cleanup (which only has the paths a dead runner wrote down) share it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/time-util.h"

/* cgroup.procs of a fork bomb's group stays small (pids.max), but a big job may have
 * tens of thousands of threads' worth of pids: bound reads well above that. */
#define CG_READ_MAX (8u << 20)
#define CG_TREE_DEPTH_MAX 64

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)
#define _cleanup_closedir_ _cleanup_(closedirp)

void cg_sleep_usec(uint64_t usec) {
        struct timespec ts = {.tv_sec = (time_t)(usec / USEC_PER_SEC),
                              .tv_nsec = (long)(usec % USEC_PER_SEC * NSEC_PER_USEC)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int open_in(const char *dir, const char *name, int flags) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        return RET_NERRNO(open(p, flags | O_CLOEXEC | O_NOCTTY));
}

int cg_read(const char *dir, const char *name, char **ret) {
        _cleanup_close_ int fd = open_in(dir, name, O_RDONLY);
        if (fd < 0)
                return fd;
        /* A dozen cgroup files are read per job: one read each, not two. */
        return read_full_fd_filled(fd, CG_READ_MAX, ret, NULL);
}

int cg_read_u64(const char *dir, const char *name, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, name, &s);
        if (r < 0)
                return r;
        /* pids.max and cgroup2 limits say "max" for no limit. */
        if (streq(s, "max\n") || streq(s, "max")) {
                *ret = LIMIT_MAX;
                return 0;
        }
        return parse_u64(s, ret);
}

int cg_read_keys(const char *dir, const char *name, const CgKey *keys, size_t n) {
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, name, &s), found = 0;
        if (r < 0)
                return r;
        for (char *line = s, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                for (size_t i = 0; i < n; i++) {
                        size_t kl = strlen(keys[i].key);
                        if (!strneq(line, keys[i].key, kl) || line[kl] != ' ')
                                continue;
                        const char *v = line + kl + 1;
                        if (keys[i].psi_total) {
                                v = strstr(v, "total=");
                                if (!v)
                                        break;
                                v += 6;
                        }
                        if (parse_u64(v, keys[i].ret) >= 0)
                                found++;
                        break;
                }
        }
        return found;
}

int cg_read_keyed(const char *dir, const char *name, const char *key, uint64_t *ret) {
        int r = cg_read_keys(dir, name, &(CgKey){key, ret}, 1);
        return r < 0 ? r : r == 0 ? -ENODATA : 0;
}

int cg_read_psi_total(const char *dir, const char *name, const char *which, uint64_t *ret) {
        int r = cg_read_keys(dir, name, &(CgKey){which, ret, true}, 1);
        return r < 0 ? r : r == 0 ? -ENODATA : 0;
}

int cg_write(const char *dir, const char *name, const char *value) {
        _cleanup_close_ int fd = open_in(dir, name, O_WRONLY);
        if (fd < 0)
                return fd;
        size_t n = strlen(value);
        ssize_t k;
        do
                k = write(fd, value, n);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        return (size_t)k == n ? 0 : -EIO;
}

int cg_write_u64(const char *dir, const char *name, uint64_t v) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
        return cg_write(dir, name, buf);
}

bool cg_exists(const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return false;
        return access(p, F_OK) == 0;
}

bool cg_path_is_cgroupfs(const char *path, bool *ret_cgroup2) {
        struct statfs sf;
        if (statfs(path, &sf) < 0)
                return false;
        if (ret_cgroup2)
                *ret_cgroup2 = sf.f_type == CGROUP2_SUPER_MAGIC;
        return sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC;
}

static int pid_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

/* Calls fn for every child group (subdirectory) of dir; stops at the first error. A
 * vanished dir has no children. */
static int foreach_subdir(const char *dir, int (*fn)(const char *sub, void *ud), void *ud) {
        /* kernfs (cgroupfs) keeps a directory's link count at 2 + its subdirectories, as
         * most file systems do: a count of 2 says "no child group" in one stat instead of
         * a listing (a job's group is checked and removed at every job's end). A file
         * system that does not count ("1") is listed. */
        struct stat st;
        if (stat(dir, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode) && st.st_nlink == 2)
                return 0;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                int r = fn(sub, ud);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Appends the pids in dir/cgroup.procs to *pids (room for *cap). */
static int read_procs(const char *dir, pid_t **pids, size_t *n, size_t *cap) {
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, "cgroup.procs", &s);
        if (r == -ENOENT || r == -ENODEV)
                return 0; /* the group went away meanwhile: nothing in it */
        if (r < 0)
                return r;
        for (char *line = s, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                unsigned v;
                if (parse_unsigned(line, &v) < 0 || v == 0 || v > INT32_MAX)
                        continue;
                if (*n == *cap) {
                        size_t nc = *cap ? *cap * 2 : 64;
                        pid_t *np = realloc(*pids, nc * sizeof(pid_t));
                        if (!np)
                                return -ENOMEM;
                        *pids = np;
                        *cap = nc;
                }
                (*pids)[(*n)++] = (pid_t)v;
        }
        return 0;
}

typedef struct PidsWalk {
        unsigned depth;
        pid_t **pids;
        size_t *n, cap;
} PidsWalk;

static int read_pids_rec(const char *dir, void *ud) {
        PidsWalk *w = ud;
        int r = read_procs(dir, w->pids, w->n, &w->cap);
        if (r < 0)
                return r;
        if (w->depth >= CG_TREE_DEPTH_MAX)
                return -ELOOP;
        w->depth++;
        r = foreach_subdir(dir, read_pids_rec, w);
        w->depth--;
        return r;
}

int cg_read_pids_tree(const char *dir, pid_t **pids, size_t *n) {
        PidsWalk w = {.pids = pids, .n = n, .cap = *n};
        int r = read_pids_rec(dir, &w);
        if (r < 0)
                return r;
        if (*n > 1) {
                qsort(*pids, *n, sizeof(pid_t), pid_cmp);
                size_t k = 1;
                for (size_t i = 1; i < *n; i++)
                        if ((*pids)[i] != (*pids)[k - 1])
                                (*pids)[k++] = (*pids)[i];
                *n = k;
        }
        return 0;
}

int cg_path_populated(const char *dir) {
        bool v2 = false;
        errno = 0;
        if (!cg_path_is_cgroupfs(dir, &v2))
                return errno == ENOENT ? 0 : errno ? -errno : -EMEDIUMTYPE;
        if (v2) {
                uint64_t p;
                int r = cg_read_keyed(dir, "cgroup.events", "populated", &p);
                if (r == -ENOENT)
                        return 0;
                return r < 0 ? r : p != 0;
        }
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cg_read_pids_tree(dir, &pids, &n);
        return r < 0 ? r : n > 0;
}

static bool freezer_is(const char *dir, const char *state) {
        _cleanup_free_ char *s = NULL;
        if (cg_read(dir, "freezer.state", &s) < 0)
                return false;
        s[strcspn(s, "\n")] = '\0';
        return streq(s, state);
}

/* v1 freezer: freezing is asynchronous (FREEZING, then FROZEN). Waiting a little
 * keeps a fork bomb from outrunning the kill pass; we kill anyway if it takes longer. */
static void freeze_v1(const char *const *dirs, size_t n, bool frozen) {
        for (size_t i = 0; i < n; i++)
                (void)cg_write(dirs[i], "freezer.state", frozen ? "FROZEN" : "THAWED");
        if (!frozen)
                return;
        uint64_t until = now_usec(CLOCK_MONOTONIC) + 100 * USEC_PER_MSEC;
        for (size_t i = 0; i < n; i++)
                while (!freezer_is(dirs[i], "FROZEN") && now_usec(CLOCK_MONOTONIC) < until)
                        cg_sleep_usec(500);
}

/* Waits a short while for a change: kernfs wakes POLLPRI on cgroup.events when
 * "populated" flips, so a cgroup2 group needs no sleep-polling. */
static void wait_a_little(const char *v2dir, uint64_t usec) {
        if (v2dir) {
                _cleanup_close_ int fd = open_in(v2dir, "cgroup.events", O_RDONLY);
                if (fd >= 0) {
                        char buf[256];
                        ssize_t _unused_ k = read(fd, buf, sizeof buf);
                        struct pollfd p = {.fd = fd, .events = POLLPRI};
                        (void)poll(&p, 1, (int)(usec / USEC_PER_MSEC) + 1);
                        return;
                }
        }
        cg_sleep_usec(usec);
}

static int count_new(pid_t **seen, size_t *n_seen, const pid_t *pids, size_t n) {
        size_t before = *n_seen;
        pid_t *ns = realloc(*seen, (before + n + 1) * sizeof(pid_t));
        if (!ns)
                return -ENOMEM;
        *seen = ns;
        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                for (size_t k = 0; k < before && !dup; k++)
                        dup = ns[k] == pids[i];
                if (!dup)
                        ns[(*n_seen)++] = pids[i];
        }
        return 0;
}

int cg_kill_paths(const char *const *paths, size_t n, uint64_t timeout_usec, unsigned *ret_killed) {
        _cleanup_free_ bool *is2 = calloc(n + 1, sizeof(bool));
        _cleanup_free_ const char **freezers = calloc(n + 1, sizeof(char *));
        size_t n_freezers = 0;
        _cleanup_free_ pid_t *seen = NULL;
        size_t n_seen = 0;
        int r;

        if (!is2 || !freezers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!cg_path_is_cgroupfs(paths[i], &is2[i]))
                        continue;
                if (!is2[i] && cg_exists(paths[i], "freezer.state"))
                        freezers[n_freezers++] = paths[i];
        }

        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec, pause = 1000;
        for (;;) {
                _cleanup_free_ pid_t *v1pids = NULL;
                size_t n_v1 = 0;
                const char *busy2 = NULL;
                bool busy = false;

                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ pid_t *p = NULL;
                        size_t k = 0;
                        if (!is2[i])
                                continue;
                        r = cg_read_pids_tree(paths[i], &p, &k);
                        if (r < 0)
                                return r;
                        if (k == 0)
                                continue;
                        if ((r = count_new(&seen, &n_seen, p, k)) < 0)
                                return r;
                        /* cgroup.kill (5.14+) kills the whole subtree atomically, forks
                         * in flight included. */
                        if (cg_write(paths[i], "cgroup.kill", "1") >= 0)
                                continue;
                        /* Older kernels (or a cgroup.kill that refuses writes): freeze
                         * (5.2+) so nothing forks between reading the list and killing it;
                         * a frozen task still dies of SIGKILL. A child forked while the
                         * freeze spreads is frozen too and found by the next pass, which
                         * goes on until the group is empty. tests/vm/old-kernel.sh. */
                        bool frozen = cg_write(paths[i], "cgroup.freeze", "1") >= 0;
                        if (frozen) {
                                free(p);
                                p = NULL;
                                k = 0;
                                if ((r = cg_read_pids_tree(paths[i], &p, &k)) < 0) {
                                        /* Never leave a job frozen behind an error. */
                                        (void)cg_write(paths[i], "cgroup.freeze", "0");
                                        return r;
                                }
                        }
                        for (size_t m = 0; m < k; m++)
                                (void)kill(p[m], SIGKILL);
                        if (frozen)
                                (void)cg_write(paths[i], "cgroup.freeze", "0");
                }
                for (size_t i = 0; i < n; i++)
                        if (!is2[i] && (r = cg_read_pids_tree(paths[i], &v1pids, &n_v1)) < 0)
                                return r;
                if (n_v1 > 0) {
                        /* Frozen tasks cannot fork between our read and our kill; they
                         * die as soon as they are thawed. */
                        freeze_v1(freezers, n_freezers, true);
                        free(v1pids);
                        v1pids = NULL;
                        n_v1 = 0;
                        r = 0;
                        for (size_t i = 0; i < n; i++)
                                if (!is2[i] && (r = cg_read_pids_tree(paths[i], &v1pids, &n_v1)) < 0)
                                        break;
                        for (size_t m = 0; m < n_v1; m++)
                                (void)kill(v1pids[m], SIGKILL);
                        freeze_v1(freezers, n_freezers, false);
                        if (r < 0)
                                return r;
                        if ((r = count_new(&seen, &n_seen, v1pids, n_v1)) < 0)
                                return r;
                }

                for (size_t i = 0; i < n; i++) {
                        r = cg_path_populated(paths[i]);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                busy = true;
                                if (is2[i] && !busy2)
                                        busy2 = paths[i];
                        }
                }
                if (!busy)
                        break;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -EBUSY;
                wait_a_little(busy2, pause);
                pause = MIN(pause * 2, 20 * USEC_PER_MSEC);
        }
        if (ret_killed)
                *ret_killed = (unsigned)n_seen;
        return 0;
}

typedef struct RemoveChildren {
        const char *keep;
        int error;
} RemoveChildren;

static int remove_child(const char *sub, void *ud) {
        RemoveChildren *rc = ud;
        const char *base = strrchr(sub, '/') + 1;
        if (rc->keep && streq(base, rc->keep))
                return 0;
        /* Go on with the others: each one removed is one less left behind. */
        int r = cg_kill_paths(&sub, 1, CG_KILL_TIMEOUT_USEC, NULL);
        if (r >= 0)
                r = cg_rmdir_tree(sub);
        if (r < 0 && rc->error >= 0)
                rc->error = r;
        return 0;
}

int cg_remove_children(const char *dir, const char *keep) {
        RemoveChildren rc = {.keep = keep};
        int r = foreach_subdir(dir, remove_child, &rc);
        return r < 0 ? r : rc.error;
}

void cg_read_unified_stats(const char *p, bool psi, CgStats *s) {
        /* One read per file, every key taken from it (these files are read for every
         * job; reading a file once per key tripled the cost). */
        const CgKey cpu[] = {{"usage_usec", &s->cpu_usage_usec},
                             {"user_usec", &s->cpu_user_usec},
                             {"system_usec", &s->cpu_system_usec},
                             /* with the cpu controller (v2); v1 reads its own below */
                             {"nr_throttled", &s->nr_throttled},
                             {"throttled_usec", &s->throttled_usec}};
        (void)cg_read_keys(p, "cpu.stat", cpu, ELEMENTSOF(cpu));
        if (!psi) {
                s->has_psi = false;
                return;
        }
        const CgKey pcpu[] = {{"some", &s->psi_cpu_some_usec, true}};
        const CgKey pmem[] = {{"some", &s->psi_mem_some_usec, true}, {"full", &s->psi_mem_full_usec, true}};
        const CgKey pio[] = {{"some", &s->psi_io_some_usec, true}, {"full", &s->psi_io_full_usec, true}};
        s->has_psi = cg_read_keys(p, "cpu.pressure", pcpu, ELEMENTSOF(pcpu)) == (int)ELEMENTSOF(pcpu) &&
                     cg_read_keys(p, "memory.pressure", pmem, ELEMENTSOF(pmem)) == (int)ELEMENTSOF(pmem) &&
                     cg_read_keys(p, "io.pressure", pio, ELEMENTSOF(pio)) == (int)ELEMENTSOF(pio);
}

typedef struct RmdirWalk {
        unsigned depth;
        uint64_t deadline;
} RmdirWalk;

static int rmdir_rec(const char *path, void *ud) {
        RmdirWalk *w = ud;
        /* Most groups have no child group: one rmdir, no listing. The kernel refuses
         * (EBUSY) a group with children or processes; then the walk below. */
        if (rmdir(path) == 0 || errno == ENOENT)
                return 0;
        if (errno != EBUSY && errno != ENOTEMPTY)
                return -errno;
        if (w->depth >= CG_TREE_DEPTH_MAX)
                return -ELOOP;
        w->depth++;
        int r = foreach_subdir(path, rmdir_rec, w);
        w->depth--;
        if (r < 0)
                return r;
        /* A task that was just killed may still pin the group for a moment. */
        for (uint64_t pause = 500;; pause = MIN(pause * 2, 10 * USEC_PER_MSEC)) {
                if (rmdir(path) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || now_usec(CLOCK_MONOTONIC) >= w->deadline)
                        return -errno;
                cg_sleep_usec(pause);
        }
}

int cg_rmdir_tree(const char *path) {
        return rmdir_rec(path, &(RmdirWalk){.deadline = now_usec(CLOCK_MONOTONIC) + USEC_PER_SEC});
}

/* ---- cgroup v2 controller lists (cgroup-v2.c, cgroup-probe.c) ---- */

static const char *const v2_names[CG_V2_N] = {"cpuset", "cpu", "io", "memory", "pids"};

const char *cg_v2_controller_name(unsigned bit) {
        return bit < CG_V2_N ? v2_names[bit] : NULL;
}

unsigned cg_v2_controllers_in(const char *dir, const char *file) {
        _cleanup_free_ char *s = NULL;
        unsigned mask = 0;
        if (cg_read(dir, file, &s) < 0)
                return 0;
        char *save = NULL;
        for (char *t = strtok_r(s, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
                for (unsigned b = 0; b < CG_V2_N; b++)
                        if (streq(t, v2_names[b]))
                                mask |= 1u << b;
        return mask;
}

char *cg_v2_mask_to_string(unsigned mask) {
        char buf[64] = "";
        for (unsigned b = 0; b < CG_V2_N; b++)
                if (mask & (1u << b)) {
                        if (*buf)
                                strcat(buf, " ");
                        strcat(buf, v2_names[b]);
                }
        return strdup(buf);
}

bool cg_v2_is_root(const char *dir) {
        return !cg_exists(dir, "cgroup.type");
}

int cg_v2_other_procs(const char *dir, pid_t *ret_first) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, cap = 0;
        int r = read_procs(dir, &pids, &n, &cap), others = 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (pids[i] != getpid() && others++ == 0 && ret_first)
                        *ret_first = pids[i];
        return others;
}

uint64_t cg_weight_to_shares(uint64_t weight) {
        /* The same linear map the kernel and systemd use between the two scales. */
        uint64_t s = weight * 1024 / 100;
        return MAX(MIN(s, UINT64_C(262144)), UINT64_C(2));
}

uint64_t cg_shares_to_weight(uint64_t shares) {
        uint64_t w = (shares * 100 + 512) / 1024;
        return MAX(MIN(w, UINT64_C(10000)), UINT64_C(1));
}

bool cg_v1_memsw_first(uint64_t cur_limit, uint64_t new_memsw) {
        /* limit <= memsw must hold after each write: if the new memsw is at least the
         * current limit it can go first (then the limit, which stays below it);
         * otherwise the limit has to come down first. */
        return new_memsw >= cur_limit;
}
