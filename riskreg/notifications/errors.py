from riskreg.lib.errors import ApplicationError


class WebhookAddressRefusedError(ApplicationError):
    code = "webhook_address_refused"
