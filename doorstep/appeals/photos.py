"""Photos: judged by their content (JPEG, PNG or WebP), at most 10 MB and 40
megapixels, re-encoded with every metadata block (EXIF with GPS) dropped and the
orientation applied, then stored through Django's storage API."""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from doorstep.core.errors import ValidationError

from .choices import PhotoKind
from .conf import conf
from .models import Case, CasePhoto

ALLOWED = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def _read(upload: Any) -> bytes:
    limit = conf("PHOTO_MAX_BYTES")
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            _("照片不能超过 %(mb)d MB。") % {"mb": limit // (1024 * 1024)}, field="photo"
        )
    data = upload.read(limit + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > limit:
        raise ValidationError(
            _("照片不能超过 %(mb)d MB。") % {"mb": limit // (1024 * 1024)}, field="photo"
        )
    return data


def clean_photo(upload: Any) -> tuple[bytes, str, int, int]:
    """Re-encoded bytes, extension, width and height; or a ValidationError on ``photo``."""
    data = _read(upload)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED:
                raise ValidationError(_("只接受 JPEG、PNG 或 WebP 格式的照片。"), field="photo")
            if width * height > conf("PHOTO_MAX_PIXELS"):
                raise ValidationError(_("照片像素过多（不超过4000万像素）。"), field="photo")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            oriented = ImageOps.exif_transpose(image)
            if oriented is None:
                oriented = image
            side = conf("PHOTO_MAX_SIDE")
            if max(oriented.size) > side:
                oriented.thumbnail((side, side))
            out = io.BytesIO()
            if fmt == "JPEG":
                oriented.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            elif fmt == "PNG":
                clean = oriented.convert("RGBA" if "A" in oriented.getbands() else "RGB")
                clean.save(out, "PNG", optimize=True)
            else:
                oriented.convert("RGBA" if "A" in oriented.getbands() else "RGB").save(
                    out, "WEBP", quality=85
                )
            return out.getvalue(), ALLOWED[fmt], oriented.size[0], oriented.size[1]
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("文件不是有效的图片。"), field="photo") from None


def photo_attach(
    *,
    case: Case,
    upload: Any = None,
    cleaned: tuple[bytes, str, int, int] | None = None,
    kind: str = PhotoKind.REPORT,
) -> CasePhoto:
    data, ext, width, height = cleaned if cleaned is not None else clean_photo(upload)
    photo = CasePhoto(case=case, kind=kind, width=width, height=height)
    photo.image.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
    photo.save()
    return photo
