/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-host.h"

gboolean hd_host_has_kvm(const char *root)
{
    g_autofree char *path = g_build_filename(root != NULL ? root : "/", "dev", "kvm", NULL);

    return access(path, R_OK | W_OK) == 0;
}

gboolean hd_host_check_file(const char *key, const char *path, GError **error)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        int e = errno;
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "key '%s': %s: %s", key, path,
                    g_strerror(e));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "key '%s': %s is not a regular file",
                    key, path);
        return FALSE;
    }
    return TRUE;
}

char *hd_host_image_format(const char *path, GError **error)
{
    static const unsigned char qcow2_magic[4] = { 'Q', 'F', 'I', 0xfb };
    unsigned char head[4] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        int e = errno;
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "key 'base_image': %s: %s", path,
                    g_strerror(e));
        return NULL;
    }
    n = read(fd, head, sizeof(head));
    close(fd);
    return g_strdup(n == (ssize_t)sizeof(head) && memcmp(head, qcow2_magic, 4) == 0 ? "qcow2"
                                                                                    : "raw");
}
