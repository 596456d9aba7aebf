-- Areas outside the plan's region: a migrant worker's hukou, a residence or a place of work in
-- another city is an area code the registry holds (P-rules read it), never one of the city's
-- counties on its pages. And a class's training days (培训天数): a class that meets on weekends
-- trains fewer days than its calendar span; attendance is counted against them. Keep the two
-- backends' files in lockstep.
ALTER TABLE county ADD COLUMN outside BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE training_class ADD COLUMN training_days BIGINT CHECK (training_days IS NULL OR training_days > 0);
