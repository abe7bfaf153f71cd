/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the result.json reader (what `corun compare` and `corun report`
 * read, possibly written by another version or edited by hand): any input is read or
 * refused with a message, never a crash; what is read can be written again. Built and
 * run by `make test-fuzz` (docs/fuzzing.md). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "result/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/corun-fuzz-result.XXXXXX";
static char path[sizeof dir + 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (!path[0]) {
                if (!mkdtemp(dir))
                        abort();
                snprintf(path, sizeof path, "%s/result.json", dir);
        }
        fuzz_put_file(dir, "result.json", data, size);
        Result *r = NULL;
        char *err = NULL;
        int k = result_read(path, &r, &err);
        if (k < 0 && k != -ENOMEM && !err)
                abort(); /* every refusal says why */
        if (k >= 0 && result_write(r, dir) < 0)
                abort(); /* what was read can be written */
        result_free(r);
        free(err);
        return 0;
}
