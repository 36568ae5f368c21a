/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-spec"

#include <stddef.h>

#include "hocusd/hd-cmdline.h"
#include "hocusd/hd-fields.h"
#include "hocusd/hd-names.h"
#include "hocusd/hd-spec.h"

static gboolean check_name(const char *value, GError **error)
{
    return hd_name_validate(value, error);
}

static gboolean check_cmdline(const char *value, GError **error)
{
    return hd_cmdline_check_user(value, error);
}

#define SPEC(field) offsetof(HdSpec, field)

static const HdField spec_fields[] = {
    { .key = "name",
      .type = HD_FIELD_STRING,
      .offset = SPEC(name),
      .max_len = HD_WORKSPACE_NAME_MAX_LEN,
      .present = HD_SPEC_NAME,
      .check = check_name },
    { .key = "vcpus",
      .type = HD_FIELD_UINT,
      .offset = SPEC(vcpus),
      .min = HD_SPEC_VCPUS_MIN,
      .max = HD_SPEC_VCPUS_MAX,
      .present = HD_SPEC_VCPUS },
    { .key = "memory_max",
      .type = HD_FIELD_SIZE,
      .offset = SPEC(memory_max),
      .min = HD_SPEC_MEMORY_MIN_BYTES,
      .max = HD_SPEC_MEMORY_MAX_BYTES,
      .present = HD_SPEC_MEMORY_MAX },
    { .key = "memory_min",
      .type = HD_FIELD_SIZE,
      .offset = SPEC(memory_min),
      .min = HD_SPEC_MEMORY_FLOOR_BYTES,
      .max = HD_SPEC_MEMORY_MAX_BYTES,
      .present = HD_SPEC_MEMORY_MIN },
    { .key = "disk_size",
      .type = HD_FIELD_SIZE,
      .offset = SPEC(disk_size),
      .min = HD_SPEC_DISK_MIN_BYTES,
      .max = HD_SPEC_DISK_MAX_BYTES,
      .present = HD_SPEC_DISK_SIZE },
    { .key = "base_image",
      .type = HD_FIELD_PATH,
      .offset = SPEC(base_image),
      .present = HD_SPEC_BASE_IMAGE },
    { .key = "kernel", .type = HD_FIELD_PATH, .offset = SPEC(kernel), .present = HD_SPEC_KERNEL },
    { .key = "initrd", .type = HD_FIELD_PATH, .offset = SPEC(initrd), .present = HD_SPEC_INITRD },
    { .key = "cmdline_extra",
      .type = HD_FIELD_STRING,
      .offset = SPEC(cmdline_extra),
      .present = HD_SPEC_CMDLINE_EXTRA,
      .check = check_cmdline },
    { NULL }
};

HdSpec *hd_spec_new(void)
{
    return g_new0(HdSpec, 1);
}

HdSpec *hd_spec_copy(const HdSpec *spec)
{
    HdSpec *copy = g_new0(HdSpec, 1);

    *copy = *spec;
    copy->name = g_strdup(spec->name);
    copy->base_image = g_strdup(spec->base_image);
    copy->kernel = g_strdup(spec->kernel);
    copy->initrd = g_strdup(spec->initrd);
    copy->cmdline_extra = g_strdup(spec->cmdline_extra);
    return copy;
}

void hd_spec_free(HdSpec *spec)
{
    if (spec == NULL)
        return;
    hd_fields_clear(spec_fields, spec);
    g_free(spec);
}

static gboolean check_aligned(const char *key, guint64 value, GError **error)
{
    if (value % HD_SPEC_SIZE_ALIGN != 0) {
        g_autofree char *v = hd_size_format(value);
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "key '%s': %s (%" G_GUINT64_FORMAT " bytes) is not a whole number of MiB", key,
                    v, value);
        return FALSE;
    }
    return TRUE;
}

/* Checks of single keys that the table cannot express. */
static gboolean spec_check_fields(const HdSpec *spec, GError **error)
{
    if ((spec->present & HD_SPEC_MEMORY_MAX) &&
        !check_aligned("memory_max", spec->memory_max, error))
        return FALSE;
    if ((spec->present & HD_SPEC_MEMORY_MIN) &&
        !check_aligned("memory_min", spec->memory_min, error))
        return FALSE;
    if ((spec->present & HD_SPEC_DISK_SIZE) && !check_aligned("disk_size", spec->disk_size, error))
        return FALSE;
    return TRUE;
}

HdSpec *hd_spec_from_variant(GVariant *dict, GError **error)
{
    g_autoptr(HdSpec) spec = hd_spec_new();

    if (!hd_fields_from_variant(spec_fields, dict, spec, &spec->present, HD_ERROR_INVALID_SPEC,
                                error) ||
        !spec_check_fields(spec, error))
        return NULL;
    return g_steal_pointer(&spec);
}

HdSpec *hd_spec_from_json(const char *text, gsize len, GError **error)
{
    g_autoptr(HdSpec) spec = hd_spec_new();
    json_object *root;
    gboolean ok;

    root = hd_json_parse_object(text, len, error);
    if (root == NULL) {
        if (error != NULL && *error != NULL)
            (*error)->code = HD_ERROR_INVALID_SPEC;
        return NULL;
    }
    ok = hd_fields_from_json(spec_fields, root, spec, &spec->present, HD_ERROR_INVALID_SPEC,
                             error) &&
         spec_check_fields(spec, error);
    json_object_put(root);
    return ok ? g_steal_pointer(&spec) : NULL;
}

HdSpec *hd_spec_resolve(const HdSpec *spec, const HdConfig *config, GError **error)
{
    g_autoptr(HdSpec) r = hd_spec_copy(spec);

    if (!(r->present & HD_SPEC_NAME)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "key 'name': is required");
        return NULL;
    }
    if (!(r->present & HD_SPEC_VCPUS))
        r->vcpus = config->defaults.vcpus;
    if (!(r->present & HD_SPEC_MEMORY_MAX))
        r->memory_max = config->defaults.memory_max;
    if (!(r->present & HD_SPEC_MEMORY_MIN)) {
        /* A default floor above a smaller explicit maximum follows the maximum. */
        r->memory_min = MIN(config->defaults.memory_min, r->memory_max);
    }
    if (!(r->present & HD_SPEC_DISK_SIZE))
        r->disk_size = config->defaults.disk_size;
    if (!(r->present & HD_SPEC_KERNEL)) {
        g_free(r->kernel);
        r->kernel = g_strdup(config->guest.kernel);
    }
    if (!(r->present & HD_SPEC_INITRD)) {
        g_free(r->initrd);
        r->initrd = g_strdup(config->guest.initrd);
    }
    if (r->memory_min > r->memory_max) {
        g_autofree char *lo = hd_size_format(r->memory_min);
        g_autofree char *hi = hd_size_format(r->memory_max);
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "key 'memory_min': %s is above memory_max (%s)", lo, hi);
        return NULL;
    }
    if (!spec_check_fields(r, error))
        return NULL;
    r->present |= HD_SPEC_VCPUS | HD_SPEC_MEMORY_MAX | HD_SPEC_MEMORY_MIN | HD_SPEC_DISK_SIZE |
                  HD_SPEC_KERNEL | HD_SPEC_INITRD;
    return g_steal_pointer(&r);
}

GVariant *hd_spec_to_variant(const HdSpec *spec)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    if (spec->present & HD_SPEC_NAME)
        g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string(spec->name));
    if (spec->present & HD_SPEC_VCPUS)
        g_variant_builder_add(&b, "{sv}", "vcpus", g_variant_new_uint32(spec->vcpus));
    if (spec->present & HD_SPEC_MEMORY_MAX)
        g_variant_builder_add(&b, "{sv}", "memory_max", g_variant_new_uint64(spec->memory_max));
    if (spec->present & HD_SPEC_MEMORY_MIN)
        g_variant_builder_add(&b, "{sv}", "memory_min", g_variant_new_uint64(spec->memory_min));
    if (spec->present & HD_SPEC_DISK_SIZE)
        g_variant_builder_add(&b, "{sv}", "disk_size", g_variant_new_uint64(spec->disk_size));
    if ((spec->present & HD_SPEC_BASE_IMAGE) && spec->base_image != NULL)
        g_variant_builder_add(&b, "{sv}", "base_image", g_variant_new_string(spec->base_image));
    if ((spec->present & HD_SPEC_KERNEL) && spec->kernel != NULL)
        g_variant_builder_add(&b, "{sv}", "kernel", g_variant_new_string(spec->kernel));
    if ((spec->present & HD_SPEC_INITRD) && spec->initrd != NULL)
        g_variant_builder_add(&b, "{sv}", "initrd", g_variant_new_string(spec->initrd));
    if ((spec->present & HD_SPEC_CMDLINE_EXTRA) && spec->cmdline_extra != NULL)
        g_variant_builder_add(&b, "{sv}", "cmdline_extra",
                              g_variant_new_string(spec->cmdline_extra));
    return g_variant_builder_end(&b);
}

HdSpec *hd_spec_with_memory_range(const HdSpec *spec, guint64 memory_min, guint64 memory_max,
                                  GError **error)
{
    GVariantBuilder b;
    g_autoptr(GVariant) dict = NULL;
    g_autoptr(HdSpec) range = NULL;
    HdSpec *r;

    /* Through the spec's own table: the same bounds and messages as CreateWorkspace. */
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "memory_min", g_variant_new_uint64(memory_min));
    g_variant_builder_add(&b, "{sv}", "memory_max", g_variant_new_uint64(memory_max));
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    range = hd_spec_from_variant(dict, error);
    if (range == NULL)
        return NULL;
    if (memory_min > memory_max) {
        g_autofree char *lo = hd_size_format(memory_min);
        g_autofree char *hi = hd_size_format(memory_max);
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "key 'memory_min': %s is above memory_max (%s)", lo, hi);
        return NULL;
    }
    r = hd_spec_copy(spec);
    r->memory_min = memory_min;
    r->memory_max = memory_max;
    r->present |= HD_SPEC_MEMORY_MIN | HD_SPEC_MEMORY_MAX;
    return r;
}
