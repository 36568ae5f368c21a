/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-metadata"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-metadata.h"
#include "hocusd/hd-names.h"
#include "hocusd/hd-xml.h"

void hd_metadata_free(HdMetadata *md)
{
    if (md == NULL)
        return;
    hd_spec_free(md->spec);
    g_free(md->storage_pool);
    g_free(md->volume);
    g_free(md);
}

static void add_text(xmlNodePtr parent, const char *name, const char *value)
{
    /* xmlNewTextChild escapes value; nothing here goes through printf. */
    if (value != NULL)
        xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST value);
}

static void add_u64(xmlNodePtr parent, const char *name, guint64 value)
{
    char buf[32];

    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, value);
    add_text(parent, name, buf);
}

char *hd_metadata_to_xml(const HdMetadata *md)
{
    const HdSpec *s = md->spec;
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "workspace");
    char buf[32];

    xmlNewProp(root, BAD_CAST "version", BAD_CAST HD_METADATA_VERSION);
    add_text(root, "name", s->name);
    add_u64(root, "vcpus", s->vcpus);
    add_u64(root, "memory_max", s->memory_max);
    add_u64(root, "memory_min", s->memory_min);
    add_u64(root, "disk_size", s->disk_size);
    add_text(root, "base_image", s->base_image);
    add_text(root, "kernel", s->kernel);
    add_text(root, "initrd", s->initrd);
    add_text(root, "cmdline_extra", s->cmdline_extra);
    add_text(root, "storage_pool", md->storage_pool);
    add_text(root, "volume", md->volume);
    g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, md->created_usec);
    add_text(root, "created_usec", buf);
    return hd_xml_node_to_string(root, TRUE);
}

/* Spec keys whose text is a decimal number. */
static gboolean is_numeric_key(const char *key)
{
    static const char *const keys[] = { "vcpus", "memory_max", "memory_min", "disk_size", NULL };

    return g_strv_contains(keys, key);
}

static gboolean parse_u64(const char *key, const char *text, guint64 *out, GError **error)
{
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, out, NULL)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "key '%s': '%s' is not a number", key,
                    text);
        return FALSE;
    }
    return TRUE;
}

static HdMetadata *metadata_from_root(xmlNodePtr root, GError **error)
{
    g_autoptr(HdMetadata) md = g_new0(HdMetadata, 1);
    g_autofree char *version = NULL;
    GVariantBuilder spec;
    g_autoptr(GVariant) dict = NULL;

    /* virDomainGetMetadata() returns the element with its namespace stripped
     * (the caller named the namespace); the domain XML carries it. Take both. */
    if (root == NULL || strcmp((const char *)root->name, "workspace") != 0 ||
        (root->ns != NULL && strcmp((const char *)root->ns->href, HD_XMLNS_URI) != 0)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "expected a <workspace> element of namespace %s", HD_XMLNS_URI);
        return NULL;
    }
    version = (char *)xmlGetProp(root, BAD_CAST "version");
    if (g_strcmp0(version, HD_METADATA_VERSION) != 0) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "unsupported metadata version '%s' (this hocusd reads version %s)",
                    version != NULL ? version : "(none)", HD_METADATA_VERSION);
        return NULL;
    }

    g_variant_builder_init(&spec, G_VARIANT_TYPE_VARDICT);
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        g_autofree char *text = NULL;
        const char *key = (const char *)n->name;
        guint64 u;

        if (n->type != XML_ELEMENT_NODE)
            continue;
        text = (char *)xmlNodeGetContent(n);
        if (text == NULL)
            text = g_strdup("");
        if (strcmp(key, "storage_pool") == 0) {
            g_free(md->storage_pool);
            md->storage_pool = g_steal_pointer(&text);
        } else if (strcmp(key, "volume") == 0) {
            g_free(md->volume);
            md->volume = g_steal_pointer(&text);
        } else if (strcmp(key, "created_usec") == 0) {
            if (!parse_u64(key, text, &u, error)) {
                g_variant_builder_clear(&spec);
                return NULL;
            }
            md->created_usec = (gint64)MIN(u, (guint64)G_MAXINT64);
        } else if (is_numeric_key(key)) {
            if (!parse_u64(key, text, &u, error)) {
                g_variant_builder_clear(&spec);
                return NULL;
            }
            g_variant_builder_add(&spec, "{sv}", key, g_variant_new_uint64(u));
        } else {
            /* Unknown keys are rejected by the spec parser with their name. */
            g_variant_builder_add(&spec, "{sv}", key, g_variant_new_string(text));
        }
    }
    dict = g_variant_ref_sink(g_variant_builder_end(&spec));
    md->spec = hd_spec_from_variant(dict, error);
    if (md->spec == NULL)
        return NULL;
    if (!(md->spec->present & HD_SPEC_NAME) || md->storage_pool == NULL || md->volume == NULL ||
        (md->spec->present & (HD_SPEC_VCPUS | HD_SPEC_MEMORY_MAX | HD_SPEC_MEMORY_MIN |
                              HD_SPEC_DISK_SIZE | HD_SPEC_KERNEL | HD_SPEC_INITRD)) !=
            (HD_SPEC_VCPUS | HD_SPEC_MEMORY_MAX | HD_SPEC_MEMORY_MIN | HD_SPEC_DISK_SIZE |
             HD_SPEC_KERNEL | HD_SPEC_INITRD)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "metadata lacks a required element (name, vcpus, memory_max, memory_min, "
                    "disk_size, kernel, initrd, storage_pool, volume)");
        return NULL;
    }
    if (md->spec->memory_min > md->spec->memory_max) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "key 'memory_min': above memory_max");
        return NULL;
    }
    return g_steal_pointer(&md);
}

HdMetadata *hd_metadata_from_xml(const char *xml, GError **error)
{
    xmlDocPtr doc;
    HdMetadata *md;

    doc = hd_xml_parse(xml, error);
    if (doc == NULL)
        return NULL;
    md = metadata_from_root(xmlDocGetRootElement(doc), error);
    xmlFreeDoc(doc);
    if (md == NULL)
        g_prefix_error(error, "workspace metadata: ");
    return md;
}
