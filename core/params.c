/* params.c - checking a step's `with:` against the params it declares. */
#include <string.h>

#include "error.h"
#include "plugins.h"

static const char *type_name(enum weir_param_type t)
{
    static const char *names[] = { "any", "string", "integer", "number", "boolean", "object", "array" };
    return t >= WEIR_PARAM_ANY && t <= WEIR_PARAM_ARRAY ? names[t] : "?";
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

int weir_param_type_matches(enum weir_param_type t, const json_t *v)
{
    switch (t) {
    case WEIR_PARAM_STRING: return json_is_string(v);
    case WEIR_PARAM_INTEGER: return json_is_integer(v);
    case WEIR_PARAM_NUMBER: return json_is_number(v);
    case WEIR_PARAM_BOOLEAN: return json_is_boolean(v);
    case WEIR_PARAM_OBJECT: return json_is_object(v);
    case WEIR_PARAM_ARRAY: return json_is_array(v);
    default: return 1;
    }
}

const char *weir_param_type_name(enum weir_param_type t)
{
    return type_name(t);
}

const struct weir_param_def *weir_step_param_find(const struct weir_step_def *def, const char *name)
{
    for (size_t i = 0; i < def->nparams; i++) {
        if (!strcmp(def->params[i].name, name)) {
            return &def->params[i];
        }
    }
    return NULL;
}

static int check_known(const struct weir_step_def *def, const json_t *with)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)with, key, v) {
        const struct weir_param_def *p = weir_step_param_find(def, key);
        if (!p) {
            return weir_error_set(WEIR_EINVALID, "unknown param '%s'; see `weir plugin describe %s`",
                                  key, def->plugin);
        }
        /* null means "not given": defaults and required checks apply */
        if (!json_is_null(v) && !weir_param_type_matches(p->type, v)) {
            return weir_error_set(WEIR_EINVALID, "param '%s' must be %s, got %s", key,
                                  type_name(p->type), json_type_name(v));
        }
    }
    return WEIR_OK;
}

int weir_step_input_check(const struct weir_step_def *def, const json_t *with, json_t **out)
{
    json_t *input = NULL;
    int rc;

    if (with && !json_is_object(with)) {
        return weir_error_set(WEIR_EINVALID, "`with` must be a mapping, got %s", json_type_name(with));
    }
    if (with && (rc = check_known(def, with)) < 0) {
        return rc;
    }
    input = with ? json_copy((json_t *)with) : json_object();
    if (!input) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < def->nparams; i++) {
        const struct weir_param_def *p = &def->params[i];
        json_t *v = json_object_get(input, p->name);
        if (v && !json_is_null(v)) {
            continue;
        }
        if (p->def) {
            json_object_set(input, p->name, p->def);
        }
        else if (p->required) {
            json_decref(input);
            return weir_error_set(WEIR_EINVALID, "missing required param '%s' (%s: %s)", p->name,
                                  type_name(p->type), p->description ? p->description : "");
        }
    }
    *out = input;
    return WEIR_OK;
}
