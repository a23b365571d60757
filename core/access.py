"""The access layer: every permission check in the project goes through here.

This is the only module that imports django-guardian. The apps' own ``access.py`` modules
build their questions ("may this user verify this safeguard?") from these primitives, one
condition per line.

Conventions:
* a view declares who may call it with ``@requires(rule)``; the permission-matrix test walks
  the URL resolver and fails on any view without a declaration;
* an object a user may not see is a 404 (``get_visible_or_404``), never a 403, so its
  existence does not leak; a visible object the user may not act on is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, AnonymousUser, Group, User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from guardian.core import ObjectPermissionChecker
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

# Apps declare their direct-FK object-permission tables with these bases (so that no module but
# this one imports django-guardian).
__all__ = ["GroupObjectPermissionBase", "UserObjectPermissionBase"]

AnyUser = AbstractUser | AnonymousUser
M = TypeVar("M", bound=Model)
View = Callable[..., HttpResponseBase]


@dataclass(frozen=True)
class Rule:
    """A named yes/no question about a user, declared on a view."""

    name: str
    check: Callable[[Any], bool]

    def __call__(self, user: AnyUser) -> bool:
        return bool(self.check(user))


def is_active_user(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def has_perm(user: AnyUser, perm: str) -> bool:
    """A global (model-level) permission, from the user's roles or as superuser."""
    return is_active_user(user) and user.has_perm(perm)


PUBLIC = Rule("public", lambda user: True)
SIGNED_IN = Rule("signed in", is_active_user)


def permission_rule(perm: str) -> Rule:
    return Rule(perm, lambda user: has_perm(user, perm))


def requires(rule: Rule) -> Callable[[View], View]:
    """Declare and enforce who may call a view (403 when the rule says no).

    ``PUBLIC`` views are also exempted from the login-required middleware; every other view
    stays behind it, so an anonymous visitor is sent to the login page first.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not rule(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.access_rule = rule  # type: ignore[attr-defined]
        return login_not_required(wrapped) if rule is PUBLIC else wrapped

    return decorate


def acting_user(request: HttpRequest) -> User:
    """The signed-in person behind a request that a rule has already let through."""
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        raise PermissionDenied
    return user


def declared_rule(view: Any) -> Rule | None:
    return getattr(view, "access_rule", None)


# --- object permissions (django-guardian) ------------------------------------------------------


def grant(holder: AbstractBaseUser | Group, perm: str, obj: Model) -> None:
    assign_perm(perm, holder, obj)


def revoke(holder: AbstractBaseUser | Group, perm: str, obj: Model) -> None:
    remove_perm(perm, holder, obj)


def has_object_perm(user: AnyUser, perm: str, obj: Model, *, accept_global: bool = True) -> bool:
    """``perm`` on ``obj``: granted on the object itself, or globally when ``accept_global``."""
    if not is_active_user(user):
        return False
    # The object's own grant first: the common case on the hot paths (an owner's pipeline
    # asking the gate) is decided there, without reading the user's global permissions.
    if _granted_on(cast(AbstractUser, user), perm.partition(".")[2], obj):
        return True
    return accept_global and user.has_perm(perm)


def _granted_on(user: AbstractUser, codename: str, obj: Model) -> bool:
    """``codename`` granted on ``obj`` to the user or one of their groups. With the direct
    foreign-key permission models every guarded model has, two indexed lookups (the second only
    when the first finds nothing) rather than the checker's cache of every permission."""
    if user.is_superuser:  # as guardian's checker: an active superuser holds every grant
        return True
    user_model = get_user_obj_perms_model(obj)
    group_model = get_group_obj_perms_model(obj)
    if user_model.objects.is_generic() or group_model.objects.is_generic():  # type: ignore[attr-defined]
        return bool(ObjectPermissionChecker(user).has_perm(codename, obj))
    grant = {"content_object": obj, "permission__codename": codename}
    return bool(
        user_model.objects.filter(user=user, **grant).exists()  # type: ignore[attr-defined]
        or group_model.objects.filter(group__user=user, **grant).exists()  # type: ignore[attr-defined]
    )


def visible(
    user: AnyUser, perm: str, queryset: QuerySet[M], *, accept_global: bool = True
) -> QuerySet[M]:
    """The objects of ``queryset`` on which ``user`` holds ``perm``."""
    if not is_active_user(user):
        return queryset.none()
    result: QuerySet[M] = get_objects_for_user(
        user, perm, klass=queryset, accept_global_perms=accept_global
    )
    return result


def get_visible_or_404(
    user: AnyUser, perm: str, queryset: QuerySet[M], *, accept_global: bool = True, **lookup: Any
) -> M:
    try:
        return visible(user, perm, queryset, accept_global=accept_global).get(**lookup)
    except ObjectDoesNotExist:
        raise Http404(queryset.model._meta.verbose_name) from None
