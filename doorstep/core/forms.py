"""Forms that carry what was typed to a service, and back onto the page when the service
refuses it.

A form checks only what its markup promises (a required field is filled, a text fits its
``maxlength``, a number or a time parses), each beside its field. The service judges the
rest; :meth:`ServiceForm.refuse` puts its refusal beside the field it names, or in the
summary above the form (``web/_form_errors.html``) when it names none of the form's fields.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from doorstep.core.errors import Conflict, DomainError, ValidationError


class ServiceForm(forms.Form):
    """A form whose values a service judges: each error, the form's own or the service's,
    marks its input invalid and points the input at the message beside it."""

    # Service field names that the form shows under another name.
    aliases: ClassVar[dict[str, str | None]] = {}
    # What the summary above the form says before the messages.
    summary_title: ClassVar[Any] = _("请改正以下内容：")

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"

    def refuse(self, exc: DomainError) -> int:
        """Show the service's refusal on this form; the response's status for it (409
        when the page was out of date, else 400)."""
        errors = exc.errors if isinstance(exc, ValidationError) else {exc.field: [exc.message]}
        for field, messages in errors.items():
            name = self.aliases.get(field or "", field)
            for message in messages:
                self.add_error(name if name in self.fields else None, str(message))
        return 409 if isinstance(exc, Conflict) else 400
