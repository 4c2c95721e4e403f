#!/usr/bin/env bash
# Back up the study database (PostgreSQL, custom format) to a file, with a checksum beside it.
# Usage: scripts/backup.sh [OUTPUT_FILE]    (DATABASE_URL must point at PostgreSQL)
# The file holds identifiers encrypted with IDENTIFIER_KEYS: keep the keys apart from backups.
set -euo pipefail

url="${DATABASE_URL:?set DATABASE_URL (postgres://user:pass@host:5432/name)}"
case "$url" in
    postgres://*|postgresql://*) ;;
    *) echo "backup.sh backs up PostgreSQL; for the embedded SQLite file use: sqlite3 var/db.sqlite3 '.backup FILE'" >&2; exit 2 ;;
esac
output="${1:-followup-$(date -u +%Y%m%dT%H%M%SZ).dump}"

pg_dump --format=custom --no-owner --no-privileges --file="$output" --dbname="$url"
sha256sum "$output" > "$output.sha256"
echo "Backup written to $output ($(du -h "$output" | cut -f1)); checksum in $output.sha256"
