/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-fields"

#include <string.h>

#include "hocusd/hd-fields.h"
#include "hocusd/hd-size.h"

#define FIELD_PTR(target, field, type) ((type *)((guint8 *)(target) + (field)->offset))

json_object *hd_json_parse_object(const char *text, gsize len, GError **error)
{
    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    gsize consumed, line = 1, col = 1;

    if (len > G_MAXINT) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "JSON text is too large");
        return NULL;
    }
    if (memchr(text, '\0', len) != NULL) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "JSON text contains a NUL byte");
        return NULL;
    }
    tok = json_tokener_new();
    /* Strict: no trailing commas or other leniencies a hand-edited file may hide. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    consumed = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_success) {
        /* Anything but white space after the value is an error too. */
        for (gsize i = consumed; i < len; i++) {
            if (!g_ascii_isspace(text[i])) {
                jerr = json_tokener_error_parse_unexpected;
                consumed = i;
                json_object_put(obj);
                obj = NULL;
                break;
            }
        }
    } else if (jerr == json_tokener_continue) {
        jerr = json_tokener_error_parse_eof;
        consumed = len;
    }
    if (jerr != json_tokener_success) {
        for (gsize i = 0; i < consumed && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "invalid JSON at line %zu, column %zu: %s",
                    line, col, json_tokener_error_desc(jerr));
        return NULL;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "expected a JSON object at the top level");
        return NULL;
    }
    return obj;
}

gboolean hd_fields_check_path(const char *value, GError **error)
{
    g_auto(GStrv) parts = NULL;

    if (value[0] != '/') {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "must be an absolute path, got '%s'", value);
        return FALSE;
    }
    parts = g_strsplit(value, "/", -1);
    for (gsize i = 0; parts[i] != NULL; i++) {
        if (strcmp(parts[i], ".") == 0 || strcmp(parts[i], "..") == 0) {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                        "must not contain '.' or '..' components, got '%s'", value);
            return FALSE;
        }
    }
    return TRUE;
}

static const HdField *find_field(const HdField *table, const char *key)
{
    for (const HdField *f = table; f->key != NULL; f++) {
        if (strcmp(f->key, key) == 0)
            return f;
    }
    return NULL;
}

static char *join_key(const char *prefix, const char *key)
{
    return prefix != NULL ? g_strconcat(prefix, ".", key, NULL) : g_strdup(key);
}

/* Every failure below is reported as "key 'a.b': reason". */
static void set_key_error(GError **error, HdError code, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void set_key_error(GError **error, HdError code, const char *key, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, HD_ERROR, code, "key '%s': %s", key, msg);
}

static gboolean store_string(const HdField *f, const char *value, gpointer target, HdError code,
                             const char *key, GError **error)
{
    gsize max_len = f->max_len != 0 ? f->max_len : HD_FIELD_DEFAULT_MAX_LEN;
    gsize len = strlen(value);
    g_autoptr(GError) check_error = NULL;
    char **slot;

    if (len > max_len) {
        set_key_error(error, code, key, "is %zu bytes long; at most %zu are allowed", len, max_len);
        return FALSE;
    }
    if (!g_utf8_validate(value, (gssize)len, NULL)) {
        set_key_error(error, code, key, "is not valid UTF-8");
        return FALSE;
    }
    for (gsize i = 0; i < len; i++) {
        if ((guchar)value[i] < 0x20 || value[i] == 0x7f) {
            set_key_error(error, code, key, "contains control character 0x%02x at byte %zu",
                          (guint)(guchar)value[i], i + 1);
            return FALSE;
        }
    }
    if (f->type == HD_FIELD_PATH && !hd_fields_check_path(value, &check_error)) {
        set_key_error(error, code, key, "%s", check_error->message);
        return FALSE;
    }
    if (f->check != NULL && !f->check(value, &check_error)) {
        set_key_error(error, code, key, "%s", check_error->message);
        return FALSE;
    }
    slot = FIELD_PTR(target, f, char *);
    g_free(*slot);
    *slot = g_strdup(value);
    return TRUE;
}

static gboolean store_unsigned(const HdField *f, guint64 value, gpointer target, HdError code,
                               const char *key, GError **error)
{
    if (value < f->min || value > f->max) {
        if (f->type == HD_FIELD_SIZE) {
            g_autofree char *v = hd_size_format(value);
            g_autofree char *lo = hd_size_format(f->min);
            g_autofree char *hi = hd_size_format(f->max);
            set_key_error(error, code, key, "%s is out of range [%s, %s]", v, lo, hi);
        } else {
            set_key_error(error, code, key,
                          "%" G_GUINT64_FORMAT " is out of range [%" G_GUINT64_FORMAT
                          ", %" G_GUINT64_FORMAT "]",
                          value, f->min, f->max);
        }
        return FALSE;
    }
    if (f->type == HD_FIELD_SIZE)
        *FIELD_PTR(target, f, guint64) = value;
    else
        *FIELD_PTR(target, f, guint) = (guint)value;
    return TRUE;
}

static gboolean store_size_string(const HdField *f, const char *text, gpointer target, HdError code,
                                  const char *key, GError **error)
{
    g_autoptr(GError) parse_error = NULL;
    guint64 v;

    if (!hd_size_parse(text, &v, &parse_error)) {
        set_key_error(error, code, key, "%s", parse_error->message);
        return FALSE;
    }
    return store_unsigned(f, v, target, code, key, error);
}

static gboolean store_double(const HdField *f, double v, gpointer target, HdError code,
                             const char *key, GError **error)
{
    if (!(v >= f->dmin && v <= f->dmax)) {
        set_key_error(error, code, key, "%g is out of range [%g, %g]", v, f->dmin, f->dmax);
        return FALSE;
    }
    *FIELD_PTR(target, f, double) = v;
    return TRUE;
}

static const char *field_type_name(HdFieldType t)
{
    switch (t) {
    case HD_FIELD_STRING:
        return "a string";
    case HD_FIELD_PATH:
        return "a path string";
    case HD_FIELD_UINT:
        return "a non-negative integer";
    case HD_FIELD_SIZE:
        return "a size (bytes as an integer, or a string such as \"4G\")";
    case HD_FIELD_BOOL:
        return "true or false";
    case HD_FIELD_DOUBLE:
        return "a number";
    case HD_FIELD_OBJECT:
        return "an object";
    }
    return "?";
}

static gboolean fields_from_json(const HdField *table, json_object *obj, gpointer target,
                                 guint64 *present, HdError code, const char *prefix, GError **error)
{
    json_object_object_foreach(obj, jkey, jval)
    {
        g_autofree char *key = join_key(prefix, jkey);
        const HdField *f = find_field(table, jkey);
        enum json_type jt = json_object_get_type(jval);
        gboolean ok = FALSE, type_ok = TRUE;

        if (f == NULL) {
            set_key_error(error, code, key, "unknown key");
            return FALSE;
        }
        switch (f->type) {
        case HD_FIELD_STRING:
        case HD_FIELD_PATH:
            if ((type_ok = (jt == json_type_string)))
                ok = store_string(f, json_object_get_string(jval), target, code, key, error);
            break;
        case HD_FIELD_UINT:
        case HD_FIELD_SIZE:
            if (jt == json_type_int) {
                if (json_object_get_int64(jval) < 0) {
                    set_key_error(error, code, key, "must not be negative");
                    return FALSE;
                }
                ok = store_unsigned(f, json_object_get_uint64(jval), target, code, key, error);
            } else if (jt == json_type_string && f->type == HD_FIELD_SIZE) {
                ok = store_size_string(f, json_object_get_string(jval), target, code, key, error);
            } else {
                type_ok = FALSE;
            }
            break;
        case HD_FIELD_BOOL:
            if ((type_ok = (jt == json_type_boolean))) {
                *FIELD_PTR(target, f, gboolean) = json_object_get_boolean(jval) ? TRUE : FALSE;
                ok = TRUE;
            }
            break;
        case HD_FIELD_DOUBLE:
            if ((type_ok = (jt == json_type_double || jt == json_type_int)))
                ok = store_double(f, json_object_get_double(jval), target, code, key, error);
            break;
        case HD_FIELD_OBJECT:
            if ((type_ok = (jt == json_type_object)))
                ok = fields_from_json(f->children, jval, FIELD_PTR(target, f, guint8), present,
                                      code, key, error);
            break;
        }
        if (!type_ok) {
            set_key_error(error, code, key, "expected %s, got %s", field_type_name(f->type),
                          json_type_to_name(jt));
            return FALSE;
        }
        if (!ok)
            return FALSE;
        if (present != NULL)
            *present |= f->present;
    }
    return TRUE;
}

gboolean hd_fields_from_json(const HdField *table, json_object *obj, gpointer target,
                             guint64 *present, HdError code, GError **error)
{
    return fields_from_json(table, obj, target, present, code, NULL, error);
}

/*
 * Any D-Bus integer type; FALSE when v is not an integer. A negative value
 * sets *negative and leaves its value in *sout.
 */
static gboolean variant_get_uint(GVariant *v, guint64 *out, gboolean *negative, gint64 *sout)
{
    gint64 s = 0;

    *negative = FALSE;
    *sout = 0;
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_BYTE)) {
        *out = g_variant_get_byte(v);
        return TRUE;
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT16)) {
        *out = g_variant_get_uint16(v);
        return TRUE;
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
        *out = g_variant_get_uint32(v);
        return TRUE;
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
        *out = g_variant_get_uint64(v);
        return TRUE;
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT16)) {
        s = g_variant_get_int16(v);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32)) {
        s = g_variant_get_int32(v);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT64)) {
        s = g_variant_get_int64(v);
    } else {
        return FALSE;
    }
    *negative = s < 0;
    *sout = s;
    *out = s < 0 ? 0 : (guint64)s;
    return TRUE;
}

static gboolean fields_from_variant(const HdField *table, GVariant *dict, gpointer target,
                                    guint64 *present, HdError code, const char *prefix,
                                    GError **error)
{
    GVariantIter iter;
    const char *vkey;
    GVariant *raw;

    g_variant_iter_init(&iter, dict);
    while (g_variant_iter_next(&iter, "{&sv}", &vkey, &raw)) {
        g_autoptr(GVariant) val = raw;
        g_autofree char *key = join_key(prefix, vkey);
        const HdField *f = find_field(table, vkey);
        gboolean ok = FALSE, type_ok = TRUE, negative = FALSE;
        guint64 u = 0;
        gint64 s = 0;

        if (f == NULL) {
            set_key_error(error, code, key, "unknown key");
            return FALSE;
        }
        switch (f->type) {
        case HD_FIELD_STRING:
        case HD_FIELD_PATH:
            if ((type_ok = g_variant_is_of_type(val, G_VARIANT_TYPE_STRING)))
                ok = store_string(f, g_variant_get_string(val, NULL), target, code, key, error);
            break;
        case HD_FIELD_UINT:
        case HD_FIELD_SIZE:
            if (variant_get_uint(val, &u, &negative, &s)) {
                if (negative) {
                    set_key_error(error, code, key, "must not be negative");
                    return FALSE;
                }
                ok = store_unsigned(f, u, target, code, key, error);
            } else if (f->type == HD_FIELD_SIZE &&
                       g_variant_is_of_type(val, G_VARIANT_TYPE_STRING)) {
                ok =
                    store_size_string(f, g_variant_get_string(val, NULL), target, code, key, error);
            } else {
                type_ok = FALSE;
            }
            break;
        case HD_FIELD_BOOL:
            if ((type_ok = g_variant_is_of_type(val, G_VARIANT_TYPE_BOOLEAN))) {
                *FIELD_PTR(target, f, gboolean) = g_variant_get_boolean(val);
                ok = TRUE;
            }
            break;
        case HD_FIELD_DOUBLE:
            if (g_variant_is_of_type(val, G_VARIANT_TYPE_DOUBLE)) {
                ok = store_double(f, g_variant_get_double(val), target, code, key, error);
            } else if (variant_get_uint(val, &u, &negative, &s)) {
                ok = store_double(f, negative ? (double)s : (double)u, target, code, key, error);
            } else {
                type_ok = FALSE;
            }
            break;
        case HD_FIELD_OBJECT:
            if ((type_ok = g_variant_is_of_type(val, G_VARIANT_TYPE_VARDICT)))
                ok = fields_from_variant(f->children, val, FIELD_PTR(target, f, guint8), present,
                                         code, key, error);
            break;
        }
        if (!type_ok) {
            set_key_error(error, code, key, "expected %s, got D-Bus type '%s'",
                          field_type_name(f->type), g_variant_get_type_string(val));
            return FALSE;
        }
        if (!ok)
            return FALSE;
        if (present != NULL)
            *present |= f->present;
    }
    return TRUE;
}

gboolean hd_fields_from_variant(const HdField *table, GVariant *dict, gpointer target,
                                guint64 *present, HdError code, GError **error)
{
    if (!g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT)) {
        g_set_error(error, HD_ERROR, code, "expected a dictionary of type a{sv}, got '%s'",
                    g_variant_get_type_string(dict));
        return FALSE;
    }
    return fields_from_variant(table, dict, target, present, code, NULL, error);
}

void hd_fields_clear(const HdField *table, gpointer target)
{
    for (const HdField *f = table; f->key != NULL; f++) {
        if (f->type == HD_FIELD_STRING || f->type == HD_FIELD_PATH)
            g_clear_pointer(FIELD_PTR(target, f, char *), g_free);
        else if (f->type == HD_FIELD_OBJECT)
            hd_fields_clear(f->children, FIELD_PTR(target, f, guint8));
    }
}
