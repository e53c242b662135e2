"""The back office's work queues, as data: each app names the work it leaves waiting for staff
(a model, which rows, whose permission, where its dealer is, the admin list to open) with
``register_work_queue`` in its ``ready()``; the back office counts them
(``apps.backoffice.selectors.work_queues``). A registry rather than imports, so that the top
layer's apps (the integrations) can add theirs without anyone importing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class WorkQueue:
    key: str
    label: Any  # a lazy translation
    permission: str  # who works this queue
    model: type
    # from the model to the dealer (the admin's scoping path), or, for rows of no dealer, the
    # admin's SUPER_ADMIN / WHOLE_BOOK declaration (apps.accounts.admin.scoping)
    dealer_path: str
    condition: Q
    url: str  # "admin URL name|query string" of the filtered list
    order: int = 100


WORK_QUEUES: dict[str, WorkQueue] = {}


def register_work_queue(queue: WorkQueue) -> None:
    WORK_QUEUES[queue.key] = queue


def registered_work_queues() -> list[WorkQueue]:
    return sorted(WORK_QUEUES.values(), key=lambda queue: (queue.order, queue.key))
