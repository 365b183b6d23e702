#!/usr/bin/env bash
# Installs the Debian packages the tests use (apache2, postgresql, chromium, wrk, prometheus,
# prometheus-alertmanager, systemd) when run as root and they are missing. As a normal user it only
# reports what is missing; those tests then skip and say why.
set -euo pipefail
need=()
command -v apache2ctl >/dev/null 2>&1 || [ -x /usr/sbin/apache2 ] || need+=(apache2)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
# systemd-analyze and systemd-sysusers check deploy/checkd.service; they work without systemd as PID 1.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]} (not root, not installing; tests that need them will skip)" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts apache2 on install where it can; the tests start and stop it themselves.
if command -v service >/dev/null 2>&1 && [ -x /etc/init.d/apache2 ]; then service apache2 stop >/dev/null 2>&1 || true; fi
# Prometheus and Alertmanager are started by the tests on their own ports, never as system services.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
  if command -v service >/dev/null 2>&1 && [ -x "/etc/init.d/$svc" ]; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
