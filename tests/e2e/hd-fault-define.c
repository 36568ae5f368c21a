/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fault for hocusd's create path, loaded with LD_PRELOAD: a define of a
 * domain whose XML names HD_FAULT_DEFINE_NAME reaches the real libvirtd with
 * an element the schema does not allow, so libvirt itself refuses it (a real
 * libvirt error, after hocusd made the volume). Every other call goes
 * through unchanged.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>

typedef virDomainPtr (*DefineFn)(virConnectPtr, const char *, unsigned int);

static char *with_bad_element(const char *xml)
{
    const char *end = strstr(xml, "</domain>");
    size_t head;
    char *out;

    if (end == NULL)
        return NULL;
    head = (size_t)(end - xml);
    if (asprintf(&out, "%.*s<hd-fault-define/></domain>", (int)head, xml) < 0)
        return NULL;
    return out;
}

virDomainPtr virDomainDefineXMLFlags(virConnectPtr conn, const char *xml, unsigned int flags)
{
    static DefineFn real;
    const char *name = getenv("HD_FAULT_DEFINE_NAME");
    char tag[300];
    char *bad = NULL;
    virDomainPtr dom;

    if (real == NULL)
        real = (DefineFn)dlsym(RTLD_NEXT, "virDomainDefineXMLFlags");
    if (name != NULL && xml != NULL) {
        snprintf(tag, sizeof(tag), "<name>%s</name>", name);
        if (strstr(xml, tag) != NULL)
            bad = with_bad_element(xml);
    }
    /* With the schema check on, libvirt rejects the unknown element. */
    dom = real(conn, bad != NULL ? bad : xml,
               bad != NULL ? flags | VIR_DOMAIN_DEFINE_VALIDATE : flags);
    free(bad);
    return dom;
}
