-- Daily check-ins of trainees (SQLite). Keep in lockstep with ../postgres/0006_attendance.sql.
CREATE TABLE attendance (
    attendance_id INTEGER PRIMARY KEY,
    enrolment_id BIGINT NOT NULL REFERENCES enrolment (enrolment_id),
    day DATE NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('face', 'fingerprint', 'qr_code', 'manual')),
    recorded_by BIGINT REFERENCES app_user (user_id),
    UNIQUE (enrolment_id, day)
);
