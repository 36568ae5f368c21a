/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-spec.h"

G_BEGIN_DECLS

/*
 * What hocusd keeps in a domain's <metadata>, under HD_XMLNS_URI. libvirt is
 * the only store: after a restart hocusd rebuilds every workspace from this.
 */
typedef struct {
    HdSpec *spec;        /* resolved spec */
    char *storage_pool;  /* where the disk volume lives */
    char *volume;        /* volume name inside the pool */
    gint64 created_usec; /* wall clock, microseconds since the epoch */
} HdMetadata;

#define HD_METADATA_VERSION "1"

void hd_metadata_free(HdMetadata *md);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdMetadata, hd_metadata_free)

/*
 * The <workspace> element without a namespace; libvirt-gconfig puts it and
 * its children into HD_XMLNS_URI (gvir_config_domain_set_custom_xml_ns_children).
 */
char *hd_metadata_to_xml(const HdMetadata *md);

/*
 * Parse the element that virDomainGetMetadata() returns. The content is
 * validated like a spec from D-Bus: anybody with virsh can edit it.
 */
HdMetadata *hd_metadata_from_xml(const char *xml, GError **error);

G_END_DECLS
