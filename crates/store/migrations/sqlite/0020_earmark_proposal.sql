-- The fund earmark (S6: 从失业保险基金结余中安排X亿元) is a pending target like the plan's X
-- targets: the finance bureau proposes an amount with its reasoning, the city HR admin adopts it
-- (with the adopting document, a new earmark in force) or returns it with a reason. Every
-- proposal is kept; one open proposal per fund. (SQLite.) Keep in lockstep with
-- ../postgres/0020_earmark_proposal.sql.
CREATE TABLE earmark_proposal (
    proposal_id INTEGER PRIMARY KEY,
    fund_code TEXT NOT NULL REFERENCES fund (fund_code),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    reasoning TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'adopted', 'returned')),
    proposed_by BIGINT NOT NULL REFERENCES app_user (user_id),
    proposed_at TIMESTAMPTZ NOT NULL,
    decided_by BIGINT REFERENCES app_user (user_id),
    decided_at TIMESTAMPTZ,
    decision_reason TEXT
);
CREATE UNIQUE INDEX earmark_proposal_open ON earmark_proposal (fund_code) WHERE status = 'proposed';
ALTER TABLE fund_earmark ADD COLUMN proposal_id BIGINT REFERENCES earmark_proposal (proposal_id);
