#!/bin/sh
# Nightly Hearth backup with rotation: 7 daily copies, plus 4 weekly ones (Sundays).
# Usage: backup.sh /var/backups/hearth   (run as the app's user, from cron)
set -eu
DEST="${1:-/var/backups/hearth}"
APP_DIR="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$DEST/daily" "$DEST/weekly"
STAMP="$(date +%F)"
cd "$APP_DIR"
.venv/bin/flask --app wsgi backup "$DEST/daily/hearth-$STAMP.sqlite"
if [ "$(date +%u)" = 7 ]; then
    cp "$DEST/daily/hearth-$STAMP.sqlite" "$DEST/weekly/hearth-$STAMP.sqlite"
fi
# Keep the newest 7 daily and 4 weekly copies.
ls -1t "$DEST"/daily/hearth-*.sqlite 2>/dev/null | tail -n +8 | xargs -r rm -f
ls -1t "$DEST"/weekly/hearth-*.sqlite 2>/dev/null | tail -n +5 | xargs -r rm -f
