"""The database itself refuses UPDATE, DELETE and TRUNCATE on the audit trail."""

from django.db import migrations

from riskreg.lib.appendonly import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]
    operations = [append_only("audit_auditevent")]
