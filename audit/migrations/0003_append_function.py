"""audit_event_append(row, body): number, time, hash and insert one event.

One statement, so the writer needs one round trip and no explicit
transaction: it takes the chain's advisory lock, reads the head (a new
snapshot, after the lock: READ COMMITTED, VOLATILE), computes
entry_hash = SHA-256(prev_hash "\\n" seq "\\n" occurred_at "\\n" body) exactly as
audit/chain.py and docs/audit-format.md define it, and inserts the row. The
lock is held until the statement's transaction commits, so the next writer
sees this event as the head. SECURITY INVOKER: it can do nothing the caller's
role could not (INSERT and SELECT on the events).
"""

from django.db import migrations

CREATE = r"""
CREATE FUNCTION audit_event_append(p_row jsonb, p_body text)
RETURNS TABLE (seq bigint, occurred_at timestamptz, prev_hash text, entry_hash text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path FROM CURRENT
AS $$
DECLARE
    r audit_accessevent;
    v_seq bigint;
    v_prev text;
    v_at timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(418581342580);  -- 0x6175646974, "audit"
    SELECT e.seq, e.entry_hash INTO v_seq, v_prev
        FROM audit_accessevent e ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_prev := repeat('0', 64);
    END IF;
    v_at := clock_timestamp();
    r := jsonb_populate_record(NULL::audit_accessevent, p_row);
    r.seq := v_seq + 1;
    r.occurred_at := v_at;
    r.prev_hash := v_prev;
    r.entry_hash := encode(sha256(convert_to(
        v_prev || E'\n' || r.seq::text || E'\n'
        || to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || E'\n' || p_body,
        'UTF8')), 'hex');
    INSERT INTO audit_accessevent SELECT r.*;
    RETURN QUERY SELECT r.seq, r.occurred_at, r.prev_hash::text, r.entry_hash::text;
END
$$;
"""
DROP = "DROP FUNCTION audit_event_append(jsonb, text);"


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_monthly_partitions")]

    operations = [migrations.RunSQL(CREATE, DROP)]
