/* SPDX-License-Identifier: MIT */
/* Writing the report files of a results directory: each through util's
 * write_file_atomic, the renderers writing to a stdio stream on its temporary file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report/csv.h"
#include "report/files.h"
#include "report/html.h"
#include "report/summary.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/macros.h"

typedef int (*RenderFn)(const Result *r, const char *dir, FILE *f);

static int render_html(const Result *r, const char *dir, FILE *f) {
        return report_html(r, dir, f);
}
static int render_md(const Result *r, const char *dir _unused_, FILE *f) {
        return report_summary_markdown(r, f);
}
static int render_csv(const Result *r, const char *dir _unused_, FILE *f) {
        return report_csv(r, f);
}

typedef struct Render {
        const Result *r;
        const char *dir;
        RenderFn fn;
} Render;

static int render(FILE *f, void *userdata) {
        const Render *rd = userdata;
        return rd->fn(rd->r, rd->dir, f);
}

int report_write_result(const Result *r, const char *dir, char **ret_error) {
        static const struct {
                const char *name;
                RenderFn fn;
        } files[] = {
                {"report.html", render_html},
                {"summary.md", render_md},
                {"results.csv", render_csv},
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                /* No fsync: these files are derived from result.json (which is synced) and
                 * `corun report DIR` makes them again; syncing three files cost about 0.8 ms
                 * of every run here. */
                int k = write_file_atomic_stream(dir, files[i].name, render, &(Render){r, dir, files[i].fn}, 0, false);
                if (k < 0)
                        return error_setf(ret_error, k, "cannot write %s/%s: %s", dir, files[i].name,
                                          strerror(-k));
        }
        return 0;
}

int report_write_all(const char *dir, char **ret_error) {
        Result *r = NULL;
        int k = result_read(dir, &r, ret_error);
        if (k < 0)
                return k;
        k = report_write_result(r, dir, ret_error);
        result_free(r);
        return k;
}
