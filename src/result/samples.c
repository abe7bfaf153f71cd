/* SPDX-License-Identifier: MIT */
/* The samples CSVs: their columns (one table each, for the header, the writer and the
 * reader), the writer the runner calls per memory sample and the readers of the report
 * (the memory series and the GPU series). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "result/samples.h"
#include "util/macros.h"
#include "util/parse.h"

/* Bound on what a (possibly huge or hostile) results directory makes the report read. */
#define SAMPLES_READ_MAX (64u << 20)

/* A CSV's columns as one table: the header, the writer and the reader all walk it. */
typedef struct SampleColumn {
        const char *name;
        bool real;      /* a double (seconds, a fraction), else a uint64_t count */
        int decimals;   /* for doubles written: ms for the time, us for CPU time */
        size_t offset;  /* in the row struct */
        bool required;  /* a file without this column is not one of ours */
        bool may_empty; /* an empty field is "none" (NAN / UINT64_MAX), not a bad line */
} SampleColumn;

typedef struct SampleTable {
        const SampleColumn *columns;
        size_t n_columns;
        size_t row_size;
} SampleTable;

static const SampleColumn columns[] = {
        {"t_s", true, 3, offsetof(SampleRow, t_s), true, false},
        {"memory_current_bytes", false, 0, offsetof(SampleRow, memory_current_bytes), true, false},
        {"pss_bytes", false, 0, offsetof(SampleRow, pss_bytes), false, false},
        {"rss_bytes", false, 0, offsetof(SampleRow, rss_bytes), false, false},
        {"cpu_usage_s", true, 6, offsetof(SampleRow, cpu_usage_s), false, false},
        {"pids", false, 0, offsetof(SampleRow, pids), false, false},
};
#define N_COLUMNS ELEMENTSOF(columns)
static const SampleTable memory_table = {columns, N_COLUMNS, sizeof(SampleRow)};

/* The runner's samples/<...>.gpu.csv (src/exec/gpu.c writes it): the first four columns
 * from the start, the limiter's three since issue 16 (empty where the job has none). */
static const SampleColumn gpu_columns[] = {
        {"t_s", true, 3, offsetof(GpuSampleRow, t_s), true, false},
        {"gpu", false, 0, offsetof(GpuSampleRow, gpu), true, false},
        {"sm_share", true, 4, offsetof(GpuSampleRow, sm_share), true, false},
        {"memory_bytes", false, 0, offsetof(GpuSampleRow, memory_bytes), true, false},
        {"share_target", true, 4, offsetof(GpuSampleRow, share_target), false, true},
        {"memory_limit_bytes", false, 0, offsetof(GpuSampleRow, memory_limit_bytes), false, true},
        {"throttled_s", true, 3, offsetof(GpuSampleRow, throttled_s), false, true},
};
static const SampleTable gpu_table = {gpu_columns, ELEMENTSOF(gpu_columns), sizeof(GpuSampleRow)};

static double *col_double(void *row, const SampleColumn *c) {
        return (double *)((char *)row + c->offset);
}
static uint64_t *col_u64(void *row, const SampleColumn *c) {
        return (uint64_t *)((char *)row + c->offset);
}

static int stream_error(void) {
        return errno > 0 ? -errno : -EIO;
}

int samples_write_header(FILE *f) {
        for (size_t c = 0; c < N_COLUMNS; c++)
                if (fputs(columns[c].name, f) == EOF || fputc(c + 1 < N_COLUMNS ? ',' : '\n', f) == EOF)
                        return stream_error();
        return 0;
}

int samples_write_row(FILE *f, const SampleRow *row) {
        /* One buffer, one fputs: the runner writes a row per job 10 times a second. */
        char buf[N_COLUMNS * 32];
        size_t at = 0;
        SampleRow *r = (SampleRow *)row;
        for (size_t c = 0; c < N_COLUMNS; c++) {
                const char *sep = c + 1 < N_COLUMNS ? "," : "\n";
                int k = columns[c].real ? snprintf(buf + at, sizeof buf - at, "%.*f%s", columns[c].decimals,
                                                   *col_double(r, &columns[c]), sep)
                                        : snprintf(buf + at, sizeof buf - at, "%" PRIu64 "%s",
                                                   *col_u64(r, &columns[c]), sep);
                if (k < 0 || (size_t)k >= sizeof buf - at)
                        return -EINVAL; /* a double of 300 digits: not a sample */
                at += (size_t)k;
        }
        return fputs(buf, f) == EOF ? stream_error() : 0;
}

/* Column of the table for each field of the header (-1: unknown, ignored). */
static int parse_header(const SampleTable *t, char *line, int **ret_map, size_t *ret_n) {
        size_t n = 1;
        for (const char *p = line; *p; p++)
                n += *p == ',';
        _cleanup_free_ int *map = calloc(n, sizeof *map);
        if (!map)
                return -ENOMEM;
        bool seen[16] = {false};
        assert(t->n_columns <= ELEMENTSOF(seen));
        size_t i = 0;
        for (char *p = line, *field; (field = strsep(&p, ",")); i++) {
                map[i] = -1;
                for (size_t c = 0; c < t->n_columns; c++)
                        if (streq(field, t->columns[c].name)) {
                                map[i] = (int)c;
                                seen[c] = true;
                        }
        }
        for (size_t c = 0; c < t->n_columns; c++)
                if (t->columns[c].required && !seen[c])
                        return -EBADMSG;
        *ret_map = TAKE_PTR(map);
        *ret_n = n;
        return 0;
}

static void row_init(const SampleTable *t, void *row) {
        for (size_t c = 0; c < t->n_columns; c++)
                if (t->columns[c].real)
                        *col_double(row, &t->columns[c]) = NAN;
                else
                        *col_u64(row, &t->columns[c]) = UINT64_MAX;
}

/* One data line (newline cut off) into row: exactly one valid value per header field. */
static bool parse_row(const SampleTable *t, char *line, const int *map, size_t n_fields, void *row) {
        row_init(t, row);
        size_t i = 0;
        for (char *p = line, *field; (field = strsep(&p, ",")); i++) {
                if (i >= n_fields)
                        return false;
                if (map[i] < 0)
                        continue;
                const SampleColumn *c = &t->columns[map[i]];
                if (!*field && c->may_empty)
                        continue;
                if (c->real) {
                        if (parse_double(field, col_double(row, c)) < 0 || !isfinite(*col_double(row, c)))
                                return false;
                } else if (parse_u64(field, col_u64(row, c)) < 0)
                        return false;
        }
        return i == n_fields;
}

static int table_read(const SampleTable *t, const char *path, void **ret_rows, size_t *ret_n) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_fclose_ FILE *f = fdopen(fd, "re");
        if (!f) {
                int r = -errno;
                close(fd);
                return r;
        }
        _cleanup_free_ char *line = NULL;
        _cleanup_free_ int *map = NULL;
        _cleanup_free_ char *rows = NULL;
        size_t cap = 0, n_fields = 0, n = 0, alloc = 0, total = 0;
        ssize_t len = getline(&line, &cap, f);
        if (len <= 0)
                return -ENODATA;
        line[strcspn(line, "\r\n")] = '\0';
        int r = parse_header(t, line, &map, &n_fields);
        if (r < 0)
                return r;
        while ((len = getline(&line, &cap, f)) > 0) {
                total += (size_t)len;
                if (total > SAMPLES_READ_MAX)
                        break;
                if (line[len - 1] != '\n')
                        break; /* torn: the writer was killed in the middle of it */
                line[len - 1] = '\0';
                if (n == alloc) {
                        alloc = alloc ? alloc * 2 : 256;
                        char *nr = reallocarray(rows, alloc, t->row_size);
                        if (!nr)
                                return -ENOMEM;
                        rows = nr;
                }
                if (parse_row(t, line, map, n_fields, rows + n * t->row_size))
                        n++;
        }
        if (ferror(f))
                return -EIO;
        *ret_rows = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}

int samples_read(const char *path, SampleRow **ret_rows, size_t *ret_n) {
        void *rows = NULL;
        int r = table_read(&memory_table, path, &rows, ret_n);
        if (r >= 0)
                *ret_rows = rows;
        return r;
}

int gpu_samples_read(const char *path, GpuSampleRow **ret_rows, size_t *ret_n) {
        void *rows = NULL;
        int r = table_read(&gpu_table, path, &rows, ret_n);
        if (r >= 0)
                *ret_rows = rows;
        return r;
}
