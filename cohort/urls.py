"""Pages of the cohort."""

from django.urls import path

from cohort import views

app_name = "cohort"

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_new, name="patient_new"),
    path("<int:pk>/timeline/", views.patient_timeline, name="patient_timeline"),
    path("<int:pk>/history/", views.patient_history, name="patient_history"),
    path("<int:pk>/", views.patient_detail, name="patient_detail"),
    path("<int:pk>/administrations/", views.administration_add, name="administration_add"),
    path(
        "<int:pk>/administrations/<int:administration_pk>/",
        views.administration_edit,
        name="administration_edit",
    ),
    path("<int:pk>/status/", views.patient_status, name="patient_status"),
    path("<int:pk>/lock/", views.patient_lock, name="patient_lock"),
    path("<int:pk>/unlock/", views.patient_unlock, name="patient_unlock"),
    path("<int:pk>/sign/", views.patient_sign, name="patient_sign"),
    path("<int:pk>/call-times/", views.patient_call_times, name="patient_call_times"),
]
