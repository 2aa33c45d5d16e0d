-- Redshift-style upsert of the daily positions snapshot.
BEGIN;

DELETE FROM dwh.positions
USING staging.positions_today s
WHERE dwh.positions.account_id = s.account_id
  AND dwh.positions.as_of_date = s.as_of_date;

INSERT INTO dwh.positions (account_id, instrument_id, quantity, as_of_date)
SELECT s.account_id, s.instrument_id, s.quantity, s.as_of_date
FROM staging.positions_today s
WHERE s.quantity <> 0;

COMMIT;
