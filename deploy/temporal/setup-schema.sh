#!/bin/sh
# Temporal's schemas in PostgreSQL, created on the first start and upgraded on later ones
# (temporal-sql-tool from the admin-tools image; the databases come from postgres-init.sql).
set -eu
sql() {
  database=$1
  shift
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
    -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" --db "$database" "$@"
}
schema() {
  database=$1
  versioned=/etc/temporal/schema/postgresql/v12/$2/versioned
  # A database that has Temporal's schema is only upgraded; a new one is set up first.
  if ! sql "$database" update-schema -d "$versioned"; then
    echo "setting up $database"
    sql "$database" setup-schema -v 0.0
    sql "$database" update-schema -d "$versioned"
  fi
}
schema temporal temporal
schema temporal_visibility visibility
echo "Temporal's schemas are up to date"
