from django.urls import path

from . import apis

urlpatterns = [
    path("canteen/canteens/", apis.CanteenListApi.as_view(), name="api-canteen-canteens"),
    path("canteen/canteens/<int:pk>/menu/", apis.MenuApi.as_view(), name="api-canteen-menu"),
    path(
        "canteen/canteens/<int:pk>/diners/", apis.DinerFindApi.as_view(), name="api-canteen-diners"
    ),
    path("canteen/quotes/", apis.QuoteApi.as_view(), name="api-canteen-quotes"),
    path("canteen/orders/", apis.OrderListCreateApi.as_view(), name="api-canteen-orders"),
    path("canteen/orders/<int:pk>/", apis.OrderDetailApi.as_view(), name="api-canteen-order"),
    path(
        "canteen/orders/<int:pk>/refund/",
        apis.OrderRefundApi.as_view(),
        name="api-canteen-order-refund",
    ),
    path("canteen/report/", apis.ReportApi.as_view(), name="api-canteen-report"),
]
