/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "hocusd/hd-error.h"

G_BEGIN_DECLS

/*
 * A key table describes a flat or nested set of typed keys and where each one
 * is stored in a C struct. One table serves every input format the daemon
 * accepts (JSON config, JSON spec, D-Bus a{sv}), so bounds and error texts are
 * written once. Error messages name the key with its full dotted path.
 */
typedef enum {
    HD_FIELD_STRING, /* char *: no control characters, at most max_len bytes */
    HD_FIELD_PATH,   /* char *: an absolute path without "." or ".." parts */
    HD_FIELD_UINT,   /* guint in [min, max] */
    HD_FIELD_SIZE,   /* guint64 bytes in [min, max]; integer or "4G"-style string */
    HD_FIELD_BOOL,   /* gboolean */
    HD_FIELD_DOUBLE, /* double in [dmin, dmax] */
    HD_FIELD_OBJECT, /* nested table; children's offsets are relative to offset */
} HdFieldType;

typedef struct HdField HdField;

struct HdField {
    const char *key;
    HdFieldType type;
    gsize offset;
    guint64 min, max;  /* UINT and SIZE bounds (inclusive) */
    double dmin, dmax; /* DOUBLE bounds (inclusive) */
    gsize max_len;     /* STRING and PATH; 0 means HD_FIELD_DEFAULT_MAX_LEN */
    guint64 present;   /* bit set in *present when the key was given (0: none) */
    const HdField *children;
    /* Extra check for STRING values; error text without the key name. */
    gboolean (*check)(const char *value, GError **error);
};

#define HD_FIELD_DEFAULT_MAX_LEN 4096

/* Parse JSON text; errors give line and column. Result is an object. */
json_object *hd_json_parse_object(const char *text, gsize len, GError **error);

/*
 * Store the keys of obj into target. Unknown keys are errors (they are
 * typos more often than not). code is the HdError used for every failure.
 */
gboolean hd_fields_from_json(const HdField *table, json_object *obj, gpointer target,
                             guint64 *present, HdError code, GError **error);

/* Same for a GVariant of type a{sv}. Integers of any D-Bus width are taken. */
gboolean hd_fields_from_variant(const HdField *table, GVariant *dict, gpointer target,
                                guint64 *present, HdError code, GError **error);

/* Release the strings a table's fields own inside target. */
void hd_fields_clear(const HdField *table, gpointer target);

/* Checks shared by tables: an absolute, normalised path. */
gboolean hd_fields_check_path(const char *value, GError **error);

G_END_DECLS
