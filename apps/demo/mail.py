"""The demo's e-mail backend: each message is written to its own ``.eml`` file under
``MEDIA_ROOT/demo-mail/`` (the ``EMAIL_FILE_PATH`` setting when one is defined) and announced in
one line on stderr, so a demo run shows who got which e-mail without printing whole messages.
``./dev demo`` sets ``EMAIL_BACKEND=apps.demo.mail.EmailBackend`` unless an e-mail backend or
host is configured.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from itertools import count
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

_numbers = count(1)
_lock = threading.Lock()


def mail_dir() -> Path:
    path = getattr(settings, "EMAIL_FILE_PATH", None)
    return Path(path) if path else Path(settings.MEDIA_ROOT) / "demo-mail"


class EmailBackend(BaseEmailBackend):
    def __init__(self, *, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stderr

    def send_messages(self, email_messages) -> int:
        directory = mail_dir()
        directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _lock:
                number = next(_numbers)
            to = ", ".join(message.recipients())
            slug = re.sub(r"[^A-Za-z0-9.@-]+", "_", message.recipients()[0] if to else "none")
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
            path = directory / f"{stamp}-{number:04d}-{slug[:60]}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            shown = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else path
            self.stream.write(f"e-mail to {to}: {message.subject} -> {shown}\n")
            self.stream.flush()
            sent += 1
        return sent
