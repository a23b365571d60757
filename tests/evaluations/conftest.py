import pytest

from core import signing
from evaluations import services as evaluation_services
from governance import publishing, services
from tests.governance.factories import designate


@pytest.fixture
def policy(lead):
    """The RSP-style template, published: CBRN-3 is bio_uplift_probe/includes/accuracy >= 0.5."""
    version = services.template_load(actor=lead, name="rsp")
    designate(version, lead)
    publishing.version_sign(actor=lead, version=version, reauth=signing.demo_reauthentication(lead))
    version.refresh_from_db()
    return version


@pytest.fixture
def evaluations(lead, policy):
    keys = sorted({c["evaluation"] for t in _thresholds(policy) for c in t["conditions"]})
    return {
        key: evaluation_services.evaluation_create(actor=lead, key=key, name=key.replace("_", " "))
        for key in keys
    }


def _thresholds(policy):
    from governance import content

    return content.version_content(content.load_version(policy.pk))["thresholds"]


@pytest.fixture
def orion(owner):
    return evaluation_services.model_create(actor=owner, slug="orion", name="Orion")


@pytest.fixture
def orion_21(owner, orion, evaluations):
    return evaluation_services.model_version_create(actor=owner, model=orion, label="orion-2.1")
