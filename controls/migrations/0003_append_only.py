"""Policy versions and the verdict history are records: the database refuses to change or
delete them. Current verdicts, overrides (ended, never edited otherwise) and findings
change through services."""

from django.db import migrations

from riskreg.lib.appendonly import append_only


class Migration(migrations.Migration):
    dependencies = [("controls", "0002_posture")]
    operations = [append_only("controls_policy", "controls_verdictchange")]
