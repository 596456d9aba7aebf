-- Class applications (开班申请) and their review (SQLite). Keep in lockstep with
-- ../postgres/0004_class_application.sql. Classes loaded before this step count as approved.
ALTER TABLE training_class ADD COLUMN status TEXT NOT NULL DEFAULT 'approved' CHECK (status IN ('submitted', 'returned', 'approved', 'closed'));
ALTER TABLE training_class ADD COLUMN subsidy_project_id BIGINT REFERENCES subsidy_project (subsidy_project_id);
ALTER TABLE training_class ADD COLUMN venue TEXT;
ALTER TABLE training_class ADD COLUMN timetable TEXT;
ALTER TABLE training_class ADD COLUMN teachers TEXT;
ALTER TABLE training_class ADD COLUMN capacity BIGINT;
ALTER TABLE training_class ADD COLUMN assessment_plan TEXT;
CREATE INDEX training_class_status ON training_class (status);

-- Every state change of a class: who, when, why.
CREATE TABLE class_event (
    class_event_id INTEGER PRIMARY KEY,
    class_id BIGINT NOT NULL REFERENCES training_class (class_id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor BIGINT REFERENCES app_user (user_id),
    at TIMESTAMPTZ NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX class_event_class ON class_event (class_id);
