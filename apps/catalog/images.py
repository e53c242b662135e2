"""Product images: what an upload must be, one primary image per product, thumbnails.

* ``validate_image(file)`` checks an upload before anything is stored: at most
  ``PRODUCT_IMAGE_MAX_BYTES``, really an image (Pillow reads and verifies it), in one of
  ``PRODUCT_IMAGE_FORMATS``. It raises Django's ``ValidationError``; forms and serializers turn
  that into a field error.
* A product has at most one primary image (a partial unique constraint holds it): making an
  image primary unsets the previous one, and the first image of a product becomes primary.
* Thumbnails (``PRODUCT_THUMBNAIL_SIZE``, WEBP) are rendered by the Celery task
  ``catalog.generate_thumbnail`` off the request path, queued when the transaction commits, and
  stored on the default storage (local files or S3) in ``ProductImage.thumbnail``.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from apps.catalog.models import Product, ProductImage
from apps.core.task_queue import task_enqueue
from apps.core.transactions import after_commit

logger = logging.getLogger(__name__)

THUMBNAIL_FORMAT = "WEBP"
THUMBNAIL_QUALITY = 82
MAX_PIXELS = 40_000_000  # e.g. 8000 x 5000; what a thumbnail worker decodes in memory
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# what Pillow raises for files it cannot read (UnidentifiedImageError is an OSError)
_UNREADABLE = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


# --- validation ---------------------------------------------------------------------------------


def _size_of(file) -> int:
    size = getattr(file, "size", None)
    if size is not None:
        return int(size)
    position = file.tell()
    file.seek(0, 2)
    size = file.tell()
    file.seek(position)
    return size


def validate_image(file) -> str:
    """Check an uploaded file; return its image format (``"JPEG"``, ``"PNG"`` ...).

    Raises ``django.core.exceptions.ValidationError`` with a message for the uploader when the
    file is too large, empty, not an image (whatever its name says) or of a format we refuse.
    """
    max_bytes = settings.PRODUCT_IMAGE_MAX_BYTES
    size = _size_of(file)
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > max_bytes:
        raise ValidationError(
            _("The image is too large (%(size)s); at most %(max)s.")
            % {"size": filesizeformat(size), "max": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    allowed = list(settings.PRODUCT_IMAGE_FORMATS)
    try:
        file.seek(0)
        with Image.open(file) as image:  # reads the header only
            image_format = image.format
            width, height = image.size
            image.verify()  # reads the whole file: a truncated or forged one fails here
    except _UNREADABLE as exc:
        raise ValidationError(
            _("The file is not an image or is damaged; upload a %(formats)s file.")
            % {"formats": ", ".join(allowed)},
            code="invalid_image",
        ) from exc
    finally:
        file.seek(0)
    if image_format not in allowed:
        raise ValidationError(
            _("Images must be %(formats)s; this one is %(format)s.")
            % {"formats": ", ".join(allowed), "format": image_format or _("unknown")},
            code="invalid_format",
        )
    if width < 1 or height < 1:
        raise ValidationError(_("The image has no pixels."), code="invalid_image")
    if width * height > MAX_PIXELS:  # a small file can still unpack into gigabytes
        raise ValidationError(
            _("The image is %(width)d x %(height)d pixels; at most %(max)d megapixels.")
            % {"width": width, "height": height, "max": MAX_PIXELS // 1_000_000},
            code="too_many_pixels",
        )
    return image_format


def image_file_name(original_name: str, image_format: str) -> str:
    """A safe file name whose extension says the real format (a PNG sent as x.jpg is x.png)."""
    stem = posixpath.splitext(posixpath.basename(original_name or ""))[0]
    stem = get_valid_filename(stem)[:80] if stem.strip(" ._") else "image"
    return f"{stem or 'image'}.{EXTENSIONS.get(image_format, image_format.lower())}"


# --- writes -------------------------------------------------------------------------------------


def product_image_ensure_primary(*, product: Product) -> None:
    """If the product has images but none is primary, the first one (by order) becomes it."""
    images = ProductImage.objects.filter(product=product)
    if images.filter(is_primary=True).exists():
        return
    first = images.order_by("sort_order", "id").values_list("pk", flat=True).first()
    if first is not None:
        ProductImage.objects.filter(pk=first).update(is_primary=True)


def _unset_other_primaries(*, product: Product, keep_pk: int | None) -> None:
    others = ProductImage.objects.filter(product=product, is_primary=True)
    if keep_pk is not None:
        others = others.exclude(pk=keep_pk)
    others.update(is_primary=False)


def _lock_product(product: Product) -> Product:
    # one writer at a time per product: the primary flag moves without a constraint clash
    return Product.all_objects.select_for_update().get(pk=product.pk)


@transaction.atomic
def product_image_create(
    *,
    product: Product,
    file,
    alt_text: str = "",
    is_primary: bool = False,
    sort_order: int = 0,
) -> ProductImage:
    """Validate and store an uploaded image of ``product``; its thumbnail follows on commit.
    A bad file raises ``ValidationError`` before anything is written."""
    image_format = validate_image(file)
    product = _lock_product(product)
    has_primary = ProductImage.objects.filter(product=product, is_primary=True).exists()
    make_primary = bool(is_primary) or not has_primary
    if make_primary and has_primary:
        _unset_other_primaries(product=product, keep_pk=None)
    image = ProductImage(
        product=product,
        alt_text=alt_text or "",
        sort_order=sort_order or 0,
        is_primary=make_primary,
    )
    image.image.save(image_file_name(getattr(file, "name", ""), image_format), file, save=False)
    try:
        image.save()
    except Exception:
        default_storage.delete(image.image.name)
        raise
    queue_thumbnail(image.pk)
    return image


@transaction.atomic
def product_images_save(
    *,
    product: Product,
    images: Iterable[ProductImage],
    replaced: Iterable[ProductImage] = (),
    deleted: Iterable[ProductImage] = (),
) -> None:
    """Save the admin's image inline: new and changed rows (``replaced`` ones got a new file),
    deletions; the primary flag stays unique and present; new files get a thumbnail."""
    images = list(images)
    replaced_pks = {image.pk for image in replaced if image.pk is not None}
    _lock_product(product)
    for image in deleted:
        product_image_delete(image=image)
    stale = ProductImage.objects.filter(pk__in=replaced_pks).values_list("image", "thumbnail")
    _delete_files_on_commit([name for pair in stale for name in pair if name])
    primaries = [image for image in images if image.is_primary]
    if primaries:
        chosen = primaries[-1]
        for image in primaries[:-1]:
            image.is_primary = False
        _unset_other_primaries(product=product, keep_pk=chosen.pk)
    for image in images:
        new_file = image.pk is None or image.pk in replaced_pks
        if new_file:
            image.thumbnail = ""
        image.product = product
        image.save()
        if new_file:
            queue_thumbnail(image.pk)
    product_image_ensure_primary(product=product)


@transaction.atomic
def product_image_delete(*, image: ProductImage) -> None:
    """Delete the row; its files go once the deletion is committed."""
    names = [name for name in (image.image.name, image.thumbnail.name) if name]
    product = image.product
    image.delete()
    product_image_ensure_primary(product=product)
    _delete_files_on_commit(names)


def _delete_files_on_commit(names: list[str]) -> None:
    if not names:
        return

    def remove_files():
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:  # a file left behind is not worth failing the request
                logger.warning("could not delete %s from storage", name, exc_info=True)

    after_commit(remove_files, name="delete replaced image files")


# --- thumbnails ---------------------------------------------------------------------------------


def queue_thumbnail(image_id: int) -> None:
    """Queue ``catalog.generate_thumbnail`` durably: sent once the current transaction
    commits, or by the sweep once a broker that was down then answers again (the upload
    itself has succeeded either way)."""
    # here, not at the top: the tasks module imports this one (the task calls the service)
    from apps.catalog.tasks import generate_thumbnail

    task_enqueue(generate_thumbnail, image_id)


def thumbnail_name(image: ProductImage) -> str:
    width, height = settings.PRODUCT_THUMBNAIL_SIZE
    folder, base = posixpath.split(image.image.name)
    stem = posixpath.splitext(base)[0]
    extension = EXTENSIONS.get(THUMBNAIL_FORMAT, THUMBNAIL_FORMAT.lower())
    return posixpath.join(folder, "thumbs", f"{image.pk}-{stem}-{width}x{height}.{extension}")


def render_thumbnail(source) -> bytes:
    """The thumbnail of an image file: fits in PRODUCT_THUMBNAIL_SIZE, keeps its proportions,
    turned upright by its EXIF orientation, encoded as WEBP."""
    with Image.open(source) as original:
        original.draft("RGB", settings.PRODUCT_THUMBNAIL_SIZE)  # JPEG: decode at a smaller scale
        image = ImageOps.exif_transpose(original)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        )
        image = image.convert("RGBA" if has_alpha else "RGB")
        image.thumbnail(settings.PRODUCT_THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
        out = BytesIO()
        image.save(out, THUMBNAIL_FORMAT, quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue()


def product_image_generate_thumbnail(*, image_id: int) -> str:
    """Render and store the thumbnail of one image; returns its storage name ("" when there is
    nothing to do). Safe to run twice: the name is derived from the image, an existing file is
    reused, and a row that already points at its thumbnail is left alone."""
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None or not image.image.name:
        return ""
    name = thumbnail_name(image)
    storage = image.thumbnail.storage
    if image.thumbnail.name == name and storage.exists(name):
        return name
    if not storage.exists(name):
        try:
            with image.image.open("rb") as source:
                data = render_thumbnail(source)
        except FileNotFoundError:
            logger.warning("product image %s: file %s is missing", image.pk, image.image.name)
            return ""
        except _UNREADABLE:
            logger.warning("product image %s: cannot read %s", image.pk, image.image.name)
            return ""
        stored = storage.save(name, ContentFile(data))
        if stored != name:  # written concurrently by another run: keep one
            storage.delete(stored)
    # only this column: a concurrent admin save of the other fields is not overwritten
    updated = ProductImage.objects.filter(pk=image.pk, image=image.image.name).update(
        thumbnail=name
    )
    if not updated:  # the image was replaced or deleted meanwhile: that run makes its own
        storage.delete(name)
        return ""
    return name
