"""Reading a stored file (local files or S3) for a download, with the two ways it can fail
told apart: the storage does not answer now (``FileUnavailable``: the API answers 503, the
portal says so) or the file is gone (``FileMissing``: asking again will not help, 404)."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)


class FileUnavailable(RuntimeError):
    """A stored file cannot be read now: the storage does not answer."""


class FileMissing(FileUnavailable):
    """The stored file is gone (deleted, or never copied to this storage)."""


def stored_bytes(file) -> bytes:
    """A stored file's bytes; the storage down: ``FileUnavailable``, the file gone:
    ``FileMissing``."""
    try:
        with file.open("rb") as handle:
            return handle.read()
    except (OSError, BotoCoreError, ClientError) as exc:
        if _is_missing(exc):
            logger.error("the stored file %s is missing", file.name)
            raise FileMissing(str(exc)) from None
        logger.exception("reading %s from the storage failed", file.name)
        raise FileUnavailable(str(exc)) from None


def _is_missing(exc: Exception) -> bool:
    if isinstance(exc, FileNotFoundError):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return (
            error.get("Code") in ("NoSuchKey", "404")
            or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
        )
    return False
