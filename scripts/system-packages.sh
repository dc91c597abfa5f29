#!/usr/bin/env bash
# Debian packages the services and the tests need: fonts with Cyrillic and pango for the PDFs,
# poppler's pdftotext for the document tests, chromium for the browser tests.
set -eu
# two checkouts tested side by side on one machine install one after the other: the second
# finds the packages there (apt's own lock would fail it instead of waiting)
exec 9>"${TMPDIR:-/tmp}/clientops-system-packages.lock"
flock 9
need=()
for pkg in fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 \
           poppler-utils "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages (install them as root): ${need[*]}" >&2
  exit 1
fi
echo "installing: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
