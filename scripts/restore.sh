#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY PostgreSQL database, then check it.
# Usage: scripts/restore.sh BACKUP_FILE     (DATABASE_URL points at the empty target database)
# Afterwards run `python manage.py migrate` (a no-op on a backup of the same version).
set -euo pipefail

backup="${1:?give the backup file}"
url="${DATABASE_URL:?set DATABASE_URL to the empty target database}"
if [ -f "$backup.sha256" ]; then
    sha256sum --check --quiet "$backup.sha256"
fi
tables=$(psql --dbname="$url" --tuples-only --no-align \
    --command="select count(*) from information_schema.tables where table_schema = 'public'")
if [ "$tables" != "0" ]; then
    echo "Refused: the target database is not empty ($tables tables). Restore into a new database." >&2
    exit 3
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$backup"
echo "Restored $backup"
