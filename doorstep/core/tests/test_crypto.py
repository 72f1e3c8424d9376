import pytest
from cryptography.exceptions import InvalidTag

from doorstep.core import crypto


@pytest.fixture(autouse=True)
def _fresh_keys(settings):  # type: ignore[no-untyped-def]
    settings.DOORSTEP_FIELD_KEYS = f"k2:{crypto.new_key()},k1:{crypto.new_key()}"
    settings.DOORSTEP_HASH_KEY = crypto.new_key()
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


def test_seal_round_trip_and_never_the_same_twice() -> None:
    a, b = crypto.seal("510502198001011234"), crypto.seal("510502198001011234")
    assert a != b and "510502198001011234" not in a
    assert crypto.open_sealed(a) == "510502198001011234"
    assert crypto.sealed_key_id(a) == "k2"


def test_old_keys_still_open_and_unknown_keys_are_refused(settings) -> None:  # type: ignore[no-untyped-def]
    old = crypto.seal("13800001111")
    settings.DOORSTEP_FIELD_KEYS = f"k3:{crypto.new_key()},{settings.DOORSTEP_FIELD_KEYS}"
    crypto.reset_key_cache()
    assert crypto.open_sealed(old) == "13800001111"
    settings.DOORSTEP_FIELD_KEYS = f"k9:{crypto.new_key()}"
    crypto.reset_key_cache()
    with pytest.raises(ValueError, match="not in DOORSTEP_FIELD_KEYS"):
        crypto.open_sealed(old)


def test_tampering_is_detected() -> None:
    prefix, kid, nonce, ciphertext = crypto.seal("13800001111").split(":")
    tampered = ciphertext[:-2] + ("A" if ciphertext[-2] != "A" else "B") + ciphertext[-1]
    with pytest.raises(InvalidTag):
        crypto.open_sealed(":".join([prefix, kid, nonce, tampered]))


def test_blind_index_is_keyed_and_stable(settings) -> None:  # type: ignore[no-untyped-def]
    first = crypto.blind_index("13800001111")
    assert first == crypto.blind_index("13800001111") and len(first) == 64
    settings.DOORSTEP_HASH_KEY = crypto.new_key()
    crypto.reset_key_cache()
    assert crypto.blind_index("13800001111") != first


@pytest.mark.django_db
def test_rotation_reseals_under_the_current_key(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    from doorstep.orgs.services import unit_create
    from doorstep.people.models import Person
    from doorstep.people.services import person_create

    community = unit_create(kind="city", name="某市", code="510500")
    person_create(name="王芳", unit=community, phone="13800001111", id_number="11010519491231002X")
    settings.DOORSTEP_FIELD_KEYS = f"k5:{crypto.new_key()},{settings.DOORSTEP_FIELD_KEYS}"
    crypto.reset_key_cache()
    call_command("rotate_field_keys")
    person = Person.objects.get()
    assert crypto.sealed_key_id(person.phone_sealed) == "k5"
    assert crypto.open_sealed(person.id_number_sealed) == "11010519491231002X"
