import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from core import access
from tests.testapp.models import Widget, WidgetUserObjectPermission

pytestmark = pytest.mark.django_db


@pytest.fixture
def widgets():
    return Widget.objects.create(name="alpha"), Widget.objects.create(name="beta")


def test_an_object_permission_is_granted_and_revoked_through_direct_fk_rows(outsider, widgets):
    alpha, beta = widgets
    access.grant(outsider, "testapp.view_widget", alpha)
    assert WidgetUserObjectPermission.objects.filter(user=outsider, content_object=alpha).exists()
    assert access.has_object_perm(outsider, "testapp.view_widget", alpha)
    assert not access.has_object_perm(outsider, "testapp.view_widget", beta)
    access.revoke(outsider, "testapp.view_widget", alpha)
    assert not access.has_object_perm(outsider, "testapp.view_widget", alpha)


def test_group_grants_reach_the_groups_members(outsider, widgets):
    alpha, _ = widgets
    group = Group.objects.create(name="alpha readers")
    outsider.groups.add(group)
    access.grant(group, "testapp.view_widget", alpha)
    assert access.has_object_perm(outsider, "testapp.view_widget", alpha)


def test_visible_narrows_a_queryset_to_granted_objects(outsider, widgets):
    alpha, _ = widgets
    access.grant(outsider, "testapp.view_widget", alpha)
    assert list(access.visible(outsider, "testapp.view_widget", Widget.objects.all())) == [alpha]


def test_a_global_permission_counts_only_where_scope_does_not_matter(outsider, widgets):
    alpha, beta = widgets
    outsider.user_permissions.add(Permission.objects.get(codename="view_widget"))
    access.grant(outsider, "testapp.view_widget", alpha)
    outsider = type(outsider).objects.get(pk=outsider.pk)  # drop the permission cache
    everything = access.visible(outsider, "testapp.view_widget", Widget.objects.all())
    scoped = access.visible(
        outsider, "testapp.view_widget", Widget.objects.all(), accept_global=False
    )
    assert set(everything) == {alpha, beta}
    assert list(scoped) == [alpha]
    assert access.has_object_perm(outsider, "testapp.view_widget", beta)
    assert not access.has_object_perm(outsider, "testapp.view_widget", beta, accept_global=False)


def test_what_a_user_may_not_see_is_a_404(outsider, widgets):
    alpha, beta = widgets
    access.grant(outsider, "testapp.view_widget", alpha)
    assert access.get_visible_or_404(outsider, "testapp.view_widget", Widget.objects, pk=alpha.pk)
    with pytest.raises(Http404):
        access.get_visible_or_404(outsider, "testapp.view_widget", Widget.objects, pk=beta.pk)
    with pytest.raises(Http404):
        access.get_visible_or_404(outsider, "testapp.view_widget", Widget.objects, pk=10**9)


def test_anonymous_and_inactive_users_hold_nothing(outsider, widgets):
    alpha, _ = widgets
    access.grant(outsider, "testapp.view_widget", alpha)
    outsider.is_active = False
    anonymous = AnonymousUser()
    for user in (anonymous, outsider):
        assert not access.has_object_perm(user, "testapp.view_widget", alpha)
        assert not access.visible(user, "testapp.view_widget", Widget.objects.all()).exists()
        assert not access.SIGNED_IN(user)


def test_superusers_hold_every_permission(superuser, widgets):
    alpha, _ = widgets
    assert access.has_perm(superuser, "testapp.change_widget")
    assert access.has_object_perm(superuser, "testapp.change_widget", alpha)


def test_requires_declares_its_rule_and_refuses_with_403(outsider):
    rule = access.permission_rule("testapp.change_widget")

    @access.requires(rule)
    def view(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = outsider
    assert access.declared_rule(view) is rule
    assert getattr(view, "login_required", True) is True
    with pytest.raises(PermissionDenied):
        view(request)
    outsider.user_permissions.add(Permission.objects.get(codename="change_widget"))
    request.user = type(outsider).objects.get(pk=outsider.pk)
    assert view(request).status_code == 200


def test_only_public_views_are_exempt_from_the_login_requirement():
    @access.requires(access.PUBLIC)
    def public_view(request):
        return HttpResponse("ok")

    assert public_view.login_required is False
    assert access.declared_rule(public_view) is access.PUBLIC
