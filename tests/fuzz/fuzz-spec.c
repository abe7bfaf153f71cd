/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the scenario file reader (spec_parse_yaml), and for quick mode
 * with a scenario file (spec_from_cli), which lays flags over the parsed file.
 * Built and run by `make test-fuzz` (docs/fuzzing.md); seeds in tests/fuzz/corpus/spec/.
 *
 * Any crash, leak, sanitizer report or a failure without a message is a bug. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, Spec *s, SpecError *e) {
        if (r < 0 && r != -ENOMEM && !e->message)
                abort(); /* every refusal must say why */
        if (r >= 0 && (!s || s->n_scenarios == 0 || s->n_jobs == 0 || !s->name))
                abort(); /* a spec always has jobs, a scenario and a name */
        spec_free(s);
        spec_error_done(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Spec *s = NULL;
        SpecError e = {0};

        int r = spec_parse_yaml("fuzz.yaml", (const char *)data, size, &s, &e);
        check(r, s, &e);

        /* The same text through the command line, with flags that touch every job and
         * every scenario. */
        char *argv[] = {"run",   "-m",  "1G",         "-c", "2",      "--shared",  "0-1",
                        "--env", "A=1", "--replicas", "2",  "--solo", "fuzz.yaml", NULL};
        SpecCliInput in = {.argc = 13, .argv = argv, .file_text = (const char *)data, .file_len = size};
        s = NULL;
        r = spec_from_cli(&in, &s, &e);
        check(r, s, &e);
        return 0;
}
