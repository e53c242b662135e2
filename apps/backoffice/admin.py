"""The job dashboard (Super Admin only): Celery's task results (django-celery-results) with a
"Retry" of the failed ones, the retries made, and the periodic tasks of celery beat
(django-celery-beat's screens: enable, disable, run now). The libraries' own admins are
re-registered for super admins, as the audit log's (``apps.accounts.admin.third_party``)."""

from __future__ import annotations

from celery import states
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import (
    ClockedScheduleAdmin,
    CrontabScheduleAdmin,
    IntervalScheduleAdmin,
    PeriodicTaskAdmin,
    SolarScheduleAdmin,
)
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_celery_results.admin import GroupResultAdmin
from django_celery_results.admin import TaskResultAdmin as LibraryTaskResultAdmin
from django_celery_results.models import GroupResult, TaskResult

from apps.accounts.admin.scoping import (
    SUPER_ADMIN,
    DealerScopedAdminMixin,
    is_super_admin,
    register_super_admin_only,
)
from apps.backoffice.jobs import (
    BROKER_ERRORS,
    RETRY_FILTER,
    BrokerDown,
    broker_down_message,
    failed_jobs_condition,
    job_retry,
    retried,
)
from apps.backoffice.models import JobRetry
from apps.core.admin_mixins import ReadOnlyAdminMixin
from apps.core.exceptions import DomainError

FROM_RESULT = "_from_result"  # set by the result page's button: come back to the result


class RetryFilter(admin.SimpleListFilter):
    title = _("retry")
    parameter_name = RETRY_FILTER

    def lookups(self, request, model_admin):
        return [
            (
                "waiting",
                _("Failed, not retried (last %(days)d days)")
                % {"days": settings.JOB_FAILED_QUEUE_DAYS},
            ),
            ("retried", _("Retried")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(failed_jobs_condition(days=settings.JOB_FAILED_QUEUE_DAYS))
        if self.value() == "retried":
            return queryset.filter(retried())
        return queryset


class TaskResultAdmin(LibraryTaskResultAdmin):
    """Every stored task run: what ran, how it ended, when, how long, on which worker; the
    error's traceback on its page. Nothing is edited by hand; a failure is sent again by the
    "Retry" action (or its page's button), through ``apps.backoffice.jobs.job_retry``."""

    list_display = (
        "task_name",
        "status",
        "date_started",
        "date_done",
        "runtime",
        "worker",
        "retried_at",
    )
    list_display_links = ("task_name", "status")
    list_filter = ("status", RetryFilter, "task_name", "date_done", "periodic_task_name")
    date_hierarchy = "date_done"
    search_fields = ("task_id", "task_name", "task_args", "task_kwargs")
    show_full_result_count = False
    actions = ("retry_selected",)
    change_form_template = "admin/backoffice/taskresult/change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "task_id",
                    "task_name",
                    "periodic_task_name",
                    "status",
                    "worker",
                    "retry",
                )
            },
        ),
        (_("Arguments"), {"fields": ("task_args", "task_kwargs")}),
        (
            _("Result"),
            {
                "fields": (
                    "date_created",
                    "date_started",
                    "date_done",
                    "runtime",
                    "result",
                    "error",
                )
            },
        ),
    )
    computed_fields = ("runtime", "retry", "error")

    def get_queryset(self, request):
        last_retry = JobRetry.objects.filter(task_id=OuterRef("task_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(_retried_at=Subquery(last_retry.values("retried_at")[:1]))
        )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.computed_fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a result is a record of a run (the page shows it read-only)

    def has_retry_permission(self, request) -> bool:
        return is_super_admin(request.user) and request.user.has_perm("backoffice.add_jobretry")

    @admin.display(description=_("runtime"))
    def runtime(self, obj: TaskResult) -> str:
        if obj.date_started is None or obj.date_done is None:
            return "-"
        seconds = (obj.date_done - obj.date_started).total_seconds()
        return gettext("%(seconds).2f s") % {"seconds": max(seconds, 0.0)}

    @admin.display(description=_("retried"), ordering="_retried_at")
    def retried_at(self, obj: TaskResult):
        return obj._retried_at or "-"

    @admin.display(description=_("retry"))
    def retry(self, obj: TaskResult) -> str:
        done = JobRetry.objects.filter(task_id=obj.task_id).select_related("retried_by").first()
        if done is None:
            return "-"
        new_run = reverse("admin:django_celery_results_taskresult_changelist")
        return format_html(
            '{} <a href="{}?task_id={}">{}</a>',
            gettext("Retried by %(user)s at %(when)s as")
            % {"user": done.retried_by or "-", "when": done.retried_at},
            new_run,
            done.new_task_id,
            done.new_task_id,
        )

    @admin.display(description=_("error"))
    def error(self, obj: TaskResult) -> str:
        if not obj.traceback:
            return "-"
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 40em; overflow: auto">{}</pre>',
            obj.traceback,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        result = self.get_object(request, object_id)
        if (
            result is not None
            and result.status == states.FAILURE
            and self.has_retry_permission(request)
            and not JobRetry.objects.filter(task_id=result.task_id).exists()
        ):
            extra_context["retry_button"] = {
                "changelist_url": reverse("admin:django_celery_results_taskresult_changelist"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "from_result": FROM_RESULT,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Retry the selected failed jobs"), permissions=["retry"])
    def retry_selected(self, request, queryset):
        sent = 0
        for result in queryset:
            try:
                job_retry(result=result, by=request.user)
            except BrokerDown as exc:  # the rest would wait as long each: none is sent
                self.message_user(request, str(exc.detail), messages.ERROR)
                break
            except DomainError as exc:
                # a word first: the admin capitalises a message's first letter, and a task's
                # name is case-sensitive ("pricing.price_index_sync")
                self.message_user(
                    request,
                    gettext("Job %(task)s: %(problem)s")
                    % {"task": result.task_name or result.task_id, "problem": exc.detail},
                    messages.ERROR,
                )
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("%(count)d job sent again.", "%(count)d jobs sent again.", sent)
                % {"count": sent},
                messages.SUCCESS,
            )
        if request.POST.get(FROM_RESULT):
            result = queryset.first()
            if result is not None:
                return HttpResponseRedirect(
                    reverse("admin:django_celery_results_taskresult_change", args=[result.pk])
                )
        return None  # the change list


@admin.register(JobRetry)
class JobRetryAdmin(DealerScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who sent which failed job again, and when (kept after the results expire)."""

    dealer_scope = SUPER_ADMIN
    list_display = ("task_name", "task_id", "new_task_id", "retried_by", "retried_at")
    list_filter = ("task_name", "retried_at")
    search_fields = ("task_id", "new_task_id", "task_name")
    list_select_related = ("retried_by",)
    date_hierarchy = "retried_at"


register_super_admin_only(TaskResult, TaskResultAdmin)
register_super_admin_only(GroupResult, GroupResultAdmin)


class PeriodicTaskRunAdmin(PeriodicTaskAdmin):
    """django-celery-beat's screen, whose "Run selected tasks" answers a message, not a 500,
    when the broker is down."""

    def run_tasks(self, request, queryset):
        try:
            return super().run_tasks(request, queryset)
        except BROKER_ERRORS:
            self.message_user(request, broker_down_message(), messages.ERROR)
            return None


register_super_admin_only(PeriodicTask, PeriodicTaskRunAdmin)
register_super_admin_only(IntervalSchedule, IntervalScheduleAdmin)
register_super_admin_only(CrontabSchedule, CrontabScheduleAdmin)
register_super_admin_only(SolarSchedule, SolarScheduleAdmin)
register_super_admin_only(ClockedSchedule, ClockedScheduleAdmin)
