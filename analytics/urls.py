"""URLs of the analytics pages: the data exports."""

from django.urls import path

from analytics.exports import views

app_name = "analytics"

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("dictionary.<str:fmt>", views.export_dictionary, name="export_dictionary"),
    path("<str:layout>.<str:fmt>", views.export_download, name="export_download"),
]
