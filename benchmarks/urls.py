from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

from core import access


@access.requires(access.SIGNED_IN)
@require_GET
def trivial(request: HttpRequest) -> HttpResponse:
    """The floor: the whole middleware stack and a signed-in session, no query of its own."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial", trivial),
    path("", include("config.urls")),
]
