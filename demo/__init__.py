"""The synthetic demo study: the pure generator (``synthetic``), its loader into the database
(``loader``), the day-to-day work staged on top (``staging``) and the ``seed_demo`` command.

The top layer with ``config``: it imports every app and no app imports it.
"""
