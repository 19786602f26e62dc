from riskreg.lib.errors import ApplicationError


class EvidenceInvalidError(ApplicationError):
    code = "evidence_invalid"


class ImportFailedError(ApplicationError):
    code = "import_failed"


class IdempotencyConflictError(ApplicationError):
    code = "idempotency_conflict"


class EvidenceNotCurrentError(ApplicationError):
    code = "evidence_not_current"


class AttachmentTooLargeError(ApplicationError):
    code = "attachment_too_large"


class AttachmentTypeRefusedError(ApplicationError):
    code = "attachment_type_refused"


class IncidentTransitionInvalidError(ApplicationError):
    code = "invalid_transition"


class JobFinishedError(ApplicationError):
    code = "job_finished"


class ModelFileRefusedError(ApplicationError):
    code = "model_refused"
