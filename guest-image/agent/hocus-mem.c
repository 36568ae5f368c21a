/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Workload helper for the test image: allocate N MiB of anonymous memory,
 * touch it through a volatile pointer (so the compiler cannot drop the
 * writes), read it back, hold it, then free it all or every other 4 KiB page.
 *
 *   hocus-mem alloc N [HOLD_S]   allocate N MiB, hold, free everything, exit
 *   hocus-mem frag N [HOLD_S]    allocate N MiB, free every other page, hold the
 *                                rest for HOLD_S seconds (default: until killed)
 *
 * It prints "allocated", "freed", ... lines that tests wait for.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096ul

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void hold(long seconds)
{
    for (long i = 0; !stop && (seconds < 0 || i < seconds * 10); i++)
        usleep(100000);
}

int main(int argc, char **argv)
{
    unsigned long mib, bytes, sum = 0;
    long hold_s;
    volatile unsigned char *p;
    char *end;

    if (argc < 3 || (strcmp(argv[1], "alloc") != 0 && strcmp(argv[1], "frag") != 0)) {
        fprintf(stderr, "usage: hocus-mem alloc|frag MIB [HOLD_SECONDS]\n");
        return 2;
    }
    mib = strtoul(argv[2], &end, 10);
    if (*end != '\0' || mib == 0 || mib > 1ul << 20) {
        fprintf(stderr, "hocus-mem: bad size '%s'\n", argv[2]);
        return 2;
    }
    hold_s = argc > 3 ? strtol(argv[3], NULL, 10) : (strcmp(argv[1], "alloc") == 0 ? 0 : -1);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    bytes = mib << 20;
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("hocus-mem: mmap");
        return 1;
    }
    for (unsigned long off = 0; off < bytes; off += PAGE)
        p[off] = (unsigned char)(off / PAGE + 1);
    for (unsigned long off = 0; off < bytes; off += PAGE)
        sum += p[off];
    printf("allocated %lu MiB (checksum %lu)\n", mib, sum);
    fflush(stdout);

    if (strcmp(argv[1], "alloc") == 0) {
        hold(hold_s);
        munmap((void *)p, bytes);
        printf("freed %lu MiB\n", mib);
        fflush(stdout);
        return 0;
    }
    /* Every other 4 KiB page back to the kernel: free memory the buddy
     * allocator cannot merge into larger blocks. */
    for (unsigned long off = PAGE; off < bytes; off += 2 * PAGE)
        munmap((void *)(p + off), PAGE);
    printf("freed %lu MiB fragmented (every other page)\n", mib / 2);
    fflush(stdout);
    hold(hold_s);
    return 0;
}
