-- bench/sqlite.sql — the "sqlite" workload: sqlite3 on an in-memory database
-- reads this on its standard input, after run.sh has replaced each ROWS
-- placeholder (at signs around it) with the row count (default 200000).
-- One transaction inserts the rows (text of varying length, so records and
-- pages vary), then an index is built (a sort) and a GROUP BY on an
-- expression no index covers (another sort) is summarised into one line
-- that depends only on the data, the same under any malloc.
PRAGMA cache_size = -65536;
BEGIN;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < @ROWS@)
INSERT INTO t(grp, name, val)
SELECT (x * 7919) % 1009, printf('name-%d-%.*c', x, x % 40, 'z'), x * 0.5 FROM c;
COMMIT;
CREATE INDEX t_grp_name ON t(grp, name);
SELECT 'sqlite', count(*), sum(n), printf('%.1f', total(s)), max(m)
FROM (SELECT substr(name, 6, 4) AS k, count(*) AS n, sum(val) AS s, max(grp) AS m
      FROM t GROUP BY k);
SELECT 'groups', count(*), sum(c) FROM (SELECT grp, count(*) AS c FROM t GROUP BY grp);
