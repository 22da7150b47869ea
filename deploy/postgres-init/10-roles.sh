#!/bin/sh
# Run once by the postgres image when its data directory is new (/docker-entrypoint-initdb.d):
# the two roles the service uses instead of the superuser. The owner (MIGRATION_DATABASE_URL) owns
# the database and runs `migrate`; the runtime role (DATABASE_URL) is a plain login role under
# row-level security, which the migrations grant exactly what the service needs.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$VERISYNTRA_OWNER_PASSWORD" -v app_password="$VERISYNTRA_APP_PASSWORD" <<'SQL'
CREATE ROLE verisyntra_owner LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD :'owner_password';
GRANT pg_signal_backend TO verisyntra_owner;
CREATE ROLE verisyntra_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_password';
CREATE DATABASE verisyntra OWNER verisyntra_owner;
SQL
