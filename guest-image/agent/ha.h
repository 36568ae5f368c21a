/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * hocus-agent: runs in the workspace guest. Reclaims cold page cache driven by
 * memory pressure (PSI), keeps critical binaries resident, checks the memory
 * recipe, and writes one JSON line of telemetry per second to the virtio-serial
 * port dev.hocus.agent.0 (docs/agent-protocol.md).
 *
 * Plain C and libc only: it is linked statically into the guest image.
 * ha-parse.c, ha-reclaim.c and ha-json.c are pure (no I/O, no clock) and are
 * unit-tested on the host.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HA_PROTOCOL_VERSION 1
#define HA_LINE_MAX         4096 /* bytes per line, newline included */
#define HA_PORT_NAME        "dev.hocus.agent.0"

/* ---- ha-parse.c: parse file contents already read into memory ---- */

/* /proc/meminfo; values in bytes. have_* say which keys were present. */
typedef struct {
    uint64_t total, free, available, cached, buffers, shmem, anon, unevictable, mlocked;
    uint64_t active_file, inactive_file;
    bool have_total, have_free, have_available, have_cached, have_anon, have_file;
} HaMeminfo;

bool ha_parse_meminfo(const char *text, HaMeminfo *out);

/* One PSI line set: "some avg10=.. avg60=.. avg300=.. total=.." (+ "full ..."). */
typedef struct {
    double avg10, avg60, avg300;
    uint64_t total_us;
} HaPsiLine;

typedef struct {
    HaPsiLine some, full;
    bool have_some, have_full;
} HaPsi;

bool ha_parse_psi(const char *text, HaPsi *out);

/* "key value" lines (cgroup memory.stat); FALSE when key is absent. */
bool ha_parse_kv(const char *text, const char *key, uint64_t *value);

/* A single number, or "max" (sets *is_max). */
bool ha_parse_u64_or_max(const char *text, uint64_t *value, bool *is_max);

/* "always madvise [never]" -> "never". Writes at most len-1 chars. */
bool ha_parse_thp_mode(const char *text, char *mode, size_t len);

/* virtio "features" file: a string of '0'/'1', one per feature bit. */
bool ha_feature_bit(const char *features, unsigned bit);

/* "hocus.reclaim=0" style kernel cmdline lookup; value copied into buf. */
bool ha_cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);

/* ---- ha-reclaim.c: the pressure-driven reclaim decision ---- */

typedef struct {
    double pressure_target;  /* stall fraction (0.001 = 0.1 %) above which reclaim backs off */
    uint64_t min_step;       /* bytes; smaller steps are not worth a write */
    uint64_t max_step;       /* bytes per interval at most */
    double step_ratio;       /* share of the reclaimable file cache asked for per step */
    uint64_t file_floor;     /* never reclaim the file cache below this */
    uint64_t backoff_min_us; /* first backoff after a stall */
    uint64_t backoff_max_us; /* backoff doubles up to this */
} HaReclaimParams;

typedef struct {
    bool primed;
    uint64_t last_now_us;
    uint64_t last_stall_us;
    uint64_t backoff_us;       /* length of the current/last backoff */
    uint64_t backoff_until_us; /* no reclaim before this */
} HaReclaimState;

typedef struct {
    uint64_t now_us;
    bool have_psi;
    uint64_t stall_total_us; /* PSI "some" total of the target */
    uint64_t file_bytes;     /* file LRU pages of the target */
} HaReclaimInput;

typedef enum {
    HA_RECLAIM_IDLE,    /* nothing worth reclaiming */
    HA_RECLAIM_RECLAIM, /* reclaim .bytes now */
    HA_RECLAIM_BACKOFF, /* the guest showed stall: hold off */
    HA_RECLAIM_WARMUP,  /* first sample: no rate yet */
} HaReclaimAction;

typedef struct {
    HaReclaimAction action;
    uint64_t bytes;
    double pressure; /* stall fraction over the last interval (-1 without PSI) */
} HaReclaimDecision;

void ha_reclaim_params_default(HaReclaimParams *p);
HaReclaimDecision ha_reclaim_decide(const HaReclaimParams *p, HaReclaimState *s,
                                    const HaReclaimInput *in);
const char *ha_reclaim_action_name(HaReclaimAction a);

/* ---- ha-json.c: a bounded JSON line writer ---- */

typedef struct {
    char *buf;
    size_t cap, len;
    bool overflow;
    bool need_comma[16];
    int depth;
} HaJson;

void ha_json_init(HaJson *j, char *buf, size_t cap);
void ha_json_begin_object(HaJson *j, const char *key); /* key NULL at top level/in arrays */
void ha_json_end_object(HaJson *j);
void ha_json_begin_array(HaJson *j, const char *key);
void ha_json_end_array(HaJson *j);
void ha_json_u64(HaJson *j, const char *key, uint64_t v);
void ha_json_i64(HaJson *j, const char *key, int64_t v);
void ha_json_double(HaJson *j, const char *key, double v); /* two decimals */
void ha_json_bool(HaJson *j, const char *key, bool v);
void ha_json_string(HaJson *j, const char *key, const char *v);
void ha_json_null(HaJson *j, const char *key);
/* Terminates the line with "\n"; FALSE if anything did not fit. */
bool ha_json_finish(HaJson *j);
