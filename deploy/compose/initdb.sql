-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d, through psql).
-- One database per service, owned by the service's own login role (scram-sha-256 password from the environment,
-- PG_PASSWORD_<SERVICE>): no service is a superuser, and none may connect to another's database.
-- Each service creates its own tables on start (Alembic migrations in services/<name>/migrations), as that role.
\getenv pw_gateway PG_PASSWORD_GATEWAY
\getenv pw_members PG_PASSWORD_MEMBERS
\getenv pw_loyalty PG_PASSWORD_LOYALTY
\getenv pw_credit PG_PASSWORD_CREDIT
\getenv pw_notify PG_PASSWORD_NOTIFY
SET password_encryption = 'scram-sha-256';
CREATE ROLE gateway LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw_gateway';
CREATE ROLE members LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw_members';
CREATE ROLE loyalty LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw_loyalty';
CREATE ROLE credit LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw_credit';
CREATE ROLE notify LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw_notify';
CREATE DATABASE gateway OWNER gateway;
CREATE DATABASE members OWNER members;
CREATE DATABASE loyalty OWNER loyalty;
CREATE DATABASE credit OWNER credit;
CREATE DATABASE notify OWNER notify;
REVOKE ALL ON DATABASE gateway, members, loyalty, credit, notify FROM PUBLIC;
