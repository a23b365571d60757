-- Creates the application's database role and database.
--
-- The official postgres image runs this once, as the superuser, when its data volume is first
-- initialised (mounted into /docker-entrypoint-initdb.d by docker-compose.yml); it is not run
-- again on later starts. The names and password come from the container's environment
-- (APP_DB_NAME, APP_DB_USER, APP_DB_PASSWORD), which docker-compose.yml fills from .env.
--
-- The role is deliberately not a superuser: a superuser can silence the audit table's
-- append-only triggers (SET session_replication_role = replica). It owns the database and
-- the tables its migrations create, so it can still drop those triggers; see
-- docs/production.md.

\set ON_ERROR_STOP on
\getenv app_db APP_DB_NAME
\getenv app_user APP_DB_USER
\getenv app_password APP_DB_PASSWORD

CREATE ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';

CREATE DATABASE :"app_db" OWNER :"app_user";

-- Only the owner (and superusers) may connect; other roles get nothing by default.
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
