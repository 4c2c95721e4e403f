import pytest
from django.core.exceptions import ValidationError

from followup.forms import QuestionnaireForm
from followup.models import ItemWording

pytestmark = pytest.mark.django_db


def test_forms_show_neutral_labels_without_licensed_wording():
    form = QuestionnaireForm(language="fr")
    assert form.fields["hads_6"].label == "HADS 6 - cheerfulness (D)"


def test_loaded_wording_replaces_the_neutral_label_in_its_language():
    ItemWording.objects.create(field="hads_6", language="fr", text="Texte sous licence 6")
    assert QuestionnaireForm(language="fr").fields["hads_6"].label == "Texte sous licence 6"
    assert QuestionnaireForm(language="en").fields["hads_6"].label.startswith("HADS 6")


def test_wording_for_an_unknown_item_is_refused():
    wording = ItemWording(field="hads_15", language="fr", text="x")
    with pytest.raises(ValidationError) as caught:
        wording.full_clean()
    assert "field" in caught.value.message_dict


def test_wording_with_the_wrong_number_of_answers_is_refused():
    wording = ItemWording(field="sf12_rp2", language="en", text="x", options=["a", "b", "c"])
    with pytest.raises(ValidationError) as caught:
        wording.full_clean()
    assert "options" in caught.value.message_dict


def test_data_managers_may_load_wording(data_manager, nurse_site_a):
    assert data_manager.has_perm("followup.add_itemwording")
    assert not nurse_site_a.has_perm("followup.add_itemwording")


def test_wordings_are_read_once_then_follow_every_change(django_assert_num_queries):
    wording = ItemWording.objects.create(field="hads_6", language="fr", text="Version 1")
    assert QuestionnaireForm(language="fr").fields["hads_6"].label == "Version 1"
    with django_assert_num_queries(0):
        assert QuestionnaireForm(language="fr").fields["hads_6"].label == "Version 1"
    wording.text = "Version 2"
    wording.save()
    assert QuestionnaireForm(language="fr").fields["hads_6"].label == "Version 2"
    wording.delete()
    assert QuestionnaireForm(language="fr").fields["hads_6"].label.startswith("HADS 6")
