from django.urls import URLPattern, URLResolver, path

from . import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("appeal-categories/", apis.CategoryListApi.as_view(), name="api-appeal-categories"),
    path("appeals/", apis.CaseListApi.as_view(), name="api-appeals"),
    path("appeals/<int:pk>/", apis.CaseDetailApi.as_view(), name="api-appeal"),
    path(
        "appeals/<int:pk>/transitions/",
        apis.CaseTransitionApi.as_view(),
        name="api-appeal-transition",
    ),
]
