"""audit_event_append(row, body): number, time, hash and insert one event.

One statement, so the writer needs one round trip and no explicit
transaction: it locks the chain's head row (audit_auditchainhead, created
from the events when missing; SELECT ... FOR UPDATE returns the newest
committed version after waiting), computes
entry_hash = SHA-256(prev_hash "\\n" seq "\\n" occurred_at "\\n" body) exactly as
audit/chain.py and docs/audit-format.md define it, and inserts the row. The
row lock is held until the statement's transaction commits, so the next
writer sees this event as the head. SECURITY INVOKER: it can do nothing the caller's
role could not (INSERT and SELECT on the events).
"""

from django.db import migrations, models

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
    -- Commit without waiting for the WAL flush, so the head's row lock is
    -- released at once; the writer then waits for durability outside the
    -- lock (audit/services.py, _wait_until_durable), where concurrent
    -- writers' flushes combine.
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT h.seq, h.entry_hash INTO v_seq, v_prev
        FROM audit_auditchainhead h WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- First event, or the head row was lost: start from the events.
        INSERT INTO audit_auditchainhead (id, seq, entry_hash)
            SELECT 1, coalesce(max(e.seq), 0), repeat('0', 64)
            FROM audit_accessevent e
            ON CONFLICT (id) DO NOTHING;
        UPDATE audit_auditchainhead h SET entry_hash = e.entry_hash
            FROM audit_accessevent e WHERE h.id = 1 AND e.seq = h.seq;
        SELECT h.seq, h.entry_hash INTO v_seq, v_prev
            FROM audit_auditchainhead h WHERE h.id = 1 FOR UPDATE;
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
    UPDATE audit_auditchainhead SET seq = r.seq, entry_hash = r.entry_hash
        WHERE id = 1;
    RETURN QUERY SELECT r.seq, r.occurred_at, r.prev_hash::text, r.entry_hash::text;
END
$$;
"""
DROP = "DROP FUNCTION audit_event_append(jsonb, text);"


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_monthly_partitions")]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.SmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField()),
                ("entry_hash", models.CharField(max_length=64)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="audit_chain_head_single_row"
                    )
                ],
            },
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
