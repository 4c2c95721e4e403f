"""Pages of the follow-up."""

from django.urls import path

from followup import assessment_views, baseline_views, views

app_name = "followup"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("lost-to-follow-up/", views.lost_proposal_list, name="lost_proposals"),
    path(
        "lost-to-follow-up/<int:pk>/lost/",
        views.lost_proposal_mark_lost,
        name="lost_proposal_mark_lost",
    ),
    path(
        "lost-to-follow-up/<int:pk>/dismiss/",
        views.lost_proposal_dismiss,
        name="lost_proposal_dismiss",
    ),
    path("effects/<int:pk>/follow-up/", views.effect_follow_up, name="effect_follow_up"),
    path("<int:pk>/", views.call_entry, name="call_entry"),
    path("<int:pk>/scores/", views.call_scores, name="call_scores"),
    path("<int:pk>/reviewed/", views.call_reviewed, name="call_reviewed"),
    path("<int:pk>/history/", views.call_history, name="call_history"),
    path(
        "patients/<int:pk>/assessments/",
        assessment_views.assessment_list,
        name="assessment_list",
    ),
    path(
        "patients/<int:pk>/assessments/<str:instrument>/<str:visit>/",
        assessment_views.assessment_entry,
        name="assessment_entry",
    ),
    path(
        "patients/<int:pk>/assessments/<str:instrument>/<str:visit>/void/",
        assessment_views.assessment_void,
        name="assessment_void",
    ),
    path(
        "patients/<int:pk>/depression-baseline/",
        baseline_views.depression_baseline_entry,
        name="depression_baseline",
    ),
]
