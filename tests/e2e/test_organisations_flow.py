"""Issue 3's story over HTTP against `make dev`: search the KvK, add the organisation, add and
verify its VAT ID, ask for activation, an operator approves, credit, the receive prompt."""

from __future__ import annotations

from tests.e2e.conftest import RunningPlatform


def test_an_admin_adds_activates_and_opts_in_to_receiving(platform: RunningPlatform) -> None:
    http = platform.http
    _, tokens = platform.new_account("owner")
    owner = {"Authorization": f"Bearer {tokens['id_token']}"}

    [found] = http.get("/organisations/search", params={"kvk_number": "69599068"}, headers=owner).json()
    assert found["name"] == "Test Stichting Bolderbast" and found["active"] is True
    created = http.post("/organisations", json={"kvk_number": found["kvk_number"]}, headers=owner)
    assert created.status_code == 201, created.text
    organisation = created.json()
    path = f"/organisations/{organisation['id']}"
    assert organisation["legal_form"] == "Stichting" and organisation["identifiers"][0]["primary"] is True

    vat = http.post(
        f"{path}/identifiers", json={"scheme": "NL:VAT", "value": "NL 0024.55799.B11"}, headers=owner
    )
    assert vat.status_code == 201 and vat.json()["participant_id"] == "9944:NL002455799B11"
    verified = http.post(f"{path}/identifiers/9944%3ANL002455799B11/verify", headers=owner).json()
    assert verified["verification"] == "verified" and verified["source"] == "vies"

    assert http.post(f"{path}/activation", json={"method": "manual_review"}, headers=owner).status_code == 202

    operator_name, _ = platform.new_account("staff")
    made = platform.make_operator(operator_name)
    assert made.returncode == 0, made.stderr
    staff = {"Authorization": f"Bearer {platform.login(operator_name)['id_token']}"}
    requests = http.get("/admin/activation-requests", headers=staff).json()
    assert organisation["id"] in [r["organisation_id"] for r in requests]
    approved = http.post(
        f"/admin/organisations/{organisation['id']}/activation/approve", json={}, headers=staff
    )
    assert approved.status_code == 200 and approved.json()["status"] == "active"

    me = http.get("/me", headers=owner).json()
    assert me["receive_prompt"] == [{"organisation_id": organisation["id"], "name": organisation["name"]}]
    refused = http.put(f"{path}/receiving", json={"enabled": True, "accept_costs": True}, headers=owner)
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "insufficient_credit"
    environment_id = me["environment"]["id"]
    topped = http.post(
        f"/admin/environments/{environment_id}/credit", json={"amount_cents": 1000}, headers=staff
    )
    assert topped.json() == {"balance_cents": 1000, "currency": "EUR"}
    enabled = http.post(f"{path}/receive-prompt", json={"choice": "enable"}, headers=owner)
    assert enabled.status_code == 200 and enabled.json()["receiving"]["enabled"] is True
    assert http.get("/me", headers=owner).json()["receive_prompt"] == []
    # Another tenant sees nothing of it.
    _, stranger = platform.new_account("stranger")
    assert http.get(path, headers={"Authorization": f"Bearer {stranger['id_token']}"}).status_code == 404
