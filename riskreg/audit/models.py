"""The audit trail: one append-only hash chain of events per organisation."""

from django.db import models

GENESIS = "0" * 64


class AuditEvent(models.Model):
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    seq = models.PositiveBigIntegerField()
    actor_type = models.CharField(max_length=32)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=100)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [
            # Two events claiming the same predecessor would fork the chain.
            models.UniqueConstraint(fields=["organization", "prev_hash"], name="audit_no_fork"),
            models.UniqueConstraint(fields=["organization", "seq"], name="audit_seq_unique"),
        ]
        indexes = [models.Index(fields=["organization", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"
