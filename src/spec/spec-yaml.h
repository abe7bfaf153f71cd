/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the scenario file's reader (spec-yaml.c: the file's structure, jobs,
 * scenarios) and spec-yaml-measure.c (a job's phases, metrics and timestamp): the
 * reading context and the error helpers that give every message its node's position. */

#include "spec/spec-node.h"

typedef struct Ctx {
        const char *file; /* Spec.file: positions borrow it */
        SpecError *e;
        Spec *s;
        size_t *job_index;      /* indexes of s->jobs sorted by name, for scenario lookups */
        size_t n_scenario_jobs; /* names listed by all scenarios so far */
} Ctx;

SpecPos yaml_pos_of(const Ctx *c, const Node *n);
/* "expected <what the key takes>, got <what the node is>" at the node. */
int yaml_fail_type(Ctx *c, const Node *val, SpecKey key);
/* An unknown key, with "did you mean" when a candidate is close. */
int yaml_fail_unknown(Ctx *c, const Node *key, const char *const *candidates, size_t n, const char *where,
                      const char *expected);
/* More than max entries in a list or mapping. */
int yaml_check_count(Ctx *c, const Node *val, SpecKey key, size_t max);

/* spec-yaml-measure.c: phases:, metrics: and timestamp: of a job (or defaults:). */
int yaml_parse_phases(Ctx *c, JobSpec *j, const Node *val);
int yaml_parse_metrics(Ctx *c, JobSpec *j, const Node *val);
int yaml_parse_timestamp(Ctx *c, JobSpec *j, const Node *val);
