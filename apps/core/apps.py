from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # in ready(): the modules below import the admin and models, which need the app
        # registry (and the task hook reads QueuedTask)
        from celery.signals import task_postrun

        from apps.core import forms as core_forms  # (the same)

        # (the same)
        from apps.core.audit import audit_reverse_relations_untracked

        # (the same)
        from apps.core.serializers import (
            date_input_plain,
            decimal_output_unbounded,
            number_input_plain,
            number_limits_readable,
            text_input_readable,
        )
        from apps.core.task_queue import task_finished  # (the same)
        from apps.core.text import capfirst_localized  # (the same)

        # one place, so a new admin screen or serializer cannot forget it
        core_forms.admin_json_fields_safe()
        audit_reverse_relations_untracked()
        decimal_output_unbounded()
        number_input_plain()
        text_input_readable()
        date_input_plain()
        number_limits_readable()
        capfirst_localized()
        core_forms.form_text_readable()
        core_forms.form_numbers_plain()
        task_postrun.connect(task_finished, weak=False, dispatch_uid="core.task_finished")
