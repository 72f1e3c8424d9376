from django.urls import path, re_path

from . import console, views

app_name = "open311"

FMT = r"\.(?P<fmt>xml|json|XML|JSON)$"
CODE = r"(?P<code>[-\w]+)"

urlpatterns = [
    path("console/open311/keys/", console.keys, name="keys"),
    re_path(r"^open311/v2/$", views.root, name="root"),
    re_path(r"^open311/v2/discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^open311/v2/services" + FMT, views.service_list, name="services"),
    re_path(r"^open311/v2/services/" + CODE + FMT, views.service_definition, name="service"),
    # Some clients ask for the singular form.
    re_path(r"^open311/v2/service/" + CODE + FMT, views.service_definition),
    re_path(r"^open311/v2/requests" + FMT, views.requests, name="requests"),
    re_path(
        r"^open311/v2/requests/(?P<request_id>[-\w]+)" + FMT,
        views.request_detail,
        name="request",
    ),
    re_path(r"^open311/v2/tokens/(?P<token>[-\w]+)" + FMT, views.token, name="token"),
    re_path(r"^open311/v2/servicerequestupdates" + FMT, views.request_updates, name="updates"),
    re_path(r"^open311/v2/.*?(?:\.(?P<fmt>xml|json))?$", views.not_found),
]
