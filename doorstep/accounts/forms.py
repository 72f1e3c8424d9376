from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from .roles import Role, available_roles


class LoginForm(AuthenticationForm):
    """The login form; the lockout figures in its message come from the axes settings."""

    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续失败%(limit)d次将锁定%(minutes)d分钟。"),
        "inactive": _("该账号已停用。"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django sets the username's max_length after the field is made, which sizes the
        # input but checks nothing; a longer name must be refused before it is looked up
        # (and recorded as a failed attempt in a column of 255).
        username = cast(forms.CharField, self.fields["username"])
        username.validators.append(MaxLengthValidator(username.max_length))

    def get_invalid_login_error(self) -> forms.ValidationError:
        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={
                "limit": settings.AXES_FAILURE_LIMIT,
                "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            },
        )


class RoleGrantForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    role = forms.ChoiceField(label=_("角色"), choices=())
    scope = forms.IntegerField(label=_("范围"), required=False, min_value=1)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field: Any = self.fields["role"]
        role_field.choices = [(role, Role(role).label) for role in available_roles()]
