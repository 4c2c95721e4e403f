"""Pages of the safety workflow."""

from django.urls import path

from safety import views

app_name = "safety"

urlpatterns = [
    path("", views.safety_page, name="safety_page"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("serious-effects.<str:fmt>", views.line_listing, name="line_listing"),
]
