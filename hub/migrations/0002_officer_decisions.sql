-- Version 2: the alert publisher reads the officer decisions of the last
-- days (confirmed hits shared with other posts) and their results.
CREATE INDEX results_decisions_time ON results (created_at) WHERE kind = 'officer_decision';
