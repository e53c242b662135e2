"""The category tree: paths, creation from the ERP's "Parent > Child" strings."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Left, Length
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.catalog.cache import catalog_cache_bump
from apps.catalog.models import PATH_STEP, Category
from apps.catalog.names import name_is
from apps.core.exceptions import ValidationError
from apps.core.text import check_text

MAX_DEPTH = 255 // PATH_STEP
SEPARATOR = ">"


def _next_path(parent: Category | None) -> str:
    siblings = Category.objects.filter(parent=parent).order_by("-path")
    last = siblings.values_list("path", flat=True).first()
    number = int(last[-PATH_STEP:], 36) + 1 if last else 1
    if number >= 36**PATH_STEP:
        raise ValidationError({"category": [_("Too many sub-categories under one parent.")]})
    step = _base36(number).rjust(PATH_STEP, "0")
    return (parent.path if parent else "") + step


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def _unique_slug(name: str, parent: Category | None) -> str:
    base = slugify(name.replace("ı", "i").replace("İ", "I")) or "category"
    if parent is not None:
        base = f"{parent.slug}-{base}"
    base = base[:170]
    slug, n = base, 1
    while Category.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def category_create(
    *, name: str, parent: Category | None = None, sort_order: int = 0, is_active: bool = True
) -> Category:
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("A category needs a name.")]})
    if parent is not None:
        # siblings get paths one after another: lock the parent while numbering
        parent = Category.objects.select_for_update().get(pk=parent.pk)
        if parent.depth >= MAX_DEPTH:
            raise ValidationError({"parent": [_("The category tree is too deep.")]})
    elif connection.vendor == "postgresql":
        # roots have no parent row to lock: a transaction-scoped advisory lock numbers them
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('catalog_category_roots'))")
    category = Category(
        name=name,
        parent=parent,
        path=_next_path(parent),
        depth=(parent.depth + 1) if parent else 1,
        slug=_unique_slug(name, parent),
        sort_order=sort_order,
        is_active=is_active,
    )
    category.save()
    catalog_cache_bump()
    return category


def category_visibility_refresh() -> int:
    """Bring every category's ``is_visible`` in line with the tree: a category is visible
    when it and every category above it (a path prefix of its own) are active. Two statements
    over the category table, writing only what changed; run after every category save and
    delete (the catalog's signals). Returns the rows changed."""
    hidden = Exists(
        Category.objects.filter(is_active=False, path=Left(OuterRef("path"), Length("path")))
    )
    return Category.objects.filter(is_visible=True).filter(hidden).update(
        is_visible=False
    ) + Category.objects.filter(is_visible=False).exclude(hidden).update(is_visible=True)


def category_visibility_set_new(category: Category) -> None:
    """A category just created (nothing below it): visible when it and its parent are."""
    visible = category.is_active and (
        category.parent_id is None
        or Category.objects.filter(pk=category.parent_id, is_visible=True).exists()
    )
    if visible != category.is_visible:
        Category.objects.filter(pk=category.pk).update(is_visible=visible)
        category.is_visible = visible


def split_category_path(text: str) -> list[str]:
    names = [part.strip() for part in str(text).split(SEPARATOR)]
    if not names or any(not name for name in names):
        raise ValidationError({"category": [_('Write a category path like "Parent > Child".')]})
    if len(names) > MAX_DEPTH:
        raise ValidationError({"category": [_("The category tree is too deep.")]})
    if any(len(name) > 150 for name in names):
        raise ValidationError({"category": [_("A category name has at most 150 characters.")]})
    for name in names:  # as the category form says of a name typed there
        try:
            check_text(name, single_line=True)
        except ValueError as exc:
            raise ValidationError({"category": [str(exc)]}) from exc
    return names


def category_get_or_create_path(path_text: str, *, created: list[int] | None = None) -> Category:
    """``"Electrical > Cables > Power cables"`` -> the leaf, creating missing levels (their
    ids are added to ``created``, if given)."""
    parent = None
    for name in split_category_path(path_text):
        existing = Category.objects.filter(name_is(name), parent=parent).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = category_create(name=name, parent=parent)
            except IntegrityError:  # created concurrently
                existing = Category.objects.filter(name_is(name), parent=parent).first()
                if existing is None:  # made under another spelling of the name
                    existing = Category.objects.get(parent=parent, name=name)
            else:
                if created is not None:
                    created.append(existing.pk)
        parent = existing
    return parent
