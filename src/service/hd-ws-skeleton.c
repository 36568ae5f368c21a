/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-ws-skeleton.h"

#define HD_TYPE_WS_SKELETON (hd_ws_skeleton_get_type())
G_DECLARE_FINAL_TYPE(HdWsSkeleton, hd_ws_skeleton, HD, WS_SKELETON, HdDbusWorkspaceSkeleton)

struct _HdWsSkeleton {
    HdDbusWorkspaceSkeleton parent;
    HdPublished published;
    guint64 sample_time; /* the value */
    guint64 synced;      /* what the generated property holds */
};

static void iface_init(HdDbusWorkspaceIface *iface);

G_DEFINE_TYPE_WITH_CODE(HdWsSkeleton, hd_ws_skeleton, HD_DBUS_TYPE_WORKSPACE_SKELETON,
                        G_IMPLEMENT_INTERFACE(HD_DBUS_TYPE_WORKSPACE, iface_init))

/* The generated skeleton's D-Bus handlers, which read the generated property. */
static GDBusInterfaceVTable parent_vtable;
static GDBusInterfaceVTable vtable;

/* Before anything reads the generated property. */
static void sync_property(HdWsSkeleton *self)
{
    if (self->synced == self->sample_time)
        return;
    self->synced = self->sample_time;
    hd_dbus_workspace_set_sample_time_usec(HD_DBUS_WORKSPACE(self), self->sample_time);
}

static guint64 get_sample_time_usec(HdDbusWorkspace *object)
{
    return HD_WS_SKELETON(object)->sample_time;
}

static void iface_init(HdDbusWorkspaceIface *iface)
{
    iface->get_sample_time_usec = get_sample_time_usec;
}

/* Properties.Get and GetAll, through the object's registration. */
static GVariant *handle_get_property(GDBusConnection *connection, const gchar *sender,
                                     const gchar *object_path, const gchar *interface_name,
                                     const gchar *property_name, GError **error, gpointer user_data)
{
    sync_property(HD_WS_SKELETON(user_data));
    return parent_vtable.get_property(connection, sender, object_path, interface_name,
                                      property_name, error, user_data);
}

static GDBusInterfaceVTable *get_vtable(GDBusInterfaceSkeleton *skeleton)
{
    return &vtable;
}

/* GetManagedObjects and InterfacesAdded. */
static GVariant *get_properties(GDBusInterfaceSkeleton *skeleton)
{
    sync_property(HD_WS_SKELETON(skeleton));
    return G_DBUS_INTERFACE_SKELETON_CLASS(hd_ws_skeleton_parent_class)->get_properties(skeleton);
}

static void finalize(GObject *object)
{
    g_free(HD_WS_SKELETON(object)->published.agent_line);
    G_OBJECT_CLASS(hd_ws_skeleton_parent_class)->finalize(object);
}

static void hd_ws_skeleton_class_init(HdWsSkeletonClass *klass)
{
    GDBusInterfaceSkeletonClass *sk = G_DBUS_INTERFACE_SKELETON_CLASS(klass);
    GDBusInterfaceSkeletonClass *parent =
        G_DBUS_INTERFACE_SKELETON_CLASS(hd_ws_skeleton_parent_class);

    parent_vtable = *parent->get_vtable(NULL); /* the generated one ignores its argument */
    vtable = parent_vtable;
    vtable.get_property = handle_get_property;
    sk->get_vtable = get_vtable;
    sk->get_properties = get_properties;
    G_OBJECT_CLASS(klass)->finalize = finalize;
}

static void hd_ws_skeleton_init(HdWsSkeleton *self)
{
}

HdDbusWorkspace *hd_ws_skeleton_new(void)
{
    return HD_DBUS_WORKSPACE(g_object_new(HD_TYPE_WS_SKELETON, NULL));
}

HdPublished *hd_ws_skeleton_published(HdDbusWorkspace *iface)
{
    return &HD_WS_SKELETON(iface)->published;
}

void hd_ws_skeleton_set_sample_time(HdDbusWorkspace *iface, guint64 usec)
{
    HD_WS_SKELETON(iface)->sample_time = usec;
}
