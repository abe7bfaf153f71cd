/* SPDX-License-Identifier: MIT */
#pragma once
/* What the file-reading fuzz targets share: the input written to dir/name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline void fuzz_put_file(const char *dir, const char *name, const uint8_t *data, size_t size) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        if (!f)
                abort(); /* the harness's own directory: a broken harness, not a finding */
        if (size && fwrite(data, 1, size, f) != size)
                abort();
        fclose(f);
}
