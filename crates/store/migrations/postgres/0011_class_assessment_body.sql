-- A class names the listed assessment body that assesses it; only that body records results.
ALTER TABLE training_class ADD COLUMN assessment_body_id BIGINT REFERENCES assessment_body (assessment_body_id);
