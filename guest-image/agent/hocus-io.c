/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Workload helper for the test image: file I/O in 1 MiB blocks, fast enough
 * under software emulation (busybox "yes | head" is not).
 *
 *   hocus-io write PATH MIB   write MIB of non-zero data (zero blocks would be
 *                             stored as holes: detect_zeroes=unmap) and fsync
 *   hocus-io read PATH        read PATH to the end (fills the page cache)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (1u << 20)

static char buf[BLOCK];

int main(int argc, char **argv)
{
    unsigned long long total = 0;
    int fd;

    if (argc == 4 && strcmp(argv[1], "write") == 0) {
        char *end;
        unsigned long mib = strtoul(argv[3], &end, 10);

        if (*end != '\0' || mib == 0 || mib > 1ul << 20) {
            fprintf(stderr, "hocus-io: bad size '%s'\n", argv[3]);
            return 2;
        }
        fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            perror(argv[2]);
            return 1;
        }
        for (unsigned long i = 0; i < mib; i++) {
            memset(buf, (int)('a' + i % 26), sizeof(buf));
            if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
                perror("hocus-io: write");
                return 1;
            }
        }
        if (fsync(fd) < 0 || close(fd) < 0) {
            perror("hocus-io: fsync");
            return 1;
        }
        printf("wrote %lu MiB\n", mib);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "read") == 0) {
        ssize_t n;

        fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror(argv[2]);
            return 1;
        }
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            total += (unsigned long long)n;
        close(fd);
        if (n < 0) {
            perror("hocus-io: read");
            return 1;
        }
        printf("read %llu MiB\n", total >> 20);
        return 0;
    }
    fprintf(stderr, "usage: hocus-io write PATH MIB | read PATH\n");
    return 2;
}
