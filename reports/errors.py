from riskreg.lib.errors import ApplicationError


class ReportNotDraftError(ApplicationError):
    code = "report_not_draft"


class ReportNotSignedError(ApplicationError):
    code = "report_not_signed"


class ReportTooLargeError(ApplicationError):
    code = "report_too_large"
