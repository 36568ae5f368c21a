/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-governor.h"
#include "hocusd/hd-agent-line.h"
#include "hocusd/hd-libvirt-ops.h"

#define LOG_MAX 200

typedef struct {
    char *name;
    HdPolicyVmState st;
    guint64 seq;        /* reclaim requests sent */
    gboolean inflight;  /* a balloon job is out */
    gboolean have_want; /* a target still to send once it is back */
    guint64 want, sent; /* bytes */
    gboolean published; /* the three properties below are on the object */
    guint64 pub_target;
    HdVmPolicyState pub_state;
    char pub_reason[128];
} GovVm;

typedef struct {
    gint64 time_usec;
    char *workspace;
    char *state;
    guint64 target, previous, reclaim;
    gboolean applied;
    char *reason;
} LogEntry;

struct _HdGovernor {
    HdDaemon *d;
    HdPolicyMode mode;
    HdPolicyParams params;
    HdPolicyHostState host;
    GHashTable *vms; /* name -> GovVm */
    GQueue log;      /* LogEntry, oldest first */
    gulong log_id;
    guint inflight;
    gboolean stopping;
};

static void gov_vm_free(GovVm *v)
{
    g_free(v->name);
    g_free(v);
}

static void log_entry_free(LogEntry *e)
{
    g_free(e->workspace);
    g_free(e->state);
    g_free(e->reason);
    g_free(e);
}

static void governor_destroy(HdGovernor *g)
{
    g_queue_clear_full(&g->log, (GDestroyNotify)log_entry_free);
    g_free(g);
}

/* ---- the log and the signal ---- */

static void record(HdGovernor *g, HdWorkspace *ws, const GovVm *v, guint64 previous, guint64 target,
                   guint64 reclaim, gboolean applied, const char *reason)
{
    LogEntry *e = g_new0(LogEntry, 1);
    const char *state = hd_vm_policy_state_name(v->st.state);

    e->time_usec = g_get_real_time();
    e->workspace = g_strdup(v->name);
    e->state = g_strdup(state);
    e->target = target;
    e->previous = previous;
    e->reclaim = reclaim;
    e->applied = applied;
    e->reason = g_strdup(reason);
    g_queue_push_tail(&g->log, e);
    while (g_queue_get_length(&g->log) > LOG_MAX)
        log_entry_free(g_queue_pop_head(&g->log));
    hd_dbus_manager_emit_policy_decision(g->d->manager, hd_workspace_get_path(ws), state, target,
                                         reclaim, applied, reason);
    /* Observe mode decides every tick a real host would act: journal lines
     * only for what is done; the log and the signal have the rest. */
    if (g->mode != HD_POLICY_ACTIVE)
        return;
    if (reclaim > 0)
        g_message("Policy (%s): workspace %s: asked to drop %" G_GUINT64_FORMAT " MiB of page "
                  "cache: %s",
                  hd_policy_mode_name(g->mode), v->name, reclaim >> 20, reason);
    else
        g_message("Policy (%s): workspace %s: target %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                  " MiB (%s): %s",
                  hd_policy_mode_name(g->mode), v->name, previous >> 20, target >> 20, state,
                  reason);
}

static gboolean handle_get_policy_log(HdDbusManager *mgr, GDBusMethodInvocation *invocation,
                                      HdGovernor *g)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
    for (GList *l = g->log.head; l != NULL; l = l->next) {
        const LogEntry *e = l->data;

        g_variant_builder_open(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "time_usec", g_variant_new_uint64((guint64)e->time_usec));
        g_variant_builder_add(&b, "{sv}", "workspace", g_variant_new_string(e->workspace));
        g_variant_builder_add(&b, "{sv}", "state", g_variant_new_string(e->state));
        g_variant_builder_add(&b, "{sv}", "target_bytes", g_variant_new_uint64(e->target));
        g_variant_builder_add(&b, "{sv}", "previous_bytes", g_variant_new_uint64(e->previous));
        g_variant_builder_add(&b, "{sv}", "reclaim_bytes", g_variant_new_uint64(e->reclaim));
        g_variant_builder_add(&b, "{sv}", "applied", g_variant_new_boolean(e->applied));
        g_variant_builder_add(&b, "{sv}", "reason", g_variant_new_string(e->reason));
        g_variant_builder_close(&b);
    }
    hd_dbus_manager_complete_get_policy_log(mgr, invocation, g_variant_builder_end(&b));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- balloon targets, one job per workspace at a time ---- */

typedef struct {
    HdGovernor *g;
    char *name;
    guint64 bytes;
} BalloonJob;

static void balloon_job_free(BalloonJob *j)
{
    g_free(j->name);
    g_free(j);
}

static gpointer balloon_thread(virConnectPtr conn, gpointer data, GError **error)
{
    BalloonJob *j = data;

    return hd_libvirt_set_balloon(conn, j->name, j->bytes, error) ? j : NULL;
}

static void send_balloon(HdGovernor *g, GovVm *v);

static void balloon_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    BalloonJob *j = hd_job_data(res);
    HdGovernor *g = j->g;
    g_autoptr(GError) error = NULL;
    GovVm *v;

    (void)hd_job_finish(res, &error);
    g->inflight--;
    if (g->stopping) {
        if (g->inflight == 0)
            governor_destroy(g);
        return;
    }
    v = g_hash_table_lookup(g->vms, j->name);
    if (v == NULL)
        return; /* stopped or gone meanwhile */
    v->inflight = FALSE;
    if (error != NULL)
        g_warning("Policy: workspace %s: cannot set the balloon to %" G_GUINT64_FORMAT " MiB: %s",
                  j->name, j->bytes >> 20, error->message);
    else
        v->sent = j->bytes;
    if (v->have_want && v->want != j->bytes)
        send_balloon(g, v); /* a newer target came in meanwhile */
    else
        v->have_want = FALSE;
}

static void send_balloon(HdGovernor *g, GovVm *v)
{
    BalloonJob *j;

    if (v->inflight)
        return; /* balloon_done() sends the newest target */
    j = g_new0(BalloonJob, 1);
    j->g = g;
    j->name = g_strdup(v->name);
    j->bytes = v->want;
    v->inflight = TRUE;
    g->inflight++;
    hd_job_run(g->d->hv, balloon_thread, j, (GDestroyNotify)balloon_job_free, balloon_done, NULL);
}

/* ---- carrying out one workspace's actions ---- */

static void carry_out(HdGovernor *g, const HdGovernorInput *in, GovVm *v, guint64 previous,
                      const HdPolicyAction *a)
{
    gboolean active = g->mode == HD_POLICY_ACTIVE;

    if (a->reclaim) {
        gboolean applied = FALSE;

        if (active && in->channel != NULL) {
            g_autofree char *line = hd_agent_request_reclaim(++v->seq, a->reclaim_bytes);
            g_autoptr(GError) error = NULL;

            applied = hd_agent_channel_send(in->channel, line, &error);
            if (!applied)
                g_message("Policy: workspace %s: reclaim request not sent: %s", v->name,
                          error != NULL ? error->message : "the guest is not reading");
        }
        record(g, in->ws, v, previous, previous, a->reclaim_bytes, applied, v->st.reason);
    }
    if (a->set_target) {
        if (active) {
            v->want = a->target_bytes;
            v->have_want = TRUE;
            send_balloon(g, v);
        }
        record(g, in->ws, v, previous, a->target_bytes, 0, active, v->st.reason);
    }
}

static void publish_vm(HdWorkspace *ws, GovVm *v, const HdPolicyVm *vm)
{
    HdDbusWorkspace *iface = hd_workspace_get_iface(ws);
    guint64 target = v->st.have_target ? v->st.target_bytes : vm->memory_max;

    /* Only what changed: the generated setters would signal each call. */
    if (!v->published || v->pub_target != target)
        hd_dbus_workspace_set_policy_target_bytes(iface, target);
    if (!v->published || v->pub_state != v->st.state)
        hd_dbus_workspace_set_policy_state(iface, hd_vm_policy_state_name(v->st.state));
    if (!v->published || strcmp(v->pub_reason, v->st.reason) != 0)
        hd_dbus_workspace_set_policy_reason(iface, v->st.reason);
    v->published = TRUE;
    v->pub_target = target;
    v->pub_state = v->st.state;
    g_strlcpy(v->pub_reason, v->st.reason, sizeof(v->pub_reason));
}

static void publish_host(HdGovernor *g, const HdBudgetSample *budget)
{
    HdDbusManager *mgr = g->d->manager;
    guint64 target =
        budget->have_budget ? hd_policy_host_target(&g->params, budget->budget_bytes) : 0;

    hd_dbus_manager_set_policy_host_level(mgr, hd_host_level_name(g->host.level));
    hd_dbus_manager_set_policy_host_reason(mgr, g->host.reason);
    hd_dbus_manager_set_policy_budget_bytes(mgr, budget->have_budget ? budget->budget_bytes : 0);
    hd_dbus_manager_set_policy_available_bytes(mgr,
                                               budget->have_budget ? budget->available_bytes : 0);
    hd_dbus_manager_set_policy_host_target_bytes(mgr, target);
}

static GovVm *gov_vm(HdGovernor *g, const char *name)
{
    GovVm *v = g_hash_table_lookup(g->vms, name);

    if (v == NULL) {
        v = g_new0(GovVm, 1);
        v->name = g_strdup(name);
        g_hash_table_insert(g->vms, v->name, v);
    }
    return v;
}

void hd_governor_tick(HdGovernor *g, guint64 now, const HdHostSample *host,
                      const HdBudgetSample *budget, const HdGovernorInput *in, guint n)
{
    g_autofree HdPolicyVm *vms = g_new0(HdPolicyVm, n + 1);
    g_autofree HdPolicyVmState *states = g_new0(HdPolicyVmState, n + 1);
    g_autofree HdPolicyAction *actions = g_new0(HdPolicyAction, n + 1);
    g_autofree GovVm **gv = g_new0(GovVm *, n + 1);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    HdPolicyHost h = { .have_psi = host->have_psi,
                       .some_avg10 = host->psi.some.avg10,
                       .full_avg10 = host->psi.full.avg10,
                       .have_budget = budget->have_budget,
                       .budget_bytes = budget->budget_bytes,
                       .available_bytes = budget->available_bytes };
    GHashTableIter it;
    GovVm *v;

    for (guint i = 0; i < n; i++) {
        gv[i] = gov_vm(g, hd_workspace_get_name(in[i].ws));
        vms[i] = in[i].vm;
        states[i] = gv[i]->st;
        g_hash_table_add(seen, gv[i]->name);
    }
    /* A workspace that stopped starts over at its next boot. */
    g_hash_table_iter_init(&it, g->vms);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&v)) {
        if (!g_hash_table_contains(seen, v->name) && !v->inflight)
            g_hash_table_iter_remove(&it);
    }
    hd_policy_tick(&g->params, g->mode, now, &h, &g->host, vms, states, actions, n);
    for (guint i = 0; i < n; i++) {
        guint64 previous = gv[i]->st.have_target ? gv[i]->st.target_bytes
                           : vms[i].have_balloon ? vms[i].balloon_bytes
                                                 : vms[i].memory_max;

        gv[i]->st = states[i];
        carry_out(g, &in[i], gv[i], previous, &actions[i]);
        publish_vm(in[i].ws, gv[i], &vms[i]);
    }
    publish_host(g, budget);
}

HdGovernor *hd_governor_new(HdDaemon *d)
{
    HdGovernor *g = g_new0(HdGovernor, 1);
    const HdPolicyConfig *pc = &d->config->policy;

    g->d = d;
    if (!hd_policy_mode_parse(pc->mode, &g->mode))
        g->mode = HD_POLICY_OBSERVE; /* the config parser allows nothing else */
    hd_policy_params_from_config(&g->params, pc);
    g->vms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)gov_vm_free);
    g_queue_init(&g->log);
    hd_dbus_manager_set_policy_mode(d->manager, hd_policy_mode_name(g->mode));
    hd_dbus_manager_set_policy_host_level(d->manager, "steady");
    g->log_id =
        g_signal_connect(d->manager, "handle-get-policy-log", G_CALLBACK(handle_get_policy_log), g);
    g_message("Memory policy: %s", hd_policy_mode_name(g->mode));
    return g;
}

void hd_governor_free(HdGovernor *g)
{
    if (g == NULL)
        return;
    g_signal_handler_disconnect(g->d->manager, g->log_id);
    g_hash_table_unref(g->vms);
    g->vms = NULL;
    if (g->inflight == 0)
        governor_destroy(g);
    else
        g->stopping = TRUE;
}
