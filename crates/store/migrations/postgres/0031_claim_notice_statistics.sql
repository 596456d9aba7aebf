-- The notice lists claims on notice whose notice has not ended, newest first (notice::notice).
-- The planner took `status = 'on_notice'` and `notice_until >= today` as independent: with
-- 178,718 claims paid (their notices ended) and 5,000 on notice, it expected 20 rows, read all
-- 5,000 and sorted them (23–30 ms a page at province scale) instead of reading the first 51 in
-- the order of `claim_notice` (2 ms). A list of the two columns' common pairs tells it how they
-- go together. SQLite has no such statistics (its 0031 is empty). Keep the two backends' files
-- in lockstep.
CREATE STATISTICS claim_status_notice (mcv) ON status, notice_until FROM claim;
ANALYZE claim;
