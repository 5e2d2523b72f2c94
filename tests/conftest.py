import pytest

from tests.tiny import tiny_model


@pytest.fixture
def tiny():
    return tiny_model()


@pytest.fixture(scope="session")
def lite0():
    from generator.engine.models import load_model

    return load_model("efficientnet_lite0")
