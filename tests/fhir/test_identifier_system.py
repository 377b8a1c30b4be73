"""FHIR_IDENTIFIER_SYSTEM: the export's identifiers follow it; a value that is no URI is refused."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from service.app import create_app
from service.settings import SettingsError, get_settings
from tests.fhir.test_fhir_export import only
from tests.patients import intake_body
from tests.staff.support import as_caller, callers


@pytest.mark.parametrize("value", ["clinic", "https//clinic.example", "urn:", "a b:c"])
def test_a_value_that_is_not_an_absolute_uri_is_refused(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FHIR_IDENTIFIER_SYSTEM", value)
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="FHIR_IDENTIFIER_SYSTEM"):
        get_settings()


async def test_the_export_uses_the_configured_system(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FHIR_IDENTIFIER_SYSTEM", "urn:example:roy-medical/")
    get_settings.cache_clear()
    async with AsyncTestClient(app=create_app()) as client:
        who = await callers(client, make_url(service_env["DATABASE_URL"]))
        created = await client.post("/api/v1/intakes", json=intake_body())
        intake_id = created.json()["id"]
        path = f"/api/v1/intakes/{intake_id}/fhir"
        response = await as_caller(client, who["admin"], "GET", path)
        assert response.status_code == 200
        bundle = response.json()
    task = only(bundle, "Task")
    assert task["identifier"][0] == {"system": "urn:example:roy-medical/intake", "value": intake_id}
    assert task["businessStatus"]["coding"][0]["system"] == "urn:example:roy-medical/queue-status"
    canonical = only(bundle, "QuestionnaireResponse")["questionnaire"]
    assert canonical.startswith("urn:example:roy-medical/Questionnaire/clinic_intake|")
