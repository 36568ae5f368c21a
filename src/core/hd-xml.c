/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <string.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-xml.h"

xmlDocPtr hd_xml_parse(const char *xml, GError **error)
{
    xmlDocPtr doc;
    size_t len;

    if (xml == NULL) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "no XML text");
        return NULL;
    }
    len = strlen(xml);
    if (len > G_MAXINT) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "XML text is too large");
        return NULL;
    }
    doc = xmlReadMemory(xml, (int)len, "hocusd.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
        const xmlError *e = xmlGetLastError();
        g_autofree char *why = g_strdup(e != NULL && e->message != NULL ? e->message : "");

        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "malformed XML%s%s", *why ? ": " : "",
                    g_strchomp(why));
        if (doc != NULL)
            xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

char *hd_xml_node_to_string(xmlNodePtr node, gboolean own)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlSaveCtxtPtr ctx = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    char *out;

    xmlSaveTree(ctx, node);
    xmlSaveClose(ctx);
    out = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    if (own)
        xmlFreeNode(node);
    return out;
}

xmlNodePtr hd_xml_child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return n;
    }
    return NULL;
}
