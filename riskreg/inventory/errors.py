from riskreg.lib.errors import ApplicationError


class VersionTakenError(ApplicationError):
    code = "version_taken"
