/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/*
 * The libvirt connection: opened off the main loop, watched with keepalive and
 * a close callback, reopened with exponential backoff when it drops (for
 * example when libvirtd restarts). Running VMs are never touched by any of it.
 *
 * libvirt's events are dispatched on the GLib main loop (libvirt-glib's
 * gvir_event_register()), so every callback below runs on the main thread.
 */
typedef struct _HdHypervisor HdHypervisor;

typedef struct {
    /* A connection is up and lifecycle events are registered. */
    void (*connected)(HdHypervisor *hv, gpointer user_data);
    /* The connection dropped; a reconnect is scheduled. */
    void (*disconnected)(HdHypervisor *hv, const char *reason, gpointer user_data);
    /* An attempt failed; next_retry_ms until the next one. */
    void (*connect_failed)(HdHypervisor *hv, const char *message, guint attempt,
                           guint next_retry_ms, gpointer user_data);
    /* A domain lifecycle event (virDomainEventType and its detail). */
    void (*domain_event)(HdHypervisor *hv, const char *name, int event, int detail,
                         gpointer user_data);
} HdHypervisorCallbacks;

/* Call once, before any connection: routes libvirt's events to the GLib loop. */
void hd_hypervisor_global_init(void);

/* keepalive: a ping after interval_s of silence, dead after count unanswered. */
HdHypervisor *hd_hypervisor_new(const char *uri, guint keepalive_interval_s, guint keepalive_count,
                                const HdHypervisorCallbacks *callbacks, gpointer user_data);
/* Start connecting (and keep reconnecting until stopped). */
void hd_hypervisor_start(HdHypervisor *hv);
/* Close the connection and stop reconnecting; VMs keep running. */
void hd_hypervisor_stop(HdHypervisor *hv);
/* Worker jobs hold references, so the object outlives a stop in progress. */
HdHypervisor *hd_hypervisor_ref(HdHypervisor *hv);
void hd_hypervisor_unref(HdHypervisor *hv);

gboolean hd_hypervisor_is_connected(HdHypervisor *hv);

/*
 * A reference to the current connection for a worker thread (release it with
 * virConnectClose()), or NULL with HD_ERROR_UNAVAILABLE when disconnected.
 */
virConnectPtr hd_hypervisor_ref_conn(HdHypervisor *hv, GError **error);

G_END_DECLS
