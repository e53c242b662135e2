"""Input and output shapes of the cart, order and requisition list endpoints (API.md "Cart and
orders", "Quotes and requisition lists")."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalog.api.serializers import (
    CampaignRefSerializer,
    PriceSerializer,
    StockSerializer,
)
from apps.core.money import MAX_LINE_QUANTITY
from apps.core.serializers import (
    FieldsBuiltOnceMixin,
    OptionalTextField,
    StrictInputSerializer,
    one_line,
)
from apps.inventory.selectors import stock_display
from apps.orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    PaymentMethod,
    RequisitionList,
    RequisitionListItem,
)
from apps.orders.notes import order_note_shown, status_note_shown
from apps.orders.services.lists import MAX_LIST_ITEMS
from apps.orders.services.placement import NOTE_MAX_LENGTH

QUANTITY = {"min_value": 1, "max_value": MAX_LINE_QUANTITY}


class ItemInputSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(**QUANTITY)


class CartItemInputSerializer(ItemInputSerializer):
    pass


class CartItemUpdateSerializer(StrictInputSerializer):
    quantity = serializers.IntegerField(**QUANTITY)


class CartImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (`sku,quantity`; `;` or `,`) or .xlsx.")


class OrderCreateSerializer(StrictInputSerializer):
    shipping_address_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Default: the company's default."
    )
    billing_address_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Default: the company's default."
    )
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    note = OptionalTextField(max_length=NOTE_MAX_LENGTH)
    po_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", validators=[one_line]
    )
    items = ItemInputSerializer(
        many=True,
        required=False,
        allow_empty=False,
        max_length=500,
        help_text="The lines; without them the cart is ordered (and emptied on success).",
    )


class RequiredReasonSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=1000)


class OrderLineSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """A line at the prices of the day it was placed. The price words are those of the
    `price` object of the catalog and the cart: `list`, `unit_net`, `discount`, `source`,
    `campaign`."""

    list = serializers.DecimalField(
        source="list_price",
        max_digits=14,
        decimal_places=4,
        allow_null=True,
        help_text="The LIST price then (null when the product had none).",
    )
    source = serializers.CharField(
        source="price_source",
        help_text="`special`, `tier:A|B|C`, `list`, or `quote` (an accepted quote's price).",
    )
    campaign = serializers.SerializerMethodField()
    quote_number = serializers.CharField(
        allow_blank=True, help_text="The quote whose price the line carries (source `quote`)."
    )

    class Meta:
        model = OrderLine
        fields = [
            "sku",
            "name",
            "quantity",
            "list",
            "unit_net",
            "discount",
            "source",
            "campaign",
            "quote_number",
            "vat_rate",
            "line_net",
            "line_vat",
            "line_gross",
            "serial_numbers",
        ]

    @extend_schema_field(CampaignRefSerializer(allow_null=True))
    def get_campaign(self, line) -> dict | None:
        if line.campaign_id is None:
            return None
        return {"id": line.campaign_id, "name": line.campaign_name}


class StatusChangeSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """One status change: `from` (null for the first), `to`, `at`, `by` (the person, when
    one acted), `actor` (`dealer`, `staff`, `erp` or `system`) and `note`."""

    by = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="created_at")
    to = serializers.ChoiceField(source="to_status", choices=OrderStatus.choices)
    actor = serializers.ChoiceField(choices=["dealer", "staff", "erp", "system"])
    # the system's notes in the reader's language (they are stored in the writer's)
    note = serializers.SerializerMethodField()

    class Meta:
        model = OrderStatusChange
        fields = ["to", "at", "by", "actor", "note"]

    def get_fields(self):
        # "from" is a Python keyword, so it cannot be declared as a class attribute
        fields = {"from": serializers.SerializerMethodField(method_name="get_from")}
        fields.update(super().get_fields())
        return fields

    def get_note(self, change) -> str:
        return status_note_shown(change)

    def get_from(self, change) -> str | None:
        return change.from_status or None

    def get_by(self, change) -> str | None:
        user = change.changed_by
        if user is None:
            return None
        return user.get_full_name() or user.email


class AddressSnapshotSerializer(serializers.Serializer):
    """The address as it was when the order was placed (later edits do not change it)."""

    id = serializers.IntegerField(required=False, help_text="The company address it came from.")
    title = serializers.CharField(required=False)
    line1 = serializers.CharField(required=False)
    line2 = serializers.CharField(required=False, allow_blank=True)
    district = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False)
    postal_code = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, help_text="ISO 3166 alpha-2.")
    phone = serializers.CharField(required=False, allow_blank=True)


class OrderSummarySerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "payment_method",
            "currency",
            "subtotal_net",
            "vat_total",
            "grand_total",
            "po_number",
            "created_at",
            "updated_at",
        ]


class OrderSerializer(OrderSummarySerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    status_history = StatusChangeSerializer(many=True, read_only=True)
    placed_by = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField(
        help_text="The dealer's note; one the system wrote (a quote's) in the reader's language."
    )
    shipping_address = AddressSnapshotSerializer()
    billing_address = AddressSnapshotSerializer()

    class Meta(OrderSummarySerializer.Meta):
        fields = [
            *OrderSummarySerializer.Meta.fields,
            "note",
            "placed_by",
            "shipping_address",
            "billing_address",
            "tracking_number",
            "carrier",
            "confirmed_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "lines",
            "status_history",
        ]

    def get_note(self, order) -> str:
        return order_note_shown(order.note)

    def get_placed_by(self, order) -> str | None:
        return order.placed_by.email if order.placed_by_id and order.placed_by else None


# --- cart, quick order, reorder (output) ---------------------------------------------------------

MONEY = {"max_digits": 14, "decimal_places": 2}


class LineProblemSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            "not_available",
            "not_sellable",
            "below_minimum",
            "not_multiple",
            "out_of_stock",
            "too_large",
        ]
    )
    message = serializers.CharField()


class CartProblemSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["empty_cart", "too_large"])
    message = serializers.CharField()


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The line's id, for PATCH and DELETE cart/items/{id}.")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    vat_rate = serializers.IntegerField(source="product.vat_rate")
    price = PriceSerializer(
        allow_null=True, help_text="Priced now; null where the product is not sellable to you."
    )
    line_net = serializers.DecimalField(**MONEY, allow_null=True)
    line_vat = serializers.DecimalField(**MONEY, allow_null=True)
    line_gross = serializers.DecimalField(**MONEY, allow_null=True)
    stock = serializers.SerializerMethodField()
    problems = LineProblemSerializer(
        many=True, help_text="What keeps the line from being ordered as it is."
    )

    @extend_schema_field(StockSerializer)
    def get_stock(self, line) -> dict:
        return stock_display(line.available)


class CartSerializer(serializers.Serializer):
    currency = serializers.CharField()
    lines = CartLineSerializer(many=True)
    line_count = serializers.IntegerField()
    subtotal_net = serializers.DecimalField(**MONEY, help_text="Of the sellable lines.")
    vat_total = serializers.DecimalField(**MONEY)
    grand_total = serializers.DecimalField(**MONEY)
    problems = CartProblemSerializer(
        many=True,
        help_text="What keeps the cart as a whole from being ordered: `empty_cart` (no line), "
        "`too_large` (the lines together come to more than an order can hold).",
    )
    orderable = serializers.BooleanField(
        help_text="True when neither the cart nor any line has a problem."
    )


class CartImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row number in the file.")
    sku = serializers.CharField()
    error = serializers.CharField()


class CartImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    added = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = CartImportErrorSerializer(many=True)
    cart = CartSerializer()


class ReorderedLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class SkippedLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    reason = serializers.CharField()


class ReorderResultSerializer(serializers.Serializer):
    added = ReorderedLineSerializer(many=True)
    skipped = SkippedLineSerializer(many=True)
    cart = CartSerializer()


# --- requisition lists ---------------------------------------------------------------------------

LIST_ECHO_FIELDS = ("id", "owner", "editable", "item_count", "created_at", "updated_at")


class NameField(serializers.CharField):
    """Trimmed, and at most ``max_length`` characters as sent (the schema's ``maxLength``
    counts the spaces a client sends too, so they count here before the trim)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class RequisitionListCreateSerializer(StrictInputSerializer):
    name = NameField(max_length=100, validators=[one_line])
    shared = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Every user of your company who may order "
        "sees the list and may put it in their cart.",
    )
    items = ItemInputSerializer(
        many=True,
        required=False,
        max_length=MAX_LIST_ITEMS,
        help_text="The lines; a SKU given twice makes one line of both quantities.",
    )


class RequisitionListUpdateSerializer(StrictInputSerializer):
    echo_fields = LIST_ECHO_FIELDS

    name = NameField(max_length=100, required=False, validators=[one_line])
    shared = serializers.BooleanField(required=False)


class RequisitionListItemUpdateSerializer(StrictInputSerializer):
    echo_fields = ("id", "sku", "name", "added_at")

    quantity = serializers.IntegerField(**QUANTITY)


class RequisitionListToCartSerializer(StrictInputSerializer):
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=MAX_LIST_ITEMS,
        help_text="The lines to put in the cart (their `id`); all lines when omitted.",
    )


class RequisitionListItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")

    class Meta:
        model = RequisitionListItem
        fields = ["id", "sku", "name", "quantity", "added_at"]


class RequisitionListSerializer(serializers.ModelSerializer):
    owner = serializers.EmailField(source="owner.email", help_text="Who made the list.")
    editable = serializers.SerializerMethodField(
        help_text="Whether you may rename, share, delete the list or change its lines."
    )
    item_count = serializers.SerializerMethodField()
    items = RequisitionListItemSerializer(many=True)

    class Meta:
        model = RequisitionList
        fields = [
            "id",
            "name",
            "shared",
            "owner",
            "editable",
            "item_count",
            "items",
            "created_at",
            "updated_at",
        ]

    def get_editable(self, reqlist) -> bool:
        request = self.context.get("request")
        return bool(request is not None and reqlist.can_edit(by=request.user))

    def get_item_count(self, reqlist) -> int:
        return len(reqlist.items.all())


class ToCartLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class ToCartProblemSerializer(serializers.Serializer):
    sku = serializers.CharField()
    code = serializers.ChoiceField(
        choices=[
            "not_available",
            "not_sellable",
            "cart_limit",
            "below_minimum",
            "not_multiple",
            "out_of_stock",
        ],
        help_text="`not_available`, `not_sellable` and `cart_limit` lines were not added; "
        "the others were, and the cart shows the same problem.",
    )
    message = serializers.CharField()


class RequisitionListToCartResultSerializer(serializers.Serializer):
    added = ToCartLineSerializer(many=True)
    problems = ToCartProblemSerializer(many=True)


class RequisitionListImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    added = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = CartImportErrorSerializer(many=True)
    list = RequisitionListSerializer()
