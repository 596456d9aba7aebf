-- PostgreSQL keeps the certificate tally per statement from here (see its 0029). SQLite keeps
-- its row triggers: nothing to change. Keep the two backends' files in lockstep.
SELECT 1;
