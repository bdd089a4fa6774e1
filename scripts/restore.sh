#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a NEW, empty database, then check it.
#   TARGET_DATABASE_URL=postgres://user@host:5432/turnos_restored scripts/restore.sh backup-file
# The target must exist and be empty (createdb it first); the role needs to be allowed to create
# the btree_gist extension (or a superuser must create it beforehand).
set -euo pipefail
: "${TARGET_DATABASE_URL:?set TARGET_DATABASE_URL to the empty database to restore into}"
file="${1:?give the backup file}"
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$TARGET_DATABASE_URL" "$file"
psql "$TARGET_DATABASE_URL" -At -c "SELECT 'reservations ' || count(*) FROM reservations_reservation" \
  -c "SELECT 'events ' || count(*) FROM reservations_reservationevent"
