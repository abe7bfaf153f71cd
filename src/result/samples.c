/* SPDX-License-Identifier: MIT */
/* The samples CSV: its columns (one table, for the header, the writer and the reader),
 * the writer the runner calls per sample and the reader of the report. */
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

typedef struct SampleColumn {
        const char *name;
        bool seconds;  /* a double in seconds, else a uint64_t count */
        int decimals;  /* for seconds: ms for the time, us for CPU time */
        size_t offset; /* in SampleRow */
} SampleColumn;

static const SampleColumn columns[] = {
        {"t_s", true, 3, offsetof(SampleRow, t_s)},
        {"memory_current_bytes", false, 0, offsetof(SampleRow, memory_current_bytes)},
        {"pss_bytes", false, 0, offsetof(SampleRow, pss_bytes)},
        {"rss_bytes", false, 0, offsetof(SampleRow, rss_bytes)},
        {"cpu_usage_s", true, 6, offsetof(SampleRow, cpu_usage_s)},
        {"pids", false, 0, offsetof(SampleRow, pids)},
};
#define N_COLUMNS ELEMENTSOF(columns)
/* The columns a row cannot be drawn without. */
#define COL_T_S 0
#define COL_MEMORY 1

static double *col_double(SampleRow *row, size_t c) {
        return (double *)((char *)row + columns[c].offset);
}
static uint64_t *col_u64(SampleRow *row, size_t c) {
        return (uint64_t *)((char *)row + columns[c].offset);
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
                int k = columns[c].seconds
                                ? snprintf(buf + at, sizeof buf - at, "%.*f%s", columns[c].decimals,
                                           *col_double(r, c), sep)
                                : snprintf(buf + at, sizeof buf - at, "%" PRIu64 "%s", *col_u64(r, c), sep);
                if (k < 0 || (size_t)k >= sizeof buf - at)
                        return -EINVAL; /* a double of 300 digits: not a sample */
                at += (size_t)k;
        }
        return fputs(buf, f) == EOF ? stream_error() : 0;
}

/* Column of the table for each field of the header (-1: unknown, ignored). */
static int parse_header(char *line, int **ret_map, size_t *ret_n) {
        size_t n = 1;
        for (const char *p = line; *p; p++)
                n += *p == ',';
        _cleanup_free_ int *map = calloc(n, sizeof *map);
        if (!map)
                return -ENOMEM;
        bool have_t = false, have_mem = false;
        size_t i = 0;
        for (char *p = line, *field; (field = strsep(&p, ",")); i++) {
                map[i] = -1;
                for (size_t c = 0; c < N_COLUMNS; c++)
                        if (streq(field, columns[c].name)) {
                                map[i] = (int)c;
                                have_t |= c == COL_T_S;
                                have_mem |= c == COL_MEMORY;
                        }
        }
        if (!have_t || !have_mem)
                return -EBADMSG;
        *ret_map = TAKE_PTR(map);
        *ret_n = n;
        return 0;
}

static void row_init(SampleRow *row) {
        for (size_t c = 0; c < N_COLUMNS; c++)
                if (columns[c].seconds)
                        *col_double(row, c) = NAN;
                else
                        *col_u64(row, c) = UINT64_MAX;
}

/* One data line (newline cut off) into row: exactly one valid value per header field. */
static bool parse_row(char *line, const int *map, size_t n_fields, SampleRow *row) {
        row_init(row);
        size_t i = 0;
        for (char *p = line, *field; (field = strsep(&p, ",")); i++) {
                if (i >= n_fields)
                        return false;
                int c = map[i];
                if (c < 0)
                        continue;
                if (columns[c].seconds) {
                        if (parse_double(field, col_double(row, (size_t)c)) < 0 ||
                            !isfinite(*col_double(row, (size_t)c)))
                                return false;
                } else if (parse_u64(field, col_u64(row, (size_t)c)) < 0)
                        return false;
        }
        return i == n_fields;
}

int samples_read(const char *path, SampleRow **ret_rows, size_t *ret_n) {
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
        _cleanup_free_ SampleRow *rows = NULL;
        size_t cap = 0, n_fields = 0, n = 0, alloc = 0, total = 0;
        ssize_t len = getline(&line, &cap, f);
        if (len <= 0)
                return -ENODATA;
        line[strcspn(line, "\r\n")] = '\0';
        int r = parse_header(line, &map, &n_fields);
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
                        SampleRow *nr = realloc(rows, alloc * sizeof *nr);
                        if (!nr)
                                return -ENOMEM;
                        rows = nr;
                }
                if (parse_row(line, map, n_fields, &rows[n]))
                        n++;
        }
        if (ferror(f))
                return -EIO;
        *ret_rows = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}
