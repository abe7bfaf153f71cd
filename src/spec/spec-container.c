/* SPDX-License-Identifier: MIT */
/* A job in a container image: image:, pull: and container: {engine, volumes, workdir,
 * options} (docs/containers.md). Pure, like the rest of spec/: whether the engine, the
 * image and the volume paths exist is checked before the run starts (exec/container-
 * engine.c), with the positions kept here. */
#include <string.h>

#include "spec/spec-node.h"

#define SPEC_MAX_VOLUMES 256
#define SPEC_MAX_OPTIONS 256

static const char *const engine_table[_ENGINE_MAX] = {
        [ENGINE_AUTO] = "auto",
        [ENGINE_PODMAN] = "podman",
        [ENGINE_DOCKER] = "docker",
};

const char *container_engine_kind_to_string(ContainerEngineKind k) {
        return k >= 0 && k < _ENGINE_MAX ? engine_table[k] : NULL;
}

ContainerEngineKind container_engine_kind_from_string(const char *s) {
        for (size_t i = 0; s && i < _ENGINE_MAX; i++)
                if (streq(engine_table[i], s))
                        return (ContainerEngineKind)i;
        return _ENGINE_INVALID;
}

static bool has_blank(const char *s) {
        return strpbrk(s, " \t\n\r") != NULL;
}

int spec_container_set_image(ContainerSpec *c, const char *text, const SpecPos *pos, SpecError *e) {
        char q[SPEC_QUOTE_MAX];
        /* The name goes into the engine's command line as one word: a leading '-' would
         * be taken for an option of the engine. */
        if (isempty(text) || text[0] == '-' || has_blank(text))
                return spec_fail_key(e, pos, KEY_IMAGE, "expected %s, got %s", spec_keys[KEY_IMAGE].expect,
                                     isempty(text) ? "an empty string" : spec_quote(text, q, sizeof q));
        int r = spec_strdup_replace(&c->image, text);
        if (r >= 0)
                c->image_pos = *pos;
        return r;
}

int spec_container_set_engine(ContainerSpec *c, const char *text, const SpecPos *pos, SpecError *e) {
        char q[SPEC_QUOTE_MAX];
        ContainerEngineKind k = container_engine_kind_from_string(text);
        if (k < 0) {
                const char *hint = spec_closest(text, engine_table, _ENGINE_MAX);
                if (pos && pos->flag && !pos->file)
                        return spec_fail(e, pos, "unknown engine %s; expected podman or docker%s%s%s",
                                         spec_quote(text, q, sizeof q), hint ? " (did you mean '" : "",
                                         hint ?: "", hint ? "'?)" : "");
                return spec_fail(e, pos, "engine: unknown engine %s; expected podman or docker%s%s%s",
                                 spec_quote(text, q, sizeof q), hint ? " (did you mean '" : "", hint ?: "",
                                 hint ? "'?)" : "");
        }
        c->engine = k;
        c->engine_pos = *pos;
        return 0;
}

static void volumes_clear(ContainerSpec *c) {
        for (size_t i = 0; i < c->n_volumes; i++) {
                free(c->volumes[i].host);
                free(c->volumes[i].container);
        }
        free(c->volumes);
        c->volumes = NULL;
        c->n_volumes = 0;
}

static int fail_volume(SpecError *e, const SpecPos *pos, const char *text, const char *why) {
        char q[SPEC_QUOTE_MAX];
        const char *prefix = pos && pos->flag && !pos->file ? "" : "volumes: ";
        return spec_fail(e, pos, "%s%s %s; expected HOST:CONTAINER or HOST:CONTAINER:ro with an absolute "
                         "CONTAINER path", prefix, spec_quote(text, q, sizeof q), why);
}

int spec_container_add_volume(ContainerSpec *c, const char *text, const SpecPos *pos, SpecError *e) {
        if (c->n_volumes >= SPEC_MAX_VOLUMES)
                return spec_fail(e, pos, "volumes: more than %d", SPEC_MAX_VOLUMES);
        const char *colon = strchr(text, ':');
        if (!colon || colon == text)
                return fail_volume(e, pos, text, colon ? "has no host path" : "has no ':'");
        const char *ctr = colon + 1, *mode = strchr(ctr, ':');
        size_t ctr_len = mode ? (size_t)(mode - ctr) : strlen(ctr);
        if (ctr_len == 0 || ctr[0] != '/')
                return fail_volume(e, pos, text, "has no absolute container path");
        bool ro = false;
        if (mode && streq(mode + 1, "ro"))
                ro = true;
        else if (mode && !streq(mode + 1, "rw"))
                return fail_volume(e, pos, text, "has a mode other than ro or rw");
        if (has_blank(text) || strchr(text, ','))
                return fail_volume(e, pos, text, "holds a blank or a ','");
        ContainerVolume *nv = realloc(c->volumes, (c->n_volumes + 1) * sizeof(ContainerVolume));
        if (!nv)
                return -ENOMEM;
        c->volumes = nv;
        ContainerVolume v = {.read_only = ro, .pos = *pos};
        v.host = strndup(text, (size_t)(colon - text));
        v.container = strndup(ctr, ctr_len);
        if (!v.host || !v.container) {
                free(v.host);
                free(v.container);
                return -ENOMEM;
        }
        c->volumes[c->n_volumes++] = v;
        return 0;
}

static SpecPos pos_at(const char *file, const Node *n) {
        return (SpecPos){.file = file, .line = n->line, .col = n->col};
}

static int fail_type(const char *file, const Node *val, const char *key, const char *expect, SpecError *e) {
        char d[SPEC_QUOTE_MAX];
        SpecPos pos = pos_at(file, val);
        return spec_fail(e, &pos, "%s: expected %s, got %s", key, expect, node_describe(val, d, sizeof d));
}

/* A list of strings, or one string for a single entry. */
static int string_list(const char *file, const Node *val, const char *key, const char *expect, size_t max,
                       SpecError *e) {
        if (val->type == NODE_SCALAR && !node_is_null(val))
                return 0;
        if (val->type != NODE_SEQ)
                return fail_type(file, val, key, expect, e);
        if (val->n > max) {
                SpecPos pos = pos_at(file, val);
                return spec_fail(e, &pos, "%s: %zu entries; at most %zu are supported", key, val->n, max);
        }
        for (size_t i = 0; i < val->n; i++)
                if (val->items[i]->type != NODE_SCALAR || node_is_null(val->items[i]))
                        return fail_type(file, val->items[i], key, "each entry to be a string", e);
        return 0;
}

static int parse_volumes(const char *file, const Node *val, ContainerSpec *c, SpecError *e) {
        int r = string_list(file, val, "volumes", "a list like [/data:/data:ro]", SPEC_MAX_VOLUMES, e);
        if (r < 0)
                return r;
        volumes_clear(c);
        size_t n = val->type == NODE_SEQ ? val->n : 1;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const Node *item = val->type == NODE_SEQ ? val->items[i] : val;
                SpecPos pos = pos_at(file, item);
                r = spec_container_add_volume(c, item->value, &pos, e);
        }
        return r;
}

static int parse_options(const char *file, const Node *val, ContainerSpec *c, SpecError *e) {
        int r = string_list(file, val, "options", "a list of engine run options like [--network=host]",
                            SPEC_MAX_OPTIONS, e);
        if (r < 0)
                return r;
        c->options = spec_strv_free(c->options);
        c->n_options = 0;
        size_t n = val->type == NODE_SEQ ? val->n : 1;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const Node *item = val->type == NODE_SEQ ? val->items[i] : val;
                r = spec_strv_push(&c->options, &c->n_options, item->value, strlen(item->value));
        }
        return r;
}

int spec_container_parse(const char *file, const struct Node *val, ContainerSpec *c, bool from_defaults,
                         SpecError *e) {
        static const char *const keys[] = {"engine", "volumes", "workdir", "options"};
        static const char expect[] = "{engine: podman|docker, volumes: [HOST:CTR[:ro]], workdir: DIR, "
                                     "options: [...]}";
        int r = 0;

        if (val->type != NODE_MAP)
                return fail_type(file, val, "container", expect, e);
        for (size_t i = 0; r >= 0 && i < val->n; i++) {
                const Node *k = node_key(val, i), *v = node_value(val, i);
                SpecPos kpos = pos_at(file, k), vpos = pos_at(file, v);
                if (streq(k->value, "engine")) {
                        if (v->type != NODE_SCALAR || node_is_null(v))
                                return fail_type(file, v, "engine", "podman or docker", e);
                        r = spec_container_set_engine(c, v->value, &vpos, e);
                } else if (streq(k->value, "volumes"))
                        r = parse_volumes(file, v, c, e);
                else if (streq(k->value, "options"))
                        r = parse_options(file, v, c, e);
                else if (streq(k->value, "workdir")) {
                        if (v->type != NODE_SCALAR || node_is_null(v) || v->value[0] != '/')
                                return fail_type(file, v, "workdir", "an absolute path inside the container",
                                                 e);
                        r = spec_strdup_replace(&c->workdir, v->value);
                } else {
                        char q[SPEC_QUOTE_MAX];
                        const char *hint = spec_closest(k->value, keys, ELEMENTSOF(keys));
                        if (hint)
                                return spec_fail(e, &kpos, "unknown key %s in container; did you mean '%s'?",
                                                 spec_quote(k->value, q, sizeof q), hint);
                        return spec_fail(e, &kpos, "unknown key %s in container; expected %s",
                                         spec_quote(k->value, q, sizeof q), expect);
                }
        }
        /* defaults: may hold container: for the jobs that have an image; a job's own
         * container: without one is a mistake (spec_job_finish). */
        if (r >= 0 && !from_defaults)
                c->container_pos = pos_at(file, val);
        return r;
}

void container_spec_done(ContainerSpec *c) {
        free(c->image);
        volumes_clear(c);
        free(c->workdir);
        spec_strv_free(c->options);
        *c = (ContainerSpec){0};
}
