#!/usr/bin/env bash
# Start PostgreSQL, Redis and RabbitMQ when they are down, and create the two
# PostgreSQL roles riskreg uses: an owner that runs migrations and a runtime role
# that owns nothing. Sourced by .ci/run; safe to run again.
set -euo pipefail

up() { timeout 2 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }

if ! up 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! up 6379; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
if ! up 5672; then
  rabbitmq-server -detached
fi
for _ in $(seq 60); do up 5432 && up 6379 && up 5672 && break; sleep 1; done

psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'riskreg_owner') THEN
    CREATE ROLE riskreg_owner LOGIN CREATEDB NOSUPERUSER;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'riskreg_app') THEN
    CREATE ROLE riskreg_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
SQL
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='riskreg'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE riskreg OWNER riskreg_owner"
