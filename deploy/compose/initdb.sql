-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d).
-- One database per service: no service ever reads another's tables.
-- Each service creates its own tables on start (Alembic migrations in services/<name>/migrations).
CREATE DATABASE gateway;
CREATE DATABASE members;
CREATE DATABASE loyalty;
CREATE DATABASE credit;
CREATE DATABASE notify;
