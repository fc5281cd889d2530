"""Mail content made safe to show: sanitised HTML bodies, and plain text as HTML.

Knows nothing of Django (a test checks it): the message services call it and store the
results with the sanitiser version that produced them.
"""

from mailbox.content.plain import text_to_html
from mailbox.content.sanitize import SANITIZER_VERSION, SanitizedHtml, sanitize_html

__all__ = ["SANITIZER_VERSION", "SanitizedHtml", "sanitize_html", "text_to_html"]
