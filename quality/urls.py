"""Pages of the queries."""

from django.urls import path

from quality import views

app_name = "quality"

urlpatterns = [
    path("", views.query_list, name="query_list"),
    path("<int:pk>/", views.query_detail, name="query_detail"),
    path("<int:pk>/answer/", views.query_answer, name="query_answer"),
    path("<int:pk>/close/", views.query_close, name="query_close"),
    path("<int:pk>/reopen/", views.query_reopen, name="query_reopen"),
    path("raise/call/<int:call_pk>/", views.query_raise, name="query_raise"),
    path("monitoring/", views.monitoring_page, name="monitoring"),
]
