from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from doorstep.accounts.admin import site as admin_site
from doorstep.open311 import views as open311_views
from doorstep.web import views as web_views
from doorstep.web.urls import api_urlpatterns as web_api

api_v1 = [
    path("", include("doorstep.accounts.api_urls")),
    path("", include("doorstep.people.api_urls")),
    path("", include("doorstep.sites.api_urls")),
    path("", include("doorstep.appeals.api_urls")),
    path("", include("doorstep.points.api_urls")),
    path("", include("doorstep.volunteers.api_urls")),
    path("", include("doorstep.canteen.api_urls")),
    path("", include(web_api)),
]

urlpatterns = [
    path("admin/", admin_site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", web_views.healthz, name="healthz"),
    path("favicon.ico", web_views.favicon, name="favicon"),
    path("", include("doorstep.accounts.urls")),
    path("", include("doorstep.people.urls")),
    path("", include("doorstep.people.urls_import")),
    path("", include("doorstep.grids.urls")),
    path("", include("doorstep.sites.urls")),
    path("", include("doorstep.appeals.urls")),
    path("", include("doorstep.points.urls")),
    path("", include("doorstep.volunteers.urls")),
    path("", include("doorstep.canteen.urls")),
    path("", include("doorstep.open311.urls")),
    path("", include("doorstep.dashboards.urls")),
    path("", include("doorstep.web.urls")),
]


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Open311 clients get the spec's error list; everyone else the web's answer."""
    if request.path.startswith("/open311/"):
        return open311_views.bad_request(request, exception)
    return web_views.bad_request(request, exception)


handler400 = bad_request
handler404 = "doorstep.web.views.not_found"
handler500 = "doorstep.web.views.server_error"
