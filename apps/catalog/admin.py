"""The back office of the catalog: products, the category tree, brands.

Writes with a rule go through the catalog services: products through ``product_save``
(attributes checked against the category's definitions, search document rebuilt), categories
through ``category_create`` (path and slug), images through the image services (one primary
image, thumbnails off the request path). Products are soft-deleted, never removed here; stock is
shown, not edited (it moves through the inventory services).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.validators import MinValueValidator
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from apps.accounts.admin.common import AuditHistoryMixin, _domain_message
from apps.catalog.attributes import definitions_for
from apps.catalog.cache import catalog_cache_bump
from apps.catalog.hooks import available_subquery, serial_tracking_refusals
from apps.catalog.images import product_images_save, validate_image
from apps.catalog.models import AttributeDefinition, Brand, Category, Product, ProductImage
from apps.catalog.names import name_is
from apps.catalog.resources import ProductResource, category_path_text
from apps.catalog.search import search_fold
from apps.catalog.services.admin_products import (
    barcodes_clean,
    product_attributes_clean,
    product_restore,
    product_save,
    product_set_active,
    product_soft_delete,
)
from apps.catalog.services.categories import MAX_DEPTH, category_create
from apps.core.exceptions import DomainError
from apps.core.exports import SpreadsheetImportMixin
from apps.core.text import capfirst, is_digits

TREE_INDENT = "— "


def tree_label(category: Category) -> str:
    return TREE_INDENT * (category.depth - 1) + category.name


class CategoryTreeChoiceField(forms.ModelChoiceField):
    """Categories in tree order, each shown with its full path ("Lighting > LED > Panels")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Category.objects.order_by("path"))
        super().__init__(*args, **kwargs)
        self._names: dict[str, str] | None = None

    def label_from_instance(self, obj: Category) -> str:
        if self._names is None:
            self._names = dict(Category.objects.values_list("path", "name"))
        return category_path_text(obj, self._names)


class CategoryIndentedChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Category.objects.order_by("path"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Category) -> str:
        return tree_label(obj)


# --- Products -----------------------------------------------------------------------------------


class BarcodesField(forms.CharField):
    """A list of barcodes edited as one line, separated by commas."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(code) for code in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        codes = [code.strip() for code in text.replace(";", ",").split(",")]
        try:
            return barcodes_clean([code for code in codes if code])
        except DomainError as exc:
            raise forms.ValidationError(_domain_message(exc)) from exc

    def has_changed(self, initial, data):
        try:
            return self.to_python(self.prepare_value(initial) or "") != self.to_python(data)
        except forms.ValidationError:
            return True


# --- the attributes of the product's category, as form fields ------------------------------------

ATTRIBUTE_PREFIX = "attr__"  # form field names: attr__<code>


class AttributeFieldMixin:
    """A form field of one attribute: it only turns the input into a value; whether the value
    is allowed (required, type, choices, length) is decided by the catalog's attribute rules
    (``product_attributes_clean``), the same the API and the import apply."""

    def validate(self, value):
        pass


class AttributeTextField(AttributeFieldMixin, forms.CharField):
    pass


class AttributeNumberField(AttributeFieldMixin, forms.CharField):
    widget = forms.NumberInput(attrs={"step": "any"})


class AttributeChoiceField(AttributeFieldMixin, forms.ChoiceField):
    pass


class AttributeBooleanField(AttributeFieldMixin, forms.NullBooleanField):
    widget = forms.NullBooleanSelect


def attribute_form_field(definition: AttributeDefinition) -> forms.Field:
    label = definition.name + (f" ({definition.unit})" if definition.unit else "")
    options = {
        "label": label,
        "required": definition.is_required,  # shown bold; checked by the attribute rules
        "help_text": format_lazy(_("Code: {code}"), code=definition.code),
    }
    kind = definition.type
    if kind == AttributeDefinition.Type.NUMBER:
        return AttributeNumberField(**options)
    if kind == AttributeDefinition.Type.BOOLEAN:
        return AttributeBooleanField(**options)
    if kind == AttributeDefinition.Type.CHOICE:
        choices = [("", "---------"), *((str(c), str(c)) for c in definition.choices)]
        return AttributeChoiceField(choices=choices, **options)
    return AttributeTextField(**options)


def attribute_value_from_form(definition: AttributeDefinition, value):
    """The posted value as the attribute rules expect it (a choice keeps its own type)."""
    if definition.type == AttributeDefinition.Type.CHOICE:
        by_text = {str(choice): choice for choice in definition.choices}
        return by_text.get(value, value)
    return value


class ProductAdminForm(forms.ModelForm):
    """The product form. Attributes are fields of their own, one per attribute definition of
    the category (``ProductAdmin.get_form`` builds them for the category shown or posted), and
    are checked by the catalog's attribute rules. ``attributes_category`` remembers the
    category the attribute fields were shown for: a form posted with another category shows
    that category's attributes to fill in instead of saving."""

    attribute_definitions: list[AttributeDefinition] = []
    attributes_category_id: int | None = None

    category = CategoryTreeChoiceField(
        label=capfirst(_("category")),
        help_text=_("Another category shows its attributes to fill in before the product saves."),
    )
    barcodes = BarcodesField(
        label=capfirst(_("barcodes")),
        required=False,
        help_text=_("EAN/UPC codes separated by commas; search finds the product by any of them."),
    )
    attributes_category = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Product
        fields = (
            "sku",
            "name",
            "description",
            "brand",
            "category",
            "is_active",
            "unit",
            "vat_rate",
            "min_order_quantity",
            "order_multiple",
            "serial_tracked",
            "barcodes",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("min_order_quantity", "order_multiple"):
            # at least 1, as the model and the import say (a positive integer's form field
            # starts at 0: -1 was told "at least 0")
            field = self.fields.get(name)
            if field is not None:
                field.min_value = 1
                field.widget.attrs["min"] = 1
                field.validators = [
                    *(v for v in field.validators if not isinstance(v, MinValueValidator)),
                    MinValueValidator(1),
                ]
        stored = self.instance.attributes if isinstance(self.instance.attributes, dict) else {}
        for definition in self.attribute_definitions:
            if definition.code in stored:
                value = stored[definition.code]
                if definition.type == AttributeDefinition.Type.CHOICE:
                    value = str(value)
                self.initial.setdefault(ATTRIBUTE_PREFIX + definition.code, value)
        shown_for = "" if self.attributes_category_id is None else str(self.attributes_category_id)
        self.initial["attributes_category"] = shown_for
        if self.is_bound:
            self.data = self.data.copy()  # to show the right category after a change

    def clean_sku(self) -> str:
        sku = (self.cleaned_data.get("sku") or "").strip()
        # deleted products keep their SKU: the form's own check cannot see them
        taken = Product.all_objects.filter(sku=sku).exclude(pk=self.instance.pk)
        if taken.filter(is_deleted=True).exists():
            raise forms.ValidationError(
                gettext("A deleted product has this SKU; import it again to bring it back.")
            )
        return sku

    def clean(self):
        cleaned = super().clean()
        if "serial_tracked" in self.changed_data and self.instance.pk:
            wanted = {self.instance.pk: bool(cleaned.get("serial_tracked"))}
            refusal = serial_tracking_refusals(wanted).get(self.instance.pk)
            if refusal:
                self.add_error("serial_tracked", refusal)
        category = cleaned.get("category")
        if category is None:
            return cleaned
        seen_for = cleaned.get("attributes_category") or ""
        if seen_for != str(category.pk):
            self.data[self.add_prefix("attributes_category")] = str(category.pk)
            if self.attribute_definitions:
                self.add_error(
                    None,
                    gettext(
                        "The attributes of the category %(category)s are shown below: fill "
                        "them in and save again."
                    )
                    % {"category": category.name},
                )
                return cleaned
        values = {}
        for definition in self.attribute_definitions:
            value = cleaned.get(ATTRIBUTE_PREFIX + definition.code)
            if value is None or value == "":
                continue
            values[definition.code] = attribute_value_from_form(definition, value)
        try:
            self.instance.attributes = product_attributes_clean(
                category=category, attributes=values
            )
        except DomainError as exc:
            for key, words in exc.errors.items():
                _field, _dot, code = key.partition(".")
                name = ATTRIBUTE_PREFIX + code
                if name in self.fields:
                    self.add_error(name, [str(word) for word in words])
                else:
                    self.add_error(
                        None, [f"{code}: {word}" if code else str(word) for word in words]
                    )
        return cleaned


def product_form_for(category: Category | None) -> type[ProductAdminForm]:
    """The product form with one field per attribute of ``category`` (and its ancestors)."""
    definitions = definitions_for(category) if category is not None else []
    attrs = {ATTRIBUTE_PREFIX + d.code: attribute_form_field(d) for d in definitions}
    attrs["attribute_definitions"] = definitions
    attrs["attributes_category_id"] = category.pk if category is not None else None
    attrs["__module__"] = __name__
    return type("ProductAdminForm", (ProductAdminForm,), attrs)


class ProductImageForm(forms.ModelForm):
    class Meta:
        model = ProductImage
        fields = ("image", "alt_text", "sort_order", "is_primary")

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and "image" in self.changed_data:  # a new upload: size, real image, format
            validate_image(image)
        return image


class ProductImageFormSet(forms.BaseInlineFormSet):
    """One primary image: ticking it on another image moves the flag there (the old one
    is unticked on save); ticking two new ones at once is an error."""

    primary_form = None

    def clean(self):
        super().clean()
        ticked = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not self._should_delete_form(form)
            and form.cleaned_data.get("is_primary")
        ]
        newly = [f for f in ticked if f.instance.pk is None or "is_primary" in f.changed_data]
        if len(ticked) > 1 and len(newly) != 1:
            raise forms.ValidationError(gettext("Tick only one image as the primary image."))
        self.primary_form = newly[0] if len(ticked) > 1 else (ticked[0] if ticked else None)


class ProductImageInline(admin.TabularInline):
    """Ordered images; one is primary (ticking another moves the flag, the first image is
    primary by default). Thumbnails are made in the background after saving."""

    model = ProductImage
    form = ProductImageForm
    formset = ProductImageFormSet
    extra = 0
    fields = ("preview", "image", "alt_text", "sort_order", "is_primary")
    readonly_fields = ("preview",)
    ordering = ("-is_primary", "sort_order", "id")

    @admin.display(description=_("thumbnail"))
    def preview(self, obj: ProductImage):
        if obj.pk is None:
            return ""
        if not obj.thumbnail:
            return gettext("being generated")
        return format_html(
            '<img src="{}" alt="{}" style="max-width:80px;max-height:80px">',
            obj.thumbnail.url,
            obj.alt_text,
        )


class CategorySubtreeFilter(admin.SimpleListFilter):
    """A category with its sub-categories (one indexed path prefix query)."""

    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [
            (str(category.pk), tree_label(category))
            for category in Category.objects.order_by("path").only("name", "depth", "path")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        category = Category.objects.filter(pk=value).first() if is_digits(value) else None
        if category is None:
            return queryset.none()
        return queryset.filter(category__path__startswith=category.path)


class DeletedFilter(admin.SimpleListFilter):
    """Live products unless "deleted" is chosen: soft-deleted ones are listed only here, to be
    looked at or restored."""

    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", _("Deleted"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() != "yes",
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Not deleted"),
        }
        yield {
            "selected": self.value() == "yes",
            "query_string": changelist.get_query_string({self.parameter_name: "yes"}),
            "display": _("Deleted"),
        }

    def queryset(self, request, queryset):
        return queryset.filter(is_deleted=self.value() == "yes")


@admin.register(Product)
class ProductAdmin(AuditHistoryMixin, SpreadsheetImportMixin, ImportExportModelAdmin):
    form = ProductAdminForm
    resource_classes = [ProductResource]
    formats = [CSV, XLSX]
    list_display = (
        "sku",
        "name",
        "brand",
        "category",
        "vat_rate",
        "is_active",
        "available_stock",
    )
    list_display_links = ("sku", "name")
    list_filter = (
        "is_active",
        ("brand", admin.RelatedFieldListFilter),
        CategorySubtreeFilter,
        "vat_rate",
        "serial_tracked",
        DeletedFilter,
    )
    search_fields = ("search_document",)  # see get_search_results
    search_help_text = _("SKU, name, brand, barcode or attribute value.")
    list_select_related = ("brand", "category")
    show_full_result_count = False  # one COUNT less on a big catalog
    ordering = ("sku",)
    inlines = (ProductImageInline,)
    # the page adds read-only panels of prices, campaigns and stock (apps.backoffice.product_page:
    # the catalog is below those apps, so the template asks the top layer for them)
    change_form_template = "admin/catalog/product/change_form.html"
    actions = (
        "activate_selected",
        "deactivate_selected",
        "soft_delete_selected",
        "restore_selected",
    )
    readonly_fields = (
        "attribute_help",
        "search_document",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    fieldsets = (
        (None, {"fields": ("sku", "name", "description", "brand", "category", "is_active")}),
        (
            _("Sales"),
            {
                "fields": (
                    "unit",
                    "vat_rate",
                    "min_order_quantity",
                    "order_multiple",
                    "serial_tracked",
                )
            },
        ),
        (_("Attributes"), {"fields": ("attribute_help",)}),  # see get_fieldsets
        (_("Barcodes"), {"fields": ("barcodes",)}),
        (
            _("Record"),
            {
                "classes": ("collapse",),
                "fields": (
                    "search_document",
                    "created_at",
                    "created_by",
                    "updated_at",
                    "updated_by",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        # every row, deleted ones too: the list shows them only under DeletedFilter's "Deleted",
        # and a deleted product's page opens (read-only) from there and from old links
        # other screens' product pickers (the admin's autocomplete) offer live products only
        autocomplete = request.path == reverse("admin:autocomplete")
        queryset = (Product.objects if autocomplete else Product.all_objects).all()
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset.annotate(available=available_subquery())

    def get_actions(self, request):
        # the deleted list restores, the live one deletes (and activates, deactivates)
        actions = super().get_actions(request)
        if request.GET.get(DeletedFilter.parameter_name) == "yes":
            return {name: action for name, action in actions.items() if name == "restore_selected"}
        actions.pop("restore_selected", None)
        return actions

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_deleted:
            return False  # restored first (the list's action), then changed
        return super().has_change_permission(request, obj)

    def get_search_results(self, request, queryset, search_term):
        """Every word somewhere in the search document (SKU, name, brand, barcodes, attribute
        values). The document is stored lower-cased, so a plain LIKE on it is what the trigram
        index answers (``icontains`` would wrap the column in UPPER() and scan the table)."""
        words = search_fold(search_term).split()[:10]
        for word in words:
            queryset = queryset.filter(search_document__contains=word)
        return queryset, False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("sku")  # the natural key the ERP and the images use
        return fields

    @admin.display(description=_("available"), ordering="available")
    def available_stock(self, obj: Product) -> int:
        return getattr(obj, "available", 0)

    # --- the attribute fields of the product's category ---

    def _attribute_form(self, request, obj) -> type[ProductAdminForm]:
        """The form with the attribute fields of the category posted (a changed category shows
        its own attributes) or else of the product's category; one per request."""
        cached = getattr(request, "_product_attribute_form", None)
        if cached is not None and cached[0] == getattr(obj, "pk", None):
            return cached[1]
        category = None
        posted = request.POST.get("category", "") if request.method == "POST" else ""
        if is_digits(posted):
            category = Category.objects.filter(pk=posted).first()
        if category is None and obj is not None and obj.category_id:
            category = obj.category
        form = product_form_for(category)
        request._product_attribute_form = (getattr(obj, "pk", None), form)
        return form

    def get_fieldsets(self, request, obj=None):
        form = self._attribute_form(request, obj)
        names = [ATTRIBUTE_PREFIX + d.code for d in form.attribute_definitions]
        shown = (
            (*names, "attributes_category") if names else ("attribute_help", "attributes_category")
        )
        if obj is not None and not self.has_change_permission(request, obj):
            # read only (a Sales Manager, Customer Service): the values, not form fields that
            # a read-only page would show as "None"
            shown = ("attribute_values",)
        return [
            (
                title,
                {**options, "fields": shown}
                if options["fields"] == ("attribute_help",)
                else options,
            )
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault("form", self._attribute_form(request, obj))
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description=_("attributes"))
    def attribute_values(self, obj: Product):
        """The product's attribute values as its category defines them (label: value unit)."""
        definitions = self._attribute_form_for_display(obj)
        if not definitions:
            return self.attribute_help(obj)
        lines = []
        for definition in definitions:
            value = (obj.attributes or {}).get(definition.code)
            if value is None or value == "":
                shown = "-"
            elif isinstance(value, bool):
                shown = gettext("Yes") if value else gettext("No")
            else:
                shown = f"{value} {definition.unit}".strip()
            lines.append((definition.name, shown))
        return format_html_join(mark_safe("<br>"), "{}: {}", lines)

    def _attribute_form_for_display(self, obj: Product):
        category = obj.category if obj.category_id else None
        return list(product_form_for(category).attribute_definitions)

    @admin.display(description=_("attributes"))
    def attribute_help(self, obj: Product | None):
        if obj is None or obj.pk is None or obj.category_id is None:
            return gettext(
                "Choose the category: its attributes appear here to fill in when you save."
            )
        return gettext("The category defines no attributes.")

    # hard delete is disabled: products are soft-deleted with the action below
    def has_delete_permission(self, request, obj=None):
        return False

    def has_soft_delete_permission(self, request) -> bool:
        return request.user.has_perm("catalog.delete_product")

    def has_import_permission(self, request) -> bool:
        user = request.user
        return user.has_perm("catalog.add_product") and user.has_perm("catalog.change_product")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("catalog.view_product")

    def save_model(self, request, obj: Product, form, change):
        product_save(product=obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is ProductImage:
            formset.save(commit=False)  # fills new/changed/deleted_objects
            for image_form in formset.forms:
                if image_form is not formset.primary_form:
                    image_form.instance.is_primary = False
            changed = [image for image, _fields in formset.changed_objects]
            replaced = [image for image, fields in formset.changed_objects if "image" in fields]
            product_images_save(
                product=form.instance,
                images=[*formset.new_objects, *changed],
                replaced=replaced,
                deleted=formset.deleted_objects,
            )
        else:
            super().save_formset(request, form, formset, change)

    @admin.action(description=_("Activate selected products"), permissions=["change"])
    def activate_selected(self, request, queryset):
        count = product_set_active(products=queryset, is_active=True, by=request.user)
        message = ngettext(
            "%(count)d product activated.", "%(count)d products activated.", count
        ) % {"count": count}
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Deactivate selected products"), permissions=["change"])
    def deactivate_selected(self, request, queryset):
        count = product_set_active(products=queryset, is_active=False, by=request.user)
        message = ngettext(
            "%(count)d product deactivated.", "%(count)d products deactivated.", count
        ) % {"count": count}
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Delete selected products (soft)"), permissions=["soft_delete"])
    def soft_delete_selected(self, request, queryset):
        count = product_soft_delete(products=queryset, by=request.user)
        message = ngettext(
            "%(count)d product deleted (hidden; orders and history keep it).",
            "%(count)d products deleted (hidden; orders and history keep them).",
            count,
        ) % {"count": count}
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Restore selected deleted products"), permissions=["soft_delete"])
    def restore_selected(self, request, queryset):
        count = product_restore(products=queryset, by=request.user)
        message = ngettext("%(count)d product restored.", "%(count)d products restored.", count) % {
            "count": count
        }
        self.message_user(request, message, messages.SUCCESS)


# --- Categories ---------------------------------------------------------------------------------


class AttributeDefinitionForm(forms.ModelForm):
    class Meta:
        model = AttributeDefinition
        fields = (
            "code",
            "name",
            "type",
            "unit",
            "choices",
            "is_required",
            "is_filterable",
            "sort_order",
        )
        help_texts = {
            "choices": _('For the choice type only: a JSON list, e.g. ["IP20", "IP44", "IP65"].')
        }

    def clean(self):
        cleaned = super().clean()
        if "choices" in self.errors:
            return cleaned
        kind = cleaned.get("type")
        choices = cleaned.get("choices")
        if choices in (None, ""):
            choices = []
        if kind == AttributeDefinition.Type.CHOICE:
            if not isinstance(choices, list) or not choices:
                self.add_error(
                    "choices",
                    gettext('A choice attribute needs its choices as a JSON list, e.g. ["IP20"].'),
                )
            elif any(
                isinstance(choice, bool) or not isinstance(choice, str | int | float)
                for choice in choices
            ) or any(isinstance(c, str) and not c.strip() for c in choices):
                self.add_error("choices", gettext("Each choice is a text or a number."))
            elif len({str(choice) for choice in choices}) != len(choices):
                self.add_error("choices", gettext("A choice is listed twice."))
        elif choices:
            self.add_error("choices", gettext("Only attributes of the choice type have choices."))
        cleaned["choices"] = choices
        return cleaned


class AttributeDefinitionInline(admin.TabularInline):
    """Attributes the products of this category and of its sub-categories carry."""

    model = AttributeDefinition
    form = AttributeDefinitionForm
    extra = 0
    fields = (
        "code",
        "name",
        "type",
        "unit",
        "choices",
        "is_required",
        "is_filterable",
        "sort_order",
    )


class CategoryAdminForm(forms.ModelForm):
    parent = CategoryIndentedChoiceField(
        label=capfirst(_("parent")),
        required=False,
        help_text=_("Empty for a top-level category. A category cannot be moved later."),
    )

    class Meta:
        model = Category
        fields = ("name", "parent", "sort_order", "is_active")

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("name") or "").strip()
        parent = cleaned.get("parent") if "parent" in self.fields else self.instance.parent
        if not name:
            return cleaned
        if parent is not None and parent.depth >= MAX_DEPTH:
            self.add_error("parent", gettext("The category tree is too deep."))
        siblings = Category.objects.filter(name_is(name), parent=parent)
        if siblings.exclude(pk=self.instance.pk).exists():
            self.add_error("name", gettext("A category of this name exists at this level."))
        cleaned["name"] = name
        return cleaned


@admin.register(Category)
class CategoryAdmin(AuditHistoryMixin, admin.ModelAdmin):
    """The tree in path order, indented by depth. New categories get their path and slug from
    ``category_create``; names, order and the active flag can change, the parent cannot."""

    form = CategoryAdminForm
    list_display = ("tree_name", "slug", "sort_order", "is_active", "product_count")
    list_display_links = ("tree_name",)
    list_filter = ("is_active", "depth")
    search_fields = ("name", "slug")
    ordering = ("path",)
    sortable_by = ()  # any other order would break the tree
    list_per_page = 200
    inlines = (AttributeDefinitionInline,)

    def get_queryset(self, request):
        # a correlated subquery, not a join: counted for the page's rows only
        live = (
            Product.objects.filter(category=OuterRef("pk"))
            .order_by()
            .values("category")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(live_products=Coalesce(Subquery(live, output_field=IntegerField()), 0))
            .order_by("path")
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*super().get_readonly_fields(request, obj), "parent_path", "slug", "depth")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "parent", "sort_order", "is_active")
        return ("name", "parent_path", "slug", "depth", "sort_order", "is_active")

    @admin.display(description=_("category"), ordering="path")
    def tree_name(self, obj: Category) -> str:
        return tree_label(obj)

    @admin.display(description=_("products"))
    def product_count(self, obj: Category) -> int:
        return getattr(obj, "live_products", 0)

    @admin.display(description=_("parent"))
    def parent_path(self, obj: Category) -> str:
        parent = category_path_text(obj.parent) if obj.parent_id else gettext("(top level)")
        return format_html(
            "{}<div class='help'>{}</div>",
            parent,
            gettext(
                "Moving a category to another parent is not supported: create the new "
                "category and move its products instead."
            ),
        )

    def save_model(self, request, obj: Category, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        try:
            created = category_create(
                name=data["name"],
                parent=data.get("parent"),
                sort_order=data.get("sort_order") or 0,
                is_active=data.get("is_active", True),
            )
        except DomainError as exc:  # checked by the form already; a race at worst
            self.message_user(request, _domain_message(exc), messages.ERROR)
            raise
        for name in ("id", "path", "depth", "slug", "created_at", "updated_at"):
            setattr(obj, name, getattr(created, name))
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        catalog_cache_bump()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalog_cache_bump()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        catalog_cache_bump()


# --- Brands -------------------------------------------------------------------------------------


class BrandAdminForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ("name", "slug", "is_active")

    def clean_name(self) -> str:
        name = " ".join((self.cleaned_data.get("name") or "").split())
        if Brand.objects.filter(name_is(name)).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(gettext("A brand of this name exists."))
        return name


@admin.register(Brand)
class BrandAdmin(AuditHistoryMixin, admin.ModelAdmin):
    form = BrandAdminForm
    list_display = ("name", "slug", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("name",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        catalog_cache_bump()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalog_cache_bump()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        catalog_cache_bump()
