"""Error codes are stable and registered once."""

import pytest

from riskreg.lib.errors import CODES, ApplicationError


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_application_error_uses_a_registered_code():
    import riskreg.inventory.errors
    import riskreg.organisations.errors
    import riskreg.risks.errors  # noqa: F401 - importing registers the subclasses

    for cls in _all_subclasses(ApplicationError):
        assert cls.code in CODES, cls


def test_an_unregistered_code_is_refused_when_the_class_is_defined():
    with pytest.raises(TypeError, match=r"not in riskreg\.lib\.errors\.CODES"):

        class MadeUpError(ApplicationError):
            code = "made_up"


def test_every_code_carries_a_4xx_status():
    assert all(400 <= status < 500 for status, _ in CODES.values())
