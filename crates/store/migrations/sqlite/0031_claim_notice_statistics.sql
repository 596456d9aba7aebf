-- PostgreSQL learns how a claim's status and the end of its notice go together (see its 0031).
-- SQLite has no extended statistics: nothing to change. Keep the two backends' files in lockstep.
SELECT 1;
