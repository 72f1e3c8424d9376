from django.urls import path

from . import views

app_name = "appeals"

urlpatterns = [
    path("appeals/report/", views.report, name="report"),
    path("appeals/mine/", views.my_cases, name="my-cases"),
    path("appeals/notifications/", views.notifications, name="notifications"),
    path("appeals/<int:pk>/", views.case_page, name="case"),
    path("appeals/<int:pk>/rate/", views.rate, name="rate"),
    path("appeals/<int:pk>/follow/", views.follow, name="follow"),
    path("board/", views.board_index, name="board-index"),
    path("board/receipt/", views.receipt, name="receipt"),
    path("board/receipt/rate/", views.receipt_rate, name="receipt-rate"),
    path("board/<int:unit_pk>/", views.board, name="board"),
    path("board/<int:unit_pk>/print/", views.board_print, name="board-print"),
    path("wishes/", views.wish_wall, name="wish-wall"),
    path("wishes/<int:pk>/claim/", views.claim, name="claim"),
    path("console/appeals/", views.triage, name="triage"),
    path("console/appeals/new/", views.intake, name="intake"),
    path("console/appeals/overdue/", views.overdue, name="overdue"),
    path("console/appeals/queue/", views.queue, name="queue"),
    path("console/appeals/month/", views.month, name="month"),
    path("console/appeals/wishes/<int:pk>/take-up/", views.wish_take_up, name="wish-take-up"),
    path("console/appeals/joint/", views.joint, name="joint"),
    path("console/appeals/disputes/", views.disputes, name="disputes"),
    path("console/appeals/disputes/<int:pk>/", views.dispute, name="dispute"),
    path("console/appeals/suggestions/", views.suggestions, name="suggestions"),
    path("console/appeals/categories/", views.categories, name="categories"),
    path("console/appeals/categories/<int:pk>/", views.category_edit, name="category-edit"),
    path("console/appeals/tasks/<int:pk>/reply/", views.task_reply, name="task-reply"),
    path("console/appeals/<int:pk>/", views.console_case, name="console-case"),
    path("console/appeals/<int:pk>/act/", views.console_act, name="console-act"),
    path("console/appeals/<int:pk>/tasks/", views.task_add, name="task-add"),
]
