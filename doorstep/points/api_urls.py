from django.urls import path

from . import apis

urlpatterns = [
    path("points/me/", apis.OwnAccountApi.as_view(), name="api-points-me"),
    path("points/accounts/<int:pk>/", apis.AccountDetailApi.as_view(), name="api-points-account"),
    path(
        "points/accounts/<int:pk>/transfers/",
        apis.AccountTransfersApi.as_view(),
        name="api-points-account-transfers",
    ),
    path("points/grants/", apis.GrantCreateApi.as_view(), name="api-points-grants"),
    path(
        "points/transfers/<int:pk>/reversal/",
        apis.TransferReverseApi.as_view(),
        name="api-points-transfer-reversal",
    ),
    path("points/redemptions/", apis.RedemptionCreateApi.as_view(), name="api-points-redemptions"),
    path(
        "points/redemptions/<int:pk>/",
        apis.RedemptionDetailApi.as_view(),
        name="api-points-redemption",
    ),
    path(
        "points/redemptions/<int:pk>/reversal/",
        apis.RedemptionReverseApi.as_view(),
        name="api-points-redemption-reversal",
    ),
    path("points/outlets/", apis.OutletListApi.as_view(), name="api-points-outlets"),
    path(
        "points/outlets/<int:pk>/counter/",
        apis.CounterSearchApi.as_view(),
        name="api-points-counter",
    ),
    path("points/outlets/<int:pk>/goods/", apis.OutletGoodsApi.as_view(), name="api-points-goods"),
    path("points/report/", apis.ReportApi.as_view(), name="api-points-report"),
]
