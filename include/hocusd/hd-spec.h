/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-config.h"
#include "hocusd/hd-size.h"

G_BEGIN_DECLS

/* Bounds of a workspace spec (inclusive). */
#define HD_SPEC_VCPUS_MIN          1
#define HD_SPEC_VCPUS_MAX          128
#define HD_SPEC_MEMORY_MIN_BYTES   (128 * HD_MiB) /* lowest memory_max */
#define HD_SPEC_MEMORY_FLOOR_BYTES (64 * HD_MiB)  /* lowest memory_min */
#define HD_SPEC_MEMORY_MAX_BYTES   (1 * HD_TiB)
#define HD_SPEC_DISK_MIN_BYTES     (64 * HD_MiB)
#define HD_SPEC_DISK_MAX_BYTES     (16 * HD_TiB)
#define HD_SPEC_SIZE_ALIGN         HD_MiB /* sizes are whole MiB */

/* Bits of HdSpec.present: which keys the caller gave. */
typedef enum {
    HD_SPEC_NAME = 1 << 0,
    HD_SPEC_VCPUS = 1 << 1,
    HD_SPEC_MEMORY_MAX = 1 << 2,
    HD_SPEC_MEMORY_MIN = 1 << 3,
    HD_SPEC_DISK_SIZE = 1 << 4,
    HD_SPEC_BASE_IMAGE = 1 << 5,
    HD_SPEC_KERNEL = 1 << 6,
    HD_SPEC_INITRD = 1 << 7,
    HD_SPEC_CMDLINE_EXTRA = 1 << 8,
} HdSpecField;

#define HD_SPEC_ALL_FIELDS ((guint64)0x1ff)

typedef struct {
    char *name;
    guint vcpus;
    guint64 memory_max;
    guint64 memory_min;
    guint64 disk_size;
    char *base_image; /* optional: disk is a qcow2 overlay on top of it */
    char *kernel;
    char *initrd;
    char *cmdline_extra; /* appended before the recipe */
    guint64 present;     /* HdSpecField bits */
} HdSpec;

HdSpec *hd_spec_new(void);
HdSpec *hd_spec_copy(const HdSpec *spec);
void hd_spec_free(HdSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdSpec, hd_spec_free)

/* Parse a spec sent over D-Bus (a{sv}); errors are HD_ERROR_INVALID_SPEC. */
HdSpec *hd_spec_from_variant(GVariant *dict, GError **error);

/* Parse a spec written as a JSON object (hocusctl --spec FILE). */
HdSpec *hd_spec_from_json(const char *text, gsize len, GError **error);

/*
 * Fill what the caller left out from the configuration's defaults and check
 * the rules between keys (memory_min <= memory_max, ...). The result has
 * every field but base_image and cmdline_extra set.
 */
HdSpec *hd_spec_resolve(const HdSpec *spec, const HdConfig *config, GError **error);

/* A copy of a resolved spec with a new memory range, checked as
 * CreateWorkspace checks it (HD_ERROR_INVALID_SPEC). */
HdSpec *hd_spec_with_memory_range(const HdSpec *spec, guint64 memory_min, guint64 memory_max,
                                  GError **error);

/* a{sv} with the present keys only; sizes as uint64 bytes. */
GVariant *hd_spec_to_variant(const HdSpec *spec);

G_END_DECLS
