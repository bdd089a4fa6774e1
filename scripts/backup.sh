#!/usr/bin/env bash
# Back up the PostgreSQL database named by DATABASE_URL into one compressed, restorable file.
#   DATABASE_URL=postgres://user@host:5432/turnos scripts/backup.sh [backup-file]
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
out="${1:-turnos-$(date -u +%Y%m%dT%H%M%SZ).dump}"
pg_dump --format=custom --no-owner --no-privileges --file="$out" "$DATABASE_URL"
echo "$out"
