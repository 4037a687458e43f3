#!/bin/bash
# The read model's table statements on PostgreSQL, server side only (docs/BENCHMARKS.md, "Issue
# 13, the PostgreSQL follower's writes"): 300 posyandu days shaped as `sync_load`'s (69 persons
# and 230 facts a day, UUIDv7-ordered ids) staged in a database of their own; 100 days loaded,
# CHECKPOINT, then 200 days timed, one transaction a day, the follower's three inserts (facts,
# persons, merged_records) from the staged rows in a PL/pgSQL loop. Prints the backend's CPU
# time (from /proc: run it on the database's machine) and the WAL per day (the cluster's:
# clean only when nothing else writes).
#
#   server/benches/pg_follower_writes.sh VARIANT [ADMIN_URL]
#   VARIANT: upsert (the follower before: ON CONFLICT DO UPDATE, 700-byte person states),
#            insert (plain inserts, 350-byte payload states: the follower after),
#            insert-full (plain inserts, 700-byte states), upsert-payload (upserts, 350 bytes),
#            collate-c (upsert, key columns COLLATE "C"), no-merged (upsert, no merged_records)
set -euo pipefail
V=$1
ADMIN=${2:-postgres://postgres@127.0.0.1:5432/postgres}
DB=${ADMIN%/*}/jangkau_follower_writes
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if ! psql "$ADMIN" -Atc "SELECT 1 FROM pg_database WHERE datname = 'jangkau_follower_writes'" | grep -q 1; then
  psql "$ADMIN" -qc "CREATE DATABASE jangkau_follower_writes"
  psql "$DB" -q -v ON_ERROR_STOP=1 <<'EOF'
CREATE SEQUENCE v7;
CREATE OR REPLACE FUNCTION v7id() RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(lpad(to_hex(nextval('v7')), 12, '0') || '7' || substr(md5(random()::text), 1, 19),
         '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\1-\2-\3-\4-\5') $$;
CREATE TABLE stage_persons AS
SELECT b, v7id() id, posyandu, NULL::text household, 'Anak Contoh '||i name, 'female' sex, '2023-05-10' birth_date,
  0::int8 birth_date_estimated, NULL::text nik, NULL::text mother, 'active' status, 0::int8 deleted,
  '{"posyandu":"'||posyandu||'","name":"Anak Contoh 1","sex":"female","birth_date":"2023-05-10"}' values_json,
  '1765070000000:0000' updated_hlc, '1765070000000:0000' made_hlc, i
FROM (SELECT b, gen_random_uuid()::text posyandu, gen_random_uuid()::text dev, gen_random_uuid()::text auth FROM generate_series(1,300) b) d, generate_series(1,69) i
ORDER BY b, i;
CREATE TABLE stage_facts AS
SELECT p.b, v7id() AS id, k AS kind, p.posyandu, p.id AS person, NULL::text AS household,
       NULL::text AS visit, NULL::text AS session, NULL::text AS subject, '2025-11-22' AS date,
       '{"posyandu":"'||p.posyandu||'","person":"'||p.id||'","visit":"0190abcd-1234-7abc-8def-0123456789ab","type":"weight","value":5.2,"unit":"kg"}' AS body_json,
       '1765070000000:0000' AS made_hlc, '0190abcd-1234-7abc-8def-0123456789ab' AS made_device, '0190abcd-1234-7abc-8def-0123456789ab' AS author, NULL::text AS supersedes, 0::int8 AS deleted
FROM stage_persons p, LATERAL (SELECT o, k FROM unnest(ARRAY['visit','measurement','measurement','immunisation']) WITH ORDINALITY AS kk(k, o)) kk
WHERE k <> 'immunisation' OR p.i % 3 = 0
ORDER BY p.b, p.i, o;
CREATE TABLE stage_merged AS SELECT b, id, 'person'::text kind, repeat('x', 700) state_json FROM stage_persons ORDER BY b, i;
CREATE INDEX ON stage_facts (b); CREATE INDEX ON stage_persons (b); CREATE INDEX ON stage_merged (b);
ANALYZE;
EOF
fi
C=""; [ "$V" = collate-c ] && C='COLLATE "C"'
psql "$DB" -q <<SQL >/dev/null 2>&1
DROP TABLE IF EXISTS facts, persons, merged_records;
CREATE TABLE merged_records (id TEXT $C PRIMARY KEY, kind TEXT NOT NULL, state_json TEXT NOT NULL);
CREATE TABLE persons (id TEXT $C PRIMARY KEY, posyandu TEXT $C, household TEXT $C, name TEXT, sex TEXT, birth_date TEXT $C,
    birth_date_estimated BIGINT NOT NULL DEFAULT 0, nik TEXT $C, mother TEXT, status TEXT NOT NULL DEFAULT 'active',
    deleted BIGINT NOT NULL DEFAULT 0, values_json TEXT NOT NULL, updated_hlc TEXT NOT NULL, made_hlc TEXT);
CREATE INDEX persons_posyandu ON persons (posyandu, birth_date);
CREATE INDEX persons_household ON persons (household) WHERE household IS NOT NULL;
CREATE INDEX persons_nik ON persons (nik) WHERE nik IS NOT NULL;
CREATE TABLE facts (id TEXT $C PRIMARY KEY, kind TEXT $C NOT NULL, posyandu TEXT $C NOT NULL, person TEXT $C, household TEXT $C,
    visit TEXT, session TEXT, subject TEXT $C, date TEXT $C NOT NULL, body_json TEXT NOT NULL, made_hlc TEXT NOT NULL,
    made_device TEXT NOT NULL, author TEXT NOT NULL, supersedes TEXT $C, deleted BIGINT NOT NULL DEFAULT 0);
CREATE INDEX facts_person ON facts (person, date) WHERE person IS NOT NULL;
CREATE INDEX facts_kind_place ON facts (kind, posyandu, date);
CREATE INDEX facts_supersedes ON facts (supersedes) WHERE supersedes IS NOT NULL;
CREATE INDEX facts_subject ON facts (subject) WHERE subject IS NOT NULL;
SQL
FC="ON CONFLICT (id) DO UPDATE SET kind=excluded.kind, posyandu=excluded.posyandu, person=excluded.person, household=excluded.household, visit=excluded.visit, session=excluded.session, subject=excluded.subject, date=excluded.date, body_json=excluded.body_json, made_hlc=excluded.made_hlc, made_device=excluded.made_device, author=excluded.author, supersedes=excluded.supersedes, deleted=excluded.deleted"
PC="ON CONFLICT (id) DO UPDATE SET posyandu=excluded.posyandu, household=excluded.household, name=excluded.name, sex=excluded.sex, birth_date=excluded.birth_date, birth_date_estimated=excluded.birth_date_estimated, nik=excluded.nik, mother=excluded.mother, status=excluded.status, deleted=excluded.deleted, values_json=excluded.values_json, updated_hlc=excluded.updated_hlc, made_hlc=excluded.made_hlc"
MC="ON CONFLICT (id) DO UPDATE SET kind=excluded.kind, state_json=excluded.state_json"
case $V in insert|insert-full) FC=""; PC=""; MC="";; esac
STATE=state_json
case $V in insert|upsert-payload) STATE="left(state_json, 350)";; esac
MSQL="INSERT INTO merged_records SELECT id, kind, $STATE FROM stage_merged WHERE b = \$1 $MC"
[ "$V" = no-merged ] && MSQL=""
psql "$DB" -q -v ON_ERROR_STOP=1 <<SQL
CREATE OR REPLACE PROCEDURE load(lo int, hi int) LANGUAGE plpgsql AS \$\$
BEGIN
  FOR bb IN lo..hi LOOP
    EXECUTE 'INSERT INTO facts SELECT id, kind, posyandu, person, household, visit, session, subject, date, body_json, made_hlc, made_device, author, supersedes, deleted FROM stage_facts WHERE b = \$1 $FC' USING bb;
    EXECUTE 'INSERT INTO persons SELECT id, posyandu, household, name, sex, birth_date, birth_date_estimated, nik, mother, status, deleted, values_json, updated_hlc, made_hlc FROM stage_persons WHERE b = \$1 $PC' USING bb;
    IF \$q\$$MSQL\$q\$ <> '' THEN EXECUTE \$q\$$MSQL\$q\$ USING bb; END IF;
    COMMIT;
  END LOOP;
END \$\$;
SET synchronous_commit = off;
CALL load(1, 100);
CHECKPOINT;
SELECT pg_backend_pid() \\g (format=unaligned tuples_only) $TMP/pid
SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::int8 \\g (format=unaligned tuples_only) $TMP/w0
\\! awk '{print \$14+\$15}' /proc/\$(cat $TMP/pid)/stat > $TMP/cpu0
CALL load(101, 300);
SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::int8 \\g (format=unaligned tuples_only) $TMP/w1
\\! echo "$V: backend CPU \$(( (\$(awk '{print \$14+\$15}' /proc/\$(cat $TMP/pid)/stat) - \$(cat $TMP/cpu0)) * 1000000 / \$(getconf CLK_TCK) / 200 )) us a day, WAL \$(( (\$(cat $TMP/w1) - \$(cat $TMP/w0)) / 200 )) B a day"
SQL
