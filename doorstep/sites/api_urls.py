from django.urls import URLPattern, URLResolver, path

from . import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("sites/", apis.SiteListApi.as_view(), name="api-sites"),
    path("sites/near/", apis.SiteNearApi.as_view(), name="api-sites-near"),
    path("sites/open-now/", apis.SiteOpenNowApi.as_view(), name="api-sites-open-now"),
    path("sites/<int:pk>/", apis.SiteDetailApi.as_view(), name="api-site"),
    path("site-bookings/", apis.BookingListApi.as_view(), name="api-site-bookings"),
    path("site-bookings/<int:pk>/", apis.BookingDetailApi.as_view(), name="api-site-booking"),
    path("site-requests/<int:pk>/", apis.RequestDetailApi.as_view(), name="api-site-request"),
]
