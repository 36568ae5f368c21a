/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-jobs.h"

/*
 * Every libvirt call is a round trip to libvirtd that may hang as long as
 * libvirtd or a QEMU does, so none runs on the main loop: a job takes a
 * reference to the current connection and runs on GTask's thread pool; the
 * completion callback runs back on the main loop.
 *
 * The job's data (which may hold workspaces, whose reference count is not
 * atomic) is freed right after that callback, on the main loop: never by the
 * GTask, whose last reference the worker thread may be the one to drop.
 */
typedef struct {
    HdHypervisor *hv;
    HdJobFunc func;
    gpointer data;
    GDestroyNotify data_free;
    GAsyncReadyCallback done;
    gpointer user_data;
} Job;

static void job_free(Job *job)
{
    hd_hypervisor_unref(job->hv);
    if (job->data_free != NULL)
        job->data_free(job->data);
    g_free(job);
}

static void job_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
    Job *job = task_data;
    g_autoptr(GError) error = NULL;
    virConnectPtr conn = hd_hypervisor_ref_conn(job->hv, &error);
    gpointer result;

    if (conn == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    result = job->func(conn, job->data, &error);
    virConnectClose(conn);
    if (error != NULL)
        g_task_return_error(task, g_steal_pointer(&error));
    else
        g_task_return_pointer(task, result, NULL);
}

/* Main loop: the caller's callback, then the job's data goes. */
static void job_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Job *job = data;

    if (job->done != NULL)
        job->done(source, res, job->user_data);
    job_free(job);
}

void hd_job_run(HdHypervisor *hv, HdJobFunc func, gpointer data, GDestroyNotify data_free,
                GAsyncReadyCallback done, gpointer user_data)
{
    Job *job = g_new0(Job, 1);
    g_autoptr(GTask) task = g_task_new(NULL, NULL, job_done, job);

    job->hv = hd_hypervisor_ref(hv);
    job->func = func;
    job->data = data;
    job->data_free = data_free;
    job->done = done;
    job->user_data = user_data;
    g_task_set_task_data(task, job, NULL); /* freed by job_done, on the main loop */
    g_task_run_in_thread(task, job_thread);
}

gpointer hd_job_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}

gpointer hd_job_data(GAsyncResult *res)
{
    Job *job = g_task_get_task_data(G_TASK(res));

    return job->data;
}
