"""Scores, matrix versions, reviews and comments are records: the database refuses to
change or delete them. Risks, treatment actions and acceptances change through services
with audit events."""

from django.db import migrations

from riskreg.lib.appendonly import append_only


class Migration(migrations.Migration):
    dependencies = [("risks", "0002_register_workflow")]
    operations = [
        append_only(
            "risks_riskmatrix",
            "risks_riskscore",
            "risks_riskreview",
            "risks_riskcomment",
        )
    ]
