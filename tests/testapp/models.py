"""A test-only model with django-guardian direct-FK permission tables, for the access layer."""

from django.db import models

from core.access import GroupObjectPermissionBase, UserObjectPermissionBase


class Widget(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class WidgetUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Widget, on_delete=models.CASCADE)


class WidgetGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Widget, on_delete=models.CASCADE)
