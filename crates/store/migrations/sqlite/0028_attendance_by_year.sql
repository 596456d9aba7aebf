-- PostgreSQL partitions attendance by year here (see its 0028). SQLite keeps one table: nothing
-- to change. Keep the two backends' files in lockstep.
SELECT 1;
