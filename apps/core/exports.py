"""Spreadsheet exports that cannot carry a formula ("CSV injection", OWASP).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel and LibreOffice as a formula (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``, ``@SUM(...)``);
in an .xlsx written by openpyxl such a string even becomes a live formula. Text that came from
a user (a product name, an ERP field) must never reach a spreadsheet that way.

* ``neutralize_cell(value)`` is the one rule: such text gets a leading ``'`` (shown as text by
  every spreadsheet); numbers, and text that is just a number (``-5``, ``12.5000``), stay as
  they are.
* ``SafeExportResource`` is the base of every django-import-export resource: each exported cell
  goes through ``neutralize_cell``. ``tests/core/test_exports.py`` fails for an admin that
  exports with any other resource.
* ``restore_cell(value)`` undoes it on import, so an exported file imports back unchanged.
* ``SpreadsheetImportMixin`` goes before ``ImportExportModelAdmin`` in an importing admin: a
  file that cannot be read, or holds a cell no text may hold (a NUL character), is said in
  words, and a confirmation whose upload is gone (sent twice, or tampered with) is sent back
  to the upload form.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export import resources
from import_export.exceptions import FieldError

from apps.core.text import unstorable_at

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def _is_formula_like(text: str) -> bool:
    if not text:
        return False
    # leading spaces or line breaks do not stop a spreadsheet from reading a formula
    if text[0] not in FORMULA_TRIGGERS and text.lstrip()[:1] not in FORMULA_TRIGGERS:
        return False
    return not _PLAIN_NUMBER.fullmatch(text)


def neutralize_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV or spreadsheet cell: text a spreadsheet would
    run as a formula gets a leading ``'``; anything else is returned unchanged."""
    if isinstance(value, str) and _is_formula_like(value):
        return ESCAPE + value
    return value


def restore_cell(value: Any) -> Any:
    """The inverse of ``neutralize_cell`` for an imported cell."""
    if isinstance(value, str) and value.startswith(ESCAPE) and _is_formula_like(value[1:]):
        return value[1:]
    return value


class SafeExportResource(resources.ModelResource):
    """A django-import-export ``ModelResource`` whose exported cells are neutralised, and whose
    import names the key columns a file lacks in the reader's language (the library's message
    is English whatever the language, and speaks of 'import_id_fields')."""

    def export_field(self, field, instance, **kwargs):
        return neutralize_cell(super().export_field(field, instance, **kwargs))

    def before_import(self, dataset, **kwargs):
        headers = set(dataset.headers or [])
        missing = [
            self.fields[name].column_name
            for name in self.get_import_id_fields()
            if name in self.fields and self.fields[name].column_name not in headers
        ]
        if missing:
            raise FieldError(
                ngettext(
                    "The file has no %(columns)s column: its first row names the columns, as "
                    "an exported file's does.",
                    "The file has no %(columns)s columns: its first row names the columns, as "
                    "an exported file's does.",
                    len(missing),
                )
                % {"columns": ", ".join(missing)}
            )


class UnstorableCell(ValueError):
    """A file's cell holds what no text may hold (PostgreSQL refuses it)."""

    def __init__(self, row: int, column: str):
        super().__init__(row, column)
        self.row, self.column = row, column


def first_unstorable_cell(dataset) -> UnstorableCell | None:
    """The first cell of ``dataset`` (a tablib dataset; its header is row 1, as in a
    spreadsheet) holding a NUL character or a lone surrogate, if one does."""
    headers = [str(header) for header in dataset.headers or []]
    for column, header in enumerate(headers):
        if unstorable_at(header) is not None:
            return UnstorableCell(1, str(column + 1))
    for number, row in enumerate(dataset, start=2):
        for column, value in enumerate(row):
            if isinstance(value, str) and unstorable_at(value) is not None:
                name = headers[column] if column < len(headers) else str(column + 1)
                return UnstorableCell(number, name)
    return None


@functools.cache
def _storable_format(format_class):
    """``format_class`` (django-import-export's) whose datasets hold only storable text: the
    library looks the file's keys up in the database before any cell is checked, and
    PostgreSQL answers a NUL character with an error (a 500)."""

    class StorableFormat(format_class):
        def create_dataset(self, *args, **kwargs):
            dataset = super().create_dataset(*args, **kwargs)
            if (problem := first_unstorable_cell(dataset)) is not None:
                raise problem
            return dataset

    StorableFormat.__name__ = StorableFormat.__qualname__ = format_class.__name__
    return StorableFormat


class SpreadsheetImportMixin:
    """For an admin that imports with django-import-export: a file that cannot be read as the
    format chosen is said in words, in the reader's language (the library's message named a
    Python exception class: "'BadZipFile' encountered while trying to read file"); so is a
    cell holding a NUL character. A confirmation naming an upload that is gone (the button
    pressed twice: the first import removed it) or a format there is not goes back to the
    upload form with a message (the library answered 500)."""

    def get_import_formats(self):
        return [_storable_format(format_class) for format_class in super().get_import_formats()]

    def process_import(self, request, **kwargs):
        if request.method == "POST" and self.has_import_permission(request):
            form = self.create_confirm_form(request)
            if form.is_valid() and not self._format_known(form.cleaned_data["format"]):
                return self._upload_again(request)
            try:
                return super().process_import(request, **kwargs)
            except FileNotFoundError:
                return self._upload_again(request)
        return super().process_import(request, **kwargs)

    def _format_known(self, chosen: str) -> bool:
        return (
            chosen.isascii() and chosen.isdigit() and int(chosen) < len(self.get_import_formats())
        )

    def _upload_again(self, request):
        messages.error(
            request,
            _(
                "The file of this import is no longer here: it was imported already, or the "
                "page was too old. Upload the file again."
            ),
        )
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_import")

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, UnstorableCell):
            form.add_error(
                "import_file",
                _(
                    "Row %(row)s, column %(column)s holds a NUL character (or a broken "
                    "one): no text may hold it. Remove it and upload the file again."
                )
                % {"row": e.row, "column": e.column},
            )
            return
        titles = dict(form.fields["format"].choices) if "format" in form.fields else {}
        name = titles.get(getattr(form, "cleaned_data", {}).get("format"), "")
        form.add_error(
            "import_file",
            _(
                "This file could not be read as %(format)s. Check that the format chosen "
                "matches the file: a CSV file saved as UTF-8, or an Excel .xlsx workbook."
            )
            % {"format": str(name).upper() or _("the format chosen")},
        )
