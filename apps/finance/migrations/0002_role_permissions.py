"""The role groups get the order and ledger permissions (apps/accounts/roles.py); a
PostgreSQL trigger keeps ledger entries immutable even against raw SQL (only the demo's
reset may delete, with ``SET LOCAL b2b.ledger_reset = 'on'``)."""

from django.db import migrations

IMMUTABLE = """
CREATE OR REPLACE FUNCTION finance_ledger_immutable() RETURNS trigger AS $$
BEGIN
    -- the demo's --reset deletes demo dealers' ledgers inside a transaction that says so
    IF TG_OP = 'DELETE' AND current_setting('b2b.ledger_reset', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'ledger entries are immutable; post a correction';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER finance_ledger_immutable BEFORE UPDATE OR DELETE ON finance_ledgerentry
FOR EACH ROW EXECUTE FUNCTION finance_ledger_immutable();
"""
MUTABLE = """
DROP TRIGGER IF EXISTS finance_ledger_immutable ON finance_ledgerentry;
DROP FUNCTION IF EXISTS finance_ledger_immutable();
"""


def grant(apps, schema_editor):
    from apps.accounts.roles import grant_new_permissions

    grant_new_permissions(apps, schema_editor)


def immutable(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE)


def mutable(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(MUTABLE)


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0001_initial"),
        ("orders", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(immutable, mutable),
    ]
