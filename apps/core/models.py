"""Abstract bases shared by every business table."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.audit import audit_actor
from apps.core.text import capfirst


class YearlySequence(models.Model):
    """The last document number given out per year, for ``apps.core.sequences``."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditedModel(TimeStampedModel):
    """Time stamps plus who created and last changed the row (DESIGN.md, "Security": audit
    fields on business tables).

    ``save()`` fills them from the audit context of the running request
    (``apps.core.audit.audit_actor``): the signed-in user, or nobody for the ERP's and
    anonymous requests (``updated_by`` is then cleared: the last change was not a person's).
    Outside a request (a job, a shell) they keep what the caller set. The set-based writers
    (the ERP feeds) write ``NULL`` themselves."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        # not indexed: nothing looks rows up by who wrote them, and every row of an ERP
        # batch would pay for two more index entries
        db_index=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        known, actor = audit_actor()
        if known:
            if self._state.adding and self.created_by_id is None:
                self.created_by = actor
            self.updated_by = actor
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "updated_by"}
        super().save(*args, **kwargs)


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(is_deleted=False)

    def dead(self):
        return self.filter(is_deleted=True)

    def soft_delete(self, *, by=None) -> int:
        """Mark every row of the queryset deleted; returns how many rows changed."""
        values = {"is_deleted": True, "deleted_at": timezone.now()}
        if by is not None and _has_field(self.model, "updated_by"):
            values["updated_by"] = by
        return self.filter(is_deleted=False).update(**values)


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


class SoftDeleteManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """The default manager: deleted rows are invisible."""

    def get_queryset(self):
        return super().get_queryset().filter(is_deleted=False)


class AllObjectsManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Every row, deleted or not (admin, audits, restores)."""


class SoftDeleteModel(models.Model):
    """``objects`` hides deleted rows (and so do reverse relations such as
    ``customer.addresses``); ``all_objects`` shows them. Forward foreign keys still reach a
    deleted row (an old order keeps its address), since Django's base manager sees every row."""

    is_deleted = models.BooleanField(_("deleted"), default=False, db_index=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    objects = SoftDeleteManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True

    def soft_delete(self, *, by=None) -> None:
        if self.is_deleted:
            return
        self.is_deleted = True
        self.deleted_at = timezone.now()
        fields = ["is_deleted", "deleted_at"]
        if by is not None and hasattr(self, "updated_by"):
            self.updated_by = by
            fields.append("updated_by")
        if hasattr(self, "updated_at"):
            fields.append("updated_at")
        self.save(update_fields=fields)

    def restore(self, *, by=None) -> None:
        if not self.is_deleted:
            return
        self.is_deleted = False
        self.deleted_at = None
        fields = ["is_deleted", "deleted_at"]
        if by is not None and hasattr(self, "updated_by"):
            self.updated_by = by
            fields.append("updated_by")
        if hasattr(self, "updated_at"):
            fields.append("updated_at")
        self.save(update_fields=fields)


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed for repeats.

    ``scope`` names the caller and the endpoint, so two callers never share a key space.
    A row with no ``status_code`` is a request still being processed, or (with a
    ``resource``) one whose write committed but whose answer was not stored.
    """

    scope = models.CharField(_("scope"), max_length=200)
    key = models.CharField(_("idempotency key"), max_length=200)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    # what the protected write created (e.g. an order number), set in the write's own
    # transaction: a committed write is never forgotten, even without a stored answer
    resource = models.CharField(_("created resource"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="core_idempotency_scope_key")
        ]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class QueuedTask(models.Model):
    """A Celery task asked for in a transaction, kept until the task has run
    (``apps.core.task_queue``): a broker that is down when the transaction commits, or that
    loses its queue, delays the task, it does not lose it."""

    name = models.CharField(_("task name"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)}"


class OutboxEvent(models.Model):
    """An event, written in the same transaction as the change it reports
    (``apps.core.events.event_emit``).

    ``subject`` names the object it is about (``customer:DEMO001``, ``product``, ``stock``):
    per endpoint, the deliveries of one subject go out in event order. ``dispatched_at`` is
    set once the event is fanned out (by the integrations app, to its subscribed webhook
    endpoints). ``endpoint`` is set for an event meant for one endpoint only
    (``webhook.test``): a lazy reference to the integrations app's model, not an import.

    The table keeps the name it had when the model lived in the integrations app.
    """

    type = models.CharField(_("type"), max_length=64, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    data = models.JSONField(_("data"), default=dict, encoder=DjangoJSONEncoder)
    customer = models.ForeignKey(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    endpoint = models.ForeignKey(
        "integrations.WebhookEndpoint",
        verbose_name=_("only for endpoint"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    # events written with coalesce=True share their transaction's group; the fan-out merges
    # those of one type and subject into the first of them ("coalesced_into" the others)
    group = models.UUIDField(_("coalescing group"), null=True, blank=True, editable=False)
    coalesced_into = models.ForeignKey(
        "self",
        verbose_name=_("coalesced into"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta:
        db_table = "integrations_outboxevent"
        ordering = ["-id"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(
                fields=["subject", "id"],
                condition=models.Q(dispatched_at__isnull=True),
                name="integ_outbox_undispatched",
            ),
            models.Index(
                fields=["group"],
                condition=models.Q(dispatched_at__isnull=True, group__isnull=False),
                name="integ_outbox_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} ({self.subject})"


def related_label(instance: models.Model, name: str, attr: str) -> str:
    """``instance.<name>.<attr>`` when that row is loaded already, else ``#<id>``: a part of a
    readable ``__str__`` that never costs a query (``__str__`` runs on every audited save)."""
    field = instance._meta.get_field(name)
    if field.is_cached(instance):
        related = getattr(instance, name)
        return "-" if related is None else str(getattr(related, attr))
    value = getattr(instance, field.attname)
    return "-" if value is None else f"#{value}"


def status_label(choices: type[models.TextChoices], value: str) -> str:
    """The readable name of a status value, capitalised (the value itself when it is not a
    choice)."""
    try:
        return capfirst(str(choices(value).label))
    except ValueError:
        return value or "-"
