"""Error reports that hide secrets even with DEBUG on.

Django's default filter stops hiding `sensitive_variables` and `sensitive_post_parameters`
when DEBUG is on. This app holds people's mail passwords: a developer's or a self-hoster's
DEBUG page must not show them either.
"""

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True
