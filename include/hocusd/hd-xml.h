/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/*
 * Small libxml2 helpers shared by the XML builders. Parsing never touches
 * the network and never expands entities: the text may come from libvirt,
 * which anybody with virsh can edit.
 */
xmlDocPtr hd_xml_parse(const char *xml, GError **error);

/* Serialise a node (formatted, no XML declaration); frees it when own is TRUE. */
char *hd_xml_node_to_string(xmlNodePtr node, gboolean own);

/* First element child of parent called name, or NULL. */
xmlNodePtr hd_xml_child(xmlNodePtr parent, const char *name);

G_END_DECLS
