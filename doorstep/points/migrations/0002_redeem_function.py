"""One server-side function for a redemption on PostgreSQL (``points_redeem``).

A redemption at the counter is a handful of statements on rows that other counters
also want (a hot resident's balance). Sent one by one from the application, the row
locks of the balances are held across several network round trips and, on a busy
machine, across the client process being descheduled; every other redemption on that
resident queues behind it. The function does the same work in one statement, so the
locks are held for microseconds plus the commit. SQLite keeps the ORM path in
``services.redemption_create``; both keep the same invariants (docs/adr/0009).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION points_redeem(
    p_key text,
    p_digest text,
    p_outlet bigint,
    p_unit bigint,
    p_account bigint,
    p_actor bigint,
    p_reason text,
    p_at timestamptz,
    p_goods bigint[],
    p_quantities integer[]
) RETURNS TABLE (
    status text,
    transfer_id bigint,
    redemption_id bigint,
    body_hash text,
    points bigint,
    value_fen bigint
) LANGUAGE plpgsql AS $$
-- Goods for points at an outlet, in one statement: the idempotency key is looked up
-- first (a replay changes nothing); then the stock of each line is taken in goods-id
-- order, the transfer, receipt and lines are appended, and the two balances move by
-- conditional UPDATEs in account-id order, the order every redemption and reversal
-- takes its locks in. A refusal raises, so the statement changes nothing.
DECLARE
    v_outlet_account bigint;
    v_transfer bigint;
    v_hash text;
    v_redemption bigint;
    v_points bigint := 0;
    v_value bigint := 0;
    v_names text[] := '{}';
    v_prices integer[] := '{}';
    v_values integer[] := '{}';
    v_name text;
    v_price integer;
    v_worth integer;
    i integer;
BEGIN
    SELECT t.id, t.body_hash INTO v_transfer, v_hash
      FROM points_transfer t WHERE t.idempotency_key = p_key;
    IF FOUND THEN
        SELECT r.id INTO v_redemption FROM points_redemption r WHERE r.transfer_id = v_transfer;
        RETURN QUERY SELECT 'replay'::text, v_transfer, v_redemption, v_hash, 0::bigint, 0::bigint;
        RETURN;
    END IF;
    SELECT a.id INTO v_outlet_account
      FROM points_account a WHERE a.outlet_id = p_outlet AND a.kind = 'outlet';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'points:no_outlet_account';
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_goods, 1), 0) LOOP
        UPDATE points_goods g SET stock = g.stock - p_quantities[i]
         WHERE g.id = p_goods[i] AND g.outlet_id = p_outlet AND g.is_active
           AND g.stock >= p_quantities[i]
        RETURNING g.name, g.points_price, g.value_fen INTO v_name, v_price, v_worth;
        IF NOT FOUND THEN
            PERFORM 1 FROM points_goods g
              WHERE g.id = p_goods[i] AND g.outlet_id = p_outlet AND g.is_active;
            IF FOUND THEN
                RAISE EXCEPTION 'points:out_of_stock' USING DETAIL = p_goods[i]::text;
            END IF;
            RAISE EXCEPTION 'points:missing' USING DETAIL = p_goods[i]::text;
        END IF;
        v_names := v_names || v_name;
        v_prices := v_prices || v_price;
        v_values := v_values || v_worth;
        v_points := v_points + v_price::bigint * p_quantities[i];
        v_value := v_value + v_worth::bigint * p_quantities[i];
    END LOOP;
    IF v_points <= 0 THEN
        RAISE EXCEPTION 'points:missing';
    END IF;
    INSERT INTO points_transfer (
        debit_id, credit_id, amount, kind, reason, actor_id, created_at, unit_id,
        idempotency_key, body_hash, activity_type, source_type, source_id
    ) VALUES (
        p_account, v_outlet_account, v_points, 'redeem', p_reason, p_actor, p_at, p_unit,
        p_key, p_digest, '', '', ''
    ) RETURNING id INTO v_transfer;
    INSERT INTO points_redemption (
        outlet_id, account_id, transfer_id, clerk_id, points, value_fen, created_at
    ) VALUES (
        p_outlet, p_account, v_transfer, p_actor, v_points, v_value, p_at
    ) RETURNING id INTO v_redemption;
    INSERT INTO points_redemptionline (
        redemption_id, goods_id, name, quantity, points_price, value_fen
    )
    SELECT v_redemption, u.goods, u.name, u.quantity, u.price, u.worth
      FROM unnest(p_goods, v_names, p_quantities, v_prices, v_values)
           WITH ORDINALITY AS u(goods, name, quantity, price, worth, n)
     ORDER BY u.n;
    IF p_account < v_outlet_account THEN
        UPDATE points_account SET balance = balance - v_points
         WHERE id = p_account AND balance >= v_points;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'points:insufficient';
        END IF;
        UPDATE points_account SET balance = balance + v_points WHERE id = v_outlet_account;
    ELSE
        UPDATE points_account SET balance = balance + v_points WHERE id = v_outlet_account;
        UPDATE points_account SET balance = balance - v_points
         WHERE id = p_account AND balance >= v_points;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'points:insufficient';
        END IF;
    END IF;
    RETURN QUERY SELECT 'ok'::text, v_transfer, v_redemption, p_digest, v_points, v_value;
END;
$$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS points_redeem("
    "text, text, bigint, bigint, bigint, bigint, text, timestamptz, bigint[], integer[])"
)


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_ledger_outlets_rules")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
