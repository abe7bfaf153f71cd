/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the small parsers every flag and scenario key goes through: sizes,
 * durations, integers, signals, CPU lists (with a format/parse round trip) and the
 * timestamp formats of phase markers (the input's first line is the format, the rest the
 * text). Built and run by `make test-fuzz` (docs/fuzzing.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/markers.h"
#include "util/cpuset.h"
#include "util/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        uint64_t u;
        int64_t i;
        unsigned un;
        double d;
        int sig;
        (void)parse_size(s, &u);
        (void)parse_duration(s, &u);
        (void)parse_u64(s, &u);
        (void)parse_i64(s, &i);
        (void)parse_unsigned(s, &un);
        (void)parse_double(s, &d);
        (void)parse_signal(s, &sig);
        CpuSet a = {0}, b = {0};
        size_t off = 0;
        if (cpuset_parse(s, &a, &off) >= 0) {
                /* What we print we must read back as the same set. */
                char *text = cpuset_to_string(&a);
                if (text && (cpuset_parse(text, &b, NULL) < 0 || !cpuset_equal(&a, &b)))
                        abort();
                free(text);
        }
        char *nl = strchr(s, '\n');
        if (nl) {
                *nl = '\0';
                (void)marker_parse_time(nl + 1, s, &u);
        }
        free(s);
        return 0;
}
