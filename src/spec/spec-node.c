/* SPDX-License-Identifier: MIT */
/* libyaml events -> Node tree. */
#include <string.h>
#include <yaml.h>

#include "spec/spec-node.h"

typedef struct Loader {
        const char *file;
        const char *text;
        size_t len;
        SpecError *e;
        Node *stack[SPEC_MAX_DEPTH];
        size_t depth;
        size_t n_nodes;
        Node *root;
} Loader;

Node *node_free(Node *n) {
        if (!n)
                return NULL;
        /* Recursion is fine: the depth is bounded. `used`, not n: a mapping cut short by a
         * syntax error may hold a key without its value. */
        for (size_t i = 0; i < n->used; i++)
                node_free(n->items[i]);
        free(n->items);
        free(n->value);
        free(n);
        return NULL;
}

size_t node_count(const Node *n) {
        size_t c = 1;
        for (size_t i = 0; i < n->used; i++)
                c += node_count(n->items[i]);
        return c;
}

const Node *node_get(const Node *map, const char *key) {
        if (!map || map->type != NODE_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (streq(node_key(map, i)->value, key))
                        return node_value(map, i);
        return NULL;
}

bool node_is_null(const Node *n) {
        return n->type == NODE_SCALAR && n->plain &&
               (streq(n->value, "") || streq(n->value, "~") || streq(n->value, "null") ||
                streq(n->value, "Null") || streq(n->value, "NULL"));
}

const char *node_describe(const Node *n, char *buf, size_t size) {
        if (n->type == NODE_MAP)
                snprintf(buf, size, "a mapping");
        else if (n->type == NODE_SEQ)
                snprintf(buf, size, "a list");
        else if (node_is_null(n))
                snprintf(buf, size, "nothing");
        else
                spec_quote(n->value, buf, size);
        return buf;
}

static SpecPos mark_pos(const Loader *l, yaml_mark_t m) {
        return (SpecPos){.file = l->file, .line = (unsigned)m.line + 1, .col = (unsigned)m.column + 1};
}

/* libyaml's reader errors (bad UTF-8, control characters) come with a byte offset only. */
static SpecPos offset_pos(const Loader *l, size_t offset) {
        SpecPos p = {.file = l->file, .line = 1, .col = 1};
        for (size_t i = 0; i < offset && i < l->len; i++) {
                if (l->text[i] == '\n') {
                        p.line++;
                        p.col = 1;
                } else if (((unsigned char)l->text[i] & 0xC0) != 0x80)
                        p.col++;
        }
        return p;
}

static int parser_fail(Loader *l, yaml_parser_t *p) {
        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                SpecPos pos = offset_pos(l, p->problem_offset);
                return spec_fail(l->e, &pos, "invalid YAML input: %s", p->problem ?: "unreadable");
        }
        SpecPos pos = mark_pos(l, p->problem_mark);
        if (p->context) {
                SpecPos c = mark_pos(l, p->context_mark);
                return spec_fail(l->e, &pos, "invalid YAML: %s (%s at line %u, column %u)",
                                 p->problem ?: "syntax error", p->context, c.line, c.col);
        }
        return spec_fail(l->e, &pos, "invalid YAML: %s", p->problem ?: "syntax error");
}

static int node_new(Loader *l, NodeType type, yaml_mark_t m, Node **ret) {
        if (l->n_nodes >= SPEC_MAX_NODES) {
                SpecPos pos = mark_pos(l, m);
                return spec_fail(l->e, &pos, "the file has more than %d YAML values; that is not a scenario",
                                 SPEC_MAX_NODES);
        }
        Node *n = calloc(1, sizeof(Node));
        if (!n)
                return -ENOMEM;
        n->type = type;
        n->line = (unsigned)m.line + 1;
        n->col = (unsigned)m.column + 1;
        l->n_nodes++;
        *ret = n;
        return 0;
}

/* Hands n to the innermost open list or mapping, or makes it the root. Takes n. */
static int attach(Loader *l, Node *n) {
        if (l->depth == 0) {
                l->root = n;
                return 0;
        }
        Node *parent = l->stack[l->depth - 1];
        if (parent->type == NODE_MAP && parent->used % 2 == 0 && n->type != NODE_SCALAR) {
                SpecPos pos = {.file = l->file, .line = n->line, .col = n->col};
                const char *what = n->type == NODE_MAP ? "a mapping" : "a list";
                node_free(n);
                return spec_fail(l->e, &pos, "a key must be a plain string, not %s", what);
        }
        if (parent->used == parent->cap) {
                size_t cap = parent->cap ? 2 * parent->cap : 4;
                Node **items = realloc(parent->items, cap * sizeof(Node *));
                if (!items) {
                        node_free(n);
                        return -ENOMEM;
                }
                parent->items = items;
                parent->cap = cap;
        }
        parent->items[parent->used++] = n;
        parent->n = parent->type == NODE_MAP ? parent->used / 2 : parent->used;
        return 0;
}

static int key_cmp(const void *a, const void *b) {
        const Node *const *x = a, *const *y = b;
        int c = strcmp((*x)->value, (*y)->value);
        if (c != 0)
                return c;
        /* Equal keys in file order, so that the second one is reported. */
        if ((*x)->line != (*y)->line)
                return (*x)->line < (*y)->line ? -1 : 1;
        return (*x)->col < (*y)->col ? -1 : (*x)->col > (*y)->col;
}

/* Sorting rather than comparing every pair: a mapping may hold thousands of jobs. */
static int check_duplicates(Loader *l, const Node *map) {
        if (map->n < 2)
                return 0;
        _cleanup_free_ const Node **keys = malloc(map->n * sizeof(Node *));
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < map->n; i++)
                keys[i] = node_key(map, i);
        qsort(keys, map->n, sizeof(Node *), key_cmp);
        /* Within a run of equal keys the first is the original, the second the first
         * repetition; of all repetitions report the one earliest in the file. */
        const Node *dup = NULL, *first = NULL;
        for (size_t i = 1; i < map->n; i++) {
                if (!streq(keys[i]->value, keys[i - 1]->value))
                        continue;
                if (i >= 2 && streq(keys[i - 1]->value, keys[i - 2]->value))
                        continue;
                if (!dup || keys[i]->line < dup->line ||
                    (keys[i]->line == dup->line && keys[i]->col < dup->col)) {
                        dup = keys[i];
                        first = keys[i - 1];
                }
        }
        if (!dup)
                return 0;
        char q[SPEC_QUOTE_MAX];
        SpecPos pos = {.file = l->file, .line = dup->line, .col = dup->col};
        return spec_fail(l->e, &pos, "duplicate key %s (first given at line %u, column %u)",
                         spec_quote(dup->value, q, sizeof q), first->line, first->col);
}

static int on_scalar(Loader *l, const yaml_event_t *ev) {
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        SpecPos pos = mark_pos(l, ev->start_mark);
        Node *n;
        int r;

        if (len > SPEC_MAX_STRING)
                return spec_fail(l->e, &pos, "a string of %zu bytes; at most %d are supported", len,
                                 SPEC_MAX_STRING);
        if (memchr(v, '\0', len))
                return spec_fail(l->e, &pos,
                                 "a string holds a NUL character (\\0), which no command, "
                                 "path or pattern can contain");
        r = node_new(l, NODE_SCALAR, ev->start_mark, &n);
        if (r < 0)
                return r;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
        n->value = strndup(v, len);
        if (!n->value) {
                node_free(n);
                return -ENOMEM;
        }
        return attach(l, n);
}

static int on_start(Loader *l, const yaml_event_t *ev, NodeType type) {
        Node *n;
        int r;

        if (l->depth >= SPEC_MAX_DEPTH) {
                SpecPos pos = mark_pos(l, ev->start_mark);
                return spec_fail(l->e, &pos, "lists and mappings nested deeper than %d levels",
                                 SPEC_MAX_DEPTH);
        }
        r = node_new(l, type, ev->start_mark, &n);
        if (r < 0)
                return r;
        /* Attached first, so that the tree owns it whatever happens next. */
        r = attach(l, n);
        if (r < 0)
                return r;
        l->stack[l->depth++] = n;
        return 0;
}

static int on_end(Loader *l) {
        Node *n = l->stack[--l->depth];
        if (n->type == NODE_MAP)
                return check_duplicates(l, n);
        return 0;
}

int node_load(const char *file, const char *text, size_t len, Node **ret, SpecError *e) {
        Loader l = {.file = file, .text = text, .len = len, .e = e};
        yaml_parser_t parser;
        yaml_event_t ev;
        unsigned documents = 0;
        bool done = false;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        while (!done && r >= 0) {
                if (!yaml_parser_parse(&parser, &ev)) {
                        r = parser_fail(&l, &parser);
                        break;
                }
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++documents > 1) {
                                SpecPos pos = mark_pos(&l, ev.start_mark);
                                r = spec_fail(e, &pos,
                                              "a second YAML document ('---'); a scenario file holds "
                                              "one");
                        }
                        break;
                case YAML_ALIAS_EVENT: {
                        SpecPos pos = mark_pos(&l, ev.start_mark);
                        r = spec_fail(e, &pos,
                                      "YAML aliases (*%.40s) are not supported; write the value out, or "
                                      "put shared job settings under defaults:",
                                      (const char *)ev.data.alias.anchor);
                        break;
                }
                case YAML_SCALAR_EVENT:
                        r = on_scalar(&l, &ev);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        r = on_start(&l, &ev, NODE_SEQ);
                        break;
                case YAML_MAPPING_START_EVENT:
                        r = on_start(&l, &ev, NODE_MAP);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        r = on_end(&l);
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);

        if (r >= 0 && !l.root) {
                SpecPos pos = {.file = file, .line = 1, .col = 1};
                r = spec_fail(e, &pos, "the file is empty; expected a mapping with a jobs: key");
        }
        if (r < 0) {
                node_free(l.root);
                return r;
        }
        *ret = l.root;
        return 0;
}
