/* SPDX-License-Identifier: MIT */
/* A job's measurement keys in the scenario file: phases: (markers in its output),
 * metrics: (numbers captured from it) and timestamp: (its own clock in its log lines). */
#include <stdlib.h>
#include <string.h>

#include "spec/spec-yaml.h"
#include "util/parse.h"

static void phases_clear(JobSpec *j) {
        for (size_t i = 0; i < j->n_phases; i++) {
                free(j->phases[i].name);
                free(j->phases[i].start);
                free(j->phases[i].end);
        }
        free(j->phases);
        j->phases = NULL;
        j->n_phases = 0;
}

static void metrics_clear(JobSpec *j) {
        for (size_t i = 0; i < j->n_metrics; i++) {
                free(j->metrics[i].name);
                free(j->metrics[i].pattern);
        }
        free(j->metrics);
        j->metrics = NULL;
        j->n_metrics = 0;
}

/* A name that goes into result.json and CSV headers (phase, metric). */
static int check_item_name(Ctx *c, const Node *at, const char *what, const char *name) {
        char q[SPEC_QUOTE_MAX];
        if (spec_name_is_valid(name))
                return 0;
        SpecPos pos = yaml_pos_of(c, at);
        return spec_fail(c->e, &pos,
                         "%s name %s may only hold letters, digits, '_', '.' and '-' (at most %d)", what,
                         spec_quote(name, q, sizeof q), SPEC_MAX_NAME);
}

/* A PCRE2 pattern is compiled later (measure/); here it only has to be a non-empty string. */
static int pattern_of(Ctx *c, const Node *val, const char *what, char **ret) {
        char d[SPEC_QUOTE_MAX];
        if (val->type != NODE_SCALAR || node_is_null(val) || !*val->value) {
                SpecPos pos = yaml_pos_of(c, val);
                return spec_fail(c->e, &pos, "%s: expected a regular expression, got %s", what,
                                 val->type == NODE_SCALAR && !node_is_null(val)
                                         ? "an empty string"
                                         : node_describe(val, d, sizeof d));
        }
        *ret = strdup(val->value);
        return *ret ? 0 : -ENOMEM;
}

static int phase_add(Ctx *c, JobSpec *j, const Node *at, const char *name, const Node *start,
                     const Node *end) {
        for (size_t i = 0; i < j->n_phases; i++)
                if (streq(j->phases[i].name, name)) {
                        SpecPos pos = yaml_pos_of(c, at);
                        return spec_fail(c->e, &pos, "phases: duplicate phase name '%s'", name);
                }
        int r = check_item_name(c, at, "phase", name);
        if (r < 0)
                return r;
        PhaseSpec p = {.pos = yaml_pos_of(c, at)};
        if (!(p.name = strdup(name)))
                return -ENOMEM;
        if ((start && (r = pattern_of(c, start, "phases: start", &p.start)) < 0) ||
            (end && (r = pattern_of(c, end, "phases: end", &p.end)) < 0)) {
                free(p.name);
                free(p.start);
                return r;
        }
        j->phases[j->n_phases++] = p;
        return 0;
}

/* {start: re, end: re}, or just the start pattern. */
static int phase_from_map_value(Ctx *c, JobSpec *j, const Node *k, const Node *v) {
        static const char *const keys[] = {"start", "end"};
        if (v->type == NODE_SCALAR)
                return phase_add(c, j, k, k->value, v, NULL);
        if (v->type != NODE_MAP || v->n == 0) {
                char d[SPEC_QUOTE_MAX];
                SpecPos pos = yaml_pos_of(c, v);
                return spec_fail(c->e, &pos,
                                 "phases: expected {start: regex, end: regex} for phase '%s', got %s",
                                 k->value,
                                 v->n == 0 && v->type == NODE_MAP ? "an empty mapping"
                                                                  : node_describe(v, d, sizeof d));
        }
        for (size_t i = 0; i < v->n; i++)
                if (!streq(node_key(v, i)->value, "start") && !streq(node_key(v, i)->value, "end"))
                        return yaml_fail_unknown(c, node_key(v, i), keys, 2, "a phase", "start and end");
        return phase_add(c, j, k, k->value, node_get(v, "start"), node_get(v, "end"));
}

int yaml_parse_phases(Ctx *c, JobSpec *j, const Node *val) {
        int r;
        if (val->type != NODE_MAP && val->type != NODE_SEQ)
                return yaml_fail_type(c, val, KEY_PHASES);
        r = yaml_check_count(c, val, KEY_PHASES, SPEC_MAX_PHASES);
        if (r < 0)
                return r;
        phases_clear(j);
        j->phases = calloc(MAX(val->n, (size_t)1), sizeof(PhaseSpec));
        if (!j->phases)
                return -ENOMEM;
        for (size_t i = 0; i < val->n; i++) {
                if (val->type == NODE_MAP) {
                        r = phase_from_map_value(c, j, node_key(val, i), node_value(val, i));
                } else {
                        /* Short form: each pattern starts the next phase. */
                        const Node *item = val->items[i];
                        if (item->type == NODE_SCALAR) {
                                char name[32];
                                snprintf(name, sizeof name, "phase%zu", i + 1);
                                r = phase_add(c, j, item, name, item, NULL);
                        } else if (item->type == NODE_MAP && item->n == 1) {
                                r = phase_add(c, j, node_key(item, 0), node_key(item, 0)->value,
                                              node_value(item, 0), NULL);
                        } else {
                                SpecPos pos = yaml_pos_of(c, item);
                                r = spec_fail(c->e, &pos,
                                              "phases: expected a start pattern or {name: pattern}, "
                                              "got %s",
                                              item->type == NODE_MAP ? "a mapping with several keys"
                                                                     : "a list");
                        }
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int yaml_parse_metrics(Ctx *c, JobSpec *j, const Node *val) {
        static const char *const keys[] = {"pattern", "agg"};
        int r;
        if (val->type != NODE_MAP)
                return yaml_fail_type(c, val, KEY_METRICS);
        r = yaml_check_count(c, val, KEY_METRICS, SPEC_MAX_METRICS);
        if (r < 0)
                return r;
        metrics_clear(j);
        j->metrics = calloc(MAX(val->n, (size_t)1), sizeof(MetricSpec));
        if (!j->metrics)
                return -ENOMEM;
        for (size_t i = 0; i < val->n; i++) {
                const Node *k = node_key(val, i), *v = node_value(val, i), *pattern = v, *agg = NULL;
                MetricSpec m = {.agg = METRIC_LAST, .pos = yaml_pos_of(c, k)};

                r = check_item_name(c, k, "metric", k->value);
                if (r < 0)
                        return r;
                if (v->type == NODE_MAP) {
                        for (size_t x = 0; x < v->n; x++)
                                if (!streq(node_key(v, x)->value, "pattern") &&
                                    !streq(node_key(v, x)->value, "agg"))
                                        return yaml_fail_unknown(c, node_key(v, x), keys, 2, "a metric",
                                                            "pattern and agg");
                        pattern = node_get(v, "pattern");
                        agg = node_get(v, "agg");
                        if (!pattern) {
                                SpecPos pos = yaml_pos_of(c, v);
                                return spec_fail(c->e, &pos,
                                                 "metrics: metric '%s' has no pattern:", k->value);
                        }
                }
                if (agg) {
                        char d[SPEC_QUOTE_MAX];
                        m.agg = agg->type == NODE_SCALAR ? metric_agg_from_string(agg->value)
                                                         : _METRIC_AGG_INVALID;
                        if (m.agg < 0) {
                                SpecPos pos = yaml_pos_of(c, agg);
                                return spec_fail(c->e, &pos,
                                                 "agg: expected last, max, min, sum, mean or all, got %s",
                                                 node_describe(agg, d, sizeof d));
                        }
                }
                r = pattern_of(c, pattern, "metrics", &m.pattern);
                if (r < 0)
                        return r;
                if (!(m.name = strdup(k->value))) {
                        free(m.pattern);
                        return -ENOMEM;
                }
                j->metrics[j->n_metrics++] = m;
        }
        return 0;
}

int yaml_parse_timestamp(Ctx *c, JobSpec *j, const Node *val) {
        static const char *const keys[] = {"regex", "format"};
        if (val->type != NODE_MAP)
                return yaml_fail_type(c, val, KEY_TIMESTAMP);
        for (size_t i = 0; i < val->n; i++)
                if (!streq(node_key(val, i)->value, "regex") && !streq(node_key(val, i)->value, "format"))
                        return yaml_fail_unknown(c, node_key(val, i), keys, 2, "timestamp", "regex and format");
        const Node *regex = node_get(val, "regex"), *format = node_get(val, "format");
        if (!regex || !format) {
                SpecPos pos = yaml_pos_of(c, val);
                return spec_fail(c->e, &pos,
                                 "timestamp: needs both regex: (one capture group) and format: "
                                 "(strptime, e.g. \"%%Y-%%m-%%d %%H:%%M:%%S\")");
        }
        _cleanup_free_ char *re = NULL;
        int r = pattern_of(c, regex, "timestamp: regex", &re);
        if (r < 0)
                return r;
        if (format->type != NODE_SCALAR || node_is_null(format) || !*format->value) {
                char d[SPEC_QUOTE_MAX];
                SpecPos pos = yaml_pos_of(c, format);
                return spec_fail(c->e, &pos, "timestamp: format: expected a strptime format, got %s",
                                 node_describe(format, d, sizeof d));
        }
        r = spec_strdup_replace(&j->timestamp.format, format->value);
        if (r < 0)
                return r;
        free(j->timestamp.regex);
        j->timestamp.regex = TAKE_PTR(re);
        return 0;
}

