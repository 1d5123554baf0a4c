"""Pictures of bands and merch: checked by content, stored clean, served as renditions.

- An upload is accepted only if Pillow recognises it as JPEG, PNG or WebP by its content (not
  its name), within the size and pixel limits (settings), and decodes completely.
- What is stored is a clean master: turned upright by its EXIF orientation, with every piece of
  metadata (GPS position included) left behind, at most MASTER_SIZE pixels on its long side,
  under a generated name (``pictures/<random>.jpg``), never the uploader's.
- Renditions are made once, when the picture is saved: the widths in MERCHEX_RENDITION_WIDTHS
  (never wider than the master), each as WebP and as JPEG for browsers without WebP. Their names
  follow from the master's, and their sizes from its width and height, so a page builds its
  ``srcset`` from the database row alone: no storage call while rendering.
- Files are removed after the transaction that drops or replaces their row commits.
"""

import io
import uuid
from dataclasses import dataclass
from functools import cached_property, partial

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.fields.files import FieldFile, ImageFileDescriptor
from PIL import Image, ImageOps

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MASTER_SIZE = 2560  # pixels on the long side kept of an upload
FOLDER = "pictures"
ACCEPT = "image/jpeg,image/png,image/webp"


def check_picture(upload):
    """Raise ValidationError unless `upload` is a JPEG, PNG or WebP picture within the limits.

    Reads only the header before the size checks, so a decompression bomb (a small file of
    enormous dimensions) is refused before any pixel is decoded.
    """
    if upload.size == 0:
        raise ValidationError("The file is empty.", code="empty")
    limit = settings.MERCHEX_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            f"The file is too large: at most {limit / 1_000_000:g} MB, please.", code="too_large"
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind, (width, height) = image.format, image.size
            if kind not in FORMATS:
                raise ValidationError(
                    "Upload a JPEG, PNG or WebP picture (this file is not one).", code="format"
                )
            if width * height > settings.MERCHEX_UPLOAD_MAX_PIXELS:
                raise ValidationError(
                    f"The picture is too large: {width:,} × {height:,} pixels; at most "
                    f"{settings.MERCHEX_UPLOAD_MAX_PIXELS / 1_000_000:g} megapixels, please.",
                    code="too_many_pixels",
                )
            image.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()  # a real decode: a truncated file fails here
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours
        raise ValidationError(
            "The picture is too large: at most "
            f"{settings.MERCHEX_UPLOAD_MAX_PIXELS / 1_000_000:g} megapixels, please.",
            code="too_many_pixels",
        ) from exc
    except Exception as exc:  # Pillow raises many kinds for files that are not pictures
        raise ValidationError(
            "Upload a JPEG, PNG or WebP picture (this file is not one, or it is damaged).",
            code="invalid",
        ) from exc
    finally:
        upload.seek(0)


@dataclass(frozen=True)
class Shown:
    """A stored picture as "Currently:" names it, linked to its largest rendition."""

    name: str
    url: str

    def __str__(self):
        return self.name


class PictureInput(AdminFileWidget):
    """The admin's file box (pictures are uploaded there only), its "Currently:" linking to the
    largest rendition: masters are never served (docs/nginx)."""

    def format_value(self, value):
        shown = getattr(getattr(value, "instance", None), "shown_picture", None)
        if shown is None or not self.is_initial(value):
            return super().format_value(value)
        return Shown(value.name, shown.largest[0])


class PictureFormField(forms.FileField):
    """An upload field that accepts only what check_picture accepts, with its messages."""

    widget = PictureInput(attrs={"accept": ACCEPT})

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is not None:
            check_picture(upload)
        return upload


def picture_path(instance, filename):
    """A generated name: the uploader's file name is never used."""
    extension = filename.rpartition(".")[2].lower()
    if extension not in FORMATS.values():
        extension = "jpg"
    return f"{FOLDER}/{uuid.uuid4().hex}.{extension}"


class PictureDescriptor(ImageFileDescriptor):
    """Notes on the instance whether its picture is a file just given (an upload: made into a
    clean master when saved, not shown before) rather than a stored name."""

    def __set__(self, instance, value):
        super().__set__(instance, value)
        if not isinstance(value, FieldFile):  # the field's own value set again (full_clean)
            instance.__dict__[f"new_{self.field.attname}"] = isinstance(value, File)


class PictureField(models.ImageField):
    """A model field for pictures: checked with check_picture in forms, generated names."""

    descriptor_class = PictureDescriptor

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("upload_to", picture_path)
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        # Not the admin's plain file box: ours links to a rendition.
        kwargs["widget"] = PictureFormField.widget
        return super().formfield(**{"form_class": PictureFormField, **kwargs})


def clean_master(upload):
    """(image, file content, width, height) of the clean master made from `upload`."""
    upload.seek(0)
    with Image.open(upload) as original:
        image = ImageOps.exif_transpose(original)  # phone photos stand upright
        image.thumbnail((MASTER_SIZE, MASTER_SIZE), Image.Resampling.LANCZOS)
    if has_alpha(image):
        image, kind = image.convert("RGBA"), "PNG"
    else:
        image, kind = image.convert("RGB"), "JPEG"
    image.info = {}  # no EXIF, XMP or comments travel on
    buffer = io.BytesIO()
    if kind == "JPEG":
        image.save(buffer, kind, quality=90, optimize=True)
    else:
        image.save(buffer, kind, optimize=True)
    content = ContentFile(buffer.getvalue(), name=f"master.{FORMATS[kind]}")
    return image, content, image.width, image.height


def has_alpha(image):
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def rendition_widths(width):
    """The rendition widths of a master `width` pixels wide: never wider than the master."""
    return tuple(sorted({min(w, width) for w in settings.MERCHEX_RENDITION_WIDTHS}))


def rendition_name(name, width, extension):
    stem = name.rpartition(".")[0]
    return f"{stem}-{width}.{extension}"


def make_renditions(name, image, missing_only=False):
    """Write every rendition of the master stored as `name` (from its decoded `image`), or
    only those not stored yet."""
    for width in rendition_widths(image.width):
        height = max(1, round(image.height * width / image.width))
        resized = image.resize((width, height), Image.Resampling.LANCZOS)
        flat = resized
        if resized.mode == "RGBA":  # JPEG has no transparency: lay it on white
            flat = Image.new("RGB", resized.size, "white")
            flat.paste(resized, mask=resized.getchannel("A"))
        for extension, kind, options in [
            ("webp", "WEBP", {"quality": 80, "method": 4}),
            ("jpg", "JPEG", {"quality": 80, "optimize": True, "progressive": True}),
        ]:
            buffer = io.BytesIO()
            (resized if kind == "WEBP" else flat).save(buffer, kind, **options)
            target = rendition_name(name, width, extension)
            if missing_only and default_storage.exists(target):
                continue
            stored = default_storage.save(target, ContentFile(buffer.getvalue()))
            if stored != target:  # generated names never collide; if one did, say so loudly
                raise RuntimeError(f"rendition {target} was stored as {stored}")


def add_missing_renditions(pictures):
    """Make the renditions that stored pictures, (name, width) pairs, lack (after the widths
    setting changed); the number of pictures that lacked some. A master missing from the
    storage (a database copied without its files) is passed over: prunepictures' concern."""
    made = 0
    for name, width in pictures:
        renditions = file_names(name, width)[1:]
        if all(map(default_storage.exists, renditions)) or not default_storage.exists(name):
            continue
        with default_storage.open(name) as master, Image.open(master) as image:
            image.load()
            make_renditions(name, image, missing_only=True)
        made += 1
    return made


def file_names(name, width):
    """Every file that belongs to the picture stored as `name`: the master and its renditions."""
    names = [name]
    for w in rendition_widths(width):
        names += [rendition_name(name, w, "webp"), rendition_name(name, w, "jpg")]
    return names


def delete_files(name, width, still_used):
    """Remove the picture's files, unless `still_used(name)` says another row shows them (the
    demo data's pictures are shared by many listings)."""
    if still_used(name):
        return
    for file_name in file_names(name, width):
        default_storage.delete(file_name)


def delete_after_commit(name, width, still_used):
    """Remove a picture's files once the transaction that let go of them has committed (if it
    rolls back, the row still needs them)."""
    if name:
        transaction.on_commit(partial(delete_files, name, width or 0, still_used))


class PictureMixin:
    """For models with a picture: PICTURE names the field; `<field>_width`/`_height` hold its
    size. Saving makes the clean master and its renditions; replacing or deleting the picture
    removes the old files after the commit."""

    PICTURE = "picture"

    def stored(self):
        """The picture as stored, or None (none, or a new one not saved yet)."""
        field = getattr(self, self.PICTURE)
        if not field or getattr(self, f"new_{self.PICTURE}", False):
            return None
        return field if getattr(self, f"{self.PICTURE}_width") else None

    def save_picture(self, save, still_used):
        """Run `save()`, making the clean master and renditions of a new picture around it;
        the files of a replaced one go after the commit, unless `still_used(name)`."""
        field = getattr(self, self.PICTURE)
        previous = None
        if self.pk is not None:
            previous = (
                type(self)
                .objects.filter(pk=self.pk)
                .values_list(self.PICTURE, f"{self.PICTURE}_width")
                .first()
            )
        new_image = None
        if field and getattr(self, f"new_{self.PICTURE}", False):
            new_image, content, width, height = clean_master(field.file)
            field.file, field.name = content, content.name
            setattr(self, f"{self.PICTURE}_width", width)
            setattr(self, f"{self.PICTURE}_height", height)
        elif not field:
            setattr(self, f"{self.PICTURE}_width", None)
            setattr(self, f"{self.PICTURE}_height", None)
        save()
        setattr(self, f"new_{self.PICTURE}", False)
        if new_image is not None:
            make_renditions(getattr(self, self.PICTURE).name, new_image)
        if previous and previous[0] and previous[0] != getattr(self, self.PICTURE).name:
            delete_after_commit(*previous, still_used)


@dataclass(frozen=True)
class Picture:
    """What a page needs to show a stored picture: built from a row, one storage call."""

    name: str
    width: int
    height: int
    alt: str

    def size_at(self, width):
        return width, max(1, round(self.height * width / self.width))

    @cached_property
    def stem_url(self):
        """The master's URL without its extension: a rendition's URL is this, its width and
        its format's. One storage.url() per picture, not seven (a card page 10 → 8 ms)."""
        return default_storage.url(self.name).rpartition(".")[0]

    def url(self, width, extension):
        return f"{self.stem_url}-{width}.{extension}"

    def srcset(self, extension):
        return ", ".join(f"{self.url(w, extension)} {w}w" for w in rendition_widths(self.width))

    @property
    def largest(self):
        """(url, width, height) of the largest JPEG rendition: for link previews."""
        width = rendition_widths(self.width)[-1]
        return self.url(width, "jpg"), *self.size_at(width)
