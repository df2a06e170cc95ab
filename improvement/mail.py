"""GOV.UK Notify as a Django email backend, for councils that send through Notify.

Set EMAIL_BACKEND=improvement.mail.NotifyEmailBackend, GOVUK_NOTIFY_API_KEY and
GOVUK_NOTIFY_TEMPLATE_ID. The Notify template must be an email template whose subject is
((subject)) and whose body is ((body)): Notify sends plain text (it formats it itself), so the
HTML alternative is not used. Everything else (SMTP to the council's relay) is Django's own.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

logger = logging.getLogger(__name__)


class NotifyEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        api_key = kwargs.get("api_key", settings.GOVUK_NOTIFY_API_KEY)
        self.template_id = kwargs.get("template_id", settings.GOVUK_NOTIFY_TEMPLATE_ID)
        if not api_key or not self.template_id:
            raise ImproperlyConfigured(
                "Set GOVUK_NOTIFY_API_KEY and GOVUK_NOTIFY_TEMPLATE_ID to send through Notify."
            )
        self.client = NotificationsAPIClient(
            api_key, base_url=kwargs.get("base_url", settings.GOVUK_NOTIFY_BASE_URL)
        )

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            for address in message.recipients():
                try:
                    self.client.send_email_notification(
                        email_address=address,
                        template_id=self.template_id,
                        personalisation={"subject": message.subject, "body": message.body},
                    )
                except APIError as exc:
                    if not self.fail_silently:
                        # An OSError, so callers that handle a refusing relay handle this too.
                        raise ConnectionError(f"GOV.UK Notify refused the email: {exc}") from exc
                    logger.warning("GOV.UK Notify refused an email to %s: %s", address, exc)
                    break
            else:
                sent += 1
        return sent
