/* SPDX-License-Identifier: MIT */
#include "measure/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/macros.h"
#include "util/parse.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* status carries hex masks and lists of CPUs and memory nodes: on a machine with 1024
 * of each that alone is several KiB. */
#define STATUS_BUF_SIZE 16384
#define SMAPS_BUF_SIZE 4096
#define STAT_BUF_SIZE 2048
#define CHILDREN_BUF_SIZE 4096

/* A pid directory that disappears shows up as ENOENT on open, and as ESRCH from the read
 * of a process that exited after the open. Callers only need "gone". */
static int gone_or_errno(void) {
        return errno == ENOENT || errno == ESRCH ? -ESRCH : negative_errno();
}

static int open_pid_file(int proc_fd, pid_t pid, const char *name) {
        char path[64];
        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof path, "%d/%s", (int)pid, name);
        int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? gone_or_errno() : fd;
}

/* Reads <pid>/<name> below proc_fd into buf, NUL-terminated; returns the length. The
 * kernel's seq_file hands over the whole file in the first read when the buffer is big
 * enough, so this is one read in practice; the loop covers short reads. -EFBIG when the
 * file does not fit, rather than parsing a truncated file that lost its last fields. */
static int read_pid_file(int proc_fd, pid_t pid, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = open_pid_file(proc_fd, pid, name);
        if (fd < 0)
                return fd;
        size_t len = 0;
        for (;;) {
                char probe;
                char *dst = len < size - 1 ? buf + len : &probe;
                size_t want = len < size - 1 ? size - 1 - len : 1;
                ssize_t k = read(fd, dst, want);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return gone_or_errno();
                }
                if (k == 0)
                        break;
                if (dst == &probe)
                        return -EFBIG;
                len += (size_t)k;
        }
        buf[len] = '\0';
        return (int)len;
}

/* Finds the line "key:<blanks>value" and returns the value without surrounding blanks.
 * The key must be followed by ':' directly, so "Pss" does not match "Pss_Anon:". */
static bool find_field(char *buf, const char *key, char **ret_value, size_t *ret_len) {
        size_t kl = strlen(key);
        for (char *line = buf; *line;) {
                char *eol = strchrnul(line, '\n');
                if ((size_t)(eol - line) > kl && strneq(line, key, kl) && line[kl] == ':') {
                        char *v = line + kl + 1, *e = eol;
                        while (v < e && (*v == ' ' || *v == '\t'))
                                v++;
                        while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                                e--;
                        *ret_value = v;
                        *ret_len = (size_t)(e - v);
                        return true;
                }
                line = *eol ? eol + 1 : eol;
        }
        return false;
}

static int field_u64(char *buf, const char *key, uint64_t *ret) {
        char *v;
        size_t n;
        if (!find_field(buf, key, &v, &n))
                return -EBADMSG;
        return parse_u64_span(v, n, ret) < 0 ? -EBADMSG : 0;
}

/* smaps values are always "<n> kB" (kibibytes, whatever the unit says). */
static int field_kb(char *buf, const char *key, uint64_t *ret) {
        char *v;
        size_t n;
        uint64_t kb;
        if (!find_field(buf, key, &v, &n))
                return -ENOENT;
        if (n < 4 || memcmp(v + n - 3, " kB", 3) != 0)
                return -EBADMSG;
        n -= 3;
        while (n > 0 && v[n - 1] == ' ')
                n--;
        if (parse_u64_span(v, n, &kb) < 0 || kb > UINT64_MAX / 1024)
                return -EBADMSG;
        *ret = kb * 1024;
        return 0;
}

int proc_read_smaps_rollup(int proc_fd, pid_t pid, ProcMem *ret) {
        static const struct {
                const char *key;
                size_t offset;
                bool required;
        } fields[] = {
                {"Rss", offsetof(ProcMem, rss), true},
                {"Pss", offsetof(ProcMem, pss), true},
                {"Pss_Anon", offsetof(ProcMem, pss_anon), false},
                {"Pss_File", offsetof(ProcMem, pss_file), false},
                {"Pss_Shmem", offsetof(ProcMem, pss_shmem), false},
                {"Swap", offsetof(ProcMem, swap), false},
                {"SwapPss", offsetof(ProcMem, swap_pss), false},
        };
        char buf[SMAPS_BUF_SIZE];
        ProcMem m = {0};

        int r = read_pid_file(proc_fd, pid, "smaps_rollup", buf, sizeof buf);
        if (r < 0)
                return r;
        /* A process in the middle of exit can still be opened but its map is gone. */
        if (r == 0)
                return -ESRCH;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                r = field_kb(buf, fields[i].key, (uint64_t *)((char *)&m + fields[i].offset));
                if (r == -ENOENT && !fields[i].required)
                        continue;
                if (r < 0)
                        return -EBADMSG;
        }
        *ret = m;
        return 0;
}

int proc_sample_pids(int proc_fd, const pid_t *pids, size_t n, ProcMem *ret_sum) {
        ProcMem sum = {0};
        int counted = 0;

        for (size_t i = 0; i < n; i++) {
                ProcMem m;
                int r = proc_read_smaps_rollup(proc_fd, pids[i], &m);
                if (r == -ESRCH)
                        continue;
                if (r < 0)
                        return r;
                sum.rss += m.rss;
                sum.pss += m.pss;
                sum.pss_anon += m.pss_anon;
                sum.pss_file += m.pss_file;
                sum.pss_shmem += m.pss_shmem;
                sum.swap += m.swap;
                sum.swap_pss += m.swap_pss;
                if (counted < INT32_MAX)
                        counted++;
        }
        *ret_sum = sum;
        return counted;
}

static int field_cpuset(char *buf, const char *key, CpuSet *ret) {
        char *v;
        size_t n;
        if (!find_field(buf, key, &v, &n))
                return -EBADMSG;
        /* Terminate the value in place for the parser; buf is ours and read again after. */
        char saved = v[n];
        v[n] = '\0';
        int r = cpuset_parse(v, ret, NULL);
        v[n] = saved;
        return r < 0 ? -EBADMSG : 0;
}

int proc_read_status_cpus(int proc_fd, pid_t pid, CpuSet *ret_cpus, CpuSet *ret_mems) {
        char buf[STATUS_BUF_SIZE];
        CpuSet cpus, mems;

        int r = read_pid_file(proc_fd, pid, "status", buf, sizeof buf);
        if (r < 0)
                return r;
        r = field_cpuset(buf, "Cpus_allowed_list", &cpus);
        if (r < 0)
                return r;
        r = field_cpuset(buf, "Mems_allowed_list", &mems);
        if (r < 0)
                return r;
        if (ret_cpus)
                *ret_cpus = cpus;
        if (ret_mems)
                *ret_mems = mems;
        return 0;
}

int proc_read_stat_starttime(int proc_fd, pid_t pid, uint64_t *ret) {
        char buf[STAT_BUF_SIZE];
        uint64_t v;

        int r = read_pid_file(proc_fd, pid, "stat", buf, sizeof buf);
        if (r < 0)
                return r;
        /* Field 2 is the comm in parentheses, written raw: it may hold spaces, '(' and ')'
         * (even a newline). Only the last ')' in the line reliably ends it. */
        char *p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        p++;
        for (unsigned field = 3;; field++) {
                while (*p == ' ')
                        p++;
                size_t n = strcspn(p, " \n");
                if (n == 0)
                        return -EBADMSG;
                if (field == 22) {
                        if (parse_u64_span(p, n, &v) < 0)
                                return -EBADMSG;
                        *ret = v;
                        return 0;
                }
                p += n;
        }
}

typedef int (*TaskFn)(int proc_fd, pid_t pid, pid_t tid, void *userdata);

/* Calls fn for every thread of pid. Threads that end meanwhile (fn gives -ESRCH) are
 * skipped. Returns the number of threads fn succeeded for, -ESRCH if there was none. */
static int for_each_task(int proc_fd, pid_t pid, TaskFn fn, void *userdata) {
        _cleanup_(closedirp) DIR *d = NULL;
        int counted = 0;

        _cleanup_close_ int fd = open_pid_file(proc_fd, pid, "task");
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return gone_or_errno();
                        break;
                }
                unsigned tid;
                if (parse_unsigned(de->d_name, &tid) < 0 || tid == 0 || tid > INT32_MAX)
                        continue;
                int r = fn(proc_fd, pid, (pid_t)tid, userdata);
                if (r == -ESRCH)
                        continue;
                if (r < 0)
                        return r;
                counted++;
        }
        return counted > 0 ? counted : -ESRCH;
}

typedef struct CtxSw {
        uint64_t voluntary, involuntary;
} CtxSw;

static int task_ctxsw(int proc_fd, pid_t pid, pid_t tid, void *userdata) {
        CtxSw *sum = userdata;
        char name[48], buf[STATUS_BUF_SIZE];
        uint64_t v, iv;

        snprintf(name, sizeof name, "task/%d/status", (int)tid);
        int r = read_pid_file(proc_fd, pid, name, buf, sizeof buf);
        if (r < 0)
                return r;
        r = field_u64(buf, "voluntary_ctxt_switches", &v);
        if (r < 0)
                return r;
        r = field_u64(buf, "nonvoluntary_ctxt_switches", &iv);
        if (r < 0)
                return r;
        sum->voluntary += v;
        sum->involuntary += iv;
        return 0;
}

int proc_read_ctxsw(int proc_fd, pid_t pid, uint64_t *ret_voluntary, uint64_t *ret_involuntary) {
        CtxSw sum = {0};
        int r = for_each_task(proc_fd, pid, task_ctxsw, &sum);
        if (r < 0)
                return r;
        *ret_voluntary = sum.voluntary;
        *ret_involuntary = sum.involuntary;
        return 0;
}

typedef struct PidList {
        pid_t *pids;
        size_t n, cap;
        /* Pids already listed, one bit each: a pid seen twice (a process reparented
         * inside the tree during the walk, or reused) is neither listed nor walked again,
         * so the walk ends even if the snapshots form a cycle. */
        uint64_t *seen;
        size_t seen_words;
} PidList;

static void pid_list_done(PidList *l) {
        free(l->pids);
        free(l->seen);
}

static int pid_list_add(PidList *l, pid_t pid) {
        size_t word = (size_t)pid / 64;
        uint64_t bit = UINT64_C(1) << ((size_t)pid % 64);

        /* The kernel never hands out pids above PID_MAX_LIMIT; anything larger is garbage
         * and would make the bitmap huge. */
        if (pid <= 0 || pid > PROC_DESCENDANTS_MAX)
                return -EBADMSG;
        if (word >= l->seen_words) {
                size_t words = MAX(word + 1, l->seen_words * 2);
                uint64_t *s = realloc(l->seen, words * sizeof *s);
                if (!s)
                        return -ENOMEM;
                memset(s + l->seen_words, 0, (words - l->seen_words) * sizeof *s);
                l->seen = s;
                l->seen_words = words;
        }
        if (l->seen[word] & bit)
                return 0;
        if (l->n >= PROC_DESCENDANTS_MAX)
                return -E2BIG;
        if (l->n == l->cap) {
                size_t cap = MIN(l->cap ? l->cap * 2 : 64, (size_t)PROC_DESCENDANTS_MAX);
                pid_t *p = realloc(l->pids, cap * sizeof *p);
                if (!p)
                        return -ENOMEM;
                l->pids = p;
                l->cap = cap;
        }
        l->seen[word] |= bit;
        l->pids[l->n++] = pid;
        return 0;
}

/* Parses the space-separated pids of task/<tid>/children. A thread with many children
 * has a file larger than the buffer: a number cut at the end of a read is carried over
 * to the next. */
static int task_children(int proc_fd, pid_t pid, pid_t tid, void *userdata) {
        PidList *l = userdata;
        char name[48], buf[CHILDREN_BUF_SIZE];
        size_t have = 0;

        snprintf(name, sizeof name, "task/%d/children", (int)tid);
        _cleanup_close_ int fd = open_pid_file(proc_fd, pid, name);
        if (fd < 0)
                return fd;
        for (bool eof = false; !eof;) {
                ssize_t k = read(fd, buf + have, sizeof buf - 1 - have);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return gone_or_errno();
                }
                eof = k == 0;
                have += (size_t)k;
                buf[have] = '\0';
                char *p = buf;
                for (;;) {
                        p += strspn(p, " \n");
                        size_t n = strcspn(p, " \n");
                        if (n == 0 || (!p[n] && !eof))
                                break;
                        uint64_t child;
                        if (parse_u64_span(p, n, &child) < 0 || child > INT32_MAX)
                                return -EBADMSG;
                        int r = pid_list_add(l, (pid_t)child);
                        if (r < 0)
                                return r;
                        p += n;
                }
                have -= (size_t)(p - buf);
                if (have >= sizeof buf - 1)
                        return -EBADMSG;
                memmove(buf, p, have);
        }
        return 0;
}

static int cmp_pid(const void *a, const void *b) {
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

int proc_descendants(int proc_fd, pid_t root, pid_t **ret, size_t *n) {
        _cleanup_(pid_list_done) PidList l = {0};
        int r;

        if (root <= 0)
                return -EINVAL;
        /* The list is its own BFS queue: entry i's children are appended behind it. */
        r = pid_list_add(&l, root);
        for (size_t i = 0; r >= 0 && i < l.n; i++) {
                r = for_each_task(proc_fd, l.pids[i], task_children, &l);
                /* A descendant that exited after it was listed has no children to add. */
                if (r == -ESRCH && i > 0)
                        r = 0;
        }
        if (r < 0)
                return r;

        size_t count = l.n - 1;
        pid_t *pids = NULL;
        if (count > 0) {
                /* Drop the root in front. */
                memmove(l.pids, l.pids + 1, count * sizeof *l.pids);
                qsort(l.pids, count, sizeof *l.pids, cmp_pid);
                pids = TAKE_PTR(l.pids);
        }
        *ret = pids;
        *n = count;
        return 0;
}
