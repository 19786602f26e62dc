"""Evidence is immutable: the database refuses UPDATE and DELETE on what was recorded.

Incidents change (status, root cause) through services with audit events; their
timeline is append-only.
"""

from django.db import migrations

from riskreg.lib.appendonly import append_only


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_initial")]
    operations = [
        append_only(
            "evaluations_submission",
            "evaluations_blob",
            "evaluations_evidence",
            "evaluations_evidence_datasets",
            "evaluations_evidenceattachment",
            "evaluations_withdrawal",
            "evaluations_incidenttimelineentry",
        )
    ]
