from django.urls import URLPattern, URLResolver, path

from . import apis

urlpatterns: list[URLPattern | URLResolver] = [
    # Public facts, and what a site offers.
    path("sites/", apis.SiteListApi.as_view(), name="api-sites"),
    path("sites/near/", apis.SiteNearApi.as_view(), name="api-sites-near"),
    path("sites/open-now/", apis.SiteOpenNowApi.as_view(), name="api-sites-open-now"),
    path("sites/<int:pk>/", apis.SiteDetailApi.as_view(), name="api-site"),
    path("sites/<int:pk>/rooms/", apis.SiteRoomsApi.as_view(), name="api-site-rooms"),
    path("sites/<int:pk>/slots/", apis.SiteSlotsApi.as_view(), name="api-site-slots"),
    path("sites/<int:pk>/programs/", apis.SiteProgramsApi.as_view(), name="api-site-programs"),
    # Bookings and requests (a resident's own, or a site's for its staff).
    path("site-bookings/", apis.BookingListApi.as_view(), name="api-site-bookings"),
    path("site-bookings/<int:pk>/", apis.BookingDetailApi.as_view(), name="api-site-booking"),
    path(
        "site-bookings/<int:pk>/cancel/",
        apis.BookingCancelApi.as_view(),
        name="api-site-booking-cancel",
    ),
    path("site-booking-series/", apis.SeriesListApi.as_view(), name="api-site-booking-series"),
    path("site-requests/", apis.RequestListApi.as_view(), name="api-site-requests"),
    path("site-requests/<int:pk>/", apis.RequestDetailApi.as_view(), name="api-site-request"),
    path(
        "site-requests/<int:pk>/transition/",
        apis.RequestTransitionApi.as_view(),
        name="api-site-request-transition",
    ),
    path(
        "site-requests/<int:pk>/documents/",
        apis.RequestDocumentsApi.as_view(),
        name="api-site-request-documents",
    ),
    # Programs, enrolments and attendance.
    path("site-programs/", apis.ProgramListApi.as_view(), name="api-site-program-list"),
    path("site-programs/<int:pk>/", apis.ProgramDetailApi.as_view(), name="api-site-program"),
    path(
        "site-programs/<int:pk>/enrol/",
        apis.ProgramEnrolApi.as_view(),
        name="api-site-program-enrol",
    ),
    path(
        "site-programs/<int:pk>/attendance/",
        apis.AttendanceApi.as_view(),
        name="api-site-program-attendance",
    ),
    path("site-enrolments/", apis.EnrolmentListApi.as_view(), name="api-site-enrolments"),
    path(
        "site-enrolments/<int:pk>/withdraw/",
        apis.EnrolmentWithdrawApi.as_view(),
        name="api-site-enrolment-withdraw",
    ),
    # The staff's directory of sites, rooms, records and reports.
    path("site-directory/", apis.DirectoryListApi.as_view(), name="api-site-directory"),
    path(
        "site-directory/<int:pk>/",
        apis.DirectoryDetailApi.as_view(),
        name="api-site-directory-item",
    ),
    path("site-directory/<int:pk>/hours/", apis.SiteHoursApi.as_view(), name="api-site-hours"),
    path(
        "site-directory/<int:pk>/closures/",
        apis.SiteClosureApi.as_view(),
        name="api-site-closures",
    ),
    path("site-rooms/<int:pk>/", apis.RoomDetailApi.as_view(), name="api-site-room"),
    path("site-records/", apis.RecordListApi.as_view(), name="api-site-records"),
    path("site-person-times/", apis.PersonTimesApi.as_view(), name="api-site-person-times"),
    path("site-coverage/<int:unit_pk>/", apis.CoverageApi.as_view(), name="api-site-coverage"),
    # Partners, their services, agreements and settlements.
    path("site-partners/", apis.PartnerListApi.as_view(), name="api-site-partners"),
    path("site-partners/<int:pk>/", apis.PartnerDetailApi.as_view(), name="api-site-partner"),
    path(
        "site-partner-services/",
        apis.PartnerServiceListApi.as_view(),
        name="api-site-partner-services",
    ),
    path("site-agreements/", apis.AgreementListApi.as_view(), name="api-site-agreements"),
    path("site-settlements/", apis.SettlementListApi.as_view(), name="api-site-settlements"),
]
