import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import Role
from cohort.models import Site

pytestmark = pytest.mark.django_db


def test_the_four_role_groups_exist_with_permissions():
    groups = {g.name: g for g in Group.objects.all()}
    assert set(groups) >= {r.value for r in Role}
    nurse = {p.codename for p in groups["nurse"].permissions.all()}
    statistician = {p.codename for p in groups["statistician"].permissions.all()}
    assert {"add_followupcall", "change_hadsresponse", "view_patientcontact"} <= nurse
    assert "view_patient" in statistician
    assert not any(codename.endswith("patientcontact") for codename in statistician)
    assert not any(
        codename.startswith("delete_")
        for g in groups.values()
        for codename in g.permissions.values_list("codename", flat=True)
    )


def test_nurses_see_identifiers_and_statisticians_do_not(nurse_site_a, statistician):
    assert nurse_site_a.sees_identifiers
    assert not statistician.sees_identifiers
    assert nurse_site_a.is_site_scoped
    assert not statistician.is_site_scoped


def test_create_demo_users_is_refused_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_users")
    assert not User.objects.filter(username="nurse").exists()


def test_create_demo_users_makes_four_logins_on_every_demo_site(settings):
    settings.DEBUG = True
    Site.objects.create(code="D01", name="Demo 1", is_demo=True)
    Site.objects.create(code="D02", name="Demo 2", is_demo=True)
    Site.objects.create(code="R01", name="Real clinic")
    call_command("create_demo_users", stdout=None)
    call_command("create_demo_users", stdout=None)  # rerunning is harmless
    for username, role in [
        ("nurse", Role.NURSE),
        ("clinician", Role.CLINICIAN),
        ("statistician", Role.STATISTICIAN),
        ("datamanager", Role.DATA_MANAGER),
    ]:
        user = User.objects.get(username=username)
        assert user.check_password("ketamine-demo")
        assert user.roles == {role}
        assert set(user.sites.values_list("code", flat=True)) == {"D01", "D02"}
