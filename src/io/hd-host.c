/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-host.h"
#include "hocusd/hd-image.h"

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

static gboolean under(const char *path, const char *dir)
{
    gsize n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

gboolean hd_host_check_caller_file(const char *key, const char *path, const char *shared_dir,
                                   char **resolved, GError **error)
{
    g_autofree char *real_dir = NULL, *real = NULL;
    struct stat st;

    if (!under(path, shared_dir)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "key '%s': %s is not under %s (callers other than root may only name files "
                    "there)",
                    key, path, shared_dir);
        return FALSE;
    }
    real_dir = realpath(shared_dir, NULL);
    real = realpath(path, NULL);
    if (real_dir == NULL || real == NULL || !under(real, real_dir) || stat(real, &st) < 0 ||
        !S_ISREG(st.st_mode) || !(st.st_mode & S_IROTH)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "key '%s': %s is not a file that every user may read inside %s", key, path,
                    shared_dir);
        return FALSE;
    }
    *resolved = g_steal_pointer(&real);
    return TRUE;
}

gboolean hd_host_image_info(const char *path, char **format, guint64 *virtual_size, GError **error)
{
    unsigned char head[HD_IMAGE_HEADER_BYTES] = { 0 };
    const char *fmt;
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "key 'base_image': %s: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    n = read(fd, head, sizeof(head));
    close(fd);
    hd_image_header_parse(head, n > 0 ? (gsize)n : 0, (guint64)st.st_size, &fmt, virtual_size);
    *format = g_strdup(fmt);
    return TRUE;
}
