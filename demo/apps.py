from django.apps import AppConfig


class DemoConfig(AppConfig):
    # No models, so the name is never shown (and needs no translation).
    name = "demo"
    verbose_name = "Demo study"
