#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Prometheus scrape target as hocusd-metrics.socket runs it (one
# `hocusctl metrics --http` per connection, here from systemd-socket-activate),
# scraped by a real Prometheus server on loopback: the RSS Prometheus stores
# for a running workspace is the one hocusd publishes.
. "$(dirname "$0")/lib.sh"
for t in prometheus promtool curl systemd-socket-activate; do
    command -v $t >/dev/null || skip "$t is not installed"
done

ACT_PID= PROM_PID=
hd_at_exit 'stop_pid "$PROM_PID"; stop_pid "$ACT_PID"'

write_config
start_hocusd
new_name ws prom
hocusctl create "$ws" >/dev/null
measure "boot_seconds=$(boot "$ws")"

port=$((20000 + $$ % 20000)) pport=$((20000 + ($$ + 1) % 20000))
systemd-socket-activate --inetd --accept -l "127.0.0.1:$port" -- \
    "$HD_HOCUSCTL" --bus-address "$BUS" metrics --http > "$E2E_DIR/activate.log" 2>&1 &
ACT_PID=$!
poll 50 0.1 curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true

note "one scrape by hand"
curl -s -D "$E2E_DIR/head" -o "$E2E_DIR/body" "http://127.0.0.1:$port/metrics" ||
    fail "no answer on port $port: $(cat "$E2E_DIR/activate.log")"
grep -q "^HTTP/1.1 200 OK" "$E2E_DIR/head" || fail "scrape answered: $(head -n1 "$E2E_DIR/head")"
grep -qi "^Content-Type: application/openmetrics-text; version=1.0.0" "$E2E_DIR/head" ||
    fail "content type: $(grep -i content-type "$E2E_DIR/head")"
grep -q "^hocusd_workspace_rss_bytes{workspace=\"$ws\"} [0-9]" "$E2E_DIR/body" ||
    fail "no RSS of $ws in the scrape"
[ "$(tail -n1 "$E2E_DIR/body")" = "# EOF" ] || fail "the scrape does not end with # EOF"
promtool check metrics < "$E2E_DIR/body" > "$E2E_DIR/promtool.log" 2>&1 ||
    fail "promtool check metrics: $(cat "$E2E_DIR/promtool.log")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other")" = 404 ] ||
    fail "another path is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" = 405 ] ||
    fail "POST is not 405"

note "Prometheus scrapes it every second"
cat > "$E2E_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hocusd
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
prometheus --config.file="$E2E_DIR/prometheus.yml" --storage.tsdb.path="$E2E_DIR/tsdb" \
    --web.listen-address="127.0.0.1:$pport" > "$E2E_DIR/prometheus.log" 2>&1 &
PROM_PID=$!
query() {  # PROMQL: the first result's value
    curl -s -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
        jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
scraped() { [ "$(query "up{job=\"hocusd\"}")" = 1 ] && [ -n "$(query "hocusd_workspace_rss_bytes{workspace=\"$ws\"}")" ]; }
poll 60 0.5 scraped || true  # the checks below say which part is missing
[ "$(query "up{job=\"hocusd\"}")" = 1 ] ||
    fail "Prometheus does not see the target up: $(tail -n 5 "$E2E_DIR/prometheus.log")"
# hocusctl metrics reads what hocusd publishes, so the latest sample must be
# exactly one of the RssBytes values hocusd published meanwhile. (Not a
# tolerance: just after boot, free page reporting moves the RSS by 5 % a
# second, and Prometheus's sample is up to a scrape interval old.)
published=" " prom=
stored_is_published() {
    published+="$(ws_prop "$ws" RssBytes) "
    prom=$(query "hocusd_workspace_rss_bytes{workspace=\"$ws\"}")
    [ -n "$prom" ] && [[ "$published" == *" $prom "* ]]
}
poll 40 0.3 stored_is_published ||
    fail "Prometheus has ${prom:-nothing} for $ws; hocusd published:$published"
measure "rss_prometheus=$prom rss_dbus_values_seen=$(echo $published | wc -w)"
[ "$(query "hocusd_workspace_info{workspace=\"$ws\",state=\"running\"}")" = 1 ] ||
    fail "no hocusd_workspace_info for $ws running"
echo PASS
